"""`inkreel cast`: the series' characters and sets, their reference files and episodes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from inkreel.cast_list import CastEntry, series_cast
from inkreel.cli.base import UserError, app, guarded, out
from inkreel.memory import MemoryUnavailable
from inkreel.project import Project


@app.command(name="cast")
@guarded
def cast(
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Project directory (the series).")
    ] = Path("inkreel-project"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the cast as JSON.")] = False,
) -> None:
    """List the series' characters and locations: their sheets or plates and the episodes
    they appear in (also under another name an episode resolved to them)."""
    project = Project.open(output, create=False)
    try:
        listed = series_cast(project)
    except MemoryUnavailable as exc:
        raise UserError(str(exc)) from None
    if as_json:
        # Plain print: rich would wrap and colour the JSON.
        typer.echo(listed.model_dump_json(indent=2))
        return
    if not listed.characters and not listed.locations:
        out.print(f"No characters or locations in {project.root} yet.", highlight=False)
        return
    for title, entries in (("Characters", listed.characters), ("Locations", listed.locations)):
        out.print(_table(title, entries))


def _table(title: str, entries: list[CastEntry]) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    for column in ("name", "sheet" if title == "Characters" else "plates", "episodes"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        also = f"\n(also {', '.join(entry.also_named)})" if entry.also_named else ""
        table.add_row(
            entry.name + also, "\n".join(entry.files), ", ".join(entry.episodes) or "none"
        )
    return table
