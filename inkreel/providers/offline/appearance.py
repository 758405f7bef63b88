"""A character's described look read into design fields, by rule (the offline engine's
reading of a story's character description, in English, Chinese or Japanese).

What it reads, and nothing else (the engine fills the rest as for any character):

- **Hair**: a colour word attached to a hair word ("long red hair", "silver-haired",
  "redhead", "blonde", 红发, 一头黑色长发, 金髪, 黒い髪) and a style word (long, short,
  shoulder-length -> bob, ponytail, braid/pigtails -> ponytail, bun, bob, spiky/mohawk, bald
  / 长发, 短发, 马尾, 辫子, 丸子头, 光头 / 長髪, ショート, ポニーテール, 三つ編み, お団子,
  ボブ, 坊主).
- **Outfit**: the garments named (coat, jacket, dress, uniform, 外套, 连衣裙, コート,
  制服...) with their colours: the first coloured garment gives the outfit colour, the next
  coloured garment, tie, ribbon, scarf, hat or headband the accent colour; the outfit is
  described by those words.
- **Accessories**: glasses, hat (cap, beanie...), scarf, beard (moustache, goatee...),
  earrings, headband (眼镜, 帽子, 围巾, 胡子, 耳环, 发带 / 眼鏡, 帽子, マフラー, 髭, イヤリング,
  カチューシャ). When a description is given these are exactly its accessories.
- **Build and height**: slim (slender, thin, petite...), broad (stocky, muscular, burly...),
  average; tall -> 1.1, short or small -> 0.9, a child -> 0.85 (瘦, 苗条, 魁梧, 高大, 矮,
  小孩 / 細身, がっしり, 長身, 小柄, 子供).
- **Skin and eyes**: pale/fair, tanned, dark skin (白皙, 小麦色, 黝黑 / 色白, 日焼け, 褐色);
  an eye colour attached to an eye word ("green eyes", 蓝眼睛, 青い瞳).
- **Who**: woman/girl/she or man/boy/he words (女, 男 / 女性, 少女, 男性, 少年), for the voice.

A colour word is attached to the next hair, eye or garment word in the same clause ("blue
coat", "dark blue wool coat"), or, after one ("hair that is red"), to the last such word
still without a colour. "dark", "light", 深, 浅, 濃い, 薄い shade the colour. Deterministic:
the same text always gives the same fields.
"""

from __future__ import annotations

import colorsys
import re
from dataclasses import dataclass, field
from typing import Any

