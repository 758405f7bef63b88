"""A clip's frames and its encoding: the title card, a staged shot, a hosted still or clip.

Everything here works from a `SegmentTask` (plain data, the editor's Send payload) and the
project's root; the editor decides when a clip is drawn, which model animates it and where
the result is kept.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from inkreel.art.shot.staging import stage_shot
from inkreel.media import audio, motion, render
from inkreel.schemas.segment import SegmentTask


def _dissolve(task: SegmentTask, root: Path) -> dict[str, Any]:
    """The closing dissolve's arguments: the next clip's first frame and the length."""
    if task.dissolve_into is None or not task.clip.dissolve_frames:
        return {}
    return {
        "dissolve_into": segment_frames(task.dissolve_into, root)(0),
        "dissolve_frames": task.clip.dissolve_frames,
    }


def segment_frames(task: SegmentTask, root: Path) -> Callable[[int], np.ndarray]:
    """Return frame(i) for a clip: the title card, the animated shot, or a hosted still."""
    size = (task.width, task.height)
    if task.clip.title is not None:
        return motion.title_card_frames(task.clip.title, task.logline, size)
    assert task.shot is not None and task.location is not None
    extra = _dissolve(task, root)
    if not task.keyframe_staged and task.keyframe:
        with Image.open(root / task.keyframe) as im:
            image = np.asarray(im.convert("RGB").resize(size, Image.Resampling.LANCZOS))
        still = motion.still_frames(image, task.clip.frames, task.clip.move)
        return motion.overlay_frames(
            still, task.clip.frames, size, task.subtitles, avoid=task.faces, **extra
        )
    layers = stage_shot(task.shot, task.location, task.cast, size=size)
    envelope = None
    if task.take:
        samples, rate = audio.read_wav(root / task.take)
        envelope = audio.loudness_envelope(samples, rate, task.fps)
    return motion.shot_frames(
        layers,
        task.clip.frames,
        task.clip.move,
        envelope,
        task.line_start,
        task.subtitles,
        **extra,
    )


def fitted_clip_frames(task: SegmentTask, clip: Path, root: Path) -> Callable[[int], np.ndarray]:
    """A hosted clip fitted to the shot: its frames (the last held), subtitle and dissolve."""
    size = (task.width, task.height)
    source = motion.clip_frames(str(clip), size, task.fps)
    return motion.overlay_frames(
        source, task.clip.frames, size, task.subtitles, avoid=task.faces, **_dissolve(task, root)
    )


def encode_segment(task: SegmentTask, root: Path, out: Path, clip: Path | None = None) -> Path:
    """Draw the clip (or fit the hosted `clip` to it) and encode it to `out` (temp, rename)."""
    frame = fitted_clip_frames(task, clip, root) if clip else segment_frames(task, root)
    return render.render_segment(frame, task.clip.frames, out, task.fps, (task.width, task.height))
