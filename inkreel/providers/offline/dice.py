"""Deterministic choices keyed by strings, so the same prompt and seed give the same answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from inkreel.seeds import seed_of


class Dice:
    """A deterministic chooser keyed by strings (never Python's salted hash())."""

    def __init__(self, *keys: object) -> None:
        self.key = ":".join(str(k) for k in keys)

    def unit(self, *salt: object) -> float:
        return seed_of(f"{self.key}:{':'.join(map(str, salt))}") / 2**64

    def pick(self, seq: Sequence[Any], *salt: object) -> Any:
        return seq[int(self.unit(*salt) * len(seq)) % len(seq)]

    def between(self, lo: float, hi: float, *salt: object) -> float:
        return lo + (hi - lo) * self.unit(*salt)
