"""Timeline edits as pure functions: scene dissolves, a title card, L-cuts."""

from __future__ import annotations

import random
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import pytest
import srt

from inkreel.media.exports import write_srt
from inkreel.media.timeline import (
    build_timeline,
    clip_dialogue,
    clip_subtitles,
    l_cut,
    scene_boundaries,
    scene_of,
    shift,
    with_dissolves,
    with_title,
)
from inkreel.schemas import Keyframe, Shot, Take, Timeline
from inkreel.schemas.storyboard import Angle, Camera, Framing, Move

FPS = 24


def make_shot(scene: int, n: int, seconds: float, line: float | None = None) -> Shot:
    """A shot; `line` is the length in seconds of the line spoken in it, if any."""
    return Shot(
        id=f"s{scene:02d}-{n:03d}",
        scene=scene,
        beat=n,
        location="Harbour",
        time_of_day="day",
        framing=Framing.medium,
        angle=Angle.eye_level,
        move=Move.static,
        camera=Camera(x=0, y=1.5, view_width=6),
        blocking=[],
        line_id=f"{scene:02d}-{n:03d}" if line else None,
        speaker="Mei" if line else None,
        text=f"Line {scene}.{n}" if line else "Waves.",
        duration_s=seconds,
    )


def cut_of(shots: list[Shot]) -> tuple[list[Shot], dict[str, Take], dict[str, Keyframe]]:
    takes = {}
    for s in shots:
        if s.line_id:
            takes[s.line_id] = Take(
                line_id=s.line_id,
                character="Mei",
                path=f"takes/{s.line_id}.wav",
                duration_s=LINES[s.id],
                sample_rate=22050,
            )
    keyframes = {s.id: Keyframe(shot_id=s.id, path=f"keyframes/{s.id}.png") for s in shots}
    return shots, takes, keyframes


LINES: dict[str, float] = {}


def episode() -> tuple[list[Shot], dict[str, Take], dict[str, Keyframe]]:
    """Three scenes: quiet openers for scenes 1 and 2, scene 3 opens on a line; a tiny shot."""
    plan = [
        (1, 1, 2.0, None),
        (1, 2, 2.5, 1.5),
        (1, 3, 3.0, 2.0),
        (2, 1, 2.0, None),
        (2, 2, 3.0, 2.2),
        (2, 3, 0.25, None),  # 6 frames: a dissolve out of it is capped at 3
        (3, 1, 2.5, 1.8),
        (3, 2, 2.0, 1.2),
    ]
    shots = []
    for scene, n, seconds, line in plan:
        shot = make_shot(scene, n, seconds, line)
        if line:
            LINES[shot.id] = line
        shots.append(shot)
    return cut_of(shots)


def snapshot(timeline: Timeline) -> str:
    return timeline.model_dump_json()


def test_dissolves_only_at_scene_changes_and_never_over_half_a_clip() -> None:
    shots, takes, keyframes = episode()
    timeline = build_timeline(shots, takes, keyframes, FPS)
    dissolves = {c.shot_id: c.dissolve_frames for c in timeline.video if c.dissolve_frames}
    # s01-003 -> s02-001 and s02-003 (6 frames) -> s03-001: the latter capped at half.
    assert dissolves == {"s01-003": 8, "s02-003": 3}
    for before, after in pairwise(timeline.video):
        assert before.dissolve_frames <= before.frames // 2
        assert before.dissolve_frames <= after.frames // 2
        if scene_of(before.shot_id) == scene_of(after.shot_id):
            assert before.dissolve_frames == 0
    assert timeline.video[-1].dissolve_frames == 0
    # Dissolves live inside the outgoing clip: starts and total length are unchanged.
    plain = build_timeline(shots, takes, keyframes, FPS, scene_dissolve_frames=0)
    assert all(c.dissolve_frames == 0 for c in plain.video)
    assert [c.start for c in plain.video] == [c.start for c in timeline.video]
    assert plain.frames == timeline.frames
    assert scene_boundaries(timeline) == [timeline.video[3].start, timeline.video[6].start]
    assert scene_boundaries(plain) == scene_boundaries(timeline)
    long = build_timeline(shots, takes, keyframes, FPS, scene_dissolve_frames=100)
    assert long.video[2].dissolve_frames == min(long.video[2].frames, long.video[3].frames) // 2


