"""The vision-LLM judge: its request, its verdicts as findings, its routing, and the repair loop.

The hosted model is `tests/fake_openai.py`, a local OpenAI-compatible server driven through the
real `openai` / `langchain-openai` clients; its answer function plays the judge.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any, get_args

import pytest
from PIL import Image
from typer.testing import CliRunner

from inkreel import cli
from inkreel.agents.judge import (
    IMAGE_MAX_SIDE,
    JudgeCheck,
    judge_shots,
    score_factor,
)
from inkreel.checks import Bundle
from inkreel.checks.image import DETECTS
from inkreel.estimate import draft_script, planned_calls, shape_of
from inkreel.providers import Providers, build_providers
from inkreel.providers.budget import Ledger
from inkreel.providers.prompt_io import read_json_tag
from inkreel.providers.roster import Roster, RosterError
from inkreel.providers.router import POLICIES, Router, RouterError
from inkreel.schemas import (
    Blocking,
    Character,
    CharacterDesign,
    ContinuityReport,
    Keyframe,
    Lighting,
    Location,
    LocationDesign,
    Shot,
    StoryboardFile,
    Voice,
)
from inkreel.settings import Settings

from .conftest import IDEA
from .fake_openai import FakeOpenAI, story_engine_answer

runner = CliRunner()
KEY = "sk-test-VISION-789"
VISION: dict[str, Any] = {
    "id": "local-vision",
    "capability": "text",
    "provider": "openai",
    "model": "vision-test",
    "api_key_env": "LOCAL_VISION_KEY",
    "tasks": ["judge"],
    "price": {"usd_per_1k_input_tokens": 0.001, "usd_per_1k_output_tokens": 0.002},
}
# Solid colours, so each image sent can be told apart after JPEG compression.
COLOURS = {
    "keyframe-s01-001": (220, 40, 40),
    "keyframe-s01-002": (240, 140, 20),
    "Ana": (40, 200, 60),
    "Ben": (40, 60, 220),
    "Cai": (200, 40, 200),
    "Dee": (40, 200, 200),
    "Eve": (120, 120, 120),
    "plate": (230, 230, 60),
}


# -- a small storyboard with images, made here --------------------------------------------------


def _png(
    path: Path, size: tuple[int, int], colour: tuple[int, int, int], mode: str = "RGB"
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, colour).save(path)


def _character(root: Path, name: str) -> Character:
    front = f"refs/{name}-front.png"
    _png(root / front, (170, 675), COLOURS[name], mode="RGBA")  # a tall sheet, like ours
    design = CharacterDesign(
        name=name,
        hair_colour="#2b2b2b",
        outfit="coat",
        outfit_colour="#446688",
        voice=Voice(variant="f2", pitch=50, speed=150),
    )
    return Character(id=f"chr-{name}", design=design, turnaround={"front": front})


def make_bundle(root: Path) -> Bundle:
    """Two shots in one set: Ana and Ben, then five people (more references than are sent)."""
    board = json.loads((Path(__file__).parent / "data/storyboard_elsewhere.json").read_text())
    first = Shot.model_validate(board["shots"][0])  # s01-001 at the Harbour, day: Ana, Ben
    crowd = [
        Blocking(character=n, world_x=2.0 + i, screen_x=0.1 + 0.2 * i, facing="front")
        for i, n in enumerate(["Ana", "Ben", "Cai", "Dee", "Eve"])
    ]
    second = first.model_copy(
        update={"id": "s01-002", "beat": 1, "blocking": crowd, "speaker": "Cai"}
    )
    keyframes = {}
    for shot in (first, second):
        path = f"keyframes/{shot.id}.png"
        _png(root / path, (1280, 720), COLOURS[f"keyframe-{shot.id}"])
        keyframes[shot.id] = Keyframe(shot_id=shot.id, path=path)
    _png(root / "plates/harbour-day.png", (1280, 720), COLOURS["plate"])
    light = Lighting(ambient="#ffffff", sky="#88aaff", practicals_on=False, brightness=1.0)
    harbour = Location(
        id="loc-harbour",
        design=LocationDesign(name="Harbour", interior=False, lighting={"day": light}),
        plates={"day": "plates/harbour-day.png"},
    )
    cast = {n: _character(root, n) for n in ["Ana", "Ben", "Cai", "Dee", "Eve"]}
    storyboard = StoryboardFile(
        shots=[first, second], keyframes=keyframes, cast=cast, locations={"Harbour": harbour}
    )
    (root / "storyboard.json").write_text(storyboard.model_dump_json(indent=1))
    return Bundle.load(root / "storyboard.json")


def vision_providers(root: Path, base_url: str, **settings: Any) -> Providers:
    roster = Roster.default().merged([{**VISION, "base_url": base_url}])
    resolved = Settings.load(None, judge_model="local-vision", retry_base_delay_s=0, **settings)
    ledger = Ledger(root / "ledger.sqlite")
    env = {"LOCAL_VISION_KEY": KEY}
    return build_providers(resolved, 0, ledger, "ep01", environ=env, roster=roster)


def judge_project(root: Path, base_url: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    price = VISION["price"]
    (root / "inkreel.toml").write_text(
        "[[models]]\n"
        f'id = "{VISION["id"]}"\ncapability = "text"\nprovider = "openai"\n'
        f'model = "{VISION["model"]}"\nbase_url = "{base_url}"\n'
        f'api_key_env = "{VISION["api_key_env"]}"\ntasks = ["judge"]\n'
        f"price = {{ usd_per_1k_input_tokens = {price['usd_per_1k_input_tokens']}, "
        f"usd_per_1k_output_tokens = {price['usd_per_1k_output_tokens']} }}\n"
    )


# -- the fake judge's side: read the request, answer a verdict ----------------------------------


def user_content(request_json: dict[str, Any]) -> list[dict[str, Any]]:
    user = next(m for m in request_json["messages"] if m["role"] == "user")
    return user["content"]


def facts(request_json: dict[str, Any], name: str) -> Any:
    text = "".join(p.get("text", "") for p in user_content(request_json) if p["type"] == "text")
    return read_json_tag(text, name)


def verdict(request_json: dict[str, Any], *problems: dict[str, Any]) -> dict[str, Any]:
    names = [c["name"] for c in facts(request_json, "expected")]
    return {
        "characters": [{"name": n, "visible": True, "matches_reference": True} for n in names],
        "extra_figures": 0,
        "set_matches": True,
        "time_of_day_matches": True,
        "problems": list(problems),
    }


def problem(
    check: str, character: str = "", confidence: float = 0.9, **extra: Any
) -> dict[str, Any]:
    return {
        "check": check,
        "character": character,
        "description": f"{check} looks wrong",
        "fix": f"Redraw with the right {check}.",
        "confidence": confidence,
        **extra,
    }


def colour_of(data_url: str) -> tuple[str, tuple[int, int]]:
    """The name in COLOURS nearest to the image's mean colour, and its size."""
    assert data_url.startswith("data:image/jpeg;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(data_url.split(",", 1)[1]))).convert("RGB")
    mean = image.resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    assert isinstance(mean, tuple)
    nearest = min(
        COLOURS, key=lambda k: sum((a - b) ** 2 for a, b in zip(COLOURS[k], mean, strict=True))
    )
    return nearest, image.size


# -- the request ------------------------------------------------------------------------------


def test_each_request_carries_the_keyframe_the_references_and_who_is_expected(
    tmp_path: Path,
) -> None:
    bundle = make_bundle(tmp_path)
    with FakeOpenAI(answer=lambda _schema, rj: verdict(rj)) as server:
        providers = vision_providers(tmp_path, server.base_url)
        found = judge_shots(providers.calls, bundle, ["s01-001", "s01-002"])
        chats = server.requests_to("chat")
    assert found == []  # clean verdicts
    assert len(chats) == 2
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in chats)
    by_shot = {facts(r.json, "shot")["id"]: r.json for r in chats}
    sent = {}
    for shot_id, rj in by_shot.items():
        parts = user_content(rj)
        assert parts[0]["type"] == "text"
        images = [colour_of(p["image_url"]["url"]) for p in parts if p["type"] == "image_url"]
        assert all(max(size) <= IMAGE_MAX_SIDE for _, size in images)
        sent[shot_id] = [name for name, _ in images]
        text = parts[0]["text"]
        for b in next(s for s in bundle.board.shots if s.id == shot_id).blocking:
            assert b.character in text
    # The keyframe first, then each expected character's front view, then the set's plate.
    assert sent["s01-001"] == ["keyframe-s01-001", "Ana", "Ben", "plate"]
    # Five people: the keyframe and four references, the speaker's first and the plate kept.
    assert sent["s01-002"] == ["keyframe-s01-002", "Cai", "Ana", "Ben", "plate"]
    design = facts(by_shot["s01-001"], "expected")[0]["design"]
    assert "#2b2b2b" in design["hair"] and "#446688" in design["outfit"]


