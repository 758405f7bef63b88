"""Asset memory: records found by name, by similarity of name and description, by view and
expression, with their image vectors; embedded and on a chroma server."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inkreel.agents.director import reference_paths
from inkreel.agents.judge import judge_shots
from inkreel.memory import AssetMemory, HashingTextEmbedder, MemoryUnavailable, image_embedding
from inkreel.memory.matching import (
    choose_threshold,
    errors_at,
    load_calibration,
    name_score,
    normal_name,
)
from inkreel.memory.retrieval import labelled_references
from inkreel.schemas import (
    Blocking,
    Character,
    CharacterDesign,
    Emotion,
    Framing,
    Location,
    LocationDesign,
    SetElement,
    Shot,
    Voice,
)
from inkreel.schemas.design import STANDARD_LIGHTING
from tests.chroma_server import chroma_url, free_port  # noqa: F401
from tests.fake_openai import FakeOpenAI
from tests.test_judge import make_bundle, user_content, verdict, vision_providers


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


# -- resolution by similarity -----------------------------------------------------------------

NADIA_LOOK = "a young woman, a courier, short black hair, long red coat"


def harbour_wall(tmp: Path, name: str = "HARBOUR WALL") -> Location:
    design = LocationDesign(
        name=name,
        interior=False,
        width=16.0,
        elements=[
            SetElement(kind=k, x=2.0 + 3 * i, width=1.0, height=2.0)
            for i, k in enumerate(["fence", "streetlamp", "building"])
        ],
        lighting=dict(STANDARD_LIGHTING),
    )
    Image.new("RGB", (64, 36), "#9cc8ee").save(tmp / "plate.png")
    return Location(id="loc-harbour-wall", design=design, plates={"day": "plate.png"})


def stored_series(tmp: Path, memory: AssetMemory) -> None:
    """Episode 1's assets: NADIA the courier and the HARBOUR WALL."""
    nadia = character(tmp, "NADIA", "#2b2b2b", "#cc3030")
    nadia.design.role = "courier"
    memory.put_character(nadia, tmp)
    memory.put_character(character(tmp, "Mei", "#202020", "#3050c0"), tmp)
    memory.put_location(harbour_wall(tmp), tmp)


def test_names_written_differently_resolve_to_the_stored_asset_and_new_people_do_not(
    tmp_path: Path,
) -> None:
    memory = AssetMemory(tmp_path / "memory")
    stored_series(tmp_path, memory)
    wall = memory.resolve_location("the harbor wall", "exterior set")
    assert wall is not None
    assert wall.name == "HARBOUR WALL" and wall.record["id"] == "loc-harbour-wall"
    assert memory.threshold <= wall.score < 1.0
    nadia = memory.resolve_character("Nadia")  # the same key: found before any scoring
    assert nadia is not None and (nadia.name, nadia.score) == ("NADIA", 1.0)
    assert memory.find_character("Nadia") is not None
    # Another young woman with the same role and look, and one with a name one letter off.
    assert memory.resolve_character("Lena", NADIA_LOOK) is None
    assert memory.resolve_character("Nadine", NADIA_LOOK) is None
    assert memory.resolve_location("Harbour Hall", "interior set") is None
    assert memory.resolve_location("the harbor market", "exterior set") is None


def test_the_threshold_is_the_one_measured_on_the_calibration_pairs(tmp_path: Path) -> None:
    calibration = load_calibration()
    kinds = {(p.kind, p.same) for p in calibration.pairs}
    assert kinds == {(k, s) for k in ("character", "location") for s in (True, False)}
    # The file's threshold is the one the bench chooses, and it separates the pairs.
    assert calibration.threshold == choose_threshold(calibration.pairs)
    assert errors_at(calibration.pairs, calibration.threshold) == (0, 0)
    memory = AssetMemory(tmp_path / "memory")
    assert memory.threshold == calibration.threshold
    strict = AssetMemory(tmp_path / "strict", threshold=0.99)
    stored_series(tmp_path, strict)
    stored_series(tmp_path, memory)
    assert strict.resolve_location("the harbor wall", "exterior set") is None
    assert memory.resolve_location("the harbor wall", "exterior set") is not None


def test_names_are_compared_without_case_punctuation_articles_or_british_spelling() -> None:
    same = [
        ("the harbor wall", "HARBOUR WALL"),
        ("The Theater", "theatre"),
        ("City Center", "city centre"),
        ("Mei's Room", "MEIS ROOM"),
        ("Jean-Luc", "jean luc"),
        ("the Harbourmaster's office", "HARBORMASTERS OFFICE"),
        ("a grey harbour", "Gray Harbor"),
    ]
    for a, b in same:
        assert normal_name(a) == normal_name(b), (a, b)
    assert normal_name("Four Hours") == "four hours"  # not every 'our' is British
    assert name_score("North Gate", "South Gate") < 0.85


