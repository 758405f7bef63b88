"""Agents' answers checked beyond their JSON schema (inkreel.checks.answers, json_fit)."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import ValidationError

from inkreel.art.set.plate import render_plate
from inkreel.checks.answers import (
    repair_record,
    validate_character,
    validate_location,
    validate_scene_revision,
    validate_script_draft,
    validate_shot_plan,
    validate_shot_spec,
)
from inkreel.providers.budget import Ledger
from inkreel.providers.dispatch import Dispatch, call_key
from inkreel.providers.errors import UnusableAnswer
from inkreel.providers.roster import Roster
from inkreel.providers.router import Router
from inkreel.schemas import (
    Character,
    CharacterDesign,
    CharacterDraft,
    LocationDraft,
    Scene,
    ScriptDraft,
    ShotPlan,
    ShotSpec,
    Voice,
)
from tests.fake_openai import FakeOpenAI

SCENE = {
    "number": 1,
    "heading": "INT. TEA HOUSE - NIGHT",
    "location": "Tea House",
    "time_of_day": "night",
    "characters": ["Mei", "Odile"],
    "beats": [
        {"kind": "action", "text": "Rain on the windows."},
        {"kind": "dialogue", "text": "You came back.", "character": "mei", "addressee": "Jun"},
        {"kind": "dialogue", "text": "  ", "character": "Mei"},
    ],
}


def draft(**changes: object) -> ScriptDraft:
    return ScriptDraft.model_validate(
        {"title": "Rain", "characters": ["Mei"], "scenes": [SCENE]} | changes
    )


def test_every_name_a_scene_uses_is_in_the_cast_and_spelled_one_way() -> None:
    checked = validate_script_draft(draft(), "en")
    script = checked.value
    # Odile (in the scene) and Jun (spoken to) are added, to be designed; 'mei' is Mei.
    assert script.characters == ["Mei", "Odile", "Jun"]
    assert script.scenes[0].beats[1].character == "Mei"
    assert len(script.scenes[0].beats) == 2  # the empty line is dropped
    assert checked.ok and {i.where for i in checked.repairs} >= {
        "characters",
        "scenes[0].beats[2].text",
    }


def test_the_model_cannot_decide_bookkeeping() -> None:
    assert "source" not in ScriptDraft.model_json_schema()["properties"]
    answer = ScriptDraft.model_validate(
        {"title": "Rain", "scenes": [SCENE], "source": "fountain", "language": "ja"}
    )
    script = validate_script_draft(answer, "en").value
    assert (script.source, script.language) == ("idea", "en")  # so it can still be revised


def test_a_line_nobody_says_goes_to_the_only_one_there_or_becomes_action() -> None:
    alone = {**SCENE, "characters": ["Mei"], "beats": [{"kind": "dialogue", "text": "Hello?"}]}
    crowd = {**alone, "characters": ["Mei", "Jun"]}
    said = validate_script_draft(draft(scenes=[alone]), "en").value.scenes[0].beats[0]
    told = validate_script_draft(draft(scenes=[crowd]), "en").value.scenes[0].beats[0]
    assert (said.kind, said.character) == ("dialogue", "Mei")
    assert (told.kind, told.character) == ("action", None)


def test_a_script_with_nothing_to_shoot_is_an_error_and_empty_scenes_go() -> None:
    empty = {**SCENE, "beats": [{"kind": "action", "text": " "}]}
    checked = validate_script_draft(draft(scenes=[empty, SCENE]), "en")
    assert checked.ok and [s.number for s in checked.value.scenes] == [1]
    nothing = validate_script_draft(draft(scenes=[empty]), "en")
    assert not nothing.ok and "nothing to shoot" in str(nothing.errors[0])


def test_a_line_in_the_wrong_language_is_an_error() -> None:
    checked = validate_script_draft(draft(), "zh")
    assert [i.where for i in checked.errors] == ["scenes[0].beats[1].text"]


def test_a_rewritten_scene_without_beats_is_an_error() -> None:
    script = validate_script_draft(draft(), "en").value
    bare = Scene.model_validate({**SCENE, "beats": []})
    assert not validate_scene_revision(bare, script).ok


def test_colours_parse_by_name_and_short_hex_and_nonsense_is_rejected() -> None:
    voice = {"variant": "f2", "pitch": 50, "speed": 170}
    look = CharacterDraft.model_validate(
        {"hair_colour": "#f00", "outfit_colour": "teal", "voice": voice}
    )
    assert (look.hair_colour, look.outfit_colour) == ("#ff0000", "#008080")
    with pytest.raises(ValidationError, match="not a colour"):
        CharacterDraft.model_validate({"skin": "er", "voice": voice})
    with pytest.raises(ValidationError):  # a voice eSpeak does not have
        Voice.model_validate({"variant": "沈月", "pitch": 50, "speed": 170})


def test_a_set_is_lit_for_every_time_of_day() -> None:
    dark = LocationDraft.model_validate({"lighting": {}, "interior": False})
    checked = validate_location(dark, "Harbour", interior=True)
    design = checked.value
    assert set(design.lighting) == {"day", "dusk", "night"} and design.interior
    assert design.name == "Harbour" and checked.ok and checked.repairs
    day = render_plate(design, "day").convert("L")
    night = render_plate(design, "night").convert("L")
    mean = lambda im: sum(im.getdata()) / (im.width * im.height)  # noqa: E731
    assert mean(night) < mean(day) - 20


def test_a_shot_plan_covers_each_beat_once_and_says_what_it_dropped() -> None:
    scene = Scene.model_validate(SCENE)
    plan = ShotPlan(
        shots=[
            ShotSpec(beat=7, framing="close_up"),
            ShotSpec(beat=1, framing="close_up", subjects=["MEI", "Ghost"]),
            ShotSpec(beat=1, framing="wide"),
        ]
    )
    checked = validate_shot_plan(plan, scene)
    shots = checked.value.shots
    assert [s.beat for s in shots] == [0, 1, 2]
    assert shots[1].subjects == ["Mei"] and shots[1].framing == "close_up"
    said = " ".join(map(str, checked.repairs))
    assert "no beat 7" in said and "shot twice" in said and "'Ghost'" in said


def test_a_revised_shot_stays_on_its_beat() -> None:
    scene = Scene.model_validate(SCENE)
    spec = validate_shot_spec(ShotSpec(beat=5, framing="medium", subjects=["Jun"]), 1, scene)
    assert (spec.value.beat, spec.value.subjects) == (1, [])


def test_a_stored_design_that_todays_types_reject_is_repaired_not_used() -> None:
    good = CharacterDesign(name="Mei", voice=Voice(variant="f2", pitch=50, speed=170))
    record = Character(id="chr-1", design=good).model_dump(mode="json")
    record["design"]["voice"]["variant"] = "沈月"
    record["design"]["hair_colour"] = "er"
    template = Character(id="chr-1", design=good.model_copy(update={"hair_colour": "#111111"}))
    checked = repair_record(Character, record, template)
    assert checked.ok and checked.value.design.voice.variant == "f2"
    assert checked.value.design.hair_colour == "#111111"
    assert {i.where for i in checked.repairs} == {"design.voice.variant", "design.hair_colour"}


# -- the dispatcher: cache keys, repair, stop ----------------------------------------------------


def test_a_cached_answer_is_only_for_the_same_model_and_episode() -> None:
    messages = [HumanMessage("idea")]
    base = call_key("write", "local-llm", "ep01", ScriptDraft, messages, 0)
    assert base == call_key("write", "local-llm", "ep01", ScriptDraft, messages, 0)
    assert base != call_key("write", "offline-text", "ep01", ScriptDraft, messages, 0)
    assert base != call_key("write", "local-llm", "ep02", ScriptDraft, messages, 0)


def _dispatch(root: Path, base_url: str, fallback: bool) -> Dispatch:
    roster = Roster.default().merged(
        [
            {
                "id": "local-llm",
                "capability": "text",
                "provider": "openai",
                "model": "m",
                "base_url": base_url,
                "api_key_env": "K",
                "tier": 3,
                "tasks": ["write"],
            }
        ]
    )
    router = Router(roster, environ={"K": "k"}, offline_fallback=fallback, sleep=lambda _: None)
    return Dispatch(
        router, Ledger(root / "ledger.sqlite"), [("episode", "e1")], 0, environ={"K": "k"}
    )


def test_no_usable_answer_stops_naming_the_agent_model_and_problem(tmp_path: Path) -> None:
    bare = {"title": "T", "scenes": [{**SCENE, "beats": [{"kind": "action", "text": " "}]}]}
    messages = [SystemMessage("Write."), HumanMessage("<idea>rain</idea>")]
    with FakeOpenAI(answer=lambda *_: bare) as server:
        calls = _dispatch(tmp_path, server.base_url, fallback=False)
        with pytest.raises(UnusableAnswer) as stop:
            calls.structured(
                "screenwriter",
                ScriptDraft,
                messages,
                check=lambda d: validate_script_draft(d, "en"),
            )
        asked = len(server.requests_to("chat"))
    message = str(stop.value)
    assert "screenwriter" in message and "local-llm" in message and "nothing to shoot" in message
    assert asked == 2  # the answer, and one repair request with the findings


def test_an_unusable_answer_falls_back_and_the_answer_says_who_gave_it(tmp_path: Path) -> None:
    bare = {"title": "T", "scenes": [{**SCENE, "beats": [{"kind": "action", "text": " "}]}]}
    messages = [SystemMessage("Write."), HumanMessage("<idea>Mei finds a bottle.</idea>")]
    with FakeOpenAI(answer=lambda *_: bare) as server:
        calls = _dispatch(tmp_path, server.base_url, fallback=True)
        answer = calls.structured(
            "screenwriter", ScriptDraft, messages, check=lambda d: validate_script_draft(d, "en")
        )
    assert answer.model_id == "offline-text" and answer.value.scenes


def test_a_design_that_looks_like_someone_already_cast_is_told_apart() -> None:
    voice = {"variant": "f2", "pitch": 50, "speed": 170}
    look = {"hair_style": "short", "hair_colour": "#222222", "outfit_colour": "#335577"}
    mei = validate_character(CharacterDraft.model_validate({**look, "voice": voice}), "Mei").value
    twin = CharacterDraft.model_validate({**look, "outfit_colour": "#365a79", "voice": voice})
    checked = validate_character(twin, "Aiko", [mei])
    aiko = checked.value
    assert aiko.outfit_colour != mei.outfit_colour and aiko.hair_colour == mei.hair_colour
    assert "looks like Mei" in str(checked.repairs[0])
    other = CharacterDraft.model_validate({**look, "hair_style": "bun", "voice": voice})
    assert validate_character(other, "Jun", [mei]).value.outfit_colour == "#335577"


def test_a_set_element_of_an_impossible_size_gets_its_kinds_usual_size() -> None:
    bench = {"kind": "bench", "x": 6, "width": 12, "height": 128.5, "layer": "midground"}
    lamp = {"kind": "lamp", "x": 2, "y": 2.2, "width": 0.4, "height": 0.6}
    room = LocationDraft.model_validate({"lighting": {}, "elements": [bench, lamp]})
    checked = validate_location(room, "Tea House", interior=True)
    fixed, kept = checked.value.elements
    assert (fixed.width, fixed.height, fixed.y) == (1.8, 0.5, 0.0)
    assert kept == room.elements[1]


def test_a_name_with_stray_punctuation_or_in_lower_case_is_the_same_character() -> None:
    scene = {**SCENE, "characters": ["mei,"], "beats": [{"kind": "action", "text": "Rain."}]}
    script = validate_script_draft(draft(characters=["Mei"], scenes=[scene]), "en").value
    assert script.characters == ["Mei"] and script.scenes[0].characters == ["Mei"]
