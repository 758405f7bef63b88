"""Offline evaluations of produced episodes (metrics computed from the rendered pixels)."""

from inkreel.evals.consistency import (
    ConsistencyReport,
    Params,
    evaluate_episode,
    format_report,
    write_report,
)

__all__ = ["ConsistencyReport", "Params", "evaluate_episode", "format_report", "write_report"]
