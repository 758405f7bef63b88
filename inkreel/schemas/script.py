"""The screenplay: scenes made of action and dialogue beats."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from inkreel.schemas.framing import Angle, Framing

# A delivery note that puts the line somewhere else: its speaker is heard, not seen.
OFFSCREEN_NOTE = re.compile(
    r"\b(?:V\.?\s?O|O\.?\s?S|O\.?\s?C|voice[- ]?over|off[- ]?screen|on the phone|over the "
    r"phone|on the radio|recorded)\b|画外音|电话|電話|録音",
    re.IGNORECASE,
)


def name_key(name: str) -> str:
    """The identity of a name: NFKC, case-folded, inner whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def prop_key(prop: str) -> str:
    """A prop's name without article or possessive, case-folded ("the Seal" -> "seal")."""
    words = prop.casefold().split()
    if words and words[0] in ("the", "a", "an", "his", "her", "their", "my", "our", "your"):
        words = words[1:]
    return " ".join(words)


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


class ShotDirection(BaseModel):
    """A shot decided before the director's turn (a story's own shot list): the director
    shoots its beat as exactly this one shot and plans only what it leaves open."""

    number: int = Field(ge=1, description="The shot's number in the story, from 1.")
    framing: Framing | None = Field(
        default=None, description="The shot size asked for; empty: the director's choice."
    )
    angle: Angle | None = Field(
        default=None, description="The camera angle asked for; empty: the director's choice."
    )
    on_screen: list[str] = Field(
        default_factory=list,
        description="Exactly who is seen in the shot, names from the cast list (may be nobody).",
    )
    perspective: str = Field(default="", description="The story's own words for the camera.")
    picture: str = Field(
        default="",
        description="What the shot shows, as the story tells it; kept when a line is "
        "written for the shot, so the picture is not lost to the words.",
    )


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
    off_screen: bool = Field(
        default=False,
        description="The speaker is heard, not seen: a voice-over, a voice from off screen, "
        "over a phone or a loudspeaker. Dialogue only.",
    )
    chorus: list[str] = Field(
        default_factory=list,
        description="Others who say the same line at the same time as the speaker (a cue "
        "such as 'EDWARD AND WILL'), names from the cast list. Dialogue only.",
    )

    def unseen(self) -> bool:
        """Whether this is a line whose speaker is heard but not seen: marked off screen, or
        delivered from elsewhere by its note ("on the phone", "V.O.")."""
        return self.kind == "dialogue" and (
            self.off_screen
            or bool(self.parenthetical and OFFSCREEN_NOTE.search(self.parenthetical))
        )

    def voices(self) -> list[str]:
        """Who says this line: the speaker, then the chorus; nobody for action."""
        if self.kind != "dialogue" or not self.character:
            return []
        return list(dict.fromkeys([self.character, *self.chorus]))

    addressee: str | None = Field(
        default=None,
        description="Who the line is spoken to, a name from the cast list; dialogue only. "
        "Leave empty when it is said to nobody in particular.",
    )
    props: list[str] = Field(
        default_factory=list,
        description="Objects handled or shown in this beat (not merely talked about), named "
        "the same way every time, e.g. 'letter'.",
    )
    introduces: list[str] = Field(
        default_factory=list,
        description="Props that first come into the story in this beat (found, brought in, "
        "handed over). Props never introduced are taken to be there from the start.",
    )
    destroys: list[str] = Field(
        default_factory=list,
        description="Props destroyed, lost or taken out of the story in this beat; they are "
        "not used again unless a later beat introduces them anew.",
    )
    enters: list[str] = Field(
        default_factory=list,
        description="Characters who come into the scene in this beat (they are not there "
        "before it). Also list them in the scene's characters.",
    )
    exits: list[str] = Field(
        default_factory=list,
        description="Characters who leave the scene in this beat; they do not speak or act "
        "again in the scene unless a later beat has them enter.",
    )
    moves: list[str] = Field(
        default_factory=list,
        description="Characters who walk or move to another spot in the set in this beat.",
    )
    dies: list[str] = Field(
        default_factory=list,
        description="Characters who die, or leave the story for good, in this beat; they "
        "appear in no later scene except a flashback.",
    )
    # Not in the schema a writer (a model) sees: only a story's import sets it.
    shot: SkipJsonSchema[ShotDirection | None] = Field(
        default=None, description="The shot this beat must be, when the story decided it."
    )


def _required(*names: str) -> Callable[[dict[str, Any]], None]:
    """Mark fields required in the JSON schema models see, though loading defaults them: a
    server that constrains decoding with the schema lets a model leave out any optional key,
    and a small model then writes scenes without beats."""

    def edit(schema: dict[str, Any]) -> None:
        schema["required"] = list(dict.fromkeys([*schema.get("required", []), *names]))

    return edit


