"""Text embeddings from an OpenAI-compatible model (`/embeddings`)."""

from __future__ import annotations

from inkreel.providers.openai.errors import ProviderCallError, openai_client, provider_call


class OpenAIEmbeddings:
    """Text embeddings through `/embeddings` (float encoding, order kept)."""

    def __init__(self, model: str, base_url: str, api_key: str, timeout_s: float) -> None:
        self.model = model
        self.base_url = base_url
        self.timeout_s = timeout_s
        self._secrets = (api_key,)
        self._client = openai_client(base_url, api_key, timeout_s)

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with provider_call(self.model, self._secrets):
            response = self._client.embeddings.create(
                model=self.model, input=texts, encoding_format="float"
            )
        data = sorted(response.data, key=lambda d: d.index)
        vectors = [[float(x) for x in d.embedding] for d in data]
        if len(vectors) != len(texts) or not vectors[0] or len({len(v) for v in vectors}) != 1:
            raise ProviderCallError(
                "invalid_output",
                f"asked for {len(texts)} embeddings, got {len(vectors)} with dimensions "
                f"{sorted({len(v) for v in vectors})}",
                model=self.model,
            )
        return vectors
