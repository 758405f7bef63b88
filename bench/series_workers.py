"""Benchmark: a series of short episodes on 1, 2 and 3 worker processes, against its bound.

Usage: python bench/series_workers.py --database postgresql://... --memory http://...
           [--episodes 6] [--length 12] [--scale 0.25] [--workers 1,2,3] [--concurrency 1]

Needs a PostgreSQL server and a chroma server (e.g. the ones `.ci/run` starts; every run
makes a new project, so a new schema, queue and collections). Every model call waits as long
as a hosted one would (`LatencyModel`, times --scale; see bench/concurrency.py), then does the
offline engine's work. The episodes are queued with `inkreel batch --queue` and made by N
`inkreel worker --until-empty` processes; wall time runs from the first worker's start to the
last one's exit. Two lower bounds: the calls' (each episode's critical-path bound from its
calls, the latencies and the in-flight limits, as bench/concurrency.py computes it; for the
series the larger of the longest episode's, their sum over N workers, since no schedule of
whole episodes on N workers does better, and the waves of each capability's calls of the whole
series through its endpoint's in-flight slots, which the workers share, from the soonest any
episode can make its first call of that capability), and the local
work's (the workers' CPU time, over the machine's cores). The figure is wall over the larger
of the two. Not a test: it prints figures for the README.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from concurrency import ENTRIES, LIMITS, episode_bound

from inkreel.project import Project
from inkreel.providers.limits import LatencyModel, critical_path_bound
from inkreel.run import episode_state

QUEUE = ["--queue", "--workers-later"]  # the workers start after
IDEAS = [
    "A lighthouse keeper named Mei finds a message in a bottle from a girl called Aiko.",
    "Mei and Aiko repair the lighthouse lamp before the storm.",
    "Mei teaches Aiko to read the stars from the lighthouse gallery.",
    "Aiko's father comes to the lighthouse looking for Aiko, and Mei hides her.",
    "Mei and Aiko row to the island market in the fog.",
    "Aiko leaves the lighthouse on the morning ferry and Mei waves goodbye.",
]


def run_series(args: argparse.Namespace, workers: int, root: Path) -> dict[str, object]:
    root.mkdir(parents=True)
    limits = "".join(
        f'[[models]]\nid = "{ENTRIES[c]}"\nmax_in_flight = {n}\n' for c, n in LIMITS.items()
    )
    (root / "inkreel.toml").write_text(
        f"latency_scale = {args.scale}\nconcurrency = 32\n"
        f'[storage]\ndatabase = "{args.database}"\nmemory = "{args.memory}"\n' + limits,
        encoding="utf-8",
    )
    night = root.parent / f"night-{root.name}.txt"
    night.write_text("\n".join(IDEAS[: args.episodes]) + "\n", encoding="utf-8")
    inkreel = [sys.executable, "-m", "inkreel.cli"]
    subprocess.run(
        [*inkreel, "batch", str(night), "-o", str(root), *QUEUE, "--length", str(args.length)],
        check=True,
        capture_output=True,
    )
    until_empty = ["--until-empty", "--concurrency", str(args.concurrency)]
    cpu_before = _children_cpu_s()
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [*inkreel, "worker", "-o", str(root), *until_empty],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    codes = [p.wait() for p in procs]
    wall = time.perf_counter() - start
    cpu = _children_cpu_s() - cpu_before
    if any(codes):
        raise SystemExit(f"a worker failed: exit codes {codes}")
    project = Project.open(root)
    latency = LatencyModel(scale=args.scale)
    bounds = []
    per_capability: dict[str, int] = {}
    earliest: dict[str, float] = {}  # the soonest any episode can make its first call of each
    for n in range(1, args.episodes + 1):
        name = f"ep{n:02d}"
        run = json.loads((root / "episodes" / name / "run.json").read_text("utf-8"))
        values = episode_state(project, name).values
        _, bound, stages, characters, sets, _ = episode_bound(values, run, latency)
        bounds.append(bound)
        design_s = bound - critical_path_bound(stages, dict(LIMITS), latency)
        calls = [*stages, ("text", characters + sets, 2)]
        for capability, count, _ in calls:
            per_capability[capability] = per_capability.get(capability, 0) + count
        for capability in {c for c, count, _ in calls if count}:
            first = min(stage for c, count, stage in calls if c == capability and count)
            before = [call for call in stages if call[2] < first]
            start = critical_path_bound(before, dict(LIMITS), latency)
            start += design_s if first > 2 else 0.0
            earliest[capability] = min(earliest.get(capability, math.inf), start)
    # The endpoints' limits are the workers' together: each capability's calls of the whole
    # series go through its in-flight slots in waves, from the soonest any episode gets there.
    through = max(
        earliest[c] + math.ceil(n / LIMITS[c]) * latency.latency(c)
        for c, n in per_capability.items()
        if n
    )
    calls_bound = max(max(bounds), sum(bounds) / (workers * args.concurrency), through)
    # Nor can the local work (drawing, encoding, checks) take less than its CPU time spread
    # over every core of the machine.
    bound = max(calls_bound, cpu / (os.cpu_count() or 1))
    return {
        "workers": workers,
        "concurrency": args.concurrency,
        "wall_s": round(wall, 2),
        "calls_bound_s": round(calls_bound, 2),
        "shared_endpoints_bound_s": round(through, 2),
        "worker_cpu_s": round(cpu, 1),
        "bound_s": round(bound, 2),
        "wall_over_calls_bound": round(wall / calls_bound, 3),
        "wall_over_bound": round(wall / bound, 3),
        "episode_bounds_s": [round(b, 2) for b in bounds],
    }


def _children_cpu_s() -> float:
    """CPU seconds (user and system) of this process's finished children so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--memory", required=True)
    parser.add_argument("--episodes", type=int, default=6)
    parser.add_argument("--length", type=float, default=12.0)
    parser.add_argument("--scale", type=float, default=0.25)
    parser.add_argument("--workers", default="1,2,3")
    parser.add_argument("--concurrency", type=int, default=1, help="episodes at once per worker")
    args = parser.parse_args()
    latency = LatencyModel(scale=args.scale)
    rows = []
    with tempfile.TemporaryDirectory(prefix="inkreel-series-") as tmp:
        for run, workers in enumerate(int(w) for w in args.workers.split(",")):
            rows.append(run_series(args, workers, Path(tmp) / f"series-{run}-{workers}"))
            print(json.dumps(rows[-1]), flush=True)
    print(
        json.dumps(
            {
                "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                f"Python {platform.python_version()}",
                "episodes": args.episodes,
                "length_s": args.length,
                "latency_s": {c: round(latency.latency(c), 2) for c in LIMITS},
                "runs": rows,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
