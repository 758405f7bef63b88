"""The tables characters are drawn from: expressions, eye shapes, builds, faces, garments."""

from __future__ import annotations

import math
from dataclasses import dataclass

from inkreel.art.geometry import Pt
from inkreel.schemas.script import Emotion


@dataclass(frozen=True)
class Expr:
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


EXPR: dict[Emotion, Expr] = {
    Emotion.neutral: Expr(0.0, 0.15, 0.35, 0.55, 1.0, 1.0, 0.0, 0.0, 0.15, 2.2, 0.0),
    Emotion.happy: Expr(-0.45, 0.0, 0.65, 0.5, 0.85, 1.0, 0.0, 0.42, 0.9, 3.0, 0.0),
    Emotion.sad: Expr(-1.1, 0.55, 0.05, 0.5, 0.82, 1.0, -0.45, 0.0, -0.65, 2.0, 0.0),
    Emotion.angry: Expr(1.05, -0.75, -0.05, 0.75, 0.8, 0.92, 0.55, 0.0, -0.5, 2.6, 0.0),
    Emotion.surprised: Expr(-1.5, -1.1, 0.75, 0.45, 1.22, 0.72, 0.0, 0.0, 0.0, 1.3, 0.55),
    Emotion.afraid: Expr(-1.25, 0.35, 0.15, 0.45, 1.15, 0.6, -0.25, 0.0, -0.35, 2.2, 0.2),
}


@dataclass(frozen=True)
class EyeShape:
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


EYE_SHAPES = {
    "round": EyeShape(1.0, 1.32, 0.42, 0.55, 0.0, 0.0, 1.12, 1.0, 0.8, 1.45),
    "almond": EyeShape(1.14, 0.86, 0.95, 0.9, 0.55, 0.0, 0.92, 1.15, 1.0, 1.2),
    "narrow": EyeShape(1.12, 0.5, 1.0, 1.2, 0.3, 0.0, 0.86, 1.35, 1.35, 0.95),
    "sleepy": EyeShape(1.04, 1.0, 0.55, 0.7, -0.3, 0.4, 1.0, 1.2, 0.95, 1.35),
}


@dataclass(frozen=True)
class Build:
    """Body widths (figure units, half-widths from the centre line) and neck of a build."""

    S: float  # shoulder
    WST: float  # waist
    HIP: float
    ARM: float  # arm (sleeve) width
    NECK: float  # neck half-width
    neck_len: float  # chin to neckline, before the head scale
    drop: float  # how far the shoulder points fall below a square shoulder line
    chest: float  # extra width at the chest (broad builds taper to the waist)


BUILD = {
    "slim": Build(6.8, 4.9, 6.3, 2.9, 1.35, 3.0, 1.5, 0.0),
    "average": Build(9.7, 7.0, 8.2, 4.1, 2.0, 1.9, 0.5, 0.3),
    "broad": Build(13.2, 10.4, 10.4, 5.6, 3.0, 0.9, -0.6, 1.0),
}


@dataclass(frozen=True)
class Face:
    """Head geometry of a face shape, in front-view units before the head map."""

    sx: float  # width of the whole head, hair included
    low: float  # stretch of the face below the eye line (long faces have long jaws)
    jaw: tuple[Pt, ...]  # right half of the jaw, from the cheekbone to the chin
    side: tuple[Pt, ...]  # profile view: the chin and jaw line back to the ear
    skull: float  # cranium half-width (front view)


FACES = {
    "oval": Face(
        1.0,
        1.0,
        ((5.25, 8.3), (5.0, 10.3), (4.2, 12.3), (2.9, 13.8), (1.3, 14.55), (0.0, 14.75)),
        ((5.0, 12.5), (4.9, 13.6), (4.2, 14.4), (2.6, 14.3), (0.6, 13.0), (-2.3, 11.2)),
        5.3,
    ),
    "round": Face(
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
    "long": Face(
        0.87,
        1.3,
        ((5.05, 8.3), (4.9, 10.6), (4.3, 12.6), (2.9, 14.2), (1.1, 14.95), (0.0, 15.1)),
        ((5.0, 12.5), (5.1, 14.0), (4.5, 14.95), (2.7, 14.7), (0.5, 13.1), (-2.2, 11.0)),
        5.15,
    ),
    "square": Face(
        1.07,
        1.04,
        ((5.35, 8.3), (5.4, 10.8), (5.25, 12.5), (4.5, 13.9), (2.6, 14.6), (0.0, 14.75)),
        ((5.1, 12.5), (5.1, 13.9), (4.6, 14.55), (2.2, 14.5), (-1.6, 13.6), (-2.4, 11.4)),
        5.4,
    ),
}


@dataclass(frozen=True)
class Garment:
    """How an outfit is cut, read from its words."""

    collar: str  # cross, mandarin, lapel, round, v, hood
    hem: float | None  # hem of a garment reaching below the hips (reference units)
    cut: str  # fitted, boxy, jacket, coat, dress, qipao, robe, vest, tunic
    sleeve: str  # long, wide, short, puffy, shirt (long sleeves of the shirt under a vest)
    hood: bool
    belt: bool


GARMENT_WORDS: list[tuple[tuple[str, ...], Garment]] = [
    (
        ("robe", "hanfu", "kimono", "gown", "monk"),
        Garment("cross", 90.0, "robe", "wide", False, True),
    ),
    (("qipao", "cheongsam"), Garment("mandarin", 86.0, "qipao", "short", False, False)),
    (("dress",), Garment("round", 80.0, "dress", "puffy", False, True)),
    (("trench", "long coat", "overcoat"), Garment("lapel", 80.0, "coat", "long", False, True)),
    (("coat", "parka", "cloak"), Garment("lapel", 74.0, "coat", "long", False, True)),
    (("hoodie",), Garment("hood", None, "boxy", "puffy", True, False)),
    (("vest", "waistcoat"), Garment("v", None, "vest", "shirt", False, False)),
    (
        ("sweater", "jumper", "knit", "cardigan"),
        Garment("round", None, "boxy", "puffy", False, False),
    ),
    (("jacket", "blazer", "suit"), Garment("lapel", None, "jacket", "long", False, False)),
    (("tunic", "martial", "wrap"), Garment("mandarin", 62.0, "tunic", "long", False, True)),
    (("uniform",), Garment("mandarin", None, "fitted", "long", False, True)),
    (("skirt",), Garment("v", 72.0, "dress", "long", False, True)),
    (("apron",), Garment("v", 66.0, "tunic", "long", False, True)),
    (("t-shirt", "tshirt", "tee"), Garment("round", None, "fitted", "short", False, False)),
]


STANCES = {"oval": "relaxed", "round": "clasped", "long": "crossed", "square": "akimbo"}
