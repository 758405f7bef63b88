"""Animate a shot: lip flaps, idle motion, gestures, camera moves, subtitles and dissolves.

The renderer prepares each shot once (poses, zoom levels, parallax layers, effect stamps);
per frame only precomputed pixels are pasted or crossfaded, never a whole image resized.
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import imageio_ffmpeg
import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from inkreel.art.compositing import lerp_frames
from inkreel.art.fonts import find_font
from inkreel.art.shot.frame import compose_frame
from inkreel.art.shot.staging import ShotLayers
from inkreel.media import subtitles
from inkreel.schemas.storyboard import Box
from inkreel.seeds import seed_of

GESTURE_DELAY = 2  # frames into the line before the speaker moves
GESTURE_RAMP = 4  # frames to go into, and out of, a gesture
GESTURE_HOLD = 6  # frames the gesture is held after the line ends
TITLE_STROKE_FRAMES = 30  # the title card's brush stroke grows over this many frames

_INK = (34, 26, 38)
_PAPER = (246, 239, 224)
_SEAL = (196, 44, 38)


Cue = tuple[str, int, int]
"""A subtitle cue in a shot: its text (lines split by newlines), first frame, end frame."""


class _Band:
    """A subtitle drawn once, kept as its visible pixels for cheap blending."""

    def __init__(self, rgba: np.ndarray, top: int):
        self.rgba = rgba
        self.top = top
        ys, xs = np.nonzero(rgba[..., 3])
        self.ys = ys + top
        self.xs = xs
        self.rgb = rgba[ys, xs, :3].astype(np.uint16)
        self.a = rgba[ys, xs, 3:4].astype(np.uint16)

    def draw(self, frame: np.ndarray) -> None:
        dst = frame[self.ys, self.xs].astype(np.uint16)
        mixed = (self.rgb * self.a + dst * (255 - self.a) + 127) // 255
        frame[self.ys, self.xs] = mixed.astype(np.uint8)


@dataclass(frozen=True)
class SubtitleBand:
    """A cue as drawn: its inked rows at the frame's width, the frame row they start on, and
    the frames [start, end) of the shot it shows in."""

    rgba: np.ndarray
    top: int
    start: int
    end: int
    lines: tuple[str, ...]
    size: int


def _overlap(box: tuple[int, int, int, int], faces: Sequence[Box], margin: int) -> int:
    x0, y0, x1, y1 = box
    place = Box(x0=x0, y0=y0, x1=x1, y1=y1)
    return sum(place.overlap(f, margin) for f in faces)


def _draw_lines(
    lines: Sequence[str], font: subtitles.Font, size: int, width: int
) -> tuple[np.ndarray, tuple[int, int], int, int] | None:
    """Draw centred lines (white, black outline) on a band the frame's width.

    Return the band's inked rows, their first and last column, the first inked row's offset
    in the band and the band's height; None if nothing shows.
    """
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
            stroke_width=subtitles.stroke_width(size),
            stroke_fill=(0, 0, 0, 255),
        )
    bbox = band.getchannel("A").getbbox()
    if bbox is None:
        return None
    x0, y0, x1, y1 = bbox
    return np.asarray(band)[y0:y1], (x0, x1), y0, band_h


def _place(
    ink: tuple[int, int, int, int], band_h: int, height: int, faces: Sequence[Box]
) -> tuple[int, int]:
    """Return the row for a band's ink (x0, offset in band, x1, rows) and the face area it covers.

    The band sits at the bottom, else at the top, else wherever it covers least of the
    faces: just below or above one, or against the frame's edge.
    """
    x0, offset, x1, rows = ink
    # Faces move a little with the camera, so keep clear of them with some room.
    margin = max(8, height // 30)
    edge = max(2, height // 60)
    low, high = height - edge - rows, edge
    choices = [height - band_h - height // 20 + offset, height // 20 + offset]
    if faces:
        near = {low, high}
        for f in faces:
            near |= {f.y1 + margin, f.y0 - margin - rows}
        # nearer the frame's edge first, where subtitles are expected
        inside = {min(max(y, high), low) for y in near}
        choices += sorted(inside, key=lambda y: (min(y, height - y - rows), -y))
    choices = [min(max(y, 0), height - rows) for y in choices]
    covered = [_overlap((x0, y, x1, y + rows), faces, margin) for y in choices]
    best = covered.index(min(covered))
    return choices[best], covered[best]


def _cue_bands(
    text: str, start: int, end: int, width: int, height: int, faces: Sequence[Box]
) -> list[SubtitleBand]:
    """Draw one cue: as it is if it keeps off the faces, else one line at a time, then smaller.

    A screen that would need more lines than fit is split into screens shown one after
    another within the cue's frames.
    """
    base, least = subtitles.text_size(height), subtitles.smallest_size(height)
    limit = subtitles.line_limit(width, height)
    sizes = sorted({base, (base + least) // 2, least}, reverse=True)
    options = [(base, subtitles.MAX_LINES), *((size, 1) for size in sizes)]
    if not faces:
        options = options[:1]
    best: tuple[int, list[SubtitleBand]] | None = None
    for size, max_lines in options:
        font = find_font(text, size)
        measure = subtitles.font_measure(font, size, limit)
        drawn = []
        covered = 0
        for screen, first, last in subtitles.screens(text, start, end, measure, max_lines):
            lines = screen.split("\n")
            band = _draw_lines(lines, font, size, width)
            if band is None:
                continue
            rgba, (x0, x1), offset, band_h = band
            rgba = rgba[:height]
            top, overlap = _place((x0, offset, x1, rgba.shape[0]), band_h, height, faces)
            drawn.append(SubtitleBand(rgba, top, first, last, tuple(lines), size))
            covered += overlap
        if best is None or covered < best[0]:
            best = (covered, drawn)
        if covered == 0:
            break
    return best[1] if best else []


def subtitle_bands(
    cues: Sequence[Cue], width: int, height: int, avoid: Sequence[Box] = ()
) -> list[SubtitleBand]:
    """Draw a shot's subtitle cues once each, at most two lines a screen, inside the frame.

    A band sits at the bottom of the frame unless it would cover one of the `avoid` boxes
    (faces); then at the top; if both cover a face (a close-up), wherever covers least, one
    line at a time and, failing that, smaller down to a legible floor.
    """
    bands: list[SubtitleBand] = []
    for text, start, end in cues:
        if end > start and text.strip():
            bands.extend(_cue_bands(text, start, end, width, height, avoid))
    return bands


def _subtitle_schedule(
    cues: Sequence[Cue], frames: int, width: int, height: int, avoid: Sequence[Box]
) -> list[_Band | None]:
    """The band to draw on each frame of a shot (None: no subtitle)."""
    schedule: list[_Band | None] = [None] * frames
    for band in subtitle_bands(cues, width, height, avoid):
        drawn = _Band(band.rgba, band.top)
        for i in range(max(0, band.start), min(frames, band.end)):
            schedule[i] = drawn
    return schedule


def _mix(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Return the frame (1 - t) * a + t * b, exact at t = 0 and t = 1, never `b` itself."""
    out = lerp_frames(a, b, round(max(0.0, min(1.0, t)) * 128))
    # Callers draw subtitles into the frame; the dissolve target is shared between frames.
    return out.copy() if out is b else out


