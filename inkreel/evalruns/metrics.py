"""The metrics an evaluation run scores, per agent: what each measures and which way is better.

Every row of `results.jsonl` names one of these (`agent`, `metric`); the report reads the
direction to tell a regression from an improvement. Scores without a direction ("info") are
shown but never called better or worse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Direction = Literal["higher", "lower", "info"]


@dataclass(frozen=True)
class Metric:
    agent: str
    name: str
    better: Direction
    description: str
    judged: bool = False  # an LLM-as-judge score: reported apart from the weight-free ones


METRICS: tuple[Metric, ...] = (
    Metric("screenwriter", "script_errors", "lower", "script-check errors in the final script"),
    Metric("screenwriter", "drafts", "lower", "drafts the screenwriter needed"),
    Metric("screenwriter", "acts_present", "higher", "share of the four acts with a scene"),
    Metric("screenwriter", "runtime_error", "lower", "|estimated runtime - target| / target"),
    Metric("screenwriter", "cast_speaks", "higher", "share of the cast with a line"),
    Metric("screenwriter", "idea_coverage", "higher", "share of the idea's names and nouns used"),
    Metric("character_designer", "cids_cross", "higher", "identity: crops vs own sheet"),
    Metric("character_designer", "cids_self", "higher", "identity: crops vs each other"),
    Metric("character_designer", "cids_margin", "higher", "own-sheet score minus nearest other's"),
    Metric("director", "storyboard_errors", "lower", "storyboard-check errors"),
    Metric("director", "occm", "higher", "on-screen character count match (worst shot)"),
    Metric("director", "set_stability_px", "lower", "worst drift of a fixed set element, px"),
    Metric("director", "shots_flagged", "lower", "shots continuity flagged"),
    Metric("continuity", "precision", "higher", "planted defects: precision"),
    Metric("continuity", "recall", "higher", "planted defects: recall"),
    Metric("continuity", "false_positives", "lower", "findings on the clean item"),
    Metric("editor", "duration_error", "lower", "|episode duration - target| / target"),
    Metric("editor", "loudness_error_lu", "lower", "|integrated loudness - target|, LU"),
    Metric("editor", "subtitle_coverage", "higher", "share of lines with a subtitle"),
    Metric("line", "wall_s", "lower", "wall time of the item, seconds"),
    Metric("line", "cost_usd", "lower", "money spent on the item"),
    Metric("line", "calls", "info", "model calls made"),
    Metric("line", "retries", "lower", "calls retried"),
    Metric("line", "faults_survived", "info", "provider faults the line survived"),
    Metric("line", "human_flagged", "lower", "shots a person flagged for a retake"),
    Metric(
        "judge",
        "prompt_alignment",
        "higher",
        "LLM-as-judge prompt alignment per shot (ViStoryBench 0-4)",
        judged=True,
    ),
)

BY_KEY: dict[tuple[str, str], Metric] = {(m.agent, m.name): m for m in METRICS}
AGENTS: tuple[str, ...] = tuple(dict.fromkeys(m.agent for m in METRICS))


def metric(agent: str, name: str) -> Metric:
    """The metric `agent`/`name` (KeyError names what is known)."""
    try:
        return BY_KEY[(agent, name)]
    except KeyError:
        known = ", ".join(f"{a}/{n}" for a, n in BY_KEY)
        raise KeyError(f"unknown metric {agent}/{name}; known: {known}") from None
