"""Projection from a set's world coordinates (metres) to a frame (pixels).

Every view of a set goes through `project`, so a set element lands where the camera says it
must and never moves by itself when only the framing changes.
"""

from __future__ import annotations

from inkreel.schemas.design import Layer
from inkreel.schemas.storyboard import Camera

WIDTH, HEIGHT = 1280, 720
# Depth of each layer relative to the plane where characters stand: nearer layers are larger
# and move faster across the frame (parallax) for the same camera move.
DEPTH_SCALE = {Layer.background: 0.8, Layer.midground: 1.0, Layer.foreground: 1.25}
FIGURE_HEIGHT_M = 1.7


def pixels_per_metre(camera: Camera, width: int = WIDTH, layer: Layer = Layer.midground) -> float:
    return width / camera.view_width * DEPTH_SCALE[layer]


def project(
    camera: Camera,
    x: float,
    y: float,
    layer: Layer = Layer.midground,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> tuple[float, float]:
    """Return the pixel position of world point (x, y) seen from `camera` at depth `layer`."""
    return project_depth(camera, x, y, DEPTH_SCALE[layer], width, height)


def project_depth(
    camera: Camera, x: float, y: float, depth: float, width: int = WIDTH, height: int = HEIGHT
) -> tuple[float, float]:
    """Return the pixel position of world point (x, y) at any depth (1.0: the midground).

    Floors and ceilings recede through depths between the layers, so a set's backdrop needs
    positions in between.
    """
    ppm = width / camera.view_width * depth
    px = width / 2 + (x - camera.x) * ppm
    if camera.reverse:
        px = width - px
    # A high angle (tilt > 0) lifts the horizon; a low one drops it.
    horizon_shift = camera.tilt * height * 0.12
    py = height / 2 - (y - camera.y) * ppm + horizon_shift * (1.0 - depth)
    return px, py


def screen_x(camera: Camera, x: float, width: int = WIDTH) -> float:
    """Return the horizontal frame position (0 left .. 1 right) of a character at world x."""
    return project(camera, x, 0.0, Layer.midground, width)[0] / width
