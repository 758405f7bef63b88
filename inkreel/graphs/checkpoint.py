"""The SQLite checkpointer of a project, allowed to restore exactly the project's own types."""

from __future__ import annotations

import enum
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from pydantic import BaseModel

from inkreel import schemas
from inkreel.agents import director, editor
from inkreel.graphs import state


def checkpoint_types() -> list[tuple[str, str]]:
    """Return (module, class) of every model and enum that can appear in a checkpoint."""
    found = [getattr(schemas, name) for name in schemas.__all__]
    found += [state.EpisodeRequest, director.LineTask, director.ShotTask, editor.SegmentTask]
    return sorted(
        {
            (t.__module__, t.__qualname__)
            for t in found
            if isinstance(t, type) and issubclass(t, BaseModel | enum.Enum)
        }
    )


@contextmanager
def open_checkpointer(path: Path) -> Iterator[SqliteSaver]:
    conn = sqlite3.connect(str(path), check_same_thread=False)
    try:
        serde = JsonPlusSerializer(allowed_msgpack_modules=checkpoint_types())
        yield SqliteSaver(conn, serde=serde)
    finally:
        conn.close()
