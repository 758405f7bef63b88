"""A story's words for the camera and the setting, read in English, Chinese and Japanese.

`read_perspective` maps a shot's perspective text ("medium close-up, low angle", "俯拍远景",
"バストショット、アオリ") onto a `Framing` and an `Angle`:

- Shot sizes are tried from the most specific phrase to the least, and the first found
  wins: extreme close-up (大特写, 超アップ) -> extreme_close_up; over-the-shoulder (过肩,
  肩越し) -> over_the_shoulder; two-shot (双人镜头, ツーショット) -> two_shot; medium close-up
  (近景, バストショット) and close-up (特写, クローズアップ, アップ) -> close_up; extreme long
  shot and establishing shot (大远景, 超ロング) -> extreme_wide; medium long / full / cowboy
  shot (中远景, ニーショット) -> medium (our medium shows a figure from the knees up); long,
  wide and full shot (远景, 全景, ロングショット, 引き) -> wide; medium shot (中景, 半身,
  ミディアム) -> medium.
- Angles: high angle, overhead, bird's-eye, aerial (俯拍, 俯视, 鸟瞰, ハイアングル, 俯瞰) ->
  high; low angle, worm's-eye (仰拍, 仰视, ローアングル, アオリ) -> low; eye level (平视,
  アイレベル) -> eye_level. A bird's-eye or aerial view that names no shot size is also
  extreme_wide.
- What is not found is None: the director chooses it.

`read_setting` reads a shot's setting text ("Night, room nine of the hotel, a single bed",
"冬天的白天，狭小的老厨房", "夜、灯台のてっぺんの灯室") into a place, inside or out, and a
time of day:

- Time of day: the first time word in the text (night, midnight, moonlit, 夜, 深夜, 月光 /
  dusk, sunset, evening, dawn, 黄昏, 傍晚, 夕方, 夜明け / day, morning, noon, afternoon,
  sunny, 白天, 阳光, 昼, 朝); None when there is none.
- The place name: the clauses (split at commas) lose their time words, with the weather
  and season (sunny, winter, 冬天, 雨) and "inside"/"outside" words; English clauses are cut
  into phrases at prepositions ("room nine of the hotel" -> "room nine") without leading
  articles; Chinese and Japanese clauses lose those words and particles (的, の, 在, 一间 /
  里, 中, 内, 上) at either end only, so 夜市街 keeps its 夜. The name is the first phrase
  that holds a known place noun (room, kitchen, street, platform, 厨房, 街, 教室, 通り...),
  else the first phrase (in Chinese and Japanese, of two characters or more): in English its
  last four words in title case; in Chinese and Japanese the part after the last 的/の when
  longer than six characters.
- The place: the name's head noun, the known place noun that ends last in it ("Hotel
  Corridor": corridor, "厨房餐桌": 厨房), else the name itself; two settings of one place are
  one set ("the old kitchen", "the kitchen table").
- Inside or out: the head noun's kind (room, café, 教室 inside; street, beach, 街 outside);
  without one, an explicit word (indoor, interior, 室内, 屋内 / outdoor, open-air, 室外,
  户外, 屋外, の外; "inside"/"outside" only opening a clause); else the first place noun in
  the whole text; else None (the importer keeps the scene before's).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from inkreel.schemas import Angle, Framing, TimeOfDay

# --------------------------------------------------------------------------- the camera


def _alternation(words: str) -> str:
    return "|".join(words.split())


# Most specific first; each entry is (pattern over the lower-cased, hyphen-free text, framing).
# In a pattern, `_` stands for one space.
_FRAMINGS: list[tuple[str, Framing]] = [
    (
        r"extreme(?:ly)?_close|extreme_cu|\becu\b|\bxcu\b|macro_shot|"
        + _alternation(
            "大特写 极特写 超特写 大特寫 極特寫 極近景 超アップ ドアップ 超クローズアップ"
        ),
        Framing.extreme_close_up,
    ),
    (
        r"over_(?:the_)?shoulder|\bots\b|"
        + _alternation("过肩 過肩 肩越し オーバーショルダー オーバー・ザ・ショルダー"),
        Framing.over_the_shoulder,
    ),
    (
        r"two_shot|\b2_shot|" + _alternation("双人镜头 两人镜头 雙人鏡頭 ツーショット"),
        Framing.two_shot,
    ),
    (
        r"medium_close|mid_close|\bmcu\b|close_medium|"
        + _alternation(
            "中近景 近景 中特写 バストショット バストアップ ミディアムクローズアップ 胸から上"
        ),
        Framing.close_up,
    ),
    (
        r"close_?up|close_shot|\bcu\b|tight_shot|"
        + _alternation("特写 特寫 クローズアップ アップ 寄り"),
        Framing.close_up,
    ),
    (
        r"extreme(?:ly)?_(?:long|wide)|very_(?:long|wide)|\bels\b|\bews\b|\bxls\b|\bxws\b|"
        r"establishing|panoram|"
        + _alternation(
            "大远景 极远景 超远景 大全景 大遠景 極遠景 超ロング 大ロング エスタブリッシング"
        ),
        Framing.extreme_wide,
    ),
    (
        r"medium_(?:long|wide|full)|mid_(?:long|wide)|\bmls\b|\bmws\b|cowboy|knee|"
        r"three_quarters?_shot|american_shot|"
        + _alternation("中远景 中全景 中遠景 ニーショット ミディアムロング 膝上"),
        Framing.medium,
    ),
    (
        r"\b(?:long|wide|full|full_body|full_length)_(?:shot|view|angle)|\bls\b|\bws\b|\bfs\b|"
        r"\bwide\b|\blong\b|full_body|"
        + _alternation(
            "远景 全景 遠景 全身 ロングショット ロング フルショット フルサイズ 引き ワイド"
        ),
        Framing.wide,
    ),
    (
        r"\bmedium\b|\bmid_?shot\b|waist|\bms\b|"
        + _alternation("中景 半身 ミディアム ウエストショット 腰から上"),
        Framing.medium,
    ),
]
_ANGLES: list[tuple[str, Angle]] = [
    (
        r"high_angle|high_shot|from_above|overhead|top_?down|top_view|bird_?s_eye|birds_?eye|"
        r"aerial|looking_down|downward|"
        + _alternation("俯拍 俯视 俯視 俯角 俯瞰 鸟瞰 鳥瞰 顶视 頂視 ハイアングル 見下ろ"),
        Angle.high,
    ),
    (
        r"low_angle|low_shot|from_below|worm_?s_eye|worms_?eye|looking_up|upward|"
        + _alternation("仰拍 仰视 仰視 仰角 ローアングル あおり 煽り アオリ 見上げ"),
        Angle.low,
    ),
    (
        r"eye_level|eyelevel|straight_on|"
        + _alternation("平视 平視 平拍 水平视角 アイレベル 目線の高さ"),
        Angle.eye_level,
    ),
]
_BIRDS_EYE = re.compile(r"bird ?s eye|birds ?eye|aerial|overhead|鸟瞰|鳥瞰|俯瞰|航拍|空撮")


def _compiled(
    table: list[tuple[str, Framing]] | list[tuple[str, Angle]],
) -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(pattern.replace("_", " ")), value) for pattern, value in table]


_FRAMING_PATTERNS = _compiled(_FRAMINGS)
_ANGLE_PATTERNS = _compiled(_ANGLES)


@dataclass(frozen=True)
class Perspective:
    """What a perspective text asks of the camera; None where it says nothing we read."""

    framing: Framing | None
    angle: Angle | None


def _plain(text: str) -> str:
    """Lower case, with hyphens, underscores, apostrophes and runs of spaces as one space."""
    return " ".join(re.sub(r"[-_‐‑–—'’`]", " ", text.casefold()).split())


def read_perspective(text: str) -> Perspective:
    """The shot size and camera angle a story's perspective text names (see the module)."""
    plain = _plain(text)
    framing = next((Framing(v) for p, v in _FRAMING_PATTERNS if p.search(plain)), None)
    angle = next((Angle(v) for p, v in _ANGLE_PATTERNS if p.search(plain)), None)
    if framing is None and _BIRDS_EYE.search(plain):
        framing = Framing.extreme_wide
    return Perspective(framing, angle)


