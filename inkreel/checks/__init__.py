"""Continuity checks at three levels, on the documented storyboard JSON schema.

    bundle = Bundle.load(Path("storyboard.json"))
    findings = run_checks(bundle)

* script level (`checks.script`): who is where, props, time of day, wardrobe;
* storyboard level (`checks.storyboard`): the 180-degree line, eyelines, jump cuts, teleports;
* image level (`checks.image`): identity, palette drift, character count, the set, from pixels.

Each check module exposes `check_<level>(bundle) -> list[Finding]` and `DETECTS`, which maps
each of its check names to the planted-defect types (see `DEFECT_TYPES`) a finding of that
check is evidence for; the planted-defect evaluation scores findings through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from inkreel.schemas import Script, StoryboardFile

DEFECT_TYPES = (
    "hair_colour",
    "outfit_swap",
    "prop_vanishes",
    "wrong_location",
    "day_night",
    "line_flip",
    "missing_character",
    "extra_character",
    "set_element_moved",
    "eyeline_mismatch",
)


@dataclass
class Bundle:
    """What the checks read: the storyboard file, its script if any, and where paths resolve.

    `root` is the directory the storyboard's relative asset paths (keyframes, turnarounds,
    plates) are relative to: the project directory for our own episodes.
    """

    board: StoryboardFile
    root: Path
    source: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def script(self) -> Script | None:
        return self.board.script

    @property
    def has_images(self) -> bool:
        return bool(self.board.keyframes) and all(
            (self.root / k.path).is_file() for k in self.board.keyframes.values()
        )
