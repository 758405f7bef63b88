"""Image-level continuity checks: the set, the figures, their identity and palette, from pixels.

    findings = check_image(bundle)                # every shot with a keyframe
    findings = check_image(bundle, ["s02-003"])   # only the shots being repaired
    scores = shot_scores(bundle, "s02-003")        # before/after numbers for the repair loop
    results = check_shots(bundle, ids, on_shot=f)  # findings and numbers of many, with progress

The storyboard's layout only says *where to look*; every finding comes from keyframe pixels.

The background first
    The keyframe is compared with the same shot's set rendered without characters (same camera,
    same light; `inkreel.evals.consistency` does the same, and for this renderer it is exact).
    The *set mismatch* is the share of pixels outside the figure boxes (and outside their mirror
    images) that differ by more than `diff_threshold`. Above `set_match` the frame is also
    compared with what a whole-frame mistake would give: the set mirrored (`mirrored_frame`,
    a flipped keyframe: line_flip), the shot's set at each other time of day (`wrong_light`:
    day_night) and the shot's camera in each other location of the storyboard (`wrong_set`:
    wrong_location; in a storyboard of more than nine sets, the eight used nearest the shot's
    scene). A set that is its own mirror image cannot tell a flipped frame, so then the
    figures do: ink where the layout's mirror image puts them and none where the layout does is a
    flipped frame too. An alternative that at least halves the mismatch names the cause, and the
    figure checks then run against it (the frame un-mirrored; the other set and its light), so one
    mistake is reported once and not again as a dozen palette and count findings. A frame that
    no candidate reproduces on more than half its background was not drawn by this renderer (a
    storyboard made elsewhere): the pixel-difference checks (count, set, whole frame) are skipped
    for it, figure pixels come from `consistency`'s background-palette heuristic, and a note in
    `bundle.notes` says so.

Figures
    Figure pixels are those differing from the matched set inside the layout's body boxes.
    * `figure_missing`: a layout figure that should be visible (`count_min_visible`) whose body box
      (the part no other figure's box covers) holds almost no figure pixels: it was not drawn,
      or painted out.
    * `figure_extra`: a connected blob of changed pixels outside every figure box, tall and large
      enough to be a person at the shot's scale, that no displaced set element explains.
    * `hair_colour`, `skin_colour`, `outfit_colour`: in the layout's hair, face and outfit boxes,
      the figure pixels are divided by the shot's character light (`character_light`)
      and compared with the design colour in CIEDE2000. Shading, line art, eyes and trim share the
      boxes, so the part's colour distance is the `palette_quantile` quantile of the per-pixel
      distances: the part matches when that share of its pixels is close to the design colour
      (half of them for a colour as dark as the line art, which would otherwise match alone).
    * `outfit_swap`: two figures of a shot whose outfits are each off their own design and each
      on the other's.
    * `identity`: consistency's identity descriptor (colour histogram + HOG of the upper body,
      light undone) of each figure crop against every character's turnaround views: flagged when
      the best own similarity is below `identity_min`, or another character's references are
      closer by more than `identity_margin`; a figure with a palette finding is only reported
      again when it looks like someone else, and never when an outfit swap explains it.
      When the turnaround itself is off its design, or
      the designs are too alike for the descriptor to tell apart, the finding goes to the
      character designer instead of the director.

The set
    For each set element whose box (outside the figures) changed, the element's own pixels (what
    the set render loses when the element is taken out of the set) are searched for around its
    place (`consistency`'s masked normalised cross-correlation, on lightly blurred grey, figures
    and nearer elements masked out). Three stories are then compared on the pixels around it,
    each rendered by the renderer: the element in place, moved by the offset found (what it now
    uncovers and what now hides it come out right) and gone. A move that explains at least half
    of what the in-place set does not is `set_element_moved`, with the offset; a frame the set
    without the element explains is `set_element_missing`; an element that changed otherwise
    with no figure in front of it, `set_element_changed` (a big element moved behind nearer
    ones is not always found again). Next to a changed element, a changed shape only counts as
    an extra figure if it stands on the floor like the characters do.

`shot_scores` gives the same measurements as numbers for the repair loop's before/after; its
"score" is 1.0 when every check passes and lower the further the worst check is past its
threshold. Results are cached per shot (keyed by the keyframe's bytes and everything the checks
read), as are the set renders, so re-checking an unchanged shot costs nothing.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
from PIL import Image
from pydantic import Field
from scipy import ndimage

from inkreel.art.lighting import character_light, shot_light
from inkreel.art.shot.frame import render_keyframe
from inkreel.checks import Bundle
from inkreel.measure.colour import INK_HEX, delta_e00, design_support, part_delta_e
from inkreel.measure.figures import (
    FigureThresholds,
    ShotPixels,
    box_slices,
    boxes_mask,
    differing,
    load_rgb,
    mirror_box,
    palette_mask,
    solid_regions,
)
from inkreel.measure.identity import (
    Canon,
    CropThresholds,
    DescCache,
    Descriptor,
    Ref,
    canonical_crop,
    collect_identity,
    reference_head,
)
from inkreel.measure.matching import blurred_grey, grey_window, masked_ncc, near_match
from inkreel.media.camera import DEPTH_SCALE, FIGURE_HEIGHT_M, pixels_per_metre, project
from inkreel.schemas import (
    Box,
    CharacterDesign,
    FigureLayout,
    Finding,
    Keyframe,
    Layer,
    LocationDesign,
    Shot,
    StoryboardFile,
)

DETECTS: dict[str, set[str]] = {
    "identity": {"hair_colour", "outfit_swap"},
    "hair_colour": {"hair_colour"},
    # No planted defect changes skin alone, so a skin finding is evidence for none of them.
    "skin_colour": set(),
    "outfit_colour": {"outfit_swap"},
    "outfit_swap": {"outfit_swap"},
    "figure_missing": {"missing_character"},
    "figure_extra": {"extra_character"},
    "set_element_moved": {"set_element_moved"},
    "set_element_missing": {"set_element_moved"},
    "set_element_changed": {"set_element_moved"},
    "mirrored_frame": {"line_flip"},
    "wrong_light": {"day_night"},
    "wrong_set": {"wrong_location"},
}


class ImageThresholds(FigureThresholds, CropThresholds):
    """Every threshold the image checks use (the defaults are calibrated on clean episodes).

    Figure pixels and identity crops are measured with `inkreel.measure`'s thresholds, which
    the consistency evaluation shares; the rest decide what the checks report.
    """

    set_match: float = Field(
        default=0.01,
        description="Set mismatch (share of background pixels) under which no whole-frame "
        "alternative is tried.",
    )
    alternative_gain: float = Field(
        default=0.5, description="An alternative must bring the mismatch under this fraction."
    )
    person_min_height: float = Field(
        default=0.3,
        description="A blob is person-sized when at least this tall, as a share of a figure's "
        "height at the shot's scale (capped at the frame height) ...",
    )
    person_min_area: float = Field(
        default=0.02, description="... and at least this area, in units of that height squared."
    )
    element_min_changed: float = Field(
        default=0.1, description="Share of an element's visible box that must have changed."
    )
    element_changed_share: float = Field(
        default=0.3,
        description="An element neither moved nor gone is reported as changed only when this "
        "much of it differs (compression noise along edges stays well under).",
    )
    element_min_px: int = Field(default=80, description="... and at least this many pixels.")
    element_min_shift_px: float = Field(default=2.0, description="Smallest reported move.")
    element_min_score: float = Field(
        default=0.5, description="Correlation a moved element's new place must reach."
    )
    palette_quantile: float = Field(
        default=0.1, description="Share of a part's pixels that must be near the design colour."
    )
    ink_like_delta_e: float = Field(
        default=12.0, description="Design colours this close to the line-art ink ..."
    )
    ink_like_quantile: float = Field(
        default=0.5,
        description="... are matched on this share of the part, or line art alone would pass.",
    )
    hair_delta_e: float = Field(default=12.0, description="CIEDE2000 limit for hair.")
    skin_delta_e: float = Field(default=12.0, description="CIEDE2000 limit for skin.")
    outfit_delta_e: float = Field(default=12.0, description="CIEDE2000 limit for the outfit.")
    min_part_px: int = Field(default=40, description="Fewer figure pixels in a part: not judged.")
    identity_min: float = Field(default=0.85, description="Own-reference similarity floor.")
    identity_min_estimated: float = Field(
        default=0.6,
        description="The floor when figure pixels had to be estimated (a keyframe the set "
        "render does not reproduce): the crops then carry background, so only a clear miss or "
        "a closer other character counts.",
    )
    identity_margin: float = Field(
        default=0.0,
        description="Flag when another character's references are closer than own by more.",
    )
    distinct_margin: float = Field(
        default=0.05,
        description="References of two characters closer than this (1 - similarity): the "
        "designs themselves are too alike.",
    )


# ---------------------------------------------------------------------------------------------
# caches

_T = TypeVar("_T")

# Set renders are kept zlib-packed: flat colour packs ~35x (2.7 MB at 1280 x 720 -> ~80 KB),
# unpacking one takes ~2 ms against ~90 ms to render it again, and the budget is in bytes so
# a long run (drift retakes, evaluations, a night's batch) cannot grow it past that.
_SET_RENDERS: OrderedDict[str, tuple[tuple[int, ...], bytes]] = OrderedDict()
_SET_RENDERS_MAX_BYTES = 32 * 2**20
_RESULTS: OrderedDict[str, _Analysis] = OrderedDict()
# A keyframe that its own set does not reproduce is compared with the shot's camera in at most
# this many other sets (see _Shared.other_sets): every set of a long storyboard, for every such
# shot, grew with the square of the episode.
MAX_OTHER_SETS = 8
MAX_WORKERS = 4
_RESULTS_MAX = 1024
_REFS: OrderedDict[str, _CharacterRefs] = OrderedDict()
_REFS_MAX = 64
_LOCK = threading.Lock()  # the caches are shared by threads checking shots side by side


def _digest(*parts: object) -> str:
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        h.update(p if isinstance(p, bytes) else repr(p).encode())
        h.update(b"\x00")
    return h.hexdigest()


def _recall(cache: OrderedDict[str, _T], key: str) -> _T | None:
    with _LOCK:
        hit = cache.get(key)
        if hit is not None:
            cache.move_to_end(key)
        return hit


def _remember(
    cache: OrderedDict[str, _T],
    key: str,
    value: _T,
    limit: int,
    weigh: Callable[[_T], int] | None = None,
) -> None:
    """Store `value`, dropping the least recently used entries past `limit` (entries, or the
    sum of `weigh` over them)."""
    with _LOCK:
        cache[key] = value
        cache.move_to_end(key)
        total = len(cache) if weigh is None else sum(map(weigh, cache.values()))
        while total > limit and len(cache) > 1:
            _, dropped = cache.popitem(last=False)
            total -= 1 if weigh is None else weigh(dropped)


def set_render(shot: Shot, location: LocationDesign, size: tuple[int, int]) -> np.ndarray:
    """Return the shot's set without characters (same camera, same light), cached."""
    empty = shot.model_copy(update={"blocking": []})
    key = _digest(empty.model_dump_json(), location.model_dump_json(), size)
    hit = _recall(_SET_RENDERS, key)
    if hit is not None:
        shape, packed = hit
        return np.frombuffer(zlib.decompress(packed), dtype=np.uint8).reshape(shape)
    img, _, _ = render_keyframe(empty, location, {}, size)
    rgb = np.asarray(img.convert("RGB"))
    rgb.setflags(write=False)  # read-only, like an unpacked hit
    entry = (rgb.shape, zlib.compress(rgb.tobytes(), 1))
    _remember(_SET_RENDERS, key, entry, _SET_RENDERS_MAX_BYTES, weigh=lambda e: len(e[1]))
    return rgb


