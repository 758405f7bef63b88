"""Whole episodes on a hosted text model whose answers fit the schema but not the story.

Each answer comes from the offline story engine through `tests/fake_openai.py` (the real
openai / langchain-openai clients), then is broken the way a real model breaks it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from inkreel import cli
from inkreel.memory import AssetMemory
from inkreel.schemas import Manifest, StoryboardFile

from .conftest import IDEA
from .fake_openai import FakeOpenAI, story_engine_answer
from .test_line_providers import hosted_project

runner = CliRunner()
KEY = {"LOCAL_LLM_KEY": "sk-test-key", "INKREEL_RETRY_BASE_DELAY_S": "0"}


def produce(root: Path, answer: Any, *args: str) -> Any:
    with FakeOpenAI(answer=answer) as server:
        hosted_project(root, server.base_url)
        pins = ["--model", "write=local-llm", "--model", "design=local-llm"]
        pins += ["--model", "storyboard=local-llm"]
        return runner.invoke(
            cli.app,
            ["produce", IDEA, "-o", str(root), "--length", "12", "--episode", "e1", *pins, *args],
            env=KEY,
        )


def board(root: Path) -> StoryboardFile:
    return StoryboardFile.model_validate_json((root / "episodes/e1/storyboard.json").read_text())


def credits(root: Path) -> dict[str, tuple[str, str]]:
    manifest = Manifest.model_validate_json((root / "episodes/e1/manifest.json").read_text())
    return {a.kind: (a.provider, a.model) for a in manifest.artifacts}


def test_a_scene_character_missing_from_the_cast_is_designed_not_a_crash(tmp_path: Path) -> None:
    # Before: KeyError: 'Odile' in the director, and the same crash on every resume.
    def answer(schema: str, request: dict[str, Any]) -> dict[str, Any]:
        args = story_engine_answer(schema, request)
        if schema == "ScriptDraft":
            args["scenes"][0]["characters"].append("Odile")
        return args

    result = produce(tmp_path / "p", answer)
    assert result.exit_code == 0, result.output
    assert "Odile" in board(tmp_path / "p").cast
    run = json.loads((tmp_path / "p/episodes/e1/run.json").read_text())
    said = [r for rep in run["repairs"] if rep["agent"] == "screenwriter" for r in rep["repairs"]]
    assert any("Odile" in r and "added to the cast" in r for r in said), said


def test_named_and_short_colours_are_understood(tmp_path: Path) -> None:
    # Before: ValueError: invalid literal for int() with base 16 in the image checks.
    def answer(schema: str, request: dict[str, Any]) -> dict[str, Any]:
        args = story_engine_answer(schema, request)
        if schema == "CharacterDraft":
            args |= {"hair_colour": "teal", "outfit_colour": "#f00"}
        return args

    result = produce(tmp_path / "p", answer)
    assert result.exit_code == 0, result.output
    designs = [c.design for c in board(tmp_path / "p").cast.values()]
    assert {(d.hair_colour, d.outfit_colour) for d in designs} == {("#008080", "#ff0000")}


def test_an_answer_no_rule_can_repair_falls_back_and_is_credited_truly(tmp_path: Path) -> None:
    # A script with nothing to shoot, twice: the offline engine writes it instead, and the
    # manifest says so (before: the first candidate was credited whoever answered).
    def answer(schema: str, request: dict[str, Any]) -> dict[str, Any]:
        args = story_engine_answer(schema, request)
        if schema == "ScriptDraft":
            for scene in args["scenes"]:
                scene["beats"] = [{"kind": "action", "text": " "}]
        return args

    result = produce(tmp_path / "p", answer)
    assert result.exit_code == 0, result.output
    made = credits(tmp_path / "p")
    assert made["screenplay"] == ("offline", "inkreel-offline-story-engine")
    assert made["storyboard"] == ("openai", "test-model")


def test_a_stored_character_with_a_voice_espeak_lacks_is_repaired(tmp_path: Path) -> None:
    root = tmp_path / "p"
    first = runner.invoke(cli.app, ["produce", IDEA, "-o", str(root), "--length", "10"])
    assert first.exit_code == 0, first.output
    memory = AssetMemory(root / "memory")
    got = memory.characters.get(include=["metadatas"])
    index = next(i for i, m in enumerate(got["metadatas"]) if m["name"] == "Mei")
    meta = dict(got["metadatas"][index])
    record = json.loads(str(meta["json"]))
    record["design"]["voice"]["variant"] = "沈月"  # what an earlier version let in
    meta["json"] = json.dumps(record, ensure_ascii=False)
    memory.characters.update(ids=[got["ids"][index]], metadatas=[meta])
    del memory

    second = runner.invoke(cli.app, ["produce", IDEA, "-o", str(root), "--length", "10"])
    assert second.exit_code == 0, second.output
    assert "Mei: stored design repaired: design.voice.variant" in second.output
    mei = AssetMemory(root / "memory").find_character("Mei")
    assert mei is not None and mei.design.voice.variant != "沈月"
    assert mei.design.hair_colour == record["design"]["hair_colour"]  # the look is kept


def test_with_no_fallback_a_scene_no_answer_can_plan_gets_default_shots(tmp_path: Path) -> None:
    def answer(schema: str, request: dict[str, Any]) -> dict[str, Any]:
        if schema == "ShotPlan":
            return {"shots": "a wide shot, then close-ups"}  # not a list, twice
        return story_engine_answer(schema, request)

    result = produce(tmp_path / "p", answer, "--fallback", "never")
    assert result.exit_code == 0, result.output
    assert "covered by default shots" in result.output
    shots = board(tmp_path / "p").shots
    script = board(tmp_path / "p").script
    assert script is not None and len(shots) == sum(len(s.beats) for s in script.scenes)
    assert credits(tmp_path / "p")["storyboard"] == ("offline", "inkreel")


def test_with_no_fallback_a_scene_no_answer_can_revise_is_kept_and_flagged(tmp_path: Path) -> None:
    def answer(schema: str, request: dict[str, Any]) -> dict[str, Any]:
        if schema == "SceneRevision":
            return {"scene": {"number": 1, "heading": "X", "location": "X", "beats": []}}
        args = story_engine_answer(schema, request)
        if schema == "ScriptDraft":  # Zed speaks in a scene he is not in: a script error
            args["scenes"][0]["beats"].append(
                {"kind": "dialogue", "text": "I was never here.", "character": "Zed"}
            )
        return args

    result = produce(tmp_path / "p", answer, "--fallback", "never")
    assert result.exit_code == 0, result.output
    assert "scene 1 kept as drafted, flagged" in result.output
    continuity = json.loads((tmp_path / "p/episodes/e1/continuity.json").read_text())
    assert continuity["script"]["status"] == "flagged"
