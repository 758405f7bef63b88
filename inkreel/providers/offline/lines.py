"""The lines a shot's characters say, per act of the story."""

from __future__ import annotations

from typing import Any

from inkreel.providers.offline.dice import Dice
from inkreel.providers.offline.script import ACT_ORDER
from inkreel.providers.prompt_io import read_json_tag, read_tag

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
