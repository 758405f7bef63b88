"""The character designer: design specs, reference sheets and sets, kept in asset memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime
from PIL import Image

from inkreel.agents.common import artifact, ask
from inkreel.graphs.state import EpisodeContext, EpisodeState
from inkreel.media import renderer
from inkreel.project import atomic_path, digest
from inkreel.providers.prompt_io import tag
from inkreel.schemas import (
    Artifact,
    Character,
    CharacterDesign,
    Location,
    LocationDesign,
    Scene,
    Script,
)

AGENT = "character_designer"
# Reference sheets and set plates are always drawn by the procedural renderer: they are the
# references a hosted image model is given for keyframes, so they must be exact.
REFERENCE_ARTIST = ("offline", "inkreel-procedural-renderer")


def _save_png(image: Image.Image, path: Path) -> Path:
    if not path.exists():
        with atomic_path(path) as tmp:
            image.save(tmp, format="PNG", optimize=True)
    return path


def _story_context(script: Script, name: str) -> str:
    lines = [f"{b.character}: {b.text}" for _, b in script.dialogue() if b.character == name][:6]
    actions = [
        b.text for s in script.scenes for b in s.beats if b.kind == "action" and name in b.text
    ]
    return "\n".join([script.logline, *actions[:3], *lines])


def _design_character(
    ctx: EpisodeContext,
    script: Script,
    name: str,
    others: list[dict[str, str]],
    seed: int,
    episode: str,
) -> tuple[Character, list[Artifact]]:
    prompt = "\n".join(
        [
            tag("character", name),
            tag("story", _story_context(script, name)),
            tag("language", script.language),
            tag("voices", ctx.providers.voices),
            tag("cast_so_far", others),
        ]
    )
    design = ask(ctx, AGENT, CharacterDesign, prompt).model_copy(update={"name": name})
    asset_id = f"chr-{digest(design)}"
    folder = ctx.project.assets("characters") / asset_id
    views, expressions, sheet = renderer.render_reference_sheet(design)
    files: list[tuple[str, Path]] = []
    turnaround = {}
    for view, image in views.items():
        turnaround[view] = ctx.project.rel(_save_png(image, folder / f"turnaround-{view}.png"))
        files.append(("reference_turnaround", folder / f"turnaround-{view}.png"))
    faces = {}
    for emotion, image in expressions.items():
        faces[emotion] = ctx.project.rel(_save_png(image, folder / f"expression-{emotion}.png"))
        files.append(("reference_expression", folder / f"expression-{emotion}.png"))
    sheet_path = _save_png(sheet, folder / "sheet.png")
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


def _design_location(
    ctx: EpisodeContext, scene: Scene, seed: int, episode: str
) -> tuple[Location, list[Artifact]]:
    prompt = "\n".join(
        [
            tag("location", scene.location),
            tag("interior", str(scene.interior).lower()),
            tag("heading", scene.heading),
        ]
    )
    design = ask(ctx, AGENT, LocationDesign, prompt).model_copy(update={"name": scene.location})
    asset_id = f"loc-{digest(design)}"
    folder = ctx.project.assets("locations") / asset_id
    plates = {}
    paths = []
    for time in ("day", "dusk", "night"):
        path = _save_png(renderer.render_plate(design, time), folder / f"plate-{time}.png")
        plates[time] = ctx.project.rel(path)
        paths.append(path)
    location = Location(id=asset_id, design=design, plates=plates, first_episode=episode)
    return location, [
        artifact(ctx, p, "location_plate", AGENT, seed, REFERENCE_ARTIST) for p in paths
    ]


def design_cast(state: EpisodeState, runtime: Runtime[EpisodeContext]) -> dict[str, Any]:
    """Design or reuse every character and location of the script, registering new ones."""
    ctx = runtime.context
    script = state["script"]
    request = state["request"]
    cast: dict[str, Character] = {}
    new: list[str] = []
    reused: list[str] = []
    artifacts: list[Artifact] = []
    names = list(dict.fromkeys([*script.characters, *script.speakers()]))
    for name in names:
        found = ctx.memory.find_character(name)
        if found is not None:
            cast[name] = found
            reused.append(name)
        else:
            others = [
                {
                    "name": c.design.name,
                    "hair_style": c.design.hair_style.value,
                    "hair_colour": c.design.hair_colour,
                    "outfit_colour": c.design.outfit_colour,
                    "skin": c.design.skin,
                    "eye_colour": c.design.eye_colour,
                    "build": c.design.build,
                    "face": c.design.face,
                    "eyes": c.design.eyes,
                    "voice": c.design.voice.variant,
                }
                for c in cast.values()
            ]
            character, files = _design_character(
                ctx, script, name, others, request.seed, request.episode
            )
            ctx.memory.put_character(character, ctx.project.root)
            cast[name] = character
            new.append(name)
            artifacts += files
        ctx.event("character", name=name, reused=name in reused)
    locations: dict[str, Location] = {}
    for scene in script.scenes:
        if scene.location in locations:
            continue
        found_loc = ctx.memory.find_location(scene.location)
        if found_loc is None:
            found_loc, files = _design_location(ctx, scene, request.seed, request.episode)
            ctx.memory.put_location(found_loc, ctx.project.root)
            artifacts += files
        locations[scene.location] = found_loc
    return {
        "cast": cast,
        "locations": locations,
        "cast_new": new,
        "cast_reused": reused,
        "artifacts": artifacts,
    }
