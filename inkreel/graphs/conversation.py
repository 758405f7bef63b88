"""One turn of a conversation: what the writer asked, done at the stage the work is at.

The stage comes from the work itself: before the episode exists, from what the conversation
settled (idea → loglines → outline); after, from the episode (waiting at the script or
storyboard gate, being made, or delivered). Each tool call the showrunner understood is run
at that stage: outline edits and script-draft edits change the conversation's state; an
approval answers the episode's gate; shot changes before the render are a storyboard edit;
changes after it are retakes and line edits, said (with what they cost) before they are
made, and made on "render". Nothing is spent without the writer being told first.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

from langchain_core.messages import AIMessage, HumanMessage
from pydantic import BaseModel

from inkreel.agents import showrunner
from inkreel.graphs.changes import numbered_lines
from inkreel.providers import chat_rules
from inkreel.schemas import LineEdit, Redesign, Retake, Script
from inkreel.schemas.chat import (
    AddCharacter,
    Ask,
    ChangeLook,
    ChangeShot,
    ChooseLogline,
    EditLine,
    EditOutline,
    OutlineBeat,
    ProposeLoglines,
    RemoveCharacter,
    RenameCharacter,
    SetSceneTime,
    Stage,
    ToolCall,
    ToolError,
)
from inkreel.schemas.episode import EpisodeRequest
from inkreel.schemas.review import ReviewError, read_decision
from inkreel.services import Services

OnEvent = Callable[[str, dict[str, Any]], None]
# What undo can take back: the conversation's own keys.
UNDOABLE = ("idea", "loglines", "logline", "cast", "outline", "script_draft", "shot_edits",
            "retakes", "line_edits")  # fmt: skip


# Where a message carries tool calls a front end made (not text to understand).
CALLS_KEY = "inkreel_calls"


class EpisodeError(Exception):
    """Something the episode cannot do as asked (a run that fails, a budget stop): one line."""


class EpisodeDriver(Protocol):
    """The run layer's calls on an episode of the project (`inkreel.chat` implements it)."""

    offline: bool

    def values(self, episode: str) -> dict[str, Any]: ...
    def pending_review(self, episode: str) -> dict[str, Any] | None: ...
    def stage(self, episode: str) -> str: ...
    def new_episode(self) -> str: ...
    def request(self, **fields: Any) -> EpisodeRequest: ...
    def start(self, request: EpisodeRequest, on_event: OnEvent) -> None: ...
    def answer(self, episode: str, decision: dict[str, Any], on_event: OnEvent) -> None: ...
    def resume(self, episode: str, on_event: OnEvent) -> None: ...
    def change(
        self,
        episode: str,
        retakes: list[Retake],
        edits: list[LineEdit],
        redesigns: list[Redesign],
        on_event: OnEvent,
    ) -> None: ...
    def spent_usd(self, episode: str) -> float: ...
    def estimate_usd(self, episode: str, request: EpisodeRequest, task: str | None) -> float: ...
    def services(self, episode: str) -> AbstractContextManager[Services]: ...
    def files(self, episode: str) -> dict[str, str]: ...


@dataclass
class Turn:
    """What a turn changes in the conversation's state, and whether a gate now waits."""

    update: dict[str, Any]
    waiting: bool


@dataclass
class _Work:
    """The state as this turn sees it, and what it has said and changed so far."""

    state: dict[str, Any]
    said: list[str] = field(default_factory=list)
    changed: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.changed.get(key, self.state.get(key, default))

    def set(self, **values: Any) -> None:
        self.changed.update(values)

    def remember(self) -> None:
        """Keep what undo would bring back, before a change."""
        snapshot = {k: self.get(k) for k in UNDOABLE}
        self.set(undo=[*self.get("undo", []), snapshot][-20:])


