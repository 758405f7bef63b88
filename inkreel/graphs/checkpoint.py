"""The SQLite checkpointer of a project, allowed to restore exactly the graph's own types."""

from __future__ import annotations

import enum
import sqlite3
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typing_extensions
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from pydantic import BaseModel

from inkreel.graphs.episode import build_episode_graph


def _types_in(annotation: Any, found: set[type]) -> None:
    """Add every model and enum that a value of `annotation` can hold."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel | enum.Enum):
        if annotation in found:
            return
        found.add(annotation)
        if issubclass(annotation, BaseModel):
            for field in annotation.model_fields.values():
                _types_in(field.annotation, found)
        return
    if typing_extensions.is_typeddict(annotation):
        for hint in typing_extensions.get_type_hints(annotation).values():
            _types_in(hint, found)
        return
    for arg in typing.get_args(annotation):
        _types_in(arg, found)


# Types that checkpoints written by an earlier version name by another module (still
# importable from there), so an episode started before the move resumes.
MOVED_TYPES = [
    ("inkreel.schemas.storyboard", "Angle"),  # now in inkreel.schemas.framing
    ("inkreel.schemas.storyboard", "Framing"),
]


def checkpoint_types() -> list[tuple[str, str]]:
    """(module, class) of every model and enum a checkpoint of the episode graph can hold:
    those of its state and of its nodes' inputs (the Send payloads), found by walking their
    fields, so a new payload or field type cannot be left off; and MOVED_TYPES."""
    builder = build_episode_graph()
    found: set[type] = set()
    _types_in(builder.state_schema, found)
    for node in builder.nodes.values():
        _types_in(node.input_schema, found)
    return sorted({*((t.__module__, t.__qualname__) for t in found), *MOVED_TYPES})


@contextmanager
def open_checkpointer(path: Path) -> Iterator[SqliteSaver]:
    conn = sqlite3.connect(str(path), check_same_thread=False)
    serde = JsonPlusSerializer(allowed_msgpack_modules=checkpoint_types())
    saver = SqliteSaver(conn, serde=serde)
    try:
        yield saver
    finally:
        # Under the saver's lock: a graph whose start failed can leave a write of its
        # checkpoint running in a worker thread (LangGraph does not wait for it then), and
        # closing the connection under a statement in flight crashes the interpreter.
        with saver.lock:
            conn.close()
