"""Who speaks and who is seen in an imported screenplay: cues, groups, voices and presence.

Rules, applied after fountain-py has parsed the (normalised) text:
- A cue's name loses its forcing "@", dual-dialogue caret, extensions in ASCII or
  full-width brackets, a stray trailing ":" and a trailing "." (kept after JR, DR, MR...
  and initials such as "P.A.");
  inner whitespace is collapsed. Names that differ only in case, width or those marks are
  one speaker, spelled as first written.
- An extension such as (V.O.), (O.S.), (ON PHONE), （画外音） or (ЗК) makes the line
  off-screen (see `fountain_lang.OFF_SCREEN_EXTENSIONS`); (CONT'D) and (MORE) do not.
- A group cue ("EDWARD AND WILL", "EDWARD, WILL AND MAY", "EDWARD/WILL") is one line spoken
  by the first with the others as its chorus; each is a speaker.
- Voices, never designed or drawn, in `Script.voices`: non-person speakers
  (`fountain_lang.is_voice_name`), and speakers whose every line is off-screen and who are
  never named in any action (a narrator). All of a voice's lines are off-screen.
- A scene's characters are its on-screen speakers and chorus members, and the characters
  named in its action: case-insensitively as a whole word (possessives too) but only
  where the name is written with a capital, so "a brick wall" stages nobody; a name that is
  also an everyday word (`fountain_lang.AMBIGUOUS_NAMES`: WILL, MAY, HOPE...) counts only in
  capitals or capitalised away from the start of a sentence. CJK names match anywhere in
  the text (those scripts have no spaces between words); a name written in lower case
  (a forced "@character") is never looked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from inkreel.media import fountain_lang as lang
from inkreel.schemas.script import Scene, name_key

__all__ = ["Cast", "Cue", "cast_scenes", "parse_cue"]

_TRAILING_EXTENSION = re.compile(r"\s*[(（]([^()（）]*)[)）]\s*$")
_INITIALS = re.compile(r"^(?:[^\W\d_]\.){2,}$")
_SENTENCE_END = re.compile(r"(?:^|[.!?…。！？:\"“”])\s*$")


@dataclass(frozen=True)
class Cue:
    """A character cue as written: the speaker's name (maybe a group) and extensions."""

    name: str
    extensions: tuple[str, ...] = ()

    @property
    def off_screen(self) -> bool:
        return any(
            lang.extension_key(part) in lang.OFF_SCREEN_EXTENSIONS
            for extension in self.extensions
            for part in re.split(r"[;,、；，]", extension)
        )


def parse_cue(line: str) -> Cue:
    """Return the name and extensions of a cue line ("@MIKE (V.O.) ^" -> MIKE, V.O.)."""
    name = line.strip().removeprefix("@").strip()
    extensions: list[str] = []
    while True:
        name = name.rstrip("^:： \t")
        match = _TRAILING_EXTENSION.search(name)
        if not match:
            break
        extensions.insert(0, match.group(1).strip())
        name = name[: match.start()]
    return Cue(clean_name(name), tuple(extensions))


def clean_name(name: str) -> str:
    """Return a name with whitespace collapsed and stray trailing punctuation dropped."""
    name = " ".join(name.split()).rstrip(",;:：，")
    last = name.split()[-1] if name.split() else ""
    # The dot of "SAMMY JR." or "P.A." is part of the name; that of "ANANTH." is not.
    if last.endswith(".") and not (
        last.rstrip(".").upper() in lang.KEEP_DOT or _INITIALS.match(last)
    ):
        name = name.rstrip(".").rstrip()
    return name


def _identity(name: str) -> str:
    return name_key(name).rstrip(".")


def split_group(name: str) -> list[str]:
    """Return the members of a group cue, or the name alone when it is one speaker."""
    if lang.is_voice_name(name):
        return [name]
    parts = [clean_name(p) for p in lang.GROUP_SEPARATOR.split(name)]
    if len(parts) < 2 or not all(parts):
        return [name]
    if parts[0].upper() in lang.TITLES or any(lang.NOT_A_MEMBER.match(p) for p in parts[1:]):
        return [name]
    return list(dict.fromkeys(parts))


