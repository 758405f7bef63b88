"""Provider call errors: classified by kind, redacted, and the clients that raise them at once.

No retries here. Every client (the `openai.OpenAI` ones and the `ChatOpenAI` one) is created with
`max_retries=0`: a failed call raises `ProviderCallError` at once, classified by `kind`, with the
HTTP status and the server's `retry-after` when it sent one. Retrying, backing off and falling
back to another provider are the router's job: it sees every attempt (for cost and latency
accounting and its own deadline), and it does not retry what can never succeed (auth, a bad
request, a refusal). SDK-level retries would hide attempts and multiply latency behind its back.

The API key never appears in a `ProviderCallError` message or diagnostic: known secrets and
anything that looks like a bearer token or an `sk-...` key is redacted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal, get_args

import httpx
import openai
from langchain_core.exceptions import OutputParserException
from pydantic import ValidationError

from inkreel.providers.retry_after import parse_retry_after

ErrorKind = Literal[
    "rate_limited",
    "server_error",
    "timeout",
    "unreachable",
    "refusal",
    "invalid_output",
    "auth",
    "bad_request",
]
ERROR_KINDS: tuple[str, ...] = get_args(ErrorKind)
RETRYABLE: frozenset[str] = frozenset({"rate_limited", "server_error", "timeout", "unreachable"})
EXCERPT_CHARS = 300


_TOKEN_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[^\s'\",]+"),
    re.compile(r"\bsk-[A-Za-z0-9_\-]{4,}"),
)


def _redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    text = _TOKEN_PATTERNS[0].sub(r"\1***", text)
    return _TOKEN_PATTERNS[1].sub("sk-***", text)


def _redact_all(value: Any, secrets: Sequence[str]) -> Any:
    if isinstance(value, str):
        return _redact(value, secrets)
    if isinstance(value, dict):
        return {k: _redact_all(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_all(v, secrets) for v in value]
    return value


class ProviderCallError(Exception):
    """A hosted model call that failed, classified for the router.

    `kind` is one of ERROR_KINDS; `retryable` is true for rate_limited, server_error and timeout.
    `status` is the HTTP status when there was a response, `retry_after` the seconds the server
    asked to wait (429), `model` the model called, and `diagnostic` a dict with details (for
    invalid_output: model, schema, problem, errors, output_excerpt). The message and the
    diagnostic are redacted: they never contain the API key.
    """

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        model: str = "",
        status: int | None = None,
        retry_after: float | None = None,
        diagnostic: dict[str, Any] | None = None,
        secrets: Sequence[str] = (),
    ) -> None:
        if kind not in ERROR_KINDS:
            raise ValueError(f"unknown error kind {kind!r}; one of {ERROR_KINDS}")
        self.kind: ErrorKind = kind
        self.status = status
        self.retry_after = retry_after
        self.model = model
        self.diagnostic: dict[str, Any] = _redact_all(dict(diagnostic or {}), secrets)
        self.detail = _redact(message, secrets)
        where = f"{model}: " if model else ""
        http = f" (HTTP {status})" if status is not None else ""
        super().__init__(f"{where}{kind}{http}: {self.detail}")

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE

    def __reduce__(self) -> tuple[Any, ...]:
        # Picklable (process pools, checkpoints): rebuild from the already-redacted fields.
        kwargs = {
            "model": self.model,
            "status": self.status,
            "retry_after": self.retry_after,
            "diagnostic": self.diagnostic,
        }
        return (_rebuild_error, (self.kind, self.detail, kwargs))


def _rebuild_error(kind: ErrorKind, detail: str, kwargs: dict[str, Any]) -> ProviderCallError:
    return ProviderCallError(kind, detail, **kwargs)


def _parse_retry_after(headers: Any) -> float | None:
    """Seconds from `retry-after-ms` (OpenAI's) or `retry-after`, else None."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    return parse_retry_after(headers.get("retry-after"))


def _status_kind(status: int) -> ErrorKind:
    if status == 429:
        return "rate_limited"
    if status in (401, 403):
        return "auth"
    if status == 408:
        return "timeout"
    if status == 409 or status >= 500:  # 409: a lock conflict the OpenAI SDK itself retries
        return "server_error"
    return "bad_request"


# Codes a provider answers with (HTTP 400) when its safety system rejects the request.
_POLICY_CODES = {"content_policy_violation", "content_filter", "moderation_blocked"}


def _cannot_connect(exc: BaseException) -> bool:
    """A connection that was never made: refused, unknown host, connect timeout."""
    if not isinstance(exc, openai.APIConnectionError | httpx.TransportError | OSError):
        return False
    # The SDK wraps its transport's error (httpx, or httpx2 in openai 3.x) as the cause.
    link: BaseException | None = exc
    for _ in range(4):
        if link is None:
            return False
        if isinstance(link, ConnectionRefusedError) or type(link).__name__ in _CONNECT_ERRORS:
            return True
        link = link.__cause__
    return False


_CONNECT_ERRORS = ("ConnectError", "ConnectTimeout", "gaierror")


def classify(
    exc: BaseException, *, model: str = "", secrets: Sequence[str] = ()
) -> ProviderCallError:
    """Map an exception from a model call to a ProviderCallError (never raises).

    openai SDK: RateLimitError -> rate_limited (retry_after from `retry-after-ms`/`retry-after`),
    APIStatusError 5xx/409 -> server_error, 401/403 -> auth, 408 and APITimeoutError -> timeout,
    a connection that could not be made (refused, unknown host, connect timeout) ->
    unreachable (the router marks an endpoint down after a few in a row), other
    APIConnectionError (reset, closed mid-answer) -> server_error, BadRequestError and other 4xx ->
    bad_request except a content-policy code -> refusal, ContentFilterFinishReasonError ->
    refusal, LengthFinishReasonError and APIResponseValidationError -> invalid_output.
    LangChain OutputParserException, pydantic ValidationError, JSON decode errors ->
    invalid_output; langchain-openai's OpenAIRefusalError -> refusal. httpx errors (image URL
    downloads) map like the SDK's. Anything else -> bad_request (a bug is not worth retrying).
    """
    if isinstance(exc, ProviderCallError):
        return exc
    name = type(exc).__name__
    text = str(exc) or name

    def err(kind: ErrorKind, status: int | None = None, retry: float | None = None):
        return ProviderCallError(
            kind,
            f"{name}: {text}",
            model=model,
            status=status,
            retry_after=retry,
            secrets=secrets,
        )

    if _cannot_connect(exc):
        return err("unreachable")
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException | TimeoutError):
        return err("timeout")
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        kind = _status_kind(status)
        if kind == "bad_request" and (exc.code or "") in _POLICY_CODES:
            kind = "refusal"
        retry = _parse_retry_after(exc.response.headers) if kind == "rate_limited" else None
        return err(kind, status, retry)
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError | ConnectionError):
        return err("server_error")
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        kind = _status_kind(status)
        retry = _parse_retry_after(exc.response.headers) if kind == "rate_limited" else None
        return err(kind, status, retry)
    if isinstance(exc, openai.ContentFilterFinishReasonError) or name == "OpenAIRefusalError":
        return err("refusal")
    if isinstance(
        exc,
        openai.LengthFinishReasonError
        | openai.APIResponseValidationError
        | OutputParserException
        | ValidationError
        | json.JSONDecodeError,
    ):
        return err("invalid_output")
    return err("bad_request")


# What a provider call can raise that classify() understands; anything else is a bug and
# propagates unchanged.
_CALL_ERRORS = (
    openai.OpenAIError,
    httpx.HTTPError,
    OutputParserException,
    ValidationError,
    json.JSONDecodeError,
)


@contextmanager
def provider_call(model: str, secrets: Sequence[str]) -> Iterator[None]:
    try:
        yield
    except ProviderCallError:
        raise
    except _CALL_ERRORS as exc:
        # `from None`: the SDK exception is not chained into tracebacks, so an unredacted
        # server message cannot leak through it.
        raise classify(exc, model=model, secrets=secrets) from None


def openai_client(base_url: str, api_key: str, timeout_s: float) -> openai.OpenAI:
    # max_retries=0: retries are the router's job (see the module docstring).
    return openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=timeout_s)


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
