"""Staging a shot: the set, the characters placed by the blocking, their layers."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np

from inkreel.art.camera import (
    FIGURE_HEIGHT_M,
    HEIGHT,
    WIDTH,
    pixels_per_metre,
    project,
)
from inkreel.art.character.anatomy import Pose, View
from inkreel.art.character.figure import view_params
from inkreel.art.compositing import blend, over
from inkreel.art.geometry import BoxT, Pt, box_area, clip_box, shift_box, to_box, union_box
from inkreel.art.ink import line_widths
from inkreel.art.lighting import character_light, shot_light
from inkreel.art.set.plate import SetLayers, render_set
from inkreel.art.shot.actor import Actor, StagedShot, dress
from inkreel.art.shot.animation import Animation
from inkreel.art.shot.camera_moves import canvas_rect, pan_travel
from inkreel.schemas.design import (
    CharacterDesign,
    HairStyle,
    Layer,
    LocationDesign,
    Voice,
)
from inkreel.schemas.script import Emotion
from inkreel.schemas.storyboard import Blocking, Box, FigureLayout, Framing, Shot
from inkreel.seeds import seed_of

GESTURE_STEPS = 3  # rest, half way, full gesture
_ZOOM_GESTURE_STEPS = 2  # every pose costs a set of patches per zoom level


_EMPHATIC = (Emotion.angry, Emotion.surprised, Emotion.happy)


@dataclass
class PlacedSprite:
    """A character sprite: paste `rgba` with its top-left at frame position (x, y).

    Positions are at the keyframe framing; a sprite reaches past the frame only when the
    camera moves and will show more of the set.
    """

    character: str
    x: int
    y: int
    rgba: np.ndarray  # (h, w, 4) uint8, lit for the shot


@dataclass
class ShotLayers:
    """Everything needed to compose any frame of a shot cheaply."""

    background: np.ndarray  # (H, W, 3) uint8: the set at the keyframe framing, no characters
    sprites: list[PlacedSprite]
    speaker: str | None
    anim: Animation = field(repr=False)
    foreground: PlacedSprite | None = None  # set elements drawn over the characters
    base: np.ndarray | None = None  # the keyframe: mouths closed, eyes open, standing pose
    figures: list[FigureLayout] = field(default_factory=list)
    elements: dict[str, Box] = field(default_factory=dict)
    move: str = "static"  # the camera move these layers were staged for
    effects: list[str] = field(default_factory=list)
    gesture: bool = False  # the speaker gestures while the line is spoken

    @property
    def size(self) -> tuple[int, int]:
        """Return the frame size (width, height)."""
        h, w = self.background.shape[:2]
        return w, h


def _fallback_design(name: str) -> CharacterDesign:
    rng = random.Random(seed_of("cast", name))
    hair = rng.choice(["#2b2b2b", "#5a3a22", "#8a5a2a", "#1f2a44", "#b0a090"])
    outfit = rng.choice(["#446688", "#884444", "#4a7a52", "#7a5a8a", "#8a7a44"])
    accent = rng.choice(["#cc4444", "#e0b040", "#3a8ac0", "#e07a30", "#f0f0e8"])
    style = rng.choice(list(HairStyle))
    return CharacterDesign(
        name=name,
        hair_colour=hair,
        outfit_colour=outfit,
        accent_colour=accent,
        hair_style=style,
        voice=Voice(variant="m3", pitch=50, speed=170),
    )


def _gesture_pose(expression: Emotion, steps: int) -> list[Pose]:
    """Return the poses from standing to the full gesture for an emphatic line."""
    if expression == Emotion.happy:
        full = Pose(arm=0.0, tilt=7.0)
    elif expression == Emotion.surprised:
        full = Pose(arm=0.75, tilt=-5.0)
    else:
        full = Pose(arm=1.0, tilt=0.0)
    return [Pose(full.arm * i / (steps - 1), full.tilt * i / (steps - 1)) for i in range(steps)]


def _is_emphatic(expression: Emotion, text: str) -> bool:
    return expression in _EMPHATIC or text.rstrip().rstrip("\"'”’)").endswith(("!", "！"))


def stage_shot(
    shot: Shot,
    location: LocationDesign,
    cast: dict[str, CharacterDesign],
    size: tuple[int, int] = (WIDTH, HEIGHT),
    *,
    animate: bool = True,
) -> ShotLayers:
    """Render everything static in a shot once, so frames only paste small precomputed patches.

    With `animate` the poses, camera levels and effects of the whole shot are prepared too;
    without it (a keyframe) they are prepared on first use.
    """
    W, H = size
    move = str(shot.move)
    # Lips move for whoever the staging says is speaking (a chorus: several; a voice from
    # off screen: nobody), the first of them leading the camera and the gestures.
    speaking = {b.character for b in shot.blocking if b.speaking}
    speaker = next((b.character for b in shot.blocking if b.speaking), None)
    # Place everyone first (projection only): a push-in centres on the speaker's face.
    tint = character_light(location, shot.time_of_day)
    actors = [_actor(shot, b, cast, size, speaker, tint) for b in shot.blocking]
    zoom_centre = _zoom_centre(move, actors, speaker, size)
    rect = canvas_rect(move, size, zoom_centre)
    ox, oy = rect[0], rect[1]
    light = shot_light(location, shot.time_of_day)
    sl = render_set(
        location, light, shot.time_of_day, shot.camera, size, rect, split_mid=move == "pan"
    )
    for a in actors:  # from here on actors live in canvas coordinates
        a.fx -= ox
        a.fy -= oy
    placed, layouts = _place(actors, rect, size, speaking, animate)
    stage = StagedShot(
        size=size,
        origin=(ox, oy),
        move=move,
        bg=sl.background,
        mid=sl.midground,
        fg=sl.foreground,
        actors=placed,
        base=_base_canvas(move, sl, placed),
        speaker=speaker if any(a.name == speaker for a in placed) else None,
        effects=list(dict.fromkeys(shot.effects)),
        zoom_centre=zoom_centre,
        travel=pan_travel(W),
        direction=1,
        seed=seed_of(shot.location, shot.scene, shot.beat, shot.camera.model_dump_json()),
    )
    spk = next((a for a in placed if a.name == stage.speaker), None)
    if move == "pan" and spk is not None and spk.face is not None:
        # pan toward the speaker
        stage.direction = -1 if (spk.face[0] + spk.face[2]) / 2 < W / 2 else 1
    anim = Animation(stage)
    if move == "pan":
        background = sl.background[:, -ox : -ox + W].copy()
        assert sl.midground is not None
        blend(background, sl.midground[:, -ox : -ox + W], 0, 0)
    else:
        background = sl.background[-oy : -oy + H, -ox : -ox + W].copy()
    fg = sl.foreground
    layers = ShotLayers(
        background=background,
        sprites=[
            PlacedSprite(a.name, a.window[0] + ox, a.window[1] + oy, a.rest[0]) for a in placed
        ],
        speaker=speaker,
        anim=anim,
        foreground=PlacedSprite("", fg[0] + ox, fg[1] + oy, fg[2]) if fg is not None else None,
        figures=layouts,
        elements=sl.boxes,
        move=move,
        effects=stage.effects,
        gesture=spk is not None and len(spk.poses) > 1,
    )
    layers.base = anim.compose(anim.rest_states(), 0.0)
    if animate:
        anim.prepare()
    return layers


def _actor(
    shot: Shot,
    b: Blocking,
    cast: dict[str, CharacterDesign],
    size: tuple[int, int],
    speaker: str | None,
    tint: np.ndarray,
) -> Actor:
    """Place one blocked character in the frame (projection only), turned as the camera sees."""
    W, H = size
    cam = shot.camera
    design = cast.get(b.character) or _fallback_design(b.character)
    if b.facing == "front":
        view: View = "front"
        facing: str = "front"
    else:
        view = "three_quarter"
        facing = b.facing
        if cam.reverse:
            facing = "left" if facing == "right" else "right"
    others = [o for o in shot.blocking if o.character != b.character]
    if shot.framing == Framing.over_the_shoulder and speaker and b.character != speaker and others:
        view = "back"
    mirror, glance = view_params(view, facing)
    fx, fy = project(cam, b.world_x, 0.0, Layer.midground, W, H)
    actor = Actor(
        name=b.character,
        design=design,
        view=view,
        expression=b.expression,
        glance=glance,
        fx=fx,
        fy=fy,
        k=FIGURE_HEIGHT_M * design.height * pixels_per_metre(cam, W, Layer.midground) / 100.0,
        mirror=mirror,
        tint=tint,
        facing={"left": -1, "right": 1}.get(facing, 0),
    )
    if b.character == speaker and view != "back" and _is_emphatic(b.expression, shot.text):
        move = str(shot.move)
        steps = _ZOOM_GESTURE_STEPS if move in ("push_in", "pull_out") else GESTURE_STEPS
        actor.poses = _gesture_pose(b.expression, steps)
    return actor


def _zoom_centre(move: str, actors: list[Actor], speaker: str | None, size: tuple[int, int]) -> Pt:
    """Return where a push-in or pull-out centres: half way to the speaker's face."""
    W, H = size
    if move not in ("push_in", "pull_out"):
        return (W / 2, H / 2)
    face = next((a.marks()["face"] for a in actors if a.name == speaker), None)
    if face is None:
        return (W / 2, H / 2)
    fcx = min(max((face[0] + face[2]) / 2, 0.0), float(W))
    fcy = min(max((face[1] + face[3]) / 2, 0.0), float(H))
    return ((W / 2 + fcx) / 2, (H / 2 + fcy) / 2)


