"""Plant one continuity defect in a storyboard's keyframes, to measure the image checks.

Used by the planted-defect evaluation (`inkreel.evals.continuity`) and by the keyframe drift
drill (`inkreel.drills.drift`).

    planted = plant_image(board, root, out_dir, "hair_colour", random.Random(3))
    if planted is not None:
        bad_board, defect = planted

The defective keyframe is written under `out_dir`; the returned board is a copy whose keyframe
path for that shot points to it (relative to `root`, like every other path in the board), and
whose layout still says what the storyboard wanted, as a faulty render would leave it. The
original files are never touched and only the planted shot changes.

Most defects are drawn by the renderer itself, as a mistake in what it was asked to draw: the shot
is rendered once as specified and once with the mistake (another hair colour, the outfits swapped,
a character left out or added, a set element displaced), and the pixels where the two renders
differ are copied into the keyframe. The rest of the frame stays byte-identical. Whole-frame
mistakes replace the frame: mirrored (`line_flip`), rendered at another time of day
(`day_night`), rendered in another location of the storyboard (`wrong_location`).
A shot is only used when re-rendering it reproduces its keyframe (a storyboard made elsewhere
cannot be planted this way) and the defect is clearly visible in it; `plant` returns None when
no shot qualifies.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image
from pydantic import BaseModel

from inkreel.art.camera import FIGURE_HEIGHT_M, pixels_per_metre
from inkreel.art.lighting import shot_light
from inkreel.art.shot.frame import render_keyframe
from inkreel.measure.colour import delta_e00
from inkreel.measure.figures import differing
from inkreel.schemas import (
    Blocking,
    Box,
    CharacterDesign,
    FigureLayout,
    Keyframe,
    LocationDesign,
    Shot,
    StoryboardFile,
)

IMAGE_TYPES: list[str] = [
    "hair_colour",
    "outfit_swap",
    "missing_character",
    "extra_character",
    "set_element_moved",
    "line_flip",
    "day_night",
    "wrong_location",
]

# Hair colours far apart in hue and lightness; a planted one is at least MIN_HAIR_DELTA_E from
# the design's hair, skin and outfit so the change is unmistakable.
HAIR_COLOURS = (
    "#e8c84a",
    "#c0302a",
    "#2a5cd0",
    "#2e9a48",
    "#e070c0",
    "#f2f2f2",
    "#151515",
    "#7a3cc0",
    "#e07820",
)
MIN_HAIR_DELTA_E = 30.0
MIN_OUTFIT_DELTA_E = 25.0
MIN_VISIBLE = 0.5  # a figure must be at least this much in frame to be planted on
MIN_CHANGED_PX = 60  # a planted change must touch at least this many pixels
MAX_BASE_MISMATCH = 0.001  # the re-render must reproduce the keyframe on all but this share


class PlantedDefect(BaseModel):
    """What was planted where, for scoring the checks."""

    defect: str
    level: Literal["script", "storyboard", "image"] = "image"
    shots: list[str]
    scene: int | None = None
    description: str


# ---------------------------------------------------------------------------------------------
# helpers


def _load(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _grow(b: Box, m: int, size: tuple[int, int]) -> tuple[slice, slice]:
    W, H = size
    return slice(max(0, b.y0 - m), min(H, b.y1 + m)), slice(max(0, b.x0 - m), min(W, b.x1 + m))


class _Shot:
    """One shot of the board with what planting it needs: its keyframe, set and cast."""

    def __init__(self, board: StoryboardFile, root: Path, shot: Shot) -> None:
        self.board = board
        self.shot = shot
        self.kf: Keyframe = board.keyframes[shot.id]
        self.location: LocationDesign = board.locations[shot.location].design
        self.cast = {n: c.design for n, c in board.cast.items()}
        self.rgb = _load(root / self.kf.path)
        self.size = (self.rgb.shape[1], self.rgb.shape[0])
        self._base: np.ndarray | None = None

    def render(
        self,
        shot: Shot | None = None,
        location: LocationDesign | None = None,
        cast: dict[str, CharacterDesign] | None = None,
    ) -> tuple[np.ndarray, list[FigureLayout]]:
        img, figures, _ = render_keyframe(
            shot or self.shot, location or self.location, cast or self.cast, self.size
        )
        return np.asarray(img.convert("RGB")), figures

    @property
    def base(self) -> np.ndarray:
        if self._base is None:
            self._base = self.render()[0]
        return self._base

    def reproducible(self) -> bool:
        diff = differing(self.base, self.rgb, 2)
        return float(diff.mean()) <= MAX_BASE_MISMATCH

    def delta(self, wrong: np.ndarray, region: Box | None = None) -> np.ndarray | None:
        """Copy into the keyframe the pixels where `wrong` differs from the correct render."""
        changed = np.any(wrong != self.base, axis=2)
        if region is not None:
            keep = np.zeros_like(changed)
            keep[_grow(region, 4, self.size)] = True
            changed &= keep
        if changed.sum() < MIN_CHANGED_PX:
            return None
        out = self.rgb.copy()
        out[changed] = wrong[changed]
        return out

    def visible(self) -> list[FigureLayout]:
        return [f for f in self.kf.figures if f.visible_fraction >= MIN_VISIBLE]


_Planter = Callable[[_Shot, random.Random], tuple[np.ndarray, str] | None]


# ---------------------------------------------------------------------------------------------
# planters: each returns (defective frame, description) or None when the shot does not qualify


def _hair_colour(s: _Shot, rng: random.Random) -> tuple[np.ndarray, str] | None:
    figures = [
        f
        for f in s.visible()
        if f.character in s.cast
        and f.hair is not None
        and f.hair.area >= 40
        and s.cast[f.character].hair_style != "bald"
        and "hat" not in s.cast[f.character].accessories
    ]
    rng.shuffle(figures)
    for f in figures:
        d = s.cast[f.character]
        options = [
            c
            for c in HAIR_COLOURS
            if min(delta_e00(c, d.hair_colour), delta_e00(c, d.skin), delta_e00(c, d.outfit_colour))
            >= MIN_HAIR_DELTA_E
        ]
        if not options:
            continue
        colour = rng.choice(options)
        cast = dict(s.cast) | {f.character: d.model_copy(update={"hair_colour": colour})}
        out = s.delta(s.render(cast=cast)[0], f.body)
        if out is not None:
            return out, (
                f"{f.character}'s hair drawn {colour} instead of {d.hair_colour} in {s.shot.id}."
            )
    return None


def _outfit_swap(s: _Shot, rng: random.Random) -> tuple[np.ndarray, str] | None:
    figures = [
        f
        for f in s.visible()
        if f.character in s.cast and f.outfit is not None and f.outfit.area >= 40
    ]
    pairs = [(a, b) for i, a in enumerate(figures) for b in figures[i + 1 :]]
    rng.shuffle(pairs)
    for a, b in pairs:
        da, db = s.cast[a.character], s.cast[b.character]
        if delta_e00(da.outfit_colour, db.outfit_colour) < MIN_OUTFIT_DELTA_E:
            continue
        cast = dict(s.cast) | {
            a.character: da.model_copy(update={"outfit_colour": db.outfit_colour}),
            b.character: db.model_copy(update={"outfit_colour": da.outfit_colour}),
        }
        wrong = s.render(cast=cast)[0]
        region = Box(
            x0=min(a.body.x0, b.body.x0),
            y0=min(a.body.y0, b.body.y0),
            x1=max(a.body.x1, b.body.x1),
            y1=max(a.body.y1, b.body.y1),
        )
        out = s.delta(wrong, region)
        if out is not None:
            return out, (
                f"{a.character} ({da.outfit_colour}) and {b.character} ({db.outfit_colour}) "
                f"wear each other's outfit colours in {s.shot.id}."
            )
    return None


def _missing_character(s: _Shot, rng: random.Random) -> tuple[np.ndarray, str] | None:
    figures = [f for f in s.visible() if f.body.area >= 400]
    rng.shuffle(figures)
    for f in figures:
        blocking = [b for b in s.shot.blocking if b.character != f.character]
        wrong, layout = s.render(shot=s.shot.model_copy(update={"blocking": blocking}))
        # The others must be drawn as before (a push-in centres on the speaker).
        if [g for g in s.kf.figures if g.character != f.character] != layout:
            continue
        out = s.delta(wrong, f.body)
        if out is not None:
            return out, f"{f.character} left out of {s.shot.id} (the storyboard blocks them in)."
    return None


def _extra_character(s: _Shot, rng: random.Random) -> tuple[np.ndarray, str] | None:
    cam = s.shot.camera
    W, H = s.size
    ppm = pixels_per_metre(cam, W)
    in_shot = {b.character for b in s.shot.blocking}
    names = [n for n in s.cast if n not in in_shot] or list(s.cast)
    if not names:
        return None
    who = rng.choice(names)
    positions = [0.1 + 0.8 * i / 16 for i in range(17)]
    rng.shuffle(positions)
    fig_h = min(float(H), FIGURE_HEIGHT_M * ppm)
    for sx in positions:
        px = sx * W
        if cam.reverse:
            px = W - px
        world_x = cam.x + (px - W / 2) / ppm
        extra = Blocking(character=who, world_x=world_x, screen_x=sx, facing="front")
        shot = s.shot.model_copy(update={"blocking": [*s.shot.blocking, extra]})
        wrong, layout = s.render(shot=shot)
        if layout[: len(s.kf.figures)] != s.kf.figures or len(layout) <= len(s.kf.figures):
            continue
        new = layout[-1]
        seen = Box(
            x0=max(0, new.body.x0),
            y0=max(0, new.body.y0),
            x1=min(W, new.body.x1),
            y1=min(H, new.body.y1),
        )
        if seen.area < 0.8 * new.body.area or seen.y1 - seen.y0 < 0.5 * fig_h:
            continue
        if any(seen.overlap(f.body, 12) for f in s.kf.figures):
            continue
        out = s.delta(wrong, new.body)
        if out is not None:
            return out, f"{who} drawn into {s.shot.id} at screen x {sx:.2f}, unblocked."
    return None


def _set_element_moved(s: _Shot, rng: random.Random) -> tuple[np.ndarray, str] | None:
    W = s.size[0]
    cam = s.shot.camera
    keys = [k for k, b in s.kf.elements.items() if b.area >= 600]
    rng.shuffle(keys)
    for k in keys:
        i = int(k)
        if i >= len(s.location.elements):
            continue
        el = s.location.elements[i]
        box = s.kf.elements[k]
        if (
            box.x0 <= 0
            or box.x1 >= W
            or any(box.overlap(f.body) > 0.2 * box.area for f in s.kf.figures)
        ):
            continue
        ppm = pixels_per_metre(cam, W, el.layer)
        step = max(16.0, 0.3 * (box.x1 - box.x0)) * rng.choice((-1.0, 1.0))
        for dx_px in (step, -step):  # the other way if the first leaves the frame
            moved = Box(x0=box.x0 + round(dx_px), y0=box.y0, x1=box.x1 + round(dx_px), y1=box.y1)
            if moved.x0 >= 0 and moved.x1 <= W:
                break
        else:
            continue
        if any(moved.overlap(f.body) > 0.2 * moved.area for f in s.kf.figures):
            continue
        dx_m = dx_px / ppm * (-1.0 if cam.reverse else 1.0)
        elements = list(s.location.elements)
        elements[i] = el.model_copy(update={"x": el.x + dx_m})
        wrong = s.render(location=s.location.model_copy(update={"elements": elements}))[0]
        out = s.delta(wrong)
        if out is not None:
            return out, (
                f"The {el.kind} (set element {k}) in {s.shot.id} moved {dx_m:+.2f} m "
                f"({dx_px:+.0f} px) from where the set has it."
            )
    return None


def _line_flip(s: _Shot, rng: random.Random) -> tuple[np.ndarray, str] | None:
    if not s.kf.figures:
        return None
    return np.ascontiguousarray(s.rgb[:, ::-1]), f"{s.shot.id} mirrored left to right."


def _day_night(s: _Shot, rng: random.Random) -> tuple[np.ndarray, str] | None:
    tod = s.shot.time_of_day
    own = shot_light(s.location, tod)
    want = {"day": ["night"], "night": ["day"], "dusk": ["night", "day"]}.get(tod, ["night"])
    options = [t for t in want if t in s.location.lighting and s.location.lighting[t] != own] or [
        t for t, lit in s.location.lighting.items() if t != tod and lit != own
    ]
    if not options:
        return None
    other = rng.choice(options)
    wrong = s.render(shot=s.shot.model_copy(update={"time_of_day": other}))[0]
    return wrong, f"{s.shot.id} lit for {other} instead of {tod}."


def _wrong_location(s: _Shot, rng: random.Random) -> tuple[np.ndarray, str] | None:
    others = [n for n in s.board.locations if n != s.shot.location]
    if not others:
        return None
    name = rng.choice(others)
    design = s.board.locations[name].design
    wrong = s.render(shot=s.shot.model_copy(update={"location": name}), location=design)[0]
    return wrong, f"{s.shot.id} drawn in {name} instead of {s.shot.location}."


_PLANTERS: dict[str, _Planter] = {
    "hair_colour": _hair_colour,
    "outfit_swap": _outfit_swap,
    "missing_character": _missing_character,
    "extra_character": _extra_character,
    "set_element_moved": _set_element_moved,
    "line_flip": _line_flip,
    "day_night": _day_night,
    "wrong_location": _wrong_location,
}


def plant_image(
    board: StoryboardFile, root: Path, out_dir: Path, defect: str, rng: random.Random
) -> tuple[StoryboardFile, PlantedDefect] | None:
    """Plant `defect` in one shot picked with `rng`; None if no shot of the board qualifies."""
    if defect not in _PLANTERS:
        raise ValueError(f"unknown image defect {defect!r}; choose one of {IMAGE_TYPES}")
    root = Path(root)
    shots = [
        s
        for s in board.shots
        if s.id in board.keyframes
        and s.location in board.locations
        and (root / board.keyframes[s.id].path).is_file()
    ]
    rng.shuffle(shots)
    for shot in shots:
        s = _Shot(board, root, shot)
        if not s.reproducible():
            continue
        made = _PLANTERS[defect](s, rng)
        if made is None:
            continue
        frame, description = made
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"{shot.id}-{defect}.png"
        Image.fromarray(frame).save(path)
        bad = board.model_copy(deep=True)
        bad.keyframes[shot.id].path = Path(os.path.relpath(path, root)).as_posix()
        return bad, PlantedDefect(
            defect=defect, shots=[shot.id], scene=shot.scene, description=description
        )
    return None
