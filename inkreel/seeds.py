"""Seeds hashed out of their inputs: the line's only source of variety (a drawing's books and
stars, a voice, a fault to inject, a planted defect), so the same inputs repeat exactly."""

from __future__ import annotations

import hashlib

SEPARATOR = "\x1f"


def seed_of(*parts: object) -> int:
    """A 64-bit seed from the parts' text, joined by SEPARATOR (SHA-256, first 8 bytes)."""
    h = hashlib.sha256(SEPARATOR.join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(h[:8], "big")
