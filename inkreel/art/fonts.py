"""Fonts that draw a line of dialogue: packaged Noto fonts by script, then a CJK font.

The fonts come from PyPI packages (SIL Open Font License) located through `fontpkg`: Noto Sans
for Latin (with Latin Extended), Cyrillic and Greek, a Noto font per Indic, Arabic and Thai
script, Heebo for Hebrew, Hind Siliguri for Bengali, and Noto Sans CJK (`cvttf-...` package, or
one installed on the system) for Chinese, Japanese and Korean. A font is chosen for a text by
its character map (read with fontTools), so a line never falls back to boxes while a packaged
font could draw it. Pillow lays the text out with raqm, which shapes Indic and Arabic scripts.
"""

from __future__ import annotations

import contextlib
import re
import struct
import sys
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path

import fontpkg
from fontTools.ttLib import TTFont, TTLibError
from PIL import ImageFont

from inkreel.art.writing import script_of

__all__ = ["find_font", "font_file", "has_cjk", "uncovered"]

# Packaged fonts in order of preference, each with the script it is there for: a text gets
# the fonts of its own scripts first, so Hindi is drawn by Noto Sans Devanagari although Noto
# Sans has some Devanagari too. The fonts are variable; their default instance is Regular.
PACKAGED_FONTS = (
    ("Noto Sans", "LATIN"),  # also Cyrillic, Greek, Vietnamese
    ("Noto Sans Devanagari", "DEVANAGARI"),
    ("Noto Sans Arabic", "ARABIC"),
    ("Noto Sans Telugu", "TELUGU"),
    ("Noto Sans Tamil", "TAMIL"),
    ("Noto Sans Thai", "THAI"),
    ("Hind Siliguri", "BENGALI"),
    ("Heebo", "HEBREW"),
)

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


def has_cjk(text: str) -> bool:
    """Return whether the text holds Chinese, Japanese or Korean characters."""
    return bool(_CJK.search(text))


@lru_cache(maxsize=1)
def packaged_fonts() -> tuple[tuple[Path, str], ...]:
    """Return the installed packaged font files, each with the script it is there for."""
    found = []
    for family, script in PACKAGED_FONTS:
        try:
            path = fontpkg.path(family)
        except fontpkg.FontpkgError:
            continue  # a declared dependency, but a trimmed install still draws what it can
        if path.is_file():
            found.append((path, script))
    return tuple(found)


@cache
def cmap(path: Path) -> frozenset[int]:
    """Return the code points a font file maps to glyphs (the first font of a collection)."""
    try:
        with TTFont(path, lazy=True, fontNumber=0) as font:
            return frozenset(font.getBestCmap() or {})
    except (OSError, TTLibError, KeyError, ValueError, AssertionError, struct.error):
        return frozenset()  # not a font fontTools can read: it covers nothing


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


def _drawn(text: str) -> frozenset[str]:
    # Format characters (zero-width joiners, direction marks) steer shaping; they draw nothing.
    return frozenset(ch for ch in text if not ch.isspace() and ch.isprintable())


def font_file(text: str) -> Path | None:
    """Return the font file that draws the most of the text (all of it when one can).

    Fonts for the text's own scripts come first, then the other packaged fonts, then CJK
    fonts if the text has CJK characters. None only when no packaged font is installed.
    """
    return _font_for(_drawn(text))


@lru_cache(maxsize=4096)
def _font_for(chars: frozenset[str]) -> Path | None:
    packaged = packaged_fonts()
    scripts = {script_of(ch) for ch in chars}
    candidates = [path for path, script in packaged if script in scripts]
    candidates += [path for path, _ in packaged if path not in candidates]
    if any(has_cjk(ch) for ch in chars):
        candidates += _font_files()
    best: tuple[int, Path] | None = None
    for path in candidates:
        covered = sum(ord(ch) in cmap(path) for ch in chars)
        if covered == len(chars):
            return path
        if best is None or covered > best[0]:
            best = (covered, path)
    return best[1] if best else None


def uncovered(texts: Iterable[str]) -> set[str]:
    """Return the characters of the texts that the font chosen for their line cannot draw."""
    missing: set[str] = set()
    for text in texts:
        chars = _drawn(text)
        path = _font_for(chars)
        have = cmap(path) if path is not None else frozenset()
        missing |= {ch for ch in chars if ord(ch) not in have}
    return missing


@lru_cache(maxsize=256)
def _load(path: Path, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    # Shared between threads: Pillow holds the GIL while FreeType draws. A bold font is an
    # object of its own: setting a variable font's instance changes the object.
    font = ImageFont.truetype(str(path), size)
    if bold:
        with contextlib.suppress(OSError, ValueError):  # not a variable font, or no Bold
            font.set_variation_by_name("Bold")
    return font


def find_font(
    text: str, size: int = 14, bold: bool = False
) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Return a font that draws the text, at `size` pixels (see font_file); with `bold`, its
    Bold instance where the font has one."""
    path = font_file(text)
    if path is not None:
        try:
            return _load(path, size, bold)
        except OSError:
            pass  # a system font FreeType cannot open: the default still draws Latin
    return ImageFont.load_default(size=size)
