"""SRT subtitles, the OpenTimelineIO export and the storyboard contact sheet."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
import srt
from PIL import Image, ImageDraw, ImageFont

from inkreel.art.fonts import find_font, has_cjk
from inkreel.media import exports
from inkreel.media.audio import write_wav
from inkreel.media.exports import contact_sheet, write_otio, write_srt
from inkreel.media.timeline import build_timeline, l_cut, scene_boundaries
from inkreel.schemas import Keyframe, Take
from inkreel.schemas.storyboard import Angle, Camera, Framing, Move, Shot
from inkreel.schemas.timeline import Subtitle, Timeline


def test_srt_parses_back_with_frame_exact_times(tmp_path: Path) -> None:
    subs = [
        Subtitle(start=36, end=84, speaker="STEEL", text="Beer's ready!"),
        Subtitle(start=0, end=30, speaker="BRICK", text="Hey steel."),
        Subtitle(start=100, end=100, speaker="李雷", text="你好！"),
        Subtitle(start=120, end=150, speaker="BOB", text="  "),
    ]
    path = write_srt(subs, 24, tmp_path / "ep" / "episode.srt")
    raw = path.read_bytes()
    parsed = list(srt.parse(raw.decode("utf-8")))
    assert [s.content for s in parsed] == ["Hey steel.", "Beer's ready!", "你好！"]
    assert [s.index for s in parsed] == [1, 2, 3]
    assert parsed[0].start == timedelta(0)
    assert parsed[0].end == timedelta(seconds=1.25)
    assert (parsed[1].start, parsed[1].end) == (timedelta(seconds=1.5), timedelta(seconds=3.5))
    # A zero-length cue gets one frame; times are frames rounded to the millisecond.
    assert parsed[2].start == timedelta(milliseconds=4167)
    assert parsed[2].end == timedelta(milliseconds=4208)
    assert b"STEEL" not in raw
    assert not list(path.parent.glob(".*part*"))


def test_srt_rejects_bad_fps(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_srt([], 0, tmp_path / "x.srt")


def _shot(n: int, speaker: str | None, text: str) -> Shot:
    return Shot(
        id=f"s{n // 10 + 1:02d}-{n % 10 + 1:03d}",
        scene=n // 10 + 1,
        beat=n % 10,
        location="Brick's Patio",
        time_of_day="day",
        framing=list(Framing)[n % len(Framing)],
        angle=list(Angle)[n % len(Angle)],
        move=list(Move)[n % len(Move)],
        camera=Camera(x=0, y=1.5, view_width=6),
        blocking=[],
        speaker=speaker,
        text=text,
        duration_s=2.5 + n % 3,
    )


def _keyframe(path: Path, seed: int) -> Path:
    rng = random.Random(seed)
    image = Image.linear_gradient("L").resize((1280, 720)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(1200), rng.randrange(640)
        colour = tuple(rng.randrange(256) for _ in range(3))
        draw.ellipse((x, y, x + rng.randrange(40, 300), y + rng.randrange(40, 300)), fill=colour)
    image.save(path)
    return path


def test_contact_sheet_of_thirty_shots(tmp_path: Path) -> None:
    frames = [_keyframe(tmp_path / f"k{i}.png", i) for i in range(5)]
    long_line = "Everyone's coming after you mate! Scorpio, The Boy Band, Sparrow, " * 3
    shots = [
        _shot(n, "COGNITO" if n % 2 else None, long_line if n % 3 else "Steel SMACKS him.")
        for n in range(30)
    ]
    shots[7] = _shot(7, "李雷", "你好，今天天气很好，我们去茶馆喝茶吧。" * 4)
    keyframes = {s.id: frames[i % 5] for i, s in enumerate(shots) if i != 3}
    out = contact_sheet(shots, keyframes, tmp_path / "sheets" / "storyboard.png")
    assert out == tmp_path / "sheets" / "storyboard.png"
    assert out.stat().st_size < 1_000_000
    caption_h = exports.PAD // 2 + 16 * (1 + exports.CAPTION_LINES)
    with Image.open(out) as sheet:
        sheet.load()
        assert sheet.format == "PNG"
        assert sheet.size == (
            exports.PAD + 4 * (exports.THUMB_W + exports.PAD),
            exports.TITLE_H + exports.PAD + 8 * (exports.THUMB_H + caption_h + exports.PAD),
        )


def test_contact_sheet_columns_and_empty(tmp_path: Path) -> None:
    out = contact_sheet([_shot(0, None, "A gorgeous day.")], {}, tmp_path / "one.png", columns=4)
    with Image.open(out) as sheet:
        assert sheet.width == exports.PAD + exports.THUMB_W + exports.PAD
    out = contact_sheet([], {}, tmp_path / "none.png")
    with Image.open(out) as sheet:
        assert sheet.width > 0


def test_wrap_cuts_long_text_to_three_lines() -> None:
    font = ImageFont.load_default(size=12)
    lines = exports._wrap("word " * 200, font, 300, 3)
    assert len(lines) == 3 and lines[-1].endswith("...")
    assert all(font.getlength(line) <= 300 for line in lines)
    cjk = exports._wrap("你好" * 100, font, 300, 3)
    assert len(cjk) == 3


def test_find_font() -> None:
    # The font choice is tested in test_fonts.py; exports still hands out find_font and has_cjk.
    assert has_cjk("李雷") and has_cjk("こんにちは") and not has_cjk("Brick & Steel")
    latin = find_font("Brick", 14)
    assert latin.getlength("Brick") > 0
    cjk = find_font("你好", 14)
    assert cjk.getlength("你好") > 0


# ----------------------------------------------------------------------------- OpenTimelineIO


def _otio_cut(root: Path, title: bool = True) -> Timeline:
    """Two scenes of real files: keyframe PNGs and one WAV per line, under a project root."""
    shots = [
        _shot(0, None, "The harbour at dawn."),
        _shot(1, "MEI", "We should leave."),
        _shot(2, "KAI", "Not yet."),
        _shot(10, None, "The lighthouse."),
        _shot(11, "MEI", "Look, a bottle."),
    ]
    takes, keyframes = {}, {}
    for n, shot in enumerate(shots):
        key = root / "assets" / "keyframes" / f"{shot.id}.png"
        key.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (64, 36), (n * 40, 80, 120)).save(key)
        keyframes[shot.id] = Keyframe(shot_id=shot.id, path=key.relative_to(root).as_posix())
        if shot.speaker:
            line_id = f"line-{n}"
            shots[n] = shot.model_copy(update={"line_id": line_id})
            wav = write_wav(root / "assets" / "takes" / f"{line_id}.wav", np.zeros(22050), 22050)
            takes[line_id] = Take(
                line_id=line_id,
                character=shot.speaker,
                path=wav.relative_to(root).as_posix(),
                duration_s=1.0,
                sample_rate=22050,
            )
    timeline = build_timeline(
        shots, takes, keyframes, fps=24, title="Bottle" if title else None, title_frames=36
    )
    return l_cut(timeline, scene_boundaries(timeline), 6)


def test_otio_round_trip(tmp_path: Path) -> None:
    root = tmp_path / "my project"  # a space, as real folders have
    timeline = _otio_cut(root)
    mix = write_wav(root / "assets" / "mix" / "mix.wav", np.zeros(44100 * 2), 44100)
    path = write_otio(
        timeline,
        root / "episodes" / "ep01" / "ep01.otio",
        "ep01",
        root,
        mix=mix.relative_to(root),
        paths="file_url",
    )
    assert path == root / "episodes" / "ep01" / "ep01.otio"
    assert not list(path.parent.glob(".*part*"))
    back = otio.adapters.read_from_file(str(path))
    assert isinstance(back, otio.schema.Timeline) and back.name == "ep01"
    assert back.metadata["inkreel"]["fps"] == 24
    [video] = back.video_tracks()
    dialogue, mixed = back.audio_tracks()
    assert (video.name, dialogue.name, mixed.name) == ("Video", "Dialogue", "Mix")

    # Picture: one clip per timeline clip, at its frame, lasting its frames.
    clips = video.find_clips()
    assert [c.name for c in clips] == [c.shot_id for c in timeline.video]
    assert video.duration() == otio.opentime.RationalTime(timeline.frames, 24)
    assert sum(c.duration().value for c in clips) == timeline.frames
    for clip, ours in zip(clips, timeline.video, strict=True):
        placed = video.range_of_child(clip)
        assert placed.start_time.value == ours.start and placed.duration.value == ours.frames
        assert placed.start_time.rate == 24
        if ours.title is None:
            url = clip.media_reference.target_url
            assert url.startswith("file://")
            assert Path(otio.url_utils.filepath_from_url(url)) == root / ours.keyframe
            assert Path(otio.url_utils.filepath_from_url(url)).is_file()
        else:
            assert clip.media_reference.generator_kind == "SolidColor"
            assert clip.metadata["inkreel"]["title"] == "Bottle"
    # A dissolve at the scene change, ending on the cut, with media for its head handle.
    transitions = [t for t in video if isinstance(t, otio.schema.Transition)]
    dissolving = [c for c in timeline.video if c.dissolve_frames]
    assert len(transitions) == len(dissolving) == 1
    [dissolve], [ours] = transitions, dissolving
    assert dissolve.transition_type == otio.schema.TransitionTypes.SMPTE_Dissolve
    assert (dissolve.in_offset.value, dissolve.out_offset.value) == (ours.dissolve_frames, 0)
    incoming = video[video.index(dissolve) + 1]
    assert incoming.source_range.start_time.value == ours.dissolve_frames
    assert incoming.media_reference.available_range.start_time.value == 0
    otio.algorithms.track_with_expanded_transitions(video)  # valid: enough media each side

    # Sound: each take at its start frame with gaps between, padded to the cut.
    takes = [c for c in dialogue if isinstance(c, otio.schema.Clip)]
    assert len(takes) == len(timeline.audio) == 3
    for clip, line in zip(takes, timeline.audio, strict=True):
        placed = dialogue.range_of_child(clip)
        assert (placed.start_time.value, placed.duration.value) == (line.start, line.frames)
        assert clip.name == line.line_id
        target = Path(otio.url_utils.filepath_from_url(clip.media_reference.target_url))
        assert target == root / line.path
        assert clip.media_reference.available_range.duration.value == 24  # the 1 s WAV
    assert any(isinstance(c, otio.schema.Gap) for c in dialogue)
    assert dialogue.duration().value == timeline.frames
    # The mix holds the dialogue too: it plays, the stems are kept but switched off.
    [whole] = mixed.find_clips()
    assert mixed.range_of_child(whole).duration.value == timeline.frames
    assert Path(otio.url_utils.filepath_from_url(whole.media_reference.target_url)) == mix
    assert mixed.enabled and not dialogue.enabled

    # Subtitles ride along as markers on the picture, at their frames.
    assert [m.name for m in video.markers] == [s.text for s in timeline.subtitles]
    for marker, sub in zip(video.markers, timeline.subtitles, strict=True):
        assert marker.marked_range.start_time.value == sub.start
        assert marker.marked_range.duration.value == sub.end - sub.start
        assert marker.metadata["inkreel"]["speaker"] == sub.speaker


def test_otio_without_mix_or_title_and_with_plain_paths(tmp_path: Path) -> None:
    root = tmp_path / "project"
    timeline = _otio_cut(root, title=False)
    path = write_otio(timeline, tmp_path / "cut.otio", "cut", root, paths="absolute")
    back = otio.adapters.read_from_file(str(path))
    [video] = back.video_tracks()
    [dialogue] = back.audio_tracks()
    assert dialogue.enabled
    assert video.duration().value == timeline.frames
    assert [c.name for c in video.find_clips()] == [c.shot_id for c in timeline.video]
    for clip in video.find_clips():
        assert clip.media_reference.target_url == str(root / f"assets/keyframes/{clip.name}.png")
    # Written again over the old file, atomically: same content.
    again = write_otio(timeline, path, "cut", root, paths="absolute")
    assert again.read_text() == path.read_text()


def test_otio_paths_are_relative_and_survive_a_move(tmp_path: Path) -> None:
    import shutil

    texts = []
    for name in ("first", "second"):
        root = tmp_path / name / "my project"
        timeline = _otio_cut(root)
        mix = write_wav(root / "assets" / "mix" / "mix.wav", np.zeros(44100), 44100)
        path = write_otio(timeline, root / "episodes/ep01/episode.otio", "ep01", root, mix=mix)
        texts.append(path.read_text())
    # Identical cuts in two places are identical files: no absolute path inside.
    assert texts[0] == texts[1]
    assert str(tmp_path) not in texts[0] and "file://" not in texts[0]
    moved = tmp_path / "elsewhere" / "renamed"
    shutil.move(str(tmp_path / "first" / "my project"), str(moved))
    otio_file = moved / "episodes/ep01/episode.otio"
    back = otio.adapters.read_from_file(str(otio_file))
    references = [
        clip.media_reference
        for clip in back.find_clips()
        if isinstance(clip.media_reference, otio.schema.ExternalReference)
    ]
    assert len(references) == sum(c.title is None for c in timeline.video) + len(timeline.audio) + 1
    for reference in references:
        target = otio_file.parent / otio.url_utils.filepath_from_url(reference.target_url)
        assert target.resolve().is_file(), reference.target_url
        assert target.resolve().is_relative_to(moved.resolve())
