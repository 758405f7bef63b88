"""The consistency report: its schema (thresholds, identity, counts, set stability, targets)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from inkreel import __version__
from inkreel.measure.figures import FigureThresholds
from inkreel.measure.identity import CropThresholds
from inkreel.project import write_text_atomic

REPORT_FORMAT = 1


class Params(FigureThresholds, CropThresholds):
    """Every threshold the evaluation uses, recorded with its results.

    The figure-pixel and identity-crop thresholds are the image checks' (`inkreel.measure`);
    the set-stability ones are the evaluation's own.
    """

    set_search_m: float = Field(default=0.35, description="Set search radius, metres.")
    set_min_score: float = Field(
        default=0.5, description="Set matches with a lower correlation peak are 'unmatched'."
    )
    set_min_usable: float = Field(
        default=0.95,
        description="Elements with less of their box in frame and unoccluded are skipped, so a "
        "thin pole cut by the frame edge is not matched to a nearby edge "
        "(the template always comes from a shot showing the whole element).",
    )
    set_max_occlusion: float = Field(
        default=0.5,
        description="Elements more covered than this (by characters or nearer set "
        "elements) are skipped.",
    )


class CropScore(BaseModel):
    shot_id: str
    character: str
    side: Literal["face", "back"]
    head_px: int
    best_view: str = Field(description="Own turnaround view that matched best ('~' = mirrored).")
    cross: float = Field(description="Similarity to own references (best view).")
    cross_others: dict[str, float] = Field(description="Best similarity to each other character.")
    cross_margin: float | None = None
    cross_margin_ceiling: float | None = Field(
        default=None,
        description="The cross margin a pixel-perfect copy of the matched reference view would "
        "get: 1 - its best similarity to any other character's reference.",
    )
    self_mean: float | None = Field(default=None, description="Mean similarity to own crops.")
    self_others: dict[str, float] = Field(default_factory=dict)
    self_margin: float | None = None


class CharacterIdentity(BaseModel):
    character: str
    crops: int
    skipped: dict[str, int] = Field(default_factory=dict)
    cross_cids: float | None = None
    self_cids: float | None = None
    self_pairs: int = 0
    cross_vs: dict[str, float] = Field(
        default_factory=dict, description="Other character -> crops of this one vs its refs."
    )
    self_vs: dict[str, float] = Field(
        default_factory=dict, description="Other character -> crops of this one vs its crops."
    )
    cross_margin: float | None = Field(
        default=None, description="cross_cids minus the highest cross_vs."
    )
    self_margin: float | None = None
    cross_margin_ceiling: float | None = Field(
        default=None, description="Mean over crops of CropScore.cross_margin_ceiling."
    )
    blocks: dict[str, float] = Field(
        default_factory=dict,
        description="Mean block cosines of each crop's best own match and of its best match "
        "with the most similar other character (own_/other_ colour and shape).",
    )


class IdentityReport(BaseModel):
    region: str
    descriptor: str
    reference_geometry: dict[str, str] = Field(
        default_factory=dict, description="Character/view -> 'rerender' or 'proportional'."
    )
    characters: list[CharacterIdentity] = Field(default_factory=list)
    crops: list[CropScore] = Field(default_factory=list)
    cross_cids: float | None = Field(default=None, description="Mean over characters.")
    self_cids: float | None = Field(default=None, description="Mean over characters.")
    cross_other: float | None = Field(default=None, description="Mean different-character cross.")
    self_other: float | None = Field(default=None, description="Mean different-character self.")
    cross_margin_mean: float | None = None
    cross_margin_worst: float | None = Field(default=None, description="Worst single crop.")
    self_margin_mean: float | None = None
    self_margin_worst: float | None = Field(default=None, description="Worst single crop.")
    cross_margin_ceiling: float | None = Field(
        default=None,
        description="Mean over characters: the cross margin if every crop were a pixel-perfect "
        "copy of its reference view (how far apart the designs themselves are).",
    )


class ShotCount(BaseModel):
    shot_id: str
    expected: list[str]
    detected: list[str]
    occm: float
    ink: dict[str, float] = Field(
        default_factory=dict, description="Layout character -> share of body box that is ink."
    )


class CountReport(BaseModel):
    shots: list[ShotCount] = Field(default_factory=list)
    mean_occm: float | None = None
    min_occm: float | None = None


class ElementShift(BaseModel):
    shot_id: str
    element: str
    kind: str
    layer: str
    anchor_shot: str
    dx_px: float = Field(description="Horizontal shift, reference-frame px (+ = screen right).")
    dy_px: float = Field(description="Vertical shift, reference-frame px (+ = down).")
    displacement_px: float = Field(description="|shift| in px of the 1280-wide reference frame.")
    native_px: float = Field(description="|shift| in the shot's own pixels.")
    metres: float = Field(description="|shift| in metres at the element's depth.")
    score: float = Field(description="Peak normalised cross-correlation.")
    occluded: float = Field(description="Share of the element masked out (characters etc.).")
    in_frame: float = Field(default=1.0, description="Share of the element inside the frame.")
    lost: bool = Field(default=False, description="Best match on the search window's edge.")


class LocationStability(BaseModel):
    location: str
    reference_shot: str
    reference_ppm: float = Field(description="Midground px/m of the reference frame at 1280 px.")
    shots: int
    measured: int = 0
    anchors: int = 0
    skipped_partly_out_of_frame: int = 0
    skipped_occluded: int = 0
    skipped_no_anchor: int = 0
    unmatched: int = Field(default=0, description="Matches below the score floor or lost.")
    max_px: float | None = None
    mean_px: float | None = None
    elements: list[ElementShift] = Field(default_factory=list)


class StabilityReport(BaseModel):
    locations: list[LocationStability] = Field(default_factory=list)
    max_px: float | None = None
    mean_px: float | None = None
    measured: int = 0
    unmatched: int = 0


class Target(BaseModel):
    name: str
    value: float | None
    threshold: float
    comparison: Literal[">=", "<="]
    met: bool | None = Field(description="None when the metric could not be measured.")
    note: str = ""


class ConsistencyReport(BaseModel):
    format: int = REPORT_FORMAT
    inkreel_version: str = __version__
    project: str
    episode: str
    shots: int
    params: Params = Field(default_factory=Params)
    mask_method: dict[str, str] = Field(
        default_factory=dict, description="Shot -> 'set_difference' or 'palette_heuristic'."
    )
    identity: IdentityReport
    counts: CountReport
    set_stability: StabilityReport
    targets: list[Target] = Field(default_factory=list)
    timings_s: dict[str, float] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)

    @property
    def all_targets_met(self) -> bool:
        return all(t.met for t in self.targets)


def write_report(report: ConsistencyReport, path: Path) -> Path:
    """Write the report as JSON, atomically; return the path."""
    return write_text_atomic(Path(path), report.model_dump_json(indent=2) + "\n")


def load_report(path: Path) -> ConsistencyReport:
    """Read a report written by `write_report`."""
    return ConsistencyReport.model_validate(json.loads(Path(path).read_text(encoding="utf-8")))
