"""Hosted models behind any OpenAI-compatible HTTP API: text, images, speech, embeddings.

Each capability is a small class built from `(model, base_url, api_key, timeout_s)`:

- `StructuredText.generate(schema, messages)` -> a validated pydantic object and its `Usage`
  (`chat`).
- `OpenAIImages.generate(prompt)` / `.edit(prompt, references)` -> PNG bytes (`images`).
- `OpenAISpeech.speak(text, voice)` -> WAV bytes; `.synthesize` decodes them (`speech`).
- `OpenAIEmbeddings.embed(texts)` -> one vector per text (`embeddings`).

Errors and the no-retry policy are in `errors`.
"""

from inkreel.providers.openai.chat import Review, StructuredText, Usage
from inkreel.providers.openai.embeddings import OpenAIEmbeddings
from inkreel.providers.openai.errors import ERROR_KINDS, ErrorKind, ProviderCallError, classify
from inkreel.providers.openai.images import OpenAIImages, as_png
from inkreel.providers.openai.speech import OpenAISpeech, decode_wav

__all__ = [
    "ERROR_KINDS",
    "ErrorKind",
    "OpenAIEmbeddings",
    "OpenAIImages",
    "OpenAISpeech",
    "ProviderCallError",
    "Review",
    "StructuredText",
    "Usage",
    "as_png",
    "classify",
    "decode_wav",
]
