"""Character identity: a weight-free descriptor of a figure crop, and its similarity to others.

A crop is placed relative to the head box (the layout's face and hair boxes), resampled to a
canonical grid and described by a colour block (square-rooted CIE Lab histogram) and a shape
block (HOG of lightness); see `inkreel.evals.consistency` for the method in full.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image
from pydantic import BaseModel, Field
from scipy import ndimage
from skimage.color import rgb2lab
from skimage.feature import hog

from inkreel.art.character.figure import render_figure
from inkreel.art.geometry import box_area, union_box
from inkreel.art.lighting import character_light
from inkreel.measure.figures import ShotPixels
from inkreel.schemas import Box, Character, CharacterDesign, StoryboardFile


class CropThresholds(BaseModel):
    """Which figures are cropped for identity, and what the crop covers.

    One set for the image checks and the consistency evaluation (the evaluation's, which the
    image checks already read): the head-box floor keeps the 8 px HOG cells meaningful; the rest
    were set on the evaluation's hand-built episode (tests/test_consistency.py).
    """

    min_visible_fraction: float = Field(
        default=0.2, description="Identity crops: the figure's layout visible_fraction floor."
    )
    min_head_px: int = Field(default=32, description="Identity crops: head box height floor.")
    identity_region: Literal["upper_body", "head"] = Field(
        default="upper_body", description="Body part compared, placed relative to the head box."
    )
    max_other_figure_overlap: float = Field(
        default=0.05, description="Identity crops overlapping another figure more are skipped."
    )
    min_coverage_ratio: float = Field(
        default=0.6,
        description="A head crop with fewer figure pixels than this fraction of the matching "
        "reference view's is treated as occluded.",
    )


# Crop regions in units of the head box (face + hair boxes): (half width, top, bottom) relative
# to the head's centre x, top y and height h, and the canonical grid (w, h) they are resampled to.
REGIONS: dict[str, tuple[float, float, float, tuple[int, int]]] = {
    # crown to waist, shoulders and arms included: hair, face, accessories, outfit and trim
    "upper_body": (0.85, -0.10, 2.73, (48, 80)),
    # head and collar only
    "head": (0.65, -0.10, 1.20, (48, 48)),
}
_L_BINS, _A_BINS, _B_BINS = 5, 9, 9
_AB_RANGE = 90.0
_HOG = dict(orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2), block_norm="L2-Hys")


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


@dataclass
class Canon:
    """A crop resampled to the canonical grid: colours, figure coverage and frame validity."""

    rgb: np.ndarray  # (h, w, 3) float in [0, 1], figure colours (background-free)
    fig: np.ndarray  # (h, w) float: share of the cell covered by the figure
    valid: np.ndarray  # (h, w) bool: the cell lies inside the source image
    _flip: Canon | None = None

    def flipped(self) -> Canon:
        if self._flip is None:
            self._flip = Canon(self.rgb[:, ::-1], self.fig[:, ::-1], self.valid[:, ::-1])
            self._flip._flip = self
        return self._flip


@dataclass
class Descriptor:
    """A crop's two unit blocks (colour, shape) on the cells it was described on."""

    colour: np.ndarray
    shape: np.ndarray
    coverage: float  # figure share of the valid cells


def describe(c: Canon, valid: np.ndarray) -> Descriptor | None:
    """Unit-block descriptor of a canonical crop, restricted to `valid` cells."""
    m = (c.fig > 0.5) & valid
    if m.sum() < 30:
        return None
    lab = rgb2lab(np.clip(c.rgb, 0.0, 1.0))
    hist, _ = np.histogramdd(
        lab[m],
        bins=(_L_BINS, _A_BINS, _B_BINS),
        range=((0.0, 100.0), (-_AB_RANGE, _AB_RANGE), (-_AB_RANGE, _AB_RANGE)),
    )
    hist = ndimage.gaussian_filter(hist, sigma=0.5, mode="constant")
    hist /= max(hist.sum(), 1e-12)
    colour = _unit(np.sqrt(hist).ravel())
    light = np.where(m, lab[..., 0] / 100.0, 0.5)
    shape = _unit(hog(light, **_HOG))
    return Descriptor(colour, shape, float(m.sum() / max(1, valid.sum())))


