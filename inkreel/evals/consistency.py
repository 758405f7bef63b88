"""Consistency evaluation of a produced episode, computed from the rendered pixels.

Three families of metrics, read from `DIR/episodes/NAME/storyboard.json` and the PNGs it names.
The storyboard's layouts are used only to know *where to crop*; every score comes from pixels.

Identity (ViStoryBench-style CIDS with a weight-free descriptor)
    Crops are placed relative to the head box (union of the layout's `face` and `hair` boxes,
    height h): by default the upper body, x = head centre +/- 0.85 h, y = crown - 0.1 h ..
    crown + 2.73 h (hair, face, accessories, outfit and trim), resampled to a 48 x 80 grid. The
    same region is cut from every turnaround view of every character; its face/hair boxes come
    from re-running the renderer's figure *geometry* for that view, accepted only if the re-render
    reproduces the stored reference PNG (otherwise a proportional head box from the alpha).
    Figure pixels in a keyframe are found by comparing it with the same shot's set rendered
    *without* characters (same camera, same light); this is exact for this renderer and is checked
    per shot (if the re-render does not reproduce the keyframe outside the figures, a
    background-palette heuristic is used and the report says so).
    The keyframe crop is divided by the shot's character light (`renderer.character_light`):
    the known illuminant is undone the way the known camera is undone for the set.
    Descriptor = two blocks, each L2-normalised:
      * colour: joint CIE Lab histogram (L 5 x a 9 x b 9 bins, lightly smoothed) of the figure
        pixels, square-rooted (Hellinger map) so the cosine of two colour blocks is their
        Bhattacharyya coefficient;
      * shape: HOG (9 orientations, 8 px cells, 2x2 blocks, L2-Hys) of the grid's lightness with
        the background replaced by neutral grey.
    Similarity = cosine of the concatenated unit blocks / 2 (= mean of the two block cosines),
    computed only on grid cells both crops show (a close-up cuts the torso; the reference is cut
    the same way), taking the better of direct and mirrored (a character facing left is a
    mirrored turnaround view).
    cross-CIDS = mean over a character's crops of the best similarity to its turnaround views;
    self-CIDS = mean similarity over pairs of its crops from different shots seen from the same
    side (back views, with no face box, are only compared with back views). The negative control
    computes the same two numbers against every *other* character; margin = same - most similar
    other. `cross_margin_ceiling` is the margin a pixel-perfect copy of the matched reference view
    would get: how far apart the designs are under this descriptor, whatever the renderer does.

On-screen count (OCCM)
    OCCM = 100 * exp(-|D - E| / (eps + E)) per shot, E = blocked characters whose screen_x is
    inside the frame, D = figure layouts with visible_fraction above a small threshold whose body
    box actually contains figure pixels (pixels that differ from the set without characters).
    The renderer's visible_fraction is the share of the body *box* inside the frame; it does not
    see a figure covered by the set or painted over, which the figure-pixel check does.

Set stability
    For every set element of a location, the shot where it is fully in frame and least occluded
    (the widest such shot first) is its anchor: its appearance there, at its predicted box
    (`camera.project` and `pixels_per_metre`), is the template. In every other shot showing at
    least half of it (in frame and not covered), the shot is resampled around the predicted
    position to the anchor's pixels-per-metre (mirrored if the camera is reversed) and the
    template is matched there by masked normalised cross-correlation of gradient magnitude
    (robust to the time-of-day tint), with characters and nearer set elements masked out,
    searching 0.35 m around the prediction. The offset of the best match (sub-pixel)
    is the displacement after undoing the camera, reported in pixels of a 1280-wide frame shot
    with the location's reference camera (its widest shot).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image
from pydantic import BaseModel, Field
from scipy import ndimage
from scipy.signal import fftconvolve
from skimage.color import rgb2lab
from skimage.feature import hog

from inkreel import __version__
from inkreel.media import renderer
from inkreel.media.camera import DEPTH_SCALE, pixels_per_metre, project
from inkreel.project import write_text_atomic
from inkreel.schemas import (
    Box,
    Camera,
    CharacterDesign,
    FigureLayout,
    LocationDesign,
    SetElement,
    Shot,
    StoryboardFile,
)

REPORT_FORMAT = 1
REFERENCE_WIDTH = 1280  # set displacements are reported in pixels of a frame this wide
OCCM_EPS = 1e-6

# ---------------------------------------------------------------------------------------------
# report


class Params(BaseModel):
    """Every threshold the evaluation uses, recorded with its results."""

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
    diff_threshold: int = Field(
        default=10, description="Max channel difference from the empty set that marks ink."
    )
    max_set_mismatch: float = Field(
        default=0.2,
        description="Above this share of differing pixels outside the characters the empty-set "
        "re-render is not trusted and a palette heuristic finds figure pixels.",
    )
    palette_threshold: float = Field(
        default=12.0, description="Fallback mask: Lab distance from every background colour."
    )
    count_min_visible: float = Field(default=0.05, description="OCCM: visible_fraction floor.")
    count_min_ink: float = Field(
        default=0.05, description="OCCM: share of the body box that must be figure pixels."
    )
    set_search_m: float = Field(default=0.35, description="Set search radius, metres.")
    set_min_score: float = Field(
        default=0.5, description="Set matches with a lower correlation peak are 'unmatched'."
    )
    set_min_usable: float = Field(
        default=0.95,
        description="Elements with less of their box in frame and unoccluded are skipped, so a "
        "thin pole cut by the frame edge is not matched to a nearby edge "
        "(the template always comes from a shot showing the whole element).",
    )
    set_max_occlusion: float = Field(
        default=0.5,
        description="Elements more covered than this (by characters or nearer set "
        "elements) are skipped.",
    )


class CropScore(BaseModel):
    shot_id: str
    character: str
    side: Literal["face", "back"]
    head_px: int
    best_view: str = Field(description="Own turnaround view that matched best ('~' = mirrored).")
    cross: float = Field(description="Similarity to own references (best view).")
    cross_others: dict[str, float] = Field(description="Best similarity to each other character.")
    cross_margin: float | None = None
    cross_margin_ceiling: float | None = Field(
        default=None,
        description="The cross margin a pixel-perfect copy of the matched reference view would "
        "get: 1 - its best similarity to any other character's reference.",
    )
    self_mean: float | None = Field(default=None, description="Mean similarity to own crops.")
    self_others: dict[str, float] = Field(default_factory=dict)
    self_margin: float | None = None


class CharacterIdentity(BaseModel):
    character: str
    crops: int
    skipped: dict[str, int] = Field(default_factory=dict)
    cross_cids: float | None = None
    self_cids: float | None = None
    self_pairs: int = 0
    cross_vs: dict[str, float] = Field(
        default_factory=dict, description="Other character -> crops of this one vs its refs."
    )
    self_vs: dict[str, float] = Field(
        default_factory=dict, description="Other character -> crops of this one vs its crops."
    )
    cross_margin: float | None = Field(
        default=None, description="cross_cids minus the highest cross_vs."
    )
    self_margin: float | None = None
    cross_margin_ceiling: float | None = Field(
        default=None, description="Mean over crops of CropScore.cross_margin_ceiling."
    )
    blocks: dict[str, float] = Field(
        default_factory=dict,
        description="Mean block cosines of each crop's best own match and of its best match "
        "with the most similar other character (own_/other_ colour and shape).",
    )


class IdentityReport(BaseModel):
    region: str
    descriptor: str
    reference_geometry: dict[str, str] = Field(
        default_factory=dict, description="Character/view -> 'rerender' or 'proportional'."
    )
    characters: list[CharacterIdentity] = Field(default_factory=list)
    crops: list[CropScore] = Field(default_factory=list)
    cross_cids: float | None = Field(default=None, description="Mean over characters.")
    self_cids: float | None = Field(default=None, description="Mean over characters.")
    cross_other: float | None = Field(default=None, description="Mean different-character cross.")
    self_other: float | None = Field(default=None, description="Mean different-character self.")
    cross_margin_mean: float | None = None
    cross_margin_worst: float | None = Field(default=None, description="Worst single crop.")
    self_margin_mean: float | None = None
    self_margin_worst: float | None = Field(default=None, description="Worst single crop.")
    cross_margin_ceiling: float | None = Field(
        default=None,
        description="Mean over characters: the cross margin if every crop were a pixel-perfect "
        "copy of its reference view (how far apart the designs themselves are).",
    )


class ShotCount(BaseModel):
    shot_id: str
    expected: list[str]
    detected: list[str]
    occm: float
    ink: dict[str, float] = Field(
        default_factory=dict, description="Layout character -> share of body box that is ink."
    )


class CountReport(BaseModel):
    shots: list[ShotCount] = Field(default_factory=list)
    mean_occm: float | None = None
    min_occm: float | None = None


class ElementShift(BaseModel):
    shot_id: str
    element: str
    kind: str
    layer: str
    anchor_shot: str
    dx_px: float = Field(description="Horizontal shift, reference-frame px (+ = screen right).")
    dy_px: float = Field(description="Vertical shift, reference-frame px (+ = down).")
    displacement_px: float = Field(description="|shift| in px of the 1280-wide reference frame.")
    native_px: float = Field(description="|shift| in the shot's own pixels.")
    metres: float = Field(description="|shift| in metres at the element's depth.")
    score: float = Field(description="Peak normalised cross-correlation.")
    occluded: float = Field(description="Share of the element masked out (characters etc.).")
    in_frame: float = Field(default=1.0, description="Share of the element inside the frame.")
    lost: bool = Field(default=False, description="Best match on the search window's edge.")


class LocationStability(BaseModel):
    location: str
    reference_shot: str
    reference_ppm: float = Field(description="Midground px/m of the reference frame at 1280 px.")
    shots: int
    measured: int = 0
    anchors: int = 0
    skipped_partly_out_of_frame: int = 0
    skipped_occluded: int = 0
    skipped_no_anchor: int = 0
    unmatched: int = Field(default=0, description="Matches below the score floor or lost.")
    max_px: float | None = None
    mean_px: float | None = None
    elements: list[ElementShift] = Field(default_factory=list)


class StabilityReport(BaseModel):
    locations: list[LocationStability] = Field(default_factory=list)
    max_px: float | None = None
    mean_px: float | None = None
    measured: int = 0
    unmatched: int = 0


class Target(BaseModel):
    name: str
    value: float | None
    threshold: float
    comparison: Literal[">=", "<="]
    met: bool | None = Field(description="None when the metric could not be measured.")
    note: str = ""


class ConsistencyReport(BaseModel):
    format: int = REPORT_FORMAT
    inkreel_version: str = __version__
    project: str
    episode: str
    shots: int
    params: Params = Field(default_factory=Params)
    mask_method: dict[str, str] = Field(
        default_factory=dict, description="Shot -> 'set_difference' or 'palette_heuristic'."
    )
    identity: IdentityReport
    counts: CountReport
    set_stability: StabilityReport
    targets: list[Target] = Field(default_factory=list)
    timings_s: dict[str, float] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)

    @property
    def all_targets_met(self) -> bool:
        return all(t.met for t in self.targets)


# ---------------------------------------------------------------------------------------------
# loading


@dataclass
class ShotData:
    shot: Shot
    figures: list[FigureLayout]
    rgb: np.ndarray  # (H, W, 3) uint8 keyframe
    ink: np.ndarray  # (H, W) bool: figure pixels
    mask_method: str
    location: LocationDesign | None

    @property
    def size(self) -> tuple[int, int]:
        return self.rgb.shape[1], self.rgb.shape[0]


def _load_rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _box_slices(b: Box | tuple[int, int, int, int]) -> tuple[slice, slice]:
    if isinstance(b, Box):
        b = (b.x0, b.y0, b.x1, b.y1)
    return slice(max(0, b[1]), max(0, b[3])), slice(max(0, b[0]), max(0, b[2]))


def _figure_boxes_mask(figures: list[FigureLayout], size: tuple[int, int], grow: int) -> np.ndarray:
    W, H = size
    m = np.zeros((H, W), bool)
    for f in figures:
        b = f.body
        m[max(0, b.y0 - grow) : b.y1 + grow, max(0, b.x0 - grow) : b.x1 + grow] = True
    return m


def palette_mask(rgb: np.ndarray, figures: list[FigureLayout], threshold: float) -> np.ndarray:
    """Fallback figure mask: body-box pixels far (Lab) from every colour in a ring around it."""
    H, W = rgb.shape[:2]
    out = np.zeros((H, W), bool)
    lab = rgb2lab(rgb)
    for f in figures:
        b = f.body
        g = 4
        x0, y0, x1, y1 = max(0, b.x0 - g), max(0, b.y0 - g), min(W, b.x1 + g), min(H, b.y1 + g)
        ring = np.ones((y1 - y0, x1 - x0), bool)
        ring[b.y0 - y0 : b.y1 - y0, b.x0 - x0 : b.x1 - x0] = False
        samples = lab[y0:y1, x0:x1][ring]
        if len(samples) == 0:
            continue
        q = np.unique(np.round(samples / 4.0), axis=0) * 4.0
        inner = lab[b.y0 : b.y1, b.x0 : b.x1]
        flat = inner.reshape(-1, 3)
        best = np.full(len(flat), np.inf, np.float32)
        for i in range(0, len(q), 64):
            d = np.linalg.norm(flat[:, None, :] - q[None, i : i + 64, :], axis=2).min(axis=1)
            best = np.minimum(best, d)
        out[b.y0 : b.y1, b.x0 : b.x1] |= best.reshape(inner.shape[:2]) > threshold
    return out


def _load_shots(root: Path, sb: StoryboardFile, params: Params, notes: list[str]) -> list[ShotData]:
    out: list[ShotData] = []
    for shot in sb.shots:
        kf = sb.keyframes.get(shot.id)
        if kf is None:
            notes.append(f"{shot.id}: no keyframe in storyboard.json; shot skipped.")
            continue
        path = root / kf.path
        if not path.exists():
            notes.append(f"{shot.id}: keyframe {kf.path} missing; shot skipped.")
            continue
        rgb = _load_rgb(path)
        size = (rgb.shape[1], rgb.shape[0])
        loc = sb.locations.get(shot.location)
        design = loc.design if loc is not None else None
        method = "palette_heuristic"
        ink = None
        if design is not None:
            empty, _, _ = renderer.render_keyframe(
                shot.model_copy(update={"blocking": []}), design, {}, size
            )
            diff = np.abs(rgb.astype(np.int16) - np.asarray(empty, np.int16)).max(axis=2)
            ink_full = diff > params.diff_threshold
            outside = ~_figure_boxes_mask(kf.figures, size, grow=3)
            # Outside the characters the empty set must reproduce the keyframe. A few changed
            # set pixels (an element that moved) only matter where they fall in a body box.
            mismatch = float(ink_full[outside].mean()) if outside.any() else 0.0
            if mismatch <= params.max_set_mismatch:
                ink = ink_full & ~outside
                method = "set_difference"
                if mismatch > 0.002:
                    notes.append(
                        f"{shot.id}: the empty-set re-render differs from the keyframe on "
                        f"{mismatch:.1%} of the pixels outside the characters (set changed?)."
                    )
        if ink is None:
            notes.append(
                f"{shot.id}: the set re-render does not reproduce the keyframe; figure pixels "
                "estimated with the background-palette heuristic (much less reliable)."
            )
            ink = palette_mask(rgb, kf.figures, threshold=params.palette_threshold)
        out.append(ShotData(shot, kf.figures, rgb, ink, method, design))
    return out


# ---------------------------------------------------------------------------------------------
# identity

# Crop regions in units of the head box (face + hair boxes): (half width, top, bottom) relative
# to the head's centre x, top y and height h, and the canonical grid (w, h) they are resampled to.
_REGIONS: dict[str, tuple[float, float, float, tuple[int, int]]] = {
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
class _Canon:
    """A crop resampled to the canonical grid: colours, figure coverage and frame validity."""

    rgb: np.ndarray  # (h, w, 3) float in [0, 1], figure colours (background-free)
    fig: np.ndarray  # (h, w) float: share of the cell covered by the figure
    valid: np.ndarray  # (h, w) bool: the cell lies inside the source image
    _flip: _Canon | None = None

    def flipped(self) -> _Canon:
        if self._flip is None:
            self._flip = _Canon(self.rgb[:, ::-1], self.fig[:, ::-1], self.valid[:, ::-1])
            self._flip._flip = self
        return self._flip


@dataclass
class _Desc:
    colour: np.ndarray
    shape: np.ndarray
    coverage: float  # figure share of the valid cells


def _describe(c: _Canon, valid: np.ndarray) -> _Desc | None:
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
    return _Desc(colour, shape, float(m.sum() / max(1, valid.sum())))


def canonical_crop(
    rgb: np.ndarray,
    fig: np.ndarray,
    head: tuple[int, int, int, int],
    region: str,
) -> _Canon:
    """Resample the region around `head` (rgb float (H, W, 3), fig float (H, W))."""
    half, top, bottom, (gw, gh) = _REGIONS[region]
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
    return _Canon(np.clip(colours, 0.0, 1.0), cov, out[4] > 0.99)


class DescCache:
    def __init__(self) -> None:
        self._d: dict[tuple[int, bytes], _Desc | None] = {}

    def get(self, c: _Canon, valid: np.ndarray) -> _Desc | None:
        key = (id(c), np.packbits(valid).tobytes())
        if key not in self._d:
            self._d[key] = _describe(c, valid)
        return self._d[key]

    def sim(self, a: _Canon, b: _Canon) -> _Match:
        """Compare a and b on the cells both show; b is also tried mirrored."""
        best = _Match(-1.0, False, 0.0, 0.0, 0.0)
        for mirrored, bb in ((False, b), (True, b.flipped())):
            v = a.valid & bb.valid
            da, db = self.get(a, v), self.get(bb, v)
            if da is None or db is None:
                continue
            c, h = float(da.colour @ db.colour), float(da.shape @ db.shape)
            if (c + h) / 2.0 > best.sim:
                best = _Match((c + h) / 2.0, mirrored, db.coverage, c, h)
        return best


@dataclass
class _Match:
    sim: float  # cosine of the unit descriptors = mean of the two block cosines
    mirrored: bool
    coverage: float  # figure share of the second crop's compared cells
    colour: float
    shape: float


def _tup(b: Box | None) -> tuple[int, int, int, int] | None:
    return None if b is None else (b.x0, b.y0, b.x1, b.y1)


def _union(*boxes: tuple[int, int, int, int] | None) -> tuple[int, int, int, int] | None:
    bs = [b for b in boxes if b is not None and b[2] > b[0] and b[3] > b[1]]
    if not bs:
        return None
    return (
        min(b[0] for b in bs),
        min(b[1] for b in bs),
        max(b[2] for b in bs),
        max(b[3] for b in bs),
    )


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
                    fig = renderer.render_figure(
                        design,
                        height_px=height,
                        view=view,  # type: ignore[arg-type]
                        facing=facing,
                    )
                except Exception:  # any failure just means: use the proportional fallback
                    continue
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
    character: str
    view: str
    face: bool
    canon: _Canon


@dataclass
class _Crop:
    shot_id: str
    character: str
    face: bool
    head_px: int
    canon: _Canon


@dataclass
class _IdentityInputs:
    refs: list[Ref] = field(default_factory=list)
    crops: list[_Crop] = field(default_factory=list)
    skipped: dict[str, dict[str, int]] = field(default_factory=dict)
    geometry: dict[str, str] = field(default_factory=dict)


def collect_identity(
    root: Path,
    sb: StoryboardFile,
    shots: list[ShotData],
    params: Params,
    notes: list[str],
) -> _IdentityInputs:
    inp = _IdentityInputs()
    region = params.identity_region
    for name, ch in sb.cast.items():
        inp.skipped.setdefault(name, {})
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

    def skip(name: str, why: str) -> None:
        s = inp.skipped.setdefault(name, {})
        s[why] = s.get(why, 0) + 1

    half, top, bottom, _ = _REGIONS[region]
    for sd in shots:
        W, H = sd.size
        light = (
            renderer.character_light(sd.location, sd.shot.time_of_day)
            if sd.location is not None
            else np.ones(3, np.float32)
        )
        frame: np.ndarray | None = None
        fig_mask = sd.ink.astype(np.float64)
        for i, f in enumerate(sd.figures):
            if f.visible_fraction < params.min_visible_fraction:
                skip(f.character, "low_visible_fraction")
                continue
            head = _union(_tup(f.face), _tup(f.hair))
            if head is None:
                skip(f.character, "no_head_box")
                continue
            if head[0] <= 0 or head[1] <= 0 or head[2] >= W or head[3] >= H:
                skip(f.character, "head_clipped")
                continue
            hh = head[3] - head[1]
            if hh < params.min_head_px:
                skip(f.character, "too_small")
                continue
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
                skip(f.character, "overlapped_by_other_figure")
                continue
            if frame is None:
                frame = np.clip(sd.rgb.astype(np.float64) / 255.0 / light[None, None, :], 0, 1)
            canon = canonical_crop(frame, fig_mask, head, region)
            if ((canon.fig > 0.5) & canon.valid).sum() < 30:
                skip(f.character, "no_figure_pixels")
                continue
            inp.crops.append(_Crop(sd.shot.id, f.character, f.face is not None, hh, canon))
    return inp


def _mean(xs: list[float]) -> float | None:
    return float(np.mean(xs)) if xs else None


def _r(x: float | None, n: int = 4) -> float | None:
    return None if x is None else round(float(x), n)


def _identity(inp: _IdentityInputs, params: Params) -> IdentityReport:
    names = sorted({r.character for r in inp.refs} | {c.character for c in inp.crops})
    cache = DescCache()

    def best_ref(canon: _Canon, name: str) -> tuple[_Match, Ref] | None:
        best: tuple[_Match, Ref] | None = None
        for r in inp.refs:
            if r.character == name:
                m = cache.sim(canon, r.canon)
                if best is None or m.sim > best[0].sim:
                    best = (m, r)
        return best

    # Occlusion check: a crop must show a fair share of the figure its best own view shows.
    kept: list[tuple[_Crop, _Match, Ref]] = []
    for c in inp.crops:
        found = best_ref(c.canon, c.character)
        if found is None:
            continue
        d = cache.get(c.canon, c.canon.valid)
        if d is None or d.coverage < params.min_coverage_ratio * found[0].coverage:
            sk = inp.skipped.setdefault(c.character, {})
            sk["occluded"] = sk.get("occluded", 0) + 1
            continue
        kept.append((c, found[0], found[1]))
    crops = [c for c, _, _ in kept]

    def comparable(a: _Crop, b: _Crop) -> bool:
        return a is not b and a.shot_id != b.shot_id and a.face == b.face

    pair_sim: dict[tuple[int, int], _Match] = {}

    def psim(a: _Crop, b: _Crop) -> _Match:
        key = (id(a), id(b)) if id(a) < id(b) else (id(b), id(a))
        if key not in pair_sim:
            pair_sim[key] = cache.sim(a.canon, b.canon)
        return pair_sim[key]

    def self_mean(c: _Crop, name: str) -> float | None:
        return _mean([psim(c, o).sim for o in crops if o.character == name and comparable(c, o)])

    # What a pixel-perfect copy of the matched reference view would score against the others.
    ceiling: dict[tuple[str, str], float] = {}

    def ref_ceiling(ref: Ref) -> float | None:
        key = (ref.character, ref.view)
        if key not in ceiling:
            others = [
                cache.sim(ref.canon, r.canon).sim for r in inp.refs if r.character != ref.character
            ]
            ceiling[key] = 1.0 - max(others) if others else float("nan")
        v = ceiling[key]
        return None if math.isnan(v) else v

    scores: list[CropScore] = []
    blocks: dict[str, list[tuple[float, float, float, float]]] = {}
    ceilings: dict[str, list[float]] = {}
    for c, own, own_ref in kept:
        other_best = {n: b for n in names if n != c.character and (b := best_ref(c.canon, n))}
        others = {n: b[0].sim for n, b in other_best.items()}
        sm = self_mean(c, c.character)
        so = {n: v for n in names if n != c.character and (v := self_mean(c, n)) is not None}
        if other_best:
            near = max(other_best.values(), key=lambda b: b[0].sim)[0]
            blocks.setdefault(c.character, []).append(
                (own.colour, own.shape, near.colour, near.shape)
            )
        ceil = ref_ceiling(own_ref)
        if ceil is not None:
            ceilings.setdefault(c.character, []).append(ceil)
        scores.append(
            CropScore(
                shot_id=c.shot_id,
                character=c.character,
                side="face" if c.face else "back",
                head_px=c.head_px,
                best_view=own_ref.view + ("~" if own.mirrored else ""),
                cross=round(own.sim, 4),
                cross_others={k: round(v, 4) for k, v in others.items()},
                cross_margin=_r(own.sim - max(others.values())) if others else None,
                cross_margin_ceiling=_r(ceil),
                self_mean=_r(sm),
                self_others={k: round(v, 4) for k, v in so.items()},
                self_margin=_r(sm - max(so.values())) if sm is not None and so else None,
            )
        )

    chars: list[CharacterIdentity] = []
    for n in names:
        mine = [s for s in scores if s.character == n]
        own_crops = [c for c in crops if c.character == n]
        pairs = [
            psim(a, b).sim
            for i, a in enumerate(own_crops)
            for b in own_crops[i + 1 :]
            if comparable(a, b)
        ]
        cross_vs = {
            o: round(float(np.mean([s.cross_others[o] for s in mine])), 4)
            for o in names
            if o != n and mine and all(o in s.cross_others for s in mine)
        }
        self_vs: dict[str, float] = {}
        for o in names:
            if o == n:
                continue
            sims = [
                psim(a, b).sim
                for a in own_crops
                for b in crops
                if b.character == o and comparable(a, b)
            ]
            if sims:
                self_vs[o] = round(float(np.mean(sims)), 4)
        cross = _mean([s.cross for s in mine])
        selfc = _mean(pairs)
        bl = np.mean(blocks[n], axis=0) if blocks.get(n) else None
        chars.append(
            CharacterIdentity(
                character=n,
                crops=len(mine),
                skipped=dict(sorted(inp.skipped.get(n, {}).items())),
                cross_cids=_r(cross),
                self_cids=_r(selfc),
                self_pairs=len(pairs),
                cross_vs=cross_vs,
                self_vs=self_vs,
                cross_margin=(
                    _r(cross - max(cross_vs.values())) if cross is not None and cross_vs else None
                ),
                self_margin=(
                    _r(selfc - max(self_vs.values())) if selfc is not None and self_vs else None
                ),
                cross_margin_ceiling=_r(_mean(ceilings.get(n, []))),
                blocks=(
                    {
                        "own_colour": round(float(bl[0]), 4),
                        "own_shape": round(float(bl[1]), 4),
                        "other_colour": round(float(bl[2]), 4),
                        "other_shape": round(float(bl[3]), 4),
                    }
                    if bl is not None
                    else {}
                ),
            )
        )

    def agg(vals: list[float | None], fn: str = "mean") -> float | None:
        xs = [v for v in vals if v is not None]
        if not xs:
            return None
        return _r(float(np.mean(xs)) if fn == "mean" else float(np.min(xs)))

    half, top, bottom, (gw, gh) = _REGIONS[params.identity_region]
    return IdentityReport(
        region=params.identity_region,
        descriptor=(
            f"{params.identity_region} crop (head box = layout face+hair; x +/-{half}h, "
            f"y {top}h..{bottom}h) resampled to {gw}x{gh}; figure pixels = differ from the "
            "empty set; character light undone; [sqrt Lab histogram 5x9x9 | HOG 9 orient. "
            "8px cells of lightness on grey], each block L2-normalised; similarity = mean of "
            "block cosines on the cells both crops show, best of direct/mirrored"
        ),
        reference_geometry=inp.geometry,
        characters=chars,
        crops=scores,
        cross_cids=agg([c.cross_cids for c in chars]),
        self_cids=agg([c.self_cids for c in chars]),
        cross_other=agg([v for c in chars for v in c.cross_vs.values()]),
        self_other=agg([v for c in chars for v in c.self_vs.values()]),
        cross_margin_mean=agg([c.cross_margin for c in chars]),
        cross_margin_worst=agg([s.cross_margin for s in scores], "min"),
        self_margin_mean=agg([c.self_margin for c in chars]),
        self_margin_worst=agg([s.self_margin for s in scores], "min"),
        cross_margin_ceiling=agg([c.cross_margin_ceiling for c in chars]),
    )


# ---------------------------------------------------------------------------------------------
# on-screen count


def _counts(shots: list[ShotData], params: Params) -> CountReport:
    out: list[ShotCount] = []
    for sd in shots:
        expected = [b.character for b in sd.shot.blocking if 0.0 <= b.screen_x <= 1.0]
        detected: list[str] = []
        ink: dict[str, float] = {}
        for f in sd.figures:
            sl = _box_slices(f.body)
            region = sd.ink[sl]
            share = float(region.mean()) if region.size else 0.0
            ink[f.character] = round(share, 4)
            if f.visible_fraction >= params.count_min_visible and share >= params.count_min_ink:
                detected.append(f.character)
        E, D = len(expected), len(detected)
        occm = 100.0 * math.exp(-abs(D - E) / (OCCM_EPS + E))
        out.append(
            ShotCount(
                shot_id=sd.shot.id,
                expected=expected,
                detected=detected,
                occm=round(occm, 4),
                ink=ink,
            )
        )
    vals = [s.occm for s in out]
    return CountReport(
        shots=out,
        mean_occm=_r(_mean(vals)),
        min_occm=_r(min(vals)) if vals else None,
    )


# ---------------------------------------------------------------------------------------------
# set stability


def _element_geometry(
    shot: Shot, el: SetElement, size: tuple[int, int]
) -> tuple[tuple[float, float, float, float], tuple[float, float], float]:
    """Predicted (box, base-centre point, px per metre) of a set element in a shot's frame."""
    W, H = size
    px, py = project(shot.camera, el.x, el.y, el.layer, W, H)
    ppm = pixels_per_metre(shot.camera, W, el.layer)
    w, h = el.width * ppm, el.height * ppm
    return (px - w / 2, py - h, px + w / 2, py), (px, py), ppm


