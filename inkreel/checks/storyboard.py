"""Storyboard-level continuity: the line, eyelines, jump cuts, teleports, and the script.

The checks read the staging (camera, blocking with world and screen positions, facing) and,
when the storyboard carries its script, compare each shot with its scene, and a shot the
story directed with its direction (exactly whom it names is seen). Facing is a
direction in the set (the renderer mirrors it for a reverse camera), so eyelines are judged
in the set and a camera that jumps the line is left to `line_crossed`.
Findings go to the director and name the shot to redo.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Hashable, Iterator
from itertools import pairwise
from typing import TypeVar

from inkreel.checks.bundle import Bundle
from inkreel.schemas import Blocking, Finding, Framing, Scene, Shot, ShotDirection

DETECTS: dict[str, set[str]] = {
    "line_crossed": {"line_flip"},
    "eyeline": {"eyeline_mismatch"},
    "jump_cut": set(),
    "teleport": set(),
    "shot_location": {"wrong_location"},
    "shot_time_of_day": {"day_night"},
    "extra_character": {"extra_character"},
    "missing_character": {"missing_character"},
}

# Jump cut: same subjects, framing, angle and side, and the camera barely moved.
JUMP_MAX_SHIFT = 0.2  # camera x change, as a fraction of the view width
JUMP_MAX_ZOOM = 1.2  # ratio of the view widths
# Teleport: a character's place in the set changes by more than this with no movement written.
TELEPORT_M = 0.3
# An eyeline is judged only when speaker and addressee stand this far apart.
EYELINE_MIN_GAP_M = 0.05
WIDE = (Framing.wide, Framing.extreme_wide)
H = TypeVar("H", bound=Hashable)
MOTION = re.compile(
    r"\b(?:walk|cross|move|step|run|ran|rush|hurr|approach|pace|wander|head|climb|dash|strid|"
    r"goes|go|went|come|came|retreat|join|follow|leav|left|enter|return|circl|stagger|stumbl|"
    r"jump|leap|spin|whirl|lung|back(?:s|ed)? away)\w*"
    r"|走|跑|移|来到|走向|起身|离开|進|歩|近づ|向か|離れ|駆け|戻",
    re.IGNORECASE,
)


def check_storyboard(bundle: Bundle) -> list[Finding]:
    """Run every storyboard-level check, scene by scene, in shot order."""
    script = bundle.script
    scenes = {s.number: s for s in script.scenes} if script else {}
    findings: list[Finding] = []
    for number, shots in _by_scene(bundle.board.shots):
        scene = scenes.get(number)
        # Who is there at each beat: worked out once per scene, not once per shot.
        presence = scene.presence() if scene is not None else None
        findings += line_crossed(shots)
        findings += eyelines(shots, scene, presence)
        findings += jump_cuts(shots, scene)
        findings += teleports(shots, scene)
        if scene is not None:
            for shot in shots:
                findings += against_script(shot, scene, presence)
        else:
            for shot in shots:
                findings += _speaker_missing(shot, None)
    return findings


# --------------------------------------------------------------------------- staging


def line_crossed(shots: list[Shot]) -> list[Finding]:
    """Flag a shot that puts characters on the other side of the line without a reason.

    The shots between deliberate crossings (`crosses_line`) and neutral shots (everyone
    facing the camera) share one side of the line. Within such a stretch the left/right order
    of each pair of characters is the one the crossing shot shows, else the one most of its
    shots show (the earlier on a tie), and a shot of one character keeps the camera on that
    side; a shot that disagrees is the one to redo.
    """
    findings = []
    for stretch in _stretches(shots):
        staged = [_pairs(s) for s in stretch]
        lefts: dict[tuple[str, str], list[str]] = {}
        # (pair, who is left) -> the stretch positions that show it so, in order.
        showing: dict[tuple[tuple[str, str], str], list[int]] = {}
        for k, pairs in enumerate(staged):
            for pair, left in pairs.items():
                lefts.setdefault(pair, []).append(left)
                showing.setdefault((pair, left), []).append(k)
        established = {pair: _established(seen) for pair, seen in lefts.items()}
        side = _established([s.camera.reverse for s in stretch])
        if stretch[0].crosses_line:
            # A deliberate crossing sets the new side for the shots that follow it.
            established.update(staged[0])
            side = stretch[0].camera.reverse
        for k, shot in enumerate(stretch):
            pairs = staged[k]
            wrong = [(p, left) for p, left in pairs.items() if established[p] != left]
            if wrong:
                (a, b), left = wrong[0]
                expected = established[(a, b)]
                other = b if left == a else a
                near = _nearest(showing.get(((a, b), expected), []), k)
                previous = stretch[near] if near is not None else None
                findings.append(
                    _finding(
                        "line_crossed",
                        shot,
                        [*([previous.id] if previous else []), shot.id],
                        message=(
                            f"{left} is left of {other} in {shot.id} but right of them in the "
                            "rest of the scene's coverage: the camera jumped the line."
                        ),
                        fix_instruction=(
                            f"Put the camera back on the same side of the line as "
                            f"{previous.id if previous else 'the scene'} so {expected} stays on "
                            "the left, or mark the shot as deliberately crossing the line."
                        ),
                        evidence={
                            "previous": previous.id if previous else "",
                            "left_before": expected,
                            "left_after": left,
                            "reverse": str(shot.camera.reverse),
                        },
                    )
                )
            elif len(shot.blocking) == 1 and shot.camera.reverse != side:
                findings.append(
                    _finding(
                        "line_crossed",
                        shot,
                        [shot.id],
                        message=(
                            f"The camera of {shot.id} is on the other side of the line from the "
                            "rest of the scene's coverage."
                        ),
                        fix_instruction=(
                            "Put the camera back on the same side of the line as the scene's "
                            "other shots, or mark the shot as deliberately crossing the line."
                        ),
                        evidence={"reverse": str(shot.camera.reverse), "expected": str(side)},
                    )
                )
    return findings


def eyelines(
    shots: list[Shot], scene: Scene | None, presence: list[set[str]] | None = None
) -> list[Finding]:
    """Flag a speaker who looks away from the character they are talking to.

    The addressee is the script's, or the only other character in the scene. Judged in the
    set (world x and facing), so a reverse camera neither causes nor hides a mismatch here.
    `presence` is `scene.presence()`, if the caller has it already.
    """
    findings = []
    if scene is not None and presence is None:
        presence = scene.presence()
    everyone = {b.character for s in shots for b in s.blocking}
    # Where each character is staged (shot position -> world x), to find the nearest at once.
    staged: dict[str, tuple[list[int], list[float]]] = {}
    for k, s in enumerate(shots):
        for b in s.blocking:
            at, xs = staged.setdefault(b.character, ([], []))
            if not at or at[-1] != k:
                at.append(k)
                xs.append(b.world_x)
    for k, shot in enumerate(shots):
        speaker = _blocked(shot, shot.speaker)
        if speaker is None or speaker.facing == "front":
            continue
        target = _addressee(shot, everyone, scene, presence)
        if target is None:
            continue
        target_x = _world_x(staged.get(target), k)
        if target_x is None or abs(target_x - speaker.world_x) < EYELINE_MIN_GAP_M:
            continue
        toward = "right" if target_x > speaker.world_x else "left"
        if speaker.facing == toward:
            continue
        reverse = [s.id for s in shots[max(0, k - 1) : k + 2] if s.speaker == target]
        findings.append(
            _finding(
                "eyeline",
                shot,
                [shot.id, *reverse],
                message=(
                    f"{speaker.character} talks to {target} in {shot.id} but looks "
                    f"{speaker.facing}, away from them ({target} is to the {toward} in the set)."
                ),
                fix_instruction=(
                    f"Turn {speaker.character} to face {target} ({toward} in the set) so the "
                    "eyelines of the shot and its reverse shot meet."
                ),
                evidence={
                    "speaker": speaker.character,
                    "addressee": target,
                    "facing": speaker.facing,
                    "expected": toward,
                    "speaker_x": speaker.world_x,
                    "addressee_x": round(target_x, 3),
                },
            )
        )
    return findings


def jump_cuts(shots: list[Shot], scene: Scene | None = None) -> list[Finding]:
    """Flag a cut between two nearly identical set-ups of the same subjects.

    A cut to a shot whose framing the story decided (`Beat.shot`) is the story's, not the
    director's, to change: it is not flagged.
    """
    findings = []
    for before, shot in pairwise(shots):
        a, b = before.camera, shot.camera
        direction = _direction(shot, scene)
        if direction is not None and direction.framing is not None:
            continue
        if (
            before.framing != shot.framing
            or before.angle != shot.angle
            or a.reverse != b.reverse
            or before.speaker != shot.speaker
            or _in_frame(before) != _in_frame(shot)
        ):
            continue
        shift = abs(a.x - b.x) / max(a.view_width, b.view_width)
        zoom = max(a.view_width, b.view_width) / min(a.view_width, b.view_width)
        if shift > JUMP_MAX_SHIFT or zoom > JUMP_MAX_ZOOM:
            continue
        findings.append(
            _finding(
                "jump_cut",
                shot,
                [before.id, shot.id],
                severity="warning",
                message=(
                    f"{before.id} cuts to {shot.id}: same subjects, same {shot.framing.value} "
                    f"framing from the same side, the camera moved {shift:.0%} of the frame."
                ),
                fix_instruction=(
                    f"Change {shot.id}'s framing or angle (e.g. a close-up, a two-shot or a "
                    "reaction of the listener) so the cut is not a jump."
                ),
                evidence={
                    "previous": before.id,
                    "shift": round(shift, 3),
                    "zoom": round(zoom, 3),
                },
            )
        )
    return findings


def teleports(shots: list[Shot], scene: Scene | None) -> list[Finding]:
    """Flag a character whose place in the set changes with no movement written for it."""
    findings = []
    seen: dict[str, tuple[Shot, float]] = {}
    for shot in shots:
        jumped = []
        for b in shot.blocking:
            last = seen.get(b.character)
            seen[b.character] = (shot, b.world_x)
            if last is None or abs(b.world_x - last[1]) <= TELEPORT_M:
                continue
            if scene is not None and _moves(scene, b.character, last[0].beat, shot.beat):
                continue
            jumped.append((b, last))
        if not jumped:
            continue
        b, (previous, x) = jumped[0]
        findings.append(
            _finding(
                "teleport",
                shot,
                [previous.id, shot.id],
                message=(
                    f"{b.character} stands at x={b.world_x:.2f} m in {shot.id} but at "
                    f"x={x:.2f} m in {previous.id}, and the script has no movement between."
                ),
                fix_instruction=(
                    f"Keep {b.character} where they stood in {previous.id} (x={x:.2f} m), or "
                    "stage the move on screen."
                ),
                evidence={
                    "character": b.character,
                    "previous": previous.id,
                    "world_x_before": x,
                    "world_x_after": b.world_x,
                },
            )
        )
    return findings


# --------------------------------------------------------------------------- against the script


def against_script(
    shot: Shot, scene: Scene, presence: list[set[str]] | None = None
) -> list[Finding]:
    """Compare one shot with its scene: set, time of day and who is in it.

    `presence` is `scene.presence()`, if the caller has it already.
    """
    findings = []
    if _norm(shot.location) != _norm(scene.location):
        findings.append(
            _finding(
                "shot_location",
                shot,
                [shot.id],
                message=f"{shot.id} is set in '{shot.location}' but scene {scene.number} is in "
                f"'{scene.location}'.",
                fix_instruction=f"Stage {shot.id} in the scene's set, '{scene.location}'.",
                evidence={"location": shot.location, "expected": scene.location},
            )
        )
    if _norm(shot.time_of_day) != scene.time_of_day.value:
        findings.append(
            _finding(
                "shot_time_of_day",
                shot,
                [shot.id],
                message=f"{shot.id} is lit for {shot.time_of_day} but scene {scene.number} is "
                f"{scene.time_of_day.value}.",
                fix_instruction=f"Light {shot.id} for {scene.time_of_day.value} like the rest "
                "of the scene.",
                evidence={"time_of_day": shot.time_of_day, "expected": scene.time_of_day.value},
            )
        )
    allowed = set(scene.characters) | {b.character for b in scene.beats if b.character}
    allowed |= {n for b in scene.beats for n in b.enters}
    extra = [b.character for b in shot.blocking if b.character not in allowed]
    if extra:
        findings.append(
            _finding(
                "extra_character",
                shot,
                [shot.id],
                message=f"{', '.join(extra)} in {shot.id}, but not in scene {scene.number} "
                f"({', '.join(scene.characters)}).",
                fix_instruction=f"Remove {', '.join(extra)} from {shot.id}: only "
                f"{', '.join(scene.characters)} are in this scene.",
                evidence={"characters": ", ".join(extra)},
            )
        )
    findings += _speaker_missing(shot, scene)
    direction = _direction(shot, scene)
    if direction is not None:
        findings += _against_direction(shot, direction)
    elif shot.framing in WIDE and 0 <= shot.beat < len(scene.beats):
        blocked = {b.character for b in shot.blocking}
        present = (presence if presence is not None else scene.presence())[shot.beat]
        # The speaker has a finding of their own.
        missing = [
            c for c in scene.characters if c in present and c not in blocked and c != shot.speaker
        ]
        if missing:
            findings.append(
                _finding(
                    "missing_character",
                    shot,
                    [shot.id],
                    message=f"{', '.join(missing)} should be in the {shot.framing.value} "
                    f"{shot.id} (present in scene {scene.number}) but are not staged in it.",
                    fix_instruction=f"Stage {', '.join(missing)} in {shot.id} where they stand "
                    "in the scene's other shots.",
                    evidence={"characters": ", ".join(missing), "framing": shot.framing.value},
                )
            )
    return findings


def _against_direction(shot: Shot, direction: ShotDirection) -> list[Finding]:
    """Compare a shot the story directed with its direction: exactly whom it names is seen."""
    findings = []
    shown = _in_frame(shot)
    blocked = {b.character for b in shot.blocking}
    asked = ", ".join(direction.on_screen) or "nobody"
    number = f"story shot {direction.number}"
    # The speaker has a finding of their own.
    missing = [c for c in direction.on_screen if c not in shown and c != shot.speaker]
    if missing:
        findings.append(
            _finding(
                "missing_character",
                shot,
                [shot.id],
                message=f"{', '.join(missing)} should be seen in {shot.id} ({number} shows "
                f"{asked}) but {'are' if len(missing) > 1 else 'is'} not in the frame.",
                fix_instruction=f"Show {', '.join(missing)} in {shot.id}: frame everyone "
                f"{number} shows ({asked}).",
                evidence={"characters": ", ".join(missing), "story_shot": direction.number},
            )
        )
    extra = [b for b in sorted(blocked) if b not in direction.on_screen]
    if extra:
        findings.append(
            _finding(
                "extra_character",
                shot,
                [shot.id],
                message=f"{', '.join(extra)} in {shot.id}, but {number} shows {asked}.",
                fix_instruction=f"Remove {', '.join(extra)} from {shot.id}: {number} shows "
                f"{asked}.",
                evidence={"characters": ", ".join(extra), "story_shot": direction.number},
            )
        )
    return findings


def _direction(shot: Shot, scene: Scene | None) -> ShotDirection | None:
    """The story's direction for the shot's beat, if it has one."""
    if scene is None or not 0 <= shot.beat < len(scene.beats):
        return None
    return scene.beats[shot.beat].shot


def _speaker_missing(shot: Shot, scene: Scene | None) -> list[Finding]:
    if not shot.speaker:
        return []
    if scene is not None and 0 <= shot.beat < len(scene.beats) and scene.beats[shot.beat].unseen():
        return []
    b = _blocked(shot, shot.speaker)
    if b is not None and 0.0 <= b.screen_x <= 1.0:
        return []
    where = "not staged" if b is None else f"out of frame (screen x {b.screen_x:.2f})"
    return [
        _finding(
            "missing_character",
            shot,
            [shot.id],
            message=f"{shot.speaker} speaks in {shot.id} but is {where}.",
            fix_instruction=f"Include {shot.speaker} in the frame with their face visible: make "
            "them the first subject and choose a framing that shows them.",
            evidence={
                "characters": shot.speaker,
                "screen_x": "" if b is None else b.screen_x,
            },
        )
    ]


# --------------------------------------------------------------------------- helpers


def _finding(
    check: str,
    shot: Shot,
    shots: list[str],
    *,
    message: str,
    fix_instruction: str,
    evidence: dict[str, float | str],
    severity: str = "error",
) -> Finding:
    return Finding(
        check=check,
        level="storyboard",
        shot_id=shot.id,
        shots=list(dict.fromkeys(shots)),
        scene=shot.scene,
        beat=shot.beat,
        severity="warning" if severity == "warning" else "error",
        message=message,
        fix_instruction=fix_instruction,
        agent="director",
        evidence=evidence,
    )


def _by_scene(shots: list[Shot]) -> Iterator[tuple[int, list[Shot]]]:
    """Yield each scene's shots in storyboard order (a scene cut in two is judged whole)."""
    groups: dict[int, list[Shot]] = {}
    for shot in shots:
        groups.setdefault(shot.scene, []).append(shot)
    yield from groups.items()


