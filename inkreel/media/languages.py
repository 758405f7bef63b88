"""Languages of dialogue: which ones eSpeak NG voices, and which one a screenplay is written in.

LANGUAGES is the table of languages an episode can be voiced in: ISO 639-1 codes (639-3 where
there is none) mapped to a voice of the eSpeak NG data shipped in the `espeakng-loader` wheel.
Detection counts the writing systems of the dialogue (kana means Japanese, Telugu letters mean
Telugu) and asks py3langid, whose model ships in its wheel, to tell apart the languages that
share a script (Latin, Cyrillic, Arabic, Devanagari). Everything here is a pure function.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from inkreel.art import fonts
from inkreel.art.writing import script_counts, script_name, script_of

AUTO = "auto"
DEFAULT = "en"


class LanguageError(ValueError):
    """A language code that is not known here; the message says how to list the known ones."""


@dataclass(frozen=True)
class Language:
    """A language an episode can be voiced in."""

    code: str
    name: str
    voice: str  # an eSpeak NG voice name (a file under espeak-ng-data/lang)
    script: str  # the writing system its dialogue is expected in (see script_of)


def _table(rows: str) -> dict[str, Language]:
    table = {}
    for row in rows.strip().splitlines():
        code, name, voice, script = (part.strip() for part in row.split("|"))
        table[code] = Language(code, name, voice, script)
    return table


# Every voice is checked to load and speak by tests/test_languages.py.
LANGUAGES: dict[str, Language] = _table("""
    af  | Afrikaans        | af      | LATIN
    am  | Amharic          | am      | ETHIOPIC
    an  | Aragonese        | an      | LATIN
    ar  | Arabic           | ar      | ARABIC
    as  | Assamese         | as      | BENGALI
    az  | Azerbaijani      | az      | LATIN
    ba  | Bashkir          | ba      | CYRILLIC
    be  | Belarusian       | be      | CYRILLIC
    bg  | Bulgarian        | bg      | CYRILLIC
    bn  | Bengali          | bn      | BENGALI
    bs  | Bosnian          | bs      | LATIN
    ca  | Catalan          | ca      | LATIN
    cs  | Czech            | cs      | LATIN
    cv  | Chuvash          | cv      | CYRILLIC
    cy  | Welsh            | cy      | LATIN
    da  | Danish           | da      | LATIN
    de  | German           | de      | LATIN
    el  | Greek            | el      | GREEK
    en  | English          | en-us   | LATIN
    eo  | Esperanto        | eo      | LATIN
    es  | Spanish          | es      | LATIN
    et  | Estonian         | et      | LATIN
    eu  | Basque           | eu      | LATIN
    fa  | Persian          | fa      | ARABIC
    fi  | Finnish          | fi      | LATIN
    fr  | French           | fr      | LATIN
    ga  | Irish            | ga      | LATIN
    gd  | Scottish Gaelic  | gd      | LATIN
    gn  | Guarani          | gn      | LATIN
    grc | Ancient Greek    | grc     | GREEK
    gu  | Gujarati         | gu      | GUJARATI
    haw | Hawaiian         | haw     | LATIN
    he  | Hebrew           | he      | HEBREW
    hi  | Hindi            | hi      | DEVANAGARI
    hr  | Croatian         | hr      | LATIN
    ht  | Haitian Creole   | ht      | LATIN
    hu  | Hungarian        | hu      | LATIN
    hy  | Armenian         | hy      | ARMENIAN
    ia  | Interlingua      | ia      | LATIN
    id  | Indonesian       | id      | LATIN
    is  | Icelandic        | is      | LATIN
    it  | Italian          | it      | LATIN
    ja  | Japanese         | ja      | KANA
    ka  | Georgian         | ka      | GEORGIAN
    kk  | Kazakh           | kk      | CYRILLIC
    kl  | Greenlandic      | kl      | LATIN
    kn  | Kannada          | kn      | KANNADA
    ko  | Korean           | ko      | HANGUL
    kok | Konkani          | kok     | DEVANAGARI
    ku  | Kurdish          | ku      | LATIN
    ky  | Kyrgyz           | ky      | CYRILLIC
    la  | Latin            | la      | LATIN
    lb  | Luxembourgish    | lb      | LATIN
    lt  | Lithuanian       | lt      | LATIN
    ltg | Latgalian        | ltg     | LATIN
    lv  | Latvian          | lv      | LATIN
    mi  | Maori            | mi      | LATIN
    mk  | Macedonian       | mk      | CYRILLIC
    ml  | Malayalam        | ml      | MALAYALAM
    mr  | Marathi          | mr      | DEVANAGARI
    ms  | Malay            | ms      | LATIN
    mt  | Maltese          | mt      | LATIN
    my  | Burmese          | my      | MYANMAR
    ne  | Nepali           | ne      | DEVANAGARI
    nl  | Dutch            | nl      | LATIN
    no  | Norwegian        | nb      | LATIN
    om  | Oromo            | om      | LATIN
    or  | Odia             | or      | ORIYA
    pa  | Punjabi          | pa      | GURMUKHI
    pl  | Polish           | pl      | LATIN
    pt  | Portuguese       | pt-br   | LATIN
    qu  | Quechua          | qu      | LATIN
    ro  | Romanian         | ro      | LATIN
    ru  | Russian          | ru      | CYRILLIC
    sd  | Sindhi           | sd      | ARABIC
    si  | Sinhala          | si      | SINHALA
    sk  | Slovak           | sk      | LATIN
    sl  | Slovenian        | sl      | LATIN
    sq  | Albanian         | sq      | LATIN
    sr  | Serbian          | sr      | CYRILLIC
    sv  | Swedish          | sv      | LATIN
    sw  | Swahili          | sw      | LATIN
    ta  | Tamil            | ta      | TAMIL
    te  | Telugu           | te      | TELUGU
    th  | Thai             | th      | THAI
    ti  | Tigrinya         | ti      | ETHIOPIC
    tk  | Turkmen          | tk      | LATIN
    tn  | Tswana           | tn      | LATIN
    tr  | Turkish          | tr      | LATIN
    tt  | Tatar            | tt      | CYRILLIC
    ug  | Uyghur           | ug      | ARABIC
    uk  | Ukrainian        | uk      | CYRILLIC
    ur  | Urdu             | ur      | ARABIC
    uz  | Uzbek            | uz      | LATIN
    vi  | Vietnamese       | vi      | LATIN
    yue | Cantonese        | yue     | HAN
    zh  | Chinese          | cmn     | HAN
