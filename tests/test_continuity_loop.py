"""The repair loop end to end: an image model that drifts is caught and its shots redrawn."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from inkreel import cli
from inkreel.schemas import CheckedTake, ContinuityReport, Keyframe, Shot

from .conftest import IDEA

runner = CliRunner()


def test_drifting_keyframes_are_caught_and_repaired_within_the_limit(tmp_path: Path) -> None:
    root = tmp_path / "drift"
    env = {"INKREEL_DRIFT_RATE": "1", "INKREEL_DRIFT_SEED": "3"}
    args = ["produce", IDEA, "-o", str(root), "--length", "16", "--episode", "e1"]
    result = runner.invoke(cli.app, [*args, "--max-attempts", "2"], env=env)
    assert result.exit_code == 0, result.output
    folder = root / "episodes/e1"
    report = ContinuityReport.model_validate_json((folder / "continuity.json").read_text())
    assert report.passed and report.findings == []
    repaired = [s for s in report.shots if s.status == "repaired"]
    # Every first take drifted (where the shot had something to get wrong); the checker
    # caught each one, and the second take, drawn clean, passed.
    assert len(repaired) >= len(report.shots) // 2
    for outcome in repaired:
        assert outcome.attempts == 2 and outcome.findings_first >= 1
        assert outcome.score_before is not None and outcome.score_before < 1.0
        assert outcome.score_after == 1.0
    kinds = {f.check for f in report.history}
    assert len(kinds) >= 2, kinds  # several kinds of drift, each caught by its own check
    # The delivered storyboard holds the repaired takes: checking it again finds nothing.
    check = runner.invoke(cli.app, ["check", str(folder / "storyboard.json")])
    assert check.exit_code == 0, check.output


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
