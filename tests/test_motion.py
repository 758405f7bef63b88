"""Tests for shot animation: idle motion, gestures, manga effects, camera moves, subtitles,
dissolves and the title card."""

from __future__ import annotations

from typing import cast

import numpy as np
import pytest

from inkreel.art.camera import HEIGHT, WIDTH, screen_x
from inkreel.art.shot.camera_moves import pan_travel
from inkreel.art.shot.frame import compose_frame, render_keyframe
from inkreel.art.shot.staging import ShotLayers, stage_shot
from inkreel.media import motion
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
from inkreel.schemas.storyboard import Blocking, Box, Camera, Effect, Framing, Move, Shot

VOICE = Voice(variant="m3", pitch=50, speed=170)
DAY = Lighting(ambient="#ffffff", sky="#a8d0f0", practicals_on=False, brightness=1.0)

MEI = CharacterDesign(
    name="Mei",
    build="slim",
    hair_style=HairStyle.ponytail,
    hair_colour="#2a1c1c",
    outfit="silk qipao",
    outfit_colour="#b8323a",
    accent_colour="#e8c060",
    voice=VOICE,
)
WEI = CharacterDesign(
    name="Wei",
    build="broad",
    hair_style=HairStyle.short,
    hair_colour="#c8c0a0",
    outfit="grey suit",
    outfit_colour="#5a6470",
    accent_colour="#2a6ac0",
    voice=VOICE,
)
CAST = {"Mei": MEI, "Wei": WEI}

PAINTING = SetElement(kind="painting", x=6.0, y=1.2, width=1.6, height=1.0, colour="#10c040")
TABLE = SetElement(
    kind="table", x=7.6, y=0.0, width=1.4, height=0.8, layer=Layer.midground, colour="#7a4a2a"
)
PLANT = SetElement(
    kind="plant", x=3.6, y=0.0, width=0.6, height=1.2, layer=Layer.foreground, colour="#3a7a3a"
)
ROOM = LocationDesign(
    name="Tea House",
    width=12.0,
    wall_colour="#d8c8a0",
    floor_colour="#7a5a3a",
    elements=[PAINTING, TABLE, PLANT],
    lighting={"day": DAY},
)

WIDE = Camera(x=6.0, y=1.6, view_width=9.0)
MEDIUM = Camera(x=6.1, y=1.35, view_width=3.6)
CLOSE = Camera(x=5.0, y=1.5, view_width=1.3)
# framed so low that the face sits where a bottom subtitle would go
LOW_CLOSE = Camera(x=5.0, y=1.7, view_width=0.9)


def _block(
    name: str,
    x: float,
    cam: Camera,
    facing: str = "front",
    *,
    speaking: bool = False,
    expression: Emotion = Emotion.neutral,
) -> Blocking:
    return Blocking(
        character=name,
        world_x=x,
        screen_x=screen_x(cam, x),
        facing=facing,
        speaking=speaking,
        expression=expression,
    )


def _shot(
    cam: Camera,
    blocking: list[Blocking],
    *,
    move: str = "static",
    effects: tuple[str, ...] = (),
    framing: Framing = Framing.medium,
    text: str = "",
) -> Shot:
    speaker = next((b.character for b in blocking if b.speaking), None)
    return Shot(
        id="s01-001",
        scene=1,
        beat=0,
        location="Tea House",
        time_of_day="day",
        framing=framing,
        angle="eye_level",
        move=Move(move),
        camera=cam,
        blocking=blocking,
        speaker=speaker,
        text=text,
        duration_s=2.0,
        effects=[cast(Effect, e) for e in effects],
    )


def _close_up(*, move: str = "static", effects: tuple[str, ...] = (), text: str = "") -> Shot:
    who = [_block("Mei", 5.0, CLOSE, "right", speaking=True)]
    return _shot(CLOSE, who, move=move, effects=effects, framing=Framing.close_up, text=text)


