"""The screenwriter: an idea becomes a Script, checked and revised before anything is designed.

`write_script` drafts the script from the idea (an imported screenplay passes straight
through; an imported story gets lines written for some of its shots, its shots and cast
kept). `check_script` runs the script-level continuity checks (`inkreel.checks.script`):
who is where, who has left, props, time of day and wardrobe. A draft with errors goes to
`revise_script`, which rewrites only the scenes at fault, each with its findings' fix
instructions, and comes back to be checked again, up to `continuity_max_attempts` drafts. At
the limit the draft with the fewest errors is kept and its findings are flagged for a human.

The user's own screenplay is checked but never rewritten: its findings are reported.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command
from pydantic import BaseModel, Field

from inkreel.agents.common import ask, credit, rejections
from inkreel.checks import Bundle, run_checks
from inkreel.checks.answers import (
    Checked,
    validate_scene_revision,
    validate_script,
    validate_script_draft,
    validate_shot_lines,
)
from inkreel.drills import drifted_script
from inkreel.media.fountain_write import write_fountain
from inkreel.providers.dispatch import Answer
from inkreel.providers.errors import UnusableAnswer
from inkreel.providers.prompt_io import tag
from inkreel.schemas import (
    Finding,
    Scene,
    Script,
    ScriptDraft,
    ScriptReview,
    ShotLines,
    StoryboardFile,
)
from inkreel.schemas.episode import EpisodeState
from inkreel.services import EpisodeContext, Services, services

AGENT = "screenwriter"


class SceneRevision(BaseModel):
    """One scene rewritten under continuity fix instructions."""

    scene: Scene = Field(
        description="The whole scene, rewritten: same number, heading and location unless a "
        "fix says otherwise; every beat the fixes do not touch kept as it was."
    )
    changes: list[str] = Field(
        default_factory=list, description="One short sentence per change made, in order."
    )


def write_script(state: EpisodeState, runtime: Runtime[EpisodeContext]) -> dict[str, Any]:
    """Write the episode's script from the idea, unless the user brought a screenplay."""
    ctx = services(runtime)
    request = state["request"]
    earlier = state.get("script")
    if earlier is not None and request.idea is None:
        if earlier.source == "story":
            return _with_lines(ctx, _stageable(earlier, ctx), request.length_s)
        return {"script": _stageable(earlier, ctx)}
    parts = [
        tag("idea", request.idea or ""),
        tag("runtime_seconds", f"{request.length_s:g}"),
        tag("language", request.language),
    ]
    # What the writer settled in a chat with the showrunner, when they did.
    if request.logline:
        parts.append(tag("logline", request.logline))
    if request.cast:
        parts.append(tag("cast", json.dumps(request.cast, ensure_ascii=False)))
    if request.outline:
        beats = [b.model_dump(mode="json") for b in request.outline]
        parts.append(tag("outline", json.dumps(beats, ensure_ascii=False)))
    notes = rejections(state, "script")
    if notes:
        # A person rejected the earlier draft(s): a new one, with their notes.
        parts += [tag("notes", notes), tag("draft", len(notes) + 1)]
        if earlier is not None:
            parts.append(tag("previous_script", write_fountain(earlier)))
    prompt = "\n".join(parts)
    answer = ask(
        ctx,
        AGENT,
        ScriptDraft,
        prompt,
        lambda draft: validate_script_draft(draft, request.language),
    )
    script = answer.value
    drift = ctx.providers.script_drift
    defect = drift.fault_for(f"{request.seed}:script", 1) if drift else None
    if defect is not None:
        script = drifted_script(script, defect, request.seed)
    return {"script": script, "text_models": credit("screenplay", answer)}


def _with_lines(ctx: Services, script: Script, runtime_s: float) -> dict[str, Any]:
    """A story's script with lines written for the shots where someone on screen speaks;
    every shot and the cast stay as the story has them (`validate_shot_lines`)."""
    shots = [
        {
            "shot": beat.shot.number,
            "place": scene.location,
            "time_of_day": scene.time_of_day.value,
            "framing": beat.shot.framing.value if beat.shot.framing else None,
            "on_screen": beat.shot.on_screen,
            "picture": beat.shot.picture or beat.text,
        }
        for scene in script.scenes
        for beat in scene.beats
        if beat.shot is not None and beat.kind == "action"
    ]
    if not any(shot["on_screen"] for shot in shots):
        return {"script": script}  # nobody on screen to say anything
    prompt = "\n".join(
        [
            tag("title", script.title),
            tag("characters", json.dumps(script.characters, ensure_ascii=False)),
            tag("shots", json.dumps(shots, ensure_ascii=False)),
            tag("runtime_seconds", f"{runtime_s:g}"),
            tag("language", script.language),
        ]
    )
    try:
        answer = ask(
            ctx,
            AGENT,
            ShotLines,
            prompt,
            lambda lines: validate_shot_lines(lines, script),
            "dialogue",
            system="screenwriter_lines",
        )
    except UnusableAnswer as exc:
        # The story stands without words: its pictures are what it is made of.
        ctx.event("story_lines_not_written", why=str(exc))
        return {"script": script}
    return {"script": answer.value, "text_models": credit("screenplay", answer)}


