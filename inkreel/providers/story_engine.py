"""The offline story engine: procedural, deterministic answers for the project's schemas.

It reads the same tagged prompt a hosted model would read and returns arguments for the
requested schema. It is not a language model: it finds names, nouns and places in the idea
with simple lexical rules, and writes a four-act story from phrase templates in the target
language. Same prompt and seed, same answer.
"""

from __future__ import annotations

import colorsys
import hashlib
import re
from collections.abc import Callable, Sequence
from typing import Any

from inkreel.providers.appearance import read_appearance
from inkreel.providers.prompt_io import read_json_tag, read_tag
from inkreel.schemas.design import ELEMENT_SIZE
from inkreel.schemas.script import prop_key

CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")

STOPWORDS = set(
    """
    a an the and or but if then so of to in on at by for with from into onto over under
    about after before between through during without within across near inside outside
    is are was were be been being am do does did has have had will would can could
    should may might must shall this that these those it its it's he she they them his
    her their our we us you your i me my mine who whom whose which what when where why
    how all any each every some no not one two three only just very too also still yet
    again ever never story tale episode about finds find meets meet tries try wants want
    learns learn must discovers discover becomes become gets get takes take makes make
    goes go comes come named called day night morning evening once upon time there here
    while until because young old new little big small last first secret strange
    mysterious lonely
    """.split()
)
ADJECTIVES = {
    "young",
    "old",
    "new",
    "little",
    "big",
    "small",
    "secret",
    "strange",
    "mysterious",
    "lonely",
}
DETERMINERS = {"a", "an", "the", "his", "her", "their", "its", "my", "our", "your", "some"}
PLACE_PREPOSITIONS = {"in", "at", "inside", "on", "near", "across", "into", "to"}
PLACE_WORDS = {
    "lighthouse",
    "market",
    "house",
    "teahouse",
    "school",
    "office",
    "station",
    "street",
    "forest",
    "temple",
    "palace",
    "apartment",
    "cafe",
    "café",
    "kitchen",
    "rooftop",
    "harbour",
    "harbor",
    "beach",
    "train",
    "city",
    "village",
    "garden",
    "library",
    "shop",
    "bar",
    "restaurant",
    "hospital",
    "park",
    "bridge",
    "alley",
    "castle",
    "mountain",
    "river",
    "studio",
    "classroom",
    "hall",
    "court",
    "dojo",
    "port",
    "island",
    "town",
    "room",
    "tower",
}
OUTDOOR_WORDS = {
    "market",
    "street",
    "forest",
    "rooftop",
    "harbour",
    "harbor",
    "beach",
    "city",
    "village",
    "garden",
    "park",
    "bridge",
    "alley",
    "mountain",
    "river",
    "port",
    "island",
    "town",
    "courtyard",
    "field",
    "square",
}
FEMALE_HINTS = {
    "she",
    "her",
    "girl",
    "woman",
    "sister",
    "mother",
    "queen",
    "princess",
    "daughter",
    "wife",
    "aunt",
    "grandmother",
    "lady",
    "她",
    "女",
    "姐",
    "妹",
    "母",
    "妈",
    "娘",
    "彼女",
    "少女",
}
ZH_SURNAMES = (
    "李王张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余杜叶程魏苏"
    "吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴莫孔汤"
)

NAME_POOLS = {
    "en": [
        "Mei",
        "Kai",
        "Lin",
        "Rowan",
        "Yara",
        "Theo",
        "Jun",
        "Nora",
        "Ash",
        "Lena",
        "Ivo",
        "Suki",
        "Marco",
        "Ines",
    ],
    "zh": ["林夏", "陈默", "苏晴", "周野", "沈月", "顾川", "许念", "江潮", "宋雨", "韩星"],
    "ja": [
        "アオイ",
        "ハルト",
        "ユイ",
        "レン",
        "ミサキ",
        "ソウタ",
        "ヒナ",
        "カイト",
        "サクラ",
        "リク",
    ],
}
PLACE_POOLS = {
    "en": [
        ("tea house", True),
        ("night market", False),
        ("rooftop", False),
        ("old library", True),
        ("train station", True),
        ("harbour", False),
        ("apartment", True),
        ("temple garden", False),
    ],
    "zh": [
        ("茶馆", True),
        ("夜市", False),
        ("天台", False),
        ("旧书店", True),
        ("火车站", True),
        ("码头", False),
        ("公寓", True),
        ("庙园", False),
    ],
    "ja": [
        ("喫茶店", True),
        ("夜市", False),
        ("屋上", False),
        ("古本屋", True),
        ("駅", True),
        ("港", False),
        ("アパート", True),
        ("神社の庭", False),
    ],
}
NOUN_FALLBACK = {
    "en": ["letter", "promise", "key", "map", "song"],
    "zh": ["信", "约定", "钥匙", "地图", "歌"],
    "ja": ["手紙", "約束", "鍵", "地図", "歌"],
}

