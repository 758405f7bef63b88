"""Asset memory: characters and locations of a project, searchable by text and image."""

from inkreel.memory.assets import AssetMemory, MemoryUnavailable
from inkreel.memory.embeddings import HashingTextEmbedder, image_embedding
from inkreel.memory.matching import Match

__all__ = ["AssetMemory", "HashingTextEmbedder", "Match", "MemoryUnavailable", "image_embedding"]
