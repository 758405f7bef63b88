"""What a video call raises when it produces no clip, by kind."""

from __future__ import annotations

from typing import Literal

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
