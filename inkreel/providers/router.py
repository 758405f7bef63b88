"""Pick a model per task by policy, retry transient errors, fall through on hard ones.

    router = Router(Roster.load(root), policy="balanced", overrides={"write": "deepseek-chat"})
    script = router.call("write", lambda entry: write_with(entry), estimate=cost_of_call)

Order of candidates for a task (only models usable on this machine, see `roster.usable`):

- an override for the task pins that model first;
- then hosted models by policy: `draft` cheapest first (ties: lower tier), `balanced` tier 2
  first then by price, `best` highest tier first then by price;
- then the offline model of that capability, as the last resort, if `offline_fallback`.

Per candidate, errors are classified by their `kind` attribute (or an HTTP `status_code`):
`rate_limited`, `server_error`, `timeout` and `unreachable` are transient and retried with
exponential backoff and jitter (a `retry_after` attribute, in seconds, is honoured); anything
else (refusal, invalid output after repair, bad request...) moves on to the next candidate.
Errors whose kind is in FATAL_KINDS (a budget stop) and any `RunStop` are never retried nor
fallen through.

A configuration error is not a model's bad answer: a key the endpoint rejects (`auth`,
HTTP 401/403), or an endpoint that refused `down_after` connections in a row, marks that model
(or every model on that endpoint) down for the rest of the run, so it is never called again.
What happens then depends on `fallback`: "on-error" (default) and "never" stop the run with a
`ConfigurationError` naming the model and its key variable; "always" warns once per model and
hands its calls to the next candidate. With "never" only the first candidate is ever tried.

Every attempt is written to a CallLog, and every hand-over to the next candidate too (task,
from, to, why). Given `limiters`, each attempt runs inside its endpoint's rate-limit slot
(released before any backoff sleep).
"""

from __future__ import annotations

import contextvars
import itertools
import math
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, TypeVar

from tenacity import RetryCallState, Retrying, stop_after_attempt

from inkreel.providers.errors import ConfigurationError, RunStop
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

TRANSIENT_KINDS = frozenset({"rate_limited", "server_error", "timeout", "unreachable"})
# Not a model's fault: stop the call at once, whatever model is tried next.
FATAL_KINDS = frozenset({"budget_exceeded", "cancelled"})
# The model is set up wrongly: asking it again cannot help, in this call or any later one.
CONFIGURATION_KINDS = frozenset({"auth"})
FALLBACKS = ("on-error", "always", "never")
DOWN_AFTER = 3  # connection failures in a row that mark an endpoint down

Outcome = Literal["ok", "retried", "gave_up"]
Fallback = Literal["on-error", "always", "never"]

# The router call running in this thread (task, call id): lets a fault drill's log say which
# call an in-place repair belonged to.
_CURRENT: contextvars.ContextVar[tuple[str, int] | None] = contextvars.ContextVar(
    "inkreel_router_call", default=None
)


def current_call() -> tuple[str, int] | None:
    """The (task, call id) of the router call this code runs inside, if any."""
    return _CURRENT.get()


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
    call: int = 0  # which `Router.call` this attempt belongs to (1, 2, ...)
    injected: bool = False  # a fault drill's own fault, also in its FaultLog


@dataclass(frozen=True)
class FallbackRecord:
    """One call handed from a model to the next candidate, and why."""

    task: str
    from_model: str
    to_model: str
    why: str  # the error kind, or why the model is down (a rejected key, a refusing endpoint)
    call: int = 0
    label: str = ""


