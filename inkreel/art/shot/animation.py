"""A shot's animation, prepared once: breathing, blinks, gestures, camera and effects."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from inkreel.art.compositing import XFADE, Cel, blend, lerp_frames, over, paste_cel, to_cel
from inkreel.art.effects import (
    DRAWN_BEHIND,
    Effect,
    PlacedStamp,
    anger_mark,
    burst,
    draw_stamp,
    place_stamp,
    sparkle,
    speed_lines,
    sweat_drop,
)
from inkreel.art.geometry import BoxT, Pt, box_area, clip_box, grow_box, shift_box
from inkreel.art.shot.actor import StagedShot, dress
from inkreel.art.shot.camera_moves import FILTER_MARGIN, RESAMPLE, ZOOM_RANGE, zoom_scales
from inkreel.schemas.design import (
    Layer,
)
from inkreel.seeds import seed_of

BREATH_CYCLE = (72, 97)  # frames per breath (3-4 s at 24 fps), picked per character
BLINK_CYCLE = (70, 119)
BLINK_LENGTH = 3


@dataclass
class _Sparse:
    """Pixels to overwrite: flat indices into a frame and their colours."""

    idx: np.ndarray  # (n,) intp
    rgb: np.ndarray  # (n, 3) uint8


@dataclass
class _SparseRGBA:
    """Midground pixels of a pose (canvas coordinates) to lay over the sliding background."""

    y: np.ndarray  # (n,) intp
    x: np.ndarray
    rgb: np.ndarray  # (n, 3) uint16
    a: np.ndarray  # (n, 1) uint16


_AnyPatch = _Sparse | _SparseRGBA


@dataclass
class _CharPatches:
    """One character's pose patches for one view: keys are (pose, breath[, mouth level])."""

    body: dict[tuple[int, int], _AnyPatch] = field(default_factory=dict)
    eyes: dict[tuple[int, int], _AnyPatch] = field(default_factory=dict)
    mouth: dict[tuple[int, int, int], _AnyPatch] = field(default_factory=dict)


@dataclass
class _Level:
    """The shot at one zoom scale: the rest frame, and where the set is covered."""

    scale: float
    image: np.ndarray
    cover: np.ndarray | None = None  # where characters and foreground hide the set


# A still or zooming shot's patch: (zoom level, actor, "body" | "eyes" | "mouth", pose,
# breath, mouth level), or the same without the level for a region composed at canvas scale.
_PatchKey = tuple[int, int, str, int, int, int]
_RegionKey = tuple[int, str, int, int, int]


def _sparse_change(
    before: tuple[int, int, np.ndarray], after: tuple[int, int, np.ndarray], W: int
) -> _Sparse | None:
    """Return the pixels of region `after` (x, y, RGB) that differ from `before` by over 2."""
    u0, v0, a = after
    b = before[2]
    if a.size == 0 or a.shape != b.shape:
        return None
    d = np.maximum(a, b)
    d -= np.minimum(a, b)
    diff = (d[..., 0] > 2) | (d[..., 1] > 2) | (d[..., 2] > 2)
    ys, xs = np.nonzero(diff)
    if len(ys) == 0:
        return None
    return _Sparse(((ys + v0) * W + xs + u0).astype(np.intp), a[ys, xs])


_State = tuple[int, int, bool, int]  # pose, breath level, eyes closed, mouth level


