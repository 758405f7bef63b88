"""What screenplays in each supported language write for headings, cues, voices and times.

Tables only, with the small predicates that read them; `fountain_prep` and `fountain_cast`
apply them. Everything a reader may want to extend is a documented list here.

Scene heading prefixes (a heading is a line that starts with one, then a separator):
- English, and French/Spanish which write the same: INT, EXT, EST, I/E, INT./EXT.
  (read by fountain-py itself).
- German: INNEN, AUSSEN/AUẞEN/AUßEN, INNEN/AUSSEN, AUSSEN/INNEN, I/A (capitals only, so a
  sentence starting "Innen ..." stays action).
- Russian: ИНТ, НАТ, ИНТ./НАТ., НАТ./ИНТ. (capitals, or "Инт." / "Нат." with the dot).
- Chinese: 内景, 外景, 内外景 and the traditional 內景, 內外景.
- Japanese: 室内, 屋内 (inside), 室外, 屋外 (outside), and the ○ / ◯ scene mark of
  シナリオ ("○ 教室（夜）"), which says nothing about inside or out.
Latin and Cyrillic prefixes need a blank line (or the start of a scene) before them, as in
Fountain; CJK ones are headings wherever they start a line, since Chinese and Japanese
scripts often have no blank lines at all.
"""

from __future__ import annotations

import re
import unicodedata

from inkreel.schemas.script import TimeOfDay

# --- title page ----------------------------------------------------------------------------

# Title-page keys in other languages -> the Fountain key fountain-py knows (it reads English
# keys only). Only a first block made entirely of such "key: value" lines is a title page.
TITLE_KEYS = {
    **dict.fromkeys(["标题", "標題", "片名", "剧名", "劇名", "题目", "題名", "タイトル"], "Title"),
    **dict.fromkeys(["Название", "Titre", "Titel", "Título", "Titolo"], "Title"),
    **dict.fromkeys(["作者", "编剧", "編劇", "脚本", "原作", "Автор", "Auteur", "Autor"], "Author"),
    **dict.fromkeys(["日期", "日付", "Дата"], "Date"),
    **dict.fromkeys(["梗概", "简介", "簡介", "あらすじ", "Синопсис"], "Logline"),
}
TITLE_LINE = re.compile(r"^\s*(?P<key>[^:：\s][^:：]{0,11}?)\s*[:：]\s*(?P<value>.*)$")


def english_title_page(lines: list[str]) -> list[str]:
    """Return the lines with a title page written in another language given English keys
    (line for line, so line numbers stay); any other text is returned as it is."""
    first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    end = next((i for i in range(first, len(lines)) if not lines[i].strip()), len(lines))
    matches = [TITLE_LINE.match(line) for line in lines[first:end]]
    if not matches or not all(m and m.group("key") in TITLE_KEYS for m in matches):
        return lines
    keyed = [f"{TITLE_KEYS[m.group('key')]}: {m.group('value')}" for m in matches if m]
    return [*lines[:first], *keyed, *lines[end:]]


# --- scene headings ----------------------------------------------------------------------

# Separators after a prefix: a dot, ideographic full stop, colon, comma or whitespace.
_SEP = r"(?:\s*[.。．:：,，、]\s*|\s+|\u3000+)"

