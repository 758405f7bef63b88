"""The background first: which set, light and orientation reproduce the keyframe.

Checks `mirrored_frame`, `wrong_light` and `wrong_set`, and gives the figure checks a `Frame`:
the keyframe (un-mirrored if it was drawn mirrored) with the set render that explains it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from inkreel.art.lighting import character_light, shot_light
from inkreel.checks.image import renders
from inkreel.checks.image.inspection import Frame, Inspection
from inkreel.measure.figures import (
    boxes_mask,
    differing,
    mirror_box,
    palette_mask,
    solid_regions,
)
from inkreel.schemas import LocationDesign, Shot


class _Alternative(NamedTuple):
    """A whole-frame mistake the keyframe may be: its render and how much it leaves unexplained."""

    cause: str  # "mirrored", "time:<time of day>" or "location:<set>"
    mismatch: float
    render: np.ndarray
    location: LocationDesign
    label: str  # the time of day or the set it was drawn in


def explain(insp: Inspection, rgb: np.ndarray) -> Frame:
    """Find the set render that reproduces the keyframe; report a whole-frame mistake."""
    shot, p = insp.shot, insp.p
    size = (rgb.shape[1], rgb.shape[0])
    loc_asset = insp.board.locations.get(shot.location)
    loc = loc_asset.design if loc_asset is not None else None
    if loc is None:
        insp.out.notes.append(
            f"{shot.id}: location {shot.location!r} has no design in the storyboard, so "
            "its set cannot be re-rendered; the set, count and whole-frame checks were "
            "skipped and figure pixels were estimated from the background palette."
        )
        return _unexplained(insp, rgb, None)
    expected = renders.set_render(shot, loc, size)
    mismatch = _background_mismatch(insp, rgb)
    base = mismatch(expected)
    insp.score("set_mismatch", base)
    alt: _Alternative | None = None
    if base > p.set_match:
        c = min(_alternatives(insp, loc, expected, mismatch), key=lambda a: a.mismatch)
        insp.score("best_alternative_mismatch", c.mismatch)
        if c.mismatch <= p.alternative_gain * base and c.mismatch <= p.max_set_mismatch:
            alt = c
    if alt is None and base <= p.set_match and _mirrored_figures(insp, rgb, expected):
        # A set that looks the same mirrored: the figures tell which way the frame is.
        return _report_mirrored(insp, rgb, expected, loc, base, None)
    if alt is None and base > p.max_set_mismatch:
        insp.out.notes.append(
            f"{shot.id}: the re-rendered set does not reproduce the keyframe ({base:.0%} of "
            "the background differs; not drawn by this renderer?), so the set, count and "
            "whole-frame checks were skipped and figure pixels were estimated from the "
            "background palette (identity and palette checks only)."
        )
        return _unexplained(insp, rgb, loc)
    light = character_light(loc, shot.time_of_day)
    if alt is None:
        return _explained(insp, rgb, expected, [light], loc)
    if alt.cause == "mirrored":
        return _report_mirrored(insp, rgb, expected, loc, base, alt.mismatch)
    if alt.cause.startswith("time:"):
        return _report_light(insp, rgb, alt, light, base)
    return _report_set(insp, rgb, alt, light, base)


def _background_mismatch(insp: Inspection, rgb: np.ndarray) -> Callable[[np.ndarray], float]:
    """The share of the keyframe's background (outside the figures and their mirror images)
    that a render does not reproduce."""
    W, H = rgb.shape[1], rgb.shape[0]
    bodies = [f.body for f in insp.kf.figures]
    outside = ~boxes_mask(bodies + [mirror_box(b, W) for b in bodies], (W, H), grow=3)
    if outside.sum() < 0.05 * W * H:
        outside = ~boxes_mask(bodies, (W, H), grow=3)
    threshold = insp.p.diff_threshold

    def mismatch(render: np.ndarray) -> float:
        if not outside.any():
            return 0.0
        return float(solid_regions(differing(rgb, render, threshold))[outside].mean())

    return mismatch


def _alternatives(
    insp: Inspection,
    loc: LocationDesign,
    expected: np.ndarray,
    mismatch: Callable[[np.ndarray], float],
) -> list[_Alternative]:
    """The set mirrored, at each other time of day, and the shot's camera in the other sets."""
    shot = insp.shot
    size = (expected.shape[1], expected.shape[0])
    flipped = expected[:, ::-1]
    cands = [_Alternative("mirrored", mismatch(flipped), flipped, loc, shot.time_of_day)]
    own = shot_light(loc, shot.time_of_day)
    for tod, lighting in loc.lighting.items():
        if tod == shot.time_of_day or lighting == own:
            continue
        other = renders.set_render(shot.model_copy(update={"time_of_day": tod}), loc, size)
        cands.append(_Alternative(f"time:{tod}", mismatch(other), other, loc, tod))
    for name in insp.shared.other_sets(shot):
        asset = insp.board.locations[name]
        moved = shot.model_copy(update={"location": name})
        other = renders.set_render(moved, asset.design, size)
        cands.append(_Alternative(f"location:{name}", mismatch(other), other, asset.design, name))
    return cands