def masked_ncc(
    image: np.ndarray, imask: np.ndarray, templ: np.ndarray, tmask: np.ndarray
) -> np.ndarray:
    """Masked normalised cross-correlation over all 'valid' placements of templ in image."""
    M = tmask.astype(np.float64)
    IM = imask.astype(np.float64)
    T = templ * M
    Im = image * IM
    k = M[::-1, ::-1]
    kt = T[::-1, ::-1]
    kt2 = (T * templ)[::-1, ::-1]

    def corr(a: np.ndarray, kern: np.ndarray) -> np.ndarray:
        return fftconvolve(a, kern, mode="valid")

    n = corr(IM, k)
    sT = corr(IM, kt)
    sI = corr(Im, k)
    sTI = corr(Im, kt)
    sT2 = corr(IM, kt2)
    sI2 = corr(Im * image, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        num = sTI - sT * sI / n
        vt = np.maximum(sT2 - sT * sT / n, 0.0)
        vi = np.maximum(sI2 - sI * sI / n, 0.0)
        ncc = num / np.sqrt(vt * vi)
    ok = (n >= 0.5 * M.sum()) & (vt > 1e-9) & (vi > 1e-9)
    return np.where(ok, ncc, -1.0)


def _features(gray: np.ndarray) -> np.ndarray:
    return ndimage.gaussian_gradient_magnitude(gray, sigma=1.0)


def _sample(
    gray: np.ndarray,
    valid: np.ndarray,
    box: tuple[float, float, float, float],
    size: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """Resample the float box of (gray, valid) to `size` (w, h); outside the frame is invalid."""
    H, W = gray.shape
    x0, y0, x1, y1 = box
    pad = math.ceil(max(0.0, -x0, -y0, x1 - W, y1 - H)) + 4
    if pad > 4:
        gray = np.pad(gray, pad)
        valid = np.pad(valid, pad)
        x0, y0, x1, y1 = x0 + pad, y0 + pad, x1 + pad, y1 + pad
    else:
        pad = 0
    g = Image.fromarray(gray.astype(np.float32))
    v = Image.fromarray(valid.astype(np.float32))
    gs = np.asarray(g.resize(size, Image.Resampling.BICUBIC, box=(x0, y0, x1, y1)), np.float64)
    vs = np.asarray(v.resize(size, Image.Resampling.BILINEAR, box=(x0, y0, x1, y1)))
    return gs, vs > 0.99


def _subpixel(c: np.ndarray, iy: int, ix: int) -> tuple[float, float]:
    def fit(a: float, b: float, d: float) -> float:
        den = a - 2 * b + d
        return 0.0 if den >= 0 else max(-0.5, min(0.5, 0.5 * (a - d) / den))

    sy = fit(c[iy - 1, ix], c[iy, ix], c[iy + 1, ix]) if 0 < iy < c.shape[0] - 1 else 0.0
    sx = fit(c[iy, ix - 1], c[iy, ix], c[iy, ix + 1]) if 0 < ix < c.shape[1] - 1 else 0.0
    return sy, sx


@dataclass
class _View:
    sd: ShotData
    gray: np.ndarray
    blocked: np.ndarray  # characters (body boxes, grown)
    _feat: np.ndarray | None = None

    @property
    def features(self) -> np.ndarray:
        if self._feat is None:
            self._feat = _features(self.gray)
        return self._feat


def _occluders(view: _View, elements: list[SetElement], idx: int) -> np.ndarray:
    """Pixels that can hide element idx: characters and set elements nearer the camera."""
    el = elements[idx]
    m = view.blocked.copy()
    H, W = m.shape
    for j, other in enumerate(elements):
        if j == idx or DEPTH_SCALE[other.layer] <= DEPTH_SCALE[el.layer]:
            continue
        b, _, _ = _element_geometry(view.sd.shot, other, (W, H))
        m[
            max(0, math.floor(b[1])) : max(0, math.ceil(b[3])),
            max(0, math.floor(b[0])) : max(0, math.ceil(b[2])),
        ] = True
    return m


def _stability(shots: list[ShotData], sb: StoryboardFile, params: Params) -> StabilityReport:
    locs: list[LocationStability] = []
    for name in dict.fromkeys(sd.shot.location for sd in shots):
        loc = sb.locations.get(name)
        if loc is None or not loc.design.elements:
            continue
        elements = loc.design.elements
        views = []
        for sd in shots:
            if sd.shot.location != name:
                continue
            r = sd.rgb.astype(np.float64) / 255.0
            gray = r @ np.array([0.299, 0.587, 0.114])
            views.append(_View(sd, gray, _figure_boxes_mask(sd.figures, sd.size, grow=3)))
        # The widest shot of the location sets the reporting scale.
        ref = min(views, key=lambda v: pixels_per_metre(v.sd.shot.camera, v.sd.size[0]))
        ref_cam = ref.sd.shot.camera
        rep = LocationStability(
            location=name,
            reference_shot=ref.sd.shot.id,
            reference_ppm=round(pixels_per_metre(ref_cam, REFERENCE_WIDTH), 3),
            shots=len(views),
        )
        for idx, el in enumerate(elements):
            usable: list[tuple[_View, float, float, np.ndarray]] = []
            for v in views:
                W, H = v.sd.size
                box, _, _ = _element_geometry(v.sd.shot, el, (W, H))
                area = (box[2] - box[0]) * (box[3] - box[1])
                vis = (
                    max(0.0, min(box[2], W) - max(box[0], 0.0))
                    * max(0.0, min(box[3], H) - max(box[1], 0.0))
                    / max(area, 1e-9)
                )
                if vis <= 0.0:
                    continue  # not in this shot at all
                occ = _occluders(v, elements, idx)
                sl = (
                    slice(max(0, math.floor(box[1])), max(0, math.ceil(box[3]))),
                    slice(max(0, math.floor(box[0])), max(0, math.ceil(box[2]))),
                )
                covered = float(occ[sl].mean()) if occ[sl].size else 1.0
                if vis < params.set_min_usable:
                    rep.skipped_partly_out_of_frame += 1
                elif (
                    covered > params.set_max_occlusion
                    or vis * (1 - covered) < params.set_min_usable
                ):
                    rep.skipped_occluded += 1
                else:
                    usable.append((v, vis, covered, occ))
            # The anchor (template source) must show the whole element, barely covered.
            anchors = [u for u in usable if u[1] >= 1.0 - 1e-9]
            if not anchors:
                rep.skipped_no_anchor += len(usable)
                continue
            anchor = min(
                anchors,
                key=lambda u: (
                    u[2] > 0.1,
                    pixels_per_metre(u[0].sd.shot.camera, u[0].sd.size[0]),
                    u[2],
                ),
            )
            if len(usable) == 1:
                rep.skipped_no_anchor += 1  # seen in one shot only: nothing to compare
                continue
            rep.anchors += 1
            for target, t_vis, t_cov, t_occ in usable:
                if target is anchor[0]:
                    continue
                shift = _measure(anchor[0], anchor[3], target, t_occ, el, ref_cam, params)
                shift.element = str(idx)
                shift.occluded = round(max(anchor[2], t_cov), 4)
                shift.in_frame = round(t_vis, 4)
                rep.elements.append(shift)
        good = [e for e in rep.elements if not e.lost and e.score >= params.set_min_score]
        rep.measured = len(rep.elements)
        rep.unmatched = len(rep.elements) - len(good)
        # A match below the correlation floor located nothing; it is counted, not measured.
        ds = [e.displacement_px for e in good]
        rep.max_px = _r(max(ds), 3) if ds else None
        rep.mean_px = _r(float(np.mean(ds)), 3) if ds else None
        locs.append(rep)
    ds = [
        e.displacement_px
        for loc_ in locs
        for e in loc_.elements
        if not e.lost and e.score >= params.set_min_score
    ]
    return StabilityReport(
        locations=locs,
        max_px=_r(max(ds), 3) if ds else None,
        mean_px=_r(float(np.mean(ds)), 3) if ds else None,
        measured=len(ds),
        unmatched=sum(loc_.unmatched for loc_ in locs),
    )


def _measure(
    anchor: _View,
    a_occ: np.ndarray,
    target: _View,
    t_occ: np.ndarray,
    el: SetElement,
    ref_cam: Camera,
    params: Params,
) -> ElementShift:
    A, S = anchor.sd, target.sd
    box_a, (pax, pay), ppm_a = _element_geometry(A.shot, el, A.size)
    _, (psx, psy), ppm_s = _element_geometry(S.shot, el, S.size)
    r = ppm_s / ppm_a
    Wa, Ha = A.size
    m = 4
    tx0, ty0 = max(0, math.floor(box_a[0] - m)), max(0, math.floor(box_a[1] - m))
    tx1, ty1 = min(Wa, math.ceil(box_a[2] + m)), min(Ha, math.ceil(box_a[3] + m))
    templ = anchor.features[ty0:ty1, tx0:tx1]
    tmask = ~a_occ[ty0:ty1, tx0:tx1]
    tw, th = tx1 - tx0, ty1 - ty0
    ox, oy = tx0 - pax, ty0 - pay
    if A.shot.camera.reverse != S.shot.camera.reverse:
        templ, tmask = templ[:, ::-1], tmask[:, ::-1]
        ox = -(ox + tw)
    R = max(8, math.ceil(params.set_search_m * ppm_a))
    box_s = (
        psx + r * (ox - R),
        psy + r * (oy - R),
        psx + r * (ox + tw + R),
        psy + r * (oy + th + R),
    )
    gray_s, valid_s = _sample(target.gray, ~t_occ, box_s, (tw + 2 * R, th + 2 * R))
    feat_s = _features(gray_s)
    # The blur of the resampled image reaches into invalid pixels: shrink the valid area.
    valid_s = ndimage.binary_erosion(valid_s, iterations=3, border_value=0)
    if not tmask.all():
        tmask = ndimage.binary_erosion(tmask, iterations=3, border_value=1)
    c = masked_ncc(feat_s, valid_s, templ, tmask)
    iy, ix = (int(i) for i in np.unravel_index(int(np.argmax(c)), c.shape))
    score = float(c[iy, ix])
    sy, sx = _subpixel(c, iy, ix)
    dx, dy = ix + sx - R, iy + sy - R  # anchor-scale px, target's screen orientation
    lost = ix in (0, c.shape[1] - 1) or iy in (0, c.shape[0] - 1)
    ppm_ref = pixels_per_metre(ref_cam, REFERENCE_WIDTH, el.layer)
    k = ppm_ref / ppm_a
    mag = math.hypot(dx, dy)
    return ElementShift(
        shot_id=S.shot.id,
        element="",
        kind=el.kind,
        layer=el.layer.value,
        anchor_shot=A.shot.id,
        dx_px=round(dx * k, 3),
        dy_px=round(dy * k, 3),
        displacement_px=round(mag * k, 3),
        native_px=round(mag * r, 3),
        metres=round(mag / ppm_a, 4),
        score=round(score, 4),
        occluded=0.0,
        lost=bool(lost),
    )


# ---------------------------------------------------------------------------------------------
# targets and entry points


def _targets(rep: ConsistencyReport) -> list[Target]:
    idn, cnt, st = rep.identity, rep.counts, rep.set_stability

    def t(
        name: str, value: float | None, thr: float, cmp: Literal[">=", "<="], note: str = ""
    ) -> Target:
        met = None if value is None else (value >= thr if cmp == ">=" else value <= thr)
        return Target(name=name, value=value, threshold=thr, comparison=cmp, met=met, note=note)

    stab_note = ""
    if st.unmatched:
        stab_note = f"{st.unmatched} element match(es) lost or below the score floor"
    return [
        t("cross_cids", idn.cross_cids, 0.9, ">=", "mean over characters"),
        t("self_cids", idn.self_cids, 0.9, ">=", "mean over characters"),
        t("cross_margin_mean", idn.cross_margin_mean, 0.3, ">=", "vs most similar other"),
        t("self_margin_mean", idn.self_margin_mean, 0.3, ">=", "vs most similar other"),
        t("cross_margin_worst", idn.cross_margin_worst, 0.3, ">=", "worst single crop"),
        t("self_margin_worst", idn.self_margin_worst, 0.3, ">=", "worst single crop"),
        t("occm_min", cnt.min_occm, 100.0 - 1e-6, ">=", "every shot at 100"),
        t("set_stability_max_px", st.max_px, 2.0, "<=", stab_note),
    ]


def evaluate_episode(
    project_root: Path, episode: str, *, params: Params | None = None
) -> ConsistencyReport:
    """Evaluate identity, on-screen count and set stability of one produced episode.

    `params` overrides the thresholds (all recorded in the report); the defaults are the
    documented ones.
    """
    root = Path(project_root)
    sb_path = root / "episodes" / episode / "storyboard.json"
    if not sb_path.exists():
        raise FileNotFoundError(f"{sb_path} not found: is {episode!r} an episode of {root}?")
    sb = StoryboardFile.model_validate_json(sb_path.read_text(encoding="utf-8"))
    params = params or Params()
    notes: list[str] = []
    timings: dict[str, float] = {}

    t0 = time.perf_counter()
    shots = _load_shots(root, sb, params, notes)
    timings["load_and_masks"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    identity = _identity(collect_identity(root, sb, shots, params, notes), params)
    timings["identity"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    counts = _counts(shots, params)
    timings["counts"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    stability = _stability(shots, sb, params)
    timings["set_stability"] = time.perf_counter() - t0
    timings["total"] = sum(timings.values())

    rep = ConsistencyReport(
        project=str(root),
        episode=episode,
        shots=len(shots),
        params=params,
        mask_method={sd.shot.id: sd.mask_method for sd in shots},
        identity=identity,
        counts=counts,
        set_stability=stability,
        timings_s={k: round(v, 3) for k, v in timings.items()},
        notes=notes,
    )
    rep.targets = _targets(rep)
    return rep


def write_report(report: ConsistencyReport, path: Path) -> Path:
    """Write the report as JSON, atomically; return the path."""
    return write_text_atomic(Path(path), report.model_dump_json(indent=2) + "\n")


def _f(x: float | None, nd: int = 3) -> str:
    return "-" if x is None else f"{x:.{nd}f}"


def format_report(report: ConsistencyReport) -> str:
    """A short human-readable summary for the terminal."""
    idn = report.identity
    lines = [f"consistency  {report.project}  episode {report.episode}  ({report.shots} shots)"]
    lines.append("")
    lines.append(
        f"{'character':<16}{'crops':>6}{'cross':>8}{'self':>8}{'x-other':>9}"
        f"{'s-other':>9}{'x-margin':>10}{'s-margin':>10}"
    )
    for c in idn.characters:
        xo = max(c.cross_vs.values()) if c.cross_vs else None
        so = max(c.self_vs.values()) if c.self_vs else None
        lines.append(
            f"{c.character[:15]:<16}{c.crops:>6}{_f(c.cross_cids):>8}{_f(c.self_cids):>8}"
            f"{_f(xo):>9}{_f(so):>9}{_f(c.cross_margin):>10}{_f(c.self_margin):>10}"
        )
    lines.append(
        f"{'episode':<16}{len(idn.crops):>6}{_f(idn.cross_cids):>8}{_f(idn.self_cids):>8}"
        f"{_f(idn.cross_other):>9}{_f(idn.self_other):>9}{_f(idn.cross_margin_mean):>10}"
        f"{_f(idn.self_margin_mean):>10}"
    )
    lines.append(
        f"  worst single crop: cross margin {_f(idn.cross_margin_worst)}, self margin "
        f"{_f(idn.self_margin_worst)};  cross margin of pixel-perfect reference copies "
        f"{_f(idn.cross_margin_ceiling)}"
    )
    lines.append("")
    bad = [s for s in report.counts.shots if s.occm < 100 - 1e-6]
    lines.append(
        f"OCCM mean {_f(report.counts.mean_occm, 1)}  min {_f(report.counts.min_occm, 1)}"
        + (
            "  off: " + ", ".join(f"{s.shot_id} ({len(s.detected)}/{len(s.expected)})" for s in bad)
            if bad
            else ""
        )
    )
    lines.append("")
    lines.append(
        f"{'location':<22}{'ref shot':>10}{'meas':>6}{'skip':>6}{'unm':>5}"
        f"{'max px':>9}{'mean px':>9}"
    )
    for loc in report.set_stability.locations:
        skip = loc.skipped_partly_out_of_frame + loc.skipped_occluded + loc.skipped_no_anchor
        lines.append(
            f"{loc.location[:21]:<22}{loc.reference_shot:>10}{loc.measured:>6}{skip:>6}"
            f"{loc.unmatched:>5}{_f(loc.max_px, 2):>9}{_f(loc.mean_px, 2):>9}"
        )
    lines.append("")
    for t in report.targets:
        mark = "n/a" if t.met is None else ("met" if t.met else "NOT MET")
        lines.append(
            f"  [{mark:>7}] {t.name:<22} {_f(t.value)} {t.comparison} {t.threshold:g}"
            + (f"  ({t.note})" if t.note else "")
        )
    lines.append(f"time {report.timings_s.get('total', 0.0):.1f} s")
    return "\n".join(lines)


def load_report(path: Path) -> ConsistencyReport:
    """Read a report written by `write_report`."""
    return ConsistencyReport.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
