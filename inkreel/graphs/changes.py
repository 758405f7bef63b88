"""Changes after the fact: retakes of single shots, new words for single lines, and a
character's new look (their sheets and every shot they are in are drawn again).

`plan_changes` works out what a list of retakes and line edits changes (pure: the run API
uses it to refuse a bad request before anything runs); the `apply_changes` node applies it:
re-records the changed lines, restages the changed shots and draws only their keyframes.
From there the graph goes on as usual (continuity checks the changed shots, the timeline is
cut again and every clip whose content did not change is found on disk, the episode is
assembled again), so only what is stale is redone and no request is paid for twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command, Send

from inkreel.agents import director
from inkreel.agents.character_designer import redesign
from inkreel.graphs.fan_out import keyframe_sends
from inkreel.providers.offline.shots import EMOTION_EFFECTS
from inkreel.schemas import (
    Beat,
    Emotion,
    LineEdit,
    Redesign,
    Retake,
    ReviewRecord,
    Scene,
    Script,
    Shot,
)
from inkreel.schemas.episode import EpisodeState
from inkreel.schemas.review import ReviewError
from inkreel.services import EpisodeContext, services


@dataclass
class Changes:
    """What retakes and line edits change."""

    script: Script
    shots: dict[str, Shot] = field(default_factory=dict)  # restaged (or re-worded) shots
    lines: set[str] = field(default_factory=set)  # line ids to record again
    notes: dict[str, str] = field(default_factory=dict)  # shot id -> a person's note
    retaken_shots: set[str] = field(default_factory=set)  # shots a person asked to retake
    looks: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> new colours
    retaken: list[str] = field(default_factory=list)  # what a person asked for, in words


def numbered_lines(script: Script) -> list[tuple[str, Scene, int, Beat]]:
    """Every line of dialogue in order: (line id, scene, beat index, beat); line N is [N-1]."""
    return [
        (director.line_id(scene, i), scene, i, beat)
        for scene in script.scenes
        for i, beat in enumerate(scene.beats)
        if beat.kind == "dialogue"
    ]


def plan_changes(
    state: EpisodeState,
    retakes: list[Retake],
    edits: list[LineEdit],
    redesigns: list[Redesign] | None = None,
) -> Changes:
    """The script and shots after the retakes, edits and redesigns; ReviewError says what
    is wrong."""
    if not state.get("shot_order"):
        raise ReviewError("the episode has no storyboard yet: nothing to retake")
    lines = numbered_lines(state["script"])
    words: dict[str, str] = {}
    for edit in edits:
        if edit.line > len(lines):
            raise ReviewError(f"line {edit.line}: the script has {len(lines)} lines")
        words[lines[edit.line - 1][0]] = edit.text.strip()
    for retake in retakes:
        shot = _shot(state, retake.shot)
        if retake.line is not None:
            if shot.line_id is None:
                raise ReviewError(f"shot {shot.id} has no line to change (it is action)")
            words[shot.line_id] = retake.line.strip()
    changes = Changes(script=_reworded(state["script"], words), lines=set(words))
    changes.retaken += [f"line {i + 1}" for i, line in enumerate(lines) if line[0] in words]
    for shot_id in state["shot_order"]:
        shot = state["shots"][shot_id]
        if shot.line_id in words:
            changes.shots[shot_id] = shot.model_copy(update={"text": words[shot.line_id]})
    for retake in retakes:
        _retake(state, retake, changes)
    for look in redesigns or []:
        _redesign(state, look, changes)
    return changes


def _redesign(state: EpisodeState, look: Redesign, changes: Changes) -> None:
    """A character's new look: every shot they are in is drawn again (as it is staged)."""
    cast = state["cast"]
    if look.character not in cast:
        raise ReviewError(f"{look.character} is not in the cast ({', '.join(cast)})")
    changes.looks[look.character] = {**changes.looks.get(look.character, {}), **look.changes()}
    for shot_id in state["shot_order"]:
        shot = changes.shots.get(shot_id) or state["shots"][shot_id]
        if any(b.character == look.character for b in shot.blocking):
            changes.shots[shot_id] = shot
    colours = ", ".join(f"{k.replace('_colour', '')} {v}" for k, v in look.changes().items())
    changes.retaken.append(f"{look.character}: {colours}")


def _shot(state: EpisodeState, shot_id: str) -> Shot:
    if shot_id not in state["shot_order"]:
        known = state["shot_order"]
        raise ReviewError(
            f"there is no shot {shot_id!r}; the shots are {known[0]} ... {known[-1]} "
            "(see `inkreel review` or storyboard.json)"
        )
    return state["shots"][shot_id]


def _reworded(script: Script, words: dict[str, str]) -> Script:
    if not words:
        return script
    scenes = []
    for scene in script.scenes:
        beats = [
            beat.model_copy(update={"text": words[director.line_id(scene, i)]})
            if director.line_id(scene, i) in words
            else beat
            for i, beat in enumerate(scene.beats)
        ]
        scenes.append(scene.model_copy(update={"beats": beats}))
    return script.model_copy(update={"scenes": scenes})


