"""What a run cost, what it survived and what it handed on: the episode's run.json.

A fault survived is a failed attempt the call recovered from, by a retry of the same model or
by the next candidate: the vendor's errors from the router's log (429, 5xx, timeouts,
refused connections, invalid answers) and a fault drill's own faults from its FaultLog (some
of which the dispatcher repairs in place, without the router seeing them). A drill fault the
router also saw is counted once, from the FaultLog.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from inkreel.providers.budget import Ledger
from inkreel.providers.faults import FaultLog, FaultRecord
from inkreel.providers.registry import Providers
from inkreel.providers.router import CallLog

MEDIA_TASKS = ("keyframe", "voice", "animate")


def run_report(episode: str, providers: Providers, ledger: Ledger) -> dict[str, Any]:
    """Return the run report of `episode`: spend, every attempt, faults survived, fallbacks."""
    scope = ("episode", episode)
    router = providers.calls.router
    by_task = survived_faults(router.log, providers.calls.faults)
    totals: Counter[str] = Counter()
    for kinds in by_task.values():
        totals.update(kinds)
    report: dict[str, Any] = {
        "episode": episode,
        "spent_usd": round(ledger.spent(scope), 6),
        "cap_usd": ledger.cap(scope),
        "cost_table": ledger.table(scope),
        "calls": [
            {
                "task": r.task,
                "model": r.model_id,
                "attempt": r.attempt,
                "outcome": r.outcome,
                "error": r.error_kind,
                "usd": r.cost_usd,
                "label": r.label,
                "call": r.call,
            }
            for r in router.log.records
        ],
        "faults_survived": dict(sorted(totals.items())),
        "faults_by_task": by_task,
        "fallbacks": router.log.fallback_summary(),
        "warnings": list(router.warnings),
        "repairs": list(providers.calls.repairs),  # answers the line fitted by rule
        "interrupted": ledger.interrupted(scope),  # paid calls in flight when a process died
    }
    return report


def survived_faults(log: CallLog, faults: FaultLog) -> dict[str, dict[str, int]]:
    """Failed attempts recovered from, per task and kind, vendor and drill faults alike."""
    answered = log.answered_calls()
    table: dict[str, Counter[str]] = {}
    for record in log.recovered():
        if not record.injected and record.error_kind is not None:
            table.setdefault(record.task, Counter())[record.error_kind] += 1
    for fault in faults.records:
        # A fault outside any router call (a drill wrapper used directly) has no call to ask.
        if fault.call == 0 or fault.call in answered:
            table.setdefault(_task_of(fault), Counter())[fault.kind] += 1
    return {task: dict(sorted(kinds.items())) for task, kinds in sorted(table.items())}


def _task_of(fault: FaultRecord) -> str:
    if fault.task:
        return fault.task
    head = fault.call_key.split(":", 1)[0]  # media call keys start with their task
    return head if head in MEDIA_TASKS else "text"
