"""Clothes read from the outfit words: collar, skirt, hood, scarf and accessories."""

from __future__ import annotations

import math

from inkreel.art.character.anatomy import Warp
from inkreel.art.character.tables import GARMENT_WORDS, Garment
from inkreel.art.geometry import ellipse, quad, round_rect, sym
from inkreel.art.ink import DisplayList, Op
from inkreel.art.palette import INK, RGB, WHITE, mix, shadow
from inkreel.schemas.design import (
    HairStyle,
)


def garment(outfit: str) -> Garment:
    """Read the cut of an outfit from its words: the first garment named decides."""
    words = outfit.lower()
    found = Garment("v", None, "fitted", "long", False, True)
    first = len(words) + 1
    for keys, g in GARMENT_WORDS:
        for k in keys:
            i = words.find(k)
            if 0 <= i < first:
                first, found = i, g
    if "hood" in words and not found.hood:
        found = Garment("hood", found.hem, found.cut, found.sleeve, True, found.belt)
    return found


def draw_collar(
    f: DisplayList,
    view: str,
    g: Garment,
    cloth: RGB,
    accent: RGB,
    inner: RGB,
    skin: RGB,
    w: Warp,
    WST: float,
) -> None:
    """Draw the collar and neckline the garment's words ask for (a side view: a trim line)."""
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
            f.stroke(w.chest([(0.0, 17.8), (0.0, 38.4)]), mix(cloth, INK, 0.45), (0.2, 0.2, 0.2))
            for j in range(4):
                f.poly(w.chest(ellipse(0.0, 21.0 + 4.6 * j, 0.55, 0.55, 8)), accent, line=0.5)
    elif collar == "lapel":
        _lapels(f, g, cloth, accent, inner, w)
    elif collar == "hood":
        f.poly(w.chest(ellipse(0.0, 16.2, 2.6, 1.3, 14, 0.0, math.pi)), skin, line=0.0)
        f.stroke(w.chest([(0.0, 17.4), (0.0, 38.4)]), mix(cloth, INK, 0.5), (0.3, 0.3, 0.3))
        for sg in (-1.0, 1.0):
            f.stroke(w.chest([(sg * 1.3, 17.2), (sg * 1.5, 24.5)]), accent, (0.35, 0.35, 0.25))
    elif collar == "round":
        f.poly(w.chest(ellipse(0.0, 16.3, 3.0, 1.6, 16, 0.0, math.pi)), skin, line=0.0)
        f.stroke(w.chest(ellipse(0.0, 16.3, 3.2, 1.8, 14, 0.0, math.pi)), accent, (0.7, 0.7, 0.7))
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


def _lapels(f: DisplayList, g: Garment, cloth: RGB, accent: RGB, inner: RGB, w: Warp) -> None:
    """Draw lapels over a shirt front, with a tie unless it is a jacket, buttons on a coat."""
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
        f.poly(w.chest(lap), mix(cloth, INK, 0.2), line=0.9)
    if g.cut == "coat":
        for j in range(2):
            for sg in (-1.0, 1.0):
                f.poly(w.chest(ellipse(sg * 2.2, 32.0 + 3.4 * j, 0.5, 0.5, 8)), accent, line=0.5)


