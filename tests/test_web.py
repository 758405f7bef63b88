"""The web page's API (`inkreel serve`): conversations, turns in the background, their events,
the project's files, and the episode as JSON (`inkreel.episode_view`)."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from inkreel.chat import STOPPED, ChatError, ChatSession
from inkreel.cli import app as cli_app
from inkreel.episode_view import episode_view
from inkreel.graphs.changes import numbered_lines
from inkreel.project import Project
from inkreel.run import answer_review, episode_state
from inkreel.web import create_app
from tests.conftest import IDEA

Event = tuple[str, dict[str, Any]]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project.open(tmp_path / "series")


@pytest.fixture
def client(project: Project) -> Iterator[TestClient]:
    with TestClient(create_app(project, length_s=20), base_url="http://127.0.0.1") as client:
        yield client


def new_thread(client: TestClient) -> str:
    response = client.post("/api/threads")
    assert response.status_code == 201, response.text
    return str(response.json()["thread"])


def events(client: TestClient, thread: str, headers: dict[str, str] | None = None) -> list[Event]:
    """The server-sent events of the thread's turn, to its last one (done, error, idle)."""
    found: list[Event] = []
    name, data = "message", ""
    with client.stream("GET", f"/api/threads/{thread}/events", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith(":"):  # a ping
                continue
            if line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data = line.removeprefix("data:").strip()
            elif not line and data:
                found.append((name, json.loads(data)))
                name, data = "message", ""
    return found


def say(client: TestClient, thread: str, text: str, **extra: Any) -> list[Event]:
    """Send a message and wait for its turn to end (through its events)."""
    response = client.post(f"/api/threads/{thread}/messages", json={"text": text, **extra})
    assert response.status_code == 202, response.text
    got = events(client, thread)
    assert got[-1][0] == "done", got
    return got


def replies(got: list[Event]) -> list[str]:
    return [data["text"] for name, data in got if name == "reply"]


# ----------------------------------------------------------------------------- conversations


def test_a_new_conversation_is_listed_and_empty(client: TestClient) -> None:
    thread = new_thread(client)
    assert re.fullmatch(r"chat-[0-9a-f]{8,32}", thread)
    listed = client.get("/api/threads").json()["threads"]
    assert [t["thread"] for t in listed] == [thread]
    assert listed[0]["stage"] == "idea" and not listed[0]["busy"]
    detail = client.get(f"/api/threads/{thread}").json()
    assert detail["stage"] == "idea" and detail["messages"] == []
    assert detail["busy"] is False and detail["waiting"] is False and detail["length_s"] == 20
    assert detail["episode_view"]["script"] is None
    # Nothing ran yet: its events say so at once.
    assert events(client, thread) == [("idle", {})]


def test_an_idea_gets_loglines_and_survives_a_restart(client: TestClient, project: Project) -> None:
    thread = new_thread(client)
    got = say(client, thread, IDEA)
    assert [name for name, _ in got] == ["start", "reply", "done"]
    assert got[0][1]["text"] == IDEA
    assert "Three loglines" in replies(got)[0]
    detail = client.get(f"/api/threads/{thread}").json()
    assert detail["stage"] == "logline" and not detail["busy"]
    assert [m["role"] for m in detail["messages"]] == ["writer", "showrunner"]
    assert detail["messages"][0]["text"] == IDEA and len(detail["loglines"]) == 3
    assert detail["episode"] == "ep01"
    # A page reloaded after the turn gets the last turn's events again, then they end.
    assert events(client, thread) == got
    # A new server on the same project reads the conversation from its checkpoint.
    with TestClient(create_app(project), base_url="http://127.0.0.1") as again:
        listed = again.get("/api/threads").json()["threads"]
        assert [(t["thread"], t["stage"]) for t in listed] == [(thread, "logline")]
        assert again.get(f"/api/threads/{thread}").json()["messages"] == detail["messages"]
        assert events(again, thread) == [("idle", {})]


@pytest.fixture
def blocked(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, threading.Event]]:
    """ChatSession.send that reports one event, then waits until released (or stopped, as
    the real one stops at its run's next step)."""
    started, release = threading.Event(), threading.Event()

    def send(
        self: ChatSession,
        text: Any,
        on_event: Any = None,
        calls: Any = None,
        stop: threading.Event | None = None,
    ) -> list[str]:
        on_event("keyframe", {"shot_id": "s01-001"})
        started.set()
        for _ in range(6000):
            if stop is not None and stop.is_set():
                raise ChatError(STOPPED)
            if release.wait(0.01):
                return [f"Did: {text}"]
        raise AssertionError("the test never released the turn")

    monkeypatch.setattr(ChatSession, "send", send)
    yield started, release
    release.set()


