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

from inkreel.checks.bundle import Bundle
from inkreel.checks.image import DETECTS as IMAGE_DETECTS
from inkreel.checks.image import check_image
from inkreel.checks.script import DETECTS as SCRIPT_DETECTS
from inkreel.checks.script import check_script
from inkreel.checks.storyboard import DETECTS as STORYBOARD_DETECTS
from inkreel.checks.storyboard import check_storyboard
from inkreel.schemas import Finding

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


LEVELS = ("script", "storyboard", "image")


def detects(level: str) -> dict[str, set[str]]:
    """Check name -> the defect types its findings are evidence for, at one level."""
    if level == "script":
        return SCRIPT_DETECTS
    if level == "storyboard":
        return STORYBOARD_DETECTS
    return IMAGE_DETECTS


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