def _place(
    actors: list[Actor], rect: BoxT, size: tuple[int, int], speaking: set[str], animate: bool
) -> tuple[list[Actor], list[FigureLayout]]:
    """Dress every actor on the canvas (for a still, in the rest pose only); return those in
    it and where each shows in the frame."""
    ox, oy = rect[0], rect[1]
    CW, CH = rect[2] - rect[0], rect[3] - rect[1]
    layouts: list[FigureLayout] = []
    placed: list[Actor] = []
    for actor in actors:
        pose_marks = [actor.marks(p) for p in actor.poses]
        body = pose_marks[0]["all"]
        for mk in pose_marks[1:]:
            body = union_box(body, mk["all"])
        # room for the outline, and above the head for breathing
        pad = math.ceil(line_widths(actor.k * 100)[1]) + 2
        window = clip_box((body[0] - pad, body[1] - pad - 2, body[2] + pad, body[3] + pad), CW, CH)
        if box_area(window) == 0:
            continue
        marks = pose_marks[0]
        layout = _layout(actor.name, marks, (ox, oy), size)
        if layout is not None:
            layouts.append(layout)
        actor.face = shift_box(marks["face"], ox, oy) if "face" in marks else None
        dress(actor, window, (CW, CH), actor.name in speaking, full=animate)
        placed.append(actor)
    return placed, layouts