# ---------------------------------------------------------------------------------------------
# references


@dataclass
class _CharacterRefs:
    refs: list[Ref]
    off_design: dict[str, float]  # part -> share of reference pixels near the design colour
    notes: list[str]


def _reference_parts(design: CharacterDesign) -> dict[str, str]:
    parts = {"skin": design.skin, "outfit": design.outfit_colour}
    if design.hair_style != "bald" and "hat" not in design.accessories:
        parts["hair"] = design.hair_colour
    return parts


def _character_refs(root: Path, name: str, board: StoryboardFile) -> _CharacterRefs:
    ch = board.cast[name]
    stamps = []
    for rel in ch.turnaround.values():
        p = root / rel
        stamps.append((rel, p.stat().st_mtime_ns if p.exists() else None))
    key = _digest(str(root), name, ch.design.model_dump_json(), sorted(stamps))
    hit = _recall(_REFS, key)
    if hit is not None:
        return hit
    refs: list[Ref] = []
    notes: list[str] = []
    support: dict[str, list[float]] = {}
    for view, rel in ch.turnaround.items():
        path = root / rel
        if not path.exists():
            notes.append(f"{name}: turnaround {rel} is missing; identity checked without it.")
            continue
        with Image.open(path) as im:
            rgba = np.asarray(im.convert("RGBA"))
        head, face, _ = reference_head(ch.design, view, rgba)
        if head is not None:
            canon = canonical_crop(
                rgba[..., :3].astype(np.float64) / 255.0,
                rgba[..., 3].astype(np.float64) / 255.0,
                head,
                "upper_body",
            )
            refs.append(Ref(name, view, face, canon))
        for part, share in design_support(rgba, _reference_parts(ch.design)).items():
            support.setdefault(part, []).append(share)
    out = _CharacterRefs(refs, {k: max(v) for k, v in support.items()}, notes)
    _remember(_REFS, key, out, _REFS_MAX)
    return out


# ---------------------------------------------------------------------------------------------
# analysis of one shot


