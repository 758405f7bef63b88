"""Pick a model per task by policy, retry transient errors, fall through on hard ones.

    router = Router(Roster.load(root), policy="balanced", overrides={"write": "deepseek-chat"})
    script = router.call("write", lambda entry: write_with(entry), estimate=cost_of_call)

Order of candidates for a task (only models usable on this machine, see `roster.usable`):

- an override for the task pins that model first;
- then hosted models by policy: `draft` cheapest first (ties: lower tier), `balanced` tier 2
  first then by price, `best` highest tier first then by price;
- then the offline model of that capability, as the last resort, if `offline_fallback`.

Per candidate, errors are classified by their `kind` attribute (or an HTTP `status_code`):
`rate_limited`, `server_error` and `timeout` are transient and retried with exponential
backoff and jitter (a `retry_after` attribute, in seconds, is honoured); anything else
(refusal, invalid output after repair, auth, bad request...) moves on to the next candidate.
Errors whose kind is in FATAL_KINDS (a budget stop) are never retried nor fallen through.
Every attempt is written to a CallLog. Given `limiters`, each attempt runs inside its
endpoint's rate-limit slot (released before any backoff sleep).
"""

from __future__ import annotations

import math
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

from tenacity import Retrying, retry_if_exception, stop_after_attempt

from inkreel.providers.limits import Limiters
from inkreel.providers.roster import (
    IMAGE_INPUT_TASKS,
    TASK_CAPABILITY,
    ModelEntry,
    Roster,
    Task,
    usable,
)

T = TypeVar("T")
Policy = Literal["draft", "balanced", "best"]
POLICIES: tuple[Policy, ...] = ("draft", "balanced", "best")

TRANSIENT_KINDS = frozenset({"rate_limited", "server_error", "timeout"})
# Not a model's fault: stop the call at once, whatever model is tried next.
FATAL_KINDS = frozenset({"budget_exceeded", "cancelled"})

Outcome = Literal["ok", "retried", "gave_up"]


class RouterError(Exception):
    """A routing request that cannot be satisfied as configured; the message says why."""


class AllProvidersFailed(Exception):
    """Every candidate model failed a call; `failures` lists (model id, error kind)."""

    def __init__(
        self, task: str, failures: list[tuple[str, str]], errors: list[BaseException]
    ) -> None:
        self.task = task
        self.failures = failures
        self.errors = errors
        tried = ", ".join(f"{model} ({kind})" for model, kind in failures) or "none"
        super().__init__(f"every model failed task {task!r}: {tried}")


def error_kind(exc: BaseException) -> str:
    """A short name for what went wrong: the `kind` attribute, an HTTP status, or the type."""
    kind = getattr(exc, "kind", None)
    if isinstance(kind, str) and kind:
        return kind
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        if status == 429:
            return "rate_limited"
        if status == 408:
            return "timeout"
        if status >= 500:
            return "server_error"
        if status in (401, 403):
            return "auth"
        if 400 <= status < 500:
            return "bad_request"
    if isinstance(exc, TimeoutError):
        return "timeout"
    return type(exc).__name__


def is_transient(exc: BaseException) -> bool:
    return error_kind(exc) in TRANSIENT_KINDS


def retry_after(exc: BaseException | None) -> float | None:
    """Seconds the server asked us to wait, if the exception says so."""
    value = getattr(exc, "retry_after", None)
    if value is None or isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


@dataclass(frozen=True)
class CallRecord:
    """One attempt at one model for one task."""

    task: str
    model_id: str
    attempt: int  # 1-based, per model
    outcome: Outcome  # ok; retried (transient, same model again); gave_up (next model)
    error_kind: str | None
    cost_usd: float
    wait_s: float = 0.0  # backoff requested before the next attempt, if retried
    label: str = ""


