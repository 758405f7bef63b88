"""A throw-away PostgreSQL for the tests that need one, and a fresh database per test.

`.ci/run` starts a cluster and sets INKREEL_TEST_DATABASE_URL; without it, the fixture makes
its own cluster from the Debian `postgresql` package's binaries (initdb in a temporary
directory, listening on 127.0.0.1 only) and stops it at the end. Without those binaries the
tests skip, unless INKREEL_REQUIRE_SERVICES=1 (CI), where they fail.

    from tests.postgres_server import database_url, postgres  # noqa: F401
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

ENV = "INKREEL_TEST_DATABASE_URL"


def _binaries() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(versions[-1]).parent if versions else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(args: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the package's `postgres` user."""
    if os.geteuid() != 0:
        return args
    return ["runuser", "-u", "postgres", "--", *args]


def _missing(reason: str) -> None:
    if os.environ.get("INKREEL_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (INKREEL_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """The URL of a running PostgreSQL server's `postgres` database (a superuser)."""
    given = os.environ.get(ENV)
    if given:
        yield given
        return
    bindir = _binaries()
    if bindir is None:
        _missing("PostgreSQL is not installed (Debian package postgresql)")
    assert bindir is not None
    # Not under pytest's own temporary root: as root, that is closed to the postgres user.
    root = Path(tempfile.mkdtemp(prefix="inkreel-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    port = _free_port()
    initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
    subprocess.run(_as_postgres([*initdb, "-E", "UTF8"]), check=True, capture_output=True)
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root}"
    pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data)]
    subprocess.run(
        _as_postgres([*pg_ctl, "-o", options, "-l", str(root / "log"), "-w", "start"]),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres([*pg_ctl, "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def database_url(postgres: str) -> Iterator[str]:
    """A new, empty database on the server, dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = postgres.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(postgres, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
