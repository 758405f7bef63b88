"""The checkpointer of a project (its SQLite file, or its schema in the shared PostgreSQL
database), allowed to restore exactly the graph's own types."""

from __future__ import annotations

import enum
import sqlite3
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typing_extensions
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite import SqliteSaver
from pydantic import BaseModel

from inkreel.graphs.episode import build_episode_graph
from inkreel.pg import EXTRA, advisory_lock, connect, schema_name
from inkreel.project import Project
from inkreel.storage import StorageError

try:  # the `workers` extra
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row
except ImportError:  # pragma: no cover - exercised only without the extra
    PostgresSaver = None  # type: ignore[assignment, misc]


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
    ("inkreel.graphs.state", "EpisodeRequest"),  # now in inkreel.schemas.episode
    ("inkreel.agents.editor", "SegmentTask"),  # now in inkreel.schemas.segment
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
def open_checkpointer(project: Project | Path) -> Iterator[BaseCheckpointSaver[Any]]:
    """The project's checkpointer (a path: that SQLite file), closed when the block ends."""
    if isinstance(project, Project) and project.storage.database is not None:
        with _postgres_saver(project.storage.database, schema_name(project.id)) as saver:
            yield saver
        return
    path = project.checkpoints if isinstance(project, Project) else project
    conn = sqlite3.connect(str(path), check_same_thread=False)
    local = SqliteSaver(conn, serde=_serde())
    try:
        yield local
    finally:
        # Under the saver's lock: a graph whose start failed can leave a write of its
        # checkpoint running in a worker thread (LangGraph does not wait for it then), and
        # closing the connection under a statement in flight crashes the interpreter.
        with local.lock:
            conn.close()


def _serde() -> JsonPlusSerializer:
    return JsonPlusSerializer(allowed_msgpack_modules=checkpoint_types())


_READY: set[tuple[str, str]] = set()  # (database, schema) whose checkpoint tables exist


@contextmanager
def _postgres_saver(url: str, schema: str) -> Iterator[PostgresSaver]:
    if PostgresSaver is None:
        raise StorageError(EXTRA)
    conn = connect(url, schema, prepare_threshold=0, row_factory=dict_row)
    saver = PostgresSaver(conn, serde=_serde())
    try:
        if (url, schema) not in _READY:
            # Two workers starting at once would both create the tables: one at a time.
            with advisory_lock(url, "inkreel-checkpoint-setup", schema):
                saver.setup()
            _READY.add((url, schema))
        yield saver
    finally:
        with saver.lock:
            conn.close()


def has_checkpoints(project: Project) -> bool:
    """Whether the project may hold checkpoints (reading must not create a SQLite file)."""
    return project.storage.database is not None or project.checkpoints.exists()


def latest_threads(project: Project, prefix: str) -> list[str]:
    """The ids of the project's threads starting with `prefix`, the most recent first."""
    query = (
        "SELECT thread_id, MAX(checkpoint_id) FROM checkpoints "
        "WHERE thread_id LIKE {p} AND checkpoint_ns = '' GROUP BY thread_id "
        "ORDER BY MAX(checkpoint_id) DESC"
    )
    if project.storage.database is not None:
        with open_checkpointer(project) as saver:  # creates the tables when missing
            conn: Any = getattr(saver, "conn", None)
            rows = conn.execute(query.format(p="%s"), (f"{prefix}%",)).fetchall()
        return [str(row["thread_id"]) for row in rows]
    if not project.checkpoints.exists():
        return []
    with sqlite3.connect(str(project.checkpoints)) as conn:
        try:
            found = conn.execute(query.format(p="?"), (f"{prefix}%",)).fetchall()
        except sqlite3.OperationalError:  # no checkpoint table yet
            return []
    return [str(thread) for thread, _ in found]
