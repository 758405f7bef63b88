"""The director: voices the lines, plans shots per scene, stages cameras, renders keyframes.

The text model chooses framing, angle and move per beat (`ShotPlan`); staging is geometry:
characters get world positions in the set, the camera is placed for the framing, and screen
positions follow from the projection, so the set and the line of action stay consistent.
"""

from __future__ import annotations

import json
import wave
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from langgraph.runtime import Runtime
from pydantic import BaseModel, Field

from inkreel.agents.common import artifact, ask, credit, rejections
from inkreel.art.camera import FIGURE_HEIGHT_M, HEIGHT, WIDTH, screen_x
from inkreel.art.shot import frame
from inkreel.checks.answers import default_shot, validate_shot_plan, validate_shot_spec
from inkreel.drills import drifted_keyframe
from inkreel.media import audio
from inkreel.memory.retrieval import (
    LabelsOf,
    choose_references,
    labelled_references,
    shot_references,
)
from inkreel.project import atomic_path, digest
from inkreel.providers.capabilities import KeyframeRequest, Produced
from inkreel.providers.dispatch import Answer
from inkreel.providers.errors import UnusableAnswer
from inkreel.providers.limits import local_cpu
from inkreel.providers.media import accept_png, accept_wav, keyframe_model, voice_model
from inkreel.providers.prompt_io import tag
from inkreel.providers.roster import ModelEntry
from inkreel.schemas import (
    Angle,
    Beat,
    Blocking,
    Camera,
    Character,
    CharacterDesign,
    Emotion,
    Framing,
    Keyframe,
    Location,
    LocationDesign,
    Scene,
    Shot,
    ShotPlan,
    ShotSpec,
    Take,
    Voice,
)
from inkreel.schemas.episode import EpisodeState
from inkreel.services import EpisodeContext, Services, services

AGENT = "director"
ASPECT = HEIGHT / WIDTH
SPACING_M = 1.4
INTERIOR_WIDE_M = 9.0
DIALOGUE_TAIL_S = 0.45
# A shot the story directed shows everyone it names: each at least this far inside the frame
# edge (a fraction of its width), the view widened if the framing is too tight for them.
HOLD_MARGIN = 0.12
HELD_BEAT_RATE = 22050


def line_id(scene: Scene, beat_index: int) -> str:
    return f"{scene.number:02d}-{beat_index:03d}"


# ----------------------------------------------------------------------------- voices


class LineTask(BaseModel):
    """One dialogue line to record (payload of a `Send`)."""

    line_id: str
    character: str
    text: str
    voice: Voice
    language: str
    seed: int
    chorus: list[Voice] = Field(
        default_factory=list, description="Voices that say the line with the speaker."
    )


def record_line(task: LineTask, runtime: Runtime[EpisodeContext]) -> dict[str, Any]:
    """Record one dialogue line with the character's voice (content-addressed, done once).

    A chorus line is recorded once per voice, each take a call of its own, and the takes are
    layered into the line's take locally.
    """
    ctx = services(runtime)
    recorded = [_record_voice(ctx, task, voice) for voice in [task.voice, *task.chorus]]
    path, model = recorded[0]
    if len(recorded) > 1:
        path = ctx.project.assets("takes") / f"{digest([str(p.name) for p, _ in recorded])}.wav"
        if not path.exists():
            audio.write_wav(path, *audio.layer([audio.read_wav(p) for p, _ in recorded]))
    with wave.open(str(path), "rb") as wav:
        rate = wav.getframerate()
        duration = wav.getnframes() / rate
    take = Take(
        line_id=task.line_id,
        character=task.character,
        path=ctx.project.rel(path),
        duration_s=duration,
        sample_rate=rate,
    )
    ctx.event("take", line_id=task.line_id)
    made = artifact(ctx, path, "voice_take", AGENT, task.seed, model, take_basis(task))
    return {"takes": {task.line_id: take}, "artifacts": [made]}