# -- verdicts as findings ---------------------------------------------------------------------


def test_a_verdict_naming_problems_becomes_findings_and_a_clean_one_none(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path)

    def answer(_schema: str, rj: dict[str, Any]) -> dict[str, Any]:
        if facts(rj, "shot")["id"] == "s01-002":
            return verdict(rj)
        return verdict(
            rj,
            problem("hair_colour", "ana", 0.9),  # names are matched whatever their case
            problem("figure_extra", "", 0.3),
            problem("identity", "Ben", 0.8, reference_wrong=True),
        )

    with FakeOpenAI(answer=answer) as server:
        providers = vision_providers(tmp_path, server.base_url)
        found = judge_shots(providers.calls, bundle, ["s01-001", "s01-002"])
        spent = providers.calls.ledger.spent(("episode", "ep01"))
    assert {f.shot_id for f in found} == {"s01-001"}
    by_check = {f.check: f for f in found}
    assert set(by_check) == {"hair_colour", "figure_extra", "identity"}
    hair = by_check["hair_colour"]
    assert (hair.level, hair.severity, hair.agent) == ("image", "error", "director")
    assert hair.evidence == {
        "source": "judge",
        "confidence": 0.9,
        "model": "local-vision",
        "character": "Ana",
    }
    assert hair.fix_instruction == "Redraw with the right hair_colour."
    assert (hair.scene, hair.beat, hair.shots) == (1, 0, ["s01-001"])
    assert by_check["figure_extra"].severity == "warning"  # not sure enough for an error
    # The reference sheet is off: the designer redraws it (the continuity node's redraw route).
    assert by_check["identity"].agent == "character_designer"
    assert by_check["identity"].evidence["sheet_off_design"] == "judge"
    assert spent > 0
    # Judge findings cost a take what pixel measures cannot: x0.5 per error, x0.75 per warning.
    assert score_factor(found) == pytest.approx(0.5 * 0.75 * 0.5)
    assert score_factor([]) == 1.0


