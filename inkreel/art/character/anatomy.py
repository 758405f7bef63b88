"""A figure's body: proportions by build, poses, three-quarter warps, bent limbs, stances."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from inkreel.art.character.tables import BUILD, FACES, Build, Face
from inkreel.art.geometry import Pt, ellipse, lerp_pt
from inkreel.art.ink import DisplayList, stroke_poly

View = Literal["front", "three_quarter", "side", "back"]
Facing = Literal["left", "right", "front"]


_EYE_Y = 8.4  # eye line, figure units from the crown
_CHIN = 14.7  # chin of the reference (oval) face


@dataclass(frozen=True)
class Shape:
    """Where a design's head and body parts land in its 100-unit figure.

    Everything is drawn in reference units (an oval, average, 1.0-tall figure) and then
    mapped: the head is widened by the face shape, its jaw stretched below the eye line and
    the whole head scaled by the height (tall figures have smaller heads and longer legs); the
    body is moved down the piecewise-linear map of its landmarks (chin, neckline, crotch, sole).
    """

    build: Build
    face: Face
    hs: float  # head scale
    chin: float  # chin height after the head map
    src: tuple[float, ...]  # body landmarks, reference units
    dst: tuple[float, ...]  # where they land

    def head_y(self, y: float) -> float:
        low = self.face.low
        if y > _EYE_Y:
            y = _EYE_Y + (min(y, 15.6) - _EYE_Y) * low + max(0.0, y - 15.6)
        return y * self.hs

    def head(self, pts: Sequence[Pt]) -> list[Pt]:
        kx = self.face.sx * self.hs
        return [(x * kx, self.head_y(y)) for x, y in pts]

    def body_y(self, y: float) -> float:
        src, dst = self.src, self.dst
        if y <= src[0]:
            return dst[0] + (y - src[0]) * self.hs
        for i in range(1, len(src)):
            if y <= src[i] or i == len(src) - 1:
                t = (y - src[i - 1]) / (src[i] - src[i - 1])
                return dst[i - 1] + t * (dst[i] - dst[i - 1])
        return y  # pragma: no cover

    def body(self, pts: Sequence[Pt]) -> list[Pt]:
        return [(x, self.body_y(y)) for x, y in pts]


@lru_cache(maxsize=64)
def body_shape(build: str, face: str, height: float) -> Shape:
    b = BUILD.get(build, BUILD["average"])
    fc = FACES.get(face, FACES["oval"])
    hs = max(0.85, min(1.18, (1.0 / max(height, 0.5)) ** 0.75))
    probe = Shape(b, fc, hs, 0.0, (0.0,), (0.0,))
    chin = probe.head_y(_CHIN)
    neckline = chin + b.neck_len * hs
    crotch = neckline + 34.1 * (0.45 + 0.55 * hs)
    return Shape(b, fc, hs, chin, (_CHIN, 16.4, 50.5, 100.0), (chin, neckline, crotch, 100.0))


class Warp:
    """Turn front-view head/body geometry toward three-quarter view (facing screen right)."""

    def __init__(self, view: str):
        self.view = view

    def head(self, pts: Sequence[Pt]) -> list[Pt]:
        if self.view != "three_quarter":
            return list(pts)
        out = []
        for x, y in pts:
            x2 = x * 0.82 if x > 0 else x * 1.03
            x2 += max(0.0, y - 6.0) * 0.12
            out.append((x2, y))
        return out

    def body(self, pts: Sequence[Pt], shift: float = 0.0) -> list[Pt]:
        if self.view != "three_quarter":
            return list(pts)
        # The far (screen-right) half of the body is foreshortened more than the near half.
        return [((x * 0.72 if x > 0 else x * 0.9) + 0.3 + shift, y) for x, y in pts]

    def chest(self, pts: Sequence[Pt]) -> list[Pt]:
        """Warp things on the front of the torso (collar, tie): they ride toward the turn."""
        if self.view != "three_quarter":
            return list(pts)
        return [(x * 0.7 + 1.3, y) for x, y in pts]


@dataclass(frozen=True)
class Pose:
    """A gesture layered on the standing pose: 0 everywhere is the model-sheet pose."""

    arm: float = 0.0  # 0 hanging .. 1 forearm raised, fist in front of the chest
    tilt: float = 0.0  # head tilt in degrees, positive toward screen right (before mirroring)


REST_POSE = Pose()
_HEAD_TAGS = ("face", "eyes", "mouth", "hair")
NECK_PIVOT: Pt = (0.0, 13.6)


def _bent_limb(p0: Pt, p1: Pt, p2: Pt, w0: float, w1: float, w2: float) -> list[Pt]:
    """One outline for a limb bent at p1: a mitred inner elbow and a rounded outer one."""

    def unit(a: Pt, b: Pt) -> Pt:
        dx, dy = b[0] - a[0], b[1] - a[1]
        ln = math.hypot(dx, dy) or 1.0
        return dx / ln, dy / ln

    d1, d2 = unit(p0, p1), unit(p1, p2)
    n1, n2 = (-d1[1], d1[0]), (-d2[1], d2[0])
    turn = d1[0] * d2[1] - d1[1] * d2[0]
    sides: list[list[Pt]] = []
    for s in (1.0, -1.0):
        a0 = (p0[0] + s * n1[0] * w0 / 2, p0[1] + s * n1[1] * w0 / 2)
        a1 = (p1[0] + s * n1[0] * w1 / 2, p1[1] + s * n1[1] * w1 / 2)
        b1 = (p1[0] + s * n2[0] * w1 / 2, p1[1] + s * n2[1] * w1 / 2)
        b2 = (p2[0] + s * n2[0] * w2 / 2, p2[1] + s * n2[1] * w2 / 2)
        if abs(turn) < 0.05:
            mid = [((a1[0] + b1[0]) / 2, (a1[1] + b1[1]) / 2)]
        elif (turn > 0) == (s < 0):
            # outside of the bend: round it
            t0 = math.atan2(s * n1[1], s * n1[0])
            t1 = math.atan2(s * n2[1], s * n2[0])
            dt = (t1 - t0 + math.pi) % (2 * math.pi) - math.pi
            mid = [
                (
                    p1[0] + math.cos(t0 + dt * i / 5) * w1 / 2,
                    p1[1] + math.sin(t0 + dt * i / 5) * w1 / 2,
                )
                for i in range(6)
            ]
        else:
            # inside: where the two edges meet
            den = d1[0] * d2[1] - d1[1] * d2[0]
            t = ((b1[0] - a1[0]) * d2[1] - (b1[1] - a1[1]) * d2[0]) / den
            t = max(-w1 * 1.2, min(w1 * 0.6, t))
            mid = [(a1[0] + d1[0] * t, a1[1] + d1[1] * t)]
        sides.append([a0, *mid, b2])
    return sides[0] + sides[1][::-1]


def _stance_joints(stance: str, view: str, sg: float, b: Build, wst: float) -> tuple[Pt, Pt, Pt]:
    """Shoulder, elbow and wrist of an arm held in a character's stance (front-view units)."""
    S, ARM, dr = b.S, b.ARM, b.drop
    if view == "side":
        sh = (-0.4, 19.6 + dr * 0.3)
        elbow, wrist = {
            "akimbo": ((-3.6, 31.0), (0.4, 40.2)),
            "crossed": ((0.2, 31.8), (5.0, 29.4)),
        }.get(stance, ((0.6, 32.4), (4.2, 41.4)))
        return sh, elbow, wrist
    sh = (sg * (S - ARM * 0.1), 19.6 + dr * 0.8)
    if stance == "akimbo":
        elbow = (sg * (S + 2.4 + ARM * 0.45), 31.0)
        wrist = (sg * (wst + 0.9), 40.0)
    elif stance == "crossed":
        elbow = (sg * (S + 0.4), 31.6)
        reach = sg * (S + 0.4) - sg * (11.0 + S * 0.35)
        wrist = (max(-(S - ARM * 0.35), min(S - ARM * 0.35, reach)), 29.6 if sg > 0 else 31.8)
    else:  # clasped: hands together in front of the belly
        elbow = (sg * (S + 0.5), 32.2)
        wrist = (sg * 1.1, 41.6)
    return sh, elbow, wrist


