"""Subtitle cues: a spoken line split into screens of at most two lines, timed to the voice.

A line is measured with the font it is drawn in, so proportional Latin, CJK and other
scripts all fit the frame. Cues break at sentence ends first, then at clause punctuation,
then between words, and only then between characters (CJK, or a word wider than a line).
Cue times share the voiced part of the line in proportion to how long each cue takes to say.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from itertools import pairwise

from PIL import ImageFont

MAX_LINES = 2
# The longest line, in ems of the text size: about 45 Latin (Noto Sans) or 23 CJK characters,
# near the usual 42 / 16-20 for subtitles and the 48 / 26 the band wrapped at before lines
# were measured.
LINE_EMS = 23
MIN_CUE_S = 1.0

# Kinsoku: never start a line with closing punctuation or small kana, nor end one on an
# opening bracket.
_NO_BREAK_BEFORE = set(
    "、。，．・：；？！」』）】〕〉》”’ーゃゅょっぁぃぅぇぉァィゥェォッャュョヮヵヶ々…‥!),.:;?]}%"
)
_NO_BREAK_AFTER = set("「『（【〔〈《“‘([{")
_JOINERS = {"\u200c", "\u200d"}
_VIRAMA = 9  # canonical combining class of a virama: the next consonant joins its cluster

# Latin-style ends need a space after them ("3.14", "example.com" are not sentence ends).
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’»)\]]*\s+|[。！？｡؟।॥]+[」』”’）》〉)\]\"']*\s*")
_CLAUSE_END = re.compile(r"[,;:]+[\"'”’»)\]]*\s+|\s*[—–]+\s*|\s+-\s+|[，、；：،؛]+\s*")
_ABBREVIATIONS = {"mr", "mrs", "ms", "dr", "st", "jr", "sr", "vs", "etc", "e.g", "i.e", "prof"}

_PAUSES = set(".!?…。！？؟।,;:—–，、；：،؛")
_VOWELS = set("aeiouyаеёиоуыэюяіїєўαεηιουω")

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


class Measure:
    """How wide a line is drawn, and how wide it may be (widths are remembered)."""

    def __init__(self, width: Callable[[str], float], limit: float):
        self._width = width
        self.limit = limit
        self._known: dict[str, float] = {}

    def width(self, line: str) -> float:
        known = self._known.get(line)
        if known is None:
            known = self._known[line] = self._width(line)
        return known

    def fits(self, line: str) -> bool:
        return self.width(line) <= self.limit


def text_size(height: int) -> int:
    """The subtitle font size for a frame of this height."""
    return max(22, height // 24)


def smallest_size(height: int) -> int:
    """The smallest legible subtitle size, used only to keep a band off a face."""
    return min(text_size(height), max(16, height // 30))


def stroke_width(size: int) -> int:
    return max(2, size // 12)


def line_limit(width: int, height: int) -> float:
    """How wide a subtitle line may be: LINE_EMS of the text size, inside a 5% side margin."""
    return min(width * 0.9, LINE_EMS * text_size(height))


def font_measure(font: Font, size: int, limit: float) -> Measure:
    """Measure lines as drawn in `font` at `size`, with their outline."""
    stroke = 2 * stroke_width(size)
    return Measure(lambda line: float(font.getlength(line)) + stroke, limit)


# ---------------------------------------------------------------------------------------------
# lines


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF"


def _clusters(text: str) -> list[str]:
    """Split text into characters as a reader sees them (a letter with its marks, a conjunct)."""
    out: list[str] = []
    for ch in text:
        if out:
            prev = out[-1][-1]
            joins = (
                unicodedata.category(ch).startswith("M")
                or ch in _JOINERS
                or prev in _JOINERS
                or (unicodedata.combining(prev) == _VIRAMA and ch.isalpha())
            )
            if joins:
                out[-1] += ch
                continue
        out.append(ch)
    return out


def _tokens(text: str) -> list[str]:
    """Split text into pieces after each of which a line may break; spaces stay with a piece.

    Words break at spaces; CJK text between any two characters, except before closing
    punctuation or after an opening bracket.
    """
    clusters = _clusters(text)
    tokens: list[str] = []
    current = ""
    for i, c in enumerate(clusters):
        current += c
        after = clusters[i + 1] if i + 1 < len(clusters) else None
        if after is None:
            break
        if c.isspace():
            if not after.isspace():
                tokens.append(current)
                current = ""
            continue
        if after.isspace():
            continue
        wide = _wide(c[0]) or _wide(after[0])
        if wide and after[0] not in _NO_BREAK_BEFORE and c[-1] not in _NO_BREAK_AFTER:
            tokens.append(current)
            current = ""
    if current:
        tokens.append(current)
    return tokens


def _wrap_raw(text: str, measure: Measure, limit: int | None = None) -> list[str]:
    """Greedy wrap keeping every character (so the pieces join back into text).

    Stops once there are more than `limit` lines.
    """
    lines: list[str] = []
    current = ""
    for token in _tokens(text):
        if measure.fits((current + token).strip()):
            current += token
            continue
        if current.strip():
            lines.append(current)
            current = ""
            if limit is not None and len(lines) > limit:
                return lines
        if measure.fits(token.strip()):
            current += token
            continue
        # A word wider than a line breaks between characters.
        for c in _clusters(token):
            if current.strip() and not measure.fits((current + c).strip()):
                lines.append(current)
                current = ""
                if limit is not None and len(lines) > limit:
                    return lines
            current += c
    if current.strip():
        lines.append(current)
    elif current and lines:
        lines[-1] += current
    return lines


def wrap(text: str, measure: Measure) -> list[str]:
    """Wrap text into lines that fit; two lines are balanced to about the same width."""
    raw = _wrap_raw(text, measure)
    if len(raw) == 2:
        raw = _balanced(raw, measure)
    return [line.strip() for line in raw]


def _balanced(lines: list[str], measure: Measure) -> list[str]:
    """Move the break between two lines to where the wider of them is narrowest, favouring a
    break after punctuation."""
    text = "".join(lines)
    best = lines
    cost = max(measure.width(line.strip()) for line in lines)
    cut = 0
    for token in _tokens(text)[:-1]:
        cut += len(token)
        a, b = text[:cut].strip(), text[cut:].strip()
        wider = max(measure.width(a), measure.width(b))
        if a[-1] in _PAUSES:
            wider *= 0.7
        if wider < cost and measure.fits(a) and measure.fits(b):
            best, cost = [text[:cut], text[cut:]], wider
    return best


# ---------------------------------------------------------------------------------------------
# cues


def split(text: str, measure: Measure, max_lines: int = MAX_LINES) -> list[list[str]]:
    """Split text into cues of at most `max_lines` lines each; return each cue's lines.

    Whitespace is collapsed; otherwise the cues hold every character of the text, in order.
    """
    text = " ".join(text.split())
    if not text:
        return []

    def fits(part: str) -> bool:
        return len(_wrap_raw(part.strip(), measure, max_lines)) <= max_lines

    groups = _split(text, 0, fits, measure, max_lines)
    return [wrap(group.strip(), measure) for group in groups if group.strip()]


def _split(
    text: str, level: int, fits: Callable[[str], bool], measure: Measure, max_lines: int
) -> list[str]:
    """Split at sentence ends (level 0), then clause marks (1), then wherever a line breaks."""
    if fits(text):
        return [text]
    if level >= 2:
        lines = _wrap_raw(text, measure)
        return ["".join(lines[i : i + max_lines]) for i in range(0, len(lines), max_lines)]
    pieces = _sentences(text) if level == 0 else _cut(text, _CLAUSE_END)
    if len(pieces) == 1:
        return _split(text, level + 1, fits, measure, max_lines)
    groups: list[str] = []
    current = ""
    whole = True  # every piece fits on its own, so the groups can be evened out
    for piece in pieces:
        if current and fits(current + piece):
            current += piece
            continue
        if current:
            groups.append(current)
            current = ""
        if fits(piece):
            current = piece
        else:
            whole = False
            groups.extend(_split(piece, level + 1, fits, measure, max_lines))
    if current:
        groups.append(current)
    if whole and len(groups) > 1:
        even = _even(pieces, len(groups))
        if all(fits(g) for g in even):
            return even
    return groups


def _even(pieces: list[str], n: int) -> list[str]:
    """Pack pieces, in order, into n groups of about the same length."""
    total = sum(len(p) for p in pieces)
    groups: list[str] = []
    current = ""
    done = 0
    for piece in pieces:
        target = total * (len(groups) + 1) / n
        if current and len(groups) < n - 1 and done + len(piece) / 2 > target:
            groups.append(current)
            current = ""
        current += piece
        done += len(piece)
    groups.append(current)
    return groups


def _cut(
    text: str, pattern: re.Pattern[str], keep: Callable[[re.Match[str]], bool] = bool
) -> list[str]:
    """Cut text after each match of pattern; the pieces join back into text."""
    pieces: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        end = match.end()
        if end <= last or end >= len(text) or not keep(match):
            continue
        pieces.append(text[last:end])
        last = end
    pieces.append(text[last:])
    return [p for p in pieces if p]


def _sentences(text: str) -> list[str]:
    def real_end(match: re.Match[str]) -> bool:
        if not match.group().startswith("."):
            return True
        before = match.string[: match.start()].split()
        word = before[-1].lower() if before else ""
        # "Mr. Li", "J. R. R. Tolkien": not sentence ends.
        return word not in _ABBREVIATIONS and not (len(word) == 1 and word.isalpha())

    return _cut(text, _SENTENCE_END, real_end)


def screens(
    text: str, start: int, end: int, measure: Measure, max_lines: int = MAX_LINES
) -> list[tuple[str, int, int]]:
    """Return a cue as screens of at most `max_lines` lines that fit, sharing its frames
    [start, end) by spoken weight: (lines joined by newlines, start, end) each.

    Lines that already fit are kept as they are, grouped `max_lines` at a time; otherwise the
    cue is split anew.
    """
    given = [line.strip() for line in text.splitlines() if line.strip()]
    if given and all(measure.fits(line) for line in given):
        parts = [given[i : i + max_lines] for i in range(0, len(given), max_lines)]
    else:
        parts = split(unwrap(text), measure, max_lines)
    texts = ["\n".join(lines) for lines in parts]
    spans = share([spoken_weight(t) for t in texts], start, end)
    return [(t, a, b) for t, (a, b) in zip(texts, spans, strict=True)]


def unwrap(text: str) -> str:
    """Join a cue's lines back into one line (a space between words, none in CJK)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    out = lines[0] if lines else ""
    for line in lines[1:]:
        out += ("" if _wide(out[-1]) or _wide(line[0]) else " ") + line
    return out


