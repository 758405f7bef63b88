"""Set stability: each set element found again in every shot of its location, and how far off."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from inkreel.art.camera import DEPTH_SCALE, pixels_per_metre, project
from inkreel.evals.consistency.report import (
    ElementShift,
    LocationStability,
    Params,
    StabilityReport,
)
from inkreel.evals.consistency.scoring import rounded
from inkreel.measure.figures import ShotPixels, boxes_mask
from inkreel.measure.matching import gradient_features, masked_ncc, resample, subpixel_peak
from inkreel.schemas import Camera, SetElement, Shot, StoryboardFile

REFERENCE_WIDTH = 1280  # set displacements are reported in pixels of a frame this wide


def _element_geometry(
    shot: Shot, el: SetElement, size: tuple[int, int]
) -> tuple[tuple[float, float, float, float], tuple[float, float], float]:
    """Predicted (box, base-centre point, px per metre) of a set element in a shot's frame."""
    W, H = size
    px, py = project(shot.camera, el.x, el.y, el.layer, W, H)
    ppm = pixels_per_metre(shot.camera, W, el.layer)
    w, h = el.width * ppm, el.height * ppm
    return (px - w / 2, py - h, px + w / 2, py), (px, py), ppm


@dataclass
class _View:
    sd: ShotPixels
    gray: np.ndarray
    blocked: np.ndarray  # characters (body boxes, grown)
    _feat: np.ndarray | None = None

    @property
    def features(self) -> np.ndarray:
        if self._feat is None:
            self._feat = gradient_features(self.gray)
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


def score_stability(shots: list[ShotPixels], sb: StoryboardFile, params: Params) -> StabilityReport:
    """Find each set element of each location again in the location's shots."""
    locs: list[LocationStability] = []
    for name in dict.fromkeys(sd.shot.location for sd in shots):
        loc = sb.locations.get(name)
        if loc is None or not loc.design.elements:
            continue
        locs.append(_location(name, loc.design.elements, shots, params))
    ds = [
        e.displacement_px
        for loc_ in locs
        for e in loc_.elements
        if not e.lost and e.score >= params.set_min_score
    ]
    return StabilityReport(
        locations=locs,
        max_px=rounded(max(ds), 3) if ds else None,
        mean_px=rounded(float(np.mean(ds)), 3) if ds else None,
        measured=len(ds),
        unmatched=sum(loc_.unmatched for loc_ in locs),
    )


def _location(
    name: str, elements: list[SetElement], shots: list[ShotPixels], params: Params
) -> LocationStability:
    """One location: each element matched from its anchor shot into the others."""
    views = []
    for sd in shots:
        if sd.shot.location != name:
            continue
        r = sd.rgb.astype(np.float64) / 255.0
        gray = r @ np.array([0.299, 0.587, 0.114])
        views.append(_View(sd, gray, boxes_mask([f.body for f in sd.figures], sd.size, grow=3)))
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
        usable = _usable_views(views, elements, idx, params, rep)
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
    rep.max_px = rounded(max(ds), 3) if ds else None
    rep.mean_px = rounded(float(np.mean(ds)), 3) if ds else None
    return rep


def _usable_views(
    views: list[_View],
    elements: list[SetElement],
    idx: int,
    params: Params,
    rep: LocationStability,
) -> list[tuple[_View, float, float, np.ndarray]]:
    """The shots showing element `idx` enough to match it: (view, share in frame, share
    covered, what covers it); the others are counted as skipped in `rep`."""
    el = elements[idx]
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
        elif covered > params.set_max_occlusion or vis * (1 - covered) < params.set_min_usable:
            rep.skipped_occluded += 1
        else:
            usable.append((v, vis, covered, occ))
    return usable


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
    gray_s, valid_s = resample(target.gray, ~t_occ, box_s, (tw + 2 * R, th + 2 * R))
    feat_s = gradient_features(gray_s)
    # The blur of the resampled image reaches into invalid pixels: shrink the valid area.
    valid_s = ndimage.binary_erosion(valid_s, iterations=3, border_value=0)
    if not tmask.all():
        tmask = ndimage.binary_erosion(tmask, iterations=3, border_value=1)
    c = masked_ncc(feat_s, valid_s, templ, tmask)
    iy, ix = (int(i) for i in np.unravel_index(int(np.argmax(c)), c.shape))
    score = float(c[iy, ix])
    sy, sx = subpixel_peak(c, iy, ix)
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