def test_a_second_message_while_one_runs_is_refused(
    client: TestClient, blocked: tuple[threading.Event, threading.Event]
) -> None:
    started, release = blocked
    thread = new_thread(client)
    first = client.post(f"/api/threads/{thread}/messages", json={"text": "render"})
    assert first.status_code == 202
    assert started.wait(60)
    # Another tab, or the same render asked twice: refused while the first runs.
    again = client.post(f"/api/threads/{thread}/messages", json={"text": "render"})
    assert again.status_code == 409
    assert "still working on the last message" in again.json()["error"]
    detail = client.get(f"/api/threads/{thread}").json()
    assert detail["busy"] is True and detail["pending"] == "render"
    assert client.get("/api/threads").json()["threads"][0]["busy"] is True
    release.set()
    got = events(client, thread)
    assert got == [
        ("start", {"text": "render", "thread": thread}),
        ("progress", {"kind": "keyframe", "data": {"shot_id": "s01-001"}}),
        ("reply", {"text": "Did: render"}),
        ("done", {"replies": 1}),
    ]
    # A page that saw the first two events picks up after them.
    assert events(client, thread, {"Last-Event-ID": "1-1"}) == got[2:]
    assert client.get(f"/api/threads/{thread}").json()["busy"] is False
    assert client.post(f"/api/threads/{thread}/messages", json={"text": "again"}).status_code == 202
    assert events(client, thread)[-1] == ("done", {"replies": 1})


def test_a_running_turn_stops_when_asked_and_when_the_server_stops(
    client: TestClient, blocked: tuple[threading.Event, threading.Event]
) -> None:
    started, _ = blocked
    thread = new_thread(client)
    idle = client.post(f"/api/threads/{thread}/stop")
    assert idle.status_code == 409 and "nothing is running" in idle.json()["error"]
    assert (
        client.post(f"/api/threads/{thread}/messages", json={"text": "render"}).status_code == 202
    )
    assert started.wait(60)
    assert client.post(f"/api/threads/{thread}/stop").status_code == 202
    assert events(client, thread)[-1] == ("stopped", {"text": STOPPED})
    assert client.get(f"/api/threads/{thread}").json()["busy"] is False
    # The server stopping stops every running turn and waits for it.
    started.clear()
    assert (
        client.post(f"/api/threads/{thread}/messages", json={"text": "render"}).status_code == 202
    )
    assert started.wait(60)
    desk = client.app.state.desk  # type: ignore[attr-defined]
    assert desk.running() == [thread]
    assert desk.stop_all(60) == [] and desk.running() == []
    assert events(client, thread)[-1] == ("stopped", {"text": STOPPED})


def test_a_failed_turn_ends_with_one_line(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: ChatSession, text: Any, **kw: Any) -> None:
        raise RuntimeError("the disk is full\nTraceback (most recent call last): ...")

    monkeypatch.setattr(ChatSession, "send", broken)
    thread = new_thread(client)
    assert client.post(f"/api/threads/{thread}/messages", json={"text": "hi"}).status_code == 202
    assert events(client, thread)[-1] == ("error", {"error": "the turn failed: the disk is full"})

    def refused(self: ChatSession, text: Any, **kw: Any) -> None:
        raise ChatError("nothing is waiting for a decision; say something instead")

    monkeypatch.setattr(ChatSession, "send", refused)
    assert client.post(f"/api/threads/{thread}/messages", json={"text": "hi"}).status_code == 202
    assert events(client, thread)[-1] == (
        "error",
        {"error": "nothing is waiting for a decision; say something instead"},
    )


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"text": ""}, "empty"),
        ({"text": "   \n"}, "empty"),
        ({}, "empty"),
        ({"text": 3}, "string"),
        ({"text": "x" * 9000}, "keep it under"),
        ({"text": "", "calls": []}, "empty"),
        ({"text": "go", "calls": [{"name": "fly", "args": {}}]}, "no tool 'fly'"),
        ({"text": "go", "calls": [{"name": "edit_line", "args": {"line": 0}}]}, "edit_line"),
        ({"text": "go", "calls": "approve"}, "list"),
        ({"text": "go", "calls": [{"args": {}}]}, "not a tool call"),
    ],
)
def test_a_message_that_cannot_be_sent_is_a_400(
    client: TestClient, body: dict[str, Any], needle: str
) -> None:
    thread = new_thread(client)
    response = client.post(f"/api/threads/{thread}/messages", json=body)
    assert response.status_code == 400
    assert needle in response.json()["error"]
    assert "\n" not in response.json()["error"]


