"""Build the providers a run uses from its settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from langchain_core.language_models import BaseChatModel

from inkreel.media import audio
from inkreel.providers.offline_chat import MODEL_NAME, OfflineChatModel
from inkreel.schemas.design import Voice


class ProviderError(Exception):
    """A provider that cannot be used as configured; the message says what to change."""


class SpeechProvider(Protocol):
    name: str
    model: str
    voices: dict[str, list[str]]

    def synthesize(self, text: str, voice: Voice, language: str) -> tuple[np.ndarray, int]: ...


class OfflineSpeech:
    """eSpeak NG through the `espeakng-loader` wheel: no system package, no network."""

    name = "offline"
    model = "espeak-ng"
    voices = {"female": list(audio.FEMALE_VARIANTS), "male": list(audio.MALE_VARIANTS)}  # noqa: RUF012

    def synthesize(self, text: str, voice: Voice, language: str) -> tuple[np.ndarray, int]:
        return audio.synthesize(text, voice, language)


@dataclass
class Providers:
    text: BaseChatModel
    text_id: tuple[str, str]
    speech: SpeechProvider
    image_id: tuple[str, str]


KNOWN = {"offline"}


def build_providers(text_model: str, image_model: str, speech_model: str, seed: int) -> Providers:
    """Return providers for the configured model names, or raise ProviderError."""
    for capability, name in (
        ("text", text_model),
        ("image", image_model),
        ("speech", speech_model),
    ):
        if name not in KNOWN:
            raise ProviderError(
                f"unknown {capability} model {name!r}; available: {', '.join(sorted(KNOWN))}. "
                "(Hosted providers are configured per capability in inkreel.toml.)"
            )
    return Providers(
        text=OfflineChatModel(seed=seed),
        text_id=("offline", MODEL_NAME),
        speech=OfflineSpeech(),
        image_id=("offline", "inkreel-procedural-renderer"),
    )
