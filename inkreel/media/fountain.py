"""Fountain screenplays in and out: fountain-py's elements mapped onto a Script, and back.

Parsing is left to fountain-py 0.3, after a normalisation pass (`fountain_prep`) that
forces, with the spec's own marks, what fountain-py would misread: cues in capitals of any
script, dialogue in capitals, CJK cues, non-English scene headings, headings glued to the
text under them. Why not another parser: jouvence (last release 2020) matches only ASCII
capitals for cues; screenplain handles Unicode capitals but no CJK cues or non-English
headings, keeps no line numbers (`SkippedElement.line` needs them) and would mean a new
mapping and writer. Normalising keeps fountain-py's handling of notes, boneyards, emphasis,
dual dialogue and the title page, and every fix is a rewrite of one line that keeps the
number of the line it came from. Who is a character, a voice or present in a scene is
decided afterwards, in `fountain_cast`; the language tables are in `fountain_lang`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fountain import (
    ElementType,
    FountainDocument,
    FountainElement,
    FountainParser,
)

from inkreel.media import fountain_lang as lang
from inkreel.media.fountain_cast import cast_scenes, parse_cue
from inkreel.media.fountain_prep import MARK, Prepared, prepare
from inkreel.schemas.script import Beat, Emotion, Scene, Script, SkippedElement, TimeOfDay

__all__ = [
    "SKIP_REASONS",
    "ScriptError",
    "emotion_from_parenthetical",
    "load_fountain",
    "read_fountain",
]

_LineFn = Callable[[int], int]

UNTITLED = "UNTITLED"
UNKNOWN_SPEAKER = "UNKNOWN"

# Why each kind of SkippedElement has no place in an episode, for the CLI to explain them.
SKIP_REASONS: dict[str, str] = {
    "repair": "scene heading had no blank line after it; one was inserted so it parses",
    "title_page": "title-page field other than the title and logline; not shown in an episode",
    "note": "note to the reader ([[...]]); not part of the story",
    "boneyard": "commented-out text (/* ... */)",
    "centered": "centred text such as a title card; not staged as action",
    "transition": "editing transition; the cut is decided by the storyboard",
    "section": "outline section (#); structure only",
    "synopsis": "outline synopsis (=); structure only",
    "page_break": "page break (===)",
    "lyrics": "sung lyrics could be dialogue but are not voiced; rewrite them as dialogue",
    "action": "action before the first scene heading, in a file whose prelude has no dialogue",
    "parenthetical": "parenthetical with no line of dialogue after it in its cue",
    "character": "character cue with no dialogue",
    "title_page_element": "title-page element inside the body",
    "warning": "the Fountain parser's own diagnostic",
}

_SKIPPED_TYPES = {
    ElementType.NOTE: "note",
    ElementType.BONEYARD: "boneyard",
    ElementType.CENTERED: "centered",
    ElementType.TRANSITION: "transition",
    ElementType.SECTION: "section",
    ElementType.SYNOPSIS: "synopsis",
    ElementType.PAGE_BREAK: "page_break",
    ElementType.LYRICS: "lyrics",
    ElementType.TITLE_PAGE: "title_page_element",
}

# fountain-py lifts inline notes and boneyards out of the text without emitting an element;
# these find them again so they are reported rather than silently dropped.
_NOTE = FountainParser.NOTE_PATTERN
_BONEYARD = re.compile(r"/\*.*?\*/", re.DOTALL)
# Where a heading's time of day starts: " - ", a full-width or em dash, or a comma
# ("INT. APARTMENT, DAY"); the last one is taken, and only if a time word follows it.
_TIME_SEPARATOR = re.compile(r"\s+[-–—]+\s+|\s*[－—―]+\s*|\s*[,，、]\s*")
# A time in brackets at the end ("○ 教室（夜）"), or after a space in CJK and Russian.
_TIME_IN_BRACKETS = re.compile(r"\s*[(（]([^()（）]+)[)）]\s*$")
_LAST_WORD = re.compile(r"[\s\u3000]+(\S+)$")

_DAY_WORDS = {"DAY", "MORNING", "AFTERNOON", "NOON", "MIDDAY", "DAYTIME", "EARLY MORNING"}
_DUSK_WORDS = {"DUSK", "EVENING", "SUNSET", "DAWN", "SUNRISE", "TWILIGHT", "MAGIC HOUR"}
_NIGHT_WORDS = {"NIGHT", "MIDNIGHT", "LATE NIGHT", "NIGHTTIME"}
# Suffixes that say when without saying what light: the scene keeps the previous one's.
_INHERIT_WORDS = {
    "CONTINUOUS",
    "LATER",
    "MOMENTS LATER",
    "A MOMENT LATER",
    "SAME",
    "SAME TIME",
    "SIMULTANEOUS",
    "CONT'D",
    "CONTINUED",
}
# Of those, the ones that mean no time has passed: light and wardrobe must carry over.
_CONTINUOUS_WORDS = {
    "CONTINUOUS",
    "SAME",
    "SAME TIME",
    "SIMULTANEOUS",
    "MOMENTS LATER",
    "A MOMENT LATER",
    "CONT'D",
    "CONTINUED",
}
# Keyword stems per emotion; the earliest match in a parenthetical wins, so "(angry, then
# laughing)" plays angry. CJK keywords match as plain substrings (no word boundaries there).
_EMOTION_PATTERNS: dict[Emotion, re.Pattern[str]] = {
    emotion: re.compile("|".join(words), re.IGNORECASE)
    for emotion, words in {
        Emotion.afraid: [
            r"\boh,? crap\b",
            r"\bscared\b",
            r"\bafraid\b",
            r"\bterrifi\w*",
            r"\bnervous\w*",
            r"\bfright\w*",
            r"\bfear\w*",
            r"\bpanic\w*",
            r"\btrembl\w*",
            r"\bwhimper\w*",
            r"\banxious\w*",
            r"\bworried\b",
            r"\bhorrified\b",
            r"\bshaking\b",
            "害怕",
            "恐惧",
            "紧张",
            "怯え",
            "怖",
        ],
        Emotion.angry: [
            r"\bangr\w*",
            r"\bfurious\w*",
            r"\bfury\b",
            r"\bshout\w*",
            r"\byell\w*",
            r"\brag(?:e|ing)\b",
            r"\benraged\b",
            r"\bseething\b",
            r"\bsnarl\w*",
            r"\bmad\b",
            r"\bannoyed\b",
            r"\birritated\b",
            r"\blivid\b",
            "生气",
            "愤怒",
            "怒",
        ],
        Emotion.sad: [
            r"\bsad(?:ly|ness)?\b",
            r"\bcr(?:y|ies|ying)\b",
            r"\btearful\w*",
            r"\bteary\b",
            r"\bin tears\b",
            r"\bsob\w*",
            r"\bweep\w*",
            r"\bmournful\w*",
            r"\bheartbroken\b",
            r"\bgrie(?:f|v\w*)",
            r"\bdepress\w*",
            r"\bchoked up\b",
            "哭",
            "伤心",
            "难过",
            "悲",
            "泣",
        ],
        Emotion.surprised: [
            r"\bsurpris\w*",
            r"\bshock\w*",
            r"\bgasp\w*",
            r"\bastonish\w*",
            r"\bstunned\b",
            r"\bamazed\b",
            r"\bstartled\b",
            r"\btaken aback\b",
            r"\bincredulous\w*",
            r"\bwide-eyed\b",
            "吃惊",
            "惊",
            "驚",
        ],
        Emotion.happy: [
            r"\blaugh\w*",
            r"\bsmil\w*",
            r"\bgrin(?:s|ning)?\b",
            r"\bhapp(?:y|ily)\b",
            r"\bcheerful\w*",
            r"\bjoy\w*",
            r"\bdelighted\b",
            r"\bgiggl\w*",
            r"\bchuckl\w*",
            r"\bbeaming\b",
            r"\bexcited\w*",
            "笑",
            "开心",
            "高兴",
            "嬉",
        ],
    }.items()
}


class ScriptError(ValueError):
    """A screenplay that cannot be used; the message says what is wrong and what to do."""


# ---------------------------------------------------------------------------------------
# Reading


def load_fountain(path: Path, language: str = "en") -> Script:
    """Read a UTF-8 Fountain file and map it onto a Script.

    A file with no scene heading becomes one scene called "UNTITLED" only if it holds
    dialogue (a dialogue sketch is still an episode); with neither heading nor dialogue it is
    a ScriptError, as are a missing file, a directory, binary data, text that is not UTF-8
    (a UTF-8 byte-order mark is accepted) and an empty file.
    """
    path = Path(path)
    if not path.exists():
        raise ScriptError(f"{path} does not exist; check the path to the .fountain file.")
    if path.is_dir():
        raise ScriptError(
            f"{path} is a directory, not a screenplay; pass the .fountain file inside it."
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScriptError(f"cannot read {path}: {exc.strerror}; check its permissions.") from exc
    text = _decode(data, path)
    try:
        return read_fountain(text, language)
    except ScriptError as exc:
        raise ScriptError(f"{path}: {exc}") from None


def _decode(data: bytes, path: Path) -> str:
    """Return the file's text, or raise ScriptError saying why it is not UTF-8 text."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ScriptError(
            f"{path} is saved as UTF-16; re-save it as UTF-8 (plain text) and try again."
        )
    bom = b"\xef\xbb\xbf"
    body = data.removeprefix(bom)
    sample = body[:8192]
    control = sum(1 for b in sample if b < 32 and b not in b"\t\n\r\f\v") + sample.count(0x7F)
    if b"\x00" in body or (sample and control / len(sample) > 0.05):
        raise ScriptError(
            f"{path} is binary data, not a Fountain screenplay; export the script as a "
            "plain-text .fountain file (UTF-8)."
        )
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = exc.start + (len(data) - len(body))
        line = data.count(b"\n", 0, offset) + 1
        raise ScriptError(
            f"{path} is not valid UTF-8: byte 0x{data[offset]:02X} at offset {offset} "
            f"(line {line}) cannot be decoded, so the file is probably in another encoding "
            "(Latin-1, Windows-1252, GBK, Shift-JIS...). Re-save it as UTF-8 in your editor "
            "and try again."
        ) from None


