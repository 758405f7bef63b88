"""Whether a name written differently is an asset the memory already holds.

A later episode may call the set "the harbor wall" that episode 1 stored as "HARBOUR WALL".
Names are normalised (case, punctuation, the articles the/a/an, British spellings to American
ones), then scored by how alike they are; when both sides have a description, its text
embedding's cosine adds a smaller part. A pair at or above the threshold is the same asset.
The name decides: two people with alike descriptions but different names stay two people.

The threshold is measured, not guessed: `calibration.toml` beside this module holds labelled
pairs (spelling, article and case variants that are the same asset; different people and
places with similar descriptions that are not) and the threshold chosen from them;
`bench/memory_threshold.py` prints the errors at each candidate threshold.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any, Literal

import numpy as np

from inkreel.memory.embeddings import text_embedding

CALIBRATION = Path(__file__).with_name("calibration.toml")
NAME_WEIGHT = 0.9  # the description's part is the rest: a short brief is only a hint
ARTICLES = frozenset({"the", "a", "an"})
# Whole words whose British and American spellings follow no suffix rule.
WORD_VARIANTS = {
    "grey": "gray",
    "kerb": "curb",
    "tyre": "tire",
    "storey": "story",
    "plough": "plow",
    "gaol": "jail",
    "cosy": "cozy",
    "aluminium": "aluminum",
}
_VOWELS = "aeiou"


@dataclass(frozen=True)
class Match:
    """A stored asset a name resolved to: its stored name, its record and the score."""

    name: str
    record: dict[str, Any]
    score: float


def american(word: str) -> str:
    """One word in its American spelling (harbour -> harbor, centre -> center)."""
    plural = len(word) > 4 and word.endswith("s") and not word.endswith("ss")
    stem = word[:-1] if plural else word
    stem = WORD_VARIANTS.get(stem, stem)
    # harbour, colour, harbourmaster, favourite; not four, hour, tourist, journey
    stem = re.sub(r"(?<=\w\w)our(?=[^aeiou]|ite|$)", "or", stem)
    if len(stem) >= 5 and stem.endswith("re") and stem[-3] not in _VOWELS:
        stem = stem[:-2] + "er"  # centre, theatre, fibre; not store, fire
    elif stem.endswith("ogue"):
        stem = stem[:-2]  # catalogue, dialogue
    else:
        stem = re.sub(r"([aeiou])ll(er|ed|ing)$", r"\1l\2", stem)  # traveller, modelling
    return stem + ("s" if plural else "")


def normal_name(name: str) -> str:
    """A name as compared: case-folded, without punctuation or articles, spelt American."""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = re.sub(r"['’`]", "", text)  # Mei's room -> meis room, O'Brien -> obrien
    words = re.findall(r"\w+", text)
    kept = [w for w in words if w not in ARTICLES] or words
    return " ".join(american(w) for w in kept)


def name_score(a: str, b: str) -> float:
    """1.0 for names equal once normalised, else how much of them is alike (0 to 1)."""
    na, nb = normal_name(a), normal_name(b)
    if na == nb:
        return 1.0
    return SequenceMatcher(None, na, nb).ratio()


def description_score(a: str, b: str) -> float | None:
    """Cosine of the descriptions' text embeddings (0 to 1), None when either is empty."""
    if not a.strip() or not b.strip():
        return None
    return max(0.0, float(np.dot(text_embedding(a), text_embedding(b))))


def match_score(name: str, description: str, stored: str, stored_description: str) -> float:
    """How surely `name` (described so) is the stored asset: the name score, with the
    description's cosine as a smaller part when both sides are described."""
    by_name = name_score(name, stored)
    by_text = description_score(description, stored_description)
    if by_text is None:
        return by_name
    return NAME_WEIGHT * by_name + (1 - NAME_WEIGHT) * by_text


@dataclass(frozen=True)
class CalibrationPair:
    kind: Literal["character", "location"]
    name: str
    description: str
    stored: str
    stored_description: str
    same: bool

    @property
    def score(self) -> float:
        return match_score(self.name, self.description, self.stored, self.stored_description)


@dataclass(frozen=True)
class Calibration:
    threshold: float
    pairs: list[CalibrationPair]


def load_calibration(path: Path = CALIBRATION) -> Calibration:
    """The labelled pairs and the threshold chosen from them."""
    with path.open("rb") as f:
        data = tomllib.load(f)
    pairs = [
        CalibrationPair(
            kind=p["kind"],
            name=p["name"],
            description=p.get("description", ""),
            stored=p["stored"],
            stored_description=p.get("stored_description", ""),
            same=bool(p["same"]),
        )
        for p in data["pair"]
    ]
    return Calibration(threshold=float(data["threshold"]), pairs=pairs)


@functools.cache
def match_threshold() -> float:
    """The score at or above which a name resolves to a stored asset (from calibration.toml)."""
    return load_calibration().threshold


def errors_at(pairs: list[CalibrationPair], threshold: float) -> tuple[int, int]:
    """(false merges, missed matches) of the pairs at a threshold."""
    merges = sum(1 for p in pairs if not p.same and p.score >= threshold)
    misses = sum(1 for p in pairs if p.same and p.score < threshold)
    return merges, misses


def choose_threshold(pairs: list[CalibrationPair]) -> float:
    """The threshold halfway between the highest different pair and the lowest same pair
    (rounded to 0.01); when they overlap, the one with the fewest errors on a 0.01 grid, a
    false merge counting twice (two people made one is worse than a set designed again)."""
    same = [p.score for p in pairs if p.same]
    different = [p.score for p in pairs if not p.same]
    if same and different and max(different) < min(same):
        middle = (max(different) + min(same)) / 2
        rounded = round(middle, 2)
        return rounded if max(different) < rounded <= min(same) else round(middle, 4)
    grid = [i / 100 for i in range(50, 101)]
    return min(grid, key=lambda t: (2 * errors_at(pairs, t)[0] + errors_at(pairs, t)[1], -t))