def test_the_judge_speaks_the_image_checks_vocabulary() -> None:
    assert set(get_args(JudgeCheck)) == set(DETECTS)


def test_an_unknown_character_is_never_one_the_repair_loop_adds(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path)

    def answer(_schema: str, rj: dict[str, Any]) -> dict[str, Any]:
        return verdict(rj, problem("figure_missing", "Zed", 0.7))

    with FakeOpenAI(answer=answer) as server:
        providers = vision_providers(tmp_path, server.base_url)
        (found,) = judge_shots(providers.calls, bundle, ["s01-001"])
    assert found.check == "figure_missing" and found.severity == "error"
    assert "character" not in found.evidence  # continuity shows evidence["character"]
    assert found.evidence["named"] == "Zed"


def test_an_answer_outside_the_schema_is_repaired_or_leaves_a_note(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path)
    with FakeOpenAI(answer=lambda _schema, rj: verdict(rj, problem("wrong_light"))) as server:
        providers = vision_providers(tmp_path, server.base_url)
        # A check name the schema does not know: the client asks once more, with the errors.
        server.queue_tool_call(
            {"characters": [], "extra_figures": 0, "set_matches": True,
             "time_of_day_matches": True, "problems": [problem("vibes")]}
        )  # fmt: skip
        (found,) = judge_shots(providers.calls, bundle, ["s01-001"])
        repaired = server.requests_to("chat")
        assert len(repaired) == 2
        assert found.check == "wrong_light"
        # The repair request still shows the model the images.
        assert sum(p["type"] == "image_url" for p in user_content(repaired[1].json)) == 4
        # Broken twice: no model is left to ask (the offline engine cannot see), so the shot
        # gets no verdict, said in the notes, and the run goes on.
        server.queue_invalid_json('{"characters": [')
        server.queue_invalid_json('{"characters": [')
        assert judge_shots(providers.calls, bundle, ["s01-002"]) == []
    assert any("judge gave no verdict for s01-002" in n for n in bundle.notes)


