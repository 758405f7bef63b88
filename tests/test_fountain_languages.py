"""Screenplays in Russian, Chinese and Japanese: headings, cues, times, and what an error says."""

from __future__ import annotations

from pathlib import Path

import pytest

from inkreel.media.fountain import ScriptError, load_fountain, read_fountain
from inkreel.schemas.script import TimeOfDay

DATA = Path(__file__).parent / "data" / "fountain"


def _scenes(path: Path, language: str = "en") -> list[tuple[str, str, bool, TimeOfDay]]:
    script = load_fountain(path, language)
    return [(s.heading, s.location, s.interior, s.time_of_day) for s in script.scenes]


def _said(path: Path) -> list[tuple[str | None, str]]:
    return [(b.character, b.text) for _, b in load_fountain(path).dialogue()]


def test_russian_script() -> None:
    assert _scenes(DATA / "russian.fountain") == [
        ("ИНТ. КВАРТИРА - НОЧЬ", "Квартира", True, TimeOfDay.night),
        ("НАТ. ДВОР - ДЕНЬ", "Двор", False, TimeOfDay.day),
    ]
    assert _said(DATA / "russian.fountain") == [
        ("МАША", "Алло?"),
        ("ПЕТЯ", "Это я. Выходи."),
        ("МАША", "ДА ИДУ Я, ИДУ."),
        ("ПЕТЯ", "Ну наконец-то!"),
        ("МАША", "Поехали!"),
    ]
    script = load_fountain(DATA / "russian.fountain", "ru")
    assert script.language == "ru"
    assert script.characters == ["МАША", "ПЕТЯ"]
    # Petya is only heard (ЗК) in the flat, and seen in the yard.
    first, yard = script.scenes
    assert [b.off_screen for b in first.beats if b.kind == "dialogue"] == [False, True, False]
    assert first.characters == ["МАША"]
    assert yard.characters == ["ПЕТЯ", "МАША"]
    assert yard.beats[-1].chorus == ["ПЕТЯ"]


def test_chinese_script_with_names_on_their_own_line_and_in_one_line() -> None:
    script = load_fountain(DATA / "chinese.fountain", "zh")
    assert _scenes(DATA / "chinese.fountain", "zh") == [
        ("内景. 茶馆 - 夜", "茶馆", True, TimeOfDay.night),
        ("外景。街道，日", "街道", False, TimeOfDay.day),
    ]
    said = [(b.character, b.text, b.parenthetical, b.off_screen) for _, b in script.dialogue()]
    assert said == [
        ("李雷", "你好！", None, False),
        ("韩梅梅", "你来晚了。", "笑", False),
        ("韩梅梅", "我们走吧。", None, False),
        ("李雷", "好。", None, False),
        ("广播", "列车即将进站。", None, True),
        ("旁白", "那一天，他们没有再回来。", None, True),
    ]
    assert script.characters == ["李雷", "韩梅梅"]
    assert script.voices == ["广播", "旁白"]
    assert [s.characters for s in script.scenes] == [["李雷", "韩梅梅"], ["韩梅梅", "李雷"]]


def test_chinese_script_without_blank_lines() -> None:
    script = load_fountain(DATA / "chinese_compact.fountain", "zh")
    assert _scenes(DATA / "chinese_compact.fountain") == [
        ("内景 教室 - 日", "教室", True, TimeOfDay.day),
        ("外景 操场（夜）", "操场", False, TimeOfDay.night),
    ]
    said = [(b.character, b.text, b.off_screen) for _, b in script.dialogue()]
    assert said == [
        ("王老师", "同学们好。", False),
        ("学生们", "老师好！", False),
        ("小明", "下雨了。", False),
        ("小明", "快回来！", True),
    ]
    # The △ line is action, and names the teacher and the students.
    assert script.scenes[0].beats[0].text == "王老师走进教室，学生们站起来。"
    assert script.scenes[0].characters == ["王老师", "学生们"]


def test_japanese_script() -> None:
    script = load_fountain(DATA / "japanese.fountain", "ja")
    assert _scenes(DATA / "japanese.fountain", "ja") == [
        ("○ 教室（夜）", "教室", True, TimeOfDay.night),
        ("室外 校庭 - 夕方", "校庭", False, TimeOfDay.dusk),
    ]
    said = [(b.character, b.text, b.parenthetical, b.off_screen) for _, b in script.dialogue()]
    assert said == [
        ("はるか", "遅いよ", None, False),
        ("健太", "ごめん", None, False),
        ("健太", "走ってきたんだ。", "息を切らして", False),
        ("アナウンス", "下校の時刻です。", None, True),
        ("一同", "さようなら", None, True),
    ]
    assert (script.characters, script.voices) == (["はるか", "健太"], ["アナウンス", "一同"])
    assert script.scenes[1].characters == []


