"""The shot's set without characters, as the renderer draws it: what a keyframe is compared with."""

from __future__ import annotations

import zlib
from functools import lru_cache

import numpy as np

from inkreel.art.shot.frame import render_keyframe
from inkreel.schemas import LocationDesign, Shot

# Set renders are kept zlib-packed: flat colour packs ~35x (2.7 MB at 1280 x 720 -> ~80 KB)
# and unpacking one takes ~2 ms against ~90 ms to render it again. 384 of them are ~32 MB, so
# a long run (drift retakes, evaluations, a night's batch) cannot grow the cache past that.
SET_RENDERS_KEPT = 384


def set_render(shot: Shot, location: LocationDesign, size: tuple[int, int]) -> np.ndarray:
    """Return the shot's set without characters (same camera, same light), cached."""
    empty = shot.model_copy(update={"blocking": []})
    shape, packed = _packed_set_render(empty.model_dump_json(), location.model_dump_json(), size)
    rgb = np.frombuffer(zlib.decompress(packed), dtype=np.uint8).reshape(shape)
    return rgb  # read-only: it is shared


@lru_cache(maxsize=SET_RENDERS_KEPT)
def _packed_set_render(
    shot_json: str, location_json: str, size: tuple[int, int]
) -> tuple[tuple[int, ...], bytes]:
    shot = Shot.model_validate_json(shot_json)
    location = LocationDesign.model_validate_json(location_json)
    img, _, _ = render_keyframe(shot, location, {}, size)
    rgb = np.asarray(img.convert("RGB"))
    return rgb.shape, zlib.compress(rgb.tobytes(), 1)
