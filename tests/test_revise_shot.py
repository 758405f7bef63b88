"""The director's revision of one shot: staged again like the first time, in its scene, in place.

The storyboard checks are the oracle: a shot revised under a fix instruction must leave the
scene's coverage with no eyeline, teleport, line or scene findings.
"""

from __future__ import annotations

from pathlib import Path

from langgraph.runtime import Runtime

from inkreel.agents.director import ShotTask, make_shot, revise_shot, stage_positions
from inkreel.checks import Bundle
from inkreel.checks.storyboard import check_storyboard
from inkreel.schemas import (
    CharacterDesign,
    Finding,
    Lighting,
    LocationDesign,
    Scene,
    Script,
    Shot,
    ShotSpec,
    StoryboardFile,
    Voice,
)
from inkreel.services import EpisodeContext

from .test_checks_storyboard import TRIO  # Rosa, Tam and Bo each speak to another

DAY = Lighting(ambient="#ffffff", sky="#99ccee", practicals_on=False, brightness=1.0)
NIGHT = Lighting(ambient="#8090c0", sky="#1a2040", practicals_on=True, brightness=0.5)
MARKET = LocationDesign(
    name="Night Market", interior=False, width=12.0, lighting={"day": DAY, "night": NIGHT}
)
CAST = {
    name: CharacterDesign(
        name=name,
        hair_colour=hair,
        outfit_colour=outfit,
        voice=Voice(variant="f2", pitch=50, speed=160),
    )
    for name, hair, outfit in [
        ("Rosa", "#2b2b2b", "#aa3333"),
        ("Tam", "#6a4a2a", "#336699"),
        ("Bo", "#c8b070", "#558844"),
        ("Li", "#1e1a1d", "#884488"),
    ]
}


def first_staging(scene: Scene = TRIO, cross_at: int | None = None) -> list[Shot]:
    """The director's first staging: a wide, then each speaker in a medium (from `cross_at`
    on, from the far side of the line, crossing it on purpose)."""
    positions = stage_positions(scene, MARKET)
    specs = [
        (0, "extreme_wide", ["Rosa", "Tam", "Bo"]),
        (1, "medium", ["Rosa"]),
        (2, "medium", ["Tam"]),
        (3, "medium", ["Bo"]),
    ]
    shots = []
    for n, (b, f, s) in enumerate(specs, start=1):
        far = cross_at is not None and n - 1 >= cross_at
        spec = ShotSpec(beat=b, framing=f, subjects=s, reverse=far, crosses_line=n - 1 == cross_at)
        shots.append(make_shot(scene, n, spec, MARKET, positions, {}, 2.0))
    return shots


def findings(shots: list[Shot], scene: Scene = TRIO) -> list[Finding]:
    script = Script(title="Storm", characters=list(CAST), scenes=[scene])
    board = StoryboardFile(shots=shots, script=script)
    return check_storyboard(Bundle(board, root=Path(".")))


def revise(
    runtime: Runtime[EpisodeContext],
    shots: list[Shot],
    k: int,
    fix: str,
    must_show: tuple[str, ...] = (),
    scene: Scene = TRIO,
) -> list[Shot]:
    """Send shot k back to the director, as the continuity checker does; return the shots."""
    task = ShotTask(
        shot=shots[k],
        location=MARKET,
        cast=CAST,
        seed=0,
        fix=fix,
        must_show=list(must_show),
        attempt=2,
        scene=scene,
        scene_shots=shots,
    )
    revised = revise_shot(task, runtime)["shots"][shots[k].id]
    assert revised.revision == shots[k].revision + 1
    return [*shots[:k], revised, *shots[k + 1 :]]


def blocked(shot: Shot, name: str) -> tuple[float, str]:
    b = next(b for b in shot.blocking if b.character == name)
    return b.world_x, b.facing


def test_a_revised_middle_speaker_still_faces_their_addressee(
    runtime: Runtime[EpisodeContext],
) -> None:
    shots = first_staging()
    assert findings(shots) == []
    assert blocked(shots[2], "Tam")[1] == "right"  # Tam, in the middle, talks to Bo on the right
    fix = "Re-render Tam in s01-003 from the reference sheet (hair, face, outfit as designed)."
    retake = revise(runtime, shots, 2, fix)
    assert blocked(retake[2], "Tam") == blocked(shots[2], "Tam")
    assert findings(retake) == []

    # Sent back for the eyeline itself, the revision turns Tam to Bo.
    turned = [s.model_copy(deep=True) for s in shots]
    next(b for b in turned[2].blocking if b.character == "Tam").facing = "left"
    [eyeline] = findings(turned)
    assert eyeline.check == "eyeline"
    fixed = revise(runtime, turned, 2, eyeline.fix_instruction)
    assert blocked(fixed[2], "Tam")[1] == "right"
    assert findings(fixed) == []


