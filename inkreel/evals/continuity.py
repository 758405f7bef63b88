"""Planted-defect evaluation of the continuity checker.

For every clean episode (a storyboard.json with its script and keyframes) and every defect
type each level supports, a generator plants exactly one defect (`drills.text_defects` for the
script and storyboard levels, `drills.image_defects` for keyframes), and the checker runs on the
result. Untouched controls are the clean episodes' own units: every scene (script and
storyboard levels) and every shot (image level).

Scoring
  * A finding is evidence for the defect types its check maps to (`checks.evidence_for`).
  * A defect case is *detected* when some finding is evidence for its type, and *localised*
    when such a finding names one of the planted shots (or, for a script defect, its scene).
  * Findings the clean episode already had are not the plant's doing: they count only
    against the controls.
  * False positives: in a defect case, new findings that are evidence only for other types;
    on controls, a unit (scene or shot) with any finding. Precision per type counts both.
Results: one JSON line per case (`results.jsonl`) and `summary.json` with precision, recall,
F1 and localisation accuracy per type and level, the false-positive rate on controls, the
seed, and the targets (recall and precision >= 0.9 for script and storyboard defects; recall
>= 0.8 with at most 5 % false positives for image defects).
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from inkreel.checks import DEFECT_TYPES, Bundle, evidence_for, run_checks
from inkreel.drills import IMAGE_TYPES, LEVEL_TYPES, plant_image, plant_text
from inkreel.project import write_text_atomic
from inkreel.schemas import Finding
from inkreel.seeds import seed_of

TARGETS = {
    "script": {"recall": 0.9, "precision": 0.9},
    "storyboard": {"recall": 0.9, "precision": 0.9},
    "image": {"recall": 0.8, "false_positive_rate": 0.05},
}


class CaseResult(BaseModel):
    case: str
    episode: str
    level: str
    defect: str | None = Field(description="None for a control.")
    seed: int
    planted_shots: list[str] = Field(default_factory=list)
    planted_scene: int | None = None
    description: str = ""
    detected: bool = False
    localised: bool = False
    predicted: list[str] = Field(default_factory=list, description="Types the findings implied.")
    findings: list[dict[str, Any]] = Field(default_factory=list)
    seconds: float = 0.0


@dataclass
class _Tally:
    cases: int = 0
    detected: int = 0
    localised: int = 0
    false: int = 0  # predictions of this type on cases of another type or on controls

    def scores(self) -> dict[str, float | int | None]:
        recall = self.detected / self.cases if self.cases else None
        called = self.detected + self.false
        precision = self.detected / called if called else None
        f1 = (
            2 * precision * recall / (precision + recall)
            if precision is not None and recall is not None and precision + recall
            else None
        )
        return {
            "cases": self.cases,
            "recall": _r(recall),
            "precision": _r(precision),
            "f1": _r(f1),
            "localisation": _r(self.localised / self.detected if self.detected else None),
        }


@dataclass
class _Controls:
    units: int = 0
    flagged: int = 0
    types: dict[str, int] = field(default_factory=dict)


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _key(f: Finding) -> tuple[str, str, str, tuple[str, ...], int | None, str]:
    return (f.level, f.check, f.shot_id, tuple(f.shots), f.scene, f.message)


def _touches(f: Finding, shots: list[str], scene: int | None, level: str) -> bool:
    named = {f.shot_id, *f.shots} - {""}
    if named & set(shots):
        return True
    return level == "script" and scene is not None and f.scene == scene


def _plant(
    bundle: Bundle, defect: str, level: str, rng: random.Random, out_dir: Path
) -> tuple[Bundle, Any] | None:
    made: Any
    if level == "image":
        made = plant_image(bundle.board, bundle.root, out_dir, defect, rng)
    else:
        made = plant_text(bundle.board, defect, level, rng)
    if made is None:
        return None
    board, planted = made
    return Bundle(board, bundle.root, bundle.source), planted


def level_types() -> dict[str, list[str]]:
    """Which defect types each level can plant."""
    return {**{k: list(v) for k, v in LEVEL_TYPES.items()}, "image": list(IMAGE_TYPES)}


def evaluate(
    episodes: dict[str, Bundle],
    out_dir: Path,
    seed: int = 0,
    cases_per_type: int = 2,
    levels: Iterable[str] = ("script", "storyboard", "image"),
    types: Iterable[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Plant, check and score; write results.jsonl and summary.json into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    work = out_dir / "planted"
    shutil.rmtree(work, ignore_errors=True)
    wanted_types = set(types or DEFECT_TYPES)
    levels = tuple(levels)
    supported = level_types()
    tallies: dict[tuple[str, str], _Tally] = {}
    controls = {level: _Controls() for level in levels}
    clean: dict[tuple[str, str], list[Finding]] = {}
    started = time.perf_counter()
    results = _run_controls(episodes, levels, seed, controls, clean)
    for name, bundle in episodes.items():
        for level in levels:
            for defect in supported.get(level, []):
                if defect not in wanted_types:
                    continue
                for k in range(cases_per_type):
                    case = f"{name}/{level}/{defect}/{k}"
                    if progress:
                        progress(case)
                    case_seed = _case_seed(seed, name, level, defect, k)
                    result = _run_case(bundle, (name, level, defect), case, case_seed, clean, work)
                    if result is None:
                        continue
                    results.append(result)
                    tally = tallies.setdefault((level, defect), _Tally())
                    tally.cases += 1
                    tally.detected += result.detected
                    tally.localised += result.localised
                    for other in set(result.predicted) - {defect}:
                        tallies.setdefault((level, other), _Tally()).false += 1
    for level, c in controls.items():
        for kind, n in c.types.items():
            if kind in DEFECT_TYPES:
                tallies.setdefault((level, kind), _Tally()).false += n
    summary = _summary(tallies, controls, seed, episodes, time.perf_counter() - started)
    lines = "".join(r.model_dump_json() + "\n" for r in results)
    write_text_atomic(out_dir / "results.jsonl", lines)
    write_text_atomic(out_dir / "summary.json", json.dumps(summary, indent=2))
    shutil.rmtree(work, ignore_errors=True)
    return summary


def _run_controls(
    episodes: dict[str, Bundle],
    levels: tuple[str, ...],
    seed: int,
    controls: dict[str, _Controls],
    clean: dict[tuple[str, str], list[Finding]],
) -> list[CaseResult]:
    """Check the clean episodes: their findings go to `clean` (what a planted case's findings
    are compared with) and count as false alarms in `controls`."""
    results: list[CaseResult] = []
    for name, bundle in episodes.items():
        for level in levels:
            found = run_checks(bundle, (level,))
            clean[(name, level)] = found
            units = _units(bundle, level)
            flagged: dict[str, set[str]] = {}
            for f in found:
                for unit in _finding_units(f, level):
                    flagged.setdefault(unit, set()).update(evidence_for(f) or {"(other)"})
            c = controls[level]
            c.units += len(units)
            c.flagged += len(set(flagged) & units)
            for kinds in flagged.values():
                for kind in kinds:
                    c.types[kind] = c.types.get(kind, 0) + 1
            results.append(
                CaseResult(
                    case=f"{name}/{level}/control",
                    episode=name,
                    level=level,
                    defect=None,
                    seed=seed,
                    predicted=sorted({t for f in found for t in evidence_for(f)}),
                    findings=[f.model_dump(mode="json") for f in found],
                )
            )
    return results


def _run_case(
    bundle: Bundle,
    what: tuple[str, str, str],
    case: str,
    case_seed: int,
    clean: dict[tuple[str, str], list[Finding]],
    work: Path,
) -> CaseResult | None:
    """Plant `what` (episode, level, defect) and score the new findings; None when the
    episode has no room for it."""
    name, level, defect = what
    t0 = time.perf_counter()
    made = _plant(bundle, defect, level, random.Random(case_seed), work / case.replace("/", "-"))
    if made is None:
        return None
    planted_bundle, planted = made
    shots = planted.shots if level == "image" else None
    found = run_checks(planted_bundle, (level,), shots)
    before = {_key(f) for f in clean[(name, level)]}
    new = [f for f in found if _key(f) not in before]
    evidence = [(f, evidence_for(f)) for f in new]
    hit = [f for f, kinds in evidence if defect in kinds]
    return CaseResult(
        case=case,
        episode=name,
        level=level,
        defect=defect,
        seed=case_seed,
        planted_shots=planted.shots,
        planted_scene=planted.scene,
        description=planted.description,
        detected=bool(hit),
        localised=any(_touches(f, planted.shots, planted.scene, level) for f in hit),
        predicted=sorted({t for _, kinds in evidence for t in kinds}),
        findings=[f.model_dump(mode="json") for f in new],
        seconds=round(time.perf_counter() - t0, 3),
    )


def _case_seed(seed: int, *parts: object) -> int:
    return seed_of(seed, *parts) >> 32


def _units(bundle: Bundle, level: str) -> set[str]:
    if level == "image":
        return {s.id for s in bundle.board.shots if s.id in bundle.board.keyframes}
    return {f"scene {s}" for s in {shot.scene for shot in bundle.board.shots}}


def _finding_units(f: Finding, level: str) -> set[str]:
    if level == "image":
        return {f.shot_id, *f.shots} - {""}
    if f.scene is not None:
        return {f"scene {f.scene}"}
    return {f"scene {s.split('-')[0].lstrip('s').lstrip('0')}" for s in f.shots if s}


def _summary(
    tallies: dict[tuple[str, str], _Tally],
    controls: dict[str, _Controls],
    seed: int,
    episodes: dict[str, Bundle],
    seconds: float,
) -> dict[str, Any]:
    by_level: dict[str, Any] = {}
    for level in controls:
        types = {t: tally.scores() for (lv, t), tally in sorted(tallies.items()) if lv == level}
        cases = sum(tallies[(lv, t)].cases for (lv, t) in tallies if lv == level)
        detected = sum(tallies[(lv, t)].detected for (lv, t) in tallies if lv == level)
        false = sum(tallies[(lv, t)].false for (lv, t) in tallies if lv == level)
        localised = sum(tallies[(lv, t)].localised for (lv, t) in tallies if lv == level)
        c = controls[level]
        overall = {
            "cases": cases,
            "recall": _r(detected / cases if cases else None),
            "precision": _r(detected / (detected + false) if detected + false else None),
            "localisation": _r(localised / detected if detected else None),
            "controls": c.units,
            "false_positive_rate": _r(c.flagged / c.units if c.units else None),
        }
        target = TARGETS[level]
        overall["meets_target"] = all(_meets(overall[k], k, v) for k, v in target.items())
        by_level[level] = {"overall": overall, "types": types, "target": target}
    return {
        "seed": seed,
        "episodes": sorted(episodes),
        "seconds": round(seconds, 1),
        "levels": by_level,
    }


def _meets(value: Any, key: str, target: float) -> bool:
    if value is None:
        return False
    return bool(value <= target if key == "false_positive_rate" else value >= target)


def format_summary(summary: dict[str, Any]) -> str:
    rows = [f"seed {summary['seed']}, episodes: {', '.join(summary['episodes'])}"]
    for level, data in summary["levels"].items():
        o = data["overall"]
        verdict = "meets" if o["meets_target"] else "MISSES"
        rows.append(
            f"{level:10s} cases {o['cases']:4d}  recall {o['recall']}  precision "
            f"{o['precision']}  localised {o['localisation']}  controls {o['controls']} "
            f"(FP rate {o['false_positive_rate']})  {verdict} target {data['target']}"
        )
        for t, s in data["types"].items():
            rows.append(
                f"    {t:18s} cases {s['cases']:3d}  recall {s['recall']}  precision "
                f"{s['precision']}  F1 {s['f1']}  localised {s['localisation']}"
            )
    return "\n".join(rows)
