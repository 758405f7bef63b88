"""The web page's server: HTTP over the chat API, for one project, on this machine only.

    app = create_app(Project.open(Path("my-series")), length_s=60)
    uvicorn.run(app, host="127.0.0.1", port=8765)        # what `inkreel serve` does

Routes (errors are JSON, {"error": "one line"}, with their status):

    GET  /                           the page (static files under /static/)
    GET  /api/threads                the project's conversations
    POST /api/threads                a new conversation: {"thread": "chat-..."}
    GET  /api/threads/{id}           its messages, stage, whether it works, the episode's view
    POST /api/threads/{id}/messages  {"text": ...} or {"text": ..., "calls": [{name, args}]}
    POST /api/threads/{id}/stop      stop its running turn at the run's next step (409 if none)
    GET  /api/threads/{id}/events    server-sent events of its running (or last) turn
    GET  /media/{path}               a file of the project (keyframes, the episode's video)

A turn runs in a worker thread (one at a time per conversation, and one at a time in the
project: a run sweeps the partial files other runs would be writing), and its progress is kept
in memory so a reloaded page picks the stream up again. Everything else is the conversation's
checkpoint: after a restart the page shows the conversations as they were left.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import threading
import time
from collections.abc import AsyncIterator
from contextlib import suppress
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from inkreel.chat import MAX_MESSAGE_CHARS, STOPPED, ChatError, ChatSession, list_threads
from inkreel.episode_view import episode_view
from inkreel.project import Project
from inkreel.run import CHAT_GATES
from inkreel.schemas.chat import ToolCall, ToolError

STATIC = Path(__file__).parent / "static"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
log = logging.getLogger("inkreel.web")


class WebError(Exception):
    """A request that cannot be done: its HTTP status and one line for the writer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ----------------------------------------------------------------------------- turns


class Job:
    """One turn running in a worker thread, and the events it gave so far (in order, kept
    for every subscriber: a page reloaded mid-render gets them again)."""

    def __init__(self, turn: int, text: str) -> None:
        self.turn = turn
        self.text = text
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.finished = False
        self.stop = threading.Event()  # set: the turn's run stops at its next step
        self.worker: threading.Thread | None = None
        self._lock = threading.Lock()
        self._watchers: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def add(self, name: str, data: dict[str, Any], last: bool = False) -> None:
        with self._lock:
            if self.finished:
                return
            self.events.append((name, data))
            self.finished = last
            watchers = list(self._watchers)
        for loop, wake in watchers:
            with suppress(RuntimeError):  # its loop is closed: the subscriber is gone
                loop.call_soon_threadsafe(wake.set)

    def progress(self, kind: str, payload: dict[str, Any]) -> None:
        """The turn's `on_event`: any event of the run, forwarded as it is."""
        self.add("progress", {"kind": kind, "data": payload})

    def since(self, start: int) -> tuple[list[tuple[str, dict[str, Any]]], bool]:
        with self._lock:
            return self.events[start:], self.finished

    async def stream(self, start: int = 0) -> AsyncIterator[ServerSentEvent]:
        """The events from `start` on, as they come, to the last one."""
        wake = asyncio.Event()
        watcher = (asyncio.get_running_loop(), wake)
        with self._lock:
            self._watchers.add(watcher)
        try:
            n = start
            while True:
                wake.clear()
                new, finished = self.since(n)
                for name, data in new:
                    yield ServerSentEvent(
                        data=json.dumps(data, ensure_ascii=False, default=str),
                        event=name,
                        id=f"{self.turn}-{n}",
                    )
                    n += 1
                if finished:
                    return
                await wake.wait()
        finally:
            with self._lock:
                self._watchers.discard(watcher)


