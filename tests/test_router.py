"""The roster, the router's choices, retries and fallbacks, and rate limits on a fake clock."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from inkreel.providers.budget import BudgetExceeded, Ledger
from inkreel.providers.dispatch import Dispatch
from inkreel.providers.errors import ConfigurationError, UnusableAnswer
from inkreel.providers.limits import (
    LatencyModel,
    Limiters,
    RateLimiter,
    critical_path_bound,
    with_latency,
)
from inkreel.providers.roster import (
    CAPABILITIES,
    IMAGE_INPUT_TASKS,
    TASK_CAPABILITY,
    ModelEntry,
    Roster,
    RosterError,
    format_roster,
    usable,
)
from inkreel.providers.router import (
    AllProvidersFailed,
    Router,
    RouterError,
    error_kind,
    is_transient,
)

KEYS = {"K": "secret"}


def hosted(model_id: str, tier: int, usd_per_1k_in: float, **extra: Any) -> dict[str, Any]:
    return {
        "id": model_id,
        "capability": "text",
        "provider": "example",
        "model": model_id,
        "base_url": "https://example.invalid/v1",
        "api_key_env": "K",
        "price": {"usd_per_1k_input_tokens": usd_per_1k_in},
        "tier": tier,
        "tasks": ["write", "judge"],
        **extra,
    }


def small_roster() -> Roster:
    """Four hosted text models whose order differs by policy, plus the built-in offline ones."""
    merged = Roster.default().merged(
        [
            hosted("cheap1", 1, 1.0),
            hosted("cheap2", 2, 1.0),
            hosted("mid2", 2, 2.0),
            hosted("best3", 3, 5.0),
        ]
    )
    return Roster(e for e in merged if e.offline or e.provider == "example")


class Failure(Exception):
    def __init__(self, kind: str, retry_after: float | None = None) -> None:
        super().__init__(kind)
        self.kind = kind
        self.retry_after = retry_after


def router(policy: str = "draft", **kwargs: Any) -> tuple[Router, list[float]]:
    sleeps: list[float] = []
    r = Router(
        small_roster(),
        policy,  # type: ignore[arg-type]
        environ=kwargs.pop("environ", KEYS),
        sleep=sleeps.append,
        rng=random.Random(0),
        **kwargs,
    )
    return r, sleeps


def ids(entries: list[ModelEntry]) -> list[str]:
    return [e.id for e in entries]


# -- roster ---------------------------------------------------------------------------------


def test_default_roster_has_a_free_always_usable_offline_model_per_capability() -> None:
    roster = Roster.default()
    for capability in CAPABILITIES:
        offline = roster.offline_for(capability)
        assert offline is not None and offline.tier == 1 and offline.price.free
        assert usable(offline, {}) == (True, "offline, always available")
    for task, capability in TASK_CAPABILITY.items():
        offline_serves = any(
            e.offline and e.capability == capability for e in roster.for_task(task)
        )
        # The judge reads images, which no offline model does (tests/test_judge.py).
        assert offline_serves == (task not in IMAGE_INPUT_TASKS)
    hosted_entries = [e for e in roster if not e.offline]
    assert {"gpt-4.1-mini", "gpt-4.1", "deepseek-chat", "qwen-plus", "gpt-image-1"} <= {
        e.id for e in hosted_entries
    }
    assert {e.capability for e in hosted_entries} == set(CAPABILITIES)
    for e in hosted_entries:
        assert e.base_url and e.api_key_env and not e.price.free and e.price_note


def test_usable_says_what_is_missing() -> None:
    entry = Roster.default().get("deepseek-chat")
    assert usable(entry, {}) == (False, "DEEPSEEK_API_KEY is not set")
    assert usable(entry, {"DEEPSEEK_API_KEY": "  "}) == (False, "DEEPSEEK_API_KEY is empty")
    assert usable(entry, {"DEEPSEEK_API_KEY": "sk-x"})[0]
    no_url = (
        Roster.default().merged([{"id": "deepseek-chat", "base_url": None}]).get("deepseek-chat")
    )
    ok, reason = usable(no_url, {"DEEPSEEK_API_KEY": "sk-x"})
    assert not ok and "base_url" in reason


def test_project_toml_overrides_fields_and_adds_models(tmp_path: Path) -> None:
    (tmp_path / "inkreel.toml").write_text(
        "text_model = 'offline'\n"
        "[[models]]\n"
        "id = 'deepseek-chat'\n"
        "rpm = 30\n"
        "price = { usd_per_1k_output_tokens = 0.002 }\n"
        "[[models]]\n"
        "id = 'local-llama'\n"
        "capability = 'text'\n"
        "provider = 'ollama'\n"
        "model = 'llama3.1'\n"
        "base_url = 'http://localhost:11434/v1'\n"
        "api_key_env = 'OLLAMA_KEY'\n"
        "tier = 1\n"
        "tasks = ['write']\n",
        encoding="utf-8",
    )
    roster = Roster.load(tmp_path)
    deepseek = roster.get("deepseek-chat")
    assert deepseek.rpm == 30
    assert deepseek.price.usd_per_1k_output_tokens == 0.002
    assert deepseek.price.usd_per_1k_input_tokens == 0.00056  # untouched field kept
    assert deepseek.base_url == "https://api.deepseek.com"
    assert roster.get("local-llama").provider == "ollama"
    assert len(roster) == len(Roster.default()) + 1


def test_bad_toml_entries_are_explained(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="api_key_env"):
        Roster.default().merged([{"id": "gpt-4.1", "api_key_env": "sk-live-1234"}])
    with pytest.raises(RosterError, match="tier"):
        Roster.default().merged([{"id": "gpt-4.1", "tier": 5}])
    with pytest.raises(RosterError, match="capability"):
        Roster.default().merged([{"id": "new", "provider": "x", "model": "y"}])
    (tmp_path / "inkreel.toml").write_text("[[models]]\nrpm = 3\n", encoding="utf-8")
    with pytest.raises(RosterError, match="no 'id'"):
        Roster.load(tmp_path)


def test_format_roster_rows() -> None:
    rows = format_roster(Roster.default(), {"OPENAI_API_KEY": "sk"})
    by_id = {r["id"]: r for r in rows}
    assert by_id["offline-text"]["usable"] == "yes" and by_id["offline-text"]["price"] == "free"
    assert by_id["gpt-4.1"]["usable"] == "yes"
    assert by_id["gpt-4.1"]["price"] == "$2.00/$8.00 per 1M tok in/out"
    assert by_id["deepseek-chat"]["usable"] == "no"
    assert by_id["deepseek-chat"]["reason"] == "DEEPSEEK_API_KEY is not set"
    assert by_id["gpt-image-1"]["price"] == "$0.063/image"
    assert by_id["tts-1"]["price"] == "$15.00 per 1M chars"
    assert by_id["text-embedding-3-small"]["price"] == "$0.02 per 1M tok"
    assert [r["capability"] for r in rows] == sorted(
        (r["capability"] for r in rows), key=CAPABILITIES.index
    )
    assert {"capability", "id", "model", "price", "tier", "usable", "reason"} <= set(rows[0])


# -- choosing -------------------------------------------------------------------------------


def test_policy_orders_candidates() -> None:
    assert ids(router("draft")[0].candidates("write")) == [
        "cheap1",  # cheapest; tie with cheap2 broken by lower tier
        "cheap2",
        "mid2",
        "best3",
        "offline-text",
    ]
    assert ids(router("balanced")[0].candidates("write")) == [
        "cheap2",
        "mid2",
        "cheap1",
        "best3",
        "offline-text",
    ]
    assert ids(router("best")[0].candidates("write")) == [
        "best3",
        "cheap2",
        "mid2",
        "cheap1",
        "offline-text",
    ]


def test_only_usable_models_and_offline_fallback_flag() -> None:
    r, _ = router("best", environ={})
    assert ids(r.candidates("write")) == ["offline-text"]
    r, _ = router("best", offline_fallback=False)
    assert "offline-text" not in ids(r.candidates("write"))
    r, _ = router("best", environ={}, offline_fallback=False)
    with pytest.raises(RouterError, match="offline fallback is off"):
        r.candidates("write")


def test_default_roster_without_keys_routes_every_task_offline() -> None:
    r = Router(Roster.default(), "best", environ={})
    for task, capability in TASK_CAPABILITY.items():
        if task not in IMAGE_INPUT_TASKS:
            assert ids(r.candidates(task)) == [f"offline-{capability}"]


def test_override_pins_a_model_first() -> None:
    r, _ = router("draft", overrides={"write": "best3"})
    assert ids(r.candidates("write")) == ["best3", "cheap1", "cheap2", "mid2", "offline-text"]
    assert r.choose("judge").id == "cheap1"  # other tasks keep the policy


def test_bad_overrides_are_refused_with_the_known_ids() -> None:
    with pytest.raises(RouterError, match=r"no such model; known ids: .*cheap1"):
        router("draft", overrides={"write": "gpt-9"})
    with pytest.raises(RouterError, match="not usable here: K is not set"):
        router("draft", overrides={"write": "best3"}, environ={})
    with pytest.raises(RouterError, match="needs an image model"):
        router("draft", overrides={"keyframe": "best3"})
    with pytest.raises(RouterError, match="unknown policy"):
        Router(small_roster(), "cheapest")  # type: ignore[arg-type]


# -- calling --------------------------------------------------------------------------------


def test_fallback_on_a_non_transient_error() -> None:
    r, sleeps = router("draft")

    def fn(entry: ModelEntry) -> str:
        if entry.id == "cheap1":
            raise Failure("refusal")
        return entry.id

    assert r.call("write", fn, estimate=lambda e: 0.25) == "cheap2"
    assert sleeps == []
    assert [(x.model_id, x.outcome, x.error_kind) for x in r.log.records] == [
        ("cheap1", "gave_up", "refusal"),
        ("cheap2", "ok", None),
    ]
    assert r.log.total_cost() == 0.25


def test_retry_then_succeed_on_429_honours_retry_after() -> None:
    r, sleeps = router("draft")
    calls = {"n": 0}

    def fn(entry: ModelEntry) -> str:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise Failure("rate_limited", retry_after=7.5)
        return entry.id

    assert r.call("write", fn) == "cheap1"
    assert sleeps == [7.5, 7.5]
    assert [(x.attempt, x.outcome, x.wait_s) for x in r.log.records] == [
        (1, "retried", 7.5),
        (2, "retried", 7.5),
        (3, "ok", 0.0),
    ]


def test_backoff_grows_with_jitter_and_is_bounded() -> None:
    r, sleeps = router("draft", max_attempts=4, base_delay_s=1.0, max_delay_s=3.0)

    def fn(entry: ModelEntry) -> str:
        if entry.id == "cheap1":
            raise Failure("server_error")
        return entry.id

    assert r.call("write", fn) == "cheap2"
    assert len(sleeps) == 3  # 4 attempts on cheap1, then fall through
    for delay, (low, high) in zip(sleeps, [(0.5, 1.0), (1.0, 2.0), (1.5, 3.0)], strict=True):
        assert low <= delay <= high
    outcomes = [x.outcome for x in r.log.records if x.model_id == "cheap1"]
    assert outcomes == ["retried", "retried", "retried", "gave_up"]


def test_too_long_retry_after_moves_on_at_once() -> None:
    r, sleeps = router("draft", max_retry_after_s=60)

    def fn(entry: ModelEntry) -> str:
        if entry.id == "cheap1":
            raise Failure("rate_limited", retry_after=3600)
        return entry.id

    assert r.call("write", fn) == "cheap2"
    assert sleeps == []


def test_all_providers_failed_lists_every_model() -> None:
    r, _ = router("draft", max_attempts=2, fallback="always")
    kinds = {"cheap1": "auth", "cheap2": "timeout", "mid2": "invalid_output"}

    def fn(entry: ModelEntry) -> str:
        raise Failure(kinds.get(entry.id, "refusal"))

    with pytest.raises(AllProvidersFailed) as info:
        r.call("write", fn)
    assert info.value.failures == [
        ("cheap1", "auth"),
        ("cheap2", "timeout"),
        ("mid2", "invalid_output"),
        ("best3", "refusal"),
        ("offline-text", "refusal"),
    ]
    assert "cheap2 (timeout)" in str(info.value)
    assert len([x for x in r.log.records if x.model_id == "cheap2"]) == 2


def test_budget_stop_is_neither_retried_nor_fallen_through() -> None:
    r, sleeps = router("draft")

    def fn(entry: ModelEntry) -> str:
        raise BudgetExceeded(("episode", "ep01"), 1.0, 0.9, 0.5)

    with pytest.raises(BudgetExceeded):
        r.call("write", fn)
    assert sleeps == [] and len(r.log) == 1


def test_error_classification() -> None:
    class Http(Exception):
        def __init__(self, status: int) -> None:
            self.status_code = status

    assert error_kind(Http(429)) == "rate_limited" and is_transient(Http(503))
    assert error_kind(Http(401)) == "auth" and not is_transient(Http(400))
    assert is_transient(TimeoutError())
    assert error_kind(ValueError("x")) == "ValueError" and not is_transient(ValueError())


# -- limits ---------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_rate_limiter_respects_rpm_on_a_fake_clock() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rpm=6, max_in_flight=None, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(20):
        with limiter.slot():
            starts.append(clock.now)
    assert starts[:3] == pytest.approx([0.0, 10.0, 20.0])
    for t in starts:  # no 60-second window holds more than rpm starts
        assert sum(1 for s in starts if t <= s < t + 60 - 1e-9) <= 6
    clock.now += 600  # idle time does not bank a burst beyond `burst`
    burst_start = clock.now
    for _ in range(2):
        with limiter.slot():
            starts.append(clock.now)
    assert starts[-2:] == pytest.approx([burst_start, burst_start + 10])


def test_rate_limiter_caps_calls_in_flight_across_threads() -> None:
    limiter = RateLimiter(rpm=None, max_in_flight=2)
    inside = 0
    most = 0
    cond = threading.Condition()
    release = threading.Event()

    def work() -> None:
        nonlocal inside, most
        with limiter.slot():
            with cond:
                inside += 1
                most = max(most, inside)
                cond.notify_all()
            release.wait(timeout=10)
            with cond:
                inside -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    with cond:
        assert cond.wait_for(lambda: inside == 2, timeout=10)
    assert limiter.in_flight == 2
    release.set()
    for t in threads:
        t.join(timeout=10)
    assert most == 2 and limiter.in_flight == 0


def test_limiters_are_shared_per_endpoint() -> None:
    roster = Roster.default()
    limiters = Limiters()
    a = limiters.for_entry(roster.get("gpt-4.1"))
    assert limiters.for_entry(roster.get("gpt-4.1-mini")) is a  # same base_url
    assert limiters.for_entry(roster.get("deepseek-chat")) is not a
    video = limiters.for_entry(roster.get("seedance-2.0"))
    assert video is limiters.for_entry(roster.get("seedream-3.0"))  # both on Ark
    assert "https://api.openai.com" in limiters


def test_router_calls_inside_the_endpoints_rate_limit() -> None:
    clock = FakeClock()
    roster = Roster.default().merged([{"id": "deepseek-chat", "rpm": 2}])
    limiters = Limiters(clock=clock, sleep=clock.sleep)
    r = Router(
        roster,
        "best",
        {"write": "deepseek-chat"},
        {"DEEPSEEK_API_KEY": "k"},
        limiters=limiters,
        sleep=clock.sleep,
    )
    starts = [r.call("write", lambda e: clock.now) for _ in range(3)]
    assert starts == pytest.approx([0.0, 30.0, 60.0])


def test_latency_model_and_wrapper() -> None:
    clock = FakeClock()
    model = LatencyModel(scale=0.5)
    assert model.latency("video") == 20.0 and model.latency("text") == 1.5
    slow = with_latency(lambda x: x * 2, 3.0, clock.sleep)
    assert slow(4) == 8 and clock.sleeps == [3.0]
    assert model.wrap(lambda: "ok", "image", clock.sleep)() == "ok" and clock.sleeps[-1] == 4.0


def test_critical_path_bound_by_hand() -> None:
    # Stage 0: 1 text call (3 s). Stage 1: 10 keyframes, 4 at a time -> 3 waves * 8 s = 24 s,
    # alongside 30 voice lines, 5 at a time -> 6 waves * 1 s = 6 s; the stage takes 24 s.
    # Stage 2: 10 video clips, 2 at a time -> 5 waves * 40 s = 200 s. Total 227 s.
    calls = [("text", 1, 0), ("image", 10, 1), ("speech", 30, 1), ("video", 10, 2)]
    limits = {"text": None, "image": 4, "speech": 5, "video": 2}
    assert critical_path_bound(calls, limits) == pytest.approx(227.0)  # type: ignore[arg-type]
    # An rpm of 6 on images spaces 10 starts 10 s apart: 90 s + 8 s = 98 s for stage 1.
    bound = critical_path_bound(calls, limits, rpm={"image": 6})  # type: ignore[arg-type]
    assert bound == pytest.approx(3 + 98 + 200)
    assert critical_path_bound([], {}) == 0.0


# -- models set up wrongly ------------------------------------------------------------------


def key_rejected_by(model_id: str, tried: list[str]) -> Callable[[ModelEntry], str]:
    """A call that `model_id` answers with a rejected key (401); the others answer it."""

    def fn(entry: ModelEntry) -> str:
        tried.append(entry.id)
        if entry.id == model_id:
            raise Failure("auth")
        return entry.id

    return fn


def test_a_rejected_key_stops_the_run_naming_model_and_key_variable() -> None:
    r, sleeps = router("draft")
    tried: list[str] = []
    fn = key_rejected_by("cheap1", tried)

    with pytest.raises(ConfigurationError) as info:
        r.call("write", fn)
    assert "'cheap1'" in str(info.value) and "K" in str(info.value)
    assert "secret" not in str(info.value)
    # Neither retried nor handed on; and never asked again in this run.
    with pytest.raises(ConfigurationError):
        r.call("write", fn)
    assert tried == ["cheap1"] and sleeps == []
    assert r.down_reason(r.roster.get("cheap1")) is not None


def test_fallback_always_warns_once_per_model_and_records_the_hand_over() -> None:
    warnings: list[str] = []
    r, _ = router("draft", fallback="always", warn=warnings.append)
    tried: list[str] = []
    fn = key_rejected_by("cheap1", tried)

    assert [r.call("write", fn, label=f"c{n}") for n in range(3)] == ["cheap2"] * 3
    assert tried == ["cheap1", "cheap2", "cheap2", "cheap2"]  # cheap1 asked once
    assert len(warnings) == 1 and "'cheap1'" in warnings[0] and r.warnings == warnings
    summary = r.log.fallback_summary()
    assert summary == [
        {"task": "write", "from": "cheap1", "to": "cheap2", "why": "API key rejected", "calls": 3}
    ]


def test_an_endpoint_refusing_connections_is_marked_down_after_three() -> None:
    warnings: list[str] = []
    r, sleeps = router("draft", fallback="always", warn=warnings.append, max_attempts=5)
    tried: list[str] = []

    def fn(entry: ModelEntry) -> str:
        tried.append(entry.id)
        if not entry.offline:
            raise Failure("unreachable")  # every hosted model is on example.invalid
        return entry.id

    assert r.call("write", fn) == "offline-text"
    assert r.call("write", fn) == "offline-text"
    # Three attempts in a row, then every model on that endpoint is down: no more attempts.
    assert tried == ["cheap1"] * 3 + ["offline-text"] * 2
    assert len(sleeps) == 2
    assert len(warnings) == 4  # one per model on the endpoint: cheap1, cheap2, mid2, best3
    assert all("refused 3 connections in a row" in w for w in warnings)


def test_an_answer_resets_the_count_of_refused_connections() -> None:
    r, _ = router("draft", max_attempts=3)
    script = iter(["unreachable", "unreachable", None, "unreachable", "unreachable", None])

    def fn(entry: ModelEntry) -> str:
        kind = next(script)
        if kind:
            raise Failure(kind)
        return entry.id

    assert r.call("write", fn) == "cheap1"
    assert r.call("write", fn) == "cheap1"  # two refusals, an answer, two more: never three


def test_an_unreachable_endpoint_stops_the_run_by_default() -> None:
    r, _ = router("draft")

    def fn(entry: ModelEntry) -> str:
        raise Failure("unreachable")

    with pytest.raises(ConfigurationError, match="refused 3 connections in a row"):
        r.call("write", fn)
    assert [x.model_id for x in r.log.records] == ["cheap1"] * 3


def test_fallback_never_asks_only_the_first_candidate() -> None:
    r, _ = router("draft", fallback="never", max_attempts=2)

    def fn(entry: ModelEntry) -> str:
        raise Failure("invalid_output" if entry.id == "cheap1" else "server_error")

    with pytest.raises(AllProvidersFailed) as info:
        r.call("write", fn)
    assert info.value.failures == [("cheap1", "invalid_output")]
    with pytest.raises(RouterError, match="unknown fallback"):
        router("draft", fallback="sometimes")


def test_a_run_stop_inside_a_call_is_neither_retried_nor_fallen_through() -> None:
    r, sleeps = router("draft")

    def fn(entry: ModelEntry) -> str:
        raise UnusableAnswer("the director's answer cannot be staged")

    with pytest.raises(UnusableAnswer):
        r.call("write", fn)
    assert sleeps == [] and len(r.log) == 1


def test_recovered_attempts_are_those_of_answered_calls() -> None:
    r, _ = router("draft", max_attempts=2)

    def flaky(entry: ModelEntry) -> str:
        if entry.id == "cheap1":
            raise Failure("server_error")
        return entry.id

    def hopeless(entry: ModelEntry) -> str:
        raise Failure("refusal")

    r.call("write", flaky)
    with pytest.raises(AllProvidersFailed):
        r.call("write", hopeless)
    recovered = r.log.recovered()
    assert [(x.model_id, x.error_kind) for x in recovered] == [("cheap1", "server_error")] * 2
    assert {x.call for x in recovered} == {1}


def test_an_offline_stand_in_holds_its_endpoint_slot_for_the_simulated_request_only(
    tmp_path: Path,
) -> None:
    """A benchmark's offline model standing in for a hosted one: its slot is held while the
    simulated request waits, not while the engine then does its own local work."""
    roster = Roster.default().merged([{"id": "offline-video", "max_in_flight": 1}])
    limiters = Limiters()
    router = Router(roster, overrides={"animate": "offline-video"}, limiters=limiters)
    limiter = limiters.for_entry(roster.get("offline-video"))
    seen: dict[str, int] = {}

    def wait(_seconds: float) -> None:
        seen["waiting"] = limiter.in_flight

    def produce(entry: ModelEntry) -> tuple[bytes, dict[str, float]]:
        seen["producing"] = limiter.in_flight
        return b"clip", {}

    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        calls = Dispatch(
            router, ledger, [("episode", "ep01")], seed=0, latency=LatencyModel(), sleep=wait
        )
        calls.media(
            "animate", "editor", "s01", tmp_path / "s01.mp4", produce, lambda d: d, units={}
        )
    assert seen == {"waiting": 1, "producing": 0}
