"""The project's asset memory over chromadb: one record per character and location.

Text embeddings of each asset's description find it by meaning; image embeddings of its
reference files let the continuity checker (and later episodes) compare renders against it.
Records are keyed by a normalised name so episode 2 finds episode 1's cast; a name written
differently resolves to a stored asset by similarity (`resolve_character`, `matching`), and
a shot's references are picked by view and expression (`references_for`, `retrieval`).

The memory is embedded (a directory, chromadb's PersistentClient) or a chroma server
(`AssetMemory.connect("http://HOST:PORT")`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import chromadb
import httpx
from chromadb.api import ClientAPI
from chromadb.config import Settings as ChromaSettings

from inkreel.memory.embeddings import HashingTextEmbedder, image_embedding
from inkreel.memory.matching import Match, match_score, match_threshold
from inkreel.memory.retrieval import FRONT, choose_references, labelled_references
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


class MemoryUnavailable(Exception):
    """The asset memory cannot be reached or opened; the message says where and what to do."""


def _is_url(where: Path | str) -> bool:
    return isinstance(where, str) and where.startswith(("http://", "https://"))


def _server_client(url: str) -> ClientAPI:
    parts = urlsplit(url)
    ssl = parts.scheme == "https"
    try:
        port = parts.port or (443 if ssl else 8000)
    except ValueError:
        port = -1
    if not parts.hostname or port < 0:
        raise MemoryUnavailable(
            f"{url!r} is not a chroma server address; write it as http://HOST:PORT."
        )
    try:
        return chromadb.HttpClient(
            host=parts.hostname,
            port=port,
            ssl=ssl,
            settings=ChromaSettings(anonymized_telemetry=False),
        )
    except (ValueError, httpx.HTTPError) as exc:  # chromadb says ValueError: cannot connect
        raise MemoryUnavailable(
            f"cannot reach the asset memory at {url}: {exc}; start it with `chroma run --host "
            f"{parts.hostname} --port {port} --path DIR` or fix memory in inkreel.toml."
        ) from None


class AssetMemory:
    """Characters and locations of one project, in an embedded chromadb or a chroma server."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        client: ClientAPI | None = None,
        threshold: float | None = None,
        namespace: str = "",
    ) -> None:
        """Open the memory in directory `path` (created if need be), or on `client`.

        `threshold`: the score at or above which a name resolves to a stored asset (default:
        the one measured on `calibration.toml`). `namespace` prefixes the collections' names:
        one chroma server keeps many projects apart.
        """
        prefix = f"{namespace}-" if namespace else ""
        if client is None:
            if path is None:
                raise TypeError("AssetMemory needs a directory or a chromadb client")
            path.mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(
                path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
            )
        self.client = client
        self.threshold = match_threshold() if threshold is None else threshold
        embedder = HashingTextEmbedder()
        space: dict[str, Any] = {"hnsw:space": "cosine"}
        self.characters = self.client.get_or_create_collection(
            f"{prefix}characters",
            embedding_function=embedder,  # type: ignore[arg-type]
            metadata=space,
        )
        self.locations = self.client.get_or_create_collection(
            f"{prefix}locations",
            embedding_function=embedder,  # type: ignore[arg-type]
            metadata=space,
        )
        # Image vectors are computed by us and passed explicitly; the embedder is only there so
        # chromadb never falls back to its downloading default.
        self.references = self.client.get_or_create_collection(
            f"{prefix}references",
            embedding_function=embedder,  # type: ignore[arg-type]
            metadata=space,
        )

    @classmethod
    def connect(
        cls, where: Path | str, threshold: float | None = None, namespace: str = ""
    ) -> AssetMemory:
        """Open the memory at `where`: a chroma server's http(s)://HOST:PORT (its collections
        named after `namespace`, the project), or a directory.

        Raises MemoryUnavailable when a server does not answer.
        """
        if _is_url(where):
            url = str(where)
            client = _server_client(url)
            try:
                return cls(client=client, threshold=threshold, namespace=namespace)
            except (ValueError, httpx.HTTPError) as exc:
                raise MemoryUnavailable(
                    f"cannot open the asset memory at {url}: {exc}; check the chroma server."
                ) from None
        return cls(Path(where), threshold=threshold)

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
        self._put_references(character.id, "character", labelled_references(character), root)

    def resolve_character(self, name: str, description: str = "") -> Match | None:
        """The stored character `name` is: the one of its name, else the most alike by name
        and description at or above the threshold, else None."""
        return self._resolve(self.characters, name, description)

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

    def resolve_location(self, name: str, description: str = "") -> Match | None:
        """The stored set `name` is (see `resolve_character`); `description` such as
        "exterior set"."""
        return self._resolve(self.locations, name, description)

    # ----------------------------------------------------------------- records
    def character_records(self) -> list[dict[str, Any]]:
        """Every stored character as JSON data (unchecked), in name order."""
        return self._records(self.characters)

    def location_records(self) -> list[dict[str, Any]]:
        return self._records(self.locations)

    @staticmethod
    def _records(collection: Any) -> list[dict[str, Any]]:
        metas = collection.get(include=["metadatas"]).get("metadatas") or []
        return [json.loads(str(m["json"])) for m in sorted(metas, key=lambda m: str(m["key"]))]

    def _resolve(self, collection: Any, name: str, description: str) -> Match | None:
        record = self._record(collection, name)
        if record is not None:
            return Match(name=_stored_name(record, name), record=record, score=1.0)
        found = collection.get(include=["metadatas", "documents"])
        best: Match | None = None
        for meta, document in zip(
            found.get("metadatas") or [], found.get("documents") or [], strict=True
        ):
            stored = str(meta["name"])
            # The stored document starts with the name: the description is what follows.
            text = str(document or "").removeprefix(f"{stored}:").strip()
            score = match_score(name, description, stored, text)
            if score >= self.threshold and (best is None or score > best.score):
                best = Match(name=stored, record=json.loads(str(meta["json"])), score=score)
        return best

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
    def references_for(
        self, asset_id: str, view: str = FRONT, expression: str | None = None
    ) -> list[str]:
        """A character's stored reference images for a view and, if given, an expression
        (project-relative paths): the view (else the front), then the expression's head
        (else the neutral one)."""
        return choose_references(self._reference_labels(asset_id), view, expression)

    def stored_references(self, character: Character) -> dict[str, str]:
        """The character's reference images by label (`turnaround:front`, ...) as this
        memory stores them; a character it holds no images for (never put here) has its
        record's own."""
        return self._reference_labels(character.id) or labelled_references(character)

    def _reference_labels(self, asset_id: str) -> dict[str, str]:
        found = self.references.get(where={"asset_id": asset_id}, include=["metadatas"])
        return {str(m["label"]): str(m["path"]) for m in found.get("metadatas") or []}

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


def _stored_name(record: dict[str, Any], fallback: str) -> str:
    design = record.get("design")
    name = design.get("name") if isinstance(design, dict) else None
    return str(name) if name else fallback
