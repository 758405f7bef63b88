"""A ViStoryBench story as a script: scenes from settings, one directed beat per shot, the
camera words read in three languages, and the line keeping the shots it is given."""

from __future__ import annotations

from pathlib import Path

import pytest

from inkreel.agents.director import make_shot, stage_positions
from inkreel.checks import Bundle
from inkreel.checks.answers import (
    default_shot,
    validate_script,
    validate_shot_lines,
    validate_shot_plan,
)
from inkreel.checks.storyboard import check_storyboard
from inkreel.media.story_import import script_from_story
from inkreel.media.story_json import Story, StoryCharacter, StoryShot
from inkreel.media.story_words import read_perspective, read_setting
from inkreel.schemas import (
    Angle,
    Framing,
    LocationDesign,
    ShotLine,
    ShotLines,
    ShotPlan,
    ShotSpec,
    StoryboardFile,
    TimeOfDay,
)


def shot(index: int, setting: str, perspective: str, *characters: str) -> StoryShot:
    return StoryShot(
        index=index,
        setting=setting,
        plot=f"Plot of shot {index}.",
        perspective=perspective,
        characters=list(characters),
        description=f"What shot {index} shows.",
    )


def story(*shots: StoryShot, language: str = "en") -> Story:
    return Story(
        id="t",
        language=language,
        title="Test",
        characters=[
            StoryCharacter(key="Mei", name="Mei", prompt="long red hair, blue coat", tags=[]),
            StoryCharacter(key="Aiko", name="Aiko", prompt="short black hair", tags=[]),
            StoryCharacter(key="Ren", name="Ren", prompt="", tags=[]),
        ],
        shots=list(shots),
    )


KITCHEN = "Night, the kitchen of an old house, rain on the window"


def test_runs_of_shots_in_one_setting_are_scenes_and_a_place_met_again_is_its_set() -> None:
    script = script_from_story(
        story(
            shot(1, KITCHEN, "long shot", "Mei"),
            shot(2, "Night, the kitchen, a kettle on the stove", "close-up", "Mei", "Aiko"),
            shot(3, "Night, a narrow street outside, puddles", "wide shot", "Aiko"),
            shot(4, KITCHEN, "medium shot", "Aiko", "Mei"),
        )
    )
    assert [[b.shot.number for b in s.beats if b.shot] for s in script.scenes] == [
        [1, 2],
        [3],
        [4],
    ]
    kitchen, street, again = script.scenes
    assert kitchen.location == again.location == "Kitchen"
    assert (kitchen.interior, street.interior) == (True, False)
    assert {s.time_of_day for s in script.scenes} == {TimeOfDay.night}
    assert street.heading == "EXT. NARROW STREET - NIGHT"
    # The scene's cast is who its shots show, in order of appearance.
    assert kitchen.characters == ["Mei", "Aiko"]
    assert again.characters == ["Aiko", "Mei"]


def test_each_story_shot_is_one_directed_action_beat_and_the_cast_is_the_storys() -> None:
    script = script_from_story(
        story(
            shot(1, KITCHEN, "Medium close-up, low angle", "Aiko", "Mei"),
            shot(2, KITCHEN, "Extreme long shot, bird's-eye view"),
        )
    )
    beats = [b for s in script.scenes for b in s.beats]
    assert [b.kind for b in beats] == ["action", "action"]
    first, second = (b.shot for b in beats)
    assert first is not None and second is not None
    assert (first.number, first.framing, first.angle) == (1, Framing.close_up, Angle.low)
    assert first.on_screen == ["Aiko", "Mei"]
    assert beats[0].text == first.picture == "Plot of shot 1. What shot 1 shows."
    assert (second.framing, second.angle, second.on_screen) == (
        Framing.extreme_wide,
        Angle.high,
        [],
    )
    # Every character is kept, shown or not, with their description.
    assert script.characters == ["Mei", "Aiko", "Ren"]
    assert script.appearance == {"Mei": "long red hair, blue coat", "Aiko": "short black hair"}
    assert script.source == "story" and not script.skipped
    assert validate_script(script).ok


