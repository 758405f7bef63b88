"""A chroma server for the tests, started once per session: `chroma_url`.

    from tests.chroma_server import chroma_url  # noqa: F401

`.ci/run` starts one and sets INKREEL_TEST_CHROMA_URL; without it the fixture starts its own.
The `chroma` command ships with the chromadb package, next to the interpreter. Without it the
tests that need the server are skipped, unless INKREEL_REQUIRE_SERVICES=1 (CI), then they fail.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

STARTUP_TRIES = 150  # heartbeat polls, each waiting up to POLL_S for the process to exit
POLL_S = 0.1


def chroma_executable() -> Path | None:
    path = Path(sys.executable).with_name("chroma")
    return path if path.is_file() and os.access(path, os.X_OK) else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _missing(reason: str) -> None:
    if os.environ.get("INKREEL_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (INKREEL_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a chroma server on a free local port, with its data in a temp dir."""
    given = os.environ.get("INKREEL_TEST_CHROMA_URL")
    if given:
        yield given
        return
    exe = chroma_executable()
    if exe is None:
        _missing(f"no chroma executable next to {sys.executable}")
    assert exe is not None
    folder = tmp_path_factory.mktemp("chroma")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (folder / "server.log").open("wb")
    command = [str(exe), "run", "--path", str(folder / "data")]
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(STARTUP_TRIES):
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            try:
                code = server.wait(timeout=POLL_S)  # doubles as the pause between polls
            except subprocess.TimeoutExpired:
                continue
            pytest.fail(f"chroma run exited with {code}: see {folder / 'server.log'}")
        else:
            pytest.fail(f"chroma server at {url} did not answer its heartbeat")
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
