"""Director staging and the continuity checks, on hand-built scenes (no rendering)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from inkreel.agents.continuity import check_design, check_sides, check_speaker, find_problems
from inkreel.agents.director import make_shot, place_camera, stage_positions
from inkreel.media.camera import project, screen_x
from inkreel.media.timeline import build_timeline
from inkreel.schemas import (
    Beat,
    Box,
    CharacterDesign,
    FigureLayout,
    Keyframe,
    Layer,
    Lighting,
    LocationDesign,
    Scene,
    SetElement,
    ShotSpec,
    Take,
    Voice,
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


def test_side_check_flags_an_unmotivated_flip_and_accepts_a_deliberate_one() -> None:
    first = shot(1, "two_shot", ["Mei", "Kai"], n=1)
    flipped = shot(2, "two_shot", ["Kai", "Mei"], reverse=True, n=2)
    findings = check_sides(first, flipped)
    assert len(findings) == 1 and findings[0].check == "screen_side"
    assert "same side of the line" in findings[0].fix_instruction
    deliberate = flipped.model_copy(update={"crosses_line": True})
    assert check_sides(first, deliberate) == []
    assert check_sides(first, shot(2, "two_shot", ["Kai", "Mei"], n=2)) == []


def test_speaker_check_needs_a_visible_face() -> None:
    s = shot(2, "medium", ["Kai"])
    body = Box(x0=500, y0=100, x1=800, y1=720)
    seen = Keyframe(
        shot_id=s.id,
        path="k.png",
        figures=[
            FigureLayout(
                character="Kai",
                body=body,
                face=Box(x0=600, y0=120, x1=700, y1=220),
                visible_fraction=0.6,
            )
        ],
    )
    assert check_speaker(s, seen) == []
    unseen = Keyframe(shot_id=s.id, path="k.png", figures=[])
    [finding] = check_speaker(s, unseen)
    assert finding.check == "speaker_in_shot" and "Kai" in finding.fix_instruction


def test_design_check_compares_colours_in_the_render(tmp_path: Path) -> None:
    voice = Voice(variant="m3", pitch=50, speed=170)
    design = CharacterDesign(
        name="Kai", hair_colour="#202020", outfit_colour="#3060c0", voice=voice
    )
    s = shot(2, "medium", ["Kai"])
    pixels = np.full((720, 1280, 3), 255, np.uint8)
    pixels[100:200, 600:700] = (0x20, 0x20, 0x20)
    pixels[300:600, 550:750] = (0x30, 0x60, 0xC0)
    Image.fromarray(pixels).save(tmp_path / "k.png")
    fig = FigureLayout(
        character="Kai",
        body=Box(x0=550, y0=100, x1=750, y1=720),
        hair=Box(x0=600, y0=100, x1=700, y1=200),
        face=Box(x0=610, y0=150, x1=690, y1=230),
        outfit=Box(x0=550, y0=300, x1=750, y1=600),
        visible_fraction=1.0,
    )
    keyframe = Keyframe(shot_id=s.id, path="k.png", figures=[fig])
    assert check_design(s, keyframe, {"Kai": design}, tmp_path) == []
    red = design.model_copy(update={"outfit_colour": "#c03030"})
    [finding] = check_design(s, keyframe, {"Kai": red}, tmp_path)
    assert finding.evidence["part"] == "outfit" and float(finding.evidence["delta_e"]) > 28
    assert len(find_problems([s], {s.id: keyframe}, {"Kai": red}, tmp_path)) == 1


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
