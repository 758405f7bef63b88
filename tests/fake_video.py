"""A local stand-in for the Ark (Seedance) and Vidu video-task APIs, for tests only.

It listens on 127.0.0.1 on a free port, implements the endpoints as their public docs
describe them (see inkreel/providers/video/), runs each task through queued -> running ->
succeeded (or failed) over a set number of polls, serves a real MP4 for download, records
every request and can be told to misbehave: an HTTP error with Retry-After, a slow answer,
a failed task, a cut-off or non-MP4 download. A task can be made to take as long as a test
needs (``polls_to_finish`` and ``queued_polls`` can change while tasks run), and a queued
task can be cancelled (Ark ``DELETE``, Vidu ``POST .../cancel``).
"""

from __future__ import annotations

import itertools
import json
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

ARK_TASKS = "/api/v3/contents/generations/tasks"
VIDU_CREATE = {
    "/ent/v2/img2video": "img2video",
    "/ent/v2/start-end2video": "headtailimg2video",
    "/ent/v2/reference2video": "reference2video",
}
MAX_DELAY_S = 5.0  # a "slow" answer never waits longer than this
Route = Literal[
    "ark_create", "ark_get", "ark_cancel", "vidu_create", "vidu_get", "vidu_cancel", "download"
]
Truncation = Literal["content-length", "close", "html"]


def make_mp4(path: Path, audio: bool) -> bytes:
    """A 1-second, 2-frame MP4 (with a silent AAC track if ``audio``) from the bundled ffmpeg."""
    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    cmd += ["-f", "lavfi", "-i", "color=c=blue:s=64x64:r=2"]
    if audio:
        cmd += ["-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-c:a", "aac", "-shortest"]
    cmd += ["-frames:v", "2", "-t", "1", "-c:v", "mpeg4", str(path)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return path.read_bytes()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout tests) leaves the handler writing to a closed socket.
        pass


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    json: Any


@dataclass
class Fault:
    route: Route
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    times: int = 1


@dataclass
class Task:
    id: str
    vendor: Literal["ark", "vidu"]
    model: str
    audio: bool
    duration: int
    polls: int = 0
    fail: tuple[str, str] | None = None
    cancelled: bool = False


