"""The character designer: design specs, reference sheets and sets, kept in asset memory."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Generic, NamedTuple, TypeVar

from langgraph.runtime import Runtime
from pydantic import BaseModel, Field

from inkreel.agents.common import artifact, ask
from inkreel.agents.reference_art import plate_png, sheet_pngs
from inkreel.checks.answers import Issue, repair_record, validate_character, validate_location
from inkreel.drills import drifted_design
from inkreel.media import audio
from inkreel.memory import Match
from inkreel.project import digest, write_bytes_atomic, write_text_atomic
from inkreel.providers.limits import local_cpu
from inkreel.providers.prompt_io import tag
from inkreel.schemas import (
    Artifact,
    Character,
    CharacterDesign,
    CharacterDraft,
    Location,
    LocationDesign,
    LocationDraft,
    Scene,
    Script,
)
from inkreel.schemas.episode import EpisodeState
from inkreel.schemas.script import name_key
from inkreel.services import EpisodeContext, Services, services

AGENT = "character_designer"
CAST_RECORD = "cast.json"  # in the episode's folder: its names -> the stored assets
A = TypeVar("A", Character, Location)
# Reference sheets and set plates are always drawn by the procedural renderer: they are the
# references a hosted image model is given for keyframes, so they must be exact.
REFERENCE_ARTIST = ("offline", "inkreel-procedural-renderer")


def _write_png(data: bytes, path: Path) -> Path:
    return path if path.exists() else write_bytes_atomic(path, data)


def _story_context(script: Script, name: str) -> str:
    lines = [f"{b.character}: {b.text}" for _, b in script.dialogue() if b.character == name][:6]
    actions = [
        b.text for s in script.scenes for b in s.beats if b.kind == "action" and name in b.text
    ]
    return "\n".join([script.logline, *actions[:3], *lines])


def _design_character(
    ctx: Services, script: Script, name: str, cast: list[CharacterDesign]
) -> CharacterDesign:
    """Design `name`, told (and checked) to look unlike the cast designed so far, and as the
    story describes them when it does."""
    parts = [
        tag("character", name),
        tag("story", _story_context(script, name)),
        tag("language", script.language),
        tag("voices", ctx.providers.voices),
        tag("cast_so_far", [_brief(d) for d in cast]),
    ]
    if script.appearance.get(name):
        parts.insert(1, tag("appearance", script.appearance[name]))
    prompt = "\n".join(parts)
    check = lambda d: validate_character(d, name, cast)  # noqa: E731
    return ask(ctx, AGENT, CharacterDraft, prompt, check).value


def _draw_character(
    ctx: Services, design: CharacterDesign, seed: int, episode: str, attempt: int = 1
) -> tuple[Character, list[Artifact]]:
    """Draw a design's reference sheet: turnaround views, expressions, the sheet.

    `attempt` > 1 is a redraw the continuity checker asked for. Under the drift drill the
    first drawing may come out off-design (`drifted_design`), as an image model's might.
    """
    asset_id = f"chr-{digest(design)}"
    folder = ctx.project.assets("characters") / asset_id
    drift = ctx.providers.sheet_drift
    defect = drift.fault_for(f"{seed}:sheet:{design.name}", attempt) if drift else None
    drawn = design if defect is None else drifted_design(design, defect)
    if drawn is not design:
        folder = folder / f"drift-{digest(drawn)}"  # never mistaken for the true sheet
    with local_cpu():
        pngs = sheet_pngs(drawn)
    files: list[tuple[str, Path]] = []
    turnaround = {}
    for view, data in pngs.turnaround.items():
        turnaround[view] = ctx.project.rel(_write_png(data, folder / f"turnaround-{view}.png"))
        files.append(("reference_turnaround", folder / f"turnaround-{view}.png"))
    faces = {}
    for emotion, data in pngs.expressions.items():
        faces[emotion] = ctx.project.rel(_write_png(data, folder / f"expression-{emotion}.png"))
        files.append(("reference_expression", folder / f"expression-{emotion}.png"))
    sheet_path = _write_png(pngs.sheet, folder / "sheet.png")
    files.append(("character_sheet", sheet_path))
    character = Character(
        id=asset_id,
        design=design,
        turnaround=turnaround,
        expressions=faces,
        sheet=ctx.project.rel(sheet_path),
        first_episode=episode,
    )
    return character, [artifact(ctx, p, kind, AGENT, seed, REFERENCE_ARTIST) for kind, p in files]


class SheetTask(BaseModel):
    """Redraw one character's reference sheet, as the continuity checker asked."""

    name: str
    character: Character
    seed: int
    episode: str
    attempt: int = Field(ge=2)
    fix: str = ""


