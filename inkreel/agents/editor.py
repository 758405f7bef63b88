"""The editor: cuts the timeline, mixes the sound, renders shots and delivers the episode."""

from __future__ import annotations

import math
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from langgraph.runtime import Runtime
from PIL import Image
from pydantic import BaseModel, Field

from inkreel import PROJECT_FORMAT, __version__
from inkreel.agents.common import artifact
from inkreel.graphs.state import EpisodeContext, EpisodeState
from inkreel.media import audio, exports, mix, motion, render, renderer
from inkreel.media.fountain import write_fountain
from inkreel.media.timeline import build_timeline, clip_dialogue, clip_subtitles
from inkreel.project import digest, write_text_atomic
from inkreel.providers.limits import local_cpu
from inkreel.providers.media import accept_mp4, hosted_video
from inkreel.providers.roster import ModelEntry
from inkreel.schemas import (
    Artifact,
    Box,
    CharacterDesign,
    LocationDesign,
    Manifest,
    Shot,
    StoryboardFile,
    VideoClip,
)

AGENT = "editor"
MIX_RATE = 44100
# A push-in or pull-out is staged at every zoom step of its move: ~100 MB of layers at
# 1280x720 (~170 MB at its peak, against ~50 MB for a static shot or a pan). Staged beside
# another shot and two encoders it made the peak of a 15-minute episode, so it is staged alone.
ZOOM_MOVES = frozenset({"push_in", "pull_out"})
TITLE_CARD_S = 3.0
ENCODER = ("offline", "libx264+aac")


def cut_timeline(state: EpisodeState, runtime: Runtime[EpisodeContext]) -> dict[str, Any]:
    """Lay the shots on a timeline and mix dialogue over a generated music bed."""
    ctx = runtime.context
    settings = ctx.settings
    shots = [state["shots"][i] for i in state["shot_order"]]
    title = state["script"].title if settings.title_card else None
    timeline = build_timeline(
        shots,
        state["takes"],
        state["keyframes"],
        settings.fps,
        settings.width,
        settings.height,
        title=title,
        title_frames=round(TITLE_CARD_S * settings.fps) if title else 0,
    )
    seed = state["request"].seed
    key = digest(
        timeline.audio, timeline.frames, timeline.fps, seed, settings.music, mix.MIX_VERSION
    )
    path = ctx.project.assets("mix") / f"{key}.wav"
    if not path.exists():
        duration = timeline.duration_s
        # Streamed: each take is read when the mix reaches it, so memory does not grow with
        # the runtime (a 15-minute mix held in memory took ~2.6 GB).
        lines = [
            (partial(audio.read_wav, ctx.project.root / clip.path), clip.start / timeline.fps)
            for clip in timeline.audio
        ]
        music = mix.MusicBed(duration, seed, "calm", MIX_RATE) if settings.music else None
        mix.mix_to_wav(path, lines, music, duration, MIX_RATE)
    ctx.event("timeline", frames=timeline.frames)
    mixed = artifact(ctx, path, "audio_mix", AGENT, seed, ("offline", "inkreel-mixer"))
    return {"timeline": timeline, "mix": ctx.project.rel(path), "artifacts": [mixed]}


class SegmentTask(BaseModel):
    """One clip to encode (payload of a `Send`): a shot, or the title card."""

    clip: VideoClip
    shot: Shot | None = None
    location: LocationDesign | None = None
    cast: dict[str, CharacterDesign] = {}
    take: str | None = None
    keyframe: str | None = Field(default=None, description="The shot's keyframe PNG.")
    keyframe_staged: bool = Field(
        default=True, description="Drawn by the procedural renderer, so its layers can move."
    )
    line_start: int = 0
    subtitles: list[tuple[str, int, int]] = Field(
        default=[], description="Subtitle cues: (text, first frame, end frame) in the clip."
    )
    faces: list[Box] = Field(
        default=[], description="Faces in the keyframe, kept clear of a still's subtitles."
    )
    logline: str = ""
    fps: int
    width: int
    height: int
    seed: int
    dissolve_into: SegmentTask | None = Field(
        default=None, description="The next clip, whose first frame this one dissolves into."
    )


