"""Review gates: where a run waits for a person (`interrupt()`), and what their decision does.

- *script*, after the script check and before anything is designed: approve; edit (Fountain
  text in `args.fountain` or Script JSON in `args.script`, validated and checked; the edit is
  the script from then on, never replaced by an earlier draft); or reject with a note: the
  screenwriter writes a new draft with the note (only for a script the line wrote; a user's
  own screenplay is never rewritten).
- *storyboard*, after planning and before any keyframe is drawn: the shots and what drawing
  them will cost; approve; edit (`args.shots`: shots to replace, by id); or reject with a
  note: the director plans again.
- *cut*, after assembly: approve, or edit: retakes of shots and new words for lines
  (`graphs.changes`), after which the episode is cut again and the gate asks again.

A gate listed in the request's `review` waits; the others pass straight through. An answer
that cannot be used (an invalid script, an unknown shot) is not an error of the run: the gate
asks again with the problem in `problem`.
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.graph import END
from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt
from pydantic import ValidationError

from inkreel.agents.director import SPEC_FIELDS, restaged
from inkreel.agents.screenwriter import script_findings
from inkreel.checks.answers import validate_script
from inkreel.estimate import estimate_rest_of_storyboard
from inkreel.graphs.changes import numbered_lines, plan_changes
from inkreel.graphs.fan_out import keyframe_sends
from inkreel.media.fountain import ScriptError, read_fountain
from inkreel.media.fountain_write import write_fountain
from inkreel.schemas import (
    Decision,
    Gate,
    LineEdit,
    Redesign,
    Retake,
    ReviewRecord,
    Script,
    ScriptReview,
    Shot,
)
from inkreel.schemas.episode import EpisodeState
from inkreel.schemas.review import (
    DecisionType,
    ReviewError,
    problems,
    read_decision,
    review_request,
)
from inkreel.services import EpisodeContext, services

EVERY_DECISION: tuple[DecisionType, ...] = ("approve", "edit", "reject")


def _ask(
    gate: Gate,
    args: dict[str, Any],
    description: str,
    allowed: tuple[DecisionType, ...],
    apply: Any,
) -> Any:
    """Wait for a decision at the gate and apply it; ask again while it cannot be used."""
    problem: str | None = None
    while True:
        value = interrupt(review_request(gate, args, description, allowed, problem))
        try:
            return apply(read_decision(value, allowed))
        except (ReviewError, ScriptError) as exc:
            problem = str(exc)


def _record(gate: Gate, decision: Decision, changed: list[str] | None = None) -> dict[str, Any]:
    record = ReviewRecord(
        gate=gate, decision=decision.type, note=decision.message or "", changed=changed or []
    )
    return {"reviews": [record]}


# ----------------------------------------------------------------------------- script


def review_script(
    state: EpisodeState, runtime: Runtime[EpisodeContext]
) -> Command[Literal["design_cast", "write_script"]]:
    """The script gate."""
    if "script" not in state["request"].review:
        return Command(goto="design_cast")
    script = state["script"]
    review = state.get("script_review")
    written = script.source == "idea"
    allowed = EVERY_DECISION if written else ("approve", "edit")
    args = {"script": script.model_dump(mode="json"), "fountain": write_fountain(script)}

    def apply(decision: Decision) -> Command[Literal["design_cast", "write_script"]]:
        if decision.type == "approve":
            return Command(goto="design_cast", update=_record("script", decision))
        if decision.type == "reject":
            # A new draft, checked from scratch: no earlier draft may come back as "best".
            update: dict[str, Any] = {"script_review": None, "script_best": None}
            return Command(goto="write_script", update=update | _record("script", decision))
        assert decision.edited_action is not None
        edited = edited_script(decision.edited_action.args, script)
        findings = script_findings(edited)
        errors = [f for f in findings if f.severity == "error"]
        checked = (review or ScriptReview(revised=written)).model_copy(
            update={"findings": findings, "status": "flagged" if errors else "passed"}
        )
        edit = {"script": edited, "script_best": edited, "script_review": checked}
        changed = [f"scene {n}" for n in _changed_scenes(script, edited)]
        return Command(goto="design_cast", update=edit | _record("script", decision, changed))

    return _ask("script", args, _script_description(script, review), allowed, apply)


def edited_script(args: dict[str, Any], before: Script) -> Script:
    """The person's script from an edit's args (`fountain` text or `script` JSON), checked as
    an imported screenplay is; raise ReviewError or ScriptError saying what is wrong."""
    if isinstance(args.get("fountain"), str):
        script = read_fountain(args["fountain"], language=before.language)
    elif isinstance(args.get("script"), dict):
        try:
            script = Script.model_validate(args["script"])
        except ValidationError as exc:
            raise ReviewError(f"the edited script is not valid: {problems(exc)}") from None
    else:
        raise ReviewError("an edit of the script gives args.fountain (text) or args.script")
    checked = validate_script(script)
    if checked.errors:
        raise ReviewError(
            "the edited script cannot be produced: " + "; ".join(map(str, checked.errors))
        )
    return checked.value


def _changed_scenes(before: Script, after: Script) -> list[int]:
    old = {s.number: s for s in before.scenes}
    return [s.number for s in after.scenes if old.get(s.number) != s]


def _script_description(script: Script, review: ScriptReview | None) -> str:
    lines = len(script.dialogue())
    findings = [f for f in (review.findings if review else []) if f.severity == "error"]
    flagged = f"; {len(findings)} open continuity finding(s)" if findings else ""
    return (
        f"Script {script.title!r}: {len(script.scenes)} scenes, {lines} lines, "
        f"{len(script.characters)} characters{flagged}. Approve to design the cast and sets, "
        "edit it, or reject it with a note for a new draft."
    )


# ----------------------------------------------------------------------------- storyboard


def review_storyboard(
    state: EpisodeState, runtime: Runtime[EpisodeContext]
) -> Command[Literal["plan_storyboard", "render_keyframe"]]:
    """The storyboard gate; then one keyframe render per shot."""
    from_here = keyframe_sends
    if "storyboard" not in state["request"].review:
        return Command(goto=from_here(state, {}))
    ctx = services(runtime)
    request = state["request"]
    shots = [state["shots"][i] for i in state["shot_order"]]
    cost = estimate_rest_of_storyboard(
        state["script"],
        request.length_s,
        len(shots),
        ctx.providers.roster,
        ctx.providers.calls.router,
        ctx.settings.judge_model is not None,
    )
    args = {
        "shots": [s.model_dump(mode="json") for s in shots],
        "estimate_usd": round(cost.total_usd, 6),
        "estimate": cost.rows(),
    }
    description = (
        f"Storyboard: {len(shots)} shots. Drawing them is estimated at ${cost.total_usd:.4f}. "
        "Approve to draw the keyframes, edit shots, or reject it with a note for a new plan."
    )

    def apply(decision: Decision) -> Command[Literal["plan_storyboard", "render_keyframe"]]:
        if decision.type == "approve":
            return Command(goto=from_here(state, {}), update=_record("storyboard", decision))
        if decision.type == "reject":
            return Command(goto="plan_storyboard", update=_record("storyboard", decision))
        assert decision.edited_action is not None
        edited = edited_shots(decision.edited_action.args, state)
        update = {"shots": edited} | _record("storyboard", decision, sorted(edited))
        return Command(goto=from_here(state, edited), update=update)

    return _ask("storyboard", args, description, EVERY_DECISION, apply)


def edited_shots(args: dict[str, Any], state: EpisodeState) -> dict[str, Shot]:
    """The shots an edit changes, restaged; raise ReviewError saying what is wrong.

    Each entry of `args.shots` names a planned shot by `id`. Changes to its framing, angle,
    move, subjects, effects or note restage it (camera and blocking follow); an entry that
    changes `camera` or `blocking` itself is taken as it is.
    """
    given = args.get("shots")
    order = state["shot_order"]
    if not isinstance(given, list) or not given:
        raise ReviewError("an edit of the storyboard gives args.shots: a list of shots")
    heights = {n: c.design.height for n, c in state["cast"].items()}
    scenes = {s.number: s for s in state["script"].scenes}
    edited: dict[str, Shot] = {}
    for k, raw in enumerate(given):
        if not isinstance(raw, dict) or raw.get("id") not in order:
            known = ", ".join(order[:6]) + (" ..." if len(order) > 6 else "")
            raise ReviewError(f"shots[{k}]: give the id of a planned shot ({known})")
        shot = state["shots"][raw["id"]]
        try:
            # Fields the edit leaves out keep their planned values.
            merged = Shot.model_validate(shot.model_dump(mode="json") | raw)
            changes = {
                f: raw[f] for f in SPEC_FIELDS & set(raw) if getattr(merged, f) != getattr(shot, f)
            }
            hand_staged = merged.camera != shot.camera or merged.blocking != shot.blocking
            if changes and not hand_staged:
                location = state["locations"][shot.location].design
                merged = restaged(merged, changes, scenes[shot.scene], location, heights)
        except ValidationError as exc:
            raise ReviewError(f"shots[{k}] ({raw['id']}): {problems(exc)}") from None
        if merged != shot:
            edited[shot.id] = merged
    return edited


# ----------------------------------------------------------------------------- cut


def review_cut(state: EpisodeState, runtime: Runtime[EpisodeContext]) -> Command[Any]:
    """The cut gate: the delivered episode; approve it, or ask for retakes, line edits and
    redesigns (`args.retakes`: [{shot, framing, angle, emotion, line, who, note}],
    `args.line_edits`: [{line, text}], `args.redesigns`: [{character, hair_colour,
    outfit_colour}])."""
    if "cut" not in state["request"].review:
        return Command(goto=END)
    outputs = state.get("outputs", {})
    timeline = state["timeline"]
    lines = [
        {"line": n, "id": line_id, "who": beat.character, "text": beat.text}
        for n, (line_id, _, _, beat) in enumerate(numbered_lines(state["script"]), 1)
    ]
    args = {"outputs": outputs, "runtime_s": round(timeline.duration_s, 2), "lines": lines}
    description = (
        f"The cut: {timeline.duration_s:.1f} s, {len(state['shot_order'])} shots, in "
        f"{outputs.get('video', 'episodes/')}. Approve to finish, or retake shots and give "
        "lines new words."
    )

    def apply(decision: Decision) -> Command[Any]:
        if decision.type == "approve":
            return Command(goto=END, update=_record("cut", decision))
        assert decision.edited_action is not None
        retakes, edits, looks = requested_changes(decision.edited_action.args)
        plan_changes(state, retakes, edits, looks)  # a bad request is asked again, not run
        update = {"retakes": retakes, "line_edits": edits, "redesigns": looks}
        return Command(goto="apply_changes", update=update)

    return _ask("cut", args, description, ("approve", "edit"), apply)


def requested_changes(
    args: dict[str, Any],
) -> tuple[list[Retake], list[LineEdit], list[Redesign]]:
    """Retakes, line edits and redesigns from an edit's args; ReviewError says what is
    wrong."""
    try:
        retakes = [Retake.model_validate(r) for r in args.get("retakes") or []]
        edits = [LineEdit.model_validate(e) for e in args.get("line_edits") or []]
        looks = [Redesign.model_validate(d) for d in args.get("redesigns") or []]
    except ValidationError as exc:
        raise ReviewError(f"not a retake, line edit or redesign: {problems(exc)}") from None
    if not retakes and not edits and not looks:
        raise ReviewError(
            "an edit of the cut gives args.retakes, args.line_edits or args.redesigns"
        )
    return retakes, edits, looks
