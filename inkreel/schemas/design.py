"""Design specs: characters (look and voice) and locations (sets in world coordinates)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

HexColour = str  # "#rrggbb"


class HairStyle(StrEnum):
    short = "short"
    long = "long"
    ponytail = "ponytail"
    bun = "bun"
    spiky = "spiky"
    bob = "bob"
    bald = "bald"


class Voice(BaseModel):
    """A fixed voice: the same character sounds the same in every episode."""

    variant: str = Field(description="eSpeak NG voice variant name, e.g. 'm3' or 'f2'.")
    pitch: int = Field(ge=0, le=99, description="Base pitch, 0-99 (50 is the voice's default).")
    speed: int = Field(ge=80, le=260, description="Speaking rate in words per minute.")


class CharacterDesign(BaseModel):
    name: str
    role: str = Field(default="", description="One phrase: who they are in the story.")
    build: Literal["slim", "average", "broad"] = "average"
    height: float = Field(default=1.0, ge=0.8, le=1.2, description="Relative to an average adult.")
    skin: HexColour = "#f2d3b3"
    face: Literal["oval", "round", "long", "square"] = Field(
        default="oval", description="Head shape; differs between characters."
    )
    eyes: Literal["round", "almond", "narrow", "sleepy"] = Field(
        default="round", description="Eye shape; differs between characters."
    )
    hair_style: HairStyle = HairStyle.short
    hair_colour: HexColour = "#2b2b2b"
    eye_colour: HexColour = "#3b2a1a"
    outfit: str = Field(default="", description="What they wear, in a few words.")
    outfit_colour: HexColour = "#446688"
    accent_colour: HexColour = Field(default="#cc4444", description="Trim, tie, sash or scarf.")
    accessories: list[Literal["glasses", "scarf", "hat", "earrings", "headband", "beard"]] = Field(
        default_factory=list
    )
    voice: Voice


class Layer(StrEnum):
    background = "background"
    midground = "midground"
    foreground = "foreground"


class SetElement(BaseModel):
    """A fixed piece of the set placed in world coordinates (metres)."""

    kind: Literal[
        "window",
        "door",
        "column",
        "lamp",
        "shelf",
        "table",
        "plant",
        "painting",
        "tree",
        "building",
        "streetlamp",
        "fence",
        "mountain",
        "counter",
        "bench",
    ]
    x: float = Field(description="Centre along the set's width, metres from the left edge.")
    y: float = Field(default=0.0, description="Height of the element's base above the floor.")
    width: float = Field(gt=0)
    height: float = Field(gt=0)
    layer: Layer = Layer.background
    colour: HexColour = "#8a6a4a"


class Lighting(BaseModel):
    ambient: HexColour = Field(description="Overall tint of the light.")
    sky: HexColour = Field(description="Sky or far wall colour at this time.")
    practicals_on: bool = Field(description="Lamps and windows glow.")
    brightness: float = Field(ge=0.2, le=1.2)


class LocationDesign(BaseModel):
    name: str
    interior: bool = True
    description: str = ""
    width: float = Field(default=12.0, gt=4, description="Width of the set in metres.")
    wall_colour: HexColour = "#d8c8a8"
    floor_colour: HexColour = "#8a7458"
    elements: list[SetElement] = Field(default_factory=list)
    lighting: dict[str, Lighting] = Field(
        description="Lighting keyed by time of day: day, dusk, night."
    )


class Character(BaseModel):
    """A character asset in the project: design plus rendered references."""

    id: str
    design: CharacterDesign
    turnaround: dict[str, str] = Field(
        default_factory=dict, description="View (front, three_quarter, side, back) -> file."
    )
    expressions: dict[str, str] = Field(default_factory=dict, description="Emotion -> file.")
    sheet: str = ""
    first_episode: str = ""


class Location(BaseModel):
    id: str
    design: LocationDesign
    plates: dict[str, str] = Field(default_factory=dict, description="Time of day -> master plate.")
    first_episode: str = ""
