"""Build the providers a run uses from its settings."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from inkreel.drills import IMAGE_TYPES, LEVEL_TYPES, SHEET_DRIFTS
from inkreel.providers.budget import Ledger
from inkreel.providers.dispatch import Dispatch
from inkreel.providers.faults import FaultPlan
from inkreel.providers.limits import LatencyModel, Limiters, SharedLimiterFactory
from inkreel.providers.roster import TASKS, Roster, RosterError
from inkreel.providers.router import Router, RouterError
from inkreel.schemas.design import FEMALE_VARIANTS, MALE_VARIANTS
from inkreel.settings import Settings


class ProviderError(Exception):
    """A provider that cannot be used as configured; the message says what to change."""


HOSTED_CONCURRENCY = 16
VOICES: dict[str, list[str]] = {"female": list(FEMALE_VARIANTS), "male": list(MALE_VARIANTS)}


@dataclass
class Providers:
    """The run's model calls (`calls`) and what the agents need to know about the models."""

    calls: Dispatch
    roster: Roster
    drift: FaultPlan | None = None  # which keyframes the drift drill draws with a defect
    script_drift: FaultPlan | None = None  # which script drafts it writes with one
    sheet_drift: FaultPlan | None = None  # which reference sheets it draws off-design
    voices: dict[str, list[str]] = field(default_factory=lambda: dict(VOICES))

    def concurrency(self, settings: Settings) -> int:
        """Graph tasks to run at once: see `Settings.concurrency`."""
        if settings.concurrency is not None:
            return settings.concurrency
        # The judge is always hosted (no offline model reads images), and only asked when set.
        waiting = (
            settings.latency_scale > 0
            or settings.judge_model is not None
            or any(
                not self.calls.choose(task).offline
                for task in TASKS
                if task not in ("embed", "judge")
            )
        )
        # Local work is CPU-bound: more threads than cores only add memory (each thread's
        # allocator arena keeps its freed buffers).
        return HOSTED_CONCURRENCY if waiting else max(1, os.cpu_count() or 1)


def build_providers(
    settings: Settings,
    seed: int,
    ledger: Ledger,
    episode: str,
    environ: Mapping[str, str] | None = None,
    roster: Roster | None = None,
    warn: Callable[[str], None] | None = None,
    context: str | None = None,
    shared_limits: SharedLimiterFactory | None = None,
) -> Providers:
    """Return the run's providers: text routed by policy and paid for in the ledger.

    `warn` hears, once per model, that a model set up wrongly hands its calls on (with
    `settings.fallback` "always"; otherwise such a model stops the run). `shared_limits`
    makes the endpoints' rate limits shared by every worker of the project.
    """
    environ = os.environ if environ is None else environ
    try:
        roster = roster or Roster.default()
        router = Router(
            roster,
            settings.policy,
            settings.task_models(),  # type: ignore[arg-type]
            environ,
            base_delay_s=settings.retry_base_delay_s,
            limiters=Limiters(shared=shared_limits),
            fallback=settings.fallback,
            warn=warn,
        )
        for task in ("write", "keyframe", "voice", "animate"):
            router.choose(task)  # fail before the first call, not in the middle of the run
        if settings.judge_model is not None:
            router.choose("judge")
    except (RouterError, RosterError) as exc:
        raise ProviderError(str(exc)) from None
    if settings.budget_usd is not None:
        ledger.set_cap(("episode", episode), settings.budget_usd)
    plan = FaultPlan(settings.fault_seed, settings.fault_rate) if settings.fault_rate else None
    latency = LatencyModel(scale=settings.latency_scale) if settings.latency_scale else None
    scope = [("episode", episode)]
    if settings.batch:
        scope.append(("batch", settings.batch))
        if settings.batch_budget_usd is not None:
            ledger.set_cap(("batch", settings.batch), settings.batch_budget_usd)
    # `context`: the episode the calls are for, when the money is counted elsewhere (checking
    # an episode's keyframes again reuses the verdicts its run paid for).
    dispatch = Dispatch(router, ledger, scope, seed, plan, environ, latency, context=context)
    dispatch.video_poll_s = settings.video_poll_s
    drift = script_drift = sheet_drift = None
    if settings.drift_rate:
        # At most limit - 1 drifted takes in a row, so the repair loop can always get a
        # clean one within its attempts (as a fault drill's faults are survivable).
        drift = FaultPlan(
            settings.drift_seed,
            settings.drift_rate,
            # A wrong set needs the other sets of the episode, which a take does not see.
            kinds=tuple(t for t in IMAGE_TYPES if t != "wrong_location"),
            max_consecutive=settings.continuity_max_attempts - 1,
        )
        # Only the first draft drifts: the drill checks that a flawed draft is repaired.
        script_drift = FaultPlan(
            settings.drift_seed, settings.drift_rate, kinds=tuple(LEVEL_TYPES["script"])
        )
        sheet_drift = FaultPlan(
            settings.drift_seed,
            settings.drift_rate,
            kinds=SHEET_DRIFTS,
            max_consecutive=settings.continuity_max_attempts - 1,
        )
    return Providers(
        calls=dispatch,
        roster=roster,
        drift=drift,
        script_drift=script_drift,
        sheet_drift=sheet_drift,
    )
