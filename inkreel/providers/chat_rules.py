# ruff: noqa: E501  (the phrase table and the patterns read best one to a line)
"""The offline engine's chat: a rule-based parser of a fixed set of phrasings, not a model.

It turns a writer's message into the showrunner's tool calls (`schemas.chat`) with regular
expressions over English, Chinese and Japanese phrasings, the same calls a hosted model would
make with tool calling. What it understands (N is a number: 2, ２, 二, "second"):

| what | English | 中文 | 日本語 |
|---|---|---|---|
| choose a logline | `logline 2`, `the second one`, `2` | `选第2个`, `第二个` | `2番`, `2つ目` |
| your own logline | `logline: A girl ...` | `故事：...` | `ログライン：...` |
| edit the outline | `move beat 3 to 1`, `cut beat 2`, `beat 2: ...`, `add beat after 2: ...` | `把第3拍移到第1`, `删掉第2拍`, `第2拍改成：...`, `在第2拍后加：...` | `ビート3を1に移動`, `ビート2を削除`, `ビート2を「...」に`, `ビート2の後に追加：...` |
| rename | `rename Mei to Lin` | `把梅改名为林` | `メイをリンに改名` |
| time of a scene | `scene 2 at night` | `第2场改成夜晚` | `シーン2を夜に` |
| a shot's framing or angle | `shot 7 close-up`, `shot 7 wide`, `shot 7 from below` | `第7个镜头特写`, `镜头7仰拍` | `ショット7をアップに`, `ショット7をあおりで` |
| an emotion in a shot | `Aiko is angry in shot 7` | `镜头7里爱子很生气` | `ショット7でアイコは怒っている` |
| new words for a line | `change line 3 to "..."` | `把第3句台词改成“...”` | `3行目のセリフを「...」に` |
| a design | `make Mei's hair red`, `Mei's outfit blue` | `把梅的头发改成红色` | `メイの髪を赤に` |
| the cast | `add a character named Ken`, `remove Ken` | `加一个角色叫小明`, `删掉角色小明` | `キャラクター追加：ケン`, `ケンを削除` |
| go on | `approve`, `render`, `undo`, `help` | `通过`, `渲染`, `撤销`, `帮助` | `承認`, `レンダリング`, `元に戻す`, `ヘルプ` |
| questions | `who is in scene 2?`, `what did this cost?`, `what did continuity flag?`, `status` | `第2场有谁？`, `花了多少钱？`, `连续性发现了什么？`, `状态` | `シーン2には誰がいる？`, `いくらかかった？`, `連続性は何を指摘した？`, `状況` |

Clauses joined by ", and" / "；" / "。" are read one by one, and "there" (那里, そこ) means the
shot named last: "shot 7 should be a close-up, and Aiko is angry there" is one change of shot
7. A message none of the rules match gives no calls: at the idea stage it is the idea itself;
elsewhere the showrunner answers with what it can do.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from functools import lru_cache

from inkreel.schemas.chat import ToolCall

# ----------------------------------------------------------------------------- words

_CJK_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
               "八": 8, "九": 9}  # fmt: skip
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
             "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "one": 1, "two": 2,
             "three": 3, "last": -1}  # fmt: skip
NUM = r"(\d+|[零一二两三四五六七八九十]+|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|one|two|three)"

COLOURS: dict[str, str] = {
    "red": "#c0392b", "crimson": "#a01830", "orange": "#e67e22", "yellow": "#f1c40f",
    "blonde": "#e8c872", "blond": "#e8c872", "gold": "#d4a017", "golden": "#d4a017",
    "green": "#27ae60", "teal": "#16a085", "blue": "#2e6fd0", "navy": "#1f2f5a",
    "purple": "#8e44ad", "violet": "#8e44ad", "pink": "#e88aa8", "black": "#1b1b1b",
    "white": "#f4f4f4", "grey": "#8c8c8c", "gray": "#8c8c8c", "silver": "#c0c0c8",
    "brown": "#6e4b2a",
    "红": "#c0392b", "橙": "#e67e22", "黄": "#f1c40f", "金": "#d4a017", "绿": "#27ae60",
    "蓝": "#2e6fd0", "紫": "#8e44ad", "粉": "#e88aa8", "黑": "#1b1b1b", "白": "#f4f4f4",
    "灰": "#8c8c8c", "银": "#c0c0c8", "棕": "#6e4b2a", "褐": "#6e4b2a",
    "赤": "#c0392b", "オレンジ": "#e67e22", "黄色": "#f1c40f", "金色": "#d4a017",
    "金髪": "#e8c872", "緑": "#27ae60", "青": "#2e6fd0", "ピンク": "#e88aa8", "黒": "#1b1b1b",
    "銀": "#c0c0c8", "茶": "#6e4b2a", "茶色": "#6e4b2a",
}  # fmt: skip
_COLOUR = "|".join(sorted(map(re.escape, COLOURS), key=len, reverse=True))

_FRAMINGS = [
    (r"extreme close[- ]?ups?|大特写|超アップ", "extreme_close_up"),
    (r"close[- ]?ups?|特写|クローズアップ|アップ", "close_up"),
    (r"extreme wide|extreme long shot|大远景|超ロング", "extreme_wide"),
    (r"wide(?: shot)?|long shot|远景|全景|引き|ロング|ワイド", "wide"),
    (r"medium(?: shot)?|中景|ミディアム|バストショット", "medium"),
    (r"two[- ]?shot|双人镜头|ツーショット", "two_shot"),
    (r"over[- ]the[- ]shoulder|过肩|肩越し", "over_the_shoulder"),
]
_ANGLES = [
    (r"from below|low[- ]angle|looking up|仰拍|仰视|从下往上|あおり|アオリ|下から", "low"),
    (r"from above|high[- ]angle|looking down|俯拍|俯视|从上往下|俯瞰|上から", "high"),
    (r"eye[- ]level|平视|目線|アイレベル", "eye_level"),
]
_EMOTIONS = [
    (r"angry|furious|mad|生气|愤怒|发火|怒", "angry"),
    (r"happy|glad|joyful|smiling|开心|高兴|快乐|嬉し|喜|笑", "happy"),
    (r"sad|upset|crying|难过|伤心|悲伤|悲し|泣", "sad"),
    (r"surprised|shocked|astonished|惊讶|吃惊|震惊|驚", "surprised"),
    (r"afraid|scared|frightened|害怕|恐惧|怖", "afraid"),
    (r"calm|neutral|平静|冷静|普通|落ち着", "neutral"),
]
_TIMES = [
    (r"night|evening|夜|晚|夜晚|晚上|夜里", "night"),
    (r"dusk|sunset|twilight|黄昏|傍晚|夕方|夕暮れ", "dusk"),
    (r"day|daytime|morning|noon|白天|早上|中午|昼|朝", "day"),
]
_FRAMING = "|".join(p for p, _ in _FRAMINGS)
_ANGLE = "|".join(p for p, _ in _ANGLES)
_EMOTION = "|".join(p for p, _ in _EMOTIONS)
_TIME = "|".join(p for p, _ in _TIMES)
_QUOTED = r"[\"“”「『'‘](.+?)[\"“”」』'’]"
# A name: capitalised words, or up to six Han or katakana characters (hiragana are mostly
# particles: a hiragana name is found when the cast is known, see `understand`).
_NAME = r"[A-Z][\w'-]*(?: [A-Z][\w'-]*)?|[\u30a0-\u30ff\u3400-\u9fff]{1,6}"
# Words a Chinese or Japanese name runs into without a space.
_NAME_TAIL = re.compile(r"(?:很|非常|特别|也|都|は|が|を|の|で)+$")


_names: ContextVar[str] = ContextVar("names", default=_NAME)


def _named(group: str) -> str:
    """A name, captured as `group` (the cast's names first, when known)."""
    return f"(?P<{group}>{_names.get()})"


def number(word: str) -> int | None:
    """A number written as digits, Chinese numerals (up to 99) or an English ordinal."""
    word = word.strip().lower()
    if word.isdigit():
        return int(word)
    if word in _ORDINALS:
        return _ORDINALS[word]
    if word and all(c in _CJK_DIGITS or c == "十" for c in word):
        if "十" not in word:
            return int("".join(str(_CJK_DIGITS[c]) for c in word))
        tens, _, ones = word.partition("十")
        return (_CJK_DIGITS.get(tens, 1) if tens else 1) * 10 + (_CJK_DIGITS[ones] if ones else 0)
    return None


def colour_hex(name: str) -> str | None:
    """The hex of a colour name (English, Chinese or Japanese) or of '#rrggbb' itself."""
    name = name.strip().lower().removesuffix("色") if not name.startswith("#") else name
    if re.fullmatch(r"#[0-9a-fA-F]{6}", name):
        return name.lower()
    return COLOURS.get(name) or COLOURS.get(name + "色")


def _pick(table: list[tuple[str, str]], text: str) -> str | None:
    for pattern, value in table:
        if re.search(pattern, text, re.IGNORECASE):
            return value
    return None


def _normal(text: str) -> str:
    """NFKC (full-width digits and letters to ASCII), quotes kept, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text)
    return " ".join(text.split())


# ----------------------------------------------------------------------------- rules

Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], ToolCall | None]]


def _rx(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


def _first(m: re.Match[str], *names: str) -> str | None:
    """The first named group (of `names`, by prefix) that matched."""
    for key, value in m.groupdict().items():
        if value is not None and any(key.startswith(n) for n in names):
            return value
    return None


def _n(m: re.Match[str], name: str) -> int | None:
    value = _first(m, name)
    return number(value) if value is not None else None


def _call(tool: str, **args: object) -> ToolCall:
    return ToolCall(name=tool, args={k: v for k, v in args.items() if v is not None})


def _shot_call(m: re.Match[str]) -> ToolCall | None:
    shot = _first(m, "shot")
    if shot is None:
        return None
    words = m.group(0)
    who = _first(m, "who")
    emotion = _pick(_EMOTIONS, words) if who or re.search(_EMOTION, words, re.I) else None
    framing = _pick(_FRAMINGS, words)
    angle = _pick(_ANGLES, words)
    if not (framing or angle or emotion):
        return None
    parsed = number(shot)
    return _call(
        "change_shot",
        shot=str(parsed) if parsed is not None else shot,
        framing=framing,
        angle=angle,
        emotion=emotion,
        who=who,
    )


SHOT = rf"(?:shot|镜头|ショット|カット)\s*(?:#|no\.?\s*)?(?P<shot>{NUM}|s\d+-\d+)"
SHOT_ZH = rf"第\s*(?P<shotz>{NUM})\s*个?镜头"
SHOT_ID = r"(?P<shotid>s\d+-\d+)"


@lru_cache(maxsize=16)
def _rules(names: str) -> list[Rule]:
    """The rules, with this name pattern."""
    token = _names.set(names)
    try:
        return _rule_list()
    finally:
        _names.reset(token)


def _rule_list() -> list[Rule]:
    """The rules in the order they are tried (the first whose pattern matches answers).

    Length: one table of patterns and the tool calls they make; split, the order that
    decides between overlapping patterns would be spread over several functions.
    """
    return [
        # Questions first: "who is in scene 2?" is not a change of scene 2.
        (
            _rx(
                rf"who(?:'s| is| are)? (?:in|appears in) scene (?P<scene>{NUM})",
                rf"第\s*(?P<scenez>{NUM})\s*场(?:里|中)?(?:有谁|都有谁|有哪些人)",
                rf"シーン\s*(?P<scenej>{NUM})\s*(?:に|には)(?:誰|だれ)",
            ),
            lambda m: _call("ask", topic="cast", scene=_n(m, "scene")),
        ),
        (
            _rx(
                r"^who(?:'s| is| are) in (?:it|the (?:story|episode|cast))",
                r"^cast\??$",
                r"有哪些角色|有谁",
                r"登場人物|誰が出",
            ),
            lambda m: _call("ask", topic="cast"),
        ),
        (
            _rx(
                r"\b(?:what|how much) (?:did|does|has) (?:this|it|the episode)(?: \w+)? cost",
                r"\bcost so far\b",
                r"^cost\??$",
                r"花了多少|多少钱|费用|成本",
                r"いくら(?:かかった|かかる)|費用|コスト",
            ),
            lambda m: _call("ask", topic="cost"),
        ),
        (
            _rx(r"continuity", r"连续性|穿帮", r"連続性|コンティニュイティ"),
            lambda m: _call("ask", topic="continuity"),
        ),
        (
            _rx(
                r"^(?:/?status|where are we|what(?:'s| is) (?:the )?status)\??$",
                r"^状态|进度",
                r"^状況|進捗|ステータス",
            ),
            lambda m: _call("ask", topic="status"),
        ),
        # Outline edits.
        (
            _rx(
                rf"move beat (?P<beat>{NUM}) (?:to|before) (?:beat )?(?P<to>{NUM})",
                rf"把?第\s*(?P<beatz>{NUM})\s*(?:拍|个节拍|段)移到第?\s*(?P<toz>{NUM})",
                rf"ビート\s*(?P<beatj>{NUM})\s*を\s*(?P<toj>{NUM})\s*(?:番目)?に移動",
            ),
            lambda m: _call("edit_outline", action="move", beat=_n(m, "beat"), to=_n(m, "to")),
        ),
        (
            _rx(
                rf"(?:cut|drop|delete|remove) beat (?P<beat>{NUM})",
                rf"(?:删掉|删除|去掉)第\s*(?P<beatz>{NUM})\s*(?:拍|个节拍|段)",
                rf"ビート\s*(?P<beatj>{NUM})\s*を(?:削除|カット)",
            ),
            lambda m: _call("edit_outline", action="cut", beat=_n(m, "beat")),
        ),
        (
            _rx(
                rf"add (?:a )?beat after (?:beat )?(?P<beat>{NUM})\s*[:：]\s*(?P<text>.+)",
                rf"在第\s*(?P<beatz>{NUM})\s*(?:拍|个节拍|段)后(?:面)?(?:加|添加|增加)\s*[:：]?\s*(?P<textz>.+)",
                rf"ビート\s*(?P<beatj>{NUM})\s*の後に追加\s*[:：]?\s*(?P<textj>.+)",
            ),
            lambda m: _call(
                "edit_outline", action="add", beat=_n(m, "beat"), text=_unquote(_first(m, "text"))
            ),
        ),
        (
            _rx(
                rf"(?:rewrite )?beat (?P<beat>{NUM})(?: as|\s*[:：])\s*(?P<text>.+)",
                rf"第\s*(?P<beatz>{NUM})\s*(?:拍|个节拍|段)(?:改成|改为)\s*[:：]?\s*(?P<textz>.+)",
                rf"ビート\s*(?P<beatj>{NUM})\s*を\s*(?P<textj>.+?)\s*に(?:変更|書き換え)?$",
            ),
            lambda m: _call(
                "edit_outline",
                action="rewrite",
                beat=_n(m, "beat"),
                text=_unquote(_first(m, "text")),
            ),
        ),
        # A line's new words.
        (
            _rx(
                rf"(?:change|set|make) line (?P<line>{NUM}) (?:to|say|into)\s*[:：]?\s*(?P<text>.+)",
                rf"^line (?P<linee>{NUM})\s*[:：]\s*(?P<texte>.+)",
                rf"把?第\s*(?P<linez>{NUM})\s*句(?:台词|对白)?(?:改成|改为|换成)\s*[:：]?\s*(?P<textz>.+)",
                rf"(?P<linej>{NUM})\s*(?:行目|番目)の(?:セリフ|台詞)を\s*(?P<textj>.+?)\s*に(?:変更|変えて|して)?$",
                rf"(?:セリフ|台詞)\s*(?P<linek>{NUM})\s*を\s*(?P<textk>.+?)\s*に(?:変更|変えて|して)?$",
            ),
            lambda m: _call("edit_line", line=_n(m, "line"), text=_unquote(_first(m, "text"))),
        ),
        # A scene's time of day.
        (
            _rx(
                rf"scene (?P<scene>{NUM})(?: should be| is| happens| takes place)? (?:at |in the |by |during )?(?P<time>{_TIME})\b",
                rf"(?:make|set) scene (?P<scenem>{NUM}) (?:at |in the )?(?P<timem>{_TIME})\b",
                rf"第\s*(?P<scenez>{NUM})\s*场(?:改成|改为|在|是|放在)?(?P<timez>{_TIME})",
                rf"シーン\s*(?P<scenej>{NUM})\s*(?:を|は)\s*(?P<timej>{_TIME})",
            ),
            lambda m: _call(
                "set_scene_time", scene=_n(m, "scene"), time=_pick(_TIMES, _first(m, "time") or "")
            ),
        ),
        # A design change.
        (
            _rx(
                rf"(?:make|turn|change|dye) {_named('whom')}'s (?P<part>hair|outfit|clothes|costume)(?: to)? (?P<colour>{_COLOUR}|#[0-9a-f]{{6}})",
                rf"^{_named('whoe')}'s (?P<parte>hair|outfit|clothes|costume)(?: is| should be)? (?P<colioure>{_COLOUR}|#[0-9a-f]{{6}})$",
                rf"give {_named('whog')} (?P<colourg>{_COLOUR}) (?P<partg>hair|outfit|clothes)",
                rf"把?{_named('whoz')}的(?P<partz>头发|发色|衣服|服装)(?:改成|换成|染成|变成|改为)(?P<colourz>{_COLOUR})",
                rf"{_named('whoj')}の(?P<partj>髪|髪の毛|服|衣装)を(?P<colourj>{_COLOUR})(?:色)?に",
            ),
            lambda m: _look(m),
        ),
        # Rename.
        (
            _rx(
                rf"rename {_named('old')} (?:to|as) {_named('new')}",
                rf"把?{_named('oldz')}(?:改名为|改名叫|改名成|的名字改成)\s*{_named('newz')}",
                rf"{_named('oldj')}(?:を|の名前を)\s*{_named('newj')}\s*に(?:改名|名前を変更|変更)",
            ),
            lambda m: _rename(m),
        ),
        # The cast.
        (
            _rx(
                rf"add (?:a |another )?(?:new )?character(?: named| called)?\s*[:：]?\s*{_named('name')}",
                rf"^add {_named('namea')}(?: to the (?:story|cast))?$",
                rf"(?:加|添加|增加)(?:一个)?角色(?:叫|名叫|：|:)?\s*{_named('namez')}",
                rf"キャラクター(?:を)?追加\s*[:：]?\s*{_named('namej')}",
                rf"{_named('namek')}を(?:キャラクターとして)?追加",
            ),
            lambda m: _call("add_character", name=_first(m, "name")),
        ),
        (
            _rx(
                rf"(?:remove|drop|cut) (?:the )?(?:character )?{_named('name')}$",
                rf"(?:删掉|删除|去掉)(?:角色)?\s*{_named('namez')}$",
                rf"{_named('namej')}を(?:削除|外して|外す)",
            ),
            lambda m: _call("remove_character", name=_first(m, "name")),
        ),
        # Shots: framing, angle, emotion (the emotion rules name who).
        (
            _rx(
                rf"{_named('who')} (?:is|looks|should be|feels) (?:very |really )?(?:{_EMOTION})\b.*?(?:in|at) {SHOT}",
                rf"make {_named('whom')} (?:{_EMOTION}) (?:in|at) {SHOT.replace('<shot>', '<shotm>')}",
                rf"(?:{SHOT_ZH.replace('<shotz>', '<shotz2>')}|{SHOT.replace('<shot>', '<shotc>')})(?:里|中)?\s*{_named('whoz')}(?:很|非常|特别)?(?:{_EMOTION})",
                rf"{SHOT.replace('<shot>', '<shotj>')}\s*(?:で|の)\s*{_named('whoj')}(?:は|を|が)?.*?(?:{_EMOTION})",
            ),
            _shot_call,
        ),
        (
            _rx(
                rf"{SHOT}.*?(?:{_FRAMING}|{_ANGLE}|{_EMOTION})",
                rf"{SHOT_ZH}.*?(?:{_FRAMING}|{_ANGLE}|{_EMOTION})",
                rf"{SHOT_ID}.*?(?:{_FRAMING}|{_ANGLE}|{_EMOTION})",
            ),
            _shot_call,
        ),
        # Choosing a logline.
        (
            _rx(
                r"^(?:my )?(?:own )?logline\s*[:：]\s*(?P<text>.+)",
                r"^(?:我的)?(?:故事|一句话简介|简介)\s*[:：]\s*(?P<textz>.+)",
                r"^ログライン\s*[:：]\s*(?P<textj>.+)",
            ),
            lambda m: _call("choose_logline", text=_unquote(_first(m, "text"))),
        ),
        (
            _rx(
                rf"^(?:i(?:'ll| will)? (?:take|choose|pick|go with) )?(?:the )?(?:logline|option|number|choice|#)?\s*(?P<n>{NUM})(?:st|nd|rd|th)?(?: one| logline| option)?[.!]?$",
                rf"^(?:choose|pick|take|go with|use) (?:the )?(?:logline |option |number |#)?(?P<nc>{NUM})(?: one)?",
                rf"^(?:选|选择|要|用)?第?\s*(?P<nz>{NUM})\s*(?:个|条)?(?:吧)?$",
                rf"^(?:选|选择)\s*第?\s*(?P<nz2>{NUM})",
                rf"^(?P<nj>{NUM})\s*(?:番|つ目|番目)(?:で|に|を)?(?:する|お願いします|します)?$",
            ),
            lambda m: _choose(m),
        ),
        # Going on.
        (
            _rx(r"^(?:/)?undo\b", r"撤销|撤回|回退", r"元に戻|取り消"),
            lambda m: _call("undo"),
        ),
        (
            _rx(r"^(?:/)?help\b|^\?$|what can you do", r"帮助|你能做什么", r"ヘルプ|何ができ"),
            lambda m: _call("help"),
        ),
        (
            _rx(
                r"\b(?:render|produce|make the episode|make it|shoot it|roll)\b",
                r"渲染|生成|开始制作|制作吧",
                r"レンダリング|制作して|生成して|作って",
            ),
            lambda m: _call("render"),
        ),
        (
            _rx(
                r"^(?:approve[d]?|i approve|ok(?:ay)?|yes|yep|sure|looks good|lgtm|good|great|"
                r"go ahead|go on|next|continue|sounds good|perfect)\b",
                r"^(?:通过|可以|好的?|同意|批准|没问题|行|继续)",
                r"^(?:承認|OK|いいね|いいです|それで|了解|はい|次へ|進めて)",
            ),
            lambda m: _call("approve"),
        ),
    ]


def _unquote(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.strip().rstrip("。.")
    m = re.fullmatch(_QUOTED, text)
    return m.group(1) if m else text


def _look(m: re.Match[str]) -> ToolCall | None:
    who = _first(m, "who")
    part_word = _first(m, "part") or ""
    part = "hair" if re.search(r"hair|头发|发色|髪", part_word) else "outfit"
    colour = _first(m, "col")
    if who is None or colour is None:
        return None
    return _call("change_look", character=who, part=part, colour=colour)


def _rename(m: re.Match[str]) -> ToolCall | None:
    old, new = _first(m, "old"), _first(m, "new")
    if old is None or new is None or old == new:
        return None
    return _call("rename_character", old=old, new=new)


def _choose(m: re.Match[str]) -> ToolCall | None:
    value = _first(m, "n")
    n = number(value) if value is not None else None
    if n is None or not 1 <= n <= 3:
        return None
    return _call("choose_logline", number=n)


_CLAUSES = re.compile(
    r"\s*(?:[,;]\s*(?:and|then)\s+|;\s*|\s+and then\s+|[；。！？!]\s*|，(?:并且|然后|而且)?\s*|、(?:そして)?\s*)"
)
_THERE = re.compile(
    r"\b(?:there|in it|in that shot)\b|那里|那个镜头|这个镜头|そこ|そのショット", re.I
)


def understand(message: str, names: Sequence[str] = ()) -> list[ToolCall]:
    """The tool calls a message asks for (none when no rule matches it). `names` are the
    cast's, matched before the generic name pattern (Chinese and Japanese run names into the
    words around them)."""
    text = _normal(message)
    known = sorted({_normal(n) for n in names if n.strip()}, key=len, reverse=True)
    rules = _rules("|".join([*map(re.escape, known), _NAME]))
    whole = _match(text, rules)
    if whole is not None and (whole.name != "change_shot" or not _CLAUSES.search(text)):
        return [whole]
    calls: list[ToolCall] = []
    last_shot: str | None = None
    for clause in filter(None, _CLAUSES.split(text)):
        if last_shot is not None:
            clause = _THERE.sub(f" in shot {last_shot}", clause)
        found = _match(clause, rules)
        if found is None:
            continue
        if found.name == "change_shot":
            last_shot = str(found.args["shot"])
            earlier = next(
                (c for c in calls if c.name == "change_shot" and c.args["shot"] == last_shot), None
            )
            if earlier is not None:  # one change of the shot, with everything asked of it
                earlier.args.update(found.args)
                continue
        calls.append(found)
    return calls


def _match(text: str, rules: list[Rule]) -> ToolCall | None:
    for pattern, make in rules:
        m = pattern.search(text)
        if m is not None:
            found = make(m)
            if found is not None:
                return _tidy(found)
    return None


def _tidy(found: ToolCall) -> ToolCall:
    """Names without the words a CJK sentence runs into them ("爱子很" is 爱子)."""
    for key in ("who", "character", "name", "old", "new"):
        value = found.args.get(key)
        if isinstance(value, str):
            found.args[key] = _NAME_TAIL.sub("", value) or value
    return found
