"""The showrunner, stage by stage, with the offline engine and with a hosted model that calls
tools (scripted on the local OpenAI-compatible server, through the real clients)."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from inkreel.chat import STOPPED, ChatError, ChatSession, list_threads
from inkreel.project import Project
from inkreel.providers.budget import Ledger
from inkreel.run import change_episode, episode_state
from inkreel.schemas import Retake
from inkreel.schemas.chat import ToolCall

from .conftest import IDEA
from .fake_openai import FakeOpenAI
from .test_line_providers import hosted_project


def session(root: Path, **kw: Any) -> ChatSession:
    return ChatSession.open(Project.open(root), length_s=kw.pop("length_s", 20.0), **kw)


def say(chat: ChatSession, text: str, **kw: Any) -> str:
    return "\n".join(chat.send(text, **kw))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_idea_to_outline_with_edits_undo_and_bad_input(tmp_path: Path) -> None:
    chat = session(tmp_path / "p")
    assert "Say something" in say(chat, "   ")
    pitched = say(chat, IDEA)
    assert pitched.count("\n  ") == 3 and "Mei" in pitched and "Aiko" in pitched
    assert "choose a logline first" in say(chat, "approve")
    assert "I did not understand" in say(chat, "the fourth one")
    outline = say(chat, "logline 2")
    assert "Logline: Mei and Aiko must trust each other" in outline
    assert [line.split("] ")[0].strip() for line in outline.splitlines() if "] " in line] == [
        "1. [setup",
        "2. [development",
        "3. [turn",
        "4. [resolution",
    ]
    assert "estimated $0.0000" in outline  # the next step's cost, said before it is spent
    moved = say(chat, "move beat 3 to 1")
    assert moved.splitlines()[1].startswith("  1. [setup] Night falls")
    assert "there is no beat 9" in say(chat, "cut beat 9")
    assert "Taken back" in say(chat, "undo")
    assert (
        say(chat, "beat 2: Mei reads the message aloud.")
        .splitlines()[2]
        .endswith("Mei reads the message aloud")
    )
    assert "Lin" in say(chat, "rename Mei to Lin")
    assert "Ken joins the story" in say(chat, "add a character named Ken")
    assert "already in the story" in say(chat, "add Ken")
    assert "no character 'Zed'" in say(chat, "remove Zed")
    assert "I did not understand that" in say(chat, "purple monkey dishwasher")
    values = chat.values()
    assert values["cast"] == ["Lin", "Aiko", "Ken"] and values["stage"] == "outline"
    assert values["outline"][1]["text"] == "Lin reads the message aloud"
    with pytest.raises(ChatError, match="under 8000"):
        chat.send("x" * 9000)
    # The conversation is kept: it is listed and can be continued.
    again = ChatSession.open(Project.open(tmp_path / "p"), chat.thread)
    assert "The cast: Lin, Aiko, Ken" in say(again, "who is in it?")
    assert [t.thread for t in list_threads(Project.open(tmp_path / "p"))] == [chat.thread]
    with pytest.raises(ChatError, match="no conversation"):
        ChatSession.open(Project.open(tmp_path / "p"), "chat-00000000")


def test_script_gate_edits_reach_the_script_and_bad_ones_are_refused(tmp_path: Path) -> None:
    chat = session(tmp_path / "p")
    say(chat, IDEA)
    say(chat, "logline 1")
    script = say(chat, "approve")
    assert "Scene 1:" in script and "1. Mei:" in script
    assert chat.waiting() is not None and chat.waiting()["gate"] == "script"
    assert "Scene 2 (" in say(chat, "who is in scene 2?")
    assert "no scene 40" in say(chat, "scene 40 at night")
    assert "no line 99" in say(chat, 'change line 99 to "x"')
    assert "Aiko is now Hana" in say(chat, "rename Aiko to Hana")
    say(chat, "scene 1 at night")
    say(chat, 'change line 1 to "Who sent this?"')
    assert "cannot change a shot at the script stage" in say(chat, "shot 2 close-up")
    board = say(chat, "approve")
    assert "The storyboard" in board and "Hana" in board and "Aiko" not in board
    values = episode_state(Project.open(tmp_path / "p"), chat.values()["episode"]).values
    first = values["script"].scenes[0]
    assert first.time_of_day == "night" and first.heading.endswith("NIGHT")
    assert values["script"].dialogue()[0][1].text == "Who sent this?"
    assert chat.waiting()["gate"] == "storyboard"


def test_a_chat_makes_an_episode_then_retakes_one_shot_and_undoes_it(tmp_path: Path) -> None:
    root = tmp_path / "p"
    chat = session(root, length_s=12.0)
    for text in (IDEA, "logline 2", "approve", "approve"):
        say(chat, text)
    events: list[str] = []
    assert "close up" in say(chat, "shot 3 close-up")
    delivered = say(chat, "approve", on_event=lambda kind, payload: events.append(kind))
    episode = chat.values()["episode"]
    video = root / "episodes" / episode / "episode.mp4"
    assert f"Episode {episode} is ready" in delivered and video.exists()
    assert {"keyframe", "segment", "bar", "stage_done"} <= set(events)
    values = episode_state(Project.open(root), episode).values
    third = values["shot_order"][2]
    assert values["shots"][third].framing == "close_up"

    # After the render: a change is said, with its cost, and made on "render".
    second = values["shot_order"][1]
    segments = {i: sha(root / values["segments"][i]) for i in values["shot_order"]}
    pending = say(chat, "shot 2 should be a close-up, and Aiko is angry there")
    assert f"retake {second} (close up, angry, Aiko)" in pending and "render" in pending
    assert (
        video.stat().st_mtime_ns == (root / "episodes" / episode / "episode.mp4").stat().st_mtime_ns
    )
    assert "Done" in say(chat, "render")
    after = episode_state(Project.open(root), episode).values
    assert after["shots"][second].framing == "close_up"
    changed = {i for i in values["shot_order"] if sha(root / after["segments"][i]) != segments[i]}
    assert second in changed and len(changed) <= 3  # the shot (and dissolves into it)
    assert "Continuity checked" in say(chat, "what did continuity flag?")
    assert "$0.0000" in say(chat, "what did this cost?")
    # Undo after the render: the shot is taken again as it was staged before.
    assert "retake" in say(chat, "undo")
    say(chat, "render")
    back = episode_state(Project.open(root), episode).values["shots"][second]
    before = values["shots"][second]
    assert (back.framing, back.angle) == (before.framing, before.angle)
    staged = [(b.character, b.expression) for b in back.blocking]
    assert staged == [(b.character, b.expression) for b in before.blocking]
    assert "nothing to render" in say(chat, "render")

    # A new look: the character's sheets and every shot with them are drawn again, no other.
    values = episode_state(Project.open(root), episode).values
    segments = {i: sha(root / values["segments"][i]) for i in values["shot_order"]}
    with_aiko = {
        i
        for i in values["shot_order"]
        if any(b.character == "Aiko" for b in values["shots"][i].blocking)
    }
    assert "Aiko's outfit #2e6fd0" in say(chat, "Aiko的衣服换成蓝色")
    assert "Done" in say(chat, "render")
    after = episode_state(Project.open(root), episode).values
    assert after["cast"]["Aiko"].design.outfit_colour == "#2e6fd0"
    assert after["cast"]["Mei"].design == values["cast"]["Mei"].design
    assert (root / after["cast"]["Aiko"].sheet).exists()
    redrawn = {i for i in values["shot_order"] if sha(root / after["segments"][i]) != segments[i]}
    assert redrawn and redrawn <= with_aiko | _dissolving_into(values, with_aiko)
    plaid = ToolCall(
        name="change_look", args={"character": "Mei", "part": "hair", "colour": "plaid"}
    )
    assert "not a colour I know" in say(chat, "Mei's hair plaid", calls=[plaid])


def _dissolving_into(values: dict[str, Any], shots: set[str]) -> set[str]:
    """Shots whose clip dissolves into one of `shots` (their clip holds its first frames)."""
    order = values["shot_order"]
    return {order[i - 1] for i, shot in enumerate(order) if shot in shots and i > 0}


def test_buttons_send_tool_calls_that_are_checked(tmp_path: Path) -> None:
    chat = session(tmp_path / "p")
    assert "Three loglines" in say(
        chat, "idea", calls=[ToolCall(name="propose_loglines", args={"idea": IDEA})]
    )
    with pytest.raises(ChatError, match="no tool 'fly'"):
        chat.send("x", calls=[ToolCall(name="fly")])
    with pytest.raises(ChatError, match="number"):
        chat.send("x", calls=[ToolCall(name="choose_logline", args={"number": 7})])


def test_a_hosted_model_chats_through_tool_calls(tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "p"
    monkeypatch.setenv("LOCAL_LLM_KEY", "sk-test-key")
    monkeypatch.setenv("INKREEL_TEXT_MODEL", "local-llm")
    monkeypatch.setenv("INKREEL_RETRY_BASE_DELAY_S", "0")
    with FakeOpenAI() as server:
        hosted_project(root, server.base_url)
        chat = session(root)
        # Each turn: the model's tool call is scripted; the pitch and outline it leads to
        # are answered by the server's default (the story engine behind the real client).
        server.queue_tool_call({"idea": IDEA}, name="ProposeLoglines")
        assert "Three loglines" in say(chat, "here is my idea: " + IDEA)
        server.queue_tool_call({"number": 3}, name="ChooseLogline")
        outline = say(chat, "I like the one about dusk")
        assert "Logline: At the lighthouse, Mei has until dusk" in outline
        server.queue_tool_call({"action": "cut", "beat": 2}, name="EditOutline")
        assert outline.count("] ") - 1 == say(chat, "drop the second beat").count("] ")
        server.queue_content("Mei and Aiko are the two characters so far.")
        assert "two characters so far" in say(chat, "who did we have again?")
        server.queue_tool_call({"action": "move", "beat": 9, "to": 1}, name="EditOutline")
        assert "there is no beat 9" in say(chat, "move the last beat first")

        turns = [
            r.json
            for r in server.requests_to("chat")
            if r.json and len(r.json.get("tools") or []) > 1
        ]
    assert len(turns) == 5
    first = turns[0]
    assert first.get("tool_choice") in (None, "auto")
    assert {t["function"]["name"] for t in first["tools"]} >= {"ProposeLoglines", "ChangeShot"}
    assert "<message>" in json.dumps(first["messages"])
    # Every turn was paid for once, in the conversation's episode.
    ledger = Ledger(root / "ledger.sqlite")
    try:
        assert ledger.spent(("episode", chat.values()["episode"])) > 0
    finally:
        ledger.close()


def test_a_render_or_retake_stopped_midway_goes_on_when_the_writer_says_render(
    tmp_path: Path,
) -> None:
    root = tmp_path / "p"
    chat = session(root, length_s=10.0)
    for text in (IDEA, "logline 1", "approve", "approve"):
        say(chat, text)
    episode = chat.values()["episode"]
    mp4 = root / "episodes" / episode / "episode.mp4"
    events: list[str] = []

    def ctrl_c(kind: str, payload: dict[str, Any]) -> None:
        events.append(kind)
        if kind == "keyframe":  # Ctrl-C in the terminal while the first keyframe is drawn
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        chat.send("approve", on_event=ctrl_c)
    # The turn runs in LangGraph's worker thread: it stopped too, and did not go on to the end.
    assert not mp4.exists() and events.count("keyframe") == 1
    assert chat.values()["messages"][-1].content == STOPPED  # said in the conversation
    assert "stopped before it was finished" in say(chat, "status")
    # A turn stopped by its caller (the CLI's Ctrl-C handler sets the event) says so; the
    # next message is a turn of its own.
    stopped = threading.Event()
    stopped.set()
    with pytest.raises(ChatError, match="stopped before it finished"):
        chat.send("render", stop=stopped)
    assert not mp4.exists() and chat.values()["messages"][-1].content == STOPPED
    assert "Going on with episode" in say(chat, "render")
    assert mp4.exists() and "is ready" in say(chat, "status")
    second = episode_state(Project.open(root), episode).values["shot_order"][1]

    def stop(kind: str, payload: dict[str, Any]) -> None:
        if kind == "keyframe":  # the process is stopped while the retake is drawn
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        change_episode(
            Project.open(root), episode, [Retake(shot=second, framing="wide")], [], on_event=stop
        )
    # The episode was delivered before, but it has steps left: it is being made, not done.
    assert "stopped before it was finished" in say(chat, "status")
    assert "Going on with episode" in say(chat, "render")
    values = episode_state(Project.open(root), episode).values
    assert values["shots"][second].framing == "wide"
    assert "is ready" in say(chat, "status")
    # A retake stopped at its first step (the page's Stop pressed at once): the change was
    # handed to the episode, which goes on with it; the conversation does not ask it again.
    assert "To do: retake" in say(chat, "shot 2 close-up")
    with pytest.raises(ChatError, match="stopped before it finished"):
        chat.send("render", stop=stopped)
    assert chat.values()["retakes"] == []
    assert [t.stage for t in list_threads(Project.open(root))] == ["rendering"]
    assert "stopped before it was finished" in say(chat, "status")
    assert "Going on with episode" in say(chat, "render")
    values = episode_state(Project.open(root), episode).values
    assert values["shots"][second].framing == "close_up"
    assert "is ready" in say(chat, "status")
