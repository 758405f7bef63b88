"""Tests for the procedural manhua renderer: determinism, camera-true placement, fast frames."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from inkreel.art.camera import HEIGHT, WIDTH, pixels_per_metre, project, screen_x
from inkreel.art.character.figure import Figure, render_face_region, render_figure
from inkreel.art.character.sheet import _head_crop, render_reference_sheet
from inkreel.art.compositing import blend
from inkreel.art.effects import burst, draw_stamp, place_stamp, speed_lines
from inkreel.art.ink import INK, SUPERSAMPLE, Canvas, Glow, _dot_tile
from inkreel.art.lighting import light_tint
from inkreel.art.set.backdrop import fill_rows
from inkreel.art.set.plate import render_plate
from inkreel.art.shot.frame import compose_frame, render_keyframe
from inkreel.art.shot.staging import stage_shot
from inkreel.schemas.design import (
    CharacterDesign,
    HairStyle,
    Layer,
    Lighting,
    LocationDesign,
    SetElement,
    Voice,
)
from inkreel.schemas.script import Emotion
from inkreel.schemas.storyboard import Blocking, Camera, Framing, Shot

VOICE = Voice(variant="m3", pitch=50, speed=170)
LIGHTS = {
    "day": Lighting(ambient="#ffffff", sky="#a8d0f0", practicals_on=False, brightness=1.0),
    "night": Lighting(ambient="#5a6aa0", sky="#1a2040", practicals_on=True, brightness=0.45),
}


@pytest.fixture(scope="module")
def mei() -> CharacterDesign:
    return CharacterDesign(
        name="Mei",
        build="slim",
        hair_style=HairStyle.ponytail,
        hair_colour="#2a1c1c",
        outfit="silk qipao",
        outfit_colour="#b8323a",
        accent_colour="#e8c060",
        accessories=["earrings"],
        voice=VOICE,
    )


@pytest.fixture(scope="module")
def wei() -> CharacterDesign:
    return CharacterDesign(
        name="Wei",
        build="broad",
        height=1.1,
        hair_style=HairStyle.spiky,
        hair_colour="#c8c0a0",
        outfit="grey suit",
        outfit_colour="#5a6470",
        accent_colour="#2a6ac0",
        skin="#c89870",
        accessories=["glasses"],
        voice=VOICE,
    )


@pytest.fixture(scope="module")
def cast(mei: CharacterDesign, wei: CharacterDesign) -> dict[str, CharacterDesign]:
    return {"Mei": mei, "Wei": wei}


PAINTING = SetElement(kind="painting", x=6.0, y=1.2, width=1.6, height=1.0, colour="#10c040")


def _room(elements: list[SetElement] | None = None) -> LocationDesign:
    return LocationDesign(
        name="Tea House",
        width=12.0,
        wall_colour="#d8c8a0",
        floor_colour="#7a5a3a",
        elements=[PAINTING] if elements is None else elements,
        lighting=LIGHTS,
    )


@pytest.fixture(scope="module")
def room() -> LocationDesign:
    return _room(
        [
            PAINTING,
            SetElement(kind="window", x=2.5, y=1.0, width=1.6, height=1.4, colour="#6a3a22"),
            SetElement(kind="shelf", x=9.0, y=0.0, width=1.8, height=2.0, colour="#6a4a2a"),
            SetElement(kind="lamp", x=4.5, y=2.2, width=0.5, height=0.6, colour="#c83030"),
        ]
    )


def _shot(
    camera: Camera,
    blocking: list[Blocking],
    *,
    framing: Framing = Framing.wide,
    time_of_day: str = "day",
) -> Shot:
    return Shot(
        id="s01-001",
        scene=1,
        beat=0,
        location="Tea House",
        time_of_day=time_of_day,
        framing=framing,
        angle="eye_level",
        move="static",
        camera=camera,
        blocking=blocking,
        duration_s=2.0,
    )


def _block(
    name: str, x: float, facing: str = "front", *, speaking: bool = False, cam: Camera | None = None
) -> Blocking:
    sx = screen_x(cam, x) if cam is not None else 0.5
    return Blocking(character=name, world_x=x, screen_x=sx, facing=facing, speaking=speaking)


WIDE = Camera(x=6.0, y=1.6, view_width=9.0)
MEDIUM = Camera(x=6.4, y=1.4, view_width=4.5)


def _expected_box(cam: Camera, el: SetElement) -> tuple[float, float, float, float]:
    px, py = project(cam, el.x, el.y, el.layer)
    ppm = pixels_per_metre(cam, WIDTH, el.layer)
    return (px - el.width * ppm / 2, py - el.height * ppm, px + el.width * ppm / 2, py)


def _diff_bbox(a: Image.Image, b: Image.Image) -> tuple[int, int, int, int]:
    diff = np.abs(np.asarray(a, dtype=np.int16) - np.asarray(b, dtype=np.int16)).sum(axis=2) > 24
    ys, xs = np.nonzero(diff)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


# --- figures ---------------------------------------------------------------------------------


def test_render_figure_is_deterministic(mei: CharacterDesign) -> None:
    a = render_figure(mei, height_px=300, view="three_quarter", facing="left")
    b = render_figure(mei, height_px=300, view="three_quarter", facing="left")
    assert a.image.mode == "RGBA"
    assert a.image.tobytes() == b.image.tobytes()
    assert (a.face, a.hair, a.outfit, a.mouth, a.feet_y) == (
        b.face,
        b.hair,
        b.outfit,
        b.mouth,
        b.feet_y,
    )


def test_figure_has_the_requested_height_and_boxes_inside(mei: CharacterDesign) -> None:
    fig = render_figure(mei, height_px=400)
    w, h = fig.image.size
    assert 390 <= h <= 440  # hair and outline add a little above the crown
    assert abs(fig.feet_y - h) <= 6
    for box in (fig.face, fig.hair, fig.outfit, fig.mouth):
        x0, y0, x1, y1 = box
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
    # head above the outfit, mouth inside the face
    assert fig.hair[1] < fig.face[1] < fig.outfit[1]
    assert fig.face[0] <= fig.mouth[0] and fig.mouth[2] <= fig.face[2]


def _opaque_mean(img: Image.Image) -> np.ndarray:
    a = np.asarray(img)
    return a[a[..., 3] > 200][:, :3].astype(float).mean(axis=0)


def test_different_designs_are_told_apart(mei: CharacterDesign, wei: CharacterDesign) -> None:
    a = render_figure(mei, height_px=300)
    b = render_figure(wei, height_px=300)
    assert np.linalg.norm(_opaque_mean(a.image) - _opaque_mean(b.image)) > 25
    # the outfit region carries the outfit colour of each design
    for fig, colour in ((a, (0xB8, 0x32, 0x3A)), (b, (0x5A, 0x64, 0x70))):
        x0, y0, x1, y1 = fig.outfit
        patch = np.asarray(fig.image.convert("RGB"))[y0:y1, x0:x1].reshape(-1, 3)
        close = np.linalg.norm(patch.astype(float) - colour, axis=1) < 40
        assert close.mean() > 0.4


def test_mouth_open_changes_only_the_mouth(mei: CharacterDesign) -> None:
    closed = render_figure(mei, height_px=500, mouth_open=0.0)
    opened = render_figure(mei, height_px=500, mouth_open=1.0)
    assert closed.image.size == opened.image.size
    a = np.asarray(closed.image).astype(int)
    b = np.asarray(opened.image).astype(int)
    x0, y0, x1, y1 = closed.mouth
    assert np.abs(a[y0:y1, x0:x1] - b[y0:y1, x0:x1]).sum() > 0
    a[y0:y1, x0:x1] = 0
    b[y0:y1, x0:x1] = 0
    assert np.array_equal(a, b)


def test_expressions_and_views_change_the_drawing(mei: CharacterDesign) -> None:
    def head(**kw: object) -> bytes:
        fig = render_figure(mei, height_px=300, **kw)  # type: ignore[arg-type]
        return fig.image.crop(fig.face).tobytes()

    faces = {head(expression=e) for e in Emotion}
    assert len(faces) == len(Emotion)
    back = render_figure(mei, height_px=300, view="back")
    assert back.mouth == (0, 0, 0, 0)
    left = render_figure(mei, height_px=300, view="side", facing="left").image
    right = render_figure(mei, height_px=300, view="side", facing="right").image
    assert left.tobytes() != right.tobytes()
    assert left.size == right.size


# --- reference sheet and plates --------------------------------------------------------------


def test_reference_sheet(mei: CharacterDesign) -> None:
    views, expressions, sheet = render_reference_sheet(mei)
    assert set(views) == {"front", "three_quarter", "side", "back"}
    assert {"neutral", "happy", "sad", "angry", "surprised"} <= set(expressions)
    assert sheet.mode == "RGB"
    assert abs(sheet.width - 1600) <= 100 and abs(sheet.height - 900) <= 100
    # a light background
    assert np.asarray(sheet).mean() > 150


def test_plate_day_and_night(room: LocationDesign) -> None:
    day = render_plate(room, "day")
    night = render_plate(room, "night")
    assert day.size == (WIDTH, HEIGHT) and day.mode == "RGB"
    assert render_plate(room, "day").tobytes() == day.tobytes()
    assert np.asarray(night).mean() < np.asarray(day).mean() - 20
    # unknown time of day falls back to the day lighting
    assert render_plate(room, "noon").tobytes() == day.tobytes()


# --- set and camera --------------------------------------------------------------------------


@pytest.mark.parametrize("cam", [WIDE, MEDIUM, Camera(x=6.0, y=1.6, view_width=9.0, reverse=True)])
def test_element_lands_where_the_camera_says(cam: Camera) -> None:
    shot = _shot(cam, [])
    img, _, elements = render_keyframe(shot, _room(), {})
    empty, _, none = render_keyframe(shot, _room([]), {})
    assert none == {}
    ex0, ey0, ex1, ey1 = _expected_box(cam, PAINTING)
    box = elements["0"]
    assert abs(box.x0 - max(0, ex0)) <= 1 and abs(box.x1 - min(WIDTH, ex1)) <= 1
    assert abs(box.y0 - max(0, ey0)) <= 1 and abs(box.y1 - min(HEIGHT, ey1)) <= 1
    # the drawn pixels, not just the reported box, sit where the projection predicts
    dx0, dy0, dx1, dy1 = _diff_bbox(img, empty)
    assert abs(dx0 - ex0) <= 2 and abs(dx1 - ex1) <= 2
    assert abs(dy0 - ey0) <= 2 and abs(dy1 - ey1) <= 2


def test_set_does_not_move_by_itself(room: LocationDesign) -> None:
    a = render_keyframe(_shot(WIDE, []), room, {})[2]
    # panning right by one metre moves every background element left by one metre of pixels
    moved = render_keyframe(_shot(Camera(x=7.0, y=1.6, view_width=9.0), []), room, {})[2]
    shift = pixels_per_metre(WIDE, WIDTH, Layer.background)
    inside = [k for k, b in a.items() if b.x0 > shift + 2 and b.x1 < WIDTH - 2]
    assert inside
    for key in inside:
        assert moved[key].x0 == pytest.approx(a[key].x0 - shift, abs=1.5)
        assert moved[key].x1 == pytest.approx(a[key].x1 - shift, abs=1.5)
        assert (moved[key].y0, moved[key].y1) == (a[key].y0, a[key].y1)


def test_night_windows_and_lamps_glow(room: LocationDesign) -> None:
    cam = Camera(x=2.5, y=1.7, view_width=4.0)
    day = np.asarray(render_keyframe(_shot(cam, []), room, {})[0]).astype(float)
    night = render_keyframe(_shot(cam, [], time_of_day="night"), room, {})
    img, box = np.asarray(night[0]).astype(float), night[2]["1"]
    glass = img[box.y0 + 20 : box.y1 - 20, box.x0 + 20 : box.x1 - 20].mean()
    wall = img[box.y0 : box.y1, max(0, box.x0 - 60) : box.x0 - 20].mean()
    assert glass > wall + 60
    assert img.mean() < day.mean()


def test_offframe_elements_are_omitted(room: LocationDesign) -> None:
    cam = Camera(x=2.5, y=1.7, view_width=2.0)  # on the window only
    elements = render_keyframe(_shot(cam, []), room, {})[2]
    assert "1" in elements and "2" not in elements
    for box in elements.values():
        assert 0 <= box.x0 < box.x1 <= WIDTH and 0 <= box.y0 < box.y1 <= HEIGHT


# --- characters in shots ---------------------------------------------------------------------


def test_figure_layouts_follow_screen_x(room: LocationDesign, cast: dict) -> None:
    blocking = [_block("Mei", 4.5, "right", cam=WIDE), _block("Wei", 7.5, "left", cam=WIDE)]
    img, figures, _ = render_keyframe(_shot(WIDE, blocking), room, cast)
    assert img.size == (WIDTH, HEIGHT)
    by_name = {f.character: f for f in figures}
    assert set(by_name) == {"Mei", "Wei"}
    for b in blocking:
        f = by_name[b.character]
        assert 0 <= f.body.x0 < f.body.x1 <= WIDTH and 0 <= f.body.y0 < f.body.y1 <= HEIGHT
        centre = (f.body.x0 + f.body.x1) / 2 / WIDTH
        assert centre == pytest.approx(screen_x(WIDE, b.world_x), abs=0.02)
        assert f.visible_fraction == pytest.approx(1.0)
        assert f.face is not None and f.hair is not None and f.outfit is not None
        # feet on the floor: the body ends where the floor point projects
        _, floor_y = project(WIDE, b.world_x, 0.0, Layer.midground)
        assert abs(f.body.y1 - floor_y) <= 2
    assert by_name["Mei"].body.x1 < by_name["Wei"].body.x0
    # taller design, taller figure
    assert (
        by_name["Wei"].body.y1 - by_name["Wei"].body.y0
        > by_name["Mei"].body.y1 - by_name["Mei"].body.y0
    )


def test_reverse_camera_mirrors_screen_sides(room: LocationDesign, cast: dict) -> None:
    rev = WIDE.model_copy(update={"reverse": True})
    blocking = [_block("Mei", 4.5, "right"), _block("Wei", 7.5, "left")]
    _, fwd_figs, fwd_els = render_keyframe(_shot(WIDE, blocking), room, cast)
    _, rev_figs, rev_els = render_keyframe(_shot(rev, blocking), room, cast)
    fwd = {f.character: f.body for f in fwd_figs}
    rv = {f.character: f.body for f in rev_figs}
    assert fwd["Mei"].x1 < fwd["Wei"].x0
    assert rv["Wei"].x1 < rv["Mei"].x0
    for name in ("Mei", "Wei"):
        assert abs((fwd[name].x0 + fwd[name].x1) - (2 * WIDTH - rv[name].x0 - rv[name].x1)) <= 4
    for key, box in fwd_els.items():
        assert abs(rev_els[key].x0 - (WIDTH - box.x1)) <= 1
        assert rev_els[key].y0 == box.y0


def test_facing_turns_the_sprite(room: LocationDesign, cast: dict) -> None:
    cam = Camera(x=6.0, y=1.4, view_width=3.0)
    left = stage_shot(_shot(cam, [_block("Mei", 6.0, "left")]), room, cast)
    right = stage_shot(_shot(cam, [_block("Mei", 6.0, "right")]), room, cast)
    a, b = left.sprites[0].rgba.astype(int), right.sprites[0].rgba.astype(int)
    h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    a, b = a[:h, :w], b[:h, :w]
    assert np.abs(a - b).mean() > 5 * np.abs(a[:, ::-1] - b).mean()
    # a reverse camera turns the same blocking the other way on screen
    rev = stage_shot(
        _shot(cam.model_copy(update={"reverse": True}), [_block("Mei", 6.0, "right")]), room, cast
    )
    c = rev.sprites[0].rgba.astype(int)[:h, :w]
    assert np.abs(c - a).mean() < np.abs(c - b).mean()


def test_close_up_crops_the_body_and_caps_sprites(room: LocationDesign, cast: dict) -> None:
    cam = Camera(x=5.0, y=1.45, view_width=0.8)
    shot = _shot(cam, [_block("Mei", 5.0, "front", speaking=True)], framing=Framing.close_up)
    layers = stage_shot(shot, room, cast)
    (fig,) = layers.figures
    assert 0.0 < fig.visible_fraction < 0.35
    assert fig.face is not None and fig.face.area > 40_000
    for sp in layers.sprites:
        assert sp.rgba.shape[0] <= 3 * HEIGHT and sp.rgba.shape[1] <= 3 * WIDTH
        assert sp.x >= 0 and sp.y >= 0
        assert sp.x + sp.rgba.shape[1] <= WIDTH and sp.y + sp.rgba.shape[0] <= HEIGHT


def test_offframe_character_is_not_reported(room: LocationDesign, cast: dict) -> None:
    cam = Camera(x=2.0, y=1.5, view_width=3.0)
    blocking = [_block("Mei", 2.0, "right"), _block("Wei", 10.0, "left")]
    _, figures, _ = render_keyframe(_shot(cam, blocking), room, cast)
    assert [f.character for f in figures] == ["Mei"]


def test_unknown_cast_member_still_renders(room: LocationDesign) -> None:
    _, figures, _ = render_keyframe(_shot(WIDE, [_block("Stranger", 6.0)]), room, {})
    assert [f.character for f in figures] == ["Stranger"]


def test_foreground_elements_cover_characters(cast: dict) -> None:
    counter = SetElement(
        kind="counter",
        x=6.0,
        y=0.0,
        width=2.0,
        height=1.0,
        layer=Layer.foreground,
        colour="#6a4030",
    )
    room = _room([counter])
    cam = Camera(x=6.0, y=1.3, view_width=5.0)
    with_char = render_keyframe(_shot(cam, [_block("Mei", 6.0)]), room, cast)[0]
    without = render_keyframe(_shot(cam, []), room, cast)[0]
    x0, y0, x1, y1 = _expected_box(cam, counter)
    inner = (round(x0) + 6, round(y0) + 6, round(x1) - 6, min(HEIGHT, round(y1)) - 6)
    a = np.asarray(with_char.crop(inner))
    b = np.asarray(without.crop(inner))
    assert np.array_equal(a, b)
    # but the character is visible above the counter
    assert not np.array_equal(np.asarray(with_char), np.asarray(without))


# --- frames ----------------------------------------------------------------------------------


def test_compose_frame_mouth_and_blink(room: LocationDesign, cast: dict) -> None:
    cam = Camera(x=6.0, y=1.4, view_width=3.0)
    blocking = [_block("Mei", 5.4, "right", speaking=True), _block("Wei", 6.8, "left")]
    layers = stage_shot(_shot(cam, blocking), room, cast)
    assert layers.speaker == "Mei"
    assert layers.background.shape == (HEIGHT, WIDTH, 3)
    closed = compose_frame(layers)
    opened = compose_frame(layers, mouth_open=1.0)
    blink = compose_frame(layers, blink=True)
    assert closed.shape == (HEIGHT, WIDTH, 3) and closed.dtype == np.uint8
    changed = np.argwhere(np.any(closed != opened, axis=2))
    assert len(changed) > 20
    # only inside Mei's face
    face = next(f for f in layers.figures if f.character == "Mei").face
    assert face is not None
    ys, xs = changed[:, 0], changed[:, 1]
    assert xs.min() >= face.x0 - 4 and xs.max() <= face.x1 + 4
    assert ys.min() >= face.y0 - 4 and ys.max() <= face.y1 + 4
    assert np.any(closed != blink)
    # frames are repeatable and do not mutate the layers
    assert np.array_equal(compose_frame(layers), closed)
    img, _, _ = render_keyframe(_shot(cam, blocking), room, cast)
    assert np.array_equal(np.asarray(img), closed)


@pytest.mark.parametrize("move", ["static", "pan", "push_in"])
def test_a_still_staged_shot_animates_like_an_animated_one(
    room: LocationDesign, cast: dict, move: str
) -> None:
    # A keyframe stages its characters in the rest pose only; asked for a moving frame later,
    # its layers dress every pose and give the same pixels as layers staged to animate.
    blocking = [_block("Mei", 5.4, "right", speaking=True), _block("Wei", 6.8, "left")]
    shot = _shot(Camera(x=6.0, y=1.4, view_width=3.0), blocking).model_copy(update={"move": move})
    still = stage_shot(shot, room, cast, animate=False)
    moving = stage_shot(shot, room, cast)
    assert np.array_equal(compose_frame(still), compose_frame(moving))
    for asked in (
        {"frame": 7, "mouth_open": 0.6, "move_t": 0.2},
        {"frame": 30, "blink": True, "gesture": 1.0, "move_t": -0.4},
    ):
        assert np.array_equal(compose_frame(still, **asked), compose_frame(moving, **asked))


def test_stage_shot_is_deterministic(room: LocationDesign, cast: dict) -> None:
    shot = _shot(WIDE, [_block("Mei", 4.5, "right", speaking=True)], time_of_day="night")
    a = stage_shot(shot, room, cast)
    b = stage_shot(shot, room, cast)
    for m in (0.0, 0.5, 1.0):
        assert compose_frame(a, mouth_open=m).tobytes() == compose_frame(b, mouth_open=m).tobytes()


@pytest.mark.parametrize("move", ["pan", "push_in", "pull_out"])
def test_moving_cameras_keep_the_keyframe(room: LocationDesign, cast: dict, move: str) -> None:
    counter = SetElement(
        kind="counter", x=7.6, y=0.0, width=1.6, height=1.0, layer=Layer.midground, colour="#6a4030"
    )
    room = room.model_copy(update={"elements": [*room.elements, counter]})
    blocking = [_block("Mei", 5.4, "right", speaking=True), _block("Wei", 6.8, "left")]
    still = _shot(MEDIUM, blocking)
    moving = still.model_copy(update={"move": move})
    a, figs_a, els_a = render_keyframe(still, room, cast)
    b, figs_b, els_b = render_keyframe(moving, room, cast)
    # the set is drawn on a wider canvas (or in depth layers) but lands on the same pixels
    assert figs_a == figs_b and els_a == els_b
    diff = np.abs(np.asarray(a, dtype=int) - np.asarray(b, dtype=int)).max(axis=2) > 8
    if move == "pan":
        # Midground props get a layer of their own, so the wall's screentone no longer
        # shows through them.
        box = els_a[str(len(room.elements) - 1)]
        diff[box.y0 : box.y1, box.x0 : box.x1] = False
    assert diff.mean() < 0.002
    layers = stage_shot(moving, room, cast)
    assert layers.move == move
    assert np.array_equal(compose_frame(layers), np.asarray(b))


# --- distinct designs: face, eyes, build, height, garments ----------------------------------


def _design(**kw: object) -> CharacterDesign:
    base: dict[str, object] = {
        "name": "Probe",
        "hair_style": HairStyle.short,
        "hair_colour": "#2a1c1c",
        "outfit": "tunic",
        "outfit_colour": "#3a6ea5",
        "accent_colour": "#e8c060",
        "voice": VOICE,
    }
    base.update(kw)
    return CharacterDesign.model_validate(base)


def _alpha(fig: Figure) -> np.ndarray:
    return np.asarray(fig.image.getchannel("A")) > 127


FACES = ["oval", "round", "long", "square"]
EYES = ["round", "almond", "narrow", "sleepy"]


def test_face_shapes_change_the_head() -> None:
    figs = {f: render_figure(_design(face=f), height_px=600) for f in FACES}
    ratio = {}
    for f, fig in figs.items():
        x0, y0, x1, y1 = fig.face
        ratio[f] = (x1 - x0) / (y1 - y0)
    # long faces are narrow and tall, round ones wide and short
    assert ratio["long"] < ratio["oval"] < ratio["square"] < ratio["round"]
    # the head silhouettes (crown to chin) differ pairwise
    heads = {}
    for f, fig in figs.items():
        a = _alpha(fig)
        cx = (fig.face[0] + fig.face[2]) // 2
        heads[f] = a[: fig.face[3], cx - 60 : cx + 60]
    for i, a in enumerate(FACES):
        for b in FACES[i + 1 :]:
            h = min(heads[a].shape[0], heads[b].shape[0])
            assert (heads[a][:h] != heads[b][:h]).mean() > 0.02, (a, b)


def test_eye_shapes_change_the_eyes() -> None:
    white = {}
    crops = set()
    for e in EYES:
        fig = render_figure(_design(eyes=e), height_px=900)
        x0, y0, x1, y1 = fig.face
        rgb = np.asarray(fig.image.convert("RGB"))[y0:y1, x0:x1].astype(int)
        white[e] = int((rgb.min(axis=2) > 240).sum())
        crops.add(fig.image.crop(fig.face).tobytes())
    assert len(crops) == len(EYES)
    # big round manhua eyes show the most white, narrow and half-lidded eyes the least
    assert white["round"] > white["almond"] > white["narrow"]
    assert white["round"] > white["sleepy"]


@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize("eyes", EYES)
def test_every_face_and_eye_shape_keeps_its_boxes(face: str, eyes: str) -> None:
    d = _design(face=face, eyes=eyes, outfit="jacket", hair_style=HairStyle.bob)
    skin = np.array((0xF2, 0xD3, 0xB3))
    for view, facing in (("front", "front"), ("three_quarter", "left"), ("side", "right")):
        fig = render_figure(d, height_px=400, view=view, facing=facing)  # type: ignore[arg-type]
        w, h = fig.image.size
        rgb = np.asarray(fig.image.convert("RGB")).astype(float)
        for box in (fig.face, fig.hair, fig.outfit, fig.mouth):
            x0, y0, x1, y1 = box
            assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
        assert fig.hair[1] < fig.face[1] < fig.outfit[1]
        fx0, fy0, fx1, fy1 = fig.face
        # (the mouth box is grown by a line width to hold the lips' ink)
        assert fx0 - 5 <= fig.mouth[0] and fig.mouth[2] <= fx1 + 5
        assert fy0 < (fig.mouth[1] + fig.mouth[3]) / 2 < fy1
        face_px = rgb[fy0:fy1, fx0:fx1].reshape(-1, 3)
        assert (np.linalg.norm(face_px - skin * 0.9, axis=1) < 60).mean() > 0.4
        for box, colour in ((fig.hair, (0x2A, 0x1C, 0x1C)), (fig.outfit, (0x3A, 0x6E, 0xA5))):
            x0, y0, x1, y1 = box
            patch = rgb[y0:y1, x0:x1].reshape(-1, 3)
            # the continuity checker needs a quarter of the box near the design colour
            close = np.linalg.norm(patch - colour, axis=1) < 45
            assert close.mean() > 0.3, (view, box, close.mean())


@pytest.mark.parametrize("face", FACES)
def test_mouth_and_blink_stay_local_for_every_face(face: str) -> None:
    d = _design(face=face, eyes="sleepy" if face == "long" else "almond")
    for view, facing in (("front", "front"), ("three_quarter", "right")):
        base = render_figure(d, height_px=500, view=view, facing=facing)  # type: ignore[arg-type]
        opened = render_figure(d, height_px=500, view=view, facing=facing, mouth_open=1.0)  # type: ignore[arg-type]
        a = np.asarray(base.image).astype(int)
        b = np.asarray(opened.image).astype(int)
        assert a.shape == b.shape
        x0, y0, x1, y1 = base.mouth
        assert np.abs(a[y0:y1, x0:x1] - b[y0:y1, x0:x1]).sum() > 0
        a[y0:y1, x0:x1] = 0
        b[y0:y1, x0:x1] = 0
        assert np.array_equal(a, b)
        shut = render_figure(d, height_px=500, view=view, facing=facing, eyes_closed=True)  # type: ignore[arg-type]
        c = np.asarray(shut.image).astype(int)
        diff = np.argwhere(np.any(c != np.asarray(base.image).astype(int), axis=2))
        assert len(diff) > 0
        fx0, fy0, fx1, fy1 = base.face
        assert diff[:, 1].min() >= fx0 - 5 and diff[:, 1].max() <= fx1 + 5
        assert diff[:, 0].min() >= fy0 - 6 and diff[:, 0].max() <= (fy0 + fy1) / 2 + 4


def test_build_and_height_change_the_silhouette() -> None:
    widths = {}
    for b in ("slim", "average", "broad"):
        fig = render_figure(_design(build=b), height_px=600)
        a = _alpha(fig)
        chest = fig.outfit[1] + 4
        row = np.nonzero(a[chest])[0]
        widths[b] = row.max() - row.min()
        head_w = fig.face[2] - fig.face[0]
        widths[b + "/head"] = widths[b] / head_w
    assert widths["slim"] < widths["average"] < widths["broad"]
    assert widths["broad/head"] > 1.5 * widths["slim/head"]
    # taller designs have relatively smaller heads and longer legs
    short = render_figure(_design(height=0.85), height_px=600)
    tall = render_figure(_design(height=1.15), height_px=600)
    assert (tall.face[3] - tall.face[1]) < 0.9 * (short.face[3] - short.face[1])
    assert tall.outfit[3] < short.outfit[3]


def _width_at(fig: Figure, frac: float) -> int:
    a = _alpha(fig)
    row = np.nonzero(a[round(fig.feet_y * frac)])[0]
    return int(row.max() - row.min())


def test_garments_have_their_own_silhouettes() -> None:
    def fig(outfit: str) -> Figure:
        return render_figure(_design(outfit=outfit), height_px=600)

    trousers, coat, dress, jacket = (
        fig("shirt and trousers"),
        fig("long coat"),
        fig("summer dress"),
        fig("short jacket"),
    )
    # below the knee only the long garments reach out
    assert _width_at(coat, 0.72) > 1.5 * _width_at(trousers, 0.72)
    assert _width_at(dress, 0.72) > 1.5 * _width_at(trousers, 0.72)
    # a short jacket flares over the hips
    assert _width_at(jacket, 0.52) > _width_at(trousers, 0.52)
    # a vest over a shirt shows sleeves of another colour than the vest
    vest = fig("vest and shirt")
    rgb = np.asarray(vest.image.convert("RGB")).astype(int)
    x0, y0, x1, y1 = vest.outfit
    assert np.linalg.norm(rgb[(y0 + y1) // 2, (x0 + x1) // 2] - (0x3A, 0x6E, 0xA5)) < 60
    a = _alpha(vest)
    row = np.nonzero(a[(y0 + y1) // 2])[0]
    sleeve = rgb[(y0 + y1) // 2, row.min() + 10]
    assert np.linalg.norm(sleeve - (0x3A, 0x6E, 0xA5)) > 60


def test_stances_follow_the_face_and_survive_gestures(room: LocationDesign) -> None:
    crossed = _design(face="long")
    akimbo = _design(face="square")
    a = render_figure(crossed, height_px=500)
    b = render_figure(akimbo, height_px=500)
    # fists on hips put the elbows out: the widest row is at the elbows, not the shoulders
    aw = _alpha(b)
    elbow_row = round(b.feet_y * 0.31)
    shoulder_row = round(b.feet_y * 0.21)
    assert np.count_nonzero(aw[elbow_row]) > np.count_nonzero(aw[shoulder_row])
    assert a.image.tobytes() != b.image.tobytes()
    cast = {"Long": crossed.model_copy(update={"name": "Long"})}
    cam = Camera(x=6.0, y=1.4, view_width=3.0)
    shot = _shot(cam, [_block("Long", 6.0, "right", speaking=True)]).model_copy(
        update={"text": "Stop right there!"}
    )
    layers = stage_shot(shot, room, cast)
    assert layers.gesture
    rest = compose_frame(layers, frame=0)
    up = compose_frame(layers, frame=0, gesture=1.0)
    assert np.any(rest != up)


def _whole_frame_finish(cv: Canvas, light: Lighting, tone_scale: float) -> np.ndarray:
    """Canvas.finish's definition on whole-frame arrays (what the fast form must equal)."""
    base = np.asarray(cv.rgb.reduce(SUPERSAMPLE), dtype=np.float32)
    lit = base * light_tint(light)
    emit = np.asarray(cv.emit.reduce(SUPERSAMPLE), dtype=np.float32) * (1.0 / 255.0)
    lit += (base - lit) * emit[..., None]
    tone = np.asarray(cv.tone.reduce(SUPERSAMPLE), dtype=np.float32) * (tone_scale / 255.0)
    yy, xx = np.mgrid[0 : cv.h, 0 : cv.w]
    tile = _dot_tile()
    dots = tile[(yy + cv.oy) % tile.shape[0], (xx + cv.ox) % tile.shape[1]]
    lit -= (lit - np.array(INK, dtype=np.float32)) * (tone * (0.12 + 0.38 * dots))[..., None]
    yy, xx = yy.astype(np.float32), xx.astype(np.float32)
    for g in cv.glows:
        d = np.sqrt((xx + cv.ox - g.x) ** 2 + (yy + cv.oy - g.y) ** 2) / g.r
        f = np.clip(1.0 - d, 0.0, 1.0) ** 2 * g.strength
        lit += f[..., None] * np.array(g.colour, dtype=np.float32)
    return np.clip(lit + 0.5, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("light", LIGHTS.values(), ids=LIGHTS)
def test_canvas_finish_equals_its_whole_frame_definition(light: Lighting) -> None:
    """Channel by channel and inside the masks' boxes, byte for byte the whole-frame result:
    random shapes, tone and glow at random origins, masks touching the edges or empty."""
    rng = np.random.default_rng(5)
    for trial in range(24):
        w, h = (int(v) for v in rng.integers(3, 160, size=2))
        origin = (int(rng.integers(-40, 900)), int(rng.integers(-40, 500)))
        cv = Canvas(origin, (w, h), transparent=bool(trial % 2))

        def shape(cv: Canvas = cv) -> list[tuple[float, float]]:
            n = int(rng.integers(3, 7))
            xs = cv.ox + rng.uniform(-0.3, 1.3, n) * cv.w
            return list(zip(xs, cv.oy + rng.uniform(-0.3, 1.3, n) * cv.h, strict=True))

        for _ in range(int(rng.integers(0, 5))):
            cv.poly(shape(), tuple(int(v) for v in rng.integers(0, 256, 3)), line=1.5)
        for _ in range(int(rng.integers(0, 3)) if trial % 3 else 0):
            cv.add_tone(shape(), float(rng.uniform(0.1, 1.0)))
        for _ in range(int(rng.integers(0, 3)) if trial % 4 else 0):
            cv.add_emit(shape())
        for _ in range(int(rng.integers(0, 3))):
            x, y = origin[0] + rng.uniform(-0.2, 1.2) * w, origin[1] + rng.uniform(-0.2, 1.2) * h
            colour = tuple(int(v) for v in rng.integers(0, 256, 3))
            cv.glows.append(Glow(x, y, float(rng.uniform(2, 90)), colour, 0.6))
        scale = float(rng.uniform(0.5, 1.5))
        rgb, alpha = cv.finish(light, tone_scale=scale)
        assert np.array_equal(rgb, _whole_frame_finish(cv, light, scale)), trial
        assert (alpha is None) == (trial % 2 == 0)


def test_blend_and_effect_stamps_equal_their_rounding_formulas() -> None:
    """Alpha blending and stamping, done a channel at a time, give the integers of their
    formulas on whole pixels: (s*a + d*(255-a) + 127) // 255 and the same rounded by shifts."""
    rng = np.random.default_rng(9)
    frame = rng.integers(0, 256, (90, 160, 3), dtype=np.uint8)
    for x, y in [(-30, -20), (40, 25), (150, 80), (0, 0)]:
        rgba = rng.integers(0, 256, (50, 70, 4), dtype=np.uint8)
        rgba[..., 3][rng.random((50, 70)) < 0.4] = 255
        got = frame.copy()
        blend(got, rgba, x, y)
        want = frame.astype(np.int64)
        y0, y1, x0, x1 = max(0, y), min(90, y + 50), max(0, x), min(160, x + 70)
        src = rgba[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.int64)
        a = src[..., 3:4]
        want[y0:y1, x0:x1] = (src[..., :3] * a + want[y0:y1, x0:x1] * (255 - a) + 127) // 255
        assert np.array_equal(got, want), (x, y)
    for stamp in [*burst(30.0, 3), *speed_lines(160, 90, 4)]:
        for ax, ay in [(80, 45), (5, 88)]:
            cover = (lambda ys, xs: (ys * 7 + xs) % 256) if ax == 5 else None
            got = frame.copy()
            draw_stamp(got, place_stamp(stamp, ax, ay, (160, 90), cover))
            want = frame.astype(np.int64)
            ys, xs = stamp.dy + ay, stamp.dx + ax
            keep = (ys >= 0) & (ys < 90) & (xs >= 0) & (xs < 160)
            ys, xs = ys[keep], xs[keep]
            a = stamp.a[keep].astype(np.int64)
            if cover is not None:
                a = a * (255 - cover(ys, xs)) // 255
            v = stamp.rgb[:, keep].T * a[:, None] + want[ys, xs] * (255 - a[:, None]) + 128
            want[ys, xs] = (v + (v >> 8)) >> 8
            assert np.array_equal(got, want)


def test_a_face_region_equals_the_whole_figures_crop(
    mei: CharacterDesign, wei: CharacterDesign
) -> None:
    """The sheet's expression heads paint colours only near the head: byte for byte the crop
    of the whole figure, for every expression, also with the crop past the sprite's edge."""
    for design in (mei, wei):
        for emo in Emotion:
            fig = render_figure(design, height_px=1300, view="front", expression=emo)
            for region in (_head_crop, _past_the_top):
                want = fig.image.crop(region(fig.face))
                got = render_face_region(design, height_px=1300, expression=emo, region=region)
                assert np.array_equal(np.asarray(got), np.asarray(want)), (design.name, emo)


def _past_the_top(face: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = face
    return (x0 - 40, y0 - 400, x1 + 9, y1 - (y1 - y0) // 3)


def test_fill_rows_paints_each_row_its_colour() -> None:
    rng = np.random.default_rng(11)
    for w, h in ((1, 1), (1, 7), (9, 1), (2560, 1440), *rng.integers(1, 900, (6, 2)).tolist()):
        colours = rng.integers(0, 256, (h, 3), dtype=np.uint8)
        img = Image.new("RGB", (w, h), INK)
        fill_rows(img, colours)
        assert np.array_equal(np.asarray(img), np.broadcast_to(colours[:, None, :], (h, w, 3)))