# Colour words -> (hair shade, cloth shade).
_COLOURS: dict[str, tuple[str, str]] = {
    "black": ("#1e1a1d", "#262626"),
    "brown": ("#5a3420", "#7a5230"),
    "red": ("#a8322a", "#c0392b"),
    "orange": ("#c8642a", "#e07a2e"),
    "yellow": ("#e0c068", "#e0b830"),
    "blonde": ("#e0c068", "#e0c068"),
    "gold": ("#d9b25f", "#c9a23a"),
    "green": ("#3c7a4a", "#3c8a4a"),
    "blue": ("#2f5fa8", "#2e5fa8"),
    "navy": ("#22335a", "#22335a"),
    "purple": ("#6a3a8a", "#7a4a9a"),
    "pink": ("#e3a0b4", "#e58fb0"),
    "white": ("#ececec", "#f0f0ea"),
    "silver": ("#c8c8d0", "#b8bcc4"),
    "grey": ("#8a8a8a", "#7f7f7f"),
    "beige": ("#c8b08a", "#d8c4a0"),
}
_COLOUR_WORDS = {
    "black": "black jet ebony raven 黑 黒 ブラック 乌黑 漆黑",
    "brown": "brown brunette chestnut auburn hazel chocolate tan 棕 褐 栗 咖啡 茶 ブラウン",
    "red": "red crimson scarlet ginger redhead maroon burgundy 红 紅 赤 朱 レッド",
    "orange": "orange 橙 橘 オレンジ",
    "yellow": "yellow 黄 黃 イエロー",
    "blonde": "blonde blond flaxen 金髪 ブロンド",
    "gold": "gold golden 金 ゴールド",
    "green": "green emerald olive 绿 綠 緑 グリーン",
    "blue": "blue azure cyan teal 蓝 藍 青 ブルー 水色",
    "navy": "navy indigo 藏青 紺 ネイビー 深蓝",
    "purple": "purple violet lilac lavender 紫 パープル",
    "pink": "pink rose 粉 桃 ピンク",
    "white": "white snowy ivory 白 ホワイト",
    "silver": "silver platinum 银 銀 シルバー",
    "grey": "grey gray ash 灰 グレー 灰色",
    "beige": "beige khaki cream 米色 卡其 ベージュ",
}
_DARK = "dark deep 深 濃い 暗"
_LIGHT = "light pastel 浅 淡 薄い 明るい"
_HAIR = "hair hairs haired 头发 頭髮 髮 髪 发型 髪型 发丝 秀发 卷发 ヘア 髪の毛"
_EYES = "eyes eye 眼睛 眼眸 眸 瞳 目"
_GARMENTS = """
    coat jacket dress shirt blouse t-shirt tshirt hoodie sweater jumper cardigan uniform suit
    robe kimono yukata qipao cheongsam hanfu skirt trousers pants jeans shorts armor armour
    cloak cape vest waistcoat apron overalls gown tunic tracksuit parka blazer raincoat
    外套 大衣 风衣 雨衣 夹克 外衣 衬衫 襯衫 T恤 连衣裙 裙子 长裙 短裙 裙 裤子 褲子 牛仔裤 毛衣 卫衣
    校服 制服 西装 西裝 长袍 袍 汉服 旗袍 和服 斗篷 背心 围裙 盔甲 铠甲 礼服 上衣 运动服
    コート レインコート ジャケット ドレス ワンピース シャツ ブラウス Tシャツ パーカー セーター
    スカート ズボン パンツ ジーンズ 制服 スーツ 着物 浴衣 ローブ マント ベスト
    エプロン 鎧 上着 学生服 セーラー服
"""
_ACCENT_GARMENTS = "tie necktie ribbon bow sash belt 领带 領帶 丝带 蝴蝶结 腰带 ネクタイ リボン 帯"
# Style words that describe hair (they wait for a hair word) ...
_STYLE_ADJECTIVES = {
    "bald": "bald shaved",
    "ponytail": "braided",
    "bob": "bobbed shoulder-length 齐肩 齊肩",
    "spiky": "spiky spiked ツンツン 逆立った",
    "long": "long 长长 長い",
    "short": "short 短短 短い",
}
# ... and style words that are the hair itself ("a ponytail", 长发).
_STYLE_NOUNS = {
    "bald": "skinhead 光头 光頭 秃头 禿頭 スキンヘッド 坊主頭 坊主",
    "ponytail": "ponytail ponytails braid braids pigtail pigtails twintails twin-tails "
    "马尾 马尾辫 馬尾 辫子 辮子 麻花辫 双马尾 ポニーテール 三つ編み おさげ ツインテール",
    "bun": "bun buns chignon topknot updo 发髻 髮髻 丸子头 盘发 お団子 シニヨン まとめ髪",
    "bob": "bob 波波头 短发齐肩 ボブ おかっぱ",
    "spiky": "mohawk 刺猬头 爆炸头",
    "long": "长发 長髮 长头发 長髪 ロングヘア 長い髪 ロング",
    "short": "短发 短髮 短头发 短髪 ショートヘア 短い髪 ショート 寸头",
}
_ACCESSORIES = {
    "glasses": "glasses spectacles eyeglasses sunglasses goggles monocle "
    "眼镜 眼鏡 墨镜 メガネ めがね",
    "hat": "hat cap beanie beret helmet bonnet fedora crown 帽 帽子 头盔 ハット キャップ ベレー",
    "scarf": "scarf muffler shawl 围巾 圍巾 披肩 マフラー スカーフ",
    "beard": "beard bearded moustache mustache goatee stubble whiskers 胡子 胡须 鬍子 络腮胡 "
    "ひげ 髭 ヒゲ",
    "earrings": "earrings earring 耳环 耳環 耳坠 イヤリング ピアス",
    "headband": "headband hairband tiara 发带 頭帶 头带 发箍 ヘアバンド カチューシャ",
}
_BUILDS = {
    "slim": "slim slender thin skinny lean lanky petite wiry "
    "瘦 苗条 纤细 瘦削 細身 痩せ スリム 華奢",
    "broad": "broad stocky burly muscular heavy heavyset chubby plump stout sturdy brawny "
    "魁梧 健壮 强壮 壮实 胖 结实 がっしり 筋肉質 大柄 太った ふくよか",
    "average": "average 中等身材 普通体型",
}
_TALL = "tall towering 高大 高个 高個 个子高 長身 背が高い 高身長"
_SMALL = "small tiny little petite 矮 娇小 小个子 小柄 背が低い"
_CHILD = "child kid toddler 孩子 小孩 儿童 兒童 子供 幼い 幼児"
_SKINS = {
    "#f8e2d0": "pale fair porcelain 白皙 白净 色白",
    "#c98e66": "tanned sun-kissed olive-skinned 小麦色 日焼け",
    "#9c6846": "dark-skinned brown-skinned 黝黑 黑皮肤 褐色",
}

