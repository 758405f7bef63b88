"""The ledger: caps hold under concurrency, resumes never pay twice, costs add up per shot."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inkreel import cli
from inkreel.providers.budget import (
    BudgetExceeded,
    Ledger,
    LedgerError,
    PlannedCall,
    estimate,
)
from inkreel.providers.roster import ModelEntry, Roster
from inkreel.providers.router import Router

from .conftest import IDEA
from .fake_openai import FakeOpenAI
from .test_provider_setup import hosted_project

EP = ("episode", "ep01")
BATCH = ("batch", "night-1")


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger.sqlite")


def test_cap_is_never_exceeded_by_eight_racing_threads(ledger: Ledger) -> None:
    ledger.set_cap(EP, 10.0)
    granted: list[str] = []
    refused: list[BudgetExceeded] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def worker(n: int) -> None:
        start.wait()
        for i in range(20):
            key = f"t{n}-c{i}"
            try:
                ledger.reserve(key, [EP], 0.7, agent="director", shot=f"s{i}")
            except BudgetExceeded as exc:
                with lock:
                    refused.append(exc)
                continue
            with lock:
                granted.append(key)
            if i % 3 == 0:  # some calls finish, cheaper than reserved
                ledger.reconcile(key, 0.4, ok=True)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert refused, "the cap should have stopped some reservations"
    assert ledger.committed(EP) <= 10.0
    assert ledger.spent(EP) + ledger.reserved(EP) == pytest.approx(ledger.committed(EP))
    reconciled = [k for k in granted if int(k.split("-c")[1]) % 3 == 0]
    assert ledger.spent(EP) == pytest.approx(0.4 * len(reconciled))
    assert ledger.reserved(EP) == pytest.approx(0.7 * (len(granted) - len(reconciled)))
    # The cap was used up: nothing of 0.7 fits any more.
    assert ledger.committed(EP) > 10.0 - 0.7


def test_exact_fit_without_reconciling(ledger: Ledger) -> None:
    ledger.set_cap(EP, 1.0)
    results = []

    def worker(n: int) -> None:
        try:
            ledger.reserve(f"k{n}", [EP], 0.1)
            results.append(True)
        except BudgetExceeded:
            results.append(False)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 10  # exactly, thanks to integer micro-dollars
    assert ledger.reserved(EP) == pytest.approx(1.0)


def test_budget_exceeded_says_how_much_more_is_needed(ledger: Ledger) -> None:
    ledger.set_cap(EP, 1.0)
    ledger.reserve("a", [EP], 0.8)
    ledger.reconcile("a", 0.8, ok=True)
    with pytest.raises(BudgetExceeded) as info:
        ledger.reserve("b", [EP], 0.5)
    err = info.value
    assert err.scope == EP and err.cap == 1.0
    assert err.committed == pytest.approx(0.8) and err.needed == pytest.approx(0.5)
    assert err.shortfall == pytest.approx(0.3)
    assert "Raise the episode cap by at least $0.3000 (to $1.3000) to continue" in str(err)
    assert ledger.reserved(EP) == 0.0  # a refused reservation holds nothing
    ledger.set_cap(EP, 1.3)
    ledger.reserve("b", [EP], 0.5)


def test_a_reconciled_call_is_not_charged_again_after_reopening(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as first:
        first.set_cap(EP, 5.0)
        assert not first.reserve("shot-3-keyframe", [EP], 0.1).already_paid
        first.reconcile("shot-3-keyframe", 0.063, ok=True, result=b"\x89PNG...")
        first.reserve("shot-4-keyframe", [EP], 0.1)  # killed before it finished
    with Ledger(path) as resumed:
        again = resumed.reserve("shot-3-keyframe", [EP], 0.1)
        assert again.already_paid and again.amount_usd == 0.0
        assert resumed.result_for("shot-3-keyframe") == b"\x89PNG..."
        assert resumed.spent(EP) == pytest.approx(0.063)
        assert resumed.reserved(EP) == pytest.approx(0.1)  # the killed call still counts
        resumed.reserve("shot-4-keyframe", [EP], 0.1)  # the resume replaces it
        assert resumed.reserved(EP) == pytest.approx(0.1)
        resumed.reconcile("shot-4-keyframe", 0.063, ok=True)
        resumed.store_result("shot-4-keyframe", "text result")
        assert resumed.result_for("shot-4-keyframe") == "text result"
        assert resumed.committed(EP) == pytest.approx(0.126)
        assert resumed.cap(EP) == 5.0


def test_failed_calls_cost_what_was_charged_and_can_be_retried(ledger: Ledger) -> None:
    ledger.reserve("k", [EP], 0.5, model="seedance-2.0")
    ledger.reconcile("k", 0.0, ok=False)
    assert not ledger.is_paid("k") and ledger.result_for("k") is None
    ledger.reserve("k", [EP], 0.5, model="viduq3-pro")
    ledger.reconcile("k", 0.02, ok=False)  # this provider charged for the failure
    ledger.reserve("k", [EP], 0.5, model="viduq3-pro")
    ledger.reconcile("k", 0.4, ok=True)
    ledger.reconcile("k", 0.4, ok=True)  # a repeated reconcile does not charge twice
    assert ledger.spent(EP) == pytest.approx(0.42) and ledger.reserved(EP) == 0.0
    with pytest.raises(LedgerError, match="reserve it first"):
        ledger.reconcile("never-reserved", 0.1, ok=True)
    ledger.reserve("f", [EP], 0.1)
    ledger.reconcile("f", 0.0, ok=False)
    with pytest.raises(LedgerError, match="not paid"):
        ledger.store_result("f", b"x")
    with pytest.raises(ValueError):
        ledger.reserve("neg", [EP], -1.0)
    with pytest.raises(ValueError):
        ledger.reserve("bad-scope", ["episode"], 1.0)  # type: ignore[list-item]


def test_episode_and_batch_caps_are_both_enforced(ledger: Ledger) -> None:
    ep02 = ("episode", "ep02")
    ledger.set_cap(EP, 2.0)
    ledger.set_cap(ep02, 2.0)
    ledger.set_cap(BATCH, 3.0)
    ledger.reserve("a", [EP, BATCH], 1.5)
    with pytest.raises(BudgetExceeded) as info:
        ledger.reserve("b", [EP, BATCH], 1.0)  # episode cap: 1.5 + 1.0 > 2.0
    assert info.value.scope == EP
    ledger.reserve("c", [ep02, BATCH], 1.5)
    with pytest.raises(BudgetExceeded) as info:
        ledger.reserve("d", [ep02, BATCH], 0.4)  # episode fits (1.9) but batch does not
    assert info.value.scope == BATCH and info.value.shortfall == pytest.approx(0.4)
    assert ledger.remaining(BATCH) == 0.0 and ledger.remaining(("batch", "none")) is None
    ledger.set_cap(BATCH, None)
    ledger.reserve("d", [ep02, BATCH], 0.4)


def test_cost_table_rows_per_agent_shot_and_model(ledger: Ledger) -> None:
    def paid(key: str, usd: float, ok: bool = True, **who: str) -> None:
        ledger.reserve(key, [EP], usd, **who)
        ledger.reconcile(key, usd, ok=ok)

    paid("1", 0.06, agent="director", shot="s01", model="gpt-image-1")
    paid("2", 0.06, agent="director", shot="s01", model="gpt-image-1")
    paid("3", 0.01, ok=False, agent="director", shot="s01", model="gpt-image-1")
    paid("4", 0.27, agent="director", shot="s01", model="seedance-2.0")
    paid("5", 0.004, agent="screenwriter", model="deepseek-chat")
    ledger.reserve("6", [EP], 0.5, agent="director", shot="s02", model="seedance-2.0")
    ledger.reserve("other", [("episode", "ep02")], 9.0, agent="director")
    rows = ledger.table(EP)
    assert rows == [
        {
            "agent": "director",
            "shot": "s01",
            "model": "gpt-image-1",
            "calls": 2,
            "failed": 1,
            "usd": pytest.approx(0.13),
            "reserved_usd": 0.0,
        },
        {
            "agent": "director",
            "shot": "s01",
            "model": "seedance-2.0",
            "calls": 1,
            "failed": 0,
            "usd": pytest.approx(0.27),
            "reserved_usd": 0.0,
        },
        {
            "agent": "director",
            "shot": "s02",
            "model": "seedance-2.0",
            "calls": 0,
            "failed": 0,
            "usd": 0.0,
            "reserved_usd": pytest.approx(0.5),
        },
        {
            "agent": "screenwriter",
            "shot": "",
            "model": "deepseek-chat",
            "calls": 1,
            "failed": 0,
            "usd": pytest.approx(0.004),
            "reserved_usd": 0.0,
        },
    ]
    assert sum(r["usd"] for r in rows) == pytest.approx(ledger.spent(EP))


def test_estimate_prices_each_task_on_the_routed_model() -> None:
    roster = Roster.default()
    env = {"DEEPSEEK_API_KEY": "k", "OPENAI_API_KEY": "k", "ARK_API_KEY": "k"}
    router = Router(roster, "balanced", overrides={"write": "deepseek-chat"}, environ=env)
    plan = [
        PlannedCall("write", {"input_tokens": 2000, "output_tokens": 4000}),
        PlannedCall("keyframe", {"images": 1}, count=12),
        PlannedCall("animate", {"video_seconds": 5}, count=12),
        PlannedCall("voice", {"speech_chars": 1200}),
        PlannedCall("write", {"input_tokens": 1000, "output_tokens": 1000}),
    ]
    report = estimate(plan, roster, router)
    by_task = {line.task: line for line in report.lines}
    # deepseek: (3000 * 0.56 + 5000 * 1.68) / 1e6 = 0.01008
    assert by_task["write"].model_id == "deepseek-chat" and by_task["write"].calls == 2
    assert by_task["write"].usd == pytest.approx(0.01008)
    assert by_task["keyframe"].model_id == "seedream-3.0"  # tier 2 first under balanced
    assert by_task["keyframe"].usd == pytest.approx(12 * 0.03)
    # viduq3-pro (tier 2) has no key here, so balanced falls to seedance (tier 3).
    assert by_task["animate"].model_id == "seedance-2.0"
    assert by_task["animate"].usd == pytest.approx(12 * 5 * 0.054)
    assert by_task["voice"].usd == pytest.approx(1.2 * 0.015)
    assert report.total_usd == pytest.approx(0.01008 + 0.36 + 3.24 + 0.018)
    assert report.rows()[0]["task"] == "write"
    offline = estimate(plan, roster, Router(roster, "best", environ={}))
    assert offline.total_usd == 0.0
    assert {line.model_id for line in offline.lines} == {
        "offline-text",
        "offline-image",
        "offline-video",
        "offline-speech",
    }
    with pytest.raises(ValueError, match="unknown units"):
        PlannedCall("write", {"tokens": 5})


def test_router_and_ledger_pay_once_per_call_across_fallbacks_and_resumes(
    tmp_path: Path,
) -> None:
    env = {"OPENAI_API_KEY": "k", "ARK_API_KEY": "k"}
    drawn: list[str] = []

    class Refused(Exception):
        kind = "refusal"

    def keyframe(ledger: Ledger, router: Router) -> bytes:
        def fn(entry: ModelEntry) -> bytes:
            price = entry.price.usd_per_image
            with ledger.charge(
                "s01-kf", [EP], price, agent="director", shot="s01", model=entry.id
            ) as c:
                if c.already_paid:
                    assert isinstance(c.result, bytes)
                    return c.result
                drawn.append(entry.id)
                if entry.id == "gpt-image-1":
                    raise Refused()
                image = f"png by {entry.id}".encode()
                c.settle(price, result=image)
                return image

        return router.call("keyframe", fn, estimate=lambda e: e.price.usd_per_image)

    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as ledger:
        ledger.set_cap(EP, 1.0)
        router = Router(Roster.default(), "best", environ=env)
        assert keyframe(ledger, router) == b"png by seedream-3.0"
        assert ledger.spent(EP) == pytest.approx(0.03) and ledger.reserved(EP) == 0.0
        assert [(r["model"], r["calls"], r["failed"]) for r in ledger.table(EP)] == [
            ("gpt-image-1", 0, 1),
            ("seedream-3.0", 1, 0),
        ]
    with Ledger(path) as resumed:
        router = Router(Roster.default(), "best", environ=env)
        assert keyframe(resumed, router) == b"png by seedream-3.0"
        assert resumed.spent(EP) == pytest.approx(0.03)
    assert drawn == ["gpt-image-1", "seedream-3.0"]  # the resume drew nothing

    with Ledger(tmp_path / "tight.sqlite") as tight:
        tight.set_cap(EP, 0.01)
        with pytest.raises(BudgetExceeded, match="at least"):
            keyframe(tight, Router(Roster.default(), "best", environ=env))


# -- the budget stop of a run ----------------------------------------------------------------


def _stop_and_resume(tmp_path: Path, budget: str) -> tuple[str, str, float, float]:
    """Produce under `budget` until it stops; return the stop message, the resume's output,
    what was spent at the stop, and the estimate of the whole episode."""
    runner = CliRunner()
    root = tmp_path / "p"
    env = {"LOCAL_LLM_KEY": "sk-test", "INKREEL_RETRY_BASE_DELAY_S": "0"}
    common = [IDEA, "-o", str(root), "--length", "12", "--policy", "best"]
    with FakeOpenAI() as server:
        hosted_project(root, server.base_url)
        priced = runner.invoke(cli.app, ["estimate", *common], env=env)
        assert priced.exit_code == 0, priced.output
        estimate_usd = float(re.findall(r"total\s.*?([\d.]+)\s*│?\s*$", priced.stdout, re.M)[0])
        stopped = runner.invoke(
            cli.app, ["produce", *common, "--episode", "e1", "--budget", budget], env=env
        )
        assert stopped.exit_code == 2, stopped.output
        spent = json.loads((root / "episodes/e1/run.json").read_text())["spent_usd"]
        suggested = re.findall(r"--budget ([\d.]+)", stopped.stderr)[-1]
        resumed = runner.invoke(
            cli.app, ["resume", "-o", str(root), "--episode", "e1", "--budget", suggested], env=env
        )
    assert resumed.exit_code == 0, resumed.output  # the suggested cap finishes the episode
    return stopped.stderr, resumed.output, spent, estimate_usd


@pytest.mark.parametrize("budget", ["0.00005", "0.006"], ids=["before-the-script", "after-it"])
def test_the_budget_stop_names_what_the_rest_of_the_episode_needs(
    tmp_path: Path, budget: str
) -> None:
    message, _, spent, estimate_usd = _stop_and_resume(tmp_path, budget)
    assert (spent > 0) == (budget == "0.006")  # the script was paid for: estimated from it
    flat = " ".join(message.split())
    rest = float(re.findall(r"rest of the episode needs about \$([\d.]+) more", flat)[0])
    # The whole episode's estimate less what is spent, not the next call's shortfall.
    assert rest == pytest.approx(estimate_usd - spent, abs=2e-4)
    assert f"inkreel resume -o {tmp_path / 'p'} --episode e1 --budget" in flat
    assert "next call" not in flat
