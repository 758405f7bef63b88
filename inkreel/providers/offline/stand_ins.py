"""The offline models behind the capability Protocols (`providers.capabilities`).

Text is the story engine (through `OfflineChatModel`), a keyframe is the procedural drawing
the request carries, a voice is eSpeak NG, a clip is the shot's procedural motion encoded
locally. None is billed and none needs a network or a key.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from langchain_core.messages import BaseMessage

from inkreel.media import audio
from inkreel.providers.capabilities import (
    AnimateRequest,
    KeyframeRequest,
    M,
    Produced,
    Review,
    Usage,
)
from inkreel.providers.errors import AnswerRejected
from inkreel.providers.faults import InjectedFault
from inkreel.providers.offline.chat import OfflineChatModel
from inkreel.schemas.design import Voice


class OfflineText:
    """The story engine as a `TextModel`: same prompt and seed, same answer."""

    def __init__(self, model_id: str, seed: int) -> None:
        self.model_id = model_id
        self.seed = seed

    def generate(
        self, schema: type[M], messages: Sequence[BaseMessage], review: Review | None = None
    ) -> tuple[M, Usage]:
        model = OfflineChatModel(seed=self.seed)
        result = model.with_structured_output(schema).invoke(list(messages))
        if not isinstance(result, schema):
            raise InjectedFault("invalid_output")
        problems = list(review(result)) if review else []
        if problems:  # the engine is deterministic: asking it again changes nothing
            raise AnswerRejected(self.model_id, problems)
        return result, Usage(model=self.model_id)


class OfflineKeyframes:
    """The procedural renderer as a `KeyframeModel`: the request's drawing, as PNG."""

    def draw(self, request: KeyframeRequest) -> Produced:
        buffer = io.BytesIO()
        request.drawing.save(buffer, format="PNG")
        return buffer.getvalue(), {"images": 1}


class OfflineVoice:
    """eSpeak NG as a `VoiceModel`."""

    def speak(self, text: str, voice: Voice, language: str) -> Produced:
        samples, rate = audio.synthesize(text, voice, language)
        return audio.wav_bytes(samples, rate), {"speech_chars": len(text)}


class OfflineAnimate:
    """The procedural motion as an `AnimateModel`: any length, encoded to the segment."""

    finished = True

    def clip_seconds(self, seconds: float) -> float:
        return seconds

    def animate(self, request: AnimateRequest) -> Produced:
        return request.render_locally(), {"video_seconds": request.seconds}
