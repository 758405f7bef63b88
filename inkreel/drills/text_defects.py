"""Planted continuity defects in the script and the storyboard, for measuring the checks.

Used by the planted-defect evaluation (`inkreel.evals.continuity`) and by the script drift
drill (`inkreel.drills.drift`).

    planted = plant_text(board, "line_flip", "storyboard", random.Random(7))
    if planted is not None:
        bad_board, truth = planted

Each planter works on a deep copy and changes only what its defect is, so the rest of the
episode stays a clean control and the defect is where `PlantedDefect` says (its scene, and
the shots that show it). A script-level defect changes only the script: the storyboard made
from it is left as it was.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, Field

from inkreel.art.camera import WIDTH, pixels_per_metre
from inkreel.schemas import Blocking, Scene, Script, Shot, StoryboardFile, TimeOfDay

TextLevel = Literal["script", "storyboard"]


class PlantedDefect(BaseModel):
    """Where a planted defect is, for scoring the findings against."""

    defect: str = Field(description="One of inkreel.checks.DEFECT_TYPES.")
    level: TextLevel
    shots: list[str] = Field(default_factory=list, description="Shots that show the defect.")
    scene: int | None = None
    description: str


Planted = tuple[StoryboardFile, PlantedDefect]
Planter = Callable[[StoryboardFile, random.Random], Planted | None]


def plant_text(
    board: StoryboardFile, defect: str, level: str, rng: random.Random
) -> Planted | None:
    """Return a copy of the board with one defect planted, or None if this episode has no room.

    Raises ValueError for a (level, defect) pair no planter supports (see `LEVEL_TYPES`).
    """
    planter = PLANTERS.get((level, defect))
    if planter is None:
        raise ValueError(
            f"no {level}-level planter for {defect!r}; supported: {LEVEL_TYPES.get(level, [])}"
        )
    return planter(board.model_copy(deep=True), rng)


# --------------------------------------------------------------------------- script level


def _script_wrong_location(board: StoryboardFile, rng: random.Random) -> Planted | None:
    """Give a line to a cast member who is somewhere else at the time."""
    script = board.script
    if script is None:
        return None
    cast = _cast(script)
    options = [
        (scene, i, name)
        for scene in script.scenes
        for i, beat in enumerate(scene.beats)
        if beat.kind == "dialogue" and beat.character
        for name in cast
        if name not in scene.characters and not _named_in(scene, name)
    ]
    if not options:
        return None
    scene, i, name = rng.choice(options)
    beat = scene.beats[i]
    was = beat.character
    beat.character = name
    return board, _defect(
        board,
        "wrong_location",
        "script",
        scene,
        [i],
        f"scene {scene.number} beat {i}: {was}'s line given to {name}, who is not in the scene",
    )


def _script_missing_character(board: StoryboardFile, rng: random.Random) -> Planted | None:
    """Drop a character who speaks in a scene from that scene's cast list."""
    script = board.script
    if script is None:
        return None
    options = [
        (scene, name)
        for scene in script.scenes
        for name in scene.characters
        if any(b.kind == "dialogue" and b.character == name for b in scene.beats)
    ]
    if not options:
        return None
    scene, name = rng.choice(options)
    scene.characters = [c for c in scene.characters if c != name]
    return board, _defect(
        board,
        "missing_character",
        "script",
        scene,
        None,
        f"scene {scene.number}: {name} speaks but is dropped from the scene's characters",
    )


def _script_day_night(board: StoryboardFile, rng: random.Random) -> Planted | None:
    """Change the time of day of a scene that carries straight on from the one before."""
    script = board.script
    if script is None:
        return None
    options = [s for s in script.scenes[1:] if s.continuous]
    if not options:
        return None
    scene = rng.choice(options)
    was = scene.time_of_day
    scene.time_of_day = rng.choice([t for t in TimeOfDay if t != was])
    return board, _defect(
        board,
        "day_night",
        "script",
        scene,
        None,
        f"scene {scene.number} (continuous): time of day {was.value} -> {scene.time_of_day.value}",
    )


def _script_outfit_swap(board: StoryboardFile, rng: random.Random) -> Planted | None:
    """Swap two characters' outfits in a scene that carries straight on from the one before."""
    script = board.script
    if script is None:
        return None
    options = []
    for scene in script.scenes[1:]:
        if not scene.continuous:
            continue
        names = list(scene.wardrobe)
        for k, a in enumerate(names):
            for b in names[k + 1 :]:
                if _plain(scene.wardrobe[a]) != _plain(scene.wardrobe[b]):
                    options.append((scene, a, b))
    if not options:
        return None
    scene, a, b = rng.choice(options)
    scene.wardrobe[a], scene.wardrobe[b] = scene.wardrobe[b], scene.wardrobe[a]
    return board, _defect(
        board,
        "outfit_swap",
        "script",
        scene,
        None,
        f"scene {scene.number} (continuous): {a} and {b} swap outfits",
    )


