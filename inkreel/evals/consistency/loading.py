"""Load an episode's keyframes with their figure pixels (set difference, or the palette)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inkreel.art.shot.frame import render_keyframe
from inkreel.evals.consistency.report import Params
from inkreel.measure.figures import (
    ShotPixels,
    boxes_mask,
    channel_difference,
    load_rgb,
    palette_mask,
)
from inkreel.schemas import StoryboardFile


def load_shots(
    root: Path, sb: StoryboardFile, params: Params, notes: list[str]
) -> list[ShotPixels]:
    out: list[ShotPixels] = []
    for shot in sb.shots:
        kf = sb.keyframes.get(shot.id)
        if kf is None:
            notes.append(f"{shot.id}: no keyframe in storyboard.json; shot skipped.")
            continue
        path = root / kf.path
        if not path.exists():
            notes.append(f"{shot.id}: keyframe {kf.path} missing; shot skipped.")
            continue
        rgb = load_rgb(path)
        size = (rgb.shape[1], rgb.shape[0])
        loc = sb.locations.get(shot.location)
        design = loc.design if loc is not None else None
        method = "palette_heuristic"
        ink = None
        if design is not None:
            empty, _, _ = render_keyframe(
                shot.model_copy(update={"blocking": []}), design, {}, size
            )
            diff = channel_difference(rgb, np.asarray(empty.convert("RGB")))
            ink_full = diff > params.diff_threshold
            outside = ~boxes_mask([f.body for f in kf.figures], size, grow=3)
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
        out.append(ShotPixels(shot, kf.figures, rgb, ink, method, design))
    return out
