"""A whole character: the display list of a figure in a view and pose, and its sprite."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from PIL import Image

from inkreel.art.character.anatomy import (
    NECK_PIVOT,
    REST_POSE,
    Pose,
    Shape,
    View,
    Warp,
    body_shape,
    raised_arm,
    stance_arm,
    tilt_head,
)
from inkreel.art.character.face import brows, ear, face_features, face_marks, face_shape
from inkreel.art.character.hair import back_hair, front_hair
from inkreel.art.character.tables import EXPR, EYE_SHAPES, STANCES, Build, Garment
from inkreel.art.character.wardrobe import (
    draw_accessories,
    draw_collar,
    draw_hood,
    draw_scarf,
    draw_skirt,
    garment,
)
from inkreel.art.geometry import BoxT, Pt, bounds, ellipse, mirrored, round_rect, sym
from inkreel.art.ink import DisplayList, line_widths, paint_ops, to_px
from inkreel.art.palette import INK, RGB, lighten, luma, mix, parse_rgb, shadow, skin_shadow
from inkreel.schemas.design import (
    CharacterDesign,
    HairStyle,
)
from inkreel.schemas.script import Emotion


@dataclass
class _Look:
    """One figure in one view: colours, shape, garment and stance, shared by its parts."""

    f: DisplayList
    view: str
    skin: RGB
    skin_sh: RGB
    hair: RGB
    cloth: RGB
    cloth_sh: RGB
    accent: RGB
    inner: RGB  # the shirt under a jacket or a vest
    shp: Shape
    b: Build
    g: Garment
    stance: str
    w: Warp
    wst: float  # waist, as the garment's cut shapes it
    hem_y: float  # where the top garment ends
    hem_x: float

    @property
    def side(self) -> bool:
        return self.view == "side"


def _look(d: CharacterDesign, view: str) -> _Look:
    cloth = parse_rgb(d.outfit_colour, (68, 102, 136))
    shp = body_shape(d.build, d.face, d.height)
    b = shp.build
    g = garment(d.outfit)
    wst = b.WST
    if g.cut == "boxy":
        wst = max(b.WST, b.S - 2.4)
    elif g.cut == "robe":
        wst = b.WST + 0.6
    hem_y, hem_x = 50.5, b.HIP - 0.2
    if g.cut == "jacket":
        hem_y, hem_x = 53.0, b.HIP + 1.2
    elif g.cut == "boxy":
        hem_y, hem_x = 50.0, wst - 0.3
    elif g.cut == "vest":
        hem_y = 49.0
    skin = parse_rgb(d.skin, (242, 211, 179))
    return _Look(
        f=DisplayList(),
        view=view,
        skin=skin,
        skin_sh=skin_shadow(skin),
        hair=parse_rgb(d.hair_colour, (43, 43, 43)),
        cloth=cloth,
        cloth_sh=shadow(cloth),
        accent=parse_rgb(d.accent_colour, (204, 68, 68)),
        inner=mix(cloth, (248, 244, 236), 0.5),
        shp=shp,
        b=b,
        g=g,
        stance=STANCES.get(d.face, "relaxed"),
        w=Warp(view),
        wst=wst,
        hem_y=hem_y,
        hem_x=hem_x,
    )


def figure_ops(
    d: CharacterDesign,
    view: str,
    expression: Emotion,
    mouth_open: float,
    eyes_closed: bool,
    glance: float,
    pose: Pose = REST_POSE,
) -> DisplayList:
    """Build the display list of one character, facing screen right where it matters."""
    lk = _look(d, view)
    f = lk.f
    hair = lk.hair
    hair_sh = shadow(hair) if luma(hair) > 60 else mix(hair, INK, 0.6)
    back_hair(f, view, d.hair_style, hair, hair_sh, lk.accent, lk.w)  # behind everything
    back_hair_end = len(f.ops)
    _neck(lk)
    torso, legs = _body_outline(lk)
    # The gesture raises the arm nearest the camera (the only one drawn in a side view).
    lift = pose.arm if view != "back" else 0.0
    if view == "three_quarter":
        _draw_arm(lk, 1.0, lift)  # far arm, mostly behind the torso
    elif view == "back" and lk.stance in ("crossed", "clasped"):
        # seen from behind, folded forearms are hidden by the body
        _draw_arm(lk, -1.0, lift)
        _draw_arm(lk, 1.0, lift)
    _legs_and_shoes(lk, legs)
    _dress_body(lk, torso)
    _mark_outfit(lk, d.hair_style)
    if view == "three_quarter":
        _draw_arm(lk, -1.0, lift)
    elif lk.side:
        _draw_arm(lk, 1.0, lift)
    elif view != "back" or lk.stance not in ("crossed", "clasped"):
        _draw_arm(lk, -1.0, lift)
        _draw_arm(lk, 1.0, lift)
    if "scarf" in d.accessories:
        draw_scarf(f, view, lk.accent, lk.w)
    body_end = len(f.ops)
    _head(lk, d, expression, mouth_open, eyes_closed, glance)
    # front hair, brows, accessories
    style = d.hair_style
    front_hair(
        f, view, style, hair, hair_sh, lighten(hair, 0.32 if luma(hair) > 60 else 0.22), lk.skin
    )
    e = EXPR.get(expression, EXPR[Emotion.neutral])
    if view != "back":
        brow = mix(hair, INK, 0.55) if style != HairStyle.bald else (70, 50, 40)
        brows(f, view, e, brow, EYE_SHAPES.get(d.eyes, EYE_SHAPES["round"]))
    draw_accessories(f, view, set(d.accessories), lk.accent, lk.cloth, style)
    if view != "back":
        face_marks(f, view, expression)
    _proportion(lk, pose, back_hair_end, body_end)
    return f


def _neck(lk: _Look) -> None:
    f, view, NECK = lk.f, lk.view, lk.b.NECK
    if lk.g.hood and view != "back":
        draw_hood(f, view, lk.cloth, lk.cloth_sh, NECK, lk.w)
    neck = [(-NECK, 12.0), (NECK, 12.0), (NECK + 0.2, 17.6), (-NECK - 0.2, 17.6)]
    if lk.side:
        neck = [(-NECK * 0.7, 11.0), (NECK + 0.2, 12.0), (NECK + 0.4, 17.6), (-NECK * 0.9, 17.8)]
    neck = lk.w.body(neck, 0.5) if view == "three_quarter" else neck
    f.poly(neck, lk.skin, sil=True, line=0.8)
    if view != "back":
        f.poly(
            [
                (-NECK - 0.5, 12.0),
                (NECK + 0.5, 12.0),
                (NECK + 0.5, 14.9),
                (0.0, 15.6),
                (-NECK - 0.5, 14.9),
            ],
            lk.skin_sh,
            line=0.0,
            clip=neck,
        )


def _body_outline(lk: _Look) -> tuple[list[Pt], list[list[Pt]]]:
    """Return the torso (top garment) and the two legs."""
    b, wst, hem_y, hem_x = lk.b, lk.wst, lk.hem_y, lk.hem_x
    S, WST, HIP, NECK = b.S, b.WST, b.HIP, b.NECK
    dr, chest = b.drop, b.chest
    if lk.side:
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
        return torso, legs
    right = [
        (NECK + 0.45, 16.4),
        (S - 2.8, 17.4 + dr * 0.45),
        (S - 0.9, 18.5 + dr * 0.8),
        (S, 20.8 + dr),
        (S - 0.7 + chest * 0.2, 26.0),
        (wst + 0.2 + chest, 33.0),
        (wst, 40.0),
    ]
    if lk.g.cut == "vest":
        right += [(HIP - 0.4, 46.5), (hem_x - 0.6, hem_y), (0.0, hem_y + 2.6)]
        torso = right + [(-x, y) for x, y in reversed(right[:-1])]
    else:
        right += [(max(HIP, hem_x - 0.4), 48.5), (hem_x, hem_y)]
        torso = sym(right)
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
    return lk.w.body(torso), [lk.w.body(leg) for leg in legs]


_ArmParts = tuple[list[Pt], list[Pt], list[Pt], list[Pt] | None]  # sleeve, cuff, hand, forearm


def _sleeve_cut(
    sleeve: str, sl: list[Pt], cx: float, half: float, side: bool
) -> tuple[list[Pt], list[Pt], list[Pt] | None]:
    """Return (sleeve, cuff, bare forearm or None) of a hanging arm cut as `sleeve`."""
    tail = [sl[-1]] if not side else []
    if sleeve == "wide":
        # bell sleeve: opens wide at the wrist, the hand peeks out
        opening = [
            (cx + half + 1.6, 36.0),
            (cx + half + 2.4, 45.5),
            (cx - half - 0.9, 46.2),
            (cx - half - 0.4, 36.0),
        ]
        cuff = [
            (cx + half + 2.2, 44.0),
            (cx + half + 2.4, 45.5),
            (cx - half - 0.9, 46.2),
            (cx - half - 0.8, 44.6),
        ]
        return sl[:3] + opening + tail, cuff, None
    if sleeve == "puffy":
        opening = [
            (cx + half + 1.1, 32.0),
            (cx + half + 0.3, 42.5),
            (cx - half + 0.3, 43.0),
            (cx - half - 0.8, 32.0),
        ]
        cuff = [
            (cx + half + 0.3, 42.0),
            (cx + half - 0.1, 45.2),
            (cx - half + 0.5, 45.5),
            (cx - half + 0.3, 42.3),
        ]
        return sl[:3] + opening + tail, cuff, None
    if sleeve == "short":
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
        return [*sl[:3], (cx + half + 0.6, 27.5), (cx - half - 0.4, 28.2), *tail], cuff, bare
    cuff = [
        (cx + half + 0.0, 43.3),
        (cx + half - 0.1, 45.0),
        (cx - half + 0.15, 45.5),
        (cx - half + 0.1, 43.6),
    ]
    return sl, cuff, None


def _hanging_arm(lk: _Look, sg: float) -> _ArmParts:
    """Return (sleeve, cuff, hand, bare forearm or None) of an arm at rest."""
    b, view, side, w = lk.b, lk.view, lk.side, lk.w
    a, S, dr = b.ARM, b.S, b.drop
    shift = -1.6 if (view == "three_quarter" and sg > 0) else 0.0
    if lk.stance != "relaxed":
        parts = stance_arm(lk.stance, view, sg, b, lk.wst, lk.g.sleeve)
        if side:
            return parts
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
        hand = ellipse(ax + 0.7, 47.3, 1.6, 2.4, 16)
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
        hand = ellipse(S + 0.45, 47.4, 1.65, 2.4, 16)
        cx, half = S + 0.4, a * 0.48
    sl, cuff, bare = _sleeve_cut(lk.g.sleeve, sl, cx, half, side)
    if sg < 0 and not side:
        sl, cuff, hand = mirrored(sl), mirrored(cuff), mirrored(hand)
        bare = mirrored(bare) if bare else None
    if side:
        return sl, cuff, hand, bare
    return (
        w.body(sl, shift),
        w.body(cuff, shift),
        w.body(hand, shift),
        w.body(bare, shift) if bare else None,
    )


def _draw_arm(lk: _Look, sg: float, lift: float) -> None:
    """Draw one arm (sg: -1 screen left, +1 right), raised by `lift` if it is the gesturing one."""
    f, w, b, skin, skin_sh = lk.f, lk.w, lk.b, lk.skin, lk.skin_sh
    raised = 1.0 if lk.view in ("front", "side") else -1.0
    if lift > 0 and sg == raised:
        sl, cuff, hand, bare = raised_arm(sg, lift, b.S, b.ARM, lk.side, lk.g.sleeve, b.drop)
        shift = -1.6 if (lk.view == "three_quarter" and sg > 0) else 0.0
        sl, cuff, hand = w.body(sl, shift), w.body(cuff, shift), w.body(hand, shift)
        bare = w.body(bare, shift) if bare else None
    else:
        sl, cuff, hand, bare = _hanging_arm(lk, sg)
    if bare:
        f.poly(bare, skin, sil=True, shade=(0.6, 0.0), shade_fill=skin_sh)
    f.poly(hand, skin, sil=True, shade=(0.6, 0.4), shade_fill=skin_sh)
    if lift >= 0.5 and sg == raised:
        # curled fingers: a clenched fist, not a ball
        hx0, hy0, hx1, hy1 = bounds(hand)
        for j in range(3):
            y = hy0 + (hy1 - hy0) * (0.3 + 0.2 * j)
            f.stroke(
                [(hx0 + (hx1 - hx0) * 0.3, y), (hx0 + (hx1 - hx0) * 0.78, y + 0.15)],
                mix(skin_sh, INK, 0.35),
                (0.12, 0.2, 0.12),
            )
    shirt = lk.g.sleeve == "shirt"
    sleeve_c = lk.inner if shirt else lk.cloth
    sleeve_sh = skin_shadow(lk.inner) if shirt else lk.cloth_sh
    cuff_c = mix(lk.inner, INK, 0.12) if shirt else lk.accent
    f.poly(sl, sleeve_c, sil=True, shade=(1.2, 0.0), shade_fill=sleeve_sh)
    f.poly(cuff, cuff_c, line=0.8)


_SHOES: RGB = (52, 42, 44)


def _legs_and_shoes(lk: _Look, legs: list[list[Pt]]) -> None:
    pants = mix(lk.cloth, INK, 0.5)
    for i, leg in enumerate(legs):
        lk.f.poly(leg, pants, sil=True, shade=(1.0, 0.0), shade_fill=shadow(pants))
        if lk.view in ("three_quarter", "side"):
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
            shoe = lk.w.body(shoe)
        lk.f.poly(shoe, _SHOES, sil=True, shade=(0.8, 0.6), shade_fill=mix(_SHOES, INK, 0.5))


def _dress_body(lk: _Look, torso: list[Pt]) -> None:
    """Draw the long garment, the top garment with its cut's details, collar, hood and belt."""
    f, view, g, w = lk.f, lk.view, lk.g, lk.w
    cloth, cloth_sh, accent, hem_x, hem_y = lk.cloth, lk.cloth_sh, lk.accent, lk.hem_x, lk.hem_y
    if g.hem is not None:  # long garment over the legs
        pants = mix(cloth, INK, 0.5)
        draw_skirt(f, view, g, cloth, cloth_sh, accent, pants, lk.wst, lk.b.HIP, w)
    f.poly(torso, cloth, sil=True, shade=(1.8, 0.0), shade_fill=cloth_sh)
    if g.cut == "boxy" and view != "side":
        band = w.body(
            [(-hem_x, hem_y - 3.0), (hem_x, hem_y - 3.0), (hem_x, hem_y), (-hem_x, hem_y)]
        )
        f.poly(band, mix(cloth, INK, 0.18), line=0.8)
        for j in range(1, 9):
            x = -hem_x + 2 * hem_x * j / 9
            f.stroke(w.body([(x, hem_y - 2.7), (x, hem_y - 0.3)]), cloth_sh, (0.1, 0.16, 0.1))
    if g.cut == "jacket" and view in ("front", "three_quarter"):
        # open front: the shirt shows between the jacket's edges
        f.poly(
            w.chest([(-1.2, 24.0), (1.2, 24.0), (2.1, hem_y + 0.2), (-2.1, hem_y + 0.2)]),
            lk.inner,
            line=0.8,
        )
    if g.cut == "vest" and view in ("front", "three_quarter"):
        for j in range(3):
            f.poly(w.chest(ellipse(-0.6, 31.0 + 4.5 * j, 0.45, 0.45, 8)), accent, line=0.5)
    draw_collar(f, view, g, cloth, accent, lk.inner, lk.skin, w, lk.b.WST)
    if g.hood and view == "back":
        draw_hood(f, view, cloth, cloth_sh, lk.b.NECK, w)
    if g.belt:
        _belt(lk)


