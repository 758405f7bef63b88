"""Camera moves: how far layers slide in a pan, zoom levels of a push-in or pull-out."""

from __future__ import annotations

import math

from PIL import Image

from inkreel.art.camera import (
    DEPTH_SCALE,
)
from inkreel.art.geometry import BoxT, Pt
from inkreel.schemas.design import (
    Layer,
)

PAN_TRAVEL = 0.04  # how far the midground slides over a pan, as a fraction of the frame width
ZOOM_RANGE = 0.06  # push-in / pull-out: change of scale from the first frame to the last
ZOOM_STEP = 0.006  # spacing of the precomputed zoom levels; frames in between crossfade two


RESAMPLE = Image.Resampling.BICUBIC
FILTER_MARGIN = 3  # source pixels the resampling filter reads past a region's edge


def pan_travel(width: int) -> dict[Layer, int]:
    """Return each layer's travel over a pan in whole pixels (even: the middle frame is exact)."""
    return {
        layer: 2 * round(PAN_TRAVEL * width * depth / 2) for layer, depth in DEPTH_SCALE.items()
    }


def zoom_scales() -> list[float]:
    n = max(1, math.ceil(ZOOM_RANGE / 2 / ZOOM_STEP))
    return [1.0 + ZOOM_RANGE * (j - n) / (2 * n) for j in range(2 * n + 1)]


def canvas_rect(move: str, size: tuple[int, int], zoom_centre: Pt) -> BoxT:
    """Return the frame-coordinate rectangle a shot must draw so its camera move stays on set."""
    W, H = size
    if move == "pan":
        m = pan_travel(W)[Layer.foreground] // 2 + 2
        return (-m, 0, W + m, H)
    if move in ("push_in", "pull_out"):
        grow = 1.0 / min(zoom_scales()) - 1.0
        cx, cy = zoom_centre
        pad = FILTER_MARGIN + 2
        return (
            -math.ceil(cx * grow) - pad,
            -math.ceil(cy * grow) - pad,
            W + math.ceil((W - cx) * grow) + pad,
            H + math.ceil((H - cy) * grow) + pad,
        )
    return (0, 0, W, H)