_FEMALE = "she her woman women girl lady female mother queen princess 她 女 少女 女性 彼女 お姉"
_MALE = "he him his man men boy gentleman male father king prince 他 男 少年 男性 彼 お兄"


def _words(spec: str) -> list[str]:
    return spec.split()


def _lookup(table: dict[str, str]) -> dict[str, str]:
    return {w: key for key, spec in table.items() for w in _words(spec)}


_COLOUR_OF = _lookup(_COLOUR_WORDS)
_STYLE_OF = _lookup(_STYLE_ADJECTIVES)
_STYLE_NOUN_OF = _lookup(_STYLE_NOUNS)
_ACCESSORY_OF = _lookup(_ACCESSORIES)
_BUILD_OF = _lookup(_BUILDS)
_SKIN_OF = _lookup(_SKINS)
_KIND_OF: dict[str, str] = {
    **{w: "colour" for w in _COLOUR_OF},
    **{w: "dark" for w in _words(_DARK)},
    **{w: "light" for w in _words(_LIGHT)},
    **{w: "style" for w in _STYLE_OF},
    **{w: "hair" for w in [*_words(_HAIR), *_STYLE_NOUN_OF]},
    **{w: "eyes" for w in _words(_EYES)},
    **{w: "garment" for w in _words(_GARMENTS)},
    **{w: "accent" for w in _words(_ACCENT_GARMENTS)},
}
# Words that are a hair colour and the hair at once: redhead, 红发, 金髪 ...
_HAIR_AND_COLOUR = {
    "redhead": "red",
    "brunette": "brown",
    **{c + h: _COLOUR_OF[c] for c in "黑红金银白棕褐灰蓝绿紫粉橙黄" for h in ("发", "髮")},
    **{c + "髪": _COLOUR_OF[c] for c in "黒赤金銀白茶灰青緑紫桃"},
    **{gold + hair: "blonde" for gold in "金" for hair in ("发", "髮", "髪")},
}
# One token pattern: the longest known word first, so 金髪 is one word and not 金 + 髪; an
# English word only as a whole word.
_TOKEN = re.compile(
    "|".join(
        rf"(?<![a-z]){re.escape(w)}(?![a-z])" if w.isascii() else re.escape(w)
        for w in sorted(
            {
                *_HAIR_AND_COLOUR,
                *_KIND_OF,
                *_ACCESSORY_OF,
                *_BUILD_OF,
                *_SKIN_OF,
                *_words(_TALL),
                *_words(_SMALL),
                *_words(_CHILD),
                *_words(_FEMALE),
                *_words(_MALE),
            },
            key=len,
            reverse=True,
        )
    )
)
# Accessories whose colour, when given, is the design's accent colour.
WORN_IN_COLOUR = ("scarf", "hat", "headband")
_CLAUSE = re.compile(r"[,;.!?，。；！？、\n()（）]|\b(?:and|with|wearing|who|while)\b")


@dataclass
class Appearance:
    """The design fields a description sets; None (or empty) where it says nothing."""

    hair_colour: str | None = None
    hair_style: str | None = None
    eye_colour: str | None = None
    skin: str | None = None
    outfit: str | None = None
    outfit_colour: str | None = None
    accent_colour: str | None = None
    accessories: list[str] = field(default_factory=list)
    build: str | None = None
    height: float | None = None
    female: bool | None = None

    def fields(self) -> dict[str, Any]:
        """The `CharacterDraft` fields it sets; accessories always (exactly those named)."""
        keys = (
            "hair_colour",
            "hair_style",
            "eye_colour",
            "skin",
            "outfit",
            "outfit_colour",
            "accent_colour",
            "build",
            "height",
        )
        found = {k: getattr(self, k) for k in keys if getattr(self, k) is not None}
        return found | {"accessories": list(self.accessories)}


@dataclass
class _Noun:
    """A hair, eye or garment word with what the words before it (or after) said of it."""

    kind: str  # hair, eyes, garment, accent
    word: str
    colour: str | None = None  # a key of _COLOURS
    said: str = ""  # the colour as the text words it ("dark blue", 深蓝)
    shade: str = ""  # dark, light or nothing
    styles: list[str] = field(default_factory=list)