def _stageable(script: Script, ctx: Services) -> Script:
    """The user's screenplay with every name it uses in the cast, or a stop saying why not."""
    checked = validate_script(script)
    if checked.errors:
        raise UnusableAnswer(
            "the screenplay cannot be produced: " + "; ".join(map(str, checked.errors))
        )
    for issue in checked.repairs:
        ctx.event("script_repaired", issue=str(issue))
    return checked.value


def check_script(
    state: EpisodeState, runtime: Runtime[EpisodeContext]
) -> Command[Literal["revise_script", "review_script"]]:
    """Check the draft; send it back for the scenes at fault while drafts remain."""
    ctx = services(runtime)
    limit = ctx.settings.continuity_max_attempts
    script = state["script"]
    findings = script_findings(script)
    errors = _errors(findings)
    review = state.get("script_review") or ScriptReview(
        revised=script.source == "idea", findings_first=len(errors)
    )
    review = review.model_copy(update={"history": [*review.history, *findings]})
    best = state.get("script_best")
    if best is None or len(errors) < len(_errors(script_findings(best))):
        best = script
    if errors and review.revised and review.attempts < limit:
        ctx.event("script_check", findings=len(findings), retry=len(_scenes(errors)))
        return Command(
            goto="revise_script",
            update={
                "script_review": review.model_copy(update={"findings": findings}),
                "script_best": best,
            },
        )
    update: dict[str, Any] = {"script_best": best}
    if best is not script:  # at the limit: the draft with the fewest errors is kept
        script, findings = best, script_findings(best)
        errors = _errors(findings)
        update["script"] = best
    if errors:
        status = "flagged"
    elif review.attempts > 1:
        status = "repaired"
    else:
        status = "passed"
    ctx.event("script_check", findings=len(findings), retry=0)
    review = review.model_copy(update={"findings": findings, "status": status})
    return Command(goto="review_script", update=update | {"script_review": review})


def revise_script(state: EpisodeState, runtime: Runtime[EpisodeContext]) -> dict[str, Any]:
    """Rewrite each scene with errors under its findings' fix instructions."""
    ctx = services(runtime)
    script = state["script"]
    review = state["script_review"]
    assert review is not None, "check_script reviews a draft before it is revised"
    by_scene = _scenes(_errors(review.findings))
    numbers = sorted(by_scene)
    scenes = {s.number: s for s in script.scenes}

    def revise(number: int) -> Answer[SceneRevision] | None:
        scene = scenes[number]
        before = [s for s in script.scenes if s.number < number]
        prompt = "\n".join(
            [
                tag("scene", scene.model_dump_json()),
                tag("findings", json.dumps([_brief(f) for f in by_scene[number]])),
                tag("characters", json.dumps(script.characters, ensure_ascii=False)),
                tag("previous_scene", before[-1].model_dump_json() if before else "none"),
                tag("language", script.language),
            ]
        )
        label = f"scene {number}, draft {review.attempts + 1}"
        try:
            answer = ask(
                ctx,
                AGENT,
                SceneRevision,
                prompt,
                lambda revision: _checked_revision(revision, script, number),
                label,
                system="screenwriter_revision",
            )
        except UnusableAnswer as exc:
            # The draft is stageable as it is: keep the scene, flagged, and go on.
            ctx.event("script_not_revised", scene=number, why=str(exc))
            return None
        ctx.event("script_revised", scene=number, changes=answer.value.changes)
        return answer

    workers = max(1, min(len(numbers), ctx.providers.concurrency(ctx.settings)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="revise-scene") as pool:
        tried = dict(zip(numbers, pool.map(revise, numbers), strict=True))
    answers = {n: a for n, a in tried.items() if a is not None}
    rewritten = [answers[s.number].value.scene if s.number in answers else s for s in script.scenes]
    # A rewritten scene may bring someone new: they join the cast, to be designed.
    new = validate_script(script.model_copy(update={"scenes": rewritten})).value
    done = sorted({*review.scenes_revised, *answers})
    # No model could rewrite any scene: asking again would change nothing, so the review
    # ends here (the best draft is kept and flagged by check_script).
    attempts = review.attempts + 1 if answers else ctx.settings.continuity_max_attempts
    return {
        "script": new,
        "script_review": review.model_copy(update={"attempts": attempts, "scenes_revised": done}),
        "text_models": credit("screenplay", *answers.values()),
    }


def _checked_revision(
    revision: SceneRevision, script: Script, number: int
) -> Checked[SceneRevision]:
    """A rewritten scene checked like a draft's; it keeps its place (number) in the script."""
    checked = validate_scene_revision(revision.scene, script)
    scene = checked.value.model_copy(update={"number": number})
    return Checked(revision.model_copy(update={"scene": scene}), checked.issues)


def script_findings(script: Script) -> list[Finding]:
    """The script-level findings of a script on its own (no storyboard yet)."""
    return run_checks(Bundle(StoryboardFile(shots=[], script=script), Path()), ("script",))


def _errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


def _scenes(findings: list[Finding]) -> dict[int, list[Finding]]:
    by_scene: dict[int, list[Finding]] = {}
    for f in findings:
        if f.scene is not None:
            by_scene.setdefault(f.scene, []).append(f)
    return by_scene


def _brief(finding: Finding) -> dict[str, Any]:
    """What the screenwriter is told about one finding."""
    return finding.model_dump(
        include={"check", "beat", "message", "fix_instruction", "evidence"}, mode="json"
    )
