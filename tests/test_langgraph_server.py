"""The graph of langgraph.json under LangGraph's own dev server (`langgraph dev`), driven
through langgraph-sdk as any client would: plain JSON input and context, streamed events,
the finished state read back from the thread, review gates answered with a resume command."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.client import SyncLangGraphClient
from typer.testing import CliRunner

from inkreel import cli
from inkreel.remote import thread_id, thread_metadata
from tests.conftest import IDEA, SMALL_FRAMES

# The server is Elastic-2.0 licensed, so it is an optional extra, not a core dependency.
pytest.importorskip("langgraph_api", reason="needs the server extra: pip install -e '.[server]'")

ROOT = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).with_name("langgraph")
# Server start-up imports the whole stack and the graph; generous for a busy machine.
STARTUP_S = 120.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(where: Path) -> Path:
    """The repository's langgraph.json with its paths made absolute, so the server can run
    from a scratch directory (it keeps its .langgraph_api/ store in the working directory)."""
    config = json.loads((ROOT / "langgraph.json").read_text(encoding="utf-8"))
    config["dependencies"] = [str((ROOT / d).resolve()) for d in config["dependencies"]]
    graphs = {}
    for name, spec in config["graphs"].items():
        path, variable = spec.rsplit(":", 1)
        graphs[name] = f"{(ROOT / path).resolve()}:{variable}"
    config["graphs"] = graphs
    file = where / "langgraph.json"
    file.write_text(json.dumps(config), encoding="utf-8")
    return file


def _server_env() -> dict[str, str]:
    # Offline, whatever the developer's shell sets: no inkreel overrides but the suite's small
    # frames, no tracing, no analytics or version check calling out.
    env = {k: v for k, v in os.environ.items() if not k.startswith("INKREEL_")}
    env.update(
        SMALL_FRAMES,
        LANGGRAPH_CLI_NO_ANALYTICS="1",
        LANGGRAPH_NO_VERSION_CHECK="true",
        LANGSMITH_TRACING="false",
        LANGCHAIN_TRACING_V2="false",
        # The server's checkpointer does not know our models: strict, it gives them back as
        # plain dicts on resume (the coming default), so the graph must read state as JSON.
        LANGGRAPH_STRICT_MSGPACK="true",
    )
    return env


def _tail(log: Path, lines: int = 60) -> str:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True)
class Server:
    url: str
    log: Path

    def client(self) -> SyncLangGraphClient:
        # api_key=None: send no key from the environment to a local server that needs none.
        return get_sync_client(url=self.url, api_key=None)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not CLI.exists():
        pytest.skip(f"no langgraph CLI at {CLI}: pip install -e '.[server]'")
    where = tmp_path_factory.mktemp("langgraph-dev")
    config = _config(where)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = where / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(CLI),
                "dev",
                "--config",
                str(config),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-browser",
                "--no-reload",
                "--server-log-level",
                "INFO",
            ],
            cwd=where,
            env=_server_env(),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"langgraph dev exited ({proc.returncode}):\n{_tail(log)}")
            try:
                if httpx.get(f"{url}/ok", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"langgraph dev did not answer in {STARTUP_S:.0f}s:\n{_tail(log)}")
            time.sleep(0.25)
        yield Server(url, log)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def test_server_lists_the_episode_graph_with_its_schemas(server: Server) -> None:
    client = server.client()
    assistants = client.assistants.search(graph_id="episode")
    assert assistants, f"no assistant for the episode graph:\n{_tail(server.log)}"
    schemas = client.assistants.get_schemas(assistants[0]["assistant_id"])

    assert schemas["input_schema"] is not None
    assert schemas["output_schema"] is not None
    assert schemas["context_schema"] is not None
    assert "request" in schemas["input_schema"]["properties"]
    assert "outputs" in schemas["output_schema"]["properties"]
    assert set(schemas["context_schema"]["required"]) == {"project", "episode"}


def test_server_runs_an_idea_into_an_episode(server: Server, tmp_path: Path) -> None:
    client = server.client()
    project = tmp_path / "proj"
    thread = client.threads.create()
    request = {"episode": "ep01", "idea": IDEA, "length_s": 15, "language": "en", "seed": 0}

    events: list[dict[str, Any]] = []
    updated: set[str] = set()
    errors: list[Any] = []
    for part in client.runs.stream(
        thread["thread_id"],
        "episode",
        input={"request": request},
        context={"project": str(project), "episode": "ep01"},
        stream_mode=["custom", "updates"],
    ):
        if part.event == "custom":
            events.append(part.data)
        elif part.event == "updates":
            updated.update(part.data)
        elif part.event == "error":
            errors.append(part.data)
    assert not errors, f"the run failed: {errors}\n{_tail(server.log)}"
    assert [r["status"] for r in client.runs.list(thread["thread_id"])] == ["success"]

    kinds = {e["event"] for e in events}
    assert {"take", "keyframe", "segment", "delivered"} <= kinds, kinds
    assert {"write_script", "design_cast", "render_keyframe", "assemble_episode"} <= updated

    values = client.threads.get_state(thread["thread_id"])["values"]
    outputs = values["outputs"]
    assert outputs["video"] == "episodes/ep01/episode.mp4"
    for kind, path in outputs.items():
        assert not Path(path).is_absolute(), (kind, path)
        assert (project / path).is_file(), (kind, path)
    assert (project / outputs["video"]).stat().st_size > 0


def _first_line(script: dict[str, Any]) -> str:
    """The words of the script's first line of dialogue (Script JSON)."""
    return next(
        beat["text"]
        for scene in script["scenes"]
        for beat in scene["beats"]
        if beat["kind"] == "dialogue"
    )


