"""The vendors' shared task flow: create a task, poll it, wait for it, download its MP4.

A task is paid for once it is created, so ``generate(request, out, journal)`` stores its id
through a ``TaskJournal`` (the project's ledger) before the first poll. ``timeout_s`` bounds
one HTTP request and ``max_wait_s`` the wait for the task. A retry of the same call, or a
resume after the process died, finds the stored id and polls that task; a new task is created
only when the stored one ended failed, cancelled or expired, is unknown to the vendor (404),
or finished with a download URL that has expired. A task given up on after ``max_wait_s``
while still queued is cancelled; a running one cannot be (both vendors) and is left stored,
so a later retry polls it again.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Protocol, Self, TypedDict

import httpx
from pydantic import BaseModel, Field

from inkreel.project import atomic_path
from inkreel.providers.retry_after import parse_retry_after
from inkreel.providers.video.errors import VideoCallError, VideoErrorKind
from inkreel.providers.video.mp4 import Mp4Info, inspect_mp4

log = logging.getLogger(__name__)

TaskState = Literal["queued", "running", "succeeded", "failed", "cancelled", "expired"]
TERMINAL_STATES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled", "expired"})

# Vendor error codes that mean "the content was refused by a safety check".
REFUSAL_CODE = re.compile(r"sensitive|policy|audit|risk|violation|moderation", re.IGNORECASE)
MAX_VENDOR_TEXT = 500
# The clip lengths, in whole seconds, a vendor is asked for (a longer shot is fitted from it).
CLIP_SECONDS = (2, 10)


class VideoRequest(BaseModel):
    """One shot to animate: a prompt and the frame it starts from."""

    prompt: str = Field(min_length=1)
    first_frame: Path
    last_frame: Path | None = None
    references: list[Path] = Field(default_factory=list)
    duration_s: int = Field(default=5, ge=1, le=60)
    resolution: str = "720p"
    ratio: str = "16:9"
    audio: bool = False
    seed: int | None = None


class VideoResult(BaseModel):
    """A downloaded clip and what the vendor reported for it."""

    path: Path
    provider: str
    model: str
    task_id: str
    seconds: float | None = None
    cost_units: dict[str, float] = Field(default_factory=dict)
    has_audio: bool = False


class TaskJournal(Protocol):
    """Durable storage for the task a paid call started (the ledger's ``JobJournal``)."""

    def task_id(self) -> str | None:
        """The task this call already started and that may still deliver, if any."""
        ...

    def record(self, task_id: str) -> None:
        """Keep a newly created task durably, before it is polled."""
        ...

    def finished(self, task_id: str, state: str) -> None:
        """Note the state the task was last seen in."""
        ...


class TaskStatus(TypedDict):
    """A vendor's task document reduced to what the pipeline needs; ``raw`` keeps the rest."""

    task_id: str
    state: TaskState
    video_url: str | None
    error_code: str | None
    error_message: str | None
    usage: dict[str, float]
    duration_s: float | None
    has_audio: bool | None
    raw: dict[str, Any]


def _sniff_image_mime(head: bytes) -> str | None:
    """The MIME type from the file's magic bytes (not its name)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def image_data_url(path: Path, max_bytes: int | None = None) -> str:
    """``data:image/<format>;base64,<data>`` for a PNG, JPEG or WebP file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise VideoCallError(
            "bad_request", f"cannot read image {path}: {exc.strerror or exc}"
        ) from None
    if not data:
        raise VideoCallError("bad_request", f"image {path} is empty")
    if max_bytes is not None and len(data) > max_bytes:
        raise VideoCallError(
            "bad_request",
            f"image {path} is {len(data)} bytes; this provider takes at most {max_bytes}",
        )
    mime = _sniff_image_mime(data[:16])
    if mime is None:
        raise VideoCallError("bad_request", f"image {path} is not a PNG, JPEG or WebP file")
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def as_object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


class TaskVideoClient:
    provider = ""
    auth_scheme = ""
    max_image_bytes: int | None = None

    def __init__(
        self,
        api_key: str,
        base_url: str,
        model: str,
        timeout_s: float = 30,
        poll_interval_s: float = 5,
        max_wait_s: float = 600,
        sleep: Callable[[float], None] = time.sleep,
        *,
        download_timeout_s: float | None = None,
        max_poll_errors: int = 5,
        image_url: Callable[[Path], str] | None = None,
        use_references: bool = False,
        extra_body: dict[str, Any] | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        if not api_key:
            raise VideoCallError("auth", f"{self.provider}: no API key configured")
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.poll_interval_s = poll_interval_s
        self.max_wait_s = max_wait_s
        self.max_poll_errors = max_poll_errors
        self._sleep = sleep
        self._timeout = httpx.Timeout(timeout_s)
        self._download_timeout = httpx.Timeout(download_timeout_s or max(timeout_s, 60.0))
        self._image_url = image_url
        self.use_references = use_references
        self.extra_body = dict(extra_body or {})
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client()

    def __repr__(self) -> str:  # never the key
        return f"{type(self).__name__}(base_url={self.base_url!r}, model={self.model!r})"

    # -- lifecycle --
    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- vendor hooks --
    def _create_call(self, request: VideoRequest) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    def _task_id_from(self, data: dict[str, Any]) -> str | None:
        raise NotImplementedError

    def _status_path(self, task_id: str) -> str:
        raise NotImplementedError

    def _status_from(self, task_id: str, data: dict[str, Any]) -> TaskStatus:
        raise NotImplementedError

    def _error_from(self, data: Any) -> tuple[str | None, str | None]:
        raise NotImplementedError

    def _cancel_call(self, task_id: str) -> tuple[str, str, dict[str, Any] | None]:
        """Method, path and body of the vendor's cancel call."""
        raise NotImplementedError

    # -- helpers --
    def _redact(self, text: str) -> str:
        if self._api_key:
            text = text.replace(self._api_key, "[redacted]")
        return text

    def _error(self, kind: VideoErrorKind, detail: str, **fields: Any) -> VideoCallError:
        return VideoCallError(kind, self._redact(f"{self.provider}: {detail}"), **fields)

    def _image(self, path: Path) -> str:
        if self._image_url is not None:
            return self._image_url(path)
        try:
            return image_data_url(path, self.max_image_bytes)
        except VideoCallError as exc:
            raise self._error(exc.kind, str(exc)) from None

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"{self.auth_scheme} {self._api_key}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, empty_ok: bool = False
    ) -> dict[str, Any]:
        """One API call; every failure becomes a VideoCallError (no retry here).

        ``empty_ok`` takes an empty body as ``{}`` (a cancel may answer with nothing).
        """
        url = f"{self.base_url}{path}"
        try:
            response = self._http.request(
                method, url, json=body, headers=self._headers(), timeout=self._timeout
            )
        except httpx.TimeoutException:
            raise self._error(
                "timeout", f"{method} {path} timed out after {self._timeout.read}s"
            ) from None
        except httpx.HTTPError as exc:
            raise self._error(
                "server_error", f"{method} {path} failed: {type(exc).__name__}: {exc}"
            ) from None
        if response.status_code >= 400:
            raise self._http_error(method, path, response)
        if empty_ok and not response.content.strip():
            return {}
        try:
            data = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise self._error(
                "invalid_output",
                f"{method} {path} answered {response.status_code} with a body that is not JSON",
                status=response.status_code,
            ) from None
        if not isinstance(data, dict):
            raise self._error(
                "invalid_output",
                f"{method} {path} answered with JSON that is not an object",
                status=response.status_code,
            )
        return data

    def _http_error(self, method: str, path: str, response: httpx.Response) -> VideoCallError:
        status = response.status_code
        try:
            body: Any = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        code, message = self._error_from(body) if body is not None else (None, None)
        if message is None and body is None:
            message = response.text.strip()[:MAX_VENDOR_TEXT] or None
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        kind: VideoErrorKind
        if status == 429:
            kind = "rate_limited"
        elif status in (401, 403):
            kind = "auth"
        elif status >= 500:
            kind = "server_error"
        elif code and REFUSAL_CODE.search(code):
            kind = "refusal"
        else:
            kind = "bad_request"
        detail = f"{method} {path} -> HTTP {status}"
        if code:
            detail += f" {code}"
        if message:
            detail += f": {message[:MAX_VENDOR_TEXT]}"
        if retry_after is not None:
            detail += f" (retry after {retry_after:g}s)"
        return self._error(kind, detail, status=status, retry_after=retry_after, code=code)

    def _references_for(self, request: VideoRequest) -> list[Path]:
        """The reference images to send: only in reference mode and without a last frame."""
        if not request.references:
            return []
        if not self.use_references:
            log.warning(
                "%s: %d reference image(s) not sent: first-frame mode pins the opening frame "
                "and takes no references (use_references=True switches to reference mode)",
                self.provider,
                len(request.references),
            )
            return []
        if request.last_frame is not None:
            log.warning(
                "%s: %d reference image(s) not sent: a last frame is set, and first/last-frame "
                "mode takes no references",
                self.provider,
                len(request.references),
            )
            return []
        return list(request.references)

    # -- public API --
    def create(self, request: VideoRequest) -> str:
        """Start a generation task and return its id. Not retried: a retry could pay twice."""
        path, body = self._create_call(request)
        body.update(self.extra_body)
        data = self._call("POST", path, body)
        task_id = self._task_id_from(data)
        if not task_id:
            raise self._error("invalid_output", f"POST {path} answered without a task id")
        log.info("%s: created task %s (%s)", self.provider, task_id, self.model)
        return task_id

    def poll(self, task_id: str) -> TaskStatus:
        """The task's current state, once."""
        return self._status_from(task_id, self._call("GET", self._status_path(task_id)))

    def cancel(self, task_id: str) -> bool:
        """Ask the vendor to cancel a task we abandon; True if it accepted.

        Only a queued task can be cancelled, and Ark's call deletes a finished task's record
        instead (module docstring), so call it only for a task last seen queued. Never
        raises: a refusal is logged and the task is left to finish.
        """
        method, path, body = self._cancel_call(task_id)
        try:
            self._call(method, path, body, empty_ok=True)
        except VideoCallError as exc:
            log.warning("%s: could not cancel task %s (%s)", self.provider, task_id, exc)
            return False
        log.info("%s: cancelled task %s", self.provider, task_id)
        return True

    def wait(self, task_id: str) -> TaskStatus:
        """Poll until the task reaches a terminal state and return that status.

        Sleeps ``poll_interval_s`` between polls (longer if the vendor asks with Retry-After)
        and gives up with ``VideoCallError("timeout")`` (its ``state`` the last one seen) after
        ``max_wait_s`` of sleeping or of wall-clock time. Up to ``max_poll_errors`` transient
        poll failures in a row (429, 5xx, timeouts) are waited out; other errors are raised at
        once.
        """
        started = time.monotonic()
        waited = 0.0
        errors = 0
        last_state: str | None = None
        while True:
            delay = self.poll_interval_s
            try:
                status = self.poll(task_id)
            except VideoCallError as exc:
                if not exc.retryable or errors >= self.max_poll_errors:
                    exc.task_id = task_id
                    raise
                errors += 1
                delay = max(delay, exc.retry_after or 0.0)
                log.warning("%s: poll of %s failed (%s); retrying", self.provider, task_id, exc)
            else:
                errors = 0
                last_state = status["state"]
                if last_state in TERMINAL_STATES:
                    return status
            if waited + delay > self.max_wait_s or time.monotonic() - started > self.max_wait_s:
                raise self._error(
                    "timeout",
                    f"task {task_id} did not finish within {self.max_wait_s:g}s",
                    task_id=task_id,
                    state=last_state,
                )
            self._sleep(delay)
            waited += delay

    def raise_for_status(self, status: TaskStatus) -> str:
        """The video URL of a succeeded task, or the VideoCallError its status stands for."""
        state = status["state"]
        task_id = status["task_id"]
        if state == "succeeded":
            if not status["video_url"]:
                raise self._error(
                    "invalid_output",
                    f"task {task_id} succeeded without a video URL",
                    task_id=task_id,
                )
            return status["video_url"]
        code = status["error_code"]
        message = status["error_message"]
        what = " ".join(p for p in (code, message) if p) or "no reason given"
        if state in ("cancelled", "expired"):
            raise self._error(
                "failed", f"task {task_id} {state}: {what}", code=code, task_id=task_id
            )
        if state == "failed":
            kind: VideoErrorKind = "refusal" if code and REFUSAL_CODE.search(code) else "failed"
            raise self._error(kind, f"task {task_id} failed: {what}", code=code, task_id=task_id)
        raise self._error("failed", f"task {task_id} is not finished ({state})", task_id=task_id)

    def download(self, url: str, out: Path) -> Mp4Info:
        """Fetch the MP4 at ``url`` to ``out`` atomically and check it is a whole MP4.

        The vendor's URL is pre-signed, so no Authorization header is sent with it. Nothing is
        left at ``out`` when the download fails or is not a whole MP4.
        """
        out = Path(out)
        try:
            with atomic_path(out) as tmp:
                try:
                    with self._http.stream(
                        "GET", url, timeout=self._download_timeout, follow_redirects=True
                    ) as response:
                        if response.status_code >= 400:
                            kind: VideoErrorKind = (
                                "server_error" if response.status_code >= 500 else "failed"
                            )
                            raise self._error(
                                kind,
                                f"video download answered HTTP {response.status_code}",
                                status=response.status_code,
                            )
                        with tmp.open("wb") as f:
                            for chunk in response.iter_bytes(1 << 16):
                                f.write(chunk)
                except httpx.TimeoutException:
                    raise self._error("timeout", "video download timed out") from None
                except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
                    raise self._error(
                        "invalid_output",
                        f"video download was cut off ({type(exc).__name__}: {exc})",
                    ) from None
                except httpx.HTTPError as exc:
                    raise self._error(
                        "server_error", f"video download failed: {type(exc).__name__}: {exc}"
                    ) from None
                try:
                    info = inspect_mp4(tmp)
                except VideoCallError as exc:
                    raise self._error(exc.kind, str(exc)) from None
        except OSError as exc:
            raise self._error("invalid_output", f"cannot write {out}: {exc}") from None
        return info

    def generate(
        self, request: VideoRequest, out: Path, journal: TaskJournal | None = None
    ) -> VideoResult:
        """Create (or resume), wait, download: a checked MP4 at ``out`` or a VideoCallError.

        With a ``journal``, a new task's id is stored before the first poll, and the task it
        already holds is polled instead of creating another (module docstring).
        """
        task_id = self._stored_task(journal)
        resumed = task_id is not None
        if task_id is None:
            task_id = self.create(request)
            if journal is not None:
                journal.record(task_id)  # before any poll: a kill from here on loses nothing
        status = self._wait_or_abandon(task_id, journal)
        if journal is not None:
            journal.finished(task_id, status["state"])
        url = self.raise_for_status(status)
        try:
            info = self.download(url, out)
        except VideoCallError as exc:
            exc.task_id = task_id
            if resumed and journal is not None and exc.kind == "failed":
                # The stored task's URL has expired (24 h): its clip can only be made anew.
                log.warning(
                    "%s: task %s's video is gone (%s); creating a new task",
                    self.provider,
                    task_id,
                    exc,
                )
                journal.finished(task_id, "expired")
                return self.generate(request, out, journal)
            raise
        return VideoResult(
            path=Path(out),
            provider=self.provider,
            model=str(status["raw"].get("model") or self.model),
            task_id=task_id,
            seconds=info["seconds"] or status["duration_s"] or float(request.duration_s),
            cost_units=status["usage"],
            has_audio=info["has_audio"],
        )

    def _stored_task(self, journal: TaskJournal | None) -> str | None:
        """The journal's task if the vendor may still deliver it; None means create one."""
        task_id = journal.task_id() if journal is not None else None
        if journal is None or task_id is None:
            return None
        try:
            state: str = self.poll(task_id)["state"]
        except VideoCallError as exc:
            if exc.status != 404:
                exc.task_id = task_id
                raise  # transient or configuration: a later retry polls it again
            state = "expired"  # the vendor no longer knows it
        if state in ("failed", "cancelled", "expired"):
            log.info("%s: stored task %s %s; creating a new one", self.provider, task_id, state)
            journal.finished(task_id, state)
            return None
        log.info("%s: polling stored task %s (%s)", self.provider, task_id, state)
        return task_id

    def _wait_or_abandon(self, task_id: str, journal: TaskJournal | None) -> TaskStatus:
        """Wait for the task; one given up on while still queued is cancelled."""
        try:
            return self.wait(task_id)
        except VideoCallError as exc:
            abandoned = exc.kind == "timeout" and exc.state == "queued"
            if abandoned and self.cancel(task_id) and journal is not None:
                journal.finished(task_id, "cancelled")
            raise
