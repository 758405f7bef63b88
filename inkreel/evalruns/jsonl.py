"""JSON Lines in, with one clear error naming the file and line of what is wrong."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def read_jsonl(path: Path, error: type[Exception]) -> Iterator[tuple[str, Any]]:
    """Each non-blank line's JSON value with where it is (`FILE:LINE`); bad text or a line
    that is not JSON raises `error` with one line saying where and why."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8.") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            yield where, json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(f"{where}: not JSON ({exc.msg}, column {exc.colno}).") from None