def test_a_body_that_is_not_json_is_a_400(client: TestClient) -> None:
    thread = new_thread(client)
    response = client.post(f"/api/threads/{thread}/messages", content=b"{nope")
    assert response.status_code == 400 and response.json() == {"error": "the body is not JSON"}


@pytest.mark.parametrize("thread", ["chat-deadbeef", "not-a-thread", "chat-DEADBEEF", "%2e%2e"])
def test_an_unknown_conversation_is_a_404(client: TestClient, thread: str) -> None:
    for method, path in [
        ("GET", f"/api/threads/{thread}"),
        ("GET", f"/api/threads/{thread}/events"),
        ("POST", f"/api/threads/{thread}/messages"),
    ]:
        response = client.request(method, path, json={"text": "hello"})
        assert response.status_code == 404, (method, path)
        assert "no conversation" in response.json()["error"]


def test_other_errors_are_json(client: TestClient) -> None:
    response = client.get("/api/threads/..%2F..%2Fetc")
    assert response.status_code == 404 and "error" in response.json()
    response = client.get("/api/nothing")
    assert response.status_code == 404 and "error" in response.json()
    response = client.delete("/api/threads")
    assert response.status_code == 405 and "error" in response.json()


def test_only_this_machine_is_answered(client: TestClient) -> None:
    response = client.get("/api/threads", headers={"Host": "evil.example"})
    assert response.status_code == 403 and "127.0.0.1" in response.json()["error"]
    response = client.post("/api/threads", headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    assert client.post("/api/threads", headers={"Origin": "http://127.0.0.1"}).status_code == 201


# ----------------------------------------------------------------------------- files


def test_the_page_and_its_files(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text
    for name in ("app.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200
    # Air-gapped: nothing is loaded from elsewhere.
    for text in (page.text, client.get("/static/style.css").text):
        assert "http://" not in text and "https://" not in text


def test_media_serves_only_files_inside_the_project(
    client: TestClient, project: Project, tmp_path: Path
) -> None:
    folder = project.root / "episodes" / "ep01"
    folder.mkdir(parents=True)
    (folder / "hello.txt").write_text("hello, episode")
    secret = tmp_path / "secret.txt"
    secret.write_text("outside the project")
    (folder / "link.txt").symlink_to(secret)

    response = client.get("/media/episodes/ep01/hello.txt")
    assert response.status_code == 200 and response.text == "hello, episode"
    partial = client.get("/media/episodes/ep01/hello.txt", headers={"Range": "bytes=7-13"})
    assert partial.status_code == 206 and partial.text == "episode"

    for path in [
        "/media/%2e%2e/secret.txt",
        "/media/..%2Fsecret.txt",
        "/media/episodes/..%2F..%2F..%2Fsecret.txt",
        "/media//etc/passwd",
        "/media/%2Fetc%2Fpasswd",
        f"/media/{secret}",
        "/media/episodes/ep01/link.txt",
    ]:
        response = client.get(path)
        assert response.status_code in (403, 404), path
        assert "outside the project" not in response.text and "root:" not in response.text
        assert "error" in response.json()
    assert client.get("/media/episodes/ep01/missing.mp4").status_code == 404
    assert client.get("/media/episodes/ep01").status_code == 404


# ----------------------------------------------------------------------------- the episode


def test_episode_view_of_nothing_is_empty(project: Project) -> None:
    for name in ("ep09", None, "../etc", ""):
        view = episode_view(project, name)
        assert view["script"] is None and view["storyboard"] == []
        assert view["video"] is None and view["subtitles"] is None and view["outputs"] == {}
        assert view["continuity"] is None and view["cost_usd"] == 0.0
    assert not project.ledger.exists(), "looking does not make a ledger"


def test_the_episode_view_follows_the_gates(client: TestClient, project: Project) -> None:
    thread = new_thread(client)
    say(client, thread, IDEA)
    say(client, thread, "logline 2")
    outline = client.get(f"/api/threads/{thread}").json()
    assert outline["stage"] == "outline" and len(outline["outline"]) >= 4
    say(client, thread, "approve")
    detail = client.get(f"/api/threads/{thread}").json()
    assert detail["stage"] == "script" and detail["waiting"] is True
    script = detail["episode_view"]["script"]
    written = episode_state(project, "ep01").values["script"]
    lines = [b for s in script["scenes"] for b in s["beats"] if b["kind"] == "dialogue"]
    assert [b["line"] for b in lines] == list(range(1, len(numbered_lines(written)) + 1))
    assert [b["text"] for b in lines] == [beat.text for *_, beat in numbered_lines(written)]
    assert script["title"] == written.title and script["draft"] is False

    # A line edited in place (the page's call) shows in the draft before it is approved.
    call = {"name": "edit_line", "args": {"line": 2, "text": "Not tonight."}}
    got = say(client, thread, 'change line 2 to "Not tonight."', calls=[call])
    assert "Line 2 now says: Not tonight." in replies(got)
    script = client.get(f"/api/threads/{thread}").json()["episode_view"]["script"]
    lines = [b for s in script["scenes"] for b in s["beats"] if b["kind"] == "dialogue"]
    assert script["draft"] is True and lines[1]["text"] == "Not tonight."

    say(client, thread, "approve")
    detail = client.get(f"/api/threads/{thread}").json()
    assert detail["stage"] == "storyboard" and detail["waiting"] is True
    board = detail["episode_view"]["storyboard"]
    assert [s["number"] for s in board] == list(range(1, len(board) + 1))
    assert all(s["keyframe"] is None and s["continuity"] is None for s in board)
    spoken = next(s for s in board if s["line"] == 2)
    assert spoken["text"] == "Not tonight."  # the edited line was approved with the script
    # A shot changed before it is drawn (the page's retake form at the storyboard gate).
    change = {"shot": board[0]["id"], "framing": "close_up", "angle": "low"}
    say(client, thread, "shot 1: close up, low", calls=[{"name": "change_shot", "args": change}])
    board = client.get(f"/api/threads/{thread}").json()["episode_view"]["storyboard"]
    assert board[0]["pending"] == {"framing": "close_up", "angle": "low"}
    assert client.get(f"/api/threads/{thread}").json()["stage"] == "storyboard"
    view = json.loads(json.dumps(episode_view(project, "ep01")))  # JSON as it is
    assert view["video"] is None and view["stage"] == "storyboard"


def test_an_interrupted_render_shows_as_rendering_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = Project.open(tmp_path / "series")
    with TestClient(create_app(project, length_s=8), base_url="http://127.0.0.1") as client:
        thread = new_thread(client)
        for text in (IDEA, "logline 1", "approve", "approve"):
            say(client, thread, text)
        assert client.get(f"/api/threads/{thread}").json()["stage"] == "storyboard"

    class Killed(Exception):
        pass

    def kill(node: str, update: Any, values: Any) -> None:
        if node == "mix_sound":
            raise Killed  # the server stopped before the episode was put together

    with pytest.raises(Killed):
        answer_review(project, "ep01", {"type": "approve"}, on_update=kill)

    with TestClient(create_app(project, length_s=8), base_url="http://127.0.0.1") as client:
        detail = client.get(f"/api/threads/{thread}").json()
        assert detail["stage"] == "rendering" and detail["waiting"] is False
        got = say(client, thread, "render")
        assert "Going on with episode ep01" in replies(got)[0]
        assert "is ready" in replies(got)[0]
        assert any(name == "progress" and d["kind"] == "delivered" for name, d in got)
        detail = client.get(f"/api/threads/{thread}").json()
        view = detail["episode_view"]
        assert detail["stage"] == "episode" and view["video"] == "episodes/ep01/episode.mp4"
        assert view["continuity"]["passed"] in (True, False)
        assert all(s["keyframe"] and s["continuity"] for s in view["storyboard"])
        video = client.get(f"/media/{view['video']}", headers={"Range": "bytes=0-99"})
        assert video.status_code == 206 and len(video.content) == 100
        assert video.headers["content-type"] == "video/mp4"


# ----------------------------------------------------------------------------- the command


def test_serve_refuses_a_taken_port_and_an_unusable_folder(tmp_path: Path) -> None:
    runner = CliRunner()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(cli_app, ["serve", "-o", str(tmp_path / "p"), "--port", str(port)])
    assert result.exit_code == 2 and f"port {port} on 127.0.0.1 is taken" in result.stderr
    afile = tmp_path / "afile"
    afile.write_text("x")
    result = runner.invoke(cli_app, ["serve", "-o", str(afile)])
    assert result.exit_code == 2 and "not a directory" in result.stderr
