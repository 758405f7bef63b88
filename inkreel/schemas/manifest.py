"""What an episode produced, file by file, and who made it."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Artifact(BaseModel):
    path: str = Field(description="Relative to the project directory.")
    sha256: str
    kind: str
    agent: str
    provider: str
    model: str
    seed: int
    cost: float = 0.0
    basis: str = Field(
        default="",
        description="Digest of the artifact's direct inputs (not the model, not the seed): "
        "when the inputs in the episode's state no longer give it, the artifact is stale.",
    )


class Take(BaseModel):
    """A recorded dialogue line."""

    line_id: str
    character: str
    path: str
    duration_s: float
    sample_rate: int


class Manifest(BaseModel):
    inkreel_version: str
    project_format: int
    episode: str
    seed: int
    language: str
    runtime_s: float
    artifacts: list[Artifact]
    summary: dict[str, object] = Field(default_factory=dict)