# (text, emotion) per act. {A} protagonist, {B} the other, {N}/{M} the idea's nouns, {P} place.
LINES: dict[str, dict[str, list[tuple[str, str]]]] = {
    "en": {
        "setup": [
            ("Another quiet day at the {P}. Nothing ever changes here.", "neutral"),
            ("{B}, have you seen the {N}?", "neutral"),
            ("I keep thinking about the {N}.", "neutral"),
            ("You're late again, {A}.", "happy"),
            ("Something about the {N} feels wrong today.", "neutral"),
            ("If the {M} is real, everything we know is about to change.", "surprised"),
        ],
        "development": [
            ("The {N} changes everything, {B}.", "surprised"),
            ("If we follow the {N}, where does it lead?", "neutral"),
            ("You knew about the {M} all along?", "angry"),
            ("We can't do this alone. Not with the {N} at stake.", "afraid"),
            ("Look closer. The {M} has been here before.", "neutral"),
            ("Then we go tonight, before anyone else finds the {N}.", "neutral"),
        ],
        "turn": [
            ("Wait. The {N} was never what we thought.", "surprised"),
            ("{B}, you lied to me about the {M}!", "angry"),
            ("It's gone. The {N} is gone.", "sad"),
            ("No... this can't be happening.", "afraid"),
            ("Run! They know about the {N}!", "afraid"),
            ("I had no choice, {A}. I'm sorry.", "sad"),
        ],
        "resolution": [
            ("Maybe the {N} was the answer all along.", "happy"),
            ("Thank you, {B}. I couldn't have done it without you.", "happy"),
            ("Tomorrow the {P} will feel different.", "neutral"),
            ("Let's go home. The {M} can wait.", "happy"),
            ("Promise me we'll remember the {N}.", "sad"),
            ("Whatever comes next, we face it together.", "happy"),
        ],
    },
    "zh": {
        "setup": [
            ("{P}又是平静的一天，什么都没变。", "neutral"),
            ("{B}，你看见{N}了吗？", "neutral"),
            ("我一直在想那个{N}。", "neutral"),
            ("{A}，你又迟到了。", "happy"),
            ("今天的{N}有点不对劲。", "neutral"),
            ("如果{M}是真的，一切都会改变。", "surprised"),
        ],
        "development": [
            ("{B}，这个{N}改变了一切。", "surprised"),
            ("跟着{N}走，会通向哪里？", "neutral"),
            ("你早就知道{M}的事？", "angry"),
            ("我们不能单独行动，{N}太重要了。", "afraid"),
            ("再仔细看看，{M}以前来过这里。", "neutral"),
            ("那就今晚出发，别让别人先找到{N}。", "neutral"),
        ],
        "turn": [
            ("等等，{N}根本不是我们想的那样。", "surprised"),
            ("{B}，你骗了我{M}的事！", "angry"),
            ("没了……{N}不见了。", "sad"),
            ("不……这不可能。", "afraid"),
            ("快跑！他们知道{N}的事了！", "afraid"),
            ("{A}，我别无选择，对不起。", "sad"),
        ],
        "resolution": [
            ("也许{N}一直就是答案。", "happy"),
            ("谢谢你，{B}。没有你我做不到。", "happy"),
            ("明天的{P}会不一样。", "neutral"),
            ("回家吧，{M}可以等。", "happy"),
            ("答应我，我们会记住{N}。", "sad"),
            ("不管接下来发生什么，我们一起面对。", "happy"),
        ],
    },
    "ja": {
        "setup": [
            ("{P}はまた静かな一日。何も変わらない。", "neutral"),
            ("{B}、{N}を見なかった？", "neutral"),
            ("ずっと{N}のことを考えている。", "neutral"),
            ("{A}、また遅刻だよ。", "happy"),
            ("今日の{N}は何かおかしい。", "neutral"),
            ("もし{M}が本当なら、全部変わる。", "surprised"),
        ],
        "development": [
            ("{B}、この{N}がすべてを変えるんだ。", "surprised"),
            ("{N}を追ったら、どこに着くの？", "neutral"),
            ("{M}のこと、ずっと知ってたの？", "angry"),
            ("一人じゃ無理だ。{N}がかかっている。", "afraid"),
            ("よく見て。{M}は前にもここにあった。", "neutral"),
            ("じゃあ今夜行こう。誰かが{N}を見つける前に。", "neutral"),
        ],
        "turn": [
            ("待って。{N}は思っていたものじゃない。", "surprised"),
            ("{B}、{M}のことで嘘をついたな！", "angry"),
            ("ない……{N}がなくなった。", "sad"),
            ("うそ……こんなはずじゃない。", "afraid"),
            ("逃げて！{N}のことがばれた！", "afraid"),
            ("{A}、仕方なかったの。ごめん。", "sad"),
        ],
        "resolution": [
            ("{N}が最初から答えだったのかも。", "happy"),
            ("ありがとう、{B}。君がいなければ無理だった。", "happy"),
            ("明日の{P}はきっと違って見える。", "neutral"),
            ("帰ろう。{M}は待ってくれる。", "happy"),
            ("{N}のこと、忘れないって約束して。", "sad"),
            ("何が来ても、一緒に立ち向かおう。", "happy"),
        ],
    },
}
# One action beat opens each scene: (text, props shown, props lost in it). "turn_after" is the
# turn once the {M} is already gone, so a lost prop never comes back.
ACTIONS: dict[str, dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]]] = {
    "en": {
        "setup": ("{A} pauses at the {P}, the {N} close at hand.", ("N",), ()),
        "development": (
            "{B} sets the {M} beside the {N}. {A} and {B} lean over them, voices low.",
            ("M", "N"),
            (),
        ),
        "turn": ("The light flickers. {A} freezes as the {M} slips away.", ("M",), ("M",)),
        "turn_after": ("The light flickers. {A} freezes, the {N} held tight.", ("N",), ()),
        "resolution": ("{A} and {B} stand together at the {P} as the day settles.", (), ()),
    },
    "zh": {
        "setup": ("{A}在{P}停下脚步，{N}就在手边。", ("N",), ()),
        "development": ("{B}把{M}放在{N}旁边。{A}和{B}凑近，压低声音。", ("M", "N"), ()),
        "turn": ("灯光一闪，{A}僵住了，{M}消失了。", ("M",), ("M",)),
        "turn_after": ("灯光一闪，{A}僵住了，紧紧握着{N}。", ("N",), ()),
        "resolution": ("{A}和{B}一起站在{P}，天色渐渐安静下来。", (), ()),
    },
    "ja": {
        "setup": ("{A}は{P}で立ち止まる。{N}はすぐそばにある。", ("N",), ()),
        "development": (
            "{B}は{M}を{N}の横に置く。{A}と{B}はのぞき込み、声をひそめる。",
            ("M", "N"),
            (),
        ),
        "turn": ("明かりが揺れる。{M}が消え、{A}は凍りつく。", ("M",), ("M",)),
        "turn_after": ("明かりが揺れる。{A}は{N}を握りしめ、凍りつく。", ("N",), ()),
        "resolution": ("{A}と{B}は{P}に並んで立つ。一日が静かに終わる。", (), ()),
    },
}
# What each character wears through the story's first day; at night a coat goes over it.
WARDROBE = {
    "en": [
        "knit sweater and jeans",
        "work overalls",
        "linen shirt and apron",
        "denim jacket and skirt",
        "school uniform",
        "hoodie and cargo trousers",
        "cardigan over a long dress",
    ],
    "zh": [
        "毛衣配牛仔裤",
        "工装背带裤",
        "亚麻衬衫加围裙",
        "牛仔夹克配短裙",
        "校服",
        "连帽衫配工装裤",
    ],
    "ja": [
        "ニットとジーンズ",
        "作業用のつなぎ",
        "麻のシャツとエプロン",
        "デニムジャケットとスカート",
        "制服",
        "パーカーとカーゴパンツ",
    ],
}
NIGHT_LAYER = {"en": "dark coat over {}", "zh": "{}外披深色外套", "ja": "{}に濃い色のコート"}
CJK_CONNECTORS = re.compile(r"[和与跟及、，。！？,.!?\s在是的了里中把被从到]|一[张封个把只本位条]")
CJK_VERBS = {"发现", "寻找", "找到", "遇见", "看见", "得到", "决定", "开始", "离开", "回到"}
CJK_PLACE_ENDINGS = "馆店站园场街港楼室院寺宫屋駅"
KANA = re.compile(r"[\u3040-\u30ff]")
JA_PARTICLES = re.compile(r"[はでをがにのとへもや、。！？\s]|見つけ\w*|した|する")
TIME_WORDS = {"day": "DAY", "dusk": "DUSK", "night": "NIGHT"}
ACT_ORDER = ["setup", "development", "turn", "resolution"]


class Dice:
    """A deterministic chooser keyed by strings (never Python's salted hash())."""

    def __init__(self, *keys: object) -> None:
        self.key = ":".join(str(k) for k in keys)

    def unit(self, *salt: object) -> float:
        h = hashlib.sha256(f"{self.key}:{':'.join(map(str, salt))}".encode()).digest()
        return int.from_bytes(h[:8], "big") / 2**64

    def pick(self, seq: Sequence[Any], *salt: object) -> Any:
        return seq[int(self.unit(*salt) * len(seq)) % len(seq)]

    def between(self, lo: float, hi: float, *salt: object) -> float:
        return lo + (hi - lo) * self.unit(*salt)


# --------------------------------------------------------------------------- idea reading


def is_cjk(text: str) -> bool:
    return bool(CJK.search(text))


# Capitalised words that open a sentence before a comma without being anyone's name.
SENTENCE_ADVERBS = set(
    """
    meanwhile later yesterday today tomorrow tonight now soon suddenly finally eventually
    afterwards elsewhere somewhere someday overnight nearby recently luckily unfortunately
    """.split()
)


