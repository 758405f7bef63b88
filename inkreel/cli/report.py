"""`inkreel report`: the morning report of a series (what was made, what it cost, what next)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from inkreel.cli.base import UserError, app, guarded, out
from inkreel.project import Project
from inkreel.series.morning import MorningReport, SinceError, morning_report, parse_since
from inkreel.series.morning_pages import usd, wall, write_morning_report

COLOUR = {"finished": "green", "stopped": "yellow", "failed": "red"}


@app.command()
@guarded
def report(
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Project directory (the series).")
    ] = Path("inkreel-project"),
    since: Annotated[
        str | None,
        typer.Option(
            help="Only episodes with a run started since then: an ISO date or time "
            "(2025-06-01, 2025-06-01T22:00, 22:00) or a span back from now (90m, 12h, 2d)."
        ),
    ] = None,
) -> None:
    """Write the morning report of a series: what was made, what it cost, what needs a human.

    Episodes finished, stopped (at a review gate, by a budget, interrupted) and failed; spend
    per episode, agent and model against the caps; shots flagged with their keyframes and
    findings; faults survived; wall time; the commands to run next. Writes a self-contained
    HTML page and a markdown summary into the project's reports/ folder.
    """
    try:
        moment = parse_since(since) if since is not None else None
    except SinceError as exc:
        raise UserError(str(exc)) from None
    project = Project.open(output, create=False)
    made = morning_report(project, since=moment)
    html_path, md_path = write_morning_report(made)
    _print_summary(made)
    out.print(f"Wrote {html_path}", highlight=False, soft_wrap=True)
    out.print(f"Wrote {md_path}", highlight=False, soft_wrap=True)


def _print_summary(made: MorningReport) -> None:
    if not made.episodes:
        where = " with a run in that time" if made.since is not None else ""
        out.print(f"No episodes{where} in {made.project}.", highlight=False)
        return
    flagged = len(made.flagged_shots)
    out.print(
        f"{len(made.group('finished'))} finished, {len(made.group('stopped'))} stopped, "
        f"{len(made.group('failed'))} failed; spent {usd(made.spent_usd)}, "
        f"wall time {wall(made.wall_s)}, {flagged} shot{'s' if flagged != 1 else ''} flagged.",
        highlight=False,
    )
    for e in made.episodes:
        step = f" -> {e.next_steps[0]}" if e.next_steps else ""
        out.print(
            f"  {e.name}: [{COLOUR[e.group]}]{e.label}[/] {usd(e.spend.usd)}{escape(step)}",
            highlight=False,
            soft_wrap=True,
        )
