"""Shot size and camera angle: the words a storyboard and a script's shot directions share."""

from __future__ import annotations

from enum import StrEnum


class Framing(StrEnum):
    extreme_wide = "extreme_wide"
    wide = "wide"
    medium = "medium"
    close_up = "close_up"
    extreme_close_up = "extreme_close_up"
    over_the_shoulder = "over_the_shoulder"
    two_shot = "two_shot"


class Angle(StrEnum):
    eye_level = "eye_level"
    high = "high"
    low = "low"
