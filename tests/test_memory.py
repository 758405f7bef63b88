"""Asset memory: records found by name, by description, and with their image vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from inkreel.memory import AssetMemory, HashingTextEmbedder, image_embedding
from inkreel.schemas import Character, CharacterDesign, Voice


def character(tmp: Path, name: str, hair: str, outfit: str) -> Character:
    design = CharacterDesign(
        name=name,
        hair_colour=hair,
        outfit="long coat",
        outfit_colour=outfit,
        voice=Voice(variant="m3", pitch=50, speed=170),
    )
    image = Image.new("RGB", (64, 128), outfit)
    path = tmp / f"{name}.png"
    image.save(path)
    return Character(id=f"chr-{name.lower()}", design=design, turnaround={"front": path.name})


def test_characters_are_found_by_name_across_reopen_and_by_description(tmp_path: Path) -> None:
    memory = AssetMemory(tmp_path / "memory")
    memory.put_character(character(tmp_path, "Mei", "#202020", "#cc3030"), tmp_path)
    memory.put_character(character(tmp_path, "Kai", "#d0b060", "#3050c0"), tmp_path)
    reopened = AssetMemory(tmp_path / "memory")
    found = reopened.find_character("  mei ")
    assert found is not None and found.id == "chr-mei"
    assert reopened.find_character("Nobody") is None
    best, _ = reopened.search_characters("Kai, long coat in #3050c0", n=1)[0]
    assert best.design.name == "Kai"
    vectors = reopened.reference_vectors("chr-mei")
    assert list(vectors) == ["chr-mei:turnaround:front"]
    assert np.allclose(
        vectors["chr-mei:turnaround:front"], image_embedding(tmp_path / "Mei.png"), atol=1e-5
    )


def test_embedders_are_deterministic_and_separate_different_inputs(tmp_path: Path) -> None:
    embed = HashingTextEmbedder()
    a, b, c = embed(["red coat, black hair", "red coat, black hair", "blue robe, silver hair"])
    assert np.allclose(a, b)
    assert float(np.dot(a, b)) > float(np.dot(a, c)) + 0.3
    Image.new("RGB", (32, 32), "#cc3030").save(tmp_path / "r.png")
    Image.new("RGB", (32, 32), "#3050c0").save(tmp_path / "b.png")
    red, blue = image_embedding(tmp_path / "r.png"), image_embedding(tmp_path / "b.png")
    assert float(np.dot(red, red)) > 0.99 > float(np.dot(red, blue))
