"""`inkreel worker`: take a series' queued episodes and produce them, on any machine."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from inkreel.cli.base import DatabaseOption, MemoryOption, app, err, guarded, use_storage
from inkreel.project import Project
from inkreel.queue import HEARTBEAT_S, STALLED_S, queue_name, quiet_procrastinate, run_worker


@app.command()
@guarded
def worker(
    output: Annotated[
        Path, typer.Option("-o", "--output", help="The shared project directory (the series).")
    ] = Path("inkreel-project"),
    concurrency: Annotated[
        int, typer.Option(help="Episodes this worker makes at the same time.", min=1, max=64)
    ] = 1,
    database: DatabaseOption = None,
    memory: MemoryOption = None,
    until_empty: Annotated[
        bool, typer.Option("--until-empty", help="Stop when the queue is empty.")
    ] = False,
    heartbeat: Annotated[
        float, typer.Option(help="Seconds between heartbeats.", min=0.1, hidden=True)
    ] = HEARTBEAT_S,
    stalled: Annotated[
        float,
        typer.Option(help="Seconds without a heartbeat before a worker is dead.", hidden=True),
    ] = STALLED_S,
) -> None:
    """Produce the episodes `inkreel batch FILE --queue` put on the project's queue.

    Start one per machine (or several): each reaches the project's PostgreSQL, its chroma
    server and the shared project directory. A worker killed mid-episode leaves the episode
    to the others, which resume it from its checkpoint. Ctrl-C stops it after the episodes
    in hand reach their next checkpoint.
    """
    use_storage(database, memory)
    project = Project.open(output, create=False)
    logging.basicConfig(level=logging.WARNING)

    def say(line: str) -> None:
        err.print(line, highlight=False, markup=False, soft_wrap=True)

    say(f"worker on {queue_name(project)} ({project.root}), {concurrency} at a time")
    with quiet_procrastinate():
        run_worker(
            project,
            concurrency=concurrency,
            say=say,
            heartbeat_s=heartbeat,
            stalled_s=stalled,
            wait=not until_empty,
        )
    say("worker stopped")
