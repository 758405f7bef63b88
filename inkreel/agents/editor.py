"""The editor: cuts the timeline, mixes the sound, renders shots and delivers the episode."""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from inkreel import PROJECT_FORMAT, __version__
from inkreel.agents.common import artifact
from inkreel.media import audio, exports, mix, render
from inkreel.media.fountain_write import write_fountain
from inkreel.media.segments import encode_segment
from inkreel.media.timeline import build_timeline, clip_dialogue, clip_subtitles
from inkreel.project import digest, write_text_atomic
from inkreel.providers.capabilities import AnimateRequest, Produced
from inkreel.providers.limits import MemoryBudget, local_cpu
from inkreel.providers.media import accept_mp4, animate_model
from inkreel.providers.roster import ModelEntry
from inkreel.schemas import (
    Artifact,
    Manifest,
    StoryboardFile,
    Timeline,
)
from inkreel.schemas.episode import EpisodeState

# Checkpoints written before SegmentTask moved to schemas.segment name it by this module
# (graphs.checkpoint.MOVED_TYPES): it must stay importable from here.
from inkreel.schemas.segment import SegmentTask
from inkreel.services import EpisodeContext, Services, services

AGENT = "editor"
MIX_RATE = 44100
# What staging and encoding a shot adds to this process's resident memory at 1280x720
# (measured over 80 shots of a 15-minute episode): a static shot ~100 MB; a pan, or a clip
# dissolving into the next (whose first frame is staged too) ~130 MB; a push-in or pull-out,
# staged at every step of its zoom, ~150-175 MB. Local work runs one task per core. The
# stagings share a budget that lets a zoom run beside a pan or a dissolve, but not two zooms
# side by side: two of them beside two encoders made the peak of a 15-minute episode, 1,026
# MiB. (A budget of ORDINARY_STAGING_MB a core, which also kept a zoom from running beside
# anything, left a core idle through every push-in: the 60 s episode took 27.9 s, against
# 23.0-24.1 s with this one; the 15-minute one peaked at 935-957 MiB with it.)
ORDINARY_STAGING_MB = 100.0
HEAVY_STAGING_MB = 130.0
ZOOM_STAGING_MB = 180.0
ZOOM_MOVES = frozenset({"push_in", "pull_out"})
# A zoom beside a pan or a dissolve on the first two cores, an ordinary shot on each core more.
_EXTRA_CORES = max(0, (os.cpu_count() or 1) - 2)
_STAGING = MemoryBudget(ZOOM_STAGING_MB + HEAVY_STAGING_MB + ORDINARY_STAGING_MB * _EXTRA_CORES)
TITLE_CARD_S = 3.0
ENCODER = ("offline", "libx264+aac")


def cut_timeline(state: EpisodeState, runtime: Runtime[EpisodeContext]) -> dict[str, Any]:
    """Lay the shots and the takes on a timeline."""
    ctx = services(runtime)
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
    ctx.event("timeline", frames=timeline.frames)
    return {"timeline": timeline}


def mix_sound(state: EpisodeState, runtime: Runtime[EpisodeContext]) -> dict[str, Any]:
    """Mix the dialogue over a generated music bed at delivery loudness, and encode it for
    the episode (content-addressed; runs beside the shot renders)."""
    ctx = services(runtime)
    settings = ctx.settings
    timeline = state["timeline"]
    seed = state["request"].seed
    basis = mix_basis(timeline, settings.music)
    key = digest(basis, seed)
    folder = ctx.project.assets("mix")
    path, encoded = folder / f"{key}.wav", folder / f"{key}.m4a"
    with local_cpu():
        if not path.exists():
            duration = timeline.duration_s
            # Streamed: each take is read when the mix reaches it, so memory does not grow
            # with the runtime (a 15-minute mix held in memory took ~2.6 GB).
            lines = [
                (partial(audio.read_wav, ctx.project.root / clip.path), clip.start / timeline.fps)
                for clip in timeline.audio
            ]
            music = mix.MusicBed(duration, seed, "calm", MIX_RATE) if settings.music else None
            mix.mix_to_wav(path, lines, music, duration, MIX_RATE)
        if not encoded.exists():
            render.encode_audio(path, encoded)
    mixed = artifact(ctx, path, "audio_mix", AGENT, seed, ("offline", "inkreel-mixer"), basis)
    return {
        "mix": ctx.project.rel(path),
        "mix_audio": ctx.project.rel(encoded),
        "artifacts": [mixed],
    }


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


def mix_basis(timeline: Timeline, music: bool) -> str:
    """What the mix is made from: the takes where they play, the runtime, the music or not."""
    return digest(timeline.audio, timeline.frames, timeline.fps, music, mix.MIX_VERSION)


def segment_basis(task: SegmentTask) -> str:
    """What a clip's pixels are made from (not the model that animates it)."""
    return digest(_content_key(task), render.VIDEO_PARAMS)