def segment_tasks(state: EpisodeState) -> list[SegmentTask]:
    """Build one encode task per clip; a dissolving clip carries the clip it dissolves into."""
    timeline = state["timeline"]
    tasks = []
    for clip in timeline.video:
        task = SegmentTask(
            clip=clip,
            logline=state["script"].logline,
            fps=timeline.fps,
            width=timeline.width,
            height=timeline.height,
            seed=state["request"].seed,
        )
        if clip.title is None:
            shot = state["shots"][clip.shot_id]
            line = clip_dialogue(timeline, clip)
            keyframe = state["keyframes"][shot.id]
            task = task.model_copy(
                update={
                    "shot": shot,
                    "keyframe": keyframe.path,
                    "keyframe_staged": keyframe.staged,
                    "location": state["locations"][shot.location].design,
                    "cast": {b.character: state["cast"][b.character].design for b in shot.blocking},
                    "take": line.path if line else None,
                    "line_start": (line.start - clip.start) if line else 0,
                    "subtitles": clip_subtitles(timeline, clip),
                    "faces": [f.face for f in keyframe.figures if f.face is not None],
                }
            )
        tasks.append(task)
    return [
        task.model_copy(update={"dissolve_into": following})
        if task.clip.dissolve_frames and following is not None
        else task
        for task, following in zip(tasks, [*tasks[1:], None], strict=True)
    ]


def _dissolve(task: SegmentTask, root: Path) -> dict[str, Any]:
    """The closing dissolve's arguments: the next clip's first frame and the length."""
    if task.dissolve_into is None or not task.clip.dissolve_frames:
        return {}
    return {
        "dissolve_into": segment_frames(task.dissolve_into, root)(0),
        "dissolve_frames": task.clip.dissolve_frames,
    }


def segment_frames(task: SegmentTask, root: Path) -> Callable[[int], np.ndarray]:
    """Return frame(i) for a clip: the title card, the animated shot, or a hosted still."""
    size = (task.width, task.height)
    if task.clip.title is not None:
        return motion.title_card_frames(task.clip.title, task.logline, size)
    assert task.shot is not None and task.location is not None
    extra = _dissolve(task, root)
    if not task.keyframe_staged and task.keyframe:
        with Image.open(root / task.keyframe) as im:
            image = np.asarray(im.convert("RGB").resize(size, Image.Resampling.LANCZOS))
        still = motion.still_frames(image, task.clip.frames, task.clip.move)
        return motion.overlay_frames(
            still, task.clip.frames, size, task.subtitles, avoid=task.faces, **extra
        )
    layers = renderer.stage_shot(task.shot, task.location, task.cast, size=size)
    envelope = None
    if task.take:
        samples, rate = audio.read_wav(root / task.take)
        envelope = audio.loudness_envelope(samples, rate, task.fps)
    return motion.shot_frames(
        layers,
        task.clip.frames,
        task.clip.move,
        envelope,
        task.line_start,
        task.subtitles,
        **extra,
    )


def _content_key(task: SegmentTask) -> dict[str, Any]:
    """What a segment's pixels depend on: not its place on the timeline, nor the shot's id."""
    staging = task.model_dump(mode="json", exclude={"seed"})

    def strip(entry: dict[str, Any] | None) -> None:
        if entry is None:
            return
        for key in ("start", "shot_id"):
            entry["clip"].pop(key, None)
        if entry.get("shot"):
            entry["shot"].pop("id", None)
        if entry.get("dissolve_into"):
            entry["dissolve_into"].pop("dissolve_into", None)
            strip(entry["dissolve_into"])

    strip(staging)
    return staging


