"""`inkreel serve`: the web page where a writer chats an episode into being (this machine
only)."""

from __future__ import annotations

import errno
import os
import socket
import sys
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from inkreel.cli.base import UserError, app, err, guarded, out
from inkreel.project import Project
from inkreel.web import create_app

HOST = "127.0.0.1"
STOP_WAIT_S = 60.0  # how long a running turn gets to reach its next step when stopped


def listen(port: int) -> socket.socket:
    """A socket listening on 127.0.0.1:port, or one line saying why it cannot be had."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Only so a port left in TIME_WAIT by a server just stopped can be taken again (on
    # Linux this never shares a port another server listens on).
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise UserError(
                f"port {port} on {HOST} is taken (another server listens there); "
                "choose another with --port."
            ) from None
        raise UserError(f"cannot listen on {HOST}:{port}: {exc.strerror or exc}.") from None
    return sock


@app.command()
@guarded
def serve(
    output: Annotated[Path, typer.Option("-o", "--output", help="Project directory.")],
    port: Annotated[
        int, typer.Option(help="Port on 127.0.0.1 (0: any free one).", min=0, max=65535)
    ] = 8765,
    length: Annotated[
        float, typer.Option(help="Target runtime of a new conversation's episode, seconds.", min=5)
    ] = 60.0,
) -> None:
    """Open the web page where you chat a story idea into an episode with the showrunner."""

    project = Project.open(output)
    sock = listen(port)
    url = f"http://{HOST}:{sock.getsockname()[1]}/"
    web = create_app(project, length_s=length)
    config = uvicorn.Config(
        web,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    out.print(
        f"inkreel: the showrunner is at {url} (project {project.root}); Ctrl-C stops it.",
        soft_wrap=True,
        highlight=False,
        markup=False,
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # Ctrl-C: uvicorn has stopped, then raised it again
        pass
    finally:
        sock.close()
    working = web.state.desk.running()
    if working:
        # A turn still runs in a worker thread: its run stops at its next step (what it made
        # is kept), or, if that step does not end in time, as a kill would (every step is
        # checkpointed), rather than have the interpreter tear it down mid-call.
        names = ", ".join(working)
        _note(f"inkreel: stopping {names} at the next step...")
        left = web.state.desk.stop_all(STOP_WAIT_S)
        _note(f'inkreel: stopped while {names} worked; say "render" there to go on.')
        if left:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(130)
        raise typer.Exit(130)


def _note(text: str) -> None:
    err.print(text, soft_wrap=True, highlight=False, markup=False)
