"""Every model call of a run: routed, rate-limited, paid for in the ledger, sabotaged in drills.

`Dispatch.structured` serves the agents' text requests; `Dispatch.media` serves the calls
that produce a file (a keyframe, a voice take, a video clip). For both, the router picks a
model for the task (falling back on 429, 5xx, timeouts and refusals), the endpoint's rate
limiter holds the call until it may start, the ledger reserves its estimated cost first
(refusing a call that would break a cap) and settles the actual cost after, and a call that
already succeeded is answered from the ledger (text) or from its file (media) instead of
being paid for again after a resume.

In a fault drill (`FaultPlan`) calls fail on purpose: transient kinds go back to the router's
backoff; a truncated or malformed answer is caught by the same validation a real provider's
answer gets (a PNG or WAV that does not decode, JSON that does not fit the schema) and asked
again. A `LatencyModel` makes every call wait as long as a hosted one would (benchmarks).
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from langchain_core.messages import BaseMessage, SystemMessage
from pydantic import BaseModel, Field

from inkreel.checks.answers import Checked, Issue
from inkreel.project import atomic_path
from inkreel.providers.budget import Charge, JobJournal, Ledger
from inkreel.providers.capabilities import TextModel
from inkreel.providers.errors import AnswerRejected, UnusableAnswer
from inkreel.providers.faults import FaultLog, FaultPlan, FaultRecord, InjectedFault
from inkreel.providers.limits import LatencyModel
from inkreel.providers.offline.stand_ins import OfflineText
from inkreel.providers.openai import Review, StructuredText
from inkreel.providers.roster import TASK_CAPABILITY, ModelEntry, Task
from inkreel.providers.router import TRANSIENT_KINDS, AllProvidersFailed, Router

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
Check = Callable[[M], Checked[T]]
# Failures that mean the answers were the problem (not the network, not the account).
UNUSABLE_KINDS = frozenset({"invalid_output", "refusal"})

# Kinds a model can answer with that one more request to the same model may fix (a repair of
# bad JSON, a second try after a refusal), as the hosted client does for invalid output.
REPAIRABLE = ("invalid_output", "refusal", "truncated")
REPAIR_TRIES = 3
ESTIMATED_OUTPUT_TOKENS = 2000
CHARS_PER_TOKEN = 4
# An image part of a prompt, at most 512 px a side, as providers bill it in input tokens
# (OpenAI about 85-255 for tiles, Qwen-VL and Doubao about one per 28 x 28 px): an upper bound.
IMAGE_PART_TOKENS = 400
AGENT_TASKS: dict[str, Task] = {
    "screenwriter": "write",
    "character_designer": "design",
    "director": "storyboard",
    "continuity": "judge",
    "showrunner": "write",
}


def call_key(
    task: str,
    model_id: str,
    context: str,
    schema: type[BaseModel],
    messages: Sequence[BaseMessage],
    seed: int,
) -> str:
    """The identity of a call: the same request to the same model for the same episode
    (`context`), so a resume, a retake or another worker finds what was paid for, and a run
    on another model or for another episode never replays it."""
    head = "\x1f".join([task, model_id, context, schema.__name__, str(seed)])
    h = hashlib.sha256(head.encode())
    for message in messages:
        h.update(f"\x1e{message.type}\x1f{message.content}".encode())
    return h.hexdigest()[:32]


def prompt_tokens(messages: Sequence[BaseMessage]) -> float:
    """Input tokens a request is expected to be billed for: its text, and each image part
    as IMAGE_PART_TOKENS (not the length of its base64 data URL)."""
    tokens = 0.0
    for message in messages:
        parts = [message.content] if isinstance(message.content, str) else message.content
        for part in parts:
            if isinstance(part, dict) and part.get("type") == "image_url":
                tokens += IMAGE_PART_TOKENS
            else:
                text = part.get("text", "") if isinstance(part, dict) else part
                tokens += len(str(text)) / CHARS_PER_TOKEN
    return tokens


@dataclass(frozen=True)
class Answer(Generic[T]):
    """A usable answer and the model that gave it (provenance for the manifest)."""

    value: T
    model_id: str
    provider: str
    model: str
    repairs: list[Issue] = field(default_factory=list)


class ToolTurn(BaseModel):
    """A model's turn in a conversation with tools: what it says, and the tools it calls."""

    text: str = ""
    calls: list[dict[str, Any]] = Field(
        default_factory=list, description="Tool calls in order: {name, args}."
    )


class BadPayload(ValueError):
    """A provider's answer that is not a usable file (truncated, corrupt, wrong format)."""


