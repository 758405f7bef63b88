"""Colours: parsing, mixing, shading and lightening, and the ink and paper colours."""

from __future__ import annotations

RGB = tuple[int, int, int]


INK: RGB = (34, 26, 38)
WHITE: RGB = (252, 250, 246)


def parse_rgb(colour: str, default: RGB = (128, 128, 128)) -> RGB:
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


def mix(a: RGB, b: RGB, t: float) -> RGB:
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


def shadow(c: RGB) -> RGB:
    # Manhua cel shadows lean cool/purple rather than plain darker.
    return mix(_mul(c, (0.70, 0.68, 0.80)), (60, 40, 90), 0.08)


def skin_shadow(c: RGB) -> RGB:
    return _mul(c, (0.92, 0.76, 0.78))


def lighten(c: RGB, t: float = 0.35) -> RGB:
    return mix(c, (255, 255, 255), t)


def luma(c: RGB) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]