def _retake(state: EpisodeState, retake: Retake, changes: Changes) -> None:
    """Restage one shot as the retake asks, into `changes`."""
    shot = changes.shots.get(retake.shot) or _shot(state, retake.shot)
    cast = state["cast"]
    unknown = [n for n in retake.who or [] if n not in cast]
    if unknown:
        raise ReviewError(f"not in the cast: {', '.join(unknown)} (the cast: {', '.join(cast)})")
    staging: dict[str, Any] = {}
    if retake.framing is not None:
        staging["framing"] = retake.framing
    if retake.angle is not None:
        staging["angle"] = retake.angle
    if retake.who:
        speaker = [shot.speaker] if shot.speaker in retake.who else []
        staging["subjects"] = list(dict.fromkeys([*speaker, *retake.who]))
    if staging:
        scene = next(s for s in changes.script.scenes if s.number == shot.scene)
        location = state["locations"][shot.location].design
        heights = {n: c.design.height for n, c in cast.items()}
        shot = director.restaged(shot, staging, scene, location, heights)
    if retake.emotion is not None:
        shot = _with_emotion(shot, retake.emotion, retake.who)
    changes.shots[shot.id] = shot.model_copy(update={"fix_instruction": retake.note})
    changes.retaken_shots.add(shot.id)
    if retake.note:
        changes.notes[shot.id] = retake.note
    asked = [f"{k} {v}" for k, v in retake.model_dump(exclude={"shot"}).items() if v]
    changes.retaken.append(f"{shot.id}: {', '.join(asked) or 'again'}")


def _with_emotion(shot: Shot, emotion: Emotion, who: list[str] | None) -> Shot:
    """The shot with `who` (default: the speaker, else everyone in it) showing the emotion."""
    names = set(who or ([shot.speaker] if shot.speaker else [b.character for b in shot.blocking]))
    missing = names - {b.character for b in shot.blocking}
    if missing:
        raise ReviewError(
            f"{', '.join(sorted(missing))} not in shot {shot.id}; add them with --who first"
        )
    blocking = [
        b.model_copy(update={"expression": emotion}) if b.character in names else b
        for b in shot.blocking
    ]
    # The manga effect of the old emotion (an anger mark...) goes; the new one's comes.
    played = set(EMOTION_EFFECTS.values())
    effects: list[Any] = [e for e in shot.effects if e not in played]
    if Emotion(emotion).value in EMOTION_EFFECTS:
        effects.append(EMOTION_EFFECTS[Emotion(emotion).value])
    return shot.model_copy(update={"blocking": blocking, "effects": effects})


def apply_changes(
    state: EpisodeState, runtime: Runtime[EpisodeContext]
) -> Command[Literal["render_keyframe", "check_continuity"]]:
    """Apply the pending retakes and line edits; draw the changed shots again."""
    changes = plan_changes(
        state, state.get("retakes", []), state.get("line_edits", []), state.get("redesigns", [])
    )
    cast, drawn = _redrawn_cast(state, changes, runtime)
    view: dict[str, Any] = {**state, "script": changes.script, "cast": {**state["cast"], **cast}}
    takes: dict[str, Any] = {}
    artifacts: list[Any] = list(drawn)
    for task in director.line_tasks(view):  # type: ignore[arg-type]
        if task.line_id in changes.lines:
            made = director.record_line(task, runtime)
            takes |= made["takes"]
            artifacts += made["artifacts"]
    shots = dict(changes.shots)
    for shot_id, shot in shots.items():
        if shot.line_id in takes:  # the shot lasts as long as its new take
            seconds = takes[shot.line_id].duration_s + director.DIALOGUE_TAIL_S
            shots[shot_id] = shot.model_copy(update={"duration_s": round(seconds, 3)})
    sends = [
        Send("render_keyframe", _retake_task(send.arg, state, changes))
        for send in keyframe_sends(view, shots)  # type: ignore[arg-type]
        if send.arg.shot.id in shots
    ]
    record = ReviewRecord(gate="cut", decision="edit", changed=changes.retaken)
    update = {
        "script": changes.script,
        "shots": shots,
        "takes": takes,
        "artifacts": artifacts,
        "attempts": {shot_id: 0 for shot_id in shots},  # the continuity loop starts afresh
        "cast": cast,
        "retakes": [],
        "line_edits": [],
        "redesigns": [],
        "reviews": [record],
    }
    return Command(goto=sends or "check_continuity", update=update)


def _redrawn_cast(
    state: EpisodeState, changes: Changes, runtime: Runtime[EpisodeContext]
) -> tuple[dict[str, Any], list[Any]]:
    """The characters whose look changed, drawn again, and their files."""
    ctx = services(runtime)
    request = state["request"]
    cast: dict[str, Any] = {}
    files: list[Any] = []
    for name, colours in changes.looks.items():
        cast[name], drawn = redesign(
            ctx, state["cast"][name], colours, request.seed, request.episode
        )
        files += drawn
    return cast, files


def _retake_task(task: director.ShotTask, state: EpisodeState, changes: Changes) -> Any:
    """A changed shot's keyframe task; a retaken one is a new take, even when its staging did
    not change (a hosted model is asked again, with the person's note)."""
    shot_id = task.shot.id
    # A shot whose line got new words only is not a new take: it keeps its retake number.
    retake = retakes_of(state, shot_id) + (shot_id in changes.retaken_shots)
    return task.model_copy(update={"fix": changes.notes.get(shot_id, ""), "retake": retake})


def retakes_of(state: EpisodeState, shot_id: str) -> int:
    """How many times a person has had the shot taken again."""
    return sum(
        1 for r in state.get("reviews", []) for c in r.changed if c.startswith(f"{shot_id}:")
    )