# ---------------------------------------------------------------------------------------------
# timing


def spoken_weight(text: str) -> float:
    """About how many syllables it takes to say the text, pauses at punctuation included.

    CJK characters and digits count one each, Latin, Cyrillic and Greek words their vowel
    groups, other scripts half a syllable per letter; sentence ends add a beat, clause marks
    half a beat.
    """
    weight = 0.0
    for word in text.split():
        said = 0.0
        voiced = False
        for c in _clusters(word):
            ch = c[0]
            base = unicodedata.normalize("NFD", ch)[0].lower()
            if (_wide(ch) and ch.isalnum()) or ch.isdigit():
                said += 1
            elif base in _VOWELS:
                said += 0 if voiced else 1
                voiced = True
                continue
            elif ch.isalpha():
                # consonants are counted through the vowels beside them where vowels are written
                said += 0 if _alphabet(base) else 0.5
            elif ch in ".!?。！？؟।…":
                said += 1
            elif ch in ",;:—–，、；：،؛":
                said += 0.5
            voiced = False
        has_letters = any(c.isalnum() for c in word)
        weight += max(said, 1.0) if has_letters else said
    return max(weight, 1.0)


def _alphabet(ch: str) -> bool:
    """Whether the letter is Latin, Greek or Cyrillic (scripts that write their vowels)."""
    return ord(ch) < 0x250 or 0x370 <= ord(ch) < 0x530


