"""The review gates, retakes and status from the command line, as a writer uses them."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from inkreel import cli

from .conftest import IDEA

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(cli.app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_a_writer_steers_an_episode_from_the_command_line(tmp_path: Path) -> None:
    root = str(tmp_path / "p")
    where = ["-o", root, "--episode", "ep01"]
    code, out, _ = invoke("produce", IDEA, *where, "--length", "12", "--review", "script,cut")
    assert code == 0 and "waiting at the script gate" in out and "inkreel approve" in out
    assert not (tmp_path / "p/episodes/ep01/manifest.json").exists()

    code, out, _ = invoke("review", *where, "--json")
    asked = json.loads(out)
    fountain = asked["action_requests"][0]["args"]["fountain"]
    code, out, _ = invoke("review", *where)
    assert code == 0 and "script gate" in out and "INT." in out

    broken = tmp_path / "broken.fountain"
    broken.write_text("   \n", encoding="utf-8")
    code, out, err = invoke("edit", *where, "--script", str(broken))
    assert code == 0 and "not used" in err and "empty" in err  # asked again, nothing run
    assert "waiting at the script gate" in out

    mine = tmp_path / "mine.fountain"
    beats = [
        b for sc in asked["action_requests"][0]["args"]["script"]["scenes"] for b in sc["beats"]
    ]
    line = next(b["text"] for b in beats if b["kind"] == "dialogue")
    mine.write_text(fountain.replace(line, "I kept it for nine winters.", 1), encoding="utf-8")
    code, out, _ = invoke("edit", *where, "--script", str(mine))
    assert code == 0 and "waiting at the cut gate" in out

    code, out, _ = invoke("retake", *where, "--shot", "s99-001", "--angle", "low")
    assert code == 2
    code, out, _ = invoke("retake", *where, "--shot", "s01-002", "--framing", "close_up")
    assert code == 0 and "waiting at the cut gate" in out
    code, out, _ = invoke("approve", *where)
    assert code == 0 and "Runtime" in out  # the summary: the episode is done
    assert "nine winters" in (tmp_path / "p/episodes/ep01/script.fountain").read_text()

    code, out, _ = invoke("status", *where)
    assert code == 0 and "0 stale, 0 missing" in out
    code, _, err = invoke("approve", *where)
    assert code == 2 and "not waiting at a review gate" in err
    code, _, err = invoke("produce", IDEA, "-o", root, "--review", "script,art")
    assert code == 2 and "--review art: not a gate" in err


def test_a_run_that_reaches_the_cut_gate_says_so(tmp_path: Path) -> None:
    """The cut gate comes after the files are delivered: the run still waits there."""
    root = str(tmp_path / "p")
    code, out, _ = invoke("produce", IDEA, "-o", root, "--length", "10", "--review", "cut")
    assert code == 0 and "waiting at the cut gate" in out and "Runtime" not in out
