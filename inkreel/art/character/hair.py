"""Hair: the back mass, the cap over the skull and the bangs, by hair style."""

from __future__ import annotations

import math

from inkreel.art.character.anatomy import Warp
from inkreel.art.geometry import Pt, bounds, ellipse, quad, sym
from inkreel.art.ink import DisplayList
from inkreel.art.palette import RGB, lighten
from inkreel.schemas.design import (
    HairStyle,
)


def bang_edge(view: str, style: HairStyle) -> list[Pt]:
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
        return Warp(view).head(pts)
    if view == "side":
        return [(4.9, 3.0), (4.4, 6.0), (3.6, 4.6), (3.1, 6.6), (2.2, 4.4), (1.6, 5.6)]
    return pts


def back_hair(
    f: DisplayList, view: str, style: HairStyle, hair: RGB, hair_sh: RGB, accent: RGB, w: Warp
) -> None:
    """Draw the hair behind the head: its mass, a ponytail or a bun, with their ties."""
    if style == HairStyle.bald:
        return
    sh = (1.4, 0.0)
    if view == "side":
        _profile_back_hair(f, style, hair, hair_sh, accent)
        return
    if view == "back":
        return  # the back view draws all its hair in front of the head
    if style == HairStyle.long:
        pts = sym([(0.0, -0.6), (6.3, 5.0), (7.6, 18.0), (8.3, 33.0), (5.6, 37.5), (0.0, 36.0)])
    elif style == HairStyle.bob:
        pts = sym([(0.0, -0.6), (6.4, 5.0), (6.9, 12.0), (6.6, 15.2), (0.0, 15.0)])
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
        tie = ellipse(5.2, 4.2, 1.0, 1.4, 10)
        if view == "three_quarter":
            tail, tie = [(-x - 0.8, y) for x, y in tail], [(-x - 0.8, y) for x, y in tie]
        f.poly(tail, hair, sil=True, shade=sh, shade_fill=hair_sh)
        f.poly(tie, accent, line=0.8)
        pts = ellipse(0.0, 6.2, 6.0, 6.9, 24)
    elif style == HairStyle.bun:
        f.poly(
            w.head(ellipse(0.0, -1.0, 3.3, 3.0, 20)),
            hair,
            sil=True,
            shade=(0.8, 0.8),
            shade_fill=hair_sh,
        )
        f.stroke(w.head([(-4.2, -2.4), (3.4, 0.6)]), accent, (0.35, 0.35, 0.35))
        pts = ellipse(0.0, 6.2, 6.0, 6.9, 24)
    else:
        pts = sym([(0.0, -0.8), (6.1, 5.0), (6.2, 10.0), (5.0, 11.8), (0.0, 12.0)])
    if view == "three_quarter":
        pts = [(x - 0.6, y) for x, y in w.head(pts)]
    f.poly(pts, hair, sil=True, shade=sh, shade_fill=hair_sh)


def _profile_back_hair(
    f: DisplayList, style: HairStyle, hair: RGB, hair_sh: RGB, accent: RGB
) -> None:
    """Draw the hair behind the head in profile: long hair, a ponytail or a bun."""
    sh = (1.4, 0.0)
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
        f.poly(ellipse(-5.6, 4.6, 0.9, 1.3, 10), accent, line=0.8)
    elif style == HairStyle.bun:
        f.poly(
            ellipse(-4.6, 1.6, 3.0, 3.0, 20),
            hair,
            sil=True,
            shade=(0.8, 0.8),
            shade_fill=hair_sh,
        )
        f.stroke([(-7.8, -0.8), (-1.6, 3.4)], accent, (0.35, 0.35, 0.35))


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
        return arc + inner + bang_edge(view, style)[::-1][:-1]
    if view == "back":
        if style == HairStyle.long:
            pts = sym(
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
            pts = sym([(0.0, -0.9), (6.1, 3.0), (6.6, 9.0), (6.9, 15.0), (3.0, 15.4), (0.0, 15.0)])
        else:
            body = ellipse(0.0, 6.4, 6.1, 7.2, 32, math.pi * 0.62, math.pi * 2.38)
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
    pts = arc + right + bang_edge("front", style) + left
    if view == "three_quarter":
        # The back of the head shows hair down to the nape on the far side.
        back = [(-3.6, 10.0), (-4.7, 12.6), (-6.1, 10.4)]
        if style == HairStyle.bob:
            back = [(-3.2, 11.0), (-4.0, 15.2), (-6.9, 15.0), (-6.6, 9.0)]
        pts = Warp(view).head(arc + right + bang_edge("front", style)) + back
    return pts


def front_hair(
    f: DisplayList,
    view: str,
    style: HairStyle,
    hair: RGB,
    hair_sh: RGB,
    hair_hi: RGB,
    skin: RGB,
) -> None:
    if style == HairStyle.bald:
        top = ellipse(
            -0.3 if view == "side" else 0.0, 3.2, 2.6, 1.2, 16, math.pi * 1.1, math.pi * 1.6
        )
        f.stroke(top, lighten(skin, 0.55), (0.1, 0.5, 0.1))
        return
    cap = _cap(view, style)
    if view == "back" and style == HairStyle.ponytail:
        f.poly(
            ellipse(0.0, 6.4, 6.1, 7.2, 28), hair, sil=True, shade=(1.4, 0.6), shade_fill=hair_sh
        )
        tail = [(-1.4, 5.0), (1.4, 5.0), (2.6, 18.0), (1.4, 31.0), (-1.0, 31.0), (-2.4, 18.0)]
        f.poly(tail, hair, sil=True, shade=(1.0, 0.0), shade_fill=hair_sh)
        f.poly(ellipse(0.0, 5.4, 1.4, 0.9, 12), (200, 60, 60), line=0.8)
    elif view == "back" and style == HairStyle.bun:
        f.poly(
            ellipse(0.0, 0.6, 3.3, 3.0, 20), hair, sil=True, shade=(0.8, 0.8), shade_fill=hair_sh
        )
    f.poly(cap, hair, sil=True, shade=(1.5, 0.7), shade_fill=hair_sh)
    # hair box: the cap above the bangs, where the pixels are mostly hair
    bx = bounds(cap)
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
    outer = ellipse(cx, 6.3, 4.9, 5.6, 14, a0, a1)
    inner_pts = []
    for i, (x, y) in enumerate(reversed(ellipse(cx, 6.3, 4.2, 4.7, 14, a0, a1))):
        inner_pts.append((x, y + (0.35 if i % 2 else -0.1)))
    f.poly(outer + inner_pts, hair_hi, line=0.0, clip=cap)
    # a few strand lines
    for i, (x, y) in enumerate(bang_edge(view, style)[1:-1]):
        if i % 2 == 1 or view == "back":
            continue
        f.stroke(
            quad((x * 0.3 + cx, 0.6), (x * 0.8, y * 0.45), (x, y - 0.3), 7),
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
                lock = Warp(view).head(lock)
            f.poly(lock, hair, sil=True, shade=(0.5, 0.0), shade_fill=hair_sh)
