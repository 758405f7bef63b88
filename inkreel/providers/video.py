"""Image-to-video providers: Seedance 2.0 (Volcengine Ark / BytePlus ModelArk) and Vidu.

Both vendors run an asynchronous task: create it, poll it until a terminal state, then
download the MP4 from a short-lived URL. Both clients here share that flow and differ only
in the request body, the status document and the authorization header.

A task is paid for once it is created, so ``generate(request, out, journal)`` stores its id
through a ``TaskJournal`` (the project's ledger) before the first poll. ``timeout_s`` bounds
one HTTP request and ``max_wait_s`` the wait for the task. A retry of the same call, or a
resume after the process died, finds the stored id and polls that task; a new task is created
only when the stored one ended failed, cancelled or expired, is unknown to the vendor (404),
or finished with a download URL that has expired. A task given up on after ``max_wait_s``
while still queued is cancelled; a running one cannot be (both vendors) and is left stored,
so a later retry polls it again.

Everything below was written from the vendors' public documentation (addresses in the
comments). Where a detail could not be confirmed there, the comment says so and the client
takes a parameter for it (``extra_body``, ``image_url``, ``use_references``, ...).

Seedance 2.0 through Ark (create ``POST {base}/api/v3/contents/generations/tasks``,
get ``GET {base}/api/v3/contents/generations/tasks/{id}``):
  * https://docs.byteplus.com/en/docs/ModelArk/1520757 (Video Generation API; the Volcengine
    twin is https://www.volcengine.com/docs/82379/1520757): body ``model`` + ``content``, a list
    of ``{"type": "text", "text": ...}`` and ``{"type": "image_url", "image_url": {"url": ...},
    "role": ...}`` items; ``image_url.url`` takes a URL or ``data:image/<format>;base64,<data>``.
  * https://docs.byteplus.com/api/docs/ModelArk/1366799 (tutorial): the task is asynchronous,
    ``Authorization: Bearer $ARK_API_KEY``, the finished MP4 is at ``content.video_url``
    (valid 24 h). Status values: queued, running, succeeded, failed, cancelled (and expired,
    per the Volcengine query-task page mirrored at
    https://docs.ai-tokenhub.com/en/api-guides/Query-video-generation-task).
  * The volcengine-python-sdk (``volcenginesdkarkruntime/types/content_generation/
    content_generation_task.py``) names the task fields: ``status``, ``error.code``,
    ``error.message``, ``content.video_url``, ``content.last_frame_url``,
    ``usage.completion_tokens``.
  * Seedance 1.x accepted ``--resolution/--ratio/--duration/--seed/--watermark`` flags in the
    text prompt; current docs put ``resolution``, ``ratio``, ``duration``, ``seed``,
    ``watermark``, ``generate_audio``, ``return_last_frame``, ``callback_url`` at the top level
    of the JSON body (https://docs.byteplus.com/en/docs/ModelArk/1520757 and
    https://blog.laozhang.ai/en/posts/seedance-2-api). JSON is the default here;
    ``params_in_prompt=True`` switches back to the flags (``generate_audio`` has no flag form
    and stays in the JSON).
  * Seedance 2.0 model ids: ``doubao-seedance-2-0-260128`` / ``doubao-seedance-2-0-fast-260128``
    on Volcengine (China), ``dreamina-seedance-2-0-260128`` /
    ``dreamina-seedance-2-0-fast-260128`` on BytePlus. The official tutorial
    (https://docs.byteplus.com/docs/ModelArk/2291680) confirms the 2.0 and 2.0 fast models and
    their multimodal reference inputs, but the ids themselves were only found on third-party
    pages (https://blog.laozhang.ai/en/posts/seedance-2-api,
    https://docs.apiyi.com/en/api-capabilities/seedance2/overview); the model is a parameter.
  * Cancel: ``DELETE {base}/api/v3/contents/generations/tasks/{id}``, answer ``{}``, on the
    Volcengine API reference page "取消或删除内容生成任务"
    (https://www.volcengine.com/docs/82379/1521720, mirrored with the request and answer at
    https://apifox.com/apidoc/docs-site/5437846/265939476e0); a cancelled task is still
    listed for 24 h, then deleted (the list-tasks page of the same mirror). NOT CONFIRMED on
    an official page: the effect per state, read only in third-party descriptions
    (https://docs.composio.dev/toolkits/byte_plus_ark,
    https://docs.lemondata.cc/api-reference/tasks/cancel-task): a queued task is cancelled,
    a running one cannot be, and a finished one has its record deleted -- so only a task last
    seen queued is ever sent this call; nor that a GET of a deleted task answers 404.
  * NOT CONFIRMED from official pages: (a) that Seedance 2.0 accepts Base64 data URLs (the 1.x
    API reference does; the 2.0 tutorial asks for public URLs or asset ids) -- pass
    ``image_url=`` to upload images and send URLs instead; (b) that the first/last-frame roles
    cannot be mixed with ``reference_image`` items (third-party pages such as
    https://replicate.com/bytedance/seedance-2.0 say so) -- references are therefore sent only
    with ``use_references=True``, which sends the first frame as a reference image too;
    (c) the HTTP error body shape ``{"error": {"code", "message", "type"}}`` (the error codes
    and types are at https://docs.byteplus.com/en/docs/ModelArk/1299023).

Vidu (``Authorization: Token <key>``):
  * https://platform.vidu.com/docs/image-to-video: ``POST {base}/ent/v2/img2video`` with
    ``model``, ``images`` (exactly one: URL or ``data:image/png;base64,...``), ``prompt``,
    ``duration``, ``seed``, ``resolution``, ``movement_amplitude``, ``bgm``, ``payload``,
    ``callback_url``; the answer carries ``task_id`` and ``state``.
  * https://platform.vidu.com/docs/start-end-to-video: ``POST {base}/ent/v2/start-end2video``,
    ``images`` = [start, end].
  * https://platform.vidu.com/docs/reference-to-video: ``POST {base}/ent/v2/reference2video``,
    ``images`` 1-7 subject references, ``aspect_ratio``. It does not pin the first frame, so it
    is used only with ``use_references=True``.
  * https://platform.vidu.com/docs/get-generation: ``GET {base}/ent/v2/tasks/{id}/creations``
    returns ``state`` (created, queueing, processing, success, failed), ``err_code``,
    ``credits``, ``creations[].url`` (valid 24 h).
  * https://platform.vidu.com/docs/cancel-generation: ``POST {base}/ent/v2/tasks/{id}/cancel``
    with body ``{"id": ...}``, answer ``{}``; a task past the queue is refused (HTTP 400
    BadRequest "task state is scheduled, can not cancel"). NOT CONFIRMED: which states can
    still be cancelled (only a task last seen created/queueing is sent it) and the state a
    cancelled task then reports (the documented states have none for it; ``failed`` ends the
    task here, and so do ``cancelled``/``canceled``, should it appear).
  * https://platform.vidu.com/docs/error-code: HTTP 400 BadRequest/FieldInvalid/...,
    AuditSubmitIllegal and CreationPolicyViolation (policy), 401 Unauthorized, 403 Forbidden,
    429 QuotaExceeded/TooManyRequests/SystemThrottling, 500 InternalServiceFailure.
  * NOT CONFIRMED from official pages: the ``audio`` flag (direct audio-video output of the q3
    models) and the ``viduq3-pro`` model id are documented on pages that mirror the official
    format (https://docs.octopusx.ai/en/videos/vidu/img2video) but not in the official pages
    that were available -- ``audio_field=None`` stops sending it; the China host
    ``https://api.vidu.cn`` (https://platform.vidu.cn) was seen only in public client code;
    the HTTP error body shape (read here from ``reason``/``err_code``/``code`` and
    ``message``).

The ``openai`` SDK's videos (Sora) API is shut down and is not used.
"""