""")

# Languages the detector knows but eSpeak NG does not speak, with the voiced language that
# reads them best (a close relative, or one with the same spelling habits); the rest are read
# by the usual language of their script (SCRIPT_LANGUAGE). Faroese has an eSpeak voice file
# but no dictionary in this build: it says nothing.
UNVOICED: dict[str, tuple[str, str, str | None]] = {
    code: (name, script, stand_in or None)
    for code, name, script, stand_in in (
        (part.strip() for part in row.split("|"))
        for row in """
    ace | Acehnese            | LATIN      | id
    bcl | Central Bikol       | LATIN      | id
    bo  | Tibetan             | TIBETAN    |
    br  | Breton              | LATIN      |
    crh | Crimean Tatar       | LATIN      | tr
    dz  | Dzongkha            | TIBETAN    |
    ext | Extremaduran        | LATIN      | es
    fo  | Faroese             | LATIN      | is
    fuv | Fulfulde            | LATIN      |
    fy  | Frisian             | LATIN      | nl
    gcf | Guadeloupean Creole | LATIN      | ht
    gcr | Guianese Creole     | LATIN      | ht
    gl  | Galician            | LATIN      | pt
    guw | Gun                 | LATIN      |
    ha  | Hausa               | LATIN      |
    ig  | Igbo                | LATIN      |
    jv  | Javanese            | LATIN      | id
    kab | Kabyle              | LATIN      |
    kik | Kikuyu              | LATIN      | sw
    km  | Khmer               | KHMER      |
    lg  | Ganda               | LATIN      | sw
    lij | Ligurian            | LATIN      | it
    ln  | Lingala             | LATIN      | sw
    lo  | Lao                 | LAO        |
    mg  | Malagasy            | LATIN      | id
    mn  | Mongolian           | CYRILLIC   |
    nso | Northern Sotho      | LATIN      | tn
    oc  | Occitan             | LATIN      | ca
    pcm | Nigerian Pidgin     | LATIN      | en
    ps  | Pashto              | ARABIC     | fa
    rw  | Kinyarwanda         | LATIN      | sw
    sa  | Sanskrit            | DEVANAGARI |
    sdh | Southern Kurdish    | ARABIC     | fa
    se  | Northern Sami       | LATIN      |
    sn  | Shona               | LATIN      | sw
    so  | Somali              | LATIN      |
    st  | Southern Sotho      | LATIN      | tn
    tg  | Tajik               | CYRILLIC   |
    tl  | Tagalog             | LATIN      | id
    uzs | Southern Uzbek      | ARABIC     | fa
    vec | Venetian            | LATIN      | it
    vo  | Volapuk             | LATIN      |
    wa  | Walloon             | LATIN      | fr
    xh  | Xhosa               | LATIN      | sw
    yo  | Yoruba              | LATIN      |
    zu  | Zulu                | LATIN      | sw