def test_title_shifts_every_clip_line_and_subtitle(tmp_path: Path) -> None:
    shots, takes, keyframes = episode()
    plain = build_timeline(shots, takes, keyframes, FPS)
    titled = build_timeline(shots, takes, keyframes, FPS, title="The Harbour", title_frames=48)
    card, *rest = titled.video
    assert (card.shot_id, card.keyframe, card.title, card.start, card.frames) == (
        "title",
        "",
        "The Harbour",
        0,
        48,
    )
    assert card.dissolve_frames == 0  # a hard cut out of the title
    assert titled.frames == plain.frames + 48
    assert len(rest) == len(plain.video)
    for a, b in zip(rest, plain.video, strict=True):
        assert a.start == b.start + 48
        assert a.model_dump(exclude={"start"}) == b.model_dump(exclude={"start"})
    assert [a.start for a in titled.audio] == [a.start + 48 for a in plain.audio]
    assert [(s.start, s.end) for s in titled.subtitles] == [
        (s.start + 48, s.end + 48) for s in plain.subtitles
    ]
    # Scene changes move with the shots; the cut out of the title is not one.
    assert scene_boundaries(titled) == [c + 48 for c in scene_boundaries(plain)]
    # Lip sync and burned-in subtitles still find their shot's line.
    for clip in rest:
        line, said = clip_dialogue(titled, clip), clip_subtitles(titled, clip)
        assert (line is None) == (not said)
        if line:
            assert clip.start <= line.start < clip.start + clip.frames
            assert [(text, first) for text, first, _ in said] == [
                (f"Line {clip.shot_id[2]}.{clip.shot_id[-1]}", line.start - clip.start)
            ]
    # The SRT carries the offset: frames in, times out.
    path = write_srt(titled.subtitles, FPS, tmp_path / "ep.srt")
    first = next(srt.parse(path.read_text(encoding="utf-8")))
    assert first.start == timedelta(milliseconds=round(titled.subtitles[0].start * 1000 / FPS))
    assert first.start >= timedelta(seconds=2)
    # No title unless both are given.
    assert build_timeline(shots, takes, keyframes, FPS, title="X").frames == plain.frames
    assert build_timeline(shots, takes, keyframes, FPS, title_frames=24).frames == plain.frames
    with pytest.raises(ValueError):
        with_title(plain, "X", 0)


def test_l_cut_runs_the_last_line_into_the_next_scene() -> None:
    shots, takes, keyframes = episode()
    timeline = build_timeline(shots, takes, keyframes, FPS)
    before = snapshot(timeline)
    into_scene_2 = timeline.video[3]  # s02-001, no dialogue of its own
    cut = into_scene_2.start
    edited = l_cut(timeline, ["s02-001"], 12)
    assert snapshot(timeline) == before  # pure

    moved = next(a for a in edited.audio if a.shot_id == "s01-003")
    old = next(a for a in timeline.audio if a.shot_id == "s01-003")
    assert moved.start + moved.frames == cut + 12  # runs 12 frames over the opening shot
    assert moved.start > old.start and moved.frames == old.frames
    assert moved.start < cut  # it still starts over its speaker
    sub = next(s for s in edited.subtitles if s.text == "Line 1.3")
    assert (sub.start, sub.end) == (moved.start, moved.start + moved.frames)
    # Nothing else moved: picture, other lines, other subtitles.
    assert edited.video == timeline.video
    others = [a for a in edited.audio if a.shot_id != "s01-003"]
    assert others == [a for a in timeline.audio if a.shot_id != "s01-003"]
    assert [s for s in edited.subtitles if s.text != "Line 1.3"] == [
        s for s in timeline.subtitles if s.text != "Line 1.3"
    ]
    assert_no_overlaps(edited)
    # Naming the cut by its frame does the same.
    assert l_cut(timeline, [cut], 12) == edited
    # Lip sync still belongs to the speaker's clip; the burned-in subtitle starts there and
    # stays up into the next shot until the line ends.
    speaker = timeline.video[2]
    assert clip_subtitles(edited, speaker) == [
        (sub.text, sub.start - speaker.start, speaker.frames)
    ]
    assert clip_subtitles(edited, into_scene_2) == [(sub.text, 0, sub.end - cut)]
    assert clip_dialogue(edited, speaker) == moved


