"""A set seen through a camera: backdrop and elements, in depth layers, lit."""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

from inkreel.art.camera import (
    DEPTH_SCALE,
    HEIGHT,
    WIDTH,
)
from inkreel.art.compositing import blend
from inkreel.art.geometry import BoxT
from inkreel.art.ink import Canvas
from inkreel.art.lighting import is_night, shot_light
from inkreel.art.palette import parse_rgb
from inkreel.art.set.backdrop import draw_backdrop, element_lw
from inkreel.art.set.elements import DRAWERS
from inkreel.art.set.pen import Ambience, Pen, element_box
from inkreel.schemas.design import (
    Layer,
    Lighting,
    LocationDesign,
    SetElement,
)
from inkreel.schemas.storyboard import Box, Camera
from inkreel.seeds import seed_of


@dataclass
class SetLayers:
    """A set rendered onto a canvas that may reach past the frame, split by depth layer."""

    origin: tuple[int, int]  # frame coordinates of the canvas's top-left pixel
    background: np.ndarray  # (h, w, 3) uint8
    midground: np.ndarray | None  # (h, w, 4) uint8 when midground elements got their own layer
    foreground: tuple[int, int, np.ndarray] | None  # canvas (x, y, RGBA)
    boxes: dict[str, Box]  # element index -> box clipped to the frame


# A set seen through one camera in one light is drawn once per process and kept zlib-packed
# (flat colour packs ~35x: ~80 KB a frame): the keyframe, the continuity check of the empty set
# and the shot's animation all stand the same set, and a scene's shots share cameras. 256 of
# them are ~20 MB; unpacking takes ~3 ms against ~100 ms to draw.
SETS_KEPT = 256


def render_set(
    loc: LocationDesign,
    light: Lighting,
    time_of_day: str,
    cam: Camera,
    size: tuple[int, int],
    rect: BoxT | None = None,
    split_mid: bool = False,
) -> SetLayers:
    """Render the set through `cam` onto the frame-coordinate rectangle `rect` (default: frame).

    The arrays returned are the caller's own (unpacked from the cache each time)."""
    packed = _packed_set(
        loc.model_dump_json(),
        light.model_dump_json(),
        time_of_day,
        cam.model_dump_json(),
        size,
        tuple(rect) if rect is not None else None,
        split_mid,
    )
    return packed.unpack()


@dataclass(frozen=True)
class _PackedSet:
    origin: tuple[int, int]
    background: tuple[tuple[int, ...], bytes]
    midground: tuple[tuple[int, ...], bytes] | None
    foreground: tuple[int, int, tuple[tuple[int, ...], bytes]] | None
    boxes: dict[str, Box]

    @staticmethod
    def pack(layers: SetLayers) -> _PackedSet:
        fg = layers.foreground
        return _PackedSet(
            layers.origin,
            _pack(layers.background),
            _pack(layers.midground) if layers.midground is not None else None,
            (fg[0], fg[1], _pack(fg[2])) if fg is not None else None,
            layers.boxes,
        )

    def unpack(self) -> SetLayers:
        fg = self.foreground
        return SetLayers(
            origin=self.origin,
            background=_unpack(self.background),
            midground=_unpack(self.midground) if self.midground is not None else None,
            foreground=(fg[0], fg[1], _unpack(fg[2])) if fg is not None else None,
            boxes={k: b.model_copy() for k, b in self.boxes.items()},
        )


def _pack(a: np.ndarray) -> tuple[tuple[int, ...], bytes]:
    assert a.dtype == np.uint8, a.dtype
    return a.shape, zlib.compress(np.ascontiguousarray(a).tobytes(), 1)


def _unpack(packed: tuple[tuple[int, ...], bytes]) -> np.ndarray:
    shape, data = packed
    return np.frombuffer(bytearray(zlib.decompress(data)), dtype=np.uint8).reshape(shape)


@lru_cache(maxsize=SETS_KEPT)
def _packed_set(
    loc_json: str,
    light_json: str,
    time_of_day: str,
    cam_json: str,
    size: tuple[int, int],
    rect: BoxT | None,
    split_mid: bool,
) -> _PackedSet:
    layers = _draw_set(
        LocationDesign.model_validate_json(loc_json),
        Lighting.model_validate_json(light_json),
        time_of_day,
        Camera.model_validate_json(cam_json),
        size,
        rect,
        split_mid,
    )
    return _PackedSet.pack(layers)


