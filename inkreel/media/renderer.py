"""Offline procedural manhua renderer: sets seen through cameras, ink-and-cel characters.

Everything is drawn with Pillow and numpy, deterministically: the only variety (books on a
shelf, stars, clouds) comes from seeds hashed out of the inputs, so the same shot always
renders to the same bytes.

A staged shot also carries its animation, prepared once: breathing, blinks and gesture poses
as sparse pixel patches, a pan as depth layers on a canvas wider than the frame, a push-in as
a handful of zoom levels to crossfade, manga effects as a few stamps. Composing a frame is
then a matter of copying pixels.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFont

from inkreel.media.camera import (
    DEPTH_SCALE,
    FIGURE_HEIGHT_M,
    HEIGHT,
    WIDTH,
    pixels_per_metre,
    project,
)
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
from inkreel.schemas.storyboard import Box, Camera, FigureLayout, Framing, Shot

View = Literal["front", "three_quarter", "side", "back"]
Facing = Literal["left", "right", "front"]
RGB = tuple[int, int, int]
Pt = tuple[float, float]
BoxT = tuple[int, int, int, int]

INK: RGB = (34, 26, 38)
WHITE: RGB = (252, 250, 246)
_SS = 2  # supersampling factor: Pillow draws aliased shapes, so draw big and box-reduce
_MOUTH_LEVELS = 4
_FONT_DIR = "/usr/share/fonts/truetype/dejavu/"

# ---------------------------------------------------------------------------------------------
# colour helpers


def _rgb(colour: str, default: RGB = (128, 128, 128)) -> RGB:
    s = colour.strip().lstrip("#")
    if len(s) == 3:
        s = "".join(c * 2 for c in s)
    if len(s) < 6:
        return default
    try:
        v = int(s[:6], 16)
    except ValueError:
        return default
    return ((v >> 16) & 255, (v >> 8) & 255, v & 255)


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _mul(c: RGB, f: tuple[float, float, float]) -> RGB:
    return (
        min(255, round(c[0] * f[0])),
        min(255, round(c[1] * f[1])),
        min(255, round(c[2] * f[2])),
    )


def _shadow(c: RGB) -> RGB:
    # Manhua cel shadows lean cool/purple rather than plain darker.
    return _mix(_mul(c, (0.70, 0.68, 0.80)), (60, 40, 90), 0.08)


def _skin_shadow(c: RGB) -> RGB:
    return _mul(c, (0.92, 0.76, 0.78))


def _light(c: RGB, t: float = 0.35) -> RGB:
    return _mix(c, (255, 255, 255), t)


def _luma(c: RGB) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


def _seed(*parts: object) -> int:
    h = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(h[:8], "big")


# ---------------------------------------------------------------------------------------------
# geometry helpers (figure units: the figure is 100 units tall, head top y=0, soles y=100)


def _ell(
    cx: float,
    cy: float,
    rx: float,
    ry: float,
    n: int = 28,
    a0: float = 0.0,
    a1: float = 2 * math.pi,
) -> list[Pt]:
    closed = abs(a1 - a0 - 2 * math.pi) < 1e-9
    m = n if closed else n - 1
    return [
        (cx + rx * math.cos(a0 + (a1 - a0) * i / m), cy + ry * math.sin(a0 + (a1 - a0) * i / m))
        for i in range(n)
    ]


def _quad(p0: Pt, p1: Pt, p2: Pt, n: int = 10) -> list[Pt]:
    out = []
    for i in range(n):
        t = i / (n - 1)
        a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t * t
        out.append((a * p0[0] + b * p1[0] + c * p2[0], a * p0[1] + b * p1[1] + c * p2[1]))
    return out


def _mirror(pts: Sequence[Pt]) -> list[Pt]:
    return [(-x, y) for x, y in pts]


def _sym(right_half: Sequence[Pt]) -> list[Pt]:
    """Close a right half-outline (top to bottom) into a left-right symmetric polygon."""
    return list(right_half) + [(-x, y) for x, y in reversed(right_half)]


def _bbox(pts: Sequence[Pt]) -> tuple[float, float, float, float]:
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    return min(xs), min(ys), max(xs), max(ys)


def _stroke_poly(pts: Sequence[Pt], widths: Sequence[float], min_w: float) -> list[Pt]:
    """Turn a polyline into a tapered brush-stroke polygon (widths at start, middle, end)."""
    n = len(pts)
    if n < 2:
        return list(pts)
    w0, wm, w1 = widths
    left: list[Pt] = []
    right: list[Pt] = []
    for i in range(n):
        t = i / (n - 1)
        w = w0 + (wm - w0) * math.sin(t * math.pi / 2) if t < 0.5 else wm
        if t >= 0.5:
            w = wm + (w1 - wm) * (1 - math.cos((t - 0.5) * math.pi))
        w = max(w, min_w) / 2
        a = pts[max(0, i - 1)]
        b = pts[min(n - 1, i + 1)]
        tx, ty = b[0] - a[0], b[1] - a[1]
        ln = math.hypot(tx, ty) or 1.0
        nx, ny = -ty / ln, tx / ln
        x, y = pts[i]
        left.append((x + nx * w, y + ny * w))
        right.append((x - nx * w, y - ny * w))
    return left + right[::-1]


# ---------------------------------------------------------------------------------------------
# display list of a figure


@dataclass
class _Op:
    pts: list[Pt]
    fill: RGB
    line: float = 1.0  # ink outline weight, as a multiple of the inner line width
    sil: bool = False  # part of the outer silhouette: gets the heavy outer contour
    shade: Pt | None = None  # cel shadow: offset (units) toward the light, screen space
    shade_fill: RGB | None = None
    clip: list[Pt] | None = None
    widths: tuple[float, float, float] | None = None  # brush stroke along pts instead of fill


@dataclass
class _Fig:
    ops: list[_Op] = field(default_factory=list)
    marks: dict[str, list[Pt]] = field(default_factory=dict)

    def poly(
        self,
        pts: list[Pt],
        fill: RGB,
        *,
        line: float = 1.0,
        sil: bool = False,
        shade: Pt | None = None,
        shade_fill: RGB | None = None,
        clip: list[Pt] | None = None,
        tag: str | None = None,
    ) -> None:
        self.ops.append(_Op(pts, fill, line, sil, shade, shade_fill, clip))
        if tag:
            self.mark(tag, pts)

    def stroke(
        self,
        pts: list[Pt],
        fill: RGB,
        widths: tuple[float, float, float],
        tag: str | None = None,
    ) -> None:
        self.ops.append(_Op(pts, fill, 0.0, widths=widths))
        if tag:
            self.mark(tag, pts)

    def mark(self, tag: str, pts: Sequence[Pt]) -> None:
        self.marks.setdefault(tag, []).extend(pts)


@dataclass(frozen=True)
class _Expr:
    brow_in: float
    brow_out: float
    brow_arch: float
    brow_w: float
    eye_open: float
    iris: float
    lid_tilt: float  # >0 lowers the inner end of the upper lid (anger), <0 the outer (sorrow)
    lower_lift: float
    mouth_curve: float
    mouth_w: float
    mouth_rest: float  # how open the mouth is when not speaking


_EXPR: dict[Emotion, _Expr] = {
    Emotion.neutral: _Expr(0.0, 0.15, 0.35, 0.55, 1.0, 1.0, 0.0, 0.0, 0.15, 2.2, 0.0),
    Emotion.happy: _Expr(-0.45, 0.0, 0.65, 0.5, 0.85, 1.0, 0.0, 0.42, 0.9, 3.0, 0.0),
    Emotion.sad: _Expr(-1.1, 0.55, 0.05, 0.5, 0.82, 1.0, -0.45, 0.0, -0.65, 2.0, 0.0),
    Emotion.angry: _Expr(1.05, -0.75, -0.05, 0.75, 0.8, 0.92, 0.55, 0.0, -0.5, 2.6, 0.0),
    Emotion.surprised: _Expr(-1.5, -1.1, 0.75, 0.45, 1.22, 0.72, 0.0, 0.0, 0.0, 1.3, 0.55),
    Emotion.afraid: _Expr(-1.25, 0.35, 0.15, 0.45, 1.15, 0.6, -0.25, 0.0, -0.35, 2.2, 0.2),
}


@dataclass(frozen=True)
class _EyeShape:
    """The cut of a character's eyes, layered under the expression's lids."""

    w: float  # width
    h: float  # opening
    top: float  # exponent of the upper lid curve: < 1 round, 1 pointed corners
    bot: float
    tilt: float  # > 0 lifts the outer corner (units)
    lid: float  # share of the opening the upper lid covers (sleepy eyes)
    iris: float
    lash: float  # weight of the upper lash line
    brow: float  # brow thickness
    gap: float  # brow height above the eye


_EYE_SHAPES = {
    "round": _EyeShape(1.0, 1.32, 0.42, 0.55, 0.0, 0.0, 1.12, 1.0, 0.8, 1.45),
    "almond": _EyeShape(1.14, 0.86, 0.95, 0.9, 0.55, 0.0, 0.92, 1.15, 1.0, 1.2),
    "narrow": _EyeShape(1.12, 0.5, 1.0, 1.2, 0.3, 0.0, 0.86, 1.35, 1.35, 0.95),
    "sleepy": _EyeShape(1.04, 1.0, 0.55, 0.7, -0.3, 0.4, 1.0, 1.2, 0.95, 1.35),
}


@dataclass(frozen=True)
class _Build:
    """Body widths (figure units, half-widths from the centre line) and neck of a build."""

    S: float  # shoulder
    WST: float  # waist
    HIP: float
    ARM: float  # arm (sleeve) width
    NECK: float  # neck half-width
    neck_len: float  # chin to neckline, before the head scale
    drop: float  # how far the shoulder points fall below a square shoulder line
    chest: float  # extra width at the chest (broad builds taper to the waist)


_BUILD = {
    "slim": _Build(6.8, 4.9, 6.3, 2.9, 1.35, 3.0, 1.5, 0.0),
    "average": _Build(9.7, 7.0, 8.2, 4.1, 2.0, 1.9, 0.5, 0.3),
    "broad": _Build(13.2, 10.4, 10.4, 5.6, 3.0, 0.9, -0.6, 1.0),
}


@dataclass(frozen=True)
class _Face:
    """Head geometry of a face shape, in front-view units before the head map."""

    sx: float  # width of the whole head, hair included
    low: float  # stretch of the face below the eye line (long faces have long jaws)
    jaw: tuple[Pt, ...]  # right half of the jaw, from the cheekbone to the chin
    side: tuple[Pt, ...]  # profile view: the chin and jaw line back to the ear
    skull: float  # cranium half-width (front view)


_FACES = {
    "oval": _Face(
        1.0,
        1.0,
        ((5.25, 8.3), (5.0, 10.3), (4.2, 12.3), (2.9, 13.8), (1.3, 14.55), (0.0, 14.75)),
        ((5.0, 12.5), (4.9, 13.6), (4.2, 14.4), (2.6, 14.3), (0.6, 13.0), (-2.3, 11.2)),
        5.3,
    ),
    "round": _Face(
        1.1,
        0.84,
        # full cheeks into a small soft chin: a rounded quarter from the cheekbone down
        tuple(
            (5.5 * math.cos(t) ** 0.8, 8.3 + 6.45 * math.sin(t))
            for t in (i * math.pi / 12 for i in range(7))
        ),
        ((5.2, 12.5), (5.0, 13.6), (4.1, 14.5), (2.2, 14.6), (0.0, 13.9), (-2.4, 11.8)),
        5.5,
    ),
    "long": _Face(
        0.87,
        1.3,
        ((5.05, 8.3), (4.9, 10.6), (4.3, 12.6), (2.9, 14.2), (1.1, 14.95), (0.0, 15.1)),
        ((5.0, 12.5), (5.1, 14.0), (4.5, 14.95), (2.7, 14.7), (0.5, 13.1), (-2.2, 11.0)),
        5.15,
    ),
    "square": _Face(
        1.07,
        1.04,
        ((5.35, 8.3), (5.4, 10.8), (5.25, 12.5), (4.5, 13.9), (2.6, 14.6), (0.0, 14.75)),
        ((5.1, 12.5), (5.1, 13.9), (4.6, 14.55), (2.2, 14.5), (-1.6, 13.6), (-2.4, 11.4)),
        5.4,
    ),
}

_EYE_Y = 8.4  # eye line, figure units from the crown
_CHIN = 14.7  # chin of the reference (oval) face


@dataclass(frozen=True)
class _Shape:
    """Where a design's head and body parts land in its 100-unit figure.

    Everything is drawn in reference units (an oval, average, 1.0-tall figure) and then
    mapped: the head is widened by the face shape, its jaw stretched below the eye line and
    the whole head scaled by the height (tall figures have smaller heads and longer legs); the
    body is moved down the piecewise-linear map of its landmarks (chin, neckline, crotch, sole).
    """

    build: _Build
    face: _Face
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
def _shape(build: str, face: str, height: float) -> _Shape:
    b = _BUILD.get(build, _BUILD["average"])
    fc = _FACES.get(face, _FACES["oval"])
    hs = max(0.85, min(1.18, (1.0 / max(height, 0.5)) ** 0.75))
    probe = _Shape(b, fc, hs, 0.0, (0.0,), (0.0,))
    chin = probe.head_y(_CHIN)
    neckline = chin + b.neck_len * hs
    crotch = neckline + 34.1 * (0.45 + 0.55 * hs)
    return _Shape(b, fc, hs, chin, (_CHIN, 16.4, 50.5, 100.0), (chin, neckline, crotch, 100.0))


@dataclass(frozen=True)
class _Garment:
    """How an outfit is cut, read from its words."""

    collar: str  # cross, mandarin, lapel, round, v, hood
    hem: float | None  # hem of a garment reaching below the hips (reference units)
    cut: str  # fitted, boxy, jacket, coat, dress, qipao, robe, vest, tunic
    sleeve: str  # long, wide, short, puffy, shirt (long sleeves of the shirt under a vest)
    hood: bool
    belt: bool


_GARMENT_WORDS: list[tuple[tuple[str, ...], _Garment]] = [
    (
        ("robe", "hanfu", "kimono", "gown", "monk"),
        _Garment("cross", 90.0, "robe", "wide", False, True),
    ),
    (("qipao", "cheongsam"), _Garment("mandarin", 86.0, "qipao", "short", False, False)),
    (("dress",), _Garment("round", 80.0, "dress", "puffy", False, True)),
    (("trench", "long coat", "overcoat"), _Garment("lapel", 80.0, "coat", "long", False, True)),
    (("coat", "parka", "cloak"), _Garment("lapel", 74.0, "coat", "long", False, True)),
    (("hoodie",), _Garment("hood", None, "boxy", "puffy", True, False)),
    (("vest", "waistcoat"), _Garment("v", None, "vest", "shirt", False, False)),
    (
        ("sweater", "jumper", "knit", "cardigan"),
        _Garment("round", None, "boxy", "puffy", False, False),
    ),
    (("jacket", "blazer", "suit"), _Garment("lapel", None, "jacket", "long", False, False)),
    (("tunic", "martial", "wrap"), _Garment("mandarin", 62.0, "tunic", "long", False, True)),
    (("uniform",), _Garment("mandarin", None, "fitted", "long", False, True)),
    (("skirt",), _Garment("v", 72.0, "dress", "long", False, True)),
    (("apron",), _Garment("v", 66.0, "tunic", "long", False, True)),
    (("t-shirt", "tshirt", "tee"), _Garment("round", None, "fitted", "short", False, False)),
]


def _garment(outfit: str) -> _Garment:
    """Read the cut of an outfit from its words: the first garment named decides."""
    words = outfit.lower()
    found = _Garment("v", None, "fitted", "long", False, True)
    first = len(words) + 1
    for keys, g in _GARMENT_WORDS:
        for k in keys:
            i = words.find(k)
            if 0 <= i < first:
                first, found = i, g
    if "hood" in words and not found.hood:
        found = _Garment("hood", found.hem, found.cut, found.sleeve, True, found.belt)
    return found


def _outfit_style(outfit: str) -> tuple[str, float | None]:
    """Return (collar style, hem height or None) read from the outfit words."""
    g = _garment(outfit)
    return g.collar, g.hem


class _Warp:
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
class _Pose:
    """A gesture layered on the standing pose: 0 everywhere is the model-sheet pose."""

    arm: float = 0.0  # 0 hanging .. 1 forearm raised, fist in front of the chest
    tilt: float = 0.0  # head tilt in degrees, positive toward screen right (before mirroring)


_REST = _Pose()
_HEAD_TAGS = ("face", "eyes", "mouth", "hair")
_NECK_PIVOT: Pt = (0.0, 13.6)


def _figure_ops(
    d: CharacterDesign,
    view: str,
    expression: Emotion,
    mouth_open: float,
    eyes_closed: bool,
    glance: float,
    pose: _Pose = _REST,
) -> _Fig:
    """Build the display list of one character, facing screen right where it matters."""
    f = _Fig()
    skin = _rgb(d.skin, (242, 211, 179))
    hair = _rgb(d.hair_colour, (43, 43, 43))
    eye = _rgb(d.eye_colour, (59, 42, 26))
    cloth = _rgb(d.outfit_colour, (68, 102, 136))
    accent = _rgb(d.accent_colour, (204, 68, 68))
    pants = _mix(cloth, INK, 0.5)
    shoes = (52, 42, 44)
    e = _EXPR.get(expression, _EXPR[Emotion.neutral])
    shp = _shape(d.build, d.face, d.height)
    b = shp.build
    S, WST, HIP, ARM, NECK = b.S, b.WST, b.HIP, b.ARM, b.NECK
    g = _garment(d.outfit)
    stance = _STANCES.get(d.face, "relaxed")
    w = _Warp(view)
    acc: set[str] = set(d.accessories)
    style = d.hair_style
    skin_sh = _skin_shadow(skin)
    cloth_sh = _shadow(cloth)
    inner = _mix(cloth, (248, 244, 236), 0.5)  # the shirt under a jacket or a vest
    hair_sh = _shadow(hair) if _luma(hair) > 60 else _mix(hair, INK, 0.6)
    hair_hi = _light(hair, 0.32 if _luma(hair) > 60 else 0.22)

    # --- back hair, behind everything ------------------------------------------------------
    _back_hair(f, view, style, hair, hair_sh, accent, w)
    back_hair_end = len(f.ops)

    side = view == "side"
    if g.hood and view != "back":
        _hood(f, view, cloth, cloth_sh, NECK, w)
    neck = [(-NECK, 12.0), (NECK, 12.0), (NECK + 0.2, 17.6), (-NECK - 0.2, 17.6)]
    if side:
        neck = [(-NECK * 0.7, 11.0), (NECK + 0.2, 12.0), (NECK + 0.4, 17.6), (-NECK * 0.9, 17.8)]
    neck = w.body(neck, 0.5) if view == "three_quarter" else neck
    f.poly(neck, skin, sil=True, line=0.8)
    if view != "back":
        f.poly(
            [
                (-NECK - 0.5, 12.0),
                (NECK + 0.5, 12.0),
                (NECK + 0.5, 14.9),
                (0.0, 15.6),
                (-NECK - 0.5, 14.9),
            ],
            skin_sh,
            line=0.0,
            clip=neck,
        )

    # --- body --------------------------------------------------------------------------------
    dr, chest = b.drop, b.chest
    wst = WST
    if g.cut == "boxy":
        wst = max(WST, S - 2.4)
    elif g.cut == "robe":
        wst = WST + 0.6
    hem_y, hem_x = 50.5, HIP - 0.2  # where the top garment ends
    if g.cut == "jacket":
        hem_y, hem_x = 53.0, HIP + 1.2
    elif g.cut == "boxy":
        hem_y, hem_x = 50.0, wst - 0.3
    elif g.cut == "vest":
        hem_y = 49.0
    if side:
        k = (S / 9.7) ** 1.6  # depth grows faster than width: broad builds are deep
        kw = wst / WST
        torso = [
            (NECK * 0.6, 16.4),
            (3.4, 19.0 + dr * 0.3),
            (4.3 * k, 26.0),
            (3.4 * k * kw, 34.0),
            (3.0 * k * kw, 40.0),
            (3.6 * k * kw + (hem_x - HIP) * 0.5, hem_y),
            (-4.0 * k * kw - (hem_x - HIP) * 0.5, hem_y),
            (-3.4 * k * kw, 40.0),
            (-4.0 * k, 26.0),
            (-3.9 * k, 19.0 + dr * 0.3),
            (-NECK * 0.8, 16.4),
        ]
        legs = [
            [(-2.6 * k + dx, 48.0), (2.8 * k + dx, 48.0), (2.2 + dx, 93.5), (-1.6 + dx, 93.5)]
            for dx in (-0.8, 1.4)
        ]
    else:
        right = [
            (NECK + 0.45, 16.4),
            (S - 2.8, 17.4 + dr * 0.45),
            (S - 0.9, 18.5 + dr * 0.8),
            (S, 20.8 + dr),
            (S - 0.7 + chest * 0.2, 26.0),
            (wst + 0.2 + chest, 33.0),
            (wst, 40.0),
        ]
        if g.cut == "vest":
            right += [(HIP - 0.4, 46.5), (hem_x - 0.6, hem_y), (0.0, hem_y + 2.6)]
            torso = right + [(-x, y) for x, y in reversed(right[:-1])]
        else:
            right += [(max(HIP, hem_x - 0.4), 48.5), (hem_x, hem_y)]
            torso = _sym(right)
        legs = [
            [
                (sg * HIP, 48.0),
                (sg * 0.2, 50.5),
                (sg * 1.0, 72.0),
                (sg * (0.9 + HIP * 0.04), 93.5),
                (sg * (3.9 + HIP * 0.04), 93.5),
                (sg * (HIP - 1.2), 72.0),
            ]
            for sg in (-1.0, 1.0)
        ]
        torso = w.body(torso)
        legs = [w.body(leg) for leg in legs]

    sleeve_c = inner if g.sleeve == "shirt" else cloth
    sleeve_sh = _skin_shadow(inner) if g.sleeve == "shirt" else cloth_sh
    cuff_c = _mix(inner, INK, 0.12) if g.sleeve == "shirt" else accent

    def arm(sg: float) -> tuple[list[Pt], list[Pt], list[Pt], list[Pt] | None]:
        """Return (sleeve, cuff, hand, bare forearm or None) of an arm at rest."""
        a = ARM
        if stance != "relaxed":
            parts = _stance_arm(stance, view, sg, b, wst, g.sleeve)
            if side:
                return parts
            shift = -1.6 if (view == "three_quarter" and sg > 0) else 0.0
            sl, cuff, hand, bare = (w.body(q, shift) if q else None for q in parts)
            assert sl is not None and cuff is not None and hand is not None
            return sl, cuff, hand, bare
        if side:
            ax = -0.4
            sl = [
                (ax - a * 0.6, 18.8 + dr * 0.3),
                (ax + a * 0.55, 18.8 + dr * 0.3),
                (ax + a * 0.6, 33.0),
                (ax + a * 0.45 + 0.6, 45.0),
                (ax - a * 0.5 + 0.6, 45.0),
                (ax - a * 0.65, 33.0),
            ]
            hand = _ell(ax + 0.7, 47.3, 1.6, 2.4, 16)
            cx, half = ax + 0.6, a * 0.5
        else:
            sl = [
                (S - a * 0.45, 18.4 + dr * 0.8),
                (S + 0.3, 19.0 + dr),
                (S + 1.3, 21.5 + dr),
                (S + a * 0.5 + 0.4, 33.0),
                (S + a * 0.5 + 0.3, 45.0),
                (S - a * 0.45 + 0.2, 45.5),
                (S - a * 0.5, 33.0),
                (S - a * 0.7, 24.5),
            ]
            hand = _ell(S + 0.45, 47.4, 1.65, 2.4, 16)
            cx, half = S + 0.4, a * 0.48
        bare = None
        if g.sleeve == "wide":
            # bell sleeve: opens wide at the wrist, the hand peeks out
            sl = (
                sl[:3]
                + [
                    (cx + half + 1.6, 36.0),
                    (cx + half + 2.4, 45.5),
                    (cx - half - 0.9, 46.2),
                    (cx - half - 0.4, 36.0),
                ]
                + ([sl[-1]] if not side else [])
            )
            cuff = [
                (cx + half + 2.2, 44.0),
                (cx + half + 2.4, 45.5),
                (cx - half - 0.9, 46.2),
                (cx - half - 0.8, 44.6),
            ]
        elif g.sleeve == "puffy":
            sl = (
                sl[:3]
                + [
                    (cx + half + 1.1, 32.0),
                    (cx + half + 0.3, 42.5),
                    (cx - half + 0.3, 43.0),
                    (cx - half - 0.8, 32.0),
                ]
                + ([sl[-1]] if not side else [])
            )
            cuff = [
                (cx + half + 0.3, 42.0),
                (cx + half - 0.1, 45.2),
                (cx - half + 0.5, 45.5),
                (cx - half + 0.3, 42.3),
            ]
        elif g.sleeve == "short":
            sl = (
                sl[:3]
                + [
                    (cx + half + 0.6, 27.5),
                    (cx - half - 0.4, 28.2),
                ]
                + ([sl[-1]] if not side else [])
            )
            cuff = [
                (cx + half + 0.55, 26.3),
                (cx + half + 0.6, 27.5),
                (cx - half - 0.4, 28.2),
                (cx - half - 0.3, 27.0),
            ]
            fa = half * 0.78
            bare = [
                (cx + fa, 26.5),
                (cx + fa - 0.1, 45.0),
                (cx - fa + 0.3, 45.5),
                (cx - fa, 26.5),
            ]
        else:
            cuff = [
                (cx + half + 0.0, 43.3),
                (cx + half - 0.1, 45.0),
                (cx - half + 0.15, 45.5),
                (cx - half + 0.1, 43.6),
            ]
        if sg < 0 and not side:
            sl, cuff, hand = _mirror(sl), _mirror(cuff), _mirror(hand)
            bare = _mirror(bare) if bare else None
        if side:
            return sl, cuff, hand, bare
        shift = -1.6 if (view == "three_quarter" and sg > 0) else 0.0
        return (
            w.body(sl, shift),
            w.body(cuff, shift),
            w.body(hand, shift),
            w.body(bare, shift) if bare else None,
        )

    # The gesture raises the arm nearest the camera (the only one drawn in a side view).
    raised = 1.0 if view in ("front", "side") else -1.0
    lift = pose.arm if view != "back" else 0.0

    def draw_arm(sg: float) -> None:
        if lift > 0 and sg == raised:
            sl, cuff, hand, bare = _raised_arm(sg, lift, S, ARM, side, g.sleeve, dr)
            shift = -1.6 if (view == "three_quarter" and sg > 0) else 0.0
            sl, cuff, hand = w.body(sl, shift), w.body(cuff, shift), w.body(hand, shift)
            bare = w.body(bare, shift) if bare else None
        else:
            sl, cuff, hand, bare = arm(sg)
        if bare:
            f.poly(bare, skin, sil=True, shade=(0.6, 0.0), shade_fill=skin_sh)
        f.poly(hand, skin, sil=True, shade=(0.6, 0.4), shade_fill=skin_sh)
        if lift >= 0.5 and sg == raised:
            # curled fingers: a clenched fist, not a ball
            hx0, hy0, hx1, hy1 = _bbox(hand)
            for j in range(3):
                y = hy0 + (hy1 - hy0) * (0.3 + 0.2 * j)
                f.stroke(
                    [(hx0 + (hx1 - hx0) * 0.3, y), (hx0 + (hx1 - hx0) * 0.78, y + 0.15)],
                    _mix(skin_sh, INK, 0.35),
                    (0.12, 0.2, 0.12),
                )
        f.poly(sl, sleeve_c, sil=True, shade=(1.2, 0.0), shade_fill=sleeve_sh)
        f.poly(cuff, cuff_c, line=0.8)

    if view == "three_quarter":
        draw_arm(1.0)  # far arm, mostly behind the torso
    elif view == "back" and stance in ("crossed", "clasped"):
        # seen from behind, folded forearms are hidden by the body
        draw_arm(-1.0)
        draw_arm(1.0)

    # legs and shoes
    for i, leg in enumerate(legs):
        f.poly(leg, pants, sil=True, shade=(1.0, 0.0), shade_fill=_shadow(pants))
        if view in ("three_quarter", "side"):
            cx = (leg[2][0] + leg[3][0]) / 2
            shoe = [
                (cx - 2.0, 93.0),
                (cx + 1.6, 93.0),
                (cx + 4.4, 97.4),
                (cx + 4.2, 100.0),
                (cx - 2.2, 100.0),
                (cx - 2.4, 97.0),
            ]
        else:
            sg = -1.0 if i == 0 else 1.0
            x0 = leg[3][0] * sg - 0.3
            shoe = [
                (sg * x0, 93.0),
                (sg * (x0 + 3.7), 93.0),
                (sg * (x0 + 4.2), 98.4),
                (sg * (x0 + 3.4), 100.0),
                (sg * (x0 - 0.1), 100.0),
                (sg * (x0 - 0.3), 97.8),
            ]
            shoe = w.body(shoe)
        f.poly(shoe, shoes, sil=True, shade=(0.8, 0.6), shade_fill=_mix(shoes, INK, 0.5))

    # long garment over the legs
    if g.hem is not None:
        _skirt(f, view, g, cloth, cloth_sh, accent, pants, wst, HIP, w)

    f.poly(torso, cloth, sil=True, shade=(1.8, 0.0), shade_fill=cloth_sh)
    if g.cut == "boxy" and view != "side":
        band = w.body(
            [(-hem_x, hem_y - 3.0), (hem_x, hem_y - 3.0), (hem_x, hem_y), (-hem_x, hem_y)]
        )
        f.poly(band, _mix(cloth, INK, 0.18), line=0.8)
        for j in range(1, 9):
            x = -hem_x + 2 * hem_x * j / 9
            f.stroke(w.body([(x, hem_y - 2.7), (x, hem_y - 0.3)]), cloth_sh, (0.1, 0.16, 0.1))
    if g.cut == "jacket" and view in ("front", "three_quarter"):
        # open front: the shirt shows between the jacket's edges
        f.poly(
            w.chest([(-1.2, 24.0), (1.2, 24.0), (2.1, hem_y + 0.2), (-2.1, hem_y + 0.2)]),
            inner,
            line=0.8,
        )
    if g.cut == "vest" and view in ("front", "three_quarter"):
        for j in range(3):
            f.poly(w.chest(_ell(-0.6, 31.0 + 4.5 * j, 0.45, 0.45, 8)), accent, line=0.5)
    _collar(f, view, g, cloth, accent, inner, skin, w, WST)
    if g.hood and view == "back":
        _hood(f, view, cloth, cloth_sh, NECK, w)

    # sash / belt
    if g.belt:
        top, bot = (37.8, 43.0) if g.cut == "robe" else (38.6, 42.2)
        if side:
            sash = [(3.2, top + 0.2), (3.1, bot), (-3.5, bot), (-3.4, top + 0.2)]
        else:
            sash = w.body(
                [(-wst - 0.2, top), (wst + 0.2, top), (wst + 0.25, bot), (-wst - 0.25, bot)]
            )
        f.poly(sash, accent, shade=(0.0, -0.8), shade_fill=_shadow(accent))
        if g.cut == "coat" and view in ("front", "three_quarter"):
            f.poly(
                w.chest(_round_rect(0.0, (top + bot) / 2, 2.2, bot - top + 0.8)),
                _mix(accent, INK, 0.35),
                line=0.7,
            )
    if side:
        f.mark("outfit", [(-2.6, 23.0), (2.6, 37.5)])
    elif view == "back" and style == HairStyle.long:
        # long hair covers the upper back: the outfit shows below the sash
        f.mark("outfit", [(-WST + 0.8, 43.0), (WST - 0.8, 48.0)])
    elif view == "back" and g.hood:
        f.mark("outfit", [(-WST + 0.8, 28.0), (WST - 0.8, 37.5)])
    elif stance == "crossed" and view != "back":
        f.mark("outfit", w.body([(-WST + 0.8, 35.0), (WST - 0.8, 47.0)]))
    elif stance == "clasped" and view != "back":
        f.mark("outfit", w.body([(-WST + 0.8, 22.5), (WST - 0.8, 30.5)]))
    elif g.cut == "vest" and view == "front":
        f.mark("outfit", [(-WST + 0.8, 25.0), (-2.6, 37.5)])
    else:
        f.mark("outfit", w.body([(-WST + 0.8, 23.0), (WST - 0.8, 37.5)]))

    if view == "three_quarter":
        draw_arm(-1.0)
    elif side:
        draw_arm(1.0)
    elif view != "back" or stance not in ("crossed", "clasped"):
        draw_arm(-1.0)
        draw_arm(1.0)

    if "scarf" in acc:
        _scarf(f, view, accent, w)
    body_end = len(f.ops)

    # --- head ------------------------------------------------------------------------------
    face = _face_shape(view, d.face)
    if view == "front":
        _ear(f, -5.2, 8.9, skin, skin_sh, -1.0)
        _ear(f, 5.2, 8.9, skin, skin_sh, 1.0)
    f.poly(
        face, skin, sil=True, shade=(1.3, 0.6) if view != "side" else (0.0, 0.9), shade_fill=skin_sh
    )
    if view == "three_quarter":
        _ear(f, -4.7, 8.9, skin, skin_sh, 1.0)
    if view == "side":
        _ear(f, -0.6, 8.8, skin, skin_sh, -1.0)

    if view != "back":
        # The face box holds the eyes, nose and mouth (in profile the lips reach past 5).
        fx0, fx1 = {"front": (-4.3, 4.3), "three_quarter": (-3.8, 4.0), "side": (0.6, 5.6)}[view]
        f.mark("face", [(fx0, 6.0), (fx1, 14.0)])
        _face_features(
            f,
            d,
            view,
            e,
            expression,
            mouth_open,
            eyes_closed,
            glance,
            face,
            skin,
            skin_sh,
            eye,
            hair,
        )

    # --- front hair, accessories -------------------------------------------------------------
    _front_hair(f, view, style, hair, hair_sh, hair_hi, skin)
    if view != "back":
        brow = _mix(hair, INK, 0.55) if style != HairStyle.bald else (70, 50, 40)
        _brows(f, view, e, brow, _EYE_SHAPES.get(d.eyes, _EYE_SHAPES["round"]))
    _accessories(f, view, acc, accent, cloth, style)
    if view != "back":
        _marks(f, view, expression)

    # --- proportions: head and body land where this design's shape puts them ----------------
    for i, op in enumerate(f.ops):
        m = shp.body if back_hair_end <= i < body_end else shp.head
        op.pts = m(op.pts)
        if op.clip is not None:
            op.clip = m(op.clip)
    for tag, pts in f.marks.items():
        f.marks[tag] = shp.body(pts) if tag == "outfit" else shp.head(pts)
    if pose.tilt and view != "back":
        pivot = (0.0, shp.head_y(_NECK_PIVOT[1]))
        _tilt_head(f, pose.tilt, [*range(back_hair_end), *range(body_end, len(f.ops))], pivot)
    return f


_STANCES = {"oval": "relaxed", "round": "clasped", "long": "crossed", "square": "akimbo"}


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


def _stance_joints(stance: str, view: str, sg: float, b: _Build, wst: float) -> tuple[Pt, Pt, Pt]:
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


def _stance_arm(
    stance: str, view: str, sg: float, b: _Build, wst: float, sleeve: str
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
        end = _lerp_pt(sh, el, 0.55)
        sl = _bent_limb(sh, _lerp_pt(sh, end, 0.5), end, a * 1.1, a * 1.08, a * 1.05)
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
        hand = _ell(wr[0] + ux * 1.4, wr[1] + uy * 1.4 + 0.3, 1.9, 2.1, 16)
    else:
        hand = _ell(
            wr[0] + ux * 1.7, wr[1] + uy * 1.7, 1.75, 1.75 if stance == "crossed" else 2.2, 16
        )
    return sl, cuff, hand, bare


def _raised_arm(
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
        _lerp_pt(shoulder, elbow, 0.5),
        elbow,
        _lerp_pt(elbow, wrist, 0.5),
        wrist,
    ]
    ux, uy = wrist[0] - elbow[0], wrist[1] - elbow[1]
    ln = math.hypot(ux, uy) or 1.0
    ux, uy = ux / ln, uy / ln
    bare = None
    if sleeve == "short":
        bare = _stroke_poly(chain, (ARM * 0.8, ARM * 0.75, ARM * 0.7), 0.5)
        up = [shoulder, _lerp_pt(shoulder, elbow, 0.3), _lerp_pt(shoulder, elbow, 0.62)]
        sl = _stroke_poly(up, (ARM * 1.15, ARM * 1.12, ARM * 1.1), 0.5)
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
        sl = _stroke_poly(chain, widths, 0.5)
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
    hand = _ell(wrist[0] + ux * 2.0, wrist[1] + uy * 2.0, r, 2.4 - 0.3 * t, 16)
    return sl, cuff, hand, bare


def _lerp_pt(a: Pt, b: Pt, t: float) -> Pt:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def _tilt_head(f: _Fig, degrees: float, ops: Sequence[int], pivot: Pt = _NECK_PIVOT) -> None:
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


def _face_shape(view: str, face: str = "oval") -> list[Pt]:
    fc = _FACES.get(face, _FACES["oval"])
    if view == "side":
        skull = _ell(-0.3, 6.3, 5.6, 6.5, 16, -math.pi / 2, -math.pi * 1.22)
        skull = list(reversed(skull))
        front = [
            (4.9, 1.2),
            (5.3, 4.0),
            (5.4, 6.3),
            (5.2, 7.6),
            (6.2, 9.7),
            (5.2, 10.4),
            (5.2, 11.3),
            (5.5, 11.8),
            *fc.side,
        ]
        top = _ell(-0.3, 6.3, 5.6, 6.5, 10, -math.pi / 2, -math.pi / 2 + 0.75)
        return top + front + skull
    if view == "back":
        return _ell(0.0, 6.6, 5.4, 7.2, 28)
    right = [*_ell(0.0, 6.3, fc.skull, 6.4, 12, -math.pi / 2, 0.0)[:-1], *fc.jaw]
    pts = _sym(right)[:-1]
    if view == "three_quarter":
        pts = _Warp(view).head(pts)
    return pts


def _ear(f: _Fig, x: float, y: float, skin: RGB, skin_sh: RGB, sg: float) -> None:
    pts = _ell(x + sg * 0.25, y, 0.95, 1.55, 14)
    f.poly(pts, skin, sil=True, shade=(0.4, 0.3), shade_fill=skin_sh)
    f.stroke(
        _quad((x + sg * 0.5, y - 0.8), (x - sg * 0.1, y), (x + sg * 0.4, y + 0.8), 6),
        skin_sh,
        (0.2, 0.3, 0.2),
    )


def _eye(
    f: _Fig,
    ex: float,
    ey: float,
    ew: float,
    e: _Expr,
    iris_c: RGB,
    closed: bool,
    glance: float,
    inner: float,
    es: _EyeShape = _EYE_SHAPES["round"],
) -> None:
    ew *= es.w
    reach = 2.75 * 1.22 * es.h / 2  # half the widest opening (surprise)
    box = [
        (ex - ew / 2 - 0.5, ey - reach - 0.75 - abs(es.tilt) * 0.5),
        (ex + ew / 2 + 0.5, ey + reach + 0.55 + abs(es.tilt) * 0.5),
    ]

    def lift(u: float) -> float:
        """Outer corner up (tilt > 0), inner corner down: 0 in the middle."""
        return -es.tilt * 0.5 * (-u * inner)

    if closed:
        sag = 0.55 if es.lid == 0 else 0.3
        pts = [
            (ex + ew / 2 * math.cos(a), ey + 0.2 + sag * math.sin(a) + lift(math.cos(a)))
            for a in np.linspace(math.pi * 0.95, math.pi * 0.05, 12)
        ]
        f.stroke(pts, INK, (0.25, 0.55 * es.lash, 0.2), tag="eyes")
        f.mark("eyes", box)
        return
    eh = 2.75 * e.eye_open * es.h
    us = np.linspace(-1.0, 1.0, 13)
    lid_y = ey - eh / 2 + es.lid * 2.75 * es.h  # a sleepy lid stays down whatever the mood

    def top(u: float) -> float:
        base = ey - eh / 2 * (1 - u * u) ** es.top
        side_in = (u * inner + 1) / 2  # 1 at the inner corner
        base += max(e.lid_tilt, 0.0) * eh * 0.38 * side_in
        base += max(-e.lid_tilt, 0.0) * eh * 0.38 * (1 - side_in)
        if es.lid:
            base = max(base, lid_y + 0.35 * u * u + 0.25 * (1 - side_in))
        return base + lift(u)

    def bot(u: float) -> float:
        y = ey + eh / 2 * (1 - u * u) ** es.bot * (1 - e.lower_lift) - e.lower_lift * 0.3
        return max(y, top(u) - lift(u) + 0.05) + lift(u)

    top_pts = [(ex + ew / 2 * u, top(u)) for u in us]
    bot_pts = [(ex + ew / 2 * u, bot(u)) for u in us[::-1]]
    white = top_pts + bot_pts
    f.poly(white, WHITE, line=0.0, tag="eyes")
    icx = ex + glance * ew * 0.18
    irx = ew * 0.31 * e.iris * es.iris
    iry = 2.75 * 0.47 * max(e.iris, 0.78) * es.iris * max(0.85, min(es.h, 1.15))
    icy = ey + 0.15 + (0.25 * es.lid * es.h if es.lid else 0.0)
    iris = _ell(icx, icy, irx, iry, 20)
    f.poly(
        iris, iris_c, line=0.0, shade=(0.0, -0.8), shade_fill=_mix(iris_c, INK, 0.55), clip=white
    )
    f.poly(
        _ell(icx, icy + 0.1, irx * 0.48, iry * 0.5, 14),
        _mix(iris_c, INK, 0.8),
        line=0.0,
        clip=white,
    )
    hl = irx * (0.44 if es.h > 1.1 else 0.38)
    f.poly(
        _ell(icx - irx * 0.4, icy - iry * 0.42, hl, hl, 10),
        WHITE,
        line=0.0,
        clip=white,
    )
    f.poly(
        _ell(icx + irx * 0.38, icy + iry * 0.4, irx * 0.18, irx * 0.18, 8),
        WHITE,
        line=0.0,
        clip=white,
    )
    if es.h > 1.1:
        # big manhua eyes: a sparkle in the lower iris
        f.poly(
            _ell(icx - irx * 0.15, icy + iry * 0.55, irx * 0.3, iry * 0.12, 10),
            _light(iris_c, 0.55),
            line=0.0,
            clip=white,
        )
    # Upper lash: heavy at the outer corner with a flick, the key stroke of a manhua eye.
    outer_first = top_pts if inner > 0 else top_pts[::-1]
    ox, oy = outer_first[0]
    flick = 0.35 + max(es.tilt, 0.0) * 0.5
    lash = [(ox - inner * 0.55 * (1 + max(es.tilt, 0.0)), oy - flick), *outer_first]
    f.stroke(lash, INK, (0.35 * es.lash, 0.62 * es.lash, 0.3 * es.lash))
    if es.lid:
        # the heavy lid's crease, following the eye's full round above the lowered lid
        crease = [
            (ex + ew / 2 * u, ey - eh / 2 * (1 - u * u) ** es.top - 0.35 + lift(u))
            for u in us[2:-2]
        ]
        f.stroke(crease, _mix(INK, iris_c, 0.35), (0.05, 0.16, 0.05))
    low = [(x, y) for x, y in bot_pts]
    low = low[2:8] if inner > 0 else low[5:11]
    f.stroke(low, _mix(INK, iris_c, 0.3), (0.06, 0.2 if es.h < 1.1 else 0.26, 0.06))
    f.mark("eyes", box)


def _face_features(
    f: _Fig,
    d: CharacterDesign,
    view: str,
    e: _Expr,
    expression: Emotion,
    mouth_open: float,
    eyes_closed: bool,
    glance: float,
    face: list[Pt],
    skin: RGB,
    skin_sh: RGB,
    eye: RGB,
    hair: RGB,
) -> None:
    # the jagged shadow the bangs cast on the forehead
    if d.hair_style not in (HairStyle.bald,):
        band = [(x, y + 1.0) for x, y in _bang_edge(view, d.hair_style)]
        band = band + [(x, y - 3.0) for x, y in reversed(band)]
        f.poly(band, skin_sh, line=0.0, clip=face)
    if expression == Emotion.happy or expression == Emotion.sad:
        cheeks = [(-3.2, 10.7), (3.3, 10.7)] if view == "front" else [(-1.2, 10.8), (3.6, 10.9)]
        if view == "side":
            cheeks = [(2.6, 10.8)]
        blush = _mix(skin, (240, 120, 130), 0.45)
        for cx, cy in cheeks:
            f.poly(_ell(cx, cy, 1.2, 0.55, 14), blush, line=0.0, clip=face)
            for j in range(3):
                x = cx - 0.6 + j * 0.55
                f.stroke(
                    [(x + 0.25, cy - 0.3), (x - 0.15, cy + 0.3)],
                    _mix(blush, INK, 0.3),
                    (0.08, 0.12, 0.08),
                )
    es = _EYE_SHAPES.get(d.eyes, _EYE_SHAPES["round"])
    if view == "front":
        _eye(f, -2.45, 8.4, 3.2, e, eye, eyes_closed, glance, 1.0, es)
        _eye(f, 2.45, 8.4, 3.2, e, eye, eyes_closed, glance, -1.0, es)
        f.stroke([(0.35, 10.3), (0.15, 11.0), (-0.25, 11.15)], skin_sh, (0.12, 0.28, 0.12))
        mx = 0.0
    elif view == "three_quarter":
        _eye(f, -1.15, 8.4, 3.2, e, eye, eyes_closed, 0.6, 1.0, es)
        _eye(f, 3.05, 8.4, 2.3, e, eye, eyes_closed, 0.6, -1.0, es)
        f.stroke(
            [(1.85, 9.2), (2.2, 10.7), (1.6, 11.1)], _mix(skin_sh, INK, 0.25), (0.12, 0.25, 0.15)
        )
        mx = 1.3
    else:
        _eye(f, 3.55, 8.4, 1.7, e, eye, eyes_closed, 1.0, 1.0, es)
        mx = 4.55
    if "beard" in d.accessories:
        bc = hair if _luma(hair) < 200 else (120, 110, 100)
        if view == "side":
            beard = [
                (5.3, 12.9),
                (4.9, 14.6),
                (3.2, 15.6),
                (0.8, 13.6),
                (-1.8, 11.6),
                (0.8, 11.8),
                (3.0, 13.0),
                (4.2, 12.9),
            ]
            must = [(5.6, 11.2), (4.3, 11.6), (4.4, 11.0), (5.3, 10.7)]
        else:
            beard = _sym(
                [
                    (0.0, 13.5),
                    (1.8, 12.9),
                    (3.6, 11.4),
                    (4.9, 9.8),
                    (4.3, 12.8),
                    (2.6, 14.8),
                    (0.0, 16.0),
                ]
            )
            must = _sym([(0.0, 11.4), (1.0, 11.2), (2.0, 11.9), (1.3, 12.2), (0.0, 11.9)])
            if view == "three_quarter":
                beard = _Warp(view).head(beard)
                must = [(x + mx, y) for x, y in must]
        f.poly(beard, bc, sil=True, shade=(0.8, 0.6), shade_fill=_mix(bc, INK, 0.4))
        f.poly(must, bc, line=0.7)
    _mouth(f, view, e, expression, mouth_open, mx, 12.35, tag="mouth")
    # The mouth box covers both extremes so a mouth patch can be swapped without seams.
    g = _Fig()
    _mouth(g, view, e, expression, 1.0, mx, 12.35, tag="mouth")
    _mouth(g, view, e, expression, 0.0, mx, 12.35, tag="mouth")
    f.mark("mouth", g.marks["mouth"])


def _mouth(
    f: _Fig,
    view: str,
    e: _Expr,
    expression: Emotion,
    mouth_open: float,
    mx: float,
    my: float,
    tag: str,
) -> None:
    mo = max(0.0, min(1.0, mouth_open))
    depth = max(e.mouth_rest, mo) * 2.1
    mw = e.mouth_w * (0.6 if view == "side" else 0.85 if view == "three_quarter" else 1.0)
    if expression in (Emotion.surprised, Emotion.afraid) and depth > 0.2:
        mw *= 0.75
    c = e.mouth_curve
    lip = (150, 60, 70)
    us = np.linspace(-1.0, 1.0, 11)
    if view == "side":
        us = np.linspace(-1.0, 0.2, 8)
    wob = 0.18 if expression == Emotion.afraid else 0.0

    def top(u: float) -> float:
        return my - c * 0.55 * (u * u - 0.4) + wob * math.sin(u * 9.0)

    if depth < 0.25:
        pts = [(mx + mw / 2 * u, top(u)) for u in us]
        f.stroke(pts, _mix(INK, lip, 0.25), (0.12, 0.32, 0.12), tag=tag)
        f.mark(tag, [(mx - mw / 2 - 0.3, my - 0.6), (mx + mw / 2 + 0.3, my + 0.6)])
        return
    flat = 0.3 if expression == Emotion.happy else 1.0
    tp = [(mx + mw / 2 * u, top(u)) for u in us]
    bp = [
        (
            mx + mw / 2 * u,
            top(u) * flat
            + (1 - flat) * top(0)
            + depth * (1 - u * u) ** 0.6
            + (0.12 if expression == Emotion.happy else 0.0) * (1 - u * u) * depth,
        )
        for u in us[::-1]
    ]
    if expression in (Emotion.surprised, Emotion.afraid):
        cy = my + depth / 2 - 0.2
        poly = _ell(mx, cy, mw / 2, depth / 2 + 0.15, 18)
    else:
        poly = tp + bp
    f.poly(poly, (112, 32, 44), line=0.8, tag=tag)
    pb = _bbox(poly)
    if depth > 0.9:
        f.poly(
            _ell((pb[0] + pb[2]) / 2, pb[3] - 0.1, (pb[2] - pb[0]) * 0.3, depth * 0.28, 14),
            (214, 104, 116),
            line=0.0,
            clip=poly,
        )
    if depth > 0.6 and expression not in (Emotion.surprised, Emotion.afraid):
        teeth = [(x, y - 0.2) for x, y in tp] + [(x, y + 0.45) for x, y in reversed(tp)]
        f.poly(teeth, WHITE, line=0.0, clip=poly)
        if expression == Emotion.angry:
            bt = [(x, y - 0.4) for x, y in bp]
            f.poly(bt + [(x, y + 0.4) for x, y in reversed(bp)], WHITE, line=0.0, clip=poly)


def _brows(f: _Fig, view: str, e: _Expr, colour: RGB, es: _EyeShape = _EYE_SHAPES["round"]) -> None:
    by = 8.4 - 1.375 * es.h - es.gap
    if view == "front":
        eyes = [(-2.45, 3.2, 1.0), (2.45, 3.2, -1.0)]
    elif view == "three_quarter":
        eyes = [(-1.15, 3.2, 1.0), (3.05, 2.4, -1.0)]
    else:
        eyes = [(3.55, 2.0, 1.0)]
    wb = e.brow_w * es.brow
    for ex, ew, inner in eyes:
        ew *= es.w
        p_in = (ex + inner * ew * 0.42, by + e.brow_in * 0.85)
        p_out = (ex - inner * ew * 0.62, by + 0.35 + e.brow_out - es.tilt * 0.35)
        mid = ((p_in[0] + p_out[0]) / 2, (p_in[1] + p_out[1]) / 2 - e.brow_arch * 0.8)
        pts = _quad(p_in, mid, p_out, 9)
        f.stroke(pts, colour, (wb * 1.25, wb, wb * 0.3))


def _marks(f: _Fig, view: str, expression: Emotion) -> None:
    if expression == Emotion.afraid:
        x, y = (5.6, 3.4) if view != "side" else (-3.8, 3.0)
        drop = [
            (x, y - 1.6),
            (x + 0.8, y + 0.2),
            (x + 0.55, y + 0.9),
            (x, y + 1.1),
            (x - 0.55, y + 0.9),
            (x - 0.8, y + 0.2),
        ]
        f.poly(drop, (190, 225, 245), line=0.7)
    elif expression == Emotion.angry:
        x, y = (-4.0, 2.2) if view != "side" else (0.0, 1.6)
        red = (206, 40, 50)
        for a in range(4):
            ang = a * math.pi / 2 + math.pi / 4
            cx, cy = x + math.cos(ang) * 0.7, y + math.sin(ang) * 0.7
            f.stroke(
                _quad(
                    (cx + math.cos(ang + 1.2) * 0.6, cy + math.sin(ang + 1.2) * 0.6),
                    (x + math.cos(ang) * 0.25, y + math.sin(ang) * 0.25),
                    (cx + math.cos(ang - 1.2) * 0.6, cy + math.sin(ang - 1.2) * 0.6),
                    6,
                ),
                red,
                (0.1, 0.3, 0.1),
            )
    elif expression == Emotion.sad:
        x, y = {"front": (-3.6, 10.1), "three_quarter": (-2.5, 10.1)}.get(view, (2.9, 10.1))
        tear = [(x, y - 0.5), *_ell(x, y + 0.45, 0.42, 0.45, 12, -0.35, math.pi + 0.35)[::-1]]
        f.poly(tear, (200, 230, 250), line=0.6)


def _bang_edge(view: str, style: HairStyle) -> list[Pt]:
    """Return the lower edge of the bangs, right to left (front-view units)."""
    if style == HairStyle.bob:
        pts = [(5.4, 5.4), (3.0, 5.7), (1.0, 5.5), (-1.0, 5.7), (-3.0, 5.5), (-5.4, 5.6)]
    elif style in (HairStyle.long, HairStyle.bun):
        pts = [
            (5.3, 7.0),
            (4.2, 4.6),
            (2.6, 2.6),
            (0.9, 1.4),
            (0.3, 1.0),
            (-0.3, 1.2),
            (-1.2, 1.6),
            (-2.8, 2.9),
            (-4.3, 4.7),
            (-5.3, 7.0),
        ]
    elif style == HairStyle.spiky:
        pts = [
            (5.4, 7.4),
            (4.4, 4.2),
            (3.5, 7.0),
            (2.2, 3.8),
            (1.1, 6.8),
            (0.0, 3.5),
            (-1.2, 6.9),
            (-2.3, 3.8),
            (-3.5, 7.1),
            (-4.5, 4.0),
            (-5.4, 7.6),
        ]
    elif style == HairStyle.ponytail:
        pts = [
            (5.3, 7.2),
            (4.4, 4.6),
            (3.6, 6.6),
            (2.4, 3.9),
            (1.0, 6.0),
            (0.0, 3.2),
            (-1.5, 5.2),
            (-2.6, 2.7),
            (-4.0, 4.2),
            (-5.3, 4.6),
        ]
    else:
        pts = [
            (5.3, 7.0),
            (4.6, 4.6),
            (3.8, 6.5),
            (2.8, 4.2),
            (1.8, 6.4),
            (0.6, 3.8),
            (-0.6, 6.2),
            (-1.8, 4.0),
            (-2.9, 6.6),
            (-4.0, 4.4),
            (-5.3, 7.2),
        ]
    if view == "three_quarter":
        return _Warp(view).head(pts)
    if view == "side":
        return [(4.9, 3.0), (4.4, 6.0), (3.6, 4.6), (3.1, 6.6), (2.2, 4.4), (1.6, 5.6)]
    return pts


def _back_hair(
    f: _Fig, view: str, style: HairStyle, hair: RGB, hair_sh: RGB, accent: RGB, w: _Warp
) -> None:
    if style == HairStyle.bald:
        return
    sh = (1.4, 0.0)
    if view == "side":
        if style == HairStyle.long:
            f.poly(
                [
                    (-1.0, 4.0),
                    (-6.6, 6.0),
                    (-7.0, 20.0),
                    (-6.0, 32.0),
                    (-3.0, 33.0),
                    (-2.0, 20.0),
                    (-0.6, 12.0),
                ],
                hair,
                sil=True,
                shade=sh,
                shade_fill=hair_sh,
            )
        elif style == HairStyle.ponytail:
            f.poly(
                [
                    (-4.2, 3.2),
                    (-7.0, 5.0),
                    (-8.6, 14.0),
                    (-7.6, 27.0),
                    (-6.2, 29.0),
                    (-6.4, 17.0),
                    (-4.6, 8.0),
                ],
                hair,
                sil=True,
                shade=sh,
                shade_fill=hair_sh,
            )
            f.poly(_ell(-5.6, 4.6, 0.9, 1.3, 10), accent, line=0.8)
        elif style == HairStyle.bun:
            f.poly(
                _ell(-4.6, 1.6, 3.0, 3.0, 20), hair, sil=True, shade=(0.8, 0.8), shade_fill=hair_sh
            )
            f.stroke([(-7.8, -0.8), (-1.6, 3.4)], accent, (0.35, 0.35, 0.35))
        return
    if view == "back":
        return  # the back view draws all its hair in front of the head
    if style == HairStyle.long:
        pts = _sym([(0.0, -0.6), (6.3, 5.0), (7.6, 18.0), (8.3, 33.0), (5.6, 37.5), (0.0, 36.0)])
    elif style == HairStyle.bob:
        pts = _sym([(0.0, -0.6), (6.4, 5.0), (6.9, 12.0), (6.6, 15.2), (0.0, 15.0)])
    elif style == HairStyle.ponytail:
        tail = [
            (3.4, 2.0),
            (7.4, 6.0),
            (8.8, 16.0),
            (7.8, 29.0),
            (5.6, 31.0),
            (6.2, 17.0),
            (4.0, 9.0),
        ]
        tie = _ell(5.2, 4.2, 1.0, 1.4, 10)
        if view == "three_quarter":
            tail, tie = [(-x - 0.8, y) for x, y in tail], [(-x - 0.8, y) for x, y in tie]
        f.poly(tail, hair, sil=True, shade=sh, shade_fill=hair_sh)
        f.poly(tie, accent, line=0.8)
        pts = _ell(0.0, 6.2, 6.0, 6.9, 24)
    elif style == HairStyle.bun:
        f.poly(
            w.head(_ell(0.0, -1.0, 3.3, 3.0, 20)),
            hair,
            sil=True,
            shade=(0.8, 0.8),
            shade_fill=hair_sh,
        )
        f.stroke(w.head([(-4.2, -2.4), (3.4, 0.6)]), accent, (0.35, 0.35, 0.35))
        pts = _ell(0.0, 6.2, 6.0, 6.9, 24)
    else:
        pts = _sym([(0.0, -0.8), (6.1, 5.0), (6.2, 10.0), (5.0, 11.8), (0.0, 12.0)])
    if view == "three_quarter":
        pts = [(x - 0.6, y) for x, y in w.head(pts)]
    f.poly(pts, hair, sil=True, shade=sh, shade_fill=hair_sh)


def _cap(view: str, style: HairStyle) -> list[Pt]:
    """Return the hair mass that sits on top of the head, drawn over the face."""
    spiky = style == HairStyle.spiky
    if view == "side":
        n = 21
        arc = []
        for i in range(n):
            a = -0.62 - (math.pi * 1.22) * i / (n - 1)
            r = 1.0 + (0.28 if spiky and i % 2 == 1 and 0 < i < n - 3 else 0.0)
            arc.append((-0.2 + 6.1 * r * math.cos(a), 6.2 + 7.1 * r * math.sin(a)))
        nape_y = {HairStyle.long: 14.0, HairStyle.bob: 15.0}.get(style, 12.2)
        inner = [
            (-4.2, nape_y),
            (-2.4, nape_y - 0.6),
            (-1.4, 10.2),
            (-0.6, 7.0),
            (0.9, 6.6),
            (1.3, 9.8),
            (1.9, 6.2),
        ]
        return arc + inner + _bang_edge(view, style)[::-1][:-1]
    if view == "back":
        if style == HairStyle.long:
            pts = _sym(
                [
                    (0.0, -0.9),
                    (6.1, 3.0),
                    (6.4, 8.0),
                    (7.6, 18.0),
                    (8.3, 33.0),
                    (5.6, 37.0),
                    (2.0, 35.5),
                    (0.0, 36.5),
                ]
            )
        elif style == HairStyle.bob:
            pts = _sym([(0.0, -0.9), (6.1, 3.0), (6.6, 9.0), (6.9, 15.0), (3.0, 15.4), (0.0, 15.0)])
        else:
            body = _ell(0.0, 6.4, 6.1, 7.2, 32, math.pi * 0.62, math.pi * 2.38)
            if spiky:
                body = [
                    (x * (1.22 if i % 2 else 1.0), 6.4 + (y - 6.4) * (1.2 if i % 2 else 1.0))
                    for i, (x, y) in enumerate(body)
                ]
            nape = [(3.0, 12.6), (1.6, 13.6), (0.6, 12.8), (-0.6, 13.8), (-1.8, 12.7), (-3.0, 12.6)]
            pts = body + nape
        return pts
    # front / three-quarter
    n = 19
    arc = []
    for i in range(n):
        a = math.pi + math.pi * i / (n - 1)
        r = 1.0 + (0.32 if spiky and i % 2 == 1 else 0.0)
        arc.append((6.05 * r * math.cos(a), 6.3 + 7.1 * r * math.sin(a)))
    if style == HairStyle.bob:
        right = [(6.6, 9.0), (6.9, 14.9), (5.0, 15.0), (5.1, 7.0)]
    elif style == HairStyle.long:
        right = [(6.3, 9.0), (5.6, 9.6)]
    else:
        right = [(6.15, 8.8), (5.7, 10.0), (5.3, 7.6)]
    left = [(-x, y) for x, y in reversed(right)]
    pts = arc + right + _bang_edge("front", style) + left
    if view == "three_quarter":
        # The back of the head shows hair down to the nape on the far side.
        back = [(-3.6, 10.0), (-4.7, 12.6), (-6.1, 10.4)]
        if style == HairStyle.bob:
            back = [(-3.2, 11.0), (-4.0, 15.2), (-6.9, 15.0), (-6.6, 9.0)]
        pts = _Warp(view).head(arc + right + _bang_edge("front", style)) + back
    return pts


def _front_hair(
    f: _Fig,
    view: str,
    style: HairStyle,
    hair: RGB,
    hair_sh: RGB,
    hair_hi: RGB,
    skin: RGB,
) -> None:
    if style == HairStyle.bald:
        top = _ell(-0.3 if view == "side" else 0.0, 3.2, 2.6, 1.2, 16, math.pi * 1.1, math.pi * 1.6)
        f.stroke(top, _light(skin, 0.55), (0.1, 0.5, 0.1))
        return
    cap = _cap(view, style)
    if view == "back" and style == HairStyle.ponytail:
        f.poly(_ell(0.0, 6.4, 6.1, 7.2, 28), hair, sil=True, shade=(1.4, 0.6), shade_fill=hair_sh)
        tail = [(-1.4, 5.0), (1.4, 5.0), (2.6, 18.0), (1.4, 31.0), (-1.0, 31.0), (-2.4, 18.0)]
        f.poly(tail, hair, sil=True, shade=(1.0, 0.0), shade_fill=hair_sh)
        f.poly(_ell(0.0, 5.4, 1.4, 0.9, 12), (200, 60, 60), line=0.8)
    elif view == "back" and style == HairStyle.bun:
        f.poly(_ell(0.0, 0.6, 3.3, 3.0, 20), hair, sil=True, shade=(0.8, 0.8), shade_fill=hair_sh)
    f.poly(cap, hair, sil=True, shade=(1.5, 0.7), shade_fill=hair_sh)
    # hair box: the cap above the bangs, where the pixels are mostly hair
    bx = _bbox(cap)
    if view == "back":
        f.mark("hair", [(bx[0] + 1.0, 0.5), (bx[2] - 1.0, 10.0)])
    elif view == "side":
        f.mark("hair", [(-4.6, 0.2), (2.0, 4.5)])
    else:
        x0, x1 = (-4.6, 4.6) if view == "front" else (-4.8, 3.4)
        f.mark("hair", [(x0, -0.2), (x1, 3.2)])
    # highlight band ("angel ring")
    cx = -0.2 if view == "side" else (-0.4 if view == "three_quarter" else 0.0)
    a0, a1 = (math.pi * 1.05, math.pi * 1.85) if view != "side" else (math.pi * 1.05, math.pi * 1.6)
    outer = _ell(cx, 6.3, 4.9, 5.6, 14, a0, a1)
    inner_pts = []
    for i, (x, y) in enumerate(reversed(_ell(cx, 6.3, 4.2, 4.7, 14, a0, a1))):
        inner_pts.append((x, y + (0.35 if i % 2 else -0.1)))
    f.poly(outer + inner_pts, hair_hi, line=0.0, clip=cap)
    # a few strand lines
    for i, (x, y) in enumerate(_bang_edge(view, style)[1:-1]):
        if i % 2 == 1 or view == "back":
            continue
        f.stroke(
            _quad((x * 0.3 + cx, 0.6), (x * 0.8, y * 0.45), (x, y - 0.3), 7),
            hair_sh,
            (0.05, 0.22, 0.05),
        )
    if style == HairStyle.long and view in ("front", "three_quarter"):
        for sg in (-1.0, 1.0):
            lock = [
                (sg * 5.9, 5.0),
                (sg * 6.6, 12.0),
                (sg * 6.3, 20.0),
                (sg * 5.3, 25.0),
                (sg * 5.0, 19.0),
                (sg * 4.9, 11.0),
                (sg * 4.6, 7.0),
            ]
            if view == "three_quarter":
                if sg < 0:
                    continue
                lock = _Warp(view).head(lock)
            f.poly(lock, hair, sil=True, shade=(0.5, 0.0), shade_fill=hair_sh)


def _collar(
    f: _Fig,
    view: str,
    g: _Garment,
    cloth: RGB,
    accent: RGB,
    inner: RGB,
    skin: RGB,
    w: _Warp,
    WST: float,
) -> None:
    collar = g.collar
    if view in ("back", "side"):
        if view == "side":
            f.stroke([(1.4, 16.6), (3.2, 19.2)], accent, (0.6, 0.6, 0.6))
        return
    if collar == "cross":
        f.poly(w.chest([(-2.3, 16.6), (2.3, 16.6), (0.0, 24.0)]), WHITE, line=0.8)
        f.poly(
            w.chest([(2.4, 16.4), (3.9, 16.9), (-WST * 0.55, 36.5), (-WST * 0.85, 34.5)]),
            accent,
            line=1.0,
        )
        f.poly(w.chest([(-2.4, 16.4), (-3.9, 16.9), (-0.4, 25.8), (0.4, 23.2)]), accent, line=1.0)
    elif collar == "mandarin":
        f.poly(w.chest([(-2.5, 15.4), (2.5, 15.4), (2.7, 17.8), (-2.7, 17.8)]), accent, line=1.0)
        if g.cut == "qipao":
            f.stroke(w.chest([(0.0, 17.8), (2.2, 20.0), (4.6, 20.6)]), accent, (0.45, 0.45, 0.3))
        else:
            # a placket with a column of buttons
            f.stroke(w.chest([(0.0, 17.8), (0.0, 38.4)]), _mix(cloth, INK, 0.45), (0.2, 0.2, 0.2))
            for j in range(4):
                f.poly(w.chest(_ell(0.0, 21.0 + 4.6 * j, 0.55, 0.55, 8)), accent, line=0.5)
    elif collar == "lapel":
        f.poly(w.chest([(-2.4, 16.6), (2.4, 16.6), (0.0, 26.0)]), inner, line=0.8)
        if g.cut != "jacket":
            f.poly(
                w.chest(
                    [
                        (0.3, 22.0),
                        (0.9, 23.0),
                        (0.5, 31.0),
                        (0.0, 32.0),
                        (-0.5, 31.0),
                        (-0.9, 23.0),
                        (-0.3, 22.0),
                    ]
                ),
                accent,
                line=0.8,
            )
        wide = 1.0 if g.cut == "coat" else 0.0
        for sg in (-1.0, 1.0):
            lap = [
                (sg * 2.4, 16.5),
                (sg * (3.6 + wide), 17.0),
                (sg * (4.6 + wide * 1.6), 22.0),
                (sg * (3.4 + wide), 22.6),
                (sg * 1.6, 30.0),
                (sg * 0.4, 29.0),
            ]
            f.poly(w.chest(lap), _mix(cloth, INK, 0.2), line=0.9)
        if g.cut == "coat":
            for j in range(2):
                for sg in (-1.0, 1.0):
                    f.poly(w.chest(_ell(sg * 2.2, 32.0 + 3.4 * j, 0.5, 0.5, 8)), accent, line=0.5)
    elif collar == "hood":
        f.poly(w.chest(_ell(0.0, 16.2, 2.6, 1.3, 14, 0.0, math.pi)), skin, line=0.0)
        f.stroke(w.chest([(0.0, 17.4), (0.0, 38.4)]), _mix(cloth, INK, 0.5), (0.3, 0.3, 0.3))
        for sg in (-1.0, 1.0):
            f.stroke(w.chest([(sg * 1.3, 17.2), (sg * 1.5, 24.5)]), accent, (0.35, 0.35, 0.25))
    elif collar == "round":
        f.poly(w.chest(_ell(0.0, 16.3, 3.0, 1.6, 16, 0.0, math.pi)), skin, line=0.0)
        f.stroke(w.chest(_ell(0.0, 16.3, 3.2, 1.8, 14, 0.0, math.pi)), accent, (0.7, 0.7, 0.7))
    elif g.cut == "vest":
        # the shirt shows in the vest's V, with its collar points
        f.poly(w.chest([(-3.4, 16.4), (3.4, 16.4), (0.0, 28.0)]), inner, line=0.8)
        for sg in (-1.0, 1.0):
            f.poly(w.chest([(sg * 0.2, 17.6), (sg * 2.8, 16.2), (sg * 2.4, 19.8)]), inner, line=0.8)
        f.poly(
            w.chest([(-0.6, 18.2), (0.6, 18.2), (0.9, 25.5), (0.0, 26.6), (-0.9, 25.5)]),
            accent,
            line=0.7,
        )
    else:
        f.poly(w.chest([(-2.3, 16.5), (2.3, 16.5), (0.0, 22.0)]), skin, line=0.0)
        for sg in (-1.0, 1.0):
            f.stroke(
                w.chest([(sg * 2.6, 16.6), (sg * 1.2, 19.6), (0.0, 22.4)]), accent, (0.9, 0.9, 0.6)
            )


def _skirt(
    f: _Fig,
    view: str,
    g: _Garment,
    cloth: RGB,
    cloth_sh: RGB,
    accent: RGB,
    pants: RGB,
    wst: float,
    HIP: float,
    w: _Warp,
) -> None:
    """The part of a long garment below the waist: each cut has its own silhouette."""
    hem = g.hem if g.hem is not None else 60.0
    top = 39.0
    if view == "side":
        back = {"dress": 6.2, "coat": 5.6, "robe": 5.4}.get(g.cut, 4.4)
        front = {"dress": 6.0, "coat": 5.8, "robe": 5.2}.get(g.cut, 4.2)
        skirt = [(3.0, top + 0.5), (-3.4, top + 0.5), (-back, hem), (front, hem)]
        f.poly(skirt, cloth, sil=True, shade=(1.6, 0.0), shade_fill=cloth_sh)
        f.stroke([(-back, hem), (front, hem)], accent, (0.9, 0.9, 0.9))
        return
    if g.cut == "dress":
        # A-line: flares from the waist to a wide, softly curved hem
        flare = HIP + 4.2 + (hem - 60) * 0.14
        pts = [(-wst, top), (wst, top), (HIP + 1.2, 50.0), (flare, hem - 0.6)]
        pts += [(flare * 0.5, hem + 0.6), (0.0, hem + 0.9), (-flare * 0.5, hem + 0.6)]
        pts += [(-flare, hem - 0.6), (-HIP - 1.2, 50.0)]
    elif g.cut == "coat":
        # long coat: flares, open below the belt so the trousers show in a tall notch
        flare = HIP + 3.0 + (hem - 60) * 0.1
        pts = [(-wst, top), (wst, top), (HIP + 0.8, 50.0), (flare, hem), (1.9, hem)]
        pts += [(0.5, 46.0), (-0.5, 46.0), (-1.9, hem), (-flare, hem), (-HIP - 0.8, 50.0)]
        if view == "back":  # closed at the back
            pts = [*pts[:4], (0.0, hem + 0.4), *pts[8:]]
    elif g.cut == "qipao":
        # straight and narrow, slit at the sides
        pts = [(-wst, top), (wst, top), (HIP + 0.3, 50.0), (HIP - 0.4, hem), (0.0, hem + 0.4)]
        pts += [(-HIP + 0.4, hem), (-HIP - 0.3, 50.0)]
    elif g.cut == "robe":
        flare = HIP + 2.2
        pts = [(-wst, top), (wst, top), (HIP + 1.2, 52.0), (flare, hem), (0.0, hem + 0.6)]
        pts += [(-flare, hem), (-HIP - 1.2, 52.0)]
    else:
        # tunic or apron: to the thighs, split at the sides
        flare = HIP + 1.3
        pts = [(-wst, top), (wst, top), (HIP + 0.6, 50.0), (flare, hem), (0.0, hem + 0.5)]
        pts += [(-flare, hem), (-HIP - 0.6, 50.0)]
    skirt = w.body(pts)
    f.poly(skirt, cloth, sil=True, shade=(1.6, 0.0), shade_fill=cloth_sh)
    xs = [x for x, _ in skirt]
    if g.cut == "coat" and view != "back":
        # the notch: the coat's front edges, trimmed
        for sg in (-1.0, 1.0):
            f.stroke(w.body([(sg * 0.5, 46.4), (sg * 1.9, hem)]), accent, (0.5, 0.6, 0.6))
    elif g.cut in ("qipao", "tunic"):
        sy = hem - (hem - 50.0) * 0.45
        for sg in (-1.0, 1.0):
            x = HIP - 0.4 if g.cut == "qipao" else HIP + 1.0
            f.stroke(
                w.body([(sg * x, sy), (sg * (x + 0.1), hem)]),
                _mix(cloth, INK, 0.6),
                (0.15, 0.3, 0.3),
            )
    lo, hi = min(xs), max(xs)
    if g.cut != "coat" or view == "back":
        f.stroke(
            [
                (lo + 0.4, max(y for _, y in skirt) - 0.7),
                (hi - 0.4, max(y for _, y in skirt) - 0.7),
            ],
            accent,
            (0.8, 0.8, 0.8),
        )


def _hood(f: _Fig, view: str, cloth: RGB, cloth_sh: RGB, NECK: float, w: _Warp) -> None:
    """A hood lying down: a ring behind the neck, or a pouch on the upper back."""
    sh = _mix(cloth, INK, 0.25)
    if view == "back":
        pts = _sym([(0.0, 13.4), (4.6, 13.2), (5.6, 16.5), (4.4, 23.0), (1.6, 26.4), (0.0, 26.8)])
        f.poly(pts, cloth, sil=True, shade=(1.0, 0.0), shade_fill=cloth_sh)
        f.stroke([(0.0, 14.2), (0.0, 25.6)], sh, (0.15, 0.3, 0.15))
        f.stroke(_quad((-4.0, 14.6), (0.0, 18.0), (4.0, 14.6), 9), sh, (0.12, 0.3, 0.12))
        return
    if view == "side":
        pts = [(-0.6, 12.0), (-4.6, 12.4), (-6.2, 16.0), (-5.2, 21.5), (-2.6, 20.2), (-0.6, 17.0)]
        f.poly(pts, cloth, sil=True, shade=(1.0, 0.0), shade_fill=cloth_sh)
        f.stroke([(-4.4, 13.6), (-5.0, 18.6)], sh, (0.15, 0.3, 0.15))
        return
    pts = _sym(
        [
            (0.0, 11.2),
            (NECK + 2.6, 11.6),
            (NECK + 4.3, 14.0),
            (NECK + 4.6, 17.8),
            (NECK + 1.8, 18.6),
            (0.0, 18.4),
        ]
    )
    pts = w.body(pts, 0.5) if view == "three_quarter" else pts
    f.poly(pts, cloth, sil=True, shade=(1.0, 0.0), shade_fill=cloth_sh)
    for sg in (-1.0, 1.0):
        rim = [(sg * (NECK + 1.0), 12.4), (sg * (NECK + 3.2), 14.4), (sg * (NECK + 3.2), 17.6)]
        f.stroke(w.body(rim, 0.5) if view == "three_quarter" else rim, sh, (0.12, 0.3, 0.12))


def _scarf(f: _Fig, view: str, accent: RGB, w: _Warp) -> None:
    sh = _shadow(accent)
    if view == "side":
        wrap = [(-2.4, 14.8), (2.8, 15.4), (3.6, 18.8), (-2.6, 19.2)]
        tail = [(-2.0, 17.0), (-3.8, 30.0), (-1.8, 31.0), (-0.4, 18.0)]
    else:
        wrap = _sym([(0.0, 15.6), (2.6, 14.6), (4.3, 16.2), (4.1, 19.0), (0.0, 20.0)])
        tail = [(1.6, 18.0), (3.9, 18.4), (4.4, 32.0), (2.0, 31.4)]
        wrap, tail = w.head(wrap), w.body(tail)
    f.poly(tail, accent, sil=True, shade=(0.9, 0.0), shade_fill=sh)
    f.poly(wrap, accent, sil=True, shade=(1.0, 0.6), shade_fill=sh)
    f.stroke(
        [
            (x, y + 0.2)
            for x, y in _quad(wrap[1], ((wrap[1][0] + wrap[2][0]) / 2, 18.0), wrap[-2], 8)
        ],
        sh,
        (0.08, 0.2, 0.08),
    )


def _accessories(
    f: _Fig, view: str, acc: set[str], accent: RGB, cloth: RGB, style: HairStyle
) -> None:
    wh = _Warp(view)
    if "headband" in acc:
        if view == "side":
            band = _quad((4.4, 2.0), (0.6, 0.4), (-1.6, 8.6), 12)
        elif view == "back":
            band = _ell(0.0, 6.4, 6.2, 7.3, 12, math.pi * 1.05, math.pi * 1.95)
        else:
            band = wh.head(_ell(0.0, 6.3, 6.1, 5.4, 14, math.pi * 1.02, math.pi * 1.98))
        f.ops.append(_Op(band, accent, 0.0, widths=(1.2, 1.3, 1.2)))
        if view in ("front", "three_quarter"):
            # Keep the hair box off the band: on the bangs, or where an open-browed style
            # shows solid hair (the side lock, the bun).
            box = {
                HairStyle.long: [(5.3, 12.0), (5.9, 18.0)],
                HairStyle.bun: [(-1.8, -3.6), (1.8, -1.6)],
            }.get(style, [(-4.4, 3.2), (4.4, 4.4)])
            f.marks["hair"] = wh.head(box)
    if "hat" in acc:
        hat = _mix(cloth, (60, 50, 40), 0.55)
        cx = -0.3 if view == "side" else 0.0
        crown = [
            *_ell(cx, 1.0, 5.0, 5.2, 18, math.pi, 2 * math.pi),
            (cx + 5.0, 1.8),
            (cx - 5.0, 1.8),
        ]
        f.poly(crown, hat, sil=True, shade=(1.2, 0.0), shade_fill=_shadow(hat))
        f.poly(
            [(cx - 5.0, -0.2), (cx + 5.0, -0.2), (cx + 5.0, 1.6), (cx - 5.0, 1.6)], accent, line=0.8
        )
        brim = _ell(cx + (0.8 if view == "side" else 0.0), 1.9, 8.4, 1.35, 24)
        f.poly(brim, hat, sil=True, shade=(0.0, 0.6), shade_fill=_shadow(hat))
        # Under a hat only the hair below the brim is visible: keep the hair box there.
        f.marks["hair"] = {
            "side": [(-4.6, 3.0), (0.4, 8.0)],
            "back": [(-4.0, 3.0), (4.0, 10.0)],
        }.get(view, wh.head([(-4.4, 3.4), (4.4, 4.6)]))
    if view == "back":
        return
    if "glasses" in acc:
        rim = (40, 36, 44)
        lenses = {
            "front": [(-2.45, 4.1), (2.45, 4.1)],
            "three_quarter": [(-1.15, 4.0), (3.05, 2.9)],
            "side": [(3.6, 2.0)],
        }[view]
        for lx, lw in lenses:
            lens = _round_rect(lx, 8.6, lw, 3.1)
            f.stroke(lens + lens[:2], rim, (0.3, 0.3, 0.3))
            f.stroke([(lx - lw * 0.25, 9.6), (lx + lw * 0.05, 7.6)], WHITE, (0.1, 0.18, 0.1))
        if view == "front":
            f.stroke([(-0.4, 8.2), (0.0, 7.9), (0.4, 8.2)], rim, (0.25, 0.25, 0.25))
        elif view == "three_quarter":
            f.stroke([(0.9, 8.2), (1.85, 8.0)], rim, (0.25, 0.25, 0.25))
            f.stroke([(-2.75, 8.2), (-4.4, 8.4)], rim, (0.25, 0.25, 0.25))
        else:
            f.stroke([(2.8, 8.3), (-0.3, 8.5)], rim, (0.25, 0.25, 0.25))
    if "earrings" in acc:
        spots = {
            "front": [(-5.3, 11.0), (5.3, 11.0)],
            "three_quarter": [(-4.6, 11.0)],
            "side": [(-0.4, 11.0)],
        }[view]
        for x, y in spots:
            f.poly(_ell(x, y, 0.6, 0.6, 10), accent, line=0.7)
            f.poly(_ell(x, y + 1.4, 0.45, 0.75, 10), accent, line=0.7)


def _round_rect(cx: float, cy: float, w: float, h: float) -> list[Pt]:
    pts = []
    for i in range(24):
        a = 2 * math.pi * i / 24
        c, s = math.cos(a), math.sin(a)
        pts.append(
            (
                cx + w / 2 * math.copysign(abs(c) ** 0.5, c),
                cy + h / 2 * math.copysign(abs(s) ** 0.5, s),
            )
        )
    return pts


# ---------------------------------------------------------------------------------------------
# painting a display list


def _line_widths(height_px: float) -> tuple[float, float]:
    """Return (inner, outer) ink widths in pixels for a figure of this height.

    Lines thin out less than the figure shrinks, so a small figure keeps a readable contour,
    but not so little that it turns into a dark blot.
    """
    inner = max(0.9, 3.5 * (height_px / 640.0) ** 0.75)
    return inner, inner * 1.8


def _to_px(pts: Sequence[Pt], fx: float, fy: float, k: float, sgn: float) -> list[Pt]:
    return [(fx + sgn * x * k, fy + (y - 100.0) * k) for x, y in pts]


def _paint_ops(
    fig: _Fig,
    *,
    fx: float,
    fy: float,
    k: float,
    mirror: bool,
    window: BoxT,
    ss: int = _SS,
) -> Image.Image:
    """Paint a display list into an RGBA image covering `window` (target pixel coords)."""
    x0, y0, x1, y1 = window
    cw, ch = (x1 - x0) * ss, (y1 - y0) * ss
    rgb = Image.new("RGB", (cw, ch), INK)
    alpha = Image.new("L", (cw, ch), 0)
    d = ImageDraw.Draw(rgb)
    da = ImageDraw.Draw(alpha)
    sgn = -1.0 if mirror else 1.0
    w_in, w_out = _line_widths(k * 100)
    fxs, fys, ks = (fx - x0) * ss, (fy - y0) * ss, k * ss
    min_px = 0.9 * ss

    polys: list[list[Pt]] = []
    for op in fig.ops:
        p = _to_px(op.pts, fxs, fys, ks, sgn)
        if op.widths is not None:
            p = _stroke_poly(p, [wd * ks for wd in op.widths], min_px)
        polys.append(p)

    wo = max(2, round(w_out * ss))
    for op, p in zip(fig.ops, polys, strict=True):
        if op.sil and len(p) > 2:
            da.polygon(p, fill=255)
            _ink_line(da, [*p, p[0]], 255, wo)
    for op, p in zip(fig.ops, polys, strict=True):
        if len(p) < 3:
            continue
        if op.clip is None:
            # Strokes and trims may reach past the silhouette (lash flicks, sweat drops).
            da.polygon(p, fill=255)
        if op.clip is None and op.shade is None:
            d.polygon(p, fill=op.fill)
        else:
            clip = _to_px(op.clip, fxs, fys, ks, sgn) if op.clip is not None else None
            _masked_fill(rgb, p, op.fill, clip, op.shade, op.shade_fill, ks)
        if op.line > 0:
            lw = max(1, round(w_in * op.line * ss))
            _ink_line(d, [*p, p[0]], INK, lw)
            _ink_line(da, [*p, p[0]], 255, lw)
    if ss > 1:
        rgb = rgb.reduce(ss)
        alpha = alpha.reduce(ss)
    rgb.putalpha(alpha)
    return rgb


def _masked_fill(
    img: Image.Image,
    p: list[Pt],
    fill: RGB,
    clip: list[Pt] | None,
    shade: Pt | None,
    shade_fill: RGB | None,
    ks: float,
) -> None:
    bx0, by0, bx1, by1 = _bbox(p)
    bx0, by0 = max(0, math.floor(bx0) - 1), max(0, math.floor(by0) - 1)
    bx1, by1 = min(img.width, math.ceil(bx1) + 2), min(img.height, math.ceil(by1) + 2)
    if bx1 <= bx0 or by1 <= by0:
        return
    size = (bx1 - bx0, by1 - by0)

    def local(pts: Sequence[Pt], dx: float = 0.0, dy: float = 0.0) -> list[Pt]:
        return [(x - bx0 + dx, y - by0 + dy) for x, y in pts]

    m = Image.new("L", size, 0)
    ImageDraw.Draw(m).polygon(local(p), fill=255)
    if clip is not None:
        c = Image.new("L", size, 0)
        ImageDraw.Draw(c).polygon(local(clip), fill=255)
        m = ImageChops.darker(m, c)
    img.paste(fill, (bx0, by0, bx1, by1), m)
    if shade is not None and shade_fill is not None:
        # Lit part = the shape moved toward the light; what is left of it is the cel shadow.
        ImageDraw.Draw(m).polygon(local(p, -shade[0] * ks, -shade[1] * ks), fill=0)
        img.paste(shade_fill, (bx0, by0, bx1, by1), m)


def _ink_line(draw: ImageDraw.ImageDraw, pts: Sequence[Pt], fill: RGB | int, width: int) -> None:
    """Draw a polyline with round joints (Pillow's own curve joints are slow in Python)."""
    draw.line(list(pts), fill=fill, width=width)
    if width >= 3:
        r = width / 2 - 0.25
        for x, y in pts:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)