def canonical_crop(
    rgb: np.ndarray,
    fig: np.ndarray,
    head: tuple[int, int, int, int],
    region: str,
) -> Canon:
    """Resample the region around `head` (rgb float (H, W, 3), fig float (H, W))."""
    half, top, bottom, (gw, gh) = REGIONS[region]
    hx = (head[0] + head[2]) / 2
    hh = head[3] - head[1]
    box = (hx - half * hh, head[1] + top * hh, hx + half * hh, head[1] + bottom * hh)
    H, W = fig.shape
    pad = math.ceil(max(0.0, -box[0], -box[1], box[2] - W, box[3] - H)) + 2
    chans = [rgb[..., 0] * fig, rgb[..., 1] * fig, rgb[..., 2] * fig, fig, np.ones_like(fig)]
    if pad > 2:
        chans = [np.pad(ch, pad) for ch in chans]
        box = (box[0] + pad, box[1] + pad, box[2] + pad, box[3] + pad)
    out = [
        np.asarray(
            Image.fromarray(ch.astype(np.float32)).resize(
                (gw, gh), Image.Resampling.BILINEAR, box=box
            ),
            np.float64,
        )
        for ch in chans
    ]
    cov = np.clip(out[3], 0.0, 1.0)
    colours = np.stack(out[:3], axis=-1) / np.maximum(cov, 1e-6)[..., None]
    return Canon(np.clip(colours, 0.0, 1.0), cov, out[4] > 0.99)


class DescCache:
    """Descriptors of canonical crops, each worked out once per set of compared cells."""

    def __init__(self) -> None:
        self._d: dict[tuple[int, bytes], Descriptor | None] = {}

    def get(self, c: Canon, valid: np.ndarray) -> Descriptor | None:
        key = (id(c), np.packbits(valid).tobytes())
        if key not in self._d:
            self._d[key] = describe(c, valid)
        return self._d[key]

    def sim(self, a: Canon, b: Canon) -> Match:
        """Compare a and b on the cells both show; b is also tried mirrored."""
        best = Match(-1.0, False, 0.0, 0.0, 0.0)
        for mirrored, bb in ((False, b), (True, b.flipped())):
            v = a.valid & bb.valid
            da, db = self.get(a, v), self.get(bb, v)
            if da is None or db is None:
                continue
            c, h = float(da.colour @ db.colour), float(da.shape @ db.shape)
            if (c + h) / 2.0 > best.sim:
                best = Match((c + h) / 2.0, mirrored, db.coverage, c, h)
        return best


@dataclass
class Match:
    """How alike two crops are, and how (mirrored or not; each block's cosine)."""

    sim: float  # cosine of the unit descriptors = mean of the two block cosines
    mirrored: bool
    coverage: float  # figure share of the second crop's compared cells
    colour: float
    shape: float


def _tup(b: Box | None) -> tuple[int, int, int, int] | None:
    return None if b is None else b.as_tuple()


def _union(*boxes: tuple[int, int, int, int] | None) -> tuple[int, int, int, int] | None:
    """The box around the given ones that are not empty (None when all are)."""
    kept = [b for b in boxes if b is not None and box_area(b) > 0]
    return functools.reduce(union_box, kept) if kept else None


# The facings `render_reference_sheet` may have used; the one reproducing the PNG is taken.
_FACINGS: tuple[Literal["front", "right", "left"], ...] = ("front", "right", "left")


def reference_head(
    design: CharacterDesign, view: str, rgba: np.ndarray
) -> tuple[tuple[int, int, int, int] | None, bool, str]:
    """Return (head box, has a face box, how it was found) for a stored turnaround image.

    The boxes come from the renderer's figure geometry for that view, accepted only if the
    re-rendered sprite has the stored image's size and silhouette; otherwise the head is the
    top 14.5 % of the silhouette (the proportion of this renderer's figures).
    """
    alpha = rgba[..., 3] > 127
    h, w = alpha.shape
    if view in ("front", "three_quarter", "side", "back"):
        for height in dict.fromkeys((640, round(h * 640 / 657))):
            for facing in _FACINGS:
                try:
                    fig = render_figure(
                        design,
                        height_px=height,
                        view=view,  # type: ignore[arg-type]
                        facing=facing,
                    )
                except (ValueError, ZeroDivisionError):
                    continue  # a degenerate size (a tiny image): use the proportional head
                if fig.image.size != (w, h):
                    continue
                a2 = np.asarray(fig.image.getchannel("A")) > 127
                union = (a2 | alpha).sum()
                if union and (a2 & alpha).sum() / union >= 0.98:
                    face = fig.face if fig.face[2] > fig.face[0] else None
                    hair = fig.hair if fig.hair[2] > fig.hair[0] else None
                    head = _union(face, hair)
                    if head is not None:
                        return head, face is not None, "rerender"
    ys = np.nonzero(alpha.any(axis=1))[0]
    if len(ys) == 0:
        return None, view != "back", "none"
    top = int(ys.min())
    bottom = top + max(4, round(0.145 * (ys.max() - top + 1)))
    cols = np.nonzero(alpha[top:bottom].any(axis=0))[0]
    return (int(cols.min()), top, int(cols.max()) + 1, bottom), view != "back", "proportional"


@dataclass
class Ref:
    """One turnaround view of a character, as a canonical crop."""

    character: str
    view: str
    face: bool
    canon: Canon