def draw_skirt(
    f: DisplayList,
    view: str,
    g: Garment,
    cloth: RGB,
    cloth_sh: RGB,
    accent: RGB,
    pants: RGB,
    wst: float,
    HIP: float,
    w: Warp,
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
                mix(cloth, INK, 0.6),
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


def draw_hood(f: DisplayList, view: str, cloth: RGB, cloth_sh: RGB, NECK: float, w: Warp) -> None:
    """A hood lying down: a ring behind the neck, or a pouch on the upper back."""
    sh = mix(cloth, INK, 0.25)
    if view == "back":
        pts = sym([(0.0, 13.4), (4.6, 13.2), (5.6, 16.5), (4.4, 23.0), (1.6, 26.4), (0.0, 26.8)])
        f.poly(pts, cloth, sil=True, shade=(1.0, 0.0), shade_fill=cloth_sh)
        f.stroke([(0.0, 14.2), (0.0, 25.6)], sh, (0.15, 0.3, 0.15))
        f.stroke(quad((-4.0, 14.6), (0.0, 18.0), (4.0, 14.6), 9), sh, (0.12, 0.3, 0.12))
        return
    if view == "side":
        pts = [(-0.6, 12.0), (-4.6, 12.4), (-6.2, 16.0), (-5.2, 21.5), (-2.6, 20.2), (-0.6, 17.0)]
        f.poly(pts, cloth, sil=True, shade=(1.0, 0.0), shade_fill=cloth_sh)
        f.stroke([(-4.4, 13.6), (-5.0, 18.6)], sh, (0.15, 0.3, 0.15))
        return
    pts = sym(
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


def draw_scarf(f: DisplayList, view: str, accent: RGB, w: Warp) -> None:
    sh = shadow(accent)
    if view == "side":
        wrap = [(-2.4, 14.8), (2.8, 15.4), (3.6, 18.8), (-2.6, 19.2)]
        tail = [(-2.0, 17.0), (-3.8, 30.0), (-1.8, 31.0), (-0.4, 18.0)]
    else:
        wrap = sym([(0.0, 15.6), (2.6, 14.6), (4.3, 16.2), (4.1, 19.0), (0.0, 20.0)])
        tail = [(1.6, 18.0), (3.9, 18.4), (4.4, 32.0), (2.0, 31.4)]
        wrap, tail = w.head(wrap), w.body(tail)
    f.poly(tail, accent, sil=True, shade=(0.9, 0.0), shade_fill=sh)
    f.poly(wrap, accent, sil=True, shade=(1.0, 0.6), shade_fill=sh)
    f.stroke(
        [
            (x, y + 0.2)
            for x, y in quad(wrap[1], ((wrap[1][0] + wrap[2][0]) / 2, 18.0), wrap[-2], 8)
        ],
        sh,
        (0.08, 0.2, 0.08),
    )


def draw_accessories(
    f: DisplayList, view: str, acc: set[str], accent: RGB, cloth: RGB, style: HairStyle
) -> None:
    wh = Warp(view)
    if "headband" in acc:
        if view == "side":
            band = quad((4.4, 2.0), (0.6, 0.4), (-1.6, 8.6), 12)
        elif view == "back":
            band = ellipse(0.0, 6.4, 6.2, 7.3, 12, math.pi * 1.05, math.pi * 1.95)
        else:
            band = wh.head(ellipse(0.0, 6.3, 6.1, 5.4, 14, math.pi * 1.02, math.pi * 1.98))
        f.ops.append(Op(band, accent, 0.0, widths=(1.2, 1.3, 1.2)))
        if view in ("front", "three_quarter"):
            # Keep the hair box off the band: on the bangs, or where an open-browed style
            # shows solid hair (the side lock, the bun).
            box = {
                HairStyle.long: [(5.3, 12.0), (5.9, 18.0)],
                HairStyle.bun: [(-1.8, -3.6), (1.8, -1.6)],
            }.get(style, [(-4.4, 3.2), (4.4, 4.4)])
            f.marks["hair"] = wh.head(box)
    if "hat" in acc:
        hat = mix(cloth, (60, 50, 40), 0.55)
        cx = -0.3 if view == "side" else 0.0
        crown = [
            *ellipse(cx, 1.0, 5.0, 5.2, 18, math.pi, 2 * math.pi),
            (cx + 5.0, 1.8),
            (cx - 5.0, 1.8),
        ]
        f.poly(crown, hat, sil=True, shade=(1.2, 0.0), shade_fill=shadow(hat))
        f.poly(
            [(cx - 5.0, -0.2), (cx + 5.0, -0.2), (cx + 5.0, 1.6), (cx - 5.0, 1.6)], accent, line=0.8
        )
        brim = ellipse(cx + (0.8 if view == "side" else 0.0), 1.9, 8.4, 1.35, 24)
        f.poly(brim, hat, sil=True, shade=(0.0, 0.6), shade_fill=shadow(hat))
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
            lens = round_rect(lx, 8.6, lw, 3.1)
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
            f.poly(ellipse(x, y, 0.6, 0.6, 10), accent, line=0.7)
            f.poly(ellipse(x, y + 1.4, 0.45, 0.75, 10), accent, line=0.7)