# -- references by view and expression --------------------------------------------------------


def sheet_character(tmp: Path, views: list[str], faces: list[str]) -> Character:
    files = {}
    for label in [f"turnaround-{v}" for v in views] + [f"expression-{e}" for e in faces]:
        Image.new("RGB", (16, 16), "#808080").save(tmp / f"{label}.png")
        files[label] = f"{label}.png"
    design = CharacterDesign(name="Aiko", voice=Voice(variant="f2", pitch=50, speed=170))
    return Character(
        id="chr-aiko",
        design=design,
        turnaround={v: f"turnaround-{v}.png" for v in views},
        expressions={e: f"expression-{e}.png" for e in faces},
    )


def test_references_are_retrieved_by_view_and_expression_with_fallbacks(tmp_path: Path) -> None:
    memory = AssetMemory(tmp_path / "memory")
    views = ["front", "three_quarter", "side", "back"]
    aiko = sheet_character(tmp_path, views, ["neutral", "angry"])
    memory.put_character(aiko, tmp_path)
    assert memory.references_for("chr-aiko", "three_quarter", "angry") == [
        "turnaround-three_quarter.png",
        "expression-angry.png",
    ]
    # No 'afraid' head: the neutral one; no expression asked: the view alone.
    assert memory.references_for("chr-aiko", "back", "afraid") == [
        "turnaround-back.png",
        "expression-neutral.png",
    ]
    assert memory.references_for("chr-aiko", "side") == ["turnaround-side.png"]
    partial = sheet_character(tmp_path, ["front"], []).model_copy(update={"id": "chr-partial"})
    memory.put_character(partial, tmp_path)
    assert memory.references_for("chr-partial", "three_quarter", "angry") == [
        "turnaround-front.png"
    ]
    assert memory.references_for("chr-nobody", "front", "angry") == []


def test_a_shot_gets_the_view_it_sees_and_the_face_when_it_matters(tmp_path: Path) -> None:
    aiko = sheet_character(tmp_path, ["front", "three_quarter", "back"], ["neutral", "angry"])
    location = harbour_wall(tmp_path)

    def shot(framing: str, facing: str, expression: str) -> Shot:
        aiko = Blocking(
            character="Aiko", world_x=5, screen_x=0.3, facing=facing, expression=expression
        )
        return Shot.model_validate(
            {
                "id": "s01-001", "scene": 1, "beat": 0, "location": "HARBOUR WALL",
                "time_of_day": "day", "framing": framing, "angle": "eye_level", "move": "static",
                "camera": {"x": 5.0, "y": 1.5, "view_width": 4.0}, "blocking": [aiko],
                "duration_s": 2.0,
            }
        )  # fmt: skip

    cast = {"Aiko": aiko}
    close = reference_paths(shot("close_up", "left", "angry"), cast, location)
    assert close == ["turnaround-three_quarter.png", "expression-angry.png", "plate.png"]
    wide = reference_paths(shot("wide", "front", "neutral"), cast, location)
    assert wide == ["turnaround-front.png", "plate.png"]
    # A neutral face in a close-up is worth its head too.
    assert "expression-neutral.png" in reference_paths(
        shot("close_up", "right", "neutral"), cast, location
    )


def test_a_shots_references_come_from_the_memory_not_the_record_in_hand(tmp_path: Path) -> None:
    """A run passes `AssetMemory.stored_references`: the images stored for the character's
    id are the ones sent, whatever paths the record in hand names."""
    memory = AssetMemory(tmp_path / "memory")
    stored = sheet_character(tmp_path, ["front", "three_quarter"], ["neutral", "angry"])
    memory.put_character(stored, tmp_path)
    stale = stored.model_copy(
        update={
            "turnaround": {"front": "old-front.png", "three_quarter": "old-3q.png"},
            "expressions": {"neutral": "old-neutral.png"},
        }
    )
    location = harbour_wall(tmp_path)
    close = Shot.model_validate(
        {
            "id": "s01-001", "scene": 1, "beat": 0, "location": "HARBOUR WALL",
            "time_of_day": "day", "framing": "close_up", "angle": "eye_level", "move": "static",
            "camera": {"x": 5.0, "y": 1.5, "view_width": 4.0}, "duration_s": 2.0,
            "blocking": [{"character": "Aiko", "world_x": 5, "screen_x": 0.3, "facing": "left",
                          "expression": "angry"}],
        }
    )  # fmt: skip
    cast = {"Aiko": stale}
    from_memory = reference_paths(close, cast, location, labels_of=memory.stored_references)
    assert from_memory == ["turnaround-three_quarter.png", "expression-angry.png", "plate.png"]
    assert reference_paths(close, cast, location) == ["old-3q.png", "old-neutral.png", "plate.png"]
    # A character the memory holds no images for keeps its record's own.
    other = stale.model_copy(update={"id": "chr-never-stored"})
    assert memory.stored_references(other) == labelled_references(other)


