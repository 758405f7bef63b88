"""ViStoryBench `story.json` in: a story's characters and shots, in one language.

The layout is ViStoryBench's own (as read by `StoryDataset` in their
`vistorybench/dataset_loader/dataset_load.py`), one story per numbered folder
(`01/story.json`, with optional reference images under `01/image/<character key>/`):

    {
      "Story_type": {"en": "...", "ch": "..."},
      "Characters": {
        "<key>": {"name_en": "...", "name_ch": "...", "prompt_en": "...", "prompt_ch": "...",
                  "tag": "realistic_human", "num_of_appearances": 3}
      },
      "Shots": [
        {"index": 1,
         "Setting Description": {"en": "...", "ch": "..."},
         "Plot Correspondence": {"en": "...", "ch": "..."},
         "Shot Perspective Design": {"en": "...", "ch": "..."},
         "Characters Appearing": {"en": ["<name_en>", ...], "ch": ["<name_ch>", ...]},
         "Static Shot Description": {"en": "...", "ch": "..."}}
      ]
    }

Shot texts are objects keyed by language; character fields carry the language as a suffix.
ViStoryBench's Chinese code is `ch`; here it is read as our language `zh`. The character
key is by their convention the English name, and "Characters Appearing" lists names in each
language (their scorer matches the `en` list against the keys); a name is resolved here
against the key, `name_en` or the name in the story's language. Shots carry `index` 1, 2,
3, ... in file order, which their scorer uses to find each shot's image.

Japanese (not in ViStoryBench) uses the same pattern with `ja`: `"ja"` in the shot objects,
`name_ja` and `prompt_ja` on characters. A Japanese text that is missing falls back to the
English one, so a story can be translated field by field. English and Chinese do not fall
back: a missing `en` or `ch` text is an error, as it would leave the story half in another
language. An English name may be left out when the key is the English name.

Per-item metadata for inkreel lives under an extra top-level key, which ViStoryBench's
loader ignores (it reads only "Story_type", "Characters" and "Shots"):

    "inkreel": {"language": "ja", "length_s": 30, "tags": ["mystery"],
                "title": {"en": "...", "ja": "..."}}

All of it is optional: `title` is a string or an object keyed like the shot texts (en, ch,
ja; the story id when there is none); `language` is en, zh or ja (otherwise English when
there are English texts); `length_s` is the target length in seconds (5-3600); `tags` are
free words (genre and so on). The language given to `load_story` wins over the metadata.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from inkreel.settings import LANGUAGES

__all__ = [
    "FILE_LANGUAGE",
    "METADATA_KEY",
    "Story",
    "StoryCharacter",
    "StoryError",
    "StoryShot",
    "load_story",
    "read_story",
]

STORY_FILE = "story.json"
METADATA_KEY = "inkreel"
# Our language code -> the code ViStoryBench writes in story.json.
FILE_LANGUAGE = {"en": "en", "zh": "ch", "ja": "ja"}
# Languages whose missing texts are taken from another language, in order.
FALLBACK = {"en": (), "zh": (), "ja": ("en",)}
SHOT_TEXTS = {
    "setting": "Setting Description",
    "plot": "Plot Correspondence",
    "perspective": "Shot Perspective Design",
    "description": "Static Shot Description",
}
APPEARING = "Characters Appearing"
METADATA_FIELDS = ("language", "length_s", "tags", "title")
MIN_LENGTH_S, MAX_LENGTH_S = 5, 3600


class StoryError(ValueError):
    """A story.json that cannot be used: one line naming the file and what is wrong."""


class StoryCharacter(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str  # the key of the character in story.json
    name: str  # display name in the story's language
    prompt: str  # appearance description in the story's language
    tags: list[str]  # ViStoryBench's "tag" (e.g. "realistic_human"), as a list


class StoryShot(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int  # 1-based order in the story
    setting: str
    plot: str
    perspective: str  # e.g. "close-up", "medium shot, low angle"
    characters: list[str]  # StoryCharacter.name of each character appearing, in file order
    description: str  # the static shot description


class Story(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str  # the story's folder name
    language: str  # "en", "zh" or "ja"
    title: str
    characters: list[StoryCharacter]
    shots: list[StoryShot]
    story_type: str = ""  # ViStoryBench's "Story_type", e.g. "Children's Picture Books"
    length_s: float | None = None
    tags: list[str] = []


def load_story(path: Path, language: str | None = None) -> Story:
    """Read a ViStoryBench story.json (or the folder holding it) in one language."""
    path = Path(path)
    if path.is_dir():
        path = path / STORY_FILE
        if not path.is_file():
            raise StoryError(f"{path.parent} holds no {STORY_FILE}.")
    elif not path.exists():
        raise StoryError(f"{path} does not exist; give a story.json file or its folder.")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StoryError(f"cannot read {path}: {exc.strerror}; check its permissions.") from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise StoryError(f"{path} is saved as UTF-16; save it as UTF-8.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StoryError(
            f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8."
        ) from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StoryError(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
        ) from None
    story_id = path.parent.resolve().name
    try:
        return read_story(raw, story_id, language)
    except StoryError as exc:
        raise StoryError(f"{path}: {exc}") from None


def read_story(raw: Any, story_id: str, language: str | None = None) -> Story:
    """Map the parsed JSON of a story.json onto a Story in one language."""
    if not isinstance(raw, dict):
        raise StoryError("the top level is not a JSON object with 'Characters' and 'Shots'.")
    missing = [key for key in ("Characters", "Shots") if key not in raw]
    if missing:
        raise StoryError(f"missing required {_keys(missing)} at the top level.")
    meta = _metadata(raw.get(METADATA_KEY))
    if language is not None and language not in LANGUAGES:
        raise StoryError(f"language {language!r} is not one of {', '.join(LANGUAGES)}.")
    lang = language or meta.get("language") or _guess_language(raw)
    codes = (FILE_LANGUAGE[lang], *(FILE_LANGUAGE[c] for c in FALLBACK[lang]))
    characters, lookup = _characters(raw["Characters"], codes)
    shots = _shots(raw["Shots"], codes, characters, lookup)
    return Story(
        id=story_id,
        language=lang,
        title=_title(meta.get("title"), codes) or story_id,
        characters=characters,
        shots=shots,
        story_type=_optional_text(raw.get("Story_type"), codes),
        length_s=meta.get("length_s"),
        tags=meta.get("tags", []),
    )


def _metadata(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    where = f"'{METADATA_KEY}'"
    if not isinstance(value, dict):
        raise StoryError(f"{where} is not a JSON object of metadata.")
    unknown = [key for key in value if key not in METADATA_FIELDS]
    if unknown:
        raise StoryError(
            f"{where} has unknown {_keys(unknown)}; known: {', '.join(METADATA_FIELDS)}."
        )
    language = value.get("language")
    if language is not None and language not in LANGUAGES:
        raise StoryError(f"{where}: language {language!r} is not one of {', '.join(LANGUAGES)}.")
    length = value.get("length_s")
    if length is not None and (
        isinstance(length, bool)
        or not isinstance(length, int | float)
        or not MIN_LENGTH_S <= length <= MAX_LENGTH_S
    ):
        raise StoryError(
            f"{where}: length_s {length!r} is not a number of seconds in "
            f"{MIN_LENGTH_S}-{MAX_LENGTH_S}."
        )
    tags = value.get("tags")
    if tags is not None and (
        not isinstance(tags, list) or not all(isinstance(t, str) and t.strip() for t in tags)
    ):
        raise StoryError(f"{where}: tags is a list of non-empty strings.")
    title = value.get("title")
    if title is not None and not (
        isinstance(title, str)
        or (isinstance(title, dict) and all(isinstance(t, str) for t in title.values()))
    ):
        raise StoryError(f"{where}: title is a string or an object of strings by language.")
    meta = dict(value)
    if length is not None:
        meta["length_s"] = float(length)
    if tags is not None:
        meta["tags"] = [t.strip() for t in tags]
    return meta


def _guess_language(raw: dict[str, Any]) -> str:
    """English if the story has English texts, else the first language it has texts in."""
    found: set[str] = set()
    characters = raw["Characters"] if isinstance(raw["Characters"], dict) else {}
    for entry in characters.values():
        if isinstance(entry, dict):
            found.update(k.rsplit("_", 1)[1] for k in entry if k.startswith(("name_", "prompt_")))
    shots = raw["Shots"] if isinstance(raw["Shots"], list) else []
    for shot in shots[:1]:
        if isinstance(shot, dict):
            for field in (*SHOT_TEXTS.values(), APPEARING):
                if isinstance(shot.get(field), dict):
                    found.update(shot[field])
    for lang in LANGUAGES:
        if FILE_LANGUAGE[lang] in found:
            return lang
    raise StoryError(
        "no text in a known language; shot texts are objects keyed by 'en', 'ch' or 'ja'."
    )


def _characters(
    value: Any, codes: tuple[str, ...]
) -> tuple[list[StoryCharacter], dict[str, StoryCharacter]]:
    """The characters, and each by every name a shot may call it (key, English, display)."""
    if not isinstance(value, dict):
        raise StoryError("'Characters' is not a JSON object of characters by key.")
    characters: list[StoryCharacter] = []
    lookup: dict[str, StoryCharacter] = {}
    by_name: dict[str, str] = {}
    for key, entry in value.items():
        where = f"character {key!r}"
        if not key.strip():
            raise StoryError("a character has an empty key in 'Characters'.")
        if not isinstance(entry, dict):
            raise StoryError(f"{where} is not a JSON object.")
        name = _suffixed(entry, "name", codes, where, default=key if "en" in codes else None)
        prompt = _suffixed(entry, "prompt", codes, where)
        if name in by_name:
            raise StoryError(f"characters {by_name[name]!r} and {key!r} share the name {name!r}.")
        by_name[name] = key
        character = StoryCharacter(
            key=key, name=name, prompt=prompt, tags=_tags(entry.get("tag"), where)
        )
        characters.append(character)
        for alias in (key, entry.get("name_en")):
            if isinstance(alias, str) and alias.strip():
                lookup.setdefault(alias.strip(), character)
    for character in characters:  # a display name wins over another character's key
        lookup[character.name] = character
    return characters, lookup


def _suffixed(
    entry: dict[str, Any],
    field: str,
    codes: tuple[str, ...],
    where: str,
    default: str | None = None,
) -> str:
    """The first of `field_<code>` present, for the codes in order."""
    for code in codes:
        key = f"{field}_{code}"
        if key in entry:
            value = entry[key]
            if not isinstance(value, str) or not value.strip():
                raise StoryError(f"{where}: {key!r} is empty or not a string.")
            return value.strip()
    if default is not None:
        return default.strip()
    keys = [f"{field}_{code}" for code in codes]
    raise StoryError(f"{where}: missing required key {_names(keys, 'or')}.")


def _tags(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [t.strip() for t in value.split(",") if t.strip()]
    if isinstance(value, list) and all(isinstance(t, str) for t in value):
        return [t.strip() for t in value if t.strip()]
    raise StoryError(f"{where}: 'tag' is a string or a list of strings.")


def _shots(
    value: Any,
    codes: tuple[str, ...],
    characters: list[StoryCharacter],
    lookup: dict[str, StoryCharacter],
) -> list[StoryShot]:
    if not isinstance(value, list):
        raise StoryError("'Shots' is not a JSON list of shots.")
    if not value:
        raise StoryError("'Shots' is empty; a story needs at least one shot.")
    shots: list[StoryShot] = []
    for position, shot in enumerate(value, start=1):
        where = f"shot {position}"
        if not isinstance(shot, dict):
            raise StoryError(f"{where} is not a JSON object.")
        required = ["index", *SHOT_TEXTS.values(), APPEARING]
        missing = [key for key in required if key not in shot]
        if missing:
            raise StoryError(f"{where}: missing required {_keys(missing)}.")
        index = shot["index"]
        if isinstance(index, str) and index.strip().isdigit():
            index = int(index)
        if isinstance(index, bool) or index != position:
            raise StoryError(
                f"{where} has index {shot['index']!r}; shots are numbered 1, 2, 3, ... in order."
            )
        texts = {
            name: _text(shot[field], field, codes, where) for name, field in SHOT_TEXTS.items()
        }
        appearing = _appearing(shot[APPEARING], codes, where)
        names: list[str] = []
        for name in appearing:
            character = lookup.get(name.strip())
            if character is None:
                known = ", ".join(repr(c.name) for c in characters) or "none"
                raise StoryError(
                    f"{where} names character {name!r}, who is not in 'Characters' "
                    f"(known: {known})."
                )
            names.append(character.name)
        shots.append(StoryShot(index=position, characters=names, **texts))
    return shots


def _text(value: Any, field: str, codes: tuple[str, ...], where: str) -> str:
    """A shot's text in the first of `codes` it has, which must not be empty."""
    if not isinstance(value, dict):
        raise StoryError(
            f'{where}: {field!r} is not an object of texts by language ({{"en": ...}}).'
        )
    for code in codes:
        if code in value:
            text = value[code]
            if not isinstance(text, str) or not text.strip():
                raise StoryError(f"{where}: {field!r} ({code!r}) is empty or not a string.")
            return text.strip()
    raise StoryError(f"{where}: {field!r} has no {_names(codes, 'or')} text.")


