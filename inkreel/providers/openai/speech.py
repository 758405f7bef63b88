"""Voices from an OpenAI-compatible speech model (`/audio/speech`, WAV answers)."""

from __future__ import annotations

import io
import warnings

import numpy as np
from scipy.io import wavfile

from inkreel.providers.openai.errors import ProviderCallError, openai_client, provider_call
from inkreel.schemas.design import FEMALE_VARIANTS, MALE_VARIANTS, Voice


def decode_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Decode a WAV file to float32 mono in [-1, 1] and its rate; ValueError if it is not whole.

    A data chunk whose size is 0xFFFFFFFF (a streamed WAV) runs to the end of the file.
    """
    with warnings.catch_warnings(record=True) as heard:
        warnings.simplefilter("always", wavfile.WavFileWarning)
        try:
            rate, samples = wavfile.read(io.BytesIO(data))
        except ValueError as exc:
            if "multiple of element size" in str(exc):
                raise ValueError("truncated: the data chunk ends inside a sample frame") from None
            raise
    for warning in heard:
        if "EOF prematurely" in str(warning.message):
            raise ValueError(f"truncated: {warning.message}")
    if samples.size == 0:
        raise ValueError("no audio samples")
    return _as_float_mono(samples), int(rate)


def _as_float_mono(samples: np.ndarray) -> np.ndarray:
    if samples.dtype == np.uint8:
        x = (samples.astype(np.float32) - 128.0) / 128.0
    elif np.issubdtype(samples.dtype, np.integer):
        # 24-bit samples come left-justified in int32, so one scale fits 16, 24 and 32 bits.
        x = (samples / float(np.iinfo(samples.dtype).max + 1)).astype(np.float32)
    else:
        x = samples.astype(np.float32)
    mono = x.mean(axis=1) if x.ndim > 1 else x
    return np.clip(np.nan_to_num(mono), -1.0, 1.0).astype(np.float32)


class OpenAISpeech:
    """Text to speech through `/audio/speech` (response_format "wav").

    `providers.media.HostedVoice` is the voice capability over it.

    Characters keep eSpeak-style `Voice`s (so `voices` lists the same variants as the offline
    provider); `voice_map` maps a variant to the provider's voice name (unmapped variants get
    `default_voice`, "alloy"). `speed` is `voice.speed / 170` words per minute (clamped to
    0.25-4). Pitch has no hosted equivalent and is not sent; nor is `language`: hosted voices
    speak the language of the text.
    """

    name = "openai"

    def __init__(
        self,
        model: str,
        base_url: str,
        api_key: str,
        timeout_s: float,
        *,
        voice_map: dict[str, str] | None = None,
        default_voice: str = "alloy",
    ) -> None:
        self.model = model
        self.base_url = base_url
        self.timeout_s = timeout_s
        self.voice_map = dict(voice_map or {})
        self.default_voice = default_voice
        self.voices: dict[str, list[str]] = {
            "female": list(FEMALE_VARIANTS),
            "male": list(MALE_VARIANTS),
        }
        self._secrets = (api_key,)
        self._client = openai_client(base_url, api_key, timeout_s)

    def hosted_voice(self, voice: Voice) -> str:
        return self.voice_map.get(voice.variant, self.default_voice)

    def synthesize(self, text: str, voice: Voice, language: str) -> tuple[np.ndarray, int]:
        data = self.speak(text, voice)
        try:
            return decode_wav(data)
        except ValueError as e:
            raise ProviderCallError(
                "invalid_output",
                f"the speech audio does not decode as WAV: {e} ({len(data)} bytes)",
                model=self.model,
                diagnostic={"model": self.model, "bytes": len(data), "head": data[:16].hex()},
            ) from None

    def speak(self, text: str, voice: Voice) -> bytes:
        """The provider's WAV file for `text`, undecoded."""
        if not text.strip():
            raise ProviderCallError(
                "bad_request", "nothing to say: the line is empty", model=self.model
            )
        speed = min(4.0, max(0.25, voice.speed / 170))
        with provider_call(self.model, self._secrets):
            response = self._client.audio.speech.create(
                model=self.model,
                voice=self.hosted_voice(voice),
                input=text,
                response_format="wav",
                speed=speed,
            )
            return response.content