def read_fountain(text: str, language: str = "en") -> Script:
    """Map Fountain text onto a Script, reporting everything left out in `Script.skipped`.

    The text is first normalised (`fountain_prep`). A standard heading glued to the text
    under it gets a blank line, kept only if the parser then reads the line as a heading and
    reported with kind "repair". Elements before the first heading become a scene
    "UNTITLED" only if they hold dialogue; otherwise they are skipped. Speakers, voices and
    who is present are then resolved by `fountain_cast.cast_scenes`.
    """
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ScriptError(
            "the screenplay is empty; write at least one scene heading such as "
            "'INT. TEA HOUSE - NIGHT' followed by action and dialogue."
        )
    lines = lang.english_title_page(text.split("\n"))
    doc, prepared = parse_with_repairs(lines)
    orig = prepared.original
    skipped = [
        SkippedElement(
            line=line,
            kind="repair",
            text=f"{lines[line - 1].strip()} (blank line inserted after this scene heading)",
        )
        for line in prepared.repairs
    ]
    title, logline, title_skipped = _title_page(doc.metadata, lines)
    skipped += title_skipped
    builder = _Builder(prepared)
    builder.walk(doc.elements)
    scenes = builder.scenes()
    skipped += builder.skipped
    skipped += _hidden_notes(prepared.text, orig, builder)
    skipped += [
        SkippedElement(
            line=orig(issue.line_number),
            kind="warning",
            text=f"{issue.severity}: {issue.message} [{issue.code}]",
        )
        for issue in doc.issues
    ]
    if not scenes:
        hint = lang.HINTS[lang.script_language(text, language)]
        raise ScriptError(
            f"no scene heading and no dialogue found, so there is nothing to stage; {hint}"
        )
    scenes, cast = cast_scenes(scenes)
    skipped.sort(key=lambda s: s.line)
    return Script(
        title=title,
        logline=logline,
        language=language,
        characters=cast.characters,
        voices=cast.voices,
        scenes=scenes,
        source="fountain",
        skipped=skipped,
    )