def take_basis(task: LineTask) -> str:
    """What a take is made from: the words, the voices and the language."""
    return digest(task.text, task.voice, task.chorus, task.language)


def _record_voice(ctx: Services, task: LineTask, voice: Voice) -> tuple[Path, tuple[str, str]]:
    """Record the line in one voice; return the take's path and the model that spoke it."""
    calls = ctx.providers.calls
    first = calls.choose("voice")
    key = digest(task.text, voice, task.language, first.provider, first.model)
    path = ctx.project.assets("takes") / f"{key}.wav"
    model = (first.provider, first.model)
    if not any(ch.isalnum() for ch in task.text):
        # A line with nothing to pronounce ("...") is a held beat: silence, still subtitled.
        if not path.exists():
            length = int(HELD_BEAT_RATE * max(0.8, 0.25 * len(task.text)))
            audio.write_wav(path, np.zeros(length, dtype=np.float32), HELD_BEAT_RATE)
        return path, ("offline", "inkreel-silence")
    if path.exists():
        return path, model

    def produce(entry: ModelEntry) -> Produced:
        return voice_model(calls, entry).speak(task.text, voice, task.language)

    used = calls.media(
        "voice",
        AGENT,
        key,
        path,
        produce,
        accept_wav,
        units={"speech_chars": len(task.text)},
        label=task.line_id,
    )
    return path, (used.provider, used.model)


def line_tasks(state: EpisodeState) -> list[LineTask]:
    script = state["script"]
    request = state["request"]
    cast = state["cast"]

    def voice(name: str) -> Voice:
        # Someone only ever heard (a narrator, an intercom) has a voice but no design.
        return cast[name].design.voice if name in cast else audio.voice_for(name, script.language)

    tasks = []
    for scene in script.scenes:
        for i, beat in enumerate(scene.beats):
            if not beat.voices():
                continue
            speaker, *chorus = beat.voices()
            tasks.append(
                LineTask(
                    line_id=line_id(scene, i),
                    character=speaker,
                    text=beat.text,
                    voice=voice(speaker),
                    language=script.language,
                    seed=request.seed,
                    chorus=[voice(name) for name in chorus],
                )
            )
    return tasks


# ----------------------------------------------------------------------------- staging


def stage_positions(scene: Scene, location: LocationDesign) -> dict[str, float]:
    """Return each present character's world x: spread along the line, first on the left."""
    # Whoever speaks on screen is there; a voice from elsewhere is not staged.
    speakers = [name for b in scene.beats if not b.unseen() for name in b.voices()]
    present = list(dict.fromkeys(scene.characters + speakers))
    centre = location.width / 2
    start = centre - SPACING_M * (len(present) - 1) / 2
    return {name: round(start + i * SPACING_M, 3) for i, name in enumerate(present)}