# --------------------------------------------------------------------------- the setting

_INSIDE_PLACES = """
    room bedroom kitchen hall hallway corridor office classroom house home apartment flat shop
    store cafe café restaurant bar pub library museum church cabin attic basement cellar studio
    lab laboratory hospital ward clinic train carriage bus elevator lift lobby gym theater
    theatre cinema tent cave inn tavern bathroom dining living palace castle workshop warehouse
    factory barn dormitory dorm bakery salon mall station teahouse bookshop bookstore
    房间 房間 卧室 臥室 客厅 客廳 厨房 廚房 教室 办公室 辦公室 家里 家中 店 馆 館 厅 廳 室 走廊
    大厅 车厢 車廂 医院 醫院 病房 图书馆 咖啡馆 餐厅 宫殿 宮殿 山洞 洞穴 帐篷 工厂 仓库 宿舍 屋 殿
    部屋 寝室 居間 リビング 台所 キッチン 事務所 オフィス 家の中 店内 廊下 ホール 車内 病院 病室
    図書館 カフェ 喫茶店 レストラン 城内 洞窟 テント 教会 工場 倉庫 寮 コンビニ スーパー 灯室
"""
_OUTSIDE_PLACES = """
    street road alley park garden forest woods beach sea ocean shore coast river lake mountain
    mountains hill hills field fields meadow sky rooftop roof yard courtyard square plaza bridge
    village city town desert island harbor harbour port pier dock playground campus countryside
    cliff valley jungle snowfield lawn farm orchard riverside seaside lakeside waterfall trail
    path highway crossroads schoolyard cemetery graveyard battlefield promenade platform
    boardwalk market marketplace
    街 路 巷 公园 公園 花园 花園 森林 树林 樹林 海边 海邊 海滩 海灘 海 河 湖 山 田野 草地 草原 天空
    悬崖 懸崖 崖 屋顶 屋頂 院子 庭院 广场 廣場 桥 橋 村 城市 小镇 沙漠 岛 島 港 码头 操场
    郊外 雪地 田 原野 夜市 山口 村落 摊 摊位 小摊
    通り 道 路地 庭 森 林 海辺 浜辺 砂浜 川 野原 空 屋上 中庭 広場 町 校庭 畑 墓地 山道 沖 岩場
    桟橋 漁港 岬 屋台
"""
_PLACE_KIND = {w: True for w in _INSIDE_PLACES.split()} | {
    w: False for w in _OUTSIDE_PLACES.split()
}
_PLACE_WORDS = re.compile(
    "|".join(
        rf"\b{re.escape(w)}s?\b" if w.isascii() else re.escape(w)
        for w in sorted(_PLACE_KIND, key=len, reverse=True)
    )
)
# Said anywhere, these settle inside or out; in English "inside"/"outside" only open a clause
# ("Outside, the rain"), as in "the corridor outside room nine" they place, not say.
_INDOORS = re.compile(
    r"\b(?:indoors?|interior)\b|(?:^|[,.;:]\s*)inside\b|\bfrom inside\b|"
    r"室内|屋内|内景|屋里|屋內|室內"
)
_OUTDOORS = re.compile(
    r"\b(?:outdoors?|exterior|open[- ]air)\b|(?:^|[,.;:]\s*)outside\b|\bfrom outside\b|"
    r"室外|户外|戶外|屋外|野外|外景|露天|门外|門外|の外|外面"
)
_TIME_WORDS = {
    TimeOfDay.night: """
        night nights midnight nighttime tonight moonlit moonlight starlit starry
        夜 晚上 夜晚 深夜 午夜 夜里 夜裡 夜间 夜間 月光 星空 晚间 夜中 真夜中 月夜 月明かり 夜更け
    """,
    TimeOfDay.dusk: """
        dusk sunset sundown twilight evening dawn sunrise daybreak
        黄昏 傍晚 日落 夕阳 夕陽 黎明 拂晓 破晓 日出 晚霞
        夕方 夕暮れ 夕焼け 夕日 日没 夜明け 明け方 朝焼け 薄暮 たそがれ
    """,
    TimeOfDay.day: """
        day daytime morning noon midday afternoon sunny sunlit sunlight daylight
        白天 早上 早晨 清晨 上午 中午 下午 阳光 陽光 日间 日間 晴天 正午
        昼 昼間 朝 午前 午後 日中 晴れ 真昼
    """,
}
_TIME_OF = {w: t for t, words in _TIME_WORDS.items() for w in words.split()}
_TIME = re.compile(
    "|".join(
        rf"\b{re.escape(w)}\b" if w.isascii() else re.escape(w)
        for w in sorted(_TIME_OF, key=len, reverse=True)
    )
)
# Words for when that are not a place, dropped from a name with the time words: the weather
# and the season (alone or before a time word), and other words before a time word.
_SEASONS = """
    rainy snowy cloudy foggy misty stormy windy sunny winter summer spring autumn
    冬天 夏天 春天 秋天 冬日 夏日 春日 秋日 雨天 雪天 阴天 晴朗 下雨 雨中 雪中 雨夜 时分 時分 时候
    時候 冬 夏 春 秋 雨 雪 頃 ごろ
"""
_BEFORE_TIME = "quiet late early deep dark bright cold warm hot chilly"
_EN_WHEN = re.compile(
    r"\b(?:(?:at|in|during|by|on|under)\s+(?:the\s+|a\s+)?)?(?:(?:"
    + "|".join(w for w in [*_SEASONS.split(), *_BEFORE_TIME.split()] if w.isascii())
    + r")\s+)*(?:"
    + "|".join(re.escape(w) for w in sorted(_TIME_OF, key=len, reverse=True) if w.isascii())
    + r")(?:\s+shift)?\b|\b(?:"
    + "|".join(w for w in _SEASONS.split() if w.isascii())
    + r")\b(?=\s*$)",
    re.IGNORECASE,
)
_EN_SIDE = re.compile(r"^(?:inside|outside|indoors?|outdoors?)\b|\b(?:indoor|outdoor)\b", re.I)
_EN_PREPOSITIONS = (
    "in at on of by near with under beneath below above over beside behind inside outside "
    "within into onto from along across around through beyond between opposite toward "
    "towards overlooking facing during where while seen viewed filled lit surrounded covered "
    "lined bathed full and atop"
)
_EN_BREAK = re.compile(
    r"\s+(?:(?:deep|far|high|right|just|up|down|somewhere)\s+)?(?:"
    + "|".join(_EN_PREPOSITIONS.split())
    + r")(?:\s+|$)",
    re.IGNORECASE,
)
_EN_LEAD = re.compile(
    r"^(?:(?:" + "|".join(_EN_PREPOSITIONS.split()) + r"|a|an|the|some)\s+)+", re.IGNORECASE
)
_CJK_CLAUSE = re.compile(r"[，,。.；;：:、（(！!？?\n]")
_CJK_WHEN = sorted(
    [w for w in _TIME_OF if not w.isascii()]
    + [w for w in _SEASONS.split() if not w.isascii()]
    + "室内 屋内 内景 室外 户外 戶外 屋外 野外 外景 露天 屋里".split(),
    key=len,
    reverse=True,
)
_CJK_LEAD = "的 の 之 在 于 於 位于 一间 一個 一个 一座 一片 一条 一間 ある とある 时 時".split()
_CJK_TAIL = "里 裡 中 内 內 上 にて で の中 にある では 的 の".split()
NAME_WORDS = 4  # an English place name keeps at most this many words (the head noun last)
CJK_NAME_CHARS = 6