def test_l_cut_never_puts_two_lines_together() -> None:
    shots, takes, keyframes = episode()
    timeline = build_timeline(shots, takes, keyframes, FPS)
    # Scene 3 opens on a line of its own 4 frames after the cut: the L-cut is not made.
    into_scene_3 = timeline.video[6]
    assert clip_dialogue(timeline, into_scene_3) is not None
    assert l_cut(timeline, [into_scene_3.shot_id], 12) == timeline
    # Scene 2 ends on a shot with no line: nothing is carried over that cut either.
    assert l_cut(timeline, scene_boundaries(timeline), 12).audio[-2:] == timeline.audio[-2:]
    # A huge run-over is held to half the line, so the line still starts in its shot.
    edited = l_cut(timeline, ["s02-001"], 500)
    moved = next(a for a in edited.audio if a.shot_id == "s01-003")
    assert moved.start + moved.frames == timeline.video[3].start + moved.frames // 2
    assert_no_overlaps(edited)
    assert l_cut(timeline, ["s02-001"], 0) == timeline
    with pytest.raises(ValueError):
        l_cut(timeline, ["s09-001"], 12)
    with pytest.raises(ValueError):
        l_cut(timeline, [timeline.video[3].start + 1], 12)
    with pytest.raises(ValueError):
        l_cut(timeline, [0], 12)  # no cut before the first shot


def test_l_cuts_on_random_cuts_keep_lines_apart() -> None:
    rng = random.Random(7)
    for _ in range(40):
        shots = []
        for scene in range(1, 5):
            for n in range(1, rng.randint(1, 4) + 1):
                seconds = rng.choice([0.5, 1.0, 2.0, 3.0, 4.0])
                line = rng.choice([None, 0.4, seconds * 0.5, seconds]) if seconds > 0.5 else None
                shot = make_shot(scene, n, seconds, line)
                if line:
                    LINES[shot.id] = line
                shots.append(shot)
        timeline = build_timeline(*cut_of(shots), FPS, title="T", title_frames=rng.choice([0, 24]))
        before = snapshot(timeline)
        cuts = scene_boundaries(timeline)
        edited = l_cut(timeline, cuts, rng.randint(1, 30))
        assert snapshot(timeline) == before
        assert edited.video == timeline.video and edited.frames == timeline.frames
        assert_no_overlaps(edited)
        for moved, old in zip(edited.audio, timeline.audio, strict=True):
            assert moved.start >= old.start and moved.frames == old.frames
            if moved.start != old.start:
                ends = old.start + old.frames
                cut = next(c for c in cuts if c >= ends)
                assert moved.start < cut < moved.start + moved.frames
                sub = next(s for s in edited.subtitles if s.start == moved.start)
                assert sub.end == moved.start + moved.frames


def test_edits_are_pure() -> None:
    shots, takes, keyframes = episode()
    inputs = [s.model_dump_json() for s in shots]
    timeline = build_timeline(shots, takes, keyframes, FPS)
    assert [s.model_dump_json() for s in shots] == inputs
    before = snapshot(timeline)
    results = [
        with_dissolves(timeline, [1, 2], 4),
        with_title(timeline, "T", 10),
        shift(timeline, 5),
        shift(timeline, 0),
        l_cut(timeline, scene_boundaries(timeline), 10),
    ]
    assert snapshot(timeline) == before
    for result in results:
        assert result is not timeline
        assert result.video is not timeline.video and result.audio is not timeline.audio
        assert all(a is not b for a, b in zip(result.video, timeline.video, strict=False))
        result.video[0].frames = 999  # editing a result never reaches the original
        result.audio[0].start = 999
    assert snapshot(timeline) == before
    with pytest.raises(ValueError):
        with_dissolves(timeline, [0], 4)
    with pytest.raises(ValueError):
        shift(timeline, -1)


def assert_no_overlaps(timeline: Timeline) -> None:
    lines = sorted(timeline.audio, key=lambda a: a.start)
    for a, b in pairwise(lines):
        assert a.start + a.frames <= b.start, (a, b)
    subs = sorted(timeline.subtitles, key=lambda s: s.start)
    for a, b in pairwise(subs):
        assert a.end <= b.start, (a, b)
