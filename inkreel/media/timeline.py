"""Timeline operations: pure functions from storyboard and takes to a Timeline.

Every function here returns new objects and never changes its inputs: edits are
`model_copy` calls on copies, so a timeline handed to one edit can still be used as it was.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import pairwise

from inkreel.art.fonts import find_font
from inkreel.media.subtitles import (
    MIN_CUE_S,
    font_measure,
    line_limit,
    split,
    text_size,
    time_cues,
)
from inkreel.schemas import AudioClip, Keyframe, Shot, Subtitle, Take, Timeline, VideoClip

# The line starts a beat after the cut, so the viewer sees the speaker before hearing them.
LINE_LEAD_S = 0.15
# Shot ids are 's<scene>-<n>' (see Shot.id); the title card is 'title'.
TITLE_SHOT_ID = "title"
_SHOT_ID = re.compile(r"^s(\d+)-")


def build_timeline(
    shots: list[Shot],
    takes: dict[str, Take],
    keyframes: dict[str, Keyframe],
    fps: int = 24,
    width: int = 1280,
    height: int = 720,
    scene_dissolve_frames: int = 8,
    title: str | None = None,
    title_frames: int = 0,
) -> Timeline:
    """Lay shots end to end; each spoken line starts just after its cut and is subtitled.

    A line's subtitle is as many cues as it takes to show it two lines at a time at the
    frame's size (see `line_subtitles`), timed to the take and up until the shot's end.

    Where consecutive shots belong to different scenes, the outgoing clip dissolves into the
    next for `scene_dissolve_frames` (never more than half of either clip; 0 turns it off).
    Dissolves happen inside the outgoing clip's last frames, so they do not change any start
    or the length of the cut. With a `title` and `title_frames` > 0 a title card comes first
    (hard cut into the first shot) and everything else starts `title_frames` later.
    """
    video: list[VideoClip] = []
    dialogue: list[AudioClip] = []
    subtitles: list[Subtitle] = []
    start = 0
    for shot in shots:
        frames = max(1, round(shot.duration_s * fps))
        keyframe = keyframes[shot.id]
        face = next(
            (f.face for f in keyframe.figures if f.character == shot.speaker and f.face), None
        )
        video.append(
            VideoClip(
                shot_id=shot.id,
                keyframe=keyframe.path,
                start=start,
                frames=frames,
                move=shot.move.value,
                speaker=shot.speaker,
                mouth_box=[face.x0, face.y0, face.x1, face.y1] if face else None,
            )
        )
        take = takes.get(shot.line_id) if shot.line_id else None
        if take is not None:
            lead = round(LINE_LEAD_S * fps)
            line_frames = min(frames - lead, max(1, round(take.duration_s * fps)))
            dialogue.append(
                AudioClip(
                    path=take.path,
                    start=start + lead,
                    frames=max(1, line_frames),
                    line_id=take.line_id,
                    shot_id=shot.id,
                )
            )
            subtitles += line_subtitles(
                shot.text,
                take.character,
                start + lead,
                start + lead + max(1, line_frames),
                start + frames,
                fps,
                width,
                height,
                line_id=take.line_id,
            )
        start += frames
    timeline = Timeline(
        fps=fps, width=width, height=height, video=video, audio=dialogue, subtitles=subtitles
    )
    if scene_dissolve_frames > 0:
        cuts = [i for i in range(1, len(shots)) if shots[i].scene != shots[i - 1].scene]
        timeline = with_dissolves(timeline, cuts, scene_dissolve_frames)
    if title and title_frames > 0:
        timeline = with_title(timeline, title, title_frames)
    return timeline


def line_subtitles(
    text: str,
    speaker: str,
    start: int,
    voiced_end: int,
    end: int,
    fps: int,
    width: int,
    height: int,
    line_id: str | None = None,
) -> list[Subtitle]:
    """Split a spoken line into subtitle cues of at most two lines that fit the frame.

    Lines are measured in the font they are drawn in (the cue's text holds its line breaks).
    The cues share the voiced frames [start, voiced_end) by how long each takes to say, each
    at least MIN_CUE_S where the line allows; they follow one another, and the last stays up
    until `end`.
    """
    size = text_size(height)
    measure = font_measure(find_font(text, size), size, line_limit(width, height))
    texts = ["\n".join(lines) for lines in split(text, measure)]
    spans = time_cues(texts, start, voiced_end, end, MIN_CUE_S * fps)
    return [
        Subtitle(start=a, end=b, speaker=speaker, text=t, line_id=line_id)
        for t, (a, b) in zip(texts, spans, strict=True)
    ]


def with_dissolves(timeline: Timeline, cuts: Iterable[int], frames: int) -> Timeline:
    """Return a copy where the clip before each cut (index of the incoming clip) dissolves.

    The dissolve is capped at half of the outgoing clip and half of the incoming one.
    """
    video = [c.model_copy() for c in timeline.video]
    for i in sorted(set(cuts)):
        if not 0 < i < len(video):
            raise ValueError(f"no cut before clip {i}: the timeline has {len(video)} clips")
        out, into = video[i - 1], video[i]
        length = max(0, min(frames, out.frames // 2, into.frames // 2))
        video[i - 1] = out.model_copy(update={"dissolve_frames": length})
    return timeline.model_copy(update={"video": video}, deep=True)


def with_title(timeline: Timeline, title: str, frames: int) -> Timeline:
    """Return a copy with a title card first and every clip, line and subtitle later by frames."""
    if frames <= 0:
        raise ValueError(f"a title card needs at least one frame, got {frames}")
    shifted = shift(timeline, frames)
    card = VideoClip(shot_id=TITLE_SHOT_ID, keyframe="", title=title, start=0, frames=frames)
    return shifted.model_copy(update={"video": [card, *shifted.video]})


def shift(timeline: Timeline, frames: int) -> Timeline:
    """Return a copy with every video clip, audio clip, subtitle and the music later by frames."""
    if frames == 0:
        return timeline.model_copy(deep=True)
    earliest = min(
        [c.start for c in timeline.video]
        + [a.start for a in timeline.audio]
        + [s.start for s in timeline.subtitles]
        + ([timeline.music.start] if timeline.music else []),
        default=0,
    )
    if earliest + frames < 0:
        raise ValueError(f"cannot shift by {frames}: something starts at frame {earliest}")
    return timeline.model_copy(
        update={
            "video": [c.model_copy(update={"start": c.start + frames}) for c in timeline.video],
            "audio": [a.model_copy(update={"start": a.start + frames}) for a in timeline.audio],
            "subtitles": [
                s.model_copy(update={"start": s.start + frames, "end": s.end + frames})
                for s in timeline.subtitles
            ],
            "music": (
                timeline.music.model_copy(update={"start": timeline.music.start + frames})
                if timeline.music
                else None
            ),
        },
        deep=True,
    )


def scene_of(shot_id: str) -> int | None:
    """Return the scene number in a shot id ('s02-004' -> 2), or None (e.g. the title card)."""
    match = _SHOT_ID.match(shot_id)
    return int(match.group(1)) if match else None


def scene_boundaries(timeline: Timeline) -> list[int]:
    """Return the frames of the cuts where one scene ends and the next begins.

    Scenes are read from the shot ids ('s<scene>-<n>'); where an id does not say, a clip that
    dissolves into the next one marks a scene change. The cut out of a title card is not one.
    """
    cuts = []
    for before, after in pairwise(timeline.video):
        if TITLE_SHOT_ID in (before.shot_id, after.shot_id):
            continue
        a, b = scene_of(before.shot_id), scene_of(after.shot_id)
        changed = a != b if a is not None and b is not None else before.dissolve_frames > 0
        if changed:
            cuts.append(after.start)
    return cuts


def l_cut(timeline: Timeline, cuts: Iterable[str | int], frames: int) -> Timeline:
    """Return a copy where the last line before each cut runs `frames` into the next shot.

    A cut is named by the shot id of the clip after it (e.g. a scene's opening shot) or by
    its frame (as from scene_boundaries). The picture is unchanged: the last dialogue line
    that starts before the cut is moved later so it ends `frames` after the cut, at most half
    the line, so it still starts over its speaker. Its subtitle cues move with it and the
    last stays up until the line ends. A cut is left alone when the moved line would overlap
    another line (for example the next shot's own dialogue) or its cues another subtitle,
    when the line already runs past the cut, or when no line starts in the clip before it.
    """
    if frames <= 0:
        return timeline.model_copy(deep=True)
    audio = [a.model_copy() for a in timeline.audio]
    subtitles = [s.model_copy() for s in timeline.subtitles]
    for cut in _cut_frames(timeline, cuts):
        outgoing = next((c for c in timeline.video if c.start + c.frames == cut), None)
        if outgoing is None:
            continue
        lines = [
            i
            for i, a in enumerate(audio)
            if a.role == "dialogue" and outgoing.start <= a.start < cut
        ]
        if not lines:
            continue
        index = max(lines, key=lambda i: (audio[i].start, audio[i].start + audio[i].frames))
        line = audio[index]
        end = line.start + line.frames
        if end > cut:
            continue  # already runs over the cut
        run = min(frames, line.frames // 2)
        delta = cut + run - end
        if run <= 0 or delta <= 0:
            continue
        begin, finish = line.start + delta, end + delta
        if any(
            j != index and o.role == "dialogue" and o.start < finish and begin < o.start + o.frames
            for j, o in enumerate(audio)
        ):
            continue  # never two lines at once
        # The line's cues (build_timeline); a subtitle without a line id: the one that starts
        # with the line, else the first in its clip.
        said = [k for k, s in enumerate(subtitles) if line.line_id and s.line_id == line.line_id]
        if not said:
            inside = [k for k, s in enumerate(subtitles) if outgoing.start <= s.start < cut]
            if inside:
                said = [
                    min(
                        inside,
                        key=lambda k: (subtitles[k].start != line.start, subtitles[k].start),
                    )
                ]
        if said:
            first = min(subtitles[k].start for k in said)
            last = max(said, key=lambda k: subtitles[k].start)
            moved = {
                k: subtitles[k].model_copy(
                    update={
                        "start": begin + subtitles[k].start - first,
                        "end": max(finish, subtitles[k].end)
                        if k == last
                        else begin + subtitles[k].end - first,
                    }
                )
                for k in said
            }
            if any(
                j not in moved and s.start < m.end and m.start < s.end
                for m in moved.values()
                for j, s in enumerate(subtitles)
            ):
                continue  # a caption of the next shot is already up then
            for k, cue in moved.items():
                subtitles[k] = cue
        audio[index] = line.model_copy(update={"start": begin})
    return timeline.model_copy(update={"audio": audio, "subtitles": subtitles}, deep=True)


def _cut_frames(timeline: Timeline, cuts: Iterable[str | int]) -> list[int]:
    """Return the frames of the named cuts: a shot id means the cut into that shot."""
    starts = {c.shot_id: c.start for c in timeline.video}
    inner = {c.start for c in timeline.video[1:]}
    found = []
    for cut in cuts:
        if isinstance(cut, str):
            if cut not in starts:
                raise ValueError(f"no shot {cut!r} on the timeline")
            frame = starts[cut]
        else:
            frame = int(cut)
        if frame not in inner:
            raise ValueError(f"no cut at frame {frame}: cuts are at {sorted(inner)}")
        found.append(frame)
    return sorted(set(found))


def clip_subtitles(timeline: Timeline, clip: VideoClip) -> list[tuple[str, int, int]]:
    """Return the subtitle cues shown during a clip: (text, first frame, end frame) counted
    from the clip's start and cut to the clip, in order."""
    end = clip.start + clip.frames
    return [
        (s.text, max(s.start, clip.start) - clip.start, min(s.end, end) - clip.start)
        for s in sorted(timeline.subtitles, key=lambda s: (s.start, s.end))
        if s.start < end and clip.start < s.end
    ]


def clip_dialogue(timeline: Timeline, clip: VideoClip) -> AudioClip | None:
    return next((a for a in timeline.audio if a.shot_id == clip.shot_id), None)
