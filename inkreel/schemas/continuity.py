"""The continuity report: findings, fix instructions and the outcome of each repair loop."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Finding(BaseModel):
    check: Literal["speaker_in_shot", "design_match", "screen_side"]
    shot_id: str
    severity: Literal["error", "warning"] = "error"
    message: str
    fix_instruction: str = Field(description="Addressed to the agent that should act.")
    agent: Literal["director", "character_designer", "screenwriter"] = "director"
    evidence: dict[str, float | str] = Field(default_factory=dict)


class ShotOutcome(BaseModel):
    shot_id: str
    attempts: int
    status: Literal["passed", "repaired", "flagged"]
    findings_first: int
    findings_last: int


class ContinuityReport(BaseModel):
    passed: bool
    max_attempts: int
    rounds: int
    findings: list[Finding] = Field(default_factory=list, description="Open findings.")
    history: list[Finding] = Field(default_factory=list, description="Every finding ever raised.")
    shots: list[ShotOutcome] = Field(default_factory=list)