def test_a_setting_without_a_time_keeps_the_scene_befores() -> None:
    script = script_from_story(
        story(
            shot(1, "Dusk, a quiet beach", "long shot", "Mei"),
            shot(2, "A small wooden cabin", "medium shot", "Mei"),
        )
    )
    assert [(s.location, s.time_of_day) for s in script.scenes] == [
        ("Quiet Beach", TimeOfDay.dusk),
        ("Small Wooden Cabin", TimeOfDay.dusk),
    ]


@pytest.mark.parametrize(
    ("text", "language", "location", "interior", "time"),
    [
        (
            "Harry's bedroom at night, moonlight on the floor",
            "en",
            "Harry's Bedroom",
            True,
            "night",
        ),
        ("Sunny day, a busy street in the city", "en", "Busy Street", False, "day"),
        ("Inside a street café at sunset", "en", "Street Café", True, "dusk"),
        ("Night shift on a space station, a dim repair bay", "en", "Space Station", True, "night"),
        ("夜晚，城市的街道，霓虹灯闪烁", "zh", "城市的街道", False, "night"),
        ("冬天的白天，狭小的老厨房，窗上蒙着水汽", "zh", "狭小的老厨房", True, "day"),
        ("黄昏时分的海边", "zh", "海边", False, "dusk"),
        ("夜、東京の通り、雨", "ja", "東京の通り", False, "night"),
        ("昼、学校の教室", "ja", "学校の教室", True, "day"),
        ("夜明けの山道", "ja", "山道", False, "dusk"),
    ],
)
def test_place_inside_or_out_and_time_are_read_in_three_languages(
    text: str, language: str, location: str, interior: bool, time: str
) -> None:
    setting = read_setting(text, language)
    assert (setting.location, setting.interior, setting.time_of_day) == (
        location,
        interior,
        TimeOfDay(time),
    )


@pytest.mark.parametrize(
    ("text", "framing", "angle"),
    [
        ("Extreme long shot", Framing.extreme_wide, None),
        ("Long shot, high angle", Framing.wide, Angle.high),
        ("Full shot, eye level", Framing.wide, Angle.eye_level),
        ("Medium shot", Framing.medium, None),
        ("Medium close-up", Framing.close_up, None),
        ("Close-up, low angle", Framing.close_up, Angle.low),
        ("Extreme close-up", Framing.extreme_close_up, None),
        ("Over-the-shoulder shot", Framing.over_the_shoulder, None),
        ("Bird's-eye view", Framing.extreme_wide, Angle.high),
        ("大远景，鸟瞰", Framing.extreme_wide, Angle.high),
        ("远景", Framing.wide, None),
        ("中景，平视", Framing.medium, Angle.eye_level),
        ("近景，仰拍", Framing.close_up, Angle.low),
        ("特写", Framing.close_up, None),
        ("大特写", Framing.extreme_close_up, None),
        ("过肩镜头", Framing.over_the_shoulder, None),
        ("ロングショット、俯瞰", Framing.wide, Angle.high),
        ("ミディアムショット", Framing.medium, None),
        ("バストショット、アオリ", Framing.close_up, Angle.low),
        ("クローズアップ", Framing.close_up, None),
        ("肩越しショット", Framing.over_the_shoulder, None),
    ],
)
def test_perspective_words_map_onto_framing_and_angle(
    text: str, framing: Framing, angle: Angle | None
) -> None:
    assert (read_perspective(text).framing, read_perspective(text).angle) == (framing, angle)


def test_an_unknown_perspective_leaves_the_framing_to_the_director_and_is_recorded() -> None:
    script = script_from_story(
        story(shot(1, KITCHEN, "Dutch tilt, handheld", "Mei"), shot(2, KITCHEN, "", "Mei"))
    )
    first, second = (b.shot for b in script.scenes[0].beats)
    assert first is not None and second is not None
    assert first.framing is None and first.perspective == "Dutch tilt, handheld"
    # An empty perspective asks for nothing: nothing to record.
    assert [(s.kind, s.line) for s in script.skipped] == [("perspective", 1)]
    assert "Dutch tilt" in script.skipped[0].text
    # The director's own choice covers it: a wide shot of the one character on screen.
    spec = default_shot(script.scenes[0], 0)
    assert spec.framing == Framing.wide and spec.subjects == ["Mei"]


