"""Model providers behind small interfaces: text, image, speech, embeddings."""

from inkreel.providers.registry import ProviderError, Providers, build_providers

__all__ = ["ProviderError", "Providers", "build_providers"]
