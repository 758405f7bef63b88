"""Project files: atomic writes leave the process-wide umask alone; the sweep of temporary
files and the claim of episode names are safe with several runs on one project."""

from __future__ import annotations

import os
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from inkreel import project
from inkreel.liveness import HOST, owner_token
from inkreel.project import write_text_atomic
from inkreel.run import next_episode_name


def test_atomic_writes_never_touch_the_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Setting the umask, even briefly, races with every thread that creates a file meanwhile.
    touched: list[int] = []
    real = os.umask

    def spy(mask: int) -> int:
        touched.append(mask)
        return real(mask)

    monkeypatch.setattr(os, "umask", spy)
    threads = [
        threading.Thread(target=write_text_atomic, args=(tmp_path / f"f{n}.txt", "x"))
        for n in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert touched == []
    current = real(0o022)
    real(current)
    assert current == project.UMASK
    for n in range(8):
        mode = stat.S_IMODE((tmp_path / f"f{n}.txt").stat().st_mode)
        assert mode == 0o666 & ~current  # what open() would have made, not mkstemp's 0600


def test_the_sweep_removes_only_the_files_of_dead_processes(tmp_path: Path) -> None:
    """Two runs on one project: a start-up sweep keeps the other run's files in flight."""
    series = project.Project.open(tmp_path / "p")
    folder = series.assets("characters") / "chr-1"
    folder.mkdir()
    live = folder / f".sheet.{owner_token()}.x1.part.png"  # this (live) process's file
    gone = folder / f".sheet.{HOST}-{_exited_pid()}-1.x2.part.png"
    foreign_new = folder / ".sheet.ffffff-12-34.x3.part.png"  # another host: age decides
    foreign_old = folder / ".sheet.ffffff-56-78.x4.part.png"
    legacy = folder / ".sheet.abcd1234.part.png"  # named before owners were kept
    for path in (live, gone, foreign_new, foreign_old, legacy):
        path.write_bytes(b"half")
    old = time.time() - project.FOREIGN_PARTIAL_AGE_S - 60
    for path in (foreign_old, legacy):
        os.utime(path, (old, old))
    assert series.sweep_partials() == 3
    assert sorted(p.name for p in folder.iterdir()) == sorted([live.name, foreign_new.name])


def _exited_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_episode_names_are_claimed_once_by_concurrent_runs(tmp_path: Path) -> None:
    series = project.Project.open(tmp_path / "p")
    names: list[str] = []
    threads = [
        threading.Thread(target=lambda: names.append(next_episode_name(series))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(names) == [f"ep{n:02d}" for n in range(1, 9)]
    # A run refused at its start gives its claimed name back.
    with pytest.raises(RuntimeError), series.unclaimed_if_unused("ep09"):
        assert series.claim_episode_name("ep09")
        raise RuntimeError("no key")
    assert next_episode_name(series) == "ep09"
