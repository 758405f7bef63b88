"""One clip to encode: the payload of the editor's `render_segment` node, and all that
`media.segments` needs to draw and encode it."""

from __future__ import annotations

from pydantic import BaseModel, Field

from inkreel.schemas.design import CharacterDesign, LocationDesign
from inkreel.schemas.storyboard import Box, Shot
from inkreel.schemas.timeline import VideoClip


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
