"""Benchmark: an episode on simulated hosted providers, against the critical-path bound.

Usage: python bench/concurrency.py [--length 60] [--scale 0.25] [--seed 0]

Every model call first waits as long as a hosted one would (`LatencyModel`: text 3 s,
image 8 s, video 40 s, speech 1 s, times --scale), then does the offline engine's work;
each capability's endpoint allows LIMITS calls in flight (roster overrides in the project's
inkreel.toml). The animate task is the offline motion encoder, standing in for an
image-to-video model. The run's own ledger says which calls were made; from those counts,
the latencies and the limits, `critical_path_bound` gives the least wall time the graph's
stages allow (calls of a stage in waves of the in-flight limit, stages one after another;
characters are designed one after another because each design sees the ones before it).
Local work (drawing, encoding, continuity checks) and retries are not in the bound.
Not a test: it prints figures for the README.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import tempfile
import time
from pathlib import Path

from inkreel.project import Project
from inkreel.providers.limits import LatencyModel, critical_path_bound
from inkreel.run import StageClock, run_episode
from inkreel.schemas.episode import EpisodeRequest
from inkreel.settings import Settings

IDEA = "A lighthouse keeper named Mei finds a message in a bottle from a girl called Aiko."
LIMITS = {"text": 4, "image": 4, "speech": 4, "video": 5}
ENTRIES = {
    "text": "offline-text",
    "image": "offline-image",
    "speech": "offline-speech",
    "video": "offline-video",
}


def episode_bound(
    values: dict, run: dict, latency: LatencyModel
) -> tuple[dict[str, int], float, list[tuple[str, int, int]], int, int, int]:
    """The calls an episode made (from its run.json) and the least wall time they allow:
    (calls per task, bound, stages, characters designed, sets designed, shots)."""
    made: dict[str, int] = {}
    for call in run["calls"]:
        if call["outcome"] == "ok":
            made[call["task"]] = made.get(call["task"], 0) + 1
    shots = len(values["shot_order"])
    scenes = len([s for s in values["script"].scenes if s.beats])
    characters = len(values["cast_new"])
    sets = max(0, made.get("design", 0) - characters)
    revisions = max(0, made.get("keyframe", 0) - shots)  # a keyframe reused: no call
    text = latency.latency("text")
    design_s = max(characters * text, math.ceil(sets / LIMITS["text"]) * text if sets else 0.0)
    stages = [
        ("text", made.get("write", 0), 1),
        ("speech", made.get("voice", 0), 3),
        ("text", scenes, 4),
        ("image", shots, 5),
        ("text", revisions, 6),
        ("image", revisions, 7),
        ("video", made.get("animate", 0), 8),
    ]
    limits: dict = dict(LIMITS)
    bound = design_s + critical_path_bound(stages, limits, latency)
    return made, bound, stages, characters, sets, shots


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=float, default=60.0)
    parser.add_argument("--scale", type=float, default=0.25)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    latency = LatencyModel(scale=args.scale)
    with tempfile.TemporaryDirectory(prefix="inkreel-bench-") as tmp:
        project = Project.open(Path(tmp) / "series")
        (project.root / "inkreel.toml").write_text(
            "".join(
                f'[[models]]\nid = "{ENTRIES[c]}"\nmax_in_flight = {n}\n' for c, n in LIMITS.items()
            )
        )
        settings = Settings.load(project.root, latency_scale=args.scale, concurrency=32)
        request = EpisodeRequest(episode="bench", idea=IDEA, length_s=args.length, seed=args.seed)
        clock = StageClock()
        start = time.perf_counter()
        values = run_episode(
            project, request, {"request": request}, settings=settings, on_update=clock.on_update
        )
        wall = time.perf_counter() - start
        run = json.loads((project.episode_dir("bench") / "run.json").read_text())
    made, bound, stages, characters, sets, shots = episode_bound(values, run, latency)
    stage_s, previous = {}, 0.0
    for node, at in sorted(clock.finished_at.items(), key=lambda kv: kv[1]):
        stage_s[node] = round(at - previous, 2)
        previous = at
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "latency_s": {c: round(latency.latency(c), 2) for c in LIMITS},
        "in_flight_limits": LIMITS,
        "calls": made,
        "shots": shots,
        "episode_runtime_s": round(values["timeline"].duration_s, 2),
        "wall_s": round(wall, 2),
        "critical_path_bound_s": round(bound, 2),
        "wall_over_bound": round(wall / bound, 3),
        "serial_calls_s": round(
            sum(latency.latency(c) * n for c, n, _ in stages)
            + (characters + sets) * latency.latency("text"),
            2,
        ),
        "stage_finished_s": stage_s,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
