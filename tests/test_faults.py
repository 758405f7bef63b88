"""Injected faults are reproducible, bounded, and drive callers through their repair paths."""

from __future__ import annotations

import contextlib
import random

import numpy as np
import pytest
from langchain_core.messages import HumanMessage
from pydantic import ValidationError

from inkreel.providers.faults import (
    FAULT_KINDS,
    REFUSAL_TEXT,
    FaultLog,
    FaultPlan,
    FaultyChatModel,
    InjectedFault,
    faulty,
    truncate_payload,
)
from inkreel.providers.offline.chat import OfflineChatModel
from inkreel.providers.prompt_io import tag
from inkreel.providers.roster import ModelEntry, Roster
from inkreel.providers.router import Router, error_kind, is_transient
from inkreel.schemas import Script

PROMPT = "\n".join(
    [
        tag("idea", "A lighthouse keeper named Mei finds a message in a bottle."),
        tag("runtime_seconds", "15"),
        tag("language", "en"),
    ]
)


def test_same_seed_same_faults_and_another_seed_differs() -> None:
    a, b, c = FaultPlan(3, 0.3), FaultPlan(3, 0.3), FaultPlan(4, 0.3)
    grid = [(f"key-{i}", n) for i in range(200) for n in range(1, 5)]
    assert [a.fault_for(k, n) for k, n in grid] == [b.fault_for(k, n) for k, n in grid]
    assert [a.fault_for(k, n) for k, n in grid] != [c.fault_for(k, n) for k, n in grid]


def test_fault_rate_over_a_thousand_keys() -> None:
    for seed, rate in [(0, 0.1), (1, 0.3), (2, 0.5)]:
        plan = FaultPlan(seed, rate)
        faults = [plan.fault_for(f"call-{i}", 1) for i in range(1000)]
        share = sum(f is not None for f in faults) / 1000
        assert abs(share - rate) < 0.05
        assert {f for f in faults if f} == set(FAULT_KINDS)  # every kind shows up
    assert all(FaultPlan(9, 0.0).fault_for(f"k{i}", 1) is None for i in range(100))
    only = FaultPlan(9, 1.0, kinds=("timeout",))
    assert {only.fault_for(f"k{i}", 1) for i in range(100)} == {"timeout"}


def test_never_more_than_two_consecutive_faults_for_a_key() -> None:
    always = FaultPlan(5, 1.0)
    assert [always.fault_for("k", n) is not None for n in range(1, 8)] == [
        True,
        True,
        False,
        True,
        True,
        False,
        True,
    ]
    plan = FaultPlan(5, 0.8)
    for i in range(200):
        run = longest = 0
        for n in range(1, 30):
            run = run + 1 if plan.fault_for(f"k{i}", n) else 0
            longest = max(longest, run)
        assert longest <= 2
    with pytest.raises(ValueError):
        FaultPlan(0, 1.5)
    with pytest.raises(ValueError):
        always.fault_for("k", 0)


def test_injected_faults_are_classified_like_provider_errors() -> None:
    fault = InjectedFault("rate_limited", "key", 1)
    assert fault.retry_after == 0 and error_kind(fault) == "rate_limited"
    assert is_transient(fault)
    assert not is_transient(InjectedFault("truncated"))


def structured(model: FaultyChatModel, include_raw: bool = False) -> object:
    return model.with_structured_output(Script, include_raw=include_raw).invoke(
        [HumanMessage(PROMPT)]
    )


def test_invalid_output_reaches_the_callers_repair_path() -> None:
    log = FaultLog()
    model = FaultyChatModel(
        inner=OfflineChatModel(seed=0), plan=FaultPlan(1, 1.0, ("invalid_output",)), log=log
    )
    with pytest.raises(ValidationError):
        structured(model)
    raw = structured(model, include_raw=True)
    assert isinstance(raw, dict)
    assert raw["parsed"] is None and isinstance(raw["parsing_error"], ValidationError)
    assert raw["raw"].tool_calls and raw["raw"].tool_calls[0]["name"] == "Script"
    # The third attempt at the same request is let through: the repair loop ends.
    assert isinstance(structured(model), Script)
    assert [(r.attempt, r.kind) for r in log.records] == [
        (1, "invalid_output"),
        (2, "invalid_output"),
    ]