def place_camera(
    spec: ShotSpec,
    positions: dict[str, float],
    heights: dict[str, float],
    location: LocationDesign,
    looks_at: str | None = None,
    hold: Sequence[str] = (),
) -> Camera:
    """Place the camera for the framing, on the subjects, with head room and lead room.

    `looks_at` is who the first subject looks at (their addressee); by default, the others.
    `hold` are people the frame must show whole (a shot the story directed): a framing too
    tight for them all is widened just enough, as a tight two- or three-shot.
    """
    subjects = [s for s in spec.subjects if s in positions] or list(positions)[:1]
    xs = [positions[s] for s in subjects] or [location.width / 2]
    lead = subjects[0] if subjects else None
    tall = FIGURE_HEIGHT_M * max((heights.get(s, 1.0) for s in subjects), default=1.0)
    mid = sum(xs) / len(xs)
    framing = spec.framing

    def floor_at(view_width: float, fraction: float) -> float:
        # Put the floor (y=0) at `fraction` of the frame height from the top.
        return view_width * ASPECT * (fraction - 0.5)

    def head_top_at(view_width: float, fraction: float) -> float:
        return tall - view_width * ASPECT * (0.5 - fraction)

    if framing == Framing.extreme_wide and location.interior:
        # A room is lower than it is wide: show the wall floor to ceiling, not the whole width.
        vw = min(location.width * 1.05, INTERIOR_WIDE_M)
        half = vw / 2
        x = min(max(mid, half), max(half, location.width - half))
        y = floor_at(vw, 0.84)
    elif framing == Framing.extreme_wide:
        vw = location.width * 1.05
        x, y = location.width / 2, floor_at(vw, 0.86)
    elif framing == Framing.wide:
        vw = max(7.0, max(xs) - min(xs) + 4.0)
        x, y = mid, floor_at(vw, 0.88)
    elif framing == Framing.two_shot:
        vw = max(xs) - min(xs) + 2.4
        x, y = mid, head_top_at(vw, 0.14)
    elif framing == Framing.over_the_shoulder and len(subjects) > 1:
        speaker_x, listener_x = xs[0], xs[1]
        vw = 2.8
        x, y = speaker_x + 0.45 * (listener_x - speaker_x), head_top_at(vw, 0.16)
    elif framing == Framing.close_up:
        vw = 1.15
        x, y = mid, tall * 0.93 - vw * ASPECT * 0.08
    elif framing == Framing.extreme_close_up:
        vw = 0.65
        x, y = mid, tall * 0.9
    else:  # medium, or an over-the-shoulder with nobody to look over
        vw = 2.6
        x, y = mid, head_top_at(vw, 0.12)
    if framing in (Framing.medium, Framing.close_up, Framing.extreme_close_up) and lead:
        # Lead room: put a lone subject on the third away from where they look.
        others = [p for n, p in positions.items() if n != lead]
        if looks_at in positions and looks_at != lead:
            others = [positions[looks_at]]
        if others:
            toward = 1.0 if sum(others) / len(others) > positions[lead] else -1.0
            x = positions[lead] + toward * vw / 6
    held = [positions[n] for n in hold if n in positions]
    if held and framing not in (Framing.extreme_wide, Framing.wide):
        reach = 0.5 - HOLD_MARGIN
        if any(abs(h - x) > reach * vw for h in held):
            x = (max(held) + min(held)) / 2
            vw = max(vw, (max(held) - min(held)) / (2 * reach))
            y = head_top_at(vw, 0.12)
    tilt = {Angle.eye_level: 0.0, Angle.high: 0.5, Angle.low: -0.5}[spec.angle]
    y += {Angle.eye_level: 0.0, Angle.high: 0.12, Angle.low: -0.08}[spec.angle] * vw * ASPECT
    return Camera(
        x=round(x, 4), y=round(y, 4), view_width=round(vw, 4), tilt=tilt, reverse=spec.reverse
    )


def make_shot(
    scene: Scene,
    number: int,
    spec: ShotSpec,
    location: LocationDesign,
    positions: dict[str, float],
    heights: dict[str, float],
    duration_s: float,
) -> Shot:
    """Stage one shot: camera, blocking and what is said."""
    beat: Beat = scene.beats[spec.beat]
    speaker = beat.character if beat.kind == "dialogue" else None
    # A voice from elsewhere moves no lips; a chorus speaks together.
    speaking = set() if beat.unseen() else set(beat.voices())
    addressee = beat.addressee if speaker and beat.addressee in positions else None
    # A shot the story directed shows exactly whom it names; the others stay in the set,
    # out of the picture.
    shown = beat.shot.on_screen if beat.shot is not None else None
    camera = place_camera(spec, positions, heights, location, addressee, shown or ())
    centre = sum(positions.values()) / max(1, len(positions))
    blocking = []
    for name, x in positions.items():
        if shown is not None and name not in shown:
            continue
        sx = screen_x(camera, x)
        if not -0.25 <= sx <= 1.25:
            continue
        # Facing is a direction in the set; the renderer mirrors it for a reverse camera.
        # A speaker looks at whom they talk to; everyone else toward the middle of the group.
        look_x = positions[addressee] if name == speaker and addressee else centre
        facing = "front" if len(positions) == 1 else ("right" if x < look_x else "left")
        blocking.append(
            Blocking(
                character=name,
                world_x=x,
                screen_x=round(sx, 4),
                facing=facing,  # type: ignore[arg-type]
                expression=beat.emotion if name in speaking else Emotion.neutral,
                speaking=name in speaking,
            )
        )
    return Shot(
        id=f"s{scene.number:02d}-{number:03d}",
        scene=scene.number,
        beat=spec.beat,
        location=scene.location,
        time_of_day=scene.time_of_day.value,
        framing=spec.framing,
        angle=spec.angle,
        move=spec.move,
        camera=camera,
        blocking=blocking,
        line_id=line_id(scene, spec.beat) if speaker else None,
        speaker=speaker,
        text=beat.text,
        duration_s=round(duration_s, 3),
        crosses_line=spec.crosses_line,
        effects=spec.effects,
        note=spec.note,
    )


