"""Colour distances: CIEDE2000 between design colours and between pixels and a design colour."""

from __future__ import annotations

import math

import numpy as np
from skimage.color import deltaE_ciede2000, rgb2lab

from inkreel.art.palette import INK


def hex_lab(colour: str) -> np.ndarray:
    """CIE L*a*b* of a "#rrggbb" colour."""
    rgb = np.array([[[int(colour[i : i + 2], 16) for i in (1, 3, 5)]]], np.float64) / 255.0
    return np.asarray(rgb2lab(rgb)[0, 0])


INK_HEX = "#{:02x}{:02x}{:02x}".format(*INK)  # the line art's colour


def delta_e00(a: str, b: str) -> float:
    """CIEDE2000 distance between two hex colours."""
    return float(deltaE_ciede2000(hex_lab(a), hex_lab(b)))


def part_delta_e(
    pixels: np.ndarray, lights: list[np.ndarray], colour: str, quantile: float
) -> float:
    """The `quantile` quantile of the CIEDE2000 distances of pixels (N, 3 uint8) to `colour`.

    The pixels are unlit by each candidate light; the best light counts.
    """
    target = hex_lab(colour)
    best = math.inf
    for light in lights:
        unlit = np.clip(pixels.astype(np.float64) / 255.0 / light[None, :], 0.0, 1.0)
        lab = rgb2lab(unlit[None, :, :])[0]
        d = deltaE_ciede2000(lab, np.broadcast_to(target, lab.shape))
        best = min(best, float(np.quantile(d, quantile)))
    return best


def design_support(rgba: np.ndarray, colours: dict[str, str]) -> dict[str, float]:
    """Part -> share of an RGBA drawing's opaque pixels within ΔE00 10 of the part's colour.

    Tells whether a drawn reference carries its design's colours (is the sheet on-model?).
    """
    px = rgba[..., :3][rgba[..., 3] > 200]
    if len(px) > 8000:
        px = px[:: len(px) // 8000]
    if not len(px):
        return {}
    lab = rgb2lab(px[None, :, :].astype(np.float64) / 255.0)[0]
    support: dict[str, float] = {}
    for part, colour in colours.items():
        d = deltaE_ciede2000(lab, np.broadcast_to(hex_lab(colour), lab.shape))
        support[part] = float((d < 10.0).mean())
    return support