def test_a_model_plan_is_held_to_the_storys_framing_angle_and_people() -> None:
    scene = script_from_story(
        story(shot(1, KITCHEN, "close-up, low angle", "Aiko"), shot(2, KITCHEN, "", "Mei"))
    ).scenes[0]
    answer = ShotPlan(
        shots=[
            ShotSpec(beat=0, framing=Framing.wide, subjects=["Mei", "Aiko"]),
            ShotSpec(beat=1, framing=Framing.two_shot, subjects=["Aiko"]),
        ]
    )
    checked = validate_shot_plan(answer, scene)
    kept, free = checked.value.shots
    assert (kept.framing, kept.angle, kept.subjects) == (Framing.close_up, Angle.low, ["Aiko"])
    # No framing asked: the model's stays; who is seen is still the story's.
    assert (free.framing, free.subjects) == (Framing.two_shot, ["Mei"])
    assert checked.ok and checked.repairs


def test_lines_never_change_the_shots_or_the_cast() -> None:
    script = script_from_story(
        story(
            shot(1, KITCHEN, "medium shot", "Mei", "Aiko"),
            shot(2, KITCHEN, "close-up", "Aiko"),
            shot(3, KITCHEN, "long shot"),
        )
    )
    answer = ShotLines(
        lines=[
            ShotLine(shot=1, character="mei", text="Look at this, Aiko.", addressee="Aiko"),
            ShotLine(shot=1, character="Aiko", text="A second line for one shot."),
            ShotLine(shot=2, character="Mei", text="Mei is not on screen in shot 2."),
            ShotLine(shot=3, character="Ren", text="Ren is not in the scene at all."),
            ShotLine(shot=9, character="Aiko", text="There is no shot 9."),
        ]
    )
    checked = validate_shot_lines(answer, script)
    assert checked.ok
    beats = checked.value.scenes[0].beats
    assert [b.kind for b in beats] == ["dialogue", "action", "action"]
    line = beats[0]
    assert (line.character, line.text, line.addressee) == ("Mei", "Look at this, Aiko.", "Aiko")
    assert line.shot is not None and line.shot.picture == "Plot of shot 1. What shot 1 shows."
    assert [b.shot.number for b in beats if b.shot] == [1, 2, 3]
    assert checked.value.characters == script.characters
    assert len(checked.repairs) == 4


def test_a_line_in_another_language_goes_back_to_the_model() -> None:
    script = script_from_story(story(shot(1, "夜、通り", "中景", "Mei"), language="ja"))
    answer = ShotLines(lines=[ShotLine(shot=1, character="Mei", text="Hello there.")])
    assert not validate_shot_lines(answer, script).ok


def test_the_storyboard_check_holds_a_directed_shot_to_whom_the_story_shows() -> None:
    script = script_from_story(
        story(
            shot(1, KITCHEN, "medium shot", "Mei", "Aiko"),
            shot(2, KITCHEN, "close-up", "Aiko"),
        )
    )
    scene = script.scenes[0]
    location = LocationDesign(name=scene.location, lighting={})
    positions = stage_positions(scene, location)
    shots = [
        make_shot(scene, k + 1, default_shot(scene, k), location, positions, {}, 2.0)
        for k in range(len(scene.beats))
    ]
    # Staged as directed: exactly the story's people, each inside the frame.
    assert [sorted(b.character for b in s.blocking) for s in shots] == [["Aiko", "Mei"], ["Aiko"]]
    assert all(0.0 <= b.screen_x <= 1.0 for s in shots for b in s.blocking)
    board = StoryboardFile(shots=shots, script=script)
    assert not [f for f in check_storyboard(Bundle(board, Path())) if f.severity == "error"]
    # Mei walks into Aiko's close-up: the check says so.
    mei = next(b for b in shots[0].blocking if b.character == "Mei")
    intruder = mei.model_copy(update={"screen_x": 0.2})
    crowded = shots[1].model_copy(update={"blocking": [*shots[1].blocking, intruder]})
    board = StoryboardFile(shots=[shots[0], crowded], script=script)
    found = {(f.check, f.shot_id) for f in check_storyboard(Bundle(board, Path()))}
    assert ("extra_character", crowded.id) in found