def parse_with_repairs(lines: list[str]) -> tuple[FountainDocument, Prepared]:
    """Parse the normalised text, keeping only the heading repairs the parser confirms."""
    keep_glued: set[int] = set()
    while True:
        prepared = prepare(lines, keep_glued)
        doc = FountainParser().parse(prepared.text)
        headings = {
            prepared.original(e.line_number)
            for e in doc.elements
            if e.type is ElementType.SCENE_HEADING
        }
        unconfirmed = [n for n in prepared.repairs if n not in headings]
        if not unconfirmed:
            return doc, prepared
        # A heading inside a boneyard or note stays text; parse again without a blank there.
        keep_glued.update(unconfirmed)


def _plain(value: str) -> str:
    """Return title-page text without emphasis markup, lines joined by spaces."""
    parts = []
    for raw in value.splitlines():
        line = raw.strip()
        if not line:
            continue
        # Let the parser strip emphasis: "!" forces the line to be read as plain action.
        doc = FountainParser().parse("!" + line)
        texts = [e.text.strip() for e in doc.elements if e.type is ElementType.ACTION]
        parts.append(" ".join(t for t in texts if t) or line)
    return " ".join(parts)


def _title_page(
    metadata: dict[str, str], lines: list[str]
) -> tuple[str, str, list[SkippedElement]]:
    key_lines: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            break
        if line[:1].isspace() or ":" not in line:
            continue
        key_lines.setdefault(line.split(":", 1)[0].strip().lower(), number)
    title = _plain(metadata.get("title", "")) or "Untitled"
    logline_key = next((k for k in ("logline", "synopsis") if metadata.get(k, "").strip()), None)
    logline = _plain(metadata[logline_key]) if logline_key else ""
    skipped = []
    for key, value in metadata.items():
        if key in ("title", logline_key):
            continue
        shown = " / ".join(v.strip() for v in value.splitlines() if v.strip())
        skipped.append(
            SkippedElement(
                line=key_lines.get(key.lower(), 1),
                kind="title_page",
                text=f"{key.title()}: {shown}".rstrip(),
            )
        )
    return title, logline, skipped