class CallLog:
    """Thread-safe record of every attempt a router made; read it for run reports."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[CallRecord] = []

    def add(self, record: CallRecord) -> None:
        with self._lock:
            self._records.append(record)

    @property
    def records(self) -> list[CallRecord]:
        with self._lock:
            return list(self._records)

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def total_cost(self) -> float:
        return sum(r.cost_usd for r in self.records)

    def errors(self) -> list[CallRecord]:
        return [r for r in self.records if r.error_kind is not None]

    def by_model(self) -> dict[str, dict[str, float]]:
        """Per model id: calls that succeeded, attempts that failed, and cost."""
        summary: dict[str, dict[str, float]] = {}
        for r in self.records:
            row = summary.setdefault(r.model_id, {"ok": 0, "errors": 0, "cost_usd": 0.0})
            row["ok" if r.outcome == "ok" else "errors"] += 1
            row["cost_usd"] += r.cost_usd
        return summary


class Router:
    """Chooses and calls models for tasks under a policy, with retries and fallbacks."""

    def __init__(
        self,
        roster: Roster,
        policy: Policy = "balanced",
        overrides: Mapping[Task, str] | None = None,
        environ: Mapping[str, str] | None = None,
        *,
        offline_fallback: bool = True,
        max_attempts: int = 4,
        base_delay_s: float = 1.0,
        max_delay_s: float = 30.0,
        max_retry_after_s: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        log: CallLog | None = None,
        limiters: Limiters | None = None,
    ) -> None:
        if policy not in POLICIES:
            raise RouterError(f"unknown policy {policy!r}; use one of {', '.join(POLICIES)}")
        if max_attempts < 1:
            raise RouterError("max_attempts must be at least 1")
        self.roster = roster
        self.policy: Policy = policy
        self.overrides: dict[Task, str] = dict(overrides or {})
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.offline_fallback = offline_fallback
        self.max_attempts = max_attempts
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.max_retry_after_s = max_retry_after_s
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        self.log = log if log is not None else CallLog()
        self.limiters = limiters
        for task in self.overrides:
            self._pinned(task)  # fail fast on a bad override

    # -- choosing ---------------------------------------------------------------------------

    def _pinned(self, task: Task) -> ModelEntry | None:
        model_id = self.overrides.get(task)
        if model_id is None:
            return None
        if task not in TASK_CAPABILITY:
            raise RouterError(f"override for unknown task {task!r}; tasks: {_tasks()}")
        if model_id not in self.roster:
            raise RouterError(
                f"override {task}={model_id!r}: no such model; known ids: "
                f"{', '.join(self.roster.ids())}"
            )
        entry = self.roster.get(model_id)
        needed = TASK_CAPABILITY[task]
        if entry.capability != needed:
            fitting = [e.id for e in self.roster.for_capability(needed)]
            raise RouterError(
                f"override {task}={model_id!r}: that is {_a(entry.capability)} model and "
                f"{task} needs {_a(needed)} model ({', '.join(fitting)})"
            )
        if task in IMAGE_INPUT_TASKS and not entry.serves(task):
            seeing = [e.id for e in self.roster.for_task(task)]
            raise RouterError(
                f"override {task}={model_id!r}: that model is not listed as reading images; "
                f"models that do: {', '.join(seeing) or 'none'} (add {task!r} to the tasks of "
                "a model that does in inkreel.toml [[models]])"
            )
        ok, reason = usable(entry, self.environ)
        if not ok:
            raise RouterError(
                f"override {task}={model_id!r} is not usable here: {reason}. Known ids: "
                f"{', '.join(self.roster.ids())}"
            )
        return entry

    def _sort_key(self, entry: ModelEntry) -> tuple[float, ...]:
        cost = entry.reference_cost()
        if self.policy == "draft":
            return (cost, entry.tier)
        if self.policy == "balanced":
            return (0 if entry.tier == 2 else 1, cost, entry.tier)
        return (-entry.tier, cost)

    def candidates(self, task: Task) -> list[ModelEntry]:
        """Usable models for `task`, in the order `call` tries them."""
        if task not in TASK_CAPABILITY:
            raise RouterError(f"unknown task {task!r}; tasks: {_tasks()}")
        pinned = self._pinned(task)
        if pinned is not None and pinned.offline:
            return [pinned]  # pinned to the offline engine: never fall back to a paid model
        serving = self.roster.for_task(task)
        hosted = [e for e in serving if not e.offline and usable(e, self.environ)[0]]
        hosted.sort(key=lambda e: (*self._sort_key(e), e.id))
        ordered = ([pinned] if pinned else []) + [
            e for e in hosted if pinned is None or e.id != pinned.id
        ]
        if self.offline_fallback:
            ordered += [e for e in serving if e.offline and e not in ordered]
        if not ordered:
            reasons = "; ".join(f"{e.id}: {usable(e, self.environ)[1]}" for e in serving)
            hint = " (offline fallback is off)" if not self.offline_fallback else ""
            raise RouterError(
                f"no usable model for task {task!r}{hint}. {reasons or 'no model serves it'}"
            )
        return ordered

    def choose(self, task: Task) -> ModelEntry:
        """The model `call` would try first."""
        return self.candidates(task)[0]

    # -- calling ----------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with equal jitter: half fixed, half random."""
        delay = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        with self._rng_lock:
            return delay / 2 + self._rng.uniform(0, delay / 2)

    def _should_retry(self, exc: BaseException) -> bool:
        """Transient, and not asking us to wait longer than max_retry_after_s."""
        if error_kind(exc) in FATAL_KINDS or not is_transient(exc):
            return False
        asked = retry_after(exc)
        return asked is None or asked <= self.max_retry_after_s

    def call(
        self,
        task: Task,
        fn: Callable[[ModelEntry], T],
        estimate: Callable[[ModelEntry], float] | None = None,
        *,
        actual_cost: Callable[[ModelEntry, T], float] | None = None,
        label: str = "",
    ) -> T:
        """Run `fn(entry)` on the candidates in order until one succeeds.

        The cost logged for a success is `actual_cost(entry, result)` if given, else
        `estimate(entry)`, else 0; failed attempts are logged at 0.
        """
        failures: list[tuple[str, str]] = []
        errors: list[BaseException] = []
        for entry in self.candidates(task):
            try:
                return self._call_one(task, entry, fn, estimate, actual_cost, label)
            except Exception as exc:
                kind = error_kind(exc)
                if kind in FATAL_KINDS:
                    raise
                failures.append((entry.id, kind))
                errors.append(exc)
        raise AllProvidersFailed(task, failures, errors) from (errors[-1] if errors else None)

    def _call_one(
        self,
        task: Task,
        entry: ModelEntry,
        fn: Callable[[ModelEntry], T],
        estimate: Callable[[ModelEntry], float] | None,
        actual_cost: Callable[[ModelEntry, T], float] | None,
        label: str,
    ) -> T:
        attempt = 0
        next_wait = 0.0

        def once() -> T:
            nonlocal attempt, next_wait
            attempt += 1
            try:
                if self.limiters is None:
                    result = fn(entry)
                else:
                    with self.limiters.for_entry(entry).slot():
                        result = fn(entry)
            except Exception as exc:
                kind = error_kind(exc)
                again = self._should_retry(exc) and attempt < self.max_attempts
                if again:
                    asked = retry_after(exc)
                    next_wait = asked if asked is not None else self._backoff(attempt)
                outcome: Outcome = "retried" if again else "gave_up"
                wait = next_wait if again else 0.0
                self.log.add(CallRecord(task, entry.id, attempt, outcome, kind, 0.0, wait, label))
                raise
            if actual_cost is not None:
                cost = actual_cost(entry, result)
            elif estimate is not None:
                cost = estimate(entry)
            else:
                cost = 0.0
            self.log.add(CallRecord(task, entry.id, attempt, "ok", None, cost, 0.0, label))
            return result

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=lambda _state: next_wait,
            retry=retry_if_exception(self._should_retry),
            sleep=self._sleep,
            reraise=True,
        )
        return retrying(once)


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _tasks() -> str:
    return ", ".join(TASK_CAPABILITY)


__all__ = [
    "FATAL_KINDS",
    "POLICIES",
    "TRANSIENT_KINDS",
    "AllProvidersFailed",
    "CallLog",
    "CallRecord",
    "Policy",
    "Router",
    "RouterError",
    "error_kind",
    "is_transient",
    "retry_after",
]