def _belt(lk: _Look) -> None:
    """Draw the sash or belt, with a buckle on a coat."""
    f, view, g, w, wst, accent = lk.f, lk.view, lk.g, lk.w, lk.wst, lk.accent
    top, bot = (37.8, 43.0) if g.cut == "robe" else (38.6, 42.2)
    if lk.side:
        sash = [(3.2, top + 0.2), (3.1, bot), (-3.5, bot), (-3.4, top + 0.2)]
    else:
        sash = w.body([(-wst - 0.2, top), (wst + 0.2, top), (wst + 0.25, bot), (-wst - 0.25, bot)])
    f.poly(sash, accent, shade=(0.0, -0.8), shade_fill=shadow(accent))
    if g.cut == "coat" and view in ("front", "three_quarter"):
        f.poly(
            w.chest(round_rect(0.0, (top + bot) / 2, 2.2, bot - top + 0.8)),
            mix(accent, INK, 0.35),
            line=0.7,
        )


def _mark_outfit(lk: _Look, style: HairStyle) -> None:
    """Mark where the outfit's colour shows best in this view (what the checks sample)."""
    f, view, w, WST, stance = lk.f, lk.view, lk.w, lk.b.WST, lk.stance
    if lk.side:
        f.mark("outfit", [(-2.6, 23.0), (2.6, 37.5)])
    elif view == "back" and style == HairStyle.long:
        # long hair covers the upper back: the outfit shows below the sash
        f.mark("outfit", [(-WST + 0.8, 43.0), (WST - 0.8, 48.0)])
    elif view == "back" and lk.g.hood:
        f.mark("outfit", [(-WST + 0.8, 28.0), (WST - 0.8, 37.5)])
    elif stance == "crossed" and view != "back":
        f.mark("outfit", w.body([(-WST + 0.8, 35.0), (WST - 0.8, 47.0)]))
    elif stance == "clasped" and view != "back":
        f.mark("outfit", w.body([(-WST + 0.8, 22.5), (WST - 0.8, 30.5)]))
    elif lk.g.cut == "vest" and view == "front":
        f.mark("outfit", [(-WST + 0.8, 25.0), (-2.6, 37.5)])
    else:
        f.mark("outfit", w.body([(-WST + 0.8, 23.0), (WST - 0.8, 37.5)]))


