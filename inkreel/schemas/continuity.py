"""The continuity report: findings, fix instructions and the outcome of each repair loop."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from inkreel.schemas.storyboard import Keyframe, Shot

Level = Literal["script", "storyboard", "image"]
Agent = Literal["director", "character_designer", "screenwriter"]


class Finding(BaseModel):
    """One continuity problem: what, where, how bad, why we think so, and who should fix it."""

    check: str = Field(description="Check type, e.g. 'line_crossed' or 'hair_colour'.")
    level: Level = "image"
    shot_id: str = Field(default="", description="The shot to redo ('' for script findings).")
    shots: list[str] = Field(default_factory=list, description="Every shot involved.")
    scene: int | None = Field(default=None, description="Scene number, when known.")
    beat: int | None = Field(default=None, description="Beat index in the scene, when known.")
    severity: Literal["error", "warning"] = "error"
    message: str
    fix_instruction: str = Field(description="Addressed to the agent that should act.")
    agent: Agent = "director"
    evidence: dict[str, float | str] = Field(default_factory=dict)


class ShotOutcome(BaseModel):
    shot_id: str
    attempts: int
    status: Literal["passed", "repaired", "flagged"]
    findings_first: int
    findings_last: int
    score_before: float | None = Field(
        default=None, description="Worst check score on the first attempt (1 = clean)."
    )
    score_after: float | None = Field(default=None, description="The same on the kept take.")


class ScriptReview(BaseModel):
    """The script-level gate: the screenwriter's drafts checked before anything is designed."""

    attempts: int = Field(default=1, description="Drafts checked (1 = the first draft only).")
    status: Literal["passed", "repaired", "flagged"] = "passed"
    revised: bool = Field(
        default=True, description="False for the user's own screenplay: checked, never rewritten."
    )
    scenes_revised: list[int] = Field(default_factory=list, description="Scenes rewritten.")
    findings_first: int = Field(default=0, description="Errors in the first draft.")
    findings: list[Finding] = Field(default_factory=list, description="Open script findings.")
    history: list[Finding] = Field(default_factory=list, description="Every one ever raised.")


class ContinuityReport(BaseModel):
    passed: bool
    max_attempts: int
    rounds: int
    findings: list[Finding] = Field(default_factory=list, description="Open findings.")
    history: list[Finding] = Field(default_factory=list, description="Every finding ever raised.")
    shots: list[ShotOutcome] = Field(default_factory=list)
    script: ScriptReview | None = Field(default=None, description="The script-level gate.")
    sheets_redrawn: dict[str, int] = Field(
        default_factory=dict, description="Character -> reference sheets redrawn for them."
    )


class CheckedTake(BaseModel):
    """A shot's take as the continuity gate last saw it, with its score and its best take."""

    shot: Shot
    keyframe: Keyframe
    score: float = Field(description="1.0 clean; lower the worse its findings.")
    findings: list[Finding] = Field(default_factory=list, description="Its image findings.")
    references: list[str] = Field(
        default_factory=list, description="The reference sheets it was checked against."
    )
    first: float | None = Field(default=None, description="Score of the shot's first take.")
    best: CheckedTake | None = Field(default=None, description="Best take so far.")

    def remember(self) -> CheckedTake:
        """This take, knowing its first score and the best take so far (maybe itself)."""
        first = self.score if self.first is None else self.first
        plain = self.model_copy(update={"best": None, "first": first})
        best = self.best if self.best is not None and self.best.score >= self.score else plain
        return self.model_copy(update={"first": first, "best": best})
