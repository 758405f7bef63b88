"""Design specs: characters (look and voice) and locations (sets in world coordinates)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, get_args

from PIL import ImageColor
from pydantic import BaseModel, BeforeValidator, Field, WithJsonSchema

# eSpeak NG voice variants shipped by espeakng-loader; a character's voice is one of them
# (a hosted speech model maps them to its own voices).
VoiceVariant = Literal[
    "m1", "m2", "m3", "m4", "m5", "m6", "m7", "Andy", "Denis",
    "f1", "f2", "f3", "f4", "f5", "Andrea", "belinda", "linda", "steph",
]  # fmt: skip
VOICE_VARIANTS: tuple[VoiceVariant, ...] = get_args(VoiceVariant)
MALE_VARIANTS = VOICE_VARIANTS[:9]
FEMALE_VARIANTS = VOICE_VARIANTS[9:]


def parse_colour(value: object) -> str:
    """Return a colour as '#rrggbb': hex (long or short), a CSS name or rgb()/hsl() text."""
    if not isinstance(value, str):
        raise ValueError(f"a colour is text such as '#aa3322' or 'teal', not {value!r}")
    try:
        rgb = ImageColor.getrgb(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a colour; use '#rrggbb' or a colour name") from None
    return "#{:02x}{:02x}{:02x}".format(*rgb[:3])


HexColour = Annotated[
    str,
    BeforeValidator(parse_colour),
    WithJsonSchema({"type": "string", "pattern": "^#[0-9a-f]{6}$"}),
]


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

    variant: VoiceVariant = Field(description="eSpeak NG voice variant: m* male, f* female.")
    pitch: int = Field(ge=0, le=99, description="Base pitch, 0-99 (50 is the voice's default).")
    speed: int = Field(ge=80, le=260, description="Speaking rate in words per minute.")


class CharacterDraft(BaseModel):
    """A character's look and voice, as a designer (a model) decides it."""

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


class CharacterDesign(CharacterDraft):
    """A character's design spec: the draft under the character's name in the script."""

    name: str


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


class LocationDraft(BaseModel):
    """A set, as a designer (a model) decides it."""

    interior: bool = True
    description: str = ""
    width: float = Field(default=12.0, gt=4, le=60, description="Width of the set in metres.")
    wall_colour: HexColour = "#d8c8a8"
    floor_colour: HexColour = "#8a7458"
    elements: list[SetElement] = Field(default_factory=list)
    lighting: dict[str, Lighting] = Field(
        description="Lighting keyed by time of day: day, dusk, night.",
        json_schema_extra={
            "required": ["day", "dusk", "night"],
            "propertyNames": {"enum": ["day", "dusk", "night"]},
        },
    )


class LocationDesign(LocationDraft):
    """A set's design spec: the draft under the location's name in the script."""

    name: str


# The usual size of each kind of set element: width, height, base height (metres), layer.
ELEMENT_SIZE: dict[str, tuple[float, float, float, str]] = {
    # kind: width, height, base y, layer
    "window": (1.4, 1.3, 1.0, "background"),
    "door": (1.1, 2.2, 0.0, "background"),
    "lamp": (0.4, 0.6, 2.2, "background"),
    "shelf": (1.6, 2.0, 0.0, "background"),
    "table": (1.6, 0.8, 0.0, "midground"),
    "painting": (1.0, 0.8, 1.4, "background"),
    "plant": (0.6, 1.2, 0.0, "foreground"),
    "counter": (2.4, 1.05, 0.0, "midground"),
    "column": (0.6, 3.0, 0.0, "background"),
    "bench": (1.8, 0.5, 0.0, "midground"),
    "building": (3.2, 5.0, 0.0, "background"),
    "tree": (1.8, 3.6, 0.0, "background"),
    "streetlamp": (0.3, 3.2, 0.0, "background"),
    "fence": (2.5, 1.0, 0.0, "midground"),
    "mountain": (6.0, 3.0, 0.0, "background"),
}


# What each time of day looks like when a set does not say (the offline engine's light).
STANDARD_LIGHTING: dict[str, Lighting] = {
    "day": Lighting(ambient="#fff6e8", sky="#9cc8ee", practicals_on=False, brightness=1.0),
    "dusk": Lighting(ambient="#ffc89a", sky="#e88a5a", practicals_on=True, brightness=0.8),
    "night": Lighting(ambient="#8090c0", sky="#1b2340", practicals_on=True, brightness=0.55),
}


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
