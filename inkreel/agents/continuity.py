"""The continuity checker: the gate between keyframes and the cut.

Every round runs the storyboard and image checks of `inkreel.checks` over the episode (image
checks only on takes that changed since the last round: a new keyframe, staging or reference
sheet), scores each shot, and sends what is at fault back, while attempts remain:

* a reference sheet drawn off its character's design goes to the character designer, who
  redraws it (`redraw_sheet`); the shots that failed only against it wait for the new sheet;
* every other failing shot goes to the director with its findings' fix instructions.

A shot still failing at the limit keeps its best-scoring take and is flagged for a human; the
report shows each repaired shot's score before and after, the sheets redrawn, and the script
gate's review (`agents.screenwriter.check_script`, which ran before anything was designed).

Score of a take: the image checks' score (1.0 clean, lower the further the worst measure is
past its threshold; `checks.image.check_shots`) halved for each storyboard finding on it, and
lowered by the vision judge's findings when a judge is set (`agents.judge.score_factor`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command, Send

from inkreel.agents.character_designer import SheetTask
from inkreel.agents.director import ShotTask
from inkreel.agents.judge import judge_shots, score_factor
from inkreel.checks import Bundle, run_checks
from inkreel.checks.image import ShotCheck, check_shots
from inkreel.providers.limits import release_memory
from inkreel.schemas import (
    CheckedTake,
    ContinuityReport,
    Finding,
    Keyframe,
    ScriptReview,
    Shot,
    ShotOutcome,
    StoryboardFile,
)
from inkreel.schemas.episode import EpisodeState
from inkreel.services import EpisodeContext, Services, services

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


def _score(measured: float, board_findings: int, image: list[Finding]) -> float:
    return round(float(measured) * 0.5**board_findings * score_factor(image), 4)


def _check_images(ctx: Services, bundle: Bundle, changed: list[str]) -> dict[str, ShotCheck]:
    """The image checks of the changed shots, one progress event per shot checked."""
    if not changed:
        return {}
    if not bundle.has_images:
        # What run_checks says when the keyframes are not on disk.
        note = "image checks skipped: no keyframe images next to the storyboard."
        if note not in bundle.notes:
            bundle.notes.append(note)
        return {}
    ctx.event("checking", shots=len(changed))

    def checked(shot_id: str) -> None:
        release_memory()  # a shot's analysis frees ~130 MB of frames and masks
        ctx.event("checked", shot_id=shot_id)

    return check_shots(bundle, changed, on_shot=checked)


def check_continuity(
    state: EpisodeState, runtime: Runtime[EpisodeContext]
) -> Command[Literal["revise_shot", "redraw_sheet", "cut_timeline"]]:
    """Check every shot; send off-design sheets to the designer and failing shots to the
    director while attempts remain; else go on to the cut."""
    ctx = services(runtime)
    limit = ctx.settings.continuity_max_attempts
    shots = [state["shots"][i] for i in state["shot_order"]]
    bundle = Bundle(_board(state, shots), ctx.project.root)
    previous: dict[str, CheckedTake] = dict(state.get("takes_seen", {}))
    changed = [s.id for s in shots if s.id not in previous or _changed(previous[s.id], state, s)]
    found = _findings(ctx, state, bundle, previous, changed)
    attempts = {s.id: state.get("attempts", {}).get(s.id, 1) for s in shots}
    seen = _takes(state, shots, previous, found)
    mine = found.by_shot
    drawings = {n: state.get("sheet_attempts", {}).get(n, 1) for n in state["cast"]}
    redraw = {
        n: fix for n, fix in _sheet_redraws(found.all).items() if drawings.get(n, limit) < limit
    }
    # A shot whose only fault is a sheet being redrawn waits to be checked against the new one.
    waiting = {
        sid for sid, problems in mine.items() if all(_sheet_of(f) in redraw for f in problems)
    }
    retry = sorted(s for s in set(mine) - waiting if attempts[s] < limit)
    raised = [f for f in found.all if f.shot_id in found.changed]  # unchanged shots' were logged
    log = [*state.get("findings_log", []), *raised]
    update: dict[str, Any] = {"findings_log": raised}
    findings = found.all
    if not retry and not redraw:
        # At the limit: each shot still failing keeps its best take, flagged for a human.
        findings, kept = _keep_best(set(mine), seen, findings)
        report = _report(
            shots, findings, log, attempts, limit, seen, _script(state, bundle), drawings
        )
        ctx.event("continuity", findings=len(findings), retry=0)
        return Command(goto="cut_timeline", update=update | kept | {"continuity": report})
    report = _report(shots, findings, log, attempts, limit, seen, _script(state, bundle), drawings)
    ctx.event("continuity", findings=len(findings), retry=len(retry), redraw=len(redraw))
    sends = _redraw_sends(state, redraw, drawings)
    sends += [
        Send("revise_shot", _revision(state, shot_id, mine[shot_id], attempts)) for shot_id in retry
    ]
    update |= {
        "continuity": report,
        "takes_seen": seen,
        "attempts": {s: attempts[s] + 1 for s in retry},
    }
    return Command(goto=sends, update=update)


@dataclass
class _Found:
    """What the checks found this round: every finding, each shot's image findings (kept
    from earlier rounds for unchanged shots), the image checks' results, the changed shots."""

    all: list[Finding]
    images: dict[str, list[Finding]]
    checked: dict[str, ShotCheck]
    changed: set[str]

    @property
    def by_shot(self) -> dict[str, list[Finding]]:
        mine: dict[str, list[Finding]] = {}
        for f in self.all:
            if f.shot_id:
                mine.setdefault(f.shot_id, []).append(f)
        return mine


