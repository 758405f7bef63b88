"""Frames of a staged shot: any frame of its animation, and its keyframe."""

from __future__ import annotations

import numpy as np
from PIL import Image

from inkreel.art.camera import (
    HEIGHT,
    WIDTH,
)
from inkreel.art.character.face import MOUTH_LEVELS
from inkreel.art.shot.staging import ShotLayers, stage_shot
from inkreel.schemas.design import (
    CharacterDesign,
    LocationDesign,
)
from inkreel.schemas.storyboard import Box, FigureLayout, Shot


def compose_frame(
    layers: ShotLayers,
    *,
    mouth_open: float = 0.0,
    blink: bool = False,
    frame: int | None = None,
    move_t: float = 0.0,
    gesture: float = 0.0,
) -> np.ndarray:
    """Compose one frame from the precomposed shot: poses, camera and effects are pastes.

    `frame` (the index in the shot) turns on idle breathing, each character's own blinks and
    the animated effects; `move_t` is the position along the camera move, -0.5 at the first
    frame, 0 at the keyframe framing, 0.5 at the last; `gesture` (0..1) is how far the speaker
    has gone into the line's gesture.
    """
    anim = layers.anim
    level = round(max(0.0, min(1.0, mouth_open)) * MOUTH_LEVELS)
    states = anim.states(frame, blink, level, gesture)
    rest = frame is None and move_t == 0.0 and all(s == (0, 0, False, 0) for s in states)
    if rest and layers.base is not None:
        return layers.base.copy()
    if not anim.ready:
        anim.prepare()  # a still's actors are dressed in every pose now: ask again
        states = anim.states(frame, blink, level, gesture)
    img = anim.compose(states, move_t)
    if frame is not None:
        anim.draw_effects(img, frame, move_t)
    return img


def render_keyframe(
    shot: Shot,
    location: LocationDesign,
    cast: dict[str, CharacterDesign],
    size: tuple[int, int] = (WIDTH, HEIGHT),
) -> tuple[Image.Image, list[FigureLayout], dict[str, Box]]:
    """Render a shot's keyframe and report where each character and set element landed."""
    layers = stage_shot(shot, location, cast, size, animate=False)
    return Image.fromarray(compose_frame(layers)), layers.figures, layers.elements
