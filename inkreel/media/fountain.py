"""Fountain screenplays in and out: fountain-py's elements mapped onto a Script, and back.

Parsing is left to fountain-py; this module only maps its elements. The one exception is a
narrow repair of scene headings that lack the blank line after them (see `read_fountain`).
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
    FountainRenderer,
    MetadataValue,
)

from inkreel.schemas.script import Beat, Emotion, Scene, Script, SkippedElement, TimeOfDay

__all__ = [
    "SKIP_REASONS",
    "ScriptError",
    "emotion_from_parenthetical",
    "load_fountain",
    "normalise_name",
    "read_fountain",
    "write_fountain",
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

# Case-sensitive on purpose: the repair is only for headings written the standard way, so a
# prose paragraph that starts "Est. 1920, ..." is never turned into a heading.
_STANDARD_HEADING = re.compile(r"^(?:INT\./EXT|INT/EXT|I/E|INT|EXT|EST)(?:\.|\s)")
# fountain-py lifts inline notes and boneyards out of the text without emitting an element;
# these find them again so they are reported rather than silently dropped.
_NOTE = FountainParser.NOTE_PATTERN
_BONEYARD = re.compile(r"/\*.*?\*/", re.DOTALL)
# Longest prefixes first, unlike the parser's own pattern, so "INT./EXT." is one prefix.
_HEADING_PREFIX = re.compile(r"^(?:INT\.?/EXT|I/E|INT|EXT|EST)(?:\s*\.|\s)", re.IGNORECASE)
_EXTENSION = re.compile(r"\s*\([^()]*\)\s*$")
_SUFFIX_SPLIT = re.compile(r"\s+[-–—]+\s+")

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
_CJK_TIME = {
    **dict.fromkeys(
        ["日", "白天", "早上", "早晨", "清晨", "上午", "中午", "下午", "昼", "朝", "午前", "午後"],
        TimeOfDay.day,
    ),
    **dict.fromkeys(["黄昏", "傍晚", "日落", "黎明", "夕方", "夕暮れ", "夜明け"], TimeOfDay.dusk),
    **dict.fromkeys(
        ["夜", "夜晚", "晚上", "深夜", "午夜", "夜间", "夜間", "夜中"], TimeOfDay.night
    ),
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

    Before parsing, a blank line is inserted after a standard scene heading (upper-case
    INT./EXT./EST./INT./EXT./I/E, preceded by a blank line or the start of the text) that is
    followed directly by text; each such repair is kept only if the parser then reads the
    line as a heading, and is reported with kind "repair". Elements before the first heading
    become a scene "UNTITLED" only if they hold dialogue; otherwise they are skipped.
    """
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ScriptError(
            "the screenplay is empty; write at least one scene heading such as "
            "'INT. TEA HOUSE - NIGHT' followed by action and dialogue."
        )
    lines = text.split("\n")
    doc, line_map, repaired, parsed_text = _parse_with_repairs(lines)

    def orig(n: int) -> int:
        return line_map[n - 1] if 1 <= n <= len(line_map) else n

    skipped = [
        SkippedElement(
            line=line,
            kind="repair",
            text=f"{lines[line - 1].strip()} (blank line inserted after this scene heading)",
        )
        for line in repaired
    ]
    title, logline, title_skipped = _title_page(doc.metadata, lines)
    skipped += title_skipped
    builder = _Builder(orig)
    builder.walk(doc.elements)
    scenes = builder.scenes()
    skipped += builder.skipped
    skipped += _hidden_notes(parsed_text, orig, builder)
    skipped += [
        SkippedElement(
            line=orig(issue.line_number),
            kind="warning",
            text=f"{issue.severity}: {issue.message} [{issue.code}]",
        )
        for issue in doc.issues
    ]

    if not scenes:
        raise ScriptError(
            "no scene heading and no dialogue found, so there is nothing to stage; start each "
            "scene with a heading like 'INT. TEA HOUSE - NIGHT' on its own line with a blank "
            "line before and after it."
        )
    speakers: dict[str, None] = {}
    for scene in scenes:
        for beat in scene.beats:
            if beat.kind == "dialogue" and beat.character:
                speakers.setdefault(beat.character, None)
    for scene in scenes:
        scene.characters = _present(scene, list(speakers))
    skipped.sort(key=lambda s: s.line)
    return Script(
        title=title,
        logline=logline,
        language=language,
        characters=list(speakers),
        scenes=scenes,
        source="fountain",
        skipped=skipped,
    )


def _repair_candidates(lines: list[str]) -> list[int]:
    """Return 0-based indexes of standard headings glued to the line after them."""
    found = []
    for i, raw in enumerate(lines):
        line = raw.strip()
        if not _STANDARD_HEADING.match(line) or line != line.upper():
            continue
        blank_before = i == 0 or not lines[i - 1].strip()
        text_after = i + 1 < len(lines) and bool(lines[i + 1].strip())
        if blank_before and text_after:
            found.append(i)
    return found


