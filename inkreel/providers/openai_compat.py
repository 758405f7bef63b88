"""Hosted models behind any OpenAI-compatible HTTP API: text, images, speech, embeddings.

Each capability is a small class built from `(model, base_url, api_key, timeout_s)`:

- `StructuredText.generate(schema, messages)` -> a validated pydantic object and its `Usage`,
  through LangChain's `ChatOpenAI.with_structured_output(schema, include_raw=True)`, with one
  repair-and-retry when the model's output is not valid JSON or breaks the schema.
- `OpenAIImages.generate(prompt)` / `.edit(prompt, references)` -> PNG bytes.
- `OpenAISpeech.synthesize(text, voice, language)` -> float32 mono samples and the sample rate
  (the `SpeechProvider` contract of `inkreel.providers.registry`).
- `OpenAIEmbeddings.embed(texts)` -> one vector per text.

No retries here. Every client (the `openai.OpenAI` ones and the `ChatOpenAI` one) is created with
`max_retries=0`: a failed call raises `ProviderCallError` at once, classified by `kind`, with the
HTTP status and the server's `retry-after` when it sent one. Retrying, backing off and falling
back to another provider are the router's job: it sees every attempt (for cost and latency
accounting and its own deadline), and it does not retry what can never succeed (auth, a bad
request, a refusal). SDK-level retries would hide attempts and multiply latency behind its back.
The one retry this module makes is the structured-output repair, which is part of producing a
valid answer, not a transport retry.

The API key never appears in a `ProviderCallError` message or diagnostic: known secrets and
anything that looks like a bearer token or an `sk-...` key is redacted.
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
import json
import re
import struct
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args

import httpx
import numpy as np
import openai
from langchain_core.exceptions import OutputParserException
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.utils.function_calling import convert_to_openai_tool
from langchain_openai import ChatOpenAI
from PIL import Image
from pydantic import BaseModel, Field, SecretStr, ValidationError

from inkreel.checks.json_fit import fit
from inkreel.schemas.design import FEMALE_VARIANTS, MALE_VARIANTS, Voice

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

M = TypeVar("M", bound=BaseModel)

# -- errors ------------------------------------------------------------------------------------

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
    """Seconds from `retry-after-ms` or `retry-after` (seconds or an HTTP date), else None."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError, IndexError):
        return None


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
def _call(model: str, secrets: Sequence[str]) -> Iterator[None]:
    try:
        yield
    except ProviderCallError:
        raise
    except _CALL_ERRORS as exc:
        # `from None`: the SDK exception is not chained into tracebacks, so an unredacted
        # server message cannot leak through it.
        raise classify(exc, model=model, secrets=secrets) from None


def _openai_client(base_url: str, api_key: str, timeout_s: float) -> openai.OpenAI:
    # max_retries=0: retries are the router's job (see the module docstring).
    return openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=timeout_s)


def _excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- text --------------------------------------------------------------------------------------


class Usage(BaseModel):
    """Tokens a call used (summed over the repair request, if any)."""

    input_tokens: int = 0
    output_tokens: int = 0
    model: str
    requests: int = 0
    repaired: list[str] = Field(
        default_factory=list, description="Bounds and spellings fitted by rule (json_fit)."
    )

    def add(self, message: BaseMessage) -> Usage:
        meta = getattr(message, "usage_metadata", None) or {}
        return Usage(
            input_tokens=self.input_tokens + int(meta.get("input_tokens", 0) or 0),
            output_tokens=self.output_tokens + int(meta.get("output_tokens", 0) or 0),
            model=str(message.response_metadata.get("model_name") or self.model),
            requests=self.requests + 1,
        )


_REFUSAL_TEXT = re.compile(
    r"\b(?:i\s*(?:am|'m|’m)\s*(?:sorry|unable|not able)"
    r"|i\s*(?:can\s*not|cannot|can't|can’t|won't|won’t|will not)\s+"
    r"(?:help|assist|comply|provide|create|write|do|fulfil|fulfill|produce|generate)"
    r"|unable to (?:help|assist|comply))",
    re.IGNORECASE,
)
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.S)


def _message_text(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(
        b if isinstance(b, str) else str(b.get("text", ""))
        for b in content
        if isinstance(b, str) or (isinstance(b, dict) and b.get("type") == "text")
    )


def _errors(error: ValidationError) -> list[str]:
    return [
        f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}"
        for e in error.errors(include_url=False)[:12]
    ]