def _head(
    lk: _Look,
    d: CharacterDesign,
    expression: Emotion,
    mouth_open: float,
    eyes_closed: bool,
    glance: float,
) -> None:
    """Draw the ears, the face and its features."""
    f, view, skin, skin_sh = lk.f, lk.view, lk.skin, lk.skin_sh
    face = face_shape(view, d.face)
    if view == "front":
        ear(f, -5.2, 8.9, skin, skin_sh, -1.0)
        ear(f, 5.2, 8.9, skin, skin_sh, 1.0)
    f.poly(
        face, skin, sil=True, shade=(1.3, 0.6) if view != "side" else (0.0, 0.9), shade_fill=skin_sh
    )
    if view == "three_quarter":
        ear(f, -4.7, 8.9, skin, skin_sh, 1.0)
    if view == "side":
        ear(f, -0.6, 8.8, skin, skin_sh, -1.0)
    if view == "back":
        return
    # The face box holds the eyes, nose and mouth (in profile the lips reach past 5).
    fx0, fx1 = {"front": (-4.3, 4.3), "three_quarter": (-3.8, 4.0), "side": (0.6, 5.6)}[view]
    f.mark("face", [(fx0, 6.0), (fx1, 14.0)])
    face_features(
        f,
        d,
        view,
        EXPR.get(expression, EXPR[Emotion.neutral]),
        expression,
        mouth_open,
        eyes_closed,
        glance,
        face,
        skin,
        skin_sh,
        parse_rgb(d.eye_colour, (59, 42, 26)),
        lk.hair,
    )