def _marks_px(fig: _Fig, fx: float, fy: float, k: float, mirror: bool) -> dict[str, BoxT]:
    sgn = -1.0 if mirror else 1.0
    out: dict[str, BoxT] = {}
    for tag, pts in fig.marks.items():
        px = _to_px(pts, fx, fy, k, sgn)
        b = _bbox(px)
        out[tag] = (math.floor(b[0]), math.floor(b[1]), math.ceil(b[2]), math.ceil(b[3]))
    allp: list[Pt] = []
    for op in fig.ops:
        allp.extend(op.pts)
    b = _bbox(_to_px(allp, fx, fy, k, sgn))
    out["all"] = (math.floor(b[0]), math.floor(b[1]), math.ceil(b[2]), math.ceil(b[3]))
    return out


# ---------------------------------------------------------------------------------------------
# characters: public API


@dataclass(frozen=True)
class Figure:
    """A rendered character sprite."""

    image: Image.Image  # RGBA, transparent background, tightly cropped around the figure
    face: tuple[int, int, int, int]  # boxes in sprite pixel coords (x0, y0, x1, y1)
    hair: tuple[int, int, int, int]
    outfit: tuple[int, int, int, int]
    mouth: tuple[int, int, int, int]
    feet_y: int  # y of the soles in sprite coords (the figure stands there)