@dataclass
class _Verdict:
    value: BaseModel | None = None
    refusal: str | None = None
    problem: str = ""
    errors: list[str] = field(default_factory=list)
    output: str = ""
    fitted: list[str] = field(default_factory=list)  # bounds and spellings fitted by rule


StructuredMethod = Literal["tool", "json_schema", "json_object"]
# How each method asks LangChain for structure.
_LANGCHAIN_METHODS = {
    "tool": "function_calling",
    "json_schema": "json_schema",
    "json_object": "json_mode",
}
# Reviews a schema-valid answer; returns what makes it unusable (nothing: usable).
Review = Callable[[Any], Sequence[str]]


class StructuredText:
    """A hosted chat model that answers with instances of pydantic schemas.

    `method` is how it is asked for structure: "tool" (a forced tool call, the default: the
    widest support among OpenAI-compatible servers, and what the offline model does),
    "json_schema" (structured outputs: the JSON in the message content, constrained by the
    schema) or "json_object" (JSON mode: any JSON object, the schema given in the prompt).
    `max_tokens`, `temperature` and `seed` are sent when set.
    """

    def __init__(
        self,
        model: str,
        base_url: str,
        api_key: str,
        timeout_s: float,
        *,
        method: StructuredMethod = "tool",
        temperature: float | None = None,
        max_tokens: int | None = None,
        seed: int | None = None,
    ) -> None:
        self.model = model
        self.base_url = base_url
        self.timeout_s = timeout_s
        self.method: StructuredMethod = method
        self._secrets = (api_key,)
        extra: dict[str, Any] = {"temperature": temperature, "seed": seed}
        self._chat = ChatOpenAI(
            model=model,
            base_url=base_url,
            api_key=SecretStr(api_key),
            timeout=timeout_s,
            max_retries=0,  # retries are the router's job
            use_responses_api=False,  # OpenAI-compatible servers speak chat/completions
            # As `max_tokens` in the body: ChatOpenAI renames its own parameter to
            # `max_completion_tokens`, which local servers (llama.cpp, older vLLM) ignore.
            extra_body={"max_tokens": max_tokens} if max_tokens else None,
            **{k: v for k, v in extra.items() if v is not None},
        )

    def as_chat_model(self) -> BaseChatModel:
        """The underlying ChatOpenAI (max_retries=0), for agents that call
        `with_structured_output` themselves. Its failures are raw openai/LangChain exceptions:
        pass them to `classify`. It does no repair."""
        return self._chat

    def generate(
        self, schema: type[M], messages: Sequence[BaseMessage], review: Review | None = None
    ) -> tuple[M, Usage]:
        """Return a usable `schema` instance and the tokens used, or raise ProviderCallError.

        The raw answer is first fitted to the schema's stated bounds (`checks.json_fit`; the
        changes are in `Usage.repaired`), then validated, then reviewed (`review(value)` lists
        what makes a valid answer unusable, e.g. a name that is not in the cast). Invalid JSON,
        a schema violation or a review finding gets one repair request: the conversation, the
        model's answer as an assistant message and the exact problems, asking for a corrected
        answer. If that fails too, or the server rejects the repair request itself: kind
        "invalid_output" with `diagnostic` (model, schema, problem, errors, output_excerpt).
        A refusal (the `refusal` field, a content-filter stop, or a text like "I can't help
        with that" instead of an answer) raises kind "refusal".
        """
        tool = convert_to_openai_tool(schema)["function"]["name"]
        usage = Usage(model=self.model)
        history = self._prompt(schema, messages)
        verdicts: list[_Verdict] = []
        for attempt in (1, 2):
            try:
                raw, parsed, parsing_error = self._ask(schema, history)
            except ProviderCallError as exc:
                if attempt == 1 or exc.kind not in ("server_error", "bad_request"):
                    raise
                # The server refused the repair request itself: what is wrong is the answer.
                verdicts.append(_Verdict(problem=f"the repair request failed ({exc.detail})"))
                break
            usage = usage.add(raw)
            verdict = self._judge(schema, tool, raw, parsed, parsing_error)
            if verdict.refusal is not None:
                raise self._refused(schema, verdict.refusal, attempt)
            if isinstance(verdict.value, schema):
                problems = list(review(verdict.value)) if review else []
                if not problems:
                    return verdict.value, usage.model_copy(update={"repaired": verdict.fitted})
                verdict = _Verdict(
                    problem=f"{len(problems)} problem(s) in the {schema.__name__}: "
                    + "; ".join(problems[:5]),
                    errors=problems,
                    output=verdict.output or verdict.value.model_dump_json(),
                )
            verdicts.append(verdict)
            if attempt == 1:
                history += self._repair_messages(schema, tool, verdict)
        raise self._unusable(schema, verdicts)

    def _prompt(
        self, schema: type[BaseModel], messages: Sequence[BaseMessage]
    ) -> list[BaseMessage]:
        """The request's messages; in JSON mode the model is also shown the schema."""
        history = list(messages)
        if self.method == "json_object":
            shape = json.dumps(schema.model_json_schema(), ensure_ascii=False)
            history.append(
                HumanMessage(f"Answer with one JSON object that fits this JSON Schema:\n{shape}")
            )
        return history

    def converse(
        self, tools: Sequence[type[BaseModel]], messages: Sequence[BaseMessage]
    ) -> tuple[AIMessage, Usage]:
        """One turn of a conversation with tools the model may call (tool calling, choice
        left to the model): its message (text, tool calls or both) and the tokens used."""
        bound = self._chat.bind_tools(list(tools))
        with _call(self.model, self._secrets):
            out = bound.invoke(list(messages))
        if not isinstance(out, AIMessage):
            raise ProviderCallError(
                "invalid_output", "no assistant message in the response", model=self.model
            )
        for bad in out.invalid_tool_calls:
            raise ProviderCallError(
                "invalid_output",
                f"a tool call that is not JSON: {_excerpt(str(bad.get('args')), 200)!r}",
                model=self.model,
            )
        return out, Usage(model=self.model).add(out)

    def _ask(
        self, schema: type[BaseModel], history: list[BaseMessage]
    ) -> tuple[AIMessage, Any, BaseException | None]:
        # json_schema gets the JSON Schema dict, not the class: given the class, langchain-openai
        # has the SDK's `parse` validate inside the HTTP call, and a schema violation would
        # raise before the raw output reaches us to repair. We validate either way.
        method = _LANGCHAIN_METHODS[self.method]
        target: Any = schema if self.method == "tool" else schema.model_json_schema()
        structured = self._chat.with_structured_output(
            target,
            method=method,  # type: ignore[arg-type]
            include_raw=True,
        )
        with _call(self.model, self._secrets):
            out = structured.invoke(history)
        if not isinstance(out, dict) or not isinstance(out.get("raw"), AIMessage):
            raise ProviderCallError(
                "invalid_output", "no assistant message in the response", model=self.model
            )
        return out["raw"], out.get("parsed"), out.get("parsing_error")

    def _refused(self, schema: type[BaseModel], refusal: str, attempt: int) -> ProviderCallError:
        return ProviderCallError(
            "refusal",
            f"the model declined to produce {schema.__name__}: {_excerpt(refusal, 200)!r}",
            model=self.model,
            diagnostic={
                "model": self.model,
                "schema": schema.__name__,
                "attempt": attempt,
                "refusal": _excerpt(refusal),
            },
            secrets=self._secrets,
        )

    def _unusable(self, schema: type[BaseModel], verdicts: list[_Verdict]) -> ProviderCallError:
        first, last = verdicts[0], verdicts[-1]
        if not last.errors:  # the repair request failed: report what the answer had wrong
            last = _Verdict(
                problem=f"{first.problem}; {last.problem}", errors=first.errors, output=first.output
            )
        excerpt = _excerpt(last.output)
        return ProviderCallError(
            "invalid_output",
            f"no usable {schema.__name__} after one repair request: {last.problem}. "
            f"Output began: {excerpt[:120]!r}",
            model=self.model,
            diagnostic={
                "model": self.model,
                "schema": schema.__name__,
                "method": self.method,
                "attempts": len(verdicts),
                "problem": last.problem,
                "errors": last.errors,
                "output_excerpt": excerpt,
                "first_problem": first.problem,
                "first_output_excerpt": _excerpt(first.output),
            },
            secrets=self._secrets,
        )

    # -- judging and repairing ---------------------------------------------------------------

    def _judge(
        self,
        schema: type[BaseModel],
        tool: str,
        raw: AIMessage,
        parsed: Any,
        parsing_error: BaseException | None,
    ) -> _Verdict:
        refusal = raw.additional_kwargs.get("refusal")
        if refusal:
            return _Verdict(refusal=str(refusal))
        if raw.response_metadata.get("finish_reason") == "content_filter":
            return _Verdict(refusal="(stopped by the provider's content filter)")
        if isinstance(parsed, schema):
            return _Verdict(value=parsed)

        call = next((c for c in raw.tool_calls if c["name"] == tool), None)
        if call is not None:
            output = json.dumps(call["args"], ensure_ascii=False)
            return self._validate(schema, call["args"], output)
        bad = next((c for c in raw.invalid_tool_calls if c.get("name") in (tool, None)), None)
        if bad is not None:
            output = str(bad.get("args") or "")
            try:
                args = json.loads(output)
            except json.JSONDecodeError as e:
                return _Verdict(
                    problem=f"the {tool} arguments are not valid JSON ({e})",
                    errors=[f"(json): {e}"],
                    output=output,
                )
            return self._validate(schema, args, output)
        if raw.tool_calls:
            other = raw.tool_calls[0]
            output = json.dumps({"tool": other["name"], "args": other["args"]}, ensure_ascii=False)
            return _Verdict(
                problem=f"called tool {other['name']!r} instead of {tool!r}",
                errors=[f"(tool): expected {tool}"],
                output=output,
            )

        text = _message_text(raw).strip()
        body = _FENCE.sub(r"\1", text)
        try:
            data = json.loads(body) if body else None
        except json.JSONDecodeError as e:
            if _REFUSAL_TEXT.search(text):
                return _Verdict(refusal=text)
            where = "" if self.method != "tool" else f"no call to {tool}; "
            return _Verdict(
                problem=f"{where}the reply is not valid JSON ({e})",
                errors=[f"(json): {e}"],
                output=text,
            )
        if data is None:
            reason = f" ({parsing_error})" if parsing_error else ""
            return _Verdict(problem=f"an empty reply{reason}", errors=["(root): empty"], output="")
        # Lenient: a server that ignores tool_choice may still put the right JSON in content.
        return self._validate(schema, data, text)

    @staticmethod
    def _validate(schema: type[BaseModel], data: Any, output: str) -> _Verdict:
        data, fitted = fit(data, _json_schema(schema))
        try:
            return _Verdict(value=schema.model_validate(data), output=output, fitted=fitted)
        except ValidationError as e:
            return _Verdict(
                problem=f"{e.error_count()} validation error(s) for {schema.__name__}: "
                + "; ".join(_errors(e)[:5]),
                errors=_errors(e),
                output=output,
            )

    def _repair_messages(
        self, schema: type[BaseModel], tool: str, verdict: _Verdict
    ) -> list[BaseMessage]:
        """The repair request: the model's answer as plain assistant text, then the problems.

        Plain text, not an echoed tool call: a tool call echoed with empty content is sent
        as `content: null`, which some OpenAI-compatible servers reject (llama.cpp: HTTP 500).
        """
        how = f"by calling {tool}" if self.method == "tool" else "with the JSON object only"
        request = (
            f"Your previous answer could not be used: {verdict.problem}.\n"
            "Errors:\n"
            + "\n".join(f"- {e}" for e in verdict.errors)
            + f"\nAnswer again {how}, with a complete and valid {schema.__name__}: every "
            "required field, the right types and allowed values, nothing else."
        )
        return [AIMessage(content=verdict.output or "(empty)"), HumanMessage(content=request)]


