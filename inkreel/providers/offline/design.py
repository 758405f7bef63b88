"""Character and location designs: palettes, hair, outfits, set kits, chosen by the dice."""

from __future__ import annotations

import colorsys
import re
from typing import Any

from inkreel.providers.offline.appearance import read_appearance
from inkreel.providers.offline.dice import Dice
from inkreel.providers.offline.idea import CJK, FEMALE_HINTS
from inkreel.providers.prompt_io import read_json_tag, read_tag
from inkreel.schemas.design import ELEMENT_SIZE

HAIR_COLOURS = [
    "#1e1a1d",
    "#3b2417",
    "#6b3a1f",
    "#a0522d",
    "#d9b25f",
    "#c8c8d0",
    "#2a3352",
    "#7a2e3a",
    "#e3a0b4",
]
SKINS = ["#f6dcc4", "#f1cfae", "#e4b48c", "#c98e66", "#9c6846", "#f8e2d0"]
EYES = ["#3b2a1a", "#1f3b5a", "#2f5a2a", "#5a3a1a", "#6a1f2f", "#3a3a4a"]
HAIR_STYLES = ["short", "long", "ponytail", "bun", "spiky", "bob"]
OUTFITS = [
    "jacket",
    "qipao-style dress",
    "school uniform",
    "hooded coat",
    "vest and shirt",
    "long coat",
    "tunic",
    "sweater",
]
ACCESSORIES = ["glasses", "scarf", "hat", "earrings", "headband", "beard"]


def _hex_from_hue(h: float, s: float, v: float) -> str:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


def _hue_of(hex_colour: str) -> float:
    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hsv(r, g, b)[0]


def design_character(prompt: str, seed: int) -> dict[str, Any]:
    """A look and a voice unlike the cast so far's; what the character's description
    (`<appearance>`) says of them is kept (`providers.offline.appearance`)."""
    name = (read_tag(prompt, "character") or "").strip()
    context = read_tag(prompt, "story") or ""
    described = (read_tag(prompt, "appearance") or "").strip()
    look = read_appearance(described, name) if described else None
    voices = read_json_tag(prompt, "voices") or {"female": ["f1"], "male": ["m1"]}
    others = read_json_tag(prompt, "cast_so_far") or []
    dice = Dice("character", seed, name)

    # Pick the candidate outfit hue farthest from everyone else's.
    taken_hues = [_hue_of(o["outfit_colour"]) for o in others]
    candidates = [(dice.unit("hue") + k / 12) % 1.0 for k in range(12)]

    def distance(h: float) -> float:
        return min((min(abs(h - t), 1 - abs(h - t)) for t in taken_hues), default=1.0)

    hue = max(candidates, key=distance)
    # The accent must not land on someone else's outfit colour either.
    taken_hues.append(hue)
    accent_hue = max(((hue + 0.3 + k / 24) % 1.0 for k in range(10)), key=distance)
    window = context[max(0, context.find(name) - 60) : context.find(name) + len(name) + 60]
    female = any(w in FEMALE_HINTS for w in re.findall(r"\w+", window.lower())) or any(
        h in window for h in FEMALE_HINTS if CJK.search(h)
    )
    if not any(w in FEMALE_HINTS for w in window.lower().split()) and not female:
        female = dice.unit("gender") < 0.5
    if look is not None and look.female is not None:
        female = look.female

    def unused(options: list[str], key: str) -> list[str]:
        taken = {o.get(key) for o in others}
        return [x for x in options if x not in taken] or options

    variants = unused(voices["female" if female else "male"], "voice")
    styles = unused(
        ["long", "ponytail", "bun", "bob"] if female else ["short", "spiky", "bob", "long"],
        "hair_style",
    )
    hair_colours = unused(HAIR_COLOURS, "hair_colour")
    skins = unused(SKINS, "skin")
    eyes = unused(EYES, "eye_colour")
    builds = unused(["slim", "average", "broad"], "build")
    faces = unused(["oval", "round", "long", "square"], "face")
    eye_shapes = unused(["round", "almond", "narrow", "sleepy"], "eyes")
    # Alternate light and dark outfits so silhouettes separate even in grey.
    value = (0.78, 0.92) if len(others) % 2 else (0.35, 0.55)
    accessories = [a for a in ACCESSORIES if dice.unit("acc", a) < 0.18]
    if female:
        accessories = [a for a in accessories if a != "beard"]
    design = {
        "name": name,
        "role": "lead" if dice.unit("role") < 0.5 else "supporting",
        "build": dice.pick(builds, "build"),
        "face": dice.pick(faces, "face"),
        "eyes": dice.pick(eye_shapes, "eye_shape"),
        "height": round(dice.between(0.9, 1.08, "height"), 2),
        "skin": dice.pick(skins, "skin"),
        "hair_style": dice.pick(styles, "hair"),
        "hair_colour": dice.pick(hair_colours, "haircol"),
        "eye_colour": dice.pick(eyes, "eyes"),
        "outfit": dice.pick(OUTFITS, "outfit"),
        "outfit_colour": _hex_from_hue(
            hue, dice.between(0.45, 0.7, "s"), dice.between(*value, "v")
        ),
        "accent_colour": _hex_from_hue(accent_hue, 0.7, 0.8),
        "accessories": accessories[:2],
        "voice": {
            "variant": dice.pick(variants, "voice"),
            "pitch": int(dice.between(35, 70, "pitch")),
            "speed": int(dice.between(150, 185, "speed")),
        },
    }
    return design if look is None else design | look.fields()


