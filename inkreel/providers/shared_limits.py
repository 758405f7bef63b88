"""An endpoint's rate limits held by every worker together, in the shared PostgreSQL.

`limits.RateLimiter` counts one process's calls; N workers would each send an endpoint its
whole `rpm` and `max_in_flight`. `SharedRateLimiter` keeps both in the database:

- **in flight**: slot i of an endpoint is the session advisory lock (endpoint, i); a call
  holds one for as long as it runs, and a worker that dies drops its slots with its
  connection;
- **per minute**: a token bucket row per endpoint (`rate_buckets`), refilled at rpm/60 a
  second on the database's clock (the workers' clocks may disagree), taken under the row's
  lock.

Waiting for a slot or a token polls (up to POLL_S apart), outside any transaction.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from inkreel.pg import advisory_lock, connect, lock_key
from inkreel.providers.limits import HoldsSlots

POLL_S = (0.02, 1.0)
SHARED_SCHEMA = "inkreel_shared"  # the buckets of every project on the database
_TABLE = (
    "CREATE TABLE IF NOT EXISTS rate_buckets (key TEXT PRIMARY KEY, "
    "tokens DOUBLE PRECISION NOT NULL, stamp DOUBLE PRECISION NOT NULL)"
)
_NOW = "extract(epoch from clock_timestamp())"
_READY: set[tuple[str, str]] = set()  # (database, schema) whose table exists


class SharedRateLimiter(HoldsSlots):
    """`limits.RateLimiter`'s interface (acquire, release, slot, in_flight) across workers."""

    def __init__(
        self,
        url: str,
        schema: str,
        key: str,
        rpm: int | None = None,
        max_in_flight: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.key = key
        self.rpm = rpm
        self.max_in_flight = max_in_flight
        self._sleep = sleep
        self._lock = threading.Lock()  # one statement at a time on the connection
        self._held: list[int] = []  # the slots this limiter holds (the session may re-enter)
        self._conn: Any = connect(url, schema)
        if (url, schema) not in _READY:
            with advisory_lock(url, "inkreel-rate-buckets", schema):
                self._conn.execute(_TABLE)
            _READY.add((url, schema))

    def _slot_key(self, slot: int) -> int:
        return lock_key("inkreel-slot", self.key, str(slot))

    @property
    def in_flight(self) -> int:
        with self._lock:
            return len(self._held)

    def try_slot(self) -> bool:
        """Take a free in-flight slot if there is one, without waiting."""
        if self.max_in_flight is None:
            with self._lock:
                self._held.append(-1)
            return True
        with self._lock:
            for i in range(self.max_in_flight):
                if i in self._held:
                    continue
                got = self._conn.execute(
                    "SELECT pg_try_advisory_lock(%s)", (self._slot_key(i),)
                ).fetchone()
                if got and got[0]:
                    self._held.append(i)
                    return True
        return False

    def try_token(self) -> float:
        """Take a rate token: 0.0 if taken, else the seconds until one is due."""
        if self.rpm is None:
            return 0.0
        rate = self.rpm / 60.0
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                self._conn.execute(
                    f"INSERT INTO rate_buckets VALUES (%s, 1.0, {_NOW}) ON CONFLICT DO NOTHING",
                    (self.key,),
                )
                tokens, now = self._conn.execute(
                    f"SELECT LEAST(1.0, tokens + ({_NOW} - stamp) * %s), {_NOW} "
                    "FROM rate_buckets WHERE key = %s FOR UPDATE",
                    (rate, self.key),
                ).fetchone()
                due = 0.0 if tokens >= 1.0 - 1e-9 else (1.0 - tokens) / rate
                left = tokens - 1.0 if due == 0.0 else tokens
                self._conn.execute(
                    "UPDATE rate_buckets SET tokens = %s, stamp = %s WHERE key = %s",
                    (left, now, self.key),
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        return due

    def acquire(self) -> None:
        """Wait for an in-flight slot, then for a rate token."""
        wait = POLL_S[0]
        while not self.try_slot():
            self._sleep(wait)
            wait = min(wait * 2, POLL_S[1])
        try:
            while (due := self.try_token()) > 0:
                self._sleep(due)
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        with self._lock:
            slot = self._held.pop()
            if slot >= 0:
                self._conn.execute(
                    "SELECT pg_advisory_unlock(%s)",
                    (lock_key("inkreel-slot", self.key, str(slot)),),
                )

    def close(self) -> None:
        with self._lock:
            self._conn.close()