class Desk:
    """The server's state: the project, its open conversations and their turns."""

    def __init__(self, project: Project, length_s: float = 60.0) -> None:
        self.project = project
        self.length_s = length_s
        self._lock = threading.Lock()
        self._sessions: dict[str, ChatSession] = {}
        self._fresh: list[str] = []  # made here, nothing said yet (not in the checkpoint)
        self._jobs: dict[str, Job] = {}
        self._turns = itertools.count(1)
        # One turn at a time runs in the project: a run sweeps the partial files of others.
        self._project_turn = threading.Lock()

    # ------------------------------------------------------------------ conversations

    def session(self, thread: str) -> ChatSession:
        with self._lock:
            if thread in self._sessions:
                return self._sessions[thread]
        try:
            session = ChatSession.open(self.project, thread, length_s=self.length_s)
        except ChatError as exc:
            raise WebError(404, one_line(exc)) from None
        with self._lock:
            return self._sessions.setdefault(thread, session)

    def new_thread(self) -> str:
        session = ChatSession.open(self.project, length_s=self.length_s)
        with self._lock:
            self._sessions[session.thread] = session
            self._fresh.insert(0, session.thread)
        return session.thread

    def running(self) -> list[str]:
        """The conversations whose turn is running now."""
        with self._lock:
            return [t for t, job in self._jobs.items() if not job.finished]

    def busy(self, thread: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(thread)
        return job if job is not None and not job.finished else None

    def threads(self) -> list[dict[str, Any]]:
        listed = list_threads(self.project)
        known = {t.thread for t in listed}
        with self._lock:
            fresh = [t for t in self._fresh if t not in known]
        rows: list[dict[str, Any]] = [
            {"thread": t, "episode": None, "stage": "idea", "last": ""} for t in fresh
        ]
        rows += [
            {"thread": t.thread, "episode": t.episode, "stage": t.stage, "last": t.last[:160]}
            for t in listed
        ]
        for row in rows:
            row["busy"] = self.busy(row["thread"]) is not None
        return rows

    def thread(self, thread: str) -> dict[str, Any]:
        """A conversation as the page shows it: its messages, its stage (the episode's own
        once there is one: an interrupted render is "rendering"), the episode's view."""
        session = self.session(thread)
        values = session.values()
        episode = values.get("episode")
        view = episode_view(self.project, episode, values)
        stage = view["stage"] or values.get("stage") or "idea"
        job = self.busy(thread)
        messages = [
            {"role": "writer" if m.type == "human" else "showrunner", "text": m.content}
            for m in values.get("messages") or []
            if m.type in ("human", "ai") and isinstance(m.content, str)
        ]
        return {
            "thread": thread,
            "stage": stage,
            "episode": episode,
            "messages": messages,
            "waiting": stage in CHAT_GATES and session.waiting() is not None,
            "busy": job is not None,
            "pending": job.text if job is not None else None,
            "length_s": session.context.length_s,
            # What the conversation settled before the episode exists.
            "loglines": list(values.get("loglines") or []),
            "logline": values.get("logline"),
            "outline": list(values.get("outline") or []),
            "episode_view": view,
        }

    # ------------------------------------------------------------------ turns

    def start(self, thread: str, text: str, calls: list[ToolCall] | None) -> Job:
        """Start a turn in a worker thread; 409 while the conversation's last one runs."""
        session = self.session(thread)
        with self._lock:
            running = self._jobs.get(thread)
            if running is not None and not running.finished:
                raise WebError(
                    409,
                    f"the showrunner is still working on the last message in {thread}; "
                    "wait for its reply",
                )
            job = Job(next(self._turns), text)
            self._jobs[thread] = job
        job.add("start", {"text": text, "thread": thread})
        job.worker = threading.Thread(
            target=self._work, args=(session, job, text, calls), name=f"turn-{thread}", daemon=True
        )
        job.worker.start()
        return job

    def stop(self, thread: str) -> Job:
        """Stop the conversation's running turn (its run stops at its next step and keeps
        what it made); 409 when none runs."""
        job = self.busy(thread)
        if job is None:
            raise WebError(409, f"nothing is running in {thread}")
        job.stop.set()
        return job

    def stop_all(self, timeout_s: float) -> list[str]:
        """Stop every running turn and wait up to `timeout_s` for them; the conversations
        whose turn still runs then."""
        with self._lock:
            jobs = {t: j for t, j in self._jobs.items() if not j.finished}
        for job in jobs.values():
            job.stop.set()
        deadline = time.monotonic() + timeout_s
        for job in jobs.values():
            if job.worker is not None:
                job.worker.join(max(0.0, deadline - time.monotonic()))
        return [t for t, job in jobs.items() if job.worker is not None and job.worker.is_alive()]

    def job(self, thread: str) -> Job | None:
        with self._lock:
            return self._jobs.get(thread)

    def _work(
        self, session: ChatSession, job: Job, text: str, calls: list[ToolCall] | None
    ) -> None:
        try:
            if not self._project_turn.acquire(blocking=False):
                job.progress("queued", {"why": "another conversation of the project is working"})
                self._project_turn.acquire()
            try:
                replies = session.send(text, on_event=job.progress, calls=calls, stop=job.stop)
            finally:
                self._project_turn.release()
        except ChatError as exc:
            if str(exc) == STOPPED:
                job.add("stopped", {"text": one_line(exc)}, last=True)
                return
            job.add("error", {"error": one_line(exc)}, last=True)
            return
        except Exception as exc:
            log.exception("turn of %s failed", session.thread)
            job.add("error", {"error": f"the turn failed: {one_line(exc)}"}, last=True)
            return
        for reply in replies:
            job.add("reply", {"text": reply})
        job.add("done", {"replies": len(replies)}, last=True)

    # ------------------------------------------------------------------ files

    def media(self, path: str) -> Path:
        """A file inside the project (after symlinks); 403 outside it, 404 when missing."""
        root = self.project.root.resolve()
        if not path or path.startswith(("/", "\\")) or "\x00" in path:
            raise WebError(403, "only files inside the project are served")
        try:
            target = (root / path).resolve()
        except (OSError, RuntimeError):  # a symlink loop
            raise WebError(404, f"no file {path} in the project") from None
        if not target.is_relative_to(root):
            raise WebError(403, "only files inside the project are served")
        if not target.is_file():
            raise WebError(404, f"no file {path} in the project")
        return target


# ----------------------------------------------------------------------------- requests


def _calls(raw: Any) -> list[ToolCall] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise WebError(400, "calls is a list of {name, args}")
    calls = []
    for k, item in enumerate(raw):
        try:
            call = ToolCall.model_validate(item)
            call.action()
        except ValidationError:
            raise WebError(400, f"calls[{k}] is not a tool call: give {{name, args}}") from None
        except ToolError as exc:
            raise WebError(400, f"calls[{k}]: {one_line(exc)}") from None
        calls.append(call)
    return calls or None


def _said(calls: list[ToolCall]) -> str:
    return "; ".join(
        call.name.replace("_", " ") + "".join(f" {k}={v}" for k, v in call.args.items())
        for call in calls
    )


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise WebError(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise WebError(400, "the body is a JSON object")
    return body


def _desk(request: Request) -> Desk:
    desk = request.app.state.desk
    assert isinstance(desk, Desk)
    return desk


async def index(request: Request) -> Response:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


async def threads(request: Request) -> Response:
    return JSONResponse({"threads": await run_in_threadpool(_desk(request).threads)})


async def new_thread(request: Request) -> Response:
    thread = await run_in_threadpool(_desk(request).new_thread)
    return JSONResponse({"thread": thread}, status_code=201)


async def thread(request: Request) -> Response:
    detail = await run_in_threadpool(_desk(request).thread, request.path_params["thread"])
    return JSONResponse(detail)


async def message(request: Request) -> Response:
    thread = request.path_params["thread"]
    body = await _body(request)
    text = body.get("text", "")
    if not isinstance(text, str):
        raise WebError(400, "text is a string")
    calls = _calls(body.get("calls"))
    if not text.strip():
        if not calls:
            raise WebError(400, "the message is empty: say something")
        text = _said(calls)
    if len(text) > MAX_MESSAGE_CHARS:
        raise WebError(
            400, f"the message is {len(text)} characters; keep it under {MAX_MESSAGE_CHARS}"
        )
    job = await run_in_threadpool(_desk(request).start, thread, text, calls)
    return JSONResponse({"thread": thread, "turn": job.turn}, status_code=202)


async def stop(request: Request) -> Response:
    job = await run_in_threadpool(_desk(request).stop, request.path_params["thread"])
    return JSONResponse({"thread": request.path_params["thread"], "turn": job.turn}, 202)


async def events(request: Request) -> Response:
    thread = request.path_params["thread"]
    await run_in_threadpool(_desk(request).session, thread)  # 404 for an unknown one
    job = _desk(request).job(thread)
    if job is None:
        return EventSourceResponse(_idle(), ping=15)
    start = 0
    last = request.headers.get("last-event-id", "")
    turn, _, n = last.partition("-")
    if turn == str(job.turn) and n.isdigit():
        start = int(n) + 1
    return EventSourceResponse(job.stream(start), ping=15)


async def media(request: Request) -> Response:
    path = await run_in_threadpool(_desk(request).media, request.path_params["path"])
    return FileResponse(path)


async def web_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WebError)
    return JSONResponse({"error": str(exc)}, status_code=exc.status)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse(
        {"error": exc.detail or "error"}, status_code=exc.status_code, headers=exc.headers
    )


async def server_error(request: Request, exc: Exception) -> Response:
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"error": f"the server failed: {one_line(exc)}"}, status_code=500)


