"""The episode graph's context (plain data) and the live services a run builds from it.

The graph's context is what a LangGraph client can send as JSON: the project directory, the
episode, the seed and settings overrides (`EpisodeContext`). A node turns it into the run's
live services (project, ledger, providers, asset memory) with `services(runtime)`:

- a front end of this package (`inkreel.run`) opens them for its run with `open_services`
  and closes them when the run ends;
- under a LangGraph server (`langgraph dev`, the SDK), nothing opened them: the first node
  that needs them builds them, and they stay open for the server process.

Either way every node of a run shares one set, and what a node reports goes to LangGraph's
stream writer (`custom` stream mode) as `{"event": KIND, ...}`.
"""

from __future__ import annotations

import contextvars
import functools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime
from pydantic import BaseModel, ConfigDict, Field

from inkreel.memory import AssetMemory
from inkreel.project import Project
from inkreel.prompts import system_prompt
from inkreel.providers import Providers, build_providers
from inkreel.providers.budget import Ledger
from inkreel.providers.limits import SharedLimiterFactory
from inkreel.providers.roster import Roster
from inkreel.providers.shared_limits import SHARED_SCHEMA, SharedRateLimiter
from inkreel.settings import Settings

Warn = Callable[[str], None]


class EpisodeContext(BaseModel):
    """The run's context: plain data, so any LangGraph client can send it as JSON."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    project: str = Field(description="The project (series) directory the episode is made in.")
    episode: str = Field(description="The episode's name; its files go to episodes/NAME.")
    seed: int = Field(default=0, description="Same seed, same episode.")
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="Settings over the project's inkreel.toml (the names `inkreel produce` "
        "takes: text_model, budget_usd, policy...).",
    )

    def key(self) -> tuple[str, str, int, str]:
        root = str(Path(self.project).expanduser().resolve())
        return root, self.episode, self.seed, json.dumps(self.settings, sort_keys=True)


def _ignore(event: Any) -> None:
    return None


@dataclass(frozen=True)
class Services:
    """A run's live services, and where a node's events go (`event`)."""

    context: EpisodeContext
    settings: Settings
    project: Project
    ledger: Ledger
    providers: Providers
    memory: AssetMemory
    writer: Callable[[Any], None] = _ignore
    started_at: float = field(default_factory=time.time)  # when this run's services opened

    def prompt(self, agent: str) -> str:
        """The agent's system prompt, from the settings' `prompts_dir` when it has one."""
        folder = self.settings.prompts_dir
        return system_prompt(agent, self.project.root / folder if folder else None)

    def event(self, kind: str, **payload: Any) -> None:
        """Report progress (a take recorded, a shot checked...) to whoever streams the run."""
        self.writer({"event": kind, **payload})

    def bind(self, writer: Callable[[Any], None]) -> Services:
        """The same services, reporting to `writer` (one node's stream writer).

        LangGraph's writer finds its run through context variables, which the node's own
        worker threads (a pool revising scenes, checking shots) do not inherit: each event
        is written in a copy of the node's context.
        """
        node = contextvars.copy_context()

        def write(event: Any) -> None:
            node.copy().run(writer, event)

        return replace(self, writer=write)

    def close(self) -> None:
        self.ledger.close()
        if self.providers.calls.router.limiters is not None:
            self.providers.calls.router.limiters.close()


def build_services(context: EpisodeContext, warn: Warn | None = None) -> Services:
    """Open the project, its ledger and memory, and the providers the settings choose."""
    project = Project.open(Path(context.project))
    settings = Settings.load(project.root, **context.settings)
    ledger = Ledger.open(project)
    try:
        providers = build_providers(
            settings,
            context.seed,
            ledger,
            context.episode,
            roster=Roster.load(project.root),
            warn=warn,
            shared_limits=shared_limits(project),
        )
    except BaseException:
        ledger.close()
        raise
    try:
        memory = open_memory(project)
    except BaseException:
        ledger.close()
        raise
    return Services(context, settings, project, ledger, providers, memory)


def shared_limits(project: Project) -> SharedLimiterFactory | None:
    """With a shared database, endpoints' rate limits held by every worker on it (an
    endpoint's limits are its account's, whichever series calls it)."""
    url = project.storage.database
    if url is None:
        return None
    return functools.partial(SharedRateLimiter, url, SHARED_SCHEMA)


def open_memory(project: Project) -> AssetMemory:
    """The project's asset memory: its chroma server (collections named after the project),
    else the embedded one in the project directory."""
    if project.storage.memory is not None:
        return AssetMemory.connect(project.storage.memory, namespace=f"inkreel-{project.id}")
    return AssetMemory(project.memory_dir)


_OPEN: dict[tuple[str, str, int, str], Services] = {}
_LOCK = threading.Lock()


@contextmanager
def open_services(context: EpisodeContext, warn: Warn | None = None) -> Iterator[Services]:
    """Build the run's services, let the graph's nodes find them, and close them at the end."""
    live = build_services(context, warn)
    key = context.key()
    with _LOCK:
        if key in _OPEN:
            live.close()
            raise RuntimeError(f"episode {context.episode} is already running in this process")
        _OPEN[key] = live
    try:
        yield live
    finally:
        with _LOCK:
            _OPEN.pop(key, None)
        live.close()


def context_of(value: Any) -> EpisodeContext:
    """The run's context, from the model or the JSON object a client sent."""
    if isinstance(value, EpisodeContext):
        return value
    if value is None:
        raise ValueError(
            "the episode graph needs a context: {project: DIR, episode: NAME} at least"
        )
    return EpisodeContext.model_validate(value)


def services(runtime: Runtime[Any]) -> Services:
    """The live services of the node's run, reporting to the node's stream writer."""
    context = context_of(runtime.context)
    key = context.key()
    with _LOCK:
        live = _OPEN.get(key)
        if live is None:
            # Nobody opened this run (a LangGraph server runs the graph): open it for the
            # rest of the process.
            live = _OPEN[key] = build_services(context)
    return live.bind(runtime.stream_writer)
