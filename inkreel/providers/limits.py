"""Per-endpoint rate limits, and a latency model for benchmarks and wall-time bounds.

    limiters = Limiters()
    with limiters.for_entry(entry).slot():
        answer = call(entry)

A RateLimiter enforces two things at once: at most `max_in_flight` calls running (a
semaphore) and at most `rpm` call starts per minute (a token bucket refilled at rpm/60
tokens a second, holding at most `burst` tokens; the default burst of 1 spaces starts
60/rpm seconds apart, so no 60-second window sees more than rpm starts). The clock and
sleep are injectable so tests run on a fake clock.
"""

from __future__ import annotations

import ctypes
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from inkreel.providers.roster import Capability, ModelEntry

R = TypeVar("R")


_LOCAL_CPU = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to trim
        return None


_TRIM = _malloc_trim()


def release_memory() -> None:
    """Hand the heap memory freed since the last call back to the system (glibc).

    A shot's frames and layers are large numpy arrays; glibc keeps what they freed in the
    worker thread's arena (its mmap threshold rises after the first large free), so without
    this an episode's resident memory grows with every shot drawn, checked or encoded.
    """
    if _TRIM is not None:
        _TRIM(0)


class MemoryBudget:
    """Megabytes that local work may hold at once; a piece costing more than the whole budget
    runs alone. Waiters are served in the order they came, so big work is not overtaken
    forever by small work."""

    def __init__(self, megabytes: float) -> None:
        self.megabytes = megabytes
        self._turn = threading.Condition()
        self._used = 0.0
        self._running = 0
        self._next_ticket = 0
        self._serving = 0

    @property
    def waiting(self) -> int:
        """Requests waiting for their turn."""
        with self._turn:
            return self._next_ticket - self._serving

    def _fits(self, megabytes: float) -> bool:
        return not self._running or self._used + megabytes <= self.megabytes

    def acquire(self, megabytes: float, blocking: bool = True) -> bool:
        """Take `megabytes` of the budget, waiting for this request's turn (or return False at
        once when it would have to wait and `blocking` is false)."""
        with self._turn:
            if not blocking and (self._next_ticket != self._serving or not self._fits(megabytes)):
                return False
            ticket = self._next_ticket
            self._next_ticket += 1
            self._turn.wait_for(lambda: self._serving == ticket and self._fits(megabytes))
            self._serving += 1
            self._used += megabytes
            self._running += 1
            self._turn.notify_all()
            return True

    def release(self, megabytes: float) -> None:
        with self._turn:
            self._used -= megabytes
            self._running -= 1
            self._turn.notify_all()

    @contextmanager
    def hold(self, megabytes: float) -> Iterator[None]:
        self.acquire(megabytes)
        try:
            yield
        finally:
            self.release(megabytes)


@contextmanager
def local_cpu() -> Iterator[None]:
    """Hold one of this machine's cores for CPU-bound local work (drawing, encoding).

    The graph runs many tasks at once so that hosted calls overlap; local work still runs
    at most one task per core, so it does not thrash or multiply peak memory; what the work
    freed is handed back when it ends.
    """
    with _LOCAL_CPU:
        try:
            yield
        finally:
            release_memory()


class HoldsSlots:
    """`slot()`: acquire on entry, release on exit (a limiter's acquire and release)."""

    def acquire(self) -> None:
        raise NotImplementedError

    def release(self) -> None:
        raise NotImplementedError

    @contextmanager
    def slot(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()


class RateLimiter(HoldsSlots):
    """Token bucket for requests per minute plus a cap on calls in flight; thread-safe."""

    def __init__(
        self,
        rpm: int | None = None,
        max_in_flight: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        *,
        burst: int = 1,
    ) -> None:
        if rpm is not None and rpm < 1:
            raise ValueError("rpm must be >= 1 or None")
        if max_in_flight is not None and max_in_flight < 1:
            raise ValueError("max_in_flight must be >= 1 or None")
        if burst < 1:
            raise ValueError("burst must be >= 1")
        self.rpm = rpm
        self.max_in_flight = max_in_flight
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._stamp = clock()
        self._slots = threading.BoundedSemaphore(max_in_flight) if max_in_flight else None
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    def _take_token(self) -> None:
        if self.rpm is None:
            return
        rate = self.rpm / 60.0  # tokens per second
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._stamp) * rate)
                self._stamp = now
                if self._tokens >= 1.0 - 1e-9:
                    self._tokens -= 1.0
                    return
                wait = (1.0 - self._tokens) / rate
            self._sleep(wait)

    def acquire(self) -> None:
        """Wait for an in-flight slot, then for a rate token."""
        if self._slots is not None:
            self._slots.acquire()
        try:
            self._take_token()
        except BaseException:
            if self._slots is not None:
                self._slots.release()
            raise
        with self._lock:
            self._in_flight += 1

    def release(self) -> None:
        with self._lock:
            self._in_flight -= 1
        if self._slots is not None:
            self._slots.release()


