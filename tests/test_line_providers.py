"""The line on routed providers: a fault drill, a hosted text model, budgets and secrets.

The hosted model is `tests/fake_openai.py`, a local OpenAI-compatible server driven through
the real `openai` / `langchain-openai` clients; no test touches the internet.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inkreel import cli
from inkreel.schemas import Manifest

from .conftest import IDEA
from .fake_openai import FakeOpenAI

runner = CliRunner()
SECRET = "sk-test-SECRET-123"
DELIVERED = {"episode_video", "subtitles", "screenplay", "storyboard_sheet"}


def produce(root: Path, *args: str, env: dict[str, str] | None = None):
    return runner.invoke(
        cli.app,
        ["produce", IDEA, "-o", str(root), "--length", "12", "--episode", "e1", *args],
        env={"INKREEL_RETRY_BASE_DELAY_S": "0", **(env or {})},
    )


def delivered_hashes(root: Path) -> dict[str, str]:
    manifest = Manifest.model_validate_json((root / "episodes/e1/manifest.json").read_text())
    return {a.kind: a.sha256 for a in manifest.artifacts if a.kind in DELIVERED}


def hosted_project(root: Path, base_url: str, price_in: float = 0.001) -> None:
    root.mkdir(parents=True)
    (root / "inkreel.toml").write_text(
        "[[models]]\n"
        'id = "local-llm"\ncapability = "text"\nprovider = "openai"\nmodel = "test-model"\n'
        f'base_url = "{base_url}"\napi_key_env = "LOCAL_LLM_KEY"\ntier = 3\n'
        'tasks = ["write", "design", "storyboard", "judge"]\n'
        f"price = {{ usd_per_1k_input_tokens = {price_in}, usd_per_1k_output_tokens = 0.002 }}\n"
    )


def test_fault_drill_survives_and_delivers_identical_files(tmp_path: Path) -> None:
    clean = produce(tmp_path / "clean")
    assert clean.exit_code == 0, clean.output
    drill = produce(
        tmp_path / "drill", env={"INKREEL_FAULT_RATE": "0.4", "INKREEL_FAULT_SEED": "7"}
    )
    assert drill.exit_code == 0, drill.output
    assert delivered_hashes(tmp_path / "drill") == delivered_hashes(tmp_path / "clean")
    run = json.loads((tmp_path / "drill/episodes/e1/run.json").read_text())
    assert sum(run["faults_survived"].values()) > 0
    assert any(c["outcome"] == "retried" for c in run["calls"])


def test_hosted_text_model_runs_the_episode_and_never_leaks_the_key(tmp_path: Path) -> None:
    root = tmp_path / "hosted"
    with FakeOpenAI() as server:
        hosted_project(root, server.base_url)
        result = produce(root, "--policy", "best", env={"LOCAL_LLM_KEY": SECRET})
        assert result.exit_code == 0, result.output
        chats = server.requests_to("chat")
    assert chats, "the hosted model was not called"
    assert all(r.headers.get("authorization") == f"Bearer {SECRET}" for r in chats)
    run = json.loads((root / "episodes/e1/run.json").read_text())
    text_calls = [c for c in run["calls"] if c["task"] in ("write", "design", "storyboard")]
    assert {c["model"] for c in text_calls} == {"local-llm"}
    others = {c["task"]: c["model"] for c in run["calls"] if c not in text_calls}
    assert others == {
        "keyframe": "offline-image",
        "voice": "offline-speech",
        "animate": "offline-video",
    }
    assert run["spent_usd"] > 0
    leaked = [p for p in root.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert leaked == [], f"the key was written to {leaked}"
    assert SECRET not in result.output


def test_budget_stops_cleanly_and_resume_does_not_pay_twice(tmp_path: Path) -> None:
    root = tmp_path / "budget"
    with FakeOpenAI() as server:
        hosted_project(root, server.base_url, price_in=0.05)
        env = {"LOCAL_LLM_KEY": SECRET}
        stopped = produce(root, "--policy", "best", "--budget", "0.05", env=env)
        assert stopped.exit_code == 2
        assert "Raise the episode cap" in stopped.stderr
        assert not (root / "episodes/e1/manifest.json").exists()
        paid_before = len(server.requests_to("chat"))
        resumed = runner.invoke(
            cli.app, ["resume", "-o", str(root), "--episode", "e1", "--budget", "100"], env=env
        )
        assert resumed.exit_code == 0, resumed.output
        calls = len(server.requests_to("chat"))
    run = json.loads((root / "episodes/e1/run.json").read_text())
    assert run["spent_usd"] <= 100
    # Every successful call is paid once: the resumed run asked only what the stop left.
    keys = [row["calls"] for row in run["cost_table"] if row["model"] == "local-llm"]
    assert sum(keys) == calls and calls > paid_before


def test_models_lists_the_roster(tmp_path: Path) -> None:
    result = runner.invoke(cli.app, ["models"])
    assert result.exit_code == 0
    assert "offline-text" in result.output and "gpt-4.1" in result.output


@pytest.mark.parametrize("flag", [["--model", "write=nope"], ["--policy", "cheapest"]])
def test_bad_model_choice_is_a_clear_error(tmp_path: Path, flag: list[str]) -> None:
    result = produce(tmp_path / "p", *flag)
    assert result.exit_code == 2 and "Traceback" not in result.output
