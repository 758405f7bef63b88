"""Storyboard-level continuity checks, on hand-staged shots and on offline episodes."""

from __future__ import annotations

from pathlib import Path

import pytest

from inkreel.agents.director import make_shot, stage_positions
from inkreel.checks import DEFECT_TYPES, Bundle
from inkreel.checks.storyboard import DETECTS, check_storyboard
from inkreel.providers.offline.chat import OfflineChatModel
from inkreel.providers.prompt_io import tag
from inkreel.schemas import (
    Beat,
    Finding,
    LocationDesign,
    Scene,
    Script,
    Shot,
    ShotPlan,
    ShotSpec,
    StoryboardFile,
)
from inkreel.schemas.design import Lighting

LIGHT = Lighting(ambient="#ffffff", sky="#99ccee", practicals_on=False, brightness=1.0)
SET = LocationDesign(name="Tea House", width=12.0, lighting={"day": LIGHT})
SCENE = Scene(
    number=1,
    heading="INT. TEA HOUSE - DAY",
    location="Tea House",
    characters=["Mei", "Kai"],
    beats=[
        Beat(kind="action", text="Mei waits by the window."),
        Beat(kind="dialogue", character="Mei", addressee="Kai", text="You came."),
        Beat(kind="dialogue", character="Kai", addressee="Mei", text="I promised."),
        Beat(kind="dialogue", character="Mei", addressee="Kai", text="Sit with me."),
    ],
)
TRIO = Scene(
    number=1,
    heading="EXT. NIGHT MARKET - DAY",
    location="Night Market",
    interior=False,
    characters=["Rosa", "Tam", "Bo"],
    beats=[
        Beat(kind="action", text="Rosa, Tam and Bo guard the stall."),
        Beat(kind="dialogue", character="Rosa", addressee="Tam", text="Hold the awning."),
        Beat(kind="dialogue", character="Tam", addressee="Bo", text="Bo, the ropes!"),
        Beat(kind="dialogue", character="Bo", addressee="Rosa", text="Got them."),
    ],
)
IDEA = "A lighthouse keeper named Mei finds a message in a bottle from a girl called Aiko."
TRIO_IDEA = "During a storm, Rosa, Tam and Bo run a noodle stall at the night market."


def staged(scene: Scene, specs: list[tuple[int, str, list[str]]]) -> list[Shot]:
    location = SET.model_copy(update={"name": scene.location, "interior": scene.interior})
    positions = stage_positions(scene, location)
    return [
        make_shot(scene, n, ShotSpec(beat=b, framing=f, subjects=s), location, positions, {}, 2.0)
        for n, (b, f, s) in enumerate(specs, start=1)
    ]


def clean_shots() -> list[Shot]:
    return staged(
        SCENE,
        [
            (0, "wide", ["Mei", "Kai"]),
            (1, "over_the_shoulder", ["Mei", "Kai"]),
            (2, "medium", ["Kai"]),
            (3, "two_shot", ["Mei", "Kai"]),
        ],
    )


def run(shots: list[Shot], scene: Scene | None = SCENE) -> list[Finding]:
    script = Script(title="t", characters=["Mei", "Kai"], scenes=[scene]) if scene else None
    return check_storyboard(Bundle(StoryboardFile(shots=shots, script=script), root=Path(".")))


def checks(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.check, f.shot_id) for f in findings]


def offline_board(idea: str, runtime: float = 30, seed: int = 0) -> StoryboardFile:
    """Write, plan and stage an episode with the offline engine and the director (no render)."""
    model = OfflineChatModel(seed=seed)
    prompt = "\n".join(
        [tag("idea", idea), tag("runtime_seconds", f"{runtime:g}"), tag("language", "en")]
    )
    script = model.with_structured_output(Script).invoke(prompt)
    assert isinstance(script, Script)
    shots = []
    for scene in script.scenes:
        answer = model.with_structured_output(LocationDesign).invoke(
            tag("location", scene.location) + tag("interior", str(scene.interior).lower())
        )
        plan = model.with_structured_output(ShotPlan).invoke(
            tag("scene", scene.model_dump(mode="json"))
        )
        assert isinstance(answer, LocationDesign) and isinstance(plan, ShotPlan)
        positions = stage_positions(scene, answer)
        for n, spec in enumerate(plan.shots, start=1):
            shots.append(make_shot(scene, n, spec, answer, positions, {}, 2.0))
    return StoryboardFile(shots=shots, script=script)


def test_detects_names_planted_types_only() -> None:
    assert all(types <= set(DEFECT_TYPES) for types in DETECTS.values())


def test_clean_staging_has_no_findings() -> None:
    assert run(clean_shots()) == []


