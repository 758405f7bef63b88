"""A series' episodes as jobs on a task queue (procrastinate, on the project's PostgreSQL).

`enqueue` puts episodes on the project's queue (`inkreel-<project id>`); `run_worker` takes
them, on any machine that reaches the database, the chroma server and the shared project
directory, and runs each with `run.run_episode`: a new episode from its request, a started one
from its checkpoint, a delivered one not at all. So a job is safe to run again:

- a worker killed mid-episode (kill -9) stops sending heartbeats; every worker looks for such
  stalled jobs (`STALLED_S` without a heartbeat) and puts them back on the queue, and the next
  worker resumes the episode from its checkpoint. The calls the dead worker had in flight are
  counted as interrupted in the ledger (see `providers.budget`);
- one job per episode runs at a time (procrastinate's `lock`), and an episode waits on the
  queue once (`queueing_lock`);
- a worker that loses the database stops at once (exit 2); its job is retried or found
  stalled, and resumed from its checkpoint by whichever worker takes it next.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from inkreel.media.fountain import load_fountain
from inkreel.pg import EXTRA, DatabaseError, LostDatabase, advisory_lock, connect
from inkreel.project import Project, write_bytes_atomic
from inkreel.providers.budget import BudgetExceeded
from inkreel.run import (
    OnUpdate,
    is_delivered,
    is_started,
    pending_review,
    progress_events,
    run_episode,
)
from inkreel.schemas.episode import EpisodeRequest
from inkreel.services import open_memory
from inkreel.storage import StorageError, redact
from inkreel.worker_presence import NotShared, announce, check_shared, live_workers, withdraw

try:  # the `workers` extra
    import procrastinate
except ImportError:  # pragma: no cover - exercised only without the extra
    procrastinate = None  # type: ignore[assignment]

TASK = "inkreel.produce_episode"
HEARTBEAT_S = 10.0  # how often a worker says it is alive
STALLED_S = 30.0  # a worker silent this long is dead; its jobs go back on the queue
RETRIES_AFTER_LOST_DATABASE = 20
# How often a worker with --until-empty asks whether the project's queue is done: one small
# query; waiting a heartbeat (10 s) for it kept a finished night's workers up that long.
DONE_CHECK_S = 1.0


class QueueError(Exception):
    """A queue that cannot be used: no database, or one that cannot be reached."""


class JobLostDatabase(Exception):
    """An episode stopped because its worker lost the database; the job is retried (when the
    worker can still say so) or found stalled and put back on the queue by another worker."""


class QueuedEpisode(BaseModel):
    """A job's payload: which project and episode, and how to start it."""

    project_id: str
    request: EpisodeRequest
    script_file: str | None = None  # a screenplay copied into the project (relative path)


def queue_name(project: Project) -> str:
    return f"inkreel-{project.id}"


def _database(project: Project) -> str:
    url = project.storage.database
    if url is None:
        raise QueueError(
            "the queue lives in PostgreSQL: set `database` in the project's inkreel.toml "
            "([storage]) or INKREEL_DATABASE_URL (or --database), then run workers with "
            "`inkreel worker -o DIR`."
        )
    return url


def _app(url: str, *, sync: bool) -> procrastinate.App:
    if procrastinate is None:
        raise QueueError(EXTRA)
    connector: procrastinate.BaseConnector
    if sync:
        connector = procrastinate.SyncPsycopgConnector(conninfo=url)
    else:
        connector = procrastinate.PsycopgConnector(conninfo=url)
    app = procrastinate.App(connector=connector)
    retry = procrastinate.RetryStrategy(
        max_attempts=RETRIES_AFTER_LOST_DATABASE, wait=5, retry_exceptions={JobLostDatabase}
    )
    app.task(name=TASK, pass_context=False, retry=retry)(_produce_job)
    return app


_SCHEMA_READY: set[str] = set()


def ensure_schema(url: str) -> None:
    """Create procrastinate's tables in the database once (workers starting together wait)."""
    if url in _SCHEMA_READY:
        return
    _make_schema(url)
    _SCHEMA_READY.add(url)


def _make_schema(url: str) -> None:
    app = _app(url, sync=True)
    with advisory_lock(url, "inkreel-queue-schema"), connect(url) as conn, app.open():
        found = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
        if found is None or found[0] is None:
            app.schema_manager.apply_schema()


def enqueue(project: Project, items: list[QueuedEpisode]) -> list[int | None]:
    """Put episodes on the project's queue; an episode already waiting there is not added
    again (None for it). Returns the job ids."""
    url = _database(project)
    _check_shared(project)
    ensure_schema(url)
    app = _app(url, sync=True)
    ids: list[int | None] = []
    with app.open():
        task = app.tasks[TASK]
        for item in items:
            episode = item.request.episode
            try:
                ids.append(
                    task.configure(
                        queue=queue_name(project),
                        lock=f"{project.id}:{episode}",
                        queueing_lock=f"{project.id}:{episode}",
                    ).defer(payload=item.model_dump(mode="json"))
                )
            except procrastinate.exceptions.AlreadyEnqueued:
                ids.append(None)
    return ids