def _findings(
    ctx: Services,
    state: EpisodeState,
    bundle: Bundle,
    previous: dict[str, CheckedTake],
    changed: list[str],
) -> _Found:
    """The storyboard checks of every shot; the image checks (and the judge, when set) of the
    changed ones, the earlier findings of the others."""
    is_changed = set(changed)
    findings = run_checks(bundle, ("storyboard",))
    images = {sid: list(take.findings) for sid, take in previous.items() if sid not in is_changed}
    checked = _check_images(ctx, bundle, changed)
    for sid in changed:
        images[sid] = list(checked[sid].findings) if sid in checked else []
    if changed and ctx.settings.judge_model is not None:
        stored = ctx.memory.stored_references
        for f in judge_shots(ctx.providers.calls, bundle, changed, labels_of=stored):
            if f.shot_id in is_changed:
                images[f.shot_id].append(f)
    findings += [f for sid in state["shot_order"] for f in images.get(sid, [])]
    return _Found(findings, images, checked, is_changed)


def _takes(
    state: EpisodeState, shots: list[Shot], previous: dict[str, CheckedTake], found: _Found
) -> dict[str, CheckedTake]:
    """Each shot's checked take: a new one for a changed shot (scored), remembering its first
    and best; the earlier one for the others."""
    mine = found.by_shot
    seen: dict[str, CheckedTake] = {}
    for s in shots:
        take = previous.get(s.id)
        if take is None or s.id in found.changed:
            board_count = sum(1 for f in mine.get(s.id, []) if f.level == "storyboard")
            measured = (
                found.checked[s.id].scores.get("score", 1.0) if s.id in found.checked else 1.0
            )
            images = found.images.get(s.id, [])
            take = CheckedTake(
                shot=s,
                keyframe=state["keyframes"][s.id],
                references=_sheets(state, s),
                score=_score(measured, board_count, images) if s.id in mine else 1.0,
                findings=images,
                first=take.first if take is not None else None,
                best=take.best if take is not None else None,
            )
        seen[s.id] = take.remember()
    return seen


def _keep_best(
    failing: set[str], seen: dict[str, CheckedTake], findings: list[Finding]
) -> tuple[list[Finding], dict[str, Any]]:
    """At the limit: a failing shot whose best take beats its last keeps the best (its shot,
    keyframe and findings). Returns the findings and the state update."""
    kept_shots, kept_frames, kept_findings = {}, {}, []
    for sid in sorted(failing):
        best = seen[sid].best
        if best is not None and best.score > seen[sid].score:
            kept_shots[sid] = best.shot
            kept_frames[sid] = best.keyframe
            kept_findings += best.findings
            seen[sid] = best.remember()
    update: dict[str, Any] = {"takes_seen": seen}
    if kept_shots:
        findings = [f for f in findings if f.shot_id not in kept_shots] + kept_findings
        update |= {"shots": kept_shots, "keyframes": kept_frames}
    return findings, update