def _medium(*, effects: tuple[str, ...] = (), text: str = "") -> Shot:
    who = [
        _block("Mei", 5.5, MEDIUM, "right", speaking=True),
        _block("Wei", 6.8, MEDIUM, "left"),
    ]
    return _shot(MEDIUM, who, effects=effects, text=text)


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.argwhere(np.any(a != b, axis=2))


def _face(layers: ShotLayers, name: str) -> Box:
    face = next(f.face for f in layers.figures if f.character == name)
    assert face is not None
    return face


def _inside(points: np.ndarray, box: Box, grow: float) -> bool:
    ys, xs = points[:, 0], points[:, 1]
    return bool(
        xs.min() >= box.x0 - grow
        and xs.max() <= box.x1 + grow
        and ys.min() >= box.y0 - grow
        and ys.max() <= box.y1 + grow
    )


# --- manga effects ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plain() -> dict[str, ShotLayers]:
    return {
        "close": stage_shot(_close_up(), ROOM, CAST),
        "medium": stage_shot(_medium(), ROOM, CAST),
    }


@pytest.mark.parametrize("framing", ["close", "medium"])
@pytest.mark.parametrize("effect", ["emphasis_burst", "sweat_drop", "sparkle", "anger_mark"])
def test_effects_draw_near_the_speakers_face(
    plain: dict[str, ShotLayers], framing: str, effect: str
) -> None:
    shot = (_close_up if framing == "close" else _medium)(effects=(effect,))
    layers = stage_shot(shot, ROOM, CAST)
    base = plain[framing]
    face = _face(layers, "Mei")
    reach = 2.6 * max(face.x1 - face.x0, face.y1 - face.y0, 14)
    seen = 0
    for i in range(0, 24, 3):
        changed = _changed(compose_frame(base, frame=i), compose_frame(layers, frame=i))
        if len(changed):
            seen += 1
            assert _inside(changed, face, reach)
    assert seen >= 2  # the effect is there on most frames (sparkles twinkle out now and then)


def test_effects_animate() -> None:
    for effect in ("emphasis_burst", "sweat_drop", "sparkle", "anger_mark", "speed_lines"):
        layers = stage_shot(_close_up(effects=(effect,)), ROOM, CAST)
        frames = {compose_frame(layers, frame=i).tobytes() for i in range(0, 24, 2)}
        assert len(frames) > 2, effect


def test_speed_lines_cover_the_set_but_not_the_characters(
    plain: dict[str, ShotLayers],
) -> None:
    layers = stage_shot(_medium(effects=("speed_lines",)), ROOM, CAST)
    a = compose_frame(plain["medium"], frame=5)
    b = compose_frame(layers, frame=5)
    changed = _changed(a, b)
    # streaks reach the frame's corners, far from any face
    assert changed[:, 1].min() < 60 and changed[:, 1].max() > WIDTH - 60
    assert changed[:, 0].min() < 60 and changed[:, 0].max() > HEIGHT - 60
    # but stay behind the characters: the faces are untouched
    for name in ("Mei", "Wei"):
        f = _face(layers, name)
        assert np.array_equal(a[f.y0 : f.y1, f.x0 : f.x1], b[f.y0 : f.y1, f.x0 : f.x1])


def test_keyframe_has_no_effects_nor_idle_motion(plain: dict[str, ShotLayers]) -> None:
    shot = _medium(effects=("emphasis_burst", "speed_lines"))
    layers = stage_shot(shot, ROOM, CAST)
    key = np.asarray(render_keyframe(shot, ROOM, CAST)[0])
    assert np.array_equal(key, compose_frame(plain["medium"]))
    assert np.array_equal(key, compose_frame(layers))


# --- idle motion and gestures ----------------------------------------------------------------


def test_breathing_moves_only_the_characters(plain: dict[str, ShotLayers]) -> None:
    layers = plain["medium"]
    frames = [compose_frame(layers, frame=i) for i in range(0, 48, 4)]
    # where the sprites are opaque at all (outline included)
    drawn = np.zeros((HEIGHT, WIDTH), bool)
    for sp in layers.sprites:
        h, w = sp.rgba.shape[:2]
        drawn[sp.y : sp.y + h, sp.x : sp.x + w] |= sp.rgba[..., 3] > 0
    # a rising body covers a couple of rows above its edges and uncovers some below them
    near = drawn.copy()
    for d in (1, 2, 3):
        near[d:] |= drawn[:-d]
        near[:-d] |= drawn[d:]
    moved = 0
    for frame in frames[1:]:
        changed = _changed(frames[0], frame)
        if not len(changed):
            continue
        moved += 1
        assert near[changed[:, 0], changed[:, 1]].all()
    assert moved >= len(frames) // 2