def _proportion(lk: _Look, pose: Pose, back_hair_end: int, body_end: int) -> None:
    """Move head and body to where this design's shape puts them, then tilt the head."""
    f, shp = lk.f, lk.shp
    for i, op in enumerate(f.ops):
        m = shp.body if back_hair_end <= i < body_end else shp.head
        op.pts = m(op.pts)
        if op.clip is not None:
            op.clip = m(op.clip)
    for tag, pts in f.marks.items():
        f.marks[tag] = shp.body(pts) if tag == "outfit" else shp.head(pts)
    if pose.tilt and lk.view != "back":
        pivot = (0.0, shp.head_y(NECK_PIVOT[1]))
        tilt_head(f, pose.tilt, [*range(back_hair_end), *range(body_end, len(f.ops))], pivot)


def marks_px(fig: DisplayList, fx: float, fy: float, k: float, mirror: bool) -> dict[str, BoxT]:
    sgn = -1.0 if mirror else 1.0
    out: dict[str, BoxT] = {}
    for tag, pts in fig.marks.items():
        px = to_px(pts, fx, fy, k, sgn)
        b = bounds(px)
        out[tag] = (math.floor(b[0]), math.floor(b[1]), math.ceil(b[2]), math.ceil(b[3]))
    allp: list[Pt] = []
    for op in fig.ops:
        allp.extend(op.pts)
    b = bounds(to_px(allp, fx, fy, k, sgn))
    out["all"] = (math.floor(b[0]), math.floor(b[1]), math.ceil(b[2]), math.ceil(b[3]))
    return out


