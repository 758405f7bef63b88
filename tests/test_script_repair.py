"""The script gate: a draft with continuity errors is rewritten, scene by scene, before design.

The offline reviser is the story engine's `SceneRevision` generator; the hosted path goes
through the real `langchain-openai`/`openai` clients to `tests/fake_openai.py`.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from langgraph.runtime import Runtime

from inkreel.agents import screenwriter
from inkreel.drills.text_defects import LEVEL_TYPES, PlantedDefect, plant_text
from inkreel.providers.offline.script import write_script
from inkreel.providers.prompt_io import read_json_tag, tag
from inkreel.schemas import Script, StoryboardFile
from inkreel.schemas.episode import EpisodeRequest
from inkreel.services import EpisodeContext

from .conftest import open_context
from .fake_openai import FakeOpenAI, story_engine_answer

# Three characters, not all in every scene: room for a line given to someone elsewhere.
IDEA = (
    "A lighthouse keeper named Mei finds a message in a bottle from a girl called Aiko. "
    "Her brother Ren helps."
)
REQUEST = EpisodeRequest(episode="ep01", idea=IDEA, length_s=40, language="en", seed=3)


def draft(seed: int) -> Script:
    prompt = tag("idea", IDEA) + tag("runtime_seconds", "40") + tag("language", "en")
    return Script.model_validate(write_script(prompt, seed))


def planted(defect: str) -> tuple[Script, PlantedDefect]:
    """The first of a few drafts that has room for the defect, with it planted."""
    for seed in range(6):
        board = StoryboardFile(shots=[], script=draft(seed))
        made = plant_text(board, defect, "script", random.Random(1))
        if made is not None and made[0].script is not None:
            return made[0].script, made[1]
    raise AssertionError(f"no draft has room for {defect}")


def gate(runtime: Runtime[EpisodeContext], script: Script) -> tuple[dict[str, Any], list[str]]:
    """Run check_script / revise_script as the graph does; return the state and the hops."""
    state: dict[str, Any] = {"request": REQUEST, "script": script}
    hops = []
    for _ in range(10):
        command = screenwriter.check_script(state, runtime)  # type: ignore[arg-type]
        state |= command.update or {}
        hops.append(str(command.goto))
        if command.goto == "review_script":
            return state, hops
        state |= screenwriter.revise_script(state, runtime)  # type: ignore[arg-type]
    raise AssertionError("the script gate did not end")


@pytest.mark.parametrize("defect", LEVEL_TYPES["script"])
def test_each_planted_script_defect_is_repaired_in_its_scene_only(
    defect: str, runtime: Runtime[EpisodeContext]
) -> None:
    bad, truth = planted(defect)
    assert screenwriter.script_findings(bad), f"the planted {defect} was not caught"
    state, hops = gate(runtime, bad)
    assert hops == ["revise_script", "review_script"]
    fixed: Script = state["script"]
    review = state["script_review"]
    assert review.status == "repaired" and review.attempts == 2
    assert review.findings_first >= 1 and review.findings == []
    assert review.scenes_revised == [truth.scene]
    assert not [f for f in screenwriter.script_findings(fixed) if f.severity == "error"]
    for before, after in zip(bad.scenes, fixed.scenes, strict=True):
        if before.number != truth.scene:
            assert after == before  # only the scene at fault is rewritten
        else:
            assert after != before and len(after.beats) == len(before.beats)


def test_a_clean_draft_passes_without_a_revision(runtime: Runtime[EpisodeContext]) -> None:
    state, hops = gate(runtime, draft(0))
    assert hops == ["review_script"]
    assert state["script_review"].status == "passed" and state["script_review"].history == []


def test_the_users_screenplay_is_checked_but_never_rewritten(
    runtime: Runtime[EpisodeContext],
) -> None:
    bad, truth = planted("day_night")
    theirs = bad.model_copy(update={"source": "fountain"})
    state, hops = gate(runtime, theirs)
    assert hops == ["review_script"]
    assert state["script"] == theirs
    review = state["script_review"]
    assert review.status == "flagged" and not review.revised and review.attempts == 1
    assert [f.scene for f in review.findings] == [truth.scene]


def test_a_hosted_reviser_that_makes_it_worse_keeps_the_best_draft(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first revision adds an error, the second changes nothing: at the limit (three
    drafts) the first draft, with the fewest errors, is kept and flagged."""
    bad, truth = planted("day_night")
    seen: list[dict[str, Any]] = []

    def answer(schema: str, body: dict[str, Any]) -> dict[str, Any]:
        if schema != "SceneRevision":
            return story_engine_answer(schema, body)
        prompt = "".join(str(m["content"]) for m in body["messages"] if m["role"] != "system")
        scene = read_json_tag(prompt, "scene")
        seen.append({"scene": scene, "findings": read_json_tag(prompt, "findings")})
        if len(seen) == 1:
            line = next(b for b in scene["beats"] if b["kind"] == "dialogue")
            line["character"] = "Ghost"  # a new speaker nobody brought into the scene
        return {"scene": scene, "changes": ["Ignored the fix."]}

    with FakeOpenAI(answer=answer) as server:
        root = tmp_path / "project"
        root.mkdir()
        (root / "inkreel.toml").write_text(
            "[[models]]\n"
            'id = "local-llm"\ncapability = "text"\nprovider = "openai"\nmodel = "m"\n'
            f'base_url = "{server.base_url}"\napi_key_env = "LOCAL_LLM_KEY"\n'
            'tasks = ["write"]\n'
        )
        monkeypatch.setenv("LOCAL_LLM_KEY", "sk-test")
        with open_context(root, text_model="local-llm", retry_base_delay_s=0) as live:
            state, hops = gate(Runtime(context=live.context), bad)
        requests = server.requests_to("chat")
    assert hops == ["revise_script", "revise_script", "review_script"]
    assert len(requests) == 2 == len(seen)
    # The reviser was told what was wrong, with the evidence.
    first = seen[0]["findings"]
    assert [f["check"] for f in first] == ["continuous_time"]
    assert first[0]["evidence"]["expected"] and "time of day" in first[0]["fix_instruction"]
    assert seen[0]["scene"]["number"] == truth.scene
    review = state["script_review"]
    assert review.status == "flagged" and review.attempts == 3
    assert state["script"] == bad  # the first draft: one error against the others' two
    assert [f.check for f in review.findings] == ["continuous_time"]
    body = json.loads(requests[0].body)
    assert "revising one scene" in body["messages"][0]["content"]
