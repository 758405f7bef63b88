"""Which artifacts are current, stale or missing, from the episode's state."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from inkreel.graphs.checkpoint import open_checkpointer
from inkreel.graphs.episode import build_episode_graph
from inkreel.project import Project
from inkreel.run import run_episode, thread_config
from inkreel.schemas.episode import EpisodeRequest
from inkreel.status import episode_status

from .conftest import IDEA


def update(project: Project, values: dict) -> None:
    """Change the state as a LangGraph client would: JSON, through update_state."""
    with open_checkpointer(project) as saver:
        graph = build_episode_graph().compile(checkpointer=saver)
        graph.update_state(thread_config("ep01"), values, as_node="review_cut")


def test_status_follows_the_state(tmp_path: Path) -> None:
    project = Project.open(tmp_path / "p")
    request = EpisodeRequest(episode="ep01", idea=IDEA, length_s=15, language="en", seed=3)
    values = run_episode(project, request, {"request": request})
    rows = episode_status(project, "ep01")
    assert {r.state for r in rows} == {"current"}
    kinds = Counter(r.kind for r in rows)
    assert kinds["voice_take"] == len(values["takes"])
    assert kinds["keyframe"] == len(values["shot_order"])
    assert kinds["shot_segment"] == len(values["timeline"].video)
    assert kinds["audio_mix"] == 1

    # Another seed (or model) alone makes nothing stale.
    update(project, {"request": request.model_copy(update={"seed": 9}).model_dump(mode="json")})
    assert [r for r in episode_status(project, "ep01") if r.state != "current"] == []

    # A client restages one shot without drawing it: its keyframe and clip are stale.
    target = values["shot_order"][1]
    shot = values["shots"][target].model_dump(mode="json")
    update(project, {"shots": {target: {**shot, "angle": "low"}}})
    # A clip file lost on disk is missing.
    lost = values["shot_order"][-1]
    (project.root / values["segments"][lost]).unlink()
    changed = {
        (r.kind, r.name, r.state) for r in episode_status(project, "ep01") if r.state != "current"
    }
    assert {(k, n) for k, n, s in changed if s == "stale"} >= {
        ("keyframe", target),
        ("shot_segment", target),
    }
    assert {(k, n) for k, n, s in changed if s == "stale"} <= {
        ("keyframe", target),
        ("shot_segment", target),
        ("shot_segment", values["shot_order"][0]),  # if it dissolves into the restaged shot
    }
    assert ("shot_segment", lost, "missing") in changed