# (pattern, interior, cjk). interior None: the heading does not say (staged inside).
_HEADING_PREFIXES: list[tuple[re.Pattern[str], bool | None, bool]] = [
    (re.compile(r"^(?:INT\.?/EXT|I/E)(?:\s*\.|\s)", re.IGNORECASE), True, False),
    (re.compile(r"^INT(?:\s*\.|\s)", re.IGNORECASE), True, False),
    (re.compile(r"^(?:EXT|EST)(?:\s*\.|\s)", re.IGNORECASE), False, False),
    (re.compile(r"^(?:INNEN\.?/AU(?:SS|ß|ẞ)EN|AU(?:SS|ß|ẞ)EN\.?/INNEN|I/A)(?:\.|\s)"), True, False),
    (re.compile(r"^INNEN(?:\.|\s)"), True, False),
    (re.compile(r"^AU(?:SS|ß|ẞ)EN(?:\.|\s)"), False, False),
    (re.compile(r"^(?:ИНТ\.?/НАТ|НАТ\.?/ИНТ)(?:\.|\s)"), True, False),
    (re.compile(r"^(?:ИНТ(?:\.|\s)|Инт\.)"), True, False),
    (re.compile(r"^(?:НАТ(?:\.|\s)|Нат\.)"), False, False),
    (re.compile(rf"^(?:内外景|內外景){_SEP}"), True, True),
    (re.compile(rf"^(?:内景|內景){_SEP}"), True, True),
    (re.compile(rf"^外景{_SEP}"), False, True),
    (re.compile(rf"^(?:室内|屋内){_SEP}"), True, True),
    (re.compile(rf"^(?:室外|屋外){_SEP}"), False, True),
    (re.compile(r"^[○◯]\s*"), None, True),
]
# fountain-py reads these itself; only the others need forcing before it parses.
ENGLISH_PREFIXES = 3


def heading_prefix(line: str) -> tuple[int, re.Match[str], bool | None, bool] | None:
    """Return (table index, match, interior, cjk) for a line that starts a scene heading."""
    for index, (pattern, interior, cjk) in enumerate(_HEADING_PREFIXES):
        match = pattern.match(line)
        if match and line[match.end() :].strip():
            return index, match, interior, cjk
    return None


# Times of day written in other languages, matched as a whole heading suffix.
TIME_WORDS: dict[str, TimeOfDay] = {
    **dict.fromkeys(
        [
            *("日", "白天", "早上", "早晨", "清晨", "上午", "中午", "下午", "昼", "朝"),
            *("午前", "午後", "早朝", "日中"),
            *("ДЕНЬ", "УТРО", "ПОЛДЕНЬ", "TAG", "MORGEN", "MITTAG"),
        ],
        TimeOfDay.day,
    ),
    **dict.fromkeys(
        [
            *("黄昏", "傍晚", "日落", "黎明", "夕方", "夕暮れ", "夜明け", "夕", "夕刻"),
            *("ВЕЧЕР", "РАССВЕТ", "ЗАКАТ", "СУМЕРКИ", "ABEND", "DÄMMERUNG"),
        ],
        TimeOfDay.dusk,
    ),
    **dict.fromkeys(
        [
            *("夜", "夜晚", "晚上", "深夜", "午夜", "夜间", "夜間", "夜中"),
            *("НОЧЬ", "ПОЛНОЧЬ", "NACHT"),
        ],
        TimeOfDay.night,
    ),
}
# Suffixes in other languages that say "no time has passed" (the scene keeps the light).
CONTINUOUS_WORDS = {"同时", "同時", "接上", "連続", "ПРОДОЛЖЕНИЕ", "ТО ЖЕ ВРЕМЯ"}


def time_word(suffix: str) -> TimeOfDay | None:
    """Return the light a non-English heading suffix names, if it is one of TIME_WORDS."""
    return TIME_WORDS.get(unicodedata.normalize("NFKC", suffix).strip().upper())


# --- character cues ----------------------------------------------------------------------