def _insert_blank_lines(lines: list[str], after: list[int]) -> tuple[str, list[int]]:
    """Return the text with a blank line after each given 1-based line, and the line map."""
    out: list[str] = []
    line_map: list[int] = []
    for number, line in enumerate(lines, start=1):
        out.append(line)
        line_map.append(number)
        if number in after:
            out.append("")
            line_map.append(number)
    return "\n".join(out), line_map


def _parse_with_repairs(lines: list[str]) -> tuple[FountainDocument, list[int], list[int], str]:
    """Parse with the heading repairs the parser confirms; return doc, map, repairs, text."""
    candidates = [i + 1 for i in _repair_candidates(lines)]
    while True:
        text, line_map = _insert_blank_lines(lines, candidates)
        doc = FountainParser().parse(text)
        headings = {
            line_map[e.line_number - 1] for e in doc.elements if e.type is ElementType.SCENE_HEADING
        }
        confirmed = [n for n in candidates if n in headings]
        if confirmed == candidates:
            return doc, line_map, candidates, text
        # A candidate inside a boneyard or note stays text; parse again without inserting there.
        candidates = confirmed


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


def normalise_name(element: FountainElement) -> str:
    """Return a cue's speaker name without extensions, carets or forcing marks."""
    name = element.text.strip().removeprefix("@").strip()
    while True:
        stripped = _EXTENSION.sub("", name.rstrip("^ \t"))
        if stripped == name:
            break
        name = stripped
    name = " ".join(name.split())
    if not name:
        return UNKNOWN_SPEAKER
    return name if element.metadata.get("forced") else name.upper()


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
    prefix = _HEADING_PREFIX.match(rest)
    if prefix:
        kind = prefix.group(0).upper()
        # INT./EXT. and I/E headings are usually a vehicle or a doorway: staged inside.
        interior = kind.startswith(("INT", "I/E"))
        rest = rest[prefix.end() :].lstrip(" .")
    elif forced or not rest:
        interior = False
    time = previous
    parts = _SUFFIX_SPLIT.split(rest)
    if len(parts) > 1:
        is_time, named = _time_word(parts[-1])
        if is_time:
            rest = " - ".join(parts[:-1])
            time = named or previous
    location = rest.strip() or heading.strip()
    return string.capwords(location.lower()), interior, time


def _continues(heading: str) -> bool:
    """Return whether a heading says the scene carries straight on ("- CONTINUOUS")."""
    parts = _SUFFIX_SPLIT.split(heading.strip())
    phrase = " ".join(re.sub(r"[^\w' ]", " ", parts[-1]).upper().split())
    return len(parts) > 1 and phrase in _CONTINUOUS_WORDS


def _time_word(suffix: str) -> tuple[bool, TimeOfDay | None]:
    """Return whether a heading suffix is a time, and the light it names (None: inherit)."""
    if suffix.strip() in _CJK_TIME:
        return True, _CJK_TIME[suffix.strip()]
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


def _present(scene: Scene, known: list[str]) -> list[str]:
    """Return speakers and known speakers named in CAPS in the action, in order."""
    seen: dict[str, None] = {}
    # Only names with no lower-case letters are looked for, so a forced "@character" does
    # not match every "character" in the prose.
    patterns = [
        (name, re.compile(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])"))
        for name in known
        if not any(c.islower() for c in name)
    ]
    for beat in scene.beats:
        if beat.kind == "dialogue" and beat.character:
            seen.setdefault(beat.character, None)
            continue
        hits = sorted(
            (match.start(), name)
            for name, pattern in patterns
            if (match := pattern.search(beat.text))
        )
        for _, name in hits:
            seen.setdefault(name, None)
    return list(seen)


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

    def __init__(self, orig: _LineFn) -> None:
        self.orig = orig
        self.prelude = _SceneDraft(UNTITLED, 1, True)
        self.drafts: list[_SceneDraft] = []
        self.skipped: list[SkippedElement] = []
        self.reported: set[tuple[str, int]] = set()
        self.cue: str | None = None
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
        if kind is ElementType.SCENE_HEADING:
            self.end_cue()
            self.drafts.append(
                _SceneDraft(
                    element.text.strip(), element.line_number, bool(element.metadata.get("forced"))
                )
            )
        elif kind is ElementType.ACTION:
            self.end_cue()
            text = element.text.strip()
            if text:
                self.current.add(Beat(kind="action", text=text), self.orig(element.line_number))
        elif kind is ElementType.CHARACTER:
            self.end_cue()
            self.cue = normalise_name(element)
            self.cue_line = element.line_number
            self.cue_spoke = False
        elif kind is ElementType.PARENTHETICAL:
            self.parenthetical(element)
        elif kind is ElementType.DIALOGUE:
            self.dialogue(element)
        elif kind is ElementType.DUAL_DIALOGUE:
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
        elif kind in (ElementType.NOTE, ElementType.BONEYARD):
            # Notes sit inside dialogue blocks too; they must not end the cue.
            self.skip(element.line_number, _SKIPPED_TYPES[kind], element.text)
        else:
            if kind is not ElementType.LYRICS:
                self.end_cue()
            self.skip(element.line_number, _SKIPPED_TYPES.get(kind, kind.value), element.text)

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


