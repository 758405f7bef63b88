"""Side products of an episode: SRT subtitles and a storyboard contact sheet."""

from __future__ import annotations

import io
import re
import sys
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

import srt
from PIL import Image, ImageDraw, ImageFont

from inkreel.project import write_bytes_atomic, write_text_atomic
from inkreel.schemas.storyboard import Shot
from inkreel.schemas.timeline import Subtitle

__all__ = ["contact_sheet", "find_font", "has_cjk", "write_srt"]

THUMB_W, THUMB_H = 300, 169
PAD = 10
TITLE_H = 44
CAPTION_LINES = 3
MAX_BYTES = 1_000_000
BACKGROUND = (245, 243, 238)
INK = (30, 30, 30)
MUTED = (110, 110, 110)

_CJK = re.compile(
    "[\u1100-\u11ff\u2e80-\u2fdf\u3000-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\U00020000-\U0003134f]"
)

# Places a CJK-capable font is commonly installed: Debian/Ubuntu packages, macOS, Windows.
FONT_PLACES = [
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/truetype/noto"),
    Path("/usr/share/fonts/noto-cjk"),
    Path("/usr/share/fonts/google-noto-cjk"),
    Path("/usr/share/fonts/opentype/source-han-sans"),
    Path("/usr/share/fonts/truetype/wqy"),
    Path("/usr/share/fonts/truetype/droid"),
    Path("/usr/share/fonts/truetype/arphic"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".local/share/fonts",
    Path.home() / ".fonts",
    Path("/System/Library/Fonts"),
    Path("/Library/Fonts"),
    Path("C:/Windows/Fonts"),
]
# Preferred file names first; any other font file in FONT_PLACES is tried after these.
FONT_NAMES = [
    "NotoSansCJK-Regular.ttc",
    "NotoSansCJKsc-Regular.otf",
    "NotoSansCJKjp-Regular.otf",
    "NotoSansSC-Regular.otf",
    "NotoSansJP-Regular.otf",
    "NotoSansSC-Regular.ttf",
    "NotoSansJP-Regular.ttf",
    "SourceHanSans-Regular.ttc",
    "wqy-microhei.ttc",
    "wqy-zenhei.ttc",
    "DroidSansFallbackFull.ttf",
    "PingFang.ttc",
    "Hiragino Sans GB.ttc",
    "msyh.ttc",
    "YuGothR.ttc",
    "msgothic.ttc",
    "simsun.ttc",
]
_FONT_SUFFIXES = (".ttf", ".otf", ".ttc")


def write_srt(subtitles: list[Subtitle], fps: int, path: Path) -> Path:
    """Write subtitles (the spoken line only, no speaker name) as a UTF-8 SRT file."""
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    entries: list[srt.Subtitle] = []
    for sub in sorted(subtitles, key=lambda s: (s.start, s.end)):
        text = "\n".join(line.strip() for line in sub.text.strip().splitlines() if line.strip())
        if not text:
            continue
        start = _timestamp(sub.start, fps)
        # A zero-length cue is invisible and some players reject it: give it one frame.
        end = max(_timestamp(sub.end, fps), _timestamp(sub.start + 1, fps))
        entries.append(srt.Subtitle(index=len(entries) + 1, start=start, end=end, content=text))
    return write_text_atomic(Path(path), srt.compose(entries))


def _timestamp(frame: int, fps: int) -> timedelta:
    # Whole milliseconds, so the file says exactly the time that parses back.
    return timedelta(milliseconds=round(max(frame, 0) * 1000 / fps))


def has_cjk(text: str) -> bool:
    """Return whether the text holds Chinese, Japanese or Korean characters."""
    return bool(_CJK.search(text))


@lru_cache(maxsize=1)
def _font_files() -> tuple[Path, ...]:
    """Return candidate CJK font files: preferred names first, then other likely files."""
    places = [*FONT_PLACES, *_package_font_dirs()]
    found: dict[Path, None] = {}
    for name in FONT_NAMES:
        for place in places:
            if (place / name).is_file():
                found.setdefault(place / name, None)
    for place in places:
        if place.is_dir():
            for path in sorted(place.rglob("*")):
                if path.suffix.lower() in _FONT_SUFFIXES and _looks_cjk(path.name):
                    found.setdefault(path, None)
    return tuple(found)


def _looks_cjk(name: str) -> bool:
    lowered = name.lower()
    return any(
        key in lowered
        for key in ("cjk", "sc-", "jp-", "tc-", "kr-", "han", "wqy", "fallback", "gothic", "hei")
    )


def _package_font_dirs() -> list[Path]:
    """Return folders of installed Python packages that look like they ship CJK fonts."""
    dirs = []
    for entry in sys.path:
        root = Path(entry)
        if not root.is_dir() or root.suffix == ".zip":
            continue
        try:
            children = list(root.iterdir())
        except OSError:
            continue
        for child in children:
            lowered = child.name.lower()
            if child.is_dir() and ("noto" in lowered or "cjk" in lowered or "font" in lowered):
                dirs.append(child)
    return dirs


@lru_cache(maxsize=64)
def _cjk_font_file(probe: str) -> Path | None:
    """Return the font file covering the most of the probe characters, if any covers one."""
    best: tuple[int, Path] | None = None
    for candidate in _font_files():
        try:
            font = ImageFont.truetype(str(candidate), 16)
        except OSError:
            continue
        covered = sum(_covers(font, ch) for ch in probe)
        if covered == len(probe):
            return candidate
        if covered and (best is None or covered > best[0]):
            best = (covered, candidate)
    return best[1] if best else None


def _covers(font: ImageFont.FreeTypeFont, text: str) -> bool:
    """Return whether the font draws each character differently from its missing glyph."""

    def glyph(ch: str) -> tuple[tuple[int, int], bytes]:
        mask = font.getmask(ch)
        return mask.size, bytes(mask)

    missing = glyph("\U0010fffd")
    return all(glyph(ch) != missing for ch in set(text) if not ch.isspace())


def find_font(text: str, size: int = 14) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Return a font that can draw the text: a CJK font on disk if needed, else the default."""
    if has_cjk(text):
        # A Chinese-only font may lack kana or Hangul, so probe with the text's own characters.
        probe = "".join(sorted(set(_CJK.findall(text))))[:64]
        path = _cjk_font_file(probe)
        if path is not None:
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def contact_sheet(
    shots: list[Shot],
    keyframes: dict[str, Path],
    path: Path,
    columns: int = 4,
    title: str | None = None,
) -> Path:
    """Draw a storyboard PNG: a titled grid of keyframe thumbnails with captions."""
    columns = max(1, min(columns, max(len(shots), 1)))
    rows = max(1, -(-len(shots) // columns))
    all_text = " ".join([title or "", *(f"{s.speaker or ''} {s.text}" for s in shots)])
    font = find_font(all_text, 13)
    small = find_font(all_text, 12)
    title_font = find_font(title or "", 20)
    line_h = 16
    caption_h = PAD // 2 + line_h * (1 + CAPTION_LINES)
    cell_w, cell_h = THUMB_W, THUMB_H + caption_h
    width = PAD + columns * (cell_w + PAD)
    height = TITLE_H + PAD + rows * (cell_h + PAD)
    sheet = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)

    total = sum(s.duration_s for s in shots)
    heading = title or Path(path).stem
    draw.rectangle((0, 0, width, TITLE_H), fill=INK)
    draw.text(
        (PAD, TITLE_H // 2),
        f"{heading}  -  {len(shots)} shots, {int(total // 60)}:{total % 60:04.1f}",
        font=title_font,
        fill=BACKGROUND,
        anchor="lm",
    )
    for n, shot in enumerate(shots):
        x = PAD + (n % columns) * (cell_w + PAD)
        y = TITLE_H + PAD + (n // columns) * (cell_h + PAD)
        sheet.paste(_thumbnail(keyframes.get(shot.id)), (x, y))
        ty = y + THUMB_H + PAD // 2
        framing = shot.framing.value.replace("_", " ")
        angle = shot.angle.value.replace("_", " ")
        move = "" if shot.move.value == "static" else f", {shot.move.value.replace('_', ' ')}"
        draw.text(
            (x, ty),
            f"{shot.id}  {framing} / {angle}{move}  {shot.duration_s:.1f}s",
            font=font,
            fill=INK,
        )
        said = f"{shot.speaker}: {shot.text}" if shot.speaker else shot.text
        for i, line in enumerate(_wrap(said, small, cell_w, CAPTION_LINES)):
            draw.text((x, ty + line_h * (i + 1)), line, font=small, fill=MUTED)
    _save_small(sheet, Path(path))
    return Path(path)


def _thumbnail(path: Path | None) -> Image.Image:
    if path is not None:
        try:
            with Image.open(path) as image:
                image.draft("RGB", (THUMB_W * 2, THUMB_H * 2))
                thumb = image.convert("RGB")
            thumb.thumbnail((THUMB_W, THUMB_H), Image.Resampling.LANCZOS)
            # Letterbox keyframes of another aspect so every cell lines up.
            cell = Image.new("RGB", (THUMB_W, THUMB_H), (20, 20, 20))
            cell.paste(thumb, ((THUMB_W - thumb.width) // 2, (THUMB_H - thumb.height) // 2))
            return cell
        except (OSError, ValueError):
            pass
    cell = Image.new("RGB", (THUMB_W, THUMB_H), (200, 198, 192))
    ImageDraw.Draw(cell).text(
        (THUMB_W // 2, THUMB_H // 2),
        "no keyframe",
        font=ImageFont.load_default(size=14),
        fill=MUTED,
        anchor="mm",
    )
    return cell


def _wrap(
    text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int, max_lines: int
) -> list[str]:
    """Return the text wrapped to a pixel width, cut to max_lines with an ellipsis."""
    words = " ".join(text.split()).split(" ")
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
            current = ""
        # A word wider than the cell (or CJK text, which has no spaces) breaks anywhere.
        for ch in word:
            if font.getlength(current + ch) > width and current:
                lines.append(current)
                current = ""
            current += ch
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and font.getlength(last + "...") > width:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last.rstrip() + "..."]
    return lines


def _save_small(sheet: Image.Image, path: Path) -> None:
    """Save as optimised PNG, reducing colours and then size until under MAX_BYTES."""
    attempts = [
        lambda im: im,
        lambda im: im.quantize(256, method=Image.Quantize.MEDIANCUT),
        lambda im: im.quantize(64, method=Image.Quantize.MEDIANCUT),
        lambda im: im.resize((im.width * 3 // 4, im.height * 3 // 4)).quantize(64),
    ]
    data = b""
    for attempt in attempts:
        buffer = io.BytesIO()
        attempt(sheet).save(buffer, format="PNG", optimize=True)
        data = buffer.getvalue()
        if len(data) < MAX_BYTES:
            break
    write_bytes_atomic(path, data)
