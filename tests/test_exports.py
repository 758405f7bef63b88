"""SRT subtitles and the storyboard contact sheet."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest
import srt
from PIL import Image, ImageDraw, ImageFont

from inkreel.media import exports
from inkreel.media.exports import contact_sheet, find_font, has_cjk, write_srt
from inkreel.schemas.storyboard import Angle, Camera, Framing, Move, Shot
from inkreel.schemas.timeline import Subtitle


def test_srt_parses_back_with_frame_exact_times(tmp_path: Path) -> None:
    subs = [
        Subtitle(start=36, end=84, speaker="STEEL", text="Beer's ready!"),
        Subtitle(start=0, end=30, speaker="BRICK", text="Hey steel."),
        Subtitle(start=100, end=100, speaker="李雷", text="你好！"),
        Subtitle(start=120, end=150, speaker="BOB", text="  "),
    ]
    path = write_srt(subs, 24, tmp_path / "ep" / "episode.srt")
    raw = path.read_bytes()
    parsed = list(srt.parse(raw.decode("utf-8")))
    assert [s.content for s in parsed] == ["Hey steel.", "Beer's ready!", "你好！"]
    assert [s.index for s in parsed] == [1, 2, 3]
    assert parsed[0].start == timedelta(0)
    assert parsed[0].end == timedelta(seconds=1.25)
    assert (parsed[1].start, parsed[1].end) == (timedelta(seconds=1.5), timedelta(seconds=3.5))
    # A zero-length cue gets one frame; times are frames rounded to the millisecond.
    assert parsed[2].start == timedelta(milliseconds=4167)
    assert parsed[2].end == timedelta(milliseconds=4208)
    assert b"STEEL" not in raw
    assert not list(path.parent.glob(".*part*"))


def test_srt_rejects_bad_fps(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_srt([], 0, tmp_path / "x.srt")


def _shot(n: int, speaker: str | None, text: str) -> Shot:
    return Shot(
        id=f"s{n // 10 + 1:02d}-{n % 10 + 1:03d}",
        scene=n // 10 + 1,
        beat=n % 10,
        location="Brick's Patio",
        time_of_day="day",
        framing=list(Framing)[n % len(Framing)],
        angle=list(Angle)[n % len(Angle)],
        move=list(Move)[n % len(Move)],
        camera=Camera(x=0, y=1.5, view_width=6),
        blocking=[],
        speaker=speaker,
        text=text,
        duration_s=2.5 + n % 3,
    )


def _keyframe(path: Path, seed: int) -> Path:
    rng = random.Random(seed)
    image = Image.linear_gradient("L").resize((1280, 720)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(1200), rng.randrange(640)
        colour = tuple(rng.randrange(256) for _ in range(3))
        draw.ellipse((x, y, x + rng.randrange(40, 300), y + rng.randrange(40, 300)), fill=colour)
    image.save(path)
    return path


def test_contact_sheet_of_thirty_shots(tmp_path: Path) -> None:
    frames = [_keyframe(tmp_path / f"k{i}.png", i) for i in range(5)]
    long_line = "Everyone's coming after you mate! Scorpio, The Boy Band, Sparrow, " * 3
    shots = [
        _shot(n, "COGNITO" if n % 2 else None, long_line if n % 3 else "Steel SMACKS him.")
        for n in range(30)
    ]
    shots[7] = _shot(7, "李雷", "你好，今天天气很好，我们去茶馆喝茶吧。" * 4)
    keyframes = {s.id: frames[i % 5] for i, s in enumerate(shots) if i != 3}
    out = contact_sheet(shots, keyframes, tmp_path / "sheets" / "storyboard.png")
    assert out == tmp_path / "sheets" / "storyboard.png"
    assert out.stat().st_size < 1_000_000
    caption_h = exports.PAD // 2 + 16 * (1 + exports.CAPTION_LINES)
    with Image.open(out) as sheet:
        sheet.load()
        assert sheet.format == "PNG"
        assert sheet.size == (
            exports.PAD + 4 * (exports.THUMB_W + exports.PAD),
            exports.TITLE_H + exports.PAD + 8 * (exports.THUMB_H + caption_h + exports.PAD),
        )


def test_contact_sheet_columns_and_empty(tmp_path: Path) -> None:
    out = contact_sheet([_shot(0, None, "A gorgeous day.")], {}, tmp_path / "one.png", columns=4)
    with Image.open(out) as sheet:
        assert sheet.width == exports.PAD + exports.THUMB_W + exports.PAD
    out = contact_sheet([], {}, tmp_path / "none.png")
    with Image.open(out) as sheet:
        assert sheet.width > 0


def test_wrap_cuts_long_text_to_three_lines() -> None:
    font = ImageFont.load_default(size=12)
    lines = exports._wrap("word " * 200, font, 300, 3)
    assert len(lines) == 3 and lines[-1].endswith("...")
    assert all(font.getlength(line) <= 300 for line in lines)
    cjk = exports._wrap("你好" * 100, font, 300, 3)
    assert len(cjk) == 3


def test_find_font() -> None:
    assert has_cjk("李雷") and has_cjk("こんにちは") and not has_cjk("Brick & Steel")
    latin = find_font("Brick", 14)
    assert latin.getlength("Brick") > 0
    cjk = find_font("你好", 14)
    assert cjk.getlength("你好") > 0


DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@pytest.mark.skipif(not DEJAVU.exists(), reason="DejaVu Sans not installed")
def test_a_font_without_cjk_glyphs_is_not_chosen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    font = ImageFont.truetype(str(DEJAVU), 16)
    assert exports._covers(font, "A") and not exports._covers(font, "你")
    (tmp_path / "NotoSansCJK-Regular.ttc").write_bytes(DEJAVU.read_bytes())
    monkeypatch.setattr(exports, "FONT_PLACES", [tmp_path])
    monkeypatch.setattr(exports, "_package_font_dirs", list)
    exports._font_files.cache_clear()
    exports._cjk_font_file.cache_clear()
    try:
        assert exports._font_files() == (tmp_path / "NotoSansCJK-Regular.ttc",)
        assert exports._cjk_font_file("你好") is None
    finally:
        exports._font_files.cache_clear()
        exports._cjk_font_file.cache_clear()
