"""Which workers serve a project, and whether they all see the same project directory.

A worker says it is there twice: a row in the project's schema (`workers`: its token, host,
directory and when it was last seen) and a file in the project directory
(`workers/<token>`). A worker, or `inkreel batch --queue`, whose directory lacks the file of a
live worker is not looking at the directory that worker writes to (a local copy, another
mount): it is refused with one message, before any episode is made there.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from dataclasses import dataclass
from typing import Any

from inkreel.liveness import owner_token
from inkreel.pg import DatabaseError, advisory_lock, connect, schema_name
from inkreel.project import Project, write_text_atomic
from inkreel.storage import StorageError

_TABLE = (
    "CREATE TABLE IF NOT EXISTS workers (token TEXT PRIMARY KEY, host TEXT NOT NULL, "
    "root TEXT NOT NULL, seen_at DOUBLE PRECISION NOT NULL)"
)


class NotShared(Exception):
    """The project directory here is not the one the project's live workers use."""


@dataclass(frozen=True)
class Worker:
    token: str
    host: str
    root: str


_READY: set[tuple[str, str]] = set()  # (database, project) whose table exists


def _conn(project: Project) -> Any:
    assert project.storage.database is not None
    url = project.storage.database
    if (url, project.id) not in _READY:
        with advisory_lock(url, "inkreel-workers", project.id):
            connect(url, schema_name(project.id)).execute(_TABLE).connection.close()
        _READY.add((url, project.id))
    return connect(url, schema_name(project.id))


def live_workers(project: Project, within_s: float) -> list[Worker]:
    """The workers seen in the last `within_s` seconds (this process excluded)."""
    with _conn(project) as conn:
        rows = conn.execute(
            "SELECT token, host, root FROM workers WHERE seen_at > %s AND token <> %s",
            (time.time() - within_s, owner_token()),
        ).fetchall()
    return [Worker(*row) for row in rows]


def check_shared(project: Project, within_s: float) -> int:
    """Raise NotShared if a live worker's file is missing here; return how many are live."""
    workers = live_workers(project, within_s)
    for other in workers:
        if not (project.root / "workers" / other.token).is_file():
            raise NotShared(
                f"{project.root} is not the project directory that the worker on {other.host} "
                f"uses ({other.root}): every worker and the batch need the same shared "
                "directory (mount it on each machine; a copy is not shared)."
            )
    return len(workers)


def announce(project: Project) -> None:
    """Say (again) that this worker serves the project: its file and its row."""
    token = owner_token()
    path = project.root / "workers" / token
    if not path.is_file():
        info = {"host": socket.gethostname(), "root": str(project.root)}
        write_text_atomic(path, json.dumps(info))
    with _conn(project) as conn:
        conn.execute(
            "INSERT INTO workers (token, host, root, seen_at) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (token) DO UPDATE SET seen_at = excluded.seen_at",
            (token, socket.gethostname(), str(project.root), time.time()),
        )


def withdraw(project: Project) -> None:
    """This worker stops serving the project."""
    token = owner_token()
    (project.root / "workers" / token).unlink(missing_ok=True)
    with contextlib.suppress(DatabaseError, StorageError), _conn(project) as conn:
        conn.execute("DELETE FROM workers WHERE token = %s", (token,))
