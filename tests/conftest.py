"""Shared fixtures: a fresh project and a run context on the offline providers.

Episodes in the tests are drawn at 640x360, 12 frames a second (the settings' environment
variables, which every CLI run and worker process of a test inherits), an eighth of the
pixels of the defaults: the line is the same, only smaller. A test of the delivered format
itself asks for the defaults (`DEFAULT_FRAMES`); a project's inkreel.toml cannot, since the
environment wins over it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from langgraph.runtime import Runtime

from inkreel.project import Project
from inkreel.schemas.episode import EpisodeRequest
from inkreel.services import EpisodeContext, Services, open_services
from inkreel.settings import Settings
from tests.fake_video import make_mp4

pytest_plugins = ["tests.cpu_report"]  # `pytest --cpu-report N`

IDEA = "A lighthouse keeper named Mei finds a message in a bottle from a girl called Aiko."

SMALL_FRAMES = {"INKREEL_WIDTH": "640", "INKREEL_HEIGHT": "360", "INKREEL_FPS": "12"}
for _name, _value in SMALL_FRAMES.items():
    os.environ.setdefault(_name, _value)
# For CliRunner.invoke(env=...): the settings' own defaults (1280x720, 24 fps).
DEFAULT_FRAMES: dict[str, str | None] = dict.fromkeys(SMALL_FRAMES)


@contextmanager
def open_context(
    root: Path, seed: int = 0, episode: str = "ep01", **settings: object
) -> Iterator[Services]:
    """A run's live services on a fresh project (offline by default), for calling nodes."""
    project = Project.open(root)
    resolved = Settings.load(project.root, **settings)
    context = EpisodeContext(
        project=str(project.root),
        episode=episode,
        seed=seed,
        settings=resolved.model_dump(mode="json"),
    )
    with open_services(context) as live:
        yield live


@pytest.fixture(scope="session")
def mp4s(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    """A silent and a sounding MP4 clip, made once (the video tests' downloads)."""
    root = tmp_path_factory.mktemp("mp4")
    return make_mp4(root / "silent.mp4", audio=False), make_mp4(root / "audio.mp4", audio=True)


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Services]:
    with open_context(tmp_path / "project") as live:
        yield live


@pytest.fixture
def runtime(ctx: Services) -> Runtime[EpisodeContext]:
    return Runtime(context=ctx.context)


@pytest.fixture
def request_15s() -> EpisodeRequest:
    return EpisodeRequest(episode="ep01", idea=IDEA, length_s=15, language="en", seed=3)
