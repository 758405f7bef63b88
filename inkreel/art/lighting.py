"""Light in a set: which lighting a shot uses, and the tint it gives sets and characters."""

from __future__ import annotations

import numpy as np

from inkreel.art.palette import parse_rgb
from inkreel.schemas.design import (
    Lighting,
    LocationDesign,
)

_DEFAULT_LIGHT = Lighting(ambient="#fff8ee", sky="#a8cbe8", practicals_on=False, brightness=1.0)


def shot_light(location: LocationDesign, time_of_day: str) -> Lighting:
    if time_of_day in location.lighting:
        return location.lighting[time_of_day]
    if "day" in location.lighting:
        return location.lighting["day"]
    for value in location.lighting.values():
        return value
    return _DEFAULT_LIGHT


def light_tint(light: Lighting) -> np.ndarray:
    amb = np.array(parse_rgb(light.ambient, (255, 255, 255)), dtype=np.float32) / 255.0
    t = (0.5 + 0.5 * amb) * (0.3 + 0.7 * light.brightness)
    return np.clip(t, 0.18, 1.25).astype(np.float32)


def character_light(location: LocationDesign, time_of_day: str) -> np.ndarray:
    """Return the per-channel multiplier that lights characters in this set at this time."""
    tint = light_tint(shot_light(location, time_of_day))
    # Characters are lit more gently than the set so faces stay readable at night.
    return (0.4 + 0.6 * np.minimum(tint, 1.05)).astype(np.float32)


def is_night(light: Lighting, time_of_day: str) -> bool:
    return time_of_day == "night" or light.brightness < 0.6
