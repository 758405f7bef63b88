"""A person's review of the line's work at a gate: what the line asks, what the person decides.

The request is the human-in-the-loop shape LangGraph's agent inbox and LangChain's
`HumanInTheLoopMiddleware` use, so their chat UIs can show it:

    {"action_requests": [{"name": "review_script", "args": {...}, "description": "..."}],
     "review_configs": [{"action_name": "review_script",
                         "allowed_decisions": ["approve", "edit", "reject"]}],
     "gate": "script", "problem": null}

and the answer (`Command(resume=...)`) is theirs too: `{"decisions": [{"type": "approve"}]}`,
`{"decisions": [{"type": "edit", "edited_action": {"name": ..., "args": {...}}}]}` or
`{"decisions": [{"type": "reject", "message": "a note"}]}` (a bare decision object is read as
well).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from inkreel.schemas.design import HexColour
from inkreel.schemas.script import Emotion
from inkreel.schemas.storyboard import Angle, Framing

Gate = Literal["script", "storyboard", "cut"]
GATES: tuple[Gate, ...] = ("script", "storyboard", "cut")
DecisionType = Literal["approve", "edit", "reject"]


class EditedAction(BaseModel):
    name: str = Field(description="The action reviewed (review_script...).")
    args: dict[str, Any] = Field(default_factory=dict, description="Its changed arguments.")


class Decision(BaseModel):
    """One person's decision at a gate."""

    type: DecisionType
    edited_action: EditedAction | None = Field(
        default=None, description="For an edit: the action with its changed arguments."
    )
    message: str | None = Field(default=None, description="For a reject: what to change.")

    @model_validator(mode="after")
    def _edit_has_args(self) -> Decision:
        if self.type == "edit" and self.edited_action is None:
            raise ValueError("an edit needs edited_action: {name, args}")
        return self


class ReviewRecord(BaseModel):
    """A decision the run took from a person, kept in the episode's state."""

    gate: Gate
    decision: DecisionType
    note: str = ""
    changed: list[str] = Field(default_factory=list, description="What the edit changed.")


class Retake(BaseModel):
    """A change to one shot after the fact; fields left out keep what the shot has."""

    shot: str = Field(description="The shot's id (s01-002...).")
    framing: Framing | None = None
    angle: Angle | None = None
    emotion: Emotion | None = Field(
        default=None, description="The expression of `who` (default: the speaker)."
    )
    line: str | None = Field(default=None, description="New words for the shot's line.")
    who: list[str] | None = Field(
        default=None, description="Who the camera is on (the speaker first, if they speak)."
    )
    note: str = Field(default="", description="Free text for a hosted model; recorded.")

    @field_validator("line")
    @classmethod
    def _words(cls, line: str | None) -> str | None:
        if line is not None and not line.strip():
            raise ValueError("the new words are blank")
        return line.strip() if line is not None else None


class LineEdit(BaseModel):
    """New words for one line of dialogue: re-voiced, re-timed and re-subtitled."""

    line: int = Field(ge=1, description="The line's number in the script's dialogue, from 1.")
    text: str = Field(min_length=1)

    @field_validator("text")
    @classmethod
    def _words(cls, text: str) -> str:
        if not text.strip():
            raise ValueError("the new words are blank")
        return text.strip()


class Redesign(BaseModel):
    """A change to a character's look: their sheets are drawn again, and every shot they are
    in; fields left out keep what the design has."""

    character: str = Field(description="The character's name in the cast.")
    hair_colour: HexColour | None = None
    outfit_colour: HexColour | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> Redesign:
        if self.hair_colour is None and self.outfit_colour is None:
            raise ValueError("a redesign gives hair_colour or outfit_colour")
        return self

    def changes(self) -> dict[str, str]:
        return self.model_dump(exclude={"character"}, exclude_none=True)


class ReviewError(ValueError):
    """An answer to a gate that cannot be used; the gate asks again, saying why."""


def problems(exc: ValidationError, what: str = "value", most: int = 5) -> str:
    """A validation error in one line: `where: what is wrong; ...` (the first `most`)."""
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or what}: {e['msg']}" for e in exc.errors()[:most]
    )


def cut_edit(
    retakes: list[Retake], edits: list[LineEdit], redesigns: list[Redesign] | None = None
) -> dict[str, Any]:
    """The cut gate's edit decision asking for these retakes, line edits and redesigns."""
    args = {
        "retakes": [r.model_dump(mode="json") for r in retakes],
        "line_edits": [e.model_dump(mode="json") for e in edits],
    }
    if redesigns:
        args["redesigns"] = [d.model_dump(mode="json") for d in redesigns]
    return {"type": "edit", "edited_action": {"name": "review_cut", "args": args}}


def read_decision(value: Any, allowed: tuple[DecisionType, ...]) -> Decision:
    """The decision in a resume value ({"decisions": [one]}, one decision, or its type)."""
    if isinstance(value, str):
        value = {"type": value}
    if isinstance(value, dict) and "decisions" in value:
        decisions = value["decisions"]
        if not isinstance(decisions, list) or len(decisions) != 1:
            raise ReviewError("answer a gate with exactly one decision")
        value = decisions[0]
    try:
        decision = Decision.model_validate(value)
    except ValidationError as exc:
        raise ReviewError(f"not a decision ({problems(exc, 'decision')})") from None
    if decision.type not in allowed:
        raise ReviewError(f"this gate takes {', '.join(allowed)}, not {decision.type}")
    return decision


def review_request(
    gate: Gate,
    args: dict[str, Any],
    description: str,
    allowed: tuple[DecisionType, ...],
    problem: str | None = None,
) -> dict[str, Any]:
    """What a gate shows the person (JSON), in the agent inbox's shape."""
    action = f"review_{gate}"
    return {
        "action_requests": [{"name": action, "args": args, "description": description}],
        "review_configs": [{"action_name": action, "allowed_decisions": list(allowed)}],
        "gate": gate,
        "problem": problem,
    }
