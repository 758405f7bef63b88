"""`pytest --cpu-report N`: the N tests that used the most CPU, and the suite's total.

A test's CPU is that of the process running it (all its threads) from its setup to the end
of its teardown, plus the children it waited for in that time (encoders, CLI and worker
processes, servers stopped by its fixtures). A module- or session-scoped fixture is counted
in the test that set it up or tore it down. Processes that outlive their test (an xdist
worker's imports, a server a later test stops) and the controller are not in the per-test
figures, so the total is below the run's whole CPU (`/usr/bin/time` gives that).

Each test's figure rides on its teardown report, so it reaches the controller under
pytest-xdist too. A measurement for people reading where the suite's time goes; no test
asserts on it.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Generator
from typing import Any

import pytest

KEY = "cpu_s"
_started = pytest.StashKey[float]()


def _cpu_now() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--cpu-report",
        type=int,
        default=0,
        metavar="N",
        help="print the N tests that used the most CPU (process and waited-for children)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.config.getoption("--cpu-report") > 0:
        item.stash[_started] = _cpu_now()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator:
    outcome = yield
    if call.when == "teardown" and _started in item.stash:
        report: pytest.TestReport = outcome.get_result()
        report.user_properties.append((KEY, _cpu_now() - item.stash[_started]))


class _Collector:
    def __init__(self, top: int) -> None:
        self.top = top
        self.cpu: dict[str, float] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties:
            if name == KEY and report.when == "teardown":
                self.cpu[report.nodeid] = float(value)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.cpu:
            return
        tr = terminalreporter
        tr.section(f"CPU per test (top {self.top})")
        ranked = sorted(self.cpu.items(), key=lambda kv: -kv[1])
        for nodeid, seconds in ranked[: self.top]:
            tr.write_line(f"{seconds:8.1f} s  {nodeid}")
        total = sum(self.cpu.values())
        tr.write_line(f"{total:8.1f} s  in all {len(self.cpu)} tests (per-test figures only)")


def pytest_configure(config: pytest.Config) -> None:
    top = config.getoption("--cpu-report")
    # Under xdist only the controller prints; the workers still measure.
    if top > 0 and not hasattr(config, "workerinput"):
        config.pluginmanager.register(_Collector(top), "inkreel-cpu-report")