class Limiter(Protocol):
    """What a call holds while it runs: a RateLimiter, or one shared by every worker."""

    @property
    def in_flight(self) -> int: ...
    def acquire(self) -> None: ...
    def release(self) -> None: ...
    def slot(self) -> AbstractContextManager[None]: ...


# Makes the limiter of an endpoint (key, rpm, max_in_flight) that every worker shares.
SharedLimiterFactory = Callable[[str, int | None, int | None], Limiter]


class Limiters:
    """One limiter per endpoint, keyed by base_url (offline models are not limited).

    The first entry seen for an endpoint sets its limits; give entries that share a
    base_url the same rpm and max_in_flight. With `shared`, an endpoint that has limits gets
    a limiter all the project's workers share (`shared_limits.SharedRateLimiter`).
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        shared: SharedLimiterFactory | None = None,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._shared = shared
        self._lock = threading.Lock()
        self._by_key: dict[str, Limiter] = {}

    def get(self, key: str, rpm: int | None = None, max_in_flight: int | None = None) -> Limiter:
        with self._lock:
            limiter = self._by_key.get(key)
            if limiter is None:
                if self._shared is not None and (rpm or max_in_flight):
                    limiter = self._shared(key, rpm, max_in_flight)
                else:
                    limiter = RateLimiter(rpm, max_in_flight, self._clock, self._sleep)
                self._by_key[key] = limiter
            return limiter

    def close(self) -> None:
        """Let go of shared limiters' connections (a run's end)."""
        with self._lock:
            for limiter in self._by_key.values():
                close = getattr(limiter, "close", None)
                if close is not None:
                    close()

    def for_entry(self, entry: ModelEntry) -> Limiter:
        """The limiter of the entry's endpoint: its scheme, host and port (one account's
        limits cover every path and model there). Offline entries are limited only if the
        roster gives them limits (benchmarks that simulate hosted providers do)."""
        key = f"{entry.provider}:{entry.id}"
        if entry.base_url:
            url = urlsplit(entry.base_url)
            key = f"{url.scheme}://{url.netloc}"
        return self.get(key, entry.rpm, entry.max_in_flight)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._by_key


DEFAULT_LATENCY_S: dict[Capability, float] = {
    "text": 3.0,
    "image": 8.0,
    "video": 40.0,
    "speech": 1.0,
    "embedding": 0.3,
}


@dataclass(frozen=True)
class LatencyModel:
    """Seconds one call of each capability takes on a hosted model, times `scale`."""

    seconds: Mapping[Capability, float] = field(default_factory=lambda: dict(DEFAULT_LATENCY_S))
    scale: float = 1.0

    def latency(self, capability: Capability) -> float:
        return self.seconds.get(capability, 0.0) * self.scale

    def wrap(
        self, fn: Callable[..., R], capability: Capability, sleep: Callable[[float], None]
    ) -> Callable[..., R]:
        return with_latency(fn, self.latency(capability), sleep)


def with_latency(
    fn: Callable[..., R], seconds: float, sleep: Callable[[float], None] = time.sleep
) -> Callable[..., R]:
    """`fn`, but each call first waits `seconds` (to simulate a hosted model's latency)."""

    def wrapper(*args: Any, **kwargs: Any) -> R:
        if seconds > 0:
            sleep(seconds)
        return fn(*args, **kwargs)

    return wrapper


def critical_path_bound(
    calls: Iterable[tuple[Capability, int, int]],
    limits: Mapping[Capability, int | None],
    latency: LatencyModel | None = None,
    rpm: Mapping[Capability, int | None] | None = None,
) -> float:
    """The least wall time the calls can take, in seconds.

    `calls` are (capability, count, stage). The model: stages run one after another in
    stage order (a stage waits for everything in earlier stages); within a stage every
    capability runs in parallel with the others, and its calls run in waves of at most
    `limits[capability]` at once (None or missing: all at once), so it takes
    ceil(count / in_flight) * latency. If `rpm` limits a capability, its calls cannot
    start faster than one per 60/rpm seconds either, so it takes at least
    (count - 1) * 60 / rpm + latency. A stage takes as long as its slowest capability.
    Retries, queueing and local work are ignored: this is a lower bound.
    """
    model = latency or LatencyModel()
    per_stage: dict[int, dict[Capability, int]] = {}
    for capability, count, stage in calls:
        if count < 0:
            raise ValueError(f"count must be >= 0, not {count}")
        group = per_stage.setdefault(stage, {})
        group[capability] = group.get(capability, 0) + count
    total = 0.0
    for stage in sorted(per_stage):
        slowest = 0.0
        for capability, count in per_stage[stage].items():
            if count == 0:
                continue
            lat = model.latency(capability)
            in_flight = limits.get(capability)
            waves = math.ceil(count / in_flight) if in_flight else 1
            span = waves * lat
            per_minute = (rpm or {}).get(capability)
            if per_minute:
                span = max(span, (count - 1) * 60.0 / per_minute + lat)
            slowest = max(slowest, span)
        total += slowest
    return total
