"""Set elements: windows, doors, lamps, shelves, plants, trees, buildings and the rest."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from inkreel.art.geometry import ellipse, quad
from inkreel.art.palette import INK, RGB, lighten, mix, shadow
from inkreel.art.set.pen import Ambience, Pen
from inkreel.schemas.design import (
    SetElement,
)


def _greenish(c: RGB) -> bool:
    return c[1] > c[0] + 10 and c[1] >= c[2]


def _draw_window(pen: Pen, el: SetElement, c: RGB, ctx: Ambience) -> None:
    fu, fv = min(0.2, 0.09 / el.width), min(0.2, 0.09 / el.height)
    pen.rect(0, 0, 1, 1, c)
    pen.rect(0, 0, 1, fv * 1.4, lighten(c, 0.15))
    g0u, g0v, g1u, g1v = fu, fv * 1.4 + fv * 0.6, 1 - fu, 1 - fv
    if ctx.glow_windows:
        glass: RGB = (255, 214, 140)
    elif ctx.night:
        glass = mix(ctx.sky, INK, 0.25)
    else:
        glass = lighten(ctx.sky, 0.25)
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
                lighten(glass, 0.4),
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


def _draw_door(pen: Pen, el: SetElement, c: RGB, ctx: Ambience) -> None:
    pen.rect(0, 0, 1, 1, c, line=0)
    pen.rect(0.8, 0, 1, 1, shadow(c), line=0, tone=0.5)
    panel = mix(c, INK, 0.16)
    pen.rect(0.14, 0.06, 0.74, 0.44, panel, line=0.6)
    pen.rect(0.14, 0.52, 0.74, 0.93, panel, line=0.6)
    pen.rect(0.8, 0.06, 0.86, 0.93, None, line=0.4)
    pen.ell(0.86, 0.48, 0.045, 0.045 * pen.wpx / max(pen.hpx, 1), (214, 176, 84), line=0.6)
    pen.rect(0, 0, 1, 1, None)


def _draw_column(pen: Pen, el: SetElement, c: RGB, ctx: Ambience) -> None:
    pen.rect(0.12, 0.06, 0.88, 0.92, c, line=0)
    pen.rect(0.62, 0.06, 0.88, 0.92, shadow(c), line=0, tone=0.45)
    pen.rect(0.22, 0.06, 0.3, 0.92, lighten(c, 0.25), line=0)
    pen.rect(0.12, 0.06, 0.88, 0.92, None)
    pen.rect(0, 0.92, 1, 1, lighten(c, 0.12))
    pen.rect(0.04, 0, 0.96, 0.06, mix(c, INK, 0.2))


def _draw_lamp(pen: Pen, el: SetElement, c: RGB, ctx: Ambience) -> None:
    on = ctx.light.practicals_on
    body = lighten(c, 0.25) if on else c
    gold = (206, 164, 72)
    if el.y >= 1.2:
        pen.line([(0.5, 1.0), (0.5, 1.0 + 3.0 / max(el.height, 0.1))], 0.5)
        pen.ell(0.5, 0.5, 0.5, 0.4, body, emit=on)
        if not on:
            pen.poly(
                ellipse(0.5, 0.5, 0.5, 0.4, 20, -math.pi / 2, math.pi / 2),
                shadow(c),
                line=0,
                tone=0.4,
            )
        for du in (-0.28, 0.0, 0.28):
            pen.line(
                quad((0.5 + du * 0.6, 0.88), (0.5 + du * 1.35, 0.5), (0.5 + du * 0.6, 0.12), 8),
                0.35,
                mix(c, INK, 0.4),
            )
        pen.ell(0.5, 0.5, 0.5, 0.4, None)
        pen.rect(0.3, 0.86, 0.7, 1.0, gold)
        pen.rect(0.32, 0.0, 0.68, 0.13, gold)
        glow_v = 0.5
    else:
        pen.ell(0.5, 0.03, 0.28, 0.03, mix(c, INK, 0.3))
        pen.rect(0.47, 0.04, 0.53, 0.7, mix(c, INK, 0.3), line=0.6)
        pen.poly([(0.08, 0.68), (0.92, 0.68), (0.72, 1.0), (0.28, 1.0)], body, emit=on)
        glow_v = 0.72
    if on:
        pen.glow(0.5, glow_v, max(pen.wpx, pen.hpx) * 2.2, (255, 180, 90), 0.5)


def _draw_shelf(pen: Pen, el: SetElement, c: RGB, ctx: Ambience) -> None:
    fu, fv = min(0.15, 0.05 / el.width), min(0.15, 0.05 / el.height)
    pen.rect(0, 0, 1, 1, c)
    pen.rect(fu, fv, 1 - fu, 1 - fv, mix(c, INK, 0.5), line=0.5, tone=0.6)
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
        pen.rect(fu, v0, 1 - fu, v0 + board, lighten(c, 0.1), line=0.5)
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
                    lighten(col, 0.4),
                )
            u += bw
            count += 1
    pen.rect(0, 0, 1, 1, None)


def _draw_table(pen: Pen, el: SetElement, c: RGB, ctx: Ambience) -> None:
    pen.rect(0.06, 0, 0.94, 0.74, None, line=0, tone=0.6)
    for u0 in (0.05, 0.86):
        pen.rect(u0, 0, u0 + 0.08, 0.84, c, line=0)
        pen.rect(u0 + 0.05, 0, u0 + 0.08, 0.84, shadow(c), line=0)
        pen.rect(u0, 0, u0 + 0.08, 0.84, None)
    pen.rect(0.03, 0.72, 0.97, 0.86, shadow(c), tone=0.4)
    pen.rect(0, 0.86, 1, 1, lighten(c, 0.12))
    pen.line([(0.04, 0.95), (0.5, 0.95)], 0.3, lighten(c, 0.4))


def _draw_plant(pen: Pen, el: SetElement, c: RGB, ctx: Ambience) -> None:
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
        pen.poly(pts, leaf if i % 2 == 0 else shadow(leaf), line=0.6)
        pen.line([(0.5, 0.32), tip], 0.25, mix(leaf, INK, 0.35))
    pen.poly([(0.24, 0.0), (0.76, 0.0), (0.82, 0.3), (0.18, 0.3)], pot)
    pen.poly([(0.55, 0.0), (0.76, 0.0), (0.82, 0.3), (0.62, 0.3)], shadow(pot), line=0, tone=0.4)
    pen.rect(0.14, 0.28, 0.86, 0.36, lighten(pot, 0.1))


def _draw_painting(pen: Pen, el: SetElement, c: RGB, ctx: Ambience) -> None:
    paper = (240, 232, 210)
    rng = random.Random(ctx.seed)
    if el.height > el.width * 1.35:
        wood = mix(c, INK, 0.35)
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
    hill = mix(paper, (70, 80, 90), 0.45)
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
        mix(paper, (60, 70, 80), 0.7),
        line=0.4,
    )
    pen.ell(0.74, 0.74, 0.07, 0.07 * pen.wpx / max(pen.hpx, 1), (200, 70, 60), line=0.3)


def _draw_tree(pen: Pen, el: SetElement, c: RGB, ctx: Ambience) -> None:
    leaf = c if _greenish(c) else (88, 138, 80)
    trunk = (112, 82, 58) if _greenish(c) else c
    rng = random.Random(ctx.seed)
    pen.poly([(0.42, 0.0), (0.58, 0.0), (0.55, 0.55), (0.45, 0.55)], trunk)
    pen.poly([(0.52, 0.0), (0.58, 0.0), (0.55, 0.55), (0.52, 0.55)], shadow(trunk), line=0)
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
        pen.ell(cu, cv, ru, rv, shadow(leaf), line=0.9, tone=0.35)
        pen.ell(cu - ru * 0.14, cv + rv * 0.14, ru * 0.82, rv * 0.82, leaf, line=0)
        pen.ell(cu - ru * 0.35, cv + rv * 0.4, ru * 0.3, rv * 0.22, lighten(leaf, 0.2), line=0)


def _draw_building(pen: Pen, el: SetElement, c: RGB, ctx: Ambience) -> None:
    rng = random.Random(ctx.seed)
    roof = mix(c, INK, 0.55)
    pen.rect(0.04, 0, 0.96, 0.84, c, line=0)
    pen.rect(0.78, 0, 0.96, 0.84, shadow(c), line=0, tone=0.4)
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
                else (mix(ctx.sky, INK, 0.3) if ctx.night else lighten(ctx.sky, 0.2))
            )
            pen.rect(u0, v0, u1, v1, col, line=0.7, emit=lit)
            pen.line([((u0 + u1) / 2, v0), ((u0 + u1) / 2, v1)], 0.4)
    if has_door:
        du = min(0.12, 0.6 / el.width)
        dv = min(0.5, 2.1 / el.height)
        pen.rect(0.5 - du, 0, 0.5 + du, dv, mix(c, INK, 0.4), line=0.8)


def _draw_streetlamp(pen: Pen, el: SetElement, c: RGB, ctx: Ambience) -> None:
    on = ctx.light.practicals_on
    pole = mix(c, INK, 0.3)
    pen.rect(0.3, 0, 0.7, 0.04, pole)
    pen.rect(0.45, 0.03, 0.55, 0.8, pole, line=0.7)
    pen.poly([(0.3, 0.77), (0.7, 0.77), (0.62, 0.8), (0.38, 0.8)], pole, line=0.6)
    glass = (255, 226, 160) if on else mix(ctx.sky, (200, 200, 190), 0.5)
    pen.poly([(0.3, 0.8), (0.7, 0.8), (0.8, 0.94), (0.2, 0.94)], glass, line=0.8, emit=on)
    pen.line([(0.5, 0.8), (0.5, 0.94)], 0.5, pole)
    pen.poly([(0.1, 0.94), (0.9, 0.94), (0.5, 1.0)], pole, line=0.8)
    if on:
        pen.glow(0.5, 0.87, pen.hpx * 0.55, (255, 190, 110), 0.55)


def _draw_fence(pen: Pen, el: SetElement, c: RGB, ctx: Ambience) -> None:
    pen.rect(0, 0.3, 1, 0.4, shadow(c))
    pen.rect(0, 0.68, 1, 0.78, shadow(c))
    n = max(2, round(el.width / 0.22))
    pw = 0.55 / n
    for i in range(n):
        u = (i + 0.5) / n
        pen.poly([(u - pw, 0), (u + pw, 0), (u + pw, 0.9), (u, 1.0), (u - pw, 0.9)], c, line=0.7)


def _draw_mountain(pen: Pen, el: SetElement, c: RGB, ctx: Ambience) -> None:
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
        shadow(c),
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


def _draw_counter(pen: Pen, el: SetElement, c: RGB, ctx: Ambience) -> None:
    pen.rect(0.01, 0, 0.99, 0.88, c, line=0)
    pen.rect(0.01, 0.76, 0.99, 0.88, shadow(c), line=0, tone=0.5)
    panels = max(1, round(el.width / 0.9))
    for i in range(panels):
        u0 = 0.01 + 0.98 * (i + 0.12) / panels
        u1 = 0.01 + 0.98 * (i + 0.88) / panels
        pen.rect(u0, 0.08, u1, 0.68, mix(c, INK, 0.1), line=0.5)
    pen.rect(0.01, 0, 0.99, 0.88, None)
    pen.rect(0, 0.88, 1, 1, lighten(c, 0.15))


def _draw_bench(pen: Pen, el: SetElement, c: RGB, ctx: Ambience) -> None:
    back = el.height > 0.7
    seat_v = 0.42 if back else 0.8
    pen.rect(0.06, 0, 0.94, seat_v * 0.7, None, line=0, tone=0.4)
    for u0 in (0.06, 0.86):
        pen.rect(u0, 0, u0 + 0.08, seat_v, shadow(c), line=0.8)
    if back:
        for u0 in (0.08, 0.84):
            pen.rect(u0, seat_v, u0 + 0.06, 1.0, shadow(c), line=0.7)
        pen.rect(0.02, 0.66, 0.98, 0.78, c, line=0.8)
        pen.rect(0.02, 0.86, 0.98, 0.98, c, line=0.8)
    pen.rect(0, seat_v, 1, min(1.0, seat_v + 0.12 if back else 1.0), lighten(c, 0.1))


DRAWERS: dict[str, Callable[[Pen, SetElement, RGB, Ambience], None]] = {
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
