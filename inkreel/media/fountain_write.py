"""Scripts out as Fountain, rendered by fountain-py; `fountain.read_fountain` reads them back
to the same scenes, speakers and lines."""

from __future__ import annotations

import re

from fountain import (
    ElementType,
    FountainDocument,
    FountainElement,
    FountainParser,
    FountainRenderer,
    MetadataValue,
)

from inkreel.media.fountain import UNKNOWN_SPEAKER, UNTITLED, parse_with_repairs
from inkreel.media.fountain_prep import MARK, structural
from inkreel.schemas.script import Beat, Emotion, Scene, Script


def write_fountain(script: Script) -> str:
    """Return the script as Fountain text, rendered by fountain-py's FountainRenderer.

    Reading the result back gives the same scene headings, speakers and dialogue texts in
    the same order. A line break inside a dialogue beat becomes a space (each Fountain
    dialogue line is a beat of its own); an emotion without a parenthetical is written as
    one, e.g. "(angry)"; a dual beat with no dialogue beat right before it is written as
    an ordinary cue. An off-screen line gets "(V.O.)" for a voice and "(O.S.)" for a
    character, and a chorus line one cue naming everyone ("EDWARD AND WILL"). A line said
    in a story's shot comes after that shot's picture, as action.
    """
    metadata = {"title": " ".join(script.title.split()) or "Untitled"}
    if script.logline.strip():
        metadata["logline"] = " ".join(script.logline.split())
    elements: list[FountainElement] = []
    heard = set(script.voices)
    for scene in script.scenes:
        elements.append(_heading_element(scene))
        elements += _scene_body(scene.beats, heard)
    return FountainRenderer().render(FountainDocument(elements, metadata)).rstrip() + "\n"


def _element(kind: ElementType, text: str, **metadata: bool) -> FountainElement:
    return FountainElement(kind, text, [], 0, dict(metadata))


def _reads_back(element: FountainElement) -> bool:
    """Return whether the element, rendered alone, reads back as itself."""
    rendered = FountainRenderer().render(FountainDocument([element]))
    doc, prepared = parse_with_repairs(rendered.split("\n"))
    parsed = doc.elements
    if len(parsed) != 1 or parsed[0].type is not element.type:
        return False
    text = parsed[0].text.strip()
    if parsed[0].line_number in prepared.marked:
        text = text.removeprefix(MARK).strip()
    return text == element.text.strip()


def _heading_element(scene: Scene) -> FountainElement:
    heading = " ".join(scene.heading.split()) or UNTITLED
    for candidate in (
        _element(ElementType.SCENE_HEADING, heading),
        _element(ElementType.SCENE_HEADING, heading, forced=True),
    ):
        if _reads_back(candidate):
            return candidate
    # A forced heading must start with a Latin letter or digit, so a heading like "茶馆"
    # with no prefix `fountain_lang` knows needs a standard one to stay a heading at all.
    prefix = "INT." if scene.interior else "EXT."
    return _element(ElementType.SCENE_HEADING, f"{prefix} {heading}")


def _action_element(text: str) -> FountainElement:
    # A blank line inside would split the paragraph, and an action line that looks like a
    # heading, cue or transition needs "!" to stay action.
    text = re.sub(r"\n\s*\n+", "\n", text.strip())
    plain = _element(ElementType.ACTION, text)
    return plain if _reads_back(plain) else _element(ElementType.ACTION, text, forced=True)


def _cue_element(
    beat: Beat, heard: set[str], first: FountainElement, dual: bool = False
) -> FountainElement:
    name = " AND ".join([_speaker(beat), *(" ".join(n.split()) for n in beat.chorus)])
    metadata: dict[str, MetadataValue] = {"dual_dialogue": True} if dual else {}
    if beat.off_screen:
        metadata["extension"] = "V.O." if beat.character in heard else "O.S."
    # Only an upper-case Latin cue is recognised by fountain-py as is; anything else (CJK,
    # mixed case) is forced with "@" so that any Fountain reader takes it as a character,
    # as is one whose first line looks like a heading or transition.
    if not FountainParser.CHARACTER_PATTERN.match(name) or structural(first.text):
        metadata["forced"] = True
    return FountainElement(ElementType.CHARACTER, name, [], 0, metadata)


def _speaker(beat: Beat) -> str:
    return " ".join((beat.character or "").split()) or UNKNOWN_SPEAKER


def _voice(beat: Beat) -> tuple[str, tuple[str, ...], bool]:
    """Return what one cue says about a line: speaker, chorus and off screen."""
    return _speaker(beat), tuple(beat.chorus), beat.off_screen


def _lines(beats: list[Beat]) -> list[FountainElement]:
    out = []
    for beat in beats:
        note = beat.parenthetical or (
            beat.emotion.value if beat.emotion is not Emotion.neutral else None
        )
        if note and note.strip():
            note = " ".join(note.strip().removeprefix("(").removesuffix(")").split())
            out.append(_element(ElementType.PARENTHETICAL, f"({note})"))
        text = re.sub(r"\s*\n\s*", " ", beat.text.strip()) or "..."
        out.append(_element(ElementType.DIALOGUE, text))
    return out


def _scene_body(beats: list[Beat], heard: set[str]) -> list[FountainElement]:
    out: list[FountainElement] = []
    i = 0
    while i < len(beats):
        if beats[i].kind == "action":
            out.append(_action_element(beats[i].text))
            i += 1
            continue
        if _picture(beats[i]):  # a story's shot: what it shows, then the line said over it
            out.append(_action_element(_picture(beats[i])))
        left_end = _run_end(beats, i)
        if left_end < len(beats) and beats[left_end].kind == "dialogue" and beats[left_end].dual:
            right_end = _run_end(beats, left_end)
            left, right = beats[i:left_end], beats[left_end:right_end]
            left_lines, right_lines = _lines(left), _lines(right)
            out.append(
                _element_with(
                    ElementType.DUAL_DIALOGUE,
                    {
                        "left_character": _cue_element(left[0], heard, left_lines[0]),
                        "left_dialogue": left_lines,
                        "right_character": _cue_element(right[0], heard, right_lines[0], True),
                        "right_dialogue": right_lines,
                    },
                )
            )
            i = right_end
        else:
            said = _lines(beats[i:left_end])
            out.append(_cue_element(beats[i], heard, said[0]))
            out += said
            i = left_end
    return out


def _run_end(beats: list[Beat], start: int) -> int:
    """Return the end of the run of one cue's non-dual lines that starts at `start`."""
    end = start + 1
    while (
        end < len(beats)
        and beats[end].kind == "dialogue"
        and not beats[end].dual
        and not _picture(beats[end])
        and _voice(beats[end]) == _voice(beats[start])
    ):
        end += 1
    return end


def _picture(beat: Beat) -> str:
    """What a line's shot shows, when a story directed it (`ShotDirection.picture`)."""
    return beat.shot.picture if beat.kind == "dialogue" and beat.shot is not None else ""


def _element_with(kind: ElementType, metadata: dict[str, MetadataValue]) -> FountainElement:
    return FountainElement(kind, "", [], 0, metadata)
