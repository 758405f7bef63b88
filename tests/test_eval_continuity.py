"""The planted-defect evaluation on a small seeded set (the full set is a benchmark)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inkreel import cli

runner = CliRunner()
IDEA3 = "Rosa, Tam and Bo run a noodle stall during a storm."


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("eval") / "series"
    args = ["produce", IDEA3, "-o", str(root), "--length", "20", "--seed", "2"]
    result = runner.invoke(cli.app, args)
    assert result.exit_code == 0, result.output
    return root


def test_eval_continuity_meets_its_targets_on_a_seeded_set(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval"
    result = runner.invoke(
        cli.app,
        ["eval", "continuity", str(project), "--seed", "5", "--cases", "1", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert summary["seed"] == 5
    planted = [r for r in rows if r["defect"] is not None]
    assert {r["level"] for r in planted} == {"script", "storyboard", "image"}
    assert len({r["defect"] for r in planted}) >= 9  # at least nine of the ten types planted
    assert all(r["defect"] is None or r["planted_shots"] or r["planted_scene"] for r in rows)
    for level, data in summary["levels"].items():
        assert data["overall"]["meets_target"], (level, data["overall"])
        assert data["overall"]["controls"] > 0
    # Same seed, same cases.
    again = tmp_path / "again"
    runner.invoke(
        cli.app,
        ["eval", "continuity", str(project), "--seed", "5", "--cases", "1", "--out", str(again)],
    )
    strip = lambda rs: [{k: v for k, v in r.items() if k != "seconds"} for r in rs]  # noqa: E731
    rows2 = [json.loads(line) for line in (again / "results.jsonl").read_text().splitlines()]
    assert strip(rows2) == strip(rows)


def test_eval_needs_produced_episodes(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = runner.invoke(cli.app, ["eval", "continuity", str(tmp_path / "empty")])
    assert result.exit_code == 2 and "is not an inkreel project" in result.stderr
