"""Reading an idea: names, nouns and places found by simple lexical rules, and their word lists."""

from __future__ import annotations

import re

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

CJK_CONNECTORS = re.compile(r"[和与跟及、，。！？,.!?\s在是的了里中把被从到]|一[张封个把只本位条]")
CJK_VERBS = {"发现", "寻找", "找到", "遇见", "看见", "得到", "决定", "开始", "离开", "回到"}
CJK_PLACE_ENDINGS = "馆店站园场街港楼室院寺宫屋駅"
KANA = re.compile(r"[\u3040-\u30ff]")
JA_PARTICLES = re.compile(r"[はでをがにのとへもや、。！？\s]|見つけ\w*|した|する")


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


def descriptions(idea: str, names: list[str]) -> list[str]:
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
