"""End to end on the offline engine: a ~15 s episode, a second episode, an interrupted run."""

from __future__ import annotations

import json
import re
import subprocess
import threading
from pathlib import Path

import imageio_ffmpeg
import pytest
import srt
from click.testing import Result
from typer.testing import CliRunner

from inkreel import cli
from inkreel.agents import editor
from inkreel.graphs.checkpoint import open_checkpointer
from inkreel.graphs.episode import build_episode_graph
from inkreel.media.fountain import read_fountain
from inkreel.schemas import Manifest, Timeline

from .conftest import DEFAULT_FRAMES, IDEA

runner = CliRunner()


def ffmpeg(*args: str) -> str:
    """Run the bundled ffmpeg and return what it printed on stderr."""
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=False).stderr


@pytest.fixture(scope="module")
def produced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("e2e") / "series"
    result = runner.invoke(
        cli.app,
        [
            "produce",
            IDEA,
            "-o",
            str(root),
            "--length",
            "15",
            "--seed",
            "3",
            "--episode",
            "pilot",
            "--title-card",
        ],
        env=DEFAULT_FRAMES,  # the delivered format is what this file checks
    )
    assert result.exit_code == 0, result.output + str(result.exception)
    return root


def test_video_has_h264_and_aac_streams_of_the_timeline_duration(produced: Path) -> None:
    folder = produced / "episodes" / "pilot"
    timeline = Timeline.model_validate_json((folder / "timeline.json").read_text())
    info = ffmpeg("-i", str(folder / "episode.mp4"))
    assert re.search(r"Video: h264.*1280x720.*24 fps", info), info
    assert "Audio: aac" in info
    frames, _ = imageio_ffmpeg.count_frames_and_secs(str(folder / "episode.mp4"))
    assert frames == timeline.frames
    assert 10 <= timeline.duration_s <= 22
    decoded = ffmpeg("-i", str(folder / "episode.mp4"), "-map", "0:a", "-f", "null", "-")
    h, m, sec = re.findall(r"time=(\d+):(\d+):([\d.]+)", decoded)[-1]
    audio_s = int(h) * 3600 + int(m) * 60 + float(sec)
    assert abs(audio_s - timeline.duration_s) < 0.1


def test_episode_loudness_is_about_minus_16_lufs(produced: Path) -> None:
    video = produced / "episodes" / "pilot" / "episode.mp4"
    meter = ffmpeg("-i", str(video), "-af", "ebur128=peak=true", "-f", "null", "-")
    integrated = float(re.findall(r"I:\s+(-?[\d.]+) LUFS", meter)[-1])
    assert abs(integrated - (-16.0)) <= 1.0, integrated


def test_title_card_opens_and_scene_changes_dissolve(produced: Path) -> None:
    folder = produced / "episodes" / "pilot"
    timeline = Timeline.model_validate_json((folder / "timeline.json").read_text())
    title = timeline.video[0]
    assert title.title and title.shot_id == "title"
    assert all(s.start >= title.frames for s in timeline.subtitles)
    scenes = [c.shot_id.split("-")[0] for c in timeline.video[1:]]
    for clip, here, after in zip(timeline.video[1:], scenes, scenes[1:], strict=False):
        assert (clip.dissolve_frames > 0) == (here != after)


def test_otio_timeline_opens_with_the_cut(produced: Path) -> None:
    import opentimelineio as otio

    folder = produced / "episodes" / "pilot"
    timeline = Timeline.model_validate_json((folder / "timeline.json").read_text())
    cut = otio.adapters.read_from_file(str(folder / "episode.otio"))
    video = next(t for t in cut.tracks if t.kind == otio.schema.TrackKind.Video)
    assert video.duration().to_frames() == timeline.frames
    assert len(list(video.find_clips())) == len(timeline.video)


def test_eval_consistency_prints_and_writes_the_report(produced: Path) -> None:
    result = runner.invoke(cli.app, ["eval", "consistency", str(produced), "--episode", "pilot"])
    assert result.exit_code == 0, result.output
    report = json.loads((produced / "episodes" / "pilot" / "consistency.json").read_text())
    assert {"identity", "counts", "set_stability", "targets"} <= set(report)
    assert "OCCM" in result.output


def test_every_dialogue_line_is_subtitled_within_the_video(produced: Path) -> None:
    folder = produced / "episodes" / "pilot"
    subs = list(srt.parse((folder / "episode.srt").read_text(encoding="utf-8")))
    script = read_fountain((folder / "script.fountain").read_text(encoding="utf-8"))
    timeline = Timeline.model_validate_json((folder / "timeline.json").read_text())
    spoken = [b.text for _, b in script.dialogue()]
    assert [s.content for s in subs] == spoken
    assert all(s.end.total_seconds() <= timeline.duration_s + 1e-6 for s in subs)


