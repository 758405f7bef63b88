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

from inkreel.schemas import Finding, Script, StoryboardFile

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

    @classmethod
    def load(cls, path: Path, root: Path | None = None) -> Bundle:
        """Read a storyboard JSON file; asset paths resolve against `root`, by default the
        project directory when the file is in DIR/episodes/NAME/, else the file's folder."""
        board = StoryboardFile.model_validate_json(path.read_text(encoding="utf-8"))
        if root is None:
            here = path.resolve().parent
            root = here.parent.parent if here.parent.name == "episodes" else here
        return cls(board, root, path)

    @property
    def script(self) -> Script | None:
        return self.board.script

    @property
    def has_images(self) -> bool:
        return bool(self.board.keyframes) and all(
            (self.root / k.path).is_file() for k in self.board.keyframes.values()
        )


LEVELS = ("script", "storyboard", "image")


def detects(level: str) -> dict[str, set[str]]:
    """Check name -> the defect types its findings are evidence for, at one level."""
    if level == "script":
        from inkreel.checks.script import DETECTS as script_detects

        return script_detects
    if level == "storyboard":
        from inkreel.checks.storyboard import DETECTS as board_detects

        return board_detects
    from inkreel.checks.image import DETECTS as image_detects

    return image_detects


def evidence_for(finding: Finding) -> set[str]:
    """The defect types a finding is evidence for."""
    return detects(finding.level).get(finding.check, set())


def run_checks(
    bundle: Bundle, levels: tuple[str, ...] = LEVELS, shots: list[str] | None = None
) -> list[Finding]:
    """Every check of the given levels that the bundle has the data for, in level order.

    Script checks need `board.script`, image checks need keyframes on disk; what is skipped
    for want of data is said in `bundle.notes`. `shots` limits the image checks.
    """
    from inkreel.checks.image import check_image
    from inkreel.checks.script import check_script
    from inkreel.checks.storyboard import check_storyboard

    findings: list[Finding] = []
    if "script" in levels:
        if bundle.script is None:
            _note(bundle, "script checks skipped: the storyboard carries no script.")
        else:
            findings += check_script(bundle)
    if "storyboard" in levels:
        findings += check_storyboard(bundle)
    if "image" in levels:
        if bundle.has_images:
            findings += check_image(bundle, shots)
        else:
            _note(bundle, "image checks skipped: no keyframe images next to the storyboard.")
    return findings


def _note(bundle: Bundle, note: str) -> None:
    if note not in bundle.notes:
        bundle.notes.append(note)
