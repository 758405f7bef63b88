"""Fonts for subtitles and cards: every script we voice is drawn, shaped, and gaps are found."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import ImageFont

from inkreel.art import fonts
from inkreel.art.fonts import find_font, font_file, uncovered

SAMPLES = {
    "Latin Extended": "Café Müller, Straße, niño, Ångström, są łódź",
    "dashes and quotes": "— – “yes” ‘no’ …",
    "Cyrillic": "Съешь же ещё этих мягких булок, Їжак",
    "Greek": "Καλημέρα, τι κάνεις; Ψυχή",
    "Hebrew": "שלום, מה שלומך?",
    "Arabic": "مرحبا، كيف حالك؟",
    "Persian": "پدر و مادر گچ ژاله",
    "Devanagari": "नमस्ते, आप कैसे हैं? क्षत्रिय",
    "Telugu": "నమస్కారం, మీరు ఎలా ఉన్నారు?",
    "Tamil": "வணக்கம், எப்படி இருக்கிறீர்கள்?",
    "Thai": "สวัสดีครับ",
    "Bengali": "নমস্কার, আপনি কেমন আছেন?",
    "Chinese": "你好，我们走吧。",
    "Japanese": "私は学生です。カタカナ",
    "Korean": "안녕하세요",
}


@pytest.mark.parametrize("script", sorted(SAMPLES))
def test_the_chosen_font_has_every_character(script: str) -> None:
    text = SAMPLES[script]
    path = font_file(text)
    assert path is not None
    have = fonts.cmap(path)
    assert [ch for ch in text if not ch.isspace() and ord(ch) not in have] == []
    assert uncovered([text]) == set()
    font = find_font(text, 24)
    assert isinstance(font, ImageFont.FreeTypeFont) and Path(str(font.path)) == path


def test_latin_lines_look_the_same_with_or_without_accents() -> None:
    # One face for all Latin text: a French line with an accent must not switch fonts.
    plain, accented = find_font("Brick and steel", 20), find_font("Café crème", 20)
    assert plain.getname() == accented.getname() == ("Noto Sans", "Regular")
    # Loaded once per file and size.
    assert find_font("one", 20) is find_font("two", 20)


def test_a_script_gets_its_own_font_first() -> None:
    # Noto Sans has some Devanagari too, but Hindi is drawn by Noto Sans Devanagari.
    assert find_font(SAMPLES["Devanagari"], 20).getname()[0] == "Noto Sans Devanagari"
    assert find_font(SAMPLES["Telugu"] + " Ravi", 20).getname()[0] == "Noto Sans Telugu"
    assert find_font(SAMPLES["Hebrew"], 20).getname()[0] == "Heebo"


@pytest.mark.parametrize(
    ("text", "parts"),
    [("క్ష్మ", ["క", "్", "ష", "్", "మ"]), ("سلام", ["س", "ل", "ا", "م"])],
)
def test_complex_scripts_are_shaped(text: str, parts: list[str]) -> None:
    # With raqm, a Telugu conjunct stacks and Arabic letters join: the word is narrower than
    # its letters drawn one by one in isolated forms.
    font = find_font(text, 40)
    assert font.layout_engine == ImageFont.Layout.RAQM
    assert font.getlength(text) < 0.9 * sum(font.getlength(p) for p in parts)


def test_what_no_font_draws_is_reported() -> None:
    # Georgian and Ethiopic: eSpeak voices them, no packaged font draws them.
    assert uncovered(["გამარჯობა", "Hello", "ሰላም"]) == set("გამარჯობაሰላም")
    # The font that draws most of a line is still the one chosen.
    assert find_font("Hello გამარჯობა", 20).getname()[0] == "Noto Sans"


DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@pytest.mark.skipif(not DEJAVU.exists(), reason="DejaVu Sans not installed")
def test_a_font_without_cjk_glyphs_is_not_chosen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file named like a CJK font that has none of its characters.
    fake = tmp_path / "NotoSansCJK-Regular.ttc"
    fake.write_bytes(DEJAVU.read_bytes())
    monkeypatch.setattr(fonts, "FONT_PLACES", [tmp_path])
    monkeypatch.setattr(fonts, "_package_font_dirs", list)
    fonts._font_files.cache_clear()
    fonts._font_for.cache_clear()
    try:
        assert fonts._font_files() == (fake,)
        assert font_file("你好") != fake
        assert uncovered(["你好"]) == {"你", "好"}
    finally:
        fonts._font_files.cache_clear()
        fonts._font_for.cache_clear()
