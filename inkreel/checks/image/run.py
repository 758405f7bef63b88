"""Run the image checks: one shot through every family, many shots side by side, cached."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

from inkreel.checks.bundle import Bundle
from inkreel.checks.image.background import explain
from inkreel.checks.image.figures import check_count, extra_figures
from inkreel.checks.image.identity import check_identity
from inkreel.checks.image.inspection import Frame, Inspection, ShotResult
from inkreel.checks.image.palette import check_palette
from inkreel.checks.image.references import CharacterRefs
from inkreel.checks.image.set_elements import changed_elements, displaced_areas, report_elements
from inkreel.checks.image.shared import Shared, digest
from inkreel.checks.image.thresholds import ImageThresholds
from inkreel.measure.figures import boxes_mask, load_rgb
from inkreel.schemas import Finding, Keyframe, Shot

MAX_WORKERS = 4
RESULTS_KEPT = 1024  # shots whose results are kept (a result is a few findings and numbers)


def inspect_shot(insp: Inspection) -> ShotResult:
    """Every check on one shot: the background first, then the figures, the set, the look."""
    fr = explain(insp, load_rgb(insp.bundle.root / insp.kf.path))
    refs: dict[str, CharacterRefs] = {}
    for f in fr.kf.figures:
        if f.character in insp.board.cast and f.character not in refs:
            refs[f.character] = insp.shared.refs(f.character)
    for name in insp.board.cast:
        if name not in refs:
            refs[name] = insp.shared.refs(name)
    for cr in refs.values():
        insp.out.notes.extend(cr.notes)
    if fr.changed is not None:
        check_count(insp, fr)
        _check_changes(insp, fr)
    check_palette(insp, fr, refs)
    check_identity(insp, fr, refs)
    insp.out.scores["score"] = round(insp.worst, 4)
    return insp.out


def _check_changes(insp: Inspection, fr: Frame) -> None:
    """Changes outside the figures: set elements moved, gone or redrawn, and extra figures
    (a shape where a set element changed is the set's, not a figure)."""
    figures = boxes_mask([f.body for f in fr.kf.figures], fr.size, grow=4)
    states = changed_elements(insp, fr, figures)
    set_boxes, windows = displaced_areas(states)
    extra = extra_figures(insp, fr, figures, set_boxes, windows)
    report_elements(insp, fr, states, figures, extra)


class _Job:
    """One shot to inspect, hashed and compared by `key` alone (a digest of everything the
    checks read), so `functools.lru_cache` keeps results by content; `release` drops the
    inputs so the cache holds only keys and results."""

    __slots__ = ("key", "kf", "shared", "shot")

    def __init__(self, key: str, shot: Shot, kf: Keyframe, shared: Shared) -> None:
        self.key, self.shot, self.kf, self.shared = key, shot, kf, shared

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Job) and other.key == self.key

    def release(self) -> None:
        del self.shot, self.kf, self.shared


@lru_cache(maxsize=RESULTS_KEPT)
def _inspected(job: _Job) -> ShotResult:
    shared = job.shared
    return inspect_shot(Inspection(shared.bundle, job.shot, job.kf, shared.p, shared))


def _analyse(shot: Shot, shared: Shared) -> ShotResult | None:
    bundle = shared.bundle
    kf = bundle.board.keyframes.get(shot.id)
    if kf is None:
        return None
    path = bundle.root / kf.path
    if not path.is_file():
        return ShotResult(notes=[f"{shot.id}: keyframe {kf.path} is missing; not checked."])
    key = digest(
        hashlib.blake2b(path.read_bytes(), digest_size=16).digest(),
        shared.key,
        shot.model_dump_json(),
        kf.model_dump_json(),
    )
    job = _Job(key, shot, kf, shared)
    try:
        return _inspected(job)
    finally:
        job.release()


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
    shared = Shared(bundle, p)
    noted = set(bundle.notes)
    todo = [s for s in bundle.board.shots if wanted is None or s.id in wanted]
    count = workers or min(MAX_WORKERS, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=max(1, count)) as pool:
        analysed = pool.map(lambda shot: _analyse(shot, shared), todo)
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
    done: Iterator[tuple[Shot, ShotResult | None]], on_shot: Callable[[str], None] | None
) -> Iterator[tuple[Shot, ShotResult | None]]:
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
    a = _analyse(shot, Shared(bundle, p))
    return dict(a.scores) if a is not None else {}


def _note(bundle: Bundle, note: str) -> None:
    if note not in bundle.notes:
        bundle.notes.append(note)
