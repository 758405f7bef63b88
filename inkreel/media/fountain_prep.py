"""Normalise a screenplay's text so that fountain-py reads it the way the Fountain spec does.

fountain-py recognises only ASCII capitals as cues, demotes a cue whose first line of
dialogue is itself in capitals, and knows English scene headings only. Rather than parse
again, this pass rewrites the lines it is sure about with the forcing marks the spec
provides, and fountain-py does the rest:

- a cue (see `fountain_lang.is_letter_cue` / `CJK_CUE`: a line in capitals of any cased
  script, or a short CJK name, with a blank line or the start of a scene before it and a
  line of text after it) gets "@", so whatever follows it is dialogue whatever its case;
- a one-line CJK cue, "名字：台词" or "名前「台詞」", becomes "@名字" and "台词" in a block
  of their own;
- a heading with a non-English prefix (`fountain_lang.heading_prefix`) gets "." and
  `MARK` (fountain-py forces only headings starting with a Latin letter or digit; the
  reader strips the mark again);
- a standard heading glued to the text under it gets the blank line it lacks (a "repair",
  reported to the user);
- a full-width parenthetical （小声） inside dialogue gets ASCII brackets, and a Chinese
  action line marked △ or ▲ is forced as action with "!".

Lines inside a boneyard or a note spanning lines and the title page are left alone. Every
normalised line keeps the number of the original line it came from (`Prepared.line_map`),
so what the reader reports points into the user's file.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

from fountain import FountainParser

from inkreel.media import fountain_lang as lang

__all__ = ["MARK", "Prepared", "prepare", "repair_candidates"]

# Follows the "." that forces a heading; a digit, so fountain-py accepts the forcing.
MARK = "0 "

# Case-sensitive on purpose: the repair is only for headings written the standard way, so a
# prose paragraph that starts "Est. 1920, ..." is never turned into a heading.
_STANDARD_HEADING = re.compile(r"^(?:INT\./EXT|INT/EXT|I/E|INT|EXT|EST)(?:\.|\s)")
_EXPLICIT = ("!", ".", ">", "#", "=", "~", "[[", "/*")
_ACTION_MARKS = ("△", "▲")
_FULL_WIDTH_PARENTHETICAL = re.compile(r"^（(.*)）$")


@dataclass(frozen=True)
class Prepared:
    """The normalised text, line by line, and where each line came from."""

    lines: list[str]
    line_map: list[int]
    marked: frozenset[int] = field(default_factory=frozenset)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def original(self, number: int) -> int:
        """Return the original line number of a 1-based normalised line number."""
        return self.line_map[number - 1] if 1 <= number <= len(self.line_map) else number


def repair_candidates(lines: list[str]) -> list[int]:
    """Return 1-based numbers of standard headings glued to the line after them."""
    found = []
    for i, raw in enumerate(lines):
        line = raw.strip()
        if not _STANDARD_HEADING.match(line) or line != line.upper():
            continue
        blank_before = i == 0 or not lines[i - 1].strip()
        text_after = i + 1 < len(lines) and bool(lines[i + 1].strip())
        if blank_before and text_after:
            found.append(i + 1)
    return found


def prepare(lines: list[str], repairs: Collection[int] = ()) -> Prepared:
    """Return the normalised lines; `repairs` are the glued headings to separate."""
    normaliser = _Normaliser(lines, set(repairs))
    return normaliser.run()


def _body_start(lines: list[str]) -> int:
    """Return the index of the first line after the title page (0 when there is none)."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return 0
    end = next((i for i in range(first, len(lines)) if not lines[i].strip()), len(lines))
    metadata = FountainParser().parse("\n".join(lines[first:end])).metadata
    return end if metadata else 0


def _inert_lines(lines: list[str], start: int) -> set[int]:
    """Return indexes of lines that begin or end inside a boneyard or a note."""
    inert: set[int] = set()
    closer: str | None = None
    for i in range(start, len(lines)):
        line, pos, was_open = lines[i], 0, closer is not None
        while True:
            if closer is not None:
                end = line.find(closer, pos)
                if end < 0:
                    break
                pos, closer = end + 2, None
                continue
            opens = [(line.find(a, pos), b) for a, b in (("/*", "*/"), ("[[", "]]"))]
            found = sorted((at, b) for at, b in opens if at >= 0)
            if not found:
                break
            pos, closer = found[0][0] + 2, found[0][1]
        if was_open or closer is not None:
            inert.add(i)
    return inert


