"""Script-level continuity checks, on hand-written scripts and offline episodes."""

from __future__ import annotations

from pathlib import Path

import pytest

from inkreel.checks import DEFECT_TYPES, Bundle
from inkreel.checks.script import DETECTS, check_script
from inkreel.media.fountain import read_fountain
from inkreel.schemas import Beat, Finding, Scene, Script, StoryboardFile, TimeOfDay

from .test_checks_storyboard import IDEA, TRIO_IDEA, offline_board


def script() -> Script:
    """A clean three-scene script: a letter arrives, is read, and burns; scene 2 is continuous."""
    return Script(
        title="The Letter",
        characters=["Mei", "Kai", "Bo"],
        scenes=[
            Scene(
                number=1,
                heading="INT. TEA HOUSE - DAY",
                location="Tea House",
                characters=["Mei", "Kai"],
                wardrobe={"Mei": "red scarf and coat", "Kai": "grey suit"},
                beats=[
                    Beat(kind="action", text="Kai hands Mei a letter.", introduces=["letter"]),
                    Beat(kind="dialogue", character="Mei", text="From Bo?", props=["letter"]),
                    Beat(kind="dialogue", character="Kai", text="Read it.", exits=["Kai"]),
                ],
            ),
            Scene(
                number=2,
                heading="EXT. STREET - CONTINUOUS",
                location="Street",
                interior=False,
                continuous=True,
                characters=["Mei", "Bo"],
                wardrobe={"Mei": "Red scarf and coat.", "Bo": "rain cape"},
                beats=[
                    Beat(kind="action", text="Mei reads the letter.", props=["the letter"]),
                    Beat(kind="dialogue", character="Bo", text="Burn it.", enters=["Bo"]),
                    Beat(kind="action", text="Mei burns it.", destroys=["letter"]),
                ],
            ),
            Scene(
                number=3,
                heading="INT. TEA HOUSE - NIGHT",
                location="Tea House",
                time_of_day=TimeOfDay.night,
                characters=["Mei", "Kai"],
                wardrobe={"Mei": "night gown", "Kai": "grey suit"},
                beats=[
                    Beat(kind="dialogue", character="Kai", text="Where is it?", dies=["Kai"]),
                    Beat(kind="dialogue", character="Bo", text="Gone.", parenthetical="V.O."),
                ],
            ),
        ],
    )


def run(s: Script, shots: StoryboardFile | None = None) -> list[Finding]:
    board = shots or StoryboardFile(shots=[], script=s)
    return check_script(Bundle(board.model_copy(update={"script": s}), root=Path(".")))


def where(findings: list[Finding]) -> list[tuple[str, int | None, int | None]]:
    return [(f.check, f.scene, f.beat) for f in findings]


def test_detects_names_planted_types_only() -> None:
    assert all(types <= set(DEFECT_TYPES) for types in DETECTS.values())


def test_clean_script_passes_and_no_script_no_findings() -> None:
    assert run(script()) == []
    assert check_script(Bundle(StoryboardFile(shots=[]), root=Path("."))) == []


def test_a_line_or_an_action_by_someone_who_is_not_there() -> None:
    s = script()
    s.scenes[0].beats[1].character = "Bo"
    findings = run(s)
    assert where(findings) == [("absent_character", 1, 1)]
    assert findings[0].severity == "error" and findings[0].evidence["character"] == "Bo"
    assert findings[0].agent == "screenwriter" and findings[0].level == "script"
    s = script()
    s.scenes[0].beats[0].text = "Kai hands Mei a letter while Bo watches."
    findings = run(s)
    assert where(findings) == [("absent_character", 1, 0)]
    assert findings[0].severity == "warning"
    s.scenes[0].beats[0].text = "Kai hands Mei Bo's letter."  # Bo's belongings, not Bo
    assert run(s) == []


def test_someone_the_scene_shows_is_missing_from_its_cast_list() -> None:
    s = script()
    s.scenes[0].characters = ["Mei"]  # Kai acts, speaks and is dressed for the scene
    findings = run(s)
    assert where(findings) == [("uncast_character", 1, 0)]
    assert findings[0].evidence["beats"] == "0, 2"
    assert "dressed in the wardrobe" in str(findings[0].evidence["signs"])
    s = script()
    s.scenes[0].beats[1].character = "Bo"
    s.scenes[0].beats[2].addressee = "Bo"  # Kai talks to Bo: Bo is there
    assert where(run(s)) == [("uncast_character", 1, 1)]