""".strip().splitlines()
    )
}

# Other codes for a language in the table: the detector's labels for dialects and variants,
# and the eSpeak names people also type.
ALIASES = {
    "ary": "ar",
    "arz": "ar",
    "cmn": "zh",
    "gom": "kok",
    "gug": "gn",
    "hbo": "he",
    "nb": "no",
    "nn": "no",
    "wuu": "zh",
}

# The language that reads a script when nothing better is known: a line of Cyrillic in an
# English episode is read by the Russian voice, not spelled out letter by letter in English.
SCRIPT_LANGUAGE = {
    lang.script: lang.code
    for lang in reversed(LANGUAGES.values())  # the first language of a script wins
} | {
    "LATIN": "en",
    "CYRILLIC": "ru",
    "ARABIC": "ar",
    "DEVANAGARI": "hi",
    "BENGALI": "bn",
    "ETHIOPIC": "am",
    "GREEK": "el",
    "HAN": "zh",
}

# A kana share of CJK letters above this is Japanese (ordinary Japanese prose has 30-60 %).
_KANA_SHARE = 0.1
# Prior weight of a language the detector may name but we cannot voice: short, ambiguous text
# ("Bonjour.") should go to a voiced language, long text is decided by its evidence.
_UNVOICED_PRIOR = 0.1
# Prior weight of the usual language of a script (English for Latin, Russian for Cyrillic): a
# line of a few letters ("Yes.", "OK", "Привет!") is too short to tell Kabyle from English;
# a page of dialogue outweighs it by hundreds of nats.
_USUAL_PRIOR = 20.0
# py3langid's score for text in which it found no feature at all ("OK").
_NO_EVIDENCE = -1e30


def canonical(code: str) -> str:
    """Return the table's code for a language code or alias (lower case), as given if unknown."""
    code = code.strip().lower().replace("_", "-")
    return ALIASES.get(code, code)


def is_known(code: str) -> bool:
    """Return whether the code names a language here, voiced or not."""
    code = canonical(code)
    return code in LANGUAGES or code in UNVOICED


def language_name(code: str) -> str:
    """Return a language's English name ('Telugu'), or the code itself if it is not known."""
    code = canonical(code)
    if code in LANGUAGES:
        return LANGUAGES[code].name
    if code in UNVOICED:
        return UNVOICED[code][0]
    return code


def _script_of_language(code: str) -> str | None:
    if code in LANGUAGES:
        return LANGUAGES[code].script
    if code in UNVOICED:
        return UNVOICED[code][1]
    return None


def speaking_language(code: str, text: str = "") -> Language:
    """Return the table language whose voice speaks dialogue in `code`.

    A voiced language speaks itself; an unvoiced one its stand-in, else the usual language
    of the text's (or its) script, else English. Raises LanguageError for an unknown code.
    """
    code = canonical(code)
    if code in LANGUAGES:
        return LANGUAGES[code]
    if code not in UNVOICED:
        raise LanguageError(unknown_language_message(code))
    _name, script, stand_in = UNVOICED[code]
    if stand_in:
        return LANGUAGES[stand_in]
    counts = script_counts(text)
    main = counts.most_common(1)[0][0] if counts else script
    return LANGUAGES[SCRIPT_LANGUAGE.get(main, SCRIPT_LANGUAGE.get(script, DEFAULT))]


def unknown_language_message(code: str) -> str:
    return (
        f"unknown language {code!r}; `inkreel languages` lists the {len(LANGUAGES)} voiced "
        "languages and their codes (or use --lang auto to detect it from the dialogue)."
    )


# ----------------------------------------------------------------------------- detection

_IDENTIFIER: Any = None
_IDENTIFIER_LOCK = threading.Lock()


def _identifier() -> Any:
    """Return py3langid's identifier (its model is in the wheel; loading takes about 1 s)."""
    global _IDENTIFIER
    with _IDENTIFIER_LOCK:
        if _IDENTIFIER is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _IDENTIFIER = LanguageIdentifier.from_model_file(MODEL_FILE)
        return _IDENTIFIER