# -- a chroma server --------------------------------------------------------------------------


def test_the_memory_works_on_a_chroma_server_across_episodes(
    chroma_url: str,  # noqa: F811 (the fixture)
    tmp_path: Path,
) -> None:
    project = f"t{uuid.uuid4().hex[:12]}"  # one server serves many projects (CI shares one)
    first = AssetMemory.connect(chroma_url, namespace=project)  # episode 1 designs and stores
    stored_series(tmp_path, first)
    aiko = sheet_character(tmp_path, ["front", "three_quarter"], ["neutral", "angry"])
    first.put_character(aiko, tmp_path)
    second = AssetMemory.connect(chroma_url, namespace=project)  # episode 2, another connection
    nadia = second.find_character("nadia")
    assert nadia is not None and nadia.design.role == "courier"
    wall = second.resolve_location("the harbor wall", "exterior set")
    assert wall is not None and wall.name == "HARBOUR WALL"
    assert second.resolve_character("Lena", NADIA_LOOK) is None
    assert second.references_for("chr-aiko", "three_quarter", "angry") == [
        "turnaround-three_quarter.png",
        "expression-angry.png",
    ]
    assert list(second.reference_vectors("chr-aiko")) == [
        "chr-aiko:turnaround:front",
        "chr-aiko:turnaround:three_quarter",
        "chr-aiko:expression:neutral",
        "chr-aiko:expression:angry",
    ]
    # Episode 2 redraws Mei: one record under the name, on the server too.
    mei = character(tmp_path, "MEI", "#202020", "#3050c0").model_copy(update={"id": "chr-mei-2"})
    second.put_character(mei, tmp_path)
    assert [r["id"] for r in first.character_records() if r["design"]["name"].lower() == "mei"] == [
        "chr-mei-2"
    ]


def test_an_unreachable_server_is_one_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(
        MemoryUnavailable, match=r"cannot reach the asset memory at http://.*chroma run"
    ):
        AssetMemory.connect(url)
    with pytest.raises(MemoryUnavailable, match="not a chroma server address"):
        AssetMemory.connect("http://:80x")


def test_the_judge_is_sent_the_view_and_the_face_the_shot_shows(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path)
    ana = bundle.board.cast["Ana"]
    for label in ("turnaround-three_quarter", "expression-neutral", "expression-angry"):
        Image.new("RGB", (64, 64), "#808080").save(tmp_path / f"refs/Ana-{label}.png")
    turned = "refs/Ana-turnaround-three_quarter.png"
    bundle.board.cast["Ana"] = ana.model_copy(
        update={
            "turnaround": {**ana.turnaround, "three_quarter": turned},
            "expressions": {e: f"refs/Ana-expression-{e}.png" for e in ("neutral", "angry")},
        }
    )
    first = bundle.board.shots[0]  # a two-shot: Ana faces right, Ben left
    blocking = [
        b.model_copy(update={"expression": Emotion.angry}) if b.character == "Ana" else b
        for b in first.blocking
    ]
    close = first.model_copy(update={"framing": Framing.close_up, "blocking": blocking})
    bundle.board.shots[0] = close
    with FakeOpenAI(answer=lambda _schema, rj: verdict(rj)) as server:
        providers = vision_providers(tmp_path, server.base_url)
        judge_shots(providers.calls, bundle, [first.id])
        (chat,) = server.requests_to("chat")
    images = user_content(chat.json)[0]["text"].split("<images>")[1]
    assert "Ana, three quarter view from the reference sheet" in images
    assert "Ben, front view" in images  # no three-quarter view on Ben's sheet: the front
    assert "Ana's face, angry, from the reference sheet" in images
    assert "Ben's face" not in images  # no heads on Ben's sheet
    # In a run the images come from the asset memory: there Ana's sheet has no angry head.
    memory = AssetMemory(tmp_path / "memory")
    stored = bundle.board.cast["Ana"].model_copy(
        update={"expressions": {"neutral": "refs/Ana-expression-neutral.png"}}
    )
    memory.put_character(stored, tmp_path)
    with FakeOpenAI(answer=lambda _schema, rj: verdict(rj)) as server:
        providers = vision_providers(tmp_path, server.base_url)
        judge_shots(providers.calls, bundle, [first.id], labels_of=memory.stored_references)
        (chat,) = server.requests_to("chat")
    images = user_content(chat.json)[0]["text"].split("<images>")[1]
    assert "Ana's face, neutral, from the reference sheet" in images
    assert "angry" not in images