def _layout(
    name: str, marks: dict[str, BoxT], origin: tuple[int, int], size: tuple[int, int]
) -> FigureLayout | None:
    """Return where a character's body and parts show in the frame, or None if off frame."""
    W, H = size
    ox, oy = origin
    frame_body = shift_box(marks["all"], ox, oy)
    vis = clip_box(frame_body, W, H)
    if box_area(vis) == 0:
        return None

    def part(tag: str) -> Box | None:
        if tag not in marks:
            return None
        c = clip_box(shift_box(marks[tag], ox, oy), W, H)
        return to_box(c) if box_area(c) > 0 else None

    return FigureLayout(
        character=name,
        body=to_box(vis),
        face=part("face"),
        hair=part("hair"),
        outfit=part("outfit"),
        visible_fraction=min(1.0, box_area(vis) / max(1, box_area(frame_body))),
    )


def _base_canvas(move: str, sl: SetLayers, placed: list[Actor]) -> np.ndarray:
    """Compose the rest pose: RGB, or for a pan the RGBA midground layer it slides."""
    if move == "pan":
        assert sl.midground is not None
        mid = sl.midground.copy()
        for a in placed:
            over(mid, a.rest[0], a.window[0], a.window[1])
        return mid
    base = sl.background.copy()
    for a in placed:
        blend(base, a.rest[0], a.window[0], a.window[1])
    if sl.foreground is not None:
        fg = sl.foreground
        blend(base, fg[2], fg[0], fg[1])
    return base