def _action_seconds(text: str) -> float:
    return min(4.0, max(1.8, len(text.split()) / 2.8 if text.isascii() else len(text) / 7))


def plan_storyboard(state: EpisodeState, runtime: Runtime[EpisodeContext]) -> dict[str, Any]:
    """Plan every scene's shots with the text model, then stage and time them."""
    ctx = services(runtime)
    script = state["script"]
    request = state["request"]
    takes = state.get("takes", {})
    heights = {n: c.design.height for n, c in state["cast"].items()}
    planned: list[tuple[Scene, ShotSpec, float]] = []
    # e.g. an imported title card has no beats: nothing to shoot (the importer reported it)
    scenes = [scene for scene in script.scenes if scene.beats]
    # Scenes are planned independently, so their calls overlap (within the model's limits).
    notes = rejections(state, "storyboard")
    with ThreadPoolExecutor(max_workers=ctx.providers.concurrency(ctx.settings)) as pool:
        answers = list(pool.map(lambda scene: _plan_scene(ctx, scene, notes), scenes))
    for scene, answer in zip(scenes, answers, strict=True):
        # The checked plan has exactly one shot per beat of the scene (checks.answers); a
        # scene no model could plan is covered plainly, one default shot a beat.
        specs = (
            answer.value.shots
            if answer
            else [default_shot(scene, i) for i in range(len(scene.beats))]
        )
        for spec in specs:
            beat = scene.beats[spec.beat]
            take = takes.get(line_id(scene, spec.beat))
            seconds = take.duration_s + DIALOGUE_TAIL_S if take else _action_seconds(beat.text)
            planned.append((scene, spec, seconds))
    if not planned:
        raise UnusableAnswer("the director has nothing to shoot: the script has no beat.")
    if request.script_file is None:
        planned = _fit_runtime(planned, request.length_s)
    shots: dict[str, Shot] = {}
    for scene, spec, seconds in planned:
        location = state["locations"][scene.location].design
        positions = stage_positions(scene, location)
        number = sum(1 for s in shots.values() if s.scene == scene.number) + 1
        shot = make_shot(scene, number, spec, location, positions, heights, seconds)
        shots[shot.id] = shot
    ctx.event("storyboard", shots=len(shots))
    return {
        "shots": shots,
        "shot_order": list(shots),
        "text_models": credit("storyboard", *(a for a in answers if a)),
    }


def _plan_scene(ctx: Services, scene: Scene, notes: list[str]) -> Answer[ShotPlan] | None:
    """The scene's checked shot list, or None when no model gave a usable one; `notes` are a
    person's reasons for rejecting the earlier plans."""
    prompt = tag("scene", scene.model_dump(mode="json"))
    if notes:
        prompt += "\n" + tag("notes", notes) + "\n" + tag("draft", len(notes) + 1)
    try:
        return ask(ctx, AGENT, ShotPlan, prompt, lambda plan: validate_shot_plan(plan, scene))
    except UnusableAnswer as exc:
        ctx.event("scene_not_planned", scene=scene.number, why=str(exc))
        return None


