"""Benchmark: an evaluation run over the whole shipped dataset under two configurations.

Usage: python bench/eval_dataset.py [--dataset evals/datasets/inkreel-12] [--jobs 2]
                                    [--out DIR] [--plant script --plant storyboard]

Runs `inkreel eval run` in a child process on the offline engine, with the configurations
`default` (the defaults) and `one-attempt` (`continuity_max_attempts = 1`: a shot continuity
flags is left for a person instead of redrawn), while this process samples the resident memory
of the child's whole process tree (the run, its worker processes, their eSpeak helpers and
ffmpeg encoders) from /proc every 50 ms (`long_episode.TreeSampler`). Then it writes the
comparison report. It prints the wall time of every cell (production and scoring), the run's
wall time and the peak RSS of the tree. Not a test: it prints figures for the README.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from long_episode import TreeSampler

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=ROOT / "evals/datasets/inkreel-12")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=None, help="Keep the run here.")
    parser.add_argument("--plant", action="append", default=None, help="Planted levels.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="inkreel-eval-bench-"))
    out = args.out or work / "run"
    one = work / "one-attempt.toml"
    one.write_text("continuity_max_attempts = 1\n", encoding="utf-8")
    command = [sys.executable, "-m", "inkreel.cli", "eval", "run", str(args.dataset)]
    command += ["--out", str(out), "--config", "default=", "--config", f"one-attempt={one}"]
    command += ["--jobs", str(args.jobs)]
    for level in args.plant or []:
        command += ["--plant", level]
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    sampler = TreeSampler(child.pid)
    sampler.start()
    _, errors = child.communicate()
    wall = time.perf_counter() - started
    sampler.done.set()
    sampler.join()
    if child.returncode != 0:
        sys.exit(f"eval run failed ({child.returncode}):\n{errors.decode(errors='replace')}")
    report = subprocess.run(
        [sys.executable, "-m", "inkreel.cli", "eval", "report", str(out), "--out", str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    cells = [json.loads(p.read_text("utf-8")) for p in sorted(out.glob("cells/*/*/cell.json"))]
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"dataset: {args.dataset} ({len(cells) // 2} items x 2 configurations, {args.jobs} jobs)")
    print(f"{'config':12} {'item':6} {'status':7} {'wall s':>7}")
    for cell in cells:
        print(f"{cell['config']:12} {cell['item']:6} {cell['status']:7} {cell['wall_s']:7.1f}")
    per_cell = [c["wall_s"] for c in cells]
    print(
        f"cells: {len(cells)}, mean {sum(per_cell) / len(per_cell):.1f} s, "
        f"min {min(per_cell):.1f} s, max {max(per_cell):.1f} s (in parallel, {args.jobs} jobs)"
    )
    print(
        f"run wall: {wall:.1f} s; peak RSS of the process tree: {sampler.peak_kib / 1024:.0f} MiB"
    )
    print(report.stdout.strip())


if __name__ == "__main__":
    main()
