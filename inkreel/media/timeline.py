"""Timeline operations: pure functions from storyboard and takes to a Timeline."""

from __future__ import annotations

from inkreel.schemas import AudioClip, Keyframe, Shot, Subtitle, Take, Timeline, VideoClip

# The line starts a beat after the cut, so the viewer sees the speaker before hearing them.
LINE_LEAD_S = 0.15


def build_timeline(
    shots: list[Shot],
    takes: dict[str, Take],
    keyframes: dict[str, Keyframe],
    fps: int = 24,
    width: int = 1280,
    height: int = 720,
) -> Timeline:
    """Lay shots end to end; each spoken line starts just after its cut and is subtitled."""
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
            subtitles.append(
                Subtitle(
                    start=start + lead,
                    end=start + frames,
                    speaker=take.character,
                    text=shot.text,
                )
            )
        start += frames
    return Timeline(
        fps=fps, width=width, height=height, video=video, audio=dialogue, subtitles=subtitles
    )


def clip_subtitle(timeline: Timeline, clip: VideoClip) -> Subtitle | None:
    """Return the subtitle shown during a clip, if any."""
    end = clip.start + clip.frames
    return next((s for s in timeline.subtitles if clip.start <= s.start < end), None)


def clip_dialogue(timeline: Timeline, clip: VideoClip) -> AudioClip | None:
    return next((a for a in timeline.audio if a.shot_id == clip.shot_id), None)