def _structural(line: str) -> bool:
    """Return whether a line can never be dialogue (heading, transition, section...)."""
    return (
        any(p.match(line) for p in FountainParser.HARD_STRUCTURAL_PATTERNS)
        or lang.heading_prefix(line) is not None
        or (line.startswith("[[") and line.endswith("]]"))
    )


def _cjk_cue(line: str) -> bool:
    match = lang.CJK_CUE.match(line)
    return match is not None and lang.is_cjk_name(match.group("name"))


def _one_line_cue(line: str) -> tuple[str, str] | None:
    """Return (cue, words) of a "名字：台词" or "名前「台詞」" line."""
    for pattern in (lang.CJK_COLON_LINE, lang.CJK_BRACKET_LINE):
        match = pattern.match(line)
        if match and _cjk_cue(match.group("cue")):
            return match.group("cue"), match.group("line").strip()
    return None


class _Normaliser:
    """Rewrite the body line by line, tracking block starts and dialogue blocks."""

    def __init__(self, lines: list[str], repairs: set[int]) -> None:
        self.source = lines
        self.repairs = repairs
        self.lines: list[str] = []
        self.line_map: list[int] = []
        self.marked: set[int] = set()
        # A blank line (or a scene's start) is just behind; inside a cue's dialogue block.
        self.block_start = True
        self.in_dialogue = False

    def emit(self, text: str, number: int) -> None:
        self.lines.append(text)
        self.line_map.append(number)

    def run(self) -> Prepared:
        start = _body_start(self.source)
        for i in range(start):
            self.emit(self.source[i], i + 1)
        inert = _inert_lines(self.source, start)
        for i in range(start, len(self.source)):
            raw = self.source[i]
            if not raw.strip():
                self.emit(raw, i + 1)
                self.block_start, self.in_dialogue = True, False
            elif i in inert:
                self.emit(raw, i + 1)
                self.block_start = False
            else:
                self.line(i, raw.strip())
        return Prepared(self.lines, self.line_map, frozenset(self.marked))

    def next_line(self, i: int) -> str:
        return self.source[i + 1].strip() if i + 1 < len(self.source) else ""

    def line(self, i: int, text: str) -> None:
        number = i + 1
        if self.heading(i, text) or self.one_line_cue(i, text):
            return
        starts_block, self.block_start = self.block_start, False
        if self.in_dialogue:
            parenthetical = _FULL_WIDTH_PARENTHETICAL.match(text)
            self.emit(f"({parenthetical.group(1)})" if parenthetical else self.source[i], number)
            return
        following = self.next_line(i)
        if text.startswith("@"):
            self.emit(self.source[i], number)
            self.in_dialogue = bool(following)
        elif text.startswith(_ACTION_MARKS):
            self.emit("!" + text[1:].strip(), number)
        elif text.startswith(_EXPLICIT):
            self.emit(self.source[i], number)
        elif (
            starts_block
            and following
            and not _structural(following)
            and (lang.is_letter_cue(text) or _cjk_cue(text))
        ):
            self.emit("@" + text, number)
            self.in_dialogue = True
        else:
            self.emit(self.source[i], number)

    def heading(self, i: int, text: str) -> bool:
        """Emit a scene heading and return True, or return False for any other line."""
        found = lang.heading_prefix(text)
        if found is None:
            return False
        index, _, _, cjk = found
        if not cjk and (self.in_dialogue or not self.block_start):
            return False
        if index < lang.ENGLISH_PREFIXES:
            self.emit(self.source[i], i + 1)
            if i + 1 in self.repairs:
                self.emit("", i + 1)
            self.block_start = i + 1 in self.repairs
        else:
            self.marked.add(len(self.lines) + 1)
            self.emit("." + MARK + text, i + 1)
            self.block_start = True
        self.in_dialogue = False
        return True

    def one_line_cue(self, i: int, text: str) -> bool:
        """Split a "名字：台词" line into a cue and its line, in a block of their own."""
        found = _one_line_cue(text)
        if found is None:
            return False
        if self.lines and self.lines[-1].strip():
            self.emit("", i + 1)
        self.emit("@" + found[0], i + 1)
        self.emit(found[1], i + 1)
        if self.next_line(i):
            self.emit("", i + 1)
        self.block_start, self.in_dialogue = True, False
        return True