@dataclass(frozen=True)
class Setting:
    """Where a scene is, as a setting text says: a place name, the place it is (its head
    noun, to tell "the old kitchen" and "the kitchen table" as one place), inside or out and
    the time of day (None where no word says)."""

    location: str
    place: str
    interior: bool | None
    time_of_day: TimeOfDay | None


def read_setting(text: str, language: str) -> Setting:
    """The place, inside or out, and time of day a story's setting text names (see the
    module)."""
    flat = " ".join(text.split())
    name = _cjk_place(flat) if language in ("zh", "ja") else _english_place(flat)
    found = _TIME.search(flat.casefold())
    time = _TIME_OF[found.group(0)] if found else None
    head = _head_noun(name)
    place = head or name.casefold()
    return Setting(name, place, _interior(flat, head), time)


def _english_place(text: str) -> str:
    """The first phrase that names a known place, else the first phrase (see the module)."""
    phrases: list[str] = []
    for clause in re.split(r"[,.;:()\[\]!?]|\s[-–—]\s", text):
        clause = " ".join(_EN_SIDE.sub(" ", _EN_WHEN.sub(" ", clause.strip())).split())
        for phrase in _EN_BREAK.split(clause):
            phrase = _EN_LEAD.sub("", phrase.strip())
            if phrase:
                phrases.append(phrase)
    named = next((p for p in phrases if _PLACE_WORDS.search(p.casefold())), None)
    words = (named or (phrases[0] if phrases else "")).split()[-NAME_WORDS:]
    return " ".join(w if not w.islower() else w[:1].upper() + w[1:] for w in words)