@dataclass
class _Analysis:
    findings: list[Finding] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class _ElementState:
    kind: str  # "present", "moved", "missing" (vanished) or "covered" (changed otherwise)
    dx: float = 0.0
    dy: float = 0.0
    score: float = 1.0  # correlation at the best place
    in_place: float = 1.0  # correlation where the set puts it
    vacated: float = 0.0  # share of its place that shows the set without it
    unexplained_in_place: float = 0.0  # share of pixels around it the set does not explain
    unexplained_moved: float = 0.0  # ... and the set with the element moved by (dx, dy)
    region: Box | None = None  # everything it draws, glow included, where the set puts it
    window: Box | None = None  # its box grown by its size: where its move shows


@dataclass
class _Frame:
    """A keyframe as the figure checks see it, after the background was explained."""

    shot: Shot
    kf: Keyframe
    rgb: np.ndarray  # un-mirrored if the keyframe was mirrored
    background: np.ndarray | None  # the set render that reproduces it (None: nothing does)
    lights: list[np.ndarray]
    ink: np.ndarray  # figure pixels inside the (grown) body boxes
    changed: np.ndarray | None  # solid regions differing from `background`
    location: LocationDesign | None
    lit_as: Shot  # the shot as lit: its own time and set, or the ones the frame was drawn in

    @property
    def size(self) -> tuple[int, int]:
        return self.rgb.shape[1], self.rgb.shape[0]


