"""Project files: atomic writes leave the process-wide umask alone."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from inkreel import project
from inkreel.project import write_text_atomic


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
