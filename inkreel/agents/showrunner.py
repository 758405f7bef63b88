"""The showrunner: the agent a writer talks to, from an idea to an episode and its changes.

It pitches loglines and outlines (a text task, through the router like every agent's call),
understands the writer's messages as tool calls (`schemas.chat`: the offline engine's
rule-based parser, or a hosted model's tool calling), changes what the writer is looking at
before it is made (the outline, the script draft at the script gate) and says what it did.
Running the line is not its business: the chat graph (`graphs.chat`) hands approvals,
storyboard edits and retakes to the episode's own review gates and changes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from inkreel.agents.common import ask
from inkreel.checks.answers import Checked
from inkreel.providers import chat_rules
from inkreel.providers.dispatch import ToolTurn
from inkreel.providers.offline.script import TIME_WORDS
from inkreel.providers.prompt_io import tag
from inkreel.schemas import Script, Shot
from inkreel.schemas.chat import (
    TOOLS,
    EditOutline,
    Outline,
    OutlineBeat,
    Pitch,
    Stage,
    ToolCall,
    ToolError,
)
from inkreel.schemas.script import TimeOfDay, name_key
from inkreel.services import Services

AGENT = "showrunner"
MAX_IDEA_CHARS = 4000
HISTORY = 10  # messages of the conversation a hosted model sees with each new one


# ----------------------------------------------------------------------------- asking


def pitch(ctx: Services, idea: str, language: str, cast: Sequence[str] = ()) -> Pitch:
    """Three loglines for the idea, and the story's characters."""
    parts = [tag("idea", idea), tag("language", language)]
    if cast:
        parts.append(tag("cast", json.dumps(list(cast), ensure_ascii=False)))
    return ask(ctx, AGENT, Pitch, "\n".join(parts), _accept, "pitch").value


def outline(
    ctx: Services, idea: str, logline: str, language: str, cast: Sequence[str]
) -> list[OutlineBeat]:
    """The beats of the chosen logline, one per act to start with."""
    parts = [
        tag("idea", idea),
        tag("logline", logline),
        tag("language", language),
        tag("cast", json.dumps(list(cast), ensure_ascii=False)),
    ]
    beats = ask(ctx, AGENT, Outline, "\n".join(parts), _accept, "outline").value.beats
    return relabel([b.text for b in beats])


def _accept(value: Any) -> Checked[Any]:
    return Checked(value)


# A hosted model calls the tools by their models' names; the chat runs them by tool name.
_TOOL_NAMES = {tool.__name__: name for name, tool in TOOLS.items()}


def understand(
    ctx: Services | None,
    message: str,
    cast: Sequence[str],
    work: str = "",
    history: Sequence[BaseMessage] = (),
) -> tuple[list[ToolCall], str]:
    """The tool calls the writer's message asks for, and what the model said besides.

    The model that writes gets the tools, `work` (where the work stands) and the recent
    `history`; the offline engine answers with the rule-based parser, which also reads the
    message when there are no services.
    """
    if ctx is None:
        return chat_rules.understand(message, cast), ""
    messages = [
        SystemMessage(ctx.prompt("showrunner_chat")),
        HumanMessage(
            "\n".join(
                [
                    tag("work", work),
                    tag("conversation", _transcript(history[-HISTORY:])),
                    tag("message", message),
                ]
            )
        ),
    ]

    def by_rules(_: Sequence[BaseMessage]) -> ToolTurn:
        return ToolTurn(calls=[c.model_dump() for c in chat_rules.understand(message, cast)])

    turn = ctx.providers.calls.converse(AGENT, list(TOOLS.values()), messages, by_rules).value
    calls = [
        ToolCall(name=_TOOL_NAMES.get(c["name"], c["name"]), args=c.get("args") or {})
        for c in turn.calls
    ]
    return calls, turn.text.strip()


def _transcript(history: Sequence[BaseMessage]) -> str:
    said = []
    for m in history:
        who = "writer" if isinstance(m, HumanMessage) else "showrunner"
        text = m.content if isinstance(m.content, str) else ""
        said.append(f"{who}: {text[:600]}")
    return "\n".join(said)


# ----------------------------------------------------------------------------- the outline


def relabel(texts: Sequence[str]) -> list[OutlineBeat]:
    """Beats in order with their acts by position: the first sets up, the last two turn and
    resolve, the rest develop (the four acts the line writes)."""
    n = len(texts)
    acts = ["setup", *["development"] * max(0, n - 3), "turn", "resolution"][-n:] if n else []
    if n == 1:
        acts = ["setup"]
    return [OutlineBeat(act=a, text=t) for a, t in zip(acts, texts, strict=True)]  # type: ignore[arg-type]


