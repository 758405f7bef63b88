"""The screenplay: scenes made of action and dialogue beats."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field


class Emotion(StrEnum):
    neutral = "neutral"
    happy = "happy"
    sad = "sad"
    angry = "angry"
    surprised = "surprised"
    afraid = "afraid"


class TimeOfDay(StrEnum):
    day = "day"
    dusk = "dusk"
    night = "night"


class Act(StrEnum):
    setup = "setup"
    development = "development"
    turn = "turn"
    resolution = "resolution"


class Beat(BaseModel):
    """One action paragraph or one spoken line, in screenplay order."""

    kind: Literal["action", "dialogue"]
    text: str = Field(description="Action description, or the words the character says aloud.")
    character: str | None = Field(
        default=None, description="Speaker's name exactly as in the cast list; dialogue only."
    )
    parenthetical: str | None = Field(
        default=None, description="Delivery note such as 'quietly' or 'beer raised'; no brackets."
    )
    emotion: Emotion = Field(default=Emotion.neutral, description="How the line is played.")
    dual: bool = Field(
        default=False, description="Spoken at the same time as the previous dialogue beat."
    )


class Scene(BaseModel):
    number: int = Field(ge=1)
    heading: str = Field(description="Scene heading, e.g. 'INT. TEA HOUSE - NIGHT'.")
    location: str = Field(description="Name of the place, reused verbatim when a set recurs.")
    interior: bool = True
    time_of_day: TimeOfDay = TimeOfDay.day
    act: Act = Field(default=Act.development, description="Where the scene sits in the story.")
    characters: list[str] = Field(default_factory=list, description="Everyone present.")
    beats: list[Beat] = Field(default_factory=list)


class SkippedElement(BaseModel):
    """A part of an imported screenplay that has no place in an episode."""

    line: int
    kind: str
    text: str


class Script(BaseModel):
    title: str
    logline: str = ""
    language: str = Field(default="en", description="Language of the dialogue: en, zh or ja.")
    characters: list[str] = Field(
        default_factory=list, description="Every character who appears, main characters first."
    )
    scenes: list[Scene] = Field(min_length=1)
    source: Literal["idea", "fountain"] = "idea"
    skipped: list[SkippedElement] = Field(default_factory=list)

    def dialogue(self) -> list[tuple[Scene, Beat]]:
        """Return every spoken line with its scene, in order."""
        return [(s, b) for s in self.scenes for b in s.beats if b.kind == "dialogue"]

    def speakers(self) -> list[str]:
        seen: dict[str, None] = {}
        for _, beat in self.dialogue():
            if beat.character:
                seen.setdefault(beat.character, None)
        return list(seen)
