"""Split a long screenplay into episodes: at scene boundaries, preferring act and sequence
breaks, balanced by runtime.

    parts = split_script(script, 3, text)      # text: the Fountain file, for its sections
    names = part_names("feature", len(parts))  # feature-part1, feature-part2, ...

A cut goes between two scenes, never inside one. Where the screenplay marks its structure
with Fountain sections (`# Act`, `## Sequence`), a cut at an act break costs nothing, at a
sequence break a little, and anywhere else more; what it is weighed against is how unequal
the parts' runtimes are (estimated from the words spoken and the action beats, as
`inkreel estimate` does). The cheapest set of cuts wins (dynamic programming over the scene
boundaries), so an act break is taken when the parts it makes are within about a fifth of
each other's length, and a plain scene boundary when no break comes near.

Each part is a Script of its own (scenes numbered from 1, its own cast list), produced as its
own episode; the project's asset memory makes later parts reuse the cast and sets the first
designed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from inkreel.estimate import SECONDS_PER_BEAT_WITHOUT_LINE, WORDS_PER_SECOND
from inkreel.media.fountain import read_fountain
from inkreel.schemas import Scene, Script

# Cost of a cut by where it falls, in the same units as the imbalance (the sum over parts of
# the squared relative difference from an equal share): 0.08 is two parts at 40/60.
CUT_COST = {1: 0.0, 2: 0.03}
DEEPER_SECTION_COST = 0.05
PLAIN_CUT_COST = 0.08
# Scripts written without spaces between words (Chinese, Japanese): characters per second.
CHARS_PER_SECOND = 4.0
DIALOGUE_TAIL_S = 0.45  # as the director times a line's shot

_SECTION = re.compile(r"^\s*(#+)(?!#)\s*(.*)$")
_MARKER = "INKREEL SPLIT MARK"


class SplitError(ValueError):
    """The screenplay cannot be split as asked; the message says why."""


@dataclass(frozen=True)
class Part:
    """One episode's share of the screenplay: scenes first..last-1 (0-based)."""

    first: int
    last: int
    seconds: float


def part_names(episode: str, parts: int) -> list[str]:
    """Episode names for the parts: NAME-part1, NAME-part2, ... (NAME alone for one part)."""
    return [episode] if parts == 1 else [f"{episode}-part{k}" for k in range(1, parts + 1)]


def scene_seconds(scene: Scene) -> float:
    """Estimated runtime of a scene: its spoken words (or characters) and its action beats."""
    seconds = 0.0
    for beat in scene.beats:
        if beat.kind != "dialogue":
            seconds += SECONDS_PER_BEAT_WITHOUT_LINE
            continue
        words = beat.text.split()
        if len(words) > 1 or beat.text.isascii():
            seconds += len(words) / WORDS_PER_SECOND
        else:
            seconds += len(beat.text) / CHARS_PER_SECOND
        seconds += DIALOGUE_TAIL_S
    return seconds


def section_breaks(text: str, script: Script) -> dict[int, int]:
    """Scene index -> depth of the shallowest Fountain section just before that scene
    (1 for `#`, 2 for `##`...), for the scenes of `script` imported from `text`.

    The importer keeps sections out of the Script, so each section line is replaced by a
    marker heading and the text imported again: the scenes before a marker are the scenes
    before the section, counted by the importer itself (whatever the headings look like).
    A section inside a scene counts as a break before the next one.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    depths: list[int] = []
    marked = []
    for line in lines:
        match = _SECTION.match(line)
        if match and not line.lstrip().startswith("#!"):
            marked += ["", f".{_MARKER} {len(depths)}", ""]
            depths.append(len(match.group(1)))
        else:
            marked.append(line)
    if not depths:
        return {}
    try:
        scenes = read_fountain("\n".join(marked), script.language).scenes
    except ValueError:
        return {}
    breaks: dict[int, int] = {}
    real = 0
    for scene in scenes:
        heading = scene.heading.lstrip(".").strip()
        if heading.startswith(_MARKER):
            index = int(heading.removeprefix(_MARKER).split()[0])
            breaks[real] = min(breaks.get(real, depths[index]), depths[index])
        else:
            real += 1
    if real != len(script.scenes):
        return {}  # the marked text did not read back scene for scene: no structure known
    return breaks


def plan_parts(seconds: list[float], parts: int, breaks: dict[int, int]) -> list[Part]:
    """Choose where to cut scenes with these runtimes into `parts` parts (see module doc)."""
    count = len(seconds)
    if parts < 1:
        raise SplitError("the number of episodes to split into must be at least 1.")
    if parts > count:
        raise SplitError(
            f"cannot split {count} scene{'s' if count != 1 else ''} into {parts} episodes: "
            "each episode needs at least one scene."
        )
    total = sum(seconds) or 1.0
    share = total / parts
    before = [0.0]
    for s in seconds:
        before.append(before[-1] + s)

    def cut_cost(i: int) -> float:
        depth = breaks.get(i)
        if depth is None:
            return PLAIN_CUT_COST
        return CUT_COST.get(depth, DEEPER_SECTION_COST)

    def part_cost(a: int, b: int) -> float:
        return ((before[b] - before[a] - share) / share) ** 2

    # best[k][j]: cheapest way to cut scenes 0..j-1 into k parts; back[k][j]: its last cut.
    inf = float("inf")
    best = [[inf] * (count + 1) for _ in range(parts + 1)]
    back = [[0] * (count + 1) for _ in range(parts + 1)]
    best[0][0] = 0.0
    for k in range(1, parts + 1):
        for j in range(k, count - (parts - k) + 1):
            for i in range(k - 1, j):
                if best[k - 1][i] == inf:
                    continue
                cost = best[k - 1][i] + part_cost(i, j) + (cut_cost(i) if i else 0.0)
                if cost < best[k][j]:
                    best[k][j], back[k][j] = cost, i
    cuts = [count]
    for k in range(parts, 0, -1):
        cuts.append(back[k][cuts[-1]])
    cuts.reverse()
    return [Part(a, b, before[b] - before[a]) for a, b in pairwise(cuts)]


def split_script(script: Script, parts: int, text: str | None = None) -> list[Script]:
    """Split `script` into `parts` Scripts at scene boundaries (see the module doc).

    `text` is the Fountain file the script was imported from, for its sections; without it
    the cuts only balance the runtime. One part returns the script unchanged.
    """
    if parts == 1:
        return [script]
    breaks = section_breaks(text, script) if text is not None else {}
    plan = plan_parts([scene_seconds(s) for s in script.scenes], parts, breaks)
    return [_part(script, p, k, len(plan)) for k, p in enumerate(plan, 1)]


def _part(script: Script, part: Part, number: int, parts: int) -> Script:
    scenes = [
        scene.model_copy(update={"number": n})
        for n, scene in enumerate(script.scenes[part.first : part.last], 1)
    ]
    here: set[str] = set()
    for scene in scenes:
        here.update(scene.characters)
        for beat in scene.beats:
            if beat.kind == "dialogue":
                here.update(beat.voices())
    return script.model_copy(
        update={
            "title": f"{script.title} ({number}/{parts})",
            "scenes": scenes,
            "characters": [c for c in script.characters if c in here],
            "voices": [v for v in script.voices if v in here],
        }
    )