def stance_arm(
    stance: str, view: str, sg: float, b: Build, wst: float, sleeve: str
) -> tuple[list[Pt], list[Pt], list[Pt], list[Pt] | None]:
    """Return (sleeve, cuff, hand, bare forearm or None) of an arm held in a stance."""
    sh, el, wr = _stance_joints(stance, view, sg, b, wst)
    a = b.ARM
    dx, dy = wr[0] - el[0], wr[1] - el[1]
    ln = math.hypot(dx, dy) or 1.0
    ux, uy = dx / ln, dy / ln
    widths = {
        "wide": (a * 1.1, a * 1.2, a * 1.75),
        "puffy": (a * 1.15, a * 1.3, a * 0.85),
    }.get(sleeve, (a * 1.05, a * 0.95, a * 0.85))
    bare = None
    if sleeve == "short":
        bare = _bent_limb(sh, el, wr, a * 0.8, a * 0.75, a * 0.66)
        end = lerp_pt(sh, el, 0.55)
        sl = _bent_limb(sh, lerp_pt(sh, end, 0.5), end, a * 1.1, a * 1.08, a * 1.05)
        vx, vy = end[0] - sh[0], end[1] - sh[1]
        vl = math.hypot(vx, vy) or 1.0
        cx, cy, half, back = end[0], end[1], a * 0.55, 1.2
        cux, cuy = vx / vl, vy / vl
    else:
        sl = _bent_limb(sh, el, wr, *widths)
        cx, cy, half, back = wr[0], wr[1], widths[2] / 2 + 0.05, 1.5
        cux, cuy = ux, uy
    nx, ny = -cuy * half, cux * half
    bx, by = cx - cux * back, cy - cuy * back
    cuff = [(bx + nx, by + ny), (cx + nx, cy + ny), (cx - nx, cy - ny), (bx - nx, by - ny)]
    if stance == "akimbo":
        hand = ellipse(wr[0] + ux * 1.4, wr[1] + uy * 1.4 + 0.3, 1.9, 2.1, 16)
    else:
        hand = ellipse(
            wr[0] + ux * 1.7, wr[1] + uy * 1.7, 1.75, 1.75 if stance == "crossed" else 2.2, 16
        )
    return sl, cuff, hand, bare


