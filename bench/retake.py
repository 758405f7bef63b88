"""Benchmark: a retake of one shot and an edit of one line, against the full render.

Usage: python bench/retake.py [--length 60] [--seed 0]

Produces an offline episode (timed), then in the same process retakes one speaking shot as a
close-up (timed) and gives one line new words (timed), through the library API the CLI uses
(`run.change_episode`). Prints the three wall times, the ratios to the full render and what
each change made again (stages by time). Not a test: it asserts nothing about speed.
Target: each change at most 10 % of the full render's wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from inkreel.project import Project
from inkreel.run import StageClock, change_episode, run_episode
from inkreel.schemas import LineEdit, Retake
from inkreel.schemas.episode import EpisodeRequest

IDEA = "A lighthouse keeper named Mei finds a message in a bottle from a girl called Aiko."


def stages(clock: StageClock) -> dict[str, float]:
    """Seconds each node took, as the clock saw its last update (in order of finishing)."""
    out, previous = {}, 0.0
    for node, at in sorted(clock.finished_at.items(), key=lambda kv: kv[1]):
        out[node] = round(at - previous, 2)
        previous = at
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="inkreel-bench-") as tmp:
        project = Project.open(Path(tmp) / "series")
        request = EpisodeRequest(episode="bench", idea=IDEA, length_s=args.length, seed=args.seed)
        start = time.perf_counter()
        values = run_episode(project, request, {"request": request})
        full = time.perf_counter() - start
        target = next(
            i
            for i in values["shot_order"]
            if values["shots"][i].speaker and values["shots"][i].framing != "close_up"
        )
        timed: dict[str, dict[str, object]] = {}
        changes = {
            "retake": ([Retake(shot=target, framing="close_up")], []),
            "edit_line": ([], [LineEdit(line=2, text="The lamp is lit, and I am not leaving.")]),
        }
        for name, (retakes, edits) in changes.items():
            clock = StageClock()
            start = time.perf_counter()
            change_episode(project, "bench", retakes, edits, on_update=clock.on_update)
            wall = time.perf_counter() - start
            timed[name] = {
                "wall_s": round(wall, 2),
                "of_full": round(wall / full, 3),
                "stages_s": stages(clock),
            }
    figures = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "episode_runtime_s": round(values["timeline"].duration_s, 1),
        "shots": len(values["shot_order"]),
        "full_render_wall_s": round(full, 2),
        "retaken_shot": target,
        **timed,
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