def _content_key(task: SegmentTask) -> dict[str, Any]:
    """What a segment's pixels depend on: not its place on the timeline, nor the shot's id."""
    staging = task.model_dump(mode="json", exclude={"seed"})

    def strip(entry: dict[str, Any] | None) -> None:
        if entry is None:
            return
        entry.pop("seed", None)
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
    ctx = services(runtime)
    calls = ctx.providers.calls
    first = calls.choose("animate")
    animator = animate_model(calls, first)
    key = digest(_content_key(task), (first.provider, first.model), render.VIDEO_PARAMS)
    out = ctx.project.assets("segments") / f"{key}.mp4"
    model: tuple[str, str] = ENCODER
    if task.clip.title is not None:
        if not out.exists():
            with local_cpu():
                encode_segment(task, ctx.project.root, out)
    elif animator.finished and out.exists():
        model = (first.provider, first.model)
    else:
        seconds = task.clip.frames / task.fps

        def encode() -> bytes:
            # Staging a shot holds its layers in memory: stage and encode on one core's turn,
            # within the staging budget (taken first, so a shot waiting for it holds no core).
            with (
                _STAGING.hold(staging_mb(task)),
                local_cpu(),
                tempfile.TemporaryDirectory(prefix="inkreel-") as folder,
            ):
                return encode_segment(task, ctx.project.root, Path(folder) / out.name).read_bytes()

        shot = task.shot
        request = AnimateRequest(
            key=key,
            prompt=f"{shot.text or shot.framing} {shot.move}".strip() if shot else "",
            first_frame=ctx.project.root / task.keyframe if task.keyframe else None,
            seconds=seconds,
            seed=task.seed,
            render_locally=encode,
        )

        def produce(entry: ModelEntry) -> Produced:
            return animate_model(calls, entry).animate(request)

        # A finished answer is the segment itself; a clip is fitted to the shot below.
        target = out if animator.finished else ctx.project.assets("clips") / f"{key}.mp4"
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
                encode_segment(task, ctx.project.root, out, clip=target)
    ctx.event("segment", shot_id=task.clip.shot_id)
    made = artifact(ctx, out, "shot_segment", AGENT, task.seed, model, segment_basis(task))
    return {"segments": {task.clip.shot_id: ctx.project.rel(out)}, "artifacts": [made]}


def staging_mb(task: SegmentTask) -> float:
    """Resident memory staging and encoding the clip takes (see ORDINARY_STAGING_MB)."""
    clips = [task, *([task.dissolve_into] if task.dissolve_into else [])]
    staged = [c for c in clips if c.shot is not None and c.keyframe_staged]
    if not staged:
        return 0.0
    if any(c.clip.move in ZOOM_MOVES for c in staged):
        megabytes = ZOOM_STAGING_MB
    elif task.dissolve_into is not None or task.clip.move == "pan":
        megabytes = HEAVY_STAGING_MB
    else:
        megabytes = ORDINARY_STAGING_MB
    return megabytes * task.width * task.height / (1280 * 720)


def assemble_episode(state: EpisodeState, runtime: Runtime[EpisodeContext]) -> dict[str, Any]:
    """Join the shots, mux the mix, and write the episode's deliverables and manifest."""
    ctx = services(runtime)
    request = state["request"]
    seed = request.seed
    folder = ctx.project.episode_dir(request.episode)
    timeline = state["timeline"]
    root = ctx.project.root
    segments = [root / state["segments"][c.shot_id] for c in timeline.video]
    # The encoded mix (a run checkpointed by an earlier version has only the WAV, which
    # assembly encodes). ffmpeg joins the clips while the other files are written here.
    sound = state.get("mix_audio") or state["mix"]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="assemble") as pool:
        joined = pool.submit(
            render.assemble, segments, root / sound, folder / "episode.mp4", folder
        )
        srt, fountain, sheet, report, timeline_file, board_file, otio_file = _write_exports(
            ctx, state, folder
        )
        video = joined.result()
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
    # Paths relative to the project, so a client on another machine can read them too.
    files = {
        "video": video,
        "subtitles": srt,
        "otio": otio_file,
        "screenplay": fountain,
        "storyboard": sheet,
        "continuity": report,
        "manifest": manifest_path,
    }
    outputs = {kind: ctx.project.rel(path) for kind, path in files.items()}
    ctx.event("delivered", folder=ctx.project.rel(folder))
    return {"outputs": outputs}


def _write_exports(ctx: Services, state: EpisodeState, folder: Path) -> tuple[Path, ...]:
    """The episode's files besides the video: subtitles, screenplay, contact sheet,
    continuity report, timeline, storyboard and editorial timeline."""
    request = state["request"]
    timeline = state["timeline"]
    root = ctx.project.root
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
    return srt, fountain, sheet, report, timeline_file, board_file, otio_file


def _credit(ctx: Services, credits: dict[str, list[str]], kind: str) -> tuple[str, str]:
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
