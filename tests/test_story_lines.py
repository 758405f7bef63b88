"""The screenwriter fills a story's shots with lines, offline or on a hosted model, and the
shots and cast stay the story's; a hosted designer is given each character's description."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langgraph.runtime import Runtime

from inkreel.agents.character_designer import design_cast
from inkreel.agents.screenwriter import write_script
from inkreel.media.story_import import script_from_story
from inkreel.media.story_json import Story, StoryCharacter, StoryShot
from inkreel.providers.prompt_io import read_json_tag, read_tag
from inkreel.schemas import Script
from inkreel.schemas.episode import EpisodeRequest

from .conftest import open_context
from .fake_openai import FakeOpenAI, story_engine_answer
from .test_line_providers import hosted_project

LOOK = "A woman with long red hair, wearing a blue coat and glasses."


def story(language: str = "en") -> Story:
    place = {"en": "Night, a lamp room", "zh": "夜晚，灯室", "ja": "夜、灯室"}[language]
    people = [["Mei"], ["Mei", "Aiko"], [], ["Aiko"], ["Aiko", "Mei"], ["Mei"]]
    return Story(
        id="t",
        language=language,
        title="T",
        characters=[
            StoryCharacter(key="Mei", name="Mei", prompt=LOOK, tags=[]),
            StoryCharacter(key="Aiko", name="Aiko", prompt="", tags=[]),
        ],
        shots=[
            StoryShot(
                index=k,
                setting=place,
                plot=f"{' and '.join(who) or 'The lamp'} in shot {k}.",
                perspective="long shot" if k == 1 else "medium shot",
                characters=who,
                description="",
            )
            for k, who in enumerate(people, 1)
        ],
    )


def lines_of(script: Script) -> list[tuple[int, str, str]]:
    return [
        (b.shot.number, str(b.character), b.text)
        for s in script.scenes
        for b in s.beats
        if b.kind == "dialogue" and b.shot is not None
    ]


def fill(root: Path, told: Story, length_s: float, **settings: object) -> dict[str, Any]:
    script = script_from_story(told)
    request = EpisodeRequest(episode="ep01", length_s=length_s, language=told.language)
    with open_context(root, **settings) as ctx:
        return write_script({"request": request, "script": script}, Runtime(context=ctx.context))


@pytest.mark.parametrize("language", ["en", "zh", "ja"])
def test_offline_lines_go_to_people_on_screen_and_keep_every_shot(
    tmp_path: Path, language: str
) -> None:
    told = story(language)
    before = script_from_story(told)
    after: Script = fill(tmp_path / "p", told, 20)["script"]
    lines = lines_of(after)
    # About 40 % of 20 s spoken, a line about 3 s: three lines, none in the empty shot.
    assert len(lines) == 3
    on_screen = {s.index: s.characters for s in told.shots}
    assert all(who in on_screen[n] for n, who, _ in lines)
    assert 3 not in [n for n, _, _ in lines]
    if language != "en":
        assert all(any("\u3040" <= c <= "\u9fff" for c in text) for _, _, text in lines)
    # Same shots, in order, with the same people; the same cast.
    shots = [b.shot for s in after.scenes for b in s.beats]
    assert shots == [b.shot for s in before.scenes for b in s.beats]
    assert after.characters == before.characters


def test_a_hosted_writer_sees_the_shots_and_cannot_change_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCAL_LLM_KEY", "sk-test")
    monkeypatch.setenv("INKREEL_RETRY_BASE_DELAY_S", "0")

    def answer(schema: str, request: dict[str, Any]) -> dict[str, Any]:
        args = story_engine_answer(schema, request)
        if schema == "ShotLines":  # a model that puts words in the mouth of someone unseen
            args["lines"].append({"shot": 4, "character": "Mei", "text": "I am not in shot 4."})
            args["lines"].append({"shot": 7, "character": "Ren", "text": "Nor is there a 7."})
        return args

    with FakeOpenAI(answer=answer) as server:
        hosted_project(tmp_path / "p", server.base_url)
        update = fill(tmp_path / "p", story(), 20, pins={"write": "local-llm"})
        asked = [
            read_json_tag(str(m["content"]), "shots")
            for r in server.requests_to("chat")
            for m in r.json["messages"]
            if m["role"] == "user" and "<shots>" in str(m["content"])
        ]
    assert asked, "the hosted writer was not asked for lines"
    shots = asked[0]
    assert [s["shot"] for s in shots] == [1, 2, 3, 4, 5, 6]
    assert shots[1]["on_screen"] == ["Mei", "Aiko"]
    lines = lines_of(update["script"])
    assert lines and ("I am not in shot 4." not in [t for _, _, t in lines])
    assert update["script"].characters == ["Mei", "Aiko"]
    assert update["text_models"] == {"screenplay": ["local-llm"]}


def test_a_hosted_designer_is_given_the_characters_description(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCAL_LLM_KEY", "sk-test")
    state: Any = {
        "script": script_from_story(story()),
        "request": EpisodeRequest(episode="ep01"),
    }
    with FakeOpenAI() as server:
        hosted_project(tmp_path / "p", server.base_url)
        with open_context(tmp_path / "p", pins={"design": "local-llm"}) as ctx:
            cast = design_cast(state, Runtime(context=ctx.context))["cast"]
        asked = {
            read_tag(str(m["content"]), "character"): read_tag(str(m["content"]), "appearance")
            for r in server.requests_to("chat")
            for m in r.json["messages"]
            if m["role"] == "user" and "<character>" in str(m["content"])
        }
    # Mei's description is in her design request; Aiko has none in the story.
    assert asked == {"Mei": LOOK, "Aiko": None}
    assert cast["Mei"].design.hair_style == "long" and cast["Mei"].design.accessories == ["glasses"]
