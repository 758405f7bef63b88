"""A character placed in a shot and drawn in every pose, and the staged shot they stand in."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from inkreel.art.character.anatomy import REST_POSE, Pose, View, body_shape
from inkreel.art.character.face import MOUTH_LEVELS
from inkreel.art.character.figure import figure_ops, marks_px
from inkreel.art.geometry import BoxT, Pt, grow_box, intersect_box
from inkreel.art.ink import DisplayList, line_widths, paint_ops
from inkreel.schemas.design import (
    CharacterDesign,
    Layer,
)
from inkreel.schemas.script import Emotion

_BREATH_RAMP = (19.0, 46.0)  # reference units: shoulders and head rise fully, hands stay put


@dataclass
class Actor:
    """A character placed in a shot: everything needed to redraw any part of its sprite.

    Coordinates are canvas pixels (the canvas is the frame, grown when the camera moves).
    """

    name: str
    design: CharacterDesign
    view: View
    expression: Emotion
    glance: float
    fx: float
    fy: float
    k: float
    mirror: bool
    tint: np.ndarray
    poses: list[Pose] = field(default_factory=lambda: [REST_POSE])
    window: BoxT = (0, 0, 0, 0)
    rest: list[np.ndarray] = field(default_factory=list)  # RGBA over `window`, per pose
    eye_win: list[BoxT | None] = field(default_factory=list)
    mouth_win: list[BoxT | None] = field(default_factory=list)
    eyes: list[np.ndarray | None] = field(default_factory=list)  # closed eyes, per pose
    mouths: list[list[np.ndarray]] = field(default_factory=list)  # open levels 1.., per pose
    rows: list[np.ndarray] = field(default_factory=list)  # source row per breath level
    face: BoxT | None = None
    facing: int = 0  # +1 screen right, -1 screen left, 0 the camera
    # Dressed for a still only (the rest pose, no blink or mouth shapes): `dress` again with
    # `full` before animating. The canvas size and speaking flag are kept for that.
    still_only: bool = False
    canvas: tuple[int, int] = (0, 0)
    speaking: bool = False
    # Each pose's display list at rest, built once: placing, measuring and dressing all ask
    # for it (the blink and mouth variants are asked for once; ~150 KB a list).
    _at_rest: dict[Pose, DisplayList] = field(default_factory=dict, repr=False, compare=False)

    def ops(self, mouth_open: float, eyes_closed: bool, pose: Pose = REST_POSE) -> DisplayList:
        if mouth_open or eyes_closed:
            return self._build(mouth_open, eyes_closed, pose)
        if pose not in self._at_rest:
            self._at_rest[pose] = self._build(0.0, False, pose)
        return self._at_rest[pose]

    def _build(self, mouth_open: float, eyes_closed: bool, pose: Pose) -> DisplayList:
        return figure_ops(
            self.design, self.view, self.expression, mouth_open, eyes_closed, self.glance, pose
        )

    def paint(self, fig: DisplayList, window: BoxT) -> np.ndarray:
        img = paint_ops(fig, fx=self.fx, fy=self.fy, k=self.k, mirror=self.mirror, window=window)
        rgba = np.asarray(img).copy()
        rgba[..., :3] = np.clip(rgba[..., :3] * self.tint + 0.5, 0, 255).astype(np.uint8)
        return rgba

    def marks(self, pose: Pose = REST_POSE) -> dict[str, BoxT]:
        return marks_px(self.ops(0.0, False, pose), self.fx, self.fy, self.k, self.mirror)

    @property
    def amp(self) -> int:
        return len(self.rows) - 1

    def sprite(self, g: int, b: int, eyes: bool = False, mouth: int = 0) -> np.ndarray:
        """Return the sprite over `window` in pose g, breath level b, eyes and mouth as asked."""
        spr = self.rest[g]
        if eyes or mouth:
            spr = spr.copy()
            wx, wy = self.window[:2]
            win = self.eye_win[g] if eyes else None
            var = self.eyes[g] if eyes else None
            if win is not None and var is not None:
                spr[win[1] - wy : win[3] - wy, win[0] - wx : win[2] - wx] = var
            mwin = self.mouth_win[g]
            if mouth and mwin is not None and self.mouths[g]:
                var = self.mouths[g][min(mouth, len(self.mouths[g])) - 1]
                spr[mwin[1] - wy : mwin[3] - wy, mwin[0] - wx : mwin[2] - wx] = var
        return spr[self.rows[b]] if b else spr


def _breath_rows(h: int, top: float, shoulder: float, anchor: float, rise: int) -> np.ndarray:
    """Map each sprite row to the row it shows when the upper body has risen by `rise` px."""
    y = np.arange(h, dtype=np.float32)
    # A close-up cuts the body above the hands: the stretch then happens inside the frame.
    anchor = min(anchor, h - 1.0)
    if anchor - shoulder < 0.25 * (anchor - top):
        shoulder = anchor - 0.25 * (anchor - top)
    span = max(anchor - shoulder, 1.0)
    r = rise * np.clip((anchor - y) / span, 0.0, 1.0)
    return np.clip(np.round(y + r), 0, h - 1).astype(np.intp)


def dress(
    actor: Actor, window: BoxT, canvas: tuple[int, int], speaking: bool, full: bool = True
) -> None:
    """Paint an actor's sprite in every pose, with its closed-eye and open-mouth variants; or,
    without `full` (a still), only the rest pose, which is all a keyframe shows."""
    CW, CH = canvas
    actor.window, actor.canvas, actor.speaking = window, canvas, speaking
    actor.still_only = not full
    actor.rest, actor.eye_win, actor.mouth_win, actor.eyes, actor.mouths = [], [], [], [], []
    if not full:
        actor.rest.append(actor.paint(actor.ops(0.0, False, actor.poses[0]), window))
        _breath(actor, window)
        return
    k = actor.k
    m = max(2, math.ceil(line_widths(k * 100)[0] * 2)) + 1
    for pose in actor.poses:
        mk = actor.marks(pose)
        actor.rest.append(actor.paint(actor.ops(0.0, False, pose), window))
        # eyes and mouth windows split at a line between them so they never overlap
        eye_w = mouth_w = None
        if "eyes" in mk:
            eye_w = grow_box(mk["eyes"], m, CW, CH)
        if speaking and "mouth" in mk:
            mouth_w = grow_box(mk["mouth"], m, CW, CH)
        if eye_w and mouth_w and eye_w[3] > mouth_w[1]:
            split = (mk["eyes"][3] + mk["mouth"][1]) // 2
            eye_w = (eye_w[0], eye_w[1], eye_w[2], split)
            mouth_w = (mouth_w[0], split, mouth_w[2], mouth_w[3])
        # variants are pasted into the sprite, so their windows must lie inside it
        eye_w = intersect_box(eye_w, window) if eye_w else None
        mouth_w = intersect_box(mouth_w, window) if mouth_w else None
        actor.eye_win.append(eye_w)
        actor.mouth_win.append(mouth_w)
        actor.eyes.append(actor.paint(actor.ops(0.0, True, pose), eye_w) if eye_w else None)
        actor.mouths.append(
            [
                actor.paint(actor.ops(level / MOUTH_LEVELS, False, pose), mouth_w)
                for level in range(1, MOUTH_LEVELS + 1)
            ]
            if mouth_w
            else []
        )
    _breath(actor, window)


def _breath(actor: Actor, window: BoxT) -> None:
    """The rows each breath level lifts (bigger figures breathe by two pixels, small ones by
    one, so neither looks still or bouncy)."""
    k = actor.k
    amp = 2 if k * 100 >= 300 else 1
    shp = body_shape(actor.design.build, actor.design.face, actor.design.height)
    ramp = (0.0, *(shp.body_y(u) for u in _BREATH_RAMP))
    crown, shoulder, hands = (actor.fy + (u - 100.0) * k - window[1] for u in ramp)
    h = window[3] - window[1]
    actor.rows = [_breath_rows(h, crown, shoulder, hands, rise) for rise in range(amp + 1)]


@dataclass
class StagedShot:
    """What `stage_shot` rendered, kept to prepare the animation (canvas coordinates)."""

    size: tuple[int, int]
    origin: tuple[int, int]  # frame position of the canvas's top-left pixel (<= 0)
    move: str
    bg: np.ndarray  # (h, w, 3): the set (with the midground unless the move is a pan)
    mid: np.ndarray | None  # pan only: the midground elements, RGBA
    fg: tuple[int, int, np.ndarray] | None
    actors: list[Actor]
    base: np.ndarray  # the rest pose composed: RGB, or for a pan the RGBA midground layer
    speaker: str | None
    effects: list[str]
    zoom_centre: Pt  # frame coordinates
    travel: dict[Layer, int]
    direction: int  # +1: a pan moves the camera right (the set slides left)
    seed: int