@dataclass(frozen=True)
class Figure:
    """A rendered character sprite."""

    image: Image.Image  # RGBA, transparent background, tightly cropped around the figure
    face: tuple[int, int, int, int]  # boxes in sprite pixel coords (x0, y0, x1, y1)
    hair: tuple[int, int, int, int]
    outfit: tuple[int, int, int, int]
    mouth: tuple[int, int, int, int]
    feet_y: int  # y of the soles in sprite coords (the figure stands there)


def view_params(view: str, facing: str) -> tuple[bool, float]:
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
    mirror, glance = view_params(view, facing)
    fig = figure_ops(design, view, expression, mouth_open, eyes_closed, glance)
    at = _placed(fig, height_px, mirror)
    return _sprite(fig, at, _painted(fig, at), height_px, view)[0]


def render_face_region(
    design: CharacterDesign,
    *,
    height_px: int,
    expression: Emotion,
    region: Callable[[BoxT], BoxT],
) -> Image.Image:
    """`render_figure(...).image.crop(region(face))` of the front view, with the colours
    painted only around that region (the alpha, and so the sprite's crop, stay whole): a
    sheet's expression head keeps about a twentieth of a 1300 px figure."""
    mirror, glance = view_params("front", "front")
    fig = figure_ops(design, "front", expression, 0.0, False, glance)
    at = _placed(fig, height_px, mirror)
    # Where the region falls before the sprite is cropped to its alpha, with a margin for the
    # crop's rounding; checked against where it really falls below.
    guess = region(marks_px(fig, at.fx, at.fy, at.k, mirror)["face"])
    near = (guess[0] - 2, guess[1] - 2, guess[2] + 2, guess[3] + 2)
    sprite, (dx, dy) = _sprite(fig, at, _painted(fig, at, near), height_px, "front")
    crop = region(sprite.face)
    if not _covers(near, (crop[0] + dx, crop[1] + dy, crop[2] + dx, crop[3] + dy), at.window):
        sprite = _sprite(fig, at, _painted(fig, at), height_px, "front")[0]
    return sprite.image.crop(crop)


