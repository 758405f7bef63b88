"""Embedders that download nothing: hashed n-gram text vectors and colour/shape image vectors.

chromadb's default embedding function fetches a model from a hub; projects must work on
air-gapped machines, so every collection is created with these instead.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function
from PIL import Image

TEXT_DIM = 384
IMAGE_DIM = 8 * 8 * 8 + 16 * 16


def _bucket(token: str) -> tuple[int, float]:
    h = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(h, "little")
    return value % TEXT_DIM, 1.0 if (value >> 63) & 1 else -1.0


def text_embedding(text: str) -> np.ndarray:
    """Embed text as signed hashed word and character-trigram counts (L2-normalised)."""
    vec = np.zeros(TEXT_DIM, dtype=np.float32)
    lowered = text.lower()
    tokens = re.findall(r"\w+", lowered)
    grams = [lowered[i : i + 3] for i in range(max(0, len(lowered) - 2))]
    for token, weight in [(t, 1.0) for t in tokens] + [(g, 0.5) for g in grams]:
        index, sign = _bucket(token)
        vec[index] += sign * weight
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm else vec


@register_embedding_function
class HashingTextEmbedder(EmbeddingFunction[Documents]):
    """chromadb embedding function over `text_embedding`; deterministic, offline."""

    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:
        return [text_embedding(doc) for doc in input]

    @staticmethod
    def name() -> str:
        return "inkreel-hashing-text"

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> HashingTextEmbedder:
        return HashingTextEmbedder()

    def get_config(self) -> dict[str, Any]:
        return {"dim": TEXT_DIM}

    def default_space(self) -> Any:
        return "cosine"


def image_embedding(path: Path | str) -> np.ndarray:
    """Embed an image as a joint RGB histogram plus a coarse luminance layout (L2-normalised)."""
    with Image.open(path) as im:
        rgba = im.convert("RGBA")
        rgba.thumbnail((256, 256))
        arr = np.asarray(rgba, dtype=np.uint8)
    alpha = arr[..., 3] > 16
    rgb = arr[..., :3][alpha] if alpha.any() else arr[..., :3].reshape(-1, 3)
    bins = (rgb // 32).astype(np.int32)
    hist = np.bincount(bins[:, 0] * 64 + bins[:, 1] * 8 + bins[:, 2], minlength=512)
    hist = hist.astype(np.float32) / max(1, hist.sum())
    gray = Image.fromarray(arr[..., :3]).convert("L").resize((16, 16))
    layout = np.asarray(gray, dtype=np.float32).ravel() / 255.0
    layout -= layout.mean()
    vec = np.concatenate([np.sqrt(hist), 0.5 * layout / (np.linalg.norm(layout) or 1.0)])
    norm = float(np.linalg.norm(vec))
    return (vec / norm if norm else vec).astype(np.float32)