class Conversation:
    """A conversation's turns on one project (services are the driver's, built per turn)."""

    def __init__(self, driver: EpisodeDriver) -> None:
        self.driver = driver

    # ------------------------------------------------------------------ entry points

    def turn(self, state: dict[str, Any], message: HumanMessage, on_event: OnEvent) -> Turn:
        """Answer one message of the writer."""
        work = _Work(state)
        text = message.content if isinstance(message.content, str) else ""
        if not text.strip():
            work.said.append("Say something: " + self._help_text(work))
            return self._done(work)
        stage = self.stage(work)
        # A front end's button (a retake, a line edited in place) sends its tool calls along.
        given = message.additional_kwargs.get(CALLS_KEY)
        if given:
            calls = [ToolCall.model_validate(c) for c in given]
        else:
            try:
                calls, words = self._understand(work, text, state.get("messages") or [])
            except EpisodeError as exc:
                work.said.append(f"I could not read that: {exc}")
                return self._done(work)
            if words:
                work.said.append(words)
        if not calls and stage == "idea":
            calls = [ToolCall(name="propose_loglines", args={"idea": text})]
        if not calls and not work.said:
            work.said.append("I did not understand that. " + self._help_text(work))
        for call in calls:
            try:
                self._run(work, call, on_event)
            except (ToolError, EpisodeError) as exc:
                work.said.append(f"I could not do that: {exc}")
                break
        return self._done(work)

    def decide(self, state: dict[str, Any], answer: Any, on_event: OnEvent) -> Turn:
        """Answer the waiting gate with a client's decision (the agent inbox's shape:
        {"decisions": [one]}, or the decision itself). An approval carries what the writer
        changed in the conversation (the script draft, the shot edits), as "approve" in the
        chat does; an edit or a rejection is sent as it is."""
        work = _Work(state)
        episode = work.get("episode")
        try:
            decision = read_decision(answer, ("approve", "edit", "reject"))
        except ReviewError as exc:
            work.said.append(f"The gate could not take that: {exc}")
            return self._done(work)
        stage = self.stage(work)
        try:
            if decision.type == "approve" and stage == "script":
                self._answer_script(work, on_event)
            elif decision.type == "approve" and stage == "storyboard":
                self._answer_storyboard(work, on_event)
            else:
                self.driver.answer(episode, decision.model_dump(exclude_none=True), on_event)
                self._after_gate(work, stage)
        except EpisodeError as exc:
            work.said.append(f"The gate could not take that: {exc}")
        return self._done(work)

    def gate_payload(self, state: dict[str, Any]) -> dict[str, Any] | None:
        episode = state.get("episode")
        return self.driver.pending_review(episode) if episode else None

    def _understand(self, work: _Work, text: str, history: list[Any]) -> tuple[list[ToolCall], str]:
        """The tool calls in the writer's message (a hosted model reads the work and the
        conversation too; offline, the rule-based parser reads the message)."""
        cast = work.get("cast") or self._cast(work)
        if self.driver.offline:
            return showrunner.understand(None, text, cast)
        episode = work.get("episode")
        if not episode:  # the conversation's calls are paid for in its episode
            episode = self.driver.new_episode()
            work.set(episode=episode)
        with self.driver.services(episode) as ctx:
            return showrunner.understand(ctx, text, cast, self._summary(work), history)

    def _summary(self, work: _Work) -> str:
        """Where the work stands, for a hosted model: stage, cast, and what it can name."""
        stage = self.stage(work)
        parts = [f"stage: {stage}", f"cast: {', '.join(work.get('cast') or self._cast(work))}"]
        if stage in ("idea", "logline", "outline"):
            parts += [f"logline {i}: {t}" for i, t in enumerate(work.get("loglines") or [], 1)]
            parts += [f"beat {i}: {b['text']}" for i, b in enumerate(work.get("outline") or [], 1)]
            return "\n".join(parts)
        if stage == "script":
            parts.append(showrunner.show_script(self._draft(work, stage, "show the script")))
            return "\n".join(parts)
        values = self.driver.values(work.get("episode"))
        shots = [values["shots"][i] for i in values.get("shot_order") or []]
        parts.append(showrunner.show_storyboard(shots, None))
        parts += [
            f"line {n}: {beat.character}: {beat.text}"
            for n, (_, _, _, beat) in enumerate(numbered_lines(values["script"]), 1)
        ]
        return "\n".join(parts)

    def stage(self, work: _Work) -> Stage:
        episode = work.get("episode")
        where = self.driver.stage(episode) if episode else ""
        if where:
            return where  # type: ignore[return-value]
        if work.get("outline"):
            return "outline"
        if work.get("loglines"):
            return "logline"
        return "idea"

    # ------------------------------------------------------------------ running a call

    def _run(self, work: _Work, call: ToolCall, on_event: OnEvent) -> None:
        action = call.action()
        stage = self.stage(work)
        handler = getattr(self, f"_{call.name}")
        handler(work, action, stage, on_event)

    def _propose_loglines(
        self, work: _Work, action: ProposeLoglines, stage: Stage, on_event: OnEvent
    ) -> None:
        if stage not in ("idea", "logline", "outline"):
            raise ToolError(
                f"this conversation is making episode {work.get('episode')}; start a new "
                "conversation for a new idea"
            )
        idea = action.idea.strip()
        if len(idea) > showrunner.MAX_IDEA_CHARS:
            raise ToolError(
                f"the idea is {len(idea)} characters; keep it under "
                f"{showrunner.MAX_IDEA_CHARS} (a screenplay goes to `inkreel produce --script`)"
            )
        work.remember()
        episode = work.get("episode") or self.driver.new_episode()
        request = self.driver.request(episode=episode, idea=idea)
        with self.driver.services(episode) as ctx:
            pitched = showrunner.pitch(ctx, idea, request.language)
        work.set(
            episode=episode,
            idea=idea,
            loglines=pitched.loglines,
            cast=pitched.characters,
            logline=None,
            outline=[],
        )
        work.said.append(
            showrunner.show_loglines(pitched.loglines)
            + "\nChoose one ('logline 2'), or write your own ('logline: ...')."
        )

    def _choose_logline(
        self, work: _Work, action: ChooseLogline, stage: Stage, on_event: OnEvent
    ) -> None:
        if stage not in ("logline", "outline"):
            raise ToolError(_not_now(stage, "choose a logline"))
        loglines = work.get("loglines") or []
        if action.text:
            logline = action.text.strip()
        elif action.number is not None and action.number <= len(loglines):
            logline = loglines[action.number - 1]
        else:
            raise ToolError("choose logline 1, 2 or 3, or write your own: 'logline: ...'")
        work.remember()
        episode, cast = work.get("episode"), work.get("cast") or []
        request = self.driver.request(episode=episode, idea=work.get("idea"))
        with self.driver.services(episode) as ctx:
            beats = showrunner.outline(ctx, work.get("idea"), logline, request.language, cast)
        work.set(logline=logline, outline=[b.model_dump() for b in beats])
        work.said.append(f"Logline: {logline}\n" + showrunner.show_outline(beats))
        work.said.append(self._script_cost(work))

    def _edit_outline(
        self, work: _Work, action: EditOutline, stage: Stage, on_event: OnEvent
    ) -> None:
        if stage != "outline":
            raise ToolError(_not_now(stage, "change the outline"))
        beats = [OutlineBeat.model_validate(b) for b in work.get("outline")]
        changed = showrunner.edit_outline(beats, action)
        work.remember()
        work.set(outline=[b.model_dump() for b in changed])
        work.said.append(showrunner.show_outline(changed))

    def _rename_character(
        self, work: _Work, action: RenameCharacter, stage: Stage, on_event: OnEvent
    ) -> None:
        if stage in ("logline", "outline"):
            old = showrunner.resolve_name(action.old, work.get("cast") or [])
            work.remember()
            swap = lambda text: showrunner.rename_in(text, old, action.new)  # noqa: E731
            work.set(
                cast=[action.new if c == old else c for c in work.get("cast")],
                loglines=[swap(t) for t in work.get("loglines") or []],
                logline=swap(work.get("logline")) if work.get("logline") else None,
                outline=[{**b, "text": swap(b["text"])} for b in work.get("outline") or []],
            )
            work.said.append(f"{old} is now {action.new}.")
            return
        script = self._draft(work, stage, "rename a character")
        old = showrunner.resolve_name(action.old, script.characters)
        self._set_draft(work, showrunner.renamed_script(script, old, action.new))
        work.said.append(f"{old} is now {action.new} in the script.")

    def _set_scene_time(
        self, work: _Work, action: SetSceneTime, stage: Stage, on_event: OnEvent
    ) -> None:
        script = self._draft(work, stage, "change a scene")
        self._set_draft(work, showrunner.with_scene_time(script, action.scene, action.time))
        work.said.append(f"Scene {action.scene} now happens at {action.time.value}.")

    def _edit_line(self, work: _Work, action: EditLine, stage: Stage, on_event: OnEvent) -> None:
        if stage == "episode":
            script: Script = self.driver.values(work.get("episode"))["script"]
            showrunner.with_line(script, action.line, action.text)  # says if there is no line N
            work.remember()
            edits = [e for e in work.get("line_edits") or [] if e["line"] != action.line]
            work.set(line_edits=[*edits, LineEdit(line=action.line, text=action.text).model_dump()])
            work.said.append(self._pending(work))
            return
        script = self._draft(work, stage, "change a line")
        self._set_draft(work, showrunner.with_line(script, action.line, action.text))
        work.said.append(f"Line {action.line} now says: {action.text}")

    def _remove_character(
        self, work: _Work, action: RemoveCharacter, stage: Stage, on_event: OnEvent
    ) -> None:
        name = action.name
        if stage in ("logline", "outline"):
            who = showrunner.resolve_name(name, work.get("cast") or [])
            if len(work.get("cast")) <= 1:
                raise ToolError("a story needs at least one character")
            work.remember()
            work.set(cast=[c for c in work.get("cast") if c != who])
            work.said.append(f"{who} is out of the story. The cast: {', '.join(work.get('cast'))}.")
            return
        script = self._draft(work, stage, "remove a character")
        who = showrunner.resolve_name(name, script.characters)
        self._set_draft(work, showrunner.without_character(script, who))
        work.said.append(f"{who} is out of the script, with their lines.")

    def _add_character(
        self, work: _Work, action: AddCharacter, stage: Stage, on_event: OnEvent
    ) -> None:
        name = action.name.strip()
        if stage not in ("logline", "outline"):
            raise ToolError(
                "characters are added before the script is written (at the outline); a new "
                "character in a written script needs lines: reject the script with a note"
            )
        if any(showrunner.name_key(c) == showrunner.name_key(name) for c in work.get("cast") or []):
            raise ToolError(f"{name} is already in the story")
        work.remember()
        work.set(cast=[*(work.get("cast") or []), name])
        work.said.append(f"{name} joins the story. The cast: {', '.join(work.get('cast'))}.")

    def _change_shot(
        self, work: _Work, action: ChangeShot, stage: Stage, on_event: OnEvent
    ) -> None:
        episode = work.get("episode")
        if stage not in ("storyboard", "episode"):
            raise ToolError(_not_now(stage, "change a shot"))
        values = self.driver.values(episode)
        shot_id = showrunner.resolve_shot(action.shot, values["shot_order"])
        who = (
            [showrunner.resolve_name(action.who, values["script"].drawn())] if action.who else None
        )
        work.remember()
        if stage == "storyboard":
            if action.emotion is not None:
                raise ToolError("emotions are acted when the shot is drawn: ask after the render")
            edits = dict(work.get("shot_edits") or {})
            edit = {**edits.get(shot_id, {"id": shot_id})}
            edit.update(
                {k: v.value for k, v in (("framing", action.framing), ("angle", action.angle)) if v}
            )
            edits[shot_id] = edit
            work.set(shot_edits=edits)
            work.said.append(f"Shot {shot_id} will be {_spec(edit)} when the storyboard is drawn.")
            return
        retake = Retake(shot=shot_id, framing=action.framing, angle=action.angle,
                        emotion=action.emotion, who=who)  # fmt: skip
        retakes = [r for r in work.get("retakes") or [] if r["shot"] != shot_id]
        earlier: dict[str, Any] = next(
            (r for r in work.get("retakes") or [] if r["shot"] == shot_id), {}
        )
        merged = {**earlier, **retake.model_dump(mode="json", exclude_none=True)}
        work.set(retakes=[*retakes, merged])
        work.said.append(self._pending(work))

    def _change_look(
        self, work: _Work, action: ChangeLook, stage: Stage, on_event: OnEvent
    ) -> None:
        if stage != "episode":
            raise ToolError(
                "a look is changed once the episode is made (its sheets and shots are drawn "
                "again then): ask again after the render"
            )
        values = self.driver.values(work.get("episode"))
        who = showrunner.resolve_name(action.character, list(values["cast"]))
        colour = chat_rules.colour_hex(action.colour)
        if colour is None:
            raise ToolError(f"{action.colour!r} is not a colour I know; try red or #aa3322")
        look = Redesign.model_validate({"character": who, f"{action.part}_colour": colour})
        work.remember()
        looks = [d for d in work.get("redesigns") or [] if d["character"] != who]
        earlier: dict[str, Any] = next(
            (d for d in work.get("redesigns") or [] if d["character"] == who), {}
        )
        work.set(redesigns=[*looks, {**earlier, **look.model_dump(exclude_none=True)}])
        work.said.append(self._pending(work))

    def _approve(self, work: _Work, action: BaseModel, stage: Stage, on_event: OnEvent) -> None:
        if stage == "logline":
            raise ToolError("choose a logline first: 'logline 2', or 'logline: ...'")
        if stage == "outline":
            self._start(work, on_event)
        elif stage == "script":
            self._answer_script(work, on_event)
        elif stage == "storyboard":
            self._answer_storyboard(work, on_event)
        elif stage == "episode":
            self._render(work, action, stage, on_event)
        else:
            raise ToolError(_not_now(stage, "approve"))

    def _render(self, work: _Work, action: BaseModel, stage: Stage, on_event: OnEvent) -> None:
        episode = work.get("episode")
        if stage == "storyboard":
            self._answer_storyboard(work, on_event)
        elif stage == "rendering":
            work.said.append(f"Going on with episode {episode} where it stopped.")
            self.driver.resume(episode, on_event)
            self._after_gate(work, "resumed")
        elif stage == "episode":
            self._apply_changes(work, on_event)
        else:
            raise ToolError(_not_now(stage, "render"))

    def _undo(self, work: _Work, action: BaseModel, stage: Stage, on_event: OnEvent) -> None:
        history = list(work.get("undo") or [])
        if not history:
            raise ToolError("there is nothing to undo")
        snapshot = history.pop()
        work.set(**snapshot, undo=history)
        work.said.append("Taken back. " + self._where(work))

    def _help(self, work: _Work, action: BaseModel, stage: Stage, on_event: OnEvent) -> None:
        work.said.append(self._help_text(work))

    def _help_text(self, work: _Work) -> str:
        return showrunner.help_text(self.stage(work), self.driver.offline)

    def _ask(self, work: _Work, action: Ask, stage: Stage, on_event: OnEvent) -> None:
        episode = work.get("episode")
        values = self.driver.values(episode) if episode else {}
        if action.topic == "cast":
            work.said.append(showrunner.cast_of(values, action.scene, work.get("cast") or []))
        elif action.topic == "cost":
            spent = self.driver.spent_usd(episode) if episode else 0.0
            work.said.append(f"Spent so far on this episode: ${spent:.4f}.")
        elif action.topic == "continuity":
            work.said.append(showrunner.continuity_of(values))
        else:
            work.said.append(self._where(work))

    # ------------------------------------------------------------------ the episode

    def _start(self, work: _Work, on_event: OnEvent) -> None:
        request = self.driver.request(
            episode=work.get("episode"),
            idea=work.get("idea"),
            logline=work.get("logline"),
            cast=work.get("cast") or [],
            outline=[OutlineBeat.model_validate(b) for b in work.get("outline")],
            review=["script", "storyboard"],
        )
        on_event("stage", {"stage": "script"})
        self.driver.start(request, on_event)
        self._after_gate(work, "started")

    def _answer_script(self, work: _Work, on_event: OnEvent) -> None:
        draft = work.get("script_draft")
        decision: dict[str, Any] = (
            {"type": "edit", "edited_action": {"name": "review_script", "args": {"script": draft}}}
            if draft
            else {"type": "approve"}
        )
        self.driver.answer(work.get("episode"), decision, on_event)
        self._after_gate(work, "script")

    def _answer_storyboard(self, work: _Work, on_event: OnEvent) -> None:
        edits = list((work.get("shot_edits") or {}).values())
        decision: dict[str, Any] = (
            {
                "type": "edit",
                "edited_action": {"name": "review_storyboard", "args": {"shots": edits}},
            }
            if edits
            else {"type": "approve"}
        )
        self.driver.answer(work.get("episode"), decision, on_event)
        self._after_gate(work, "storyboard")

    def _apply_changes(self, work: _Work, on_event: OnEvent) -> None:
        retakes, edits, looks = _asked(work)
        if not retakes and not edits and not looks:
            raise ToolError("there is nothing to render: ask for a change first")
        episode = work.get("episode")
        before = self.driver.values(episode)
        self.driver.change(episode, retakes, edits, looks, on_event)
        # Undo asks for the shots, lines and looks as they were.
        work.remember()
        history = work.get("undo")
        history[-1] = {**history[-1], **_reverse(before, retakes, edits, looks)}
        work.set(undo=history, retakes=[], line_edits=[], redesigns=[])
        done = _changes(retakes, edits, looks)
        work.said.append(f"Done: {done}. " + self._delivered(episode))

    def _after_gate(self, work: _Work, what: str) -> None:
        """Say where the episode is now: at a gate (with what it shows), or delivered."""
        episode = work.get("episode")
        waiting = self.driver.pending_review(episode)
        if waiting is not None and waiting.get("problem"):
            work.said.append(f"The {waiting['gate']} gate did not take that: {waiting['problem']}")
            return
        work.set(script_draft=None, shot_edits={}) if what in ("script", "storyboard") else None
        work.said.append(self._where(work))

    # ------------------------------------------------------------------ what to say

    def _where(self, work: _Work) -> str:
        stage = self.stage(work)
        episode = work.get("episode")
        if stage == "idea":
            return "No idea yet: tell me your story idea."
        if stage == "logline":
            return showrunner.show_loglines(work.get("loglines"))
        if stage == "outline":
            beats = [OutlineBeat.model_validate(b) for b in work.get("outline")]
            return showrunner.show_outline(beats)
        if stage == "script":
            script = self._draft(work, stage, "show the script")
            return showrunner.show_script(script) + "\n" + self._design_cost(work, script)
        if stage == "storyboard":
            waiting = self.driver.pending_review(episode) or {}
            args = waiting["action_requests"][0]["args"]
            from_values = self.driver.values(episode)
            shots = [from_values["shots"][i] for i in from_values["shot_order"]]
            return showrunner.show_storyboard(shots, args.get("estimate_usd")) + (
                "\nChange shots, or 'approve' to draw and cut the episode."
            )
        if stage == "rendering":
            return f"Episode {episode} stopped before it was finished; say 'render' to go on."
        return self._delivered(episode) + (f"\n{self._pending(work)}" if any(_asked(work)) else "")

    def _delivered(self, episode: str) -> str:
        files = self.driver.files(episode)
        return (
            f"Episode {episode} is ready: {files.get('video', '?')} "
            f"(subtitles: {files.get('subtitles', '?')})."
        )

    def _pending(self, work: _Work) -> str:
        retakes, edits, looks = _asked(work)
        episode = work.get("episode")
        values = self.driver.values(episode)
        request = values["request"]
        # A new look draws again every shot the character is in.
        redrawn = sum(
            1
            for look in looks
            for shot in values["shots"].values()
            if any(b.character == look.character for b in shot.blocking)
        )
        usd = self.driver.estimate_usd(episode, request, "retake") * (len(retakes) + redrawn)
        usd += self.driver.estimate_usd(episode, request, "line") * len(edits)
        return (
            f"To do: {_changes(retakes, edits, looks)} (estimated ${usd:.4f}). Say 'render' "
            "to make it, 'undo' to take the last one back."
        )

    def _script_cost(self, work: _Work) -> str:
        episode = work.get("episode")
        request = self.driver.request(episode=episode, idea=work.get("idea"))
        usd = self.driver.estimate_usd(episode, request, "write")
        return (
            f"Change the outline, or 'approve' to have the script written (estimated ${usd:.4f})."
        )

    def _design_cost(self, work: _Work, script: Script) -> str:
        episode = work.get("episode")
        request = self.driver.values(episode)["request"]
        usd = self.driver.estimate_usd(episode, request, "design")
        return (
            f"Change it, or 'approve' to design {len(script.drawn())} characters, record "
            f"{len(script.dialogue())} lines and plan the storyboard (estimated ${usd:.4f})."
        )

    def _draft(self, work: _Work, stage: Stage, what: str) -> Script:
        if stage != "script":
            raise ToolError(_not_now(stage, what))
        draft = work.get("script_draft")
        if draft:
            return Script.model_validate(draft)
        waiting = self.driver.pending_review(work.get("episode")) or {}
        return Script.model_validate(waiting["action_requests"][0]["args"]["script"])

    def _set_draft(self, work: _Work, script: Script) -> None:
        work.remember()
        work.set(script_draft=script.model_dump(mode="json"))

    def _cast(self, work: _Work) -> list[str]:
        episode = work.get("episode")
        values = self.driver.values(episode) if episode else {}
        script = values.get("script")
        return list(script.drawn()) if script is not None else []

    def _done(self, work: _Work) -> Turn:
        reply = "\n\n".join(work.said) or "OK."
        update = {**work.changed, "messages": [AIMessage(reply)], "stage": self.stage(work)}
        episode = work.get("episode")
        waiting = bool(episode) and self.driver.pending_review(episode) is not None
        return Turn(update, waiting)