def _fit_runtime(
    planned: list[tuple[Scene, ShotSpec, float]], target_s: float
) -> list[tuple[Scene, ShotSpec, float]]:
    """Stretch or shrink action shots (1.5-6 s each) so the cut lands near the target runtime."""
    spoken = sum(p[2] for p in planned if p[0].beats[p[1].beat].kind == "dialogue")
    actions = [p for p in planned if p[0].beats[p[1].beat].kind == "action"]
    if not actions:
        return planned
    each = min(6.0, max(1.5, (target_s - spoken) / len(actions)))
    return [
        (s, spec, each if s.beats[spec.beat].kind == "action" else secs)
        for s, spec, secs in planned
    ]


# ----------------------------------------------------------------------------- keyframes


class ShotTask(BaseModel):
    """One shot to render or revise (payload of a `Send`)."""

    shot: Shot
    location: LocationDesign = Field(
        description="The set the shot is staged in: its scene's (for a revision, even when the "
        "shot drifted to another)."
    )
    cast: dict[str, CharacterDesign]
    seed: int
    fix: str = ""
    must_show: list[str] = []
    previous_reverse: bool = False
    whole_cast_references: bool = Field(
        default=False,
        description="Send a hosted image model every cast member's references, not only "
        "the blocked ones' (a revision, which may re-block).",
    )
    attempt: int = Field(default=1, ge=1, description="Which take of the shot this is.")
    retake: int = Field(
        default=0, ge=0, description="Which retake a person asked for (0: none), drawn anew."
    )
    scene: Scene | None = Field(
        default=None,
        description="For a revision: the shot's scene in the script, whose set, time of day, "
        "beat (speaker, addressee) and cast the revised shot is staged from.",
    )
    scene_shots: list[Shot] = Field(
        default_factory=list,
        description="For a revision: the scene's shots in storyboard order (this one "
        "included), so everyone keeps the place they have in the shots around it.",
    )


def keyframe_prompt(task: ShotTask) -> str:
    """What a hosted image model is asked to draw; the references show who and where."""
    shot = task.shot
    people = []
    for b in sorted(shot.blocking, key=lambda b: b.screen_x):
        d = task.cast[b.character]
        side = "left" if b.screen_x < 0.4 else "right" if b.screen_x > 0.6 else "centre"
        people.append(
            f"{b.character} ({d.build} build, {d.hair_style} {d.hair_colour} hair, "
            f"{d.outfit or 'outfit'} in {d.outfit_colour}) at frame {side}, facing {b.facing}, "
            f"{b.expression}{', speaking' if b.speaking else ''}"
        )
    parts = [
        "Manhua motion-comic keyframe, ink outlines, flat colour, screentone, 16:9.",
        f"{shot.framing.replace('_', ' ')} shot, {shot.angle.replace('_', ' ')} angle,",
        f"{shot.location} at {shot.time_of_day}.",
        ("Characters: " + "; ".join(people) + ".") if people else "No characters.",
        f"Beat: {shot.text}" if shot.text else "",
        "Keep each character exactly as in their reference sheet and the set as in its plate.",
    ]
    if task.fix:  # a retake's note, or continuity's fix instruction
        parts.insert(-1, f"Change from the last take: {task.fix}")
    return " ".join(parts).strip()


def reference_paths(
    shot: Shot,
    cast: Mapping[str, Character],
    location: Location | None,
    everyone: bool = False,
    labels_of: LabelsOf | None = None,
) -> list[str]:
    """A hosted edit's references: each blocked character's sheet images for the shot (the
    turnaround view the shot sees them from, their face when it matters; with `everyone`, the
    rest of the cast's front views too, for a revision that may re-block), then the set's
    plate at the shot's time of day (project-relative paths). `labels_of` gives a character's
    labelled images: the asset memory's in a run, else the record's own."""
    labels_of = labels_of or labelled_references
    refs: list[str] = []
    blocked = {b.character: b for b in shot.blocking}
    names = list(dict.fromkeys([*blocked, *cast])) if everyone else list(blocked)
    for name in names:
        if name not in cast:
            continue
        if name in blocked:
            refs += shot_references(cast[name], shot, blocked[name], labels_of)
        else:
            refs += choose_references(labels_of(cast[name]))
    plates = location.plates if location is not None else {}
    plate = plates.get(shot.time_of_day) or next(iter(plates.values()), None)
    if plate:
        refs.append(plate)
    return refs


