"""The offline chat parser: every documented phrasing, in English, Chinese and Japanese, gives
the tool calls the showrunner runs; what it does not know gives none (never an error)."""

from __future__ import annotations

import pytest

from inkreel.providers.chat_rules import colour_hex, number, understand
from inkreel.schemas.chat import ToolCall

PHRASES = [
    ("logline 2", [("choose_logline", {"number": 2})]),
    ("the second one", [("choose_logline", {"number": 2})]),
    ("2", [("choose_logline", {"number": 2})]),
    ("选第2个", [("choose_logline", {"number": 2})]),
    ("第二个", [("choose_logline", {"number": 2})]),
    ("2番", [("choose_logline", {"number": 2})]),
    ("2つ目", [("choose_logline", {"number": 2})]),
    ("logline: A girl learns to fly.", [("choose_logline", {"text": "A girl learns to fly"})]),
    ("ログライン：少女が空を飛ぶ", [("choose_logline", {"text": "少女が空を飛ぶ"})]),
    ("move beat 3 to 1", [("edit_outline", {"action": "move", "beat": 3, "to": 1})]),
    ("cut beat 2", [("edit_outline", {"action": "cut", "beat": 2})]),
    (
        "beat 2: Mei finds the map.",
        [("edit_outline", {"action": "rewrite", "beat": 2, "text": "Mei finds the map"})],
    ),
    (
        "add beat after 2: A storm comes.",
        [("edit_outline", {"action": "add", "beat": 2, "text": "A storm comes"})],
    ),
    ("把第3拍移到第1", [("edit_outline", {"action": "move", "beat": 3, "to": 1})]),
    ("删掉第2拍", [("edit_outline", {"action": "cut", "beat": 2})]),
    (
        "第2拍改成：梅找到了地图",
        [("edit_outline", {"action": "rewrite", "beat": 2, "text": "梅找到了地图"})],
    ),
    ("ビート3を1に移動", [("edit_outline", {"action": "move", "beat": 3, "to": 1})]),
    ("ビート2を削除", [("edit_outline", {"action": "cut", "beat": 2})]),
    ("rename Mei to Lin", [("rename_character", {"old": "Mei", "new": "Lin"})]),
    ("把梅改名为林", [("rename_character", {"old": "梅", "new": "林"})]),
    ("メイをリンに改名", [("rename_character", {"old": "メイ", "new": "リン"})]),
    ("scene 2 at night", [("set_scene_time", {"scene": 2, "time": "night"})]),
    ("第2场改成夜晚", [("set_scene_time", {"scene": 2, "time": "night"})]),
    ("シーン2を夜に", [("set_scene_time", {"scene": 2, "time": "night"})]),
    ("shot 7 close-up", [("change_shot", {"shot": "7", "framing": "close_up"})]),
    (
        "shot 7 should be a close-up, and Aiko is angry there",
        [("change_shot", {"shot": "7", "framing": "close_up", "emotion": "angry", "who": "Aiko"})],
    ),
    ("shot 7 wide", [("change_shot", {"shot": "7", "framing": "wide"})]),
    ("shot 7 from below", [("change_shot", {"shot": "7", "angle": "low"})]),
    ("第7个镜头特写", [("change_shot", {"shot": "7", "framing": "close_up"})]),
    ("镜头7仰拍", [("change_shot", {"shot": "7", "angle": "low"})]),
    ("ショット7をアップに", [("change_shot", {"shot": "7", "framing": "close_up"})]),
    ("ショット7をあおりで", [("change_shot", {"shot": "7", "angle": "low"})]),
    (
        "Aiko is angry in shot 7",
        [("change_shot", {"shot": "7", "emotion": "angry", "who": "Aiko"})],
    ),
    ("镜头7里爱子很生气", [("change_shot", {"shot": "7", "emotion": "angry", "who": "爱子"})]),
    (
        "ショット7でアイコは怒っている",
        [("change_shot", {"shot": "7", "emotion": "angry", "who": "アイコ"})],
    ),
    ('change line 3 to "I will stay."', [("edit_line", {"line": 3, "text": "I will stay."})]),
    ("把第3句台词改成“我不走”", [("edit_line", {"line": 3, "text": "我不走"})]),
    ("3行目のセリフを「行かない」に", [("edit_line", {"line": 3, "text": "行かない"})]),
    (
        "make Mei's hair red",
        [("change_look", {"character": "Mei", "part": "hair", "colour": "red"})],
    ),
    (
        "Mei's outfit blue",
        [("change_look", {"character": "Mei", "part": "outfit", "colour": "blue"})],
    ),
    ("把梅的头发改成红色", [("change_look", {"character": "梅", "part": "hair", "colour": "红"})]),
    ("メイの髪を赤に", [("change_look", {"character": "メイ", "part": "hair", "colour": "赤"})]),
    ("add a character named Ken", [("add_character", {"name": "Ken"})]),
    ("remove Ken", [("remove_character", {"name": "Ken"})]),
    ("加一个角色叫小明", [("add_character", {"name": "小明"})]),
    ("删掉角色小明", [("remove_character", {"name": "小明"})]),
    ("キャラクター追加：ケン", [("add_character", {"name": "ケン"})]),
    ("ケンを削除", [("remove_character", {"name": "ケン"})]),
    ("approve", [("approve", {})]),
    ("looks good", [("approve", {})]),
    ("通过", [("approve", {})]),
    ("承認", [("approve", {})]),
    ("render", [("render", {})]),
    ("渲染", [("render", {})]),
    ("レンダリング", [("render", {})]),
    ("undo", [("undo", {})]),
    ("撤销", [("undo", {})]),
    ("元に戻す", [("undo", {})]),
    ("help", [("help", {})]),
    ("帮助", [("help", {})]),
    ("ヘルプ", [("help", {})]),
    ("who is in scene 2?", [("ask", {"topic": "cast", "scene": 2})]),
    ("第2场有谁？", [("ask", {"topic": "cast", "scene": 2})]),
    ("シーン2には誰がいる？", [("ask", {"topic": "cast", "scene": 2})]),
    ("what did this cost?", [("ask", {"topic": "cost"})]),
    ("花了多少钱？", [("ask", {"topic": "cost"})]),
    ("いくらかかった？", [("ask", {"topic": "cost"})]),
    ("what did continuity flag?", [("ask", {"topic": "continuity"})]),
    ("连续性发现了什么？", [("ask", {"topic": "continuity"})]),
    ("連続性は何を指摘した？", [("ask", {"topic": "continuity"})]),
    ("status", [("ask", {"topic": "status"})]),
    ("A lighthouse keeper named Mei finds a bottle.", []),
]


