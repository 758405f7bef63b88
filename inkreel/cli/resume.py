"""`inkreel resume`: continue an interrupted episode from its last checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from inkreel import __version__
from inkreel.cli.base import FallbackOption, UserError, app, err, guarded
from inkreel.cli.progress import _run_or_report
from inkreel.project import Project
from inkreel.run import check_episode_name, episode_state, work_left
from inkreel.schemas.episode import EpisodeRequest
from inkreel.settings import Settings


@app.command()
@guarded
def resume(
    output: Annotated[Path, typer.Option("-o", "--output", help="Project directory.")],
    episode: Annotated[str, typer.Option(help="Episode name to continue.")],
    budget: Annotated[
        float | None, typer.Option(help="A new cap on this episode's model spend, USD.", min=0)
    ] = None,
    fallback: FallbackOption = None,
) -> None:
    """Continue an interrupted episode from its last checkpoint."""
    check_episode_name(episode)
    project = Project.open(output, create=False)
    state = episode_state(project, episode)
    if not state.values:
        raise UserError(f"there is no episode {episode!r} in {project.root} to resume.")
    if not work_left(project, episode, state):
        raise UserError(
            f"episode {episode} is already finished; files are in "
            f"{project.root / 'episodes' / episode}."
        )
    request: EpisodeRequest = state.values["request"]
    changed = {"budget_usd": budget, "fallback": fallback}
    try:
        settings = Settings.model_validate(
            {**request.settings, **{k: v for k, v in changed.items() if v is not None}}
        )
    except ValidationError as exc:
        raise UserError(f"invalid settings: {exc.errors()[0]['msg']}") from None
    err.print(
        f"inkreel {__version__}: resuming episode [bold]{episode}[/] at "
        f"{', '.join(state.next or [t.name for t in state.tasks])}"
    )
    _run_or_report(project, request, None, settings)
