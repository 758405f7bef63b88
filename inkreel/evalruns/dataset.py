"""A dataset of stories to run the line over: what each item is and where it comes from.

Three layouts, told apart by what the path holds:

* a folder of ViStoryBench `story.json` files (`ID/story.json`, ViStoryBench's dataset
  layout; `inkreel.media.story_json` reads them, with their per-item metadata);
* a JSONL file of ideas, one item per line: `{"id": "lamp", "idea": "...", "language": "en",
  "length_s": 30, "tags": ["mystery"]}` (only `idea` is required; a line may also be a bare
  JSON string);
* a folder of `.fountain` screenplays, each with optional metadata in a JSON file of the same
  name (`heist.fountain` and `heist.json`: `{"language": "auto", "length_s": 60, "tags": []}`).

Item ids are unique within the dataset and name the item's folder in a run, so they are
restricted to letters, digits, `-`, `_` and `.`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from inkreel.evalruns.jsonl import read_jsonl
from inkreel.media.story_json import StoryError, load_story
from inkreel.settings import LANGUAGES

ItemKind = Literal["story", "idea", "fountain"]
ITEM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
DEFAULT_LENGTH_S = 30.0
MAX_IDEA_CHARS = 4000


class DatasetError(ValueError):
    """A dataset that cannot be read: one line naming the file (and line) and what is wrong."""


@dataclass(frozen=True)
class Item:
    """One story of a dataset, as the runner produces it."""

    id: str
    kind: ItemKind
    source: Path  # the story.json, the JSONL file or the .fountain file
    language: str  # "en", "zh", "ja", or "auto" for a screenplay whose dialogue decides
    length_s: float
    tags: tuple[str, ...] = ()
    idea: str | None = None  # the idea, for an idea item
    extra: dict[str, Any] = field(default_factory=dict)


def load_dataset(path: Path) -> list[Item]:
    """The items of the dataset at `path`, in a stable order (file order or sorted names)."""
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path} does not exist; give a folder or a .jsonl file.")
    if path.is_file():
        if path.suffix.lower() != ".jsonl":
            raise DatasetError(
                f"{path} is not a dataset: give a .jsonl file of ideas, a folder of "
                "story.json folders or a folder of .fountain screenplays."
            )
        items = _ideas(path)
    else:
        stories = sorted(p for p in path.glob("*/story.json") if p.is_file())
        screenplays = sorted(p for p in path.glob("*.fountain") if p.is_file())
        if stories and screenplays:
            raise DatasetError(f"{path} mixes story.json folders and .fountain files; split them.")
        if stories:
            items = [_story(p) for p in stories]
        elif screenplays:
            items = [_screenplay(p) for p in screenplays]
        else:
            raise DatasetError(
                f"{path} holds no story (ID/story.json) and no .fountain screenplay."
            )
    _check_unique(items, path)
    return items


def _story(path: Path) -> Item:
    try:
        story = load_story(path)
    except StoryError as exc:
        raise DatasetError(str(exc)) from None
    item_id = _checked_id(story.id, path)
    return Item(
        id=item_id,
        kind="story",
        source=path,
        language=story.language,
        length_s=story.length_s or DEFAULT_LENGTH_S,
        tags=tuple(story.tags),
    )


def _ideas(path: Path) -> list[Item]:
    items: list[Item] = []
    for where, raw in read_jsonl(path, DatasetError):
        items.append(_idea(raw, where, path, len(items) + 1))
    if not items:
        raise DatasetError(f"{path} holds no idea (one JSON object per line).")
    return items


def _idea(raw: Any, where: str, path: Path, number: int) -> Item:
    if isinstance(raw, str):
        raw = {"idea": raw}
    if not isinstance(raw, dict):
        raise DatasetError(f"{where}: an item is a JSON object with an 'idea' (or a string).")
    idea = raw.get("idea")
    if not isinstance(idea, str) or not idea.strip():
        raise DatasetError(f"{where}: 'idea' is missing or empty.")
    if len(idea) > MAX_IDEA_CHARS:
        raise DatasetError(
            f"{where}: the idea is {len(idea)} characters (at most {MAX_IDEA_CHARS})."
        )
    item_id = _checked_id(str(raw.get("id") or f"idea{number:03d}"), Path(where))
    language = _language(raw.get("language", "en"), where, screenplay=False)
    return Item(
        id=item_id,
        kind="idea",
        source=path,
        language=language,
        length_s=_length(raw.get("length_s"), where),
        tags=_tags(raw.get("tags"), where),
        idea=idea.strip(),
    )


def _screenplay(path: Path) -> Item:
    sidecar = path.with_suffix(".json")
    meta: dict[str, Any] = {}
    if sidecar.is_file():
        try:
            meta = json.loads(sidecar.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DatasetError(f"{sidecar}: not UTF-8 JSON ({exc}).") from None
        if not isinstance(meta, dict):
            raise DatasetError(f"{sidecar}: the metadata is a JSON object.")
    where = str(sidecar if meta else path)
    return Item(
        id=_checked_id(path.stem, path),
        kind="fountain",
        source=path,
        language=_language(meta.get("language", "auto"), where, screenplay=True),
        length_s=_length(meta.get("length_s"), where),
        tags=_tags(meta.get("tags"), where),
    )


def _checked_id(item_id: str, where: Path) -> str:
    if not ITEM_ID.match(item_id):
        raise DatasetError(
            f"{where}: item id {item_id!r} must be 1-64 letters, digits, '-', '_' or '.'."
        )
    return item_id


def _language(value: Any, where: str, *, screenplay: bool) -> str:
    known = (*LANGUAGES, "auto") if screenplay else LANGUAGES
    if value not in known:
        raise DatasetError(f"{where}: language {value!r} is not one of {', '.join(known)}.")
    return str(value)


def _length(value: Any, where: str) -> float:
    if value is None:
        return DEFAULT_LENGTH_S
    if isinstance(value, bool) or not isinstance(value, int | float) or not 5 <= value <= 3600:
        raise DatasetError(f"{where}: length_s {value!r} is not a number of seconds in 5-3600.")
    return float(value)


def _tags(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise DatasetError(f"{where}: tags is a list of strings.")
    return tuple(value)


def _check_unique(items: list[Item], path: Path) -> None:
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise DatasetError(f"{path}: item id {item.id!r} appears twice.")
        seen.add(item.id)
