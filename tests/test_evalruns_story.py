"""Evaluation runs: a dataset of ViStoryBench stories, run and exported in their layout."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from inkreel.cli import app

ROOT = Path(__file__).resolve().parent.parent


def test_a_story_dataset_runs_and_exports_in_vistorybench_layout(tmp_path: Path) -> None:
    """A story.json item keeps its shots; its keyframes go out one per story shot, in order."""
    story = json.loads(
        (ROOT / "evals" / "datasets" / "inkreel-12" / "01" / "story.json").read_text("utf-8")
    )
    story["Shots"] = story["Shots"][:3]
    story["inkreel"] = {**story.get("inkreel", {}), "length_s": 10}
    dataset = tmp_path / "stories"
    (dataset / "01").mkdir(parents=True)
    (dataset / "01" / "story.json").write_text(json.dumps(story), "utf-8")
    out = tmp_path / "run"
    args = ["eval", "run", str(dataset), "--out", str(out), "--plant", "script"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    cell = json.loads((out / "cells" / "default" / "01" / "cell.json").read_text("utf-8"))
    assert cell["status"] == "done" and len(cell["keyframes"]) == 3
    exported = tmp_path / "outputs"
    done = CliRunner().invoke(app, ["eval", "export", str(out), "--vistorybench", str(exported)])
    assert done.exit_code == 0, done.output
    shots = sorted(exported.glob("inkreel-default/stories/en/*/01/shots/shot_*.png"))
    assert [p.name for p in shots] == ["shot_01.png", "shot_02.png", "shot_03.png"]
    frames = [out / "cells" / "default" / "01" / k for k in cell["keyframes"]]
    assert [p.read_bytes() for p in shots] == [f.read_bytes() for f in frames]
    wrong = CliRunner().invoke(
        app, ["eval", "export", str(out), "--vistorybench", str(exported), "--config", "x"]
    )
    assert wrong.exit_code == 2 and "no configuration 'x'" in wrong.output
