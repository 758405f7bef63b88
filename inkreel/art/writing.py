"""Writing systems of text: which script a letter belongs to (LATIN, CYRILLIC, HAN, KANA...),
read from Unicode names, so it needs no tables of code points."""

from __future__ import annotations

import unicodedata
from collections import Counter
from functools import lru_cache

_SCRIPT_NAMES = {"HAN": "Chinese characters", "KANA": "kana", "HANGUL": "Hangul"}
_NAME_SCRIPTS = {
    "CJK": "HAN",
    "IDEOGRAPHIC": "HAN",
    "KANGXI": "HAN",
    "HIRAGANA": "KANA",
    "KATAKANA": "KANA",
    "KATAKANA-HIRAGANA": "KANA",
}
# Letters and marks named after no script (a combining accent, a modifier letter).
_NO_SCRIPT = {"COMBINING", "MODIFIER", "FEMININE", "MASCULINE", "MICRO", "VEDIC", "ZERO"}


@lru_cache(maxsize=8192)
def script_of(ch: str) -> str | None:
    """Return the writing system of a letter or mark: LATIN, CYRILLIC, HAN, KANA, TELUGU...

    None for spaces, digits, punctuation, symbols and marks that belong to no script. The
    name is the first word of the character's Unicode name, so it needs no tables.
    """
    if unicodedata.category(ch)[0] not in "LM":
        return None
    words = unicodedata.name(ch, "").split()
    if words[:1] in (["FULLWIDTH"], ["HALFWIDTH"]):
        words = words[1:]
    if not words or words[0] in _NO_SCRIPT:
        return None
    return _NAME_SCRIPTS.get(words[0], words[0])


def script_counts(text: str) -> Counter[str]:
    """Return how many letters and marks of each writing system the text holds."""
    return Counter(s for s in map(script_of, text) if s is not None)


def script_name(script: str) -> str:
    """Return a script's name for a message: 'Telugu', 'Chinese characters'."""
    return _SCRIPT_NAMES.get(script, script.replace("_", " ").title() + " script")