def edit_outline(beats: list[OutlineBeat], edit: EditOutline) -> list[OutlineBeat]:
    """The outline after a move, cut, rewrite or addition; ToolError says what is wrong."""
    texts = [b.text for b in beats]
    if not 1 <= edit.beat <= len(texts):
        raise ToolError(f"there is no beat {edit.beat}: the outline has {len(texts)} beats")
    i = edit.beat - 1
    if edit.action == "move":
        if edit.to is None or not 1 <= edit.to <= len(texts):
            raise ToolError(f"move beat {edit.beat} where? Give a number from 1 to {len(texts)}")
        texts.insert(edit.to - 1, texts.pop(i))
    elif edit.action == "cut":
        if len(texts) <= 3:
            raise ToolError("an outline needs at least 3 beats (setup, turn, resolution)")
        texts.pop(i)
    else:
        words = (edit.text or "").strip()
        if not words:
            raise ToolError(f"{edit.action} beat {edit.beat} with which words?")
        if edit.action == "rewrite":
            texts[i] = words
        else:
            if len(texts) >= 8:
                raise ToolError("an outline has at most 8 beats; cut one first")
            texts.insert(i + 1, words)
    return relabel(texts)


# ----------------------------------------------------------------------------- the script


def resolve_name(name: str, cast: Sequence[str]) -> str:
    """The cast member a name means (case and width ignored; a unique prefix will do)."""
    key = name_key(name)
    exact = [c for c in cast if name_key(c) == key]
    if exact:
        return exact[0]
    partial = [c for c in cast if name_key(c).startswith(key) or key in name_key(c)]
    if len(partial) == 1:
        return partial[0]
    raise ToolError(f"there is no character {name!r}; the cast is {', '.join(cast) or 'empty'}")


def rename_in(text: str, old: str, new: str) -> str:
    """The text with a name replaced as a word (or anywhere, for CJK names)."""
    if re.fullmatch(r"[\w' -]+", old, re.ASCII):
        return re.sub(rf"\b{re.escape(old)}\b", new, text)
    return text.replace(old, new)


def renamed_script(script: Script, old: str, new: str) -> Script:
    """The script with a character renamed in the cast, the lines, the action and wardrobe."""
    if any(name_key(c) == name_key(new) for c in script.characters):
        raise ToolError(f"there is already a character called {new}")
    data = script.model_dump(mode="json")

    def swap(value: Any) -> Any:
        if isinstance(value, str):
            return rename_in(value, old, new)
        if isinstance(value, list):
            return [swap(v) for v in value]
        if isinstance(value, dict):
            return {swap(k): swap(v) for k, v in value.items()}
        return value

    return Script.model_validate(swap(data))


def with_scene_time(script: Script, scene: int, time: TimeOfDay) -> Script:
    """The script with a scene moved to another time of day (its heading too)."""
    target = _scene(script, scene)
    head, sep, _ = target.heading.rpartition(" - ")
    heading = f"{head}{sep}{TIME_WORDS[time.value]}" if sep else target.heading
    changed = target.model_copy(
        update={"time_of_day": time, "heading": heading, "continuous": False}
    )
    return _replace_scene(script, changed)


def with_line(script: Script, line: int, text: str) -> Script:
    """The script with new words for dialogue line N (from 1)."""
    count = 0
    for scene in script.scenes:
        for i, beat in enumerate(scene.beats):
            if beat.kind != "dialogue":
                continue
            count += 1
            if count == line:
                beats = list(scene.beats)
                beats[i] = beat.model_copy(update={"text": text})
                return _replace_scene(script, scene.model_copy(update={"beats": beats}))
    raise ToolError(f"there is no line {line}: the script has {count} lines of dialogue")


def without_character(script: Script, name: str) -> Script:
    """The script without a character: their lines go, and they leave every scene."""
    scenes = []
    for scene in script.scenes:
        beats = [b for b in scene.beats if not (b.kind == "dialogue" and b.character == name)]
        others = [c for c in scene.characters if c != name]
        wardrobe = {k: v for k, v in scene.wardrobe.items() if k != name}
        scenes.append(
            scene.model_copy(update={"beats": beats, "characters": others, "wardrobe": wardrobe})
        )
    return script.model_copy(
        update={"scenes": scenes, "characters": [c for c in script.characters if c != name]}
    )


def _scene(script: Script, number: int) -> Any:
    for scene in script.scenes:
        if scene.number == number:
            return scene
    raise ToolError(f"there is no scene {number}: the script has {len(script.scenes)} scenes")


def _replace_scene(script: Script, changed: Any) -> Script:
    scenes = [changed if s.number == changed.number else s for s in script.scenes]
    return script.model_copy(update={"scenes": scenes})