def test_breathing_rises_by_a_pixel_or_two(plain: dict[str, ShotLayers]) -> None:
    layers = plain["close"]
    top = _face(layers, "Mei").y0
    frames = [compose_frame(layers, frame=i) for i in range(0, 100, 2)]
    # the outline at the crown: first ink row above the face, per frame
    col = (_face(layers, "Mei").x0 + _face(layers, "Mei").x1) // 2
    crowns = []
    for f in frames:
        column = f[: top + 1, col - 2 : col + 3].astype(int).sum(axis=2).mean(axis=1)
        crowns.append(int(np.argmax(column < 200)))
    assert 1 <= max(crowns) - min(crowns) <= 2


def test_characters_blink_on_their_own(plain: dict[str, ShotLayers]) -> None:
    layers = plain["medium"]
    blinks: dict[str, set[int]] = {"Mei": set(), "Wei": set()}
    bright: dict[str, list[int]] = {"Mei": [], "Wei": []}
    frames = range(0, 240)
    for i in frames:
        img = compose_frame(layers, frame=i)
        for name in blinks:
            f = _face(layers, name)
            region = img[f.y0 : f.y1, f.x0 : f.x1].astype(int)
            # eye whites are the only near-white pixels on these faces
            bright[name].append(int((region.min(axis=2) > 235).sum()))
    for name, counts in bright.items():
        open_eyes = int(np.median(counts))
        assert open_eyes > 10
        blinks[name] = {i for i, c in zip(frames, counts, strict=True) if c < open_eyes * 0.3}
        assert 2 <= len(blinks[name]) <= 30
    assert blinks["Mei"] != blinks["Wei"]
    assert blinks["Mei"] - blinks["Wei"] and blinks["Wei"] - blinks["Mei"]


def test_emphatic_lines_get_a_gesture() -> None:
    calm = stage_shot(_close_up(text="The tea is ready."), ROOM, CAST)
    assert not calm.gesture
    shout = stage_shot(_close_up(text="Give it back!"), ROOM, CAST)
    assert shout.gesture
    angry = [_block("Mei", 5.0, CLOSE, "right", speaking=True, expression=Emotion.angry)]
    assert stage_shot(_shot(CLOSE, angry, text="Fine."), ROOM, CAST).gesture
    rest = compose_frame(shout)
    half = compose_frame(shout, gesture=0.5)
    full = compose_frame(shout, gesture=1.0)
    assert not np.array_equal(rest, half) and not np.array_equal(half, full)
    sprite = next(sp for sp in shout.sprites if sp.character == "Mei")
    h, w = sprite.rgba.shape[:2]
    changed = _changed(rest, full)
    assert _inside(changed, Box(x0=sprite.x, y0=sprite.y, x1=sprite.x + w, y1=sprite.y + h), 0)
    # the gesture follows the line: still before it, raised during it
    frame = motion.shot_frames(shout, 48, "static", np.full(30, 0.0), 10)
    assert not np.array_equal(frame(4), frame(30))


# --- camera moves ----------------------------------------------------------------------------


def _best_shift(a: np.ndarray, b: np.ndarray, box: tuple[int, int, int, int]) -> int:
    """Return d such that b shows at x + d what a shows at x, inside box (columns of a)."""
    x0, y0, x1, y1 = box
    patch = a[y0:y1, x0:x1].astype(int)
    scores = {}
    for d in range(-90, 91):
        if x0 + d < 0 or x1 + d > b.shape[1]:
            continue
        scores[d] = np.abs(b[y0:y1, x0 + d : x1 + d].astype(int) - patch).mean()
    return min(scores, key=scores.__getitem__)