def test_line_crossed_flags_the_mirrored_shot_unless_deliberate_or_after_a_neutral_shot() -> None:
    shots = clean_shots()
    flipped = shots[1]
    flipped.camera.reverse = True
    for b in flipped.blocking:
        b.screen_x = 1 - b.screen_x
    findings = [f for f in run(shots) if f.check == "line_crossed"]
    assert checks(findings) == [("line_crossed", "s01-002")]
    assert findings[0].evidence["left_before"] == "Mei"
    assert findings[0].evidence["left_after"] == "Kai"
    assert findings[0].agent == "director" and findings[0].level == "storyboard"

    flipped.crosses_line = True  # deliberate: the shots after it must stay on the new side
    assert checks(run(shots)) == [("line_crossed", "s01-003"), ("line_crossed", "s01-004")]
    for later in shots[2:]:
        later.camera.reverse = True
        for b in later.blocking:
            b.screen_x = 1 - b.screen_x
    assert run(shots) == []

    shots = clean_shots()
    for b in shots[0].blocking:
        b.facing = "front"  # a neutral shot: either side may follow it
    for shot in shots[1:]:
        shot.camera.reverse = True
        for b in shot.blocking:
            b.screen_x = 1 - b.screen_x
    assert [f for f in run(shots) if f.check == "line_crossed"] == []


def test_line_crossed_flags_a_single_shot_from_the_far_side() -> None:
    shots = staged(
        SCENE,
        [
            (0, "wide", ["Mei", "Kai"]),
            (1, "close_up", ["Mei"]),
            (2, "close_up", ["Kai"]),
            (3, "two_shot", ["Mei", "Kai"]),
        ],
    )
    assert run(shots) == []
    shots[2].camera.reverse = True
    shots[2].blocking[0].screen_x = 1 - shots[2].blocking[0].screen_x
    assert checks(run(shots)) == [("line_crossed", "s01-003")]


def test_eyeline_flags_a_speaker_looking_away_from_their_addressee() -> None:
    shots = clean_shots()
    kai = next(b for b in shots[2].blocking if b.character == "Kai")
    assert kai.facing == "left"  # Kai stands right of Mei
    kai.facing = "right"
    findings = run(shots)
    assert checks(findings) == [("eyeline", "s01-003")]
    assert findings[0].evidence["addressee"] == "Mei"
    assert set(findings[0].shots) >= {"s01-003"}


def test_director_turns_the_middle_speaker_to_their_addressee() -> None:
    shots = staged(
        TRIO,
        [
            (0, "extreme_wide", ["Rosa", "Tam", "Bo"]),
            (1, "medium", ["Rosa"]),
            (2, "medium", ["Tam"]),
            (3, "medium", ["Bo"]),
        ],
    )
    tam = next(b for b in shots[2].blocking if b.character == "Tam")
    assert tam.facing == "right"  # Tam, in the middle, talks to Bo on the right
    assert run(shots, TRIO) == []
    tam.facing = "left"
    assert checks(run(shots, TRIO)) == [("eyeline", "s01-003")]


def test_jump_cut_flags_two_near_identical_setups() -> None:
    shots = staged(SCENE, [(0, "wide", ["Mei", "Kai"]), (1, "medium", ["Mei"])])
    again = shots[1].model_copy(deep=True, update={"id": "s01-003", "beat": 1})
    again.camera.x += 0.1
    findings = run([*shots, again])
    assert checks(findings) == [("jump_cut", "s01-003")]
    assert findings[0].severity == "warning"
    again.camera.view_width = 1.15  # a close-up of the same line is a real change
    again.framing = "close_up"  # type: ignore[assignment]
    assert run([*shots, again]) == []


def test_offline_director_answers_a_jump_cut_with_another_shot_size() -> None:
    shots = staged(SCENE, [(1, "medium", ["Mei"]), (1, "medium", ["Mei"])])
    [finding] = run(shots)
    spec = ShotSpec(beat=1, framing=shots[1].framing, subjects=["Mei"])
    revised = (
        OfflineChatModel(seed=0)
        .with_structured_output(ShotSpec)
        .invoke(
            tag("shot", spec.model_dump(mode="json"))
            + tag("fix", finding.fix_instruction)
            + tag("must_show", [])
        )
    )
    assert isinstance(revised, ShotSpec)
    positions = stage_positions(SCENE, SET)
    shots[1] = make_shot(SCENE, 2, revised, SET, positions, {}, 2.0)
    assert run(shots) == []


def test_teleport_needs_movement_in_the_script() -> None:
    shots = clean_shots()
    for shot in shots[2:]:
        next(b for b in shot.blocking if b.character == "Kai").world_x += 1.5
    findings = run(shots)
    assert checks(findings) == [("teleport", "s01-003")]
    assert findings[0].evidence["previous"] == "s01-002"

    moved = SCENE.model_copy(deep=True)
    moved.beats[2].moves = ["Kai"]
    assert run(shots, moved) == []
    walked = SCENE.model_copy(deep=True)
    walked.beats[2] = Beat(kind="action", text="Kai walks to the counter.")
    assert [f for f in run(shots, walked) if f.check == "teleport"] == []


