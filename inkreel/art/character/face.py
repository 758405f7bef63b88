"""Faces: head shapes, ears, eyes, brows, mouths and expression marks."""

from __future__ import annotations

import math

import numpy as np

from inkreel.art.character.anatomy import Warp
from inkreel.art.character.hair import bang_edge
from inkreel.art.character.tables import EYE_SHAPES, FACES, Expr, EyeShape
from inkreel.art.geometry import Pt, bounds, ellipse, quad, sym
from inkreel.art.ink import DisplayList
from inkreel.art.palette import INK, RGB, WHITE, lighten, luma, mix
from inkreel.schemas.design import (
    CharacterDesign,
    HairStyle,
)
from inkreel.schemas.script import Emotion

MOUTH_LEVELS = 4


def face_shape(view: str, face: str = "oval") -> list[Pt]:
    fc = FACES.get(face, FACES["oval"])
    if view == "side":
        skull = ellipse(-0.3, 6.3, 5.6, 6.5, 16, -math.pi / 2, -math.pi * 1.22)
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
        top = ellipse(-0.3, 6.3, 5.6, 6.5, 10, -math.pi / 2, -math.pi / 2 + 0.75)
        return top + front + skull
    if view == "back":
        return ellipse(0.0, 6.6, 5.4, 7.2, 28)
    right = [*ellipse(0.0, 6.3, fc.skull, 6.4, 12, -math.pi / 2, 0.0)[:-1], *fc.jaw]
    pts = sym(right)[:-1]
    if view == "three_quarter":
        pts = Warp(view).head(pts)
    return pts


def ear(f: DisplayList, x: float, y: float, skin: RGB, skin_sh: RGB, sg: float) -> None:
    pts = ellipse(x + sg * 0.25, y, 0.95, 1.55, 14)
    f.poly(pts, skin, sil=True, shade=(0.4, 0.3), shade_fill=skin_sh)
    f.stroke(
        quad((x + sg * 0.5, y - 0.8), (x - sg * 0.1, y), (x + sg * 0.4, y + 0.8), 6),
        skin_sh,
        (0.2, 0.3, 0.2),
    )


