"""Where a project keeps its state: files in the project directory, or shared services.

By default (nothing to install) checkpoints and the ledger are SQLite files in the project
and the asset memory is an embedded chromadb in `memory/`. A studio that runs workers on
several machines points them at shared services instead:

    [storage]                                   # in the project's inkreel.toml
    database = "postgresql://inkreel@db:5432/inkreel"   # checkpoints, ledger, task queue
    memory = "http://chroma:8000"                       # `chroma run --host ... --port ...`

or with INKREEL_DATABASE_URL / INKREEL_MEMORY_URL (flags of `batch` and `worker` set these),
which win over the file. The project directory itself holds the assets and episodes; every
worker mounts the same one (a shared filesystem).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from inkreel.settings import SettingsFileError, read_toml

DATABASE_ENV = "INKREEL_DATABASE_URL"
MEMORY_ENV = "INKREEL_MEMORY_URL"
_POSTGRES = ("postgresql", "postgres")


class StorageError(Exception):
    """A storage setting that cannot be used, or a service that cannot be reached."""


@dataclass(frozen=True)
class Storage:
    """The project's database URL (None: SQLite files) and memory URL (None: embedded)."""

    database: str | None = None
    memory: str | None = None

    @classmethod
    def load(cls, root: Path) -> Storage:
        """The environment's URLs, else the project's inkreel.toml [storage] table."""
        table: dict[str, object] = {}
        toml = root / "inkreel.toml"
        if toml.is_file():
            try:
                found = read_toml(toml).get("storage") or {}
            except SettingsFileError as exc:
                raise StorageError(str(exc)) from None
            if not isinstance(found, dict):
                raise StorageError(f"{toml}: [storage] is a table (database = ..., memory = ...).")
            table = found
        database = os.environ.get(DATABASE_ENV) or table.get("database") or None
        memory = os.environ.get(MEMORY_ENV) or table.get("memory") or None
        return cls(check_database_url(database), check_memory_url(memory))


def check_database_url(url: object) -> str | None:
    if url is None:
        return None
    if not isinstance(url, str) or urlsplit(url).scheme not in _POSTGRES:
        raise StorageError(
            f"database {url!r} is not a PostgreSQL URL; use postgresql://USER@HOST:PORT/DB "
            "(or leave it out for the project's SQLite files)."
        )
    return url


def check_memory_url(url: object) -> str | None:
    if url is None:
        return None
    parts = urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise StorageError(
            f"memory {url!r} is not a chroma server URL; use http://HOST:PORT "
            "(or leave it out for the embedded memory in the project)."
        )
    return str(url)


def redact(url: str) -> str:
    """A URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return parts._replace(netloc=netloc).geturl()