@dataclass
class Crop:
    """One figure of one keyframe, as a canonical crop."""

    shot_id: str
    character: str
    face: bool
    head_px: int
    canon: Canon


@dataclass
class IdentityInputs:
    """The references and keyframe crops to compare, and what was skipped and why."""

    refs: list[Ref] = field(default_factory=list)
    crops: list[Crop] = field(default_factory=list)
    skipped: dict[str, dict[str, int]] = field(default_factory=dict)
    geometry: dict[str, str] = field(default_factory=dict)


def collect_identity(
    root: Path,
    sb: StoryboardFile,
    shots: list[ShotPixels],
    params: CropThresholds,
    notes: list[str],
) -> IdentityInputs:
    """Crop every turnaround view of the cast and every usable figure of `shots`.

    A figure too small, clipped, overlapped by another or showing no figure pixels is
    skipped (counted per character and reason); missing references are noted in `notes`.
    """
    inp = IdentityInputs()
    for name, ch in sb.cast.items():
        inp.skipped.setdefault(name, {})
        _reference_crops(root, name, ch, params.identity_region, inp, notes)
    for sd in shots:
        _shot_crops(sd, params, inp)
    return inp


def _reference_crops(
    root: Path, name: str, ch: Character, region: str, inp: IdentityInputs, notes: list[str]
) -> None:
    """The canonical head crop of each of a character's turnaround views."""
    for view, rel in ch.turnaround.items():
        path = root / rel
        if not path.exists():
            notes.append(f"{name}: reference {rel} missing.")
            continue
        with Image.open(path) as im:
            rgba = np.asarray(im.convert("RGBA"))
        head, face, how = reference_head(ch.design, view, rgba)
        inp.geometry[f"{name}/{view}"] = how
        if head is None:
            continue
        canon = canonical_crop(
            rgba[..., :3].astype(np.float64) / 255.0,
            rgba[..., 3].astype(np.float64) / 255.0,
            head,
            region,
        )
        inp.refs.append(Ref(name, view, face, canon))


def _skip(inp: IdentityInputs, name: str, why: str) -> None:
    counts = inp.skipped.setdefault(name, {})
    counts[why] = counts.get(why, 0) + 1


def _shot_crops(sd: ShotPixels, params: CropThresholds, inp: IdentityInputs) -> None:
    """The canonical head crop of each usable figure of one shot (the others counted as
    skipped, with the reason)."""
    light = (
        character_light(sd.location, sd.shot.time_of_day)
        if sd.location is not None
        else np.ones(3, np.float32)
    )
    frame: np.ndarray | None = None
    fig_mask = sd.ink.astype(np.float64)
    for i, f in enumerate(sd.figures):
        head, why = _usable_head(sd, i, params)
        if head is None:
            _skip(inp, f.character, why)
            continue
        if frame is None:
            frame = np.clip(sd.rgb.astype(np.float64) / 255.0 / light[None, None, :], 0, 1)
        canon = canonical_crop(frame, fig_mask, head, params.identity_region)
        if ((canon.fig > 0.5) & canon.valid).sum() < 30:
            _skip(inp, f.character, "no_figure_pixels")
            continue
        hh = head[3] - head[1]
        inp.crops.append(Crop(sd.shot.id, f.character, f.face is not None, hh, canon))


def _usable_head(
    sd: ShotPixels, i: int, params: CropThresholds
) -> tuple[tuple[int, int, int, int] | None, str]:
    """Figure `i`'s head box when it can be compared with the references, else None and why
    not: too little of it visible, no head, clipped by the frame, too small, or its crop
    region overlapped by another figure."""
    f = sd.figures[i]
    W, H = sd.size
    if f.visible_fraction < params.min_visible_fraction:
        return None, "low_visible_fraction"
    head = _union(_tup(f.face), _tup(f.hair))
    if head is None:
        return None, "no_head_box"
    if head[0] <= 0 or head[1] <= 0 or head[2] >= W or head[3] >= H:
        return None, "head_clipped"
    hh = head[3] - head[1]
    if hh < params.min_head_px:
        return None, "too_small"
    half, top, bottom, _ = REGIONS[params.identity_region]
    hx = (head[0] + head[2]) / 2
    reg = (hx - half * hh, head[1] + top * hh, hx + half * hh, head[1] + bottom * hh)
    area = (reg[2] - reg[0]) * (reg[3] - reg[1])
    overlap = 0.0
    for j, g in enumerate(sd.figures):
        if j != i:
            ix = min(reg[2], g.body.x1) - max(reg[0], g.body.x0)
            iy = min(reg[3], g.body.y1) - max(reg[1], g.body.y0)
            overlap = max(overlap, max(0.0, ix) * max(0.0, iy))
    if overlap > params.max_other_figure_overlap * area:
        return None, "overlapped_by_other_figure"
    return head, ""