@pytest.mark.parametrize(("message", "calls"), PHRASES)
def test_each_phrasing_gives_its_tool_calls(message, calls):
    found = understand(message)
    assert [(c.name, c.args) for c in found] == calls
    for call in found:  # every call fits its tool
        call.action()


def test_known_names_win_over_the_words_around_them():
    # Without the cast, a hiragana name runs into its particle; with it, the name is found.
    assert understand("ショット3でさくらは悲しんでいる", ["さくら"]) == [
        ToolCall(name="change_shot", args={"shot": "3", "emotion": "sad", "who": "さくら"})
    ]
    assert understand("镜头2里小明非常生气", ["小明"])[0].args["who"] == "小明"


@pytest.mark.parametrize(
    "message",
    ["", "   ", "blah blah", "shot", "line 3", "scene 9000000000000 at noonish", "🙂" * 5000],
)
def test_what_it_does_not_know_gives_no_calls(message):
    assert understand(message) == []


def test_numbers_and_colours():
    assert [number(w) for w in ("7", "七", "十二", "二十", "second")] == [7, 7, 12, 20, 2]
    assert colour_hex("Red") == colour_hex("红色") == colour_hex("赤") == "#c0392b"
    assert colour_hex("#A0B0C0") == "#a0b0c0"
    assert colour_hex("plaid") is None
