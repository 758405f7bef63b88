"""The ledger's database: a SQLite file in the project, or the project's PostgreSQL schema.

Both speak the ledger's SQL (`?` placeholders, ON CONFLICT upserts) and differ in three ways
this module hides: the schema's types, how a transaction takes the ledger's one write lock
(SQLite's BEGIN IMMEDIATE; a PostgreSQL transaction advisory lock, which serialises every
worker of the project on every machine), and how a pending call's owner is known to be alive
(a process on this host by its pid; any worker of the database by the shared advisory lock its
ledger connection holds for its lifetime, which PostgreSQL drops when the process dies).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from inkreel.liveness import alive_here, owner_token
from inkreel.pg import connect, in_transaction, lock_key

_COLUMNS = """
CREATE TABLE IF NOT EXISTS reservations (
    call_key TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('reserved', 'paid', 'failed')),
    reserved_micros BIGINT NOT NULL DEFAULT 0,
    agent TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    shot TEXT NOT NULL DEFAULT '',
    task TEXT NOT NULL DEFAULT '',
    updated_at {real} NOT NULL,
    result {blob},
    owner TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS charges (
    id {serial},
    call_key TEXT NOT NULL,
    actual_micros BIGINT NOT NULL,
    ok INTEGER NOT NULL,
    agent TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    shot TEXT NOT NULL DEFAULT '',
    task TEXT NOT NULL DEFAULT '',
    at {real} NOT NULL
);
CREATE INDEX IF NOT EXISTS charges_by_key ON charges (call_key);
CREATE TABLE IF NOT EXISTS scope_members (
    call_key TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (kind, name, call_key)
);
CREATE TABLE IF NOT EXISTS caps (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    cap_micros BIGINT NOT NULL,
    PRIMARY KEY (kind, name)
);
CREATE TABLE IF NOT EXISTS jobs (
    call_key TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    task_id TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at {real} NOT NULL,
    updated_at {real} NOT NULL
);
CREATE TABLE IF NOT EXISTS interrupted_calls (
    call_key TEXT NOT NULL,
    reserved_micros BIGINT NOT NULL,
    agent TEXT NOT NULL DEFAULT '',
    model TEXT NOT NULL DEFAULT '',
    shot TEXT NOT NULL DEFAULT '',
    task TEXT NOT NULL DEFAULT '',
    reserved_at {real} NOT NULL,
    resumed_at {real} NOT NULL
)
"""
SQLITE_SCHEMA = _COLUMNS.format(
    real="REAL", blob="BLOB", serial="INTEGER PRIMARY KEY AUTOINCREMENT"
)
POSTGRES_SCHEMA = _COLUMNS.format(
    real="DOUBLE PRECISION", blob="BYTEA", serial="BIGSERIAL PRIMARY KEY"
)


class Database(Protocol):
    """What the ledger needs of its database."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...
    def begin(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...
    def owner_alive(self, owner: str) -> bool: ...
    def encode_result(self, payload: bytes | str | None) -> Any: ...
    def decode_result(self, stored: Any) -> bytes | str | None: ...


def _others(owner: str) -> bool:
    """An owner other than this process (this process's own unsettled call is orphaned)."""
    return bool(owner) and owner != owner_token()


class SqliteDatabase:
    """The project's ledger.sqlite (WAL; BEGIN IMMEDIATE serialises processes on one host)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(
            path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.begin()
        try:
            for statement in SQLITE_SCHEMA.split(";"):
                self.conn.execute(statement)
            columns = {row[1] for row in self.conn.execute("PRAGMA table_info(reservations)")}
            if "owner" not in columns:  # a ledger made before owners were kept
                self.conn.execute(
                    "ALTER TABLE reservations ADD COLUMN owner TEXT NOT NULL DEFAULT ''"
                )
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    def begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        self.conn.execute("ROLLBACK")

    def close(self) -> None:
        self.conn.close()

    def owner_alive(self, owner: str) -> bool:
        # A process on another host cannot be seen from here: a SQLite ledger is one host's.
        return _others(owner) and alive_here(owner) is True

    def encode_result(self, payload: bytes | str | None) -> Any:
        return payload

    def decode_result(self, stored: Any) -> bytes | str | None:
        return stored if stored is None else stored if isinstance(stored, str) else bytes(stored)


class PostgresDatabase:
    """The project's schema in a shared PostgreSQL database."""

    def __init__(self, url: str, schema: str) -> None:
        self.conn = connect(url, schema)
        self._write_lock = lock_key("inkreel-ledger", schema)
        # Held (shared) for as long as this connection lives: another worker that finds a
        # pending call of ours sees it taken, and waits for the call instead of paying again.
        self.conn.execute("SELECT pg_advisory_lock_shared(%s)", (_owner_lock(owner_token()),))
        self.begin()
        try:
            for statement in POSTGRES_SCHEMA.split(";"):
                self.conn.execute(statement)
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.conn.execute(sql.replace("?", "%s"), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(sql.replace("?", "%s"), rows)

    def begin(self) -> None:
        self.conn.execute("BEGIN")
        self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (self._write_lock,))

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if in_transaction(self.conn):
            self.conn.execute("ROLLBACK")

    def close(self) -> None:
        self.conn.close()

    def owner_alive(self, owner: str) -> bool:
        if not _others(owner):
            return False
        if alive_here(owner) is False:
            return False
        key = _owner_lock(owner)
        free = self.conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        if free and free[0]:
            self.conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
            return False
        return True

    # BYTEA holds bytes only: a text result is kept with a one-byte tag.
    def encode_result(self, payload: bytes | str | None) -> Any:
        if payload is None:
            return None
        return b"t" + payload.encode("utf-8") if isinstance(payload, str) else b"b" + payload

    def decode_result(self, stored: Any) -> bytes | str | None:
        if stored is None:
            return None
        raw = bytes(stored)
        return raw[1:].decode("utf-8") if raw[:1] == b"t" else raw[1:]


def _owner_lock(owner: str) -> int:
    return lock_key("inkreel-owner", owner)
