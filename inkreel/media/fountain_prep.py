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
  action line marked △ or ▲ is forced as action with "!" (it ends any dialogue, and a cue
  may follow it directly, as in scripts without blank lines).

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

__all__ = ["MARK", "Prepared", "prepare", "structural"]

# Follows the "." that forces a heading; a digit, so fountain-py accepts the forcing.
MARK = "0 "

# Case-sensitive on purpose: the repair is only for headings written the standard way, so a
# prose paragraph that starts "Est. 1920, ..." is never turned into a heading.
_STANDARD_HEADING = re.compile(r"^(?:INT\./EXT|INT/EXT|I/E|INT|EXT|EST)(?:\.|\s)")
# Lines fountain-py reads as an element of their own even inside dialogue: forced action,
# section, synopsis, page break, transition, centred text, forced heading, boneyard.
_MARKED = re.compile(r"^(?:[!#=>]|\.(?!\.)[A-Za-z0-9]|/\*)")
# Lyrics and whole-line notes do not end a dialogue block in fountain-py, even after a blank.
_CARRY_ON = re.compile(r"^(?:~|\[\[.*\]\]$)")
_ACTION_MARKS = ("△", "▲")
_FULL_WIDTH_PARENTHETICAL = re.compile(r"^（(.*)）$")


@dataclass(frozen=True)
class Prepared:
    """The normalised text, line by line, and where each line came from."""

    lines: list[str]
    line_map: list[int]
    # Normalised line numbers of headings forced with "." + MARK.
    marked: frozenset[int] = field(default_factory=frozenset)
    # Original line numbers of standard headings given a blank line after them.
    repairs: tuple[int, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def original(self, number: int) -> int:
        """Return the original line number of a 1-based normalised line number."""
        return self.line_map[number - 1] if 1 <= number <= len(self.line_map) else number


def prepare(lines: list[str], keep_glued: Collection[int] = ()) -> Prepared:
    """Return the normalised lines; headings on the `keep_glued` lines get no blank line."""
    return _Normaliser(lines, set(keep_glued)).run()


def _body_start(lines: list[str]) -> int:
    """Return the index of the first line after the title page (0 when there is none)."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return 0
    end = next((i for i in range(first, len(lines)) if not lines[i].strip()), len(lines))
    doc = FountainParser().parse("\n".join(lines[first:end]))
    if not doc.metadata:
        return 0
    # The title page can end before the blank line, at the first line that is no key.
    return min((first + e.line_number - 1 for e in doc.elements), default=end)


def _inert_lines(lines: list[str], start: int) -> set[int]:
    """Return indexes of lines that begin or end inside a boneyard or a note."""
    inert: set[int] = set()
    closer: str | None = None
    for i in range(start, len(lines)):
        line, pos, was_open = lines[i], 0, closer is not None
        if closer == "]]" and not line:
            closer, was_open = None, False  # an empty line breaks an open note
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


def structural(line: str) -> bool:
    """Return whether a line right under a cue is not its dialogue (heading, transition...)."""
    heading = lang.heading_prefix(line)
    return (
        any(p.match(line) for p in FountainParser.HARD_STRUCTURAL_PATTERNS)
        or (heading is not None and heading[3])
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

    def __init__(self, lines: list[str], keep_glued: set[int]) -> None:
        self.source = lines
        self.keep_glued = keep_glued
        self.lines: list[str] = []
        self.line_map: list[int] = []
        self.marked: set[int] = set()
        self.repairs: list[int] = []
        # A blank line (or a scene's start) is just behind; inside a cue's dialogue block.
        self.block_start = True
        self.in_dialogue = False
        # The last block that was not a lyric or a note was dialogue: like fountain-py, a
        # lyric or note after a blank line carries that dialogue on.
        self.spoken = False

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
            if i in inert:
                self.emit(raw, i + 1)  # unseen by the parser: the state carries over
            elif not raw.strip():
                self.emit(raw, i + 1)
                # Spaces alone keep a dialogue block going (the spec's "two spaces").
                if not (raw and self.in_dialogue):
                    self.block_start, self.in_dialogue = True, False
            else:
                self.line(i, raw.strip())
        return Prepared(self.lines, self.line_map, frozenset(self.marked), tuple(self.repairs))

    def next_line(self, i: int) -> str:
        return self.source[i + 1].strip() if i + 1 < len(self.source) else ""

    def line(self, i: int, text: str) -> None:
        if self.heading(i, text) or self.one_line_cue(i, text):
            return
        starts_block, self.block_start = self.block_start, False
        if _CARRY_ON.match(text):
            self.emit(self.source[i], i + 1)
            self.in_dialogue = self.in_dialogue or self.spoken
        elif text.startswith("@") and any(c.isalpha() for c in text):
            self.emit(self.source[i], i + 1)
            self.in_dialogue = self.spoken = True
        elif text.startswith(_ACTION_MARKS):
            # A △ line is a paragraph of its own: a cue may follow it directly.
            self.emit("!" + text[1:].strip(), i + 1)
            self.in_dialogue = self.spoken = False
            self.block_start = True
        elif _MARKED.match(text):
            self.emit(self.source[i], i + 1)
            self.in_dialogue = self.spoken = False
        elif self.in_dialogue:
            parenthetical = _FULL_WIDTH_PARENTHETICAL.match(text)
            self.emit(f"({parenthetical.group(1)})" if parenthetical else self.source[i], i + 1)
            self.spoken = True
        else:
            self.in_dialogue = self.spoken = self.cue(i, text, starts_block)

    def cue(self, i: int, text: str, starts_block: bool) -> bool:
        """Emit a line outside dialogue; return whether it is a cue with dialogue after it."""
        following = self.next_line(i)
        is_cue = (
            starts_block
            and bool(following)
            and not structural(following)
            and (lang.is_letter_cue(text) or _cjk_cue(text))
        )
        self.emit("@" + text if is_cue else self.source[i], i + 1)
        return is_cue

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
            glued = bool(self.next_line(i))
            standard = _STANDARD_HEADING.match(text) is not None and text == text.upper()
            repair = glued and standard and i + 1 not in self.keep_glued
            if repair:
                self.emit("", i + 1)
                self.repairs.append(i + 1)
            self.block_start = repair or not glued
        else:
            self.marked.add(len(self.lines) + 1)
            self.emit("." + MARK + text, i + 1)
            self.block_start = True
        self.in_dialogue = self.spoken = False
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
        if i + 1 < len(self.source) and self.source[i + 1]:
            self.emit("", i + 1)  # even before a line of spaces, which would carry on
        self.block_start, self.in_dialogue, self.spoken = True, False, True
        return True