from __future__ import annotations

import base64
import email.utils
import json
import logging
import math
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol, Self, TypedDict

import httpx
from pydantic import BaseModel, Field

from inkreel.project import atomic_path

log = logging.getLogger(__name__)

# --- Ark (Seedance) -------------------------------------------------------------------------
ARK_BEIJING = "https://ark.cn-beijing.volces.com"  # Volcengine Ark, cn-beijing
ARK_BYTEPLUS = "https://ark.ap-southeast.bytepluses.com"  # BytePlus ModelArk, ap-southeast
ARK_TASKS_PATH = "/api/v3/contents/generations/tasks"
SEEDANCE_2_0 = "doubao-seedance-2-0-260128"  # Volcengine id (see module docstring)
SEEDANCE_2_0_FAST = "doubao-seedance-2-0-fast-260128"
SEEDANCE_2_0_BYTEPLUS = "dreamina-seedance-2-0-260128"  # BytePlus id
SEEDANCE_2_0_FAST_BYTEPLUS = "dreamina-seedance-2-0-fast-260128"
ARK_MAX_IMAGE_BYTES = 30 * 1024 * 1024  # "less than 30 MB" (1520757)

# --- Vidu -----------------------------------------------------------------------------------
VIDU_GLOBAL = "https://api.vidu.com"  # platform.vidu.com
VIDU_CN = "https://api.vidu.cn"  # platform.vidu.cn (host not confirmed in official pages)
VIDU_MODEL = "viduq3-pro"
VIDU_MAX_IMAGE_BYTES = 10 * 1024 * 1024  # "the base64 decode must be under 10MB"

