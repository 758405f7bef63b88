"""The conversation graph: a writer and the showrunner, from an idea to an episode.

State: the message history and what the conversation has settled before the episode exists
(the idea, the loglines, the chosen logline, the cast, the outline), plus the episode it works
on and what the writer changed at the script gate but has not yet approved. Everything else
(the script, the storyboard, the episode's files) is the episode's own state, in its own
thread: the showrunner drives the episode through its review gates and changes (`Episodes`),
never reimplements them.

Each user message is a turn (`turn`). While the episode waits at a review gate, the graph
waits too (`gate`, `interrupt()` with the gate's own payload, in the agent inbox's shape), so
a LangGraph client can answer the gate with a decision ({"decisions": [{"type": "approve"}]})
or with a chat message (a string), and LangGraph's chat UIs can show it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from typing import Annotated, Any, Literal, Protocol

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages
from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from inkreel.graphs.conversation import Conversation, Turn
from inkreel.schemas.chat import Stage

OnEvent = Callable[[str, dict[str, Any]], None]
# What the chat waits with when its episode stopped after a gate was answered.
STALE_GATE: dict[str, Any] = {
    "gate": None,
    "problem": "the episode no longer waits at a gate: say what to do next ('render' goes on)",
}


class ChatContext(BaseModel):
    """What a conversation runs with: plain data (a LangGraph client sends it as JSON)."""

    project: str = Field(description="The project (series) directory.")
    language: str = Field(default="en", description="The episode's language, for a new one.")
    length_s: float = Field(default=60.0, gt=0, description="Target runtime of a new episode.")
    seed: int = 0


class ChatState(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]
    episode: str
    idea: str
    loglines: list[str]
    logline: str
    cast: list[str]
    outline: list[dict[str, Any]]
    script_draft: dict[str, Any] | None
    shot_edits: dict[str, dict[str, Any]]
    retakes: list[dict[str, Any]]
    line_edits: list[dict[str, Any]]
    redesigns: list[dict[str, Any]]
    undo: list[dict[str, Any]]
    stage: Stage


class ChatInput(TypedDict, total=False):
    messages: Annotated[list[AnyMessage], add_messages]


class Episodes(Protocol):
    """What the conversation needs from the run layer (`inkreel.chat` gives it)."""

    def open(self, context: ChatContext) -> AbstractContextManager[Conversation]: ...


def build_chat_graph(
    episodes: Episodes,
) -> StateGraph[ChatState, ChatContext, ChatInput, ChatState]:
    """The conversation graph; `episodes` opens the services a turn works with."""

    def turn(
        state: ChatState, runtime: Runtime[ChatContext]
    ) -> Command[Literal["gate", "__end__"]]:
        message = _last_human(state)
        with episodes.open(runtime.context) as conversation:
            done = conversation.turn(dict(state), message, _writer(runtime))
        return _after(done)

    def gate(
        state: ChatState, runtime: Runtime[ChatContext]
    ) -> Command[Literal["gate", "__end__"]]:
        with episodes.open(runtime.context) as conversation:
            waiting = conversation.gate_payload(dict(state))
        # A gate left over from a run that stopped after it was answered (the episode no
        # longer waits there): what comes next is an ordinary turn.
        answer = interrupt(waiting if waiting is not None else STALE_GATE)
        with episodes.open(runtime.context) as conversation:
            if isinstance(answer, (str, HumanMessage)):
                said = answer if isinstance(answer, HumanMessage) else HumanMessage(answer)
                done = conversation.turn(dict(state), said, _writer(runtime))
                done.update["messages"] = [said, *done.update.get("messages", [])]
            elif waiting is None:
                done = conversation.turn(dict(state), HumanMessage("status"), _writer(runtime))
            else:
                done = conversation.decide(dict(state), answer, _writer(runtime))
        return _after(done)

    graph = StateGraph(
        ChatState, context_schema=ChatContext, input_schema=ChatInput, output_schema=ChatState
    )
    graph.add_node("turn", turn, destinations=("gate", END))
    graph.add_node("gate", gate, destinations=("gate", END))
    graph.add_edge(START, "turn")
    return graph


def _after(done: Turn) -> Command[Literal["gate", "__end__"]]:
    if done.waiting:
        return Command(goto="gate", update=done.update)
    return Command(goto=END, update=done.update)  # type: ignore[arg-type]


def _last_human(state: ChatState) -> HumanMessage:
    for message in reversed(state.get("messages") or []):
        if isinstance(message, HumanMessage):
            return message
    return HumanMessage("")


def _writer(runtime: Runtime[ChatContext]) -> OnEvent:
    """Progress to the client's `custom` stream: {"event": kind, ...payload}."""
    write = runtime.stream_writer

    def on_event(kind: str, payload: dict[str, Any]) -> None:
        if write is not None:
            write({"event": kind, **payload})

    return on_event


def replies(messages: list[AnyMessage]) -> Iterator[str]:
    """The text of the showrunner's messages."""
    for message in messages:
        if isinstance(message, AIMessage) and isinstance(message.content, str):
            yield message.content
