"""The characters' turnaround views as the identity and palette checks compare figures with them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from inkreel.measure.colour import design_support
from inkreel.measure.identity import Ref, canonical_crop, reference_head
from inkreel.schemas import CharacterDesign, StoryboardFile

REFERENCES_KEPT = 64  # characters whose references stay described between runs


@dataclass
class CharacterRefs:
    """A character's reference crops, how on-design its sheet is, and what was missing."""

    refs: list[Ref]
    off_design: dict[str, float]  # part -> share of reference pixels near the design colour
    notes: list[str]


def reference_parts(design: CharacterDesign) -> dict[str, str]:
    """Part -> design colour of the parts a figure shows (no hair under a hat or when bald)."""
    parts = {"skin": design.skin, "outfit": design.outfit_colour}
    if design.hair_style != "bald" and "hat" not in design.accessories:
        parts["hair"] = design.hair_colour
    return parts


def character_refs(root: Path, name: str, board: StoryboardFile) -> CharacterRefs:
    """Describe a character's turnaround views (cached while the files and design are unchanged)."""
    ch = board.cast[name]
    views = []
    for view, rel in ch.turnaround.items():
        p = root / rel
        views.append((view, rel, p.stat().st_mtime_ns if p.exists() else None))
    return _described(root, name, ch.design.model_dump_json(), tuple(views))


@lru_cache(maxsize=REFERENCES_KEPT)
def _described(
    root: Path, name: str, design_json: str, views: tuple[tuple[str, str, int | None], ...]
) -> CharacterRefs:
    """`views` are (view, path relative to root, mtime); the mtime only keys the cache."""
    design = CharacterDesign.model_validate_json(design_json)
    refs: list[Ref] = []
    notes: list[str] = []
    support: dict[str, list[float]] = {}
    for view, rel, _ in views:
        path = root / rel
        if not path.exists():
            notes.append(f"{name}: turnaround {rel} is missing; identity checked without it.")
            continue
        with Image.open(path) as im:
            rgba = np.asarray(im.convert("RGBA"))
        head, face, _ = reference_head(design, view, rgba)
        if head is not None:
            canon = canonical_crop(
                rgba[..., :3].astype(np.float64) / 255.0,
                rgba[..., 3].astype(np.float64) / 255.0,
                head,
                "upper_body",
            )
            refs.append(Ref(name, view, face, canon))
        for part, share in design_support(rgba, reference_parts(design)).items():
            support.setdefault(part, []).append(share)
    return CharacterRefs(refs, {k: max(v) for k, v in support.items()}, notes)
