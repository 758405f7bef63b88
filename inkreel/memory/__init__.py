"""Asset memory: characters and locations of a project, searchable by text and image."""

from inkreel.memory.assets import AssetMemory
from inkreel.memory.embeddings import HashingTextEmbedder, image_embedding

__all__ = ["AssetMemory", "HashingTextEmbedder", "image_embedding"]