@functools.cache
def _json_schema(schema: type[BaseModel]) -> dict[str, Any]:
    return schema.model_json_schema()


# -- images ------------------------------------------------------------------------------------

_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}


def _as_png(data: bytes, model: str) -> bytes:
    """Return `data` if it is a whole PNG, the image re-encoded as PNG if it is another format,
    or raise invalid_output if it does not decode (truncated, corrupt, not an image)."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.verify()  # checks chunk CRCs and the end of the file, even if Pillow is lenient
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            if im.format == "PNG":
                return data
            out = io.BytesIO()
            im.save(out, format="PNG")
            return out.getvalue()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        raise ProviderCallError(
            "invalid_output",
            f"the image does not decode ({type(e).__name__}: {e}); {len(data)} bytes",
            model=model,
            diagnostic={"model": model, "bytes": len(data), "head": data[:16].hex()},
        ) from None


class OpenAIImages:
    """Image generation and reference-guided edits (`/images/generations`, `/images/edits`).

    `size` is passed through as "WxH"; what sizes a model accepts is the provider's business.
    A `url` answer is downloaded with httpx only from the base_url's host (or one listed in
    `allowed_url_hosts`, e.g. a provider's CDN), without the API key.
    """

    def __init__(
        self,
        model: str,
        base_url: str,
        api_key: str,
        timeout_s: float,
        *,
        allowed_url_hosts: Iterable[str] = (),
    ) -> None:
        self.model = model
        self.base_url = base_url
        self.timeout_s = timeout_s
        self._secrets = (api_key,)
        self._client = _openai_client(base_url, api_key, timeout_s)
        self._hosts = {httpx.URL(base_url).host, *allowed_url_hosts}

    def generate(self, prompt: str, size: str = "1280x720") -> bytes:
        with _call(self.model, self._secrets):
            response = self._client.images.generate(model=self.model, prompt=prompt, size=size, n=1)
        return self._bytes(response)

    def edit(self, prompt: str, references: list[Path], size: str = "1280x720") -> bytes:
        """Edit guided by reference images (e.g. a character turnaround and a set plate); each
        file goes as a multipart part (`image` for one, `image[]` for several)."""
        if not references:
            raise ValueError("edit needs at least one reference image")
        files = [
            (p.name, p.read_bytes(), _MIME.get(p.suffix.lower(), "image/png")) for p in references
        ]
        image: Any = files[0] if len(files) == 1 else files
        with _call(self.model, self._secrets):
            response = self._client.images.edit(
                model=self.model, image=image, prompt=prompt, size=size, n=1
            )
        return self._bytes(response)

    def _bytes(self, response: Any) -> bytes:
        data = getattr(response, "data", None) or []
        if not data:
            raise ProviderCallError("invalid_output", "no image in the response", model=self.model)
        item = data[0]
        if getattr(item, "b64_json", None):
            try:
                raw = base64.b64decode(item.b64_json, validate=True)
            except (binascii.Error, ValueError) as e:
                raise ProviderCallError(
                    "invalid_output", f"b64_json does not decode: {e}", model=self.model
                ) from None
        elif getattr(item, "url", None):
            raw = self._download(str(item.url))
        else:
            raise ProviderCallError(
                "invalid_output", "the image has neither b64_json nor url", model=self.model
            )
        return _as_png(raw, self.model)

    def _download(self, url: str) -> bytes:
        parsed = httpx.URL(url)
        if parsed.scheme not in ("http", "https") or parsed.host not in self._hosts:
            raise ProviderCallError(
                "invalid_output",
                f"refusing to download the image from {parsed.scheme}://{parsed.host}: only "
                f"{sorted(self._hosts)} are allowed",
                model=self.model,
                secrets=self._secrets,
            )
        with (
            _call(self.model, self._secrets),
            httpx.Client(timeout=self.timeout_s, follow_redirects=False) as client,
        ):
            response = client.get(url)
            response.raise_for_status()
            return response.content


# -- speech ------------------------------------------------------------------------------------


def decode_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Decode a RIFF/WAVE file to float32 mono in [-1, 1] and its rate; ValueError if it is not
    whole. A data chunk whose size is 0 or 0xFFFFFFFF (a streamed WAV) runs to the end."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE file")
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        start = pos + 8
        if chunk == b"fmt ":
            if size < 16 or start + 16 > len(data):
                raise ValueError("truncated fmt chunk")
            tag, channels, rate, _, align, bits = struct.unpack("<HHIIHH", data[start : start + 16])
            if tag == 0xFFFE and size >= 26 and start + 26 <= len(data):  # WAVE_FORMAT_EXTENSIBLE
                tag = struct.unpack("<H", data[start + 24 : start + 26])[0]
            if channels < 1 or rate < 1 or align < 1:
                raise ValueError("invalid fmt chunk")
            fmt = (tag, channels, rate, align, bits)
        elif chunk == b"data":
            if fmt is None:
                raise ValueError("data chunk before fmt chunk")
            tag, channels, rate, align, bits = fmt
            available = len(data) - start
            if size in (0, 0xFFFFFFFF):
                payload = data[start : start + available - available % align]
            elif size > available:
                raise ValueError(
                    f"truncated: the data chunk declares {size} bytes, {available} came"
                )
            elif size % align:
                raise ValueError(f"the data chunk ({size} bytes) is not whole {align}-byte frames")
            else:
                payload = data[start : start + size]
            return _pcm_to_float(payload, tag, channels, bits), rate
        pos = start + size + (size & 1)
    raise ValueError("no data chunk" if fmt else "no fmt chunk")


def _pcm_to_float(payload: bytes, tag: int, channels: int, bits: int) -> np.ndarray:
    if tag == 1 and bits == 8:
        x = (np.frombuffer(payload, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif tag == 1 and bits == 16:
        x = np.frombuffer(payload, "<i2").astype(np.float32) / 32768.0
    elif tag == 1 and bits == 24:
        b = np.frombuffer(payload, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        x = (np.where(v >= 1 << 23, v - (1 << 24), v) / float(1 << 23)).astype(np.float32)
    elif tag == 1 and bits == 32:
        x = (np.frombuffer(payload, "<i4") / float(1 << 31)).astype(np.float32)
    elif tag == 3 and bits in (32, 64):
        x = np.frombuffer(payload, "<f4" if bits == 32 else "<f8").astype(np.float32)
    else:
        raise ValueError(f"unsupported WAV encoding (format {tag}, {bits} bits)")
    if x.size == 0:
        raise ValueError("no audio samples")
    mono = x.reshape(-1, channels).mean(axis=1) if channels > 1 else x
    return np.clip(np.nan_to_num(mono), -1.0, 1.0).astype(np.float32)


class OpenAISpeech:
    """Text to speech through `/audio/speech` (response_format "wav"); a `SpeechProvider`.

    Characters keep eSpeak-style `Voice`s (so `voices` lists the same variants as the offline
    provider); `voice_map` maps a variant to the provider's voice name (unmapped variants get
    `default_voice`, "alloy"). `speed` is `voice.speed / 170` words per minute (clamped to
    0.25-4). Pitch has no hosted equivalent and is not sent; nor is `language`: hosted voices
    speak the language of the text.
    """

    name = "openai"

    def __init__(
        self,
        model: str,
        base_url: str,
        api_key: str,
        timeout_s: float,
        *,
        voice_map: dict[str, str] | None = None,
        default_voice: str = "alloy",
    ) -> None:
        self.model = model
        self.base_url = base_url
        self.timeout_s = timeout_s
        self.voice_map = dict(voice_map or {})
        self.default_voice = default_voice
        self.voices: dict[str, list[str]] = {
            "female": list(FEMALE_VARIANTS),
            "male": list(MALE_VARIANTS),
        }
        self._secrets = (api_key,)
        self._client = _openai_client(base_url, api_key, timeout_s)

    def hosted_voice(self, voice: Voice) -> str:
        return self.voice_map.get(voice.variant, self.default_voice)

    def synthesize(self, text: str, voice: Voice, language: str) -> tuple[np.ndarray, int]:
        data = self.speak(text, voice)
        try:
            return decode_wav(data)
        except ValueError as e:
            raise ProviderCallError(
                "invalid_output",
                f"the speech audio does not decode as WAV: {e} ({len(data)} bytes)",
                model=self.model,
                diagnostic={"model": self.model, "bytes": len(data), "head": data[:16].hex()},
            ) from None

    def speak(self, text: str, voice: Voice) -> bytes:
        """The provider's WAV file for `text`, undecoded."""
        if not text.strip():
            raise ProviderCallError(
                "bad_request", "nothing to say: the line is empty", model=self.model
            )
        speed = min(4.0, max(0.25, voice.speed / 170))
        with _call(self.model, self._secrets):
            response = self._client.audio.speech.create(
                model=self.model,
                voice=self.hosted_voice(voice),
                input=text,
                response_format="wav",
                speed=speed,
            )
            return response.content


