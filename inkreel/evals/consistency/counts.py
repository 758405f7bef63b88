"""On-screen count (OCCM): characters detected in each shot against those blocked in frame."""

from __future__ import annotations

import math

from inkreel.evals.consistency.report import CountReport, Params, ShotCount
from inkreel.evals.consistency.scoring import mean, rounded
from inkreel.measure.figures import ShotPixels, box_slices

OCCM_EPS = 1e-6


def score_counts(shots: list[ShotPixels], params: Params) -> CountReport:
    out: list[ShotCount] = []
    for sd in shots:
        expected = [b.character for b in sd.shot.blocking if 0.0 <= b.screen_x <= 1.0]
        detected: list[str] = []
        ink: dict[str, float] = {}
        for f in sd.figures:
            sl = box_slices(f.body, sd.size)
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
        mean_occm=rounded(mean(vals)),
        min_occm=rounded(min(vals)) if vals else None,
    )
