"""Build the providers a run uses from its settings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from inkreel.media import audio
from inkreel.providers.budget import Ledger
from inkreel.providers.dispatch import TextDispatch
from inkreel.providers.faults import FaultPlan
from inkreel.providers.roster import Roster, RosterError
from inkreel.providers.router import Router, RouterError
from inkreel.schemas.design import Voice
from inkreel.settings import Settings


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
    text: TextDispatch
    text_id: tuple[str, str]
    speech: SpeechProvider
    image_id: tuple[str, str]
    roster: Roster


def build_providers(
    settings: Settings,
    seed: int,
    ledger: Ledger,
    episode: str,
    environ: Mapping[str, str] | None = None,
    roster: Roster | None = None,
) -> Providers:
    """Return the run's providers: text routed by policy and paid for in the ledger."""
    environ = os.environ if environ is None else environ
    for capability, name in (("image", settings.image_model), ("speech", settings.speech_model)):
        if name != "offline":
            raise ProviderError(
                f"{capability} model {name!r} is not available in the pipeline yet; only "
                "'offline' is (hosted images and voices are built but not wired in)."
            )
    try:
        roster = roster or Roster.default()
        router = Router(
            roster,
            settings.policy,
            settings.task_models(),  # type: ignore[arg-type]
            environ,
            base_delay_s=settings.retry_base_delay_s,
        )
        first = router.choose("write")
    except (RouterError, RosterError) as exc:
        raise ProviderError(str(exc)) from None
    if settings.budget_usd is not None:
        ledger.set_cap(("episode", episode), settings.budget_usd)
    plan = FaultPlan(settings.fault_seed, settings.fault_rate) if settings.fault_rate else None
    dispatch = TextDispatch(router, ledger, [("episode", episode)], seed, plan, environ)
    return Providers(
        text=dispatch,
        text_id=(first.provider, first.model),
        speech=OfflineSpeech(),
        image_id=("offline", "inkreel-procedural-renderer"),
        roster=roster,
    )