def stored_references(ctx: Services, task: ShotTask) -> list[str]:
    """`reference_paths` for a shot to draw, retrieved from the asset memory: each character's
    and the set's stored record (by the design's name) and the images stored for them, by the
    view and expression the shot needs. A revision is lit as its scene is."""
    shot = task.shot
    if task.scene is not None:
        shot = shot.model_copy(update={"time_of_day": task.scene.time_of_day.value})
    cast = {
        name: stored
        for name, design in task.cast.items()
        if (stored := ctx.memory.find_character(design.name)) is not None
    }
    location = ctx.memory.find_location(task.location.name)
    return reference_paths(
        shot, cast, location, task.whole_cast_references, ctx.memory.stored_references
    )


def _staging(shot: Shot) -> dict[str, Any]:
    """What a keyframe shows of its shot (not its id, timing or notes)."""
    return shot.model_dump(
        mode="json", exclude={"id", "revision", "fix_instruction", "note", "duration_s"}
    )


def _drawn_cast(task: ShotTask) -> dict[str, CharacterDesign]:
    return {b.character: task.cast[b.character] for b in task.shot.blocking}


def keyframe_basis(task: ShotTask) -> str:
    """What a keyframe is drawn from: the staging, the set, the designs, a person's retake."""
    return digest(_staging(task.shot), task.location, _drawn_cast(task), task.retake)


def draw_keyframe(ctx: Services, task: ShotTask) -> tuple[Keyframe, Path, tuple[str, str]]:
    """Draw (or find already drawn) the keyframe of a staged shot; return the model used.

    The layout (where each character and set element is) is the staging's: the procedural
    renderer draws exactly there; a hosted image model is asked to.
    """
    staging = _staging(task.shot)
    cast = _drawn_cast(task)
    calls = ctx.providers.calls
    first = calls.choose("keyframe")
    # A retake is drawn again even when its staging did not change: the model may not
    # repeat a take's mistake (the offline renderer repeats itself unless it drifted).
    again = () if task.attempt == 1 else (task.attempt,)
    asked = () if task.retake == 0 else (("retake", task.retake),)
    key = digest(staging, task.location, cast, (first.provider, first.model), *again, *asked)
    folder = ctx.project.assets("keyframes")
    png, layout = folder / f"{key}.png", folder / f"{key}.json"
    if png.exists() and layout.exists():
        stored = Keyframe.model_validate_json(layout.read_text(encoding="utf-8"))
        return (
            stored.model_copy(update={"shot_id": task.shot.id}),
            png,
            (stored.provider, stored.model),
        )
    with local_cpu():
        image, figures, elements = frame.render_keyframe(task.shot, task.location, cast)
    drift = ctx.providers.drift
    defect = drift.fault_for(f"{task.seed}:{task.shot.id}", task.attempt) if drift else None
    if defect is not None:
        drawn = (figures, elements)
        image = drifted_keyframe(image, task.shot, task.location, task.cast, defect, key, drawn)

    request = KeyframeRequest(
        prompt=keyframe_prompt(task),
        references=[ctx.project.root / p for p in stored_references(ctx, task)],
        drawing=image,
    )

    def produce(entry: ModelEntry) -> Produced:
        return keyframe_model(calls, entry).draw(request)

    used = calls.media(
        "keyframe", AGENT, key, png, produce, accept_png, units={"images": 1}, label=task.shot.id
    )
    keyframe = Keyframe(
        shot_id=task.shot.id,
        path=ctx.project.rel(png),
        figures=figures,
        elements=elements,
        provider=used.provider,
        model=used.model,
    )
    with atomic_path(layout) as tmp:
        tmp.write_text(keyframe.model_dump_json(), encoding="utf-8")
    return keyframe, png, (used.provider, used.model)


