"""Benchmark: episodes whose every text task is answered by a random schema-valid instance.

Usage: python bench/random_answers.py [--seeds 50] [--first 0] [--length 12] [--keep DIR]
       [--timeout 900]

For each seed, `tests/random_answers.run_episode` runs `inkreel produce` (typer's CliRunner)
on a project whose text tasks (write, design, storyboard) are one hosted
model on the fake OpenAI server of tests/fake_openai.py, answering `RandomAnswers(seed)`:
random instances of the requested JSON schema drawn by hypothesis-jsonschema, with names taken
from the prompt; no fallback to the offline engine (INKREEL_FALLBACK=never). Printed per seed:
completed, stopped (exit 2) with the message's first line, or crashed with the exception and
the innermost inkreel frame; then the share completed, the distinct failures and the wall
time. Each seed runs in a forked child process; one still running after --timeout seconds
is killed and reported as hung, with where it was (its faulthandler stack dump). --keep
DIR keeps every seed's project, its answers (answers.jsonl: schema, request key, answer)
and outcome.txt for a closer look. Not a test:
it exits 0 whatever the outcomes; it prints figures for the issue notes and the README.
"""

from __future__ import annotations

import argparse
import faulthandler
import multiprocessing
import platform
import re
import shutil
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.random_answers import Outcome, describe, run_episode

FORK = multiprocessing.get_context("fork")


def run_bounded(seed: int, root: Path, length: int, timeout: float) -> Outcome:
    """`run_episode` in a forked child (this process's imports, a fresh state each seed),
    killed after `timeout` seconds: a hang can hold the GIL (a regular expression
    backtracking, a C loop), so no thread of this process could time it out. Just before the
    limit the child's faulthandler writes every thread's stack to ROOT/hang.txt."""
    reader, writer = multiprocessing.Pipe(duplex=False)

    def child() -> None:
        root.mkdir(parents=True, exist_ok=True)
        with (root / "hang.txt").open("w") as dump:
            faulthandler.dump_traceback_later(max(1.0, timeout - 5), file=dump)
            try:
                writer.send(
                    run_episode(seed, root / "series", length, journal=root / "answers.jsonl")
                )
            except BaseException as exc:
                detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
                writer.send(Outcome(seed, "crashed", None, describe(detail), 0, traceback=detail))
            faulthandler.cancel_dump_traceback_later()

    process = FORK.Process(target=child, name=f"seed-{seed}")
    process.start()
    writer.close()
    got: Outcome | None = None
    if reader.poll(timeout):
        try:
            got = reader.recv()
        except EOFError:  # the child died without a word (a signal, os._exit)
            got = None
    process.join(10 if got is not None else 0)
    if process.is_alive():
        process.kill()
        process.join()
    if got is not None:
        return got
    if process.exitcode is not None and process.exitcode != -9:
        message = f"the run's process ended with code {process.exitcode} and no outcome"
        return Outcome(seed, "crashed", None, message, 0)
    dump = (root / "hang.txt").read_text() if (root / "hang.txt").exists() else ""
    return Outcome(seed, "hung", None, hang_site(dump, timeout), 0, traceback=dump)


def hang_site(dump: str, timeout: float) -> str:
    """Where a hung run was: the innermost inkreel frame of the thread deepest in inkreel."""
    best = ""
    for block in dump.split("\n\n"):
        ours = re.findall(r'File "([^"]*/inkreel/[^"]+)", line (\d+) in (\S+)', block)
        if ours:
            path, line, func = ours[0]  # faulthandler lists the innermost frame first
            best = best or f"{path[path.rfind('/inkreel/') + 1 :]}:{line} ({func})"
    return f"still running after {timeout:.0f} s at {best or 'no inkreel frame'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--first", type=int, default=0, help="first seed")
    parser.add_argument("--length", type=int, default=12)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per seed")
    parser.add_argument("--keep", type=Path, default=None, help="keep projects under DIR")
    args = parser.parse_args()
    seeds = range(args.first, args.first + args.seeds)
    outcomes: list[Outcome] = []
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="inkreel-random-")) if args.keep is None else args.keep
    try:
        for seed in seeds:
            root = work / f"seed-{seed:03d}"
            t0 = time.perf_counter()
            outcome = run_bounded(seed, root, args.length, args.timeout)
            took = time.perf_counter() - t0
            outcomes.append(outcome)
            if args.keep is not None:
                (root / "outcome.txt").write_text(
                    f"{outcome.status} {outcome.exit_code}\n{outcome.message}\n\n"
                    f"{outcome.traceback}\n{outcome.output}"
                )
            print(
                f"seed {seed:3d}  {outcome.status:<12} {took:6.1f} s  {outcome.requests:3d} req"
                f" ({outcome.answer_s:4.1f} s drawing)"
                f"  {outcome.first_line[:160]}",
                flush=True,
            )
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    wall = time.perf_counter() - started
    statuses = Counter(o.status for o in outcomes)
    ran = len(outcomes)
    done = statuses["completed"]
    print()
    print(f"{platform.machine()}, Python {platform.python_version()}, --length {args.length}")
    print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    print(f"completed: {done}/{ran} = {done / max(ran, 1):.0%}")
    failures = Counter(o.first_line for o in outcomes if o.status not in ("completed",))
    if failures:
        print("distinct stops and failures (count, status, first line):")
        kinds = {o.first_line: o.status for o in outcomes}
        for line, n in failures.most_common():
            print(f"  {n:3d}  {kinds[line]:<12} {line[:200]}")
    drawing = sum(o.answer_s for o in outcomes)
    print(
        f"wall time: {wall:.0f} s ({wall / max(ran, 1):.1f} s per seed; "
        f"{drawing:.0f} s drawing random answers)"
    )


if __name__ == "__main__":
    main()