def raised_arm(
    sg: float, t: float, S: float, ARM: float, side: bool, sleeve: str = "long", drop: float = 0.0
) -> tuple[list[Pt], list[Pt], list[Pt], list[Pt] | None]:
    """Return (sleeve, cuff, fist, bare forearm or None) of an arm bent up by `t`."""
    sx = -0.4 if side else sg * (S - ARM * 0.1)
    sy = 19.6 + drop * (0.3 if side else 0.8)
    shoulder = (sx, sy)
    # upper arm swings a little forward/out, the forearm rotates from hanging to pointing up
    a_up = math.radians(90.0 - (28.0 if side else 18.0) * t)
    upper = 13.0
    elbow = (sx + sg * math.cos(a_up) * upper, sy + math.sin(a_up) * upper)
    a_fore = math.radians(90.0 + (-165.0 if side else 142.0) * t)
    fore = 12.0
    dx = math.cos(a_fore) * fore
    # Seen from the front the forearm folds in across the chest; from the side it comes forward.
    wrist = (elbow[0] + (dx if side else sg * dx), elbow[1] + math.sin(a_fore) * fore)
    chain = [
        shoulder,
        lerp_pt(shoulder, elbow, 0.5),
        elbow,
        lerp_pt(elbow, wrist, 0.5),
        wrist,
    ]
    ux, uy = wrist[0] - elbow[0], wrist[1] - elbow[1]
    ln = math.hypot(ux, uy) or 1.0
    ux, uy = ux / ln, uy / ln
    bare = None
    if sleeve == "short":
        bare = stroke_poly(chain, (ARM * 0.8, ARM * 0.75, ARM * 0.7), 0.5)
        up = [shoulder, lerp_pt(shoulder, elbow, 0.3), lerp_pt(shoulder, elbow, 0.62)]
        sl = stroke_poly(up, (ARM * 1.15, ARM * 1.12, ARM * 1.1), 0.5)
        ex, ey = up[-1]
        vx, vy = ex - shoulder[0], ey - shoulder[1]
        vl = math.hypot(vx, vy) or 1.0
        vx, vy = vx / vl, vy / vl
        nx, ny = -vy * ARM * 0.56, vx * ARM * 0.56
        back = (ex - vx * 1.2, ey - vy * 1.2)
        cuff = [
            (back[0] + nx, back[1] + ny),
            (ex + nx, ey + ny),
            (ex - nx, ey - ny),
            (back[0] - nx, back[1] - ny),
        ]
    else:
        widths = {
            "wide": (ARM * 1.15, ARM * 1.35, ARM * 1.9),
            "puffy": (ARM * 1.2, ARM * 1.3, ARM * 0.9),
        }.get(sleeve, (ARM * 1.15, ARM * 1.0, ARM * 0.9))
        sl = stroke_poly(chain, widths, 0.5)
        half = widths[2] / 2 + 0.05
        nx, ny = -uy * half, ux * half
        back = (wrist[0] - ux * 1.6, wrist[1] - uy * 1.6)
        cuff = [
            (back[0] + nx, back[1] + ny),
            (wrist[0] + nx, wrist[1] + ny),
            (wrist[0] - nx, wrist[1] - ny),
            (back[0] - nx, back[1] - ny),
        ]
    r = 1.65 + 0.35 * t  # a clenched fist reads bigger than a hanging hand
    hand = ellipse(wrist[0] + ux * 2.0, wrist[1] + uy * 2.0, r, 2.4 - 0.3 * t, 16)
    return sl, cuff, hand, bare


def tilt_head(f: DisplayList, degrees: float, ops: Sequence[int], pivot: Pt = NECK_PIVOT) -> None:
    """Rotate the head's ops and marks about the neck."""
    a = math.radians(degrees)
    ca, sa = math.cos(a), math.sin(a)
    px, py = pivot

    def rot(pts: Sequence[Pt]) -> list[Pt]:
        return [
            (px + (x - px) * ca - (y - py) * sa, py + (x - px) * sa + (y - py) * ca) for x, y in pts
        ]

    for i in ops:
        op = f.ops[i]
        op.pts = rot(op.pts)
        if op.clip is not None:
            op.clip = rot(op.clip)
    for tag in _HEAD_TAGS:
        if tag in f.marks:
            f.marks[tag] = rot(f.marks[tag])
