"""Evaluate one produced episode: load it, score the three families, set the targets."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Literal

from inkreel.evals.consistency.counts import score_counts
from inkreel.evals.consistency.identity import score_identity
from inkreel.evals.consistency.loading import load_shots
from inkreel.evals.consistency.report import ConsistencyReport, Params, Target
from inkreel.evals.consistency.stability import score_stability
from inkreel.measure.identity import collect_identity
from inkreel.schemas import StoryboardFile


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
    shots = load_shots(root, sb, params, notes)
    timings["load_and_masks"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    identity = score_identity(collect_identity(root, sb, shots, params, notes), params)
    timings["identity"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    counts = score_counts(shots, params)
    timings["counts"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    stability = score_stability(shots, sb, params)
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