def _covers(outer: BoxT, inner: BoxT, window: BoxT) -> bool:
    """Whether `outer` holds every pixel of `inner` that lies in `window`."""
    x0, y0 = max(inner[0], window[0]), max(inner[1], window[1])
    x1, y1 = min(inner[2], window[2]), min(inner[3], window[3])
    if x1 <= x0 or y1 <= y0:
        return True
    return outer[0] <= x0 and outer[1] <= y0 and x1 <= outer[2] and y1 <= outer[3]


@dataclass(frozen=True)
class _Placement:
    """Where a figure's display list lands on its painting window."""

    k: float
    fx: float
    fy: float
    mirror: bool
    window: BoxT


def _placed(fig: DisplayList, height_px: int, mirror: bool) -> _Placement:
    k = height_px / 100.0
    pad = math.ceil(line_widths(height_px)[1]) + 2
    ax0, ay0, ax1, ay1 = marks_px(fig, 0.0, 0.0, k, mirror)["all"]
    window = (0, 0, ax1 - ax0 + 2 * pad, ay1 - ay0 + 2 * pad)
    return _Placement(k, float(pad - ax0), float(pad - ay0), mirror, window)


def _painted(fig: DisplayList, at: _Placement, colour_box: BoxT | None = None) -> Image.Image:
    return paint_ops(
        fig, fx=at.fx, fy=at.fy, k=at.k, mirror=at.mirror, window=at.window, colour_box=colour_box
    )


def _sprite(
    fig: DisplayList, at: _Placement, img: Image.Image, height_px: int, view: View
) -> tuple[Figure, tuple[int, int]]:
    """The painted figure cropped to its alpha, with its boxes; and the crop's offset."""
    bbox = img.getchannel("A").getbbox() or (0, 0, img.width, img.height)
    img = img.crop(bbox)
    dx, dy = bbox[0], bbox[1]
    marks = marks_px(fig, at.fx - dx, at.fy - dy, at.k, at.mirror)

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
    grow = math.ceil(line_widths(height_px)[0]) + 1
    figure = Figure(
        image=img,
        face=box("face"),
        hair=box("hair"),
        outfit=box("outfit"),
        mouth=box("mouth", grow) if view != "back" else (0, 0, 0, 0),
        feet_y=round(at.fy - dy),
    )
    return figure, (dx, dy)