# Letters of CJK names: ideographs, kana (with the prolonged-sound mark and the ・ and ·
# that join the parts of a foreign name).
_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u309f\u30a0-\u30ff\uff66-\uff9f"
CJK_CHAR = re.compile(f"[{_CJK}]")
# A CJK cue: at most 8 name characters (a role like 警察A or 路人甲 included), with
# an optional extension in ASCII or full-width brackets.
_CJK_NAME = rf"[{_CJK}·・•][{_CJK}·・•A-Za-z0-9Ａ-Ｚａ-ｚ０-９]{{0,7}}"
_EXTENSIONS = r"(?:\s*[(（][^()（）]*[)）])*"
CJK_CUE = re.compile(rf"^(?P<name>{_CJK_NAME}){_EXTENSIONS}\s*\^?$")
# The one-line forms: 名字：台词 (Chinese and Japanese) and 名前「台詞」 (Japanese シナリオ).
CJK_COLON_LINE = re.compile(rf"^(?P<cue>{_CJK_NAME}{_EXTENSIONS})\s*[：:]\s*(?P<line>\S.*)$")
CJK_BRACKET_LINE = re.compile(rf"^(?P<cue>{_CJK_NAME}{_EXTENSIONS})\s*「(?P<line>.+?)」?\s*$")
# Words that start such a line without being a speaker: cast lists, time and place,
# captions and production notes.
NOT_SPEAKERS = {
    *("人物", "出场人物", "登场人物", "登場人物", "人物表", "角色", "时间", "時間", "时", "時"),
    *("地点", "地點", "场景", "場景", "场次", "場所", "字幕", "テロップ", "备注", "注", "注意"),
    *("道具", "服装", "镜头", "鏡頭", "画面", "畫面", "音效", "音乐", "配乐", "特写", "景别"),
    *("闪回", "回忆", "剧名", "片名", "集数", "标题", "テーマ", "場面", "シーン"),
}
# A name ending in a verb of speech is prose ("他笑着说：..."), as is one with a particle.
_NOT_A_NAME = re.compile(r"[说道问喊叫答讲言]$|[了着很吗呢吧啊把被]")
_NUMBERED = re.compile(r"^第.+[场場集幕]$")


def is_cjk_name(name: str) -> bool:
    """Return whether a short CJK cue is plausibly a speaker, not a label or prose."""
    return not (name in NOT_SPEAKERS or _NOT_A_NAME.search(name) or _NUMBERED.match(name))


# A cue in letters: no lower-case letter in the name, at least one upper-case one (any
# script: É, Ö, Cyrillic, Greek), only the punctuation names use (and the "," "&" "/" of a
# group cue), then extensions, a dual-dialogue caret and a stray trailing colon.
_LETTER_CUE = re.compile(
    r"^(?P<name>[^\W_][\w\s.'’#&/,-]*?)\s*(?:[(（][^()（）]*[)）]\s*)*\^?\s*[:：]?\s*$"
)
# Screen directions written in capitals that are never speakers, even with text right
# under them ("FADE IN:", "SMASH CUT TO:", "ANGLE ON MIKE"): the text stays action.
_DIRECTION = re.compile(
    r"^(?:FADE|CUT|DISSOLVE|SMASH CUT|MATCH CUT|JUMP CUT|WIPE|IRIS|SUPER|TITLE|INSERT|"
    r"ANGLE ON|CLOSE ON|CLOSE UP|WIDE ON|BACK TO|INTERCUT|MONTAGE|SERIES OF SHOTS|"
    r"FLASHBACK|END FLASHBACK|THE END|CONTINUED)\b|\bTO:$"
)


def is_letter_cue(line: str) -> bool:
    """Return whether a line reads as a cue in a cased script (Latin, Cyrillic, Greek)."""
    match = _LETTER_CUE.match(line)
    if not match or _DIRECTION.search(line.strip()):
        return False
    name = match.group("name").rstrip()
    if any(c.islower() for c in name) or not any(c.isupper() for c in name):
        return False
    return not name.endswith((",", "&", "/"))


# Cue extensions that mean the speaker is heard, not seen; compared after NFKC, upper case,
# and dropping dots, slashes, apostrophes and hyphens ("V.O." -> "VO", "O.S." -> "OS").
OFF_SCREEN_EXTENSIONS = {
    *("VO", "OS", "OC", "OFF", "OFFSCREEN", "OFF SCREEN", "VOICE OVER", "VOICEOVER", "PRELAP"),
    *("ON PHONE", "ON THE PHONE", "OVER PHONE", "OVER THE PHONE", "PHONE", "ON RADIO"),
    *("ON THE RADIO", "OVER RADIO", "RADIO", "FILTERED", "ON TV", "ON THE TV", "ON SPEAKER"),
    *("ON SPEAKERPHONE", "ON INTERCOM", "OVER INTERCOM", "INTERCOM", "OVER PA", "RECORDED"),
    *("RECORDING", "ON RECORDING", "NARRATING", "SUBTITLED VO"),
    # Chinese, Japanese (N narration, M monologue), Russian (ЗК, ГЗК: за кадром).
    *("画外音", "画外", "旁白", "内心独白", "独白", "电话", "電話", "声", "N", "M", "オフ"),
    *("ナレーション", "モノローグ", "ЗК", "ГЗК", "ЗА КАДРОМ", "ПО ТЕЛЕФОНУ", "ПО РАДИО"),
}


