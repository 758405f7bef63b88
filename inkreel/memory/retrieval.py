"""Which of a character's reference images a shot needs: the view it is seen from, its face.

A reference sheet holds turnaround views (front, three-quarter, side, back) and expression
heads (neutral, happy, sad, angry, surprised, afraid), stored in the asset memory under the
labels `turnaround:<view>` and `expression:<emotion>`. A model drawing or judging a shot is
given the view the shot sees the character from (as the procedural renderer draws it: facing
the camera, the front; turned left or right, the three-quarter view; from behind over a
shoulder, the back) and, when the face is worth showing (a close framing or an expression
other than neutral), the expression head. Missing images fall back to the front view and the
neutral face.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from inkreel.schemas import Blocking, Character, Framing, Shot

TURNAROUND = "turnaround"
EXPRESSION = "expression"
FRONT = "front"
NEUTRAL = "neutral"
CLOSE = frozenset({Framing.close_up, Framing.extreme_close_up})
# References sent with one keyframe to a model that looks at it (the judge), besides the
# keyframe itself: what its prompt and the estimate count on.
MAX_REFERENCES = 4
# Where a character's labelled references come from: the asset memory
# (`AssetMemory.stored_references`) in a run, the record itself (`labelled_references`) for a
# storyboard checked on its own.
LabelsOf = Callable[[Character], Mapping[str, str]]


def labelled_references(character: Character) -> dict[str, str]:
    """A character's reference files by label, as the asset memory stores them."""
    files = {f"{TURNAROUND}:{k}": v for k, v in character.turnaround.items()}
    files |= {f"{EXPRESSION}:{k}": v for k, v in character.expressions.items()}
    return files


def _kind(labels: Mapping[str, str], kind: str) -> dict[str, str]:
    return {k.split(":", 1)[1]: v for k, v in labels.items() if k.startswith(f"{kind}:")}


def pick_view(labels: Mapping[str, str], view: str = FRONT) -> tuple[str, str] | None:
    """(view, path): the view asked for, else the front, else any turnaround view."""
    views = _kind(labels, TURNAROUND)
    for name in (view, FRONT, *views):
        if views.get(name):
            return name, views[name]
    return None


def pick_face(labels: Mapping[str, str], expression: str) -> tuple[str, str] | None:
    """(expression, path): the expression's head asked for, else the neutral one."""
    faces = _kind(labels, EXPRESSION)
    for name in (expression, NEUTRAL):
        if faces.get(name):
            return name, faces[name]
    return None


def choose_references(
    labels: Mapping[str, str], view: str = FRONT, expression: str | None = None
) -> list[str]:
    """The view (`pick_view`), then with `expression` its head (`pick_face`): paths as
    stored, the missing ones left out."""
    picked = [pick_view(labels, view), pick_face(labels, expression) if expression else None]
    return [p[1] for p in picked if p is not None]


def shot_view(shot: Shot, blocking: Blocking) -> str:
    """The turnaround view a shot sees the blocked character from, as the renderer draws it."""
    others = [b for b in shot.blocking if b.character != blocking.character]
    if (
        shot.framing == Framing.over_the_shoulder
        and shot.speaker
        and blocking.character != shot.speaker
        and others
    ):
        return "back"
    return FRONT if blocking.facing == "front" else "three_quarter"


def shot_expression(shot: Shot, blocking: Blocking) -> str | None:
    """The expression whose head is worth sending, or None (seen from behind, or a neutral
    face in a frame too wide to read it)."""
    if shot_view(shot, blocking) == "back":
        return None
    if blocking.expression != NEUTRAL or shot.framing in CLOSE:
        return str(blocking.expression)
    return None


def shot_references(
    character: Character, shot: Shot, blocking: Blocking, labels_of: LabelsOf | None = None
) -> list[str]:
    """The character's references for one shot: its view, and its face when it matters."""
    labels = (labels_of or labelled_references)(character)
    return choose_references(labels, shot_view(shot, blocking), shot_expression(shot, blocking))
