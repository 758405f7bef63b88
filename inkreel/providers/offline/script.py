"""Pitches, outlines and scripts written from phrase templates in the target language."""

from __future__ import annotations

from typing import Any

from inkreel.providers.offline.dice import Dice
from inkreel.providers.offline.idea import (
    NAME_POOLS,
    NOUN_FALLBACK,
    PLACE_POOLS,
    descriptions,
    find_names,
    find_nouns,
    find_places,
    is_cjk,
)
from inkreel.providers.prompt_io import read_json_tag, read_tag

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
TIME_WORDS = {"day": "DAY", "dusk": "DUSK", "night": "NIGHT"}
ACT_ORDER = ["setup", "development", "turn", "resolution"]


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
    described = descriptions(idea, names)  # "Mei, a tea-house owner, ...": Mei, not a prop
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


TIMES = {"setup": "day", "development": "day", "turn": "night", "resolution": "dusk"}


def write_script(prompt: str, seed: int) -> dict[str, Any]:
    idea = (read_tag(prompt, "idea") or "").strip()
    language = (read_tag(prompt, "language") or "en").strip()
    runtime = float(read_tag(prompt, "runtime_seconds") or 60)
    # A person rejected the earlier drafts: the engine cannot read their notes, so a new draft
    # is new dice (names, places, lines), the same story shape.
    draft = draft_number(prompt)
    dice = Dice("script", seed, idea, language, runtime, *([f"draft{draft}"] if draft > 1 else []))

    names = _cast(prompt, idea, language, dice)
    nouns, place_list = _props_and_places(idea, names)
    _top_up(nouns, place_list, language, dice)

    # Roughly one line per 3.4 s of runtime plus a short action beat per scene.
    n_scenes = max(4, min(10, round(runtime / 15)))
    total_lines = max(n_scenes, round((runtime - n_scenes * 2.0) / 3.0))
    acts = _acts(n_scenes)
    scene_places = [
        place_list[0]
        if act in ("setup", "resolution")
        else place_list[1 + (i % (len(place_list) - 1))]
        for i, act in enumerate(acts)
    ]
    outfits = _outfits(names, language, dice)
    writer = _SceneWriter(language, names, nouns, dice, acts, _planned(prompt))
    scenes = []
    for i, act in enumerate(acts):
        lines_here = total_lines // n_scenes + (1 if i < total_lines % n_scenes else 0)
        place, interior = scene_places[i]
        a, b = names[0], names[1]
        cast = [a, b] + ([names[2]] if len(names) > 2 and act in ("development", "turn") else [])
        beats = writer.beats(i, act, cast, place, lines_here)
        scene = _scene(i, acts, place, interior, cast, beats, language)
        night = TIMES[act] == "night"
        scene["wardrobe"] = {
            c: NIGHT_LAYER[language].format(outfits[c]) if night else outfits[c] for c in cast
        }
        scenes.append(scene)
    title_noun = nouns[0]
    title = {
        "en": f"{names[0]} and the {title_noun.title()}",
        "zh": f"{names[0]}与{title_noun}",
        "ja": f"{names[0]}と{title_noun}",
    }[language]
    return {
        "title": title,
        "logline": (read_tag(prompt, "logline") or idea).strip()[:300],
        "language": language,
        "characters": names,
        "scenes": scenes,
        "source": "idea",
    }


def _top_up(
    nouns: list[str], place_list: list[tuple[str, bool]], language: str, dice: Dice
) -> None:
    """Give the story at least two props and two places (from the language's pools)."""
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