# "Mei, a tea-house owner, ...": words that open a description of the name before them.
APPOSITIVE_OPENERS = {"a", "an", "the", "our", "my", "his", "her", "their"}


def find_names(idea: str) -> list[str]:
    """Return the character names the idea gives, in order of appearance."""
    names: list[str] = []
    if is_cjk(idea):
        for m in re.finditer(r"(?:名叫|叫做|叫)([\u4e00-\u9fff]{2,3})", idea):
            names.append(m.group(1))
        for segment in CJK_CONNECTORS.split(idea):
            if 2 <= len(segment) <= 3 and segment[0] in ZH_SURNAMES:
                names.append(segment)
        # "アオイ、ハルとユキは": a name heading a list of names, as well as one before a particle.
        katakana, particle = r"[\u30a0-\u30ff]{2,6}", r"さん|くん|ちゃん|は|と|が"
        ja_name = rf"({katakana})(?:{particle}|、(?={katakana}(?:、|{particle})))"
        for m in re.finditer(ja_name, idea):
            names.append(m.group(1))
    tokens = re.findall(r"[A-Za-z][\w'’-]*|[.!?;:,]", idea)
    sentence_start = True
    prev = ""
    for i, tok in enumerate(tokens):
        if tok in ".!?;:":
            sentence_start = True
            continue
        if tok == ",":
            prev = tok
            continue
        word = tok.rstrip("'’s") if tok.endswith(("'s", "’s")) else tok
        capital = word[:1].isupper() and word.lower() not in STOPWORDS
        after_naming = prev.lower() in {"named", "called"}
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        # A capitalised first word is a name when a verb or "and" follows ("Mei finds ..."),
        # when it heads a list of names ("Rosa, Tam and Bo run ..."), or when a description
        # of them follows ("Mei, a tea-house owner, finds ...").
        heads_list = following == "," and word.lower() not in SENTENCE_ADVERBS
        described = tokens[i + 2].lower() in APPOSITIVE_OPENERS if i + 2 < len(tokens) else False
        opens_as_subject = (
            following == "and"
            or (following[:1].islower() and following.endswith("s") and len(following) > 3)
            or (heads_list and (_heads_list(tokens, i) or described))
        )
        if (
            capital
            and (not sentence_start or after_naming or opens_as_subject)
            and (prev.lower() not in PLACE_PREPOSITIONS | {"the"})
        ):
            names.append(word)
        elif after_naming and word[:1].isalpha():
            names.append(word[:1].upper() + word[1:])
        sentence_start = False
        prev = tok
    seen: dict[str, None] = {}
    for n in names:
        seen.setdefault(n, None)
    return list(seen)[:4]


def _descriptions(idea: str, names: list[str]) -> list[str]:
    """The descriptions set off after a name: "Mei, a tea-house owner, finds" -> "tea-house
    owner" (what a character is, not an object of the story)."""
    openers = "|".join(sorted(APPOSITIVE_OPENERS))
    return [
        m.group(1).casefold()
        for name in names
        for m in re.finditer(rf"\b{re.escape(name)},\s+(?:{openers})\s+([^,.;:!?]+)", idea)
    ]


def _heads_list(tokens: list[str], i: int) -> bool:
    """Is tokens[i] followed by ", Name," or ", Name and", the start of a list of names?"""
    name, after = tokens[i + 2 : i + 3], tokens[i + 3 : i + 4]
    return (
        bool(name)
        and name[0][:1].isupper()
        and name[0].lower() not in STOPWORDS
        and after in ([","], ["and"])
    )


def find_nouns(idea: str) -> list[str]:
    """Return the idea's noun phrases (after determiners), most specific first."""
    if is_cjk(idea):
        names = set(find_names(idea))
        parts = JA_PARTICLES.split(idea) if KANA.search(idea) else CJK_CONNECTORS.split(idea)
        parts = [re.sub(r"^.*?[いな](?=[\u4e00-\u9fff])", "", p) for p in parts]
        found = [
            p
            for p in parts
            if 2 <= len(p) <= 4
            and p not in names
            and not any(n in p for n in names)
            and p not in CJK_VERBS
        ]
        return list(dict.fromkeys(found))
    words = re.findall(r"[A-Za-z][\w'’-]*", idea)
    nouns: list[str] = []
    for i, w in enumerate(words):
        if w.lower() not in DETERMINERS:
            continue
        phrase: list[str] = []
        for nxt in words[i + 1 : i + 4]:
            if nxt.lower() in ADJECTIVES:
                continue
            if nxt.lower() in STOPWORDS:
                break
            if nxt[:1].isupper():
                break
            phrase.append(nxt.lower())
        phrase = [p for p in phrase if p not in STOPWORDS]
        if phrase:
            nouns.append(" ".join(phrase[-2:]))
    return list(dict.fromkeys(nouns))


def find_places(idea: str, nouns: list[str]) -> list[tuple[str, bool]]:
    """Return (place, interior) pairs the idea mentions."""
    places: list[tuple[str, bool]] = []
    if is_cjk(idea):
        for m in re.finditer(
            r"(?:在|到|去|の|で|に)([\u4e00-\u9fff\u30a0-\u30ff]{2,4}?)(?:里|中|上|で|に|，|。|的)",
            idea,
        ):
            word = m.group(1)
            places.append((word, not any(k in word for k in "街市场港园山河岛桥天台")))
        for noun in nouns:
            if noun[-1] in CJK_PLACE_ENDINGS and all(noun != p for p, _ in places):
                places.append((noun, noun[-1] not in "街市场港园"))
        return list(dict.fromkeys(places))
    words = re.findall(r"[A-Za-z][\w'’-]*", idea.lower())
    for i, w in enumerate(words[:-1]):
        if w in PLACE_PREPOSITIONS:
            rest = words[i + 1 : i + 4]
            if rest and rest[0] in DETERMINERS:
                rest = rest[1:]
            phrase = []
            for r in rest:
                if r in STOPWORDS:
                    break
                phrase.append(r)
                if r in PLACE_WORDS:
                    break
            if phrase and phrase[-1] in PLACE_WORDS:
                places.append((" ".join(phrase[-2:]), phrase[-1] not in OUTDOOR_WORDS))
    for n in nouns:
        for word in n.split():
            if word in PLACE_WORDS and all(word != p for p, _ in places):
                places.append((word, word not in OUTDOOR_WORDS))
    return places


# --------------------------------------------------------------------------- generators


def _fill(template: str, slots: dict[str, str]) -> str:
    return template.format(**slots)


def _cast(prompt: str, idea: str, language: str, dice: Dice) -> list[str]:
    """The story's names: the writer's cast (`<cast>`) when the prompt gives one, else the
    idea's names, topped up to two from the language's pool."""
    names = [n for n in read_json_tag(prompt, "cast") or [] if str(n).strip()] or find_names(idea)
    pool = [n for n in NAME_POOLS[language] if n not in names]
    while len(names) < 2:
        names.append(dice.pick(pool, "name", len(names)))
        pool = [n for n in pool if n not in names]
    return names


def _props_and_places(idea: str, names: list[str]) -> tuple[list[str], list[tuple[str, bool]]]:
    """The idea's props (nouns that are not places, names or descriptions of a character)
    and its places (name, interior)."""
    nouns = find_nouns(idea)
    place_list = find_places(idea, nouns)
    described = _descriptions(idea, names)  # "Mei, a tea-house owner, ...": Mei, not a prop
    props = [
        n
        for n in nouns
        if all(p not in n for p, _ in place_list)
        and n not in names
        and not any(n in d for d in described)
    ]
    return props, place_list


