"""A story character's description shapes their design: read by rule offline (en, zh, ja),
through the character designer's own path, and passed to a hosted model in its prompt."""

from __future__ import annotations

import colorsys
from typing import Any

import pytest
from langgraph.runtime import Runtime

from inkreel.agents.character_designer import design_cast
from inkreel.media.story_import import script_from_story
from inkreel.media.story_json import Story, StoryCharacter, StoryShot
from inkreel.providers.offline.appearance import read_appearance
from inkreel.providers.offline.story_engine import answer
from inkreel.schemas.episode import EpisodeRequest
from inkreel.services import EpisodeContext, Services


def hue(colour: str) -> float:
    """The colour's hue in degrees."""
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hsv(r, g, b)[0] * 360


def is_red(colour: str) -> bool:
    return hue(colour) < 20 or hue(colour) > 340


def is_blue(colour: str) -> bool:
    return 200 < hue(colour) < 250


DESCRIBED = {
    "en": "A young woman with long red hair, wearing a blue coat and glasses.",
    "zh": "一位年轻女子，红色长发，穿着蓝色外套，戴着眼镜。",
    "ja": "赤い長髪の若い女性。青いコートを着て、眼鏡をかけている。",
}


@pytest.mark.parametrize("language", ["en", "zh", "ja"])
def test_hair_outfit_and_glasses_are_read_from_the_description(language: str) -> None:
    look = read_appearance(DESCRIBED[language]).fields()
    assert is_red(look["hair_colour"]) and look["hair_style"] == "long"
    assert is_blue(look["outfit_colour"])
    assert look["accessories"] == ["glasses"]


def test_the_short_form_a_story_may_give_is_read_too() -> None:
    look = read_appearance("long red hair, blue coat, glasses").fields()
    assert is_red(look["hair_colour"]) and look["hair_style"] == "long"
    assert is_blue(look["outfit_colour"]) and look["outfit"] == "blue coat"
    assert look["accessories"] == ["glasses"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a bald, stocky man with a grey beard", {"hair_style": "bald", "build": "broad"}),
        ("a slim girl with a black ponytail", {"hair_style": "ponytail", "build": "slim"}),
        ("她身材苗条，扎着马尾辫", {"hair_style": "ponytail", "build": "slim"}),
        ("がっしりした体格、坊主頭", {"hair_style": "bald", "build": "broad"}),
    ],
)
def test_style_and_build_words(text: str, expected: dict[str, Any]) -> None:
    look = read_appearance(text).fields()
    assert {k: look.get(k) for k in expected} == expected


def test_a_colour_goes_to_the_thing_it_describes() -> None:
    # Blue eyes do not make a blue coat; the coat's own colour does.
    look = read_appearance("Blue eyes, silver-haired, in a red jacket and a yellow scarf").fields()
    assert is_blue(look["eye_colour"]) and is_red(look["outfit_colour"])
    assert look["hair_colour"] == "#c8c8d0"
    assert 40 < hue(look["accent_colour"]) < 65  # the yellow scarf
    assert look["accessories"] == ["scarf"]


def test_a_name_that_is_a_colour_colours_nothing() -> None:
    look = read_appearance("Scarlet wears a green dress.", "Scarlet").fields()
    assert 90 < hue(look["outfit_colour"]) < 150


def test_the_offline_engine_keeps_what_the_description_says_and_fills_the_rest() -> None:
    base = "<character>Mei</character>\n<story>Mei walks in.</story>\n<cast_so_far>[]</cast_so_far>"
    plain = answer("CharacterDraft", base, seed=1)
    described = answer(
        "CharacterDraft", base + f"\n<appearance>{DESCRIBED['en']}</appearance>", seed=1
    )
    assert is_red(described["hair_colour"]) and described["hair_style"] == "long"
    assert is_blue(described["outfit_colour"]) and described["accessories"] == ["glasses"]
    # What it does not say (face, eyes, skin...) is the engine's usual choice.
    assert [described[k] for k in ("face", "eyes", "skin")] == [
        plain[k] for k in ("face", "eyes", "skin")
    ]
    assert (
        answer("CharacterDraft", base + f"\n<appearance>{DESCRIBED['en']}</appearance>", seed=1)
        == described
    )


def test_the_cast_of_a_story_is_designed_as_described(
    ctx: Services, runtime: Runtime[EpisodeContext]
) -> None:
    story = Story(
        id="t",
        language="zh",
        title="灯室",
        characters=[
            StoryCharacter(key="Mei", name="梅", prompt=DESCRIBED["zh"], tags=[]),
            StoryCharacter(key="Ren", name="任", prompt="黑色短发，穿着红色夹克", tags=[]),
        ],
        shots=[
            StoryShot(
                index=1,
                setting="夜晚，灯塔的灯室内",
                plot="梅和任在灯室里。",
                perspective="中景",
                characters=["梅", "任"],
                description="两人站着。",
            )
        ],
    )
    state: Any = {
        "script": script_from_story(story),
        "request": EpisodeRequest(episode="ep01", language="zh"),
    }
    cast = design_cast(state, runtime)
    mei, ren = cast["cast"]["梅"].design, cast["cast"]["任"].design
    assert is_red(mei.hair_colour) and mei.hair_style == "long"
    assert is_blue(mei.outfit_colour) and mei.accessories == ["glasses"]
    assert ren.hair_style == "short" and is_red(ren.outfit_colour)
    # Kept in the asset memory as usual.
    assert ctx.memory.character_record("梅") is not None
