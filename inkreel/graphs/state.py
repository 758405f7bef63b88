"""How the episode graph's nodes read their input: state and Send payloads validated into the
project's models (a LangGraph client sends them as JSON)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from inkreel.schemas.episode import EpisodeRequest, read_state

# Checkpoints written before the state moved to inkreel.schemas.episode name the request's
# class by this module (graphs.checkpoint.MOVED_TYPES): it must stay importable from here.
__all__ = ["EpisodeRequest", "reads_payload", "reads_state"]

F = TypeVar("F", bound=Callable[..., Any])


def reads_state(func: F) -> F:
    """Validate the state a node or router reads into the project's models: a LangGraph
    client sends it as JSON (an input, `update_state`), which arrives as plain dicts."""

    @functools.wraps(func)
    def read(state: Any, *args: Any, **kwargs: Any) -> Any:
        return func(read_state(state), *args, **kwargs)

    return read  # type: ignore[return-value]


def reads_payload(func: F, payload: type[BaseModel]) -> F:
    """Validate a Send payload that arrives as JSON into its model."""

    @functools.wraps(func)
    def read(task: Any, *args: Any, **kwargs: Any) -> Any:
        return func(payload.model_validate(task), *args, **kwargs)

    return read  # type: ignore[return-value]
