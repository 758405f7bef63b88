"""The language of a screenplay's dialogue, and warnings for what cannot be voiced or drawn."""

from __future__ import annotations

from pathlib import Path

import espeakng_loader
import pytest
from typer.testing import CliRunner

from inkreel.art import writing
from inkreel.cli import app
from inkreel.media import languages
from inkreel.media.languages import (
    LANGUAGES,
    LanguageError,
    detect_language,
    resolve_language,
    speaking_language,
)

# A few lines of dialogue per language, as a short screenplay would have them.
DIALOGUE = {
    "en": ["We should leave before the storm.", "Not yet. Wait for the tide."],
    "zh": ["你好，我们走吧。", "等一下！外面下雨了。"],
    "ja": ["私は学生です。", "雨が降っているから、待ってください。"],
    "ru": ["Привет! Как дела?", "Пойдём домой, уже поздно."],
    "te": ["నమస్కారం, మీరు ఎలా ఉన్నారు?", "ఇంటికి వెళ్దాం."],
    "fr": ["Où est la gare ?", "Je ne sais pas, demande au chauffeur."],
    "de": ["Wo bist du?", "Ich komme gleich, warte auf mich."],
    "es": ["¿Dónde está la estación?", "No lo sé, pregunta al conductor."],
    "ar": ["مرحبا، كيف حالك؟", "لنذهب إلى البيت قبل المطر."],
    "el": ["Καλημέρα, τι κάνεις;", "Πάμε σπίτι πριν βρέξει."],
    "he": ["שלום, מה שלומך?", "בוא נלך הביתה."],
    "hi": ["नमस्ते, आप कैसे हैं?", "चलो घर चलते हैं।"],
    "ko": ["안녕하세요, 잘 지냈어요?", "집에 가요."],
    "uk": ["Дякую, я вже йду додому.", "Де мій кіт?"],
    "pt": ["Obrigado, vamos para casa agora.", "Onde está o meu irmão?"],
}


@pytest.mark.parametrize("code", sorted(DIALOGUE))
def test_detects_the_language_of_short_dialogue(code: str) -> None:
    assert detect_language(DIALOGUE[code]) == code
    assert detect_language(DIALOGUE[code][:1]) == code


def test_a_few_letters_go_to_the_usual_language_of_their_script() -> None:
    # Too short for the detector to tell Kabyle from English, or Serbian from Russian.
    assert detect_language(["Yes."]) == "en"
    assert detect_language(["OK"]) == "en"
    assert detect_language(["Привет!"]) == "ru"
    assert detect_language(["...", "", "  "]) == "en"
    assert detect_language([]) == "en"


def test_kana_tells_japanese_from_chinese() -> None:
    # Mostly kanji with a little kana is Japanese; Chinese characters alone are Chinese.
    assert detect_language(["東京駅の南口で会議室を予約した。"]) == "ja"
    assert detect_language(["东京站南口会议室已经预订。"]) == "zh"
    # Names in Latin letters do not make a Russian script English.
    assert detect_language(["Привет, John! Где ты был вчера, Mary?"]) == "ru"


def test_auto_resolves_a_voiced_and_drawn_language_without_warnings() -> None:
    assert resolve_language("auto", DIALOGUE["te"]) == ("te", [])
    assert resolve_language("ru", DIALOGUE["ru"]) == ("ru", [])
    # Other names people type for a language in the table.
    assert resolve_language("nb", ["Takk skal du ha."])[0] == "no"
    assert resolve_language("CMN", DIALOGUE["zh"])[0] == "zh"


def test_an_unknown_code_is_one_clear_error() -> None:
    with pytest.raises(LanguageError, match=r"'xx'.*inkreel languages.*--lang auto"):
        resolve_language("xx", DIALOGUE["en"])


def test_a_script_no_font_draws_gets_one_warning_for_the_whole_screenplay() -> None:
    georgian = [f"გამარჯობა, როგორ ხარ? ({n})" for n in range(20)]
    code, warnings = resolve_language("auto", georgian)
    assert code == "ka"
    assert len(warnings) == 1
    assert "no font covers" in warnings[0] and "Georgian" in warnings[0]
    # Georgian is voiced: the warning says the lines still are.
    assert "still voiced" in warnings[0]


