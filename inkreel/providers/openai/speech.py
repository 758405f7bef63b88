"""Voices from an OpenAI-compatible speech model (`/audio/speech`, WAV answers)."""

from __future__ import annotations

import struct

import numpy as np

from inkreel.providers.openai.errors import ProviderCallError, openai_client, provider_call
from inkreel.schemas.design import FEMALE_VARIANTS, MALE_VARIANTS, Voice


def decode_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Decode a RIFF/WAVE file to float32 mono in [-1, 1] and its rate; ValueError if it is not
    whole. A data chunk whose size is 0 or 0xFFFFFFFF (a streamed WAV) runs to the end."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE file")
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        start = pos + 8
        if chunk == b"fmt ":
            if size < 16 or start + 16 > len(data):
                raise ValueError("truncated fmt chunk")
            tag, channels, rate, _, align, bits = struct.unpack("<HHIIHH", data[start : start + 16])
            if tag == 0xFFFE and size >= 26 and start + 26 <= len(data):  # WAVE_FORMAT_EXTENSIBLE
                tag = struct.unpack("<H", data[start + 24 : start + 26])[0]
            if channels < 1 or rate < 1 or align < 1:
                raise ValueError("invalid fmt chunk")
            fmt = (tag, channels, rate, align, bits)
        elif chunk == b"data":
            if fmt is None:
                raise ValueError("data chunk before fmt chunk")
            tag, channels, rate, align, bits = fmt
            available = len(data) - start
            if size in (0, 0xFFFFFFFF):
                payload = data[start : start + available - available % align]
            elif size > available:
                raise ValueError(
                    f"truncated: the data chunk declares {size} bytes, {available} came"
                )
            elif size % align:
                raise ValueError(f"the data chunk ({size} bytes) is not whole {align}-byte frames")
            else:
                payload = data[start : start + size]
            return _pcm_to_float(payload, tag, channels, bits), rate
        pos = start + size + (size & 1)
    raise ValueError("no data chunk" if fmt else "no fmt chunk")


def _pcm_to_float(payload: bytes, tag: int, channels: int, bits: int) -> np.ndarray:
    if tag == 1 and bits == 8:
        x = (np.frombuffer(payload, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif tag == 1 and bits == 16:
        x = np.frombuffer(payload, "<i2").astype(np.float32) / 32768.0
    elif tag == 1 and bits == 24:
        b = np.frombuffer(payload, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        x = (np.where(v >= 1 << 23, v - (1 << 24), v) / float(1 << 23)).astype(np.float32)
    elif tag == 1 and bits == 32:
        x = (np.frombuffer(payload, "<i4") / float(1 << 31)).astype(np.float32)
    elif tag == 3 and bits in (32, 64):
        x = np.frombuffer(payload, "<f4" if bits == 32 else "<f8").astype(np.float32)
    else:
        raise ValueError(f"unsupported WAV encoding (format {tag}, {bits} bits)")
    if x.size == 0:
        raise ValueError("no audio samples")
    mono = x.reshape(-1, channels).mean(axis=1) if channels > 1 else x
    return np.clip(np.nan_to_num(mono), -1.0, 1.0).astype(np.float32)


class OpenAISpeech:
    """Text to speech through `/audio/speech` (response_format "wav"); a `SpeechProvider`.

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