def redesign(
    ctx: Services, character: Character, changes: dict[str, str], seed: int, episode: str
) -> tuple[Character, list[Artifact]]:
    """A person's change to a character's look: the new design drawn (turnaround,
    expressions, sheet) and kept in the asset memory, so later episodes get it too."""
    design = character.design.model_copy(update=changes)
    drawn, files = _draw_character(ctx, design, seed, episode)
    drawn = drawn.model_copy(update={"first_episode": character.first_episode})
    ctx.memory.put_character(drawn, ctx.project.root)
    ctx.event("redesigned", name=design.name, **changes)
    return drawn, files


def redraw_sheet(task: SheetTask, runtime: Runtime[EpisodeContext]) -> dict[str, Any]:
    """Redraw a reference sheet that is off its design; keyframes are then checked against
    the new one (and redrawn by the director if they still do not match it)."""
    ctx = services(runtime)
    design = task.character.design
    character, files = _draw_character(ctx, design, task.seed, task.episode, task.attempt)
    character = character.model_copy(update={"first_episode": task.character.first_episode})
    ctx.memory.put_character(character, ctx.project.root)
    ctx.event("redrawn", name=task.name, fix=task.fix)
    return {
        "cast": {task.name: character},
        "sheet_attempts": {task.name: task.attempt},
        "artifacts": files,
    }


def _design_location(
    ctx: Services, scene: Scene, seed: int, episode: str, design: LocationDesign | None
) -> tuple[Location, list[Artifact]]:
    """Design the scene's set (or take `design`, a stored one repaired) and render its plates."""
    if design is None:
        prompt = "\n".join(
            [
                tag("location", scene.location),
                tag("interior", str(scene.interior).lower()),
                tag("heading", scene.heading),
            ]
        )
        design = ask(
            ctx,
            AGENT,
            LocationDraft,
            prompt,
            lambda d: validate_location(d, scene.location, scene.interior),
        ).value
    asset_id = f"loc-{digest(design)}"
    folder = ctx.project.assets("locations") / asset_id
    plates = {}
    paths = []
    for time in ("day", "dusk", "night"):
        with local_cpu():
            png = plate_png(design, time)
        path = _write_png(png, folder / f"plate-{time}.png")
        plates[time] = ctx.project.rel(path)
        paths.append(path)
    location = Location(id=asset_id, design=design, plates=plates, first_episode=episode)
    return location, [
        artifact(ctx, p, "location_plate", AGENT, seed, REFERENCE_ARTIST) for p in paths
    ]


class Recall(NamedTuple, Generic[A]):
    """A stored asset found for a script's name (repaired to today's types if it must be),
    or None; what was repaired (or why it could not be); the match it was found by."""

    found: A | None
    issues: list[Issue]
    match: Match | None = None


def _matched(ctx: Services, kind: str, name: str, match: Match | None) -> dict[str, Any] | None:
    """The summary entry (and event) of a name resolved by similarity, else None."""
    if match is None or name_key(match.name) == name_key(name):
        return None
    ctx.event("asset_matched", asset=kind, name=name, matched=match.name, score=match.score)
    return {"kind": kind, "name": name, "matched": match.name, "score": round(match.score, 3)}


def _recall_character(ctx: Services, name: str, script: Script) -> Recall[Character]:
    """The stored character of this name (else the one it resolves to by name and the
    story's description of them), repaired to today's types if it must be (a voice eSpeak
    does not have, a colour that does not parse), with what was repaired."""
    match = ctx.memory.resolve_character(name, script.appearance.get(name, ""))
    if match is None:
        return Recall(None, [])
    record = match.record
    design = CharacterDesign(name=match.name, voice=audio.voice_for(match.name, script.language))
    template = Character(id=str(record.get("id") or ""), design=design)
    checked = repair_record(Character, record, template)
    if not checked.ok:
        return Recall(None, checked.issues)
    return Recall(checked.value, checked.repairs, match)


def _recall_location(ctx: Services, scene: Scene) -> Recall[Location]:
    """The stored set of this name (else the one it resolves to by name and whether it is
    an interior), repaired to today's types and lit for every time."""
    where = "interior" if scene.interior else "exterior"
    match = ctx.memory.resolve_location(scene.location, f"{where} set")
    if match is None:
        return Recall(None, [])
    record = match.record
    design = LocationDesign(name=match.name, interior=scene.interior, lighting={})
    template = Location(id=str(record.get("id") or ""), design=design)
    stored = repair_record(Location, record, template)
    if not stored.ok:
        return Recall(None, stored.issues)
    found = stored.value
    lit = validate_location(found.design, found.design.name, found.design.interior)
    if lit.repairs:
        found = found.model_copy(update={"design": lit.value})
    return Recall(found, [*stored.repairs, *lit.repairs], match)


def write_cast_record(
    ctx: Services, episode: str, cast: dict[str, Character], locations: dict[str, Location]
) -> Path:
    """Record which stored assets the episode's names are (`inkreel cast` reads it)."""
    record = {
        "episode": episode,
        "characters": {n: {"asset": c.design.name, "id": c.id} for n, c in cast.items()},
        "locations": {n: {"asset": loc.design.name, "id": loc.id} for n, loc in locations.items()},
    }
    path = ctx.project.episode_dir(episode) / CAST_RECORD
    return write_text_atomic(path, json.dumps(record, indent=2, ensure_ascii=False))