def extension_key(extension: str) -> str:
    """Return an extension in the form OFF_SCREEN_EXTENSIONS lists."""
    text = unicodedata.normalize("NFKC", extension).upper()
    return " ".join(re.sub(r"[.'’/-]", "", text).split())


# --- voices: speakers who are heard and never drawn ----------------------------------------

# "ALL", "BOTH" and "EVERYONE" with no names are voices too: who is in the room at that
# moment is not known well enough to make them a chorus of the people present.
VOICE_NAMES = {
    *("INTERCOM", "RADIO", "PHONE", "TELEPHONE", "TV", "TELEVISION", "ANSWERING MACHINE"),
    *("MESSAGE MACHINE", "PRINTER", "COMPUTER", "LOUDSPEAKER", "PA", "PA SYSTEM", "TANNOY"),
    *("ANNOUNCER", "VOICE", "VOICES", "CROWD", "THE CROWD", "ALL", "BOTH", "EVERYONE"),
    *("EVERYBODY", "NARRATOR", "THE NARRATOR", "VOICEMAIL", "SPEAKERPHONE", "GPS", "CHORUS"),
    # Chinese, Japanese, Russian.
    *("广播", "廣播", "电话", "電話", "电视", "電視", "众人", "眾人", "大家", "全体", "全體"),
    *("画外音", "旁白", "收音机", "对讲机", "アナウンス", "一同", "全員", "みんな", "ナレーション"),
    *("ナレーター", "テレビ", "ラジオ", "ВСЕ", "ГОЛОС", "ГОЛОСА", "ДИКТОР", "РАДИО"),
    *("ТЕЛЕФОН", "ТЕЛЕВИЗОР", "ТОЛПА", "РАССКАЗЧИК", "ГРОМКОГОВОРИТЕЛЬ"),
}
# Simple rules for the rest: a name ending VOICE / MACHINE / RADIO / SPEAKER / INTERCOM
# ("MOM'S VOICE", "ANSWERING MACHINE"), starting VOICE ("VOICE ON PHONE"), or saying where
# it is heard from ("NEWSREADER ON TV"); CJK names ending in a voice or a device.
_VOICE_RULE = re.compile(
    r"(?:^|\s)(?:VOICE|VOICES|MACHINE|RADIO|SPEAKER|LOUDSPEAKER|INTERCOM|ANNOUNCEMENT)$"
    r"|^VOICES?\b|\s(?:ON|OVER)\s(?:THE\s)?(?:TV|RADIO|PHONE|TELEPHONE|SPEAKER|INTERCOM|PA)$"
    r"|^ГОЛОС|(?:的声音|的聲音|の声|广播|アナウンス|画外音)$"
)


def is_voice_name(name: str) -> bool:
    """Return whether a speaker's name says it is a voice, not someone to draw."""
    key = " ".join(unicodedata.normalize("NFKC", name).upper().replace(".", "").split())
    return key in VOICE_NAMES or bool(_VOICE_RULE.search(key))


# Separators of a group cue ("EDWARD AND WILL", "EDWARD & WILL", "EDWARD, WILL AND MAY",
# "EDWARD/WILL", "МАША И ПЕТЯ", "李雷、韩梅梅").
GROUP_SEPARATOR = re.compile(r"\s+(?:AND|И)\s+|\s*[&＆/／,、]\s*", re.IGNORECASE)
# A part starting like this is not a name: "BEAUTY AND THE BEAST" is one speaker.
NOT_A_MEMBER = re.compile(r"^(?:THE|A|AN|HIS|HER|THEIR|ITS|MY|YOUR|OUR)\b", re.IGNORECASE)
# Nor is one whose first part is a title: "MR. AND MRS. SMITH" stays one cue.
TITLES = {"MR", "MRS", "MS", "DR", "MISS", "MR.", "MRS.", "MS.", "DR."}
# Abbreviations whose dot belongs to the name ("SAMMY JR."); other trailing dots are dropped.
KEEP_DOT = {"JR", "SR", "DR", "MR", "MRS", "MS", "ST", "MT"}

