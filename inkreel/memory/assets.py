"""The project's asset memory over chromadb: one record per character and location.

Text embeddings of each asset's description find it by meaning; image embeddings of its
reference files let the continuity checker (and later episodes) compare renders against it.
Records are keyed by a normalised name so episode 2 finds episode 1's cast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar

import chromadb
from chromadb.config import Settings as ChromaSettings

from inkreel.memory.embeddings import HashingTextEmbedder, image_embedding
from inkreel.schemas.design import Character, CharacterDesign, Location, LocationDesign
from inkreel.schemas.script import name_key

A = TypeVar("A", Character, Location)


def describe_character(design: CharacterDesign) -> str:
    return (
        f"{design.name}: {design.role}. {design.build} build, {design.hair_style} "
        f"{design.hair_colour} hair, {design.eye_colour} eyes, skin {design.skin}, wears "
        f"{design.outfit} in {design.outfit_colour} with {design.accent_colour} accents; "
        f"accessories: {', '.join(design.accessories) or 'none'}."
    )


def describe_location(design: LocationDesign) -> str:
    kinds = ", ".join(e.kind for e in design.elements)
    where = "interior" if design.interior else "exterior"
    return f"{design.name}: {where} set {design.width} m wide with {kinds}."


class AssetMemory:
    """Characters and locations of one project, persisted with chromadb's PersistentClient."""

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.client = chromadb.PersistentClient(
            path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
        )
        embedder = HashingTextEmbedder()
        space: dict[str, Any] = {"hnsw:space": "cosine"}
        self.characters = self.client.get_or_create_collection(
            "characters",
            embedding_function=embedder,  # type: ignore[arg-type]
            metadata=space,
        )
        self.locations = self.client.get_or_create_collection(
            "locations",
            embedding_function=embedder,  # type: ignore[arg-type]
            metadata=space,
        )
        # Image vectors are computed by us and passed explicitly; the embedder is only there so
        # chromadb never falls back to its downloading default.
        self.references = self.client.get_or_create_collection(
            "references",
            embedding_function=embedder,  # type: ignore[arg-type]
            metadata=space,
        )

    # ----------------------------------------------------------------- characters
    def find_character(self, name: str) -> Character | None:
        return self._find(self.characters, name, Character)

    def character_record(self, name: str) -> dict[str, Any] | None:
        """The stored record as JSON data, unchecked (a record an older version stored may
        not fit today's types; the designer repairs it before use)."""
        return self._record(self.characters, name)

    def location_record(self, name: str) -> dict[str, Any] | None:
        return self._record(self.locations, name)

    def put_character(self, character: Character, root: Path) -> None:
        self._put(self.characters, character, describe_character(character.design))
        files = {f"turnaround:{k}": v for k, v in character.turnaround.items()}
        files |= {f"expression:{k}": v for k, v in character.expressions.items()}
        self._put_references(character.id, "character", files, root)

    def search_characters(self, text: str, n: int = 3) -> list[tuple[Character, float]]:
        return [
            (Character.model_validate_json(str(meta["json"])), dist)
            for meta, dist in self._query(self.characters, text, n)
        ]

    # ----------------------------------------------------------------- locations
    def find_location(self, name: str) -> Location | None:
        return self._find(self.locations, name, Location)

    def put_location(self, location: Location, root: Path) -> None:
        self._put(self.locations, location, describe_location(location.design))
        plates = {f"plate:{k}": v for k, v in location.plates.items()}
        self._put_references(location.id, "location", plates, root)

    # ----------------------------------------------------------------- records
    @staticmethod
    def _find(collection: Any, name: str, model: type[A]) -> A | None:
        record = AssetMemory._record(collection, name)
        return None if record is None else model.model_validate(record)

    @staticmethod
    def _record(collection: Any, name: str) -> dict[str, Any] | None:
        found = collection.get(where={"key": name_key(name)}, include=["metadatas"])
        metas = found.get("metadatas") or []
        return json.loads(str(metas[0]["json"])) if metas else None

    @staticmethod
    def _put(collection: Any, asset: Character | Location, description: str) -> None:
        # One record per name: a repaired design (a new id) replaces the old one.
        collection.delete(where={"key": name_key(asset.design.name)})
        collection.upsert(
            ids=[asset.id],
            documents=[description],
            metadatas=[
                {
                    "name": asset.design.name,
                    "key": name_key(asset.design.name),
                    "json": asset.model_dump_json(),
                }
            ],
        )

    # ----------------------------------------------------------------- references
    def reference_vectors(self, asset_id: str) -> dict[str, list[float]]:
        found = self.references.get(where={"asset_id": asset_id}, include=["embeddings"])
        ids = found.get("ids") or []
        vectors = found.get("embeddings")
        if vectors is None:
            return {}
        return {i: [float(x) for x in v] for i, v in zip(ids, vectors, strict=True)}

    def _put_references(self, asset_id: str, kind: str, files: dict[str, str], root: Path) -> None:
        if not files:
            return
        ids = [f"{asset_id}:{label}" for label in files]
        self.references.upsert(
            ids=ids,
            embeddings=[image_embedding(root / rel).tolist() for rel in files.values()],
            metadatas=[
                {"asset_id": asset_id, "kind": kind, "label": label, "path": rel}
                for label, rel in files.items()
            ],
        )

    @staticmethod
    def _query(collection: Any, text: str, n: int) -> list[tuple[dict[str, Any], float]]:
        count = collection.count()
        if not count:
            return []
        res = collection.query(query_texts=[text], n_results=min(n, count))
        return list(zip(res["metadatas"][0], res["distances"][0], strict=True))
