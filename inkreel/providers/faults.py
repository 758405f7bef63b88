"""Reproducible fault injection, to prove a run survives what hosted models do to it.

    plan = FaultPlan(seed=7, rate=0.2)
    log = FaultLog()
    text = FaultyChatModel(inner=OfflineChatModel(seed=0), plan=plan, log=log)
    speak = faulty(speech.synthesize, plan, key_fn=lambda text, voice, lang: text, log=log)

Whether call `key` fails on its n-th attempt, and how, depends only on (seed, key, n), so a
failing run can be replayed exactly. No key fails more than `max_consecutive` attempts in a
row, so a caller that retries or falls through always gets through eventually.

Kinds: rate_limited, server_error and timeout raise InjectedFault (transient for the
router); invalid_output answers a tool call whose arguments do not fit the schema; refusal
answers a refusal with no tool call; truncated raises for chat models and, through
`faulty`, returns a cut-short payload (bytes, str, array, or (array, rate)) that the caller
must detect.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableBinding
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import ConfigDict, Field, PrivateAttr

from inkreel.providers.router import current_call
from inkreel.seeds import seed_of

R = TypeVar("R")

FAULT_KINDS: tuple[str, ...] = (
    "rate_limited",
    "server_error",
    "timeout",
    "invalid_output",
    "refusal",
    "truncated",
)
REFUSAL_TEXT = "I'm sorry, but I can't help with that request."


class InjectedFault(Exception):
    """A failure injected by a FaultPlan; `kind` classifies it like a provider error."""

    injected = True  # the router's log marks it, so a report counts it once (from FaultLog)

    def __init__(self, kind: str, call_key: str = "", attempt: int = 0) -> None:
        self.kind = kind
        self.retry_after = 0.0
        self.call_key = call_key
        self.attempt = attempt
        super().__init__(f"injected {kind} fault (call {call_key[:16]!r}, attempt {attempt})")


def _unit(seed: int, key: str, attempt: int, salt: str) -> int:
    return seed_of(seed, key, attempt, salt)


@dataclass(frozen=True)
class FaultPlan:
    """Which attempts fail, and how: a pure function of (seed, call_key, attempt)."""

    seed: int
    rate: float
    kinds: tuple[str, ...] = FAULT_KINDS
    max_consecutive: int = 2

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate must be within [0, 1], not {self.rate}")
        if not self.kinds:
            raise ValueError("kinds must name at least one fault kind")
        if self.max_consecutive < 0:
            raise ValueError("max_consecutive must be >= 0")

    def _raw(self, call_key: str, attempt: int) -> str | None:
        if _unit(self.seed, call_key, attempt, "fail?") / 2**64 >= self.rate:
            return None
        return self.kinds[_unit(self.seed, call_key, attempt, "kind") % len(self.kinds)]

    def fault_for(self, call_key: str, attempt: int) -> str | None:
        """The fault for the `attempt`-th (1-based) try of `call_key`, or None to let it pass."""
        if attempt < 1:
            raise ValueError(f"attempts are numbered from 1, not {attempt}")
        run = 0
        fault: str | None = None
        for n in range(1, attempt + 1):
            fault = None if run >= self.max_consecutive else self._raw(call_key, n)
            run = run + 1 if fault else 0
        return fault


@dataclass(frozen=True)
class FaultRecord:
    call_key: str
    attempt: int
    kind: str
    target: str
    task: str = ""  # the router call it happened in (set by FaultLog.add), if any
    call: int = 0


class FaultLog:
    """Thread-safe list of injected faults, for the run report's 'faults survived'."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[FaultRecord] = []

    def add(self, record: FaultRecord) -> None:
        """Keep `record`, stamped with the router call running in this thread."""
        running = current_call()
        if running is not None and not record.call:
            record = replace(record, task=running[0], call=running[1])
        with self._lock:
            self._records.append(record)

    @property
    def records(self) -> list[FaultRecord]:
        with self._lock:
            return list(self._records)

    def counts(self) -> dict[str, int]:
        return dict(Counter(r.kind for r in self.records))

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)


