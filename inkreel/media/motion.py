"""Animate a shot: lip flaps from the voice's loudness, blinks, camera moves, subtitles.

Everything static is composed once per shot by the renderer; per frame only small patches
change, plus one crop-and-scale for push-in and pull-out moves.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw

from inkreel.media import renderer
from inkreel.media.exports import find_font

BLINK_EVERY = 84  # frames (3.5 s at 24 fps)
BLINK_FRAMES = 3
MOVE_ZOOM = 0.08


def subtitle_overlay(text: str, width: int, height: int) -> tuple[np.ndarray, int]:
    """Draw a subtitle (white, black outline) once; return its RGBA band and its top row."""
    size = max(22, height // 24)
    font = find_font(text, size)
    wrap = 48 if text.isascii() else 26
    lines = textwrap.wrap(text, wrap) or [text]
    line_h = int(size * 1.3)
    band_h = line_h * len(lines) + size
    band = Image.new("RGBA", (width, band_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(band)
    for i, line in enumerate(lines):
        w = draw.textlength(line, font=font)
        draw.text(
            ((width - w) / 2, size // 2 + i * line_h),
            line,
            font=font,
            fill=(255, 255, 255, 255),
            stroke_width=max(2, size // 12),
            stroke_fill=(0, 0, 0, 255),
        )
    top = height - band_h - height // 20
    return np.asarray(band), top


def _blend_band(frame: np.ndarray, band: np.ndarray, top: int) -> None:
    h = band.shape[0]
    alpha = band[..., 3:4].astype(np.float32) / 255.0
    region = frame[top : top + h]
    region[:] = (band[..., :3] * alpha + region * (1 - alpha)).astype(np.uint8)


def shot_frames(
    layers: renderer.ShotLayers,
    frames: int,
    move: str,
    envelope: np.ndarray | None,
    line_offset: int,
    subtitle: str | None,
    subtitle_from: int,
) -> Callable[[int], np.ndarray]:
    """Return frame(i) -> (H, W, 3) uint8 for frame i of the shot."""
    height, width = layers.background.shape[:2]
    band = subtitle_overlay(subtitle, width, height) if subtitle else None

    def frame(i: int) -> np.ndarray:
        mouth = 0.0
        if envelope is not None:
            k = i - line_offset
            if 0 <= k < len(envelope):
                mouth = float(envelope[k])
        blink = (i % BLINK_EVERY) >= BLINK_EVERY - BLINK_FRAMES
        image = renderer.compose_frame(layers, mouth_open=mouth, blink=blink)
        if move in ("push_in", "pull_out", "pan") and frames > 1:
            progress = i / (frames - 1)
            if move == "pan":
                zoom, slide = 1 + MOVE_ZOOM / 2, progress
            else:
                zoom = 1 + MOVE_ZOOM * (progress if move == "push_in" else 1 - progress)
                slide = 0.5
            cw, ch = round(width / zoom), round(height / zoom)
            x0, y0 = round((width - cw) * slide), (height - ch) // 2
            crop = Image.fromarray(image[y0 : y0 + ch, x0 : x0 + cw])
            image = np.asarray(crop.resize((width, height), Image.Resampling.BILINEAR))
        if band is not None and i >= subtitle_from:
            image = np.array(image, copy=True) if not image.flags.writeable else image
            _blend_band(image, band[0], band[1])
        return image

    return frame
