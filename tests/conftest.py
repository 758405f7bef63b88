"""Shared fixtures: a fresh project and a run context on the offline providers."""

from __future__ import annotations

from pathlib import Path

import pytest
from langgraph.runtime import Runtime

from inkreel.graphs.state import EpisodeContext, EpisodeRequest
from inkreel.memory import AssetMemory
from inkreel.project import Project
from inkreel.providers import build_providers
from inkreel.providers.budget import Ledger
from inkreel.settings import Settings
from tests.fake_video import make_mp4

IDEA = "A lighthouse keeper named Mei finds a message in a bottle from a girl called Aiko."


def make_context(root: Path, seed: int = 0, **settings: object) -> EpisodeContext:
    project = Project.open(root)
    resolved = Settings.load(project.root, **settings)
    return EpisodeContext(
        settings=resolved,
        project=project,
        providers=build_providers(resolved, seed, Ledger(project.ledger), "ep01"),
        memory=AssetMemory(project.memory_dir),
    )


@pytest.fixture(scope="session")
def mp4s(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """A silent and a sounding MP4 clip, made once (the video tests' downloads)."""
    root = tmp_path_factory.mktemp("mp4")
    return make_mp4(root / "silent.mp4", audio=False), make_mp4(root / "audio.mp4", audio=True)


@pytest.fixture
def ctx(tmp_path: Path) -> EpisodeContext:
    return make_context(tmp_path / "project")


@pytest.fixture
def runtime(ctx: EpisodeContext) -> Runtime[EpisodeContext]:
    return Runtime(context=ctx)


@pytest.fixture
def request_15s() -> EpisodeRequest:
    return EpisodeRequest(episode="ep01", idea=IDEA, length_s=15, language="en", seed=3)
