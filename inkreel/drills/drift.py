"""Drift drills: a draft, a keyframe or a reference sheet made with one defect on purpose.

Under `INKREEL_DRIFT_RATE` the agents' work comes out flawed the way an imperfect model's
might, so the continuity loop's repairs are exercised; the defects are the planted-defect
evaluation's (`text_defects`, `image_defects`), and a sheet drifts in one design colour.
"""

from __future__ import annotations

import colorsys
import random
import tempfile
from pathlib import Path

from PIL import Image

from inkreel.drills.image_defects import plant_image
from inkreel.drills.text_defects import plant_text
from inkreel.schemas import (
    Box,
    Character,
    CharacterDesign,
    FigureLayout,
    Keyframe,
    Location,
    LocationDesign,
    Script,
    Shot,
    StoryboardFile,
)

SHEET_DRIFTS = ("hair_colour", "outfit_colour")


def drifted_script(script: Script, defect: str, seed: int) -> Script:
    """The draft with one continuity defect, as an imperfect model might write it."""
    made = plant_text(
        StoryboardFile(shots=[], script=script), defect, "script", random.Random(seed)
    )
    if made is None or made[0].script is None:
        return script  # nothing of that kind to get wrong in this script
    return made[0].script


def drifted_keyframe(
    image: Image.Image,
    shot: Shot,
    location: LocationDesign,
    cast: dict[str, CharacterDesign],
    defect: str,
    key: str,
    layout: tuple[list[FigureLayout], dict[str, Box]],
) -> Image.Image:
    """The keyframe with one continuity defect, as an imperfect image model might draw it.

    `layout` is the keyframe's figures and set-element boxes; `key` seeds the choice.
    """
    figures, elements = layout
    with tempfile.TemporaryDirectory(prefix="inkreel-drift-") as folder:
        root = Path(folder)
        image.save(root / "clean.png")
        board = StoryboardFile(
            shots=[shot],
            keyframes={
                shot.id: Keyframe(
                    shot_id=shot.id, path="clean.png", figures=figures, elements=elements
                )
            },
            cast={n: Character(id=n, design=d) for n, d in cast.items()},
            locations={shot.location: Location(id=shot.location, design=location)},
        )
        made = plant_image(board, root, root, defect, random.Random(key))
        if made is None:
            return image  # nothing of that kind to get wrong in this shot
        with Image.open(root / made[0].keyframes[shot.id].path) as bad:
            return bad.convert("RGB")


def drifted_design(design: CharacterDesign, defect: str) -> CharacterDesign:
    """The design as a drifting image model might draw it: one colour half a turn away."""
    part = "hair_colour" if defect == "hair_colour" else "outfit_colour"
    if part == "hair_colour" and (design.hair_style == "bald" or "hat" in design.accessories):
        part = "outfit_colour"  # no hair to see
    return design.model_copy(update={part: _opposite(getattr(design, part))})


def _opposite(colour: str) -> str:
    r, g, b = (int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4))
    h, lightness, sat = colorsys.rgb_to_hls(r, g, b)
    r, g, b = colorsys.hls_to_rgb((h + 0.5) % 1.0, min(max(lightness, 0.35), 0.65), max(sat, 0.6))
    return "#{:02x}{:02x}{:02x}".format(*(round(v * 255) for v in (r, g, b)))
