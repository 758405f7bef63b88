"""A run that dies inside any fan-out node resumes from its checkpoint to a delivered episode."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from inkreel.agents import director, editor
from inkreel.graphs import episode
from inkreel.project import Project
from inkreel.run import episode_state, run_episode
from inkreel.schemas.episode import EpisodeRequest

from .conftest import IDEA

# Every node that takes a Send payload, with the module the graph finds it in when it is built.
SEND_NODES: dict[str, Any] = {
    "record_line": director,
    "render_keyframe": director,
    "revise_shot": director,
    "redraw_sheet": episode,
    "render_segment": editor,
}


class Died(RuntimeError):
    """Stands for the process dying inside the node (not a fault the graph retries)."""


def dies_once(name: str, node: Callable[..., Any], died: list[str], lock: threading.Lock) -> Any:
    def once(task: Any, runtime: Any) -> Any:
        with lock:
            first = name not in died
            if first:
                died.append(name)
        if first:
            raise Died(f"killed in {name}")
        return node(task, runtime)

    return once


def test_a_run_killed_at_each_send_node_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # At drift rate 1 the drill drifts sheets and keyframes, so shots are revised and a
    # sheet redrawn: every fan-out node runs.
    monkeypatch.setenv("INKREEL_DRIFT_RATE", "1")
    monkeypatch.setenv("INKREEL_DRIFT_SEED", "3")
    died: list[str] = []
    lock = threading.Lock()
    for name, module in SEND_NODES.items():
        monkeypatch.setattr(module, name, dies_once(name, getattr(module, name), died, lock))
    project = Project.open(tmp_path / "p")
    request = EpisodeRequest(
        episode="ep01",
        idea=IDEA,
        length_s=16,
        language="en",
        seed=0,
        settings={"continuity_max_attempts": 2},
    )
    first: dict[str, Any] | None = {"request": request}
    runs = 0
    while True:
        runs += 1
        assert runs <= len(SEND_NODES) + 1, "the run did not get past its deaths"
        try:
            values = run_episode(project, request, first)
            break
        except Died:
            first = None  # from here on: resume from the checkpoint
            # The checkpoint holds the pending Sends of the node that died (SheetTask, ...).
            assert episode_state(project, "ep01").next
    assert sorted(died) == sorted(SEND_NODES)
    assert runs == len(SEND_NODES) + 1
    assert values["continuity"].sheets_redrawn  # the redraw really happened after a death
    assert (project.root / "episodes/ep01/manifest.json").exists()
