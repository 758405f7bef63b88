"""The showrunner chat graph of langgraph.json under LangGraph's own dev server (`langgraph
dev`), held by a langgraph-sdk client as any chat front end would: user messages as plain
JSON, the conversation's state read back from the server's thread, and the review gates of
the episode it makes answered with a resume command (a decision or a chat message)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from inkreel.project import Project
from inkreel.run import episode_state
from tests.conftest import IDEA

# The server fixture (and the importorskip of the server extra) of the episode graph's tests:
# one `langgraph dev` for this module, from a scratch dir, stopped at the end.
from tests.test_langgraph_server import Server, _tail, server  # noqa: F401

APPROVE = {"decisions": [{"type": "approve"}]}


def _said(values: dict[str, Any]) -> str:
    """The showrunner's last message in the thread's values (messages as the SDK gives them)."""
    messages = values["messages"]
    assert messages, values
    last = messages[-1]
    assert last["type"] == "ai", messages[-2:]
    assert isinstance(last["content"], str)
    return str(last["content"])


def _waiting_at(client: Any, thread_id: str) -> dict[str, Any]:
    """The gate the conversation waits at, as the SDK shows it: one interrupt, the same in the
    thread's `interrupts` and in its pending task's (the chat graph's `gate` node)."""
    state = client.threads.get_state(thread_id)
    tasks = [t for t in state["tasks"] if t["interrupts"]]
    assert len(tasks) == 1 and len(state["interrupts"]) == 1, state["tasks"]
    assert tasks[0]["name"] == "gate"
    assert tasks[0]["interrupts"] == state["interrupts"]
    assert client.threads.get(thread_id)["status"] == "interrupted"
    return dict(state["interrupts"][0]["value"])


def test_server_lists_the_chat_graph_with_its_schemas(server: Server) -> None:  # noqa: F811
    client = server.client()
    assistants = client.assistants.search(graph_id="chat")
    assert assistants, f"no assistant for the chat graph:\n{_tail(server.log)}"
    schemas = client.assistants.get_schemas(assistants[0]["assistant_id"])

    assert schemas["input_schema"] is not None
    assert schemas["output_schema"] is not None
    assert "messages" in schemas["input_schema"]["properties"]
    assert {"messages", "stage", "episode", "loglines", "outline"} <= set(
        schemas["output_schema"]["properties"]
    )
    assert schemas["context_schema"] is not None
    assert schemas["context_schema"]["required"] == ["project"]


class Chat:
    """A conversation held through the SDK: one thread of the "chat" assistant."""

    def __init__(self, on: Server, project: Path) -> None:
        self.server = on
        self.client = on.client()
        self.project = project
        self.context: dict[str, Any] = {
            "project": str(project),
            "length_s": 12,
            "language": "en",
            "seed": 0,
        }
        self.thread = self.client.threads.create()["thread_id"]

    def run(self, **how: Any) -> dict[str, Any]:
        try:
            result = self.client.runs.wait(self.thread, "chat", context=self.context, **how)
        except Exception as exc:  # the SDK raises a bare Exception for a failed run
            pytest.fail(f"the chat run failed: {exc}\n{_tail(self.server.log)}")
        assert isinstance(result, dict), result
        return result

    def say(self, text: str) -> dict[str, Any]:
        return self.run(input={"messages": [{"role": "user", "content": text}]})

    def values(self) -> dict[str, Any]:
        """The conversation's state, read back from the server's thread."""
        values = self.client.threads.get_state(self.thread)["values"]
        assert isinstance(values, dict), values
        return values

    def waiting_at(self) -> dict[str, Any]:
        return _waiting_at(self.client, self.thread)

    def to_the_script_gate(self) -> dict[str, Any]:
        """Idea, logline, outline approved: the script is written and waits at its gate."""
        values = self.say(IDEA)
        assert values["stage"] == "logline", values
        assert len(values["loglines"]) == 3
        reply = _said(values)
        assert "Three loglines" in reply
        assert all(logline in reply for logline in values["loglines"])
        assert values["episode"] and "__interrupt__" not in values

        values = self.say("logline 2")
        assert values["stage"] == "outline", values
        assert values["logline"] == values["loglines"][1]
        assert values["outline"]
        assert "The outline" in _said(values)
        assert "__interrupt__" not in values

        values = self.say("approve")
        asked = self.waiting_at()
        assert [i["value"] for i in values["__interrupt__"]] == [asked]
        assert asked["gate"] == "script" and asked["problem"] is None, asked
        [action] = asked["action_requests"]
        assert action["name"] == "review_script" and action["description"]
        assert [c["action_name"] for c in asked["review_configs"]] == ["review_script"]
        assert values["stage"] == "script"
        assert action["args"]["script"]["title"] in _said(values)
        return values


def test_a_client_chats_an_idea_into_an_episode_through_the_gates(
    server: Server,  # noqa: F811
    tmp_path: Path,
) -> None:
    chat = Chat(server, tmp_path / "proj")
    client = chat.client
    episode = chat.to_the_script_gate()["episode"]
    assert chat.values()["episode"] == episode

    # A chat message answers the script gate (a string resume): the storyboard gate.
    values = chat.run(command={"resume": "approve"})
    asked = chat.waiting_at()
    assert [i["value"] for i in values["__interrupt__"]] == [asked]
    assert asked["gate"] == "storyboard" and asked["problem"] is None, asked
    args = asked["action_requests"][0]["args"]
    assert args["shots"] and "estimate_usd" in args
    assert values["stage"] == "storyboard"
    assert "The storyboard" in _said(values)

    # A shot change said at the gate: noted, and the gate still waits.
    shot = args["shots"][2]["id"]
    values = chat.run(command={"resume": "shot 3 close-up"})
    asked = chat.waiting_at()
    assert asked["gate"] == "storyboard" and asked["problem"] is None, asked
    assert values["stage"] == "storyboard"
    assert values["shot_edits"] == {shot: {"id": shot, "framing": "close_up"}}
    reply = _said(values)
    assert shot in reply and "close up" in reply, reply
    human = values["messages"][-2]
    assert human["type"] == "human" and human["content"] == "shot 3 close-up"

    # Approve the storyboard: the episode is drawn and cut, with progress on the way.
    events: list[dict[str, Any]] = []
    updated: set[str] = set()
    errors: list[Any] = []
    for part in client.runs.stream(
        chat.thread,
        "chat",
        command={"resume": "approve"},
        context=chat.context,
        stream_mode=["custom", "updates"],
    ):
        if part.event == "custom":
            events.append(part.data)
        elif part.event == "updates":
            updated.update(part.data)
        elif part.event == "error":
            errors.append(part.data)
    assert not errors, f"the render failed: {errors}\n{_tail(server.log)}"
    kinds = {e.get("event") for e in events}
    assert {"keyframe", "bar"} <= kinds, kinds
    assert "gate" in updated, updated

    # The conversation lives in the server's thread: finished, the episode delivered.
    state = client.threads.get_state(chat.thread)
    assert not state["interrupts"] and not state["next"], state["tasks"]
    assert client.threads.get(chat.thread)["status"] == "idle"
    assert [r["status"] for r in client.runs.list(chat.thread)] == ["success"] * 6
    values = chat.values()
    assert values["stage"] == "episode" and values["episode"] == episode
    assert values["shot_edits"] == {}
    assert f"Episode {episode} is ready" in _said(values)
    folder = chat.project / "episodes" / episode
    assert (folder / "episode.mp4").stat().st_size > 0
    assert (folder / "manifest.json").is_file()
    # The episode (in the project's own checkpointer) was drawn with the close-up.
    made = episode_state(Project.open(chat.project), episode).values
    assert made["shots"][shot].framing.value == "close_up"
    assert [(r.gate, r.decision) for r in made["reviews"]] == [
        ("script", "approve"),
        ("storyboard", "edit"),
    ]


def test_a_decision_answers_the_script_gate(server: Server, tmp_path: Path) -> None:  # noqa: F811
    chat = Chat(server, tmp_path / "proj")
    chat.to_the_script_gate()

    values = chat.run(command={"resume": APPROVE})
    asked = chat.waiting_at()
    assert asked["problem"] is None, f"{asked['problem']!r}; the chat said: {_said(values)!r}"
    assert asked["gate"] == "storyboard", asked
    assert values["stage"] == "storyboard"