def create_app(project: Project, length_s: float = 60.0) -> Starlette:
    """The web page's app for one project; a new conversation makes `length_s` episodes."""
    routes = [
        Route("/", index),
        Route("/api/threads", threads, methods=["GET"]),
        Route("/api/threads", new_thread, methods=["POST"]),
        Route("/api/threads/{thread}", thread, methods=["GET"]),
        Route("/api/threads/{thread}/messages", message, methods=["POST"]),
        Route("/api/threads/{thread}/stop", stop, methods=["POST"]),
        Route("/api/threads/{thread}/events", events, methods=["GET"]),
        Route("/media/{path:path}", media, methods=["GET", "HEAD"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(LocalOnly)],
        exception_handlers={WebError: web_error, HTTPException: http_error, 500: server_error},
    )
    app.state.desk = Desk(project, length_s)
    return app


async def _idle() -> AsyncIterator[ServerSentEvent]:
    yield ServerSentEvent(data="{}", event="idle")


class LocalOnly:
    """Answer only requests for this machine's own names (a page elsewhere that rebinds its
    DNS name to 127.0.0.1 gets nothing), and no changes asked by another origin's page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            host = headers.get("host", "")
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            origin = headers.get("origin")
            refused = None
            if name not in LOCAL_HOSTS:
                refused = f"this server answers only for 127.0.0.1, not {host or 'no host'}"
            elif (
                origin is not None
                and scope["method"] not in ("GET", "HEAD")
                and origin not in (f"http://{host}", f"https://{host}")
            ):
                refused = f"requests from {origin} are refused"
            if refused is not None:
                response = JSONResponse({"error": refused}, status_code=403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