def _eye(
    f: DisplayList,
    ex: float,
    ey: float,
    ew: float,
    e: Expr,
    iris_c: RGB,
    closed: bool,
    glance: float,
    inner: float,
    es: EyeShape = EYE_SHAPES["round"],
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
    _iris(f, ex + glance * ew * 0.18, ey, ew, e, es, iris_c, white)
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
        f.stroke(crease, mix(INK, iris_c, 0.35), (0.05, 0.16, 0.05))
    low = [(x, y) for x, y in bot_pts]
    low = low[2:8] if inner > 0 else low[5:11]
    f.stroke(low, mix(INK, iris_c, 0.3), (0.06, 0.2 if es.h < 1.1 else 0.26, 0.06))
    f.mark("eyes", box)


def _iris(
    f: DisplayList,
    icx: float,
    ey: float,
    ew: float,
    e: Expr,
    es: EyeShape,
    iris_c: RGB,
    white: list[Pt],
) -> None:
    """Draw the iris, pupil and highlights centred at x `icx`, clipped to the eye's white."""
    irx = ew * 0.31 * e.iris * es.iris
    iry = 2.75 * 0.47 * max(e.iris, 0.78) * es.iris * max(0.85, min(es.h, 1.15))
    icy = ey + 0.15 + (0.25 * es.lid * es.h if es.lid else 0.0)
    iris = ellipse(icx, icy, irx, iry, 20)
    f.poly(iris, iris_c, line=0.0, shade=(0.0, -0.8), shade_fill=mix(iris_c, INK, 0.55), clip=white)
    f.poly(
        ellipse(icx, icy + 0.1, irx * 0.48, iry * 0.5, 14),
        mix(iris_c, INK, 0.8),
        line=0.0,
        clip=white,
    )
    hl = irx * (0.44 if es.h > 1.1 else 0.38)
    f.poly(
        ellipse(icx - irx * 0.4, icy - iry * 0.42, hl, hl, 10),
        WHITE,
        line=0.0,
        clip=white,
    )
    f.poly(
        ellipse(icx + irx * 0.38, icy + iry * 0.4, irx * 0.18, irx * 0.18, 8),
        WHITE,
        line=0.0,
        clip=white,
    )
    if es.h > 1.1:
        # big manhua eyes: a sparkle in the lower iris
        f.poly(
            ellipse(icx - irx * 0.15, icy + iry * 0.55, irx * 0.3, iry * 0.12, 10),
            lighten(iris_c, 0.55),
            line=0.0,
            clip=white,
        )


def face_features(
    f: DisplayList,
    d: CharacterDesign,
    view: str,
    e: Expr,
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
        band = [(x, y + 1.0) for x, y in bang_edge(view, d.hair_style)]
        band = band + [(x, y - 3.0) for x, y in reversed(band)]
        f.poly(band, skin_sh, line=0.0, clip=face)
    if expression == Emotion.happy or expression == Emotion.sad:
        _blush(f, view, skin, face)
    es = EYE_SHAPES.get(d.eyes, EYE_SHAPES["round"])
    if view == "front":
        _eye(f, -2.45, 8.4, 3.2, e, eye, eyes_closed, glance, 1.0, es)
        _eye(f, 2.45, 8.4, 3.2, e, eye, eyes_closed, glance, -1.0, es)
        f.stroke([(0.35, 10.3), (0.15, 11.0), (-0.25, 11.15)], skin_sh, (0.12, 0.28, 0.12))
        mx = 0.0
    elif view == "three_quarter":
        _eye(f, -1.15, 8.4, 3.2, e, eye, eyes_closed, 0.6, 1.0, es)
        _eye(f, 3.05, 8.4, 2.3, e, eye, eyes_closed, 0.6, -1.0, es)
        f.stroke(
            [(1.85, 9.2), (2.2, 10.7), (1.6, 11.1)], mix(skin_sh, INK, 0.25), (0.12, 0.25, 0.15)
        )
        mx = 1.3
    else:
        _eye(f, 3.55, 8.4, 1.7, e, eye, eyes_closed, 1.0, 1.0, es)
        mx = 4.55
    if "beard" in d.accessories:
        _beard(f, view, hair, mx)
    _mouth(f, view, e, expression, mouth_open, mx, 12.35, tag="mouth")
    # The mouth box covers both extremes so a mouth patch can be swapped without seams.
    g = DisplayList()
    _mouth(g, view, e, expression, 1.0, mx, 12.35, tag="mouth")
    _mouth(g, view, e, expression, 0.0, mx, 12.35, tag="mouth")
    f.mark("mouth", g.marks["mouth"])


def _blush(f: DisplayList, view: str, skin: RGB, face: list[Pt]) -> None:
    """Blush the cheeks, with the hatching manhua puts over a blush."""
    cheeks = [(-3.2, 10.7), (3.3, 10.7)] if view == "front" else [(-1.2, 10.8), (3.6, 10.9)]
    if view == "side":
        cheeks = [(2.6, 10.8)]
    blush = mix(skin, (240, 120, 130), 0.45)
    for cx, cy in cheeks:
        f.poly(ellipse(cx, cy, 1.2, 0.55, 14), blush, line=0.0, clip=face)
        for j in range(3):
            x = cx - 0.6 + j * 0.55
            f.stroke(
                [(x + 0.25, cy - 0.3), (x - 0.15, cy + 0.3)],
                mix(blush, INK, 0.3),
                (0.08, 0.12, 0.08),
            )


def _beard(f: DisplayList, view: str, hair: RGB, mx: float) -> None:
    """Draw a beard and moustache (`mx`: the mouth's x in this view)."""
    bc = hair if luma(hair) < 200 else (120, 110, 100)
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
        beard = sym(
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
        must = sym([(0.0, 11.4), (1.0, 11.2), (2.0, 11.9), (1.3, 12.2), (0.0, 11.9)])
        if view == "three_quarter":
            beard = Warp(view).head(beard)
            must = [(x + mx, y) for x, y in must]
    f.poly(beard, bc, sil=True, shade=(0.8, 0.6), shade_fill=mix(bc, INK, 0.4))
    f.poly(must, bc, line=0.7)


def _mouth(
    f: DisplayList,
    view: str,
    e: Expr,
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
        f.stroke(pts, mix(INK, lip, 0.25), (0.12, 0.32, 0.12), tag=tag)
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
        poly = ellipse(mx, cy, mw / 2, depth / 2 + 0.15, 18)
    else:
        poly = tp + bp
    f.poly(poly, (112, 32, 44), line=0.8, tag=tag)
    pb = bounds(poly)
    if depth > 0.9:
        f.poly(
            ellipse((pb[0] + pb[2]) / 2, pb[3] - 0.1, (pb[2] - pb[0]) * 0.3, depth * 0.28, 14),
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


def brows(
    f: DisplayList, view: str, e: Expr, colour: RGB, es: EyeShape = EYE_SHAPES["round"]
) -> None:
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
        pts = quad(p_in, mid, p_out, 9)
        f.stroke(pts, colour, (wb * 1.25, wb, wb * 0.3))


def face_marks(f: DisplayList, view: str, expression: Emotion) -> None:
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
                quad(
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
        tear = [(x, y - 0.5), *ellipse(x, y + 0.45, 0.42, 0.45, 12, -0.35, math.pi + 0.35)[::-1]]
        f.poly(tear, (200, 230, 250), line=0.6)
