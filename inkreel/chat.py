"""Chatting an episode into being: the library API the terminal chat and the web page call.

    session = ChatSession.open(Project.open("my-series"))          # a new conversation
    for reply in session.send("A lighthouse keeper finds a bottle.", on_event=print):
        print(reply)
    ChatSession.open(project, thread="chat-1a2b3c4d")              # go on with one

Conversations are LangGraph threads of the chat graph (`graphs.chat`) in the project's own
checkpointer, so any of them can be continued later, from the terminal, the web page or a
LangGraph client. The episode a conversation makes is an ordinary episode of the project: the
conversation drives it through `run` (its review gates, retakes and line edits).
"""

from __future__ import annotations

import os
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.types import Command

from inkreel.estimate import draft_script, estimate_step
from inkreel.graphs.chat import ChatContext, build_chat_graph
from inkreel.graphs.checkpoint import latest_threads, open_checkpointer
from inkreel.graphs.conversation import CALLS_KEY, Conversation, EpisodeError, OnEvent
from inkreel.project import Project
from inkreel.providers.budget import BudgetExceeded, Ledger
from inkreel.providers.errors import UnusableAnswer
from inkreel.providers.roster import Roster
from inkreel.providers.router import Router, RouterError
from inkreel.run import (
    RunError,
    answer_review,
    change_episode,
    episode_stage,
    episode_state,
    next_episode_name,
    pending_review,
    progress_events,
    run_episode,
)
from inkreel.schemas import LineEdit, Redesign, Retake
from inkreel.schemas.chat import ToolCall, ToolError
from inkreel.schemas.episode import EpisodeRequest
from inkreel.services import EpisodeContext, Services, open_services
from inkreel.settings import Settings

THREAD = re.compile(r"^chat-[0-9a-f]{8,32}$")
MAX_MESSAGE_CHARS = 8000
# LangGraph's channel for the answer given to an interrupt, kept until the node finishes.
_RESUME_CHANNEL = "__resume__"
STOPPED = (
    "The last turn stopped before it finished (what it made is kept); "
    "say 'render' to go on, or 'status'."
)


class ChatError(Exception):
    """A conversation that cannot go on as asked (unknown thread, a message too long): one
    line for the writer."""


class TurnStopped(Exception):
    """The writer stopped the turn (Ctrl-C): raised inside its run at the next step."""


class LocalEpisodes:
    """The run layer's episode calls for a conversation in this process. Setting `stop`
    makes a run in progress stop at its next progress event (what was made is kept)."""

    def __init__(self, context: ChatContext, stop: threading.Event | None = None) -> None:
        self.context = context
        self.stop = stop or threading.Event()
        self.project = Project.open(Path(context.project))
        self.settings = Settings.load(self.project.root)
        # Every task the router would give the offline engine: nothing is paid for, and chat
        # turns are read by the rule-based parser.
        router = Router(
            Roster.load(self.project.root),
            self.settings.policy,
            self.settings.task_models(),  # type: ignore[arg-type]
            os.environ,
        )
        self.offline = all(router.choose(t).offline for t in ("write", "keyframe", "voice"))

    def values(self, episode: str) -> dict[str, Any]:
        return dict(episode_state(self.project, episode).values)

    def pending_review(self, episode: str) -> dict[str, Any] | None:
        return pending_review(self.project, episode)

    def stage(self, episode: str) -> str:
        return episode_stage(self.project, episode)

    def new_episode(self) -> str:
        """A free episode name, taken at once (its folder made), so two conversations
        starting together do not get the same one."""
        return next_episode_name(self.project)

    def request(self, **fields: Any) -> EpisodeRequest:
        return EpisodeRequest(
            length_s=self.context.length_s,
            language=self.context.language,
            seed=self.context.seed,
            settings=self.settings.model_dump(),
            **fields,
        )

    def start(self, request: EpisodeRequest, on_event: OnEvent) -> None:
        with _errors():
            run_episode(self.project, request, {"request": request}, **self._progress(on_event))

    def answer(self, episode: str, decision: dict[str, Any], on_event: OnEvent) -> None:
        with _errors():
            answer_review(self.project, episode, decision, **self._progress(on_event))

    def resume(self, episode: str, on_event: OnEvent) -> None:
        request: EpisodeRequest = self.values(episode)["request"]
        with _errors():
            run_episode(self.project, request, None, **self._progress(on_event))

    def change(
        self,
        episode: str,
        retakes: list[Retake],
        edits: list[LineEdit],
        redesigns: list[Redesign],
        on_event: OnEvent,
    ) -> None:
        with _errors():
            change_episode(
                self.project,
                episode,
                retakes,
                edits,
                redesigns=redesigns,
                **self._progress(on_event),
            )

    def spent_usd(self, episode: str) -> float:
        ledger = Ledger.open(self.project)
        try:
            return ledger.spent(("episode", episode))
        finally:
            ledger.close()

    def estimate_usd(self, episode: str, request: EpisodeRequest, task: str | None) -> float:
        """What the next step costs on the models the router would choose (0 offline)."""
        if self.offline:
            return 0.0
        values = self.values(episode)
        script = values.get("script") or draft_script(
            request.idea or "", request.length_s, request.language, request.seed
        )
        with self.services(episode) as live:
            return estimate_step(
                script,
                request.length_s,
                task or "write",
                live.providers.roster,
                live.providers.calls.router,
                live.settings.judge_model is not None,
            )

    @contextmanager
    def services(self, episode: str) -> Iterator[Services]:
        context = EpisodeContext(
            project=str(self.project.root),
            episode=episode,
            seed=self.context.seed,
            settings=self.settings.model_dump(),
        )
        with _errors(), open_services(context) as live:
            yield live

    def files(self, episode: str) -> dict[str, str]:
        return dict(self.values(episode).get("outputs") or {})

    def _progress(self, on_event: OnEvent) -> dict[str, Any]:
        """The run's progress callbacks: its events, and its node updates as `bar` and
        `stage_done` events (JSON, for any front end); either stops the run once `stop` is
        set (they are called between the run's steps, in the thread that drives it)."""

        def relay(kind: str, payload: dict[str, Any]) -> None:
            if self.stop.is_set():
                raise TurnStopped("stopped by the writer")
            on_event(kind, payload)

        def on_update(node: str, update: dict[str, Any] | None, values: dict[str, Any]) -> None:
            for kind, payload in progress_events(node, update, values):
                relay(kind, payload)

        return {"on_event": relay, "on_update": on_update}


