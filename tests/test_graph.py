"""Graph wiring: every graph in langgraph.json compiles; the continuity loop repairs a shot."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

from langgraph.runtime import Runtime
from langgraph.types import Send

from inkreel.agents import continuity, director
from inkreel.agents.character_designer import design_cast
from inkreel.agents.screenwriter import write_script
from inkreel.graphs.checkpoint import checkpoint_types
from inkreel.schemas.episode import EpisodeRequest
from inkreel.services import EpisodeContext, services

ROOT = Path(__file__).resolve().parents[1]


def test_every_graph_in_langgraph_json_compiles() -> None:
    spec = json.loads((ROOT / "langgraph.json").read_text())
    assert spec["graphs"], "langgraph.json exposes no graph"
    for name, target in spec["graphs"].items():
        path, attr = target.split(":")
        module = ".".join(Path(path).with_suffix("").parts).lstrip(".")
        graph = getattr(importlib.import_module(module), attr)
        nodes = set(graph.get_graph().nodes)
        expected = {
            "episode": {"write_script", "design_cast", "check_continuity", "assemble_episode"},
            "chat": {"turn", "gate"},
        }
        assert expected[name] <= nodes, name


def _storyboard(runtime: Runtime[EpisodeContext], request: EpisodeRequest) -> dict:
    state: dict = {"request": request}
    state |= write_script(state, runtime)  # type: ignore[arg-type]
    state |= design_cast(state, runtime)  # type: ignore[arg-type]
    takes: dict = {}
    for task in director.line_tasks(state):  # type: ignore[arg-type]
        takes |= director.record_line(task, runtime)["takes"]
    state["takes"] = takes
    state |= director.plan_storyboard(state, runtime)  # type: ignore[arg-type]
    cast = {n: c.design for n, c in state["cast"].items()}
    keyframes: dict = {}
    for shot_id in state["shot_order"]:
        shot = state["shots"][shot_id]
        task = director.ShotTask(
            shot=shot,
            location=state["locations"][shot.location].design,
            cast=cast,
            seed=request.seed,
        )
        keyframes |= director.render_keyframe(task, runtime)["keyframes"]
    state["keyframes"] = keyframes
    return state


def test_nodes_produce_a_clean_storyboard_that_passes_continuity(
    runtime: Runtime[EpisodeContext], request_15s: EpisodeRequest
) -> None:
    state = _storyboard(runtime, request_15s)
    assert set(state["cast_new"]) >= {"Mei", "Aiko"}
    spoken = [b for _, b in state["script"].dialogue()]
    assert len(state["takes"]) == len(spoken)
    assert sum(1 for s in state["shots"].values() if s.speaker) == len(spoken)
    command = continuity.check_continuity(state, runtime)  # type: ignore[arg-type]
    assert command.goto == "cut_timeline"
    assert command.update["continuity"].passed


def test_a_flipped_shot_goes_back_to_the_director_and_is_repaired(
    runtime: Runtime[EpisodeContext], request_15s: EpisodeRequest
) -> None:
    state = _storyboard(runtime, request_15s)
    order = state["shot_order"]
    # Plant a jump over the line: the first two-character shot after another one, reversed.
    target = next(
        sid
        for i, sid in enumerate(order[1:], 1)
        if state["shots"][sid].scene == state["shots"][order[i - 1]].scene
        and len(state["shots"][sid].blocking) > 1
        and len(state["shots"][order[i - 1]].blocking) > 1
    )
    shot = state["shots"][target]
    spec = director.ShotSpec(
        beat=shot.beat,
        framing=shot.framing,
        angle=shot.angle,
        subjects=[b.character for b in shot.blocking],
        reverse=True,
    )
    location = state["locations"][shot.location].design
    positions = {b.character: b.world_x for b in shot.blocking}
    heights = {n: c.design.height for n, c in state["cast"].items()}
    bad = director._restage(shot, spec, location, positions, heights)
    state["shots"] = {**state["shots"], target: bad}
    cast = {n: c.design for n, c in state["cast"].items()}
    state["keyframes"] = {
        **state["keyframes"],
        target: director.draw_keyframe(
            services(runtime), director.ShotTask(shot=bad, location=location, cast=cast, seed=0)
        )[0],
    }

    events: list[tuple[str, dict]] = []
    runtime = Runtime(
        context=runtime.context,
        stream_writer=lambda e: events.append((e.pop("event"), e)),
    )
    command = continuity.check_continuity(state, runtime)  # type: ignore[arg-type]
    # Progress: the image checks of every shot, one event each, in storyboard order.
    progress = [e for e in events if e[0] in ("checking", "checked")]
    assert progress == [("checking", {"shots": len(order)})] + [
        ("checked", {"shot_id": sid}) for sid in order
    ]
    sends = command.goto
    assert isinstance(sends, list) and [s.arg.shot.id for s in sends] == [target]
    assert all(isinstance(s, Send) and s.node == "revise_shot" for s in sends)
    report = command.update["continuity"]
    assert {f.check for f in report.findings} == {"line_crossed"}

    fixed = director.revise_shot(sends[0].arg, runtime)
    assert fixed["shots"][target].camera.reverse is False
    assert fixed["shots"][target].revision == 1
    state["shots"] = {**state["shots"], **fixed["shots"]}
    state["keyframes"] = {**state["keyframes"], **fixed["keyframes"]}
    state["attempts"] = command.update["attempts"]
    state["findings_log"] = command.update["findings_log"]
    state["takes_seen"] = command.update["takes_seen"]
    events.clear()
    again = continuity.check_continuity(state, runtime)  # type: ignore[arg-type]
    assert again.goto == "cut_timeline"
    # The second round checks only the redrawn shot again.
    assert [e for e in events if e[0] in ("checking", "checked")] == [
        ("checking", {"shots": 1}),
        ("checked", {"shot_id": target}),
    ]
    outcome = {s.shot_id: s for s in again.update["continuity"].shots}[target]
    assert outcome.status == "repaired" and outcome.attempts == 2


def test_a_shot_that_cannot_be_fixed_is_flagged_at_the_limit(
    runtime: Runtime[EpisodeContext], request_15s: EpisodeRequest
) -> None:
    state = _storyboard(runtime, request_15s)
    speaking = next(s for s in state["shots"].values() if s.speaker)
    # Make the speaker invisible in the keyframe: no retry can draw a face that is not there.
    kf = state["keyframes"][speaking.id]
    hidden = kf.model_copy(
        update={"figures": [f for f in kf.figures if f.character != speaking.speaker]}
    )
    state["keyframes"] = {**state["keyframes"], speaking.id: hidden}
    limit = services(runtime).settings.continuity_max_attempts
    state["attempts"] = {speaking.id: limit}
    command = continuity.check_continuity(state, runtime)  # type: ignore[arg-type]
    assert command.goto == "cut_timeline"
    report = command.update["continuity"]
    assert not report.passed
    outcome = {s.shot_id: s for s in report.shots}[speaking.id]
    assert outcome.status == "flagged" and outcome.attempts == limit


def test_langgraph_json_allows_exactly_the_checkpoint_types() -> None:
    """A LangGraph server restores the graph's models from its checkpoints only if
    langgraph.json lists them; the list is the one the project's own checkpointer uses."""
    config = json.loads((Path(__file__).parents[1] / "langgraph.json").read_text())
    listed = [tuple(t) for t in config["checkpointer"]["serde"]["allowed_msgpack_modules"]]
    assert listed == checkpoint_types(), (
        "langgraph.json is stale: set checkpointer.serde.allowed_msgpack_modules to "
        "inkreel.graphs.checkpoint.checkpoint_types()"
    )