VideoErrorKind = Literal[
    "rate_limited",
    "server_error",
    "timeout",
    "failed",
    "refusal",
    "auth",
    "bad_request",
    "invalid_output",
]
TaskState = Literal["queued", "running", "succeeded", "failed", "cancelled", "expired"]
TERMINAL_STATES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled", "expired"})

# Vendor error codes that mean "the content was refused by a safety check".
_REFUSAL_CODE = re.compile(r"sensitive|policy|audit|risk|violation|moderation", re.IGNORECASE)
_MAX_VENDOR_TEXT = 500


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


class VideoCallError(Exception):
    """A video call that did not produce a clip. ``kind`` says what to do about it.

    rate_limited, server_error and timeout are worth retrying later (``retry_after`` seconds
    when the vendor said); refusal means the prompt or images were refused by a safety check;
    auth and bad_request need a change of configuration or request; failed is a task the
    vendor gave up on; invalid_output is a download that is not a whole MP4.
    """

    def __init__(
        self,
        kind: VideoErrorKind,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        code: str | None = None,
        task_id: str | None = None,
        state: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: VideoErrorKind = kind
        self.status = status
        self.retry_after = retry_after
        self.code = code
        self.task_id = task_id
        self.state = state  # the task's last polled state, when waiting gave up on it

    @property
    def retryable(self) -> bool:
        return self.kind in ("rate_limited", "server_error", "timeout")


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


# --- helpers --------------------------------------------------------------------------------


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header: delta-seconds or an HTTP date (RFC 9110)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


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


def _box_header(buf: bytes, offset: int, end: int) -> tuple[str, int, int] | None:
    """(type, header length, box size) of the ISO-BMFF box at offset, or None if malformed."""
    if end - offset < 8:
        return None
    size = int.from_bytes(buf[offset : offset + 4], "big")
    kind = buf[offset + 4 : offset + 8].decode("latin-1")
    header = 8
    if size == 1:
        if end - offset < 16:
            return None
        size = int.from_bytes(buf[offset + 8 : offset + 16], "big")
        header = 16
    elif size == 0:
        size = end - offset
    if size < header:
        return None
    return kind, header, size


def _mvhd_seconds(moov: bytes) -> float | None:
    offset = 0
    while offset < len(moov):
        box = _box_header(moov, offset, len(moov))
        if box is None:
            return None
        kind, header, size = box
        if kind == "mvhd":
            body = moov[offset + header : offset + size]
            if not body:
                return None
            if body[0] == 1 and len(body) >= 32:
                timescale = int.from_bytes(body[20:24], "big")
                duration = int.from_bytes(body[24:32], "big")
            elif len(body) >= 20:
                timescale = int.from_bytes(body[12:16], "big")
                duration = int.from_bytes(body[16:20], "big")
            else:
                return None
            return duration / timescale if timescale else None
        offset += size
    return None


_SOUND_HANDLER = re.compile(rb"hdlr.{8}soun", re.DOTALL)


class Mp4Info(TypedDict):
    seconds: float | None
    has_audio: bool


def inspect_mp4(path: Path) -> Mp4Info:
    """Check that ``path`` is a whole MP4 and say how long it is and whether it has sound.

    The top-level boxes must start with ``ftyp``, include ``moov`` and end exactly at the end
    of the file, which an empty, HTML or cut-off download does not. Raises
    ``VideoCallError("invalid_output")``.
    """
    try:
        total = path.stat().st_size
    except OSError as exc:
        raise VideoCallError("invalid_output", f"no video at {path}: {exc}") from None
    if total == 0:
        raise VideoCallError("invalid_output", "the downloaded video is empty")
    moov: bytes | None = None
    offset = 0
    with path.open("rb") as f:
        while offset < total:
            f.seek(offset)
            head = f.read(16)
            if offset == 0 and head[4:8] != b"ftyp":
                raise VideoCallError(
                    "invalid_output",
                    f"the download is not an MP4 (it does not start with an ftyp box; "
                    f"first bytes {head[:12]!r})",
                )
            box = _box_header(head, 0, min(len(head), total - offset))
            if box is None or offset + box[2] > total:
                raise VideoCallError(
                    "invalid_output",
                    f"the downloaded video is not a whole MP4 (box at byte {offset} "
                    f"runs past the end of the {total}-byte file; truncated download?)",
                )
            kind, header, size = box
            if kind == "moov":
                f.seek(offset + header)
                moov = f.read(size - header)
            offset += size
    if moov is None:
        raise VideoCallError("invalid_output", "the downloaded MP4 has no moov box")
    return {"seconds": _mvhd_seconds(moov), "has_audio": bool(_SOUND_HANDLER.search(moov))}


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _as_number(value: Any) -> float | None:
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


# --- the shared task client -----------------------------------------------------------------


class _TaskVideoClient:
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
            message = response.text.strip()[:_MAX_VENDOR_TEXT] or None
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        kind: VideoErrorKind
        if status == 429:
            kind = "rate_limited"
        elif status in (401, 403):
            kind = "auth"
        elif status >= 500:
            kind = "server_error"
        elif code and _REFUSAL_CODE.search(code):
            kind = "refusal"
        else:
            kind = "bad_request"
        detail = f"{method} {path} -> HTTP {status}"
        if code:
            detail += f" {code}"
        if message:
            detail += f": {message[:_MAX_VENDOR_TEXT]}"
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
            kind: VideoErrorKind = "refusal" if code and _REFUSAL_CODE.search(code) else "failed"
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


# --- Seedance through Ark -------------------------------------------------------------------

_ARK_STATES: dict[str, TaskState] = {
    "queued": "queued",
    "running": "running",
    "succeeded": "succeeded",
    "failed": "failed",
    "cancelled": "cancelled",
    "expired": "expired",
}


class SeedanceClient(_TaskVideoClient):
    """Seedance 2.0 through the Ark content-generation task API.

    ``base_url`` is ``ARK_BEIJING`` (Volcengine, ``doubao-seedance-*`` ids) or
    ``ARK_BYTEPLUS`` (BytePlus ModelArk, ``dreamina-seedance-*`` ids); the key is an Ark API
    key for that region. ``watermark`` defaults to False; ``extra_body`` adds any other
    documented field (``return_last_frame``, ``callback_url``, ``service_tier``, ...).
    """

    provider = "seedance"
    auth_scheme = "Bearer"
    max_image_bytes = ARK_MAX_IMAGE_BYTES

    def __init__(
        self,
        api_key: str,
        base_url: str = ARK_BEIJING,
        model: str = SEEDANCE_2_0,
        timeout_s: float = 30,
        poll_interval_s: float = 5,
        max_wait_s: float = 600,
        sleep: Callable[[float], None] = time.sleep,
        *,
        watermark: bool = False,
        params_in_prompt: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            api_key, base_url, model, timeout_s, poll_interval_s, max_wait_s, sleep, **kwargs
        )
        self.watermark = watermark
        self.params_in_prompt = params_in_prompt

    def _create_call(self, request: VideoRequest) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {
            "resolution": request.resolution,
            "ratio": request.ratio,
            "duration": request.duration_s,
            "watermark": self.watermark,
        }
        if request.seed is not None:
            params["seed"] = request.seed
        text = request.prompt
        body: dict[str, Any] = {"model": self.model}
        if self.params_in_prompt:
            flags = " ".join(
                f"--{k} {str(v).lower() if isinstance(v, bool) else v}" for k, v in params.items()
            )
            text = f"{text} {flags}"
        else:
            body.update(params)
        body["generate_audio"] = request.audio
        content: list[dict[str, Any]] = [{"type": "text", "text": text}]
        references = self._references_for(request)
        if references:
            # Reference mode: the first frame becomes reference image 1 (name it in the prompt).
            for image in (request.first_frame, *references):
                content.append(self._image_item(image, "reference_image"))
        else:
            content.append(self._image_item(request.first_frame, "first_frame"))
            if request.last_frame is not None:
                content.append(self._image_item(request.last_frame, "last_frame"))
        body["content"] = content
        return ARK_TASKS_PATH, body

    def _image_item(self, path: Path, role: str) -> dict[str, Any]:
        return {"type": "image_url", "image_url": {"url": self._image(path)}, "role": role}

    def _task_id_from(self, data: dict[str, Any]) -> str | None:
        task_id = data.get("id")
        return str(task_id) if task_id else None

    def _status_path(self, task_id: str) -> str:
        return f"{ARK_TASKS_PATH}/{task_id}"

    def _cancel_call(self, task_id: str) -> tuple[str, str, dict[str, Any] | None]:
        return "DELETE", f"{ARK_TASKS_PATH}/{task_id}", None

    def _status_from(self, task_id: str, data: dict[str, Any]) -> TaskStatus:
        raw_state = str(data.get("status", "")).lower()
        state = _ARK_STATES.get(raw_state)
        if state is None:
            log.warning("seedance: unknown task status %r; treating it as running", raw_state)
            state = "running"
        content = _object(data.get("content"))
        error = _object(data.get("error"))
        usage = {
            str(k): n
            for k, v in _object(data.get("usage")).items()
            if (n := _as_number(v)) is not None
        }
        audio = data.get("generate_audio")
        return {
            "task_id": str(data.get("id") or task_id),
            "state": state,
            "video_url": content.get("video_url") or None,
            "error_code": self._redact(str(error["code"])) if error.get("code") else None,
            "error_message": (
                self._redact(str(error["message"]))[:_MAX_VENDOR_TEXT]
                if error.get("message")
                else None
            ),
            "usage": usage,
            "duration_s": _as_number(data.get("duration")),
            "has_audio": audio if isinstance(audio, bool) else None,
            "raw": data,
        }

    def _error_from(self, data: Any) -> tuple[str | None, str | None]:
        if isinstance(data, dict):
            error = data.get("error", data)
            if isinstance(error, dict):
                code = error.get("code")
                message = error.get("message")
                return (str(code) if code else None, str(message) if message else None)
        return None, None


# --- Vidu -----------------------------------------------------------------------------------

_VIDU_STATES: dict[str, TaskState] = {
    "created": "queued",
    "queueing": "queued",
    "processing": "running",
    "success": "succeeded",
    "failed": "failed",
    # Not documented: the state a cancelled task may report; read as the end of the task
    # rather than as "running" until max_wait_s.
    "cancelled": "cancelled",
    "canceled": "cancelled",
}


class ViduClient(_TaskVideoClient):
    """Vidu's enterprise API: img2video, start-end2video and (opt-in) reference2video.

    ``audio_field`` is the body field for direct audio-video output (``"audio"``, q3 models;
    None to never send it, e.g. for models that reject it). ``reference_model`` is the model
    for reference2video when it differs from ``model``.
    """

    provider = "vidu"
    auth_scheme = "Token"
    max_image_bytes = VIDU_MAX_IMAGE_BYTES

    def __init__(
        self,
        api_key: str,
        base_url: str = VIDU_GLOBAL,
        model: str = VIDU_MODEL,
        timeout_s: float = 30,
        poll_interval_s: float = 5,
        max_wait_s: float = 600,
        sleep: Callable[[float], None] = time.sleep,
        *,
        audio_field: str | None = "audio",
        reference_model: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            api_key, base_url, model, timeout_s, poll_interval_s, max_wait_s, sleep, **kwargs
        )
        self.audio_field = audio_field
        self.reference_model = reference_model

    def _create_call(self, request: VideoRequest) -> tuple[str, dict[str, Any]]:
        references = self._references_for(request)
        body: dict[str, Any] = {"model": self.model, "prompt": request.prompt}
        if request.last_frame is not None:
            path = "/ent/v2/start-end2video"
            body["images"] = [self._image(request.first_frame), self._image(request.last_frame)]
        elif references:
            path = "/ent/v2/reference2video"
            body["model"] = self.reference_model or self.model
            images = [request.first_frame, *references]
            if len(images) > 7:
                raise self._error(
                    "bad_request",
                    f"reference2video takes 1-7 images; got {len(images)} (first frame included)",
                )
            body["images"] = [self._image(p) for p in images]
            body["aspect_ratio"] = request.ratio
        else:
            path = "/ent/v2/img2video"
            body["images"] = [self._image(request.first_frame)]
        body["duration"] = request.duration_s
        body["resolution"] = request.resolution
        if request.seed is not None:
            body["seed"] = request.seed
        if self.audio_field:
            body[self.audio_field] = request.audio
        return path, body

    def _task_id_from(self, data: dict[str, Any]) -> str | None:
        task_id = data.get("task_id") or data.get("id")
        return str(task_id) if task_id else None

    def _status_path(self, task_id: str) -> str:
        return f"/ent/v2/tasks/{task_id}/creations"

    def _cancel_call(self, task_id: str) -> tuple[str, str, dict[str, Any] | None]:
        return "POST", f"/ent/v2/tasks/{task_id}/cancel", {"id": task_id}

    def _status_from(self, task_id: str, data: dict[str, Any]) -> TaskStatus:
        raw_state = str(data.get("state", "")).lower()
        state = _VIDU_STATES.get(raw_state)
        if state is None:
            log.warning("vidu: unknown task state %r; treating it as running", raw_state)
            state = "running"
        creations = data.get("creations")
        url = None
        if isinstance(creations, list):
            for creation in creations:
                if isinstance(creation, dict) and creation.get("url"):
                    url = str(creation["url"])
                    break
        credits = _as_number(data.get("credits"))
        err_code = data.get("err_code")
        message = data.get("message") or data.get("err_msg")
        return {
            "task_id": str(data.get("id") or task_id),
            "state": state,
            "video_url": url,
            "error_code": self._redact(str(err_code)) if err_code else None,
            "error_message": (self._redact(str(message))[:_MAX_VENDOR_TEXT] if message else None),
            "usage": {"credits": credits} if credits is not None else {},
            "duration_s": _as_number(data.get("duration")),
            "has_audio": None,
            "raw": data,
        }

    def _error_from(self, data: Any) -> tuple[str | None, str | None]:
        if not isinstance(data, dict):
            return None, None
        code = data.get("reason") or data.get("err_code") or data.get("error_code")
        if not code and isinstance(data.get("code"), str):
            code = data["code"]
        message = data.get("message") or data.get("msg")
        err = _object(data.get("error"))
        if err:
            code = code or err.get("code")
            message = message or err.get("message")
        return (str(code) if code else None, str(message) if message else None)


__all__ = [
    "ARK_BEIJING",
    "ARK_BYTEPLUS",
    "SEEDANCE_2_0",
    "SEEDANCE_2_0_BYTEPLUS",
    "SEEDANCE_2_0_FAST",
    "SEEDANCE_2_0_FAST_BYTEPLUS",
    "VIDU_CN",
    "VIDU_GLOBAL",
    "VIDU_MODEL",
    "Mp4Info",
    "SeedanceClient",
    "TaskJournal",
    "TaskStatus",
    "VideoCallError",
    "VideoRequest",
    "VideoResult",
    "ViduClient",
    "image_data_url",
    "inspect_mp4",
    "parse_retry_after",
]
