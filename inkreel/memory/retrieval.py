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

from collections.abc import Mapping

from inkreel.schemas import Blocking, Character, Framing, Shot

TURNAROUND = "turnaround"
EXPRESSION = "expression"
FRONT = "front"
NEUTRAL = "neutral"
CLOSE = frozenset({Framing.close_up, Framing.extreme_close_up})


def labelled_references(character: Character) -> dict[str, str]:
    """A character's reference files by label, as the asset memory stores them."""
    files = {f"{TURNAROUND}:{k}": v for k, v in character.turnaround.items()}
    files |= {f"{EXPRESSION}:{k}": v for k, v in character.expressions.items()}
    return files


def choose_references(
    labels: Mapping[str, str], view: str = FRONT, expression: str | None = None
) -> list[str]:
    """The view (else the front, else any turnaround view), then with `expression` its head
    (else the neutral one): paths as stored, the missing ones left out."""
    views = {k.split(":", 1)[1]: v for k, v in labels.items() if k.startswith(f"{TURNAROUND}:")}
    faces = {k.split(":", 1)[1]: v for k, v in labels.items() if k.startswith(f"{EXPRESSION}:")}
    picked = [views.get(view) or views.get(FRONT) or next(iter(views.values()), None)]
    if expression is not None:
        picked.append(faces.get(expression) or faces.get(NEUTRAL))
    return [p for p in picked if p]


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


def shot_references(character: Character, shot: Shot, blocking: Blocking) -> list[str]:
    """The character's references for one shot: its view, and its face when it matters."""
    return choose_references(
        labelled_references(character), shot_view(shot, blocking), shot_expression(shot, blocking)
    )
