"""How a run shows itself: progress on stderr while it runs, a summary table when it is
done, and a log plus the resume command when it fails."""

from __future__ import annotations

import traceback
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from inkreel.cli.base import USER_ERRORS, err, fail, out, warn
from inkreel.project import Project
from inkreel.providers.budget import BudgetExceeded
from inkreel.run import pending_review, progress_events, run_episode, summary_rows
from inkreel.schemas import Script
from inkreel.schemas.episode import EpisodeRequest
from inkreel.settings import Settings

# Events of an agent that got no usable answer and went on without one (the why follows).
GAVE_UP = {
    "script_not_revised": "continuity: scene {scene} kept as drafted, flagged",
    "scene_not_planned": "director: scene {scene} covered by default shots",
    "shot_not_replanned": "continuity: {shot_id} drawn again as planned",
}


# Progress events that advance a bar, and those that print a line.
_ADVANCES = {"take": "voices", "keyframe": "keyframes", "checked": "continuity", "segment": "shots"}
_LINES = {
    "stage_done": "[green]✓[/] {text}",
    "revised": "  continuity: revised {shot_id}",
    "script_revised": "  continuity: rewrote scene {scene}",
    "redrawn": "  continuity: redrew {name}'s sheet",
}
_PLAIN_LINES = {
    "asset_repaired": "  {name}: stored design repaired: {issue}",
    "script_repaired": "  screenplay repaired: {issue}",
}


class ProgressView:
    """Rich progress: one line per finished stage, bars for per-line and per-shot work."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, Any] = {}
        self.console = console

    def bar(self, key: str, label: str, total: int) -> None:
        if key in self.tasks:
            self.progress.update(self.tasks[key], total=total)
        else:
            self.tasks[key] = self.progress.add_task(label, total=total)

    def advance(self, key: str) -> None:
        if key in self.tasks:
            self.progress.advance(self.tasks[key])

    def on_event(self, kind: str, payload: dict[str, Any]) -> None:
        console = self.progress.console
        if kind in _ADVANCES:
            self.advance(_ADVANCES[kind])
        elif kind in _LINES:
            console.print(_LINES[kind].format(**payload))
        elif kind in _PLAIN_LINES:  # their text may hold brackets: no markup
            console.print(_PLAIN_LINES[kind].format(**payload), markup=False)
        elif kind == "bar":
            self.bar(payload["bar"], payload["label"], payload["total"])
        elif kind == "checking":
            # Each round of the continuity gate checks the shots that changed: a fresh bar.
            if "continuity" in self.tasks:
                self.progress.reset(self.tasks["continuity"], total=payload["shots"])
            else:
                self.bar("continuity", "Checking continuity", payload["shots"])
        elif kind == "character":
            state = "reused from memory" if payload["reused"] else "designed"
            console.print(f"  {payload['name']}: {state}")
        elif kind in GAVE_UP:
            what = GAVE_UP[kind].format(**payload)
            console.print(f"  {what}: {payload['why']}", markup=False)

    def on_update(self, node: str, update: dict[str, Any] | None, values: dict[str, Any]) -> None:
        for kind, payload in progress_events(node, update, values):
            self.on_event(kind, payload)


def print_summary(project: Project, values: dict[str, Any]) -> None:
    request: EpisodeRequest = values["request"]
    script: Script = values["script"]
    table = Table(title=f"{script.title} — episode {request.episode}", show_header=False)
    for name, text in summary_rows(project, values):
        table.add_row(name, text)
    out.print(table)


def run_with_progress(
    project: Project,
    request: EpisodeRequest,
    first_input: dict[str, Any] | None,
    settings: Settings | None = None,
    resume: str | None = None,
) -> dict[str, Any]:
    """`run.run_episode` with progress bars on stderr."""
    view = ProgressView(err)
    with view.progress:
        return run_episode(
            project,
            request,
            first_input,
            settings=settings,
            on_event=view.on_event,
            on_update=view.on_update,
            resume=resume,
            warn=warn,
        )


def _run_or_report(
    project: Project,
    request: EpisodeRequest,
    first_input: dict[str, Any] | None,
    settings: Settings | None = None,
) -> None:
    try:
        values = run_with_progress(project, request, first_input, settings)
    except (*USER_ERRORS, BudgetExceeded, KeyboardInterrupt):
        raise
    except Exception as exc:
        log = project.write_failure_log(request.episode, traceback.format_exc())
        fail(
            f"episode {request.episode} failed: {exc}. Nothing finished was lost; details in "
            f"{log}. Continue with: inkreel resume -o {project.root} --episode {request.episode}",
            1,
        )
    finish_run(project, request.episode, values, pending_review(project, request.episode))


def how_to_answer(asked: dict[str, Any], where: str) -> str:
    """The commands that answer a gate."""
    edit = {
        "script": "inkreel edit --script FILE",
        "storyboard": "inkreel edit --storyboard SHOTS.json",
        "cut": "inkreel retake --shot ID ... | inkreel edit-line --line N TEXT",
    }
    commands = {
        "approve": "inkreel approve",
        "edit": edit[asked["gate"]],
        "reject": "inkreel reject --note TEXT",
    }
    allowed = asked["review_configs"][0]["allowed_decisions"]
    return "; ".join(commands[d] for d in allowed) + f" ({where})"


def finish_run(
    project: Project, episode: str, values: dict[str, Any], asked: dict[str, Any] | None
) -> None:
    """Say where a run ended: waiting at a review gate (`asked`: what the gate shows), with
    what to do next, or (None) the summary."""
    if asked is None:
        print_summary(project, values)
        return
    action = asked["action_requests"][0]
    where = f"-o {project.root} --episode {episode}"
    if asked.get("problem"):
        err.print(f"[bold red]Your answer was not used:[/] {escape(asked['problem'])}")
    out.print(
        f"Episode {episode} is waiting at the [bold]{asked['gate']}[/] gate: "
        f"{escape(action['description'])}",
        highlight=False,
    )
    out.print(
        f"See it with: inkreel review {where}. Answer with: {how_to_answer(asked, where)}.",
        highlight=False,
    )