# ---------------------------------------------------------------------------------------
# Presence in the action


@lru_cache(maxsize=1024)
def _pattern(name: str) -> re.Pattern[str]:
    body = r"\s+".join(re.escape(word) for word in name.split())
    if lang.CJK_CHAR.search(name):
        return re.compile(rf"(?<![A-Za-z0-9]){body}(?![A-Za-z0-9])")
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


def _counts(name: str, text: str, match: re.Match[str]) -> bool:
    """Return whether a case-insensitive hit of `name` really names the character."""
    written = match.group(0)
    first = next((c for c in written if c.isalpha()), "")
    if first.islower():
        return False
    if name.upper() not in lang.AMBIGUOUS_NAMES or written.isupper():
        return True
    return not _SENTENCE_END.search(text[: match.start()])


def mentions(name: str, text: str) -> int | None:
    """Return where the action text first names the character, or None."""
    first = next((c for c in name if c.isalpha()), "")
    if not first or first.islower():
        return None
    for match in _pattern(name).finditer(text):
        if _counts(name, text, match):
            return match.start()
    return None


# ---------------------------------------------------------------------------------------
# The cast


@dataclass(frozen=True)
class Cast:
    """Who is drawn (characters) and who is only heard (voices), in order of first line."""

    characters: list[str]
    voices: list[str]


def _spell(scenes: list[Scene]) -> list[Scene]:
    """Return scenes whose dialogue beats name one spelling per speaker, groups split."""
    spelling: dict[str, str] = {}

    def canon(name: str) -> str:
        return spelling.setdefault(_identity(name), name)

    out = []
    for scene in scenes:
        beats = []
        for beat in scene.beats:
            if beat.kind == "dialogue" and beat.character:
                members = [canon(m) for m in split_group(beat.character)]
                chorus = [m for m in dict.fromkeys(members[1:]) if m != members[0]]
                beat = beat.model_copy(update={"character": members[0], "chorus": chorus})
            beats.append(beat)
        out.append(scene.model_copy(update={"beats": beats}))
    return out


def _speakers(scenes: list[Scene]) -> dict[str, list[bool]]:
    """Return each speaker (and chorus member) with the off-screen flag of each line."""
    lines: dict[str, list[bool]] = {}
    for scene in scenes:
        for beat in scene.beats:
            for name in [beat.character or "", *beat.chorus] if beat.kind == "dialogue" else []:
                if name:
                    lines.setdefault(name, []).append(beat.off_screen)
    return lines


def _named_in_action(name: str, scenes: list[Scene]) -> bool:
    return any(
        mentions(name, beat.text) is not None
        for scene in scenes
        for beat in scene.beats
        if beat.kind == "action"
    )


def _present(scene: Scene, characters: list[str]) -> list[str]:
    """Return who is staged in the scene: on-screen speakers and names in the action."""
    drawn = set(characters)
    seen: dict[str, None] = {}
    for beat in scene.beats:
        if beat.kind == "dialogue":
            if not beat.off_screen:
                for name in [beat.character or "", *beat.chorus]:
                    if name in drawn:
                        seen.setdefault(name, None)
            continue
        hits = sorted(
            (at, name) for name in characters if (at := mentions(name, beat.text)) is not None
        )
        for _, name in hits:
            seen.setdefault(name, None)
    return list(seen)


def cast_scenes(scenes: list[Scene]) -> tuple[list[Scene], Cast]:
    """Return the scenes with speakers resolved and who is present, and the cast."""
    scenes = _spell(scenes)
    lines = _speakers(scenes)
    voices = [
        name
        for name, flags in lines.items()
        if lang.is_voice_name(name) or (all(flags) and not _named_in_action(name, scenes))
    ]
    heard = set(voices)
    characters = [name for name in lines if name not in heard]
    resolved = []
    for scene in scenes:
        beats = [
            b.model_copy(update={"off_screen": True}) if b.character in heard else b
            for b in scene.beats
        ]
        scene = scene.model_copy(update={"beats": beats})
        scene.characters = _present(scene, characters)
        resolved.append(scene)
    return resolved, Cast(characters, voices)