def render_keyframe(task: ShotTask, runtime: Runtime[EpisodeContext]) -> dict[str, Any]:
    """Render one shot's keyframe as a camera view of its set."""
    ctx = services(runtime)
    keyframe, png, model = draw_keyframe(ctx, task)
    ctx.event("keyframe", shot_id=task.shot.id)
    made = artifact(ctx, png, "keyframe", AGENT, task.seed, model, keyframe_basis(task))
    return {"keyframes": {task.shot.id: keyframe}, "artifacts": [made]}


def revise_shot(task: ShotTask, runtime: Runtime[EpisodeContext]) -> dict[str, Any]:
    """Re-plan one shot under a continuity fix instruction, re-stage it and re-render it.

    With its scene at hand (`task.scene`, `task.scene_shots`) the shot is staged as the first
    time: in the scene's set and light, the speaker facing their addressee, and everyone where
    the neighbouring shots of the scene have them.
    """
    ctx = services(runtime)
    shot = task.shot
    current = spec_of(shot)
    prompt = "\n".join(
        [
            tag("shot", current.model_dump(mode="json")),
            tag("fix", task.fix),
            tag("must_show", json.dumps(task.must_show, ensure_ascii=False)),
            tag("previous_reverse", json.dumps(task.previous_reverse)),
        ]
    )
    try:
        spec = ask(
            ctx, AGENT, ShotSpec, prompt, lambda s: validate_shot_spec(s, shot.beat, task.scene)
        ).value
    except UnusableAnswer as exc:
        # No new plan for the shot: it is drawn again as it was (a retake), and the
        # continuity loop keeps its best take at the limit.
        ctx.event("shot_not_replanned", shot_id=shot.id, why=str(exc))
        spec = current
    positions = _revised_positions(task, spec.subjects)
    heights = {n: d.height for n, d in task.cast.items()}
    revised = _restage(shot, spec, task.location, positions, heights, task.scene)
    revised = revised.model_copy(
        update={"revision": shot.revision + 1, "fix_instruction": task.fix}
    )
    redraw = task.model_copy(update={"shot": revised})
    keyframe, png, model = draw_keyframe(ctx, redraw)
    ctx.event("revised", shot_id=shot.id)
    made = artifact(ctx, png, "keyframe", AGENT, task.seed, model, keyframe_basis(redraw))
    return {"shots": {shot.id: revised}, "keyframes": {shot.id: keyframe}, "artifacts": [made]}


def _revised_positions(task: ShotTask, subjects: list[str]) -> dict[str, float]:
    """Return where everyone stands in a revised shot: where they stand in the scene's shots
    around it, unless the script moves them in between.

    With the scene at hand this covers its whole cast, like the first staging, so the speaker's
    addressee is known even when out of frame, and nobody outside the scene is staged.
    """
    shot, scene = task.shot, task.scene
    own = {b.character: b.world_x for b in shot.blocking}
    if scene is not None:
        staged = stage_positions(scene, task.location)
        names = list(staged)
    else:
        staged = {}
        names = list(dict.fromkeys([*own, *(s for s in subjects if s in task.cast)]))
    around = [s for s in task.scene_shots if s.scene == shot.scene]
    k = next((i for i, s in enumerate(around) if s.id == shot.id), None)
    before = list(reversed(around[:k])) if k is not None else []
    after = around[k + 1 :] if k is not None else []
    positions: dict[str, float] = {}
    for name in names:
        x = _neighbour_x(scene, name, shot.beat, before, after)
        if x is None:
            x = own.get(name, staged.get(name))
        if x is None:
            # Nobody has placed them in this scene: beside the others, clear of them.
            xs = list(own.values()) or list(positions.values())
            x = (max(xs) + SPACING_M) if xs else task.location.width / 2
        positions[name] = x
    return positions