class _Checker:
    def __init__(
        self, bundle: Bundle, shot: Shot, kf: Keyframe, p: ImageThresholds, shared: _Shared
    ) -> None:
        self.bundle = bundle
        self.board = bundle.board
        self.shared = shared
        self.shot = shot
        self.kf = kf
        self.p = p
        self.out = _Analysis()
        self.set_checks = True
        self.absent: set[str] = set()  # figures found missing: nothing to judge the look of
        self.off_model: set[str] = set()  # figures with a palette finding already
        self.swapped: set[str] = set()  # figures wearing each other's outfits
        self.worst = 1.0  # the shot's score: 1 when no check fires

    # -- helpers ------------------------------------------------------------------------------

    def finding(
        self,
        check: str,
        message: str,
        fix: str,
        evidence: dict[str, float | str],
        agent: str = "director",
        severity: str = "error",
        ratio: float = 0.0,
    ) -> None:
        """Record a finding; `ratio` is how far inside its threshold the value is (0 = far out)."""
        self.worst = min(self.worst, max(0.0, ratio))
        self.out.findings.append(
            Finding(
                check=check,
                level="image",
                shot_id=self.shot.id,
                shots=[self.shot.id],
                scene=self.shot.scene,
                beat=self.shot.beat,
                severity=severity,  # type: ignore[arg-type]
                message=message,
                fix_instruction=fix,
                agent=agent,  # type: ignore[arg-type]
                evidence={
                    k: round(v, 4) if isinstance(v, float) else v for k, v in evidence.items()
                },
            )
        )

    def score(self, name: str, value: float) -> None:
        self.out.scores[name] = round(float(value), 4)

    # -- the background -----------------------------------------------------------------------

    def frame(self, rgb: np.ndarray) -> _Frame:
        shot, kf, p = self.shot, self.kf, self.p
        W, H = rgb.shape[1], rgb.shape[0]
        size = (W, H)
        loc_asset = self.board.locations.get(shot.location)
        loc = loc_asset.design if loc_asset is not None else None
        bodies = [f.body for f in kf.figures]
        if loc is None:
            self.out.notes.append(
                f"{shot.id}: location {shot.location!r} has no design in the storyboard, so "
                "its set cannot be re-rendered; the set, count and whole-frame checks were "
                "skipped and figure pixels were estimated from the background palette."
            )
            return self._unexplained(rgb, None)
        light = character_light(loc, shot.time_of_day)
        expected = set_render(shot, loc, size)
        union = boxes_mask(bodies + [mirror_box(b, W) for b in bodies], size, grow=3)
        outside = ~union
        if outside.sum() < 0.05 * W * H:
            outside = ~boxes_mask(bodies, size, grow=3)

        def mismatch(a: np.ndarray, b: np.ndarray) -> float:
            if not outside.any():
                return 0.0
            return float(solid_regions(differing(a, b, p.diff_threshold))[outside].mean())

        base = mismatch(rgb, expected)
        self.score("set_mismatch", base)
        cause, best, by_figures = "set", base, False
        alt: np.ndarray | None = None
        alt_loc: LocationDesign | None = None
        alt_tod = shot.time_of_day
        if base > p.set_match:
            cands: list[tuple[str, float, np.ndarray, LocationDesign, str]] = []
            flipped = expected[:, ::-1]
            cands.append(("mirrored", mismatch(rgb, flipped), flipped, loc, shot.time_of_day))
            own = shot_light(loc, shot.time_of_day)
            for tod, lighting in loc.lighting.items():
                if tod == shot.time_of_day or lighting == own:
                    continue
                other = set_render(shot.model_copy(update={"time_of_day": tod}), loc, size)
                cands.append((f"time:{tod}", mismatch(rgb, other), other, loc, tod))
            for name in self.shared.other_sets(shot):
                asset = self.board.locations[name]
                moved = shot.model_copy(update={"location": name})
                other = set_render(moved, asset.design, size)
                cands.append((f"location:{name}", mismatch(rgb, other), other, asset.design, name))
            c = min(cands, key=lambda t: t[1])
            self.score("best_alternative_mismatch", c[1])
            if c[1] <= p.alternative_gain * base and c[1] <= p.max_set_mismatch:
                cause, best, alt, alt_loc, alt_tod = c[0], c[1], c[2], c[3], c[4]
        if cause == "set" and base <= p.set_match and self._mirrored_figures(rgb, expected):
            # A set that looks the same mirrored: the figures tell which way the frame is.
            cause, by_figures = "mirrored", True
        if cause == "set" and base > p.max_set_mismatch:
            self.out.notes.append(
                f"{shot.id}: the re-rendered set does not reproduce the keyframe ({base:.0%} of "
                "the background differs; not drawn by this renderer?), so the set, count and "
                "whole-frame checks were skipped and figure pixels were estimated from the "
                "background palette (identity and palette checks only)."
            )
            return self._unexplained(rgb, loc)
        ev: dict[str, float | str] = {"set_mismatch": base, "alternative_mismatch": best}
        if cause == "mirrored":
            why = (
                "the figures stand where the storyboard's mirror image puts them (the set looks "
                "the same both ways)"
                if by_figures
                else f"the set matches its mirror image ({best:.1%} of the background differs) "
                f"rather than the camera's view ({base:.1%})"
            )
            self.finding(
                "mirrored_frame",
                f"{shot.id} is drawn mirrored: {why}.",
                f"Re-render the keyframe of {shot.id} from its camera without flipping it; the "
                "characters must keep the screen sides the storyboard gives them.",
                ev,
            )
            rgb = np.ascontiguousarray(rgb[:, ::-1])
            background = expected
        elif cause.startswith("time:"):
            ev["rendered_time"] = alt_tod
            ev["storyboard_time"] = shot.time_of_day
            self.finding(
                "wrong_light",
                f"{shot.id} is lit for {alt_tod} but the storyboard says {shot.time_of_day} "
                f"(the {alt_tod} set reproduces {1 - best:.1%} of the background, the "
                f"{shot.time_of_day} one {1 - base:.1%}).",
                f"Re-render {shot.id} with the {shot.time_of_day} lighting of {shot.location}.",
                ev,
            )
            assert alt is not None
            background = alt
            light_alt = character_light(loc, alt_tod)
            lit = shot.model_copy(update={"time_of_day": alt_tod})
            return self._explained(rgb, background, [light, light_alt], loc, lit_as=lit)
        elif cause.startswith("location:"):
            ev["rendered_location"] = alt_tod
            ev["storyboard_location"] = shot.location
            self.finding(
                "wrong_set",
                f"{shot.id} is drawn in {alt_tod} but the storyboard puts it in {shot.location} "
                f"({1 - best:.1%} of the background matches {alt_tod}, {1 - base:.1%} matches "
                f"{shot.location}).",
                f"Re-render {shot.id} in its own set, {shot.location}, from the same camera.",
                ev,
            )
            assert alt is not None and alt_loc is not None
            light_alt = character_light(alt_loc, shot.time_of_day)
            return self._explained(
                rgb, alt, [light, light_alt], alt_loc, set_checks=False, lit_as=shot
            )
        else:
            background = expected
        return self._explained(rgb, background, [light], loc)

    def _mirrored_figures(self, rgb: np.ndarray, expected: np.ndarray) -> bool:
        """Do the figures stand where the layout's mirror image puts them, and not where it does?

        Only asked when the set reproduces the frame, for a set that is its own mirror image.
        """
        W, H = rgb.shape[1], rgb.shape[0]
        bodies = [f.body for f in self.kf.figures if f.visible_fraction >= 0.2]
        if not bodies:
            return False
        here = boxes_mask(bodies, (W, H), grow=3)
        there = boxes_mask([mirror_box(b, W) for b in bodies], (W, H), grow=3)
        only_here, only_there = here & ~there, there & ~here
        if min(only_here.sum(), only_there.sum()) < 0.002 * W * H:
            return False
        outside = ~(here | there)
        flipped = expected[:, ::-1]
        if outside.any() and differing(rgb, flipped, self.p.diff_threshold)[outside].mean() > 0.005:
            return False  # the set is not symmetric: the mirror test above would have seen it
        ink = solid_regions(differing(rgb, expected, self.p.diff_threshold))
        return bool(ink[only_here].mean() < self.p.count_min_ink <= 0.5 * ink[only_there].mean())

    def _unexplained(self, rgb: np.ndarray, loc: LocationDesign | None) -> _Frame:
        ink = palette_mask(rgb, self.kf.figures, self.p.palette_threshold)
        lights = [character_light(loc, self.shot.time_of_day)] if loc else [np.ones(3)]
        self.set_checks = False
        return _Frame(self.shot, self.kf, rgb, None, lights, ink, None, loc, self.shot)

    def _explained(
        self,
        rgb: np.ndarray,
        background: np.ndarray,
        lights: list[np.ndarray],
        loc: LocationDesign,
        set_checks: bool = True,
        lit_as: Shot | None = None,
    ) -> _Frame:
        changed = differing(rgb, background, self.p.diff_threshold)
        W, H = rgb.shape[1], rgb.shape[0]
        ink = changed & boxes_mask([f.body for f in self.kf.figures], (W, H), grow=3)
        changed = solid_regions(changed)
        self.set_checks = set_checks
        return _Frame(
            self.shot, self.kf, rgb, background, lights, ink, changed, loc, lit_as or self.shot
        )

    # -- count --------------------------------------------------------------------------------

    def count(self, fr: _Frame) -> None:
        p, size = self.p, fr.size
        missing = 0
        solid = solid_regions(fr.ink)
        for f in fr.kf.figures:
            if f.visible_fraction < p.count_min_visible:
                continue
            sl = box_slices(f.body, size)
            own = np.ones((sl[0].stop - sl[0].start, sl[1].stop - sl[1].start), bool)
            for g in fr.kf.figures:
                if g is not f:
                    gs = box_slices(g.body, size)
                    own[
                        max(0, gs[0].start - sl[0].start) : max(0, gs[0].stop - sl[0].start),
                        max(0, gs[1].start - sl[1].start) : max(0, gs[1].stop - sl[1].start),
                    ] = False
            region = solid[sl]
            if own.mean() < 0.15:
                own[:] = True
            share = float(region[own].mean()) if own.any() else 0.0
            if share < p.count_min_ink:
                missing += 1
                self.absent.add(f.character)
                self.finding(
                    "figure_missing",
                    f"{f.character} should be in {fr.shot.id} (box {f.body.x0},{f.body.y0}-"
                    f"{f.body.x1},{f.body.y1}) but only {share:.1%} of the box differs from "
                    "the empty set: the figure is not drawn.",
                    f"Re-render {fr.shot.id} with {f.character} drawn where the storyboard "
                    "blocks them.",
                    {"character": f.character, "figure_share": share, "min": p.count_min_ink},
                )
        self.score("count_missing", missing)

    # -- blobs: extra figures and the set ------------------------------------------------------

    def blobs(self, fr: _Frame) -> None:
        assert fr.changed is not None and fr.background is not None
        p, size = self.p, fr.size
        W, H = size
        figures = boxes_mask([f.body for f in fr.kf.figures], size, grow=4)
        loose = fr.changed & ~figures
        elements = {k: b for k, b in fr.kf.elements.items() if b.area > 0}
        # Set elements whose visible part changed: moved, vanished, or just covered.
        states: dict[str, tuple[_ElementState, float]] = {}
        for k, b in elements.items() if self.set_checks else ():
            sl = box_slices(b, size)
            free = ~figures[sl]
            changed = fr.changed[sl] & free
            share = float(changed.sum() / max(1, free.sum()))
            if share >= p.element_min_changed and changed.sum() >= p.element_min_px:
                states[k] = (self._element_state(fr, k, figures), share)
        # Where the set changed: what an element draws (glow included), at its old place and,
        # if it moved, at its new one; and the neighbourhood its move may reach.
        set_boxes: list[Box] = []
        windows: list[Box] = []
        for st, _ in states.values():
            if st.kind in ("moved", "missing") and st.region is not None:
                set_boxes += [st.region, _shift_box(st.region, st.dx, st.dy)]
            if st.kind != "present" and st.window is not None:
                windows.append(st.window)
        fig_h = FIGURE_HEIGHT_M * pixels_per_metre(fr.shot.camera, W)
        scale = min(float(H), fig_h)
        floor_y = project(fr.shot.camera, fr.shot.camera.x, 0.0, Layer.midground, W, H)[1]
        extra: list[Box] = []
        if loose.any():
            closed = ndimage.binary_closing(loose, iterations=2) | loose
            labels, _ = ndimage.label(closed, structure=np.ones((3, 3), bool))
            for i, sl in enumerate(ndimage.find_objects(labels), start=1):
                if sl is None:
                    continue
                blob = (labels[sl] == i) & loose[sl]
                area = int(blob.sum())
                if area < p.element_min_px:
                    continue
                bbox = Box(x0=sl[1].start, y0=sl[0].start, x1=sl[1].stop, y1=sl[0].stop)
                inside = max((_overlap(b, bbox) for b in set_boxes), default=0)
                if inside >= 0.5 * bbox.area:
                    continue  # the set changed here: reported below
                person = bbox.y1 - bbox.y0 >= p.person_min_height * scale and (
                    area >= p.person_min_area * scale * scale
                )
                # Next to a displaced element, a shape counts as a figure only if it stands on
                # the floor (or is cut by the bottom of the frame) like the characters do.
                if person and any(_overlap(w, bbox) for w in windows):
                    person = bbox.y1 >= H - 2 or abs(bbox.y1 - floor_y) <= 0.12 * fig_h
                if not person:
                    continue
                extra.append(bbox)
                self.finding(
                    "figure_extra",
                    f"{fr.shot.id} shows a figure-sized shape ({bbox.x1 - bbox.x0}x"
                    f"{bbox.y1 - bbox.y0} px at {bbox.x0},{bbox.y0}) that is neither the set "
                    "nor any character the storyboard blocks in the shot.",
                    f"Re-render {fr.shot.id} with only the blocked characters: "
                    + (", ".join(b.character for b in fr.shot.blocking) or "nobody")
                    + ".",
                    {
                        "x0": float(bbox.x0),
                        "y0": float(bbox.y0),
                        "x1": float(bbox.x1),
                        "y1": float(bbox.y1),
                        "area_px": float(area),
                        "figure_height_px": round(fig_h, 1),
                    },
                )
        self.score("count_extra", len(extra))
        worst_offset, worst_share = 0.0, 0.0
        for k, (st, share) in states.items():
            if st.kind == "present":
                continue
            if st.kind == "covered":
                # Changed, but neither moved nor gone: a figure in front of it (reported above)
                # or the element drawn differently.
                if share < p.element_changed_share:
                    continue
                sl = box_slices(elements[k], size)
                ch = fr.changed[sl] & ~figures[sl]
                under = np.zeros_like(ch)
                for b in extra:
                    under[
                        box_slices(
                            _shift_box(b, -elements[k].x0, -elements[k].y0),
                            (ch.shape[1], ch.shape[0]),
                        )
                    ] = 1
                if (ch & under).sum() >= 0.3 * ch.sum():
                    continue
            worst_share = max(worst_share, share)
            kind = _element_kind(fr.location, k)
            ev: dict[str, float | str] = {
                "element": k,
                "kind": kind,
                "changed_share": share,
                "match": st.score,
                "match_in_place": st.in_place,
                "vacated": st.vacated,
                "unexplained_in_place": st.unexplained_in_place,
                "unexplained_moved": st.unexplained_moved,
            }
            if st.kind == "moved":
                dist = math.hypot(st.dx, st.dy)
                worst_offset = max(worst_offset, dist)
                self.finding(
                    "set_element_moved",
                    f"The {kind} (set element {k}) in {fr.shot.id} is {dist:.0f} px from "
                    f"where the set puts it (dx {st.dx:+.0f}, dy {st.dy:+.0f}).",
                    f"Re-render {fr.shot.id} with the set as designed: the {kind} belongs at "
                    f"its place in {fr.shot.location}.",
                    ev | {"dx_px": st.dx, "dy_px": st.dy},
                    ratio=p.element_min_shift_px / dist,
                )
            elif st.kind == "covered":
                self.finding(
                    "set_element_changed",
                    f"The {kind} (set element {k}) in {fr.shot.id} is not drawn as the set has "
                    f"it: {share:.0%} of it differs, and it was not found moved nearby.",
                    f"Re-render {fr.shot.id} with the set as designed: the {kind} as and where "
                    f"{fr.shot.location} has it.",
                    ev,
                )
            else:
                self.finding(
                    "set_element_missing",
                    f"The {kind} (set element {k}) in {fr.shot.id} is not where the set puts it: "
                    f"{st.vacated:.0%} of its place shows what is behind it, and it was not "
                    "found nearby (moved behind something, or gone).",
                    f"Re-render {fr.shot.id} with the set as designed, {kind} included.",
                    ev,
                )
        self.score("set_offset_px", worst_offset)
        self.score("set_changed_share", worst_share)

    def _element_state(self, fr: _Frame, key: str, figures: np.ndarray) -> _ElementState:
        """Where is set element `key`: in place, moved (by how much), gone, or changed otherwise?

        See the module docstring, "The set".
        """
        p, size = self.p, fr.size
        loc = fr.location
        assert loc is not None and fr.background is not None and fr.changed is not None
        try:
            idx = int(key)
            el = loc.elements[idx]
        except (ValueError, IndexError):
            return _ElementState("present")
        elements = list(loc.elements)
        # Out of every camera's sight, keeping the other elements' indices (and their details).
        elements[idx] = el.model_copy(update={"x": -1000.0})
        without = set_render(fr.lit_as, loc.model_copy(update={"elements": elements}), size)
        drawn_all = differing(fr.background, without, p.diff_threshold)
        box = fr.kf.elements[key]
        # Its own pixels, without the glow a lamp or window throws around it.
        own = drawn_all & ~figures & boxes_mask([box], size, grow=2)
        if int(own.sum()) < p.element_min_px:
            return _ElementState("present")
        if float((~fr.changed[own]).mean()) >= 0.9:
            return _ElementState("present")
        ry, rx = np.nonzero(drawn_all)
        region = Box(x0=int(rx.min()), y0=int(ry.min()), x1=int(rx.max()) + 1, y1=int(ry.max()) + 1)
        # Pixels that can hide the element: figures and set elements drawn after it.
        order = sorted(range(len(loc.elements)), key=lambda i: (DEPTH_SCALE[elements[i].layer], i))
        later = [
            fr.kf.elements[str(j)]
            for j in order[order.index(idx) + 1 :]
            if str(j) in fr.kf.elements
        ]
        hidden = figures | boxes_mask(later, size, grow=1)
        ys, xs = np.nonzero(own)
        y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
        R = int(min(240, max(16, 0.75 * max(x1 - x0, y1 - y0))))
        templ = blurred_grey(fr.background[y0:y1, x0:x1])
        tmask = own[y0:y1, x0:x1]
        search = (x0 - R, y0 - R, x1 + R, y1 + R)
        c = masked_ncc(*grey_window(fr.rgb, ~hidden, search), templ, tmask)
        in_place = float(c[R, R])
        iy, ix = (int(i) for i in np.unravel_index(int(np.argmax(c)), c.shape))
        best = float(c[iy, ix])
        dx, dy = ix - R, iy - R
        # Which story explains the pixels around it best: the element where the set puts it,
        # moved by (dx, dy) (the set re-rendered so: what it uncovers and what now hides it
        # come out right), or gone? A figure in front of a long counter can make the counter
        # "match" shifted; the figure is explained by none of them, so no move is claimed.
        k16, b16, w16 = (a.astype(np.int16) for a in (fr.rgb, fr.background, without))
        moving = math.hypot(dx, dy) >= p.element_min_shift_px and best >= p.element_min_score
        span, m16 = drawn_all, b16
        if moving:
            ppm = pixels_per_metre(fr.shot.camera, size[0], el.layer)
            sign = -1.0 if fr.shot.camera.reverse else 1.0
            elements[idx] = el.model_copy(
                update={"x": el.x + sign * dx / ppm, "y": max(0.0, el.y - dy / ppm)}
            )
            shifted = set_render(fr.lit_as, loc.model_copy(update={"elements": elements}), size)
            m16 = shifted.astype(np.int16)
            span = drawn_all | differing(shifted, without, p.diff_threshold)
        span = span & ~figures
        area = max(1, int(span.sum()))
        # Within a pixel: the move is found to a pixel and the renderer draws off the grid.
        tol = 2 * p.diff_threshold
        wrong_in = int((~near_match(k16, b16, span, tol)).sum())
        wrong_gone = int((~near_match(k16, w16, span, tol)).sum())
        wrong_moved = int((~near_match(k16, m16, span, tol)).sum()) if moving else area
        behind = np.abs(k16 - w16).max(axis=2) < np.abs(k16 - b16).max(axis=2)
        seen = own & ~hidden
        vacated = float(behind[seen].mean()) if seen.any() else 0.0
        bw, bh = box.x1 - box.x0, box.y1 - box.y0
        window = Box(x0=box.x0 - bw, y0=box.y0 - bh, x1=box.x1 + bw, y1=box.y1 + bh)
        state = _ElementState(
            "covered",
            dx,
            dy,
            best,
            in_place,
            vacated,
            wrong_in / area,
            wrong_moved / area,
            region,
            window,
        )
        if wrong_moved <= 0.5 * wrong_in and wrong_moved <= min(wrong_gone, 0.35 * area):
            state.kind = "moved"
        elif wrong_gone <= 0.5 * wrong_in or vacated >= 0.6:
            state.kind = "missing"
        return state

    # -- palette ------------------------------------------------------------------------------

    def palette(self, fr: _Frame, refs: dict[str, _CharacterRefs]) -> None:
        p = self.p
        worst = 0.0
        outfits: dict[str, tuple[np.ndarray, float]] = {}
        for f in fr.kf.figures:
            design = self._design(f.character)
            if (
                design is None
                or f.visible_fraction < p.count_min_visible
                or f.character in self.absent
            ):
                continue
            parts: list[tuple[str, Box | None, str, float]] = [
                ("skin", f.face, design.skin, p.skin_delta_e),
                ("outfit", f.outfit, design.outfit_colour, p.outfit_delta_e),
            ]
            if "hair" in _reference_parts(design):
                parts.insert(0, ("hair", f.hair, design.hair_colour, p.hair_delta_e))
            for part, box, colour, limit in parts:
                px = self._part_pixels(fr, f, box)
                if px is None:
                    continue
                d = part_delta_e(px, fr.lights, colour, self._quantile(fr, colour))
                worst = max(worst, d)
                if part == "outfit":
                    outfits[f.character] = (px, d)
                    continue
                if d > limit:
                    self._colour_finding(fr, f.character, part, colour, d, limit, refs)
        # Outfits: a pair each wearing the other's colour is a swap, anything else drift.
        swapped: set[str] = set()
        names = list(outfits)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                if a in swapped or b in swapped:
                    continue
                da, db = outfits[a][1], outfits[b][1]
                if da <= p.outfit_delta_e or db <= p.outfit_delta_e:
                    continue
                ca, cb = self._design(a), self._design(b)
                assert ca is not None and cb is not None
                ab = part_delta_e(
                    outfits[a][0], fr.lights, cb.outfit_colour, self._quantile(fr, cb.outfit_colour)
                )
                ba = part_delta_e(
                    outfits[b][0], fr.lights, ca.outfit_colour, self._quantile(fr, ca.outfit_colour)
                )
                if ab <= p.outfit_delta_e and ba <= p.outfit_delta_e:
                    swapped |= {a, b}
                    self.swapped |= {a, b}
                    self.finding(
                        "outfit_swap",
                        f"{a} and {b} wear each other's outfits in {fr.shot.id}: {a}'s is "
                        f"ΔE00 {ab:.1f} from {b}'s {cb.outfit_colour} (own {da:.1f}), {b}'s is "
                        f"ΔE00 {ba:.1f} from {a}'s {ca.outfit_colour} (own {db:.1f}).",
                        f"Re-render {fr.shot.id} with each character's own outfit: {a} in "
                        f"{ca.outfit_colour}, {b} in {cb.outfit_colour}.",
                        {
                            "characters": f"{a},{b}",
                            f"delta_e_{a}_own": da,
                            f"delta_e_{a}_as_{b}": ab,
                            f"delta_e_{b}_own": db,
                            f"delta_e_{b}_as_{a}": ba,
                        },
                        ratio=p.outfit_delta_e / max(da, db),
                    )
        for name, (_, d) in outfits.items():
            if name not in swapped and d > p.outfit_delta_e:
                design = self._design(name)
                assert design is not None
                self._colour_finding(
                    fr, name, "outfit", design.outfit_colour, d, p.outfit_delta_e, refs
                )
        self.score("palette_delta_e", worst)

    def _quantile(self, fr: _Frame, colour: str) -> float:
        """The share of a part that must match: more when line art has the part's colour.

        Without a reliable figure mask (a keyframe the set render does not reproduce) the box
        holds background too, so only the base share is asked for.
        """
        if fr.background is not None and delta_e00(colour, INK_HEX) < self.p.ink_like_delta_e:
            return self.p.ink_like_quantile
        return self.p.palette_quantile

    def _part_pixels(self, fr: _Frame, f: FigureLayout, box: Box | None) -> np.ndarray | None:
        if box is None or box.area == 0:
            return None
        sl = box_slices(box, fr.size)
        # Without the set to tell figure from background, the closest pixels of the whole box
        # are the part's: the background can only hide a drift there, not invent one.
        m = fr.ink[sl].copy() if fr.background is not None else np.ones(fr.ink[sl].shape, bool)
        for g in fr.kf.figures:
            if g is f:
                continue
            gs = box_slices(g.body, fr.size)
            m[
                max(0, gs[0].start - sl[0].start) : max(0, gs[0].stop - sl[0].start),
                max(0, gs[1].start - sl[1].start) : max(0, gs[1].stop - sl[1].start),
            ] = False
        if m.sum() < self.p.min_part_px:
            return None
        px = fr.rgb[sl][m]
        if len(px) > 6000:
            px = px[:: len(px) // 6000]
        return px

    def _colour_finding(
        self,
        fr: _Frame,
        name: str,
        part: str,
        colour: str,
        d: float,
        limit: float,
        refs: dict[str, _CharacterRefs],
    ) -> None:
        self.off_model.add(name)
        label = {"hair": "hair", "skin": "skin", "outfit": "outfit"}[part]
        ref = refs.get(name)
        sheet_off = ref is not None and ref.off_design.get(part, 1.0) < 0.005
        if sheet_off:
            fix = (
                f"Redraw {name}'s reference sheet: its {label} is not the design's {colour}, "
                "so shots drawn from it drift."
            )
        else:
            fix = (
                f"Re-render {name} in {fr.shot.id} from the reference sheet: {label} colour "
                f"{colour}."
            )
        evidence: dict[str, float | str] = {
            "character": name,
            "part": part,
            "delta_e00": d,
            "limit": limit,
            "expected": colour,
        }
        if sheet_off:
            evidence["sheet_off_design"] = part
        self.finding(
            f"{part}_colour",
            f"{name}'s {label} in {fr.shot.id} is off-model: ΔE00 {d:.1f} from the design's "
            f"{colour} (limit {limit:g}).",
            fix,
            evidence,
            agent="character_designer" if sheet_off else "director",
            ratio=limit / d,
        )

    def _design(self, name: str) -> CharacterDesign | None:
        ch = self.board.cast.get(name)
        return ch.design if ch is not None else None

    # -- identity -----------------------------------------------------------------------------

    def identity(self, fr: _Frame, refs: dict[str, _CharacterRefs]) -> None:
        p = self.p
        all_refs = [r for cr in refs.values() for r in cr.refs]
        if not all_refs:
            return
        sd = ShotPixels(fr.lit_as, fr.kf.figures, fr.rgb, fr.ink, "set_difference", fr.location)
        board = self.board.model_copy(update={"cast": {}})
        inp = collect_identity(self.bundle.root, board, [sd], p, [])
        cache = _ShotDescriptors(self.shared.descriptors, all_refs)
        worst_sim, worst_margin = 1.0, 1.0
        for crop in inp.crops:
            own = [r for r in all_refs if r.character == crop.character]
            if not own or crop.character in self.absent:
                continue
            best_own = max(
                ((cache.sim(crop.canon, r.canon), r) for r in own), key=lambda t: t[0].sim
            )
            d = cache.get(crop.canon, crop.canon.valid)
            if d is None or d.coverage < p.min_coverage_ratio * best_own[0].coverage:
                continue  # occluded
            others: dict[str, float] = {}
            for r in all_refs:
                if r.character != crop.character:
                    s = cache.sim(crop.canon, r.canon).sim
                    others[r.character] = max(others.get(r.character, -1.0), s)
            sim = best_own[0].sim
            rival, rival_sim = max(others.items(), key=lambda t: t[1]) if others else ("", -1.0)
            margin = sim - rival_sim if others else 1.0
            worst_sim, worst_margin = min(worst_sim, sim), min(worst_margin, margin)
            floor = p.identity_min if fr.background is not None else p.identity_min_estimated
            if sim >= floor and margin >= -p.identity_margin:
                continue
            if crop.character in self.swapped or (
                crop.character in self.off_model and margin >= -p.identity_margin
            ):
                continue  # a palette finding already says what is off
            # Is it the designs (too alike) or the reference sheet that is at fault?
            ceiling = 1.0
            if rival:
                ceiling = 1.0 - max(
                    cache.sim(best_own[1].canon, r.canon).sim
                    for r in all_refs
                    if r.character == rival
                )
            too_alike = bool(rival) and ceiling < p.distinct_margin
            own_sheet = refs.get(crop.character)
            off = [k for k, v in (own_sheet.off_design if own_sheet else {}).items() if v < 0.005]
            ev: dict[str, float | str] = {
                "character": crop.character,
                "similarity": sim,
                "min": floor,
                "best_view": best_own[1].view,
            }
            if rival:
                ev |= {"closest_other": rival, "other_similarity": rival_sim, "margin": margin}
            closer = f"; {rival}'s references match better ({rival_sim:.2f})" if margin < 0 else ""
            if off:
                ev["sheet_off_design"] = ",".join(off)
                fix = (
                    f"Redraw {crop.character}'s reference sheet from the design: its "
                    f"{' and '.join(off)} colour is not the design's."
                )
            elif too_alike:
                fix = (
                    f"Make {crop.character} and {rival} easier to tell apart: change hair, "
                    "outfit or build so their reference sheets differ."
                )
            else:
                fix = (
                    f"Re-render {crop.character} in {fr.shot.id} from the reference sheet "
                    "(hair, face, outfit and accessories as designed)."
                )
            designer = bool(off) or too_alike
            self.finding(
                "identity",
                f"{crop.character} in {fr.shot.id} does not look like their reference sheet "
                f"(similarity {sim:.2f}, floor {floor:g}){closer}.",
                fix,
                ev,
                agent="character_designer" if designer else "director",
                ratio=min(sim / floor, 1.0 + min(0.0, margin)),
            )
        self.score("identity_similarity", worst_sim)
        self.score("identity_margin", worst_margin)

    # -- all ----------------------------------------------------------------------------------

    def run(self) -> _Analysis:
        path = self.bundle.root / self.kf.path
        rgb = load_rgb(path)
        fr = self.frame(rgb)
        refs: dict[str, _CharacterRefs] = {}
        for f in fr.kf.figures:
            if f.character in self.board.cast and f.character not in refs:
                refs[f.character] = self.shared.refs(f.character)
        for name in self.board.cast:
            if name not in refs:
                refs[name] = self.shared.refs(name)
        for cr in refs.values():
            self.out.notes.extend(cr.notes)
        if fr.changed is not None:
            self.count(fr)
            self.blobs(fr)
        self.palette(fr, refs)
        self.identity(fr, refs)
        self.out.scores["score"] = round(self.worst, 4)
        return self.out


def _shift_box(b: Box, dx: float, dy: float) -> Box:
    x, y = round(dx), round(dy)
    return Box(x0=b.x0 + x, y0=b.y0 + y, x1=b.x1 + x, y1=b.y1 + y)


def _overlap(a: Box, b: Box) -> int:
    return max(0, min(a.x1, b.x1) - max(a.x0, b.x0)) * max(0, min(a.y1, b.y1) - max(a.y0, b.y0))


def _element_kind(loc: LocationDesign | None, key: str) -> str:
    try:
        return loc.elements[int(key)].kind if loc is not None else "set element"
    except (ValueError, IndexError):
        return "set element"


class _Shared:
    """What the checks of one storyboard share, worked out once and not once per shot: the
    board-wide part of each shot's cache key, the characters' references, and the sets near
    each scene (the candidates for a keyframe drawn in the wrong set)."""

    def __init__(self, bundle: Bundle, p: ImageThresholds) -> None:
        self.bundle = bundle
        b = bundle.board
        self.key = _digest(
            str(bundle.root),
            {n: loc.model_dump_json() for n, loc in sorted(b.locations.items())},
            {n: c.model_dump_json() for n, c in sorted(b.cast.items())},
            p.model_dump_json(),
        )
        self._refs: dict[str, _CharacterRefs] = {}
        self._near: dict[int, list[str]] | None = None
        self._lock = threading.Lock()
        # The references' descriptors: every figure of every shot is compared with them.
        self.descriptors = DescCache()

    def refs(self, name: str) -> _CharacterRefs:
        with self._lock:
            if name not in self._refs:
                self._refs[name] = _character_refs(self.bundle.root, name, self.bundle.board)
            return self._refs[name]

    def other_sets(self, shot: Shot) -> list[str]:
        """The storyboard's other sets to try for a keyframe drawn in the wrong one: all of
        them, or for a long storyboard the MAX_OTHER_SETS used in the scenes nearest the shot's
        (a drifted keyframe is drawn in a set of the story around it), in storyboard order."""
        names = self.bundle.board.locations
        if len(names) <= MAX_OTHER_SETS + 1:
            return [n for n in names if n != shot.location]
        with self._lock:
            if self._near is None:
                self._near = _nearest_sets(self.bundle.board.shots, MAX_OTHER_SETS + 1)
            near = set(self._near.get(shot.scene, ()))
        near.discard(shot.location)
        picked = [n for n in names if n in near][:MAX_OTHER_SETS]
        return picked


class _ShotDescriptors(DescCache):
    """One shot's descriptor cache: its crops' own, the references' from the storyboard's
    (describing the references again for every shot was most of the identity check's time)."""

    def __init__(self, shared: DescCache, refs: list[Ref]) -> None:
        super().__init__()
        self.shared = shared
        self.refs = {id(c) for r in refs for c in (r.canon, r.canon.flipped())}

    def get(self, c: Canon, valid: np.ndarray) -> Descriptor | None:
        if id(c) in self.refs:
            with _LOCK:
                return self.shared.get(c, valid)
        return super().get(c, valid)


def _nearest_sets(shots: list[Shot], count: int) -> dict[int, list[str]]:
    """Scene -> the first `count` sets met walking out from it scene by scene (storyboard order)."""
    order: list[int] = []
    sets: dict[int, list[str]] = {}
    for shot in shots:
        if shot.scene not in sets:
            order.append(shot.scene)
            sets[shot.scene] = []
        if shot.location not in sets[shot.scene]:
            sets[shot.scene].append(shot.location)
    near: dict[int, list[str]] = {}
    for i, scene in enumerate(order):
        found: dict[str, None] = dict.fromkeys(sets[scene])
        step = 1
        while len(found) < count and (i - step >= 0 or i + step < len(order)):
            for j in (i - step, i + step):
                if 0 <= j < len(order):
                    found.update(dict.fromkeys(sets[order[j]]))
            step += 1
        near[scene] = list(found)
    return near


def _analyse(bundle: Bundle, shot: Shot, p: ImageThresholds, shared: _Shared) -> _Analysis | None:
    kf = bundle.board.keyframes.get(shot.id)
    if kf is None:
        return None
    path = bundle.root / kf.path
    if not path.is_file():
        return _Analysis(notes=[f"{shot.id}: keyframe {kf.path} is missing; not checked."])
    key = _digest(
        hashlib.blake2b(path.read_bytes(), digest_size=16).digest(),
        shared.key,
        shot.model_dump_json(),
        kf.model_dump_json(),
    )
    hit = _recall(_RESULTS, key)
    if hit is None:
        hit = _Checker(bundle, shot, kf, p, shared).run()
        _remember(_RESULTS, key, hit, _RESULTS_MAX)
    return hit


@dataclass
class ShotCheck:
    """One shot's image-check result: its findings and its measurements (see shot_scores)."""

    findings: list[Finding]
    scores: dict[str, float]


def check_shots(
    bundle: Bundle,
    shots: list[str] | None = None,
    params: ImageThresholds | None = None,
    on_shot: Callable[[str], None] | None = None,
    workers: int | None = None,
) -> dict[str, ShotCheck]:
    """Run every image check on each shot with a keyframe (or only on `shots`); results in
    storyboard order, `on_shot(shot_id)` called as each is done (for progress).

    Each shot is analysed once, against what the whole storyboard shares (worked out once), so
    the work grows with the number of shots, not with its square. `workers` shots are
    analysed at a time (default: one per core, at most MAX_WORKERS; each holds ~130 MB).
    """
    p = params or ImageThresholds()
    wanted = set(shots) if shots is not None else None
    results: dict[str, ShotCheck] = {}
    if not bundle.board.keyframes:
        _note(bundle, "image checks skipped: the storyboard has no keyframes.")
        return results
    shared = _Shared(bundle, p)
    noted = set(bundle.notes)
    todo = [s for s in bundle.board.shots if wanted is None or s.id in wanted]
    count = workers or min(MAX_WORKERS, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=max(1, count)) as pool:
        analysed = pool.map(lambda shot: _analyse(bundle, shot, p, shared), todo)
        done = list(_reported(zip(todo, analysed, strict=True), on_shot))
    for shot, a in done:
        if a is not None:
            findings = [f.model_copy(deep=True) for f in a.findings]
            results[shot.id] = ShotCheck(findings, dict(a.scores))
            for n in a.notes:
                if n not in noted:
                    noted.add(n)
                    bundle.notes.append(n)
    return results


def _reported(
    done: Iterator[tuple[Shot, _Analysis | None]], on_shot: Callable[[str], None] | None
) -> Iterator[tuple[Shot, _Analysis | None]]:
    for shot, a in done:
        if on_shot is not None:
            on_shot(shot.id)
        yield shot, a


def check_image(
    bundle: Bundle, shots: list[str] | None = None, params: ImageThresholds | None = None
) -> list[Finding]:
    """Run every image check on the storyboard's keyframes (or only on `shots`)."""
    return [f for r in check_shots(bundle, shots, params).values() for f in r.findings]


def shot_scores(
    bundle: Bundle, shot_id: str, params: ImageThresholds | None = None
) -> dict[str, float]:
    """Measure one shot for the repair loop's before/after.

    Keys (present when measurable):
      * score: 1.0 when every check passes, lower the further the worst one is past its
        threshold (0.0 for a count error or a whole-frame mistake);
      * identity_similarity: worst figure's similarity to its own references (1 = identical);
      * identity_margin: worst own-minus-closest-other similarity (negative: looks like another);
      * palette_delta_e: worst part's CIEDE2000 distance from its design colour;
      * count_missing, count_extra: figures not drawn / figure-sized shapes nobody is blocked as;
      * set_mismatch: share of the background that differs from the re-rendered set;
        best_alternative_mismatch: the same for the closest whole-frame alternative, if tried;
      * set_offset_px: largest displacement of a set element, frame pixels;
        set_changed_share: largest changed share of an element box.

    For many shots, `check_shots` gives the same numbers without re-reading the storyboard
    for each.
    """
    p = params or ImageThresholds()
    shot = next((s for s in bundle.board.shots if s.id == shot_id), None)
    if shot is None:
        raise KeyError(f"no shot {shot_id!r} in the storyboard")
    a = _analyse(bundle, shot, p, _Shared(bundle, p))
    return dict(a.scores) if a is not None else {}


def _note(bundle: Bundle, note: str) -> None:
    if note not in bundle.notes:
        bundle.notes.append(note)
