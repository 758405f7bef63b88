"""A set's backdrop: walls, floor and ceiling indoors; sky, ground and horizon outdoors."""

from __future__ import annotations

import math
import random

import numpy as np
from PIL import Image

from inkreel.art.geometry import ellipse
from inkreel.art.ink import SUPERSAMPLE, Canvas
from inkreel.art.palette import INK, lighten, mix, parse_rgb
from inkreel.art.set.pen import Ambience
from inkreel.media.camera import (
    DEPTH_SCALE,
    pixels_per_metre,
    project_depth,
)
from inkreel.schemas.design import (
    Layer,
    LocationDesign,
)
from inkreel.schemas.storyboard import Camera


def element_lw(cam: Camera, W: int, layer: Layer) -> float:
    return max(1.0, min(4.5, pixels_per_metre(cam, W, layer) * 0.02))


def draw_backdrop(
    cv: Canvas, loc: LocationDesign, cam: Camera, ctx: Ambience, frame: tuple[int, int]
) -> None:
    W, H = frame
    # The canvas may reach past the frame (camera moves): cull against the canvas, not the frame.
    cx0, cy0, cx1, cy1 = cv.ox, cv.oy, cv.ox + cv.w, cv.oy + cv.h
    dw = DEPTH_SCALE[Layer.background]
    lw = element_lw(cam, W, Layer.background)
    wall = parse_rgb(loc.wall_colour, (216, 200, 168))
    floor = parse_rgb(loc.floor_colour, (138, 116, 88))
    big = 8.0 * W
    _, yw = project_depth(cam, 0.0, 0.0, dw, W, H)
    xs = sorted(project_depth(cam, x, 0.0, dw, W, H)[0] for x in (0.0, loc.width))
    if loc.interior:
        cv.poly([(-big, -big), (big, -big), (big, yw), (-big, yw)], wall)
        ceil_h = max(
            [3.2]
            + [
                e.y + e.height + 0.3
                for e in loc.elements
                if e.layer == Layer.background and e.kind != "mountain"
            ]
        )
        ceil_h = min(ceil_h, 6.0)
        _, yc = project_depth(cam, 0.0, ceil_h, dw, W, H)
        wain = mix(wall, floor, 0.28)
        _, yr = project_depth(cam, 0.0, 0.9, dw, W, H)
        _, yb = project_depth(cam, 0.0, 0.12, dw, W, H)
        cv.poly([(xs[0], yr), (xs[1], yr), (xs[1], yw), (xs[0], yw)], wain)
        cv.poly([(xs[0], yb), (xs[1], yb), (xs[1], yw), (xs[0], yw)], mix(floor, INK, 0.3))
        cv.polyline([(xs[0], yr), (xs[1], yr)], lw * 0.9)
        cv.polyline([(xs[0], yb), (xs[1], yb)], lw * 0.6)
        seam = mix(wall, INK, 0.18)
        step = 1.5
        for i in range(1, int(loc.width / step) + 1):
            x = i * step
            if x >= loc.width - 0.1:
                break
            px, _ = project_depth(cam, x, 0.0, dw, W, H)
            cv.polyline([(px, yc), (px, yr)], lw * 0.35, seam)
            cv.polyline([(px, yr), (px, yb)], lw * 0.35, mix(wain, INK, 0.2))
        # ceiling with receding beams, shaded
        ceil = mix(wall, INK, 0.45)
        cv.poly([(-big, -big), (big, -big), (big, yc), (-big, yc)], ceil)
        cv.add_tone([(-big, -big), (big, -big), (big, yc), (-big, yc)], 0.7)
        for i in range(int(loc.width / 1.2) + 1):
            x = i * 1.2
            a = project_depth(cam, x, ceil_h, dw, W, H)
            b = project_depth(cam, x, ceil_h, 3.0, W, H)
            cv.polyline([a, b], lw * 0.7, mix(ceil, INK, 0.4))
        cv.polyline([(-big, yc), (big, yc)], lw)
        # soft shadow under the ceiling
        _, ycs = project_depth(cam, 0.0, ceil_h - 0.35, dw, W, H)
        cv.add_tone([(-big, yc), (big, yc), (big, ycs), (-big, ycs)], 0.45)
        # floor and its boards in perspective
        _, yf = project_depth(cam, 0.0, 0.0, 4.0, W, H)
        cv.poly([(-big, yw), (big, yw), (big, max(yf, cy1 + 10)), (-big, max(yf, cy1 + 10))], floor)
        board = mix(floor, INK, 0.25)
        x = -loc.width
        while x <= 2 * loc.width:
            a = project_depth(cam, x, 0.0, dw, W, H)
            b = project_depth(cam, x, 0.0, 4.0, W, H)
            cv.polyline([a, b], lw * 0.4, board)
            x += 0.6
        depth = dw
        while depth < 4.0:
            depth *= 1.09
            _, y = project_depth(cam, 0.0, 0.0, depth, W, H)
            if y > cy1 + 4:
                break
            cv.polyline([(-big, y), (big, y)], lw * 0.3, mix(floor, INK, 0.15))
        _, yao = project_depth(cam, 0.0, 0.0, dw * 1.06, W, H)
        cv.add_tone([(-big, yw), (big, yw), (big, yao), (-big, yao)], 0.55)
        cv.polyline([(-big, yw), (big, yw)], lw)
        # beyond the set's ends: side walls turning toward the camera
        side = mix(wall, INK, 0.3)
        for xe in (0.0, loc.width):
            a = project_depth(cam, xe, 0.0, dw, W, H)
            b = project_depth(cam, xe, 0.0, 4.0, W, H)
            ac = project_depth(cam, xe, ceil_h, dw, W, H)
            bc = project_depth(cam, xe, ceil_h, 4.0, W, H)
            out = -1.0 if a[0] <= (xs[0] + xs[1]) / 2 else 1.0
            far = out * big
            pts = [ac, a, b, (b[0] + far, b[1]), (bc[0] + far, bc[1]), bc]
            cv.poly(pts, side, line=lw)
            cv.add_tone(pts, 0.5)
    else:
        # sky gradient, painted straight into the canvas
        sky = ctx.sky
        top = mix(sky, INK, 0.12)
        horizon = lighten(sky, 0.4 if not ctx.night else 0.12)
        ys = np.arange(cv.h * SUPERSAMPLE, dtype=np.float32) / SUPERSAMPLE + cv.oy
        t = np.clip(ys / max(yw, 1.0), 0.0, 1.0)[:, None] ** 1.3
        grad = np.array(top, np.float32) * (1 - t) + np.array(horizon, np.float32) * t
        col = np.broadcast_to(grad[:, None, :], (cv.h * SUPERSAMPLE, cv.w * SUPERSAMPLE, 3))
        cv.rgb.paste(Image.fromarray(np.ascontiguousarray(col.astype(np.uint8))), (0, 0))
        rng = random.Random(ctx.seed)
        if ctx.night:
            for _ in range(int(loc.width * 24)):
                x = rng.uniform(-loc.width, 2 * loc.width)
                y = rng.uniform(2.0, 16.0)
                px, py = project_depth(cam, x, y, dw, W, H)
                # Draw the size before culling so every canvas sees the same sky.
                r = rng.choice((0.6, 0.8, 1.1))
                if cx0 - 2 <= px <= cx1 + 2 and cy0 - 2 <= py < yw - 4:
                    cv.poly(ellipse(px, py, r, r, 6), (255, 250, 230))
        else:
            cloud = lighten(sky, 0.75)
            for _ in range(max(2, int(loc.width / 5))):
                x = rng.uniform(0, loc.width)
                y = rng.uniform(5.0, 9.0)
                ppm = W / cam.view_width * dw
                cx, cy = project_depth(cam, x, y, dw, W, H)
                s = rng.uniform(0.8, 1.4) * ppm
                blobs = [
                    (cx - 1.1 * s, cy, 0.7 * s),
                    (cx - 0.3 * s, cy - 0.35 * s, 0.9 * s),
                    (cx + 0.7 * s, cy - 0.1 * s, 0.75 * s),
                    (cx + 1.4 * s, cy + 0.1 * s, 0.5 * s),
                ]
                for bx, by, br in blobs:
                    cv.poly(
                        ellipse(bx, by, br, br * 0.6, 20),
                        cloud,
                        line=lw * 0.6,
                        colour=mix(sky, INK, 0.35),
                    )
                for bx, by, br in blobs:
                    cv.poly(ellipse(bx, by - br * 0.05, br * 0.92, br * 0.5, 20), cloud)
        # distant ridge far behind the set
        ridge_col = mix(mix(sky, floor, 0.35), INK, 0.1)
        pts = []
        for i in range(25):
            x = -loc.width + i * (3 * loc.width) / 24
            h = 1.6 + 1.2 * math.sin(i * 1.7 + (ctx.seed % 7)) + 0.6 * math.sin(i * 0.6)
            pts.append(project_depth(cam, x, max(0.3, h), 0.6, W, H))
        pts = [(pts[0][0], yw + 2), *pts, (pts[-1][0], yw + 2)]
        cv.poly(pts, ridge_col, line=lw * 0.5, colour=mix(ridge_col, INK, 0.3))
        # ground
        _, yf = project_depth(cam, 0.0, 0.0, 4.0, W, H)
        cv.poly([(-big, yw), (big, yw), (big, max(yf, cy1 + 10)), (-big, max(yf, cy1 + 10))], floor)
        _, yfar = project_depth(cam, 0.0, 0.0, dw * 1.08, W, H)
        cv.poly([(-big, yw), (big, yw), (big, yfar), (-big, yfar)], mix(floor, sky, 0.2))
        path = mix(floor, INK, 0.2)
        x = -loc.width
        while x <= 2 * loc.width:
            a = project_depth(cam, x, 0.0, dw, W, H)
            b = project_depth(cam, x, 0.0, 4.0, W, H)
            cv.polyline([a, b], lw * 0.3, path)
            x += 1.5
        for _ in range(int(loc.width * 5)):
            x = rng.uniform(-0.2 * loc.width, 1.2 * loc.width)
            depth = rng.uniform(dw * 1.05, 1.6)
            px, py = project_depth(cam, x, 0.0, depth, W, H)
            if not (cx0 - 20 < px < cx1 + 20 and yw < py < cy1 + 20):
                continue
            s = 0.12 * W / cam.view_width * depth
            cv.polyline([(px - s * 0.3, py), (px - s * 0.1, py - s)], max(0.6, lw * 0.3), path)
            cv.polyline([(px, py), (px + s * 0.25, py - s * 0.8)], max(0.6, lw * 0.3), path)
        cv.polyline([(-big, yw), (big, yw)], lw * 0.8)
        _, yao = project_depth(cam, 0.0, 0.0, dw * 1.03, W, H)
        cv.add_tone([(-big, yw), (big, yw), (big, yao), (-big, yao)], 0.4)