def _waiting_at(client: SyncLangGraphClient, thread_id: str) -> dict[str, Any]:
    """The review request the thread waits on, as the SDK shows it: one interrupt, the same
    in the thread's `interrupts` and in its pending task's."""
    state = client.threads.get_state(thread_id)
    tasks = [t for t in state["tasks"] if t["interrupts"]]
    assert len(tasks) == 1 and len(state["interrupts"]) == 1, state["tasks"]
    assert tasks[0]["interrupts"] == state["interrupts"]
    assert client.threads.get(thread_id)["status"] == "interrupted"
    return dict(state["interrupts"][0]["value"])


def test_server_waits_at_review_gates_and_resumes_with_decisions(
    server: Server, tmp_path: Path
) -> None:
    client = server.client()
    project = tmp_path / "proj"
    context = {"project": str(project), "episode": "ep01"}
    thread_id = client.threads.create()["thread_id"]
    request = {
        "episode": "ep01",
        "idea": IDEA,
        "length_s": 15,
        "language": "en",
        "seed": 0,
        "review": ["script", "storyboard"],
    }

    def run(**how: Any) -> dict[str, Any]:
        try:
            result = client.runs.wait(thread_id, "episode", context=context, **how)
        except Exception as exc:  # the SDK raises a bare Exception for a failed run
            pytest.fail(f"the run failed: {exc}\n{_tail(server.log)}")
        assert isinstance(result, dict)
        return result

    waiting = run(input={"request": request})
    asked = _waiting_at(client, thread_id)
    assert [i["value"] for i in waiting["__interrupt__"]] == [asked]
    assert asked["gate"] == "script" and asked["problem"] is None
    assert asked["review_configs"] == [
        {"action_name": "review_script", "allowed_decisions": ["approve", "edit", "reject"]}
    ]
    [action] = asked["action_requests"]
    assert action["name"] == "review_script" and action["description"]
    values = client.threads.get_state(thread_id)["values"]
    assert not values.get("cast")  # nothing is designed before the script is approved

    # The writer changes a line in the Fountain text.
    text = action["args"]["fountain"]
    line = _first_line(action["args"]["script"])
    mine = "I kept your letter under the lamp for nine winters."
    assert line in text
    edit = {
        "type": "edit",
        "edited_action": {
            "name": "review_script",
            "args": {"fountain": text.replace(line, mine, 1)},
        },
    }
    run(command={"resume": {"decisions": [edit]}})

    asked = _waiting_at(client, thread_id)
    assert asked["gate"] == "storyboard" and asked["problem"] is None, asked
    values = client.threads.get_state(thread_id)["values"]
    assert _first_line(values["script"]) == mine
    assert not values.get("keyframes")  # nothing drawn before the storyboard is approved

    # A shot changed by a plain JSON state update, as if the director had planned it: the
    # gate asks again and shows the shot read back as the model.
    shots = asked["action_requests"][0]["args"]["shots"]
    shot = next(s for s in shots if s["framing"] in ("medium", "wide", "two_shot"))
    client.threads.update_state(
        thread_id,
        {"shots": {shot["id"]: {**shot, "framing": "close_up"}}},
        as_node="plan_storyboard",
    )
    run(input=None)
    asked = _waiting_at(client, thread_id)
    assert asked["gate"] == "storyboard", asked
    shown = {s["id"]: s for s in asked["action_requests"][0]["args"]["shots"]}
    assert shown[shot["id"]] == {**shot, "framing": "close_up"}

    run(command={"resume": {"decisions": [{"type": "approve"}]}})
    state = client.threads.get_state(thread_id)
    assert not state["interrupts"] and not state["next"]
    assert [r["status"] for r in client.runs.list(thread_id)] == ["success"] * 4
    values = state["values"]
    assert values["shots"][shot["id"]]["framing"] == "close_up"
    assert [(r["gate"], r["decision"]) for r in values["reviews"]] == [
        ("script", "edit"),
        ("storyboard", "approve"),
    ]
    assert values["outputs"]["video"] == "episodes/ep01/episode.mp4"
    for kind, path in values["outputs"].items():
        assert (project / path).is_file(), (kind, path)
    screenplay = project / "episodes" / "ep01" / "script.fountain"
    assert mine in screenplay.read_text(encoding="utf-8")