@dataclass(frozen=True)
class QueueCounts:
    todo: int
    doing: int
    succeeded: int
    failed: int
    workers: int  # the project's workers seen in the last STALLED_S seconds


def queue_counts(project: Project) -> QueueCounts:
    """How many of the project's jobs wait, run, succeeded and failed; its live workers."""
    url = _database(project)
    ensure_schema(url)
    with connect(url) as conn:
        rows = dict(
            conn.execute(
                "SELECT status::text, count(*) FROM procrastinate_jobs WHERE queue_name = %s "
                "GROUP BY status",
                (queue_name(project),),
            ).fetchall()
        )
    return QueueCounts(
        int(rows.get("todo", 0)),
        int(rows.get("doing", 0)),
        int(rows.get("succeeded", 0)),
        int(rows.get("failed", 0)) + int(rows.get("aborted", 0)),
        len(live_workers(project, STALLED_S)),
    )


# -- the worker side ---------------------------------------------------------------------------

Say = Callable[[str], None]


@dataclass
class _WorkerScope:
    project: Project
    say: Say
    lost: asyncio.Event | None = None  # set (from a job's thread) when the database is lost
    loop: asyncio.AbstractEventLoop | None = None

    def database_lost(self) -> None:
        """Stop taking jobs and stop the worker: its database is gone. Quiet the libraries'
        own reports of the connections failing from here on (the worker says it once)."""
        for name in ("procrastinate", "psycopg.pool", "asyncio"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        if self.loop is not None and self.lost is not None:
            self.loop.call_soon_threadsafe(self.lost.set)


_SCOPE: _WorkerScope | None = None  # the project this worker process serves


def _produce_job(payload: dict[str, Any]) -> str:
    """Produce (or resume) one queued episode; what happened, in a word."""
    scope = _SCOPE
    if scope is None:
        raise RuntimeError("a queued episode runs in `inkreel worker`, which sets its project")
    item = QueuedEpisode.model_validate(payload)
    try:
        return produce_queued(scope.project, item, scope.say)
    except Exception as exc:
        if not _lost_database(exc):
            raise
        scope.say(f"{item.request.episode}: lost the database; it is checkpointed")
        scope.database_lost()
        raise JobLostDatabase(f"{item.request.episode}: {type(exc).__name__}") from exc


def _lost_database(exc: BaseException) -> bool:
    """Whether an error (or one it was raised from or during) is a lost or refused database."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, (LostDatabase, StorageError)):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def produce_queued(project: Project, item: QueuedEpisode, say: Say) -> str:
    """Run one queued episode to its end, its review gate or its budget stop."""
    if item.project_id != project.id:
        raise QueueError(
            f"this worker's project {project.root} (id {project.id}) is not the one the episode "
            f"was queued from (id {item.project_id}): give every worker the same shared "
            "project directory."
        )
    request = item.request
    episode = request.episode
    if is_delivered(project, episode):
        say(f"{episode}: already delivered")
        return "delivered"
    first: dict[str, Any] | None = None
    if is_started(project, episode):
        say(f"{episode}: resuming from its checkpoint")
    else:
        say(f"{episode}: producing")
        first = {"request": request}
        if item.script_file is not None:
            first["script"] = load_fountain(
                project.root / item.script_file, language=request.language
            )
    try:
        run_episode(project, request, first, on_update=_progress(episode, say))
    except BudgetExceeded as stop:
        say(f"{episode}: stopped by its budget ({stop}); it is checkpointed")
        return "stopped"
    except Exception as exc:
        if not _lost_database(exc):
            path = project.write_failure_log(episode, traceback.format_exc())
            say(f"{episode}: failed (details in {path})")
        raise
    if pending_review(project, episode) is not None:
        say(f"{episode}: waiting for review")
        return "waiting"
    say(f"{episode}: delivered")
    return "delivered"


def _progress(episode: str, say: Say) -> OnUpdate:
    """A line per finished stage (the worker's log; no bars in a service)."""

    def on_update(node: str, update: dict[str, Any] | None, values: dict[str, Any]) -> None:
        for kind, payload in progress_events(node, update, values):
            if kind == "stage_done":
                say(f"{episode}: {payload['text']}")

    return on_update


async def _requeue_stalled(app: procrastinate.App, queue: str, stalled_s: float, say: Say) -> None:
    """Put the jobs of workers silent for `stalled_s` back on the queue."""
    jobs = await app.job_manager.get_stalled_jobs(queue=queue, seconds_since_heartbeat=stalled_s)
    count = 0
    for job in jobs:
        await app.job_manager.retry_job(job)
        count += 1
    if count:
        say(f"put {count} stalled job(s) of a dead worker back on the queue")


async def _watch_stalled(
    app: procrastinate.App, project: Project, stalled_s: float, every_s: float, say: Say
) -> None:
    """Every `every_s`: say this worker is alive, and requeue the jobs of dead ones."""
    while True:
        with contextlib.suppress(DatabaseError):
            await asyncio.to_thread(announce, project)
            await _requeue_stalled(app, queue_name(project), stalled_s, say)
        await asyncio.sleep(every_s)


def _check_shared(project: Project, within_s: float = STALLED_S) -> None:
    try:
        check_shared(project, within_s)
    except NotShared as exc:
        raise QueueError(str(exc)) from None


async def _stop_when_done(project: Project, worker: asyncio.Task[None], every_s: float) -> None:
    """Stop the worker once none of the project's jobs waits or runs anywhere (a job of a
    dead worker still counts as running until it is put back on the queue and done)."""
    while True:
        await asyncio.sleep(every_s)
        counts = await asyncio.to_thread(queue_counts, project)
        if counts.todo == 0 and counts.doing == 0:
            worker.cancel()
            return


def run_worker(
    project: Project,
    *,
    concurrency: int = 1,
    say: Say = print,
    heartbeat_s: float = HEARTBEAT_S,
    stalled_s: float = STALLED_S,
    wait: bool = True,
) -> None:
    """Take the project's queued episodes until stopped (Ctrl-C, SIGTERM), or, with
    wait=False, until none of the project's jobs waits or runs (on any worker)."""
    global _SCOPE
    url = _preflight(project, stalled_s)
    _SCOPE = _WorkerScope(project, say)
    try:
        asyncio.run(
            _serve(_app(url, sync=False), project, concurrency, say, heartbeat_s, stalled_s, wait)
        )
    except LostDatabase as exc:
        raise StorageError(
            f"lost the database at {redact(url)}: {str(exc).strip().splitlines()[-1]}. The "
            "episode in hand is checkpointed: another worker resumes it, or this one started "
            "again once the database is back."
        ) from None
    finally:
        _SCOPE = None
        withdraw(project)


def _preflight(project: Project, stalled_s: float) -> str:
    """Check what a worker needs before it takes a job, and say it is there; the database."""
    url = _database(project)
    if project.storage.memory is None:
        raise QueueError(
            "workers share one asset memory, a chroma server: start one (chroma run --host "
            "HOST --port 8000 --path DIR) and set `memory` in inkreel.toml ([storage]), "
            "INKREEL_MEMORY_URL or --memory. (An embedded memory is one process's.)"
        )
    open_memory(project)  # reachable now, not first found down at the first job
    _check_shared(project, stalled_s)
    announce(project)
    ensure_schema(url)
    return url


async def _serve(
    app: procrastinate.App,
    project: Project,
    concurrency: int,
    say: Say,
    heartbeat_s: float,
    stalled_s: float,
    wait: bool,
) -> None:
    """The worker's event loop: procrastinate's worker, the stalled-job watch, and (without
    `wait`) the stop once the project's queue is done."""
    queue = queue_name(project)
    scope = _SCOPE
    assert scope is not None
    scope.lost, scope.loop = asyncio.Event(), asyncio.get_running_loop()
    async with app.open_async():
        await _requeue_stalled(app, queue, stalled_s, say)
        every = max(heartbeat_s, 0.2)
        worker = asyncio.create_task(
            app.run_worker_async(
                queues=[queue],
                concurrency=concurrency,
                wait=True,
                update_heartbeat_interval=heartbeat_s,
                stalled_worker_timeout=stalled_s,
                fetch_job_polling_interval=every,
                install_signal_handlers=True,
            )
        )
        helpers = [asyncio.create_task(_watch_stalled(app, project, stalled_s, every, say))]
        if not wait:
            check = min(every, DONE_CHECK_S)
            helpers.append(asyncio.create_task(_stop_when_done(project, worker, check)))
        lost = asyncio.create_task(scope.lost.wait())
        try:
            await asyncio.wait([worker, lost], return_when=asyncio.FIRST_COMPLETED)
            if lost.done():
                worker.cancel()  # the jobs in hand end at their next step, on their own
                raise LostDatabase("the connection to the database broke")
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        finally:
            for helper in [*helpers, lost]:
                helper.cancel()
            await asyncio.gather(*helpers, lost, return_exceptions=True)


@contextlib.contextmanager
def quiet_procrastinate() -> Iterator[None]:
    """Keep procrastinate's own INFO logging out of the worker's terminal."""
    logger = logging.getLogger("procrastinate")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def copy_script(project: Project, script: Path) -> str:
    """A screenplay copied into the project (inputs/), where every worker can read it."""
    data = script.read_bytes()
    name = f"{script.stem}-{hashlib.sha256(data).hexdigest()[:10]}{script.suffix}"
    target = project.root / "inputs" / name
    if not target.exists():
        write_bytes_atomic(target, data)
    return project.rel(target)