def share(
    weights: Sequence[float], start: int, end: int, minimum: float = 0.0
) -> list[tuple[int, int]]:
    """Split frames [start, end) into contiguous spans in proportion to the weights.

    Each span gets at least `minimum` frames where the whole allows that; spans are whole
    frames, in order, the first starting at `start` and the last ending at `end`.
    """
    n = len(weights)
    if n == 0:
        return []
    span = max(0, end - start)
    least = min(minimum, span / n)
    weight = [max(w, 1e-6) for w in weights]
    held = [False] * n
    shares = [0.0] * n
    while True:
        free = span - least * sum(held)
        total = sum(w for w, h in zip(weight, held, strict=True) if not h)
        shares = [least if h else free * w / total for w, h in zip(weight, held, strict=True)]
        short = [i for i in range(n) if not held[i] and shares[i] < least]
        if not short:
            break
        for i in short:
            held[i] = True
        if all(held):
            shares = [least] * n
            break
    bounds = [start]
    done = 0.0
    for s in shares[:-1]:
        done += s
        bounds.append(start + min(span, math.floor(done + 0.5)))
    bounds.append(start + span)
    return list(pairwise(bounds))


def time_cues(
    texts: Sequence[str], start: int, voiced_end: int, end: int, min_frames: float
) -> list[tuple[int, int]]:
    """Time a line's cues: they share its voiced frames [start, voiced_end) by spoken weight,
    each at least `min_frames` where the line allows, and the last stays up until `end`."""
    if not texts:
        return []
    voiced_end = min(max(voiced_end, start), end)
    if voiced_end - start < len(texts):
        voiced_end = end  # too short a take to give every cue a frame: use the whole line
    spans = share([spoken_weight(t) for t in texts], start, voiced_end, min_frames)
    spans[-1] = (spans[-1][0], end)
    return spans
