"""Bad input gets one clear message on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inkreel.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def assert_user_error(result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert ("Traceback" not in result.output and result.exception is None) or isinstance(
        result.exception, SystemExit
    )
    text = result.stderr
    assert "error" in text
    for needle in needles:
        assert needle in text, text


@pytest.mark.parametrize("idea", ["", "   ", "?!...", "\n\t"])
def test_empty_idea(tmp_path: Path, idea: str) -> None:
    assert_user_error(run("produce", idea, "-o", str(tmp_path / "p")), "idea is empty")
    assert not (tmp_path / "p").exists(), "nothing is created for a refused request"


def test_huge_idea(tmp_path: Path) -> None:
    assert_user_error(run("produce", "word " * 2000, "-o", str(tmp_path / "p")), "--script")


def test_non_utf8_idea(tmp_path: Path) -> None:
    undecodable = b"A cat \xff\xfe finds a hat".decode("utf-8", "surrogateescape")
    assert_user_error(run("produce", undecodable, "-o", str(tmp_path / "p")), "UTF-8")


def test_unknown_language(tmp_path: Path) -> None:
    assert_user_error(run("produce", "A cat.", "--lang", "xx", "-o", str(tmp_path)), "'xx'")


def test_idea_and_script_together_or_neither(tmp_path: Path) -> None:
    assert_user_error(run("produce", "-o", str(tmp_path / "p")), "one of an IDEA")


def test_missing_script(tmp_path: Path) -> None:
    assert_user_error(
        run("produce", "--script", str(tmp_path / "nope.fountain"), "-o", str(tmp_path / "p")),
        "nope.fountain",
    )


def test_binary_script(tmp_path: Path) -> None:
    path = tmp_path / "bin.fountain"
    path.write_bytes(bytes(range(256)) * 8)
    assert_user_error(run("produce", "--script", str(path), "-o", str(tmp_path / "p")))


def test_non_utf8_script(tmp_path: Path) -> None:
    path = tmp_path / "latin.fountain"
    path.write_bytes("INT. CAFÉ - DAY\n\nMARIE\nCafé crème, s'il vous plaît.\n".encode("latin-1"))
    assert_user_error(run("produce", "--script", str(path), "-o", str(tmp_path / "p")), "UTF-8")


def test_sceneless_script(tmp_path: Path) -> None:
    path = tmp_path / "empty.fountain"
    path.write_text("Just some words with no scene and nobody talking.\n", encoding="utf-8")
    assert_user_error(run("produce", "--script", str(path), "-o", str(tmp_path / "p")))


def test_output_path_that_is_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    assert_user_error(run("produce", "A cat finds a hat.", "-o", str(target)), "not a directory")


def test_output_path_under_a_file(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    assert_user_error(run("produce", "A cat finds a hat.", "-o", str(target / "sub")))


def test_project_from_an_incompatible_version(tmp_path: Path) -> None:
    root = tmp_path / "old"
    root.mkdir()
    (root / "inkreel-project.json").write_text(
        json.dumps({"project_format": 99, "inkreel_version": "9.0.0"})
    )
    assert_user_error(run("produce", "A cat finds a hat.", "-o", str(root)), "9.0.0")


def test_unknown_model(tmp_path: Path) -> None:
    assert_user_error(
        run("produce", "A cat finds a hat.", "--text-model", "gpt-nope", "-o", str(tmp_path / "p")),
        "gpt-nope",
    )


def test_bad_episode_name(tmp_path: Path) -> None:
    assert_user_error(run("produce", "A cat.", "--episode", "../escape", "-o", str(tmp_path)))


def test_resume_unknown_episode(tmp_path: Path) -> None:
    assert_user_error(
        run("resume", "-o", str(tmp_path / "none"), "--episode", "ep01"), "not an inkreel project"
    )