# ---------------------------------------------------------------------------------------
# Writing


def write_fountain(script: Script) -> str:
    """Return the script as Fountain text, rendered by fountain-py's FountainRenderer.

    Reading the result back gives the same scene headings, speakers and dialogue texts in
    the same order. A line break inside a dialogue beat becomes a space (each Fountain
    dialogue line is a beat of its own); an emotion without a parenthetical is written as
    one, e.g. "(angry)"; a dual beat with no dialogue beat right before it is written as
    an ordinary cue.
    """
    metadata = {"title": " ".join(script.title.split()) or "Untitled"}
    if script.logline.strip():
        metadata["logline"] = " ".join(script.logline.split())
    elements: list[FountainElement] = []
    for scene in script.scenes:
        elements.append(_heading_element(scene))
        elements += _scene_body(scene.beats)
    return FountainRenderer().render(FountainDocument(elements, metadata)).rstrip() + "\n"


def _element(kind: ElementType, text: str, **metadata: bool) -> FountainElement:
    return FountainElement(kind, text, [], 0, dict(metadata))


def _reads_back(element: FountainElement) -> bool:
    """Return whether the element, rendered alone, parses back as itself."""
    rendered = FountainRenderer().render(FountainDocument([element]))
    parsed = FountainParser().parse(rendered).elements
    return (
        len(parsed) == 1
        and parsed[0].type is element.type
        and parsed[0].text.strip() == element.text.strip()
    )


def _heading_element(scene: Scene) -> FountainElement:
    heading = " ".join(scene.heading.split()) or UNTITLED
    for candidate in (
        _element(ElementType.SCENE_HEADING, heading),
        _element(ElementType.SCENE_HEADING, heading, forced=True),
    ):
        if _reads_back(candidate):
            return candidate
    # A forced heading must start with a Latin letter or digit, so a heading like "茶馆"
    # needs a standard prefix to stay a heading at all.
    prefix = "INT." if scene.interior else "EXT."
    return _element(ElementType.SCENE_HEADING, f"{prefix} {heading}")


def _action_element(text: str) -> FountainElement:
    # A blank line inside would split the paragraph, and an action line that looks like a
    # heading, cue or transition needs "!" to stay action.
    text = re.sub(r"\n\s*\n+", "\n", text.strip())
    plain = _element(ElementType.ACTION, text)
    return plain if _reads_back(plain) else _element(ElementType.ACTION, text, forced=True)


def _cue_element(name: str, dual: bool = False) -> FountainElement:
    metadata = {"dual_dialogue": True} if dual else {}
    # Only an upper-case Latin cue is recognised as is; anything else (CJK, mixed case)
    # must be forced with "@" to re-parse as a character.
    if not FountainParser.CHARACTER_PATTERN.match(name):
        metadata["forced"] = True
    return _element(ElementType.CHARACTER, name, **metadata)


def _speaker(beat: Beat) -> str:
    return " ".join((beat.character or "").split()) or UNKNOWN_SPEAKER


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


def _scene_body(beats: list[Beat]) -> list[FountainElement]:
    out: list[FountainElement] = []
    i = 0
    while i < len(beats):
        if beats[i].kind == "action":
            out.append(_action_element(beats[i].text))
            i += 1
            continue
        left_end = _run_end(beats, i)
        if left_end < len(beats) and beats[left_end].kind == "dialogue" and beats[left_end].dual:
            right_end = _run_end(beats, left_end)
            left, right = beats[i:left_end], beats[left_end:right_end]
            out.append(
                _element_with(
                    ElementType.DUAL_DIALOGUE,
                    {
                        "left_character": _cue_element(_speaker(left[0])),
                        "left_dialogue": _lines(left),
                        "right_character": _cue_element(_speaker(right[0]), dual=True),
                        "right_dialogue": _lines(right),
                    },
                )
            )
            i = right_end
        else:
            out.append(_cue_element(_speaker(beats[i])))
            out += _lines(beats[i:left_end])
            i = left_end
    return out


def _run_end(beats: list[Beat], start: int) -> int:
    """Return the end of the run of one speaker's non-dual lines that starts at `start`."""
    end = start + 1
    while (
        end < len(beats)
        and beats[end].kind == "dialogue"
        and not beats[end].dual
        and _speaker(beats[end]) == _speaker(beats[start])
    ):
        end += 1
    return end


def _element_with(kind: ElementType, metadata: dict[str, MetadataValue]) -> FountainElement:
    return FountainElement(kind, "", [], 0, metadata)