def test_an_addressee_out_of_frame_still_sets_the_eyeline(
    runtime: Runtime[EpisodeContext],
) -> None:
    # Tam calls to Li, at the far right and out of Tam's medium shot.
    four = TRIO.model_copy(deep=True)
    four.characters.append("Li")
    four.beats[2].addressee = "Li"
    shots = first_staging(four)
    assert "Li" not in {b.character for b in shots[2].blocking}
    assert blocked(shots[2], "Tam")[1] == "right"
    fixed = revise(runtime, shots, 2, "Re-render s01-003 with the set as designed.", scene=four)
    assert blocked(fixed[2], "Tam") == blocked(shots[2], "Tam")
    assert findings(fixed, four) == []


def test_a_shot_drifted_to_another_set_and_time_is_restaged_in_its_scene(
    runtime: Runtime[EpisodeContext],
) -> None:
    shots = first_staging()
    drifted = shots[1].model_copy(update={"location": "Tea House", "time_of_day": "night"})
    shots[1] = drifted
    found = findings(shots)
    assert {f.check for f in found} == {"shot_location", "shot_time_of_day"}
    fix = " ".join(f.fix_instruction for f in found)
    fixed = revise(runtime, shots, 1, fix)
    assert (fixed[1].location, fixed[1].time_of_day) == ("Night Market", "day")
    assert findings(fixed) == []


def test_an_unstaged_speaker_is_put_back_where_they_stand_in_the_scene(
    runtime: Runtime[EpisodeContext],
) -> None:
    shots = first_staging()
    # The speaker left out of their own shot (the planted `missing_character`).
    shots[2] = shots[2].model_copy(
        update={"blocking": [b for b in shots[2].blocking if b.character != "Tam"]}
    )
    [missing] = findings(shots)
    assert missing.check == "missing_character"
    fixed = revise(runtime, shots, 2, missing.fix_instruction, must_show=("Tam",))
    assert blocked(fixed[2], "Tam") == (6.0, "right")  # between Rosa and Bo, as in s01-002
    assert findings(fixed) == []


def test_a_teleported_character_is_put_back(runtime: Runtime[EpisodeContext]) -> None:
    shots = first_staging()
    for b in shots[3].blocking:
        if b.character == "Tam":
            b.world_x += 0.9
    [teleport] = findings(shots)
    assert teleport.check == "teleport" and teleport.shot_id == "s01-004"
    fixed = revise(runtime, shots, 3, teleport.fix_instruction)
    assert blocked(fixed[3], "Tam")[0] == 6.0
    assert findings(fixed) == []


def test_a_move_written_in_the_script_is_kept(runtime: Runtime[EpisodeContext]) -> None:
    moving = TRIO.model_copy(deep=True)
    moving.beats[2].moves = ["Tam"]  # Tam steps toward Bo on his line
    shots = first_staging(moving)
    for shot in shots[2:]:
        for b in shot.blocking:
            if b.character == "Tam":
                b.world_x = 6.7
    assert findings(shots, moving) == []
    fix = "Re-render s01-003 with the set as designed."
    # Revising the shot of the move keeps Tam where the next shot has him, not where he was.
    fixed = revise(runtime, shots, 2, fix, scene=moving)
    assert blocked(fixed[2], "Tam")[0] == 6.7
    assert findings(fixed, moving) == []


def test_a_flipped_drawing_of_a_deliberate_crossing_keeps_the_crossing(
    runtime: Runtime[EpisodeContext],
) -> None:
    shots = first_staging(cross_at=2)
    assert shots[2].crosses_line and shots[3].camera.reverse
    assert findings(shots) == []
    # The image check's fix for a keyframe drawn mirrored: the staging was right.
    fix = (
        "Re-render the keyframe of s01-003 from its camera without flipping it; the characters "
        "must keep the screen sides the storyboard gives them."
    )
    fixed = revise(runtime, shots, 2, fix)
    assert fixed[2].crosses_line and fixed[2].camera.reverse
    assert findings(fixed) == []