def _script_prop_vanishes(board: StoryboardFile, rng: random.Random) -> Planted | None:
    """Use a prop after the beat that destroys it, or before the beat that introduces it."""
    script = board.script
    if script is None:
        return None
    beats = [
        (scene, i, beat)
        for scene in script.scenes
        if not scene.flashback
        for i, beat in enumerate(scene.beats)
    ]
    options: list[tuple[int, str, str]] = []
    for d, (_, _, beat) in enumerate(beats):
        for prop in beat.destroys:
            for later in range(d + 1, len(beats)):
                if _plain(prop) in map(_plain, beats[later][2].introduces):
                    break
                options.append((later, prop, "after it is destroyed"))
        for prop in beat.introduces:
            earlier = [
                e for e in range(d) if _plain(prop) not in map(_plain, beats[e][2].introduces)
            ]
            if any(_plain(prop) in map(_plain, beats[e][2].introduces) for e in range(d)):
                continue  # a second introduction: the first one rules
            options += [(e, prop, "before it is introduced") for e in earlier]
    if not options:
        return None
    k, prop, when = rng.choice(options)
    scene, i, beat = beats[k]
    beat.props = [*beat.props, prop]
    return board, _defect(
        board,
        "prop_vanishes",
        "script",
        scene,
        [i],
        f"scene {scene.number} beat {i}: the {prop} is used {when}",
    )


# --------------------------------------------------------------------------- storyboard level


def _board_line_flip(board: StoryboardFile, rng: random.Random) -> Planted | None:
    """Mirror a shot to the far side of the line, with no reason given."""
    options = []
    for k, shot in enumerate(board.shots):
        if len(shot.blocking) < 2 or shot.crosses_line:
            continue
        names = {b.character for b in shot.blocking}
        for earlier in reversed(board.shots[:k]):
            if earlier.scene != shot.scene or earlier.crosses_line or _neutral(earlier):
                break
            if len(names & {b.character for b in earlier.blocking}) >= 2:
                options.append(shot)
                break
    if not options:
        return None
    shot = rng.choice(options)
    shot.camera.reverse = not shot.camera.reverse
    for b in shot.blocking:
        b.screen_x = round(1.0 - b.screen_x, 4)
    return board, _shot_defect(
        "line_flip", shot, f"{shot.id}: camera moved to the other side of the line"
    )


def _board_eyeline_mismatch(board: StoryboardFile, rng: random.Random) -> Planted | None:
    """Turn a speaker away from the character they talk to."""
    scenes = _scenes(board)
    options = []
    for shot in board.shots:
        speaker = next((b for b in shot.blocking if b.character == shot.speaker), None)
        if speaker is None or speaker.facing == "front":
            continue
        target = _addressee(shot, scenes.get(shot.scene))
        if target is not None and target != shot.speaker:
            options.append((shot, speaker))
    if not options:
        return None
    shot, speaker = rng.choice(options)
    speaker.facing = "left" if speaker.facing == "right" else "right"
    return board, _shot_defect(
        "eyeline_mismatch",
        shot,
        f"{shot.id}: {speaker.character} turned to face {speaker.facing}, away from the "
        "character they talk to",
    )


def _board_wrong_location(board: StoryboardFile, rng: random.Random) -> Planted | None:
    """Set a shot in another of the episode's locations."""
    scenes = _scenes(board)
    places = list(
        dict.fromkeys(
            [*(s.location for s in scenes.values()), *board.locations]
            + [s.location for s in board.shots]
        )
    )
    options = []
    for shot in board.shots:
        own = scenes[shot.scene].location if shot.scene in scenes else shot.location
        others = [
            p for p in places if p.casefold() not in (own.casefold(), shot.location.casefold())
        ]
        if others:
            options.append((shot, others))
    if not options:
        return None
    shot, others = rng.choice(options)
    was, shot.location = shot.location, rng.choice(others)
    return board, _shot_defect(
        "wrong_location", shot, f"{shot.id}: set moved from {was} to {shot.location}"
    )


def _board_day_night(board: StoryboardFile, rng: random.Random) -> Planted | None:
    """Light a shot for another time of day."""
    if not board.shots:
        return None
    shot = rng.choice(board.shots)
    was = shot.time_of_day
    shot.time_of_day = rng.choice([t.value for t in TimeOfDay if t.value != was])
    return board, _shot_defect(
        "day_night", shot, f"{shot.id}: lit for {shot.time_of_day}, not {was}"
    )


def _board_missing_character(board: StoryboardFile, rng: random.Random) -> Planted | None:
    """Take the speaker out of their own shot."""
    options = [
        s for s in board.shots if s.speaker and any(b.character == s.speaker for b in s.blocking)
    ]
    if not options:
        return None
    shot = rng.choice(options)
    shot.blocking = [b for b in shot.blocking if b.character != shot.speaker]
    return board, _shot_defect("missing_character", shot, f"{shot.id}: {shot.speaker} not staged")


