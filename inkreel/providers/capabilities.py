"""Capability Protocols: what the agents ask of a model, whoever answers it.

One Protocol per capability DESIGN.md promises: text (structured output into pydantic
models), keyframe (an image, guided by reference images), voice (text to speech), animate
(a keyframe to a clip), embed (text to vectors). The offline stand-ins
(`providers.offline.stand_ins`) and the hosted clients (`providers.media`, over
`providers.openai` and `providers.video`) implement them; `providers.media.keyframe_model`,
`voice_model` and `animate_model` give the one that serves a roster entry, and
`Dispatch.text_model` the text one. The agents build a request and call the capability; what
only one kind of model needs (the procedural drawing, the local encode, a vendor's clip
lengths, its task journal) is in the request or behind the Protocol, not in the agent.

A media capability answers with the file's bytes and the units it was billed for (the
ledger's `Price.cost` keys), which `Dispatch.media` checks, stores and settles.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from langchain_core.messages import BaseMessage
from PIL import Image
from pydantic import BaseModel, Field

from inkreel.schemas.design import Voice

M = TypeVar("M", bound=BaseModel)

# A produced file and the units it was billed for ({"images": 1}, {"video_seconds": 5.0}).
Produced = tuple[bytes, Mapping[str, float]]
# What an agent's check says is wrong with an answer (empty: usable).
Review = Callable[[Any], Sequence[str]]


class Usage(BaseModel):
    """Tokens a call used (summed over the repair request, if any)."""

    input_tokens: int = 0
    output_tokens: int = 0
    model: str
    requests: int = 0
    repaired: list[str] = Field(
        default_factory=list, description="Bounds and spellings fitted by rule (json_fit)."
    )

    def add(self, message: BaseMessage) -> Usage:
        meta = getattr(message, "usage_metadata", None) or {}
        return Usage(
            input_tokens=self.input_tokens + int(meta.get("input_tokens", 0) or 0),
            output_tokens=self.output_tokens + int(meta.get("output_tokens", 0) or 0),
            model=str(message.response_metadata.get("model_name") or self.model),
            requests=self.requests + 1,
        )


class TextModel(Protocol):
    """Structured text: the messages answered as an instance of `schema`."""

    def generate(
        self, schema: type[M], messages: Sequence[BaseMessage], review: Review | None = None
    ) -> tuple[M, Usage]:
        """Answer `messages` as `schema`, with the tokens used; `review` lists what makes a
        valid answer unusable (a model that can repair asks again with it)."""
        ...


@dataclass(frozen=True)
class KeyframeRequest:
    """A shot's keyframe: the prompt, the reference images and the procedural drawing.

    `drawing` is the staging drawn by the procedural renderer (the layout every keyframe
    follows); a model that draws by itself uses only the prompt and references.
    """

    prompt: str
    references: list[Path]
    drawing: Image.Image


class KeyframeModel(Protocol):
    """Images: a keyframe as PNG (or any image format `accept_png` re-encodes)."""

    def draw(self, request: KeyframeRequest) -> Produced:
        """Draw the keyframe; return the image's bytes and the units billed."""
        ...


class VoiceModel(Protocol):
    """Speech: a line in a character's voice, as a WAV file."""

    def speak(self, text: str, voice: Voice, language: str) -> Produced:
        """Say `text`; return the WAV bytes and the units billed."""
        ...


@dataclass(frozen=True)
class AnimateRequest:
    """A shot to animate from its keyframe.

    `key` names the call in the ledger (a vendor task is journalled under it); `render_locally`
    is the procedural motion of the shot, encoded to its segment (what the offline model
    answers; nobody else calls it).
    """

    key: str
    prompt: str
    first_frame: Path | None  # the keyframe; None for a shot drawn without one
    seconds: float
    seed: int
    render_locally: Callable[[], bytes]


class AnimateModel(Protocol):
    """Video: a clip animated from the shot's keyframe."""

    # True when the answer is the shot's finished segment (frames, subtitle and dissolve);
    # False when it is a clip the editor fits to the shot's frames afterwards.
    finished: bool

    def clip_seconds(self, seconds: float) -> float:
        """The clip length this model is asked for, for a shot `seconds` long."""
        ...

    def animate(self, request: AnimateRequest) -> Produced:
        """Animate the shot; return the MP4's bytes and the units billed."""
        ...


class EmbedModel(Protocol):
    """Embeddings: one vector per text, all of one dimension."""

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Embed `texts` in order."""
        ...