def _view_params(view: str, facing: str) -> tuple[bool, float]:
    """Return (mirror, glance) for a view turned toward `facing`."""
    mirror = facing == "left"
    glance = 0.0 if (view == "front" and facing == "front") else 1.0
    return mirror, glance


def render_figure(
    design: CharacterDesign,
    *,
    height_px: int,
    view: View = "front",
    expression: Emotion = Emotion.neutral,
    mouth_open: float = 0.0,
    facing: Literal["left", "right", "front"] = "front",
    eyes_closed: bool = False,
) -> Figure:
    """Render one character standing, tightly cropped, at `height_px` from crown to soles."""
    mirror, glance = _view_params(view, facing)
    fig = _figure_ops(design, view, expression, mouth_open, eyes_closed, glance)
    k = height_px / 100.0
    marks = _marks_px(fig, 0.0, 0.0, k, mirror)
    pad = math.ceil(_line_widths(height_px)[1]) + 2
    ax0, ay0, ax1, ay1 = marks["all"]
    fx, fy = float(pad - ax0), float(pad - ay0)
    window = (0, 0, ax1 - ax0 + 2 * pad, ay1 - ay0 + 2 * pad)
    img = _paint_ops(fig, fx=fx, fy=fy, k=k, mirror=mirror, window=window)
    bbox = img.getchannel("A").getbbox() or (0, 0, img.width, img.height)
    img = img.crop(bbox)
    dx, dy = bbox[0], bbox[1]
    marks = _marks_px(fig, fx - dx, fy - dy, k, mirror)

    def box(tag: str, grow: int = 0) -> BoxT:
        if tag not in marks:
            return (0, 0, 0, 0)
        b = marks[tag]
        return (
            max(0, b[0] - grow),
            max(0, b[1] - grow),
            min(img.width, b[2] + grow),
            min(img.height, b[3] + grow),
        )

    # The mouth box also holds the ink and antialiasing around the lips, so swapping that
    # region is enough to animate speech.
    grow = math.ceil(_line_widths(height_px)[0]) + 1

    return Figure(
        image=img,
        face=box("face"),
        hair=box("hair"),
        outfit=box("outfit"),
        mouth=box("mouth", grow) if view != "back" else (0, 0, 0, 0),
        feet_y=round(fy - dy),
    )


