"""The series' cast: every stored character and set, its reference files and its episodes.

    cast = series_cast(Project.open(root, create=False))

Assets come from the project's asset memory; which episodes used each comes from the record
the character designer writes in each episode's folder (`cast.json`: the episode's names ->
the stored assets, also those resolved from a name written differently), or, for an episode
made before that record existed, from its manifest's summary (the names it designed and
reused, and its sets) matched by name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from inkreel.agents.character_designer import CAST_RECORD
from inkreel.memory import AssetMemory
from inkreel.project import Project, read_json_object
from inkreel.schemas.script import name_key
from inkreel.services import open_memory


class CastEntry(BaseModel):
    """One stored asset of the series."""

    kind: Literal["character", "location"]
    name: str
    id: str
    files: list[str] = Field(description="Sheet (a character) or plates (a set), project-relative.")
    first_episode: str = ""
    episodes: list[str] = Field(default_factory=list, description="Episodes it appears in.")
    also_named: list[str] = Field(
        default_factory=list, description="Other names episodes gave it (resolved to it)."
    )


class SeriesCast(BaseModel):
    project: str
    characters: list[CastEntry]
    locations: list[CastEntry]


def series_cast(project: Project, memory: AssetMemory | None = None) -> SeriesCast:
    """The series' characters and locations with their files and episodes (name order)."""
    uses = episode_uses(project)
    embedded = project.storage.memory is None
    if memory is None and embedded and not project.memory_dir.exists():
        return SeriesCast(project=str(project.root), characters=[], locations=[])
    memory = memory or open_memory(project)
    characters = [_entry("character", r, uses) for r in memory.character_records()]
    locations = [_entry("location", r, uses) for r in memory.location_records()]
    return SeriesCast(project=str(project.root), characters=characters, locations=locations)


# (kind, name key of the stored asset) -> episode -> the names that episode gave it
Uses = dict[tuple[str, str], dict[str, list[str]]]


def episode_uses(project: Project) -> Uses:
    """Which stored assets each episode used, under which names."""
    uses: Uses = {}
    folder = project.root / "episodes"
    for episode in sorted(p for p in folder.glob("*") if p.is_dir()) if folder.is_dir() else []:
        for kind, stored, called in _episode_assets(episode):
            names = uses.setdefault((kind, name_key(stored)), {}).setdefault(episode.name, [])
            if called not in names:
                names.append(called)
    return uses


def _episode_assets(folder: Path) -> list[tuple[str, str, str]]:
    """(kind, stored name, the episode's name for it) of one episode's folder."""
    record = read_json_object(folder / CAST_RECORD)
    if record is not None:
        return [
            (kind, str(entry.get("asset") or called), str(called))
            for kind, key in (("character", "characters"), ("location", "locations"))
            for called, entry in (record.get(key) or {}).items()
            if isinstance(entry, dict)
        ]
    summary = (read_json_object(folder / "manifest.json") or {}).get("summary") or {}
    people = [*summary.get("characters_new", []), *summary.get("characters_reused", [])]
    return [("character", str(n), str(n)) for n in people] + [
        ("location", str(n), str(n)) for n in summary.get("locations", [])
    ]


def _entry(kind: Literal["character", "location"], record: dict[str, Any], uses: Uses) -> CastEntry:
    design = record.get("design") or {}
    name = str(design.get("name") or "")
    if kind == "character":
        files = [str(record["sheet"])] if record.get("sheet") else []
    else:
        files = [str(p) for p in (record.get("plates") or {}).values()]
    episodes = uses.get((kind, name_key(name)), {})
    also = [n for names in episodes.values() for n in names if name_key(n) != name_key(name)]
    return CastEntry(
        kind=kind,
        name=name,
        id=str(record.get("id") or ""),
        files=files,
        first_episode=str(record.get("first_episode") or ""),
        episodes=list(episodes),
        also_named=list(dict.fromkeys(also)),
    )
