"""Benchmark: produce one offline episode and print wall time, peak RSS and time per stage.

Usage: python bench/produce_episode.py [--length 60] [--seed 0]
Not a test: it prints figures for the README; it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import tempfile
import time
from pathlib import Path

from imageio_ffmpeg import get_ffmpeg_exe

from inkreel.media.render import PRESET, VIDEO_PARAMS
from inkreel.project import Project
from inkreel.run import StageClock, run_episode
from inkreel.schemas.episode import EpisodeRequest

IDEA = "A lighthouse keeper named Mei finds a message in a bottle from a girl called Aiko."
ORDER = [
    "write_script",
    "design_cast",
    "record_line",
    "plan_storyboard",
    "render_keyframe",
    "check_continuity",
    "revise_shot",
    "cut_timeline",
    "mix_sound",
    "render_segment",
    "assemble_episode",
]


def encode_floor(still: Path, seconds: float, fps: int, out: Path) -> float:
    """Time ffmpeg encoding `seconds` of one still frame with the episode's codec settings."""
    cmd = [
        get_ffmpeg_exe(),
        "-y",
        "-loglevel",
        "error",
        "-loop",
        "1",
        "-framerate",
        str(fps),
        "-i",
        str(still),
        "-t",
        f"{seconds:.3f}",
        "-c:v",
        "libx264",
        "-preset",
        PRESET,
        *VIDEO_PARAMS,
        str(out),
    ]
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="inkreel-bench-") as tmp:
        project = Project.open(Path(tmp) / "series")
        request = EpisodeRequest(episode="bench", idea=IDEA, length_s=args.length, seed=args.seed)
        clock = StageClock()
        start = time.perf_counter()
        values = run_episode(project, request, {"request": request}, on_update=clock.on_update)
        wall = time.perf_counter() - start
        first = values["keyframes"][values["shot_order"][0]].path
        runtime_s = values["timeline"].duration_s
        floor = encode_floor(
            project.root / first, runtime_s, values["timeline"].fps, Path(tmp) / "floor.mp4"
        )
    stages, previous = {}, 0.0
    for node in ORDER:
        if node in clock.finished_at:
            # Stages that overlap (the mix beside the shot renders) count from the end of
            # the one before; an overlapped one may show 0.
            stages[node] = round(max(0.0, clock.finished_at[node] - previous), 2)
            previous = max(previous, clock.finished_at[node])
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    # From the cut to the delivered file: shot renders, the mix beside them, and assembly.
    done = clock.finished_at
    video_s = done.get("assemble_episode", 0.0) - done.get("cut_timeline", 0.0)
    result = {
        "machine": machine,
        "target_runtime_s": args.length,
        "episode_runtime_s": round(values["timeline"].duration_s, 2),
        "shots": len(values["shot_order"]),
        "wall_s": round(wall, 2),
        "x_realtime": round(wall / values["timeline"].duration_s, 2),
        "peak_rss_mib_python": round(own, 1),
        # Children are the ffmpeg encoders; a child's peak is counted from its fork, so it can
        # include the parent's pages it shared before exec.
        "peak_rss_mib_largest_child": round(children, 1),
        "encode_floor_s": round(floor, 2),
        "video_render_s": round(video_s, 2),
        "video_render_over_floor": round(video_s / floor, 2),
        "wall_over_floor": round(wall / floor, 2),
        "stage_s": stages,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