INTERIOR_KITS: dict[str, list[str]] = {
    "tea": ["window", "counter", "lamp", "table", "shelf", "painting", "plant", "door"],
    "library": ["shelf", "shelf", "window", "lamp", "table", "shelf", "door", "plant"],
    "station": ["column", "window", "bench", "lamp", "column", "window", "bench", "door"],
    "default": ["window", "door", "lamp", "shelf", "table", "painting", "plant", "window"],
}
EXTERIOR_KITS: dict[str, list[str]] = {
    "market": ["building", "streetlamp", "counter", "building", "streetlamp", "counter", "tree"],
    "harbour": ["mountain", "building", "fence", "streetlamp", "fence", "bench"],
    "default": ["mountain", "building", "tree", "streetlamp", "tree", "bench", "fence", "building"],
}
WALLS = ["#d8c8a8", "#c9d3c0", "#d6c0b0", "#bfc8d6", "#e0d2bb", "#cdbfa8"]
FLOORS = ["#8a7458", "#6f5d4b", "#7d7466", "#9a805f", "#5e5548"]


def design_location(prompt: str, seed: int) -> dict[str, Any]:
    name = (read_tag(prompt, "location") or "").strip()
    interior = (read_tag(prompt, "interior") or "true").strip().lower() == "true"
    dice = Dice("location", seed, name)
    lower = name.lower()
    kits = INTERIOR_KITS if interior else EXTERIOR_KITS
    kit = next((v for k, v in kits.items() if k in lower), kits["default"])
    width = round(dice.between(12.0, 16.0, "width"), 1)
    elements = []
    slots = len(kit)
    for i, kind in enumerate(kit):
        w, h, base, layer = ELEMENT_SIZE[kind]
        x = (i + 0.5) * width / slots + dice.between(-0.3, 0.3, "x", i)
        if kind == "mountain":
            x = dice.between(2, width - 2, "mx", i)
        elements.append(
            {
                "kind": kind,
                "x": round(x, 2),
                "y": base,
                "width": w,
                "height": h,
                "layer": layer,
                "colour": _hex_from_hue(
                    dice.unit("col", i),
                    dice.between(0.25, 0.5, "cs", i),
                    dice.between(0.45, 0.75, "cv", i),
                ),
            }
        )
    wall = dice.pick(WALLS, "wall")
    return {
        "name": name,
        "interior": interior,
        "description": f"{'Interior' if interior else 'Exterior'} set: {name}.",
        "width": width,
        "wall_colour": wall,
        "floor_colour": dice.pick(FLOORS, "floor"),
        "elements": elements,
        "lighting": {
            "day": {
                "ambient": "#fff6e8",
                "sky": "#9cc8ee",
                "practicals_on": False,
                "brightness": 1.0,
            },
            "dusk": {
                "ambient": "#ffc89a",
                "sky": "#e88a5a",
                "practicals_on": True,
                "brightness": 0.8,
            },
            "night": {
                "ambient": "#8090c0",
                "sky": "#1b2340",
                "practicals_on": True,
                "brightness": 0.55,
            },
        },
    }