def read_appearance(text: str, name: str = "") -> Appearance:
    """Read a character description into design fields (see the module); `name` is the
    character's, left out so that Rose or Scarlet colours nothing."""
    lower = " ".join(text.casefold().replace("’", "'").split())
    if name.strip():
        lower = lower.replace(name.casefold().strip(), " ")
    look = Appearance()
    nouns: list[_Noun] = []
    for clause in _CLAUSE.split(lower):
        _read_clause(clause or "", nouns, look)
    hair = [n for n in nouns if n.kind == "hair"]
    coloured_hair = next((n for n in hair if n.colour), None)
    if coloured_hair is not None:
        look.hair_colour = _shade(_COLOURS[str(coloured_hair.colour)][0], coloured_hair.shade)
    styles = [s for n in hair for s in n.styles]
    # What the hair is (a ponytail, a bun) says more than how long it is.
    styles.sort(key=lambda s: s in ("long", "short"))
    if styles:
        look.hair_style = styles[0]
    eyes = next((n for n in nouns if n.kind == "eyes" and n.colour), None)
    if eyes is not None:
        look.eye_colour = _shade(_COLOURS[str(eyes.colour)][0], eyes.shade)
    garments = [n for n in nouns if n.kind == "garment"]
    if garments:
        look.outfit = ", ".join(_phrase(n) for n in garments[:3])
    coloured = [n for n in garments if n.colour]
    if coloured:
        look.outfit_colour = _shade(_COLOURS[str(coloured[0].colour)][1], coloured[0].shade)
    accents = [n for n in nouns if n.kind == "accent" and n.colour] + coloured[1:]
    if accents:
        look.accent_colour = _shade(_COLOURS[str(accents[0].colour)][1], accents[0].shade)
    return look


def _read_clause(clause: str, nouns: list[_Noun], look: Appearance) -> None:
    """Read one clause: colours and styles wait for the next noun; a colour or style after
    the last noun may still be its own ("hair that is red", "hair worn long")."""
    colour: str | None = None
    said = ""
    shade = ""
    styles: list[str] = []
    last: _Noun | None = None
    for match in _TOKEN.finditer(clause):
        word = match.group(0)
        kind = "hair" if word in _HAIR_AND_COLOUR else _KIND_OF.get(word)
        if kind == "colour":
            colour, said = _COLOUR_OF[word], f"{said} {word}".strip() if shade else word
        elif kind in ("dark", "light"):
            shade, said = str(kind), word
        elif kind == "style":
            styles.append(_STYLE_OF[word])
        elif kind in ("hair", "eyes", "garment", "accent"):
            if word in _HAIR_AND_COLOUR:
                colour, said = _HAIR_AND_COLOUR[word], said or word
            if word in _STYLE_NOUN_OF:
                styles.append(_STYLE_NOUN_OF[word])
            noun = _Noun(str(kind), word, colour, said if colour else "", shade if colour else "")
            noun.styles = styles if kind == "hair" else []
            nouns.append(noun)
            colour, said, shade, styles, last = None, "", "", [], noun
        else:
            if colour is not None and _ACCESSORY_OF.get(word) in WORN_IN_COLOUR:
                # "a green scarf", 红色发带: the accessory's colour is an accent colour
                nouns.append(_Noun("accent", word, colour, said, shade))
                colour, said, shade = None, "", ""
            _read_word(word, look)
    if colour is not None and last is not None and last.colour is None:
        last.colour, last.said, last.shade = colour, said, shade
    if styles:
        if last is not None and last.kind == "hair":
            last.styles += styles
        elif any(s not in ("long", "short") for s in styles):  # "bald", with no hair word
            nouns.append(
                _Noun("hair", "", styles=[s for s in styles if s not in ("long", "short")])
            )


def _read_word(word: str, look: Appearance) -> None:
    if word in _ACCESSORY_OF:
        if _ACCESSORY_OF[word] not in look.accessories:
            look.accessories.append(_ACCESSORY_OF[word])
    elif word in _BUILD_OF:
        look.build = look.build or _BUILD_OF[word]
    elif word in _SKIN_OF:
        look.skin = look.skin or _SKIN_OF[word]
    elif word in _words(_TALL):
        look.height = look.height or 1.1
    elif word in _words(_CHILD):
        look.height = look.height or 0.85
    elif word in _words(_SMALL):
        look.height = look.height or 0.9
    elif word in _words(_FEMALE) and look.female is None:
        look.female = True
    elif word in _words(_MALE) and look.female is None:
        look.female = False


def _phrase(noun: _Noun) -> str:
    """A garment as the text words it, with its colour: "dark blue coat", 蓝外套."""
    joiner = " " if noun.word.isascii() else ""
    return joiner.join(w for w in (noun.said, noun.word) if w)


def _shade(colour: str, shade: str) -> str:
    """The colour made darker or lighter."""
    if not shade:
        return colour
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    hue, light, sat = colorsys.rgb_to_hls(r, g, b)
    light = light * 0.6 if shade == "dark" else light + (1 - light) * 0.45
    r, g, b = colorsys.hls_to_rgb(hue, light, sat)
    return "#{:02x}{:02x}{:02x}".format(*(round(v * 255) for v in (r, g, b)))
