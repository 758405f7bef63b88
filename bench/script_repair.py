"""Benchmark: how often the script gate repairs a planted script defect, and what it touches.

Usage: python bench/script_repair.py [--seeds 10] [--max-attempts 3]

For every idea in IDEAS, draft seed and script-level defect type (`plant_text.LEVEL_TYPES`),
the offline story engine's draft gets one planted defect; the screenwriter's gate
(`check_script` -> `revise_script` -> `check_script` ...) runs as in the graph with the
offline reviser. Reported per defect type: cases planted, caught by the first check,
repaired within the limit (no script error left), drafts used, and whether only the planted
scene was rewritten. Not a test: it prints figures for the issue notes and the README.
"""

from __future__ import annotations

import argparse
import platform
import random
import tempfile
import time
from collections import defaultdict
from typing import Any

from langgraph.runtime import Runtime

from inkreel.agents import screenwriter
from inkreel.drills.text_defects import LEVEL_TYPES, plant_text
from inkreel.providers.offline.script import write_script
from inkreel.providers.prompt_io import tag
from inkreel.schemas import Script, StoryboardFile
from inkreel.schemas.episode import EpisodeRequest
from inkreel.services import EpisodeContext, open_services

IDEAS = [
    "A lighthouse keeper named Mei finds a message in a bottle from a girl called Aiko. "
    "Her brother Ren helps.",
    "During a storm, Rosa, Tam and Bo run a noodle stall at the night market.",
    "Kai, the new courier, meets Lena at dawn and loses the sealed letter.",
]


def gate(runtime: Runtime[EpisodeContext], request: EpisodeRequest, script: Script) -> Any:
    state: dict[str, Any] = {"request": request, "script": script}
    while True:
        command = screenwriter.check_script(state, runtime)  # type: ignore[arg-type]
        state |= command.update or {}
        if command.goto == "review_script":
            return state
        state |= screenwriter.revise_script(state, runtime)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--max-attempts", type=int, default=3)
    args = parser.parse_args()
    rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="inkreel-bench-") as folder:
        context = EpisodeContext(
            project=folder,
            episode="bench",
            settings={"continuity_max_attempts": args.max_attempts},
        )
        with open_services(context):
            runtime = Runtime(context=context)
            for idea in IDEAS:
                for seed in range(args.seeds):
                    prompt = tag("idea", idea) + tag("runtime_seconds", "45")
                    draft = Script.model_validate(
                        write_script(prompt + tag("language", "en"), seed)
                    )
                    request = EpisodeRequest(episode="bench", idea=idea, length_s=45, seed=seed)
                    for defect in LEVEL_TYPES["script"]:
                        board = StoryboardFile(shots=[], script=draft)
                        made = plant_text(board, defect, "script", random.Random(seed))
                        if made is None or made[0].script is None:
                            continue
                        bad, truth = made[0].script, made[1]
                        row = rows[defect]
                        row["cases"] += 1
                        row["caught"] += bool(screenwriter.script_findings(bad))
                        state = gate(runtime, request, bad)
                        review = state["script_review"]
                        left = [
                            f
                            for f in screenwriter.script_findings(state["script"])
                            if f.severity == "error"
                        ]
                        row["repaired"] += not left
                        row["drafts"] += review.attempts
                        row["only_that_scene"] += review.scenes_revised == [truth.scene]
    elapsed = time.perf_counter() - started
    print(f"machine: {platform.machine()}, {platform.python_version()}; {elapsed:.1f} s")
    print("| defect | cases | caught | repaired | drafts (mean) | only the planted scene |")
    print("|---|---|---|---|---|---|")
    total: dict[str, int] = defaultdict(int)
    for defect, row in rows.items():
        for key, value in row.items():
            total[key] += value
        print(_line(defect, row))
    print(_line("all", total))


def _line(name: str, row: dict[str, int]) -> str:
    n = max(row["cases"], 1)
    return (
        f"| {name} | {row['cases']} | {row['caught']} | {row['repaired']} | "
        f"{row['drafts'] / n:.2f} | {row['only_that_scene']} |"
    )


if __name__ == "__main__":
    main()