def test_refusal_comes_back_as_a_message_without_a_tool_call() -> None:
    log = FaultLog()
    model = FaultyChatModel(
        inner=OfflineChatModel(seed=0), plan=FaultPlan(1, 1.0, ("refusal",)), log=log
    )
    assert structured(model) is None  # what `ask` rejects, so the caller must handle it
    raw = structured(model, include_raw=True)
    assert isinstance(raw, dict) and raw["parsed"] is None
    assert raw["raw"].content == REFUSAL_TEXT and not raw["raw"].tool_calls
    assert isinstance(structured(model), Script)
    assert log.counts() == {"refusal": 2}


def test_transient_chat_faults_raise_and_the_router_retries_through_them() -> None:
    log = FaultLog()
    plan = FaultPlan(2, 1.0, ("rate_limited", "server_error", "timeout"))
    model = FaultyChatModel(inner=OfflineChatModel(seed=0), plan=plan, log=log)
    with pytest.raises(InjectedFault) as info:
        structured(model)
    assert info.value.kind in {"rate_limited", "server_error", "timeout"}

    sleeps: list[float] = []
    fresh = FaultyChatModel(inner=OfflineChatModel(seed=0), plan=plan, log=log)
    router = Router(Roster.default(), "draft", environ={}, sleep=sleeps.append)

    def write(entry: ModelEntry) -> Script:
        result = fresh.with_structured_output(Script).invoke([HumanMessage(PROMPT)])
        assert isinstance(result, Script)
        return result

    script = router.call("write", write)
    assert isinstance(script, Script) and script.characters[0] == "Mei"
    assert sleeps == [0.0, 0.0]  # retry_after=0 honoured: no waiting in tests
    assert [r.outcome for r in router.log.records] == ["retried", "retried", "ok"]


def test_same_plan_same_structured_answers_as_the_plain_model() -> None:
    plain = OfflineChatModel(seed=0).with_structured_output(Script).invoke([HumanMessage(PROMPT)])
    model = FaultyChatModel(inner=OfflineChatModel(seed=0), plan=FaultPlan(0, 0.0))
    assert structured(model) == plain


def test_faulty_speech_callable_truncates_and_raises_reproducibly() -> None:
    def synthesize(text: str, voice: str) -> tuple[np.ndarray, int]:
        return np.ones(1000, dtype=np.float32), 24000

    log = FaultLog()
    speak = faulty(
        synthesize,
        FaultPlan(0, 1.0, ("truncated",)),
        key_fn=lambda text, voice: f"{voice}:{text}",
        log=log,
        target="speech",
    )
    first, rate = speak("Hello", "female")
    assert rate == 24000 and len(first) == 500
    assert len(speak("Hello", "female")[0]) == 500
    assert len(speak("Hello", "female")[0]) == 1000  # third attempt passes
    assert [(r.call_key, r.attempt, r.target) for r in log.records] == [
        ("female:Hello", 1, "speech"),
        ("female:Hello", 2, "speech"),
    ]

    draw = faulty(lambda prompt: b"\x89PNG" + bytes(96), FaultPlan(0, 1.0, ("server_error",)), str)
    with pytest.raises(InjectedFault, match="server_error"):
        draw("a cat")
    with pytest.raises(InjectedFault):
        draw("a cat")
    assert len(draw("a cat")) == 100


def test_runs_with_faults_replay_exactly() -> None:
    def run(seed: int) -> list[tuple[str, int, str]]:
        log = FaultLog()
        fn = faulty(lambda k: k, FaultPlan(seed, 0.4), key_fn=str, log=log)
        keys = [f"shot-{i}" for i in range(50)]
        random.Random(1).shuffle(keys)
        for key in keys:
            for _ in range(3):
                with contextlib.suppress(InjectedFault):
                    fn(key)
        return sorted((r.call_key, r.attempt, r.kind) for r in log.records)

    assert run(11) == run(11) and run(11) != run(12)


def test_truncate_payload() -> None:
    assert truncate_payload(b"abcdef") == b"abc"
    assert truncate_payload("abcd") == "ab"
    assert truncate_payload(np.zeros((10, 2))).shape == (5, 2)
    with pytest.raises(TypeError):
        truncate_payload(3)