def _appearing(value: Any, codes: tuple[str, ...], where: str) -> list[str]:
    if not isinstance(value, dict):
        raise StoryError(
            f'{where}: {APPEARING!r} is not an object of name lists ({{"en": [...]}}).'
        )
    for code in codes:
        if code in value:
            names = value[code]
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise StoryError(f"{where}: {APPEARING!r} ({code!r}) is not a list of names.")
            return names
    raise StoryError(f"{where}: {APPEARING!r} has no {_names(codes, 'or')} list.")


def _optional_text(value: Any, codes: tuple[str, ...]) -> str:
    if isinstance(value, dict):
        for code in codes:
            text = value.get(code)
            if isinstance(text, str) and text.strip():
                return text.strip()
    return ""


def _title(value: Any, codes: tuple[str, ...]) -> str:
    if isinstance(value, str):
        return value.strip()
    return _optional_text(value, codes)


def _names(keys: Any, joiner: str = "and") -> str:
    quoted = [repr(k) for k in keys]
    if len(quoted) == 1:
        return quoted[0]
    return f"{', '.join(quoted[:-1])} {joiner} {quoted[-1]}"


def _keys(keys: list[str]) -> str:
    return f"key {keys[0]!r}" if len(keys) == 1 else f"keys {_names(keys)}"
