"""PostgreSQL plumbing shared by the checkpoints, the ledger, the locks and the task queue.

One database serves many projects: each project's tables live in its own schema
(`inkreel_<project id>`), so episode names and call keys of two series never meet.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Iterator
from typing import Any

from inkreel.storage import StorageError, redact

try:  # PostgreSQL is the `workers` extra: pip install 'inkreel[workers]'
    import psycopg
except ImportError:  # pragma: no cover - exercised only without the extra
    psycopg = None  # type: ignore[assignment]

EXTRA = "PostgreSQL storage needs the workers extra: pip install 'inkreel[workers]'."
# What a lost or refused connection raises (nothing can raise it without the extra).
DatabaseError: type[Exception] = psycopg.Error if psycopg is not None else OSError
LostDatabase: type[Exception] = psycopg.OperationalError if psycopg is not None else OSError

CONNECT_TIMEOUT_S = 10
LOCK_POLL_S = (0.02, 0.5)  # first and longest wait between tries for a held lock


def schema_name(project_id: str) -> str:
    if not project_id.isalnum():
        raise ValueError(f"project id {project_id!r} is not alphanumeric")
    return f"inkreel_{project_id.lower()}"


def connect(url: str, schema: str | None = None, **kwargs: Any) -> psycopg.Connection[Any]:
    """An autocommit connection (transactions are explicit), in `schema` when given.

    An unreachable server raises StorageError with one line saying which and what to do.
    """
    if psycopg is None:
        raise StorageError(EXTRA)
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S, **kwargs)
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        raise StorageError(
            f"cannot reach the database at {redact(url)}: {reason}. Start PostgreSQL or fix "
            "`database` in inkreel.toml ([storage]) / INKREEL_DATABASE_URL."
        ) from None
    if schema is not None:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        conn.execute(f'SET search_path TO "{schema}"')
    return conn


def lock_key(*parts: str) -> int:
    """A signed 64-bit advisory lock key for a name."""
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextlib.contextmanager
def advisory_lock(url: str, *name: str) -> Iterator[None]:
    """Hold a session advisory lock on its own connection: released when the block ends, or
    when the process dies (its connection closes), on any machine.

    Waits by trying again (up to LOCK_POLL_S apart), not inside a blocking statement: a
    session waiting in a statement holds a snapshot, and `CREATE INDEX CONCURRENTLY` (the
    checkpointer's setup, under this very lock) would wait for it forever.
    """
    key = lock_key(*name)
    with connect(url) as conn:
        wait = LOCK_POLL_S[0]
        while not conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]:  # type: ignore[index]
            time.sleep(wait)
            wait = min(wait * 2, LOCK_POLL_S[1])
        try:
            yield
        finally:
            with contextlib.suppress(psycopg.Error):
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


def in_transaction(conn: Any) -> bool:
    return bool(conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE)
