"""Planted script and storyboard defects: localised, deterministic, and found by the checks."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from inkreel.checks import DEFECT_TYPES, Bundle
from inkreel.checks import script as script_checks
from inkreel.checks import storyboard as storyboard_checks
from inkreel.drills.text_defects import LEVEL_TYPES, plant_text
from inkreel.schemas import Finding, StoryboardFile

from .test_checks_storyboard import IDEA, TRIO_IDEA, offline_board

DETECTS = {**script_checks.DETECTS, **storyboard_checks.DETECTS}
CASES = [(level, defect) for level, types in LEVEL_TYPES.items() for defect in types]


@pytest.fixture(scope="module")
def trio() -> StoryboardFile:
    return offline_board(TRIO_IDEA, 75, 2)


@pytest.fixture(scope="module")
def duo() -> StoryboardFile:
    return offline_board(IDEA, 30, 1)


def findings(board: StoryboardFile) -> list[Finding]:
    bundle = Bundle(board, root=Path("."))
    return script_checks.check_script(bundle) + storyboard_checks.check_storyboard(bundle)


def test_level_types_are_defect_types() -> None:
    assert set(LEVEL_TYPES) == {"script", "storyboard"}
    assert {d for _, d in CASES} <= set(DEFECT_TYPES)
    assert {"line_flip", "eyeline_mismatch", "extra_character"} <= set(LEVEL_TYPES["storyboard"])
    assert {"prop_vanishes", "outfit_swap", "day_night"} <= set(LEVEL_TYPES["script"])


@pytest.mark.parametrize(("level", "defect"), CASES)
def test_planted_defect_is_found_where_it_was_planted(
    trio: StoryboardFile, level: str, defect: str
) -> None:
    assert findings(trio) == []
    before = trio.model_dump_json()
    for seed in range(3):
        planted = plant_text(trio, defect, level, random.Random(seed))
        assert planted is not None
        board, truth = planted
        assert trio.model_dump_json() == before, "the original must be left alone"
        assert (truth.defect, truth.level) == (defect, level) and truth.shots
        found = findings(board)
        assert found, truth.description
        for f in found:
            assert defect in DETECTS[f.check], (f.check, truth.description)
            assert f.scene == truth.scene
            assert f.shot_id in truth.shots or set(f.shots) & set(truth.shots)


def test_storyboard_plants_change_only_the_planted_shot(trio: StoryboardFile) -> None:
    for defect in LEVEL_TYPES["storyboard"]:
        planted = plant_text(trio, defect, "storyboard", random.Random(5))
        assert planted is not None
        board, truth = planted
        assert board.script == trio.script
        changed = [a.id for a, b in zip(trio.shots, board.shots, strict=True) if a != b]
        assert changed == truth.shots, defect


def test_script_plants_leave_the_shots_alone(trio: StoryboardFile) -> None:
    for defect in LEVEL_TYPES["script"]:
        planted = plant_text(trio, defect, "script", random.Random(5))
        assert planted is not None
        board, truth = planted
        assert board.shots == trio.shots and board.script != trio.script, defect
        assert trio.script is not None and board.script is not None
        changed = [
            a.number for a, b in zip(trio.script.scenes, board.script.scenes, strict=True) if a != b
        ]
        assert changed == [truth.scene], defect


def test_planting_is_deterministic(trio: StoryboardFile) -> None:
    for level, defect in CASES:
        a = plant_text(trio, defect, level, random.Random(11))
        b = plant_text(trio, defect, level, random.Random(11))
        assert a is not None and b is not None
        assert a[1] == b[1] and a[0] == b[0]


def test_no_room_means_none_and_unknown_types_are_refused(duo: StoryboardFile) -> None:
    # Two characters in every scene: nobody is elsewhere to speak or to wander in.
    assert plant_text(duo, "extra_character", "storyboard", random.Random(0)) is None
    assert plant_text(duo, "wrong_location", "script", random.Random(0)) is None
    no_script = duo.model_copy(update={"script": None})
    assert plant_text(no_script, "outfit_swap", "script", random.Random(0)) is None
    with pytest.raises(ValueError, match="no storyboard-level planter"):
        plant_text(duo, "hair_colour", "storyboard", random.Random(0))