def _by_script(script: str, text: str) -> str:
    """Return the language of text in a script that several languages share."""
    ranked = _identifier().rank(text)
    best: tuple[float, str] | None = None
    for label, log_p in ranked:
        code = canonical(str(label))
        if _script_of_language(code) != script or float(log_p) < _NO_EVIDENCE:
            continue
        prior = 1.0 if code in LANGUAGES else _UNVOICED_PRIOR
        if SCRIPT_LANGUAGE.get(script) == code:
            prior *= _USUAL_PRIOR
        score = float(log_p) + math.log(prior)
        if best is None or score > best[0]:
            best = (score, code)
    return best[1] if best else SCRIPT_LANGUAGE.get(script, DEFAULT)


def detect_language(texts: Sequence[str]) -> str:
    """Return the language code of dialogue lines: 'te', 'ru', 'zh', 'ja'...

    Decided by the script most of the letters are in: kana (a tenth of the CJK letters or
    more) means Japanese, other Chinese characters Chinese, Hangul Korean; a script only one
    language here writes (Telugu, Greek, Hebrew, Thai...) is that language; Latin, Cyrillic,
    Arabic and Devanagari go to py3langid, limited to the languages of that script. Text with
    no letters is English. A code may name a language with no voice (see LANGUAGES).
    """
    text = "\n".join(t for t in texts if t and t.strip())
    counts = script_counts(text)
    if not counts:
        return DEFAULT
    cjk = counts["HAN"] + counts["KANA"] + counts["HANGUL"]
    main = counts.most_common(1)[0][0]
    if cjk * 2 >= sum(counts.values()):
        if counts["HANGUL"] >= counts["HAN"] + counts["KANA"]:
            return "ko"
        return "ja" if counts["KANA"] >= _KANA_SHARE * cjk else "zh"
    candidates = {code for code in [*LANGUAGES, *UNVOICED] if _script_of_language(code) == main}
    if len(candidates) == 1:
        return candidates.pop()
    if not candidates:
        return SCRIPT_LANGUAGE.get(main, DEFAULT)
    # Only the letters of that script: English names in a Russian script do not sway it.
    own = "".join(ch if script_of(ch) in (main, None) else " " for ch in text)
    return _by_script(main, own)


# ----------------------------------------------------------------------------- resolution


def resolve_language(requested: str, texts: Iterable[str]) -> tuple[str, list[str]]:
    """Return the episode's language for dialogue `texts`, and warnings to show once.

    `requested` is a code, an alias or 'auto' (detect from the texts). Warnings say when no
    eSpeak voice speaks the language (the lines are still subtitled and voiced by a stand-in),
    when no packaged font draws some of the characters, and when an explicit language does
    not match the script of the dialogue. Raises LanguageError for an unknown code.
    """
    lines = [t for t in texts if t and t.strip()]
    if requested.strip().lower() == AUTO:
        code = detect_language(lines)
    else:
        code = canonical(requested)
        if not is_known(code):
            raise LanguageError(unknown_language_message(requested))
    warnings: list[str] = []
    name = language_name(code)
    counts = script_counts("".join(lines))
    if requested.strip().lower() != AUTO and counts:
        main = counts.most_common(1)[0][0]
        written = {_script_of_language(code)} | ({"HAN"} if code == "ja" else set())
        seen = detect_language(lines)
        if main not in written and seen != code:
            warnings.append(
                f"--lang {code} ({name}), but most of the dialogue is in {script_name(main)} "
                f"and reads as {language_name(seen)} ({seen}); use --lang auto to detect the "
                f"language, or --lang {seen}."
            )
    # Scripts no eSpeak voice reads: their words are voiced as a romanisation (audio.py).
    unreadable = sorted(s for s in counts if s not in SCRIPT_LANGUAGE)
    if code not in LANGUAGES:
        stand_in = speaking_language(code, "".join(lines))
        how = " reading a rough romanisation" if unreadable else ""
        warnings.append(
            f"no eSpeak voice for {name} ({code}): lines are subtitled, and voiced with the "
            f"{stand_in.name} voice{how}."
        )
    elif unreadable:
        warnings.append(
            f"no eSpeak voice reads {', '.join(map(script_name, unreadable))}: those words are "
            f"voiced by the {name} voice as a rough romanisation."
        )
    missing = fonts.uncovered(lines)
    if missing:
        sample = " ".join(sorted(missing)[:8])
        scripts = Counter(script_of(ch) or "" for ch in missing)
        top = scripts.most_common(1)[0][0]
        what = name if top and top == _script_of_language(code) else script_name(top or "?")
        warnings.append(
            f"no font covers {len(missing)} characters of {what} ({sample}"
            f"{' ...' if len(missing) > 8 else ''}): they show as boxes in subtitles and "
            "title cards; the lines are still voiced."
        )
    return code, warnings