# --- names in the action --------------------------------------------------------------------

# Names that are also everyday English words. In action text they count only in capitals
# ("WILL opens the door") or capitalised away from the start of a sentence ("Edward and Will
# leave"), so "Will you?" or "May I?" opening a sentence stages nobody.
AMBIGUOUS_NAMES = {
    *("WILL", "MAY", "GRACE", "HOPE", "BILL", "MARK", "JOY", "FAITH", "ROSE", "JUNE", "APRIL"),
    *("AUGUST", "SUMMER", "DAWN", "PAT", "SUE", "ROB", "ART", "JACK", "FRANK", "PENNY", "RAY"),
    *("CHASE", "HUNTER", "CASH", "BUCK", "DREW", "GENE", "ROBIN", "RUBY", "AMBER", "IVY"),
    *("HOLLY", "LILY", "DAISY", "SKY", "RIVER", "STORM", "BROOK", "CLIFF", "GUY", "LANCE"),
    *("MILES", "NICK", "PIERCE", "REED", "ROCK", "SANDY", "VIOLET", "WADE", "WARD", "BELL"),
    *("CAROL", "HARMONY", "HEATH", "JEWEL", "LEE", "MAJOR", "NORMAN", "ROGER", "SHERRY"),
}

# --- what to say when nothing could be read -----------------------------------------------

HINTS: dict[str, str] = {
    "en": "start each scene with a heading like 'INT. TEA HOUSE - NIGHT' on its own line with "
    "a blank line before and after it, and put each speaker's name in capitals on its own "
    "line after a blank line, with their words on the next line (or force it: '@Mei').",
    "zh": "for a Chinese script, start each scene with a line beginning 内景, 外景 or 内外景 "
    "(e.g. '内景 茶馆 - 夜' or '外景。街道，日'), and write dialogue either with the name alone "
    "on a line after a blank line and the words on the next line, with the name forced as "
    "'@李雷', or on one line as '李雷：你好。'.",
    "ja": "for a Japanese script, start each scene with '○' or 室内/屋内/室外/屋外 "
    "(e.g. '○ 教室（夜）' or '室内 教室 - 夜'), and write dialogue as 'はるか「こんにちは」', "
    "'はるか：こんにちは', or the name alone on a line (or forced as '@はるか') with the "
    "words on the next line.",
    "ru": "for a Russian script, start each scene with a heading like 'ИНТ. КВАРТИРА - НОЧЬ' "
    "or 'НАТ. УЛИЦА - ДЕНЬ' on its own line after a blank line, and put each speaker's name in "
    "capitals on its own line after a blank line (e.g. 'МАША' or 'МАША (ЗК)'), with their "
    "words on the next line.",
    "de": "for a German script, start each scene with a heading like 'INNEN. KÜCHE - NACHT' "
    "or 'AUSSEN. STRASSE - TAG', and put each speaker's name in capitals on its own line "
    "after a blank line, with their words on the next line.",
}


def script_language(text: str, language: str) -> str:
    """Return the language of HINTS that fits the letters the text is written in."""
    kana = len(re.findall(r"[\u3040-\u30ff]", text))
    han = len(re.findall(r"[\u4e00-\u9fff]", text))
    cyrillic = len(re.findall(r"[\u0400-\u04ff]", text))
    latin = len(re.findall(r"[A-Za-z]", text))
    if kana and kana + han >= latin:
        return "ja"
    if han >= latin and han:
        return "zh"
    if cyrillic >= latin and cyrillic:
        return "ru"
    # Latin letters: the language asked for only if it is written in them.
    return language if language in _LATIN_HINTS else "en"


_LATIN_HINTS = {"en", "de"}