def _redraw_sends(
    state: EpisodeState, redraw: dict[str, str], drawings: dict[str, int]
) -> list[Send]:
    request = state["request"]
    return [
        Send(
            "redraw_sheet",
            SheetTask(
                name=name,
                character=state["cast"][name],
                seed=request.seed,
                episode=request.episode,
                attempt=drawings[name] + 1,
                fix=fix,
            ),
        )
        for name, fix in sorted(redraw.items())
    ]


def _revision(
    state: EpisodeState, shot_id: str, problems: list[Finding], attempts: dict[str, int]
) -> ShotTask:
    """The director's task to revise a failing shot: the fix, who must be seen, staged from
    the shot's scene (its set and time of day, even when the shot drifted to others)."""
    order = state["shot_order"]
    shot = state["shots"][shot_id]
    index = order.index(shot_id)
    before = state["shots"][order[index - 1]] if index else None
    missing = [
        str(f.evidence.get("character"))
        for f in problems
        if f.check in SHOW_MISSING and f.evidence.get("character")
    ]
    if shot.speaker and any(f.check in SHOW_MISSING for f in problems) and not missing:
        missing = [shot.speaker]
    scene = next((c for c in state["script"].scenes if c.number == shot.scene), None)
    place = shot.location
    if scene is not None and scene.location in state["locations"]:
        place = scene.location
    return ShotTask(
        shot=shot,
        location=state["locations"][place].design,
        cast={n: c.design for n, c in state["cast"].items()},
        seed=state["request"].seed,
        fix=" ".join(dict.fromkeys(f.fix_instruction for f in problems)),
        must_show=[m for m in dict.fromkeys(missing) if m in state["cast"]],
        previous_reverse=before.camera.reverse if before else False,
        whole_cast_references=True,
        attempt=attempts[shot_id] + 1,
        scene=scene,
        scene_shots=[state["shots"][i] for i in order if state["shots"][i].scene == shot.scene],
    )


def _changed(take: CheckedTake, state: EpisodeState, shot: Shot) -> bool:
    """A new keyframe, a new staging, or a redrawn reference sheet to compare it with."""
    keyframe: Keyframe = state["keyframes"][shot.id]
    return (
        take.keyframe.path != keyframe.path
        or take.shot != shot
        or take.references != _sheets(state, shot)
    )


def _sheets(state: EpisodeState, shot: Shot) -> list[str]:
    cast = state["cast"]
    return [cast[b.character].sheet for b in shot.blocking if b.character in cast]


def _sheet_of(finding: Finding) -> str | None:
    """The character whose reference sheet the finding blames as drawn off its design (the
    designer redraws it), else None: other designer findings, such as two characters too
    alike to tell apart, need a new design and are left for a human."""
    name = finding.evidence.get("character")
    blames = finding.agent == "character_designer" and finding.evidence.get("sheet_off_design")
    return str(name) if blames and name else None


def _sheet_redraws(findings: list[Finding]) -> dict[str, str]:
    """Character -> fix, for the findings that blame a reference sheet."""
    redraws: dict[str, str] = {}
    for f in findings:
        name = _sheet_of(f)
        if name is not None:
            redraws.setdefault(name, f.fix_instruction)
    return redraws


def _script(state: EpisodeState, bundle: Bundle) -> ScriptReview | None:
    """The script gate's review, its open findings now naming the shots that show them."""
    review = state.get("script_review")
    if review is None:
        return None
    return review.model_copy(update={"findings": run_checks(bundle, ("script",))})


def _report(
    shots: list[Shot],
    open_findings: list[Finding],
    log: list[Finding],
    attempts: dict[str, int],
    limit: int,
    seen: dict[str, CheckedTake],
    script: ScriptReview | None = None,
    drawings: dict[str, int] | None = None,
) -> ContinuityReport:
    outcomes = []
    logged = Counter(f.shot_id for f in log)
    still_open = Counter(f.shot_id for f in open_findings)
    for shot in shots:
        first = logged[shot.id]
        last = still_open[shot.id]
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
    script_open = script.findings if script is not None else []
    return ContinuityReport(
        # Script warnings (a name in an action line) are reported; only its errors fail.
        passed=not open_findings and not any(f.severity == "error" for f in script_open),
        max_attempts=limit,
        rounds=max(attempts.values(), default=1),
        findings=[*script_open, *open_findings],
        history=[*(script.history if script is not None else []), *log],
        shots=outcomes,
        script=script,
        sheets_redrawn={n: k - 1 for n, k in (drawings or {}).items() if k > 1},
    )