def test_a_language_without_a_voice_says_who_voices_it() -> None:
    code, warnings = resolve_language("auto", ["Bos días, meu amigo, imos á praia mañá?"] * 5)
    assert code == "gl"
    assert warnings == [
        "no eSpeak voice for Galician (gl): lines are subtitled, and voiced with the "
        "Portuguese voice."
    ]
    # Khmer: no voice reads the script and no packaged font draws it, one warning each.
    code, warnings = resolve_language("km", ["សួស្តី"] * 5)
    assert code == "km" and len(warnings) == 2
    assert "Khmer (km)" in warnings[0] and "romanisation" in warnings[0]
    assert "no font covers" in warnings[1]


def test_an_explicit_language_that_does_not_match_the_script_is_flagged() -> None:
    code, warnings = resolve_language("ru", DIALOGUE["te"])
    assert code == "ru"
    assert len(warnings) == 1 and "Telugu (te)" in warnings[0] and "--lang auto" in warnings[0]


def test_every_language_has_an_espeak_voice_file() -> None:
    lang_dir = Path(espeakng_loader.get_data_path()) / "lang"
    files = {p.name.lower() for p in lang_dir.rglob("*") if p.is_file()}
    for lang in LANGUAGES.values():
        assert lang.voice.lower() in files, lang
    # A stand-in is a voiced language; an alias points into the table.
    for code, (_name, _script, stand_in) in languages.UNVOICED.items():
        assert code not in LANGUAGES
        assert stand_in is None or stand_in in LANGUAGES
        assert speaking_language(code).code in LANGUAGES
    assert set(languages.ALIASES.values()) <= set(LANGUAGES)


def test_scripts_of_letters_marks_and_punctuation() -> None:
    script_of = writing.script_of
    assert [script_of(c) for c in "aЖΩאعతあア漢한"] == [
        "LATIN", "CYRILLIC", "GREEK", "HEBREW", "ARABIC", "TELUGU", "KANA", "KANA", "HAN",
        "HANGUL",
    ]  # fmt: skip
    assert script_of("ి") == "TELUGU"  # a vowel sign belongs to its script
    assert script_of("々") == "HAN" and script_of("ー") == "KANA"
    assert {script_of(c) for c in " 1,.!?—\u0301"} == {None}


# ----------------------------------------------------------------------------- command line

runner = CliRunner()

GEORGIAN_SCRIPT = """Title: Rain

INT. ROOM - DAY

Nino stands at the window.

@ნინო
გამარჯობა, როგორ ხარ?

@გიორგი
კარგად, მადლობა. წავიდეთ სახლში.

@ნინო
კარგი.
"""


def test_the_cli_detects_a_screenplays_language_and_warns_once(tmp_path: Path) -> None:
    script = tmp_path / "rain.fountain"
    script.write_text(GEORGIAN_SCRIPT, encoding="utf-8")
    result = runner.invoke(app, ["estimate", "--script", str(script)])
    assert result.exit_code == 0, result.output
    assert "Dialogue language: Georgian (ka), detected." in result.stderr
    assert result.stderr.count("warning") == 1 and "no font covers" in result.stderr


def test_the_cli_refuses_unknown_codes_and_ideas_in_other_languages(tmp_path: Path) -> None:
    result = runner.invoke(app, ["produce", "A cat.", "--lang", "xx", "-o", str(tmp_path)])
    assert result.exit_code == 2 and "inkreel languages" in result.stderr
    result = runner.invoke(app, ["produce", "A cat.", "--lang", "fr", "-o", str(tmp_path)])
    assert result.exit_code == 2 and "French (fr)" in result.stderr
    assert "--script" in result.stderr
    assert not list(tmp_path.iterdir()), "nothing is created for a refused request"


def test_the_cli_lists_the_languages() -> None:
    result = runner.invoke(app, ["languages"])
    assert result.exit_code == 0, result.output
    assert "Telugu" in result.stdout and f"{len(LANGUAGES)} voiced languages" in result.stdout
