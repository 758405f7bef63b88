"""The storyboard: shots as cameras looking at a set with characters blocked in it."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from inkreel.schemas.design import Character, Location
from inkreel.schemas.framing import Angle, Framing
from inkreel.schemas.script import Emotion, Script


class Move(StrEnum):
    static = "static"
    push_in = "push_in"
    pull_out = "pull_out"
    pan = "pan"


Effect = Literal["speed_lines", "emphasis_burst", "sweat_drop", "sparkle", "anger_mark"]


class ShotSpec(BaseModel):
    """The director's choice for one beat of a scene."""

    beat: int = Field(ge=0, description="Index of the scene beat this shot covers.")
    framing: Framing
    angle: Angle = Angle.eye_level
    move: Move = Move.static
    subjects: list[str] = Field(
        default_factory=list, description="Characters the camera is on; the speaker first."
    )
    reverse: bool = Field(
        default=False,
        description="Camera on the far side of the line of action (mirrors screen sides).",
    )
    crosses_line: bool = Field(
        default=False, description="True only when crossing the line is deliberate."
    )
    effects: list[Effect] = Field(
        default_factory=list, description="Manga effects the beat calls for, if any."
    )
    note: str = Field(default="", description="Why this shot, in a few words.")


class ShotPlan(BaseModel):
    """The director's shot list for one scene."""

    shots: list[ShotSpec] = Field(min_length=1)


class Camera(BaseModel):
    """Where the camera looks in the set's world coordinates."""

    x: float = Field(description="World x (metres) at the centre of the frame.")
    y: float = Field(description="World height (metres) at the centre of the frame.")
    view_width: float = Field(gt=0, description="Metres of the set visible across the frame.")
    tilt: float = Field(
        default=0.0, ge=-1, le=1, description="-1 low angle (looking up) .. 1 high angle."
    )
    reverse: bool = Field(default=False, description="Looking from the far side of the line.")


class Blocking(BaseModel):
    character: str
    world_x: float
    screen_x: float = Field(description="Horizontal position in frame, 0 (left) to 1 (right).")
    facing: Literal["left", "right", "front"]
    expression: Emotion = Emotion.neutral
    speaking: bool = False


class Shot(BaseModel):
    id: str = Field(description="'s<scene>-<n>', e.g. s02-004.")
    scene: int
    beat: int
    location: str
    time_of_day: str
    framing: Framing
    angle: Angle
    move: Move
    camera: Camera
    blocking: list[Blocking]
    line_id: str | None = Field(default=None, description="Dialogue line spoken in this shot.")
    speaker: str | None = None
    text: str = Field(default="", description="The line, or the action described.")
    duration_s: float = Field(gt=0)
    crosses_line: bool = False
    effects: list[Effect] = Field(default_factory=list)
    note: str = ""
    revision: int = Field(default=0, description="How many times continuity sent it back.")
    fix_instruction: str = ""


class Storyboard(BaseModel):
    shots: list[Shot]

    @property
    def duration_s(self) -> float:
        return sum(s.duration_s for s in self.shots)


class Box(BaseModel):
    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def area(self) -> int:
        return max(0, self.x1 - self.x0) * max(0, self.y1 - self.y0)

    def overlap(self, other: Box, grow: int = 0) -> int:
        """The area this box shares with `other` grown by `grow` pixels on every side."""
        w = min(self.x1, other.x1 + grow) - max(self.x0, other.x0 - grow)
        h = min(self.y1, other.y1 + grow) - max(self.y0, other.y0 - grow)
        return max(0, w) * max(0, h)

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.x0, self.y0, self.x1, self.y1)


class FigureLayout(BaseModel):
    """Where the renderer drew a character, so checks need no detector."""

    character: str
    body: Box
    face: Box | None = None
    hair: Box | None = None
    outfit: Box | None = None
    visible_fraction: float = Field(ge=0, le=1)


class Keyframe(BaseModel):
    shot_id: str
    path: str
    figures: list[FigureLayout] = Field(default_factory=list)
    elements: dict[str, Box] = Field(
        default_factory=dict, description="Set element index -> where it landed in the frame."
    )
    provider: str = Field(default="offline", description="Who drew it.")
    model: str = Field(
        default="inkreel-procedural-renderer",
        description="The model that drew it; the layout is the staging's, which the "
        "procedural renderer draws exactly and a hosted model is asked to follow.",
    )

    @property
    def staged(self) -> bool:
        """Drawn by the procedural renderer, so its layers can be animated."""
        return self.provider == "offline"


class StoryboardFile(BaseModel):
    """`storyboard.json`: the shots, where the renderer drew things, and the assets they use."""

    format: int = 1
    shots: list[Shot]
    keyframes: dict[str, Keyframe] = Field(
        default_factory=dict, description="Shot id -> keyframe and its layout (optional)."
    )
    cast: dict[str, Character] = Field(
        default_factory=dict, description="Name -> character asset (paths in project)."
    )
    locations: dict[str, Location] = Field(
        default_factory=dict, description="Name -> location asset."
    )
    script: Script | None = Field(
        default=None, description="The screenplay the shots cover (enables script-level checks)."
    )