def _cjk_place(text: str) -> str:
    """The first clause that names a known place, else the first of two characters or more,
    without its time words and particles (see the module)."""
    clauses = [_trimmed(c.replace(" ", "")) for c in _CJK_CLAUSE.split(text)]
    named = next((c for c in clauses if _PLACE_WORDS.search(c)), None)
    name = named or next((c for c in clauses if len(c) >= 2), "")
    if len(name) > CJK_NAME_CHARS:
        last = max(name.rfind("的"), name.rfind("の"))
        if 0 <= last < len(name) - 2:
            name = name[last + 1 :]
    return name[-CJK_NAME_CHARS * 2 :]


def _trimmed(clause: str) -> str:
    """A CJK clause without time, weather and inside/outside words and particles at either
    end (in the middle they belong to a name: 夜市街 is a night market's street)."""
    while True:
        before = clause
        for word in (*_CJK_WHEN, *_CJK_LEAD):
            clause = clause.removeprefix(word)
        if not _ends_with_place(clause):
            for word in (*_CJK_WHEN, *_CJK_TAIL):
                clause = clause.removesuffix(word)
        if clause == before:
            return clause


def _ends_with_place(clause: str) -> bool:
    return any(clause.endswith(w) for w in _PLACE_KIND if not w.isascii())


def _head_noun(name: str) -> str:
    """The known place noun that ends last in the name ("Street Café": café), singular."""
    found = list(_PLACE_WORDS.finditer(name.casefold()))
    if not found:
        return ""
    word = max(found, key=lambda m: (m.end(), len(m.group(0)))).group(0)
    return word if word in _PLACE_KIND else word[:-1]


def _interior(text: str, head: str) -> bool | None:
    if head:
        return _PLACE_KIND[head]
    lower = text.casefold()
    inside, outside = _INDOORS.search(lower), _OUTDOORS.search(lower)
    if bool(inside) != bool(outside):
        return bool(inside)
    first = _PLACE_WORDS.search(lower)
    return _PLACE_KIND[_singular(first.group(0))] if first else None


def _singular(word: str) -> str:
    return word if word in _PLACE_KIND else word[:-1]
