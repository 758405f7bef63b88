"""The offline text engine answers structured-output requests like a hosted model would."""

from __future__ import annotations

from inkreel.providers.offline.chat import OfflineChatModel
from inkreel.providers.offline.idea import find_names, find_nouns
from inkreel.providers.prompt_io import tag
from inkreel.schemas import CharacterDesign, LocationDesign, Script, ShotPlan, ShotSpec

IDEA = "A lighthouse keeper named Mei finds a message in a bottle from a girl called Aiko."


def script_for(idea: str, runtime: float = 60, language: str = "en", seed: int = 0) -> Script:
    prompt = "\n".join(
        [tag("idea", idea), tag("runtime_seconds", str(runtime)), tag("language", language)]
    )
    result = OfflineChatModel(seed=seed).with_structured_output(Script).invoke(prompt)
    assert isinstance(result, Script)
    return result


def test_names_in_the_idea_are_kept_and_nouns_reach_the_dialogue() -> None:
    script = script_for(IDEA)
    assert script.characters[:2] == ["Mei", "Aiko"]
    spoken = " ".join(b.text for _, b in script.dialogue()).lower()
    assert "message" in spoken or "bottle" in spoken
    assert {b.character for _, b in script.dialogue()} <= set(script.characters)


def test_story_has_four_act_structure_and_recurring_sets() -> None:
    script = script_for(IDEA)
    acts = [s.act.value for s in script.scenes]
    assert acts[0] == "setup" and acts[-1] == "resolution"
    assert "development" in acts and "turn" in acts
    assert acts.index("development") < acts.index("turn")
    locations = [s.location for s in script.scenes]
    assert len(set(locations)) < len(locations), "some set should recur"
    assert any("lighthouse" in loc.lower() for loc in locations)


def test_same_seed_same_script_and_another_seed_differs() -> None:
    assert script_for(IDEA, seed=1) == script_for(IDEA, seed=1)
    idea = "Two rivals race across the city."
    assert script_for(idea, seed=1) != script_for(idea, seed=2)


def test_runtime_drives_the_amount_of_dialogue() -> None:
    short = len(script_for(IDEA, runtime=15).dialogue())
    long = len(script_for(IDEA, runtime=120).dialogue())
    assert long >= 3 * short


def test_chinese_and_japanese_ideas() -> None:
    zh = script_for("李雷和韩梅梅在上海的茶馆里发现了一张旧地图。", language="zh")
    assert zh.characters[:2] == ["李雷", "韩梅梅"]
    assert any("旧地图" in b.text for _, b in zh.dialogue())
    ja = script_for("少女アオイは古い駅で不思議な手紙を見つけた。", language="ja")
    assert ja.characters[0] == "アオイ"
    assert any("手紙" in b.text for _, b in ja.dialogue())


def test_idea_reading_rules() -> None:
    assert find_names("Detective Kai chases Lena through the market.") == ["Kai", "Lena"]
    assert "jade dragon" in find_nouns("Kai chases a stolen jade dragon through the market.")


def test_design_answers_follow_the_prompt() -> None:
    model = OfflineChatModel(seed=0)
    prompt = "\n".join(
        [
            tag("character", "Mei"),
            tag("story", "Mei, a girl who keeps the light."),
            tag("voices", {"female": ["f2", "f4"], "male": ["m3"]}),
            tag(
                "cast_so_far",
                [
                    {
                        "name": "Aiko",
                        "hair_style": "long",
                        "hair_colour": "#1e1a1d",
                        "outfit_colour": "#cc3030",
                        "voice": "f2",
                    }
                ],
            ),
        ]
    )
    design = model.with_structured_output(CharacterDesign).invoke(prompt)
    assert isinstance(design, CharacterDesign)
    assert design.name == "Mei" and design.voice.variant == "f4", "a voice nobody has"
    assert design.hair_style != "long" and design.hair_colour != "#1e1a1d"
    loc = model.with_structured_output(LocationDesign).invoke(
        tag("location", "Old Library") + tag("interior", "true")
    )
    assert isinstance(loc, LocationDesign)
    assert loc.interior and sum(e.kind == "shelf" for e in loc.elements) >= 2
    assert set(loc.lighting) == {"day", "dusk", "night"}


def test_director_covers_every_beat_and_honours_a_fix() -> None:
    scene = script_for(IDEA).scenes[1]
    plan = (
        OfflineChatModel(seed=0)
        .with_structured_output(ShotPlan)
        .invoke(tag("scene", scene.model_dump(mode="json")))
    )
    assert isinstance(plan, ShotPlan)
    assert [s.beat for s in plan.shots] == list(range(len(scene.beats)))
    for spec, beat in zip(plan.shots, scene.beats, strict=True):
        if beat.kind == "dialogue":
            assert spec.subjects[0] == beat.character
    flipped = ShotSpec(beat=2, framing="medium", subjects=["Aiko"], reverse=True)
    fixed = (
        OfflineChatModel(seed=0)
        .with_structured_output(ShotSpec)
        .invoke(
            "\n".join(
                [
                    tag("shot", flipped.model_dump(mode="json")),
                    tag("fix", "Keep the camera on the same side of the line as s01-001."),
                    tag("must_show", ["Mei"]),
                    tag("previous_reverse", "false"),
                ]
            )
        )
    )
    assert isinstance(fixed, ShotSpec)
    assert fixed.reverse is False and fixed.subjects[0] == "Mei"
