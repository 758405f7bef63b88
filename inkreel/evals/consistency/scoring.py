"""Small aggregates the consistency scores share."""

from __future__ import annotations

import numpy as np


def mean(xs: list[float]) -> float | None:
    """The mean, or None for no values."""
    return float(np.mean(xs)) if xs else None


def rounded(x: float | None, n: int = 4) -> float | None:
    """`x` rounded to `n` places (None stays None)."""
    return None if x is None else round(float(x), n)