def render_segment(task: SegmentTask, runtime: Runtime[EpisodeContext]) -> dict[str, Any]:
    """Animate and encode one clip (content-addressed: a finished shot is never redone).

    The `animate` task's model does the animating: the offline one is the procedural motion
    (or, for a hosted keyframe, a camera move over the still), encoded straight to the
    segment; a hosted one (Seedance, Vidu) animates the keyframe into a clip, which is then
    fitted to the shot's frames with its subtitle and dissolve. The title card is local work.
    """
    ctx = runtime.context
    calls = ctx.providers.calls
    first = calls.choose("animate")
    key = digest(_content_key(task), (first.provider, first.model), render.VIDEO_PARAMS)
    out = ctx.project.assets("segments") / f"{key}.mp4"
    model: tuple[str, str] = ENCODER
    size = (task.width, task.height)
    if task.clip.title is not None:
        if not out.exists():
            with local_cpu():
                frame = segment_frames(task, ctx.project.root)
                render.render_segment(frame, task.clip.frames, out, task.fps, size)
                del frame  # before local_cpu hands the freed memory back
    elif first.offline and out.exists():
        model = (first.provider, first.model)
    else:
        seconds = task.clip.frames / task.fps

        def encode() -> bytes:
            # Staging a shot holds its layers in memory: stage and encode on one core's turn
            # (taken after the staging turn, so a shot waiting to stage holds no core).
            with (
                _staging_turn(task),
                local_cpu(),
                tempfile.TemporaryDirectory(prefix="inkreel-") as folder,
            ):
                frame = segment_frames(task, ctx.project.root)
                tmp = Path(folder) / out.name
                render.render_segment(frame, task.clip.frames, tmp, task.fps, size)
                # The staged layers go before local_cpu hands the freed memory back.
                del frame
                return tmp.read_bytes()

        def produce(entry: ModelEntry) -> tuple[bytes, Mapping[str, float]]:
            if entry.offline:
                return encode(), {"video_seconds": seconds}
            assert task.keyframe is not None and task.shot is not None
            return hosted_video(
                calls,
                entry,
                f"{task.shot.text or task.shot.framing} {task.shot.move}".strip(),
                ctx.project.root / task.keyframe,
                [],
                max(2, min(10, math.ceil(seconds))),
                task.seed,
                journal=calls.journal("animate", key, entry),
            )

        target = out
        if not first.offline:
            target = ctx.project.assets("clips") / f"{key}.mp4"
        used = calls.media(
            "animate",
            "editor",
            key,
            target,
            produce,
            accept_mp4,
            units={"video_seconds": seconds},
            label=task.clip.shot_id,
        )
        model = (used.provider, used.model)
        if target != out and not out.exists():
            with local_cpu():
                frame = _fit_clip(task, target, ctx.project.root)
                render.render_segment(frame, task.clip.frames, out, task.fps, size)
                del frame
    ctx.event("segment", shot_id=task.clip.shot_id)
    made = artifact(ctx, out, "shot_segment", AGENT, task.seed, model)
    return {"segments": {task.clip.shot_id: ctx.project.rel(out)}, "artifacts": [made]}


class _Stagings:
    """Whose turn it is to stage: any number of ordinary shots (local_cpu bounds them), or
    one zooming shot alone; a zooming shot waiting goes before ordinary ones that come later."""

    def __init__(self) -> None:
        self._turn = threading.Condition()
        self._ordinary = 0
        self._zooming = False
        self._waiting = 0

    @contextmanager
    def turn(self, zooming: bool) -> Iterator[None]:
        with self._turn:
            if zooming:
                self._waiting += 1
                self._turn.wait_for(lambda: not self._zooming and not self._ordinary)
                self._waiting -= 1
                self._zooming = True
            else:
                self._turn.wait_for(lambda: not self._zooming and not self._waiting)
                self._ordinary += 1
        try:
            yield
        finally:
            with self._turn:
                if zooming:
                    self._zooming = False
                else:
                    self._ordinary -= 1
                self._turn.notify_all()


_STAGINGS = _Stagings()


def _staging_turn(task: SegmentTask) -> AbstractContextManager[None]:
    """The turn to stage the clip: alone if it stages a zooming shot (its own, or the next
    one's first frame for a dissolve)."""
    clips = [task, *([task.dissolve_into] if task.dissolve_into else [])]
    zooming = any(c.keyframe_staged and c.clip.move in ZOOM_MOVES for c in clips if c.shot)
    return _STAGINGS.turn(zooming)


def _fit_clip(task: SegmentTask, clip: Path, root: Path) -> Callable[[int], np.ndarray]:
    """A hosted clip fitted to the shot: its frames (the last held), subtitle and dissolve."""
    size = (task.width, task.height)
    source = motion.clip_frames(str(clip), size, task.fps)
    return motion.overlay_frames(
        source, task.clip.frames, size, task.subtitles, avoid=task.faces, **_dissolve(task, root)
    )