def _report_mirrored(
    insp: Inspection,
    rgb: np.ndarray,
    expected: np.ndarray,
    loc: LocationDesign,
    base: float,
    best: float | None,
) -> Frame:
    """`best` is the mirrored set's mismatch, or None when the figures told (a symmetric set)."""
    shot = insp.shot
    ev: dict[str, float | str] = {
        "set_mismatch": base,
        "alternative_mismatch": base if best is None else best,
    }
    why = (
        "the figures stand where the storyboard's mirror image puts them (the set looks "
        "the same both ways)"
        if best is None
        else f"the set matches its mirror image ({best:.1%} of the background differs) "
        f"rather than the camera's view ({base:.1%})"
    )
    insp.finding(
        "mirrored_frame",
        f"{shot.id} is drawn mirrored: {why}.",
        f"Re-render the keyframe of {shot.id} from its camera without flipping it; the "
        "characters must keep the screen sides the storyboard gives them.",
        ev,
    )
    light = character_light(loc, shot.time_of_day)
    return _explained(insp, np.ascontiguousarray(rgb[:, ::-1]), expected, [light], loc)


def _report_light(
    insp: Inspection, rgb: np.ndarray, alt: _Alternative, light: np.ndarray, base: float
) -> Frame:
    shot, tod, best = insp.shot, alt.label, alt.mismatch
    ev: dict[str, float | str] = {"set_mismatch": base, "alternative_mismatch": best}
    ev["rendered_time"] = tod
    ev["storyboard_time"] = shot.time_of_day
    insp.finding(
        "wrong_light",
        f"{shot.id} is lit for {tod} but the storyboard says {shot.time_of_day} "
        f"(the {tod} set reproduces {1 - best:.1%} of the background, the "
        f"{shot.time_of_day} one {1 - base:.1%}).",
        f"Re-render {shot.id} with the {shot.time_of_day} lighting of {shot.location}.",
        ev,
    )
    light_alt = character_light(alt.location, tod)
    lit = shot.model_copy(update={"time_of_day": tod})
    return _explained(insp, rgb, alt.render, [light, light_alt], alt.location, lit_as=lit)


def _report_set(
    insp: Inspection, rgb: np.ndarray, alt: _Alternative, light: np.ndarray, base: float
) -> Frame:
    shot, name, best = insp.shot, alt.label, alt.mismatch
    ev: dict[str, float | str] = {"set_mismatch": base, "alternative_mismatch": best}
    ev["rendered_location"] = name
    ev["storyboard_location"] = shot.location
    insp.finding(
        "wrong_set",
        f"{shot.id} is drawn in {name} but the storyboard puts it in {shot.location} "
        f"({1 - best:.1%} of the background matches {name}, {1 - base:.1%} matches "
        f"{shot.location}).",
        f"Re-render {shot.id} in its own set, {shot.location}, from the same camera.",
        ev,
    )
    light_alt = character_light(alt.location, shot.time_of_day)
    return _explained(
        insp, rgb, alt.render, [light, light_alt], alt.location, set_checks=False, lit_as=shot
    )


def _mirrored_figures(insp: Inspection, rgb: np.ndarray, expected: np.ndarray) -> bool:
    """Do the figures stand where the layout's mirror image puts them, and not where it does?

    Only asked when the set reproduces the frame, for a set that is its own mirror image.
    """
    W, H = rgb.shape[1], rgb.shape[0]
    bodies = [f.body for f in insp.kf.figures if f.visible_fraction >= 0.2]
    if not bodies:
        return False
    here = boxes_mask(bodies, (W, H), grow=3)
    there = boxes_mask([mirror_box(b, W) for b in bodies], (W, H), grow=3)
    only_here, only_there = here & ~there, there & ~here
    if min(only_here.sum(), only_there.sum()) < 0.002 * W * H:
        return False
    outside = ~(here | there)
    flipped = expected[:, ::-1]
    if outside.any() and differing(rgb, flipped, insp.p.diff_threshold)[outside].mean() > 0.005:
        return False  # the set is not symmetric: the mirror test above would have seen it
    ink = solid_regions(differing(rgb, expected, insp.p.diff_threshold))
    return bool(ink[only_here].mean() < insp.p.count_min_ink <= 0.5 * ink[only_there].mean())


def _unexplained(insp: Inspection, rgb: np.ndarray, loc: LocationDesign | None) -> Frame:
    ink = palette_mask(rgb, insp.kf.figures, insp.p.palette_threshold)
    lights = [character_light(loc, insp.shot.time_of_day)] if loc else [np.ones(3)]
    insp.set_checks = False
    return Frame(insp.shot, insp.kf, rgb, None, lights, ink, None, loc, insp.shot)


def _explained(
    insp: Inspection,
    rgb: np.ndarray,
    background: np.ndarray,
    lights: list[np.ndarray],
    loc: LocationDesign,
    set_checks: bool = True,
    lit_as: Shot | None = None,
) -> Frame:
    changed = differing(rgb, background, insp.p.diff_threshold)
    W, H = rgb.shape[1], rgb.shape[0]
    ink = changed & boxes_mask([f.body for f in insp.kf.figures], (W, H), grow=3)
    changed = solid_regions(changed)
    insp.set_checks = set_checks
    return Frame(
        insp.shot, insp.kf, rgb, background, lights, ink, changed, loc, lit_as or insp.shot
    )