class Scene(BaseModel):
    model_config = ConfigDict(json_schema_extra=_required("characters", "beats"))

    number: int = Field(ge=1)
    heading: str = Field(description="Scene heading, e.g. 'INT. TEA HOUSE - NIGHT'.")
    location: str = Field(description="Name of the place, reused verbatim when a set recurs.")
    interior: bool = True
    time_of_day: TimeOfDay = TimeOfDay.day
    act: Act = Field(default=Act.development, description="Where the scene sits in the story.")
    characters: list[str] = Field(
        default_factory=list,
        description="Everyone present, including anyone who enters partway through.",
    )
    # Told to models (minItems); not enforced on load: an imported title card has no beats.
    beats: list[Beat] = Field(default_factory=list, json_schema_extra={"minItems": 1})
    continuous: bool = Field(
        default=False,
        description="The scene follows straight on from the previous one with no time "
        "passing (heading ends CONTINUOUS or SAME): the time of day and what everyone wears "
        "carry over.",
    )
    flashback: bool = Field(
        default=False,
        description="The scene happens before the scenes around it (a flashback or memory).",
    )
    wardrobe: dict[str, str] = Field(
        default_factory=dict,
        description="Character name -> what they wear in this scene, in a few words, e.g. "
        "'grey raincoat over a school uniform'. Repeat it word for word while nothing "
        "gives them time to change.",
    )

    def presence(self) -> list[set[str]]:
        """Return who is in the scene during each beat, following entrances and exits."""
        first: dict[str, str] = {}
        for beat in self.beats:
            for name in beat.enters:
                first.setdefault(name, "enters")
            for name in [*beat.exits, *beat.dies]:
                first.setdefault(name, "leaves")
        # Someone whose first event is an entrance is not there when the scene opens.
        here = {c for c in self.characters if first.get(c) != "enters"}
        during = []
        for beat in self.beats:
            here |= set(beat.enters)
            during.append(set(here))
            here -= set(beat.exits) | set(beat.dies)
        return during


class SkippedElement(BaseModel):
    """A part of an imported screenplay that has no place in an episode."""

    line: int
    kind: str
    text: str


class ScriptDraft(BaseModel):
    """A script as a screenwriter (a model) writes it: only what the writer decides."""

    title: str
    logline: str = ""
    characters: list[str] = Field(
        default_factory=list, description="Every character who appears, main characters first."
    )
    scenes: list[Scene] = Field(min_length=1)


class ShotLine(BaseModel):
    """One line of dialogue said in one of a story's shots."""

    shot: int = Field(description="The number of the shot the line is said in.")
    character: str = Field(description="Who says it: one of the characters on screen in that shot.")
    text: str = Field(description="The words said aloud, in the story's language.")
    emotion: Emotion = Field(default=Emotion.neutral, description="How the line is played.")
    addressee: str | None = Field(
        default=None,
        description="Who it is said to, a character in the same scene; empty when it is said "
        "to nobody in particular.",
    )


class ShotLines(BaseModel):
    """Dialogue for a story whose shots are already decided: at most one line per shot."""

    lines: list[ShotLine] = Field(
        default_factory=list,
        description="The lines in shot order; shots without a line are left out.",
    )


class Script(ScriptDraft):
    """The episode's screenplay: a draft, or an imported one, with its bookkeeping."""

    language: str = Field(
        default="en",
        description="Language of the dialogue: a code from `inkreel languages` (ISO 639-1 "
        "such as en, zh, ja, ru, te; 639-3 where there is none, such as yue), detected from "
        "the dialogue when a screenplay is imported.",
    )
    source: Literal["idea", "fountain", "story"] = "idea"
    skipped: list[SkippedElement] = Field(default_factory=list)
    voices: list[str] = Field(
        default_factory=list,
        description="Speakers who are only ever heard (a narrator, an intercom, a crowd): "
        "they get a voice but are not designed or drawn.",
    )
    appearance: dict[str, str] = Field(
        default_factory=dict,
        description="Character name -> how the story describes their look (hair, clothes, "
        "build); their design follows it.",
    )

    def dialogue(self) -> list[tuple[Scene, Beat]]:
        """Return every spoken line with its scene, in order."""
        return [(s, b) for s in self.scenes for b in s.beats if b.kind == "dialogue"]

    def speakers(self) -> list[str]:
        seen: dict[str, None] = {}
        for _, beat in self.dialogue():
            for name in beat.voices():
                seen.setdefault(name, None)
        return list(seen)

    def drawn(self) -> list[str]:
        """Everyone who is designed and drawn: the cast and speakers, less the voices."""
        heard = set(self.voices)
        return [n for n in dict.fromkeys([*self.characters, *self.speakers()]) if n not in heard]