def _neutral(shot: Shot) -> bool:
    """A shot with everyone facing the camera: on the line, so either side may follow."""
    return bool(shot.blocking) and all(b.facing == "front" for b in shot.blocking)


def _stretches(shots: list[Shot]) -> list[list[Shot]]:
    """Split a scene's shots where the line may change: a deliberate crossing or a neutral shot."""
    stretches: list[list[Shot]] = [[]]
    for shot in shots:
        if _neutral(shot):
            stretches.append([])
            continue
        if shot.crosses_line and stretches[-1]:
            stretches.append([])
        stretches[-1].append(shot)
    return [s for s in stretches if s]


def _pairs(shot: Shot) -> dict[tuple[str, str], str]:
    """Return, for each pair of staged characters (sorted names), who is on screen left."""
    pairs = {}
    for i, a in enumerate(shot.blocking):
        for b in shot.blocking[i + 1 :]:
            if a.character == b.character or a.screen_x == b.screen_x:
                continue
            left = a.character if a.screen_x < b.screen_x else b.character
            key = (
                (a.character, b.character)
                if a.character < b.character
                else (b.character, a.character)
            )
            pairs[key] = left
    return pairs


def _nearest(positions: list[int], k: int) -> int | None:
    """The nearest of the sorted `positions` before k, else the nearest after it."""
    i = bisect_left(positions, k)
    if i > 0:
        return positions[i - 1]
    j = bisect_right(positions, k)
    return positions[j] if j < len(positions) else None


