"""Long speeches: split into timed cues of at most two lines that fit the frame and keep off
faces, on screen, in the SRT and in the OpenTimelineIO markers."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
import srt
from PIL import Image

from inkreel.art.fonts import find_font
from inkreel.media import motion
from inkreel.media.exports import write_otio, write_srt
from inkreel.media.segments import segment_frames
from inkreel.media.subtitles import share, smallest_size, text_size, time_cues, unwrap
from inkreel.media.timeline import build_timeline, clip_subtitles, l_cut, line_subtitles
from inkreel.schemas import Keyframe, Shot, Take, VideoClip
from inkreel.schemas.segment import SegmentTask
from inkreel.schemas.storyboard import Angle, Box, Camera, Framing, Move
from inkreel.schemas.timeline import Subtitle, Timeline

from .test_motion import ROOM

FPS, WIDTH, HEIGHT = 24, 1280, 720
MARGIN = HEIGHT // 30  # how far a subtitle keeps from a face

ENGLISH = (
    "I kept the lamp lit every night for eleven years. "
    "Nobody asked me why, and I never told them, because the truth sounded like madness: "
    "a girl called Aiko wrote to me once, from a harbour that is on no map, and she said "
    "that if the light ever went out, the boats would stop finding their way home. "
    "Do you understand now? "
    "No. "
    "Of course you don't — nobody does — but you found the bottle, Mei, so listen; "
    "the message inside it is in my handwriting, and I have never written it. "
)
CHINESE = (
    "我守着这盏灯整整十一年了。没有人问我为什么，我也从来没有告诉过他们，"
    "因为真相听起来像疯话：一个叫爱子的女孩曾经给我写过一封信，她说她住在一个地图上没有的港口，"
    "如果这盏灯熄灭了，船就再也找不到回家的路。你现在明白了吗？不明白。"
    "当然不明白——没有人明白——可是你找到了那个瓶子，美，所以听我说；"
    "瓶子里的信是我的笔迹，可我从来没有写过它。"
)


def _speech(paragraph: str, length: int, sep: str = " ") -> str:
    text = ""
    while len(text) < length:
        text += paragraph
    return text[:length].rsplit(sep, 1)[0] if sep else text[:length]


def _shot(text: str, seconds: float) -> Shot:
    return Shot(
        id="s01-001",
        scene=1,
        beat=1,
        location="Lighthouse",
        time_of_day="night",
        framing=Framing.close_up,
        angle=Angle.eye_level,
        move=Move.static,
        camera=Camera(x=0, y=1.5, view_width=1.3),
        blocking=[],
        line_id="01-001",
        speaker="Mei",
        text=text,
        duration_s=seconds,
    )


def _timeline(text: str, spoken_s: float) -> Timeline:
    shot = _shot(text, spoken_s + 0.6)
    take = Take(
        line_id="01-001",
        character="Mei",
        path="takes/01-001.wav",
        duration_s=spoken_s,
        sample_rate=22050,
    )
    keyframes = {shot.id: Keyframe(shot_id=shot.id, path="keyframes/s01-001.png")}
    return build_timeline([shot], {"01-001": take}, keyframes, FPS, WIDTH, HEIGHT)


def _chars(text: str) -> str:
    return "".join(text.split())


def _fits_frame(line: str, size: int) -> bool:
    return find_font(line, size).getlength(line) <= WIDTH * 0.9


@pytest.mark.parametrize(
    ("text", "spoken_s"),
    [(_speech(ENGLISH, 2000), 130.0), (_speech(CHINESE, 1000, ""), 200.0)],
    ids=["english-2000", "chinese-1000"],
)
def test_a_long_speech_goes_from_timeline_to_frames(text: str, spoken_s: float) -> None:
    timeline = _timeline(text, spoken_s)
    [clip] = timeline.video
    [line] = timeline.audio
    cues = timeline.subtitles
    assert len(cues) > 10
    assert all(c.speaker == "Mei" and c.line_id == "01-001" for c in cues)
    # The cues follow one another over the line: from its first word to the end of the shot.
    assert cues[0].start == line.start
    assert all(a.end == b.start for a, b in pairwise(cues))
    assert cues[-1].end == clip.start + clip.frames
    # Each is up at least a second (the voice allows it), at most two lines, nothing lost.
    assert all(c.end - c.start >= FPS for c in cues)
    assert all(1 <= len(c.text.splitlines()) <= 2 for c in cues)
    assert _chars("".join(c.text for c in cues)) == _chars(text)
    if " " in text:
        assert " ".join(unwrap(c.text) for c in cues).split() == text.split()
    # The longer a cue takes to say, the longer it stays up (the last holds to the cut).
    timed = sorted(cues[:-1], key=lambda c: len(_chars(c.text)))
    assert timed[0].end - timed[0].start < timed[-1].end - timed[-1].start

    said = clip_subtitles(timeline, clip)
    bands = motion.subtitle_bands(said, WIDTH, HEIGHT)
    assert [b.lines for b in bands] == [tuple(c.text.splitlines()) for c in cues]
    for band in bands:
        assert band.top >= 0 and band.top + band.rgba.shape[0] <= HEIGHT
        assert all(_fits_frame(line, band.size) for line in band.lines)

    blank = np.full((HEIGHT, WIDTH, 3), 90, np.uint8)
    frame = motion.overlay_frames(lambda i: blank, clip.frames, (WIDTH, HEIGHT), said)
    previous = None
    for _, first, end in said:
        image = frame((first + end) // 2)
        rows = np.nonzero((image != blank).any(axis=(1, 2)))[0]
        assert rows.size and rows.max() < HEIGHT
        assert previous is None or not np.array_equal(image, previous)  # a new cue shows
        previous = image


def test_cues_break_at_sentence_ends_then_at_clauses() -> None:
    sentences = "Where were you? I waited all night. The lamp went out at four. " * 6
    cues = line_subtitles(sentences, "Mei", 0, 600, 620, FPS, WIDTH, HEIGHT)
    assert len(cues) > 1
    assert all(unwrap(c.text)[-1] in ".?" for c in cues)
    clauses = (
        "the rope, the lamp oil, the spare wicks, the logbook, the brass key to the gallery, "
        "the whistle my father gave me, the charts of the northern reef, "
        "all went over the side with the boat"
    )
    cues = line_subtitles(clauses, "Mei", 0, 600, 620, FPS, WIDTH, HEIGHT)
    assert len(cues) > 1
    assert all(unwrap(c.text).endswith(",") for c in cues[:-1])


@pytest.mark.parametrize(
    "text",
    [
        _speech(ENGLISH, 10_000),
        _speech(CHINESE, 10_000, ""),
        "Open " + "https://example.org/" + "harbour-lights-" * 19 + " now.",
        "x" * 300,
        "Привет, Мэй! Маяк горел каждую ночь одиннадцать лет, и никто не спросил меня, почему. "
        * 12,
        "నమస్కారం మేయ్, ఈ దీపం పదకొండు సంవత్సరాలుగా ప్రతి రాత్రి వెలిగింది, ఎవరూ ఎందుకని అడగలేదు. " * 12,
        "مرحبا يا مي، هذا المصباح أضاء كل ليلة لأحد عشر عاما، ولم يسألني أحد لماذا. " * 12,
    ],
    ids=["english-10000", "chinese-10000", "url", "one-word", "cyrillic", "telugu", "arabic"],
)
def test_any_length_in_any_script_fits_the_frame(text: str) -> None:
    cues = line_subtitles(text, "Mei", 0, 24 * 600, 24 * 601, FPS, WIDTH, HEIGHT)
    assert _chars("".join(c.text for c in cues)) == _chars(text)
    assert all(a.end == b.start and a.start < a.end for a, b in pairwise(cues))
    for cue in cues:
        lines = cue.text.splitlines()
        assert 1 <= len(lines) <= 2
        assert all(_fits_frame(line, text_size(HEIGHT)) for line in lines)
    bands = motion.subtitle_bands([(c.text, c.start, c.end) for c in cues[:40]], WIDTH, HEIGHT)
    assert len(bands) == min(40, len(cues))
    assert all(b.top >= 0 and b.top + b.rgba.shape[0] <= HEIGHT for b in bands)


def test_cue_times_share_the_voice_by_weight() -> None:
    assert share([1, 2, 1], 0, 100) == [(0, 25), (25, 75), (75, 100)]
    # at least `minimum` frames each where the whole allows it, the rest by weight
    assert share([1, 10, 1], 0, 100, minimum=24) == [(0, 24), (24, 76), (76, 100)]
    assert share([1, 1, 1, 1], 10, 30, minimum=24) == [(10, 15), (15, 20), (20, 25), (25, 30)]
    # the last cue holds until the shot ends; a take too short for the cues uses it all
    assert time_cues(["Hi there.", "And you?"], 0, 48, 60, 24) == [(0, 24), (24, 60)]
    assert time_cues(["One.", "Two.", "Three."], 5, 6, 11, 24) == [(5, 7), (7, 9), (9, 11)]


def _ink_rows(image: np.ndarray, blank: np.ndarray) -> np.ndarray:
    return np.nonzero((image != blank).any(axis=(1, 2)))[0]


@pytest.mark.parametrize(
    ("face", "clear"),
    [
        (Box(x0=340, y0=100, x1=940, y1=620), True),  # two lines never fit above or below
        (Box(x0=340, y0=60, x1=940, y1=650), True),  # one line fits only in a smaller size
        (Box(x0=200, y0=40, x1=1080, y1=690), False),  # an extreme close-up: nowhere is clear
    ],
)
def test_subtitles_keep_off_a_close_up_face(face: Box, clear: bool) -> None:
    text = "I never told you about the lighthouse, Mei, because I was afraid of what you'd think."
    [cue] = line_subtitles(text, "Mei", 0, 96, 100, FPS, WIDTH, HEIGHT)
    assert len(cue.text.splitlines()) == 2
    blank = np.full((HEIGHT, WIDTH, 3), 90, np.uint8)
    said = [(cue.text, 0, 100)]
    bands = motion.subtitle_bands(said, WIDTH, HEIGHT, [face])
    frame = motion.overlay_frames(lambda i: blank, 100, (WIDTH, HEIGHT), said, avoid=[face])
    # Split further, one line a screen, in its frames, every word kept, never below the floor.
    assert [len(b.lines) for b in bands] == [1, 1]
    assert " ".join(line for b in bands for line in b.lines) == text
    assert bands[0].start == 0 and bands[0].end == bands[1].start and bands[1].end == 100
    assert all(b.size >= smallest_size(HEIGHT) for b in bands)
    covered = set(range(face.y0 - MARGIN, face.y1 + MARGIN))
    for band in bands:
        rows = _ink_rows(frame((band.start + band.end) // 2), blank)
        assert rows.size and rows.min() >= 0 and rows.max() < HEIGHT
        assert covered.isdisjoint(rows.tolist()) == clear
    # where a face leaves room, the subtitle stays whole and at full size
    roomy = Box(x0=340, y0=100, x1=940, y1=560)
    [band] = motion.subtitle_bands(said, WIDTH, HEIGHT, [roomy])
    assert len(band.lines) == 2 and band.size == text_size(HEIGHT)
    assert band.top >= roomy.y1 + MARGIN


def test_srt_holds_the_split_cues(tmp_path: Path) -> None:
    text = _speech(ENGLISH, 760)
    timeline = _timeline(text, 50.0)
    path = write_srt(timeline.subtitles, FPS, tmp_path / "long.srt")
    entries = list(srt.parse(path.read_text(encoding="utf-8")))
    assert len(entries) == len(timeline.subtitles) > 4
    assert [e.content for e in entries] == [c.text for c in timeline.subtitles]
    assert all(a.end == b.start for a, b in pairwise(entries))
    for entry in entries:
        assert len(entry.content.splitlines()) <= 2
        assert all(len(line) <= 50 for line in entry.content.splitlines())
    assert " ".join(e.content for e in entries).split() == text.split()
    # The OpenTimelineIO markers are the same cues, each on one line.
    cut = otio.adapters.read_from_file(
        str(write_otio(timeline, tmp_path / "long.otio", "long", tmp_path))
    )
    [video] = cut.video_tracks()
    assert [m.name for m in video.markers] == [unwrap(c.text) for c in timeline.subtitles]
    assert {m.metadata["inkreel"]["line_id"] for m in video.markers} == {"01-001"}


def test_srt_splits_a_cue_too_long_for_two_lines(tmp_path: Path) -> None:
    long = Subtitle(start=24, end=24 * 40, speaker="Mei", text=_speech(ENGLISH, 600))
    wide = Subtitle(start=24 * 41, end=24 * 60, speaker="Mei", text=_speech(CHINESE, 200, ""))
    path = write_srt([long, wide], FPS, tmp_path / "x.srt")
    entries = list(srt.parse(path.read_text(encoding="utf-8")))
    english = [e for e in entries if e.start.total_seconds() < 41]
    chinese = [e for e in entries if e.start.total_seconds() >= 41]
    assert len(english) > 3 and len(chinese) > 2
    for part, sub in ((english, long), (chinese, wide)):
        assert part[0].start.total_seconds() == sub.start / FPS
        assert part[-1].end.total_seconds() == sub.end / FPS
        assert all(a.end == b.start for a, b in pairwise(part))
        assert all(len(e.content.splitlines()) <= 2 for e in part)
        assert _chars("".join(e.content for e in part)) == _chars(sub.text)
    assert all(len(line) <= 25 for e in chinese for line in e.content.splitlines())


def test_an_l_cut_carries_a_long_lines_cues_into_the_next_shot() -> None:
    text = _speech(ENGLISH, 400)
    speech = _shot(text, 30.6)
    quiet = speech.model_copy(
        update={"id": "s02-001", "scene": 2, "line_id": None, "speaker": None, "text": "Waves."}
    )
    take = Take(line_id="01-001", character="Mei", path="t.wav", duration_s=30.0, sample_rate=22050)
    keyframes = {s.id: Keyframe(shot_id=s.id, path=f"{s.id}.png") for s in (speech, quiet)}
    timeline = build_timeline([speech, quiet], {"01-001": take}, keyframes, FPS, WIDTH, HEIGHT)
    edited = l_cut(timeline, ["s02-001"], 48)
    first, second = edited.video
    [line] = edited.audio
    cues = edited.subtitles
    assert len(cues) == len(timeline.subtitles) > 3
    # every cue moved with the voice, still one after another, the last ending with the line
    assert cues[0].start == line.start > timeline.subtitles[0].start
    assert all(a.end == b.start for a, b in pairwise(cues))
    assert cues[-1].end == line.start + line.frames == second.start + 48
    # each shot burns in the part of the cues that falls in it
    here, there = clip_subtitles(edited, first), clip_subtitles(edited, second)
    assert [t for t, _, _ in here] + [t for t, _, _ in there[1:]] == [c.text for c in cues]
    assert here[-1][2] == first.frames and there[0][1] == 0 and there[-1][2] == 48


def test_a_hosted_keyframes_subtitle_keeps_off_its_faces(tmp_path: Path) -> None:
    Image.new("RGB", (WIDTH, HEIGHT), (90, 90, 90)).save(tmp_path / "key.png")
    face = Box(x0=440, y0=420, x1=840, y1=HEIGHT)  # a face low in the frame
    task = SegmentTask(
        clip=VideoClip(shot_id="s01-001", keyframe="key.png", start=0, frames=12),
        shot=_shot("Where is the map?", 0.5),
        location=ROOM,
        keyframe="key.png",
        keyframe_staged=False,
        subtitles=[("Where is the map?", 0, 12)],
        faces=[face],
        fps=FPS,
        width=WIDTH,
        height=HEIGHT,
        seed=0,
    )
    plain = segment_frames(task.model_copy(update={"subtitles": []}), tmp_path)(6)
    rows = _ink_rows(segment_frames(task, tmp_path)(6), plain)
    assert rows.size and rows.max() < face.y0 - MARGIN
