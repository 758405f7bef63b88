"""The pen set elements are drawn with, in each element's own box."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inkreel.art.camera import (
    pixels_per_metre,
    project,
)
from inkreel.art.geometry import Pt, ellipse
from inkreel.art.ink import Canvas, Glow
from inkreel.art.palette import INK, RGB
from inkreel.schemas.design import (
    Lighting,
    SetElement,
)
from inkreel.schemas.storyboard import Camera


def element_box(cam: Camera, el: SetElement, W: int, H: int) -> tuple[float, ...]:
    px, py = project(cam, el.x, el.y, el.layer, W, H)
    ppm = pixels_per_metre(cam, W, el.layer)
    w, h = el.width * ppm, el.height * ppm
    return (px - w / 2, py - h, px + w / 2, py)


@dataclass
class Ambience:
    light: Lighting
    night: bool
    glow_windows: bool
    sky: RGB
    seed: int


class Pen:
    """Draw one set element in its own box: u across (0 left .. 1 right), v up (0 base .. 1 top)."""

    def __init__(self, cv: Canvas, box: tuple[float, ...], mirror: bool, lw: float):
        x0, y0, x1, y1 = box
        inset = lw / 2  # keep the outline inside the element's box
        self.x0, self.y0 = x0 + inset, y0 + inset
        self.x1, self.y1 = max(x0 + inset, x1 - inset), max(y0 + inset, y1 - inset)
        self.cv, self.mirror, self.lw = cv, mirror, lw

    def p(self, u: float, v: float) -> Pt:
        if self.mirror:
            u = 1.0 - u
        return (self.x0 + u * (self.x1 - self.x0), self.y1 - v * (self.y1 - self.y0))

    def pts(self, uv: Sequence[Pt]) -> list[Pt]:
        return [self.p(u, v) for u, v in uv]

    @property
    def wpx(self) -> float:
        return self.x1 - self.x0

    @property
    def hpx(self) -> float:
        return self.y1 - self.y0

    def poly(
        self,
        uv: Sequence[Pt],
        fill: RGB | None,
        line: float = 1.0,
        tone: float = 0.0,
        emit: bool = False,
    ) -> None:
        pts = self.pts(uv)
        self.cv.poly(pts, fill, line * self.lw)
        if tone > 0:
            self.cv.add_tone(pts, tone)
        if emit:
            self.cv.add_emit(pts)

    def rect(
        self,
        u0: float,
        v0: float,
        u1: float,
        v1: float,
        fill: RGB | None,
        line: float = 1.0,
        tone: float = 0.0,
        emit: bool = False,
    ) -> None:
        self.poly([(u0, v0), (u1, v0), (u1, v1), (u0, v1)], fill, line, tone, emit)

    def ell(
        self,
        cu: float,
        cv: float,
        ru: float,
        rv: float,
        fill: RGB | None,
        line: float = 1.0,
        tone: float = 0.0,
        emit: bool = False,
        n: int = 24,
    ) -> None:
        self.poly(ellipse(cu, cv, ru, rv, n), fill, line, tone, emit)

    def line(self, uv: Sequence[Pt], width: float = 0.6, colour: RGB = INK) -> None:
        self.cv.polyline(self.pts(uv), max(0.6, width * self.lw), colour)

    def glow(self, u: float, v: float, r: float, colour: RGB, strength: float) -> None:
        x, y = self.p(u, v)
        self.cv.glows.append(Glow(x, y, r, colour, strength))