_SHEET_EXPRESSIONS = [
    Emotion.neutral,
    Emotion.happy,
    Emotion.sad,
    Emotion.angry,
    Emotion.surprised,
    Emotion.afraid,
]


@lru_cache(maxsize=16)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    try:
        return ImageFont.truetype(_FONT_DIR + name, size)
    except OSError:
        return ImageFont.load_default(size)


def render_reference_sheet(
    design: CharacterDesign,
) -> tuple[dict[str, Image.Image], dict[str, Image.Image], Image.Image]:
    """Render turnaround views, expression heads and one composed model sheet (1600x900)."""
    views: list[tuple[str, View, Facing]] = [
        ("front", "front", "front"),
        ("three_quarter", "three_quarter", "right"),
        ("side", "side", "right"),
        ("back", "back", "front"),
    ]
    fig_h = 640
    turnaround = {
        key: render_figure(design, height_px=fig_h, view=v, facing=fc).image for key, v, fc in views
    }
    expressions: dict[str, Image.Image] = {}
    for emo in _SHEET_EXPRESSIONS:
        fig = render_figure(design, height_px=1300, view="front", expression=emo)
        x0, y0, x1, y1 = fig.face
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 - (y1 - y0) * 0.25
        half = (x1 - x0) * 1.05
        crop = (round(cx - half), round(cy - half), round(cx + half), round(cy + half * 1.1))
        head = Image.new("RGBA", (crop[2] - crop[0], crop[3] - crop[1]), (0, 0, 0, 0))
        head.paste(fig.image.crop(crop), (0, 0))
        expressions[emo.value] = head

    sheet = Image.new("RGB", (1600, 900), (246, 241, 232))
    dr = ImageDraw.Draw(sheet)
    accent = _rgb(design.accent_colour)
    dr.rectangle((0, 0, 1600, 84), fill=_mix(accent, (250, 246, 238), 0.82))
    dr.line((0, 84, 1600, 84), fill=INK, width=3)
    dr.text((32, 16), design.name, fill=INK, font=_font(40, True))
    sub = "  ·  ".join(s for s in (design.role, design.outfit) if s)
    dr.text((36, 62), sub[:120], fill=(80, 70, 80), font=_font(15))
    dr.text((1568, 30), "MODEL SHEET", fill=(80, 70, 80), font=_font(22, True), anchor="ra")

    # turnaround row on a common ground line
    ground = 850
    slot = 238
    for i, (key, _, _) in enumerate(views):
        img = turnaround[key]
        cx = 40 + slot // 2 + i * slot
        scale = min(1.0, (slot - 14) / img.width, (ground - 120) / img.height)
        im = (
            img
            if scale >= 1.0
            else img.resize(
                (max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                Image.Resampling.LANCZOS,
            )
        )
        sheet.paste(im, (round(cx - im.width / 2), ground - im.height), im)
        dr.text((cx, ground + 14), key.replace("_", " "), fill=INK, font=_font(18), anchor="ma")
    dr.line((40, ground, 40 + 4 * slot, ground), fill=(150, 140, 140), width=2)
    dr.line((1010, 104, 1010, 880), fill=(200, 190, 180), width=2)

    # expressions grid
    cell = 180
    for i, emo in enumerate(_SHEET_EXPRESSIONS):
        col, row = i % 3, i // 3
        x, y = 1034 + col * (cell + 12), 110 + row * (cell + 44)
        dr.rectangle((x, y, x + cell, y + cell), fill=(255, 252, 247), outline=INK, width=2)
        head = expressions[emo.value]
        s = (cell - 8) / max(head.width, head.height)
        hi = head.resize((round(head.width * s), round(head.height * s)), Image.Resampling.LANCZOS)
        sheet.paste(hi, (x + (cell - hi.width) // 2, y + (cell - hi.height) // 2), hi)
        dr.text((x + cell // 2, y + cell + 8), emo.value, fill=INK, font=_font(18), anchor="ma")

    # palette
    sw = [
        ("skin", design.skin),
        ("hair", design.hair_colour),
        ("eyes", design.eye_colour),
        ("outfit", design.outfit_colour),
        ("accent", design.accent_colour),
    ]
    y = 580
    dr.text((1034, y), "palette", fill=INK, font=_font(18, True))
    for i, (label, colour) in enumerate(sw):
        x = 1034 + i * 110
        dr.rectangle((x, y + 30, x + 90, y + 90), fill=_rgb(colour), outline=INK, width=2)
        dr.text((x + 45, y + 96), label, fill=INK, font=_font(15), anchor="ma")
        dr.text((x + 45, y + 116), colour, fill=(90, 80, 90), font=_font(13), anchor="ma")
    facts = [
        f"build: {design.build}",
        f"height: {design.height:.2f}",
        f"hair: {design.hair_style.value}",
        "accessories: " + (", ".join(design.accessories) or "none"),
    ]
    for i, t in enumerate(facts):
        dr.text((1034, 760 + i * 24), t, fill=(60, 50, 60), font=_font(16))
    return turnaround, expressions, sheet


# ---------------------------------------------------------------------------------------------
# sets


_DEFAULT_LIGHT = Lighting(ambient="#fff8ee", sky="#a8cbe8", practicals_on=False, brightness=1.0)


def _lighting(location: LocationDesign, time_of_day: str) -> Lighting:
    if time_of_day in location.lighting:
        return location.lighting[time_of_day]
    if "day" in location.lighting:
        return location.lighting["day"]
    for value in location.lighting.values():
        return value
    return _DEFAULT_LIGHT


def _tint(light: Lighting) -> np.ndarray:
    amb = np.array(_rgb(light.ambient, (255, 255, 255)), dtype=np.float32) / 255.0
    t = (0.5 + 0.5 * amb) * (0.3 + 0.7 * light.brightness)
    return np.clip(t, 0.18, 1.25).astype(np.float32)


def character_light(location: LocationDesign, time_of_day: str) -> np.ndarray:
    """Return the per-channel multiplier that lights characters in this set at this time."""
    tint = _tint(_lighting(location, time_of_day))
    # Characters are lit more gently than the set so faces stay readable at night.
    return (0.4 + 0.6 * np.minimum(tint, 1.05)).astype(np.float32)


def _is_night(light: Lighting, time_of_day: str) -> bool:
    return time_of_day == "night" or light.brightness < 0.6


def _proj(cam: Camera, x: float, y: float, depth: float, W: int, H: int) -> Pt:
    """Project like `camera.project`, but at any depth (floor planes need in-between depths)."""
    ppm = W / cam.view_width * depth
    px = W / 2 + (x - cam.x) * ppm
    if cam.reverse:
        px = W - px
    py = H / 2 - (y - cam.y) * ppm + cam.tilt * H * 0.12 * (1.0 - depth)
    return px, py


def _element_box(cam: Camera, el: SetElement, W: int, H: int) -> tuple[float, ...]:
    px, py = project(cam, el.x, el.y, el.layer, W, H)
    ppm = pixels_per_metre(cam, W, el.layer)
    w, h = el.width * ppm, el.height * ppm
    return (px - w / 2, py - h, px + w / 2, py)


@dataclass
class _Glow:
    x: float
    y: float
    r: float
    colour: RGB
    strength: float


class _Canvas:
    """A supersampled drawing surface with screentone and emission masks."""

    def __init__(self, origin: tuple[int, int], size: tuple[int, int], transparent: bool):
        self.ox, self.oy = origin
        self.w, self.h = size
        ss = _SS
        self.rgb = Image.new("RGB", (self.w * ss, self.h * ss), INK)
        self.d = ImageDraw.Draw(self.rgb)
        self.tone = Image.new("L", self.rgb.size, 0)
        self.dt = ImageDraw.Draw(self.tone)
        self.emit = Image.new("L", self.rgb.size, 0)
        self.de = ImageDraw.Draw(self.emit)
        self.alpha: Image.Image | None = None
        self.da: ImageDraw.ImageDraw | None = None
        if transparent:
            self.alpha = Image.new("L", self.rgb.size, 0)
            self.da = ImageDraw.Draw(self.alpha)
        self.glows: list[_Glow] = []

    def c(self, x: float, y: float) -> Pt:
        return ((x - self.ox) * _SS, (y - self.oy) * _SS)

    def poly(
        self, pts: Sequence[Pt], fill: RGB | None, line: float = 0.0, colour: RGB = INK
    ) -> None:
        """Draw a polygon given in frame pixel coordinates."""
        p = [self.c(x, y) for x, y in pts]
        if len(p) < 3:
            return
        if fill is not None:
            self.d.polygon(p, fill=fill)
            if self.da is not None:
                self.da.polygon(p, fill=255)
        if line > 0:
            lw = max(1, round(line * _SS))
            _ink_line(self.d, [*p, p[0]], colour, lw)
            if self.da is not None:
                _ink_line(self.da, [*p, p[0]], 255, lw)

    def polyline(self, pts: Sequence[Pt], width: float, colour: RGB = INK) -> None:
        p = [self.c(x, y) for x, y in pts]
        lw = max(1, round(width * _SS))
        _ink_line(self.d, p, colour, lw)
        if self.da is not None:
            _ink_line(self.da, p, 255, lw)

    def add_tone(self, pts: Sequence[Pt], strength: float) -> None:
        p = [self.c(x, y) for x, y in pts]
        if len(p) >= 3:
            self.dt.polygon(p, fill=round(255 * max(0.0, min(1.0, strength))))

    def add_emit(self, pts: Sequence[Pt]) -> None:
        p = [self.c(x, y) for x, y in pts]
        if len(p) >= 3:
            self.de.polygon(p, fill=255)

    def finish(
        self, light: Lighting, *, tone_scale: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Reduce, light, screentone and glow; return (rgb uint8, alpha uint8 or None)."""
        base = np.asarray(self.rgb.reduce(_SS), dtype=np.float32)
        lit = base * _tint(light)
        if self.emit.getbbox() is not None:
            emit = np.asarray(self.emit.reduce(_SS), dtype=np.float32) * (1.0 / 255.0)
            lit += (base - lit) * emit[..., None]
        if self.tone.getbbox() is not None:
            tone = np.asarray(self.tone.reduce(_SS), dtype=np.float32) * (tone_scale / 255.0)
            # Shadowed areas get slightly darker plus a printed dot screen, like screentone.
            a = (tone * (0.12 + 0.38 * _dots(self.w, self.h, self.ox, self.oy)))[..., None]
            lit -= (lit - np.array(INK, dtype=np.float32)) * a
        for g in self.glows:
            _add_glow(lit, g, self.ox, self.oy)
        lit += 0.5
        out = np.clip(lit, 0, 255, out=lit).astype(np.uint8)
        alpha = None
        if self.alpha is not None:
            alpha = np.asarray(self.alpha.reduce(_SS), dtype=np.uint8)
        return out, alpha


@lru_cache(maxsize=8)
def _dot_tile(period: int = 6) -> np.ndarray:
    n = period * 2
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    # a 45-degree dot lattice: points where (x+y) and (x-y) are both multiples of `period`
    u = (xx + yy) % period - period / 2
    v = (xx - yy) % period - period / 2
    dist = np.sqrt(u * u + v * v) / math.sqrt(2)
    return np.clip(1.9 - dist, 0.0, 1.0).astype(np.float32)


@lru_cache(maxsize=8)
def _dots(w: int, h: int, ox: int, oy: int) -> np.ndarray:
    tile = _dot_tile()
    n = tile.shape[0]
    reps = (math.ceil((h + oy % n) / n) + 1, math.ceil((w + ox % n) / n) + 1)
    big = np.tile(tile, reps)[oy % n : oy % n + h, ox % n : ox % n + w]
    big.flags.writeable = False  # cached and shared between calls
    return big


def _add_glow(img: np.ndarray, g: _Glow, ox: int, oy: int) -> None:
    h, w = img.shape[:2]
    x0, x1 = max(0, math.floor(g.x - g.r - ox)), min(w, math.ceil(g.x + g.r - ox))
    y0, y1 = max(0, math.floor(g.y - g.r - oy)), min(h, math.ceil(g.y + g.r - oy))
    if x1 <= x0 or y1 <= y0 or g.r <= 0:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    d = np.sqrt((xx + ox - g.x) ** 2 + (yy + oy - g.y) ** 2) / g.r
    f = np.clip(1.0 - d, 0.0, 1.0) ** 2 * g.strength
    img[y0:y1, x0:x1] += f[..., None] * np.array(g.colour, dtype=np.float32)


@dataclass
class _Ctx:
    light: Lighting
    night: bool
    glow_windows: bool
    sky: RGB
    seed: int


class _Pen:
    """Draw one set element in its own box: u across (0 left .. 1 right), v up (0 base .. 1 top)."""

    def __init__(self, cv: _Canvas, box: tuple[float, ...], mirror: bool, lw: float):
        x0, y0, x1, y1 = box
        inset = lw / 2  # keep the outline inside the element's box
        self.x0, self.y0 = x0 + inset, y0 + inset
        self.x1, self.y1 = max(x0 + inset, x1 - inset), max(y0 + inset, y1 - inset)
        self.cv, self.mirror, self.lw = cv, mirror, lw

    def p(self, u: float, v: float) -> Pt:
        if self.mirror:
            u = 1.0 - u
        return (self.x0 + u * (self.x1 - self.x0), self.y1 - v * (self.y1 - self.y0))

    def pts(self, uv: Sequence[Pt]) -> list[Pt]:
        return [self.p(u, v) for u, v in uv]

    @property
    def wpx(self) -> float:
        return self.x1 - self.x0

    @property
    def hpx(self) -> float:
        return self.y1 - self.y0

    def poly(
        self,
        uv: Sequence[Pt],
        fill: RGB | None,
        line: float = 1.0,
        tone: float = 0.0,
        emit: bool = False,
    ) -> None:
        pts = self.pts(uv)
        self.cv.poly(pts, fill, line * self.lw)
        if tone > 0:
            self.cv.add_tone(pts, tone)
        if emit:
            self.cv.add_emit(pts)

    def rect(
        self,
        u0: float,
        v0: float,
        u1: float,
        v1: float,
        fill: RGB | None,
        line: float = 1.0,
        tone: float = 0.0,
        emit: bool = False,
    ) -> None:
        self.poly([(u0, v0), (u1, v0), (u1, v1), (u0, v1)], fill, line, tone, emit)

    def ell(
        self,
        cu: float,
        cv: float,
        ru: float,
        rv: float,
        fill: RGB | None,
        line: float = 1.0,
        tone: float = 0.0,
        emit: bool = False,
        n: int = 24,
    ) -> None:
        self.poly(_ell(cu, cv, ru, rv, n), fill, line, tone, emit)

    def line(self, uv: Sequence[Pt], width: float = 0.6, colour: RGB = INK) -> None:
        self.cv.polyline(self.pts(uv), max(0.6, width * self.lw), colour)

    def glow(self, u: float, v: float, r: float, colour: RGB, strength: float) -> None:
        x, y = self.p(u, v)
        self.cv.glows.append(_Glow(x, y, r, colour, strength))


def _greenish(c: RGB) -> bool:
    return c[1] > c[0] + 10 and c[1] >= c[2]


def _draw_window(pen: _Pen, el: SetElement, c: RGB, ctx: _Ctx) -> None:
    fu, fv = min(0.2, 0.09 / el.width), min(0.2, 0.09 / el.height)
    pen.rect(0, 0, 1, 1, c)
    pen.rect(0, 0, 1, fv * 1.4, _light(c, 0.15))
    g0u, g0v, g1u, g1v = fu, fv * 1.4 + fv * 0.6, 1 - fu, 1 - fv
    if ctx.glow_windows:
        glass: RGB = (255, 214, 140)
    elif ctx.night:
        glass = _mix(ctx.sky, INK, 0.25)
    else:
        glass = _light(ctx.sky, 0.25)
    pen.rect(g0u, g0v, g1u, g1v, glass, line=0.6, emit=ctx.glow_windows)
    gw = g1u - g0u
    if not ctx.night:
        for a, b in ((0.12, 0.3), (0.4, 0.48)):
            pen.poly(
                [
                    (g0u + a * gw, g0v),
                    (g0u + b * gw, g0v),
                    (g0u + (b + 0.45) * gw, g1v),
                    (g0u + (a + 0.45) * gw, g1v),
                ],
                _light(glass, 0.4),
                line=0,
            )
    elif not ctx.glow_windows:
        pen.rect(g0u, g0v, g1u, g1v, None, line=0, tone=0.5)
    cols = max(1, round(el.width / 0.55))
    rows = max(1, round(el.height / 0.6))
    bar_u, bar_v = fu * 0.45, fv * 0.45
    for i in range(1, cols):
        u = g0u + gw * i / cols
        pen.rect(u - bar_u / 2, g0v, u + bar_u / 2, g1v, c, line=0.6)
    for j in range(1, rows):
        v = g0v + (g1v - g0v) * j / rows
        pen.rect(g0u, v - bar_v / 2, g1u, v + bar_v / 2, c, line=0.6)
    if ctx.glow_windows:
        pen.glow(0.5, 0.5, max(pen.wpx, pen.hpx) * 0.95, (255, 170, 90), 0.32)


def _draw_door(pen: _Pen, el: SetElement, c: RGB, ctx: _Ctx) -> None:
    pen.rect(0, 0, 1, 1, c, line=0)
    pen.rect(0.8, 0, 1, 1, _shadow(c), line=0, tone=0.5)
    panel = _mix(c, INK, 0.16)
    pen.rect(0.14, 0.06, 0.74, 0.44, panel, line=0.6)
    pen.rect(0.14, 0.52, 0.74, 0.93, panel, line=0.6)
    pen.rect(0.8, 0.06, 0.86, 0.93, None, line=0.4)
    pen.ell(0.86, 0.48, 0.045, 0.045 * pen.wpx / max(pen.hpx, 1), (214, 176, 84), line=0.6)
    pen.rect(0, 0, 1, 1, None)


def _draw_column(pen: _Pen, el: SetElement, c: RGB, ctx: _Ctx) -> None:
    pen.rect(0.12, 0.06, 0.88, 0.92, c, line=0)
    pen.rect(0.62, 0.06, 0.88, 0.92, _shadow(c), line=0, tone=0.45)
    pen.rect(0.22, 0.06, 0.3, 0.92, _light(c, 0.25), line=0)
    pen.rect(0.12, 0.06, 0.88, 0.92, None)
    pen.rect(0, 0.92, 1, 1, _light(c, 0.12))
    pen.rect(0.04, 0, 0.96, 0.06, _mix(c, INK, 0.2))


def _draw_lamp(pen: _Pen, el: SetElement, c: RGB, ctx: _Ctx) -> None:
    on = ctx.light.practicals_on
    body = _light(c, 0.25) if on else c
    gold = (206, 164, 72)
    if el.y >= 1.2:
        pen.line([(0.5, 1.0), (0.5, 1.0 + 3.0 / max(el.height, 0.1))], 0.5)
        pen.ell(0.5, 0.5, 0.5, 0.4, body, emit=on)
        if not on:
            pen.poly(
                _ell(0.5, 0.5, 0.5, 0.4, 20, -math.pi / 2, math.pi / 2),
                _shadow(c),
                line=0,
                tone=0.4,
            )
        for du in (-0.28, 0.0, 0.28):
            pen.line(
                _quad((0.5 + du * 0.6, 0.88), (0.5 + du * 1.35, 0.5), (0.5 + du * 0.6, 0.12), 8),
                0.35,
                _mix(c, INK, 0.4),
            )
        pen.ell(0.5, 0.5, 0.5, 0.4, None)
        pen.rect(0.3, 0.86, 0.7, 1.0, gold)
        pen.rect(0.32, 0.0, 0.68, 0.13, gold)
        glow_v = 0.5
    else:
        pen.ell(0.5, 0.03, 0.28, 0.03, _mix(c, INK, 0.3))
        pen.rect(0.47, 0.04, 0.53, 0.7, _mix(c, INK, 0.3), line=0.6)
        pen.poly([(0.08, 0.68), (0.92, 0.68), (0.72, 1.0), (0.28, 1.0)], body, emit=on)
        glow_v = 0.72
    if on:
        pen.glow(0.5, glow_v, max(pen.wpx, pen.hpx) * 2.2, (255, 180, 90), 0.5)


def _draw_shelf(pen: _Pen, el: SetElement, c: RGB, ctx: _Ctx) -> None:
    fu, fv = min(0.15, 0.05 / el.width), min(0.15, 0.05 / el.height)
    pen.rect(0, 0, 1, 1, c)
    pen.rect(fu, fv, 1 - fu, 1 - fv, _mix(c, INK, 0.5), line=0.5, tone=0.6)
    rows = max(1, round(el.height / 0.42))
    rng = random.Random(ctx.seed)
    palette = [
        (158, 62, 56),
        (62, 92, 128),
        (86, 120, 74),
        (196, 160, 90),
        (120, 80, 110),
        (210, 200, 180),
        (70, 70, 80),
        (176, 110, 60),
    ]
    row_h = (1 - 2 * fv) / rows
    for r in range(rows):
        v0 = fv + r * row_h
        board = fv * 0.8
        pen.rect(fu, v0, 1 - fu, v0 + board, _light(c, 0.1), line=0.5)
        u = fu + 0.01
        count = 0
        while u < 1 - fu - 0.02 and count < 40:
            bw = rng.uniform(0.035, 0.075) / el.width
            if u + bw > 1 - fu:
                break
            if rng.random() < 0.12:
                u += bw * 1.5
                continue
            bh = row_h * rng.uniform(0.55, 0.86)
            col = rng.choice(palette)
            pen.rect(u, v0 + board, u + bw, v0 + board + bh, col, line=0.4)
            if bw * pen.wpx > 6:
                pen.line(
                    [(u + bw * 0.2, v0 + board + bh * 0.8), (u + bw * 0.8, v0 + board + bh * 0.8)],
                    0.3,
                    _light(col, 0.4),
                )
            u += bw
            count += 1
    pen.rect(0, 0, 1, 1, None)


def _draw_table(pen: _Pen, el: SetElement, c: RGB, ctx: _Ctx) -> None:
    pen.rect(0.06, 0, 0.94, 0.74, None, line=0, tone=0.6)
    for u0 in (0.05, 0.86):
        pen.rect(u0, 0, u0 + 0.08, 0.84, c, line=0)
        pen.rect(u0 + 0.05, 0, u0 + 0.08, 0.84, _shadow(c), line=0)
        pen.rect(u0, 0, u0 + 0.08, 0.84, None)
    pen.rect(0.03, 0.72, 0.97, 0.86, _shadow(c), tone=0.4)
    pen.rect(0, 0.86, 1, 1, _light(c, 0.12))
    pen.line([(0.04, 0.95), (0.5, 0.95)], 0.3, _light(c, 0.4))


def _draw_plant(pen: _Pen, el: SetElement, c: RGB, ctx: _Ctx) -> None:
    leaf = c if _greenish(c) else (84, 140, 82)
    pot = (176, 98, 66) if _greenish(c) else c
    rng = random.Random(ctx.seed)
    n = 9
    for i in range(n):
        a = math.pi * (0.12 + 0.76 * i / (n - 1)) + rng.uniform(-0.08, 0.08)
        ln = rng.uniform(0.55, 0.68)
        tip = (0.5 + math.cos(a) * 0.46, 0.32 + math.sin(a) * ln)
        tip = (min(0.98, max(0.02, tip[0])), min(0.99, tip[1]))
        mid = (0.5 + (tip[0] - 0.5) * 0.55, 0.32 + (tip[1] - 0.32) * 0.55)
        side = (-(tip[1] - 0.32) * 0.12, (tip[0] - 0.5) * 0.12)
        pts = [
            (0.5, 0.32),
            (mid[0] + side[0], mid[1] + side[1]),
            tip,
            (mid[0] - side[0], mid[1] - side[1]),
        ]
        pen.poly(pts, leaf if i % 2 == 0 else _shadow(leaf), line=0.6)
        pen.line([(0.5, 0.32), tip], 0.25, _mix(leaf, INK, 0.35))
    pen.poly([(0.24, 0.0), (0.76, 0.0), (0.82, 0.3), (0.18, 0.3)], pot)
    pen.poly([(0.55, 0.0), (0.76, 0.0), (0.82, 0.3), (0.62, 0.3)], _shadow(pot), line=0, tone=0.4)
    pen.rect(0.14, 0.28, 0.86, 0.36, _light(pot, 0.1))


def _draw_painting(pen: _Pen, el: SetElement, c: RGB, ctx: _Ctx) -> None:
    paper = (240, 232, 210)
    rng = random.Random(ctx.seed)
    if el.height > el.width * 1.35:
        wood = _mix(c, INK, 0.35)
        pen.rect(0.08, 0.03, 0.92, 0.97, paper)
        pen.rect(0.08, 0.03, 0.92, 0.97, None, line=0, tone=0.15)
        pen.rect(0.0, 0.0, 1.0, 0.04, wood)
        pen.rect(0.0, 0.96, 1.0, 1.0, wood)
        pen.rect(0.14, 0.08, 0.86, 0.9, c, line=0.4)
        pen.rect(0.18, 0.12, 0.82, 0.86, paper, line=0.3)
        glyphs = rng.randint(3, 4)
        gh = 0.6 / glyphs
        for i in range(glyphs):
            v = 0.8 - i * gh * 1.08
            for _ in range(rng.randint(3, 4)):
                if rng.random() < 0.5:
                    a = (0.5 + rng.uniform(-0.14, 0.0), v - rng.uniform(0.0, gh * 0.8))
                    b = (a[0] + rng.uniform(0.1, 0.18), a[1] + rng.uniform(-0.01, 0.01))
                else:
                    a = (0.5 + rng.uniform(-0.12, 0.12), v)
                    b = (a[0] + rng.uniform(-0.03, 0.03), v - gh * rng.uniform(0.5, 0.85))
                pen.line([a, b], 0.9)
        return
    pen.rect(0, 0, 1, 1, c)
    pen.rect(0.08, 0.1, 0.92, 0.9, paper, line=0.6)
    hill = _mix(paper, (70, 80, 90), 0.45)
    peaks = [
        (0.08, 0.1),
        (0.08, 0.38),
        (0.3, 0.72),
        (0.45, 0.45),
        (0.62, 0.62),
        (0.92, 0.34),
        (0.92, 0.1),
    ]
    pen.poly(peaks, hill, line=0.4)
    pen.poly(
        [(0.08, 0.1), (0.08, 0.25), (0.4, 0.35), (0.7, 0.22), (0.92, 0.3), (0.92, 0.1)],
        _mix(paper, (60, 70, 80), 0.7),
        line=0.4,
    )
    pen.ell(0.74, 0.74, 0.07, 0.07 * pen.wpx / max(pen.hpx, 1), (200, 70, 60), line=0.3)


def _draw_tree(pen: _Pen, el: SetElement, c: RGB, ctx: _Ctx) -> None:
    leaf = c if _greenish(c) else (88, 138, 80)
    trunk = (112, 82, 58) if _greenish(c) else c
    rng = random.Random(ctx.seed)
    pen.poly([(0.42, 0.0), (0.58, 0.0), (0.55, 0.55), (0.45, 0.55)], trunk)
    pen.poly([(0.52, 0.0), (0.58, 0.0), (0.55, 0.55), (0.52, 0.55)], _shadow(trunk), line=0)
    asp = pen.wpx / max(pen.hpx, 1.0)
    blobs = []
    for i in range(10):
        cu = 0.5 + rng.uniform(-0.3, 0.3)
        cv = 0.66 + rng.uniform(-0.12, 0.2)
        ru = min(rng.uniform(0.16, 0.24), cu - 0.01, 0.99 - cu)
        rv = min(ru * asp, cv - 0.3, 0.995 - cv)
        blobs.append((cu, cv, ru, rv, i))
    blobs.sort(key=lambda b: b[1])
    for cu, cv, ru, rv, _ in blobs:
        # cel shading: the whole blob in shadow, a lit core shifted toward the light
        pen.ell(cu, cv, ru, rv, _shadow(leaf), line=0.9, tone=0.35)
        pen.ell(cu - ru * 0.14, cv + rv * 0.14, ru * 0.82, rv * 0.82, leaf, line=0)
        pen.ell(cu - ru * 0.35, cv + rv * 0.4, ru * 0.3, rv * 0.22, _light(leaf, 0.2), line=0)


def _draw_building(pen: _Pen, el: SetElement, c: RGB, ctx: _Ctx) -> None:
    rng = random.Random(ctx.seed)
    roof = _mix(c, INK, 0.55)
    pen.rect(0.04, 0, 0.96, 0.84, c, line=0)
    pen.rect(0.78, 0, 0.96, 0.84, _shadow(c), line=0, tone=0.4)
    pen.rect(0.04, 0, 0.96, 0.84, None)
    pen.poly([(0.0, 0.82), (0.1, 0.86), (0.9, 0.86), (1.0, 0.82), (0.86, 1.0), (0.14, 1.0)], roof)
    cols = max(1, int(el.width / 1.7))
    rows = max(1, int(el.height * 0.78 / 2.4))
    has_door = el.height > 2.6
    for r in range(rows):
        for k in range(cols):
            if has_door and r == 0 and k == cols // 2:
                continue
            u0 = 0.1 + 0.8 * (k + 0.22) / cols
            u1 = 0.1 + 0.8 * (k + 0.78) / cols
            v0 = 0.06 + 0.74 * (r + 0.3) / rows
            v1 = 0.06 + 0.74 * (r + 0.8) / rows
            lit = ctx.night and ctx.light.practicals_on and rng.random() < 0.6
            col = (
                (255, 210, 130)
                if lit
                else (_mix(ctx.sky, INK, 0.3) if ctx.night else _light(ctx.sky, 0.2))
            )
            pen.rect(u0, v0, u1, v1, col, line=0.7, emit=lit)
            pen.line([((u0 + u1) / 2, v0), ((u0 + u1) / 2, v1)], 0.4)
    if has_door:
        du = min(0.12, 0.6 / el.width)
        dv = min(0.5, 2.1 / el.height)
        pen.rect(0.5 - du, 0, 0.5 + du, dv, _mix(c, INK, 0.4), line=0.8)


def _draw_streetlamp(pen: _Pen, el: SetElement, c: RGB, ctx: _Ctx) -> None:
    on = ctx.light.practicals_on
    pole = _mix(c, INK, 0.3)
    pen.rect(0.3, 0, 0.7, 0.04, pole)
    pen.rect(0.45, 0.03, 0.55, 0.8, pole, line=0.7)
    pen.poly([(0.3, 0.77), (0.7, 0.77), (0.62, 0.8), (0.38, 0.8)], pole, line=0.6)
    glass = (255, 226, 160) if on else _mix(ctx.sky, (200, 200, 190), 0.5)
    pen.poly([(0.3, 0.8), (0.7, 0.8), (0.8, 0.94), (0.2, 0.94)], glass, line=0.8, emit=on)
    pen.line([(0.5, 0.8), (0.5, 0.94)], 0.5, pole)
    pen.poly([(0.1, 0.94), (0.9, 0.94), (0.5, 1.0)], pole, line=0.8)
    if on:
        pen.glow(0.5, 0.87, pen.hpx * 0.55, (255, 190, 110), 0.55)


def _draw_fence(pen: _Pen, el: SetElement, c: RGB, ctx: _Ctx) -> None:
    pen.rect(0, 0.3, 1, 0.4, _shadow(c))
    pen.rect(0, 0.68, 1, 0.78, _shadow(c))
    n = max(2, round(el.width / 0.22))
    pw = 0.55 / n
    for i in range(n):
        u = (i + 0.5) / n
        pen.poly([(u - pw, 0), (u + pw, 0), (u + pw, 0.9), (u, 1.0), (u - pw, 0.9)], c, line=0.7)


def _draw_mountain(pen: _Pen, el: SetElement, c: RGB, ctx: _Ctx) -> None:
    rng = random.Random(ctx.seed)
    top_u = rng.uniform(0.38, 0.6)
    left = (rng.uniform(0.12, 0.25), rng.uniform(0.45, 0.65))
    right = (rng.uniform(0.72, 0.86), rng.uniform(0.5, 0.72))
    pts = [
        (0.0, 0.0),
        (left[0] * 0.5, left[1] * 0.5),
        left,
        ((left[0] + top_u) / 2, left[1] * 0.85),
        (top_u, 1.0),
        ((top_u + right[0]) / 2, right[1] * 0.9),
        right,
        (0.93, right[1] * 0.35),
        (1.0, 0.0),
    ]
    pen.poly(pts, c)
    pen.poly(
        [
            (top_u, 1.0),
            ((top_u + right[0]) / 2, right[1] * 0.9),
            right,
            (0.93, right[1] * 0.35),
            (1.0, 0.0),
            (top_u + 0.06, 0.0),
        ],
        _shadow(c),
        line=0,
        tone=0.45,
    )
    snow = [
        (top_u, 1.0),
        (top_u + 0.09, 0.84),
        (top_u + 0.04, 0.86),
        (top_u - 0.01, 0.8),
        (top_u - 0.05, 0.85),
        (top_u - 0.1, 0.83),
    ]
    pen.poly(snow, (238, 240, 246), line=0.6)
    pen.poly(pts, None)


def _draw_counter(pen: _Pen, el: SetElement, c: RGB, ctx: _Ctx) -> None:
    pen.rect(0.01, 0, 0.99, 0.88, c, line=0)
    pen.rect(0.01, 0.76, 0.99, 0.88, _shadow(c), line=0, tone=0.5)
    panels = max(1, round(el.width / 0.9))
    for i in range(panels):
        u0 = 0.01 + 0.98 * (i + 0.12) / panels
        u1 = 0.01 + 0.98 * (i + 0.88) / panels
        pen.rect(u0, 0.08, u1, 0.68, _mix(c, INK, 0.1), line=0.5)
    pen.rect(0.01, 0, 0.99, 0.88, None)
    pen.rect(0, 0.88, 1, 1, _light(c, 0.15))


def _draw_bench(pen: _Pen, el: SetElement, c: RGB, ctx: _Ctx) -> None:
    back = el.height > 0.7
    seat_v = 0.42 if back else 0.8
    pen.rect(0.06, 0, 0.94, seat_v * 0.7, None, line=0, tone=0.4)
    for u0 in (0.06, 0.86):
        pen.rect(u0, 0, u0 + 0.08, seat_v, _shadow(c), line=0.8)
    if back:
        for u0 in (0.08, 0.84):
            pen.rect(u0, seat_v, u0 + 0.06, 1.0, _shadow(c), line=0.7)
        pen.rect(0.02, 0.66, 0.98, 0.78, c, line=0.8)
        pen.rect(0.02, 0.86, 0.98, 0.98, c, line=0.8)
    pen.rect(0, seat_v, 1, min(1.0, seat_v + 0.12 if back else 1.0), _light(c, 0.1))


_DRAWERS: dict[str, Callable[[_Pen, SetElement, RGB, _Ctx], None]] = {
    "window": _draw_window,
    "door": _draw_door,
    "column": _draw_column,
    "lamp": _draw_lamp,
    "shelf": _draw_shelf,
    "table": _draw_table,
    "plant": _draw_plant,
    "painting": _draw_painting,
    "tree": _draw_tree,
    "building": _draw_building,
    "streetlamp": _draw_streetlamp,
    "fence": _draw_fence,
    "mountain": _draw_mountain,
    "counter": _draw_counter,
    "bench": _draw_bench,
}


def _element_lw(cam: Camera, W: int, layer: Layer) -> float:
    return max(1.0, min(4.5, pixels_per_metre(cam, W, layer) * 0.02))


def _draw_backdrop(
    cv: _Canvas, loc: LocationDesign, cam: Camera, ctx: _Ctx, frame: tuple[int, int]
) -> None:
    W, H = frame
    # The canvas may reach past the frame (camera moves): cull against the canvas, not the frame.
    cx0, cy0, cx1, cy1 = cv.ox, cv.oy, cv.ox + cv.w, cv.oy + cv.h
    dw = DEPTH_SCALE[Layer.background]
    lw = _element_lw(cam, W, Layer.background)
    wall = _rgb(loc.wall_colour, (216, 200, 168))
    floor = _rgb(loc.floor_colour, (138, 116, 88))
    big = 8.0 * W
    _, yw = _proj(cam, 0.0, 0.0, dw, W, H)
    xs = sorted(_proj(cam, x, 0.0, dw, W, H)[0] for x in (0.0, loc.width))
    if loc.interior:
        cv.poly([(-big, -big), (big, -big), (big, yw), (-big, yw)], wall)
        ceil_h = max(
            [3.2]
            + [
                e.y + e.height + 0.3
                for e in loc.elements
                if e.layer == Layer.background and e.kind != "mountain"
            ]
        )
        ceil_h = min(ceil_h, 6.0)
        _, yc = _proj(cam, 0.0, ceil_h, dw, W, H)
        wain = _mix(wall, floor, 0.28)
        _, yr = _proj(cam, 0.0, 0.9, dw, W, H)
        _, yb = _proj(cam, 0.0, 0.12, dw, W, H)
        cv.poly([(xs[0], yr), (xs[1], yr), (xs[1], yw), (xs[0], yw)], wain)
        cv.poly([(xs[0], yb), (xs[1], yb), (xs[1], yw), (xs[0], yw)], _mix(floor, INK, 0.3))
        cv.polyline([(xs[0], yr), (xs[1], yr)], lw * 0.9)
        cv.polyline([(xs[0], yb), (xs[1], yb)], lw * 0.6)
        seam = _mix(wall, INK, 0.18)
        step = 1.5
        for i in range(1, int(loc.width / step) + 1):
            x = i * step
            if x >= loc.width - 0.1:
                break
            px, _ = _proj(cam, x, 0.0, dw, W, H)
            cv.polyline([(px, yc), (px, yr)], lw * 0.35, seam)
            cv.polyline([(px, yr), (px, yb)], lw * 0.35, _mix(wain, INK, 0.2))
        # ceiling with receding beams, shaded
        ceil = _mix(wall, INK, 0.45)
        cv.poly([(-big, -big), (big, -big), (big, yc), (-big, yc)], ceil)
        cv.add_tone([(-big, -big), (big, -big), (big, yc), (-big, yc)], 0.7)
        for i in range(int(loc.width / 1.2) + 1):
            x = i * 1.2
            a = _proj(cam, x, ceil_h, dw, W, H)
            b = _proj(cam, x, ceil_h, 3.0, W, H)
            cv.polyline([a, b], lw * 0.7, _mix(ceil, INK, 0.4))
        cv.polyline([(-big, yc), (big, yc)], lw)
        # soft shadow under the ceiling
        _, ycs = _proj(cam, 0.0, ceil_h - 0.35, dw, W, H)
        cv.add_tone([(-big, yc), (big, yc), (big, ycs), (-big, ycs)], 0.45)
        # floor and its boards in perspective
        _, yf = _proj(cam, 0.0, 0.0, 4.0, W, H)
        cv.poly([(-big, yw), (big, yw), (big, max(yf, cy1 + 10)), (-big, max(yf, cy1 + 10))], floor)
        board = _mix(floor, INK, 0.25)
        x = -loc.width
        while x <= 2 * loc.width:
            a = _proj(cam, x, 0.0, dw, W, H)
            b = _proj(cam, x, 0.0, 4.0, W, H)
            cv.polyline([a, b], lw * 0.4, board)
            x += 0.6
        depth = dw
        while depth < 4.0:
            depth *= 1.09
            _, y = _proj(cam, 0.0, 0.0, depth, W, H)
            if y > cy1 + 4:
                break
            cv.polyline([(-big, y), (big, y)], lw * 0.3, _mix(floor, INK, 0.15))
        _, yao = _proj(cam, 0.0, 0.0, dw * 1.06, W, H)
        cv.add_tone([(-big, yw), (big, yw), (big, yao), (-big, yao)], 0.55)
        cv.polyline([(-big, yw), (big, yw)], lw)
        # beyond the set's ends: side walls turning toward the camera
        side = _mix(wall, INK, 0.3)
        for xe in (0.0, loc.width):
            a = _proj(cam, xe, 0.0, dw, W, H)
            b = _proj(cam, xe, 0.0, 4.0, W, H)
            ac = _proj(cam, xe, ceil_h, dw, W, H)
            bc = _proj(cam, xe, ceil_h, 4.0, W, H)
            out = -1.0 if a[0] <= (xs[0] + xs[1]) / 2 else 1.0
            far = out * big
            pts = [ac, a, b, (b[0] + far, b[1]), (bc[0] + far, bc[1]), bc]
            cv.poly(pts, side, line=lw)
            cv.add_tone(pts, 0.5)
    else:
        # sky gradient, painted straight into the canvas
        sky = ctx.sky
        top = _mix(sky, INK, 0.12)
        horizon = _light(sky, 0.4 if not ctx.night else 0.12)
        ys = np.arange(cv.h * _SS, dtype=np.float32) / _SS + cv.oy
        t = np.clip(ys / max(yw, 1.0), 0.0, 1.0)[:, None] ** 1.3
        grad = np.array(top, np.float32) * (1 - t) + np.array(horizon, np.float32) * t
        col = np.broadcast_to(grad[:, None, :], (cv.h * _SS, cv.w * _SS, 3))
        cv.rgb.paste(Image.fromarray(np.ascontiguousarray(col.astype(np.uint8))), (0, 0))
        rng = random.Random(ctx.seed)
        if ctx.night:
            for _ in range(int(loc.width * 24)):
                x = rng.uniform(-loc.width, 2 * loc.width)
                y = rng.uniform(2.0, 16.0)
                px, py = _proj(cam, x, y, dw, W, H)
                # Draw the size before culling so every canvas sees the same sky.
                r = rng.choice((0.6, 0.8, 1.1))
                if cx0 - 2 <= px <= cx1 + 2 and cy0 - 2 <= py < yw - 4:
                    cv.poly(_ell(px, py, r, r, 6), (255, 250, 230))
        else:
            cloud = _light(sky, 0.75)
            for _ in range(max(2, int(loc.width / 5))):
                x = rng.uniform(0, loc.width)
                y = rng.uniform(5.0, 9.0)
                ppm = W / cam.view_width * dw
                cx, cy = _proj(cam, x, y, dw, W, H)
                s = rng.uniform(0.8, 1.4) * ppm
                blobs = [
                    (cx - 1.1 * s, cy, 0.7 * s),
                    (cx - 0.3 * s, cy - 0.35 * s, 0.9 * s),
                    (cx + 0.7 * s, cy - 0.1 * s, 0.75 * s),
                    (cx + 1.4 * s, cy + 0.1 * s, 0.5 * s),
                ]
                for bx, by, br in blobs:
                    cv.poly(
                        _ell(bx, by, br, br * 0.6, 20),
                        cloud,
                        line=lw * 0.6,
                        colour=_mix(sky, INK, 0.35),
                    )
                for bx, by, br in blobs:
                    cv.poly(_ell(bx, by - br * 0.05, br * 0.92, br * 0.5, 20), cloud)
        # distant ridge far behind the set
        ridge_col = _mix(_mix(sky, floor, 0.35), INK, 0.1)
        pts = []
        for i in range(25):
            x = -loc.width + i * (3 * loc.width) / 24
            h = 1.6 + 1.2 * math.sin(i * 1.7 + (ctx.seed % 7)) + 0.6 * math.sin(i * 0.6)
            pts.append(_proj(cam, x, max(0.3, h), 0.6, W, H))
        pts = [(pts[0][0], yw + 2), *pts, (pts[-1][0], yw + 2)]
        cv.poly(pts, ridge_col, line=lw * 0.5, colour=_mix(ridge_col, INK, 0.3))
        # ground
        _, yf = _proj(cam, 0.0, 0.0, 4.0, W, H)
        cv.poly([(-big, yw), (big, yw), (big, max(yf, cy1 + 10)), (-big, max(yf, cy1 + 10))], floor)
        _, yfar = _proj(cam, 0.0, 0.0, dw * 1.08, W, H)
        cv.poly([(-big, yw), (big, yw), (big, yfar), (-big, yfar)], _mix(floor, sky, 0.2))
        path = _mix(floor, INK, 0.2)
        x = -loc.width
        while x <= 2 * loc.width:
            a = _proj(cam, x, 0.0, dw, W, H)
            b = _proj(cam, x, 0.0, 4.0, W, H)
            cv.polyline([a, b], lw * 0.3, path)
            x += 1.5
        for _ in range(int(loc.width * 5)):
            x = rng.uniform(-0.2 * loc.width, 1.2 * loc.width)
            depth = rng.uniform(dw * 1.05, 1.6)
            px, py = _proj(cam, x, 0.0, depth, W, H)
            if not (cx0 - 20 < px < cx1 + 20 and yw < py < cy1 + 20):
                continue
            s = 0.12 * W / cam.view_width * depth
            cv.polyline([(px - s * 0.3, py), (px - s * 0.1, py - s)], max(0.6, lw * 0.3), path)
            cv.polyline([(px, py), (px + s * 0.25, py - s * 0.8)], max(0.6, lw * 0.3), path)
        cv.polyline([(-big, yw), (big, yw)], lw * 0.8)
        _, yao = _proj(cam, 0.0, 0.0, dw * 1.03, W, H)
        cv.add_tone([(-big, yw), (big, yw), (big, yao), (-big, yao)], 0.4)


@dataclass
class _SetLayers:
    """A set rendered onto a canvas that may reach past the frame, split by depth layer."""

    origin: tuple[int, int]  # frame coordinates of the canvas's top-left pixel
    background: np.ndarray  # (h, w, 3) uint8
    midground: np.ndarray | None  # (h, w, 4) uint8 when midground elements got their own layer
    foreground: tuple[int, int, np.ndarray] | None  # canvas (x, y, RGBA)
    boxes: dict[str, Box]  # element index -> box clipped to the frame


def _render_set(
    loc: LocationDesign,
    light: Lighting,
    time_of_day: str,
    cam: Camera,
    size: tuple[int, int],
    rect: BoxT | None = None,
    split_mid: bool = False,
) -> _SetLayers:
    """Render the set through `cam` onto the frame-coordinate rectangle `rect` (default: frame)."""
    W, H = size
    rx0, ry0, rx1, ry1 = rect if rect is not None else (0, 0, W, H)
    night = _is_night(light, time_of_day)
    ctx = _Ctx(
        light=light,
        night=night,
        glow_windows=light.practicals_on and (night or time_of_day == "dusk"),
        sky=_rgb(light.sky, (168, 203, 232)),
        seed=_seed(loc.name),  # the set must not rearrange itself between times of day
    )
    bg = _Canvas((rx0, ry0), (rx1 - rx0, ry1 - ry0), transparent=False)
    _draw_backdrop(bg, loc, cam, ctx, size)
    mid = _Canvas((rx0, ry0), (rx1 - rx0, ry1 - ry0), transparent=True) if split_mid else None
    boxes: dict[str, Box] = {}
    fg_items: list[tuple[int, SetElement, tuple[float, ...]]] = []
    order = sorted(
        range(len(loc.elements)),
        key=lambda i: (DEPTH_SCALE[loc.elements[i].layer], i),
    )
    for i in order:
        el = loc.elements[i]
        box = _element_box(cam, el, W, H)
        framed = (
            max(0, math.floor(box[0])),
            max(0, math.floor(box[1])),
            min(W, math.ceil(box[2])),
            min(H, math.ceil(box[3])),
        )
        if framed[2] > framed[0] and framed[3] > framed[1]:
            boxes[str(i)] = Box(x0=framed[0], y0=framed[1], x1=framed[2], y1=framed[3])
        on_canvas = box[0] < rx1 and box[2] > rx0 and box[1] < ry1 and box[3] > ry0
        if not on_canvas:
            glow_pad = max(box[2] - box[0], box[3] - box[1]) * 2.5
            if not (
                box[0] - glow_pad < rx1
                and box[2] + glow_pad > rx0
                and box[1] - glow_pad < ry1
                and box[3] + glow_pad > ry0
            ) or el.kind not in ("lamp", "streetlamp", "window"):
                continue
        if el.layer == Layer.foreground:
            fg_items.append((i, el, box))
            continue
        if mid is not None and el.layer == Layer.midground:
            _draw_element(mid, cam, el, box, i, ctx, W)
            continue
        _draw_element(bg, cam, el, box, i, ctx, W)
    mid_rgba = None
    if mid is not None:
        # Light spilling from a midground lamp falls on the wall behind it as well.
        bg.glows.extend(mid.glows)
        mid_rgb, mid_alpha = mid.finish(light)
        assert mid_alpha is not None
        mid_rgba = np.dstack([mid_rgb, mid_alpha])
    bg_rgb, _ = bg.finish(light)

    fg: tuple[int, int, np.ndarray] | None = None
    if fg_items:
        fx0 = max(rx0, min(math.floor(b[0]) for _, _, b in fg_items) - 2)
        fy0 = max(ry0, min(math.floor(b[1]) for _, _, b in fg_items) - 2)
        fx1 = min(rx1, max(math.ceil(b[2]) for _, _, b in fg_items) + 2)
        fy1 = min(ry1, max(math.ceil(b[3]) for _, _, b in fg_items) + 2)
        if fx1 > fx0 and fy1 > fy0:
            fcv = _Canvas((fx0, fy0), (fx1 - fx0, fy1 - fy0), transparent=True)
            for i, el, box in fg_items:
                _draw_element(fcv, cam, el, box, i, ctx, W)
            fcv.glows.clear()  # a glow cannot live on an overlay with a hard alpha edge
            rgb, alpha = fcv.finish(light)
            assert alpha is not None
            fg = (fx0 - rx0, fy0 - ry0, np.dstack([rgb, alpha]))
    return _SetLayers(
        origin=(rx0, ry0),
        background=bg_rgb,
        midground=mid_rgba,
        foreground=fg,
        boxes=dict(sorted(boxes.items(), key=lambda kv: int(kv[0]))),
    )


def _draw_element(
    cv: _Canvas, cam: Camera, el: SetElement, box: tuple[float, ...], i: int, ctx: _Ctx, W: int
) -> None:
    pen = _Pen(cv, box, cam.reverse, _element_lw(cam, W, el.layer))
    c = _rgb(el.colour, (138, 106, 74))
    sub = _Ctx(ctx.light, ctx.night, ctx.glow_windows, ctx.sky, _seed(ctx.seed, i, el.kind))
    _DRAWERS[el.kind](pen, el, c, sub)


def _plate_camera(location: LocationDesign, size: tuple[int, int]) -> Camera:
    W, H = size
    vw = location.width * 1.05
    ppm_bg = W / vw * DEPTH_SCALE[Layer.background]
    # Put the back wall's floor line three quarters down the frame.
    return Camera(x=location.width / 2, y=(0.75 * H - H / 2) / ppm_bg, view_width=vw)


def render_plate(
    location: LocationDesign, time_of_day: str, size: tuple[int, int] = (WIDTH, HEIGHT)
) -> Image.Image:
    """Render the master plate: the whole set seen by an extreme-wide camera, no characters."""
    cam = _plate_camera(location, size)
    light = _lighting(location, time_of_day)
    sl = _render_set(location, light, time_of_day, cam, size)
    bg = sl.background
    if sl.foreground is not None:
        fx, fy, rgba = sl.foreground
        _blend(bg, rgba, fx, fy)
    return Image.fromarray(bg)


# ---------------------------------------------------------------------------------------------
# shots

PAN_TRAVEL = 0.04  # how far the midground slides over a pan, as a fraction of the frame width
ZOOM_RANGE = 0.06  # push-in / pull-out: change of scale from the first frame to the last
ZOOM_STEP = 0.006  # spacing of the precomputed zoom levels; frames in between crossfade two
BREATH_CYCLE = (72, 97)  # frames per breath (3-4 s at 24 fps), picked per character
BLINK_CYCLE = (70, 119)
BLINK_LENGTH = 3
GESTURE_STEPS = 3  # rest, half way, full gesture
_ZOOM_GESTURE_STEPS = 2  # every pose costs a set of patches per zoom level
_BREATH_RAMP = (19.0, 46.0)  # reference units: shoulders and head rise fully, hands stay put
_EMPHATIC = (Emotion.angry, Emotion.surprised, Emotion.happy)
_XFADE = 128  # crossfade weights in 1/128 steps keep the maths in int16
_RESAMPLE = Image.Resampling.BICUBIC
_FILTER_MARGIN = 3  # source pixels the resampling filter reads past a region's edge


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
class _Patch:
    x: int
    y: int
    rgb: np.ndarray


@dataclass
class ShotLayers:
    """Everything needed to compose any frame of a shot cheaply."""

    background: np.ndarray  # (H, W, 3) uint8: the set at the keyframe framing, no characters
    sprites: list[PlacedSprite]
    speaker: str | None
    foreground: PlacedSprite | None = None  # set elements drawn over the characters
    base: np.ndarray | None = None  # the keyframe: mouths closed, eyes open, standing pose
    mouth_patches: list[_Patch] = field(default_factory=list)  # only for hand-built layers
    blink_patches: list[_Patch] = field(default_factory=list)
    figures: list[FigureLayout] = field(default_factory=list)
    elements: dict[str, Box] = field(default_factory=dict)
    move: str = "static"  # the camera move these layers were staged for
    effects: list[str] = field(default_factory=list)
    gesture: bool = False  # the speaker gestures while the line is spoken
    anim: _Anim | None = field(default=None, repr=False)

    @property
    def size(self) -> tuple[int, int]:
        """Return the frame size (width, height)."""
        h, w = self.background.shape[:2]
        return w, h


def _blend(dst: np.ndarray, rgba: np.ndarray, x: int, y: int) -> None:
    """Alpha-blend `rgba` onto `dst` in place with its top-left at (x, y), clipped."""
    H, W = dst.shape[:2]
    h, w = rgba.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    src = rgba[y0 - y : y1 - y, x0 - x : x1 - x]
    a = src[..., 3:4].astype(np.uint16)
    region = dst[y0:y1, x0:x1]
    mixed = (src[..., :3].astype(np.uint16) * a + region.astype(np.uint16) * (255 - a) + 127) // 255
    dst[y0:y1, x0:x1] = mixed.astype(np.uint8)


def _over(dst: np.ndarray, src: np.ndarray, x: int, y: int) -> None:
    """Lay RGBA `src` over RGBA `dst` in place with its top-left at (x, y), clipped."""
    H, W = dst.shape[:2]
    h, w = src.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    s = src[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.float32)
    d = dst[y0:y1, x0:x1].astype(np.float32)
    sa = s[..., 3:4] / 255.0
    da = d[..., 3:4] / 255.0 * (1.0 - sa)
    oa = sa + da
    rgb = (s[..., :3] * sa + d[..., :3] * da) / np.maximum(oa, 1e-6)
    out = np.concatenate([rgb, oa * 255.0], axis=-1) + 0.5
    dst[y0:y1, x0:x1] = np.clip(out, 0, 255).astype(np.uint8)


def _fallback_design(name: str) -> CharacterDesign:
    rng = random.Random(_seed("cast", name))
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


def _clip_box(b: BoxT, W: int, H: int) -> BoxT:
    return (max(0, b[0]), max(0, b[1]), min(W, b[2]), min(H, b[3]))


def _area(b: BoxT) -> int:
    return max(0, b[2] - b[0]) * max(0, b[3] - b[1])


def _to_box(b: BoxT) -> Box:
    return Box(x0=b[0], y0=b[1], x1=b[2], y1=b[3])


def _grow(b: BoxT, m: int, W: int, H: int) -> BoxT:
    return _clip_box((b[0] - m, b[1] - m, b[2] + m, b[3] + m), W, H)


def _shift(b: BoxT, dx: int, dy: int) -> BoxT:
    return (b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy)


def _intersect(a: BoxT, b: BoxT) -> BoxT | None:
    c = (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
    return c if _area(c) > 0 else None


def _union(a: BoxT, b: BoxT) -> BoxT:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


@dataclass
class _Actor:
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
    poses: list[_Pose] = field(default_factory=lambda: [_REST])
    window: BoxT = (0, 0, 0, 0)
    rest: list[np.ndarray] = field(default_factory=list)  # RGBA over `window`, per pose
    eye_win: list[BoxT | None] = field(default_factory=list)
    mouth_win: list[BoxT | None] = field(default_factory=list)
    eyes: list[np.ndarray | None] = field(default_factory=list)  # closed eyes, per pose
    mouths: list[list[np.ndarray]] = field(default_factory=list)  # open levels 1.., per pose
    rows: list[np.ndarray] = field(default_factory=list)  # source row per breath level
    face: BoxT | None = None
    facing: int = 0  # +1 screen right, -1 screen left, 0 the camera

    def ops(self, mouth_open: float, eyes_closed: bool, pose: _Pose = _REST) -> _Fig:
        return _figure_ops(
            self.design, self.view, self.expression, mouth_open, eyes_closed, self.glance, pose
        )

    def paint(self, fig: _Fig, window: BoxT) -> np.ndarray:
        img = _paint_ops(fig, fx=self.fx, fy=self.fy, k=self.k, mirror=self.mirror, window=window)
        rgba = np.asarray(img).copy()
        rgba[..., :3] = np.clip(rgba[..., :3] * self.tint + 0.5, 0, 255).astype(np.uint8)
        return rgba

    def marks(self, pose: _Pose = _REST) -> dict[str, BoxT]:
        return _marks_px(self.ops(0.0, False, pose), self.fx, self.fy, self.k, self.mirror)

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


def _gesture_pose(expression: Emotion, steps: int) -> list[_Pose]:
    """Return the poses from standing to the full gesture for an emphatic line."""
    if expression == Emotion.happy:
        full = _Pose(arm=0.0, tilt=7.0)
    elif expression == Emotion.surprised:
        full = _Pose(arm=0.75, tilt=-5.0)
    else:
        full = _Pose(arm=1.0, tilt=0.0)
    return [_Pose(full.arm * i / (steps - 1), full.tilt * i / (steps - 1)) for i in range(steps)]


def _is_emphatic(expression: Emotion, text: str) -> bool:
    return expression in _EMPHATIC or text.rstrip().rstrip("\"'”’)").endswith(("!", "！"))


def pan_travel(width: int) -> dict[Layer, int]:
    """Return each layer's travel over a pan in whole pixels (even: the middle frame is exact)."""
    return {
        layer: 2 * round(PAN_TRAVEL * width * depth / 2) for layer, depth in DEPTH_SCALE.items()
    }


def _zoom_scales() -> list[float]:
    n = max(1, math.ceil(ZOOM_RANGE / 2 / ZOOM_STEP))
    return [1.0 + ZOOM_RANGE * (j - n) / (2 * n) for j in range(2 * n + 1)]


def _canvas_rect(move: str, size: tuple[int, int], zoom_centre: Pt) -> BoxT:
    """Return the frame-coordinate rectangle a shot must draw so its camera move stays on set."""
    W, H = size
    if move == "pan":
        m = pan_travel(W)[Layer.foreground] // 2 + 2
        return (-m, 0, W + m, H)
    if move in ("push_in", "pull_out"):
        grow = 1.0 / min(_zoom_scales()) - 1.0
        cx, cy = zoom_centre
        pad = _FILTER_MARGIN + 2
        return (
            -math.ceil(cx * grow) - pad,
            -math.ceil(cy * grow) - pad,
            W + math.ceil((W - cx) * grow) + pad,
            H + math.ceil((H - cy) * grow) + pad,
        )
    return (0, 0, W, H)


def _dress(actor: _Actor, window: BoxT, canvas: tuple[int, int], speaking: bool) -> None:
    """Paint an actor's sprite in every pose, with its closed-eye and open-mouth variants."""
    CW, CH = canvas
    actor.window = window
    k = actor.k
    m = max(2, math.ceil(_line_widths(k * 100)[0] * 2)) + 1
    for pose in actor.poses:
        mk = actor.marks(pose)
        actor.rest.append(actor.paint(actor.ops(0.0, False, pose), window))
        # eyes and mouth windows split at a line between them so they never overlap
        eye_w = mouth_w = None
        if "eyes" in mk:
            eye_w = _grow(mk["eyes"], m, CW, CH)
        if speaking and "mouth" in mk:
            mouth_w = _grow(mk["mouth"], m, CW, CH)
        if eye_w and mouth_w and eye_w[3] > mouth_w[1]:
            split = (mk["eyes"][3] + mk["mouth"][1]) // 2
            eye_w = (eye_w[0], eye_w[1], eye_w[2], split)
            mouth_w = (mouth_w[0], split, mouth_w[2], mouth_w[3])
        # variants are pasted into the sprite, so their windows must lie inside it
        eye_w = _intersect(eye_w, window) if eye_w else None
        mouth_w = _intersect(mouth_w, window) if mouth_w else None
        actor.eye_win.append(eye_w)
        actor.mouth_win.append(mouth_w)
        actor.eyes.append(actor.paint(actor.ops(0.0, True, pose), eye_w) if eye_w else None)
        actor.mouths.append(
            [
                actor.paint(actor.ops(level / _MOUTH_LEVELS, False, pose), mouth_w)
                for level in range(1, _MOUTH_LEVELS + 1)
            ]
            if mouth_w
            else []
        )
    # Bigger figures breathe by two pixels, small ones by one, so neither looks still or bouncy.
    amp = 2 if k * 100 >= 300 else 1
    shp = _shape(actor.design.build, actor.design.face, actor.design.height)
    ramp = (0.0, *(shp.body_y(u) for u in _BREATH_RAMP))
    crown, shoulder, hands = (actor.fy + (u - 100.0) * k - window[1] for u in ramp)
    h = window[3] - window[1]
    actor.rows = [_breath_rows(h, crown, shoulder, hands, rise) for rise in range(amp + 1)]


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
    cam = shot.camera
    move = str(shot.move)
    light = _lighting(location, shot.time_of_day)
    tint_c = character_light(location, shot.time_of_day)
    # Lips move for whoever the staging says is speaking (a chorus: several; a voice from
    # off screen: nobody), the first of them leading the camera and the gestures.
    speaking = {b.character for b in shot.blocking if b.speaking}
    speaker = next((b.character for b in shot.blocking if b.speaking), None)
    ppm = pixels_per_metre(cam, W, Layer.midground)

    # Place everyone first (projection only): a push-in centres on the speaker's face.
    actors: list[_Actor] = []
    for b in shot.blocking:
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
        if (
            shot.framing == Framing.over_the_shoulder
            and speaker
            and b.character != speaker
            and others
        ):
            view = "back"
        mirror, glance = _view_params(view, facing)
        fx, fy = project(cam, b.world_x, 0.0, Layer.midground, W, H)
        actor = _Actor(
            name=b.character,
            design=design,
            view=view,
            expression=b.expression,
            glance=glance,
            fx=fx,
            fy=fy,
            k=FIGURE_HEIGHT_M * design.height * ppm / 100.0,
            mirror=mirror,
            tint=tint_c,
            facing={"left": -1, "right": 1}.get(facing, 0),
        )
        if b.character == speaker and view != "back" and _is_emphatic(b.expression, shot.text):
            steps = _ZOOM_GESTURE_STEPS if move in ("push_in", "pull_out") else GESTURE_STEPS
            actor.poses = _gesture_pose(b.expression, steps)
        actors.append(actor)
    marks0 = [a.marks() for a in actors]

    zoom_centre: Pt = (W / 2, H / 2)
    if move in ("push_in", "pull_out"):
        face = next(
            (mk["face"] for a, mk in zip(actors, marks0, strict=True) if a.name == speaker), None
        )
        if face is not None:
            fcx = min(max((face[0] + face[2]) / 2, 0.0), float(W))
            fcy = min(max((face[1] + face[3]) / 2, 0.0), float(H))
            zoom_centre = ((W / 2 + fcx) / 2, (H / 2 + fcy) / 2)
    rect = _canvas_rect(move, size, zoom_centre)
    ox, oy = rect[0], rect[1]
    CW, CH = rect[2] - rect[0], rect[3] - rect[1]
    sl = _render_set(location, light, shot.time_of_day, cam, size, rect, split_mid=move == "pan")
    for a in actors:  # from here on actors live in canvas coordinates
        a.fx -= ox
        a.fy -= oy

    layouts: list[FigureLayout] = []
    placed: list[_Actor] = []
    for actor in actors:
        pose_marks = [actor.marks(p) for p in actor.poses]
        body = pose_marks[0]["all"]
        for mk in pose_marks[1:]:
            body = _union(body, mk["all"])
        # room for the outline, and above the head for breathing
        pad = math.ceil(_line_widths(actor.k * 100)[1]) + 2
        window = _clip_box((body[0] - pad, body[1] - pad - 2, body[2] + pad, body[3] + pad), CW, CH)
        if _area(window) == 0:
            continue
        marks = pose_marks[0]
        frame_body = _shift(marks["all"], ox, oy)
        vis = _clip_box(frame_body, W, H)
        if _area(vis) > 0:

            def part(tag: str, m: dict[str, BoxT] = marks) -> Box | None:
                if tag not in m:
                    return None
                c = _clip_box(_shift(m[tag], ox, oy), W, H)
                return _to_box(c) if _area(c) > 0 else None

            layouts.append(
                FigureLayout(
                    character=actor.name,
                    body=_to_box(vis),
                    face=part("face"),
                    hair=part("hair"),
                    outfit=part("outfit"),
                    visible_fraction=min(1.0, _area(vis) / max(1, _area(frame_body))),
                )
            )
        actor.face = _shift(marks["face"], ox, oy) if "face" in marks else None
        _dress(actor, window, (CW, CH), actor.name in speaking)
        placed.append(actor)

    fg = sl.foreground
    if move == "pan":
        assert sl.midground is not None
        mid = sl.midground.copy()
        for a in placed:
            _over(mid, a.rest[0], a.window[0], a.window[1])
        base_canvas = mid
    else:
        base_canvas = sl.background.copy()
        for a in placed:
            _blend(base_canvas, a.rest[0], a.window[0], a.window[1])
        if fg is not None:
            _blend(base_canvas, fg[2], fg[0], fg[1])

    stage = _Stage(
        size=size,
        origin=(ox, oy),
        move=move,
        bg=sl.background,
        mid=sl.midground,
        fg=fg,
        actors=placed,
        base=base_canvas,
        speaker=speaker if any(a.name == speaker for a in placed) else None,
        effects=list(dict.fromkeys(shot.effects)),
        zoom_centre=zoom_centre,
        travel=pan_travel(W),
        direction=1,
        seed=_seed(shot.location, shot.scene, shot.beat, shot.camera.model_dump_json()),
    )
    spk = next((a for a in placed if a.name == stage.speaker), None)
    if move == "pan" and spk is not None and spk.face is not None:
        # pan toward the speaker
        stage.direction = -1 if (spk.face[0] + spk.face[2]) / 2 < W / 2 else 1
    anim = _Anim(stage)

    if move == "pan":
        background = sl.background[:, -ox : -ox + W].copy()
        assert sl.midground is not None
        _blend(background, sl.midground[:, -ox : -ox + W], 0, 0)
    else:
        background = sl.background[-oy : -oy + H, -ox : -ox + W].copy()
    sprites = [PlacedSprite(a.name, a.window[0] + ox, a.window[1] + oy, a.rest[0]) for a in placed]
    fg_sprite = PlacedSprite("", fg[0] + ox, fg[1] + oy, fg[2]) if fg is not None else None
    layers = ShotLayers(
        background=background,
        sprites=sprites,
        speaker=speaker,
        foreground=fg_sprite,
        figures=layouts,
        elements=sl.boxes,
        move=move,
        effects=stage.effects,
        gesture=spk is not None and len(spk.poses) > 1,
        anim=anim,
    )
    layers.base = anim.compose(anim.rest_states(), 0.0)
    if animate:
        anim.prepare()
    return layers


# ---------------------------------------------------------------------------------------------
# animation: idle motion, camera moves and manga effects, all precomputed per shot


@dataclass
class _Stage:
    """What `stage_shot` rendered, kept to prepare the animation (canvas coordinates)."""

    size: tuple[int, int]
    origin: tuple[int, int]  # frame position of the canvas's top-left pixel (<= 0)
    move: str
    bg: np.ndarray  # (h, w, 3): the set (with the midground unless the move is a pan)
    mid: np.ndarray | None  # pan only: the midground elements, RGBA
    fg: tuple[int, int, np.ndarray] | None
    actors: list[_Actor]
    base: np.ndarray  # the rest pose composed: RGB, or for a pan the RGBA midground layer
    speaker: str | None
    effects: list[str]
    zoom_centre: Pt  # frame coordinates
    travel: dict[Layer, int]
    direction: int  # +1: a pan moves the camera right (the set slides left)
    seed: int


@dataclass
class _Sparse:
    """Pixels to overwrite: flat indices into a frame and their colours."""

    idx: np.ndarray  # (n,) intp
    rgb: np.ndarray  # (n, 3) uint8


@dataclass
class _SparseRGBA:
    """Midground pixels of a pose (canvas coordinates) to lay over the sliding background."""

    y: np.ndarray  # (n,) intp
    x: np.ndarray
    rgb: np.ndarray  # (n, 3) uint16
    a: np.ndarray  # (n, 1) uint16


_AnyPatch = _Sparse | _SparseRGBA


@dataclass
class _CharPatches:
    """One character's pose patches for one view: keys are (pose, breath[, mouth level])."""

    body: dict[tuple[int, int], _AnyPatch] = field(default_factory=dict)
    eyes: dict[tuple[int, int], _AnyPatch] = field(default_factory=dict)
    mouth: dict[tuple[int, int, int], _AnyPatch] = field(default_factory=dict)


@dataclass
class _Level:
    """The shot at one zoom scale: the rest frame plus every pose as sparse patches."""

    scale: float
    image: np.ndarray
    chars: list[_CharPatches]
    cover: np.ndarray | None = None  # where characters and foreground hide the set


@dataclass
class _Cel:
    """An RGBA layer split for fast pasting: opaque pixels copy, edge pixels blend."""

    x: int
    y: int
    rgb: np.ndarray  # (h, w, 3) uint8
    solid: np.ndarray  # (h, w, 3) bool
    ey: np.ndarray
    ex: np.ndarray
    ergb: np.ndarray  # (n, 3) uint16
    ea: np.ndarray  # (n, 1) uint16
    alpha: np.ndarray  # (h, w) uint8, also counts as cover for effects drawn behind


def _cel(rgba: np.ndarray, x: int, y: int) -> _Cel:
    a = rgba[..., 3]
    ey, ex = np.nonzero((a > 0) & (a < 255))
    return _Cel(
        x=x,
        y=y,
        rgb=np.ascontiguousarray(rgba[..., :3]),
        solid=np.repeat((a == 255)[..., None], 3, axis=2),
        ey=ey,
        ex=ex,
        ergb=rgba[ey, ex, :3].astype(np.uint16),
        ea=rgba[ey, ex, 3:4].astype(np.uint16),
        alpha=a,
    )


def _paste_cel(out: np.ndarray, cel: _Cel, shift: int) -> None:
    """Paste `cel` onto the frame `out`, the canvas column `shift` landing on frame column 0."""
    H, W = out.shape[:2]
    h, w = cel.rgb.shape[:2]
    lx0, lx1 = max(0, shift - cel.x), min(w, W + shift - cel.x)
    ly0, ly1 = max(0, -cel.y), min(h, H - cel.y)
    if lx1 <= lx0 or ly1 <= ly0:
        return
    X0, Y0 = cel.x + lx0 - shift, cel.y + ly0
    np.copyto(
        out[Y0 : Y0 + ly1 - ly0, X0 : X0 + lx1 - lx0],
        cel.rgb[ly0:ly1, lx0:lx1],
        where=cel.solid[ly0:ly1, lx0:lx1],
    )
    keep = (cel.ex >= lx0) & (cel.ex < lx1) & (cel.ey >= ly0) & (cel.ey < ly1)
    ys, xs = cel.ey[keep] + cel.y, cel.ex[keep] + cel.x - shift
    a = cel.ea[keep]
    dst = out[ys, xs].astype(np.uint16)
    out[ys, xs] = ((cel.ergb[keep] * a + dst * (255 - a) + 127) // 255).astype(np.uint8)


def lerp_frames(a: np.ndarray, b: np.ndarray, w: int) -> np.ndarray:
    """Return a + (b - a) * w / 128 for uint8 frames (w in 0..128)."""
    if w <= 0:
        return a
    if w >= _XFADE:
        return b
    d = b.astype(np.int16)
    np.subtract(d, a, out=d)
    np.multiply(d, w, out=d)
    np.right_shift(d, 7, out=d)
    np.add(d, a, out=d)
    return d.astype(np.uint8)


_State = tuple[int, int, bool, int]  # pose, breath level, eyes closed, mouth level
_CoverFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


class _Anim:
    """A shot's animation: everything per frame is pasting precomputed pixels."""

    def __init__(self, stage: _Stage):
        self.stage = stage
        self.levels: list[_Level] = []
        self.pan_cels: tuple[_Cel, _Cel | None] | None = None
        self.pan_chars: list[_CharPatches] = []
        self.effects: list[_Effect] = []
        self.pan_cover: np.ndarray | None = None
        self.placed: dict[tuple[int, int, int, tuple[int, int] | None], _Placed] = {}
        self.ready = False
        self.rhythm = [_rhythm(a.name) for a in stage.actors]

    # -- states -------------------------------------------------------------------------------

    def rest_states(self) -> list[_State]:
        return [(0, 0, False, 0) for _ in self.stage.actors]

    def states(self, frame: int | None, blink: bool, mouth: int, gesture: float) -> list[_State]:
        out: list[_State] = []
        for a, (bp, bf, kp, kf) in zip(self.stage.actors, self.rhythm, strict=True):
            g = round(max(0.0, min(1.0, gesture)) * (len(a.poses) - 1))
            b = 0
            closed = blink
            if frame is not None:
                b = round(a.amp * (1 - math.cos(2 * math.pi * (frame + bf) / bp)) / 2)
                closed = closed or (frame + kf) % kp < BLINK_LENGTH
            out.append((g, b, closed, mouth if a.mouths[g] else 0))
        return out

    # -- preparation --------------------------------------------------------------------------

    def prepare(self) -> None:
        """Build every patch, level and effect of the shot (once)."""
        if self.ready:
            return
        st = self.stage
        if st.move == "pan":
            self._prepare_pan()
        else:
            self._prepare_flat()
        self.effects = _build_effects(st)
        self.ready = True

    def _scales(self) -> list[float]:
        return _zoom_scales() if self.stage.move in ("push_in", "pull_out") else [1.0]

    def _view(self, img: np.ndarray, rx: int, ry: int, s: float) -> tuple[int, int, np.ndarray]:
        """Resample a canvas region (top-left rx, ry) as the zoom level `s` shows it."""
        st = self.stage
        W, H = st.size
        ox, oy = st.origin
        h, w = img.shape[:2]
        if s == 1.0:
            u0, v0 = max(0, rx + ox), max(0, ry + oy)
            u1, v1 = min(W, rx + ox + w), min(H, ry + oy + h)
            if u1 <= u0 or v1 <= v0:
                return 0, 0, img[:0, :0]
            return u0, v0, img[v0 - ry - oy : v1 - ry - oy, u0 - rx - ox : u1 - rx - ox]
        cx, cy = st.zoom_centre
        m = _FILTER_MARGIN
        u0 = max(0, math.ceil(cx + s * (rx + ox + m - cx)))
        v0 = max(0, math.ceil(cy + s * (ry + oy + m - cy)))
        u1 = min(W, math.floor(cx + s * (rx + ox + w - m - cx)))
        v1 = min(H, math.floor(cy + s * (ry + oy + h - m - cy)))
        if u1 <= u0 or v1 <= v0:
            return 0, 0, img[:0, :0]
        box = (
            cx + (u0 - cx) / s - ox - rx,
            cy + (v0 - cy) / s - oy - ry,
            cx + (u1 - cx) / s - ox - rx,
            cy + (v1 - cy) / s - oy - ry,
        )
        out = Image.fromarray(img).resize((u1 - u0, v1 - v0), _RESAMPLE, box=box)
        return u0, v0, np.asarray(out)

    def _compose_flat(self, region: BoxT, who: int, sprite: np.ndarray) -> np.ndarray:
        """Compose a canvas region with actor `who` drawn from `sprite`, the rest standing."""
        st = self.stage
        x0, y0, x1, y1 = region
        out = st.bg[y0:y1, x0:x1].copy()
        for j, a in enumerate(st.actors):
            _blend(out, sprite if j == who else a.rest[0], a.window[0] - x0, a.window[1] - y0)
        if st.fg is not None:
            _blend(out, st.fg[2], st.fg[0] - x0, st.fg[1] - y0)
        return out

    def _prepare_flat(self) -> None:
        st = self.stage
        W, H = st.size
        ch, cw = st.base.shape[:2]
        self.levels = []
        full = Image.fromarray(st.base)
        ox, oy = st.origin
        cx, cy = st.zoom_centre
        for s in self._scales():
            if s == 1.0:
                img = self._rest_frame()
            else:
                box = (
                    cx - cx / s - ox,
                    cy - cy / s - oy,
                    cx + (W - cx) / s - ox,
                    cy + (H - cy) / s - oy,
                )
                img = np.asarray(full.resize((W, H), _RESAMPLE, box=box))
            self.levels.append(_Level(s, np.ascontiguousarray(img), []))

        def sparse(
            before: tuple[int, int, np.ndarray], after: tuple[int, int, np.ndarray]
        ) -> _Sparse | None:
            u0, v0, a = after
            b = before[2]
            if a.size == 0 or a.shape != b.shape:
                return None
            d = np.maximum(a, b)
            d -= np.minimum(a, b)
            diff = (d[..., 0] > 2) | (d[..., 1] > 2) | (d[..., 2] > 2)
            ys, xs = np.nonzero(diff)
            if len(ys) == 0:
                return None
            return _Sparse(((ys + v0) * W + xs + u0).astype(np.intp), a[ys, xs])

        for who, actor in enumerate(st.actors):
            per = [_CharPatches() for _ in self.levels]
            for lv, cp in zip(self.levels, per, strict=True):
                lv.chars.append(cp)
            win = _grow(actor.window, _FILTER_MARGIN + 1, cw, ch)
            base_views = [
                self._view(st.base[win[1] : win[3], win[0] : win[2]], win[0], win[1], lv.scale)
                for lv in self.levels
            ]
            for g in range(len(actor.poses)):
                for b in range(actor.amp + 1):
                    spr = actor.sprite(g, b)
                    if (g, b) != (0, 0):
                        comp = self._compose_flat(win, who, spr)
                        for lv, cp, bv in zip(self.levels, per, base_views, strict=True):
                            p = sparse(bv, self._view(comp, win[0], win[1], lv.scale))
                            if p is not None:
                                cp.body[(g, b)] = p
                    for kind, window, variants in (
                        ("eyes", actor.eye_win[g], [1] if actor.eyes[g] is not None else []),
                        ("mouth", actor.mouth_win[g], range(1, len(actor.mouths[g]) + 1)),
                    ):
                        if window is None or not variants:
                            continue
                        r = _grow(_shift(window, 0, -b), _FILTER_MARGIN + 1, cw, ch)
                        before = self._compose_flat(r, who, spr)
                        bviews = [self._view(before, r[0], r[1], lv.scale) for lv in self.levels]
                        for v in variants:
                            var = actor.sprite(
                                g, b, eyes=kind == "eyes", mouth=v * (kind == "mouth")
                            )
                            after = self._compose_flat(r, who, var)
                            for lv, cp, bv in zip(self.levels, per, bviews, strict=True):
                                p = sparse(bv, self._view(after, r[0], r[1], lv.scale))
                                if p is None:
                                    continue
                                if kind == "eyes":
                                    cp.eyes[(g, b)] = p
                                else:
                                    cp.mouth[(g, b, v)] = p
        if any(e in _BEHIND for e in st.effects):
            cover = self._cover()
            for lv in self.levels:
                u0, v0, c = self._view(cover, 0, 0, lv.scale)
                framed = np.zeros((H, W), np.uint8)
                framed[v0 : v0 + c.shape[0], u0 : u0 + c.shape[1]] = c
                lv.cover = framed

    def _cover(self) -> np.ndarray:
        """Return where any pose of any character, or the foreground, hides the set (canvas)."""
        st = self.stage
        ch, cw = st.bg.shape[:2]
        cover = np.zeros((ch, cw), np.uint8)
        for a in st.actors:
            x0, y0, x1, y1 = a.window
            for g in range(len(a.poses)):
                for b in {0, a.amp}:
                    np.maximum(cover[y0:y1, x0:x1], a.sprite(g, b)[..., 3], out=cover[y0:y1, x0:x1])
        if st.fg is not None:
            fx, fy, rgba = st.fg
            h, w = rgba.shape[:2]
            np.maximum(
                cover[fy : fy + h, fx : fx + w], rgba[..., 3], out=cover[fy : fy + h, fx : fx + w]
            )
        return cover

    def _pan_layers(self) -> tuple[_Cel, _Cel | None]:
        if self.pan_cels is None:
            st = self.stage
            fg = _cel(st.fg[2], st.fg[0], st.fg[1]) if st.fg is not None else None
            self.pan_cels = (_cel(st.base, 0, 0), fg)
        return self.pan_cels

    def _prepare_pan(self) -> None:
        st = self.stage
        assert st.mid is not None
        ch, cw = st.base.shape[:2]
        self._pan_layers()

        def compose(region: BoxT, who: int, sprite: np.ndarray) -> np.ndarray:
            x0, y0, x1, y1 = region
            assert st.mid is not None
            out = st.mid[y0:y1, x0:x1].copy()
            for j, a in enumerate(st.actors):
                _over(out, sprite if j == who else a.rest[0], a.window[0] - x0, a.window[1] - y0)
            return out

        def sparse(before: np.ndarray, after: np.ndarray, x0: int, y0: int) -> _SparseRGBA | None:
            ys, xs = np.nonzero(np.any(before != after, axis=2))
            if len(ys) == 0:
                return None
            px = after[ys, xs]
            return _SparseRGBA(
                ys + y0, xs + x0, px[:, :3].astype(np.uint16), px[:, 3:4].astype(np.uint16)
            )

        self.pan_chars = []
        for who, actor in enumerate(st.actors):
            cp = _CharPatches()
            self.pan_chars.append(cp)
            win = actor.window
            for g in range(len(actor.poses)):
                for b in range(actor.amp + 1):
                    spr = actor.sprite(g, b)
                    if (g, b) != (0, 0):
                        comp = compose(win, who, spr)
                        p = sparse(st.base[win[1] : win[3], win[0] : win[2]], comp, *win[:2])
                        if p is not None:
                            cp.body[(g, b)] = p
                    for kind, window, variants in (
                        ("eyes", actor.eye_win[g], [1] if actor.eyes[g] is not None else []),
                        ("mouth", actor.mouth_win[g], range(1, len(actor.mouths[g]) + 1)),
                    ):
                        if window is None or not variants:
                            continue
                        r = _grow(_shift(window, 0, -b), 1, cw, ch)
                        before = compose(r, who, spr)
                        for v in variants:
                            var = actor.sprite(
                                g, b, eyes=kind == "eyes", mouth=v * (kind == "mouth")
                            )
                            p = sparse(before, compose(r, who, var), *r[:2])
                            if p is None:
                                continue
                            if kind == "eyes":
                                cp.eyes[(g, b)] = p
                            else:
                                cp.mouth[(g, b, v)] = p

    # -- per frame ----------------------------------------------------------------------------

    def pan_shift(self, layer: Layer, t: float) -> int:
        """Return how far (px) `layer` has slid at move position t (-0.5 .. 0.5)."""
        travel = self.stage.travel[layer]
        return self.stage.direction * math.floor(travel * max(-0.5, min(0.5, t)) + 0.5)

    def zoom(self, t: float) -> float:
        sign = {"push_in": 1.0, "pull_out": -1.0}.get(self.stage.move, 0.0)
        return 1.0 + sign * ZOOM_RANGE * max(-0.5, min(0.5, t))

    def to_screen(self, p: Pt, t: float) -> Pt:
        """Map a frame position at the keyframe framing to where the moving camera shows it."""
        st = self.stage
        if st.move == "pan":
            return p[0] - self.pan_shift(Layer.midground, t), p[1]
        s = self.zoom(t)
        if s == 1.0:
            return p
        cx, cy = st.zoom_centre
        return cx + s * (p[0] - cx), cy + s * (p[1] - cy)

    def compose(self, states: list[_State], t: float) -> np.ndarray:
        """Return the frame for these character states at move position t."""
        if self.stage.move == "pan":
            return self._compose_pan(states, t)
        return self._compose_flat_frame(states, t)

    def _level_frame(self, lv: _Level | None, states: list[_State], base: np.ndarray) -> np.ndarray:
        img = base.copy()
        if lv is None:
            return img
        flat = img.reshape(-1, 3)
        for (g, b, closed, mouth), cp in zip(states, lv.chars, strict=True):
            for p in (
                cp.body.get((g, b)),
                cp.eyes.get((g, b)) if closed else None,
                cp.mouth.get((g, b, mouth)) if mouth else None,
            ):
                if isinstance(p, _Sparse):
                    flat[p.idx] = p.rgb
        return img

    def _compose_flat_frame(self, states: list[_State], t: float) -> np.ndarray:
        if not self.levels:
            return self._rest_frame()
        levels = self.levels
        n = len(levels)
        s = self.zoom(t)
        pos = 0.0 if n == 1 else (s - levels[0].scale) / (levels[1].scale - levels[0].scale)
        k = max(0, min(n - 1, math.floor(pos + 1e-9)))
        w = round((pos - k) * _XFADE) if k < n - 1 else 0
        a = self._level_frame(levels[k], states, levels[k].image)
        if w <= 0:
            return a
        b = self._level_frame(levels[k + 1], states, levels[k + 1].image)
        return lerp_frames(a, b, w)

    def _rest_frame(self) -> np.ndarray:
        st = self.stage
        W, H = st.size
        ox, oy = st.origin
        return st.base[-oy : -oy + H, -ox : -ox + W].copy()

    def _compose_pan(self, states: list[_State], t: float) -> np.ndarray:
        st = self.stage
        W = st.size[0]
        m = -st.origin[0]
        mid, fg = self._pan_layers()
        sb = m + self.pan_shift(Layer.background, t)
        sm = m + self.pan_shift(Layer.midground, t)
        out = st.bg[:, sb : sb + W].copy()
        _paste_cel(out, mid, sm)
        for (g, b, closed, mouth), cp in zip(states, self.pan_chars, strict=False):
            for p in (
                cp.body.get((g, b)),
                cp.eyes.get((g, b)) if closed else None,
                cp.mouth.get((g, b, mouth)) if mouth else None,
            ):
                if isinstance(p, _SparseRGBA):
                    xs = p.x - sm
                    keep = (xs >= 0) & (xs < W)
                    ys, xs = p.y[keep], xs[keep]
                    under = st.bg[ys, xs + sb].astype(np.uint16)
                    a = p.a[keep]
                    out[ys, xs] = ((p.rgb[keep] * a + under * (255 - a) + 127) // 255).astype(
                        np.uint8
                    )
        if fg is not None:
            _paste_cel(out, fg, m + self.pan_shift(Layer.foreground, t))
        return out

    def cover_at(self, ys: np.ndarray, xs: np.ndarray, t: float) -> np.ndarray:
        """Return how much characters and foreground hide the set at frame pixels (ys, xs)."""
        st = self.stage
        if st.move == "pan":
            _, fg = self._pan_layers()
            cover = self._pan_cover()
            m = -st.origin[0]
            c = cover[
                ys, np.clip(xs + m + self.pan_shift(Layer.midground, t), 0, cover.shape[1] - 1)
            ]
            if fg is not None:
                fx = xs + m + self.pan_shift(Layer.foreground, t) - fg.x
                fy = ys - fg.y
                fh, fw = fg.alpha.shape
                inside = (fx >= 0) & (fx < fw) & (fy >= 0) & (fy < fh)
                c[inside] = np.maximum(c[inside], fg.alpha[fy[inside], fx[inside]])
            return c
        level_cover = self.levels[self._nearest_level(t)].cover
        if level_cover is None:
            return np.zeros(len(ys), np.uint8)
        return level_cover[ys, xs]

    def _pan_cover(self) -> np.ndarray:
        cover = self.pan_cover
        if cover is None:
            st = self.stage
            assert st.mid is not None
            cover = st.mid[..., 3].copy()
            for a in st.actors:
                x0, y0, x1, y1 = a.window
                for g in range(len(a.poses)):
                    for b in {0, a.amp}:
                        np.maximum(
                            cover[y0:y1, x0:x1], a.sprite(g, b)[..., 3], out=cover[y0:y1, x0:x1]
                        )
            self.pan_cover = cover
        return cover

    def cover_key(self, t: float) -> tuple[int, int]:
        """Return what identifies the cover at move position t (equal keys, equal cover)."""
        if self.stage.move == "pan":
            return self.pan_shift(Layer.midground, t), self.pan_shift(Layer.foreground, t)
        return self._nearest_level(t), 0

    def _nearest_level(self, t: float) -> int:
        n = len(self.levels)
        if n <= 1:
            return 0
        s = self.zoom(t)
        pos = (s - self.levels[0].scale) / (self.levels[1].scale - self.levels[0].scale)
        return max(0, min(n - 1, round(pos)))

    def draw_effects(self, img: np.ndarray, frame: int, t: float) -> None:
        for eff in self.effects:
            stamp, dx, dy = eff.pick(frame)
            ax, ay = eff.anchor if eff.screen else self.to_screen(eff.anchor, t)
            x, y = round(ax + dx), round(ay + dy)
            key = (id(stamp), x, y, self.cover_key(t) if eff.behind else None)
            placed = self.placed.get(key)
            if placed is None:
                if len(self.placed) > 64:
                    self.placed.clear()

                def cover(ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
                    return self.cover_at(ys, xs, t)

                placed = _place(stamp, x, y, self.stage.size, cover if eff.behind else None)
                self.placed[key] = placed
            _draw_placed(img, placed)


def _rhythm(name: str) -> tuple[int, int, int, int]:
    """Return (breath period, breath phase, blink period, blink phase) for a character."""
    h = _seed("idle", name)
    bp = BREATH_CYCLE[0] + h % (BREATH_CYCLE[1] - BREATH_CYCLE[0])
    kp = BLINK_CYCLE[0] + (h >> 16) % (BLINK_CYCLE[1] - BLINK_CYCLE[0])
    return bp, (h >> 32) % bp, kp, (h >> 48) % kp


# ---------------------------------------------------------------------------------------------
# manga effects: drawn once per shot as a few stamps, cycled and slid per frame

EFFECTS = ("speed_lines", "emphasis_burst", "sweat_drop", "sparkle", "anger_mark")
_BEHIND = ("speed_lines", "emphasis_burst")  # drawn over the set only, behind the characters
_FX_SS = 3
_TONE_LIGHT: RGB = (255, 246, 204)
_SWEAT: RGB = (184, 222, 246)
_ANGER: RGB = (214, 36, 48)


@dataclass
class _Stamp:
    """An effect drawing as sparse pixels around its anchor."""

    dy: np.ndarray  # (n,) intp offsets from the anchor
    dx: np.ndarray
    rgb: np.ndarray  # (n, 3) uint16
    a: np.ndarray  # (n, 1) uint16
    bbox: BoxT  # of the offsets, end exclusive


@dataclass
class _Effect:
    """One animated effect element: which stamp to show, and where, at each frame."""

    kind: str
    anchor: Pt  # frame coordinates at the keyframe framing (or of the screen)
    stamps: list[_Stamp]
    sequence: list[int]  # stamp index per step
    hold: int = 2  # frames per step
    screen: bool = False  # fixed to the screen instead of riding with the set
    behind: bool = False
    slide: Pt = (0.0, 0.0)  # drift over one slide period, then it starts again
    period: int = 1

    def pick(self, frame: int) -> tuple[_Stamp, float, float]:
        stamp = self.stamps[self.sequence[(frame // self.hold) % len(self.sequence)]]
        f = (frame % self.period) / self.period
        return stamp, self.slide[0] * f, self.slide[1] * f


class _Ink:
    """A supersampled RGBA drawing pad centred on an effect's anchor."""

    def __init__(self, half_w: float, half_h: float):
        self.hw, self.hh = math.ceil(half_w) + 3, math.ceil(half_h) + 3
        size = (2 * self.hw * _FX_SS, 2 * self.hh * _FX_SS)
        self.rgb = Image.new("RGB", size, INK)
        self.alpha = Image.new("L", size, 0)
        self.d = ImageDraw.Draw(self.rgb)
        self.da = ImageDraw.Draw(self.alpha)

    def p(self, pts: Sequence[Pt]) -> list[Pt]:
        return [((x + self.hw) * _FX_SS, (y + self.hh) * _FX_SS) for x, y in pts]

    def poly(self, pts: Sequence[Pt], fill: RGB, outline: float = 0.0, opacity: int = 255) -> None:
        p = self.p(pts)
        if outline > 0:
            w = max(1, round(outline * 2 * _FX_SS))
            _ink_line(self.d, [*p, p[0]], INK, w)
            _ink_line(self.da, [*p, p[0]], opacity, w)
        self.d.polygon(p, fill=fill)
        self.da.polygon(p, fill=opacity)

    def line(self, pts: Sequence[Pt], colour: RGB, width: float, opacity: int = 255) -> None:
        p = self.p(pts)
        w = max(1, round(width * _FX_SS))
        _ink_line(self.d, p, colour, w)
        _ink_line(self.da, p, opacity, w)

    def stamp(self) -> _Stamp:
        rgb = np.asarray(self.rgb.reduce(_FX_SS))
        a = np.asarray(self.alpha.reduce(_FX_SS))
        ys, xs = np.nonzero(a)
        dy, dx = ys - self.hh, xs - self.hw
        bbox = (
            (int(dx.min()), int(dy.min()), int(dx.max()) + 1, int(dy.max()) + 1)
            if len(ys)
            else (0, 0, 0, 0)
        )
        return _Stamp(
            dy=dy.astype(np.intp),
            dx=dx.astype(np.intp),
            rgb=rgb[ys, xs].astype(np.uint16),
            a=a[ys, xs, None].astype(np.uint16),
            bbox=bbox,
        )


@dataclass
class _Placed:
    """A stamp placed on the frame: opaque pixels to copy, translucent ones to blend."""

    solid: np.ndarray  # (n,) flat frame indices
    solid_rgb: np.ndarray  # (n, 3) uint8
    part: np.ndarray
    part_rgb: np.ndarray  # (m, 3) uint16
    part_a: np.ndarray  # (m, 1) uint16


def _place(st: _Stamp, ax: int, ay: int, size: tuple[int, int], cover: _CoverFn | None) -> _Placed:
    W, H = size
    ys, xs, rgb, a = st.dy + ay, st.dx + ax, st.rgb, st.a[:, 0]
    x0, y0, x1, y1 = st.bbox
    if ax + x0 < 0 or ay + y0 < 0 or ax + x1 > W or ay + y1 > H:
        keep = (ys >= 0) & (ys < H) & (xs >= 0) & (xs < W)
        ys, xs, rgb, a = ys[keep], xs[keep], rgb[keep], a[keep]
    if cover is not None:
        a = a * (255 - cover(ys, xs).astype(np.uint16)) // 255
    idx = ys * W + xs
    solid = a == 255
    part = (a > 0) & ~solid
    return _Placed(
        solid=idx[solid],
        solid_rgb=rgb[solid].astype(np.uint8),
        part=idx[part],
        part_rgb=rgb[part],
        part_a=a[part, None],
    )


def _draw_placed(img: np.ndarray, p: _Placed) -> None:
    flat = img.reshape(-1, 3)
    flat[p.solid] = p.solid_rgb
    if len(p.part):
        # (x + 128 + ((x + 128) >> 8)) >> 8 is x / 255 rounded, without a division
        v = p.part_rgb * p.part_a + flat[p.part].astype(np.uint16) * (255 - p.part_a) + 128
        flat[p.part] = ((v + (v >> 8)) >> 8).astype(np.uint8)


def _star(cx: float, cy: float, r: float, spikes: int, inner: float, rot: float) -> list[Pt]:
    pts = []
    for i in range(spikes * 2):
        a = rot + math.pi * i / spikes
        rr = r if i % 2 == 0 else r * inner
        pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    return pts


def _speed_lines(W: int, H: int, seed: int) -> list[_Stamp]:
    """Focus lines: tapered ink wedges from past the frame edge toward a clear centre."""
    out = []
    reach = math.hypot(W, H) / 2 + 8
    for v in range(4):
        rng = random.Random(_seed(seed, "speed", v))
        pad = _Ink(W / 2, H / 2)
        n = 120
        for i in range(n):
            a = 2 * math.pi * (i + rng.uniform(-0.45, 0.45)) / n
            ca, sa = math.cos(a), math.sin(a)
            # the clear middle is an ellipse, so the lines stop short of faces at the centre
            inner = rng.uniform(0.62, 0.95) / math.hypot(ca / (0.5 * W), sa / (0.5 * H))
            if rng.random() < 0.35:
                inner *= rng.uniform(1.08, 1.3)
            width = rng.uniform(1.5, 5.5) * (H / 720)
            tip = (ca * inner, sa * inner)
            nx, ny = -sa * width / 2, ca * width / 2
            far = (ca * reach, sa * reach)
            pad.poly([tip, (far[0] + nx, far[1] + ny), (far[0] - nx, far[1] - ny)], INK)
        out.append(pad.stamp())
    return out


def _burst(r: float, seed: int) -> list[_Stamp]:
    """A spiky emphasis flash (pale tone, ink outline, white heart), at three pulse sizes."""
    rng = random.Random(_seed(seed, "burst"))
    spikes = 22
    lengths = [rng.uniform(0.82, 1.12) for _ in range(spikes)]
    jitter = [rng.uniform(-0.18, 0.18) for _ in range(spikes)]
    out = []
    for scale, turn in ((0.93, -0.025), (1.0, 0.0), (1.07, 0.025)):
        rs = r * scale
        pad = _Ink(rs * 1.15, rs * 1.15)
        outer: list[Pt] = []
        inner: list[Pt] = []
        for i in range(spikes):
            a = turn + 2 * math.pi * (i + jitter[i]) / spikes
            b = turn + 2 * math.pi * (i + 0.5) / spikes
            outer += [
                (math.cos(a) * rs * lengths[i], math.sin(a) * rs * lengths[i]),
                (math.cos(b) * rs * 0.6, math.sin(b) * rs * 0.6),
            ]
            inner += [
                (math.cos(a) * rs * lengths[i] * 0.7, math.sin(a) * rs * lengths[i] * 0.7),
                (math.cos(b) * rs * 0.45, math.sin(b) * rs * 0.45),
            ]
        pad.poly(outer, _TONE_LIGHT, outline=max(1.0, r / 55))
        pad.poly(inner, WHITE)
        out.append(pad.stamp())
    return out


def _sweat_drop(h: float) -> _Stamp:
    """The big manga sweat drop: pointed top, round belly, pale blue with a highlight."""
    w = h * 0.62
    pad = _Ink(w / 2 + 2, h / 2 + 2)
    r = w / 2
    cy = h / 2 - r
    belly = _ell(0.0, cy, r, r, 24, -0.15, math.pi + 0.15)
    drop = [(0.0, -h / 2), *belly]
    pad.poly(drop, _SWEAT, outline=max(0.8, h / 26))
    pad.poly(_ell(-r * 0.38, cy - r * 0.1, r * 0.18, r * 0.34, 12), WHITE)
    return pad.stamp()


def _anger_mark(size: float, scale: float) -> _Stamp:
    """The popping-vein cross: four red brackets with ink edges."""
    s = size * scale / 2
    pad = _Ink(s * 1.2, s * 1.2)
    w = max(1.6, s * 0.26)
    for q in range(4):
        a = q * math.pi / 2 + math.pi / 4
        ca, sa = math.cos(a), math.sin(a)
        cx, cy = ca * s * 0.62, sa * s * 0.62
        # each bracket bows toward the centre, its ends pointing out along the diagonals
        p0 = (cx + math.cos(a + 1.25) * s * 0.55, cy + math.sin(a + 1.25) * s * 0.55)
        p2 = (cx + math.cos(a - 1.25) * s * 0.55, cy + math.sin(a - 1.25) * s * 0.55)
        p1 = (ca * s * 0.18, sa * s * 0.18)
        arc = _quad(p0, p1, p2, 10)
        pad.line(arc, INK, w + max(1.2, s * 0.12) * 2)
    for q in range(4):
        a = q * math.pi / 2 + math.pi / 4
        ca, sa = math.cos(a), math.sin(a)
        cx, cy = ca * s * 0.62, sa * s * 0.62
        p0 = (cx + math.cos(a + 1.25) * s * 0.55, cy + math.sin(a + 1.25) * s * 0.55)
        p2 = (cx + math.cos(a - 1.25) * s * 0.55, cy + math.sin(a - 1.25) * s * 0.55)
        p1 = (ca * s * 0.18, sa * s * 0.18)
        pad.line(_quad(p0, p1, p2, 10), _ANGER, w)
    return pad.stamp()


def _sparkle(r: float, scale: float) -> _Stamp:
    """A four-pointed twinkle with a small cross glint."""
    pad = _Ink(r * 1.1, r * 1.1)
    if scale > 0:
        rs = r * scale
        pad.poly(_star(0.0, 0.0, rs, 4, 0.24, -math.pi / 2), WHITE, outline=max(0.7, r / 14))
        pad.poly(_star(0.0, 0.0, rs * 0.45, 4, 0.3, -math.pi / 4), _TONE_LIGHT)
    return pad.stamp()


def _build_effects(st: _Stage) -> list[_Effect]:
    """Draw the shot's effects around the speaker's head (speed lines: the frame's centre)."""
    if not st.effects:
        return []
    W, H = st.size
    who = next((a for a in st.actors if a.name == st.speaker and a.face), None)
    who = who or next((a for a in st.actors if a.face and _area(_clip_box(a.face, W, H))), None)
    if who is not None and who.face is not None:
        x0, y0, x1, y1 = who.face
        fw, fh = float(x1 - x0), float(y1 - y0)
        fcx, top = (x0 + x1) / 2, float(y0)
        side = who.facing or 1
    else:
        fh = fw = H / 8
        fcx, top = W / 2, H / 2 - fh / 2
        side = 1
    out: list[_Effect] = []
    for kind in st.effects:
        if kind == "speed_lines":
            stamps = _speed_lines(W, H, st.seed)
            out.append(_Effect(kind, (W / 2, H / 2), stamps, [0, 1, 2, 3], 2, True, True))
        elif kind == "emphasis_burst":
            r = max(26.0, 1.9 * fh)
            out.append(
                _Effect(
                    kind, (fcx, top - 0.1 * fh), _burst(r, st.seed), [0, 1, 2, 1], 2, False, True
                )
            )
        elif kind == "sweat_drop":
            h = max(12.0, 0.6 * fh)
            anchor = (fcx - side * (0.62 * fw + 0.12 * fh), top - 0.05 * fh)
            out.append(
                _Effect(kind, anchor, [_sweat_drop(h)], [0], slide=(0.0, 0.45 * fh), period=36)
            )
        elif kind == "anger_mark":
            size = max(14.0, 0.5 * fh)
            anchor = (fcx + side * 0.5 * fw, top - 0.35 * fh)
            stamps = [_anger_mark(size, 1.0), _anger_mark(size, 1.2)]
            out.append(_Effect(kind, anchor, stamps, [1, 0, 1, 0, 0, 0, 0, 0], 2))
        elif kind == "sparkle":
            spots = ((1.05, -0.6, 0.42), (-0.95, -0.15, 0.3), (1.3, 0.45, 0.34))
            scales = [0.0, 0.45, 0.8, 1.0, 0.8, 0.45]
            for n, (sx, sy, sr) in enumerate(spots):
                r = max(8.0, sr * fh)
                stamps = [_sparkle(r, sc) for sc in scales]
                seq = [(i + 2 * n) % len(scales) for i in range(len(scales))]
                anchor = (fcx + side * sx * fw, top + sy * fh)
                out.append(_Effect(kind, anchor, stamps, seq, 2 + n % 2))
    return out


def compose_frame(
    layers: ShotLayers,
    *,
    mouth_open: float = 0.0,
    blink: bool = False,
    frame: int | None = None,
    move_t: float = 0.0,
    gesture: float = 0.0,
) -> np.ndarray:
    """Compose one frame from the precomposed shot: poses, camera and effects are pastes.

    `frame` (the index in the shot) turns on idle breathing, each character's own blinks and
    the animated effects; `move_t` is the position along the camera move, -0.5 at the first
    frame, 0 at the keyframe framing, 0.5 at the last; `gesture` (0..1) is how far the speaker
    has gone into the line's gesture.
    """
    anim = layers.anim
    if anim is None:
        return _compose_legacy(layers, mouth_open, blink)
    level = round(max(0.0, min(1.0, mouth_open)) * _MOUTH_LEVELS)
    states = anim.states(frame, blink, level, gesture)
    rest = frame is None and move_t == 0.0 and all(s == (0, 0, False, 0) for s in states)
    if rest and layers.base is not None:
        return layers.base.copy()
    anim.prepare()
    img = anim.compose(states, move_t)
    if frame is not None:
        anim.draw_effects(img, frame, move_t)
    return img


def _compose_legacy(layers: ShotLayers, mouth_open: float, blink: bool) -> np.ndarray:
    """Compose hand-built layers (no animation data): base plus mouth and blink patches."""
    if layers.base is None:
        base = layers.background.copy()
        for sp in layers.sprites:
            _blend(base, sp.rgba, sp.x, sp.y)
        if layers.foreground is not None:
            fgs = layers.foreground
            _blend(base, fgs.rgba, fgs.x, fgs.y)
        layers.base = base
    out = layers.base.copy()
    if blink:
        for p in layers.blink_patches:
            out[p.y : p.y + p.rgb.shape[0], p.x : p.x + p.rgb.shape[1]] = p.rgb
    level = round(max(0.0, min(1.0, mouth_open)) * _MOUTH_LEVELS)
    if level > 0 and layers.mouth_patches:
        p = layers.mouth_patches[min(level, len(layers.mouth_patches)) - 1]
        out[p.y : p.y + p.rgb.shape[0], p.x : p.x + p.rgb.shape[1]] = p.rgb
    return out


def render_keyframe(
    shot: Shot,
    location: LocationDesign,
    cast: dict[str, CharacterDesign],
    size: tuple[int, int] = (WIDTH, HEIGHT),
) -> tuple[Image.Image, list[FigureLayout], dict[str, Box]]:
    """Render a shot's keyframe and report where each character and set element landed."""
    layers = stage_shot(shot, location, cast, size, animate=False)
    return Image.fromarray(compose_frame(layers)), layers.figures, layers.elements
