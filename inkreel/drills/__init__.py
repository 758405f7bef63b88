"""Defect planters and drift drills, used by the evaluations and by drift runs.

* `text_defects`: one continuity defect planted in a script or a storyboard (`plant_text`);
* `image_defects`: one planted in a keyframe's pixels (`plant_image`);
* `drift`: the drift drills, the agents' work made flawed on purpose with those defects.
"""

from inkreel.drills.drift import (
    SHEET_DRIFTS,
    drifted_design,
    drifted_keyframe,
    drifted_script,
)
from inkreel.drills.image_defects import IMAGE_TYPES, plant_image
from inkreel.drills.text_defects import LEVEL_TYPES, plant_text

__all__ = [
    "IMAGE_TYPES",
    "LEVEL_TYPES",
    "SHEET_DRIFTS",
    "drifted_design",
    "drifted_keyframe",
    "drifted_script",
    "plant_image",
    "plant_text",
]