def _brief(design: CharacterDesign) -> dict[str, str]:
    """What the next character's design must differ from."""
    return {
        "name": design.name,
        "hair_style": design.hair_style.value,
        "hair_colour": design.hair_colour,
        "outfit_colour": design.outfit_colour,
        "skin": design.skin,
        "eye_colour": design.eye_colour,
        "build": design.build,
        "face": design.face,
        "eyes": design.eyes,
        "voice": design.voice.variant,
    }


def design_cast(state: EpisodeState, runtime: Runtime[EpisodeContext]) -> dict[str, Any]:
    """Design or reuse every character and location of the script, registering new ones.

    New sets are designed while the characters are, and each character's sheet is drawn
    while the next one is designed; the character design calls go one after another, as each
    design sees the ones before it.
    """
    ctx = services(runtime)
    script = state["script"]
    request = state["request"]
    names = script.drawn()
    first_scenes: dict[str, Scene] = {}
    for scene in script.scenes:
        first_scenes.setdefault(scene.location, scene)
    recalled = {place: _recall_location(ctx, scene) for place, scene in first_scenes.items()}
    matched = [
        entry
        for place, recall in recalled.items()
        if (entry := _matched(ctx, "location", place, recall.match)) is not None
    ]
    # A set stored before and repaired now is rendered again under its repaired design.
    new_sets = {
        place: found.design if found is not None and repairs else None
        for place, (found, repairs, _) in recalled.items()
        if found is None or repairs
    }
    reused: dict[str, Character] = {}
    designs: dict[str, CharacterDesign] = {}
    artifacts: list[Artifact] = []
    workers = max(2, min(len(new_sets) + 1, ctx.providers.concurrency(ctx.settings)))
    # Leaving the pool waits for the calls in flight, so a stop (a budget cap, an error)
    # never leaves a call running past the end of the run, unrecorded in the ledger.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        sets = {
            place: pool.submit(
                _design_location, ctx, first_scenes[place], request.seed, request.episode, design
            )
            for place, design in new_sets.items()
        }
        drawing = {}
        for name in names:
            found, repairs, match = _recall_character(ctx, name, script)
            if found is not None and (entry := _matched(ctx, "character", name, match)):
                matched.append(entry)
            episode = request.episode
            if found is not None and not repairs:
                reused[name] = found
                designs[name] = found.design
            elif found is not None:  # stored before, invalid today: repaired and drawn again
                designs[name], episode = found.design, found.first_episode or episode
                for issue in repairs:
                    ctx.event("asset_repaired", name=name, issue=str(issue))
            else:
                designs[name] = _design_character(ctx, script, name, list(designs.values()))
            if name not in reused:
                drawing[name] = pool.submit(
                    _draw_character, ctx, designs[name], request.seed, episode
                )
            ctx.event("character", name=name, reused=name in reused)
        drawn = {name: job.result() for name, job in drawing.items()}
        designed_sets = {place: job.result() for place, job in sets.items()}
    cast, made = _register_cast(ctx, names, drawn, reused)
    locations, made_sets = _register_sets(ctx, list(first_scenes), designed_sets, recalled)
    artifacts += made + made_sets
    write_cast_record(ctx, request.episode, cast, locations)
    return {
        "cast": cast,
        "locations": locations,
        "cast_new": list(drawn),
        "cast_reused": list(reused),
        "cast_matched": matched,
        "artifacts": artifacts,
    }


def _register_cast(
    ctx: Services,
    names: list[str],
    drawn: dict[str, tuple[Character, list[Artifact]]],
    reused: dict[str, Character],
) -> tuple[dict[str, Character], list[Artifact]]:
    """The cast in script order: each newly drawn character stored in the asset memory."""
    cast: dict[str, Character] = {}
    artifacts: list[Artifact] = []
    for name in names:
        if name in drawn:
            character, files = drawn[name]
            ctx.memory.put_character(character, ctx.project.root)
            artifacts += files
            cast[name] = character
        else:
            cast[name] = reused[name]
    return cast, artifacts


def _register_sets(
    ctx: Services,
    places: list[str],
    designed: dict[str, tuple[Location, list[Artifact]]],
    recalled: dict[str, Any],
) -> tuple[dict[str, Location], list[Artifact]]:
    """The sets in order of first appearance: each newly designed one stored in the memory,
    the others as recalled."""
    locations: dict[str, Location] = {}
    artifacts: list[Artifact] = []
    for place in places:
        if place in designed:
            location, files = designed[place]
            ctx.memory.put_location(location, ctx.project.root)
            artifacts += files
        else:
            found = recalled[place].found
            assert found is not None
            location = found
        locations[place] = location
    return locations, artifacts