def test_the_cli_and_the_sdk_share_an_episodes_thread(server: Server, tmp_path: Path) -> None:
    """A run started from the CLI on the server is seen and answered through the SDK, and a
    thread the SDK made for a project's episode is reviewed and retaken from the CLI."""
    runner = CliRunner()
    client = server.client()
    project = tmp_path / "proj"

    def inkreel(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli.app, [*args, "-o", str(project), "--server", server.url])
        return result.exit_code, result.output

    # The CLI starts the run on the server; it stops at the script gate.
    code, out = inkreel(
        "produce", IDEA, "--episode", "ep01", "--length", "12", "--review", "script"
    )
    assert code == 0 and "waiting at the script gate" in out, out
    ep01 = thread_id(project, "ep01")
    assert (
        client.threads.get(ep01)["metadata"] | thread_metadata(project, "ep01")
        == (client.threads.get(ep01)["metadata"])
    )
    # The SDK answers it, as any LangGraph client would.
    client.runs.wait(
        ep01,
        "episode",
        context={"project": str(project), "episode": "ep01"},
        command={"resume": {"decisions": [{"type": "approve"}]}},
    )
    assert (project / "episodes/ep01/manifest.json").is_file()

    # The SDK starts ep02 on a thread of its own id, named for the project and episode ...
    thread = client.threads.create(metadata=thread_metadata(project, "ep02"))["thread_id"]
    request = {"episode": "ep02", "idea": IDEA, "length_s": 12, "review": ["cut"]}
    client.runs.wait(
        thread,
        "episode",
        input={"request": request},
        context={"project": str(project), "episode": "ep02"},
    )
    # ... and the CLI finds it, shows its gate, retakes a shot and approves the cut.
    code, out = inkreel("review", "--episode", "ep02")
    assert code == 0 and "cut gate" in out, out
    shot = client.threads.get_state(thread)["values"]["shot_order"][1]
    code, out = inkreel("retake", "--episode", "ep02", "--shot", shot, "--angle", "low")
    assert code == 0 and "waiting at the cut gate" in out, out
    code, out = inkreel("approve", "--episode", "ep02")
    assert code == 0 and "Runtime" in out, out
    values = client.threads.get_state(thread)["values"]
    assert values["shots"][shot]["angle"] == "low"
    code, out = inkreel("status", "--episode", "ep02")
    assert code == 0 and "0 stale, 0 missing" in out, out
    code, out = inkreel("review", "--episode", "ep09")
    assert code == 2 and "has no thread for episode 'ep09'" in out, out
