"""Who is drawn, who is only heard, and who is present: off-screen lines, voices, choruses."""

from __future__ import annotations

from pathlib import Path

import pytest

from inkreel.media.fountain import load_fountain, read_fountain
from inkreel.media.fountain_write import write_fountain
from inkreel.schemas.script import Beat, Scene, Script

DATA = Path(__file__).parent / "data" / "fountain"


def _lines(script: Script) -> list[tuple[str | None, list[str], bool]]:
    return [(b.character, b.chorus, b.off_screen) for _, b in script.dialogue()]


@pytest.mark.parametrize(
    ("extension", "off_screen"),
    [
        *((e, True) for e in ("V.O.", "V.O", "VO", "O.S.", "OS", "O.C.", "OFF", "PRELAP")),
        *((e, True) for e in ("ON PHONE", "ON RADIO", "FILTERED", "V.O.; CONT'D", "o.s.")),
        *((e, False) for e in ("CONT'D", "CONT", "MORE", "cont.", "beat")),
    ],
)
def test_cue_extensions_that_put_the_speaker_off_screen(extension: str, off_screen: bool) -> None:
    script = read_fountain(f"INT. ROOM - DAY\n\nBob waits.\n\nBOB ({extension})\nHello.\n")
    assert _lines(script) == [("BOB", [], off_screen)]
    # Named in the action, so a character either way; staged only when seen speaking.
    assert script.characters == ["BOB"]


@pytest.mark.parametrize(
    "cue",
    [
        "李雷（画外音）",
        "李雷（旁白）",
        "はるか（声）",
        "はるか（Ｎ）",
        "はるか（オフ）",
        "МАША (ЗК)",
    ],
)
def test_cue_extensions_in_other_languages(cue: str) -> None:
    script = read_fountain(f"内景 房间 - 日\n\n{cue}\n你好。\n")
    assert [b.off_screen for _, b in script.dialogue()] == [True]


def test_non_person_speakers_and_a_narrator_are_voices() -> None:
    script = load_fountain(DATA / "voices.fountain")
    assert script.voices == ["ANSWERING MACHINE", "MOM'S VOICE", "INTERCOM", "SAM"]
    # Dan is only heard, but the action shows him in the doorway; Kate speaks on screen.
    assert script.characters == ["DAN", "KATE"]
    assert all(b.off_screen for _, b in script.dialogue() if b.character in script.voices)
    office, street = script.scenes
    assert office.characters == ["KATE", "DAN"]
    # Kate is heard on the phone and Sam narrates: nobody is staged in the street.
    assert street.characters == []


_NEVER_DRAWN = ["TELEVISION", "PA", "P.A.", "THE CROWD", "EVERYONE", "VOICE ON PHONE"]
_NEVER_DRAWN += ["NEWSREADER ON TV", "RADIO", "COMPUTER", "PRINTER", "LOUDSPEAKER", "BOTH"]
_NEVER_DRAWN += ["广播", "众人", "一同"]


@pytest.mark.parametrize("name", _NEVER_DRAWN)
def test_speakers_that_are_never_drawn(name: str) -> None:
    script = read_fountain(f"INT. ROOM - DAY\n\nA room. {name} is everywhere.\n\n@{name}\nHello.\n")
    assert (script.voices, script.characters) == ([name], [])
    assert script.scenes[0].characters == []
    assert _lines(script) == [(name, [], True)]


def test_group_cues_are_one_line_with_a_chorus() -> None:
    script = load_fountain(DATA / "groups.fountain")
    assert _lines(script) == [
        ("EDWARD", [], False),
        ("EDWARD", ["WILL"], False),
        ("EDWARD", ["WILL", "MAY"], False),
        ("EDWARD", ["WILL"], False),
        ("ALL", [], True),
        ("MAY", [], False),
        ("MAY", [], False),
    ]
    assert script.characters == ["EDWARD", "WILL", "MAY"]
    assert script.voices == ["ALL"]


def test_a_group_member_who_never_speaks_alone_is_still_present() -> None:
    script = read_fountain(
        "INT. ROOM - DAY\n\nMOM & DAD\nSurprise!\n\nEXT. YARD - DAY\n\nA yard.\n"
    )
    assert _lines(script) == [("MOM", ["DAD"], False)]
    assert script.scenes[0].characters == ["MOM", "DAD"]
    assert script.characters == ["MOM", "DAD"]


