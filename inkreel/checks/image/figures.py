"""Figures: a blocked character not drawn (`figure_missing`), a figure nobody is blocked as
(`figure_extra`)."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from inkreel.art.camera import FIGURE_HEIGHT_M, pixels_per_metre, project
from inkreel.checks.image.inspection import Frame, Inspection
from inkreel.measure.figures import box_slices, solid_regions
from inkreel.schemas import Box, Layer


def check_count(insp: Inspection, fr: Frame) -> None:
    """Report each figure that should be visible but whose body box holds almost no ink."""
    p, size = insp.p, fr.size
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
            insp.absent.add(f.character)
            insp.finding(
                "figure_missing",
                f"{f.character} should be in {fr.shot.id} (box {f.body.x0},{f.body.y0}-"
                f"{f.body.x1},{f.body.y1}) but only {share:.1%} of the box differs from "
                "the empty set: the figure is not drawn.",
                f"Re-render {fr.shot.id} with {f.character} drawn where the storyboard "
                "blocks them.",
                {"character": f.character, "figure_share": share, "min": p.count_min_ink},
            )
    insp.score("count_missing", missing)


def extra_figures(
    insp: Inspection, fr: Frame, figures: np.ndarray, set_boxes: list[Box], windows: list[Box]
) -> list[Box]:
    """Report figure-sized shapes outside every figure box that no set change explains.

    `figures` is the grown figure boxes; `set_boxes` where set elements changed and `windows`
    where their moves show (`set_elements.displaced_areas`). Returns the shapes' boxes.
    """
    assert fr.changed is not None
    p, size = insp.p, fr.size
    W, H = size
    loose = fr.changed & ~figures
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
            inside = max((b.overlap(bbox) for b in set_boxes), default=0)
            if inside >= 0.5 * bbox.area:
                continue  # the set changed here: reported below
            person = bbox.y1 - bbox.y0 >= p.person_min_height * scale and (
                area >= p.person_min_area * scale * scale
            )
            # Next to a displaced element, a shape counts as a figure only if it stands on
            # the floor (or is cut by the bottom of the frame) like the characters do.
            if person and any(w.overlap(bbox) for w in windows):
                person = bbox.y1 >= H - 2 or abs(bbox.y1 - floor_y) <= 0.12 * fig_h
            if not person:
                continue
            extra.append(bbox)
            insp.finding(
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
    insp.score("count_extra", len(extra))
    return extra