# -- routing and settings ---------------------------------------------------------------------


def test_only_models_that_read_images_judge_and_never_the_offline_engine() -> None:
    roster = Roster.default()
    with pytest.raises(RouterError, match="no usable model for task 'judge'"):
        Router(roster, "draft", environ={}).candidates("judge")
    keys = {"OPENAI_API_KEY": "k", "DEEPSEEK_API_KEY": "k", "DASHSCOPE_API_KEY": "k"}
    for policy in POLICIES:
        router = Router(roster, policy, environ=keys)
        assert {e.id for e in router.candidates("judge")} == {
            "gpt-4.1-mini",
            "gpt-4.1",
            "qwen3-vl-plus",
        }
        assert "offline-text" in {e.id for e in router.candidates("write")}
    for model_id in ("offline-text", "deepseek-chat"):
        with pytest.raises(RouterError, match="not listed as reading images"):
            Router(roster, "draft", {"judge": model_id}, environ=keys)
    with pytest.raises(RosterError, match="cannot see images"):
        roster.merged([{"id": "offline-text", "tasks": ["write", "judge"]}])
    # A text model is not a judge: the judge is its own setting, off unless set.
    assert "judge" not in Settings.load(None, text_model="deepseek-chat").task_models()
    assert Settings.load(None, judge_model="gpt-4.1").task_models()["judge"] == "gpt-4.1"
    assert "judge" not in Settings.load(None, judge_model="auto").task_models()


def test_a_judge_without_its_key_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OPENAI_API_KEY", "ARK_API_KEY", "DASHSCOPE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    make_bundle(tmp_path / "board")
    checked = runner.invoke(
        cli.app, ["check", str(tmp_path / "board/storyboard.json"), "--judge-model", "gpt-4.1"]
    )
    assert checked.exit_code == 2, checked.output
    assert "OPENAI_API_KEY is not set" in checked.output and "Traceback" not in checked.output
    produced = runner.invoke(
        cli.app, ["produce", IDEA, "-o", str(tmp_path / "p"), "--judge-model", "auto"]
    )
    assert produced.exit_code == 2, produced.output
    assert "no usable model for task 'judge'" in produced.output
    assert not (tmp_path / "p/episodes").exists()
    blind = runner.invoke(
        cli.app, ["produce", IDEA, "-o", str(tmp_path / "q"), "--judge-model", "deepseek-chat"]
    )
    assert blind.exit_code == 2, blind.output
    # The hint names the table to edit as written (not eaten as console markup).
    assert "not listed as reading images" in blind.output
    assert "inkreel.toml [[models]]" in " ".join(blind.output.split())


def test_check_with_a_judge_lists_its_findings_under_a_budget(tmp_path: Path) -> None:
    board = tmp_path / "board"
    make_bundle(board)

    def answer(_schema: str, rj: dict[str, Any]) -> dict[str, Any]:
        return verdict(rj, problem("wrong_light", "", 0.8))

    env = {"LOCAL_VISION_KEY": KEY, "INKREEL_RETRY_BASE_DELAY_S": "0"}
    args = ["check", str(board / "storyboard.json"), "--level", "image"]
    with FakeOpenAI(answer=answer) as server:
        judge_project(board, server.base_url)  # a storyboard made elsewhere, not a project
        broke = runner.invoke(
            cli.app, [*args, "--judge-model", "local-vision", "--budget", "0"], env=env
        )
        assert broke.exit_code == 2, broke.output
        assert "Raise the episode cap" in broke.output and "Traceback" not in broke.output
        assert server.requests_to("chat") == []
        report = board / "findings.json"
        found = runner.invoke(
            cli.app, [*args, "--judge-model", "local-vision", "--json", str(report)], env=env
        )
        assert len(server.requests_to("chat")) == 2
    assert found.exit_code == 1, found.output  # errors found, like a linter
    judged = [f for f in json.loads(report.read_text())["findings"] if f["check"] == "wrong_light"]
    assert {f["shot_id"] for f in judged} == {"s01-001", "s01-002"}
    assert all(f["evidence"]["source"] == "judge" for f in judged)


