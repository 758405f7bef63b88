"""What every agent node needs: structured calls to the text model and manifest entries."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel

from inkreel.checks.answers import Checked
from inkreel.project import sha256_file
from inkreel.providers.dispatch import Answer
from inkreel.schemas import Artifact, Gate
from inkreel.schemas.episode import EpisodeState
from inkreel.services import Services

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


def ask(
    ctx: Services,
    agent: str,
    schema: type[M],
    prompt: str,
    check: Callable[[M], Checked[T]],
    label: str = "",
    system: str | None = None,
) -> Answer[T]:
    """Ask the model the router picks for the agent's task for `schema`, checked by `check`
    (see `checks.answers`); `system` names the prompt template when the agent has more than
    one (default: the agent's own)."""
    messages = [SystemMessage(ctx.prompt(system or agent)), HumanMessage(prompt)]
    return ctx.providers.calls.structured(agent, schema, messages, label, check)


def credit(kind: str, *answers: Answer[Any]) -> dict[str, list[str]]:
    """A state update crediting the models that wrote an artifact (see `text_models`)."""
    return {kind: list(dict.fromkeys(a.model_id for a in answers))}


def artifact(
    ctx: Services,
    path: Path,
    kind: str,
    agent: str,
    seed: int,
    model: tuple[str, str],
    basis: str = "",
) -> Artifact:
    provider, model_name = model
    return Artifact(
        path=ctx.project.rel(path),
        sha256=sha256_file(path),
        kind=kind,
        agent=agent,
        provider=provider,
        model=model_name,
        seed=seed,
        cost=0.0,
        basis=basis,
    )


def rejections(state: EpisodeState, gate: Gate) -> list[str]:
    """The notes of every rejection at a review gate, oldest first."""
    return [r.note for r in state.get("reviews", []) if r.gate == gate and r.decision == "reject"]