@contextmanager
def _errors() -> Iterator[None]:
    """The run's refusals as one line for the writer."""
    try:
        yield
    except (RunError, BudgetExceeded, UnusableAnswer, RouterError) as exc:
        raise EpisodeError(str(exc).splitlines()[0]) from None


class _Opener:
    """Opens a conversation's services per turn (the graph's context is plain data)."""

    def __init__(self, stop: threading.Event | None = None) -> None:
        self.stop = stop

    @contextmanager
    def open(self, context: ChatContext) -> Iterator[Conversation]:
        yield Conversation(LocalEpisodes(context, self.stop))


def build_graph(stop: threading.Event | None = None) -> Any:
    """The chat graph with this process's episodes (compile with a checkpointer); setting
    `stop` stops a turn's run at its next step."""
    return build_chat_graph(_Opener(stop))


# Compiled without a checkpointer for `langgraph.json` (LangGraph tooling supplies its own).
graph = build_graph().compile()


# ----------------------------------------------------------------------------- sessions


@dataclass(frozen=True)
class ThreadInfo:
    """A conversation of the project, as listed."""

    thread: str
    episode: str | None
    stage: str
    last: str


class ChatSession:
    """One conversation of a project, run in this process on the project's checkpointer."""

    def __init__(self, project: Project, thread: str, context: ChatContext) -> None:
        self.project = project
        self.thread = thread
        self.context = context

    @classmethod
    def open(
        cls,
        project: Project,
        thread: str | None = None,
        *,
        language: str = "en",
        length_s: float = 60.0,
        seed: int = 0,
    ) -> ChatSession:
        """A new conversation, or the project's conversation `thread`."""
        if thread is not None:
            if not THREAD.match(thread) or thread not in {t.thread for t in list_threads(project)}:
                raise ChatError(
                    f"there is no conversation {thread!r} in {project.root} "
                    "(/threads in `inkreel chat` lists them)"
                )
        else:
            thread = f"chat-{secrets.token_hex(4)}"
        context = ChatContext(
            project=str(project.root), language=language, length_s=length_s, seed=seed
        )
        return cls(project, thread, context)

    def config(self) -> RunnableConfig:
        return {"configurable": {"thread_id": self.thread}, "recursion_limit": 50}

    def values(self) -> dict[str, Any]:
        with open_checkpointer(self.project) as saver:
            state = build_graph().compile(checkpointer=saver).get_state(self.config())
        return dict(state.values)

    def waiting(self) -> dict[str, Any] | None:
        """The review gate the conversation waits at (its payload), or None."""
        with open_checkpointer(self.project) as saver:
            state = build_graph().compile(checkpointer=saver).get_state(self.config())
        for pending in state.interrupts:
            if isinstance(pending.value, dict):
                return pending.value
        return None

    def _settle_stopped_turn(self) -> None:
        """Say, in the conversation, that its last turn stopped before it finished (Ctrl-C,
        the page's stop, a killed process), so that the next message is a turn of its own:
        a stopped turn would be run again, and a gate answered in it would be given the same
        answer again, whatever is said next."""
        with open_checkpointer(self.project) as saver:
            saved = saver.get_tuple(self.config())
            if saved is None:
                return
            chat = build_graph().compile(checkpointer=saver)
            unfinished = chat.get_state(self.config()).next
            answered = any(
                channel == _RESUME_CHANNEL for _, channel, _ in saved.pending_writes or []
            )
            if "turn" in unfinished:
                node = "turn"
            elif "gate" in unfinished and answered:
                node = "gate"
            else:
                return
            update: dict[str, Any] = {"messages": [AIMessage(STOPPED)]}
            episode = chat.get_state(self.config()).values.get("episode")
            if episode and episode_stage(self.project, episode) == "rendering":
                # The turn handed its changes to the episode before it stopped: they are the
                # episode's work now ("render" goes on with them), not the conversation's.
                update.update(retakes=[], line_edits=[], redesigns=[])
            chat.update_state(self.config(), update, as_node=node)

    def send(
        self,
        text: str | dict[str, Any],
        on_event: OnEvent | None = None,
        calls: list[ToolCall] | None = None,
        stop: threading.Event | None = None,
    ) -> list[str]:
        """Say something (or answer the waiting gate with a decision; or, with `calls`, ask
        for those tool calls, `text` saying what they are); return the showrunner's replies.
        Stopped (`stop` set, e.g. by a Ctrl-C handler; or KeyboardInterrupt while streaming),
        the turn's run stops at its next step, what it made is kept, and saying "render" goes
        on from there; a stopped turn raises ChatError(STOPPED)."""
        if isinstance(text, str) and len(text) > MAX_MESSAGE_CHARS:
            raise ChatError(
                f"the message is {len(text)} characters; keep it under {MAX_MESSAGE_CHARS}"
            )
        for call in calls or []:
            try:
                call.action()
            except ToolError as exc:
                raise ChatError(str(exc)) from None
        self._settle_stopped_turn()
        said: Any = text
        if isinstance(text, str):
            extra = {CALLS_KEY: [c.model_dump() for c in calls]} if calls else {}
            said = HumanMessage(text, additional_kwargs=extra)
        if self.waiting() is not None:
            # The gate takes a decision, or a message (a string; one with calls as itself).
            first: Any = Command(resume=said if calls else text)
        elif isinstance(said, HumanMessage):
            first = {"messages": [said]}
        else:
            raise ChatError("nothing is waiting for a decision; say something instead")
        before = len(self.values().get("messages") or [])
        stop = stop or threading.Event()
        with open_checkpointer(self.project) as saver:
            chat = build_graph(stop).compile(checkpointer=saver)
            stream = chat.stream(
                first,
                self.config(),
                context=self.context,
                stream_mode=["custom", "updates"],
                durability="sync",
            )
            try:
                for mode, data in stream:
                    if mode == "custom" and on_event is not None and isinstance(data, dict):
                        payload = dict(data)
                        on_event(str(payload.pop("event", "")), payload)
            except TurnStopped:
                self._settle_stopped_turn()
                raise ChatError(STOPPED) from None
            except BaseException:
                # Ctrl-C (or a failing on_event) here: the turn runs in LangGraph's worker
                # thread, so stop its run too, and wait until it has (at its next step).
                stop.set()
                stream.close()
                self._settle_stopped_turn()
                raise
            messages = chat.get_state(self.config()).values.get("messages") or []
        return [
            m.content
            for m in messages[before:]
            if isinstance(m, AIMessage) and isinstance(m.content, str)
        ]


def list_threads(project: Project) -> list[ThreadInfo]:
    """The project's conversations, the most recent first."""
    found = []
    for thread in latest_threads(project, "chat-"):
        values = ChatSession(project, thread, ChatContext(project=str(project.root))).values()
        messages = values.get("messages") or []
        last = messages[-1].content if messages else ""
        episode = values.get("episode")
        # Once the episode is started, its own stage (a stopped render is "rendering").
        stage = (episode_stage(project, episode) if episode else "") or values.get("stage")
        found.append(
            ThreadInfo(thread, episode, str(stage or "idea"), last if isinstance(last, str) else "")
        )
    return found
