"""Benchmark: the asset memory's resolution threshold, measured on its labelled pairs.

Usage: python bench/memory_threshold.py [--calibration PATH] [--step 0.02] [--pairs]

Scores every pair of `inkreel/memory/calibration.toml` (a name and what is known of it against
a stored asset: the same asset written differently, or another person or place described
alike) with the resolver's score (`matching.match_score`), then prints, for each candidate
threshold, the false merges (different assets at or above it: two people made one) and the
missed matches (the same asset below it: a set or character designed again), and the
threshold `choose_threshold` picks. With --pairs, every pair's score too. Not a test: it
prints the table in the README; a test checks the file's threshold is the one chosen here.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from inkreel.memory.matching import (
    CALIBRATION,
    choose_threshold,
    errors_at,
    load_calibration,
    name_score,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibration", type=Path, default=CALIBRATION)
    parser.add_argument("--step", type=float, default=0.02)
    parser.add_argument("--pairs", action="store_true", help="Print every pair's score.")
    args = parser.parse_args()
    calibration = load_calibration(args.calibration)
    pairs = calibration.pairs
    same = [p for p in pairs if p.same]
    different = [p for p in pairs if not p.same]
    print(f"{len(pairs)} pairs: {len(same)} the same asset, {len(different)} another one")
    if args.pairs:
        for p in sorted(pairs, key=lambda p: p.score):
            print(
                f"  {p.score:.3f} (name {name_score(p.name, p.stored):.3f}) "
                f"{'same     ' if p.same else 'different'} {p.kind:9} {p.name!r} -> {p.stored!r}"
            )
    top = max(different, key=lambda p: p.score)
    low = min(same, key=lambda p: p.score)
    print(f"highest different pair: {top.score:.3f} ({top.name} -> {top.stored})")
    print(f"lowest same pair:       {low.score:.3f} ({low.name} -> {low.stored})")
    chosen = choose_threshold(pairs)
    print()
    print("| threshold | false merges | missed matches |")
    print("|---|---|---|")
    steps = round(0.5 / args.step)
    candidates = sorted({round(0.5 + i * args.step, 4) for i in range(steps + 1)} | {chosen})
    for t in candidates:
        merges, misses = errors_at(pairs, t)
        mark = " **chosen**" if t == chosen else ""
        print(f"| {t:.2f}{mark} | {merges} of {len(different)} | {misses} of {len(same)} |")
    print()
    print(f"chosen threshold: {chosen:.2f} (in {args.calibration.name}: {calibration.threshold})")


if __name__ == "__main__":
    main()
