"""What a writer can ask the showrunner for in a chat: one tool per step of the line.

A hosted model gets these as tools (their docstrings and fields are the descriptions it reads)
and answers a message with tool calls; the offline rule-based parser (`providers.chat_rules`)
turns a fixed set of phrasings into the same calls. Either way the showrunner runs
`ToolCall`s: a tool's name and its arguments, validated into the tool's model.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from inkreel.schemas.review import LineEdit, problems
from inkreel.schemas.script import Emotion, TimeOfDay
from inkreel.schemas.storyboard import Angle, Framing

Stage = Literal["idea", "logline", "outline", "script", "storyboard", "rendering", "episode"]
STAGES: tuple[Stage, ...] = (
    "idea",
    "logline",
    "outline",
    "script",
    "storyboard",
    "rendering",
    "episode",
)
BeatAct = Literal["setup", "development", "turn", "resolution"]
ACTS: tuple[BeatAct, ...] = ("setup", "development", "turn", "resolution")
LookPart = Literal["hair", "outfit"]
Topic = Literal["cast", "cost", "continuity", "status", "script", "storyboard"]


class OutlineBeat(BaseModel):
    """One beat of the outline: what happens, and where it sits in the four acts."""

    act: BeatAct
    text: str = Field(min_length=1)


class Pitch(BaseModel):
    """Three loglines for an idea: one sentence each, different takes on the same idea."""

    loglines: list[str] = Field(min_length=3, max_length=3)
    characters: list[str] = Field(
        min_length=1, description="The story's characters by name, main character first."
    )


class Outline(BaseModel):
    """The episode's beats in order: setup, development, turn, resolution."""

    beats: list[OutlineBeat] = Field(min_length=4, max_length=8)


# ----------------------------------------------------------------------------- tools


class ProposeLoglines(BaseModel):
    """Start from a story idea: propose three loglines to choose from."""

    idea: str = Field(min_length=1, description="The writer's idea, in their words.")


class ChooseLogline(BaseModel):
    """Choose one of the proposed loglines by number, or take the writer's own."""

    number: int | None = Field(default=None, ge=1, le=3, description="1, 2 or 3.")
    text: str | None = Field(default=None, description="The writer's own logline.")


class EditOutline(BaseModel):
    """Change the outline: move a beat, cut it, rewrite it, or add one after it."""

    action: Literal["move", "cut", "rewrite", "add"]
    beat: int = Field(ge=1, description="The beat's number, from 1.")
    to: int | None = Field(default=None, ge=1, description="For move: its new number.")
    text: str | None = Field(default=None, description="For rewrite and add: the words.")


class RenameCharacter(BaseModel):
    """Rename a character everywhere in the story."""

    old: str = Field(min_length=1)
    new: str = Field(min_length=1)


class SetSceneTime(BaseModel):
    """Set when a scene of the script happens (day, dusk or night)."""

    scene: int = Field(ge=1)
    time: TimeOfDay


class ChangeShot(BaseModel):
    """Change one shot: its framing, camera angle, or how someone in it feels. Before the
    render this changes the storyboard; after it, the shot is retaken."""

    shot: str = Field(description="The shot's number in the episode (7) or its id (s02-003).")
    framing: Framing | None = None
    angle: Angle | None = None
    emotion: Emotion | None = None
    who: str | None = Field(default=None, description="Whose emotion (default: the speaker).")


class EditLine(LineEdit):
    """Give a line of dialogue new words."""


class ChangeLook(BaseModel):
    """Change a character's hair or outfit colour; their sheets and shots are redone."""

    character: str
    part: LookPart
    colour: str = Field(description="A colour name (red, 红, 赤) or #rrggbb.")


class AddCharacter(BaseModel):
    """Add a character to the story."""

    name: str = Field(min_length=1)
    description: str = ""


class RemoveCharacter(BaseModel):
    """Remove a character from the story."""

    name: str = Field(min_length=1)


class Approve(BaseModel):
    """Approve what the writer is looking at (logline, outline, script or storyboard)."""


class Render(BaseModel):
    """Render the episode (or the changes asked for since the last render)."""


class Undo(BaseModel):
    """Take back the last change."""


class Help(BaseModel):
    """Say what the showrunner can do at this stage."""


class Ask(BaseModel):
    """Answer a question about the work from its state."""

    topic: Topic
    scene: int | None = Field(default=None, ge=1, description="For cast: the scene asked about.")


TOOLS: dict[str, type[BaseModel]] = {
    "propose_loglines": ProposeLoglines,
    "choose_logline": ChooseLogline,
    "edit_outline": EditOutline,
    "rename_character": RenameCharacter,
    "set_scene_time": SetSceneTime,
    "change_shot": ChangeShot,
    "edit_line": EditLine,
    "change_look": ChangeLook,
    "add_character": AddCharacter,
    "remove_character": RemoveCharacter,
    "approve": Approve,
    "render": Render,
    "undo": Undo,
    "help": Help,
    "ask": Ask,
}


class ToolError(ValueError):
    """A tool call that cannot be run as given (unknown tool, bad arguments): one line."""


class ToolCall(BaseModel):
    """One call of a showrunner tool."""

    name: str
    args: dict[str, Any] = Field(default_factory=dict)

    def action(self) -> BaseModel:
        """The call's arguments as the tool's model; ToolError when they do not fit."""
        tool = TOOLS.get(self.name)
        if tool is None:
            raise ToolError(f"there is no tool {self.name!r}")
        try:
            return tool.model_validate(self.args)
        except ValidationError as exc:
            raise ToolError(f"{self.name}: {problems(exc, 'args')}") from None


def call(action: BaseModel) -> ToolCall:
    """The tool call of an action model."""
    name = next(n for n, t in TOOLS.items() if isinstance(action, t))
    return ToolCall(name=name, args=action.model_dump(mode="json", exclude_none=True))
