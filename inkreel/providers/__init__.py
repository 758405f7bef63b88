"""Model providers behind capability Protocols: text, keyframe, voice, animate, embed.

- `capabilities`: the Protocols the agents call; `media` picks the one that serves a roster
  entry (and checks every file an answer brings), `Dispatch.text_model` the text one.
- `offline/`: the story engine and the other stand-ins (no network, no keys, deterministic).
- `openai/`: any OpenAI-compatible endpoint (chat, images, speech, embeddings, errors).
- `video/`: the image-to-video vendors (Seedance, Vidu): task flow and the MP4 check.
- `roster` (with `default_roster.toml`), `router`, `dispatch`, `budget` and `ledger_db`,
  `limits` and `shared_limits`, `faults`, `registry` (builds a run's providers).
"""

from inkreel.providers.registry import ProviderError, Providers, build_providers

__all__ = ["ProviderError", "Providers", "build_providers"]
