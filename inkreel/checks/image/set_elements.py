"""The set: each set element found in place, moved (`set_element_moved`), gone
(`set_element_missing`) or drawn otherwise (`set_element_changed`); see the package docstring."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from inkreel.art.camera import DEPTH_SCALE, pixels_per_metre
from inkreel.checks.image import renders
from inkreel.checks.image.inspection import Frame, Inspection
from inkreel.measure.figures import box_slices, boxes_mask, channel_difference, differing
from inkreel.measure.matching import blurred_grey, grey_window, masked_ncc, near_match
from inkreel.schemas import Box, LocationDesign


@dataclass
class ElementState:
    """Where a changed set element is, and how well each story explains the pixels around it."""

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


def changed_elements(
    insp: Inspection, fr: Frame, figures: np.ndarray
) -> dict[str, tuple[ElementState, float]]:
    """Set elements whose visible part changed (moved, vanished, or just covered), with the
    changed share of their box; `figures` is the grown figure boxes."""
    assert fr.changed is not None and fr.background is not None
    p, size = insp.p, fr.size
    elements = {k: b for k, b in fr.kf.elements.items() if b.area > 0}
    states: dict[str, tuple[ElementState, float]] = {}
    for k, b in elements.items() if insp.set_checks else ():
        sl = box_slices(b, size)
        free = ~figures[sl]
        changed = fr.changed[sl] & free
        share = float(changed.sum() / max(1, free.sum()))
        if share >= p.element_min_changed and changed.sum() >= p.element_min_px:
            states[k] = (element_state(insp, fr, k, figures), share)
    return states


def displaced_areas(states: dict[str, tuple[ElementState, float]]) -> tuple[list[Box], list[Box]]:
    """Where the set changed: what an element draws (glow included), at its old place and, if
    it moved, at its new one; and the neighbourhood its move may reach."""
    set_boxes: list[Box] = []
    windows: list[Box] = []
    for st, _ in states.values():
        if st.kind in ("moved", "missing") and st.region is not None:
            set_boxes += [st.region, shift_box(st.region, st.dx, st.dy)]
        if st.kind != "present" and st.window is not None:
            windows.append(st.window)
    return set_boxes, windows


def element_state(insp: Inspection, fr: Frame, key: str, figures: np.ndarray) -> ElementState:
    """Where is set element `key`: in place, moved (by how much), gone, or changed otherwise?

    See the module docstring, "The set".
    """
    p, size = insp.p, fr.size
    loc = fr.location
    assert loc is not None and fr.background is not None and fr.changed is not None
    try:
        idx = int(key)
        el = loc.elements[idx]
    except (ValueError, IndexError):
        return ElementState("present")
    elements = list(loc.elements)
    # Out of every camera's sight, keeping the other elements' indices (and their details).
    elements[idx] = el.model_copy(update={"x": -1000.0})
    without = renders.set_render(fr.lit_as, loc.model_copy(update={"elements": elements}), size)
    drawn_all = differing(fr.background, without, p.diff_threshold)
    box = fr.kf.elements[key]
    # Its own pixels, without the glow a lamp or window throws around it.
    own = drawn_all & ~figures & boxes_mask([box], size, grow=2)
    if int(own.sum()) < p.element_min_px:
        return ElementState("present")
    if float((~fr.changed[own]).mean()) >= 0.9:
        return ElementState("present")
    ry, rx = np.nonzero(drawn_all)
    region = Box(x0=int(rx.min()), y0=int(ry.min()), x1=int(rx.max()) + 1, y1=int(ry.max()) + 1)
    hidden, in_place, best, dx, dy = _search(fr, idx, own, figures)
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
        shifted = renders.set_render(fr.lit_as, loc.model_copy(update={"elements": elements}), size)
        m16 = shifted.astype(np.int16)
        span = drawn_all | differing(shifted, without, p.diff_threshold)
    span = span & ~figures
    area = max(1, int(span.sum()))
    # Within a pixel: the move is found to a pixel and the renderer draws off the grid.
    tol = 2 * p.diff_threshold
    wrong_in = int((~near_match(k16, b16, span, tol)).sum())
    wrong_gone = int((~near_match(k16, w16, span, tol)).sum())
    wrong_moved = int((~near_match(k16, m16, span, tol)).sum()) if moving else area
    behind = channel_difference(fr.rgb, without) < channel_difference(fr.rgb, fr.background)
    seen = own & ~hidden
    vacated = float(behind[seen].mean()) if seen.any() else 0.0
    bw, bh = box.x1 - box.x0, box.y1 - box.y0
    window = Box(x0=box.x0 - bw, y0=box.y0 - bh, x1=box.x1 + bw, y1=box.y1 + bh)
    state = ElementState(
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


def _search(
    fr: Frame, idx: int, own: np.ndarray, figures: np.ndarray
) -> tuple[np.ndarray, float, float, int, int]:
    """Find element `idx`'s own pixels (`own`, in the set render) again around their place.

    Returns what can hide it (figures and nearer elements), the correlation in place and at
    the best place, and the offset of the best place.
    """
    assert fr.location is not None and fr.background is not None
    loc, size = fr.location, fr.size
    elements = loc.elements
    # Pixels that can hide the element: figures and set elements drawn after it.
    order = sorted(range(len(loc.elements)), key=lambda i: (DEPTH_SCALE[elements[i].layer], i))
    later = [
        fr.kf.elements[str(j)] for j in order[order.index(idx) + 1 :] if str(j) in fr.kf.elements
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
    return hidden, in_place, best, dx, dy


def report_elements(
    insp: Inspection,
    fr: Frame,
    states: dict[str, tuple[ElementState, float]],
    figures: np.ndarray,
    extra: list[Box],
) -> None:
    """Report each changed element as moved, missing or changed; an element a reported extra
    figure stands in front of is not reported."""
    assert fr.changed is not None
    p, size = insp.p, fr.size
    elements = fr.kf.elements
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
                        shift_box(b, -elements[k].x0, -elements[k].y0),
                        (ch.shape[1], ch.shape[0]),
                    )
                ] = 1
            if (ch & under).sum() >= 0.3 * ch.sum():
                continue
        worst_share = max(worst_share, share)
        kind = element_kind(fr.location, k)
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
            insp.finding(
                "set_element_moved",
                f"The {kind} (set element {k}) in {fr.shot.id} is {dist:.0f} px from "
                f"where the set puts it (dx {st.dx:+.0f}, dy {st.dy:+.0f}).",
                f"Re-render {fr.shot.id} with the set as designed: the {kind} belongs at "
                f"its place in {fr.shot.location}.",
                ev | {"dx_px": st.dx, "dy_px": st.dy},
                ratio=p.element_min_shift_px / dist,
            )
        elif st.kind == "covered":
            insp.finding(
                "set_element_changed",
                f"The {kind} (set element {k}) in {fr.shot.id} is not drawn as the set has "
                f"it: {share:.0%} of it differs, and it was not found moved nearby.",
                f"Re-render {fr.shot.id} with the set as designed: the {kind} as and where "
                f"{fr.shot.location} has it.",
                ev,
            )
        else:
            insp.finding(
                "set_element_missing",
                f"The {kind} (set element {k}) in {fr.shot.id} is not where the set puts it: "
                f"{st.vacated:.0%} of its place shows what is behind it, and it was not "
                "found nearby (moved behind something, or gone).",
                f"Re-render {fr.shot.id} with the set as designed, {kind} included.",
                ev,
            )
    insp.score("set_offset_px", worst_offset)
    insp.score("set_changed_share", worst_share)


def shift_box(b: Box, dx: float, dy: float) -> Box:
    x, y = round(dx), round(dy)
    return Box(x0=b.x0 + x, y0=b.y0 + y, x1=b.x1 + x, y1=b.y1 + y)


def element_kind(loc: LocationDesign | None, key: str) -> str:
    try:
        return loc.elements[int(key)].kind if loc is not None else "set element"
    except (ValueError, IndexError):
        return "set element"