def test_character_who_left_comes_back() -> None:
    s = script()
    s.scenes[0].beats.append(Beat(kind="dialogue", character="Kai", text="One more thing."))
    assert where(run(s)) == [("gone_character", 1, 3)]
    s.scenes[0].beats[3].enters = ["Kai"]
    assert run(s) == []

    s = script()
    s.scenes.append(
        Scene(
            number=4,
            heading="INT. TEA HOUSE - DAY",
            location="Tea House",
            characters=["Mei", "Kai"],
            beats=[Beat(kind="dialogue", character="Kai", text="I'm back.")],
        )
    )
    findings = run(s)
    assert where(findings) == [("gone_character", 4, 0)]
    assert findings[0].evidence["gone_scene"] == 3
    s.scenes[3].flashback = True
    assert run(s) == []


def test_props_used_before_introduced_or_after_destroyed() -> None:
    s = script()
    s.scenes[2].beats[0].props = ["Letter"]
    findings = run(s)
    assert where(findings) == [("prop_destroyed", 3, 0)]
    assert findings[0].evidence == {"prop": "Letter", "destroyed_scene": 2}
    s.scenes[2].beats[0].introduces = ["letter"]  # a second copy arrives: fine
    assert run(s) == []

    s = script()
    s.scenes[0].beats[0].introduces = []
    s.scenes[1].beats[0].introduces = ["letter"]
    assert where(run(s)) == [("prop_not_introduced", 1, 1)]


def test_time_of_day_inside_a_continuous_run() -> None:
    s = script()
    s.scenes[1].time_of_day = TimeOfDay.night
    findings = run(s)
    assert where(findings) == [("continuous_time", 2, 0)]
    assert findings[0].evidence["expected"] == "day"
    s.scenes[1].continuous = False
    assert run(s) == []


def test_wardrobe_inside_a_continuous_run() -> None:
    s = script()
    s.scenes[1].wardrobe["Mei"] = "blue raincoat"
    findings = run(s)
    assert where(findings) == [("continuous_wardrobe", 2, 0)]
    assert findings[0].evidence["expected"] == "red scarf and coat"
    s.scenes[1].continuous = False
    assert run(s) == []


def test_findings_point_at_the_shots_covering_the_beats() -> None:
    board = offline_board(TRIO_IDEA, 75, 2)
    assert board.script is not None
    third = board.script.characters[2]
    assert third not in board.script.scenes[0].characters
    s = board.script.model_copy(deep=True)
    s.scenes[0].beats[1].character = third  # a line by someone who is not there
    [finding] = run(s, board)
    assert (finding.check, finding.scene, finding.beat) == ("absent_character", 1, 1)
    covering = [x.id for x in board.shots if x.scene == 1 and x.beat == 1]
    assert finding.shots == covering and finding.shot_id == covering[0]

    s = board.script.model_copy(deep=True)
    dropped = s.scenes[1].characters.pop(0)  # the scene's list forgets someone who is there
    [finding] = run(s, board)
    assert (finding.check, finding.scene) == ("uncast_character", 2)
    spoken = [i for i, b in enumerate(s.scenes[1].beats) if b.character == dropped]
    assert spoken and set(spoken) <= {int(x) for x in str(finding.evidence["beats"]).split(", ")}
    assert set(finding.shots) >= {x.id for x in board.shots if x.scene == 2 and x.beat in spoken}


@pytest.mark.parametrize(
    ("idea", "runtime", "seed"), [(IDEA, 30, 1), (TRIO_IDEA, 75, 2), (IDEA, 120, 5)]
)
def test_offline_scripts_pass_and_exercise_the_checks(idea: str, runtime: float, seed: int) -> None:
    board = offline_board(idea, runtime, seed)
    assert board.script is not None
    assert check_script(Bundle(board, root=Path("."))) == []
    scenes = board.script.scenes
    assert any(s.continuous for s in scenes)
    assert all(set(s.wardrobe) == set(s.characters) for s in scenes)
    beats = [b for s in scenes for b in s.beats]
    assert any(b.introduces for b in beats) and any(b.destroys for b in beats)
    assert all(b.addressee for b in beats if b.kind == "dialogue")


def test_imported_continuous_headings_carry_the_light() -> None:
    screenplay = (
        "INT. CELLAR - NIGHT\n\nDark.\n\nEXT. YARD - CONTINUOUS\n\nCold.\n\n"
        "EXT. YARD - LATER\n\nColder.\n\nINT. HALL - MOMENTS LATER\n\nWarm.\n"
    )
    imported = read_fountain(screenplay)
    assert [s.continuous for s in imported.scenes] == [False, True, False, True]
    assert run(imported) == []
    imported.scenes[1].time_of_day = TimeOfDay.day
    assert where(run(imported)) == [("continuous_time", 2, 0)]