def _story_slots(prompt: str, seed: int) -> tuple[str, list[str], dict[str, str]]:
    """The language, cast and template slots (A, B, N, P) of a pitch or an outline."""
    idea = (read_tag(prompt, "idea") or "").strip()
    language = (read_tag(prompt, "language") or "en").strip()
    dice = Dice("script", seed, idea, language)
    names = _cast(prompt, idea, language, dice)
    nouns, places = _props_and_places(idea, names)
    nouns = nouns or [dice.pick(NOUN_FALLBACK[language], "noun")]
    places = places or [dice.pick(PLACE_POOLS[language], "place")]
    slots = {"A": names[0], "B": names[1], "N": nouns[0], "P": places[0][0]}
    return language, names, slots


# Three takes on one idea: a mystery, a bond, a choice.
LOGLINES = {
    "en": [
        "When {A} finds the {N} at the {P}, a secret pulls {A} and {B} into one long night.",
        "{A} and {B} must trust each other to keep the {N} safe before the night takes it.",
        "At the {P}, {A} has until dusk to decide whether the {N} is worth losing {B}.",
    ],
    "zh": [
        "{A}在{P}发现了{N}，一个秘密把{A}和{B}卷进了漫长的一夜。",
        "{A}和{B}必须彼此信任，才能在天黑前守住{N}。",
        "在{P}，{A}必须在黄昏前决定：{N}是否值得让{B}离开。",
    ],
    "ja": [
        "{P}で{N}を見つけた{A}。ひとつの秘密が{A}と{B}を長い夜へ引き込む。",
        "{A}と{B}は夜が来る前に{N}を守るため、互いを信じなければならない。",
        "{P}で、{A}は夕暮れまでに{N}と{B}のどちらを選ぶか決めなければならない。",
    ],
}
OUTLINE_BEATS = {
    "en": {
        "setup": "At the {P}, {A} comes upon the {N} and cannot leave it alone.",
        "development": "{A} brings {B} in; together they work out what the {N} means.",
        "turn": "Night falls and the {N} slips away; {A} must choose whom to trust.",
        "resolution": "{A} and {B} face the dusk together, changed by what they found.",
    },
    "zh": {
        "setup": "在{P}，{A}发现了{N}，再也放不下。",
        "development": "{A}找来{B}，两人一起弄清{N}的含义。",
        "turn": "夜幕降临，{N}不见了，{A}必须决定相信谁。",
        "resolution": "黄昏时，{A}和{B}并肩而立，都因这次发现而改变。",
    },
    "ja": {
        "setup": "{P}で、{A}は{N}を見つけ、目が離せなくなる。",
        "development": "{A}は{B}を呼び、二人で{N}の意味を探る。",
        "turn": "夜が来て{N}が消える。{A}は誰を信じるか選ばなければならない。",
        "resolution": "夕暮れ、{A}と{B}は並んで立つ。見つけたものが二人を変えた。",
    },
}


def pitch(prompt: str, seed: int) -> dict[str, Any]:
    """Three loglines for the idea (`<idea>`, `<language>`, optional `<cast>`)."""
    language, names, slots = _story_slots(prompt, seed)
    return {
        "loglines": [_fill(t, slots) for t in LOGLINES[language]],
        "characters": names,
    }


def outline(prompt: str, seed: int) -> dict[str, Any]:
    """The four beats of the chosen logline (`<logline>`), one per act."""
    language, _, slots = _story_slots(prompt, seed)
    return {
        "beats": [
            {"act": act, "text": _fill(text, slots)}
            for act, text in OUTLINE_BEATS[language].items()
        ]
    }


