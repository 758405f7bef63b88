"""Fountain import against the spec: every line of dialogue is spoken or skipped with a reason.

`spec_dialogue` reads a file the way https://fountain.io/syntax defines dialogue, written
here independently of the importer: a Character is a line entirely in upper case (any
script) and not marked as another element (">", "!", "#"...), or forced with "@", with a
blank line before it and text right after it; every following line up to a blank line that
is not a parenthetical is Dialogue, whatever its case. For Chinese and Japanese it adds the
rules those scripts need: a short CJK name on its own line is a cue, and "名字：台词" /
"名前「台詞」" is a cue and its line on one line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from inkreel.media.fountain import SKIP_REASONS, load_fountain, read_fountain
from inkreel.media.fountain_write import write_fountain
from inkreel.schemas.script import Script

DATA = Path(__file__).parent / "data" / "fountain"
# The Fountain format's "Brick & Steel" sample, messy on purpose (see data/fountain/README.md).
SAMPLE = Path(__file__).parent / "data" / "fountain" / "brick-and-steel.fountain"
FIXTURES = sorted(p for p in DATA.glob("*.fountain") if p.name != "chinese_prose.fountain")

_HEADING = re.compile(
    r"^(?:INT|EXT|EST|I/E|ИНТ|НАТ)[./\s]|^\.[A-Za-z0-9]|^(?:内景|外景|内外景|室内|屋内|室外|屋外)|^○",
    re.IGNORECASE,
)
_CJK_NAME = r"[\u3040-\u30ff\u4e00-\u9fff]{1,8}"
_ONE_LINE = re.compile(rf"^{_CJK_NAME}(?:（[^）]*）)?(?:[：:](?P<said>.+)|「(?P<quoted>.+?)」?)$")
_EXTENSION = re.compile(r"\s*[(（][^)）]*[)）]\s*$")
_TITLE_KEY = re.compile(r"^\w[\w ]*:")


def _is_cue(line: str) -> bool:
    if line.startswith("@"):
        return True
    if line.startswith(("!", ".", ">", "#", "=", "~", "[[", "/*")):
        return False  # marked as another element: action, heading, transition, centred...
    name = line.rstrip("^ ")
    while _EXTENSION.search(name):
        name = _EXTENSION.sub("", name)
    if re.fullmatch(_CJK_NAME, name):
        return True
    return name == name.upper() and any(c.isupper() for c in name)


def _body_start(lines: list[str]) -> int:
    if not lines or not _TITLE_KEY.match(lines[0]):
        return 0
    return next((i for i, line in enumerate(lines) if not line.strip()), len(lines))


def spec_dialogue(text: str) -> list[tuple[int, str]]:
    """Return (line number, words) of every line of dialogue in a screenplay."""
    lines = text.split("\n")
    found: list[tuple[int, str]] = []
    in_block, blank_before = False, True
    for index in range(_body_start(lines), len(lines)):
        line = lines[index].strip()
        one_line = _ONE_LINE.match(line)
        if not line or _HEADING.match(line):
            in_block, blank_before = False, True
        elif one_line:
            found.append((index + 1, (one_line["said"] or one_line["quoted"]).strip()))
            in_block, blank_before = False, True
        elif in_block:
            if not (line[0] in "(（" and line[-1] in ")）"):
                found.append((index + 1, line.removeprefix("~")))
        else:
            following = lines[index + 1].strip() if index + 1 < len(lines) else ""
            in_block = blank_before and bool(following) and _is_cue(line)
            blank_before = False
    return found


def _plain(text: str) -> str:
    return re.sub(r"[*_]", "", text).strip()


def assert_every_line_spoken_or_skipped(text: str, script: Script) -> int:
    assert all(s.kind in SKIP_REASONS for s in script.skipped), script.skipped
    skipped = {s.line for s in script.skipped}
    spoken = [_plain(b.text) for _, b in script.dialogue()]
    expected = spec_dialogue(text)
    said = 0
    for line, words in expected:
        if said < len(spoken) and spoken[said] == _plain(words):
            said += 1
        else:
            assert line in skipped, f"line {line} ({words!r}) is neither spoken nor skipped"
    assert said == len(spoken), f"spoken but not dialogue: {spoken[said:]}"
    return len(expected)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_every_dialogue_line_is_spoken_or_skipped(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert assert_every_line_spoken_or_skipped(text, load_fountain(path)) >= 4


def test_every_dialogue_line_of_the_sample_is_spoken_or_skipped() -> None:
    text = SAMPLE.read_text(encoding="utf-8")
    assert assert_every_line_spoken_or_skipped(text, load_fountain(SAMPLE)) == 28


def test_the_counter_sees_what_the_old_reading_lost() -> None:
    # The lines fountain-py alone dropped: capitals right after a cue, non-ASCII cues.
    text = "INT. ROOM - DAY\n\nMIKE (CONT'D)\nOK...OK...\nI'm here.\n\nJOSÉ\nHola.\n"
    assert spec_dialogue(text) == [(4, "OK...OK..."), (5, "I'm here."), (8, "Hola.")]


def test_capitals_right_after_a_cue_are_dialogue() -> None:
    script = load_fountain(DATA / "caps_after_cue.fountain")
    said = [(b.character, b.text, b.parenthetical) for _, b in script.dialogue()]
    assert said == [
        ("MIKE", "OK...OK...", None),
        ("MIKE", "I'm coming.", None),
        ("ANNA", "Hurry up.", None),
        ("MIKE", "NO. WAIT.", None),
        ("MIKE", "THERE'S SOMETHING INSIDE.", "quietly"),
        ("MIKE", "OK...OK...", None),
        ("ANNA", "Mike?", None),
    ]
    assert script.characters == ["MIKE", "ANNA"]
    assert ("lyrics", 25) in {(s.kind, s.line) for s in script.skipped}
    # CONT'D is not off screen.
    assert not any(b.off_screen for _, b in script.dialogue())


def test_cues_with_accents_and_cyrillic_letters_keep_their_lines() -> None:
    script = load_fountain(DATA / "accents.fountain")
    said = [(b.character, b.text) for _, b in script.dialogue()]
    assert said == [
        ("JOSÉ", "¿Otra vez tú?"),
        ("ZOË", "ENCORE MOI."),
        ("ZOË", "Un café, s'il te plaît."),
        ("МАША", "Мне тоже."),
        ("JOSÉ", "Para todas."),
    ]
    assert script.scenes[0].location == "Café Du Port"


def test_a_cue_glued_to_a_heading_or_after_a_blank_line_only() -> None:
    script = read_fountain(
        "INT. ROOM - DAY\n\nTHE DOOR BANGS.\nSmoke.\n\nShe turns.\nBOB\nHi.\n\nFADE IN:\nA hall.\n"
    )
    # "THE DOOR BANGS." is a cue by the spec; BOB has no blank line before it.
    assert [(b.character, b.text) for _, b in script.dialogue()] == [("THE DOOR BANGS", "Smoke.")]
    assert script.scenes[0].beats[-1].text == "FADE IN:\nA hall."


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixtures_round_trip(path: Path) -> None:
    script = load_fountain(path)
    again = read_fountain(write_fountain(script))

    def shape(s: Script) -> list[object]:
        return [
            (
                sc.heading,
                sc.location,
                sc.interior,
                sc.time_of_day,
                sc.characters,
                [(b.kind, b.character, b.chorus, b.off_screen, b.text) for b in sc.beats],
            )
            for sc in s.scenes
        ]

    assert shape(again) == shape(script)
    assert (again.characters, again.voices) == (script.characters, script.voices)


def test_a_forced_cue_inside_dialogue_starts_a_new_speaker() -> None:
    script = read_fountain("INT. ROOM - DAY\n\nMIKE\nHi.\n@Anna\nHello.\n")
    assert [(b.character, b.text) for _, b in script.dialogue()] == [
        ("MIKE", "Hi."),
        ("Anna", "Hello."),
    ]


def test_a_line_that_looks_like_a_transition_is_written_under_a_forced_cue() -> None:
    script = read_fountain("INT. ROOM - DAY\n\n@MIKE\nCUT TO:\nNow.\n")
    assert [b.text for _, b in script.dialogue()] == ["CUT TO:", "Now."]
    text = write_fountain(script)
    assert "@MIKE\nCUT TO:" in text
    assert [b.text for _, b in read_fountain(text).dialogue()] == ["CUT TO:", "Now."]