def _hidden_notes(text: str, orig: _LineFn, builder: _Builder) -> list[SkippedElement]:
    """Report notes and boneyards the parser removed without emitting an element."""
    found: list[SkippedElement] = []
    spans = []
    for match in _BONEYARD.finditer(text):
        spans.append((match.start(), match.end()))
        line = orig(text.count("\n", 0, match.start()) + 1)
        if ("boneyard", line) not in builder.reported:
            found.append(SkippedElement(line=line, kind="boneyard", text=match.group(0)))
    for match in _NOTE.finditer(text):
        if any(a <= match.start() < b for a, b in spans):
            continue
        line = orig(text.count("\n", 0, match.start()) + 1)
        if ("note", line) not in builder.reported:
            found.append(SkippedElement(line=line, kind="note", text=match.group(0)))
    return found


def emotion_from_parenthetical(text: str) -> Emotion:
    """Return the emotion a parenthetical's words suggest, neutral when none matches."""
    best: tuple[int, Emotion] | None = None
    for emotion, pattern in _EMOTION_PATTERNS.items():
        match = pattern.search(text)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), emotion)
    return best[1] if best else Emotion.neutral


def _parse_heading(heading: str, forced: bool, previous: TimeOfDay) -> tuple[str, bool, TimeOfDay]:
    """Return location, interior and time of day for a scene heading."""
    rest = heading.strip()
    interior = True
    prefix = lang.heading_prefix(rest)
    if prefix:
        _, match, says, _ = prefix
        # INT./EXT. and I/E headings are usually a vehicle or a doorway: staged inside.
        interior = True if says is None else says
        rest = rest[match.end() :].lstrip(" .。．:：,，、\u3000")
    elif forced or not rest:
        interior = False
    time = previous
    location, suffix = _split_time(rest)
    if suffix is not None:
        rest = location
        time = _time_word(suffix)[1] or previous
    location = rest.strip() or heading.strip()
    return string.capwords(location.lower()), interior, time


