"""What the checks of one storyboard share: the board's cache key, references and nearby sets."""

from __future__ import annotations

import hashlib
import threading

from inkreel.checks.bundle import Bundle
from inkreel.checks.image import references
from inkreel.checks.image.references import CharacterRefs
from inkreel.checks.image.thresholds import ImageThresholds
from inkreel.measure.identity import DescCache
from inkreel.schemas import Shot

# A keyframe that its own set does not reproduce is compared with the shot's camera in at most
# this many other sets (see Shared.other_sets): every set of a long storyboard, for every such
# shot, grew with the square of the episode.
MAX_OTHER_SETS = 8


def digest(*parts: object) -> str:
    """A short hash of the parts (bytes as they are, anything else by its repr)."""
    h = hashlib.blake2b(digest_size=16)
    for p in parts:
        h.update(p if isinstance(p, bytes) else repr(p).encode())
        h.update(b"\x00")
    return h.hexdigest()


class Shared:
    """What the checks of one storyboard share, worked out once and not once per shot: the
    board-wide part of each shot's cache key, the characters' references, and the sets near
    each scene (the candidates for a keyframe drawn in the wrong set)."""

    def __init__(self, bundle: Bundle, p: ImageThresholds) -> None:
        self.bundle = bundle
        self.p = p
        b = bundle.board
        self.key = digest(
            str(bundle.root),
            {n: loc.model_dump_json() for n, loc in sorted(b.locations.items())},
            {n: c.model_dump_json() for n, c in sorted(b.cast.items())},
            p.model_dump_json(),
        )
        self._refs: dict[str, CharacterRefs] = {}
        self._near: dict[int, list[str]] | None = None
        self._lock = threading.Lock()
        # The references' descriptors: every figure of every shot is compared with them.
        self.descriptors = DescCache()

    def refs(self, name: str) -> CharacterRefs:
        with self._lock:
            if name not in self._refs:
                self._refs[name] = references.character_refs(
                    self.bundle.root, name, self.bundle.board
                )
            return self._refs[name]

    def other_sets(self, shot: Shot) -> list[str]:
        """The storyboard's other sets to try for a keyframe drawn in the wrong one: all of
        them, or for a long storyboard the MAX_OTHER_SETS used in the scenes nearest the shot's
        (a drifted keyframe is drawn in a set of the story around it), in storyboard order."""
        names = self.bundle.board.locations
        if len(names) <= MAX_OTHER_SETS + 1:
            return [n for n in names if n != shot.location]
        with self._lock:
            if self._near is None:
                self._near = nearest_sets(self.bundle.board.shots, MAX_OTHER_SETS + 1)
            near = set(self._near.get(shot.scene, ()))
        near.discard(shot.location)
        picked = [n for n in names if n in near][:MAX_OTHER_SETS]
        return picked


def nearest_sets(shots: list[Shot], count: int) -> dict[int, list[str]]:
    """Scene -> the first `count` sets met walking out from it scene by scene (storyboard order)."""
    order: list[int] = []
    sets: dict[int, list[str]] = {}
    for shot in shots:
        if shot.scene not in sets:
            order.append(shot.scene)
            sets[shot.scene] = []
        if shot.location not in sets[shot.scene]:
            sets[shot.scene].append(shot.location)
    near: dict[int, list[str]] = {}
    for i, scene in enumerate(order):
        found: dict[str, None] = dict.fromkeys(sets[scene])
        step = 1
        while len(found) < count and (i - step >= 0 or i + step < len(order)):
            for j in (i - step, i + step):
                if 0 <= j < len(order):
                    found.update(dict.fromkeys(sets[order[j]]))
            step += 1
        near[scene] = list(found)
    return near
