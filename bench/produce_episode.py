"""Benchmark: produce one offline episode and print wall time, peak RSS and time per stage.

Usage: python bench/produce_episode.py [--length 60] [--seed 0]
Not a test: it prints figures for the README; it asserts nothing about speed.

The floor is ffmpeg encoding the episode's own frames with the line's codec settings, from
raw RGB decoded beforehand (untimed); the old floor (one still looped through ffmpeg) is kept,
labelled, for comparison. Peak memory is of the whole process tree (the encoders too).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import imageio_ffmpeg
import psutil
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


def still_loop_floor(still: Path, seconds: float, fps: int, out: Path) -> float:
    """The old floor, kept for comparison: ffmpeg encoding one still looped (`-loop 1`), which
    decodes the PNG again for every frame (inflating it) and shows no motion (deflating it)."""
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


def honest_floor(episode: Path, work: Path) -> tuple[float, tuple[int, int], int]:
    """The time ffmpeg takes to encode the episode's own frames with the line's codec
    settings, from raw RGB decoded beforehand (untimed): what no line can beat."""
    raw = work / "frames.rgb"
    frames = imageio_ffmpeg.read_frames(str(episode))
    meta = next(frames)
    frames.close()
    width, height = meta["size"]
    fps = round(meta["fps"])
    decode = [get_ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(episode)]
    decode += ["-f", "rawvideo", "-pix_fmt", "rgb24", str(raw)]
    subprocess.run(decode, check=True)
    encode = [get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo"]
    encode += ["-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", str(fps), "-i", str(raw)]
    encode += ["-c:v", "libx264", "-preset", PRESET, *VIDEO_PARAMS, str(work / "floor.mp4")]
    start = time.perf_counter()
    subprocess.run(encode, check=True)
    took = time.perf_counter() - start
    raw.unlink()
    return took, (width, height), fps


class TreeMemory:
    """Peak resident memory of this process and all its descendants together, sampled."""

    def __init__(self, every_s: float = 0.05) -> None:
        self.peak = 0
        self._every = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_info().rss
            self.peak = max(self.peak, total)
            self._stop.wait(self._every)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _cpu_s() -> float:
    """CPU seconds of this process and its finished children (the encoders)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="inkreel-bench-") as tmp:
        project = Project.open(Path(tmp) / "series")
        request = EpisodeRequest(episode="bench", idea=IDEA, length_s=args.length, seed=args.seed)
        clock = StageClock()
        cpu_before = _cpu_s()
        with TreeMemory() as memory:
            start = time.perf_counter()
            values = run_episode(project, request, {"request": request}, on_update=clock.on_update)
            wall = time.perf_counter() - start
        cpu = _cpu_s() - cpu_before
        first = values["keyframes"][values["shot_order"][0]].path
        runtime_s = values["timeline"].duration_s
        episode = project.root / "episodes" / "bench" / "episode.mp4"
        floor, size, fps = honest_floor(episode, Path(tmp))
        old_floor = still_loop_floor(
            project.root / first, runtime_s, values["timeline"].fps, Path(tmp) / "old.mp4"
        )
    stages, previous = {}, 0.0
    for node in ORDER:
        if node in clock.finished_at:
            # Stages that overlap (the mix beside the shot renders) count from the end of
            # the one before; an overlapped one may show 0.
            stages[node] = round(max(0.0, clock.finished_at[node] - previous), 2)
            previous = max(previous, clock.finished_at[node])
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    # From the cut to the delivered file: shot renders, the mix beside them, and assembly.
    done = clock.finished_at
    video_s = done.get("assemble_episode", 0.0) - done.get("cut_timeline", 0.0)
    result = {
        "machine": machine,
        "target_runtime_s": args.length,
        "episode_runtime_s": round(runtime_s, 2),
        "frames": f"{size[0]}x{size[1]} at {fps} fps",
        "shots": len(values["shot_order"]),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 1),
        "x_realtime": round(wall / runtime_s, 2),
        "peak_rss_mib_process_tree": round(memory.peak / 2**20, 1),
        "encode_floor_s": round(floor, 2),
        "wall_over_floor": round(wall / floor, 2),
        "video_render_s": round(video_s, 2),
        "video_render_over_floor": round(video_s / floor, 2),
        "old_still_loop_floor_s": round(old_floor, 2),
        "stage_s": stages,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