def _draw_set(
    loc: LocationDesign,
    light: Lighting,
    time_of_day: str,
    cam: Camera,
    size: tuple[int, int],
    rect: BoxT | None,
    split_mid: bool,
) -> SetLayers:
    W, H = size
    rx0, ry0, rx1, ry1 = rect if rect is not None else (0, 0, W, H)
    night = is_night(light, time_of_day)
    ctx = Ambience(
        light=light,
        night=night,
        glow_windows=light.practicals_on and (night or time_of_day == "dusk"),
        sky=parse_rgb(light.sky, (168, 203, 232)),
        seed=seed_of(loc.name),  # the set must not rearrange itself between times of day
    )
    bg = Canvas((rx0, ry0), (rx1 - rx0, ry1 - ry0), transparent=False)
    draw_backdrop(bg, loc, cam, ctx, size)
    mid = Canvas((rx0, ry0), (rx1 - rx0, ry1 - ry0), transparent=True) if split_mid else None
    boxes: dict[str, Box] = {}
    fg_items: list[tuple[int, SetElement, tuple[float, ...]]] = []
    order = sorted(
        range(len(loc.elements)),
        key=lambda i: (DEPTH_SCALE[loc.elements[i].layer], i),
    )
    for i in order:
        el = loc.elements[i]
        box = element_box(cam, el, W, H)
        framed = (
            max(0, math.floor(box[0])),
            max(0, math.floor(box[1])),
            min(W, math.ceil(box[2])),
            min(H, math.ceil(box[3])),
        )
        if framed[2] > framed[0] and framed[3] > framed[1]:
            boxes[str(i)] = Box(x0=framed[0], y0=framed[1], x1=framed[2], y1=framed[3])
        if not _reaches(box, (rx0, ry0, rx1, ry1), el.kind):
            continue
        if el.layer == Layer.foreground:
            fg_items.append((i, el, box))
            continue
        if mid is not None and el.layer == Layer.midground:
            _draw_element(mid, cam, el, box, i, ctx, W)
            continue
        _draw_element(bg, cam, el, box, i, ctx, W)
    mid_rgba = None
    if mid is not None:
        # Light spilling from a midground lamp falls on the wall behind it as well.
        bg.glows.extend(mid.glows)
        mid_rgb, mid_alpha = mid.finish(light)
        assert mid_alpha is not None
        mid_rgba = np.dstack([mid_rgb, mid_alpha])
    bg_rgb, _ = bg.finish(light)

    return SetLayers(
        origin=(rx0, ry0),
        background=bg_rgb,
        midground=mid_rgba,
        foreground=_foreground(fg_items, (rx0, ry0, rx1, ry1), cam, ctx, W) if fg_items else None,
        boxes=dict(sorted(boxes.items(), key=lambda kv: int(kv[0]))),
    )


def _reaches(box: tuple[float, ...], rect: BoxT, kind: str) -> bool:
    """Return whether an element shows on the canvas `rect`, or a light of it spills onto it."""
    rx0, ry0, rx1, ry1 = rect
    if box[0] < rx1 and box[2] > rx0 and box[1] < ry1 and box[3] > ry0:
        return True
    glow_pad = max(box[2] - box[0], box[3] - box[1]) * 2.5
    return (
        box[0] - glow_pad < rx1
        and box[2] + glow_pad > rx0
        and box[1] - glow_pad < ry1
        and box[3] + glow_pad > ry0
    ) and kind in ("lamp", "streetlamp", "window")


def _foreground(
    items: list[tuple[int, SetElement, tuple[float, ...]]],
    rect: BoxT,
    cam: Camera,
    ctx: Ambience,
    W: int,
) -> tuple[int, int, np.ndarray] | None:
    """Draw the foreground elements on their own RGBA overlay: (x, y on the canvas, RGBA)."""
    rx0, ry0, rx1, ry1 = rect
    fx0 = max(rx0, min(math.floor(b[0]) for _, _, b in items) - 2)
    fy0 = max(ry0, min(math.floor(b[1]) for _, _, b in items) - 2)
    fx1 = min(rx1, max(math.ceil(b[2]) for _, _, b in items) + 2)
    fy1 = min(ry1, max(math.ceil(b[3]) for _, _, b in items) + 2)
    if fx1 <= fx0 or fy1 <= fy0:
        return None
    fcv = Canvas((fx0, fy0), (fx1 - fx0, fy1 - fy0), transparent=True)
    for i, el, box in items:
        _draw_element(fcv, cam, el, box, i, ctx, W)
    fcv.glows.clear()  # a glow cannot live on an overlay with a hard alpha edge
    rgb, alpha = fcv.finish(ctx.light)
    assert alpha is not None
    return (fx0 - rx0, fy0 - ry0, np.dstack([rgb, alpha]))


def _draw_element(
    cv: Canvas, cam: Camera, el: SetElement, box: tuple[float, ...], i: int, ctx: Ambience, W: int
) -> None:
    pen = Pen(cv, box, cam.reverse, element_lw(cam, W, el.layer))
    c = parse_rgb(el.colour, (138, 106, 74))
    sub = Ambience(ctx.light, ctx.night, ctx.glow_windows, ctx.sky, seed_of(ctx.seed, i, el.kind))
    DRAWERS[el.kind](pen, el, c, sub)


def _plate_camera(location: LocationDesign, size: tuple[int, int]) -> Camera:
    W, H = size
    vw = location.width * 1.05
    ppm_bg = W / vw * DEPTH_SCALE[Layer.background]
    # Put the back wall's floor line three quarters down the frame.
    return Camera(x=location.width / 2, y=(0.75 * H - H / 2) / ppm_bg, view_width=vw)


def render_plate(
    location: LocationDesign, time_of_day: str, size: tuple[int, int] = (WIDTH, HEIGHT)
) -> Image.Image:
    """Render the master plate: the whole set seen by an extreme-wide camera, no characters."""
    cam = _plate_camera(location, size)
    light = shot_light(location, time_of_day)
    sl = render_set(location, light, time_of_day, cam, size)
    bg = sl.background
    if sl.foreground is not None:
        fx, fy, rgba = sl.foreground
        blend(bg, rgba, fx, fy)
    return Image.fromarray(bg)