def test_exported_fountain_reparses_to_the_same_scenes_and_speakers(produced: Path) -> None:
    folder = produced / "episodes" / "pilot"
    exported = read_fountain((folder / "script.fountain").read_text(encoding="utf-8"))
    with open_checkpointer(produced / "checkpoints.sqlite") as saver:
        graph = build_episode_graph().compile(checkpointer=saver)
        original = graph.get_state({"configurable": {"thread_id": "pilot"}}).values["script"]
    assert [s.heading for s in exported.scenes] == [s.heading for s in original.scenes]
    for mine, theirs in zip(exported.scenes, original.scenes, strict=True):
        assert [b.character for b in mine.beats if b.kind == "dialogue"] == [
            b.character for b in theirs.beats if b.kind == "dialogue"
        ]
    assert {"Mei", "Aiko"} <= set(exported.speakers())


def test_manifest_lists_every_delivered_file_with_its_hash(produced: Path) -> None:
    folder = produced / "episodes" / "pilot"
    manifest = Manifest.model_validate_json((folder / "manifest.json").read_text())
    kinds = {a.kind for a in manifest.artifacts}
    assert {
        "episode_video",
        "subtitles",
        "screenplay",
        "storyboard_sheet",
        "continuity_report",
        "keyframe",
        "voice_take",
        "character_sheet",
    } <= kinds
    import hashlib

    for a in manifest.artifacts:
        assert (produced / a.path).exists(), a.path
        if a.kind in ("episode_video", "screenplay"):
            assert hashlib.sha256((produced / a.path).read_bytes()).hexdigest() == a.sha256
        assert a.agent and a.provider and a.model
    report = json.loads((folder / "continuity.json").read_text())
    assert report["shots"] and all(s["status"] != "flagged" for s in report["shots"])


def test_second_episode_reuses_the_cast_one_task_at_a_time(produced: Path) -> None:
    before = {p.name for p in (produced / "assets" / "characters").iterdir()}
    args = ["produce", "Mei and Aiko repair the lighthouse lamp.", "-o", str(produced)]
    args += ["--length", "12", "--seed", "4"]
    # One graph task at a time, the default on a one-core machine: LangGraph's stream waiter
    # used to take the only thread, and the run hung. A thread, so a hang fails the test.
    runs: list[Result] = []
    worker = threading.Thread(
        target=lambda: runs.append(runner.invoke(cli.app, args, env={"INKREEL_CONCURRENCY": "1"})),
        daemon=True,
    )
    worker.start()
    worker.join(timeout=600)
    assert runs, "the run with concurrency 1 did not finish in 10 minutes"
    result = runs[0]
    assert result.exit_code == 0, result.output
    manifest = Manifest.model_validate_json(
        (produced / "episodes" / "ep01" / "manifest.json").read_text()
    )
    assert set(manifest.summary["characters_reused"]) >= {"Mei", "Aiko"}
    assert manifest.summary["characters_new"] == []
    assert {p.name for p in (produced / "assets" / "characters").iterdir()} == before


def test_interrupted_run_resumes_without_redoing_finished_shots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "series"
    real = editor.render.render_segment
    calls: list[str] = []

    def crash_after_two(frame, frames, out, *args, **kwargs):
        if len(calls) >= 2:
            raise RuntimeError("simulated crash in the middle of rendering")
        calls.append(out.name)
        return real(frame, frames, out, *args, **kwargs)

    monkeypatch.setattr(editor.render, "render_segment", crash_after_two)
    result = runner.invoke(
        cli.app, ["produce", IDEA, "-o", str(root), "--length", "12", "--episode", "e1"]
    )
    assert result.exit_code != 0
    assert not (root / "episodes" / "e1" / "episode.mp4").exists()
    assert not (root / "episodes" / "e1" / "manifest.json").exists()
    done_before = set(calls)
    assert len(done_before) == 2

    resumed: list[str] = []

    def counting(frame, frames, out, *args, **kwargs):
        resumed.append(out.name)
        return real(frame, frames, out, *args, **kwargs)

    monkeypatch.setattr(editor.render, "render_segment", counting)
    result = runner.invoke(cli.app, ["resume", "-o", str(root), "--episode", "e1"])
    assert result.exit_code == 0, result.output
    assert (root / "episodes" / "e1" / "manifest.json").exists()
    assert not done_before & set(resumed), "a finished shot was rendered again"
    timeline = Timeline.model_validate_json(
        (root / "episodes" / "e1" / "timeline.json").read_text()
    )
    assert len(done_before) + len(resumed) == len(timeline.video)