def _not_now(stage: Stage, what: str) -> str:
    return f"I cannot {what} at the {stage} stage. " + showrunner.HELP[stage]


def _spec(edit: dict[str, Any]) -> str:
    return ", ".join(str(v).replace("_", " ") for k, v in edit.items() if k != "id")


def _asked(work: _Work) -> tuple[list[Retake], list[LineEdit], list[Redesign]]:
    """The changes asked for since the last render."""
    return (
        [Retake.model_validate(r) for r in work.get("retakes") or []],
        [LineEdit.model_validate(e) for e in work.get("line_edits") or []],
        [Redesign.model_validate(d) for d in work.get("redesigns") or []],
    )


def _changes(retakes: list[Retake], edits: list[LineEdit], looks: list[Redesign]) -> str:
    parts = [
        f"retake {r.shot} ("
        + ", ".join(
            f"{v.value if hasattr(v, 'value') else v}".replace("_", " ")
            for v in (r.framing, r.angle, r.emotion)
            if v is not None
        )
        + (f", {', '.join(r.who)}" if r.who else "")
        + ")"
        for r in retakes
    ]
    parts += [f"line {e.line}: {e.text!r}" for e in edits]
    parts += [
        f"{d.character}'s "
        + " and ".join(f"{k.replace('_colour', '')} {v}" for k, v in d.changes().items())
        for d in looks
    ]
    return "; ".join(parts)