def _neighbour_x(
    scene: Scene | None, name: str, beat: int, before: list[Shot], after: list[Shot]
) -> float | None:
    """Return where `name` stands in the nearest shot before (else after) that blocks them,
    unless the script moves them in between (that shot's place would then be a teleport)."""
    for shots, later in ((before, False), (after, True)):
        for other in shots:
            there = next((b for b in other.blocking if b.character == name), None)
            if there is None:
                continue
            span = (beat, other.beat) if later else (other.beat, beat)
            if not _moved(scene, name, *span):
                return there.world_x
            break
    return None


def _moved(scene: Scene | None, name: str, after: int, upto: int) -> bool:
    """Return whether the script moves `name` in the beats after..upto (the later shot's beat).

    Only the beats' own lists count (moves, enters, exits): keeping someone in place when an
    action line merely says they walk is never a teleport, and the first staging has no moves.
    """
    if scene is None:
        return False
    lo = after + 1 if after < upto else upto
    between = scene.beats[max(0, lo) : upto + 1]
    return any(name in (*b.moves, *b.enters, *b.exits) for b in between)


def spec_of(shot: Shot) -> ShotSpec:
    """The director's choice a staged shot was made from."""
    return ShotSpec(
        beat=shot.beat,
        framing=shot.framing,
        angle=shot.angle,
        move=shot.move,
        subjects=[b.character for b in shot.blocking if b.speaking]
        + [b.character for b in shot.blocking if not b.speaking],
        reverse=shot.camera.reverse,
        crosses_line=shot.crosses_line,
        effects=shot.effects,
        note=shot.note,
    )


# What a person may change about a shot's staging (the rest follows from the script).
SPEC_FIELDS = frozenset(ShotSpec.model_fields) - {"beat"}


def restaged(
    shot: Shot,
    changes: dict[str, Any],
    scene: Scene,
    location: LocationDesign,
    heights: dict[str, float],
) -> Shot:
    """The shot staged again with a person's changes to its framing, angle, move, subjects,
    effects or note (fields of SPEC_FIELDS): camera and blocking follow, as when planned."""
    unknown = set(changes) - SPEC_FIELDS
    if unknown:
        raise ValueError(f"not a staging choice: {', '.join(sorted(unknown))}")
    spec = ShotSpec.model_validate(spec_of(shot).model_dump() | changes)
    positions = stage_positions(scene, location)
    return _restage(shot, spec, location, positions, heights, scene)


def _restage(
    shot: Shot,
    spec: ShotSpec,
    location: LocationDesign,
    positions: dict[str, float],
    heights: dict[str, float],
    scene: Scene | None = None,
) -> Shot:
    """Stage `shot` again under `spec`, like the first staging: in its scene's set and time of
    day, the speaker facing whom the beat addresses."""
    if scene is not None and 0 <= shot.beat < len(scene.beats):
        staged = make_shot(
            scene,
            1,
            spec.model_copy(update={"beat": shot.beat}),
            location,
            positions,
            heights,
            shot.duration_s,
        )
        return staged.model_copy(update={"id": shot.id})
    # No script at hand: the shot itself says what is said, by whom (not to whom).
    beat = Beat(
        kind="dialogue" if shot.speaker else "action",
        text=shot.text,
        character=shot.speaker,
        emotion=next((b.expression for b in shot.blocking if b.speaking), Emotion.neutral),
    )
    scene = Scene(
        number=shot.scene,
        heading="",
        location=shot.location,
        time_of_day=shot.time_of_day,  # type: ignore[arg-type]
        characters=list(positions),
        beats=[beat],
    )
    staged = make_shot(
        scene,
        1,
        spec.model_copy(update={"beat": 0}),
        location,
        positions,
        heights,
        shot.duration_s,
    )
    return staged.model_copy(update={"id": shot.id, "beat": shot.beat, "line_id": shot.line_id})