class _Attempts:
    """Per-key attempt counter (1-based), shared by threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def next(self, key: str) -> int:
        with self._lock:
            self._counts[key] += 1
            return self._counts[key]


def truncate_payload(value: Any) -> Any:
    """The first half of a payload: bytes, str, a sequence/array, or (array, sample_rate)."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], int):
        return (truncate_payload(value[0]), value[1])
    if hasattr(value, "shape") and hasattr(value, "__getitem__"):  # numpy-like
        return value[: max(0, len(value) // 2)]
    if isinstance(value, bytes | bytearray | str | list | tuple):
        return value[: len(value) // 2]
    raise TypeError(f"cannot truncate a {type(value).__name__}")


def faulty(
    fn: Callable[..., R],
    plan: FaultPlan,
    key_fn: Callable[..., str],
    log: FaultLog | None = None,
    *,
    target: str = "",
) -> Callable[..., R]:
    """Wrap a speech/image callable: consult the plan per call before (or after) running it.

    `key_fn` gets the same arguments as `fn` and returns the call's key. A `truncated`
    fault runs `fn` and returns half of its result; other faults raise InjectedFault.
    """
    attempts = _Attempts()
    name = target or getattr(fn, "__qualname__", "callable")

    def wrapper(*args: Any, **kwargs: Any) -> R:
        key = key_fn(*args, **kwargs)
        attempt = attempts.next(key)
        fault = plan.fault_for(key, attempt)
        if fault is None:
            return fn(*args, **kwargs)
        if log is not None:
            log.add(FaultRecord(key, attempt, fault, name))
        if fault == "truncated":
            return truncate_payload(fn(*args, **kwargs))
        raise InjectedFault(fault, key, attempt)

    wrapper.__wrapped__ = fn  # type: ignore[attr-defined]
    return wrapper


def _mismatch(value: Any) -> Any:
    """A value of a different JSON type, so schema validation must reject it."""
    if isinstance(value, str):
        return {"injected": "invalid_output"}
    if isinstance(value, bool | int | float) or value is None:
        return "not-a-number-or-flag"
    return "<truncated>"  # dicts and lists become strings


def chat_key(messages: Sequence[BaseMessage], tool_name: str) -> str:
    """Default call key for a chat request: its tool and message contents."""
    h = hashlib.sha256(tool_name.encode())
    for m in messages:
        h.update(b"\x1e" + m.type.encode() + b"\x1f" + str(m.content).encode())
    return h.hexdigest()[:24]


class FaultyChatModel(BaseChatModel):
    """A chat model that injects planned faults, then delegates to `inner`."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    inner: BaseChatModel
    plan: FaultPlan
    log: FaultLog = Field(default_factory=FaultLog)
    key_fn: Callable[[Sequence[BaseMessage], str], str] = chat_key
    _attempts: _Attempts = PrivateAttr(default_factory=_Attempts)

    @property
    def _llm_type(self) -> str:
        return f"faulty-{self.inner._llm_type}"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"inner": self.inner._identifying_params, "seed": self.plan.seed}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        # Let the inner model format the tools its way, then bind the same kwargs to us.
        try:
            bound = self.inner.bind_tools(tools, tool_choice=tool_choice, **kwargs)
        except NotImplementedError:
            bound = None
        if isinstance(bound, RunnableBinding) and bound.bound is self.inner:
            return self.bind(**bound.kwargs)
        formatted = [convert_to_openai_tool(t) for t in tools]
        return self.bind(tools=formatted, tool_choice=tool_choice, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tools = kwargs.get("tools") or []
        tool_name = tools[0]["function"]["name"] if tools else ""
        key = self.key_fn(messages, tool_name)
        attempt = self._attempts.next(key)
        fault = self.plan.fault_for(key, attempt)
        if fault is not None:
            self.log.add(FaultRecord(key, attempt, fault, self.inner._llm_type))
        if fault == "refusal":
            message = AIMessage(content=REFUSAL_TEXT, response_metadata={"finish_reason": "stop"})
            return ChatResult(generations=[ChatGeneration(message=message)])
        if fault is not None and fault != "invalid_output":
            raise InjectedFault(fault, key, attempt)
        result = self.inner._generate(messages, stop=stop, run_manager=run_manager, **kwargs)
        if fault == "invalid_output":
            return ChatResult(generations=[_break(g) for g in result.generations])
        return result


def _break(generation: ChatGeneration) -> ChatGeneration:
    message = generation.message
    if not isinstance(message, AIMessage) or not message.tool_calls:
        broken = AIMessage(content='{"truncated": ', response_metadata=message.response_metadata)
        return ChatGeneration(message=broken)
    calls = []
    for call in message.tool_calls:
        args = {k: _mismatch(v) for k, v in call["args"].items()} or {"injected": True}
        calls.append({**call, "args": args})
    broken = AIMessage(
        content=message.content,
        tool_calls=calls,
        usage_metadata=message.usage_metadata,
        response_metadata=message.response_metadata,
    )
    return ChatGeneration(message=broken)