def _acts(n_scenes: int) -> list[str]:
    """The act of each scene: a setup first, a resolution last, a turn between."""
    acts = [ACT_ORDER[min(3, i * 4 // n_scenes)] for i in range(n_scenes)]
    acts[-1] = "resolution"
    acts[0] = "setup"
    if "turn" not in acts:
        acts[-2] = "turn"
    return acts


def _planned(prompt: str) -> dict[str, list[str]]:
    """The writer's outline (`<outline>`): beat texts per act."""
    planned: dict[str, list[str]] = {}
    for beat in read_json_tag(prompt, "outline") or []:
        planned.setdefault(beat["act"], []).append(beat["text"])
    return planned


def _scene(
    i: int,
    acts: list[str],
    place: str,
    interior: bool,
    cast: list[str],
    beats: list[dict[str, Any]],
    language: str,
) -> dict[str, Any]:
    """Scene `i` (its wardrobe is the caller's)."""
    act = acts[i]
    # A scene that carries on the previous one's moment (same act, or the first development
    # straight after the setup) is CONTINUOUS: same light, same clothes.
    continuous = (
        i > 0
        and TIMES[act] == TIMES[acts[i - 1]]
        and (act == acts[i - 1] or (acts[i - 1], act) == ("setup", "development"))
    )
    prefix = "INT." if interior else "EXT."
    heading_place = place.upper() if not is_cjk(place) else place
    when = "CONTINUOUS" if continuous else TIME_WORDS[TIMES[act]]
    return {
        "number": i + 1,
        "heading": f"{prefix} {heading_place} - {when}",
        "location": place.title() if not is_cjk(place) else place,
        "interior": interior,
        "time_of_day": TIMES[act],
        "act": act,
        "characters": cast,
        "beats": beats,
        "continuous": continuous,
    }


class _SceneWriter:
    """Writes the scenes' beats in order, remembering what was shown, lost and said."""

    def __init__(
        self,
        language: str,
        names: list[str],
        nouns: list[str],
        dice: Dice,
        acts: list[str],
        planned: dict[str, list[str]],
    ) -> None:
        self.language = language
        self.names = names
        self.nouns = nouns
        self.dice = dice
        self.acts = acts
        self.planned = planned
        self.used: dict[str, int] = {}
        self.shown: set[str] = set()
        self.lost: set[str] = set()
        self.spoken = 0

    def beats(
        self, i: int, act: str, cast: list[str], place: str, lines_here: int
    ) -> list[dict[str, Any]]:
        """Scene `i`'s beats: the outline's, an action, then `lines_here` lines of dialogue."""
        a, b, nouns = self.names[0], self.names[1], self.nouns
        slots = {"A": a, "B": b, "N": nouns[0], "M": nouns[1 if len(nouns) > 1 else 0], "P": place}
        action = "turn_after" if act == "turn" and slots["M"] in self.lost else act
        text, props, destroys = ACTIONS[self.language][action]
        handled = [slots[p] for p in props]
        beats: list[dict[str, Any]] = [
            {
                "kind": "action",
                "text": _fill(text, slots),
                "props": handled,
                "introduces": [p for p in handled if p not in self.shown],
                "destroys": [slots[p] for p in destroys],
            }
        ]
        # The writer's outline: each act's beats open that act's scenes, in order; an act
        # with more beats than scenes gives its last scene the rest.
        mine = self.planned.get(act, [])
        if mine:
            last_of_act = act not in self.acts[i + 1 :]
            told = mine if last_of_act else mine[:1]
            self.planned[act] = [] if last_of_act else mine[1:]
            beats = [{"kind": "action", "text": t} for t in told] + beats
        self.shown.update(handled)
        self.lost.update(slots[p] for p in destroys)
        beats += [self._line(i, act, cast, slots) for _ in range(lines_here)]
        return beats

    def _line(self, i: int, act: str, cast: list[str], slots: dict[str, str]) -> dict[str, Any]:
        templates = LINES[self.language][act]
        # Alternate speakers across the whole episode, so short scenes are not monologues.
        speaker = cast[self.spoken % len(cast)]
        listener = cast[(self.spoken + 1) % len(cast)]
        self.spoken += 1
        used = self.used.get(act, 0)
        k = (used + int(self.dice.unit("line", i) * len(templates))) % len(templates)
        self.used[act] = used + 1
        line, emotion = templates[k]
        line_slots = dict(slots, A=listener if "{A}" in line else self.names[0], B=listener)
        return {
            "kind": "dialogue",
            "character": speaker,
            "addressee": listener,
            "text": _fill(line, line_slots),
            "emotion": emotion,
        }


def _outfits(names: list[str], language: str, dice: Dice) -> dict[str, str]:
    """Give each character a different everyday outfit."""
    pool = list(WARDROBE[language])
    chosen = {}
    for name in names:
        chosen[name] = dice.pick(pool, "outfit", name)
        pool = [o for o in pool if o != chosen[name]] or list(WARDROBE[language])
    return chosen


def draft_number(prompt: str) -> int:
    """Which draft the prompt asks for (<draft>, 1 when absent)."""
    try:
        return max(1, int(read_tag(prompt, "draft") or 1))
    except ValueError:
        return 1
