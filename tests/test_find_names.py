"""The offline story engine casts every character an idea names, and nobody else."""

from __future__ import annotations

import pytest

from inkreel.providers.offline.idea import find_names
from inkreel.providers.offline.script import write_script
from inkreel.providers.prompt_io import tag
from inkreel.schemas import Script


@pytest.mark.parametrize(
    ("idea", "names"),
    [
        ("Rosa, Tam and Bo run a noodle stall during a storm.", ["Rosa", "Tam", "Bo"]),
        ("Rosa, Tam, and Bo run a noodle stall during a storm.", ["Rosa", "Tam", "Bo"]),
        ("Rosa and Tam run a noodle stall during a storm.", ["Rosa", "Tam"]),
        ("Rosa, Tam, Bo and Li run a noodle stall.", ["Rosa", "Tam", "Bo", "Li"]),
        ("Emily, Tam and Bo wait out the storm.", ["Emily", "Tam", "Bo"]),
        ("During a storm, Rosa, Tam and Bo run a noodle stall.", ["Rosa", "Tam", "Bo"]),
        # An opening word before a comma is not a name unless a list of names follows it.
        ("Meanwhile, Rosa, Tam and Bo run a noodle stall.", ["Rosa", "Tam", "Bo"]),
        ("Yesterday, Mei and Jun met at the station.", ["Mei", "Jun"]),
        ("Later, Mei finds a key.", ["Mei"]),
        ("In Paris, Mei finds a key.", ["Mei"]),
        ("Mei, a tea-house owner, finds a jade seal in the rain.", ["Mei"]),
        ("Kai, the new courier, meets Lena at dawn.", ["Kai", "Lena"]),
        ("Detective Kai chases Lena through the market.", ["Kai", "Lena"]),
        ("A lighthouse keeper named Mei finds a bottle from a girl called Aiko.", ["Mei", "Aiko"]),
        ("李雷、韩梅梅和王芳在暴风雨中经营面摊。", ["李雷", "韩梅梅", "王芳"]),
        ("李雷和韩梅梅在上海的茶馆里发现了一张旧地图。", ["李雷", "韩梅梅"]),
        ("アオイ、ハルとユキは嵐の夜に屋台を開く。", ["アオイ", "ハル", "ユキ"]),
        ("アオイ、ハル、ユキが屋台を開く。", ["アオイ", "ハル", "ユキ"]),
        ("少女アオイは古い駅で不思議な手紙を見つけた。", ["アオイ"]),
    ],
)
def test_every_named_character_is_cast(idea: str, names: list[str]) -> None:
    assert find_names(idea) == names


def test_a_description_of_a_character_is_not_a_prop() -> None:
    idea = "Mei, a tea-house owner, finds a jade seal in the rain. Her rival Jun wants it."
    prompt = tag("idea", idea) + tag("runtime_seconds", "30") + tag("language", "en")
    script = Script.model_validate(write_script(prompt, 0))
    props = {p.casefold() for s in script.scenes for b in s.beats for p in b.props}
    assert "jade seal" in props and "tea-house owner" not in props
    assert "tea-house owner" not in script.title.casefold()
