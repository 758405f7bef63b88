"""ViStoryBench story.json in: the real layout, every bad input, languages and metadata."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from inkreel.media.story_json import Story, StoryError, load_story

# ViStoryBench's layout (their dataset_load.py), with text written for this test.
EXAMPLE: dict[str, Any] = {
    "Story_type": {"en": "Comic", "ch": "漫画"},
    "Characters": {
        "Odile": {
            "tag": "realistic_human",
            "name_en": "Odile",
            "name_ch": "奥迪尔",
            "prompt_en": "A baker in her fifties, short grey hair, flour-dusted blue apron.",
            "prompt_ch": "五十多岁的面包师，灰色短发，沾着面粉的蓝色围裙。",
            "num_of_appearances": 2,
        },
        "Pip": {
            "tag": "non_human",
            "name_en": "Pip",
            "name_ch": "皮普",
            "prompt_en": "A small orange cat with a white tail tip.",
            "prompt_ch": "一只白尾尖的小橘猫。",
            "num_of_appearances": 1,
        },
    },
    "Shots": [
        {
            "index": 1,
            "Plot Correspondence": {"en": "Odile opens the bakery.", "ch": "奥迪尔打开面包店。"},
            "Setting Description": {"en": "Dawn, a narrow street.", "ch": "黎明，窄街。"},
            "Shot Perspective Design": {"en": "Long shot", "ch": "远景"},
            "Characters Appearing": {"en": ["Odile"], "ch": ["奥迪尔"]},
            "Static Shot Description": {"en": "Odile unlocks the door.", "ch": "奥迪尔开门。"},
        },
        {
            "index": 2,
            "Plot Correspondence": {"en": "The cat is waiting.", "ch": "猫在等着。"},
            "Setting Description": {"en": "Inside, warm light.", "ch": "店内，暖光。"},
            "Shot Perspective Design": {"en": "Close-up, low angle", "ch": "特写，仰拍"},
            "Characters Appearing": {"en": ["Pip", "Odile"], "ch": ["皮普", "奥迪尔"]},
            "Static Shot Description": {"en": "Pip sits on the counter.", "ch": "皮普坐在柜台上。"},
        },
    ],
}


def _write(tmp_path: Path, raw: Any, story_id: str = "07") -> Path:
    path = tmp_path / story_id / "story.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(raw, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def _example() -> dict[str, Any]:
    return copy.deepcopy(EXAMPLE)


def _error(tmp_path: Path, raw: Any, **kwargs: Any) -> str:
    path = _write(tmp_path, raw)
    with pytest.raises(StoryError) as info:
        load_story(path, **kwargs)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    return message


def test_real_layout_in_english(tmp_path: Path) -> None:
    story = load_story(_write(tmp_path, EXAMPLE))
    assert story.id == "07" and story.language == "en" and story.title == "07"
    assert story.story_type == "Comic"
    assert [(c.key, c.name, c.tags) for c in story.characters] == [
        ("Odile", "Odile", ["realistic_human"]),
        ("Pip", "Pip", ["non_human"]),
    ]
    assert story.characters[1].prompt == "A small orange cat with a white tail tip."
    first, second = story.shots
    assert (first.index, second.index) == (1, 2)
    assert first.setting == "Dawn, a narrow street."
    assert first.plot == "Odile opens the bakery."
    assert first.description == "Odile unlocks the door."
    assert second.perspective == "Close-up, low angle"
    assert second.characters == ["Pip", "Odile"]
    assert story.length_s is None and story.tags == []


def test_folder_and_byte_order_mark(tmp_path: Path) -> None:
    path = _write(tmp_path, EXAMPLE)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert load_story(path.parent).shots[0].plot == "Odile opens the bakery."


def test_chinese_is_their_ch(tmp_path: Path) -> None:
    story = load_story(_write(tmp_path, EXAMPLE), language="zh")
    assert story.language == "zh" and story.story_type == "漫画"
    assert [c.name for c in story.characters] == ["奥迪尔", "皮普"]
    assert [c.key for c in story.characters] == ["Odile", "Pip"]
    assert story.shots[1].characters == ["皮普", "奥迪尔"]
    assert story.shots[1].perspective == "特写，仰拍"


def test_chinese_does_not_fall_back_to_english(tmp_path: Path) -> None:
    raw = _example()
    del raw["Shots"][1]["Plot Correspondence"]["ch"]
    message = _error(tmp_path, raw, language="zh")
    assert "shot 2" in message and "Plot Correspondence" in message and "'ch'" in message


def test_japanese_falls_back_to_english_field_by_field(tmp_path: Path) -> None:
    raw = _example()
    raw["Characters"]["Odile"]["name_ja"] = "オディール"
    raw["Characters"]["Odile"]["prompt_ja"] = "五十代のパン職人、灰色の短髪、青いエプロン。"
    raw["Shots"][0]["Plot Correspondence"]["ja"] = "オディールが店を開ける。"
    raw["Shots"][1]["Characters Appearing"]["ja"] = ["Pip", "オディール"]
    story = load_story(_write(tmp_path, raw), language="ja")
    odile, pip = story.characters
    assert (odile.name, odile.prompt) == (
        "オディール",
        "五十代のパン職人、灰色の短髪、青いエプロン。",
    )
    assert (pip.name, pip.prompt) == ("Pip", "A small orange cat with a white tail tip.")
    assert story.shots[0].plot == "オディールが店を開ける。"
    assert story.shots[0].setting == "Dawn, a narrow street."
    # the English list is read through the character keys, then shown in Japanese
    assert story.shots[0].characters == ["オディール"]
    assert story.shots[1].characters == ["Pip", "オディール"]


def test_language_from_metadata_and_argument(tmp_path: Path) -> None:
    raw = _example()
    raw["inkreel"] = {"language": "zh", "length_s": 25, "tags": ["comedy"], "title": "晨光"}
    path = _write(tmp_path, raw)
    story = load_story(path)
    assert story.language == "zh" and story.shots[0].plot == "奥迪尔打开面包店。"
    assert story.length_s == 25.0 and story.tags == ["comedy"] and story.title == "晨光"
    assert load_story(path, language="en").shots[0].plot == "Odile opens the bakery."


def test_language_guessed_when_there_is_no_english(tmp_path: Path) -> None:
    raw = _example()
    for entry in raw["Characters"].values():
        del entry["name_en"], entry["prompt_en"]
    for shot in raw["Shots"]:
        for field in shot.values():
            if isinstance(field, dict):
                del field["en"]
    assert load_story(_write(tmp_path, raw)).language == "zh"


def test_title_by_language(tmp_path: Path) -> None:
    raw = _example()
    raw["inkreel"] = {"title": {"en": "First Light", "ch": "晨光"}}
    path = _write(tmp_path, raw)
    assert load_story(path).title == "First Light"
    assert load_story(path, language="zh").title == "晨光"
    assert load_story(path, language="ja").title == "First Light"


def test_metadata_does_not_break_their_keys(tmp_path: Path) -> None:
    """ViStoryBench reads only these top-level keys; the metadata is beside them."""
    raw = _example()
    raw["inkreel"] = {"language": "en", "length_s": 30}
    assert {"Story_type", "Characters", "Shots"} <= set(raw)
    assert load_story(_write(tmp_path, raw)).length_s == 30.0


def test_tag_normalised_to_a_list(tmp_path: Path) -> None:
    raw = _example()
    raw["Characters"]["Odile"]["tag"] = "human, female"
    raw["Characters"]["Pip"]["tag"] = ["animal", "cat"]
    story = load_story(_write(tmp_path, raw))
    assert [c.tags for c in story.characters] == [["human", "female"], ["animal", "cat"]]


def test_missing_english_name_is_the_key(tmp_path: Path) -> None:
    raw = _example()
    del raw["Characters"]["Pip"]["name_en"]
    assert load_story(_write(tmp_path, raw)).characters[1].name == "Pip"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StoryError, match="does not exist"):
        load_story(tmp_path / "09" / "story.json")


def test_folder_without_story(tmp_path: Path) -> None:
    (tmp_path / "09").mkdir()
    with pytest.raises(StoryError, match=r"holds no story\.json"):
        load_story(tmp_path / "09")


def test_not_utf8(tmp_path: Path) -> None:
    path = _write(tmp_path, EXAMPLE)
    path.write_bytes('{"Shots": "caf\u00e9"}'.encode("latin-1"))
    with pytest.raises(StoryError, match=r"not UTF-8 text \(byte 14\)"):
        load_story(path)


def test_utf16(tmp_path: Path) -> None:
    path = _write(tmp_path, EXAMPLE)
    path.write_bytes(json.dumps(EXAMPLE).encode("utf-16"))
    with pytest.raises(StoryError, match="UTF-16"):
        load_story(path)


def test_broken_json_says_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, EXAMPLE)
    path.write_text('{\n  "Shots": [\n    {"index": 1,,}\n  ]\n}\n', encoding="utf-8")
    with pytest.raises(StoryError, match=r"not valid JSON: .* at line 3, column 17"):
        load_story(path)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda raw: raw.pop("Shots"), "missing required key 'Shots' at the top level"),
        (lambda raw: raw.pop("Characters"), "missing required key 'Characters'"),
        (
            lambda raw: raw["Shots"][1].pop("Static Shot Description"),
            "shot 2: missing required key 'Static Shot Description'",
        ),
        (
            lambda raw: [raw["Shots"][0].pop(k) for k in ("index", "Setting Description")],
            "shot 1: missing required keys 'index' and 'Setting Description'",
        ),
        (
            lambda raw: raw["Characters"]["Pip"].pop("prompt_en"),
            "character 'Pip': missing required key 'prompt_en'",
        ),
        (lambda raw: raw.update(Shots=[]), "'Shots' is empty"),
        (
            lambda raw: raw["Shots"][0]["Setting Description"].update(en="  "),
            "shot 1: 'Setting Description' ('en') is empty",
        ),
        (
            lambda raw: raw["Characters"]["Odile"].update(prompt_en=""),
            "character 'Odile': 'prompt_en' is empty",
        ),
        (
            lambda raw: raw["Shots"][1]["Characters Appearing"].update(en=["Pip", "Bruno"]),
            "shot 2 names character 'Bruno', who is not in 'Characters' (known: 'Odile', 'Pip')",
        ),
        (
            lambda raw: raw["Shots"][1].update(index=5),
            "shot 2 has index 5; shots are numbered 1, 2, 3",
        ),
        (
            lambda raw: raw["Shots"][0].update({"Plot Correspondence": "plain text"}),
            "shot 1: 'Plot Correspondence' is not an object of texts by language",
        ),
        (lambda raw: raw.update(Characters=[]), "'Characters' is not a JSON object"),
        (
            lambda raw: raw["Characters"]["Pip"].update(name_en="Odile"),
            "characters 'Odile' and 'Pip' share the name 'Odile'",
        ),
        (lambda raw: raw.update(inkreel={"lenght_s": 30}), "unknown key 'lenght_s'"),
        (lambda raw: raw.update(inkreel={"language": "fr"}), "language 'fr' is not one of"),
        (lambda raw: raw.update(inkreel={"length_s": "long"}), "length_s 'long' is not"),
        (lambda raw: raw.update(inkreel={"tags": "mystery"}), "tags is a list"),
    ],
)
def test_bad_story(tmp_path: Path, edit: Any, expected: str) -> None:
    raw = _example()
    edit(raw)
    assert expected in _error(tmp_path, raw)


def test_top_level_not_an_object(tmp_path: Path) -> None:
    assert "not a JSON object" in _error(tmp_path, [EXAMPLE])


def test_bad_language_argument(tmp_path: Path) -> None:
    assert "language 'ch' is not one of en, zh, ja" in _error(tmp_path, EXAMPLE, language="ch")


# ----------------------------------------------------------------- the shipped dataset

DATASET = Path(__file__).resolve().parents[1] / "evals" / "datasets" / "inkreel-12"
TIME_WORDS = {"day": ("day", "morning", "afternoon"), "night": ("night",)}


def _shipped() -> list[Story]:
    return [load_story(p) for p in sorted(DATASET.glob("*/story.json"))]


def test_shipped_dataset_is_varied() -> None:
    stories = _shipped()
    assert len(stories) >= 12
    # numbered folders: ViStoryBench's loader and scorer read only those
    assert all(s.id.isdigit() for s in stories)
    languages = [s.language for s in stories]
    assert languages.count("zh") >= 3 and languages.count("ja") >= 3 and "en" in languages
    assert all(1 <= len(s.characters) <= 4 for s in stories)
    assert {1, 4} <= {len(s.characters) for s in stories}
    assert all(4 <= len(s.shots) <= 8 for s in stories)
    assert all(s.length_s is not None and 20 <= s.length_s <= 40 for s in stories)
    genres = {s.tags[0] for s in stories}
    assert {"mystery", "comedy", "romance", "adventure", "slice of life", "sci-fi"} <= genres
    times = {s.id: {"day", "night"} & set(s.tags) for s in stories}
    places = {s.id: {"interior", "exterior"} & set(s.tags) for s in stories}
    assert all(len(t) == 1 for t in times.values()) and all(len(p) == 1 for p in places.values())
    assert set().union(*times.values()) == {"day", "night"}
    assert set().union(*places.values()) == {"interior", "exterior"}


def test_shipped_stories_read_in_english_and_say_their_time_of_day() -> None:
    """Every story has the English texts ViStoryBench's tooling reads, matching its tags."""
    for path in sorted(DATASET.glob("*/story.json")):
        story = load_story(path, language="en")
        time = next(t for t in ("day", "night") if t in story.tags)
        settings = " ".join(s.setting.lower() for s in story.shots)
        assert any(word in settings for word in TIME_WORDS[time]), story.id


def test_shipped_stories_in_their_own_language() -> None:
    for story in _shipped():
        if story.language == "en":
            continue
        script = "\u3040-\u30ff" if story.language == "ja" else "\u4e00-\u9fff"
        texts = [story.title, *(c.prompt for c in story.characters)]
        texts += [s.plot for s in story.shots]
        assert all(re.search(f"[{script}]", text) for text in texts), story.id