def resolve_shot(shot: str, order: Sequence[str]) -> str:
    """A shot's id from its number in the episode (from 1) or its id."""
    if shot in order:
        return shot
    if shot.isdigit() and 1 <= int(shot) <= len(order):
        return order[int(shot) - 1]
    raise ToolError(f"there is no shot {shot}: the episode has shots 1 to {len(order)}")


# ----------------------------------------------------------------------------- replies


HELP = {
    "idea": "Tell me your story idea in a sentence or two, and I will pitch three loglines.",
    "logline": "Choose a logline: 'logline 2' (or write your own: 'logline: ...').",
    "outline": "Change the outline ('move beat 3 to 1', 'cut beat 2', 'beat 2: ...', 'add beat "
    "after 2: ...'), rename or add characters, or 'approve' to have the script written.",
    "script": "Change the script ('rename Mei to Lin', 'scene 2 at night', 'change line 3 to "
    "\"...\"', 'remove Ken'), ask 'who is in scene 2?', or 'approve' it.",
    "storyboard": "Change shots before they are drawn ('shot 7 close-up', 'shot 3 from below'), "
    "or 'approve' (or 'render') to draw and cut the episode.",
    "rendering": "The episode is being made; say 'render' to go on with it if it stopped.",
    "episode": "Ask for changes: 'shot 7 should be a close-up, and Aiko is angry there', "
    "'change line 3 to \"...\"', 'make Mei's hair red'; ask 'what did this cost?' or 'what did "
    "continuity flag?'; 'undo' takes back the last change.",
}
RULES_NOTE = (
    "(Offline, I understand a fixed set of phrasings in English, Chinese and Japanese with "
    "rules: I am a rule-based parser, not a language model.)"
)


def help_text(stage: Stage, offline: bool) -> str:
    """What the writer can say at this stage."""
    return HELP[stage] + (f" {RULES_NOTE}" if offline else "")


def show_loglines(loglines: Sequence[str]) -> str:
    return "Three loglines:\n" + "\n".join(f"  {i}. {t}" for i, t in enumerate(loglines, 1))


def show_outline(beats: Sequence[OutlineBeat]) -> str:
    return "The outline:\n" + "\n".join(
        f"  {i}. [{b.act}] {b.text}" for i, b in enumerate(beats, 1)
    )


def show_script(script: Script) -> str:
    """The script, scene by scene, lines numbered as the chat and the CLI number them."""
    out = [f"{script.title}"]
    n = 0
    for scene in script.scenes:
        out.append(f"  Scene {scene.number}: {scene.heading} ({', '.join(scene.characters)})")
        for beat in scene.beats:
            if beat.kind == "dialogue":
                n += 1
                out.append(f"    {n}. {beat.character}: {beat.text}")
            else:
                out.append(f"       ({beat.text})")
    return "\n".join(out)


def show_storyboard(shots: Sequence[Shot], estimate_usd: float | None) -> str:
    rows = [
        f"  {i}. {s.id} {s.framing.value} / {s.angle.value}, {s.duration_s:.1f}s: "
        + (f"{s.speaker}: {s.text}" if s.speaker else s.text)
        for i, s in enumerate(shots, 1)
    ]
    cost = (
        f" Drawing and cutting it is estimated at ${estimate_usd:.4f}."
        if estimate_usd is not None
        else ""
    )
    return f"The storyboard, {len(shots)} shots:{cost}\n" + "\n".join(rows)


def cast_of(values: dict[str, Any], scene: int | None, cast: Sequence[str]) -> str:
    """Who is in the story, or in one scene of the script."""
    script: Script | None = values.get("script")
    if script is None:
        return f"The cast: {', '.join(cast)}." if cast else "There is no cast yet."
    if scene is None:
        return f"The cast: {', '.join(script.drawn() or script.characters)}."
    found = _scene(script, scene)
    return f"Scene {scene} ({found.heading}): {', '.join(found.characters) or 'nobody'}."


def continuity_of(values: dict[str, Any]) -> str:
    """What the continuity checker flagged and repaired."""
    report = values.get("continuity")
    if report is None:
        return "Continuity has not checked anything yet."
    flagged = [s for s in report.shots if s.status == "flagged"]
    repaired = [s for s in report.shots if s.status == "repaired"]
    parts = [f"Continuity checked {len(report.shots)} shots"]
    parts.append(
        f"flagged {', '.join(s.shot_id for s in flagged)}" if flagged else "flagged nothing"
    )
    if repaired:
        parts.append(f"repaired {', '.join(s.shot_id for s in repaired)}")
    return "; ".join(parts) + "."


def call_summary(call: ToolCall) -> str:
    """A tool call in one line, for the log of what was done."""
    args = ", ".join(f"{k}={v!r}" for k, v in call.args.items())
    return f"{call.name}({args})"
