"""Settings precedence: flags > environment > inkreel.toml > defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from inkreel.project import Project
from inkreel.settings import Settings


def test_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "inkreel.toml").write_text("music = false\ncontinuity_max_attempts = 4\n")
    assert Settings.load(tmp_path).continuity_max_attempts == 4
    monkeypatch.setenv("INKREEL_CONTINUITY_MAX_ATTEMPTS", "5")
    assert Settings.load(tmp_path).continuity_max_attempts == 5
    flagged = Settings.load(tmp_path, continuity_max_attempts=2, text_model=None)
    assert flagged.continuity_max_attempts == 2 and flagged.music is False
    assert Settings.load(None).music is True


def test_a_folder_with_only_settings_becomes_a_project(tmp_path: Path) -> None:
    (tmp_path / "inkreel.toml").write_text("music = false\n")
    project = Project.open(tmp_path)
    assert (project.root / "inkreel-project.json").exists()
