"""Structured text calls through the router, paid for in the ledger, with injected faults.

Every agent's structured request goes through `TextDispatch.structured`: the router picks a
model for the task, the ledger reserves its estimated cost first (refusing a call that would
break a cap) and settles the actual cost after, and a call that already succeeded is answered
from the ledger instead of being paid for again after a resume.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Mapping, Sequence
from typing import TypeVar

from langchain_core.messages import BaseMessage
from pydantic import BaseModel

from inkreel.providers.budget import Ledger
from inkreel.providers.faults import FaultLog, FaultPlan, FaultRecord, InjectedFault
from inkreel.providers.offline_chat import OfflineChatModel
from inkreel.providers.roster import ModelEntry, Task
from inkreel.providers.router import TRANSIENT_KINDS, Router

M = TypeVar("M", bound=BaseModel)

# Kinds a model can answer with that one more request to the same model may fix (a repair of
# bad JSON, a second try after a refusal), as the hosted client does for invalid output.
REPAIRABLE = ("invalid_output", "refusal", "truncated")
REPAIR_TRIES = 3
ESTIMATED_OUTPUT_TOKENS = 2000
AGENT_TASKS: dict[str, Task] = {
    "screenwriter": "write",
    "character_designer": "design",
    "director": "storyboard",
    "continuity": "judge",
}


def call_key(task: str, schema: type[BaseModel], messages: Sequence[BaseMessage], seed: int) -> str:
    """The identity of a logical call: the same request after a resume has the same key."""
    h = hashlib.sha256(f"{task}\x1f{schema.__name__}\x1f{seed}".encode())
    for message in messages:
        h.update(f"\x1e{message.type}\x1f{message.content}".encode())
    return h.hexdigest()[:32]


class TextDispatch:
    """Route, pay for and (in fault drills) sabotage structured text calls."""

    def __init__(
        self,
        router: Router,
        ledger: Ledger,
        scope: list[tuple[str, str]],
        seed: int,
        plan: FaultPlan | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.router = router
        self.ledger = ledger
        self.scope = scope
        self.seed = seed
        self.plan = plan
        self.faults = FaultLog()
        self.environ = os.environ if environ is None else environ
        self._attempts: dict[str, int] = {}
        self._lock = threading.Lock()

    def structured(
        self, agent: str, schema: type[M], messages: Sequence[BaseMessage], label: str = ""
    ) -> M:
        """Return `schema` from the best usable model for the agent's task."""
        task = AGENT_TASKS.get(agent, "write")
        key = call_key(task, schema, messages, self.seed)

        def run(entry: ModelEntry) -> M:
            estimate = self._estimate(entry, messages)
            with self.ledger.charge(
                key, self.scope, estimate, agent=agent, model=entry.id, shot=label, task=task
            ) as charge:
                if charge.already_paid and charge.result is not None:
                    return schema.model_validate_json(charge.result)
                result, usd = self._attempt(entry, schema, messages, key)
                charge.settle(usd, result=result.model_dump_json())
                return result

        return self.router.call(task, run, label=label or agent)

    def _estimate(self, entry: ModelEntry, messages: Sequence[BaseMessage]) -> float:
        chars = sum(len(str(m.content)) for m in messages)
        units = {"input_tokens": chars / 4, "output_tokens": ESTIMATED_OUTPUT_TOKENS}
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
        self, entry: ModelEntry, schema: type[M], messages: Sequence[BaseMessage], key: str
    ) -> tuple[M, float]:
        for _ in range(REPAIR_TRIES):
            fault = self._next_fault(key, entry)
            if fault in TRANSIENT_KINDS:
                raise InjectedFault(fault, key)  # the router backs off and retries
            if fault in REPAIRABLE:
                continue  # a bad answer: ask the same model again
            return self._call(entry, schema, messages)
        raise InjectedFault("invalid_output", key)

    def _call(
        self, entry: ModelEntry, schema: type[M], messages: Sequence[BaseMessage]
    ) -> tuple[M, float]:
        if entry.offline:
            model = OfflineChatModel(seed=self.seed)
            result = model.with_structured_output(schema).invoke(list(messages))
            if not isinstance(result, schema):
                raise InjectedFault("invalid_output")
            return result, 0.0
        from inkreel.providers.openai_compat import StructuredText

        assert entry.base_url and entry.api_key_env
        client = StructuredText(
            entry.model, entry.base_url, self.environ[entry.api_key_env], entry.timeout_s
        )
        result, usage = client.generate(schema, messages)
        cost = entry.price.cost(
            {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens}
        )
        return result, cost