def _gesture(i: int, line_offset: int, line_frames: int) -> float:
    """Return how far into its gesture the speaker is at frame i of the shot."""
    start = line_offset + GESTURE_DELAY
    end = line_offset + line_frames + GESTURE_HOLD
    rise = (i - start + 1) / GESTURE_RAMP
    fall = (end - i) / GESTURE_RAMP
    return max(0.0, min(1.0, rise, fall))


def shot_frames(
    layers: ShotLayers,
    frames: int,
    move: str,
    envelope: np.ndarray | None,
    line_offset: int,
    cues: Sequence[Cue] = (),
    *,
    dissolve_into: np.ndarray | None = None,
    dissolve_frames: int = 0,
) -> Callable[[int], np.ndarray]:
    """Return frame(i) -> (H, W, 3) uint8 for frame i of the shot.

    The camera moves only when `move` is the move the layers were staged for; the middle
    frame is the keyframe's framing. The last `dissolve_frames` frames blend linearly into
    `dissolve_into` (the next shot's first frame), reaching it on the last frame. Each
    subtitle cue shows in its own frames, kept off the faces.
    """
    width, height = layers.size
    faces = [f.face for f in layers.figures if f.face is not None]
    schedule = _subtitle_schedule(cues, frames, width, height, faces)
    moving = move == layers.move and move != "static" and frames > 1
    middle = frames // 2
    line_frames = len(envelope) if envelope is not None else 0
    target = None
    fade = 0
    if dissolve_into is not None and dissolve_frames > 0:
        target = np.asarray(dissolve_into, dtype=np.uint8)
        if target.shape != (height, width, 3):
            raise ValueError(f"dissolve target is {target.shape}, frames are {(height, width, 3)}")
        fade = min(dissolve_frames, frames)

    def frame(i: int) -> np.ndarray:
        mouth = 0.0
        if envelope is not None:
            k = i - line_offset
            if 0 <= k < len(envelope):
                mouth = float(envelope[k])
        gesture = _gesture(i, line_offset, line_frames) if layers.gesture and line_frames else 0.0
        t = max(-0.5, min(0.5, (i - middle) / (frames - 1))) if moving else 0.0
        image = compose_frame(layers, mouth_open=mouth, frame=i, move_t=t, gesture=gesture)
        band = schedule[i] if 0 <= i < frames else None
        if band is not None:
            band.draw(image)
        if target is not None and i >= frames - fade:
            image = _mix(image, target, (i - (frames - fade) + 1) / fade)
        return image

    return frame


