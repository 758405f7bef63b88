"""The repair loop end to end: an image model that drifts is caught and its shots redrawn."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from inkreel import cli
from inkreel.schemas import CheckedTake, ContinuityReport, Keyframe, Shot

from .conftest import IDEA

runner = CliRunner()


def drifting_episode(root: Path, max_attempts: int) -> tuple[Any, Path, ContinuityReport]:
    """A 16 s episode made at drift rate 1: the CLI result, its folder and its report."""
    env = {"INKREEL_DRIFT_RATE": "1", "INKREEL_DRIFT_SEED": "3"}
    args = ["produce", IDEA, "-o", str(root), "--length", "16", "--episode", "e1"]
    result = runner.invoke(cli.app, [*args, "--max-attempts", str(max_attempts)], env=env)
    assert result.exit_code == 0, result.output
    folder = root / "episodes/e1"
    report = ContinuityReport.model_validate_json((folder / "continuity.json").read_text())
    return result, folder, report


def test_drifting_keyframes_are_caught_and_repaired_within_the_limit(tmp_path: Path) -> None:
    """At drift rate 1 the first script draft, every first reference sheet and every first
    keyframe take come out with a defect; each is sent to its agent and repaired."""
    root = tmp_path / "drift"
    result, folder, report = drifting_episode(root, max_attempts=2)
    assert report.passed and report.findings == []
    repaired = [s for s in report.shots if s.status == "repaired"]
    # Every first take drifted (where the shot had something to get wrong); the checker
    # caught each one, and the second take, drawn clean, passed. (A shot that failed only
    # against a drifted sheet passes on its first take once the sheet is redrawn.)
    assert len(repaired) >= len(report.shots) // 2
    assert any(o.attempts == 2 for o in repaired)
    for outcome in repaired:
        assert outcome.attempts in (1, 2) and outcome.findings_first >= 1
        assert outcome.score_before is not None and outcome.score_before < 1.0
        assert outcome.score_after == 1.0
    kinds = {f.check for f in report.history}
    assert len(kinds) >= 2, kinds  # several kinds of drift, each caught by its own check
    # The screenwriter rewrote the scene its draft got wrong, before anything was designed.
    assert report.script is not None and report.script.status == "repaired"
    assert report.script.attempts == 2 and len(report.script.scenes_revised) == 1
    assert {f.agent for f in report.history if f.level == "script"} == {"screenwriter"}
    # Each character's first sheet was off its design: the keyframes, drawn to the design,
    # did not match it; the designer redrew the sheet once and the shots then matched it.
    designer = [f for f in report.history if f.agent == "character_designer"]
    blamed = {str(f.evidence["character"]) for f in designer}
    assert all(f.evidence.get("sheet_off_design") for f in designer)
    assert blamed and report.sheets_redrawn == dict.fromkeys(sorted(blamed), 1)
    sheets = list((root / "assets/characters").rglob("turnaround-front.png"))
    assert len(sheets) == 2 * len(report.sheets_redrawn)  # the drifted one is kept apart
    for name in report.sheets_redrawn:
        assert f"continuity: redrew {name}'s sheet" in result.output
    assert f"continuity: rewrote scene {report.script.scenes_revised[0]}" in result.output
    # The delivered storyboard holds the repaired takes: checking it again finds nothing.
    check = runner.invoke(cli.app, ["check", str(folder / "storyboard.json")])
    assert check.exit_code == 0, check.output


def test_at_the_limit_every_drift_is_flagged_for_a_human(tmp_path: Path) -> None:
    """One attempt: nothing is redone, and the report says what a human must look at."""
    result, _, report = drifting_episode(tmp_path / "limit", max_attempts=1)
    assert not report.passed and report.sheets_redrawn == {}
    assert report.script is not None and report.script.status == "flagged"
    assert report.script.findings and report.script.attempts == 1
    assert report.findings[: len(report.script.findings)] == report.script.findings
    # The drill never draws more sheets or keyframes off in a row than the line can redo,
    # so with one attempt they come out clean; the script's first draft drifts regardless.
    assert all(s.attempts == 1 and s.status == "passed" for s in report.shots)
    scenes = {f.scene for f in report.script.findings}
    assert f"flagged: script scene {scenes.pop()}" in " ".join(result.output.split())


def test_the_best_take_is_remembered() -> None:
    board = json.loads((Path(__file__).parent / "data/storyboard_elsewhere.json").read_text())
    shot = Shot.model_validate(board["shots"][0])
    frame = Keyframe(shot_id=shot.id, path="a.png")
    first = CheckedTake(shot=shot, keyframe=frame, score=0.4).remember()
    better = CheckedTake(shot=shot, keyframe=frame, score=0.9, first=first.first, best=first.best)
    worse = CheckedTake(shot=shot, keyframe=frame, score=0.1, first=first.first)
    kept = better.remember()
    assert kept.first == 0.4 and kept.best is not None and kept.best.score == 0.9
    later = worse.model_copy(update={"best": kept.best}).remember()
    assert later.best is not None and later.best.score == 0.9 and later.first == 0.4
