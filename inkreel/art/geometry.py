"""Points and shapes: ellipses, curves, mirroring, bounds and interpolation.

Figure geometry is in figure units: the figure is 100 units tall, head top y=0, soles y=100.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from inkreel.schemas.storyboard import Box

Pt = tuple[float, float]
BoxT = tuple[int, int, int, int]


def ellipse(
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


def quad(p0: Pt, p1: Pt, p2: Pt, n: int = 10) -> list[Pt]:
    out = []
    for i in range(n):
        t = i / (n - 1)
        a, b, c = (1 - t) ** 2, 2 * (1 - t) * t, t * t
        out.append((a * p0[0] + b * p1[0] + c * p2[0], a * p0[1] + b * p1[1] + c * p2[1]))
    return out


def mirrored(pts: Sequence[Pt]) -> list[Pt]:
    return [(-x, y) for x, y in pts]


def sym(right_half: Sequence[Pt]) -> list[Pt]:
    """Close a right half-outline (top to bottom) into a left-right symmetric polygon."""
    return list(right_half) + [(-x, y) for x, y in reversed(right_half)]


def bounds(pts: Sequence[Pt]) -> tuple[float, float, float, float]:
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    return min(xs), min(ys), max(xs), max(ys)


def lerp_pt(a: Pt, b: Pt, t: float) -> Pt:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)


def round_rect(cx: float, cy: float, w: float, h: float) -> list[Pt]:
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


def clip_box(b: BoxT, W: int, H: int) -> BoxT:
    return (max(0, b[0]), max(0, b[1]), min(W, b[2]), min(H, b[3]))


def box_area(b: BoxT) -> int:
    return max(0, b[2] - b[0]) * max(0, b[3] - b[1])


def to_box(b: BoxT) -> Box:
    return Box(x0=b[0], y0=b[1], x1=b[2], y1=b[3])


def grow_box(b: BoxT, m: int, W: int, H: int) -> BoxT:
    return clip_box((b[0] - m, b[1] - m, b[2] + m, b[3] + m), W, H)


def shift_box(b: BoxT, dx: int, dy: int) -> BoxT:
    return (b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy)


def intersect_box(a: BoxT, b: BoxT) -> BoxT | None:
    c = (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
    return c if box_area(c) > 0 else None


def union_box(a: BoxT, b: BoxT) -> BoxT:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def star(cx: float, cy: float, r: float, spikes: int, inner: float, rot: float) -> list[Pt]:
    pts = []
    for i in range(spikes * 2):
        a = rot + math.pi * i / spikes
        rr = r if i % 2 == 0 else r * inner
        pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    return pts
