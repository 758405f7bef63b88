"""The continuity checker: finds faulty shots and sends them back with a fix instruction.

First version, three checks: the speaker is visible in the shot; each visible character's
hair and outfit colours match the design; characters keep their screen sides between
consecutive shots of a scene unless the storyboard crosses the line on purpose.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
from langgraph.runtime import Runtime
from langgraph.types import Command, Send
from PIL import Image

from inkreel.agents.director import ShotTask, reference_paths
from inkreel.graphs.state import EpisodeContext, EpisodeState
from inkreel.media.renderer import character_light
from inkreel.schemas import (
    Box,
    CharacterDesign,
    ContinuityReport,
    Finding,
    Keyframe,
    LocationDesign,
    Shot,
    ShotOutcome,
)

MIN_VISIBLE = 0.12
MAX_COLOUR_DELTA_E = 28.0
MIN_REGION_PX = 200


def _lab(rgb: np.ndarray) -> np.ndarray:
    """Convert sRGB (0-255, shape (..., 3)) to CIE L*a*b* (D65)."""
    c = rgb.astype(np.float64) / 255.0
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = c @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack(
        [116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])],
        axis=-1,
    )


def _hex_rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)


def region_delta_e(
    image: np.ndarray, box: Box, expected_hex: str, light: np.ndarray | None = None
) -> float | None:
    """Return the smallest CIE76 distance between the expected colour and the region's colours.

    Shading and line art share the region, so the region matches when a good part of it is
    close to the design colour: the 25th percentile distance is used.
    """
    h, w = image.shape[:2]
    x0, y0, x1, y1 = max(0, box.x0), max(0, box.y0), min(w, box.x1), min(h, box.y1)
    if (x1 - x0) * (y1 - y0) < MIN_REGION_PX:
        return None  # too few pixels to judge a colour (a head in an extreme wide shot)
    region = image[y0:y1, x0:x1].reshape(-1, 3)
    expected = _hex_rgb(expected_hex) * (1.0 if light is None else light)
    distances = np.linalg.norm(_lab(region) - _lab(np.clip(expected, 0, 255)), axis=-1)
    return float(np.percentile(distances, 25))


def check_speaker(shot: Shot, keyframe: Keyframe) -> list[Finding]:
    if not shot.speaker:
        return []
    figure = next((f for f in keyframe.figures if f.character == shot.speaker), None)
    visible = figure.visible_fraction if figure else 0.0
    face_ok = figure is not None and figure.face is not None and figure.face.area > 0
    if figure is not None and face_ok and visible >= MIN_VISIBLE:
        return []
    return [
        Finding(
            check="speaker_in_shot",
            shot_id=shot.id,
            message=f"{shot.speaker} speaks in {shot.id} but is not visible ({visible:.2f}).",
            fix_instruction=(
                f"Include {shot.speaker} in the frame with their face visible: make them the "
                "first subject and choose a framing that shows them."
            ),
            evidence={"visible_fraction": round(visible, 3), "face_visible": str(face_ok)},
        )
    ]


def check_design(
    shot: Shot,
    keyframe: Keyframe,
    designs: dict[str, CharacterDesign],
    root: Path,
    light: np.ndarray | None = None,
) -> list[Finding]:
    """Compare each visible character's hair and outfit with the design under the shot's light."""
    with Image.open(root / keyframe.path) as im:
        pixels = np.asarray(im.convert("RGB"))
    findings = []
    for figure in keyframe.figures:
        design = designs.get(figure.character)
        if design is None:
            continue
        for part, box, colour in (
            ("hair", figure.hair, design.hair_colour),
            ("outfit", figure.outfit, design.outfit_colour),
        ):
            # A hat covers most of the hair; bald characters have none to compare.
            hidden = design.hair_style == "bald" or "hat" in design.accessories
            if box is None or (part == "hair" and hidden):
                continue
            delta = region_delta_e(pixels, box, colour, light)
            if delta is not None and delta > MAX_COLOUR_DELTA_E:
                findings.append(
                    Finding(
                        check="design_match",
                        shot_id=shot.id,
                        message=(
                            f"{figure.character}'s {part} in {shot.id} is off-model "
                            f"(ΔE {delta:.1f} from {colour})."
                        ),
                        fix_instruction=(
                            f"Re-render {figure.character} in {shot.id} from the reference sheet: "
                            f"{part} colour {colour}."
                        ),
                        evidence={"part": part, "delta_e": round(delta, 2), "expected": colour},
                    )
                )
    return findings


def _order(shot: Shot) -> list[str]:
    return [b.character for b in sorted(shot.blocking, key=lambda b: b.screen_x)]


def check_sides(previous: Shot, shot: Shot) -> list[Finding]:
    """Flag a pair of characters whose left/right order flips between consecutive shots."""
    if previous.scene != shot.scene or shot.crosses_line:
        return []
    before, after = _order(previous), _order(shot)
    common = [c for c in before if c in after]
    for i, a in enumerate(common):
        for b in common[i + 1 :]:
            if after.index(a) > after.index(b):
                return [
                    Finding(
                        check="screen_side",
                        shot_id=shot.id,
                        message=(
                            f"{a} and {b} swap screen sides between {previous.id} and {shot.id} "
                            "without a reason (the camera jumped the line)."
                        ),
                        fix_instruction=(
                            f"Keep the camera on the same side of the line as {previous.id} so "
                            f"{a} stays left of {b}, or mark the shot as deliberately crossing the "
                            "line with a reason."
                        ),
                        evidence={"previous": previous.id, "left_before": a, "left_after": b},
                    )
                ]
    return []


def find_problems(
    shots: list[Shot],
    keyframes: dict[str, Keyframe],
    designs: dict[str, CharacterDesign],
    root: Path,
    sets: dict[str, LocationDesign] | None = None,
) -> list[Finding]:
    """Run every check over the storyboard in order."""
    findings: list[Finding] = []
    for i, shot in enumerate(shots):
        keyframe = keyframes[shot.id]
        location = (sets or {}).get(shot.location)
        light = character_light(location, shot.time_of_day) if location else None
        findings += check_speaker(shot, keyframe)
        findings += check_design(shot, keyframe, designs, root, light)
        if i:
            findings += check_sides(shots[i - 1], shot)
    return findings


def check_continuity(
    state: EpisodeState, runtime: Runtime[EpisodeContext]
) -> Command[Literal["revise_shot", "cut_timeline"]]:
    """Check every shot; send failing ones back to the director while attempts remain."""
    ctx = runtime.context
    limit = ctx.settings.continuity_max_attempts
    shots = [state["shots"][i] for i in state["shot_order"]]
    designs = {n: c.design for n, c in state["cast"].items()}
    sets = {name: loc.design for name, loc in state["locations"].items()}
    findings = find_problems(shots, state["keyframes"], designs, ctx.project.root, sets)
    attempts = {s.id: state.get("attempts", {}).get(s.id, 1) for s in shots}
    failing = {f.shot_id for f in findings}
    retry = sorted(s for s in failing if attempts[s] < limit)
    log = [*state.get("findings_log", []), *findings]
    report = _report(shots, findings, log, attempts, limit)
    ctx.event("continuity", findings=len(findings), retry=len(retry))
    if not retry:
        return Command(goto="cut_timeline", update={"continuity": report, "findings_log": findings})
    by_id = {s.id: s for s in shots}
    sends = []
    for shot_id in retry:
        shot = by_id[shot_id]
        index = state["shot_order"].index(shot_id)
        previous = by_id[state["shot_order"][index - 1]] if index else None
        mine = [f for f in findings if f.shot_id == shot_id]
        task = ShotTask(
            shot=shot,
            location=state["locations"][shot.location].design,
            cast={n: c.design for n, c in state["cast"].items()},
            seed=state["request"].seed,
            fix=" ".join(f.fix_instruction for f in mine),
            must_show=[shot.speaker]
            if shot.speaker and any(f.check == "speaker_in_shot" for f in mine)
            else [],
            previous_reverse=previous.camera.reverse if previous else False,
            references=reference_paths(
                shot, state["cast"], state["locations"][shot.location], everyone=True
            ),
        )
        sends.append(Send("revise_shot", task))
    update: dict[str, Any] = {
        "continuity": report,
        "findings_log": findings,
        "attempts": {s: attempts[s] + 1 for s in retry},
    }
    return Command(goto=sends, update=update)


def _report(
    shots: list[Shot],
    open_findings: list[Finding],
    log: list[Finding],
    attempts: dict[str, int],
    limit: int,
) -> ContinuityReport:
    outcomes = []
    for shot in shots:
        first = sum(1 for f in log if f.shot_id == shot.id)
        last = sum(1 for f in open_findings if f.shot_id == shot.id)
        if last:
            status = "flagged"
        elif attempts[shot.id] > 1 or first:
            status = "repaired"
        else:
            status = "passed"
        outcomes.append(
            ShotOutcome(
                shot_id=shot.id,
                attempts=attempts[shot.id],
                status=status,  # type: ignore[arg-type]
                findings_first=first,
                findings_last=last,
            )
        )
    return ContinuityReport(
        passed=not open_findings,
        max_attempts=limit,
        rounds=max(attempts.values(), default=1),
        findings=open_findings,
        history=log,
        shots=outcomes,
    )