def _board_extra_character(board: StoryboardFile, rng: random.Random) -> Planted | None:
    """Stage a cast member in a shot of a scene they are not in."""
    script = board.script
    if script is None:
        return None
    cast = list(dict.fromkeys([*_cast(script), *board.cast]))
    scenes = _scenes(board)
    options = []
    for shot in board.shots:
        scene = scenes.get(shot.scene)
        if scene is None:
            continue
        staged = {b.character for b in shot.blocking}
        for name in cast:
            if name not in scene.characters and name not in staged and not _named_in(scene, name):
                options.append((shot, name))
    if not options:
        return None
    shot, name = rng.choice(options)
    shot.blocking = [*shot.blocking, _stand_in(shot, name)]
    return board, _shot_defect(
        "extra_character", shot, f"{shot.id}: {name} staged, not in the scene"
    )


# --------------------------------------------------------------------------- helpers


def _defect(
    board: StoryboardFile,
    defect: str,
    level: TextLevel,
    scene: Scene,
    beats: list[int] | None,
    description: str,
) -> PlantedDefect:
    """Describe a script defect: its scene, and the shots covering its beats (else the scene's)."""
    mine = [s for s in board.shots if s.scene == scene.number]
    shots = [s.id for s in mine if beats is not None and s.beat in beats] or [s.id for s in mine]
    return PlantedDefect(
        defect=defect, level=level, shots=shots, scene=scene.number, description=description
    )


def _shot_defect(defect: str, shot: Shot, description: str) -> PlantedDefect:
    return PlantedDefect(
        defect=defect,
        level="storyboard",
        shots=[shot.id],
        scene=shot.scene,
        description=description,
    )


def _cast(script: Script) -> list[str]:
    names = [*script.characters, *(c for s in script.scenes for c in s.characters)]
    return [n for n in dict.fromkeys(names) if n.strip()]


def _named_in(scene: Scene, name: str) -> bool:
    """Return whether the scene has the character speak, enter, leave or move at all."""
    return any(
        b.character == name or name in (*b.enters, *b.exits, *b.moves, *b.dies) for b in scene.beats
    )


def _scenes(board: StoryboardFile) -> dict[int, Scene]:
    return {s.number: s for s in board.script.scenes} if board.script else {}


def _addressee(shot: Shot, scene: Scene | None) -> str | None:
    if scene is None or not 0 <= shot.beat < len(scene.beats):
        others = {b.character for b in shot.blocking} - {shot.speaker}
        return next(iter(others)) if len(others) == 1 else None
    beat = scene.beats[shot.beat]
    if beat.addressee:
        return beat.addressee
    others = scene.presence()[shot.beat] - {shot.speaker}
    return next(iter(others)) if len(others) == 1 else None


def _neutral(shot: Shot) -> bool:
    return bool(shot.blocking) and all(b.facing == "front" for b in shot.blocking)


def _stand_in(shot: Shot, name: str) -> Blocking:
    """Return blocking for `name` in the clearest part of the frame."""
    taken = [b.screen_x for b in shot.blocking]
    spot = max((0.15, 0.5, 0.85), key=lambda x: min((abs(x - t) for t in taken), default=1.0))
    px = spot * WIDTH
    if shot.camera.reverse:
        px = WIDTH - px
    world_x = shot.camera.x + (px - WIDTH / 2) / pixels_per_metre(shot.camera)
    centre = sum(taken) / len(taken) if taken else 0.5
    # Facing is a direction in the set: toward the others on screen, undone for a reverse camera.
    looks_right = (spot < centre) != shot.camera.reverse
    facing: Literal["left", "right"] = "right" if looks_right else "left"
    return Blocking(character=name, world_x=round(world_x, 3), screen_x=spot, facing=facing)


def _plain(text: str) -> str:
    return " ".join(text.casefold().split())


PLANTERS: dict[tuple[str, str], Planter] = {
    ("script", "wrong_location"): _script_wrong_location,
    ("script", "day_night"): _script_day_night,
    ("script", "prop_vanishes"): _script_prop_vanishes,
    ("script", "outfit_swap"): _script_outfit_swap,
    ("script", "missing_character"): _script_missing_character,
    ("storyboard", "line_flip"): _board_line_flip,
    ("storyboard", "eyeline_mismatch"): _board_eyeline_mismatch,
    ("storyboard", "wrong_location"): _board_wrong_location,
    ("storyboard", "day_night"): _board_day_night,
    ("storyboard", "missing_character"): _board_missing_character,
    ("storyboard", "extra_character"): _board_extra_character,
}

LEVEL_TYPES: dict[str, list[str]] = {
    level: [d for lv, d in PLANTERS if lv == level] for level in ("script", "storyboard")
}