class CallLog:
    """Thread-safe record of every attempt a router made; read it for run reports."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[CallRecord] = []
        self._fallbacks: list[FallbackRecord] = []

    def add(self, record: CallRecord) -> None:
        with self._lock:
            self._records.append(record)

    def add_fallback(self, record: FallbackRecord) -> None:
        with self._lock:
            self._fallbacks.append(record)

    @property
    def records(self) -> list[CallRecord]:
        with self._lock:
            return list(self._records)

    @property
    def fallbacks(self) -> list[FallbackRecord]:
        with self._lock:
            return list(self._fallbacks)

    def answered_calls(self) -> set[int]:
        """Ids of the calls some model answered."""
        return {r.call for r in self.records if r.outcome == "ok"}

    def recovered(self) -> list[CallRecord]:
        """Failed attempts of calls that were answered in the end (a retry or a fallback)."""
        answered = self.answered_calls()
        return [r for r in self.records if r.outcome != "ok" and r.call in answered]

    def fallback_summary(self) -> list[dict[str, object]]:
        """Hand-overs grouped by (task, from, to, why), with how many calls each."""
        counts = Counter((f.task, f.from_model, f.to_model, f.why) for f in self.fallbacks)
        return [
            {"task": task, "from": old, "to": new, "why": why, "calls": n}
            for (task, old, new, why), n in sorted(counts.items())
        ]

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
        fallback: Fallback = "on-error",
        down_after: int = DOWN_AFTER,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        if policy not in POLICIES:
            raise RouterError(f"unknown policy {policy!r}; use one of {', '.join(POLICIES)}")
        if max_attempts < 1:
            raise RouterError("max_attempts must be at least 1")
        if fallback not in FALLBACKS:
            raise RouterError(f"unknown fallback {fallback!r}; use one of {', '.join(FALLBACKS)}")
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
        self.fallback: Fallback = fallback
        self.down_after = max(1, down_after)
        self._warn = warn
        self.warnings: list[str] = []  # one per model marked down, in the order they were
        self._warned: set[str] = set()
        self._state_lock = threading.Lock()
        self._down: dict[str, str] = {}  # model id -> why it is down
        self._down_endpoints: dict[str, str] = {}  # base_url -> why
        self._refused: dict[str, int] = {}  # base_url -> connection failures in a row
        self._call_ids = itertools.count(1)
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
        if isinstance(exc, RunStop) or error_kind(exc) in FATAL_KINDS or not is_transient(exc):
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
        `estimate(entry)`, else 0; failed attempts are logged at 0. Raises ConfigurationError
        when a model is set up wrongly and `fallback` is not "always".
        """
        with self._state_lock:
            call_id = next(self._call_ids)
        token = _CURRENT.set((task, call_id))
        try:
            return self._call(task, fn, estimate, actual_cost, label, call_id)
        finally:
            _CURRENT.reset(token)

    def _call(
        self,
        task: Task,
        fn: Callable[[ModelEntry], T],
        estimate: Callable[[ModelEntry], float] | None,
        actual_cost: Callable[[ModelEntry, T], float] | None,
        label: str,
        call_id: int,
    ) -> T:
        failures: list[tuple[str, str]] = []
        errors: list[BaseException] = []
        handed: tuple[str, str] | None = None  # (model, why) the call moves on from
        candidates = self.candidates(task)
        for entry in candidates[:1] if self.fallback == "never" else candidates:
            down = self.down_reason(entry)
            if down is not None:
                self._configuration(task, entry, down)  # stops the run unless "always"
                failures.append((entry.id, "down"))
                handed = (entry.id, down)
                continue
            if handed is not None:
                self.log.add_fallback(
                    FallbackRecord(task, handed[0], entry.id, handed[1], call_id, label)
                )
            try:
                return self._call_one(task, entry, fn, estimate, actual_cost, label, call_id)
            except RunStop:
                raise
            except Exception as exc:
                kind = error_kind(exc)
                if kind in FATAL_KINDS:
                    raise
                down = self._note_failure(entry, exc)
                if down is not None:
                    self._configuration(task, entry, down)
                failures.append((entry.id, kind))
                errors.append(exc)
                handed = (entry.id, down or kind)
        raise AllProvidersFailed(task, failures, errors) from (errors[-1] if errors else None)

    # -- models set up wrongly --------------------------------------------------------------

    def down_reason(self, entry: ModelEntry) -> str | None:
        """Why `entry` is down for the rest of the run, or None if it may be called."""
        with self._state_lock:
            return self._down.get(entry.id) or self._down_endpoints.get(_endpoint(entry))

    def _note_failure(self, entry: ModelEntry, exc: BaseException) -> str | None:
        """Mark `entry` down for a configuration error; return why it is down, if it is."""
        if error_kind(exc) in CONFIGURATION_KINDS:
            status = getattr(exc, "status", None) or getattr(exc, "status_code", None)
            why = f"API key rejected (HTTP {status})" if status else "API key rejected"
            with self._state_lock:
                self._down.setdefault(entry.id, why)
        return self.down_reason(entry)

    def _count_connection(self, entry: ModelEntry, exc: BaseException | None) -> None:
        """Count connection failures in a row per endpoint; mark it down at `down_after`."""
        if entry.offline or not entry.base_url:
            return
        endpoint = _endpoint(entry)
        with self._state_lock:
            if exc is None or error_kind(exc) != "unreachable":
                self._refused.pop(endpoint, None)  # it answered: the endpoint is up
                return
            self._refused[endpoint] = refused = self._refused.get(endpoint, 0) + 1
            if refused >= self.down_after:
                self._down_endpoints.setdefault(
                    endpoint, f"{endpoint} refused {refused} connections in a row"
                )

    def _configuration(self, task: Task, entry: ModelEntry, why: str) -> None:
        """Stop the run for a model set up wrongly; with fallback "always", warn once."""
        with self._state_lock:
            rejected = entry.id in self._down  # its key; else its endpoint is down
        if rejected:
            fix = f"check {entry.api_key_env}" if entry.api_key_env else "check its key"
        else:
            fix = f"check base_url of [[models]] id = {entry.id!r} and that the server runs"
        if self.fallback != "always":
            raise ConfigurationError(
                f"model {entry.id!r} ({entry.model}) cannot serve task {task!r}: {why}; {fix}. "
                "Nothing already made is lost. To hand its calls to the next model instead, "
                'use --fallback always (or fallback = "always" in inkreel.toml).'
            )
        message = (
            f"model {entry.id!r} ({entry.model}) is down for this run: {why} ({fix}); its "
            "calls go to the next model."
        )
        with self._state_lock:
            if entry.id in self._warned:
                return
            self._warned.add(entry.id)
            self.warnings.append(message)
        if self._warn is not None:
            self._warn(message)

    # -- one model ---------------------------------------------------------------------------

    def _call_one(
        self,
        task: Task,
        entry: ModelEntry,
        fn: Callable[[ModelEntry], T],
        estimate: Callable[[ModelEntry], float] | None,
        actual_cost: Callable[[ModelEntry, T], float] | None,
        label: str,
        call_id: int = 0,
    ) -> T:
        attempt = 0
        next_wait = 0.0
        again = False

        def once() -> T:
            nonlocal attempt, next_wait, again
            attempt += 1
            again = False  # tenacity asks `retry` after a success too
            try:
                if self.limiters is None or entry.offline:
                    # An offline model's limits (a benchmark's stand-in for a hosted one) hold
                    # only its simulated request: Dispatch takes them around that wait.
                    result = fn(entry)
                else:
                    with self.limiters.for_entry(entry).slot():
                        result = fn(entry)
            except Exception as exc:
                kind = error_kind(exc)
                self._count_connection(entry, exc)
                # A model marked down meanwhile (by this call or another thread) is not retried.
                again = (
                    self._should_retry(exc)
                    and attempt < self.max_attempts
                    and self.down_reason(entry) is None
                )
                if again:
                    asked = retry_after(exc)
                    next_wait = asked if asked is not None else self._backoff(attempt)
                outcome: Outcome = "retried" if again else "gave_up"
                wait = next_wait if again else 0.0
                injected = bool(getattr(exc, "injected", False))
                self.log.add(
                    CallRecord(
                        task, entry.id, attempt, outcome, kind, 0.0, wait, label, call_id, injected
                    )
                )
                raise
            self._count_connection(entry, None)
            if actual_cost is not None:
                cost = actual_cost(entry, result)
            elif estimate is not None:
                cost = estimate(entry)
            else:
                cost = 0.0
            self.log.add(CallRecord(task, entry.id, attempt, "ok", None, cost, 0.0, label, call_id))
            return result

        def retry(_state: RetryCallState) -> bool:
            return again

        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=lambda _state: next_wait,
            retry=retry,
            sleep=self._sleep,
            reraise=True,
        )
        return retrying(once)


def _endpoint(entry: ModelEntry) -> str:
    """The server a hosted model is reached at (models sharing it go down together)."""
    return (entry.base_url or f"offline:{entry.id}").rstrip("/")


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _tasks() -> str:
    return ", ".join(TASK_CAPABILITY)


__all__ = [
    "CONFIGURATION_KINDS",
    "FALLBACKS",
    "FATAL_KINDS",
    "POLICIES",
    "TRANSIENT_KINDS",
    "AllProvidersFailed",
    "CallLog",
    "CallRecord",
    "Fallback",
    "FallbackRecord",
    "Policy",
    "Router",
    "RouterError",
    "current_call",
    "error_kind",
    "is_transient",
    "retry_after",
]