Produce = Callable[[ModelEntry], tuple[bytes, Mapping[str, float]]]


class Dispatch:
    """Route, rate-limit, pay for and (in fault drills) sabotage a run's model calls."""

    def __init__(
        self,
        router: Router,
        ledger: Ledger,
        scope: list[tuple[str, str]],
        seed: int,
        plan: FaultPlan | None = None,
        environ: Mapping[str, str] | None = None,
        latency: LatencyModel | None = None,
        sleep: Callable[[float], None] = time.sleep,
        context: str | None = None,
    ) -> None:
        self.router = router
        self.ledger = ledger
        self.scope = scope
        # The episode the calls are for (part of every text call's key); by default the
        # episode the money is counted in.
        self.context = context if context is not None else dict(scope).get("episode", "")
        self.seed = seed
        self.repairs: list[dict[str, object]] = []  # answers repaired by rule, for run.json
        self.plan = plan
        self.latency = latency
        self.faults = FaultLog()
        self.environ = os.environ if environ is None else environ
        self._sleep = sleep
        self.video_poll_s = 5.0
        self._attempts: dict[str, int] = {}
        self._lock = threading.Lock()

    def choose(self, task: Task) -> ModelEntry:
        """The model a call for `task` goes to first (content keys include its id)."""
        return self.router.choose(task)

    def key(self, entry: ModelEntry) -> str:
        """The environment variable's value holding `entry`'s API key."""
        assert entry.api_key_env, entry.id
        return self.environ[entry.api_key_env]

    def _wait_latency(self, entry: ModelEntry) -> None:
        """Wait as long as a hosted call would (benchmarks). An offline model standing in for
        a hosted one holds its endpoint's slot for that wait only, as a hosted call holds it
        for its request: the engine's local work after it is not the vendor's."""
        if self.latency is None:
            return
        seconds = self.latency.latency(entry.capability)
        if seconds <= 0:
            return
        limiters = self.router.limiters
        if entry.offline and limiters is not None:
            with limiters.for_entry(entry).slot():
                self._sleep(seconds)
        else:
            self._sleep(seconds)

    def media(
        self,
        task: Task,
        agent: str,
        key: str,
        out: Path,
        produce: Produce,
        accept: Callable[[bytes], bytes],
        *,
        units: Mapping[str, float],
        label: str = "",
    ) -> ModelEntry:
        """Make the file `out` with the best usable model for `task`; return the model used.

        `produce(entry)` calls the model and returns its answer and the units it was billed
        for; `accept(data)` returns the bytes to store or raises BadPayload. A call whose
        ledger entry is paid and whose file exists is not made again. A producer that starts
        a provider task (video) keeps it in `journal(task, key, entry)`, so the router's
        retry of a timeout or a resume polls that task instead of paying for another.
        """
        call = self.media_call(task, key)
        assert TASK_CAPABILITY[task] != "text", task

        def run(entry: ModelEntry) -> ModelEntry:
            estimate = entry.price.cost(units)
            with self.ledger.charge(
                call, self.scope, estimate, agent=agent, model=entry.id, shot=label, task=task
            ) as charge:
                if charge.already_paid and out.exists():
                    return self._model_of(charge.result, entry)
                data, used = self._attempt_media(entry, call, produce, accept)
                with atomic_path(out) as tmp:
                    tmp.write_bytes(data)
                charge.settle(entry.price.cost(used), result=entry.id)
                return entry

        return self.router.call(task, run, label=label or agent)

    @staticmethod
    def media_call(task: Task, key: str) -> str:
        """The ledger key of the `media` call (`task`, `key`)."""
        return f"{task}:{key}"

    def journal(self, task: Task, key: str, entry: ModelEntry) -> JobJournal:
        """Where the `media` call (`task`, `key`) on `entry` keeps its provider task."""
        return self.ledger.journal(self.media_call(task, key), entry.provider, entry.id)

    def _model_of(self, stored: bytes | str | None, default: ModelEntry) -> ModelEntry:
        model_id = stored.decode() if isinstance(stored, bytes) else stored
        if model_id and model_id in self.router.roster:
            return self.router.roster.get(model_id)
        return default

    def _attempt_media(
        self, entry: ModelEntry, call: str, produce: Produce, accept: Callable[[bytes], bytes]
    ) -> tuple[bytes, Mapping[str, float]]:
        total: dict[str, float] = {}
        problem = ""
        for _ in range(REPAIR_TRIES):
            fault = self._next_fault(call, entry)
            if fault in TRANSIENT_KINDS:
                raise InjectedFault(fault, call)  # the router backs off and retries
            if fault == "refusal":
                # Asked again, as a text call is: a task pinned to one model (offline video)
                # has nobody to fall back to, and a drill's faults must be survivable.
                continue
            self._wait_latency(entry)
            data, used = produce(entry)
            for unit, amount in used.items():  # a bad answer is billed like a good one
                total[unit] = total.get(unit, 0.0) + amount
            if fault == "truncated":
                data = data[: len(data) // 2]
            elif fault == "invalid_output":
                data = b"\x00" + data[1:]
            try:
                return accept(data), total
            except BadPayload as exc:
                problem = str(exc)
                continue  # a broken file: ask the same model again
        raise InjectedFault("invalid_output", call) from BadPayload(problem)

    def structured(
        self,
        agent: str,
        schema: type[M],
        messages: Sequence[BaseMessage],
        label: str = "",
        check: Check[M, T] | None = None,
    ) -> Answer[T]:
        """Ask the best usable model for the agent's task for `schema`; return the usable
        answer (`check(value)`, when given: see `checks.answers`) and who gave it.

        An answer whose check finds errors goes back to the same model once with them (the
        hosted client's repair request), then to the router's next candidate; when no model
        gives a usable answer the run stops with `UnusableAnswer`.
        """
        task = AGENT_TASKS.get(agent, "write")
        review = _review(check)

        def run(entry: ModelEntry) -> Answer[T]:
            key = call_key(task, entry.id, self.context, schema, messages, self.seed)
            with self._charge(key, entry, messages, agent, label, task) as charge:
                if charge.already_paid and charge.result is not None:
                    answer = schema.model_validate_json(charge.result)
                    return self._checked(answer, check, entry, [])
                result, usd, fitted = self._attempt(entry, schema, messages, key, review)
                charge.settle(usd, result=result.model_dump_json())
            checked = self._checked(result, check, entry, fitted)
            if checked.repairs:
                self._record_repairs(agent, label, entry, checked.repairs)
            return checked

        try:
            return self.router.call(task, run, label=label or agent)
        except AllProvidersFailed as exc:
            if {kind for _, kind in exc.failures} <= UNUSABLE_KINDS:
                raise UnusableAnswer(_unusable_message(agent, schema, exc)) from None
            raise

    def converse(
        self,
        agent: str,
        tools: Sequence[type[BaseModel]],
        messages: Sequence[BaseMessage],
        offline: Callable[[Sequence[BaseMessage]], ToolTurn],
        label: str = "",
    ) -> Answer[ToolTurn]:
        """One turn of a conversation with tools: the best usable model's text and tool
        calls (`offline` answers for the offline engine). Paid once: the same conversation
        and tools to the same model are answered from the ledger."""
        task = AGENT_TASKS.get(agent, "write")
        # The tools are part of the request: another set is another call.
        keyed = [*messages, SystemMessage(_tool_names(tools))]

        def run(entry: ModelEntry) -> Answer[ToolTurn]:
            key = call_key(task, entry.id, self.context, ToolTurn, keyed, self.seed)
            with self._charge(key, entry, messages, agent, label, task) as charge:
                if charge.already_paid and charge.result is not None:
                    turn = ToolTurn.model_validate_json(charge.result)
                else:
                    turn, usd = self._turn(entry, tools, messages, offline)
                    charge.settle(usd, result=turn.model_dump_json())
            return Answer(turn, entry.id, entry.provider, entry.model)

        return self.router.call(task, run, label=label or agent)

    def _turn(
        self,
        entry: ModelEntry,
        tools: Sequence[type[BaseModel]],
        messages: Sequence[BaseMessage],
        offline: Callable[[Sequence[BaseMessage]], ToolTurn],
    ) -> tuple[ToolTurn, float]:
        self._wait_latency(entry)
        if entry.offline:
            return offline(messages), 0.0
        message, usage = self._client(entry).converse(tools, messages)
        calls = [{"name": c["name"], "args": c["args"]} for c in message.tool_calls]
        text = message.content if isinstance(message.content, str) else ""
        cost = entry.price.cost(
            {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens}
        )
        return ToolTurn(text=text, calls=calls), cost

    def text_model(self, entry: ModelEntry) -> TextModel:
        """The text capability `entry` names: the offline story engine or a hosted model."""
        if entry.offline:
            return OfflineText(entry.id, self.seed)
        return self._client(entry)

    def _client(self, entry: ModelEntry) -> StructuredText:
        assert entry.base_url and entry.api_key_env
        return StructuredText(
            entry.model,
            entry.base_url,
            self.key(entry),
            entry.timeout_s,
            method=entry.structured_output,
            temperature=entry.temperature,
            max_tokens=entry.max_tokens,
            seed=self.seed if entry.send_seed else None,
        )

    def _checked(
        self, value: M, check: Check[M, T] | None, entry: ModelEntry, fitted: list[str]
    ) -> Answer[T]:
        issues = [Issue("", change, "fitted to the schema") for change in fitted]
        if check is None:
            return Answer(value, entry.id, entry.provider, entry.model, issues)  # type: ignore[arg-type]
        checked = check(value)
        if checked.errors:  # a replayed answer that a newer check rejects
            raise AnswerRejected(entry.id, [str(i) for i in checked.errors])
        return Answer(
            checked.value, entry.id, entry.provider, entry.model, issues + checked.repairs
        )

    def _record_repairs(
        self, agent: str, label: str, entry: ModelEntry, repairs: list[Issue]
    ) -> None:
        with self._lock:
            self.repairs.append(
                {
                    "agent": agent,
                    "label": label,
                    "model": entry.id,
                    "repairs": [str(i) for i in repairs],
                }
            )

    def _charge(
        self,
        key: str,
        entry: ModelEntry,
        messages: Sequence[BaseMessage],
        agent: str,
        label: str,
        task: str,
    ) -> AbstractContextManager[Charge]:
        """The ledger's charge for a text call: reserved at its estimate, settled after."""
        estimate = self._estimate(entry, messages)
        return self.ledger.charge(
            key, self.scope, estimate, agent=agent, model=entry.id, shot=label, task=task
        )

    def _estimate(self, entry: ModelEntry, messages: Sequence[BaseMessage]) -> float:
        units = {"input_tokens": prompt_tokens(messages), "output_tokens": ESTIMATED_OUTPUT_TOKENS}
        return entry.price.cost(units)

    def _next_fault(self, key: str, entry: ModelEntry) -> str | None:
        if self.plan is None:
            return None
        slot = f"{key}:{entry.id}"
        with self._lock:
            attempt = self._attempts.get(slot, 0) + 1
            self._attempts[slot] = attempt
        fault = self.plan.fault_for(slot, attempt)
        if fault is not None:
            self.faults.add(FaultRecord(slot, attempt, fault, entry.id))
        return fault

    def _attempt(
        self,
        entry: ModelEntry,
        schema: type[M],
        messages: Sequence[BaseMessage],
        key: str,
        review: Review | None,
    ) -> tuple[M, float, list[str]]:
        for _ in range(REPAIR_TRIES):
            fault = self._next_fault(key, entry)
            if fault in TRANSIENT_KINDS:
                raise InjectedFault(fault, key)  # the router backs off and retries
            if fault in REPAIRABLE:
                continue  # a bad answer: ask the same model again
            return self._call(entry, schema, messages, review)
        raise InjectedFault("invalid_output", key)

    def _call(
        self,
        entry: ModelEntry,
        schema: type[M],
        messages: Sequence[BaseMessage],
        review: Review | None,
    ) -> tuple[M, float, list[str]]:
        self._wait_latency(entry)
        result, usage = self.text_model(entry).generate(schema, messages, review)
        cost = entry.price.cost(
            {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens}
        )
        return result, cost, usage.repaired


def _tool_names(tools: Sequence[type[BaseModel]]) -> str:
    return " ".join(sorted(t.__name__ for t in tools))


def _review(check: Check[M, T] | None) -> Review | None:
    """What the hosted client's repair request tells the model: the check's errors."""
    if check is None:
        return None
    return lambda value: [str(issue) for issue in check(value).errors]


def _unusable_message(agent: str, schema: type[BaseModel], failed: AllProvidersFailed) -> str:
    """Name the agent, every model asked and what was wrong with its last answer."""
    parts = []
    for (model_id, _), error in zip(failed.failures, failed.errors, strict=True):
        problems = getattr(error, "problems", None) or getattr(error, "diagnostic", {}).get(
            "errors"
        )
        what = "; ".join(map(str, problems[:4])) if problems else str(error)
        parts.append(f"{model_id}: {what}")
    task = failed.task
    return (
        f"the {agent.replace('_', ' ')} got no usable {schema.__name__} from any model "
        f"({' | '.join(parts)}). Pin another model for it (--model {task}=ID) or allow a "
        "fallback (--fallback on-error)."
    )