def assemble_episode(state: EpisodeState, runtime: Runtime[EpisodeContext]) -> dict[str, Any]:
    """Join the shots, mux the mix, and write the episode's deliverables and manifest."""
    ctx = runtime.context
    request = state["request"]
    seed = request.seed
    folder = ctx.project.episode_dir(request.episode)
    timeline = state["timeline"]
    root = ctx.project.root
    segments = [root / state["segments"][c.shot_id] for c in timeline.video]
    video = render.assemble(segments, root / state["mix"], folder / "episode.mp4", folder)
    srt = exports.write_srt(timeline.subtitles, timeline.fps, folder / "episode.srt")
    fountain = write_text_atomic(folder / "script.fountain", write_fountain(state["script"]))
    shots = [state["shots"][i] for i in state["shot_order"]]
    sheet = exports.contact_sheet(
        shots,
        {s.id: root / state["keyframes"][s.id].path for s in shots},
        folder / "storyboard.png",
    )
    report = write_text_atomic(
        folder / "continuity.json", state["continuity"].model_dump_json(indent=2)
    )
    timeline_file = write_text_atomic(folder / "timeline.json", timeline.model_dump_json(indent=1))
    board = StoryboardFile(
        shots=shots,
        keyframes={s.id: state["keyframes"][s.id] for s in shots},
        cast=state["cast"],
        locations=state["locations"],
        script=state["script"],
    )
    board_file = write_text_atomic(folder / "storyboard.json", board.model_dump_json(indent=1))
    otio_file = exports.write_otio(
        timeline, folder / "episode.otio", request.episode, root, mix=root / state["mix"]
    )
    credits = state.get("text_models", {})
    delivered: list[Artifact] = [
        artifact(ctx, video, "episode_video", AGENT, seed, ENCODER),
        artifact(ctx, srt, "subtitles", AGENT, seed, ("offline", "inkreel")),
        artifact(ctx, otio_file, "editorial_timeline", AGENT, seed, ("offline", "opentimelineio")),
        artifact(
            ctx, fountain, "screenplay", "screenwriter", seed, _credit(ctx, credits, "screenplay")
        ),
        artifact(ctx, sheet, "storyboard_sheet", "director", seed, ("offline", "inkreel")),
        artifact(ctx, report, "continuity_report", "continuity", seed, ("offline", "inkreel")),
        artifact(ctx, timeline_file, "timeline", AGENT, seed, ("offline", "inkreel")),
        artifact(
            ctx, board_file, "storyboard", "director", seed, _credit(ctx, credits, "storyboard")
        ),
    ]
    everything = {a.path: a for a in [*state.get("artifacts", []), *delivered]}
    summary = episode_summary(state, timeline.duration_s)
    manifest = Manifest(
        inkreel_version=__version__,
        project_format=PROJECT_FORMAT,
        episode=request.episode,
        seed=seed,
        language=state["script"].language,
        runtime_s=round(timeline.duration_s, 3),
        artifacts=sorted(everything.values(), key=lambda a: a.path),
        summary=summary,
    )
    # The manifest is written last: its presence marks a finished episode.
    manifest_path = write_text_atomic(folder / "manifest.json", manifest.model_dump_json(indent=2))
    outputs = {
        "video": str(video),
        "subtitles": str(srt),
        "otio": str(otio_file),
        "screenplay": str(fountain),
        "storyboard": str(sheet),
        "continuity": str(report),
        "manifest": str(manifest_path),
    }
    ctx.event("delivered", folder=str(folder))
    return {"outputs": outputs}


def _credit(ctx: EpisodeContext, credits: dict[str, list[str]], kind: str) -> tuple[str, str]:
    """(provider, model) of the models that wrote an artifact, joined with '+' when several
    did (a hosted draft revised after a fallback); an imported screenplay is the user's."""
    entries = [
        ctx.providers.roster.get(i) for i in credits.get(kind, []) if i in ctx.providers.roster
    ]
    if not entries:
        return ("user", "screenplay") if kind == "screenplay" else ("offline", "inkreel")
    providers = dict.fromkeys(e.provider for e in entries)
    return "+".join(providers), "+".join(dict.fromkeys(e.model for e in entries))


def episode_summary(state: EpisodeState, runtime_s: float) -> dict[str, Any]:
    script = state["script"]
    report = state["continuity"]
    return {
        "title": script.title,
        "runtime_s": round(runtime_s, 2),
        "scenes": len(script.scenes),
        "shots": len(state["shot_order"]),
        "lines": len(script.dialogue()),
        "characters_new": state.get("cast_new", []),
        "characters_reused": state.get("cast_reused", []),
        "locations": sorted(state["locations"]),
        "continuity": {
            "passed": report.passed,
            "repaired": [s.shot_id for s in report.shots if s.status == "repaired"],
            "flagged": [s.shot_id for s in report.shots if s.status == "flagged"],
        },
        "skipped_from_screenplay": [s.model_dump() for s in script.skipped],
    }