class Animation:
    """A shot's animation: everything per frame is pasting precomputed pixels."""

    def __init__(self, stage: StagedShot):
        self.stage = stage
        self.levels: list[_Level] = []
        self.pan_cels: tuple[Cel, Cel | None] | None = None
        self.pan_chars: list[_CharPatches] = []
        self.effects: list[Effect] = []
        self.pan_cover: np.ndarray | None = None
        self.placed: dict[tuple[int, int, int, tuple[int, int] | None], PlacedStamp] = {}
        # A still or zooming shot's pose patches, made the first time a frame shows them: a
        # push-in passes through each of its zoom levels in a few frames, so most of the
        # (level, pose, breath, mouth) patches it could show it never does.
        self.patches: dict[_PatchKey, _Sparse | None] = {}
        self.regions: dict[_RegionKey, np.ndarray] = {}
        self.level_views: dict[tuple[int, int, str, int, int], tuple[int, int, np.ndarray]] = {}
        self.ready = False
        self.rhythm = [_rhythm(a.name) for a in stage.actors]

    # -- states -------------------------------------------------------------------------------

    def rest_states(self) -> list[_State]:
        return [(0, 0, False, 0) for _ in self.stage.actors]

    def states(self, frame: int | None, blink: bool, mouth: int, gesture: float) -> list[_State]:
        out: list[_State] = []
        for a, (bp, bf, kp, kf) in zip(self.stage.actors, self.rhythm, strict=True):
            g = round(max(0.0, min(1.0, gesture)) * (len(a.poses) - 1))
            b = 0
            closed = blink
            if frame is not None:
                b = round(a.amp * (1 - math.cos(2 * math.pi * (frame + bf) / bp)) / 2)
                closed = closed or (frame + kf) % kp < BLINK_LENGTH
            speaks = g < len(a.mouths) and bool(a.mouths[g])  # a still's actor has no mouths
            out.append((g, b, closed, mouth if speaks else 0))
        return out

    # -- preparation --------------------------------------------------------------------------

    def prepare(self) -> None:
        """Build every patch, level and effect of the shot (once)."""
        if self.ready:
            return
        st = self.stage
        for actor in st.actors:
            if actor.still_only:  # staged for a keyframe: every pose and variant now
                dress(actor, actor.window, actor.canvas, actor.speaking)
        if st.move == "pan":
            self._prepare_pan()
        else:
            self._prepare_flat()
        self.effects = _build_effects(st)
        self.ready = True

    def _scales(self) -> list[float]:
        return zoom_scales() if self.stage.move in ("push_in", "pull_out") else [1.0]

    def _view(self, img: np.ndarray, rx: int, ry: int, s: float) -> tuple[int, int, np.ndarray]:
        """Resample a canvas region (top-left rx, ry) as the zoom level `s` shows it."""
        st = self.stage
        W, H = st.size
        ox, oy = st.origin
        h, w = img.shape[:2]
        if s == 1.0:
            u0, v0 = max(0, rx + ox), max(0, ry + oy)
            u1, v1 = min(W, rx + ox + w), min(H, ry + oy + h)
            if u1 <= u0 or v1 <= v0:
                return 0, 0, img[:0, :0]
            return u0, v0, img[v0 - ry - oy : v1 - ry - oy, u0 - rx - ox : u1 - rx - ox]
        cx, cy = st.zoom_centre
        m = FILTER_MARGIN
        u0 = max(0, math.ceil(cx + s * (rx + ox + m - cx)))
        v0 = max(0, math.ceil(cy + s * (ry + oy + m - cy)))
        u1 = min(W, math.floor(cx + s * (rx + ox + w - m - cx)))
        v1 = min(H, math.floor(cy + s * (ry + oy + h - m - cy)))
        if u1 <= u0 or v1 <= v0:
            return 0, 0, img[:0, :0]
        box = (
            cx + (u0 - cx) / s - ox - rx,
            cy + (v0 - cy) / s - oy - ry,
            cx + (u1 - cx) / s - ox - rx,
            cy + (v1 - cy) / s - oy - ry,
        )
        out = Image.fromarray(img).resize((u1 - u0, v1 - v0), RESAMPLE, box=box)
        return u0, v0, np.asarray(out)

    def _compose_flat(self, region: BoxT, who: int, sprite: np.ndarray) -> np.ndarray:
        """Compose a canvas region with actor `who` drawn from `sprite`, the rest standing."""
        st = self.stage
        x0, y0, x1, y1 = region
        out = st.bg[y0:y1, x0:x1].copy()
        for j, a in enumerate(st.actors):
            blend(out, sprite if j == who else a.rest[0], a.window[0] - x0, a.window[1] - y0)
        if st.fg is not None:
            blend(out, st.fg[2], st.fg[0] - x0, st.fg[1] - y0)
        return out

    def _prepare_flat(self) -> None:
        """The zoom levels of the still shot and where the set is covered (for effects drawn
        behind the figures); each actor's pose, eye and mouth changes are sparse patches
        made as frames need them (`_patch`)."""
        st = self.stage
        W, H = st.size
        self.levels = self._zoom_levels()
        if any(e in DRAWN_BEHIND for e in st.effects):
            cover = self._cover()
            for lv in self.levels:
                u0, v0, c = self._view(cover, 0, 0, lv.scale)
                framed = np.zeros((H, W), np.uint8)
                framed[v0 : v0 + c.shape[0], u0 : u0 + c.shape[1]] = c
                lv.cover = framed

    def _zoom_levels(self) -> list[_Level]:
        """The still frame at each precomputed zoom scale."""
        st = self.stage
        W, H = st.size
        full = Image.fromarray(st.base)
        ox, oy = st.origin
        cx, cy = st.zoom_centre
        levels = []
        for s in self._scales():
            if s == 1.0:
                img = self._rest_frame()
            else:
                box = (
                    cx - cx / s - ox,
                    cy - cy / s - oy,
                    cx + (W - cx) / s - ox,
                    cy + (H - cy) / s - oy,
                )
                img = np.asarray(full.resize((W, H), RESAMPLE, box=box))
            levels.append(_Level(s, np.ascontiguousarray(img)))
        return levels

    def _patch(self, k: int, who: int, part: str, g: int, b: int, v: int = 0) -> _Sparse | None:
        """Actor `who`'s change at zoom level k from its pose g at breath b with everything
        at rest: the body ("body"; none for the rest pose itself), closed eyes ("eyes") or
        mouth level v ("mouth"), as the pixels that differ; None if none do or the pose has
        no such shape."""
        key = (k, who, part, g, b, v)
        if key not in self.patches:
            self.patches[key] = self._make_patch(k, who, part, g, b, v)
        return self.patches[key]

    def _make_patch(self, k: int, who: int, part: str, g: int, b: int, v: int) -> _Sparse | None:
        actor = self.stage.actors[who]
        if part == "body" and (g, b) == (0, 0):
            return None
        if part == "eyes" and (actor.eye_win[g] is None or actor.eyes[g] is None):
            return None
        if part == "mouth" and (actor.mouth_win[g] is None or not 1 <= v <= len(actor.mouths[g])):
            return None
        region = self._region(who, part, g, b)
        scale = self.levels[k].scale
        before = self._level_view(k, who, part, g, b)
        after = self._view(self._composed(who, part, g, b, v), region[0], region[1], scale)
        return _sparse_change(before, after, self.stage.size[0])

    def _region(self, who: int, part: str, g: int, b: int) -> BoxT:
        """The canvas region a part's patches are composed in (with the filter's margin)."""
        actor = self.stage.actors[who]
        ch, cw = self.stage.base.shape[:2]
        if part == "body":
            return grow_box(actor.window, FILTER_MARGIN + 1, cw, ch)
        window = actor.eye_win[g] if part == "eyes" else actor.mouth_win[g]
        assert window is not None
        return grow_box(shift_box(window, 0, -b), FILTER_MARGIN + 1, cw, ch)

    def _level_view(
        self, k: int, who: int, part: str, g: int, b: int
    ) -> tuple[int, int, np.ndarray]:
        """What a part's patches are taken against at level k: the rest frame's region for
        the body, the pose itself for its eyes and mouth."""
        key = (k, who, part, g, b) if part != "body" else (k, who, part, 0, 0)
        if key not in self.level_views:
            x0, y0, x1, y1 = self._region(who, part, g, b)
            if part == "body":
                rest = self.stage.base[y0:y1, x0:x1]
            else:
                rest = self._composed(who, part, g, b, 0)
            self.level_views[key] = self._view(rest, x0, y0, self.levels[k].scale)
        return self.level_views[key]

    def _composed(self, who: int, part: str, g: int, b: int, v: int) -> np.ndarray:
        """The part's region at canvas scale with actor `who` in pose g at breath b (eyes
        closed for "eyes" with v = 1, mouth at level v for "mouth"), kept for every level."""
        key = (who, part, g, b, v)
        if key not in self.regions:
            actor = self.stage.actors[who]
            closed = part == "eyes" and v == 1
            sprite = actor.sprite(g, b, eyes=closed, mouth=v * (part == "mouth"))
            self.regions[key] = self._compose_flat(self._region(who, part, g, b), who, sprite)
        return self.regions[key]

    def _cover(self) -> np.ndarray:
        """Return where any pose of any character, or the foreground, hides the set (canvas)."""
        st = self.stage
        ch, cw = st.bg.shape[:2]
        cover = np.zeros((ch, cw), np.uint8)
        for a in st.actors:
            x0, y0, x1, y1 = a.window
            for g in range(len(a.poses)):
                for b in {0, a.amp}:
                    np.maximum(cover[y0:y1, x0:x1], a.sprite(g, b)[..., 3], out=cover[y0:y1, x0:x1])
        if st.fg is not None:
            fx, fy, rgba = st.fg
            h, w = rgba.shape[:2]
            np.maximum(
                cover[fy : fy + h, fx : fx + w], rgba[..., 3], out=cover[fy : fy + h, fx : fx + w]
            )
        return cover

    def _pan_layers(self) -> tuple[Cel, Cel | None]:
        if self.pan_cels is None:
            st = self.stage
            fg = to_cel(st.fg[2], st.fg[0], st.fg[1]) if st.fg is not None else None
            self.pan_cels = (to_cel(st.base, 0, 0), fg)
        return self.pan_cels

    def _prepare_pan(self) -> None:
        st = self.stage
        assert st.mid is not None
        ch, cw = st.base.shape[:2]
        self._pan_layers()

        def compose(region: BoxT, who: int, sprite: np.ndarray) -> np.ndarray:
            x0, y0, x1, y1 = region
            assert st.mid is not None
            out = st.mid[y0:y1, x0:x1].copy()
            for j, a in enumerate(st.actors):
                over(out, sprite if j == who else a.rest[0], a.window[0] - x0, a.window[1] - y0)
            return out

        def sparse(before: np.ndarray, after: np.ndarray, x0: int, y0: int) -> _SparseRGBA | None:
            ys, xs = np.nonzero(np.any(before != after, axis=2))
            if len(ys) == 0:
                return None
            px = after[ys, xs]
            return _SparseRGBA(
                ys + y0, xs + x0, px[:, :3].astype(np.uint16), px[:, 3:4].astype(np.uint16)
            )

        self.pan_chars = []
        for who, actor in enumerate(st.actors):
            cp = _CharPatches()
            self.pan_chars.append(cp)
            win = actor.window
            for g in range(len(actor.poses)):
                for b in range(actor.amp + 1):
                    spr = actor.sprite(g, b)
                    if (g, b) != (0, 0):
                        comp = compose(win, who, spr)
                        p = sparse(st.base[win[1] : win[3], win[0] : win[2]], comp, *win[:2])
                        if p is not None:
                            cp.body[(g, b)] = p
                    for kind, window, variants in (
                        ("eyes", actor.eye_win[g], [1] if actor.eyes[g] is not None else []),
                        ("mouth", actor.mouth_win[g], range(1, len(actor.mouths[g]) + 1)),
                    ):
                        if window is None or not variants:
                            continue
                        r = grow_box(shift_box(window, 0, -b), 1, cw, ch)
                        before = compose(r, who, spr)
                        for v in variants:
                            var = actor.sprite(
                                g, b, eyes=kind == "eyes", mouth=v * (kind == "mouth")
                            )
                            p = sparse(before, compose(r, who, var), *r[:2])
                            if p is None:
                                continue
                            if kind == "eyes":
                                cp.eyes[(g, b)] = p
                            else:
                                cp.mouth[(g, b, v)] = p

    # -- per frame ----------------------------------------------------------------------------

    def pan_shift(self, layer: Layer, t: float) -> int:
        """Return how far (px) `layer` has slid at move position t (-0.5 .. 0.5)."""
        travel = self.stage.travel[layer]
        return self.stage.direction * math.floor(travel * max(-0.5, min(0.5, t)) + 0.5)

    def zoom(self, t: float) -> float:
        sign = {"push_in": 1.0, "pull_out": -1.0}.get(self.stage.move, 0.0)
        return 1.0 + sign * ZOOM_RANGE * max(-0.5, min(0.5, t))

    def to_screen(self, p: Pt, t: float) -> Pt:
        """Map a frame position at the keyframe framing to where the moving camera shows it."""
        st = self.stage
        if st.move == "pan":
            return p[0] - self.pan_shift(Layer.midground, t), p[1]
        s = self.zoom(t)
        if s == 1.0:
            return p
        cx, cy = st.zoom_centre
        return cx + s * (p[0] - cx), cy + s * (p[1] - cy)

    def compose(self, states: list[_State], t: float) -> np.ndarray:
        """Return the frame for these character states at move position t."""
        if self.stage.move == "pan":
            return self._compose_pan(states, t)
        return self._compose_flat_frame(states, t)

    def _level_frame(self, k: int, states: list[_State]) -> np.ndarray:
        img = self.levels[k].image.copy()
        flat = img.reshape(-1, 3)
        for who, (g, b, closed, mouth) in enumerate(states):
            for p in (
                self._patch(k, who, "body", g, b),
                self._patch(k, who, "eyes", g, b, 1) if closed else None,
                self._patch(k, who, "mouth", g, b, mouth) if mouth else None,
            ):
                if p is not None:
                    flat[p.idx] = p.rgb
        return img

    def _compose_flat_frame(self, states: list[_State], t: float) -> np.ndarray:
        if not self.levels:
            return self._rest_frame()
        levels = self.levels
        n = len(levels)
        s = self.zoom(t)
        pos = 0.0 if n == 1 else (s - levels[0].scale) / (levels[1].scale - levels[0].scale)
        k = max(0, min(n - 1, math.floor(pos + 1e-9)))
        w = round((pos - k) * XFADE) if k < n - 1 else 0
        a = self._level_frame(k, states)
        if w <= 0:
            return a
        b = self._level_frame(k + 1, states)
        return lerp_frames(a, b, w)

    def _rest_frame(self) -> np.ndarray:
        st = self.stage
        W, H = st.size
        ox, oy = st.origin
        return st.base[-oy : -oy + H, -ox : -ox + W].copy()

    def _compose_pan(self, states: list[_State], t: float) -> np.ndarray:
        st = self.stage
        W = st.size[0]
        m = -st.origin[0]
        mid, fg = self._pan_layers()
        sb = m + self.pan_shift(Layer.background, t)
        sm = m + self.pan_shift(Layer.midground, t)
        out = st.bg[:, sb : sb + W].copy()
        paste_cel(out, mid, sm)
        for (g, b, closed, mouth), cp in zip(states, self.pan_chars, strict=False):
            for p in (
                cp.body.get((g, b)),
                cp.eyes.get((g, b)) if closed else None,
                cp.mouth.get((g, b, mouth)) if mouth else None,
            ):
                if isinstance(p, _SparseRGBA):
                    xs = p.x - sm
                    keep = (xs >= 0) & (xs < W)
                    ys, xs = p.y[keep], xs[keep]
                    under = st.bg[ys, xs + sb].astype(np.uint16)
                    a = p.a[keep]
                    out[ys, xs] = ((p.rgb[keep] * a + under * (255 - a) + 127) // 255).astype(
                        np.uint8
                    )
        if fg is not None:
            paste_cel(out, fg, m + self.pan_shift(Layer.foreground, t))
        return out

    def cover_at(self, ys: np.ndarray, xs: np.ndarray, t: float) -> np.ndarray:
        """Return how much characters and foreground hide the set at frame pixels (ys, xs)."""
        st = self.stage
        if st.move == "pan":
            _, fg = self._pan_layers()
            cover = self._pan_cover()
            m = -st.origin[0]
            c = cover[
                ys, np.clip(xs + m + self.pan_shift(Layer.midground, t), 0, cover.shape[1] - 1)
            ]
            if fg is not None:
                fx = xs + m + self.pan_shift(Layer.foreground, t) - fg.x
                fy = ys - fg.y
                fh, fw = fg.alpha.shape
                inside = (fx >= 0) & (fx < fw) & (fy >= 0) & (fy < fh)
                c[inside] = np.maximum(c[inside], fg.alpha[fy[inside], fx[inside]])
            return c
        level_cover = self.levels[self._nearest_level(t)].cover
        if level_cover is None:
            return np.zeros(len(ys), np.uint8)
        return level_cover[ys, xs]

    def _pan_cover(self) -> np.ndarray:
        cover = self.pan_cover
        if cover is None:
            st = self.stage
            assert st.mid is not None
            cover = st.mid[..., 3].copy()
            for a in st.actors:
                x0, y0, x1, y1 = a.window
                for g in range(len(a.poses)):
                    for b in {0, a.amp}:
                        np.maximum(
                            cover[y0:y1, x0:x1], a.sprite(g, b)[..., 3], out=cover[y0:y1, x0:x1]
                        )
            self.pan_cover = cover
        return cover

    def cover_key(self, t: float) -> tuple[int, int]:
        """Return what identifies the cover at move position t (equal keys, equal cover)."""
        if self.stage.move == "pan":
            return self.pan_shift(Layer.midground, t), self.pan_shift(Layer.foreground, t)
        return self._nearest_level(t), 0

    def _nearest_level(self, t: float) -> int:
        n = len(self.levels)
        if n <= 1:
            return 0
        s = self.zoom(t)
        pos = (s - self.levels[0].scale) / (self.levels[1].scale - self.levels[0].scale)
        return max(0, min(n - 1, round(pos)))

    def draw_effects(self, img: np.ndarray, frame: int, t: float) -> None:
        for eff in self.effects:
            stamp, dx, dy = eff.pick(frame)
            ax, ay = eff.anchor if eff.screen else self.to_screen(eff.anchor, t)
            x, y = round(ax + dx), round(ay + dy)
            key = (id(stamp), x, y, self.cover_key(t) if eff.behind else None)
            placed = self.placed.get(key)
            if placed is None:
                if len(self.placed) > 64:
                    self.placed.clear()

                def cover(ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
                    return self.cover_at(ys, xs, t)

                placed = place_stamp(stamp, x, y, self.stage.size, cover if eff.behind else None)
                self.placed[key] = placed
            draw_stamp(img, placed)


def _rhythm(name: str) -> tuple[int, int, int, int]:
    """Return (breath period, breath phase, blink period, blink phase) for a character."""
    h = seed_of("idle", name)
    bp = BREATH_CYCLE[0] + h % (BREATH_CYCLE[1] - BREATH_CYCLE[0])
    kp = BLINK_CYCLE[0] + (h >> 16) % (BLINK_CYCLE[1] - BLINK_CYCLE[0])
    return bp, (h >> 32) % bp, kp, (h >> 48) % kp


def _build_effects(st: StagedShot) -> list[Effect]:
    """Draw the shot's effects around the speaker's head (speed lines: the frame's centre)."""
    if not st.effects:
        return []
    W, H = st.size
    who = next((a for a in st.actors if a.name == st.speaker and a.face), None)
    who = who or next((a for a in st.actors if a.face and box_area(clip_box(a.face, W, H))), None)
    if who is not None and who.face is not None:
        x0, y0, x1, y1 = who.face
        fw, fh = float(x1 - x0), float(y1 - y0)
        fcx, top = (x0 + x1) / 2, float(y0)
        side = who.facing or 1
    else:
        fh = fw = H / 8
        fcx, top = W / 2, H / 2 - fh / 2
        side = 1
    out: list[Effect] = []
    for kind in st.effects:
        if kind == "speed_lines":
            stamps = speed_lines(W, H, st.seed)
            out.append(Effect(kind, (W / 2, H / 2), stamps, [0, 1, 2, 3], 2, True, True))
        elif kind == "emphasis_burst":
            r = max(26.0, 1.9 * fh)
            out.append(
                Effect(kind, (fcx, top - 0.1 * fh), burst(r, st.seed), [0, 1, 2, 1], 2, False, True)
            )
        elif kind == "sweat_drop":
            h = max(12.0, 0.6 * fh)
            anchor = (fcx - side * (0.62 * fw + 0.12 * fh), top - 0.05 * fh)
            out.append(
                Effect(kind, anchor, [sweat_drop(h)], [0], slide=(0.0, 0.45 * fh), period=36)
            )
        elif kind == "anger_mark":
            size = max(14.0, 0.5 * fh)
            anchor = (fcx + side * 0.5 * fw, top - 0.35 * fh)
            stamps = [anger_mark(size, 1.0), anger_mark(size, 1.2)]
            out.append(Effect(kind, anchor, stamps, [1, 0, 1, 0, 0, 0, 0, 0], 2))
        elif kind == "sparkle":
            spots = ((1.05, -0.6, 0.42), (-0.95, -0.15, 0.3), (1.3, 0.45, 0.34))
            scales = [0.0, 0.45, 0.8, 1.0, 0.8, 0.45]
            for n, (sx, sy, sr) in enumerate(spots):
                r = max(8.0, sr * fh)
                stamps = [sparkle(r, sc) for sc in scales]
                seq = [(i + 2 * n) % len(scales) for i in range(len(scales))]
                anchor = (fcx + side * sx * fw, top + sy * fh)
                out.append(Effect(kind, anchor, stamps, seq, 2 + n % 2))
    return out
