"""What the image checks detect (check -> planted-defect types) and their thresholds."""

from __future__ import annotations

from pydantic import Field

from inkreel.measure.figures import FigureThresholds
from inkreel.measure.identity import CropThresholds

DETECTS: dict[str, set[str]] = {
    "identity": {"hair_colour", "outfit_swap"},
    "hair_colour": {"hair_colour"},
    # No planted defect changes skin alone, so a skin finding is evidence for none of them.
    "skin_colour": set(),
    "outfit_colour": {"outfit_swap"},
    "outfit_swap": {"outfit_swap"},
    "figure_missing": {"missing_character"},
    "figure_extra": {"extra_character"},
    "set_element_moved": {"set_element_moved"},
    "set_element_missing": {"set_element_moved"},
    "set_element_changed": {"set_element_moved"},
    "mirrored_frame": {"line_flip"},
    "wrong_light": {"day_night"},
    "wrong_set": {"wrong_location"},
}


class ImageThresholds(FigureThresholds, CropThresholds):
    """Every threshold the image checks use (the defaults are calibrated on clean episodes).

    Figure pixels and identity crops are measured with `inkreel.measure`'s thresholds, which
    the consistency evaluation shares; the rest decide what the checks report.
    """

    set_match: float = Field(
        default=0.01,
        description="Set mismatch (share of background pixels) under which no whole-frame "
        "alternative is tried.",
    )
    alternative_gain: float = Field(
        default=0.5, description="An alternative must bring the mismatch under this fraction."
    )
    person_min_height: float = Field(
        default=0.3,
        description="A blob is person-sized when at least this tall, as a share of a figure's "
        "height at the shot's scale (capped at the frame height) ...",
    )
    person_min_area: float = Field(
        default=0.02, description="... and at least this area, in units of that height squared."
    )
    element_min_changed: float = Field(
        default=0.1, description="Share of an element's visible box that must have changed."
    )
    element_changed_share: float = Field(
        default=0.3,
        description="An element neither moved nor gone is reported as changed only when this "
        "much of it differs (compression noise along edges stays well under).",
    )
    element_min_px: int = Field(default=80, description="... and at least this many pixels.")
    element_min_shift_px: float = Field(default=2.0, description="Smallest reported move.")
    element_min_score: float = Field(
        default=0.5, description="Correlation a moved element's new place must reach."
    )
    palette_quantile: float = Field(
        default=0.1, description="Share of a part's pixels that must be near the design colour."
    )
    ink_like_delta_e: float = Field(
        default=12.0, description="Design colours this close to the line-art ink ..."
    )
    ink_like_quantile: float = Field(
        default=0.5,
        description="... are matched on this share of the part, or line art alone would pass.",
    )
    hair_delta_e: float = Field(default=12.0, description="CIEDE2000 limit for hair.")
    skin_delta_e: float = Field(default=12.0, description="CIEDE2000 limit for skin.")
    outfit_delta_e: float = Field(default=12.0, description="CIEDE2000 limit for the outfit.")
    min_part_px: int = Field(default=40, description="Fewer figure pixels in a part: not judged.")
    identity_min: float = Field(default=0.85, description="Own-reference similarity floor.")
    identity_min_estimated: float = Field(
        default=0.6,
        description="The floor when figure pixels had to be estimated (a keyframe the set "
        "render does not reproduce): the crops then carry background, so only a clear miss or "
        "a closer other character counts.",
    )
    identity_margin: float = Field(
        default=0.0,
        description="Flag when another character's references are closer than own by more.",
    )
    distinct_margin: float = Field(
        default=0.05,
        description="References of two characters closer than this (1 - similarity): the "
        "designs themselves are too alike.",
    )