def test_chinese_script_that_cannot_be_read_says_what_chinese_scripts_need() -> None:
    with pytest.raises(ScriptError) as info:
        load_fountain(DATA / "chinese_prose.fountain", "zh")
    message = str(info.value)
    assert "no scene heading and no dialogue" in message
    assert "内景 茶馆 - 夜" in message and "@李雷" in message and "李雷：你好。" in message
    assert "INT. TEA HOUSE" not in message


def test_the_hint_follows_the_script_not_the_flag() -> None:
    with pytest.raises(ScriptError, match=r"ИНТ\. КВАРТИРА - НОЧЬ"):
        read_fountain("Просто текст без сцен.\n\nИ ещё немного текста.\n", language="en")
    with pytest.raises(ScriptError, match=r"INT\. TEA HOUSE - NIGHT"):
        read_fountain("Just some prose.\n", language="zh")


@pytest.mark.parametrize(
    ("heading", "location", "interior", "time"),
    [
        ("INT. APARTMENT, DAY", "Apartment", True, TimeOfDay.day),
        ("EXT. FIELD, NIGHT", "Field", False, TimeOfDay.night),
        ("INT. JOHN'S HOUSE, KITCHEN - DUSK", "John's House, Kitchen", True, TimeOfDay.dusk),
        ("INT. JOHN'S HOUSE, KITCHEN", "John's House, Kitchen", True, TimeOfDay.night),
        ("INT. LASER TAG", "Laser Tag", True, TimeOfDay.night),
        ("ИНТ. КУХНЯ - УТРО", "Кухня", True, TimeOfDay.day),
        ("НАТ. ПАРК — ВЕЧЕР", "Парк", False, TimeOfDay.dusk),
        ("INNEN. KÜCHE - TAG", "Küche", True, TimeOfDay.day),
        ("AUSSEN. STRASSE - NACHT", "Strasse", False, TimeOfDay.night),
        ("内景 茶馆 夜", "茶馆", True, TimeOfDay.night),
        ("内外景 车里－黄昏", "车里", True, TimeOfDay.dusk),
        ("外景：公园，白天", "公园", False, TimeOfDay.day),
        ("○教室（朝）", "教室", True, TimeOfDay.day),
        ("屋外 公園 - 夜", "公園", False, TimeOfDay.night),
    ],
)
def test_heading_parts_in_other_languages(
    heading: str, location: str, interior: bool, time: TimeOfDay
) -> None:
    # A night scene first, so headings without a time show they inherit it.
    script = read_fountain(f"INT. CELLAR - NIGHT\n\nDark.\n\n{heading}\n\nSomething happens.\n")
    scene = script.scenes[1]
    assert (scene.heading, scene.location, scene.interior, scene.time_of_day) == (
        heading,
        location,
        interior,
        time,
    )


def test_a_german_sentence_is_not_a_heading() -> None:
    script = read_fountain("INT. HALL - DAY\n\nInnen ist es dunkel.\n")
    assert [s.heading for s in script.scenes] == ["INT. HALL - DAY"]


def test_cast_lists_and_prose_with_a_colon_are_not_speakers() -> None:
    script = read_fountain(
        "内景 茶馆 - 夜\n\n人物：李雷、韩梅梅\n时间：1998年\n他笑着说：我们走吧。\n\n李雷：好。\n"
    )
    assert [(b.character, b.text) for _, b in script.dialogue()] == [("李雷", "好。")]


def test_a_marked_action_line_ends_the_dialogue_in_a_script_without_blank_lines() -> None:
    script = read_fountain("内景 教室 - 日\n李雷\n你好。\n△他走了。\n韩梅梅\n再见。\n")
    assert [(b.kind, b.character, b.text) for b in script.scenes[0].beats] == [
        ("dialogue", "李雷", "你好。"),
        ("action", None, "他走了。"),
        ("dialogue", "韩梅梅", "再见。"),
    ]


@pytest.mark.parametrize(
    ("page", "title", "kept"),
    [
        ("标题：茶馆夜话\n编剧：李明", "茶馆夜话", ["Author: 李明"]),
        ("タイトル: 夜の教室", "夜の教室", []),
        ("Название: Кухня\nДата: 2026", "Кухня", ["Date: 2026"]),
    ],
)
def test_a_title_page_in_another_language_is_read(page: str, title: str, kept: list[str]) -> None:
    script = read_fountain(f"{page}\n\n内景 茶馆 - 夜\n\n李雷：你好。\n")
    assert script.title == title
    assert [s.text for s in script.skipped] == kept
    assert [s.line for s in script.skipped] == [2] * len(kept)


def test_a_first_paragraph_that_is_not_all_title_keys_stays_text() -> None:
    script = read_fountain("标题：茶馆\n他走进来。\n\n内景 茶馆 - 夜\n\n李雷：你好。\n")
    assert script.title == "Untitled"
    assert [s.kind for s in script.skipped] == ["action"]
