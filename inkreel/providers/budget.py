"""Money: reserve before a paid call, reconcile after, never pay twice for the same call.

A `Ledger` is a SQLite file in the project (WAL, one lock per transaction, BEGIN IMMEDIATE
so two processes on one project also serialise), or the project's schema in a shared
PostgreSQL database (`Ledger.open`; `providers.ledger_db`), where every worker on every
machine serialises on one advisory lock. Each paid call has an idempotency
`call_key` (a hash of its inputs, so the same call after a resume has the same key):

    r = ledger.reserve(key, [("episode", "ep01"), ("batch", "night-1")], 0.12,
                       agent="director", model="gpt-image-1", shot="s03")
    if r.already_paid:
        image = decode(ledger.result_for(key))      # reuse, do not pay again
    else:
        try:
            image = call_the_model()
        except Exception:
            ledger.reconcile(key, 0.0, ok=False)     # or what the provider charged
            raise
        ledger.reconcile(key, actual_usd, ok=True, result=encode(image))

`reserve` refuses (BudgetExceeded) when, for any scope with a cap, what is spent plus what
is reserved plus this call would pass the cap; the message says how much more is needed.
A pending reservation left by a killed run keeps counting until the same call_key is
reserved again (the resume), which replaces it; `interrupted` lists such calls and their
possible cost for the run report. A pending reservation of another process that is alive (a
second worker making the same request at the same moment) is waited for, and then answered
from the ledger: the request is sent once. A call interrupted in the process (Ctrl-C) is
left the same way, since whether the provider billed it is unknown.

Asynchronous paid jobs (video tasks) keep their provider task id here too (`store_job`,
committed before the first poll), so a retry or a resume polls the task it already paid for
instead of creating another (`JobJournal`).

Amounts are stored as integer micro-dollars, so sums are exact; reservations round up.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from inkreel.liveness import owner_token
from inkreel.pg import schema_name
from inkreel.project import Project
from inkreel.providers.ledger_db import Database, PostgresDatabase, SqliteDatabase
from inkreel.providers.roster import UNIT_KEYS, ModelEntry, Roster, Task

Scope = tuple[str, str]

_MICRO = 1_000_000
# The open ledgers of this process, per database: the calls any of them reserved and has not
# settled are this process's calls in flight (two runs in one worker are one owner); a closed
# ledger's unsettled calls are orphaned, as a dead process's are.
_LIVE: dict[str, list[Ledger]] = {}
_LIVE_LOCK = threading.Lock()
# How long a call waits, at most, between looks at another live worker's pending call of the
# same request (it is answered from the ledger once that one is paid).
_IN_FLIGHT_POLL_S = (0.05, 2.0)

# Job states after which the vendor will never deliver: only then is a new task created.
DEAD_JOB_STATES = frozenset({"failed", "cancelled", "expired"})


class LedgerError(Exception):
    """A ledger used out of order (reconcile without reserve, result for an unpaid call)."""


class BudgetExceeded(Exception):
    """A reservation that would take a scope past its cap."""

    kind = "budget_exceeded"  # the router never retries or falls through on this

    def __init__(self, scope: Scope, cap: float, committed: float, needed: float) -> None:
        self.scope = scope
        self.cap = cap
        self.committed = committed
        self.needed = needed
        self.shortfall = max(0.0, committed + needed - cap)
        kind, name = scope
        super().__init__(
            f"budget for {kind} {name!r} is ${cap:.4f}; ${committed:.4f} is spent or reserved "
            f"and the next call needs ${needed:.4f}. Raise the {kind} cap by at least "
            f"${self.shortfall:.4f} (to ${committed + needed:.4f}) to continue."
        )


@dataclass(frozen=True)
class Job:
    """A provider task a paid call started: who runs it, its id and its last known state."""

    call_key: str
    provider: str
    model: str  # the roster entry id the task was created on
    task_id: str
    state: str  # 'created' until a terminal state is seen, then that state


@dataclass(frozen=True)
class JobJournal:
    """One call's provider task in the ledger, for a task client (video.TaskJournal).

    Bound to the model the call is made on: a task another model created is not this
    model's to poll.
    """

    ledger: Ledger
    call_key: str
    provider: str
    model: str

    def task_id(self) -> str | None:
        """The task this call already started on this model, unless it can no longer deliver."""
        job = self.ledger.job(self.call_key)
        if job is None or job.model != self.model or job.state in DEAD_JOB_STATES:
            return None
        return job.task_id

    def record(self, task_id: str) -> None:
        """Keep a newly created task (committed before the caller polls it)."""
        self.ledger.store_job(self.call_key, self.provider, self.model, task_id)

    def finished(self, task_id: str, state: str) -> None:
        """Note the state a task ended in (a dead one lets the next attempt create anew)."""
        self.ledger.set_job_state(self.call_key, task_id, state)


@dataclass(frozen=True)
class Reservation:
    call_key: str
    amount_usd: float
    already_paid: bool = False  # a successful earlier call: reuse Ledger.result_for(call_key)


@dataclass
class Charge:
    """One call in flight under `Ledger.charge`."""

    call_key: str
    reservation: Reservation
    result: bytes | str | None = None  # the stored result, when already paid
    actual_usd: float | None = None
    payload: bytes | str | None = None
    failed_cost_usd: float = 0.0  # what the provider charges if the call fails

    @property
    def already_paid(self) -> bool:
        return self.reservation.already_paid

    def settle(self, actual_usd: float, result: bytes | str | None = None) -> None:
        """Record what the call really cost, and a result to keep for resumes."""
        self.actual_usd = actual_usd
        self.payload = result


def _micros(usd: float, *, up: bool) -> int:
    if not isinstance(usd, int | float) or not math.isfinite(usd) or usd < 0:
        raise ValueError(f"amount must be a finite number of USD >= 0, not {usd!r}")
    scaled = usd * _MICRO
    return math.ceil(scaled - 1e-6) if up else round(scaled)


def _usd(micros: int | None) -> float:
    return int(micros or 0) / _MICRO  # PostgreSQL sums come back as Decimal


def _check_scope(scope: Any) -> Scope:
    if (
        not isinstance(scope, tuple | list)
        or len(scope) != 2
        or not all(isinstance(part, str) and part for part in scope)
    ):
        raise ValueError(
            f"a scope is a (kind, name) pair of strings like ('episode', 'ep01'), not {scope!r}"
        )
    return (scope[0], scope[1])


class Ledger:
    """Reservations, charges and caps for one project, safe across threads and resumes."""

    def __init__(
        self, path: Path | None = None, *, database: Database | None = None, where: str = ""
    ) -> None:
        """A ledger on the SQLite file `path`, or on `database` (see `Ledger.open`), which
        `where` names: the ledgers of this process on one database share their calls."""
        if database is None:
            if path is None:
                raise ValueError("a Ledger needs a path or a database")
            self.path: Path | None = Path(path)
            database = SqliteDatabase(self.path)
            where = str(self.path.resolve())
        else:
            self.path = path
            where = where or f"{type(database).__name__}:{id(database)}"
        self._db = database
        self._where = where
        self._lock = threading.RLock()
        self._mine: set[str] = set()  # calls this ledger reserved and has not settled
        with _LIVE_LOCK:
            _LIVE.setdefault(where, []).append(self)

    @classmethod
    def open(cls, project: Project) -> Ledger:
        """The project's ledger: its SQLite file, or its schema in the shared database."""
        url = project.storage.database
        if url is None:
            return cls(project.ledger)
        database = PostgresDatabase(url, schema_name(project.id))
        return cls(database=database, where=f"{url}#{project.id}")

    @property
    def _held(self) -> set[str]:
        """Calls reserved and not settled by this process's open ledgers on this database: a
        'reserved' row outside it belongs to another process (alive, or dead), or is one of
        ours orphaned by an interrupt or a closed ledger."""
        with _LIVE_LOCK:
            return set().union(*(ledger._mine for ledger in _LIVE.get(self._where, [])))

    def _discard_everywhere(self, call_key: str) -> None:
        """A settled call is no longer in flight, whichever of our ledgers reserved it."""
        with _LIVE_LOCK:
            for ledger in _LIVE.get(self._where, []):
                ledger._mine.discard(call_key)

    # -- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[Database]:
        with self._lock:
            self._db.begin()
            try:
                yield self._db
            except BaseException:
                self._db.rollback()
                raise
            self._db.commit()

    def close(self) -> None:
        with _LIVE_LOCK:
            if self in _LIVE.get(self._where, []):
                _LIVE[self._where].remove(self)
        with self._lock:
            self._db.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _spent_micros(db: Database, scope: Scope) -> int:
        row = db.execute(
            "SELECT COALESCE(SUM(c.actual_micros), 0) FROM charges c "
            "JOIN scope_members m ON m.call_key = c.call_key WHERE m.kind = ? AND m.name = ?",
            scope,
        ).fetchone()
        return int(row[0])

    @staticmethod
    def _reserved_micros(db: Database, scope: Scope, exclude: str | None = None) -> int:
        row = db.execute(
            "SELECT COALESCE(SUM(r.reserved_micros), 0) FROM reservations r "
            "JOIN scope_members m ON m.call_key = r.call_key "
            "WHERE m.kind = ? AND m.name = ? AND r.status = 'reserved' "
            "AND (CAST(? AS TEXT) IS NULL OR r.call_key <> ?)",
            (*scope, exclude, exclude),
        ).fetchone()
        return int(row[0])

    # -- caps -------------------------------------------------------------------------------

    def set_cap(self, scope: Scope, usd: float | None) -> None:
        """Cap what a scope may spend plus reserve; None removes the cap."""
        scope = _check_scope(scope)
        with self._tx() as db:
            if usd is None:
                db.execute("DELETE FROM caps WHERE kind = ? AND name = ?", scope)
            else:
                db.execute(
                    "INSERT INTO caps (kind, name, cap_micros) VALUES (?, ?, ?) "
                    "ON CONFLICT (kind, name) DO UPDATE SET cap_micros = excluded.cap_micros",
                    (*scope, _micros(usd, up=False)),
                )

    def cap(self, scope: Scope) -> float | None:
        scope = _check_scope(scope)
        with self._lock:
            row = self._db.execute(
                "SELECT cap_micros FROM caps WHERE kind = ? AND name = ?", scope
            ).fetchone()
        return None if row is None else _usd(row[0])

    # -- the call cycle ---------------------------------------------------------------------

    def reserve(
        self,
        call_key: str,
        scope: Sequence[Scope],
        amount_usd: float,
        *,
        agent: str = "",
        model: str = "",
        shot: str = "",
        task: str = "",
    ) -> Reservation:
        """Hold `amount_usd` for a call in every scope, or raise BudgetExceeded.

        A call_key already reconciled as successful returns `already_paid=True` and holds
        nothing. A call_key with a pending reservation (a crashed run) is re-reserved, and
        the crashed attempt is kept for `interrupted`.
        """
        if not call_key:
            raise ValueError("call_key must be a non-empty string")
        scopes = [_check_scope(s) for s in scope]
        amount = _micros(amount_usd, up=True)
        details = (agent, model, shot, task)
        wait = _IN_FLIGHT_POLL_S[0]
        while True:
            reservation = self._try_reserve(call_key, scopes, amount, details)
            if reservation is not None:
                return reservation
            # Another live worker is making this very call: wait for its answer, not pay twice.
            time.sleep(wait)
            wait = min(wait * 2, _IN_FLIGHT_POLL_S[1])

    def _try_reserve(
        self, call_key: str, scopes: list[Scope], amount: int, details: tuple[str, str, str, str]
    ) -> Reservation | None:
        """Reserve in one transaction; None while another live process has the call pending."""
        with self._tx() as db:
            row = db.execute(
                "SELECT status, owner FROM reservations WHERE call_key = ?", (call_key,)
            ).fetchone()
            if row is not None and row[0] == "paid":
                return Reservation(call_key, 0.0, already_paid=True)
            if row is not None and row[0] == "reserved" and call_key not in self._held:
                if db.owner_alive(row[1]):
                    return None
                self._note_interrupted(db, call_key)
            members = {
                (k, n)
                for k, n in db.execute(
                    "SELECT kind, name FROM scope_members WHERE call_key = ?", (call_key,)
                )
            }
            for s in dict.fromkeys([*scopes, *members]):
                cap_row = db.execute(
                    "SELECT cap_micros FROM caps WHERE kind = ? AND name = ?", s
                ).fetchone()
                if cap_row is None:
                    continue
                committed = self._spent_micros(db, s) + self._reserved_micros(db, s, call_key)
                if committed + amount > cap_row[0]:
                    raise BudgetExceeded(s, _usd(cap_row[0]), _usd(committed), _usd(amount))
            db.execute(
                "INSERT INTO reservations (call_key, status, reserved_micros, agent, model, "
                "shot, task, updated_at, owner) VALUES (?, 'reserved', ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (call_key) DO UPDATE SET "
                "status = 'reserved', reserved_micros = excluded.reserved_micros, "
                "agent = excluded.agent, model = excluded.model, shot = excluded.shot, "
                "task = excluded.task, updated_at = excluded.updated_at, owner = excluded.owner",
                (call_key, amount, *details, time.time(), owner_token()),
            )
            db.executemany(
                "INSERT INTO scope_members (call_key, kind, name) VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                [(call_key, k, n) for k, n in scopes],
            )
            self._mine.add(call_key)
        return Reservation(call_key, _usd(amount))

    @staticmethod
    def _note_interrupted(db: Database, call_key: str) -> None:
        """Keep a dead process's pending reservation before a resume replaces it."""
        db.execute(
            "INSERT INTO interrupted_calls (call_key, reserved_micros, agent, model, shot, "
            "task, reserved_at, resumed_at) SELECT call_key, reserved_micros, agent, model, "
            "shot, task, updated_at, ? FROM reservations WHERE call_key = ?",
            (time.time(), call_key),
        )

    def reconcile(
        self,
        call_key: str,
        actual_usd: float,
        ok: bool,
        *,
        result: bytes | str | None = None,
        model: str | None = None,
    ) -> None:
        """Replace the reservation by what the call actually cost.

        A failed call costs what the provider charged (often 0) and can be reserved again;
        a successful one is paid for good, optionally with its result stored in the same
        transaction. Reconciling a paid call again with ok=True does nothing.
        """
        actual = _micros(actual_usd, up=False)
        with self._tx() as db:
            row = db.execute(
                "SELECT status, agent, model, shot, task FROM reservations WHERE call_key = ?",
                (call_key,),
            ).fetchone()
            if row is None:
                raise LedgerError(f"no reservation for call {call_key!r}; reserve it first")
            status, agent, reserved_model, shot, task = row
            if status == "paid" and ok:
                return
            if status != "reserved":
                raise LedgerError(f"call {call_key!r} is {status}, not reserved; reserve it again")
            db.execute(
                "INSERT INTO charges (call_key, actual_micros, ok, agent, model, shot, task, at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    call_key,
                    actual,
                    int(ok),
                    agent,
                    model or reserved_model,
                    shot,
                    task,
                    time.time(),
                ),
            )
            db.execute(
                "UPDATE reservations SET status = ?, reserved_micros = 0, updated_at = ?, "
                "result = COALESCE(?, result) WHERE call_key = ?",
                ("paid" if ok else "failed", time.time(), db.encode_result(result), call_key),
            )
            self._discard_everywhere(call_key)

    def store_result(self, call_key: str, payload: bytes | str) -> None:
        """Keep a paid call's result so a resume can reuse it instead of paying again."""
        with self._tx() as db:
            row = db.execute(
                "SELECT status FROM reservations WHERE call_key = ?", (call_key,)
            ).fetchone()
            if row is None or row[0] != "paid":
                raise LedgerError(f"call {call_key!r} is not paid; reconcile it with ok=True first")
            db.execute(
                "UPDATE reservations SET result = ? WHERE call_key = ?",
                (db.encode_result(payload), call_key),
            )

    def result_for(self, call_key: str) -> bytes | str | None:
        """The stored result of a paid call (str or bytes as stored), else None."""
        with self._lock:
            row = self._db.execute(
                "SELECT result FROM reservations WHERE call_key = ? AND status = 'paid'",
                (call_key,),
            ).fetchone()
        return None if row is None else self._db.decode_result(row[0])

    def is_paid(self, call_key: str) -> bool:
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM reservations WHERE call_key = ? AND status = 'paid'", (call_key,)
            ).fetchone()
        return row is not None

    @contextmanager
    def charge(
        self,
        call_key: str,
        scope: Sequence[Scope],
        amount_usd: float,
        *,
        agent: str = "",
        model: str = "",
        shot: str = "",
        task: str = "",
    ) -> Iterator[Charge]:
        """Reserve on entry and reconcile on exit; use it inside a router's per-model fn.

            with ledger.charge(key, scope, estimate(entry), model=entry.id) as c:
                if c.already_paid:
                    return decode(c.result)
                out = call(entry)
                c.settle(actual_usd, result=encode(out))
                return out

        An exception reconciles the call as failed at `c.failed_cost_usd` (default 0) and
        propagates; a clean exit reconciles it as paid at the settled cost, or at the
        reserved amount if `settle` was not called. BudgetExceeded comes from entering.
        An interrupt (KeyboardInterrupt, SystemExit) leaves the reservation pending, as a
        killed process does: whether the provider billed the call is unknown, so the money
        stays held and `interrupted` lists the call.
        """
        reservation = self.reserve(
            call_key, scope, amount_usd, agent=agent, model=model, shot=shot, task=task
        )
        if reservation.already_paid:
            yield Charge(call_key, reservation, result=self.result_for(call_key))
            return
        current = Charge(call_key, reservation)
        try:
            yield current
        except Exception:
            self.reconcile(call_key, current.failed_cost_usd, ok=False)
            raise
        except BaseException:
            with self._lock:
                self._mine.discard(call_key)  # orphaned, like a dead process's call
            raise
        actual = reservation.amount_usd if current.actual_usd is None else current.actual_usd
        self.reconcile(call_key, actual, ok=True, result=current.payload)

    # -- provider jobs ----------------------------------------------------------------------

    def store_job(self, call_key: str, provider: str, model: str, task_id: str) -> None:
        """Keep the provider task a call created, replacing any earlier one of that call.

        Committed (synchronous=FULL) before it returns, so a process killed while polling
        leaves the id for the resume to poll.
        """
        now = time.time()
        with self._tx() as db:
            db.execute(
                "INSERT INTO jobs (call_key, provider, model, task_id, state, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, 'created', ?, ?) ON CONFLICT (call_key) DO "
                "UPDATE SET provider = excluded.provider, model = excluded.model, "
                "task_id = excluded.task_id, state = 'created', "
                "created_at = excluded.created_at, updated_at = excluded.updated_at",
                (call_key, provider, model, task_id, now, now),
            )

    def set_job_state(self, call_key: str, task_id: str, state: str) -> None:
        """Record the state a call's task was last seen in (ignored for a replaced task)."""
        with self._tx() as db:
            db.execute(
                "UPDATE jobs SET state = ?, updated_at = ? WHERE call_key = ? AND task_id = ?",
                (state, time.time(), call_key, task_id),
            )

    def job(self, call_key: str) -> Job | None:
        """The provider task a call created last, if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT call_key, provider, model, task_id, state FROM jobs WHERE call_key = ?",
                (call_key,),
            ).fetchone()
        return None if row is None else Job(*row)

    def journal(self, call_key: str, provider: str, model: str) -> JobJournal:
        """Where a task client on `model` keeps and finds the task of `call_key`."""
        return JobJournal(self, call_key, provider, model)

    # -- reading ----------------------------------------------------------------------------

    def interrupted(self, scope: Scope) -> list[dict[str, Any]]:
        """Paid calls of a scope that were in flight when their process died, and their cost.

        Two kinds, both with the amount reserved for them (what the provider may have billed):
        still pending (`resumed` False: reserved by a process that is gone, or by another
        worker still running it, and not retried yet) and already retried by a resume
        (`resumed` True). `job` is the provider task a retry polls instead of paying again
        (video); a call without one (image, speech: nothing to poll) is sent again by the
        resume, so up to `reserved_usd` may be paid twice.
        """
        scope = _check_scope(scope)
        with self._lock:
            pending = self._db.execute(
                "SELECT r.call_key, r.agent, r.task, r.model, r.shot, r.reserved_micros, "
                "r.updated_at, 0, j.task_id FROM reservations r "
                "JOIN scope_members m ON m.call_key = r.call_key "
                "LEFT JOIN jobs j ON j.call_key = r.call_key "
                "WHERE m.kind = ? AND m.name = ? AND r.status = 'reserved'",
                scope,
            ).fetchall()
            resumed = self._db.execute(
                "SELECT i.call_key, i.agent, i.task, i.model, i.shot, i.reserved_micros, "
                "i.reserved_at, 1, j.task_id FROM interrupted_calls i "
                "JOIN scope_members m ON m.call_key = i.call_key "
                "LEFT JOIN jobs j ON j.call_key = i.call_key "
                "WHERE m.kind = ? AND m.name = ?",
                scope,
            ).fetchall()
            held = set(self._held)
        rows = [r for r in pending if r[0] not in held] + resumed
        keys = ("call_key", "agent", "task", "model", "shot")
        return [
            {
                **dict(zip(keys, row[:5], strict=True)),
                "reserved_usd": _usd(row[5]),
                "reserved_at": row[6],
                "resumed": bool(row[7]),
                "job": row[8],
            }
            for row in sorted(rows, key=lambda r: (r[6], r[0]))
        ]

    def spent(self, scope: Scope) -> float:
        scope = _check_scope(scope)
        with self._lock:
            return _usd(self._spent_micros(self._db, scope))

    def reserved(self, scope: Scope) -> float:
        scope = _check_scope(scope)
        with self._lock:
            return _usd(self._reserved_micros(self._db, scope))

    def committed(self, scope: Scope) -> float:
        """Spent plus reserved: what the cap is checked against."""
        scope = _check_scope(scope)
        with self._lock:
            return _usd(
                self._spent_micros(self._db, scope) + self._reserved_micros(self._db, scope)
            )

    def remaining(self, scope: Scope) -> float | None:
        cap = self.cap(scope)
        return None if cap is None else max(0.0, cap - self.committed(scope))

    def table(self, scope: Scope) -> list[dict[str, Any]]:
        """Cost rows per agent, shot and model for a scope, plus what is still reserved."""
        scope = _check_scope(scope)
        with self._lock:
            charged = self._db.execute(
                "SELECT c.agent, c.shot, c.model, SUM(c.ok), SUM(1 - c.ok), "
                "SUM(c.actual_micros) FROM charges c "
                "JOIN scope_members m ON m.call_key = c.call_key "
                "WHERE m.kind = ? AND m.name = ? GROUP BY c.agent, c.shot, c.model",
                scope,
            ).fetchall()
            pending = self._db.execute(
                "SELECT r.agent, r.shot, r.model, SUM(r.reserved_micros) FROM reservations r "
                "JOIN scope_members m ON m.call_key = r.call_key "
                "WHERE m.kind = ? AND m.name = ? AND r.status = 'reserved' "
                "GROUP BY r.agent, r.shot, r.model",
                scope,
            ).fetchall()
        rows: dict[tuple[str, str, str], dict[str, Any]] = {}
        for agent, shot, model, ok, failed, micros in charged:
            rows[(agent, shot, model)] = {
                "agent": agent,
                "shot": shot,
                "model": model,
                "calls": int(ok),
                "failed": int(failed),
                "usd": _usd(micros),
                "reserved_usd": 0.0,
            }
        for agent, shot, model, micros in pending:
            row = rows.setdefault(
                (agent, shot, model),
                {
                    "agent": agent,
                    "shot": shot,
                    "model": model,
                    "calls": 0,
                    "failed": 0,
                    "usd": 0.0,
                    "reserved_usd": 0.0,
                },
            )
            row["reserved_usd"] = _usd(micros)
        return [rows[k] for k in sorted(rows)]


# -- estimates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedCall:
    """A call an episode will make, measured in cost units (roster.UNIT_KEYS)."""

    task: Task
    units: dict[str, float] = field(default_factory=dict)
    count: int = 1

    def __post_init__(self) -> None:
        unknown = set(self.units) - set(UNIT_KEYS)
        if unknown:
            raise ValueError(f"unknown units {sorted(unknown)}; use {', '.join(UNIT_KEYS)}")
        if self.count < 0:
            raise ValueError("count must be >= 0")


@dataclass(frozen=True)
class EstimateLine:
    task: str
    model_id: str
    calls: int
    units: dict[str, float]
    usd: float


@dataclass(frozen=True)
class EstimateReport:
    lines: list[EstimateLine]
    total_usd: float

    def rows(self) -> list[dict[str, Any]]:
        return [
            {"task": x.task, "model": x.model_id, "calls": x.calls, "usd": round(x.usd, 6)}
            for x in self.lines
        ]


class Chooser(Protocol):
    def choose(self, task: Task) -> ModelEntry: ...


def estimate(calls: Iterable[PlannedCall], roster: Roster, router: Chooser) -> EstimateReport:
    """Price planned calls on the model the router would try first for each task.

    Pure: reads prices from `roster` (so a roster override of a price counts), asks the
    router only which model it would choose, calls nothing. Retries and fallbacks are not
    priced; treat the total as the expected cost, not a worst case.
    """
    by_task: dict[str, tuple[str, int, dict[str, float], float]] = {}
    for planned in calls:
        chosen = roster.get(router.choose(planned.task).id)
        cost = chosen.price.cost(planned.units) * planned.count
        model_id, n, units, usd = by_task.get(planned.task, (chosen.id, 0, {}, 0.0))
        for key, value in planned.units.items():
            units[key] = units.get(key, 0.0) + value * planned.count
        by_task[planned.task] = (model_id, n + planned.count, units, usd + cost)
    lines = [
        EstimateLine(task, model_id, n, units, usd)
        for task, (model_id, n, units, usd) in by_task.items()
    ]
    return EstimateReport(lines, sum(line.usd for line in lines))
