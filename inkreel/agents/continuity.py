"""The continuity checker: the gate between keyframes and the cut.

Every round runs the storyboard and image checks of `inkreel.checks` over the episode (image
checks only on keyframes that changed since the last round), scores each shot, and sends the
shots with findings back to the director with the findings' fix instructions, while attempts
remain. A shot still failing at the limit keeps its best-scoring take and is flagged for a
human; the report shows each repaired shot's score before and after.

Score of a take: the image checks' score (1.0 clean, lower the further the worst measure is
past its threshold; `checks.image.shot_scores`) halved for each storyboard finding on it.
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command, Send

from inkreel.agents.director import ShotTask, reference_paths
from inkreel.checks import Bundle, run_checks
from inkreel.checks.image import shot_scores
from inkreel.graphs.state import EpisodeContext, EpisodeState
from inkreel.schemas import (
    CheckedTake,
    ContinuityReport,
    Finding,
    Keyframe,
    Shot,
    ShotOutcome,
    StoryboardFile,
)

# Checks whose fix is to show someone the shot left out.
SHOW_MISSING = {"missing_character", "figure_missing"}


def _board(state: EpisodeState, shots: list[Shot]) -> StoryboardFile:
    return StoryboardFile(
        shots=shots,
        keyframes={s.id: state["keyframes"][s.id] for s in shots},
        cast=state["cast"],
        locations=state["locations"],
        script=state["script"],
    )


def _score(bundle: Bundle, shot_id: str, board_findings: int) -> float:
    image = shot_scores(bundle, shot_id).get("score", 1.0)
    return round(float(image) * 0.5**board_findings, 4)


def check_continuity(
    state: EpisodeState, runtime: Runtime[EpisodeContext]
) -> Command[Literal["revise_shot", "cut_timeline"]]:
    """Check every shot; send failing ones back to the director while attempts remain."""
    ctx = runtime.context
    limit = ctx.settings.continuity_max_attempts
    shots = [state["shots"][i] for i in state["shot_order"]]
    bundle = Bundle(_board(state, shots), ctx.project.root)
    previous: dict[str, CheckedTake] = dict(state.get("takes_seen", {}))
    changed = [s.id for s in shots if s.id not in previous or _changed(previous[s.id], state, s)]
    findings = run_checks(bundle, ("storyboard",))
    image_findings = {
        sid: list(take.findings) for sid, take in previous.items() if sid not in changed
    }
    fresh = run_checks(bundle, ("image",), changed) if changed else []
    for sid in changed:
        image_findings[sid] = [f for f in fresh if f.shot_id == sid]
    findings += [f for sid in state["shot_order"] for f in image_findings.get(sid, [])]
    attempts = {s.id: state.get("attempts", {}).get(s.id, 1) for s in shots}
    mine: dict[str, list[Finding]] = {}
    for f in findings:
        if f.shot_id:
            mine.setdefault(f.shot_id, []).append(f)
    seen: dict[str, CheckedTake] = {}
    for s in shots:
        board_count = sum(1 for f in mine.get(s.id, []) if f.level == "storyboard")
        take = previous.get(s.id)
        if take is None or s.id in changed:
            take = CheckedTake(
                shot=s,
                keyframe=state["keyframes"][s.id],
                score=_score(bundle, s.id, board_count) if s.id in mine else 1.0,
                findings=image_findings.get(s.id, []),
                first=take.first if take is not None else None,
                best=take.best if take is not None else None,
            )
        take = take.remember()
        seen[s.id] = take
    failing = set(mine)
    retry = sorted(s for s in failing if attempts[s] < limit)
    raised = [f for f in findings if f.shot_id in changed]  # unchanged shots' were logged
    log = [*state.get("findings_log", []), *raised]
    update: dict[str, Any] = {"findings_log": raised}
    if not retry:
        # At the limit: each shot still failing keeps its best take, flagged for a human.
        kept_shots, kept_frames = {}, {}
        for sid in sorted(failing):
            best = seen[sid].best
            if best is not None and best.score > seen[sid].score:
                kept_shots[sid] = best.shot
                kept_frames[sid] = best.keyframe
                seen[sid] = best.remember()
                findings = [f for f in findings if f.shot_id != sid] + best.findings
        report = _report(shots, findings, log, attempts, limit, seen)
        ctx.event("continuity", findings=len(findings), retry=0)
        update |= {"continuity": report, "takes_seen": seen}
        if kept_shots:
            update |= {"shots": kept_shots, "keyframes": kept_frames}
        return Command(goto="cut_timeline", update=update)
    report = _report(shots, findings, log, attempts, limit, seen)
    ctx.event("continuity", findings=len(findings), retry=len(retry))
    by_id = {s.id: s for s in shots}
    sends = []
    for shot_id in retry:
        shot = by_id[shot_id]
        index = state["shot_order"].index(shot_id)
        before = by_id[state["shot_order"][index - 1]] if index else None
        problems = mine[shot_id]
        missing = [
            str(f.evidence.get("character"))
            for f in problems
            if f.check in SHOW_MISSING and f.evidence.get("character")
        ]
        if shot.speaker and any(f.check in SHOW_MISSING for f in problems) and not missing:
            missing = [shot.speaker]
        task = ShotTask(
            shot=shot,
            location=state["locations"][shot.location].design,
            cast={n: c.design for n, c in state["cast"].items()},
            seed=state["request"].seed,
            fix=" ".join(dict.fromkeys(f.fix_instruction for f in problems)),
            must_show=[m for m in dict.fromkeys(missing) if m in state["cast"]],
            previous_reverse=before.camera.reverse if before else False,
            references=reference_paths(
                shot, state["cast"], state["locations"][shot.location], everyone=True
            ),
            attempt=attempts[shot_id] + 1,
        )
        sends.append(Send("revise_shot", task))
    update |= {
        "continuity": report,
        "takes_seen": seen,
        "attempts": {s: attempts[s] + 1 for s in retry},
    }
    return Command(goto=sends, update=update)


def _changed(take: CheckedTake, state: EpisodeState, shot: Shot) -> bool:
    keyframe: Keyframe = state["keyframes"][shot.id]
    return take.keyframe.path != keyframe.path or take.shot != shot


def _report(
    shots: list[Shot],
    open_findings: list[Finding],
    log: list[Finding],
    attempts: dict[str, int],
    limit: int,
    seen: dict[str, CheckedTake],
) -> ContinuityReport:
    outcomes = []
    for shot in shots:
        first = sum(1 for f in log if f.shot_id == shot.id)
        last = sum(1 for f in open_findings if f.shot_id == shot.id)
        if last:
            status = "flagged"
        elif attempts[shot.id] > 1 or first:
            status = "repaired"
        else:
            status = "passed"
        take = seen.get(shot.id)
        outcomes.append(
            ShotOutcome(
                shot_id=shot.id,
                attempts=attempts[shot.id],
                status=status,  # type: ignore[arg-type]
                findings_first=first,
                findings_last=last,
                score_before=take.first if take is not None and status != "passed" else None,
                score_after=take.score if take is not None and status != "passed" else None,
            )
        )
    return ContinuityReport(
        passed=not open_findings,
        max_attempts=limit,
        rounds=max(attempts.values(), default=1),
        findings=open_findings,
        history=log,
        shots=outcomes,
    )
