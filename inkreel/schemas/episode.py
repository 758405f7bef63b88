"""The episode graph's state as plain data: the request, what each node adds (with reducers
for what parallel branches write), the graph's input and output."""

from __future__ import annotations

import operator
from typing import Annotated, Any

from pydantic import BaseModel, Field, TypeAdapter
from typing_extensions import TypedDict

from inkreel.schemas import (
    Artifact,
    Character,
    CheckedTake,
    ContinuityReport,
    Finding,
    Gate,
    Keyframe,
    LineEdit,
    Location,
    Redesign,
    Retake,
    ReviewRecord,
    Script,
    ScriptReview,
    Shot,
    Take,
    Timeline,
)
from inkreel.schemas.chat import OutlineBeat


class EpisodeRequest(BaseModel):
    """What the user asked for; stored in the checkpoint so a resume needs only the name."""

    episode: str
    idea: str | None = None
    logline: str | None = Field(default=None, description="The logline the writer chose.")
    outline: list[OutlineBeat] = Field(
        default_factory=list, description="The writer's beats, for the script to follow."
    )
    cast: list[str] = Field(
        default_factory=list, description="The story's characters, when the writer set them."
    )
    script_file: str | None = None
    story_file: str | None = Field(
        default=None, description="The story.json the script was made from, if any."
    )
    length_s: float = Field(default=60.0, gt=0)
    language: str = "en"
    seed: int = 0
    review: list[Gate] = Field(
        default_factory=list, description="Gates where the run waits for a person's decision."
    )
    settings: dict[str, Any] = Field(
        default_factory=dict, description="Resolved settings, so a resume runs the same way."
    )


def merge(left: dict[str, Any] | None, right: dict[str, Any] | None) -> dict[str, Any]:
    """Merge dicts written by parallel branches; later keys win."""
    return {**(left or {}), **(right or {})}


def merge_artifacts(left: list[Artifact] | None, right: list[Artifact] | None) -> list[Artifact]:
    """Keep one manifest entry per path; a redone file replaces its earlier entry."""
    # Reducers see channel values before any node validates them: entries arrive as plain
    # dicts from a client's JSON state update, or from a checkpoint the server restored
    # without our model types (LANGGRAPH_STRICT_MSGPACK).
    entries = [Artifact.model_validate(a) for a in [*(left or []), *(right or [])]]
    return list({a.path: a for a in entries}.values())


def merge_credits(
    left: dict[str, list[str]] | None, right: dict[str, list[str]] | None
) -> dict[str, list[str]]:
    """Add the models that answered for an artifact, each once, in the order they did."""
    merged = {k: list(v) for k, v in (left or {}).items()}
    for kind, models in (right or {}).items():
        merged[kind] = list(dict.fromkeys([*merged.get(kind, []), *models]))
    return merged


class EpisodeInput(TypedDict, total=False):
    request: EpisodeRequest
    script: Script


class EpisodeState(TypedDict, total=False):
    request: EpisodeRequest
    script: Script
    script_review: ScriptReview | None  # None again when a person rejected the draft
    script_best: Script | None
    cast: Annotated[dict[str, Character], merge]  # a redrawn sheet replaces one entry
    sheet_attempts: Annotated[dict[str, int], merge]
    locations: dict[str, Location]
    cast_new: list[str]
    cast_reused: list[str]
    # Names resolved to a stored asset by similarity: {kind, name, matched, score}.
    cast_matched: list[dict[str, Any]]
    takes: Annotated[dict[str, Take], merge]
    shot_order: list[str]
    shots: Annotated[dict[str, Shot], merge]
    keyframes: Annotated[dict[str, Keyframe], merge]
    attempts: Annotated[dict[str, int], merge]
    findings_log: Annotated[list[Finding], operator.add]
    takes_seen: dict[str, CheckedTake]
    continuity: ContinuityReport
    timeline: Timeline
    mix: str  # the mix (WAV)
    mix_audio: str  # the mix encoded for the episode (AAC)
    segments: Annotated[dict[str, str], merge]
    artifacts: Annotated[list[Artifact], merge_artifacts]
    # Artifact kind (screenplay, storyboard) -> roster ids of the models that wrote it.
    text_models: Annotated[dict[str, list[str]], merge_credits]
    outputs: dict[str, str]
    reviews: Annotated[list[ReviewRecord], operator.add]  # decisions taken at gates
    retakes: list[Retake]  # asked for and not yet applied (graphs.changes)
    line_edits: list[LineEdit]
    redesigns: list[Redesign]


class EpisodeOutput(TypedDict, total=False):
    """What a finished run hands back: the request, the script, the continuity report and
    the delivered files (paths relative to the project directory)."""

    request: EpisodeRequest
    script: Script
    continuity: ContinuityReport
    outputs: dict[str, str]


_STATE: TypeAdapter[EpisodeState] = TypeAdapter(EpisodeState)


def read_state(values: Any) -> EpisodeState:
    """The state validated into the project's models (a client may have sent it as JSON)."""
    return _STATE.validate_python(values)
