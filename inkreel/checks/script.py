"""Script-level continuity: who is where, who has left, props, time of day and wardrobe.

Every check reads the script's structured facts (scene cast lists, the beats' props,
entrances, exits and deaths, a scene's `continuous` flag and wardrobe), never the prose,
except that a cast member named in an action paragraph counts as acting in it. Findings go
to the screenwriter; they name the scene and beat, and the shots that cover them if the
storyboard has any.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from inkreel.checks.bundle import Bundle
from inkreel.schemas import Beat, Finding, Scene, Script, Shot, StoryboardFile
from inkreel.schemas.script import prop_key

DETECTS: dict[str, set[str]] = {
    # Someone who is not in the scene speaks or acts in it: they are in the wrong place.
    "absent_character": {"wrong_location"},
    # Someone the scene shows there is missing from its cast list.
    "uncast_character": {"missing_character"},
    "gone_character": {"extra_character"},
    "prop_not_introduced": {"prop_vanishes"},
    "prop_destroyed": {"prop_vanishes"},
    "continuous_time": {"day_night"},
    "continuous_wardrobe": {"outfit_swap"},
}

H = TypeVar("H", bound=Hashable)


def check_script(bundle: Bundle) -> list[Finding]:
    """Run every script-level check; no script, no findings."""
    script = bundle.script
    if script is None:
        return []
    where = _Locator(bundle.board)
    return [
        *absent_characters(script, where),
        *gone_characters(script, where),
        *prop_continuity(script, where),
        *continuous_time(script, where),
        *continuous_wardrobe(script, where),
    ]


# --------------------------------------------------------------------------- checks


def absent_characters(script: Script, where: _Locator) -> list[Finding]:
    """Flag a character who speaks or acts in a scene whose cast list does not have them.

    When the scene shows them there (someone talks to them, the wardrobe dresses them, they
    enter or move, or they act more than once) the cast list is what is wrong
    (`uncast_character`); otherwise each thing they do there is out of place
    (`absent_character`).
    """
    cast = _known_names(script)
    findings = []
    for scene in script.scenes:
        acts: dict[str, list[tuple[int, str]]] = {}
        for i, beat in enumerate(scene.beats):
            for name, how in _actors(beat, cast):
                if name not in scene.characters:
                    acts.setdefault(name, []).append((i, how))
        for name, done in acts.items():
            signs = _signs_of_presence(scene, name, done)
            if signs:
                findings.append(_uncast(where, scene, name, done, signs))
                continue
            for i, how in done:
                spoken = how == "speaks"
                findings.append(
                    where.finding(
                        "absent_character",
                        scene,
                        i,
                        severity="error" if how != "named in the action" else "warning",
                        message=(
                            f"{name} {how} in scene {scene.number} (beat {i}) but is not in "
                            f"the scene ({', '.join(scene.characters) or 'nobody'} is)."
                        ),
                        fix_instruction=(
                            f"Scene {scene.number}: "
                            + (
                                f"give beat {i}'s line to someone present, or bring {name} "
                                "into the scene."
                                if spoken
                                else f"rewrite beat {i} without {name}."
                            )
                        ),
                        evidence={
                            "character": name,
                            "how": how,
                            "scene_characters": ", ".join(scene.characters),
                        },
                    )
                )
    return findings


def _signs_of_presence(scene: Scene, name: str, done: list[tuple[int, str]]) -> list[str]:
    signs = []
    if any(b.addressee == name for b in scene.beats):
        signs.append("spoken to")
    if name in scene.wardrobe:
        signs.append("dressed in the wardrobe")
    if any(how in ("enters", "exits", "moves") for _, how in done):
        signs.append("moves in the scene")
    if len(done) > 1:
        signs.append(f"acts in {len(done)} beats")
    return signs


def _uncast(
    where: _Locator, scene: Scene, name: str, done: list[tuple[int, str]], signs: list[str]
) -> Finding:
    beats = [i for i, _ in done]
    return where.finding(
        "uncast_character",
        scene,
        beats[0],
        beats=beats,
        severity="error" if any(how != "named in the action" for _, how in done) else "warning",
        message=(
            f"{name} is in scene {scene.number} ({', '.join(signs)}) but missing from the "
            f"scene's characters ({', '.join(scene.characters) or 'none'})."
        ),
        fix_instruction=f"Scene {scene.number}: add {name} to the scene's characters.",
        evidence={
            "character": name,
            "beats": ", ".join(map(str, beats)),
            "signs": ", ".join(signs),
        },
    )


def gone_characters(script: Script, where: _Locator) -> list[Finding]:
    """Flag a character who left the scene, or died, and is back without a reason."""
    findings = []
    dead: dict[str, tuple[int, int]] = {}
    for scene in script.scenes:
        flagged: set[str] = set()
        if not scene.flashback:
            for name in scene.characters:
                if name in dead:
                    flagged.add(name)
                    findings.append(_came_back(where, scene, 0, name, "is in", dead[name]))
        left: dict[str, int] = {}
        for i, beat in enumerate(scene.beats):
            for name in beat.enters:
                left.pop(name, None)
            for name in _appearing(beat):
                if name in flagged:
                    continue
                if name in left:
                    flagged.add(name)
                    findings.append(
                        where.finding(
                            "gone_character",
                            scene,
                            i,
                            message=(
                                f"{name} leaves scene {scene.number} at beat {left[name]} and is "
                                f"back at beat {i} without entering again."
                            ),
                            fix_instruction=(
                                f"Scene {scene.number}: have {name} come back in (list them in "
                                f"beat {i}'s enters), or move the exit after beat {i}."
                            ),
                            evidence={"character": name, "exit_beat": left[name]},
                        )
                    )
                elif name in dead and not scene.flashback:
                    flagged.add(name)
                    findings.append(_came_back(where, scene, i, name, "appears in", dead[name]))
            for name in beat.exits:
                left[name] = i
            if not scene.flashback:
                for name in beat.dies:
                    dead.setdefault(name, (scene.number, i))
    return findings


def _came_back(
    where: _Locator, scene: Scene, beat: int, name: str, how: str, died: tuple[int, int]
) -> Finding:
    return where.finding(
        "gone_character",
        scene,
        beat,
        message=(
            f"{name} {how} scene {scene.number} after leaving the story in scene {died[0]} "
            f"(beat {died[1]})."
        ),
        fix_instruction=(
            f"Scene {scene.number}: remove {name} (they left the story in scene {died[0]}), or "
            "mark the scene as a flashback if it happens before that."
        ),
        evidence={"character": name, "gone_scene": died[0], "gone_beat": died[1]},
    )


def prop_continuity(script: Script, where: _Locator) -> list[Finding]:
    """Flag a prop used before the beat that introduces it, or after it was destroyed."""
    introduced_at: dict[str, tuple[int, int]] = {}
    for scene in _in_story_order(script):
        for i, beat in enumerate(scene.beats):
            for prop in beat.introduces:
                introduced_at.setdefault(prop_key(prop), (scene.number, i))
    findings = []
    present: set[str] = set()
    destroyed: dict[str, tuple[int, int]] = {}
    for scene in _in_story_order(script):
        for i, beat in enumerate(scene.beats):
            arriving = {prop_key(p) for p in beat.introduces}
            for key in arriving:
                present.add(key)
                destroyed.pop(key, None)
            used = {prop_key(p): p for p in [*beat.props, *beat.destroys]}
            for key, prop in used.items():
                if key in arriving:
                    continue
                if key in destroyed:
                    gone = destroyed[key]
                    findings.append(
                        where.finding(
                            "prop_destroyed",
                            scene,
                            i,
                            message=(
                                f"The {prop} is used in scene {scene.number} (beat {i}) after it "
                                f"was destroyed or lost in scene {gone[0]} (beat {gone[1]})."
                            ),
                            fix_instruction=(
                                f"Scene {scene.number}, beat {i}: drop the {prop}, or bring it "
                                f"back on screen first (list it in a beat's introduces)."
                            ),
                            evidence={"prop": prop, "destroyed_scene": gone[0]},
                        )
                    )
                elif key not in present and key in introduced_at:
                    first = introduced_at[key]
                    findings.append(
                        where.finding(
                            "prop_not_introduced",
                            scene,
                            i,
                            message=(
                                f"The {prop} is used in scene {scene.number} (beat {i}) before "
                                f"it is introduced in scene {first[0]} (beat {first[1]})."
                            ),
                            fix_instruction=(
                                f"Scene {scene.number}, beat {i}: drop the {prop}, or introduce "
                                "it here instead of later."
                            ),
                            evidence={"prop": prop, "introduced_scene": first[0]},
                        )
                    )
            for prop in beat.destroys:
                key = prop_key(prop)
                present.discard(key)
                destroyed.setdefault(key, (scene.number, i))
    return findings


def continuous_time(script: Script, where: _Locator) -> list[Finding]:
    """Flag a scene whose time of day differs from the rest of its continuous run."""
    findings = []
    for run in _continuous_runs(script):
        times = [s.time_of_day.value for s in run]
        expected = _established(times)
        for scene, time in zip(run, times, strict=True):
            if time == expected:
                continue
            findings.append(
                where.finding(
                    "continuous_time",
                    scene,
                    None,
                    message=(
                        f"Scene {scene.number} is {time.upper()} inside a continuous run of "
                        f"scenes {run[0].number}-{run[-1].number} that is {expected.upper()}."
                    ),
                    fix_instruction=(
                        f"Scene {scene.number}: set the time of day to {expected} (it carries "
                        "straight on), or drop CONTINUOUS if time has passed."
                    ),
                    evidence={
                        "time_of_day": time,
                        "expected": expected,
                        "run_first_scene": run[0].number,
                    },
                )
            )
    return findings


def continuous_wardrobe(script: Script, where: _Locator) -> list[Finding]:
    """Flag a character whose outfit changes inside a continuous run of scenes."""
    findings = []
    for run in _continuous_runs(script):
        names = dict.fromkeys(n for s in run for n in s.wardrobe)
        for name in names:
            worn = [(s, s.wardrobe[name]) for s in run if name in s.wardrobe]
            if len(worn) < 2:
                continue
            expected = _established([_outfit_key(o) for _, o in worn])
            usual = next(o for _, o in worn if _outfit_key(o) == expected)
            for scene, outfit in worn:
                if _outfit_key(outfit) == expected:
                    continue
                findings.append(
                    where.finding(
                        "continuous_wardrobe",
                        scene,
                        None,
                        message=(
                            f"{name} wears '{outfit}' in scene {scene.number} but '{usual}' in "
                            f"the rest of the continuous run (scenes {run[0].number}-"
                            f"{run[-1].number}), with no time to change."
                        ),
                        fix_instruction=(
                            f"Scene {scene.number}: dress {name} in '{usual}' as in the scenes it "
                            "carries on from, or drop CONTINUOUS if time has passed."
                        ),
                        evidence={"character": name, "outfit": outfit, "expected": usual},
                    )
                )
    return findings


# --------------------------------------------------------------------------- helpers


@dataclass
class _Locator:
    """Builds script findings that point at the storyboard shots covering a scene or beat."""

    board: StoryboardFile
    _by_scene: dict[int, list[Shot]] | None = None

    def shots(self, scene: int, beats: list[int] | None) -> list[str]:
        if self._by_scene is None:
            # Indexed once: a finding looks up its scene, not every shot of the episode.
            self._by_scene = {}
            for s in self.board.shots:
                self._by_scene.setdefault(s.scene, []).append(s)
        mine = self._by_scene.get(scene, [])
        covering = [s.id for s in mine if beats is None or s.beat in beats]
        return covering or [s.id for s in mine]

    def finding(
        self,
        check: str,
        scene: Scene,
        beat: int | None,
        *,
        message: str,
        fix_instruction: str,
        evidence: dict[str, float | str],
        severity: str = "error",
        beats: list[int] | None = None,
    ) -> Finding:
        """Build a finding; `beats` (default: the one beat) pick the shots it names."""
        covered = beats if beats is not None else None if beat is None else [beat]
        shots = self.shots(scene.number, covered)
        return Finding(
            check=check,
            level="script",
            shot_id=shots[0] if shots else "",
            shots=shots,
            scene=scene.number,
            beat=0 if beat is None else beat,
            severity="warning" if severity == "warning" else "error",
            message=message,
            fix_instruction=fix_instruction,
            agent="screenwriter",
            evidence=evidence,
        )


def _known_names(script: Script) -> list[str]:
    names = [*script.characters, *(c for s in script.scenes for c in s.characters)]
    names += script.speakers()
    return [n for n in dict.fromkeys(names) if n.strip()]


def _actors(beat: Beat, cast: Sequence[str]) -> list[tuple[str, str]]:
    """Return (name, how) for everyone the beat has speaking or doing something on screen."""
    found: dict[str, str] = {}
    if beat.kind == "dialogue" and beat.character and not beat.unseen():
        found[beat.character] = "speaks"
    # Not `dies`: a death can happen elsewhere and be reported in the scene.
    for how, names in (("enters", beat.enters), ("exits", beat.exits), ("moves", beat.moves)):
        for name in names:
            found.setdefault(name, how)
    if beat.kind == "action":
        for name in cast:
            if name not in found and _acts_in(name, beat.text):
                found[name] = "named in the action"
    return list(found.items())


def _appearing(beat: Beat) -> list[str]:
    """Return who is seen doing something in the beat (not merely talked about)."""
    names = [*beat.moves, *beat.exits, *beat.dies]
    if beat.kind == "dialogue" and beat.character and not beat.unseen():
        names.insert(0, beat.character)
    return list(dict.fromkeys(names))


def _acts_in(name: str, text: str) -> bool:
    """Return whether an action paragraph names the character (not their belongings)."""
    if not name.isascii():
        return any(
            not text[m.end() :].startswith(("的", "の")) for m in re.finditer(re.escape(name), text)
        )
    return bool(re.search(rf"(?<![\w]){re.escape(name)}(?![\w'’])", text))


def _outfit_key(outfit: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", outfit.casefold()).split())


def _in_story_order(script: Script) -> Iterable[Scene]:
    """Scenes in story time: flashbacks step outside it."""
    return (s for s in script.scenes if not s.flashback)


def _continuous_runs(script: Script) -> list[list[Scene]]:
    """Return runs of two or more scenes each carrying straight on from the one before."""
    runs: list[list[Scene]] = []
    for scene in script.scenes:
        if scene.continuous and runs:
            runs[-1].append(scene)
        else:
            runs.append([scene])
    return [r for r in runs if len(r) > 1]


def _established(values: Sequence[H]) -> H:
    """Return the most common value; on a tie, the earliest one."""
    counts = Counter(values)
    best = max(counts.values())
    return next(v for v in values if counts[v] == best)
