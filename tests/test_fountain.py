"""Fountain import and export: the messy sample, name forcing, round trips and bad files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from fountain import ElementType, FountainElement, FountainParser

from inkreel.media.fountain import (
    ScriptError,
    emotion_from_parenthetical,
    load_fountain,
    read_fountain,
)
from inkreel.media.fountain_write import write_fountain
from inkreel.schemas.script import Beat, Emotion, Scene, Script, TimeOfDay

# The Fountain format's "Brick & Steel" sample, messy on purpose (see data/fountain/README.md).
SAMPLE = Path(__file__).parent / "data" / "fountain" / "brick-and-steel.fountain"


@pytest.fixture(scope="module")
def sample() -> Script:
    return load_fountain(SAMPLE)


def _parser_dialogue(elements: list[FountainElement]) -> list[str]:
    texts: list[str] = []
    for element in elements:
        if element.type is ElementType.DIALOGUE:
            texts.append(element.text.strip())
        elif element.type is ElementType.DUAL_DIALOGUE:
            left, right = element.dual_dialogue_columns()
            texts += _parser_dialogue(left + right)
    return texts


def _shape(script: Script) -> list[tuple[str, list[str], list[tuple[str | None, str]]]]:
    return [
        (
            scene.heading,
            scene.characters,
            [(b.character, b.text) for b in scene.beats if b.kind == "dialogue"],
        )
        for scene in script.scenes
    ]


# --- the sample -------------------------------------------------------------------------


def test_every_dialogue_element_of_the_sample_is_exactly_one_beat(sample: Script) -> None:
    document = FountainParser().parse(SAMPLE.read_text(encoding="utf-8"))
    expected = _parser_dialogue(document.elements)
    assert len(expected) == 28
    assert [b.text for _, b in sample.dialogue()] == expected


def test_sample_scenes_and_speakers(sample: Script) -> None:
    assert sample.title == "BRICK & STEEL FULL RETIRED"
    assert sample.source == "fountain"
    assert [s.heading for s in sample.scenes] == [
        "EXT. BRICK'S PATIO - DAY",
        "INT. TRAILER HOME - DAY",
        "EXT. BRICK'S POOL - DAY",
        "SNIPER SCOPE POV",
        "OPENING TITLES",
        "EXT. WOODEN SHACK - DAY",
        "INT. GARAGE - DAY",
        "EXT. PALATIAL MANSION - DAY",
    ]
    assert [s.number for s in sample.scenes] == list(range(1, 9))
    assert sample.characters == [
        "BRICK",
        "STEEL",
        "JACK",
        "DAN",
        "MR. STEEL",
        "COGNITO",
        "STEGEME",
        "MINION",
        "HANDSOME MAN",
        "character",
        "I LIKE CHEESE",
    ]
    assert sample.characters == sample.speakers()


def test_sample_locations_and_light(sample: Script) -> None:
    patio, trailer, _, sniper, titles, *_ = sample.scenes
    assert (patio.location, patio.interior, patio.time_of_day) == (
        "Brick's Patio",
        False,
        TimeOfDay.day,
    )
    assert (trailer.location, trailer.interior) == ("Trailer Home", True)
    assert sample.scenes[2].location == "Brick's Pool"
    assert (sniper.location, sniper.interior, sniper.time_of_day) == (
        "Sniper Scope Pov",
        False,
        TimeOfDay.day,
    )
    assert titles.beats == []


def test_scene_characters_include_speakers_named_in_caps_in_the_action(sample: Script) -> None:
    by_heading = {s.heading: s.characters for s in sample.scenes}
    # Neither speaks in the repaired first scene before the action names them in CAPS.
    assert by_heading["EXT. BRICK'S PATIO - DAY"] == ["BRICK", "STEEL"]
    assert by_heading["INT. TRAILER HOME - DAY"] == ["DAN", "JACK"]
    assert by_heading["INT. GARAGE - DAY"] == ["BRICK", "STEEL", "STEGEME"]
    assert by_heading["EXT. PALATIAL MANSION - DAY"][0] == "HANDSOME MAN"
    assert by_heading["OPENING TITLES"] == []


def test_sample_parentheticals_become_delivery_and_emotion(sample: Script) -> None:
    lines = {(b.character, b.text): b for _, b in sample.dialogue()}
    toast = lines[("STEEL", "To retirement.")]
    assert (toast.parenthetical, toast.emotion) == ("beer raised", Emotion.neutral)
    hello = lines[("MR. STEEL", "Hello...")]
    assert (hello.parenthetical, hello.emotion) == ("oh crap", Emotion.afraid)
    assert lines[("JACK", "Did you know Brick and Steel are retired?")].parenthetical == (
        "in Vietnamese, subtitled"
    )
    call = [b for _, b in sample.dialogue() if b.character == "STEEL"][4:7]
    assert [b.parenthetical for b in call] == [None, "pause", "pause"]
    assert lines[("STEEL", "So much for retirement!")].parenthetical == "starting the engine"


def test_sample_dual_dialogue_and_multi_paragraph_cues(sample: Script) -> None:
    beats = sample.scenes[0].beats
    dual = [b for _, b in sample.dialogue() if b.dual]
    assert [(b.character, b.text) for b in dual] == [("BRICK", "Screw retirement.")]
    i = beats.index(dual[0])
    assert (beats[i - 1].character, beats[i - 1].dual) == ("STEEL", False)
    dan = [b.text for b in sample.scenes[1].beats if b.character == "DAN"]
    assert dan == ["Then let's retire them.", "Permanently."]
    cheese = [b.text for b in sample.scenes[-1].beats if b.character == "I LIKE CHEESE"]
    assert len(cheese) == 2


def test_sample_has_no_emphasis_markup(sample: Script) -> None:
    for scene in sample.scenes:
        for beat in scene.beats:
            assert "*" not in beat.text and "_" not in beat.text, beat.text
    assert "Steel's face FILLS the Leupold Mark 4 scope." in sample.scenes[3].beats[0].text


def test_sample_skipped_elements_are_reported_with_lines(sample: Script) -> None:
    kinds = Counter(s.kind for s in sample.skipped)
    assert kinds == {"transition": 8, "centered": 5, "title_page": 5, "note": 1, "repair": 1}
    at = {(s.kind, s.line) for s in sample.skipped}
    assert ("repair", 13) in at
    assert ("note", 15) in at
    assert {("centered", n) for n in (104, 105, 107, 108, 175)} <= at
    assert {("transition", n) for n in (55, 57, 74, 101, 110, 134, 155, 174)} <= at
    assert ("title_page", 5) in at
    repair = next(s for s in sample.skipped if s.kind == "repair")
    assert "EXT. BRICK'S PATIO - DAY" in repair.text
    assert [s.line for s in sample.skipped] == sorted(s.line for s in sample.skipped)


def test_heading_repair_puts_the_first_action_in_the_scene(sample: Script) -> None:
    first = sample.scenes[0].beats[0]
    assert first.kind == "action"
    assert first.text.startswith("A gorgeous day.")


# --- mapping details ---------------------------------------------------------------------


def test_forced_names_keep_case_and_script_and_extensions_are_stripped() -> None:
    script = read_fountain(
        "INT. 茶馆 - 夜\n\n@李雷\n你好。\n\n@McCLANE (V.O.)\nYippee.\n\n"
        "BOB (O.S.)\nHi.\n\nBOB (CONT'D)\nAgain.\n\nANN\nOne.\n\nBOB^\nTwo.\n",
        language="zh",
    )
    assert script.speakers() == ["李雷", "McCLANE", "BOB", "ANN"]
    scene = script.scenes[0]
    assert (scene.location, scene.interior, scene.time_of_day) == ("茶馆", True, TimeOfDay.night)
    assert script.language == "zh"
    assert [b.dual for b in scene.beats] == [False, False, False, False, False, True]


def test_cjk_name_in_action_counts_as_present() -> None:
    script = read_fountain(
        "INT. 茶馆 - 夜\n\n韩梅梅走进茶馆。\n\n@李雷\n你好。\n\n"
        "INT. 街 - 夜\n\n李雷和韩梅梅走在街上。\n"
    )
    assert script.scenes[1].characters == ["李雷"]


@pytest.mark.parametrize(
    ("heading", "location", "interior", "time"),
    [
        ("INT. HOUSE - NIGHT", "House", True, TimeOfDay.night),
        ("EXT. BEACH - SUNSET", "Beach", False, TimeOfDay.dusk),
        ("EXT. BEACH - EVENING", "Beach", False, TimeOfDay.dusk),
        ("INT. HOUSE - KITCHEN - MORNING", "House - Kitchen", True, TimeOfDay.day),
        ("INT. HOUSE - KITCHEN", "House - Kitchen", True, TimeOfDay.night),
        ("INT. HOUSE - CONTINUOUS", "House", True, TimeOfDay.night),
        ("EXT. ROOF - MIDNIGHT", "Roof", False, TimeOfDay.night),
        ("INT./EXT. CAR - DAY", "Car", True, TimeOfDay.day),
        ("EST. CITY - AFTERNOON", "City", False, TimeOfDay.day),
    ],
)
def test_heading_parts(heading: str, location: str, interior: bool, time: TimeOfDay) -> None:
    # A night scene first, so headings without a time show they inherit it.
    script = read_fountain(f"INT. CELLAR - NIGHT\n\nDark.\n\n{heading}\n\nSomething happens.\n")
    scene = script.scenes[1]
    assert (scene.location, scene.interior, scene.time_of_day) == (location, interior, time)


@pytest.mark.parametrize(
    ("note", "emotion"),
    [
        ("angrily", Emotion.angry),
        ("shouting", Emotion.angry),
        ("laughing", Emotion.happy),
        ("smiling", Emotion.happy),
        ("tearful", Emotion.sad),
        ("crying", Emotion.sad),
        ("shocked", Emotion.surprised),
        ("gasps", Emotion.surprised),
        ("terrified", Emotion.afraid),
        ("oh crap", Emotion.afraid),
        ("angry, then laughing", Emotion.angry),
        ("beer raised", Emotion.neutral),
        ("pause", Emotion.neutral),
        ("笑", Emotion.happy),
    ],
)
def test_emotion_keywords(note: str, emotion: Emotion) -> None:
    assert emotion_from_parenthetical(note) is emotion


def test_everything_left_out_is_reported() -> None:
    text = (
        "Title: _Test_\nLogline: A *small* test\nAuthor: Me\n\n"
        "# Act One\n\n= The setup\n\nINT. ROOM - DAY\n\nHe walks [[fix this]] in.\n\n"
        "/* cut\nthis */\n\nBOB\n(beat)\nHi.\n(trailing)\n\n~La la la\n\n===\n\nFADE OUT.\n"
    )
    script = read_fountain(text)
    assert (script.title, script.logline) == ("Test", "A small test")
    kinds = {(s.kind, s.line) for s in script.skipped}
    assert {
        ("title_page", 3),
        ("section", 5),
        ("synopsis", 7),
        ("note", 11),
        ("boneyard", 13),
        ("parenthetical", 19),
        ("lyrics", 21),
        ("page_break", 23),
        ("transition", 25),
    } <= kinds
    assert script.scenes[0].beats[0].text == "He walks in."
    assert [b.parenthetical for b in script.scenes[0].beats[1:]] == ["beat"]


def test_parser_issues_become_warnings() -> None:
    script = read_fountain("INT. ROOM - DAY\n\nA room.\n\n/* never closed\n\nBOB\nHi.\n")
    assert any(s.kind == "warning" and "boneyard" in s.text for s in script.skipped)


def test_repair_is_narrow() -> None:
    text = "INT. ROOM - DAY\n\nEst. 1920 the house\nstands.\n\n/*\n\nEXT. YARD - DAY\nold\n*/\n"
    script = read_fountain(text)
    assert [s.heading for s in script.scenes] == ["INT. ROOM - DAY"]
    assert not any(s.kind == "repair" for s in script.skipped)


def test_repair_line_numbers_stay_in_the_original_file() -> None:
    script = read_fountain("EXT. YARD - DAY\nSun.\n\nINT. HALL - DAY\nShade.\n\nTRANSIT TO:\n")
    assert [s.heading for s in script.scenes] == ["EXT. YARD - DAY", "INT. HALL - DAY"]
    assert [(s.kind, s.line) for s in script.skipped] == [
        ("repair", 1),
        ("repair", 4),
        ("transition", 7),
    ]


def test_dialogue_without_a_heading_becomes_an_untitled_scene() -> None:
    script = read_fountain("Some action.\n\nBOB\nHello.\n")
    assert [s.heading for s in script.scenes] == ["UNTITLED"]
    assert [b.kind for b in script.scenes[0].beats] == ["action", "dialogue"]


def test_action_before_the_first_heading_without_dialogue_is_skipped() -> None:
    script = read_fountain("A cold open.\n\nINT. ROOM - DAY\n\nBOB\nHi.\n")
    assert [s.heading for s in script.scenes] == ["INT. ROOM - DAY"]
    assert ("action", 1) in {(s.kind, s.line) for s in script.skipped}


# --- writing -----------------------------------------------------------------------------


def test_round_trip_of_the_sample(sample: Script) -> None:
    again = read_fountain(write_fountain(sample))
    assert _shape(again) == _shape(sample)
    assert again.title == sample.title
    assert [(b.parenthetical, b.emotion, b.dual) for _, b in again.dialogue()] == [
        (b.parenthetical, b.emotion, b.dual) for _, b in sample.dialogue()
    ]
    assert not [s for s in again.skipped if s.kind != "repair"]


def test_round_trip_of_a_hand_built_cjk_script() -> None:
    script = Script(
        title="茶馆之夜",
        logline="Two friends meet.",
        language="ja",
        scenes=[
            Scene(
                number=1,
                heading="INT. 茶馆 - 夜",
                location="茶馆",
                beats=[
                    Beat(kind="action", text="李雷走进茶馆。"),
                    Beat(kind="dialogue", character="李雷", text="你好！", emotion=Emotion.happy),
                    Beat(kind="dialogue", character="はるか", text="こんにちは、元気ですか？"),
                    Beat(kind="dialogue", character="李雷", text="我很好。", dual=True),
                    Beat(kind="action", text="CUT TO:"),
                    Beat(kind="dialogue", character="McCLANE", text="Yippee *ki* yay."),
                    Beat(kind="dialogue", character="BOB", text="Line one\nline two"),
                ],
            ),
            Scene(
                number=2,
                heading="茶馆外",
                location="茶馆外",
                interior=False,
                beats=[Beat(kind="dialogue", character="はるか", text="さようなら。")],
            ),
            Scene(number=3, heading="SNIPER SCOPE POV", location="x", beats=[]),
        ],
    )
    text = write_fountain(script)
    assert "@李雷" in text and "@はるか" in text and "@McCLANE" in text
    again = read_fountain(text, language="ja")
    assert again.title == "茶馆之夜" and again.logline == "Two friends meet."
    assert [s.heading for s in again.scenes] == [
        "INT. 茶馆 - 夜",
        "EXT. 茶馆外",
        "SNIPER SCOPE POV",
    ]
    said = [(b.character, b.text) for _, b in again.dialogue()]
    assert said == [
        ("李雷", "你好！"),
        ("はるか", "こんにちは、元気ですか？"),
        ("李雷", "我很好。"),
        ("McCLANE", "Yippee *ki* yay."),
        ("BOB", "Line one line two"),
        ("はるか", "さようなら。"),
    ]
    beats = again.scenes[0].beats
    assert beats[4] == Beat(kind="action", text="CUT TO:")
    assert [b.dual for b in beats if b.kind == "dialogue"] == [False, False, True, False, False]
    assert beats[1].emotion is Emotion.happy
    assert again.scenes[0].characters == ["李雷", "はるか", "McCLANE", "BOB"]


# --- files that cannot be used -----------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match="does not exist"):
        load_fountain(tmp_path / "nope.fountain")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match="directory"):
        load_fountain(tmp_path)


def test_binary(tmp_path: Path) -> None:
    path = tmp_path / "image.fountain"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(ScriptError, match="binary"):
        load_fountain(path)


def test_latin1_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.fountain"
    path.write_bytes("INT. CAFÉ - DAY\n\nBOB\nHi.\n".encode("latin-1"))
    with pytest.raises(ScriptError, match=r"not valid UTF-8.*offset 8 \(line 1\).*UTF-8"):
        load_fountain(path)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.fountain"
    path.write_bytes(b"\xef\xbb\xbf" + "INT. CAFÉ - DAY\n\nBOB\nHi.\n".encode())
    assert load_fountain(path).scenes[0].heading == "INT. CAFÉ - DAY"


@pytest.mark.parametrize("content", [b"", b"  \n\n\t\n"])
def test_empty(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.fountain"
    path.write_bytes(content)
    with pytest.raises(ScriptError, match="empty"):
        load_fountain(path)


def test_no_scene_and_no_dialogue(tmp_path: Path) -> None:
    path = tmp_path / "prose.fountain"
    path.write_text("Title: Notes\n\nJust some prose about a story.\n\nMore prose.\n")
    with pytest.raises(ScriptError, match="no scene heading and no dialogue") as info:
        load_fountain(path)
    assert str(path) in str(info.value)