def test_pan_slides_layers_by_whole_pixels_with_parallax() -> None:
    shot = _shot(WIDE, [_block("Mei", 5.0, WIDE, "right")], move="pan", framing=Framing.wide)
    layers = stage_shot(shot, ROOM, CAST)
    travel = pan_travel(WIDTH)
    tb, tm, tf = (travel[layer] for layer in (Layer.background, Layer.midground, Layer.foreground))
    assert 0 < tb < tm < tf and tb % 2 == 0
    frames = 25
    frame = motion.shot_frames(layers, frames, "pan", None, 0)
    first, last = frame(0), frame(frames - 1)
    # no speaker: the camera moves right, so the set slides left, the back wall by exactly tb
    band = slice(0, 60)  # ceiling and wall: background only
    assert np.array_equal(last[band, : WIDTH - tb], first[band, tb:])
    # nearer layers slide further
    mei = next(f.body for f in layers.figures)
    plant = layers.elements["2"]
    mid_shift = _best_shift(first, last, (mei.x0 + 4, mei.y0, mei.x1 - 4, mei.y1))
    fg_shift = _best_shift(first, last, (plant.x0 + 10, plant.y0, plant.x1, plant.y1 - 4))
    assert abs(mid_shift + tm) <= 1
    assert abs(fg_shift + tf) <= 1
    # the middle frame is the keyframe's framing
    key = compose_frame(layers)
    middle = frame(frames // 2)
    assert np.abs(middle.astype(int) - key).mean() < 0.5


def test_pan_keeps_static_frames_when_not_asked_to_move() -> None:
    shot = _shot(WIDE, [_block("Mei", 5.0, WIDE, "right")], move="pan", framing=Framing.wide)
    layers = stage_shot(shot, ROOM, CAST)
    frame = motion.shot_frames(layers, 25, "static", None, 0)
    band = slice(0, 60)
    assert np.array_equal(frame(0)[band], frame(24)[band])


@pytest.mark.parametrize("move", ["push_in", "pull_out"])
def test_zoom_matches_the_keyframe_in_the_middle(move: str) -> None:
    shot = _close_up(move=move)
    layers = stage_shot(shot, ROOM, CAST)
    key = np.asarray(render_keyframe(shot, ROOM, CAST)[0]).astype(int)
    frames = 31
    frame = motion.shot_frames(layers, frames, move, None, 0)
    first, middle, last = frame(0), frame(frames // 2), frame(frames - 1)
    assert np.abs(middle - key).mean() < 0.6  # only idle motion differs
    assert np.abs(first - key).mean() > 3
    assert np.abs(last - key).mean() > 3
    # pushing in magnifies the set: the painting's green frame gets thicker
    bar = [int(((f[200, :, 1] > 150) & (f[200, :, 0] < 80)).sum()) for f in (first, last)]
    assert (bar[1] > bar[0] + 3) == (move == "push_in")
    assert (bar[0] > bar[1] + 3) == (move == "pull_out")


def test_zoom_without_characters_is_exact_in_the_middle() -> None:
    shot = _shot(CLOSE, [], move="push_in", framing=Framing.close_up)
    layers = stage_shot(shot, ROOM, CAST)
    key = np.asarray(render_keyframe(shot, ROOM, CAST)[0])
    frame = motion.shot_frames(layers, 21, "push_in", None, 0)
    assert np.array_equal(frame(10), key)


# --- subtitles -------------------------------------------------------------------------------


def _band(text: str, avoid: list[Box] | None = None) -> motion.SubtitleBand:
    [band] = motion.subtitle_bands([(text, 0, 10)], WIDTH, HEIGHT, avoid or [])
    return band


def test_subtitle_band_avoids_faces() -> None:
    bottom = _band("Where is the map?")
    assert bottom.rgba.shape[1] == WIDTH and bottom.top > HEIGHT // 2
    low_face = Box(x0=500, y0=bottom.top, x1=800, y1=HEIGHT)
    assert _band("Where is the map?", [low_face]).top < HEIGHT // 4
    side_face = Box(x0=0, y0=bottom.top, x1=120, y1=HEIGHT)
    high_face = Box(x0=500, y0=40, x1=800, y1=300)
    assert _band("Where is the map?", [side_face, high_face]).top == bottom.top


def _subtitle_rows(layers: ShotLayers) -> np.ndarray:
    said = [("Do you see it? Right here.", 0, 12)]
    with_sub = motion.shot_frames(layers, 12, "static", None, 0, said)
    without = motion.shot_frames(layers, 12, "static", None, 0)
    return np.unique(_changed(without(3), with_sub(3))[:, 0])


def test_subtitle_moves_to_the_top_in_a_low_close_up() -> None:
    low = _shot(
        LOW_CLOSE,
        [_block("Mei", 5.0, LOW_CLOSE, "front", speaking=True)],
        framing=Framing.close_up,
    )
    layers = stage_shot(low, ROOM, CAST)
    face = _face(layers, "Mei")
    assert face.y1 > HEIGHT - HEIGHT // 5  # a bottom band would sit on the face
    rows = _subtitle_rows(layers)
    assert rows.max() < HEIGHT // 4


def test_subtitle_stays_at_the_bottom_when_faces_are_clear(
    plain: dict[str, ShotLayers],
) -> None:
    rows = _subtitle_rows(plain["medium"])
    assert rows.min() > HEIGHT * 3 // 4


# --- dissolve and title card -----------------------------------------------------------------


def test_dissolve_ends_on_the_next_shot(plain: dict[str, ShotLayers]) -> None:
    layers = plain["close"]
    target = compose_frame(plain["medium"], frame=0)
    frames, fade = 20, 6
    plain_frame = motion.shot_frames(layers, frames, "static", None, 0, [("Hello.", 0, frames)])
    frame = motion.shot_frames(
        layers,
        frames,
        "static",
        None,
        0,
        [("Hello.", 0, frames)],
        dissolve_into=target,
        dissolve_frames=fade,
    )
    assert np.array_equal(frame(frames - fade - 1), plain_frame(frames - fade - 1))
    assert np.abs(frame(frames - 1).astype(int) - target).max() <= 1
    mid = frame(frames - fade // 2 - 1).astype(int)
    a, b = plain_frame(frames - fade // 2 - 1).astype(int), target.astype(int)
    assert np.abs(mid - (a + b) / 2).mean() < 3
    with pytest.raises(ValueError):
        motion.shot_frames(
            layers, frames, "static", None, 0, dissolve_into=target[:10], dissolve_frames=3
        )


@pytest.mark.parametrize(
    ("title", "logline"),
    [
        ("The Jade Dragon", "A detective chases a stolen jade dragon through the night market."),
        ("李雷与旧地图", "李雷在旧书店里发现了一张会动的地图。"),
    ],
)
def test_title_card(title: str, logline: str) -> None:
    frame = motion.title_card_frames(title, logline)
    first, last = frame(0), frame(72)
    assert first.shape == (720, 1280, 3) and first.dtype == np.uint8
    assert not np.array_equal(first, last)
    assert np.abs(first.astype(int) - last).mean() > 2
    assert np.array_equal(motion.title_card_frames(title, logline)(72), last)
    small = motion.title_card_frames(title, logline, (640, 360))(30)
    assert small.shape == (360, 640, 3)


# --- determinism -----------------------------------------------------------------------------


def test_frames_are_deterministic() -> None:
    shot = _shot(
        WIDE,
        [_block("Mei", 5.0, WIDE, "right", speaking=True), _block("Wei", 7.0, WIDE, "left")],
        move="pan",
        framing=Framing.wide,
        effects=("sparkle", "speed_lines"),
        text="Look!",
    )
    env = np.abs(np.sin(np.arange(20) / 2.0))

    def render() -> list[bytes]:
        layers = stage_shot(shot, ROOM, CAST)
        frame = motion.shot_frames(layers, 20, "pan", env, 0, [("Look!", 0, 20)])
        return [frame(i).tobytes() for i in range(0, 20, 3)]

    assert render() == render()
