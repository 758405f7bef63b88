"""Director staging and the continuity checks, on hand-built scenes (no rendering)."""

from __future__ import annotations

from inkreel.agents.director import make_shot, place_camera, stage_positions
from inkreel.art.camera import project, screen_x
from inkreel.media.timeline import build_timeline
from inkreel.schemas import (
    Beat,
    Keyframe,
    Layer,
    Lighting,
    LocationDesign,
    Scene,
    SetElement,
    ShotSpec,
    Take,
)

LIGHT = Lighting(ambient="#ffffff", sky="#99ccee", practicals_on=False, brightness=1.0)
SET = LocationDesign(
    name="Tea House",
    width=12.0,
    lighting={"day": LIGHT},
    elements=[SetElement(kind="window", x=4.0, y=1.0, width=1.4, height=1.3)],
)
SCENE = Scene(
    number=1,
    heading="INT. TEA HOUSE - DAY",
    location="Tea House",
    characters=["Mei", "Kai"],
    beats=[
        Beat(kind="action", text="Mei waits."),
        Beat(kind="dialogue", character="Mei", text="You came."),
        Beat(kind="dialogue", character="Kai", text="I promised."),
    ],
)


def shot(beat: int, framing: str, subjects: list[str], reverse: bool = False, n: int = 1):
    positions = stage_positions(SCENE, SET)
    spec = ShotSpec(beat=beat, framing=framing, subjects=subjects, reverse=reverse)
    return make_shot(SCENE, n, spec, SET, positions, {"Mei": 1.0, "Kai": 1.0}, 2.0)


def test_positions_spread_along_the_line_first_character_left() -> None:
    positions = stage_positions(SCENE, SET)
    assert positions["Mei"] < positions["Kai"]
    assert abs((positions["Mei"] + positions["Kai"]) / 2 - SET.width / 2) < 1e-6


def test_framing_changes_the_view_not_the_set() -> None:
    wide, close = shot(0, "wide", ["Mei", "Kai"]), shot(1, "close_up", ["Mei"])
    assert close.camera.view_width < wide.camera.view_width
    # The window's world position maps through each camera; characters keep their order.
    for s in (wide, close):
        px, _ = project(s.camera, 4.0, 1.0, Layer.background)
        assert abs(px - (640 + (4.0 - s.camera.x) * 1280 / s.camera.view_width * 0.8)) < 1e-6
    assert [b.character for b in sorted(wide.blocking, key=lambda b: b.screen_x)] == ["Mei", "Kai"]


def test_speaker_is_framed_and_expression_follows_the_beat() -> None:
    s = shot(2, "medium", ["Kai"])
    kai = next(b for b in s.blocking if b.character == "Kai")
    assert kai.speaking and 0.1 < kai.screen_x < 0.9
    assert s.speaker == "Kai" and s.line_id == "01-002"


def test_reverse_camera_mirrors_screen_sides() -> None:
    front = place_camera(
        ShotSpec(beat=0, framing="two_shot", subjects=["Mei", "Kai"]),
        stage_positions(SCENE, SET),
        {},
        SET,
    )
    back = front.model_copy(update={"reverse": True})
    positions = stage_positions(SCENE, SET)
    assert screen_x(front, positions["Mei"]) < 0.5 < screen_x(back, positions["Mei"])


def test_timeline_places_lines_after_the_cut_and_subtitles_inside_the_shot() -> None:
    shots = [shot(0, "wide", ["Mei", "Kai"], n=1), shot(1, "medium", ["Mei"], n=2)]
    take = Take(line_id="01-001", character="Mei", path="t.wav", duration_s=1.2, sample_rate=22050)
    keyframes = {s.id: Keyframe(shot_id=s.id, path=f"{s.id}.png") for s in shots}
    timeline = build_timeline(shots, {"01-001": take}, keyframes, fps=24)
    assert [c.start for c in timeline.video] == [0, 48]
    assert timeline.frames == 96
    [line] = timeline.audio
    [sub] = timeline.subtitles
    assert line.start > 48 and sub.start == line.start and sub.end <= timeline.frames
    assert sub.text == "You came."