@pytest.mark.parametrize("cue", ["BEAUTY AND THE BEAST", "MR. AND MRS. SMITH"])
def test_names_with_and_in_them_are_one_speaker(cue: str) -> None:
    script = read_fountain(f"INT. ROOM - DAY\n\n{cue}\nHello.\n")
    assert _lines(script) == [(cue, [], False)]


def test_names_in_mixed_case_in_the_action_are_present() -> None:
    script = load_fountain(DATA / "groups.fountain")
    kitchen, garden, gate = script.scenes
    # "Edward and Will sit at the table while May pours the tea."
    assert kitchen.characters == ["EDWARD", "WILL", "MAY"]
    # "Will you look at that? It may rain, and hope is all we have."
    assert garden.characters == ["MAY"]
    # "Edward's bicycle leans on the fence. They wait for Will by the gate."
    assert gate.characters == ["EDWARD", "WILL", "MAY"]


@pytest.mark.parametrize(
    ("action", "present"),
    [
        ("Mike walks in.", True),
        ("MIKE walks in.", True),
        ("The dog bites Mike's hand.", True),
        ("A mike stand falls over.", False),
        ("Mikey walks in.", False),
    ],
)
def test_a_name_counts_with_a_capital_as_a_whole_word(action: str, present: bool) -> None:
    script = read_fountain(f"INT. ROOM - DAY\n\nMIKE\nHi.\n\nINT. HALL - DAY\n\n{action}\n")
    assert script.scenes[1].characters == (["MIKE"] if present else [])


@pytest.mark.parametrize(
    ("action", "present"),
    [
        ("Will you sit down?", False),
        ("They will sit down.", False),
        ("Anna and Will sit down.", True),
        ("WILL sits down.", True),
        ("Hope sits down.", False),
        ("Anna gives Hope the key.", True),
    ],
)
def test_names_that_are_also_words_need_more_than_a_capital(action: str, present: bool) -> None:
    script = read_fountain(
        "INT. ROOM - DAY\n\nWILL\nHi.\n\nHOPE\nHey.\n\nINT. HALL - DAY\n\n" + action + "\n"
    )
    assert bool(script.scenes[1].characters) is present


def test_names_written_with_stray_punctuation_are_one_character() -> None:
    script = load_fountain(DATA / "names.fountain")
    assert script.characters == ["ANANTH", "PRIYA"]
    assert [b.character for _, b in script.dialogue()] == ["ANANTH"] * 3 + ["PRIYA"]
    apartment, field = script.scenes
    assert (apartment.location, apartment.time_of_day.value) == ("Apartment", "day")
    assert (field.location, field.time_of_day.value) == ("Field", "night")
    assert apartment.characters == ["ANANTH"]


def test_one_spelling_per_name_and_inner_whitespace_collapsed() -> None:
    script = read_fountain(
        "INT. ROOM - DAY\n\nMARY  JANE\nHi.\n\n@Mary Jane\nAgain.\n\nSAMMY JR.\nYo.\n"
    )
    assert [b.character for _, b in script.dialogue()] == ["MARY JANE", "MARY JANE", "SAMMY JR."]


def test_off_screen_lines_chorus_and_voices_are_written_back() -> None:
    script = Script(
        title="T",
        characters=["Mei", "Kai"],
        voices=["Narrator"],
        scenes=[
            Scene(
                number=1,
                heading="INT. TEA HOUSE - DAY",
                location="Tea House",
                beats=[
                    Beat(kind="dialogue", character="Narrator", text="Once.", off_screen=True),
                    Beat(kind="dialogue", character="Mei", text="Hi.", chorus=["Kai"]),
                    Beat(kind="dialogue", character="Kai", text="Who?", off_screen=True),
                    Beat(kind="dialogue", character="Kai", text="Me.", off_screen=False),
                ],
            )
        ],
    )
    text = write_fountain(script)
    assert "@Narrator (V.O.)" in text and "@Mei AND Kai" in text and "@Kai (O.S.)" in text
    again = read_fountain(text)
    assert _lines(again) == [
        ("Narrator", [], True),
        ("Mei", ["Kai"], False),
        ("Kai", [], True),
        ("Kai", [], False),
    ]
    assert (again.characters, again.voices) == (["Mei", "Kai"], ["Narrator"])
