"""Deterministic choices keyed by strings, so the same prompt and seed give the same answer."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any


class Dice:
    """A deterministic chooser keyed by strings (never Python's salted hash())."""

    def __init__(self, *keys: object) -> None:
        self.key = ":".join(str(k) for k in keys)

    def unit(self, *salt: object) -> float:
        h = hashlib.sha256(f"{self.key}:{':'.join(map(str, salt))}".encode()).digest()
        return int.from_bytes(h[:8], "big") / 2**64

    def pick(self, seq: Sequence[Any], *salt: object) -> Any:
        return seq[int(self.unit(*salt) * len(seq)) % len(seq)]

    def between(self, lo: float, hi: float, *salt: object) -> float:
        return lo + (hi - lo) * self.unit(*salt)
