"""A bad provider setup is loud: a rejected key or an unreachable endpoint stops the run, or,
when a fallback is asked for, warns once per model and says in run.json who took its calls.

Through the real `openai` / `langchain-openai` clients against the local fake server, or
against a closed port of this machine.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inkreel import cli
from inkreel.settings import Settings

from .conftest import IDEA
from .fake_openai import FakeOpenAI

runner = CliRunner()
SECRET = "sk-test-WRONG-789"
TEXT_TASKS = {"write", "design", "storyboard"}


def hosted_project(root: Path, base_url: str, extra: str = "") -> None:
    root.mkdir(parents=True)
    (root / "inkreel.toml").write_text(
        extra + "[[models]]\n"
        'id = "local-llm"\ncapability = "text"\nprovider = "openai"\nmodel = "test-model"\n'
        f'base_url = "{base_url}"\napi_key_env = "LOCAL_LLM_KEY"\ntier = 3\n'
        'tasks = ["write", "design", "storyboard"]\n'
        "price = { usd_per_1k_input_tokens = 0.001, usd_per_1k_output_tokens = 0.002 }\n"
    )


def produce(root: Path, *args: str, env: dict[str, str] | None = None):
    args = ("--policy", "best", *args)
    return runner.invoke(
        cli.app,
        ["produce", IDEA, "-o", str(root), "--length", "12", "--episode", "e1", *args],
        env={"INKREEL_RETRY_BASE_DELAY_S": "0", "LOCAL_LLM_KEY": SECRET, **(env or {})},
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed on leaving: nothing listens there


def run_report(root: Path) -> dict:
    return json.loads((root / "episodes/e1/run.json").read_text())


@pytest.mark.parametrize("status", [401, 403])
def test_a_rejected_key_stops_the_run_with_exit_2(tmp_path: Path, status: int) -> None:
    root = tmp_path / "p"
    with FakeOpenAI() as server:
        hosted_project(root, server.base_url)
        for _ in range(200):
            server.fail("chat", status=status)
        result = produce(root)
        asked = len(server.requests_to("chat"))
    assert result.exit_code == 2, result.output
    message = result.stderr
    assert "'local-llm'" in message and "LOCAL_LLM_KEY" in message and f"HTTP {status}" in message
    assert SECRET not in result.output and "Traceback" not in result.output
    assert "resume" not in message  # resuming would stop the same way: fix the key first
    assert asked == 1  # not retried, not asked again by the other tasks
    assert not (root / "episodes/e1/manifest.json").exists()


def test_an_unreachable_endpoint_stops_the_run_after_three_attempts(tmp_path: Path) -> None:
    root = tmp_path / "p"
    url = f"http://127.0.0.1:{closed_port()}/v1"
    hosted_project(root, url)
    result = produce(root)
    assert result.exit_code == 2, result.output
    assert "'local-llm'" in result.stderr and "refused 3 connections in a row" in result.stderr
    assert url in result.stderr
    attempts = [c for c in run_report(root)["calls"] if c["model"] == "local-llm"]
    assert [c["error"] for c in attempts] == ["unreachable"] * 3


def test_fallback_always_warns_once_and_reports_who_took_the_calls(tmp_path: Path) -> None:
    root = tmp_path / "p"
    with FakeOpenAI() as server:
        hosted_project(root, server.base_url)
        for _ in range(200):
            server.fail("chat", status=401)
        result = produce(root, "--fallback", "always")
        asked = len(server.requests_to("chat"))
    assert result.exit_code == 0, result.output
    assert asked == 1
    warnings = [line for line in result.stderr.splitlines() if "warning:" in line]
    assert len(warnings) == 1 and "'local-llm'" in warnings[0] and "LOCAL_LLM_KEY" in warnings[0]
    run = run_report(root)
    hops = run["fallbacks"]
    assert {h["task"] for h in hops} == TEXT_TASKS
    assert {(h["from"], h["to"], h["why"]) for h in hops} == {
        ("local-llm", "offline-text", "API key rejected (HTTP 401)")
    }
    assert run["warnings"] == [warnings[0].split("warning: ", 1)[1]]
    assert "Fell back" in result.stdout and "local-llm -> offline-text" in result.stdout


def test_fallback_always_from_the_settings_file_and_the_environment(tmp_path: Path) -> None:
    (tmp_path / "inkreel.toml").write_text('fallback = "always"\n')
    assert Settings.load(tmp_path).fallback == "always"
    assert Settings.load(None).fallback == "on-error"
    root = tmp_path / "p"
    hosted_project(root, f"http://127.0.0.1:{closed_port()}/v1")
    result = produce(root, env={"INKREEL_FALLBACK": "always"})
    assert result.exit_code == 0, result.output
    run = run_report(root)
    attempts = [c for c in run["calls"] if c["model"] == "local-llm"]
    assert len(attempts) == 3  # then the endpoint is down for the rest of the run
    assert len([line for line in result.stderr.splitlines() if "warning:" in line]) == 1
    assert {h["to"] for h in run["fallbacks"]} == {"offline-text"}


def test_vendor_faults_that_were_recovered_from_are_counted(tmp_path: Path) -> None:
    root = tmp_path / "p"
    with FakeOpenAI() as server:
        hosted_project(root, server.base_url)
        server.fail("chat", status=500)
        server.fail("chat", status=429, headers={"retry-after": "0"})
        result = produce(root)
    assert result.exit_code == 0, result.output
    run = run_report(root)
    assert run["faults_survived"] == {"rate_limited": 1, "server_error": 1}
    assert run["faults_by_task"] == {"write": {"rate_limited": 1, "server_error": 1}}
    assert run["fallbacks"] == []
    assert "Faults survived" in result.stdout