# -- embeddings --------------------------------------------------------------------------------


class OpenAIEmbeddings:
    """Text embeddings through `/embeddings` (float encoding, order kept)."""

    def __init__(self, model: str, base_url: str, api_key: str, timeout_s: float) -> None:
        self.model = model
        self.base_url = base_url
        self.timeout_s = timeout_s
        self._secrets = (api_key,)
        self._client = _openai_client(base_url, api_key, timeout_s)

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with _call(self.model, self._secrets):
            response = self._client.embeddings.create(
                model=self.model, input=texts, encoding_format="float"
            )
        data = sorted(response.data, key=lambda d: d.index)
        vectors = [[float(x) for x in d.embedding] for d in data]
        if len(vectors) != len(texts) or not vectors[0] or len({len(v) for v in vectors}) != 1:
            raise ProviderCallError(
                "invalid_output",
                f"asked for {len(texts)} embeddings, got {len(vectors)} with dimensions "
                f"{sorted({len(v) for v in vectors})}",
                model=self.model,
            )
        return vectors


__all__ = [
    "ERROR_KINDS",
    "ErrorKind",
    "OpenAIEmbeddings",
    "OpenAIImages",
    "OpenAISpeech",
    "ProviderCallError",
    "StructuredText",
    "Usage",
    "classify",
    "decode_wav",
]
