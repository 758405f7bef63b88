"""`inkreel estimate`: an episode's expected cost from its shape, before any model call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inkreel import cli
from inkreel.estimate import draft_script, planned_calls, shape_of
from inkreel.providers.budget import estimate
from inkreel.providers.roster import Roster
from inkreel.providers.router import Router

from .conftest import IDEA

runner = CliRunner()


def test_shape_counts_the_script() -> None:
    script = draft_script(IDEA, 30, "en", 0)
    shape = shape_of(script, 30)
    beats = [b for s in script.scenes for b in s.beats]
    lines = [b for b in beats if b.kind == "dialogue"]
    assert shape.scenes == len(script.scenes) and shape.beats == len(beats)
    assert shape.lines == len(lines) and shape.line_chars == sum(len(b.text) for b in lines)
    assert shape.seconds >= 30


def test_pinned_hosted_models_are_priced_per_unit() -> None:
    roster = Roster.default()
    keys = {"OPENAI_API_KEY": "k", "ARK_API_KEY": "k"}
    pins = {"keyframe": "gpt-image-1", "voice": "tts-1", "animate": "seedance-2.0"}
    router = Router(roster, "balanced", pins, keys)  # type: ignore[arg-type]
    shape = shape_of(draft_script(IDEA, 60, "en", 0), 60)
    report = estimate(planned_calls(shape, written=False, animate=True), roster, router)
    by_task = {line.task: line for line in report.lines}
    assert by_task["keyframe"].calls == shape.beats
    assert by_task["keyframe"].usd == pytest.approx(0.063 * shape.beats)
    assert by_task["voice"].usd == pytest.approx(0.015 * shape.line_chars / 1000)
    seconds = by_task["animate"].units["video_seconds"]
    assert by_task["animate"].usd == pytest.approx(0.054 * seconds)
    assert report.total_usd == pytest.approx(sum(line.usd for line in report.lines))


def test_estimate_needs_no_key_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    result = runner.invoke(
        cli.app, ["estimate", IDEA, "--image-model", "gpt-image-1", "--budget", "0.01"]
    )
    assert result.exit_code == 0, result.output
    assert "gpt-image-1" in result.output and "does NOT fit" in result.output
    assert "OPENAI_API_KEY" in result.output
    bad = runner.invoke(cli.app, ["estimate", IDEA, "--model", "write=nope"])
    assert bad.exit_code == 2 and "no such model" in bad.output


def test_estimated_calls_match_a_real_run(tmp_path: Path) -> None:
    """The offline line's own calls, counted by its ledger, against the estimate's counts."""
    root = tmp_path / "p"
    result = runner.invoke(
        cli.app, ["produce", IDEA, "-o", str(root), "--length", "20", "--episode", "e1"]
    )
    assert result.exit_code == 0, result.output
    run = json.loads((root / "episodes/e1/run.json").read_text())
    made: dict[str, int] = {}
    for call in run["calls"]:
        if call["outcome"] == "ok":
            made[call["task"]] = made.get(call["task"], 0) + 1
    shape = shape_of(draft_script(IDEA, 20, "en", 0), 20)
    planned = {c.task: c.count for c in planned_calls(shape, written=False, animate=True)}
    assert planned["write"] == made["write"]
    assert planned["storyboard"] == made["storyboard"]
    assert planned["voice"] == made["voice"]
    # Designs are asked once per character and location; keyframes once per shot, and the
    # continuity loop may redraw a few: the estimate is within 25 % of what was drawn.
    assert planned["design"] == made["design"]
    assert abs(planned["keyframe"] - made["keyframe"]) <= 0.25 * made["keyframe"]
