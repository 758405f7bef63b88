"""`inkreel check` on storyboards made elsewhere, and the documented schema it reads."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

from typer.testing import CliRunner

from inkreel import cli

runner = CliRunner()
DATA = Path(__file__).parent / "data"
DOCS = Path(__file__).parent.parent / "docs"


def test_a_storyboard_made_elsewhere_is_checked_without_images_or_script(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = runner.invoke(
        cli.app, ["check", str(DATA / "storyboard_elsewhere.json"), "--json", str(report)]
    )
    assert result.exit_code == 1, result.output  # findings are errors: exit 1, like a linter
    found = json.loads(report.read_text())
    checks = {f["check"] for f in found["findings"]}
    assert "line_crossed" in checks
    crossed = next(f for f in found["findings"] if f["check"] == "line_crossed")
    assert crossed["shot_id"] == "s01-002" and crossed["agent"] == "director"
    assert any("script checks skipped" in n for n in found["notes"])
    assert any("image checks skipped" in n for n in found["notes"])


def test_warnings_alone_do_not_fail_the_check(tmp_path: Path) -> None:
    board = json.loads((DATA / "storyboard_elsewhere.json").read_text())
    board["shots"][1]["camera"]["reverse"] = False
    for b, x in zip(board["shots"][1]["blocking"], (0.3, 0.7), strict=True):
        b["screen_x"] = x
    path = tmp_path / "clean.json"
    path.write_text(json.dumps(board))
    report = tmp_path / "report.json"
    args = ["check", str(path), "--level", "storyboard", "--json", str(report)]
    result = runner.invoke(cli.app, args)
    assert result.exit_code == 0, result.output
    # Same side of the line now, but the same framing of the same pair: a jump cut (warning).
    found = json.loads(report.read_text())["findings"]
    assert [(f["check"], f["severity"]) for f in found] == [("jump_cut", "warning")]
    board["shots"][1]["framing"] = "close_up"
    board["shots"][1]["blocking"] = board["shots"][1]["blocking"][:1]
    path.write_text(json.dumps(board))
    clean = runner.invoke(cli.app, ["check", str(path), "--level", "storyboard"])
    assert clean.exit_code == 0 and "No continuity findings" in clean.output, clean.output


def test_bad_storyboards_get_one_clear_message(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"shots": [')
    latin = tmp_path / "latin.json"
    latin.write_bytes('{"shots": [], "note": "caf\xe9"}'.encode("latin-1"))
    for path, words in [
        (broken, "is not a storyboard JSON file"),
        (latin, "is not UTF-8"),
        (tmp_path / "missing.json", "does not exist"),
    ]:
        result = runner.invoke(cli.app, ["check", str(path)])
        assert result.exit_code == 2 and words in result.stderr, result.output
    bad_level = runner.invoke(
        cli.app, ["check", str(DATA / "storyboard_elsewhere.json"), "--level", "vibes"]
    )
    assert bad_level.exit_code == 2 and "unknown level" in bad_level.stderr


def test_the_documented_schema_is_current() -> None:
    made = runpy.run_path(str(DOCS / "make_schema.py"))
    assert (DOCS / "storyboard-schema.json").read_text(encoding="utf-8") == made["schema_text"](), (
        "docs/storyboard-schema.json is stale: run python docs/make_schema.py"
    )
