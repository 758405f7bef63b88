"""One shot under inspection: what it is checked against, and what was found so far."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from inkreel.checks.bundle import Bundle
from inkreel.checks.image.shared import Shared
from inkreel.checks.image.thresholds import ImageThresholds
from inkreel.schemas import CharacterDesign, Finding, Keyframe, LocationDesign, Shot


@dataclass
class ShotResult:
    """One shot's findings, measurements and notes."""

    findings: list[Finding] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class Frame:
    """A keyframe as the figure checks see it, after the background was explained."""

    shot: Shot
    kf: Keyframe
    rgb: np.ndarray  # un-mirrored if the keyframe was mirrored
    background: np.ndarray | None  # the set render that reproduces it (None: nothing does)
    lights: list[np.ndarray]
    ink: np.ndarray  # figure pixels inside the (grown) body boxes
    changed: np.ndarray | None  # solid regions differing from `background`
    location: LocationDesign | None
    lit_as: Shot  # the shot as lit: its own time and set, or the ones the frame was drawn in

    @property
    def size(self) -> tuple[int, int]:
        return self.rgb.shape[1], self.rgb.shape[0]


class Inspection:
    """The shot, its keyframe and the board, and the findings recorded so far.

    The check families (`background`, `figures`, `set_elements`, `palette`, `identity`) read
    and add to it in turn: a figure found missing is not judged for its look, one with a
    palette finding is only reported again when it looks like someone else.
    """

    def __init__(
        self, bundle: Bundle, shot: Shot, kf: Keyframe, p: ImageThresholds, shared: Shared
    ) -> None:
        self.bundle = bundle
        self.board = bundle.board
        self.shared = shared
        self.shot = shot
        self.kf = kf
        self.p = p
        self.out = ShotResult()
        self.set_checks = True
        self.absent: set[str] = set()  # figures found missing: nothing to judge the look of
        self.off_model: set[str] = set()  # figures with a palette finding already
        self.swapped: set[str] = set()  # figures wearing each other's outfits
        self.worst = 1.0  # the shot's score: 1 when no check fires

    def finding(
        self,
        check: str,
        message: str,
        fix: str,
        evidence: dict[str, float | str],
        agent: str = "director",
        severity: str = "error",
        ratio: float = 0.0,
    ) -> None:
        """Record a finding; `ratio` is how far inside its threshold the value is (0 = far out)."""
        self.worst = min(self.worst, max(0.0, ratio))
        self.out.findings.append(
            Finding(
                check=check,
                level="image",
                shot_id=self.shot.id,
                shots=[self.shot.id],
                scene=self.shot.scene,
                beat=self.shot.beat,
                severity=severity,  # type: ignore[arg-type]
                message=message,
                fix_instruction=fix,
                agent=agent,  # type: ignore[arg-type]
                evidence={
                    k: round(v, 4) if isinstance(v, float) else v for k, v in evidence.items()
                },
            )
        )

    def score(self, name: str, value: float) -> None:
        self.out.scores[name] = round(float(value), 4)

    def design(self, name: str) -> CharacterDesign | None:
        ch = self.board.cast.get(name)
        return ch.design if ch is not None else None