def test_estimate_prices_one_judge_call_per_shot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    shape = shape_of(draft_script(IDEA, 30, "en", 0), 30)
    planned = {c.task: c for c in planned_calls(shape, written=False, animate=False, judge=True)}
    assert planned["judge"].count == shape.beats
    assert "judge" not in {c.task for c in planned_calls(shape, written=False, animate=False)}
    result = runner.invoke(
        cli.app, ["estimate", IDEA, "--length", "30", "--judge-model", "gpt-4.1-mini"]
    )
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "judge" in line)
    assert "gpt-4.1-mini" in row and f" {shape.beats} " in row


# -- in the line --------------------------------------------------------------------------------


def test_a_shot_the_judge_flags_is_sent_back_and_passes_on_its_retake(tmp_path: Path) -> None:
    root = tmp_path / "judged"
    takes: list[tuple[str, int]] = []

    def answer(schema: str, rj: dict[str, Any]) -> dict[str, Any]:
        if schema != "JudgeVerdict":
            return story_engine_answer(schema, rj)
        shot = facts(rj, "shot")
        takes.append((shot["id"], shot["take"]))
        if shot["id"] == "s01-001" and shot["take"] == 1:
            name = facts(rj, "expected")[0]["name"]
            return verdict(rj, problem("hair_colour", name, 0.9))
        return verdict(rj)

    env = {"LOCAL_VISION_KEY": KEY, "INKREEL_RETRY_BASE_DELAY_S": "0"}
    args = ["produce", IDEA, "-o", str(root), "--length", "10"]
    with FakeOpenAI(answer=answer) as server:
        judge_project(root, server.base_url)
        result = runner.invoke(
            cli.app, [*args, "--episode", "e1", "--judge-model", "local-vision"], env=env
        )
        assert result.exit_code == 0, result.output
        judged = len(server.requests_to("chat"))
        # Checking the delivered storyboard again asks the judge nothing new: every keyframe's
        # verdict is in the project's ledger already.
        board = root / "episodes/e1/storyboard.json"
        again = runner.invoke(
            cli.app, ["check", str(board), "--judge-model", "local-vision"], env=env
        )
        assert again.exit_code == 0, again.output
        assert len(server.requests_to("chat")) == judged
        # Without a judge set, the line asks none.
        plain = runner.invoke(cli.app, [*args, "--episode", "e2"], env=env)
        assert plain.exit_code == 0, plain.output
        assert len(server.requests_to("chat")) == judged
    folder = root / "episodes/e1"
    report = ContinuityReport.model_validate_json((folder / "continuity.json").read_text())
    assert report.passed
    outcomes = {s.shot_id: s for s in report.shots}
    flagged = outcomes["s01-001"]
    assert (flagged.status, flagged.attempts, flagged.findings_first) == ("repaired", 2, 1)
    # The pixel checks see nothing wrong; the judge's error alone halves the first take's score.
    assert (flagged.score_before, flagged.score_after) == (0.5, 1.0)
    assert all(o.status == "passed" for sid, o in outcomes.items() if sid != "s01-001")
    (raised,) = [f for f in report.history if f.evidence.get("source") == "judge"]
    assert (raised.shot_id, raised.check, raised.agent) == ("s01-001", "hair_colour", "director")
    # Every shot judged once, the flagged one twice (its retake), each call paid in the ledger.
    assert sorted(takes) == sorted([(sid, 1) for sid in outcomes] + [("s01-001", 2)])
    assert judged == len(takes)
    run = json.loads((folder / "run.json").read_text())
    calls = [c for c in run["calls"] if c["task"] == "judge"]
    assert len(calls) == judged and {c["model"] for c in calls} == {"local-vision"}
    paid = [r for r in run["cost_table"] if r["model"] == "local-vision"]
    assert sum(r["calls"] for r in paid) == judged and all(r["usd"] > 0 for r in paid)
    assert {r["agent"] for r in paid} == {"continuity"}