def _split_time(rest: str) -> tuple[str, str | None]:
    """Return a heading's place and its time-of-day suffix (None when it names no time)."""
    bracket = _TIME_IN_BRACKETS.search(rest)
    if bracket and _time_word(bracket.group(1))[0]:
        return rest[: bracket.start()], bracket.group(1)
    separators = list(_TIME_SEPARATOR.finditer(rest))
    if separators and _time_word(rest[separators[-1].end() :])[0]:
        return rest[: separators[-1].start()], rest[separators[-1].end() :]
    word = _LAST_WORD.search(rest)
    # Only a non-Latin word: "INT. LASER TAG" is a place, not German for day.
    if word and not word.group(1).isascii() and _time_word(word.group(1))[0]:
        return rest[: word.start()], word.group(1)
    return rest, None


def _continues(heading: str) -> bool:
    """Return whether a heading says the scene carries straight on ("- CONTINUOUS")."""
    _, suffix = _split_time(heading.strip())
    if suffix is None:
        return False
    phrase = " ".join(re.sub(r"[^\w' ]", " ", suffix).upper().split())
    return phrase in _CONTINUOUS_WORDS or suffix.strip() in lang.CONTINUOUS_WORDS


def _time_word(suffix: str) -> tuple[bool, TimeOfDay | None]:
    """Return whether a heading suffix is a time, and the light it names (None: inherit)."""
    named = lang.time_word(suffix)
    if named is not None:
        return True, named
    if suffix.strip() in lang.CONTINUOUS_WORDS:
        return True, None
    words = re.sub(r"[^\w' ]", " ", suffix).upper().split()
    phrase = " ".join(words)
    if phrase in _INHERIT_WORDS:
        return True, None
    for names, time in (
        (_DAY_WORDS, TimeOfDay.day),
        (_DUSK_WORDS, TimeOfDay.dusk),
        (_NIGHT_WORDS, TimeOfDay.night),
    ):
        # "NIGHT", "THAT NIGHT", "NEXT MORNING", "DAY 2"; not "DAY ROOM".
        numbered = bool(words) and words[0] in names and all(w.isdigit() for w in words[1:])
        if phrase in names or (words and words[-1] in names) or numbered:
            return True, time
    return False, None


@dataclass
class _SceneDraft:
    heading: str
    line: int
    forced: bool
    beats: list[Beat] = field(default_factory=list)
    beat_lines: list[int] = field(default_factory=list)

    def add(self, beat: Beat, line: int) -> None:
        self.beats.append(beat)
        self.beat_lines.append(line)