def write_script(prompt: str, seed: int) -> dict[str, Any]:
    idea = (read_tag(prompt, "idea") or "").strip()
    language = (read_tag(prompt, "language") or "en").strip()
    runtime = float(read_tag(prompt, "runtime_seconds") or 60)
    # A person rejected the earlier drafts: the engine cannot read their notes, so a new draft
    # is new dice (names, places, lines), the same story shape.
    draft = _draft(prompt)
    dice = Dice("script", seed, idea, language, runtime, *([f"draft{draft}"] if draft > 1 else []))

    names = _cast(prompt, idea, language, dice)
    a, b = names[0], names[1]

    nouns, place_list = _props_and_places(idea, names)
    fallback = NOUN_FALLBACK[language]
    while len(nouns) < 2:
        start = len(nouns) + int(dice.unit("noun") * 5)
        # Two distinct props: the second is lost in the turn while the first stays.
        options = [fallback[(start + k) % len(fallback)] for k in range(len(fallback))]
        nouns.append(next(n for n in options if n not in nouns))
    spare_places = [p for p in PLACE_POOLS[language] if p[0] not in {q for q, _ in place_list}]
    while len(place_list) < 2:
        place_list.append(dice.pick(spare_places, "place", len(place_list)))
        spare_places = [p for p in spare_places if p not in place_list]

    # Roughly one line per 3.4 s of runtime plus a short action beat per scene.
    n_scenes = max(4, min(10, round(runtime / 15)))
    total_lines = max(n_scenes, round((runtime - n_scenes * 2.0) / 3.0))
    acts = [ACT_ORDER[min(3, i * 4 // n_scenes)] for i in range(n_scenes)]
    acts[-1] = "resolution"
    acts[0] = "setup"
    if "turn" not in acts:
        acts[-2] = "turn"

    scene_places = []
    for i, act in enumerate(acts):
        if act == "setup" or act == "resolution":
            scene_places.append(place_list[0])
        else:
            scene_places.append(place_list[1 + (i % (len(place_list) - 1))])
    times = {"setup": "day", "development": "day", "turn": "night", "resolution": "dusk"}

    # A scene that carries on the previous one's moment (same act, or the first development
    # straight after the setup) is CONTINUOUS: same light, same clothes.
    continuous = [
        i > 0
        and times[act] == times[acts[i - 1]]
        and (act == acts[i - 1] or (acts[i - 1], act) == ("setup", "development"))
        for i, act in enumerate(acts)
    ]
    outfits = _outfits(names, language, dice)

    planned: dict[str, list[str]] = {}
    for beat in read_json_tag(prompt, "outline") or []:
        planned.setdefault(beat["act"], []).append(beat["text"])
    scenes = []
    used: dict[str, int] = {}
    shown: set[str] = set()
    lost: set[str] = set()
    spoken = 0
    for i, act in enumerate(acts):
        lines_here = total_lines // n_scenes + (1 if i < total_lines % n_scenes else 0)
        place, interior = scene_places[i]
        cast = [a, b] + ([names[2]] if len(names) > 2 and act in ("development", "turn") else [])
        slots = {"A": a, "B": b, "N": nouns[0], "M": nouns[1 if len(nouns) > 1 else 0], "P": place}
        action = "turn_after" if act == "turn" and slots["M"] in lost else act
        text, props, destroys = ACTIONS[language][action]
        handled = [slots[p] for p in props]
        beats: list[dict[str, Any]] = [
            {
                "kind": "action",
                "text": _fill(text, slots),
                "props": handled,
                "introduces": [p for p in handled if p not in shown],
                "destroys": [slots[p] for p in destroys],
            }
        ]
        # The writer's outline: each act's beats open that act's scenes, in order; an act
        # with more beats than scenes gives its last scene the rest.
        mine = planned.get(act, [])
        if mine:
            last_of_act = act not in acts[i + 1 :]
            told = mine if last_of_act else mine[:1]
            planned[act] = [] if last_of_act else mine[1:]
            beats = [{"kind": "action", "text": t} for t in told] + beats
        shown.update(handled)
        lost.update(slots[p] for p in destroys)
        templates = LINES[language][act]
        for _ in range(lines_here):
            # Alternate speakers across the whole episode, so short scenes are not monologues.
            speaker = cast[spoken % len(cast)]
            listener = cast[(spoken + 1) % len(cast)]
            spoken += 1
            k = (used.get(act, 0) + int(dice.unit("line", i) * len(templates))) % len(templates)
            used[act] = used.get(act, 0) + 1
            line, emotion = templates[k]
            line_slots = dict(slots, A=listener if "{A}" in line else a, B=listener)
            beats.append(
                {
                    "kind": "dialogue",
                    "character": speaker,
                    "addressee": listener,
                    "text": _fill(line, line_slots),
                    "emotion": emotion,
                }
            )
        prefix = "INT." if interior else "EXT."
        heading_place = place.upper() if not is_cjk(place) else place
        when = "CONTINUOUS" if continuous[i] else TIME_WORDS[times[act]]
        night = times[act] == "night"
        scenes.append(
            {
                "number": i + 1,
                "heading": f"{prefix} {heading_place} - {when}",
                "location": place.title() if not is_cjk(place) else place,
                "interior": interior,
                "time_of_day": times[act],
                "act": act,
                "characters": cast,
                "beats": beats,
                "continuous": continuous[i],
                "wardrobe": {
                    c: NIGHT_LAYER[language].format(outfits[c]) if night else outfits[c]
                    for c in cast
                },
            }
        )
    title_noun = nouns[0]
    title = {
        "en": f"{a} and the {title_noun.title()}",
        "zh": f"{a}与{title_noun}",
        "ja": f"{a}と{title_noun}",
    }[language]
    return {
        "title": title,
        "logline": (read_tag(prompt, "logline") or idea).strip()[:300],
        "language": language,
        "characters": names,
        "scenes": scenes,
        "source": "idea",
    }


def _outfits(names: list[str], language: str, dice: Dice) -> dict[str, str]:
    """Give each character a different everyday outfit."""
    pool = list(WARDROBE[language])
    chosen = {}
    for name in names:
        chosen[name] = dice.pick(pool, "outfit", name)
        pool = [o for o in pool if o != chosen[name]] or list(WARDROBE[language])
    return chosen


HAIR_COLOURS = [
    "#1e1a1d",
    "#3b2417",
    "#6b3a1f",
    "#a0522d",
    "#d9b25f",
    "#c8c8d0",
    "#2a3352",
    "#7a2e3a",
    "#e3a0b4",
]
SKINS = ["#f6dcc4", "#f1cfae", "#e4b48c", "#c98e66", "#9c6846", "#f8e2d0"]
EYES = ["#3b2a1a", "#1f3b5a", "#2f5a2a", "#5a3a1a", "#6a1f2f", "#3a3a4a"]
HAIR_STYLES = ["short", "long", "ponytail", "bun", "spiky", "bob"]
OUTFITS = [
    "jacket",
    "qipao-style dress",
    "school uniform",
    "hooded coat",
    "vest and shirt",
    "long coat",
    "tunic",
    "sweater",
]
ACCESSORIES = ["glasses", "scarf", "hat", "earrings", "headband", "beard"]


def _hex_from_hue(h: float, s: float, v: float) -> str:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


def _hue_of(hex_colour: str) -> float:
    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hsv(r, g, b)[0]


def design_character(prompt: str, seed: int) -> dict[str, Any]:
    """A look and a voice unlike the cast so far's; what the character's description
    (`<appearance>`) says of them is kept (`providers.appearance`)."""
    name = (read_tag(prompt, "character") or "").strip()
    context = read_tag(prompt, "story") or ""
    described = (read_tag(prompt, "appearance") or "").strip()
    look = read_appearance(described, name) if described else None
    voices = read_json_tag(prompt, "voices") or {"female": ["f1"], "male": ["m1"]}
    others = read_json_tag(prompt, "cast_so_far") or []
    dice = Dice("character", seed, name)

    # Pick the candidate outfit hue farthest from everyone else's.
    taken_hues = [_hue_of(o["outfit_colour"]) for o in others]
    candidates = [(dice.unit("hue") + k / 12) % 1.0 for k in range(12)]

    def distance(h: float) -> float:
        return min((min(abs(h - t), 1 - abs(h - t)) for t in taken_hues), default=1.0)

    hue = max(candidates, key=distance)
    # The accent must not land on someone else's outfit colour either.
    taken_hues.append(hue)
    accent_hue = max(((hue + 0.3 + k / 24) % 1.0 for k in range(10)), key=distance)
    window = context[max(0, context.find(name) - 60) : context.find(name) + len(name) + 60]
    female = any(w in FEMALE_HINTS for w in re.findall(r"\w+", window.lower())) or any(
        h in window for h in FEMALE_HINTS if CJK.search(h)
    )
    if not any(w in FEMALE_HINTS for w in window.lower().split()) and not female:
        female = dice.unit("gender") < 0.5
    if look is not None and look.female is not None:
        female = look.female

    def unused(options: list[str], key: str) -> list[str]:
        taken = {o.get(key) for o in others}
        return [x for x in options if x not in taken] or options

    variants = unused(voices["female" if female else "male"], "voice")
    styles = unused(
        ["long", "ponytail", "bun", "bob"] if female else ["short", "spiky", "bob", "long"],
        "hair_style",
    )
    hair_colours = unused(HAIR_COLOURS, "hair_colour")
    skins = unused(SKINS, "skin")
    eyes = unused(EYES, "eye_colour")
    builds = unused(["slim", "average", "broad"], "build")
    faces = unused(["oval", "round", "long", "square"], "face")
    eye_shapes = unused(["round", "almond", "narrow", "sleepy"], "eyes")
    # Alternate light and dark outfits so silhouettes separate even in grey.
    value = (0.78, 0.92) if len(others) % 2 else (0.35, 0.55)
    accessories = [a for a in ACCESSORIES if dice.unit("acc", a) < 0.18]
    if female:
        accessories = [a for a in accessories if a != "beard"]
    design = {
        "name": name,
        "role": "lead" if dice.unit("role") < 0.5 else "supporting",
        "build": dice.pick(builds, "build"),
        "face": dice.pick(faces, "face"),
        "eyes": dice.pick(eye_shapes, "eye_shape"),
        "height": round(dice.between(0.9, 1.08, "height"), 2),
        "skin": dice.pick(skins, "skin"),
        "hair_style": dice.pick(styles, "hair"),
        "hair_colour": dice.pick(hair_colours, "haircol"),
        "eye_colour": dice.pick(eyes, "eyes"),
        "outfit": dice.pick(OUTFITS, "outfit"),
        "outfit_colour": _hex_from_hue(
            hue, dice.between(0.45, 0.7, "s"), dice.between(*value, "v")
        ),
        "accent_colour": _hex_from_hue(accent_hue, 0.7, 0.8),
        "accessories": accessories[:2],
        "voice": {
            "variant": dice.pick(variants, "voice"),
            "pitch": int(dice.between(35, 70, "pitch")),
            "speed": int(dice.between(150, 185, "speed")),
        },
    }
    return design if look is None else design | look.fields()


INTERIOR_KITS: dict[str, list[str]] = {
    "tea": ["window", "counter", "lamp", "table", "shelf", "painting", "plant", "door"],
    "library": ["shelf", "shelf", "window", "lamp", "table", "shelf", "door", "plant"],
    "station": ["column", "window", "bench", "lamp", "column", "window", "bench", "door"],
    "default": ["window", "door", "lamp", "shelf", "table", "painting", "plant", "window"],
}
EXTERIOR_KITS: dict[str, list[str]] = {
    "market": ["building", "streetlamp", "counter", "building", "streetlamp", "counter", "tree"],
    "harbour": ["mountain", "building", "fence", "streetlamp", "fence", "bench"],
    "default": ["mountain", "building", "tree", "streetlamp", "tree", "bench", "fence", "building"],
}
WALLS = ["#d8c8a8", "#c9d3c0", "#d6c0b0", "#bfc8d6", "#e0d2bb", "#cdbfa8"]
FLOORS = ["#8a7458", "#6f5d4b", "#7d7466", "#9a805f", "#5e5548"]


def design_location(prompt: str, seed: int) -> dict[str, Any]:
    name = (read_tag(prompt, "location") or "").strip()
    interior = (read_tag(prompt, "interior") or "true").strip().lower() == "true"
    dice = Dice("location", seed, name)
    lower = name.lower()
    kits = INTERIOR_KITS if interior else EXTERIOR_KITS
    kit = next((v for k, v in kits.items() if k in lower), kits["default"])
    width = round(dice.between(12.0, 16.0, "width"), 1)
    elements = []
    slots = len(kit)
    for i, kind in enumerate(kit):
        w, h, base, layer = ELEMENT_SIZE[kind]
        x = (i + 0.5) * width / slots + dice.between(-0.3, 0.3, "x", i)
        if kind == "mountain":
            x = dice.between(2, width - 2, "mx", i)
        elements.append(
            {
                "kind": kind,
                "x": round(x, 2),
                "y": base,
                "width": w,
                "height": h,
                "layer": layer,
                "colour": _hex_from_hue(
                    dice.unit("col", i),
                    dice.between(0.25, 0.5, "cs", i),
                    dice.between(0.45, 0.75, "cv", i),
                ),
            }
        )
    wall = dice.pick(WALLS, "wall")
    return {
        "name": name,
        "interior": interior,
        "description": f"{'Interior' if interior else 'Exterior'} set: {name}.",
        "width": width,
        "wall_colour": wall,
        "floor_colour": dice.pick(FLOORS, "floor"),
        "elements": elements,
        "lighting": {
            "day": {
                "ambient": "#fff6e8",
                "sky": "#9cc8ee",
                "practicals_on": False,
                "brightness": 1.0,
            },
            "dusk": {
                "ambient": "#ffc89a",
                "sky": "#e88a5a",
                "practicals_on": True,
                "brightness": 0.8,
            },
            "night": {
                "ambient": "#8090c0",
                "sky": "#1b2340",
                "practicals_on": True,
                "brightness": 0.55,
            },
        },
    }


EFFECT_WORDS = {
    "speed_lines": (
        "run",
        "runs",
        "chase",
        "chases",
        "rush",
        "rushes",
        "race",
        "races",
        "speed",
        "flies",
        "fly",
        "dash",
        "dashes",
        "flee",
        "escape",
        "跑",
        "追",
        "冲",
        "逃",
        "走る",
        "逃げ",
        "追",
    ),
    "sparkle": (
        "beautiful",
        "shine",
        "shining",
        "sparkle",
        "gift",
        "treasure",
        "love",
        "宝",
        "美",
        "光",
        "きれい",
        "宝",
    ),
}
EMOTION_EFFECTS = {
    "surprised": "emphasis_burst",
    "afraid": "sweat_drop",
    "angry": "anger_mark",
    "happy": "sparkle",
}


def beat_effects(beat: dict[str, Any]) -> list[str]:
    """Return the manga effects a beat calls for: by its words, then by how it is played."""
    text = str(beat.get("text", "")).lower()
    words = set(re.findall(r"\w+", text))
    found = [
        effect
        for effect, keys in EFFECT_WORDS.items()
        if any(k in words or (not k.isascii() and k in text) for k in keys)
    ]
    if text.rstrip().endswith("!") and beat.get("kind") == "dialogue":
        found.append("emphasis_burst")
    emotional = EMOTION_EFFECTS.get(str(beat.get("emotion", "neutral")))
    if emotional and beat.get("kind") == "dialogue":
        found.append(emotional)
    return list(dict.fromkeys(found))


def _shot_for_beat(
    beat: dict[str, Any],
    index: int,
    scene: dict[str, Any],
    prev: dict[str, Any] | None,
    turn: int = 0,
) -> dict[str, Any]:
    cast = scene.get("characters") or []
    if beat["kind"] == "action":
        first = index == 0
        return {
            "beat": index,
            "framing": "extreme_wide" if first else "wide",
            "angle": "high" if first and scene.get("act") == "turn" else "eye_level",
            "move": "pan" if first else "static",
            "subjects": list(cast),
            "effects": beat_effects(beat),
            "note": "establish the set" if first else "show the action",
        }
    speaker = beat.get("character") or (cast[0] if cast else "")
    others = [c for c in cast if c != speaker]
    emotion = beat.get("emotion", "neutral")
    if emotion in ("angry", "afraid", "surprised"):
        framing, move = "close_up", "push_in"
    elif beat.get("dual"):
        framing, move = "two_shot", "static"
    elif prev is not None and prev.get("framing") == "over_the_shoulder":
        framing, move = "medium", "static"
    elif others and (index + turn) % 3 == 1:
        framing, move = "over_the_shoulder", "static"
    elif others and (index + turn) % 3 == 2:
        framing, move = "two_shot", "static"
    else:
        framing, move = "medium", "static"
    angle = "low" if emotion == "angry" else "high" if emotion == "afraid" else "eye_level"
    subjects = [speaker] + (others[:1] if framing in ("over_the_shoulder", "two_shot") else [])
    return {
        "beat": index,
        "framing": framing,
        "angle": angle,
        "move": move,
        "subjects": subjects,
        "effects": beat_effects(beat),
        "note": f"{speaker} speaks ({emotion})",
    }


WIDE_FRAMINGS = ("extreme_wide", "wide")


def _as_directed(shot: dict[str, Any], beat: dict[str, Any]) -> dict[str, Any]:
    """The shot as the story directed its beat (`shot`): its framing, angle and who is seen,
    the speaker first."""
    direction = beat.get("shot") or {}
    if not direction:
        return shot
    on_screen = list(direction.get("on_screen") or [])
    speaker = beat.get("character") if beat.get("kind") == "dialogue" else None
    first = [speaker] if speaker in on_screen else []
    framing = direction.get("framing") or shot["framing"]
    # An establishing pan is for a view of the set, not for a closer shot the story asked for.
    move = "static" if shot["move"] == "pan" and framing not in WIDE_FRAMINGS else shot["move"]
    return shot | {
        "framing": framing,
        "angle": direction.get("angle") or shot["angle"],
        "move": move,
        "subjects": list(dict.fromkeys([*first, *on_screen])),
    }


def plan_shots(prompt: str, seed: int) -> dict[str, Any]:
    scene = read_json_tag(prompt, "scene") or {}
    # A person rejected the earlier plans: the engine cannot read their notes, so each new
    # plan turns the dialogue coverage (single, over-the-shoulder, two-shot) one step on.
    turn = _draft(prompt) - 1
    shots: list[dict[str, Any]] = []
    for i, beat in enumerate(scene.get("beats", [])):
        shot = _shot_for_beat(beat, i, scene, shots[-1] if shots else None, turn)
        shots.append(_as_directed(shot, beat))
    return {"shots": shots}


def _draft(prompt: str) -> int:
    """Which draft the prompt asks for (<draft>, 1 when absent)."""
    try:
        return max(1, int(read_tag(prompt, "draft") or 1))
    except ValueError:
        return 1


JUMP_CUT_AWAY = {
    "extreme_wide": "wide",
    "wide": "medium",
    "medium": "close_up",
    "close_up": "medium",
    "extreme_close_up": "close_up",
    "over_the_shoulder": "close_up",
    "two_shot": "medium",
}


def revise_shot(prompt: str, seed: int) -> dict[str, Any]:
    """Apply a continuity fix instruction to one shot spec."""
    spec = dict(read_json_tag(prompt, "shot") or {})
    fix = (read_tag(prompt, "fix") or "").lower()
    must_show = read_json_tag(prompt, "must_show") or []
    # Only a camera that jumped the line goes back to the previous side: a flipped drawing
    # ("keep the screen sides") or an eyeline is fixed without moving a deliberate crossing.
    if "side of the line" in fix:
        spec["reverse"] = bool(read_json_tag(prompt, "previous_reverse") or False)
        spec["crosses_line"] = False
    for name in must_show:
        if name not in spec.get("subjects", []):
            spec["subjects"] = [name, *spec.get("subjects", [])]
    if must_show and spec.get("framing") in ("extreme_close_up", "close_up"):
        spec["framing"] = "medium" if len(spec["subjects"]) == 1 else "two_shot"
    if re.search(r"\bframe\b", fix) and spec.get("framing") == "over_the_shoulder":
        spec["framing"] = "two_shot"
    if "jump" in fix:
        # A jump cut: the same set-up again. Change the shot size, not just nudge the camera.
        spec["framing"] = JUMP_CUT_AWAY.get(spec.get("framing", ""), "medium")
    spec["note"] = (spec.get("note", "") + " (revised: continuity)").strip()
    return spec


def revise_scene(prompt: str, seed: int) -> dict[str, Any]:
    """Apply script-level continuity fixes to one scene, from the findings' evidence.

    The smallest change per finding: a line spoken by someone who is not there goes to
    someone who is; a character the scene shows is added to its cast; a character back after
    an exit re-enters; a prop used before it exists or after it is gone is dropped from the
    beat; a continuous scene takes its run's time of day and wardrobe.
    """
    scene = dict(read_json_tag(prompt, "scene") or {})
    findings = read_json_tag(prompt, "findings") or []
    beats: list[dict[str, Any]] = [dict(b) for b in scene.get("beats", [])]
    scene["beats"] = beats
    cast: list[str] = list(scene.get("characters", []))
    scene["characters"] = cast
    changes: list[str] = []
    for finding in findings:
        check = finding.get("check", "")
        evidence = finding.get("evidence") or {}
        name = str(evidence.get("character", ""))
        index = finding.get("beat")
        beat = beats[index] if isinstance(index, int) and 0 <= index < len(beats) else None
        if check == "absent_character" and beat is not None and name:
            changes.append(_stand_in(beat, name, cast, beats))
        elif check == "uncast_character" and name and name not in cast:
            cast.append(name)
            changes.append(f"Added {name} to the scene's characters.")
        elif check == "gone_character" and beat is not None and name:
            if "exit_beat" in evidence:
                beat["enters"] = [*beat.get("enters", []), name]
                changes.append(f"{name} comes back in at beat {index}.")
            else:  # they left the story: take them out of this scene
                for other in beats:
                    if other.get("character") == name and other.get("kind") == "dialogue":
                        _stand_in(other, name, [c for c in cast if c != name], beats)
                    for key in ("enters", "exits", "moves", "dies"):
                        other[key] = [n for n in other.get(key, []) if n != name]
                if name in cast:
                    cast.remove(name)
                changes.append(f"Removed {name}, who has left the story, from the scene.")
        elif check in ("prop_not_introduced", "prop_destroyed") and beat is not None:
            prop = prop_key(str(evidence.get("prop", "")))
            for key in ("props", "destroys"):
                beat[key] = [p for p in beat.get(key, []) if prop_key(p) != prop]
            changes.append(f"Beat {index} no longer uses the {evidence.get('prop')}.")
        elif check == "continuous_time" and evidence.get("expected"):
            when = str(evidence["expected"])
            scene["time_of_day"] = when
            heading = str(scene.get("heading", ""))
            scene["heading"] = re.sub(
                r"\b(DAY|DUSK|NIGHT)\s*$", TIME_WORDS.get(when, when.upper()), heading
            )
            changes.append(f"Set the time of day to {when}, as in the scenes it carries on from.")
        elif check == "continuous_wardrobe" and name and evidence.get("expected"):
            scene["wardrobe"] = {**scene.get("wardrobe", {}), name: str(evidence["expected"])}
            changes.append(f"Dressed {name} in '{evidence['expected']}' again.")
    return {"scene": scene, "changes": changes}


def _stand_in(
    beat: dict[str, Any], name: str, present: list[str], beats: list[dict[str, Any]]
) -> str:
    """Give `name`'s line to someone present (who spoke most in the scene, not the one spoken
    to), or take `name` out of the beat's movements."""
    if beat.get("kind") != "dialogue" or beat.get("character") != name:
        for key in ("enters", "exits", "moves"):
            beat[key] = [n for n in beat.get(key, []) if n != name]
        return f"Took {name} out of a beat in a scene they are not in."
    spoke = [b.get("character") for b in beats if b.get("kind") == "dialogue"]
    options = [c for c in present if c != name and c != beat.get("addressee")]
    options = options or [c for c in present if c != name]
    if not options:
        present.append(name)
        return f"Brought {name} into the scene for their line."
    taker = max(options, key=lambda c: (spoke.count(c), -options.index(c)))
    beat["character"] = taker
    return f"Gave {name}'s line to {taker}, who is in the scene."


# Lines for a story's shots, per act: (said to someone on screen, said alone). {B} is who
# the line is said to.
STORY_LINES: dict[str, dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]]] = {
    "en": {
        "setup": (
            [
                ("{B}, you're here too?", "surprised"),
                ("Good to see you, {B}.", "happy"),
                ("{B}, look at this.", "neutral"),
            ],
            [
                ("Something feels different today.", "neutral"),
                ("What a day this is going to be.", "happy"),
            ],
        ),
        "development": (
            [
                ("Stay close to me, {B}.", "neutral"),
                ("Did you see that, {B}?", "surprised"),
                ("We have to keep going, {B}.", "neutral"),
            ],
            [
                ("I have to find out what this means.", "neutral"),
                ("Just a little further.", "neutral"),
            ],
        ),
        "turn": (
            [
                ("{B}, watch out!", "afraid"),
                ("Why didn't you tell me, {B}?", "angry"),
                ("{B}... this is not what I expected.", "surprised"),
            ],
            [("No... this can't be happening.", "afraid"), ("I won't give up now.", "angry")],
        ),
        "resolution": (
            [
                ("Thank you, {B}. I couldn't have done it without you.", "happy"),
                ("We did it, {B}.", "happy"),
                ("Let's go home, {B}.", "happy"),
            ],
            [("It's over. Finally.", "happy"), ("I'll never forget today.", "sad")],
        ),
    },
    "zh": {
        "setup": (
            [
                ("{B}，你也在这儿？", "surprised"),
                ("见到你真好，{B}。", "happy"),
                ("{B}，你看这个。", "neutral"),
            ],
            [("今天好像有点不一样。", "neutral"), ("今天会是不平凡的一天。", "happy")],
        ),
        "development": (
            [
                ("{B}，跟紧我。", "neutral"),
                ("{B}，你看到了吗？", "surprised"),
                ("我们得继续走下去，{B}。", "neutral"),
            ],
            [("我一定要弄明白这是怎么回事。", "neutral"), ("再坚持一下就好。", "neutral")],
        ),
        "turn": (
            [
                ("{B}，小心！", "afraid"),
                ("{B}，你为什么不告诉我？", "angry"),
                ("{B}……这跟我想的不一样。", "surprised"),
            ],
            [("不……这不可能。", "afraid"), ("我现在绝不放弃。", "angry")],
        ),
        "resolution": (
            [
                ("谢谢你，{B}。没有你我做不到。", "happy"),
                ("我们成功了，{B}。", "happy"),
                ("我们回家吧，{B}。", "happy"),
            ],
            [("终于结束了。", "happy"), ("我永远不会忘记今天。", "sad")],
        ),
    },
    "ja": {
        "setup": (
            [
                ("{B}も来てたの？", "surprised"),
                ("会えてうれしいよ、{B}。", "happy"),
                ("{B}、これを見て。", "neutral"),
            ],
            [("今日はなんだかいつもと違う。", "neutral"), ("今日は特別な日になりそう。", "happy")],
        ),
        "development": (
            [
                ("{B}、離れないで。", "neutral"),
                ("{B}、今の見た？", "surprised"),
                ("先へ進もう、{B}。", "neutral"),
            ],
            [("これが何なのか確かめなきゃ。", "neutral"), ("もう少しだけ。", "neutral")],
        ),
        "turn": (
            [
                ("{B}、危ない！", "afraid"),
                ("どうして言ってくれなかったの、{B}？", "angry"),
                ("{B}……こんなはずじゃなかった。", "surprised"),
            ],
            [("うそ……こんなことって。", "afraid"), ("今さら諦めない。", "angry")],
        ),
        "resolution": (
            [
                ("ありがとう、{B}。君がいなければできなかった。", "happy"),
                ("やったね、{B}。", "happy"),
                ("帰ろう、{B}。", "happy"),
            ],
            [("やっと終わった。", "happy"), ("今日のことは忘れない。", "sad")],
        ),
    },
}
SPOKEN_SHARE = 0.4  # about this much of a story's runtime is spoken
LINE_SECONDS = 3.0


def write_shot_lines(prompt: str, seed: int) -> dict[str, Any]:
    """Lines for a story's fixed shots (`<shots>`, `<runtime_seconds>`, `<language>`).

    About 40 % of the runtime is spoken, a line about 3 s: that many lines go to shots spread
    evenly over the story among those where someone is on screen and the framing shows faces
    (not extreme wide). The speaker is the one on screen the shot's picture names first,
    unless they spoke in the shot just before, else whoever has spoken least; it is
    said to the other on screen who spoke last, else the first other; the line is a phrase
    for the story's act at that shot (by its place in the story), said to them or alone,
    never the same phrase twice.
    """
    shots = read_json_tag(prompt, "shots") or []
    language = (read_tag(prompt, "language") or "en").strip()
    runtime = float(read_tag(prompt, "runtime_seconds") or 60)
    title = read_tag(prompt, "title") or ""
    table = STORY_LINES.get(language, STORY_LINES["en"])
    open_shots = [s for s in shots if s.get("on_screen") and s.get("framing") != "extreme_wide"]
    wanted = min(len(open_shots), max(1, round(runtime * SPOKEN_SHARE / LINE_SECONDS)))
    chosen = [open_shots[int((k + 0.5) * len(open_shots) / wanted)] for k in range(wanted)]
    spoken: dict[str, int] = {}
    last: list[str] = []
    used: set[str] = set()
    lines: list[dict[str, Any]] = []
    for shot in chosen:
        on_screen: list[str] = list(shot["on_screen"])
        # Whoever spoke in the shot just before does not speak twice running.
        before = lines[-1] if lines and lines[-1]["shot"] == shot["shot"] - 1 else None
        just_spoke = str(before["character"]) if before else None
        picture = str(shot.get("picture", ""))
        speaker = _next_speaker(on_screen, picture, spoken, just_spoke)
        others = [n for n in on_screen if n != speaker]
        heard = [n for n in reversed(last) if n in others]
        listener = next(iter(heard or others), None)
        position = shots.index(shot) / max(1, len(shots))
        act = ACT_ORDER[min(3, int(position * 4))]
        said_to, alone = table[act]
        options = [t for t in (said_to if listener else alone) if t[0] not in used]
        options = options or (said_to if listener else alone)
        text, emotion = Dice("lines", seed, title, shot["shot"]).pick(options, "line")
        used.add(text)
        spoken[speaker] = spoken.get(speaker, 0) + 1
        last.append(speaker)
        lines.append(
            {
                "shot": shot["shot"],
                "character": speaker,
                "addressee": listener,
                "text": text.format(B=listener or ""),
                "emotion": emotion,
            }
        )
    return {"lines": lines}


def _next_speaker(
    on_screen: list[str], picture: str, spoken: dict[str, int], just_spoke: str | None
) -> str:
    """Who speaks in a shot: the one its picture names first, unless they spoke in the shot
    just before, else whoever has spoken least (see `write_shot_lines`)."""

    def rank(name: str) -> tuple[bool, int, int, int]:
        named = picture.find(name)
        return (
            name == just_spoke,
            named if named >= 0 else len(picture) + 1,
            spoken.get(name, 0),
            on_screen.index(name),
        )

    return min(on_screen, key=rank)


# The agents ask for drafts (what a model decides); the full types are answered the same way.
GENERATORS: dict[str, Callable[[str, int], dict[str, Any]]] = {
    "ScriptDraft": write_script,
    "Script": write_script,
    "CharacterDraft": design_character,
    "CharacterDesign": design_character,
    "LocationDraft": design_location,
    "LocationDesign": design_location,
    "ShotPlan": plan_shots,
    "ShotSpec": revise_shot,
    "ShotLines": write_shot_lines,
    "SceneRevision": revise_scene,
    "Pitch": pitch,
    "Outline": outline,
}


def answer(schema_name: str, prompt: str, seed: int) -> dict[str, Any]:
    """Return arguments for `schema_name` computed from the prompt, or raise KeyError."""
    try:
        generator = GENERATORS[schema_name]
    except KeyError:
        raise KeyError(
            f"the offline story engine cannot produce {schema_name!r}; "
            f"it knows {sorted(GENERATORS)}"
        ) from None
    return generator(prompt, seed)


__all__ = ["GENERATORS", "Dice", "answer", "find_names", "find_nouns", "find_places"]
