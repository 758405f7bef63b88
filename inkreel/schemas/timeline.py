"""The cut as pure data: frames at a fixed fps. Edits are functions returning new timelines."""

from __future__ import annotations

from pydantic import BaseModel, Field

FPS = 24


class VideoClip(BaseModel):
    shot_id: str = Field(description="The shot shown, or 'title' for the title card.")
    keyframe: str = Field(default="", description="Keyframe file; empty for a title card.")
    start: int = Field(ge=0, description="First frame on the timeline.")
    frames: int = Field(gt=0)
    move: str = "static"
    speaker: str | None = None
    mouth_box: list[int] | None = Field(
        default=None, description="Speaker's face box in the keyframe, for lip flaps."
    )
    dissolve_frames: int = Field(
        default=0, ge=0, description="Last frames dissolve into the next clip's first frame."
    )
    title: str | None = Field(default=None, description="Text of a title card clip.")


class AudioClip(BaseModel):
    path: str
    start: int = Field(ge=0)
    frames: int = Field(gt=0)
    gain_db: float = 0.0
    role: str = "dialogue"
    line_id: str | None = None
    shot_id: str | None = None


class Subtitle(BaseModel):
    """One subtitle cue: a screen of at most two lines, shown for frames [start, end)."""

    start: int
    end: int
    speaker: str
    text: str = Field(description="The cue as shown, its lines separated by newlines.")
    line_id: str | None = Field(
        default=None, description="The spoken line this cue is part of (a long line has several)."
    )


class Timeline(BaseModel):
    fps: int = FPS
    width: int = 1280
    height: int = 720
    video: list[VideoClip]
    audio: list[AudioClip] = Field(default_factory=list)
    subtitles: list[Subtitle] = Field(default_factory=list)
    music: AudioClip | None = None

    @property
    def frames(self) -> int:
        return max((c.start + c.frames for c in self.video), default=0)

    @property
    def duration_s(self) -> float:
        return self.frames / self.fps