# ---------------------------------------------------------------------------------------------
# footage that was not staged here: a hosted model's keyframe or clip


class _ScaledOnPurpose(logging.Filter):
    """imageio-ffmpeg warns when frames are read at another size than the source's; the
    clip reader scales on purpose, so that warning is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("The frame size for reading")


logging.getLogger("imageio_ffmpeg").addFilter(_ScaledOnPurpose())

STILL_ZOOM = 0.06  # a still's push-in / pull-out, like the staged shots' ZOOM_RANGE
STILL_PAN = 0.04  # a still's pan, as a share of the frame width


def still_frames(image: np.ndarray, frames: int, move: str) -> Callable[[int], np.ndarray]:
    """Frame(i) of a still (a hosted model's keyframe) under the shot's camera move.

    The middle frame is the keyframe itself; a push-in / pull-out scales about the centre
    and a pan slides the crop window, by the same amounts as staged shots.
    """
    still = Image.fromarray(np.asarray(image, dtype=np.uint8))
    width, height = still.size
    middle = frames // 2

    def frame(i: int) -> np.ndarray:
        t = max(-0.5, min(0.5, (i - middle) / (frames - 1))) if frames > 1 else 0.0
        if move == "static" or t == 0.0:
            return np.asarray(still).copy()
        zoom, shift = 1.0, 0.0
        if move == "push_in":
            zoom = 1.0 + STILL_ZOOM * (t + 0.5)
        elif move == "pull_out":
            zoom = 1.0 + STILL_ZOOM * (0.5 - t)
        elif move == "pan":
            # Zoom in just enough that the window can slide STILL_PAN of the width in all.
            zoom = 1.0 / (1.0 - STILL_PAN)
            shift = STILL_PAN * t * width
        w, h = width / zoom, height / zoom
        x0 = (width - w) / 2 + shift
        y0 = (height - h) / 2
        box = (x0, y0, x0 + w, y0 + h)
        return np.asarray(still.resize((width, height), Image.Resampling.BILINEAR, box=box))

    return frame


def clip_frames(path: str, size: tuple[int, int], fps: int) -> Callable[[int], np.ndarray]:
    """Frame(i) of a video clip, scaled to `size` and resampled to `fps`, read in order.

    Frames must be asked for in increasing order (as the encoder does); past the clip's end
    its last frame is held, so a clip shorter than the shot freezes rather than cuts.
    """
    width, height = size
    reader = imageio_ffmpeg.read_frames(
        path, output_params=["-vf", f"fps={fps},scale={width}:{height}:flags=bicubic"]
    )
    next(reader)  # the metadata
    state: dict[str, object] = {"index": -1, "last": None, "done": False}

    def frame(i: int) -> np.ndarray:
        while int(state["index"]) < i and not state["done"]:  # type: ignore[call-overload]
            try:
                raw = next(reader)
            except StopIteration:
                state["done"] = True
                break
            state["last"] = np.frombuffer(raw, np.uint8).reshape(height, width, 3)
            state["index"] = int(state["index"]) + 1  # type: ignore[call-overload]
        last = state["last"]
        if last is None:
            raise ValueError(f"{path} has no frames")
        return np.array(last)

    return frame


def overlay_frames(
    source: Callable[[int], np.ndarray],
    frames: int,
    size: tuple[int, int],
    cues: Sequence[Cue] = (),
    *,
    avoid: Sequence[Box] = (),
    dissolve_into: np.ndarray | None = None,
    dissolve_frames: int = 0,
) -> Callable[[int], np.ndarray]:
    """`source` with the shot's subtitle cues burned in and its closing dissolve, as staged
    shots."""
    width, height = size
    schedule = _subtitle_schedule(cues, frames, width, height, avoid)
    fade = min(dissolve_frames, frames) if dissolve_into is not None else 0

    def frame(i: int) -> np.ndarray:
        image = np.array(source(i), dtype=np.uint8)
        band = schedule[i] if 0 <= i < frames else None
        if band is not None:
            band.draw(image)
        if dissolve_into is not None and fade and i >= frames - fade:
            image = _mix(image, dissolve_into, (i - (frames - fade) + 1) / fade)
        return image

    return frame


# ---------------------------------------------------------------------------------------------
# title card


def _fit_font(text: str, size: int, max_w: float) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    font = find_font(text, size)
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    while size > 12 and probe.textlength(text, font=font) > max_w:
        size = int(size * 0.9)
        font = find_font(text, size)
    return font


def _text_sprite(
    text: str,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    fill: tuple[int, int, int],
    stroke: int = 0,
    stroke_fill: tuple[int, int, int] = _INK,
    spacing: int = 6,
) -> np.ndarray:
    """Render text (may be several lines) to a tight RGBA sprite."""
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    x0, y0, x1, y1 = probe.multiline_textbbox(
        (0, 0), text, font=font, stroke_width=stroke, spacing=spacing, align="center"
    )
    img = Image.new("RGBA", (int(x1 - x0) + 4, int(y1 - y0) + 4), (*stroke_fill, 0))
    ImageDraw.Draw(img).multiline_text(
        (2 - x0, 2 - y0),
        text,
        font=font,
        fill=(*fill, 255),
        stroke_width=stroke,
        stroke_fill=(*stroke_fill, 255),
        spacing=spacing,
        align="center",
    )
    return np.asarray(img)


def _blend_at(
    dst: np.ndarray,
    rgba: np.ndarray,
    x: int,
    y: int,
    opacity: float,
    columns: np.ndarray | None = None,
) -> None:
    opacity = min(1.0, opacity)
    if opacity <= 0:
        return
    h, w = rgba.shape[:2]
    H, W = dst.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    src = rgba[y0 - y : y1 - y, x0 - x : x1 - x]
    a = src[..., 3:4].astype(np.float32) * (opacity / 255.0)
    if columns is not None:
        a = a * columns[x0 - x : x1 - x, None]
    region = dst[y0:y1, x0:x1].astype(np.float32)
    dst[y0:y1, x0:x1] = (src[..., :3] * a + region * (1 - a) + 0.5).astype(np.uint8)


def _wrap(text: str, width: int) -> list[str]:
    """Wrap words, or CJK text (no spaces) into lines of even length."""
    if " " in text.strip():
        return textwrap.wrap(text, width)
    n = max(1, -(-len(text) // width))
    step = -(-len(text) // n)
    return [text[i : i + step] for i in range(0, len(text), step)]


def _paper(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """Warm paper: soft blotches, fibre grain and a darker rim."""
    coarse = rng.normal(0.0, 1.0, (height // 48 + 2, width // 48 + 2)).astype(np.float32)
    blot = Image.fromarray(((coarse * 40 + 128).clip(0, 255)).astype(np.uint8))
    blot = blot.resize((width, height), Image.Resampling.BICUBIC)
    blotches = (np.asarray(blot, dtype=np.float32) - 128) / 40 * 2.5
    grain = rng.normal(0.0, 2.2, (height, width)).astype(np.float32)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    r = np.hypot((xx - width / 2) / (width / 2), (yy - height / 2) / (height / 2))
    rim = 1.0 - 0.09 * np.clip(r - 0.55, 0, None) ** 1.5
    paper = np.array(_PAPER, np.float32) * rim[..., None] + (blotches + grain)[..., None]
    return np.clip(paper + 0.5, 0, 255).astype(np.uint8)


def _brush_stroke(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """Return the alpha (0..1) of a broad dry-brush stroke that frays toward its tail."""
    xs = np.arange(width, dtype=np.float32)
    u = xs / max(1, width - 1)
    thick = height * (0.18 + 0.82 * np.sin(np.pi * np.clip(u * 0.95 + 0.03, 0, 1)) ** 0.45)
    wobble = height * 0.04 * np.sin(u * 5.2 + rng.uniform(0, 6.3))
    centre = height / 2 + wobble + height * 0.06 * (u - 0.5)
    yy = np.arange(height, dtype=np.float32)[:, None]
    edge = np.clip((thick[None, :] / 2 - np.abs(yy - centre[None, :])) / 2.0, 0, 1)
    # Each bristle runs dry at its own point along the tail, neighbours in clumps.
    start = (
        np.asarray(
            Image.fromarray(
                (rng.uniform(0, 1, (height, 1)) * 255).astype(np.uint8).repeat(4, axis=1)
            ).filter(ImageFilter.GaussianBlur(1.2)),
            dtype=np.float32,
        )[:, :1]
        / 255.0
    )
    dry_at = 0.5 + 0.5 * start
    fade = rng.uniform(0.04, 0.3, (height, 1)).astype(np.float32)
    bristle = np.clip(1.0 - (u[None, :] - dry_at) / fade, 0.0, 1.0)
    bristle = np.asarray(
        Image.fromarray((bristle * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.6)),
        dtype=np.float32,
    )
    return edge * (bristle / 255.0)


def _seal(char: str, size: int) -> np.ndarray:
    """A vermilion name seal with the character carved out in white."""
    img = Image.new("RGBA", (size, size), (*_SEAL, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 8, fill=(*_SEAL, 235))
    d.rounded_rectangle(
        (size // 10, size // 10, size - 1 - size // 10, size - 1 - size // 10),
        radius=size // 14,
        outline=(250, 236, 220, 255),
        width=max(2, size // 28),
    )
    font = find_font(char, int(size * 0.58))
    d.text((size / 2, size / 2), char, font=font, fill=(250, 236, 220, 255), anchor="mm")
    return np.asarray(img)


def title_card_frames(
    title: str, logline: str, size: tuple[int, int] = (1280, 720)
) -> Callable[[int], np.ndarray]:
    """Return frame(i) of an ink-and-paper title card: a brush stroke grows, the words fade in."""
    width, height = size
    seed = seed_of(title, logline)
    rng = np.random.default_rng(seed)
    paper = _paper(width, height, rng)
    # a thin double panel border, like the first page of a chapter
    card = Image.fromarray(paper)
    d = ImageDraw.Draw(card)
    inset = max(14, height // 26)
    d.rectangle((inset, inset, width - inset, height - inset), outline=_INK, width=3)
    d.rectangle(
        (inset + 7, inset + 7, width - inset - 7, height - inset - 7), outline=_INK, width=1
    )
    paper = np.asarray(card).copy()

    sw, sh = int(width * 0.78), int(height * 0.3)
    sx, sy = (width - sw) // 2, int(height * 0.42) - sh // 2
    stroke = _brush_stroke(sw, sh, rng)

    title_text = title.strip() or " "
    tfont = _fit_font(title_text, max(36, height // 7), sw * 0.74)
    title_px = _text_sprite(title_text, tfont, (252, 248, 240), stroke=max(2, height // 180))
    # centred on the solid body of the stroke, clear of its dry tail
    tx = sx + int(sw * 0.46) - title_px.shape[1] // 2
    ty = sy + sh // 2 - title_px.shape[0] // 2
    line = logline.strip()
    log_px = None
    if line:
        lsize = max(18, height // 28)
        lfont = find_font(line, lsize)
        log_px = _text_sprite(
            "\n".join(_wrap(line, 60 if line.isascii() else 28)[:3]), lfont, (70, 58, 66)
        )
    seal_char = next((c for c in title_text if not c.isspace()), "印")
    seal_px = _seal(seal_char.upper(), max(40, height // 9))
    seal_x = sx + sw - seal_px.shape[1] // 2
    seal_y = sy + sh - seal_px.shape[0] // 3
    ink = np.array(_INK, np.float32)

    def frame(i: int) -> np.ndarray:
        out = paper.copy()
        grow = min(1.0, (i + 1) / TITLE_STROKE_FRAMES)
        reach = sw * (1 - (1 - grow) ** 3)  # fast start, slowing like a brush running dry
        edge = np.clip((reach - np.arange(sw, dtype=np.float32)) / 14.0, 0, 1)
        a = (stroke * edge[None, :])[..., None] * 0.96
        region = out[sy : sy + sh, sx : sx + sw].astype(np.float32)
        out[sy : sy + sh, sx : sx + sw] = (ink * a + region * (1 - a) + 0.5).astype(np.uint8)
        # the title shows only where the brush has already passed
        cols = np.clip((sx + reach - tx - np.arange(title_px.shape[1])) / 24.0, 0, 1)
        _blend_at(out, title_px, tx, ty, (i - 6) / 10, cols)
        if log_px is not None:
            ly = sy + sh + max(16, height // 24)
            lx = tx + title_px.shape[1] // 2 - log_px.shape[1] // 2
            _blend_at(out, log_px, max(inset + 12, lx), ly, (i - 16) / 16)
        _blend_at(out, seal_px, seal_x, seal_y, (i - TITLE_STROKE_FRAMES + 4) / 3)
        return out

    return frame
