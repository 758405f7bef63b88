"""run.json's faults survived: every failed attempt recovered from, vendor and drill alike."""

from __future__ import annotations

import pytest

from inkreel.providers.faults import FaultLog, FaultRecord, InjectedFault
from inkreel.providers.roster import ModelEntry
from inkreel.providers.router import AllProvidersFailed
from inkreel.run_report import survived_faults

from .test_router import Failure, router


def test_vendor_and_drill_faults_are_counted_once_per_task_and_kind() -> None:
    r, _ = router("draft", max_attempts=3)
    faults = FaultLog()
    attempts = {"n": 0}

    def write(entry: ModelEntry) -> str:
        attempts["n"] += 1
        if attempts["n"] == 1:
            raise Failure("server_error")  # the vendor's 500: retried
        if attempts["n"] == 2:
            # A drill fault the router sees: in both logs, counted once.
            faults.add(FaultRecord("k1", 1, "rate_limited", entry.id))
            raise InjectedFault("rate_limited", "k1")
        # A drill fault repaired in place (a truncated answer asked again): FaultLog only.
        faults.add(FaultRecord("k1", 2, "truncated", entry.id))
        return entry.id

    def judge(entry: ModelEntry) -> str:
        if entry.id == "cheap1":
            raise Failure("invalid_output")  # handed to the next model, which answers
        return entry.id

    def hopeless(entry: ModelEntry) -> str:
        faults.add(FaultRecord("k2", 1, "timeout", entry.id))
        raise Failure("refusal")

    r.call("write", write)
    r.call("judge", judge)
    with pytest.raises(AllProvidersFailed):
        r.call("write", hopeless)  # not survived: nothing counted from this call
    assert survived_faults(r.log, faults) == {
        "judge": {"invalid_output": 1},
        "write": {"rate_limited": 1, "server_error": 1, "truncated": 1},
    }
    assert {f.task for f in faults.records} == {"write"}