def test_shots_must_match_their_scene() -> None:
    shots = clean_shots()
    shots[1].location = "Harbour"
    shots[2].time_of_day = "night"
    findings = run(shots)
    assert checks(findings) == [("shot_location", "s01-002"), ("shot_time_of_day", "s01-003")]
    assert findings[0].evidence == {"location": "Harbour", "expected": "Tea House"}


def test_extra_and_missing_characters() -> None:
    shots = clean_shots()
    stranger = shots[0].blocking[0].model_copy(update={"character": "Bo", "world_x": 9.0})
    shots[1].blocking.append(stranger)
    shots[2].blocking = [b for b in shots[2].blocking if b.character != "Kai"]  # the speaker
    shots[0].blocking = shots[0].blocking[:1]  # Kai is missing from the wide
    found = checks(run(shots))
    assert ("extra_character", "s01-002") in found
    assert ("missing_character", "s01-003") in found
    assert ("missing_character", "s01-001") in found
    assert {c for c, _ in found} == {"extra_character", "missing_character"}


def test_speaker_heard_off_screen_need_not_be_staged() -> None:
    scene = SCENE.model_copy(deep=True)
    scene.beats[2].parenthetical = "V.O."
    shots = clean_shots()
    shots[2].blocking = [b for b in shots[2].blocking if b.character != "Kai"]
    assert [f for f in run(shots, scene) if f.check == "missing_character"] == []
    assert [f.check for f in run(shots)] == ["missing_character"]


def test_without_a_script_staging_checks_still_run() -> None:
    shots = clean_shots()
    shots[2].blocking = [b for b in shots[2].blocking if b.character != "Kai"]
    assert checks(run(shots, None)) == [("missing_character", "s01-003")]


@pytest.mark.parametrize(
    ("idea", "runtime", "seed"), [(IDEA, 30, 1), (TRIO_IDEA, 75, 2), (IDEA, 90, 4)]
)
def test_offline_episodes_pass(idea: str, runtime: float, seed: int) -> None:
    board = offline_board(idea, runtime, seed)
    assert check_storyboard(Bundle(board, root=Path("."))) == []


def test_the_work_grows_with_the_shots_not_their_square(monkeypatch: pytest.MonkeyPatch) -> None:
    """A scene four times as long costs four times the lookups: each shot is compared with its
    neighbours and with what the scene has established, not with every other shot."""
    from inkreel.checks import storyboard

    calls = {"pairs": 0, "blocked": 0, "presence": 0, "shot_eq": 0}

    def counted(name: str, real):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            calls[name] += 1
            return real(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(storyboard, "_pairs", counted("pairs", storyboard._pairs))
    monkeypatch.setattr(storyboard, "_blocked", counted("blocked", storyboard._blocked))
    monkeypatch.setattr(Scene, "presence", counted("presence", Scene.presence))
    monkeypatch.setattr(Shot, "__eq__", counted("shot_eq", Shot.__eq__))

    def work(lines: int) -> tuple[int, int]:
        # Mei talks to Kai line after line. In the first half Kai is staged only in the
        # opening wide shot (so where he stands is looked up far back); in the second half
        # they share two-shots, and every fourth one jumps the line.
        beats = [Beat(kind="action", text="Mei waits by the window.")]
        beats += [
            Beat(kind="dialogue", character="Mei", addressee="Kai", text="Listen.")
            for _ in range(lines)
        ]
        scene = SCENE.model_copy(update={"beats": beats})
        specs = [(0, "wide", ["Mei", "Kai"])]
        specs += [(b, "medium", ["Mei"]) for b in range(1, lines // 2 + 1)]
        specs += [(b, "two_shot", ["Mei", "Kai"]) for b in range(lines // 2 + 1, lines + 1)]
        shots = staged(scene, specs)
        for k in range(1, lines // 2 + 1):
            mei = [b for b in shots[k].blocking if b.character == "Mei"]
            shots[k] = shots[k].model_copy(update={"blocking": mei})
        for k in range(lines // 2 + 4, len(shots), 4):
            shots[k] = shots[k].model_copy(
                update={"camera": shots[k].camera.model_copy(update={"reverse": True})}
            )
        for key in calls:
            calls[key] = 0
        findings = run(shots, scene)
        return sum(calls.values()), len(findings)

    small, found_small = work(40)
    large, found_large = work(160)
    assert found_large >= 4 * found_small > 0  # the jumps over the line are all found
    assert large <= 4.5 * small, (small, large)