def _reverse(
    values: dict[str, Any], retakes: list[Retake], edits: list[LineEdit], looks: list[Redesign]
) -> dict[str, Any]:
    """The changes that would put retaken shots and edited lines back as they were: the
    old framing, angle, who is in the shot and their expression, and the old words (a new
    take of the old staging)."""
    lines = numbered_lines(values["script"])
    back_shots = []
    for r in retakes:
        shot = values["shots"][r.shot]
        who = [b.character for b in shot.blocking]
        asked = set(r.who or ([shot.speaker] if shot.speaker else who))
        felt = {b.expression for b in shot.blocking if b.character in asked}
        emotion = felt.pop() if r.emotion is not None and len(felt) == 1 else None
        back = Retake(
            shot=r.shot,
            framing=shot.framing,
            angle=shot.angle,
            who=who if r.who else None,
            emotion=emotion,
        )
        back_shots.append(back.model_dump(mode="json", exclude_none=True))
    back_lines = [LineEdit(line=e.line, text=lines[e.line - 1][3].text).model_dump() for e in edits]
    back_looks = [
        Redesign.model_validate(
            {"character": d.character}
            | {k: getattr(values["cast"][d.character].design, k) for k in d.changes()}
        ).model_dump()
        for d in looks
    ]
    return {"retakes": back_shots, "line_edits": back_lines, "redesigns": back_looks}
