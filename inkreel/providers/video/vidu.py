"""Vidu image-to-video.

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
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from inkreel.providers.video.task import (
    MAX_VENDOR_TEXT,
    TaskState,
    TaskStatus,
    TaskVideoClient,
    VideoRequest,
    as_number,
    as_object,
)

log = logging.getLogger(__name__)

VIDU_GLOBAL = "https://api.vidu.com"  # platform.vidu.com
VIDU_CN = "https://api.vidu.cn"  # platform.vidu.cn (host not confirmed in official pages)
VIDU_MODEL = "viduq3-pro"
VIDU_MAX_IMAGE_BYTES = 10 * 1024 * 1024  # "the base64 decode must be under 10MB"


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


class ViduClient(TaskVideoClient):
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
        credits = as_number(data.get("credits"))
        err_code = data.get("err_code")
        message = data.get("message") or data.get("err_msg")
        return {
            "task_id": str(data.get("id") or task_id),
            "state": state,
            "video_url": url,
            "error_code": self._redact(str(err_code)) if err_code else None,
            "error_message": (self._redact(str(message))[:MAX_VENDOR_TEXT] if message else None),
            "usage": {"credits": credits} if credits is not None else {},
            "duration_s": as_number(data.get("duration")),
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
        err = as_object(data.get("error"))
        if err:
            code = code or err.get("code")
            message = message or err.get("message")
        return (str(code) if code else None, str(message) if message else None)