class FakeVideoServer:
    """Use as ``with FakeVideoServer(...) as fake:``; ``fake.base_url`` is the API base."""

    def __init__(
        self,
        api_key: str,
        silent_mp4: bytes,
        audio_mp4: bytes,
        polls_to_finish: int = 3,
    ) -> None:
        self.api_key = api_key
        self.videos = {False: silent_mp4, True: audio_mp4}
        self.polls_to_finish = polls_to_finish
        self.queued_polls = 1  # polls a task answers queued before running
        self.requests: list[Recorded] = []
        self.tasks: dict[str, Task] = {}
        self.faults: list[Fault] = []
        self.truncate: Truncation | None = None
        self._next_fail: tuple[str, str] | None = None
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # notified on every request
        self._stop = threading.Event()
        self._httpd = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # -- control --
    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def add_fault(
        self,
        route: Route,
        status: int = 200,
        body: Any = None,
        headers: dict[str, str] | None = None,
        delay_s: float = 0.0,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls to ``route`` with ``status``/``body`` after a delay.

        A fault with status 200 and no body only delays the normal answer.
        """
        with self._lock:
            self.faults.append(Fault(route, status, body, dict(headers or {}), delay_s, times))

    def fail_next_task(self, code: str, message: str) -> None:
        """The next task created ends in the vendor's failed state with this error."""
        self._next_fail = (code, message)

    def polls(self, task_id: str) -> int:
        return self.tasks[task_id].polls

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 60.0) -> bool:
        """Block until ``predicate()`` holds, re-checked after each request (a safety bound)."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout_s)

    def is_queued(self, task: Task) -> bool:
        return (
            not task.cancelled
            and task.polls <= self.queued_polls
            and task.polls < self.polls_to_finish
        )

    def is_finished(self, task: Task) -> bool:
        return task.cancelled or task.polls >= self.polls_to_finish

    def requests_to(self, prefix: str, method: str | None = None) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if r.path.startswith(prefix) and (method is None or r.method == method)
        ]

    def __enter__(self) -> FakeVideoServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    # -- internals --
    def _take_fault(self, route: Route) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.route == route and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def _new_task(
        self, vendor: Literal["ark", "vidu"], model: str, audio: bool, duration: int
    ) -> Task:
        prefix = "cgt-2026" if vendor == "ark" else "9100"
        task = Task(f"{prefix}{next(self._ids):06d}", vendor, model, audio, duration)
        task.fail, self._next_fail = self._next_fail, None
        self.tasks[task.id] = task
        return task

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            # -- plumbing --
            def _send_json(
                self, status: int, body: Any, headers: dict[str, str] | None = None
            ) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def _record(self) -> Any:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except json.JSONDecodeError:
                    body = raw.decode("utf-8", "replace")
                with server._changed:
                    server.requests.append(
                        Recorded(self.command, self.path, dict(self.headers.items()), body)
                    )
                    server._changed.notify_all()
                return body

            def _fault(self, route: Route) -> bool:
                fault = server._take_fault(route)
                if fault is None:
                    return False
                if fault.delay_s:
                    server._stop.wait(min(fault.delay_s, MAX_DELAY_S))
                if fault.status == 200 and fault.body is None:
                    return False
                self._send_json(fault.status, fault.body or {}, fault.headers)
                return True

            def _authorized(self, scheme: str, vendor: str) -> bool:
                got = self.headers.get("Authorization", "")
                if got == f"{scheme} {server.api_key}":
                    return True
                # Echo what was sent, as some APIs do, so tests can check that it is redacted.
                if vendor == "ark":
                    body: Any = {
                        "error": {
                            "code": "AuthenticationError",
                            "message": f"The API key in the request is missing or invalid: {got}",
                            "type": "Unauthorized",
                        }
                    }
                else:
                    body = {
                        "code": 401,
                        "reason": "Unauthorized",
                        "message": f"unauthorized: {got}",
                    }
                self._send_json(401, body)
                return False

            # -- routes --
            def do_POST(self) -> None:
                body = self._record()
                if self.path == ARK_TASKS:
                    self._ark_create(body)
                elif self.path in VIDU_CREATE:
                    self._vidu_create(body)
                elif self.path.startswith("/ent/v2/tasks/") and self.path.endswith("/cancel"):
                    self._vidu_cancel(self.path[len("/ent/v2/tasks/") : -len("/cancel")])
                else:
                    self._send_json(404, {"error": {"code": "NotFound", "message": self.path}})

            def do_DELETE(self) -> None:
                self._record()
                if self.path.startswith(ARK_TASKS + "/"):
                    self._ark_cancel(self.path[len(ARK_TASKS) + 1 :])
                else:
                    self._send_json(404, {"error": {"code": "NotFound", "message": self.path}})

            def do_GET(self) -> None:
                self._record()
                if self.path.startswith(ARK_TASKS + "/"):
                    self._ark_get(self.path[len(ARK_TASKS) + 1 :])
                elif self.path.startswith("/ent/v2/tasks/") and self.path.endswith("/creations"):
                    self._vidu_get(self.path[len("/ent/v2/tasks/") : -len("/creations")])
                elif self.path.startswith("/files/") and self.path.endswith(".mp4"):
                    self._download(self.path[len("/files/") : -len(".mp4")])
                else:
                    self._send_json(404, {"error": {"code": "NotFound", "message": self.path}})

            def _ark_create(self, body: Any) -> None:
                if not self._authorized("Bearer", "ark") or self._fault("ark_create"):
                    return
                if (
                    not isinstance(body, dict)
                    or not body.get("model")
                    or not isinstance(body.get("content"), list)
                ):
                    self._send_json(
                        400,
                        {
                            "error": {
                                "code": "MissingParameter",
                                "message": "model and content are required",
                                "type": "BadRequest",
                            }
                        },
                    )
                    return
                task = server._new_task(
                    "ark",
                    body["model"],
                    bool(body.get("generate_audio")),
                    int(body.get("duration", 5)),
                )
                self._send_json(200, {"id": task.id})

            def _ark_get(self, task_id: str) -> None:
                if not self._authorized("Bearer", "ark") or self._fault("ark_get"):
                    return
                task = server.tasks.get(task_id)
                if task is None or task.vendor != "ark":
                    self._send_json(
                        404,
                        {
                            "error": {
                                "code": "ResourceNotFound",
                                "message": "task not found",
                                "type": "NotFound",
                            }
                        },
                    )
                    return
                task.polls += 1
                doc: dict[str, Any] = {
                    "id": task.id,
                    "model": task.model,
                    "created_at": 1780000000,
                    "updated_at": 1780000000 + task.polls,
                }
                if task.cancelled:
                    doc["status"] = "cancelled"
                elif task.polls < server.polls_to_finish:
                    doc["status"] = "queued" if server.is_queued(task) else "running"
                elif task.fail:
                    doc["status"] = "failed"
                    doc["error"] = {"code": task.fail[0], "message": task.fail[1]}
                else:
                    doc.update(
                        status="succeeded",
                        content={"video_url": f"{server.base_url}/files/{task.id}.mp4"},
                        usage={"completion_tokens": 108900, "total_tokens": 108900},
                        seed=42,
                        resolution="720p",
                        ratio="16:9",
                        duration=task.duration,
                        framespersecond=24,
                        generate_audio=task.audio,
                    )
                self._send_json(200, doc)

            def _vidu_create(self, body: Any) -> None:
                if not self._authorized("Token", "vidu") or self._fault("vidu_create"):
                    return
                if not isinstance(body, dict) or not body.get("model") or not body.get("images"):
                    self._send_json(
                        400,
                        {
                            "code": 400,
                            "reason": "FieldLacking",
                            "message": "field is missing or empty: model, images",
                        },
                    )
                    return
                task = server._new_task(
                    "vidu", body["model"], bool(body.get("audio")), int(body.get("duration", 5))
                )
                self._send_json(
                    200,
                    {
                        "task_id": task.id,
                        "type": VIDU_CREATE[self.path],
                        "state": "created",
                        "model": task.model,
                        "prompt": body.get("prompt", ""),
                        "duration": task.duration,
                        "seed": body.get("seed", 0),
                        "resolution": body.get("resolution", "720p"),
                        "credits": 10,
                        "created_at": "2026-01-01T15:41:31.968916Z",
                    },
                )

            def _vidu_get(self, task_id: str) -> None:
                if not self._authorized("Token", "vidu") or self._fault("vidu_get"):
                    return
                task = server.tasks.get(task_id)
                if task is None or task.vendor != "vidu":
                    self._send_json(
                        404, {"code": 404, "reason": "TaskNotFound", "message": "task not found"}
                    )
                    return
                task.polls += 1
                doc: dict[str, Any] = {
                    "id": task.id,
                    "err_code": "",
                    "credits": 10,
                    "payload": "",
                    "creations": [],
                }
                if task.cancelled:  # assumed: Vidu documents no state for a cancelled task
                    doc.update(state="failed", err_code="TaskCanceled", credits=0)
                elif task.polls < server.polls_to_finish:
                    doc["state"] = "queueing" if server.is_queued(task) else "processing"
                elif task.fail:
                    doc.update(state="failed", err_code=task.fail[0], credits=0)
                else:
                    doc.update(
                        state="success",
                        creations=[
                            {
                                "id": f"{task.id}-1",
                                "url": f"{server.base_url}/files/{task.id}.mp4",
                                "cover_url": f"{server.base_url}/files/{task.id}.jpg",
                            }
                        ],
                    )
                self._send_json(200, doc)

            def _ark_cancel(self, task_id: str) -> None:
                # Cancel a queued task, delete a finished one's record, refuse a running one
                # (the error body's code is made up: none was found documented).
                if not self._authorized("Bearer", "ark") or self._fault("ark_cancel"):
                    return
                task = server.tasks.get(task_id)
                if task is None or task.vendor != "ark":
                    self._send_json(404, {"error": {"code": "ResourceNotFound", "message": "-"}})
                elif server.is_queued(task):
                    task.cancelled = True
                    self._send_json(200, {})
                elif server.is_finished(task):
                    del server.tasks[task_id]
                    self._send_json(200, {})
                else:
                    body = {"error": {"code": "OperationDenied", "message": "task is running"}}
                    self._send_json(400, body)

            def _vidu_cancel(self, task_id: str) -> None:
                if not self._authorized("Token", "vidu") or self._fault("vidu_cancel"):
                    return
                task = server.tasks.get(task_id)
                if task is None or task.vendor != "vidu":
                    self._send_json(404, {"code": 404, "reason": "TaskNotFound", "message": "-"})
                elif server.is_queued(task):
                    task.cancelled = True
                    self._send_json(200, {})
                else:
                    message = "task state is scheduled, can not cancel"
                    self._send_json(400, {"code": 400, "reason": "BadRequest", "message": message})

            def _download(self, task_id: str) -> None:
                if self._fault("download"):
                    return
                task = server.tasks.get(task_id)
                if task is None:
                    self._send_json(404, {"message": "no such file"})
                    return
                data = server.videos[task.audio]
                if server.truncate == "html":
                    page = b"<html><body>Access denied</body></html>"
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                if server.truncate != "close":
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if server.truncate is None:
                    self.wfile.write(data)
                else:  # half the file, then the connection closes
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True

        return Handler