def _established(values: list[H]) -> H:
    counts = Counter(values)
    best = max(counts.values())
    return next(v for v in values if counts[v] == best)


def _blocked(shot: Shot, name: str | None) -> Blocking | None:
    return next((b for b in shot.blocking if b.character == name), None) if name else None


def _addressee(
    shot: Shot, everyone: set[str], scene: Scene | None, presence: list[set[str]] | None
) -> str | None:
    """Return who the shot's speaker talks to: the script's addressee, or the only other one
    (of those present at the beat, or without a script of `everyone` staged in the scene)."""
    speaker = shot.speaker
    if scene is not None and presence is not None and 0 <= shot.beat < len(scene.beats):
        beat = scene.beats[shot.beat]
        if beat.kind == "dialogue" and beat.addressee and beat.addressee != speaker:
            return beat.addressee
        others = presence[shot.beat] - {speaker}
    else:
        others = everyone - {speaker}
    return next(iter(others)) if len(others) == 1 else None


def _world_x(staged: tuple[list[int], list[float]] | None, k: int) -> float | None:
    """Return where a character stands: in shot k, else in the nearest shot of the scene that
    stages them (the earlier of two as near). `staged` is (shot positions, world x) in order."""
    if not staged:
        return None
    at, xs = staged
    i = bisect_left(at, k)
    if i < len(at) and at[i] == k:
        return xs[i]
    before = at[i - 1] if i > 0 else None
    after = at[i] if i < len(at) else None
    if after is None or (before is not None and k - before <= after - k):
        return xs[i - 1]
    return xs[i]


def _in_frame(shot: Shot) -> frozenset[str]:
    return frozenset(b.character for b in shot.blocking if 0.0 <= b.screen_x <= 1.0)


def _moves(scene: Scene, name: str, after: int, upto: int) -> bool:
    """Return whether the script moves `name` in beats after..upto (the later shot's beat)."""
    lo, hi = (after + 1, upto) if after < upto else (upto, upto)
    for beat in scene.beats[max(0, lo) : hi + 1]:
        if name in (*beat.moves, *beat.enters, *beat.exits):
            return True
        if beat.kind == "action" and MOTION.search(beat.text):
            named = [c for c in scene.characters if c in beat.text]
            if not named or name in named:
                return True
    return False


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())