class _Builder:
    """Walk fountain-py elements in order, building scenes and the skipped list."""

    def __init__(self, prepared: Prepared) -> None:
        self.prepared = prepared
        self.orig = prepared.original
        self.prelude = _SceneDraft(UNTITLED, 1, True)
        self.drafts: list[_SceneDraft] = []
        self.skipped: list[SkippedElement] = []
        self.reported: set[tuple[str, int]] = set()
        self.cue: str | None = None
        self.cue_off_screen = False
        self.cue_line = 0
        self.cue_spoke = False
        self.pending: tuple[str, int] | None = None
        self.dual_next = False

    @property
    def current(self) -> _SceneDraft:
        return self.drafts[-1] if self.drafts else self.prelude

    def skip(self, line: int, kind: str, text: str) -> None:
        line = self.orig(line)
        self.reported.add((kind, line))
        self.skipped.append(SkippedElement(line=line, kind=kind, text=text))

    def end_cue(self) -> None:
        if self.pending is not None:
            self.skip(self.pending[1], "parenthetical", f"({self.pending[0]})")
            self.pending = None
        if self.cue is not None and not self.cue_spoke:
            self.skip(self.cue_line, "character", self.cue)
        self.cue = None

    def walk(self, elements: list[FountainElement]) -> None:
        for element in elements:
            self.element(element)
        self.end_cue()

    def element(self, element: FountainElement) -> None:
        kind = element.type
        handlers: dict[ElementType, Callable[[FountainElement], None]] = {
            ElementType.SCENE_HEADING: self.heading,
            ElementType.ACTION: self.action,
            ElementType.CHARACTER: self.character,
            ElementType.PARENTHETICAL: self.parenthetical,
            ElementType.DIALOGUE: self.dialogue,
            ElementType.DUAL_DIALOGUE: self.dual_dialogue,
        }
        if kind in handlers:
            handlers[kind](element)
        elif kind in (ElementType.NOTE, ElementType.BONEYARD):
            # Notes sit inside dialogue blocks too; they must not end the cue.
            self.skip(element.line_number, _SKIPPED_TYPES[kind], element.text)
        else:
            if kind is not ElementType.LYRICS:
                self.end_cue()
            self.skip(element.line_number, _SKIPPED_TYPES.get(kind, kind.value), element.text)

    def heading(self, element: FountainElement) -> None:
        self.end_cue()
        text = element.text.strip()
        if element.line_number in self.prepared.marked:
            text = text.removeprefix(MARK).strip()
        forced = bool(element.metadata.get("forced"))
        self.drafts.append(_SceneDraft(text, element.line_number, forced))

    def action(self, element: FountainElement) -> None:
        self.end_cue()
        text = element.text.strip()
        if text:
            self.current.add(Beat(kind="action", text=text), self.orig(element.line_number))

    def character(self, element: FountainElement) -> None:
        self.end_cue()
        # Read the cue from the line itself: fountain-py keeps only ASCII extensions.
        number = element.line_number
        written = self.prepared.lines[number - 1] if number >= 1 else element.text
        cue = parse_cue(written if written.strip() else element.text)
        self.cue = cue.name or UNKNOWN_SPEAKER
        self.cue_off_screen = cue.off_screen
        self.cue_line = number
        self.cue_spoke = False

    def dual_dialogue(self, element: FountainElement) -> None:
        self.end_cue()
        try:
            left, right = element.dual_dialogue_columns()
        except ValueError as exc:
            self.skip(element.line_number, "warning", str(exc))
            return
        for column_element in left:
            self.element(column_element)
        self.end_cue()
        self.dual_next = True
        for column_element in right:
            self.element(column_element)
        self.dual_next = False
        self.end_cue()

    def parenthetical(self, element: FountainElement) -> None:
        text = element.text.strip()
        text = " ".join(text.removeprefix("(").removesuffix(")").split())
        if self.cue is None:
            self.skip(element.line_number, "parenthetical", element.text)
        elif self.pending is not None:
            self.pending = (f"{self.pending[0]}; {text}", self.pending[1])
        else:
            self.pending = (text, element.line_number)

    def dialogue(self, element: FountainElement) -> None:
        if not element.text.strip():
            return  # a line of spaces that only holds a dialogue block together
        if self.cue is None:
            # Every DIALOGUE element becomes a beat; a cue-less one is attributed and flagged.
            self.skip(
                element.line_number, "warning", f"line without a character cue: {element.text}"
            )
            self.cue, self.cue_line = UNKNOWN_SPEAKER, element.line_number
        delivery = self.pending[0] if self.pending else None
        self.pending = None
        beat = Beat(
            kind="dialogue",
            text=element.text.strip(),
            character=self.cue,
            parenthetical=delivery or None,
            emotion=emotion_from_parenthetical(delivery) if delivery else Emotion.neutral,
            dual=self.dual_next,
            off_screen=self.cue_off_screen,
        )
        self.current.add(beat, self.orig(element.line_number))
        # Only the first line of the right-hand column is simultaneous with the left one.
        self.dual_next = False
        self.cue_spoke = True

    def scenes(self) -> list[Scene]:
        drafts = list(self.drafts)
        if any(b.kind == "dialogue" for b in self.prelude.beats):
            drafts.insert(0, self.prelude)
        else:
            for beat, line in zip(self.prelude.beats, self.prelude.beat_lines, strict=True):
                self.skipped.append(SkippedElement(line=line, kind="action", text=beat.text))
        scenes = []
        time = TimeOfDay.day
        for number, draft in enumerate(drafts, start=1):
            location, interior, time = _parse_heading(draft.heading, draft.forced, time)
            scenes.append(
                Scene(
                    number=number,
                    heading=draft.heading,
                    location=location,
                    interior=interior,
                    time_of_day=time,
                    beats=draft.beats,
                    continuous=number > 1 and _continues(draft.heading),
                )
            )
        return scenes
