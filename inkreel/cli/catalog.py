"""`inkreel models` and `inkreel languages`: what the line can use on this machine."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from inkreel.art import fonts, writing
from inkreel.cli.base import app, guarded, load_roster, out
from inkreel.media import languages
from inkreel.project import Project
from inkreel.providers.roster import format_roster


@app.command()
@guarded
def models(
    project_dir: Annotated[
        Path | None, typer.Option("-o", "--output", help="Project with an inkreel.toml.")
    ] = None,
) -> None:
    """List the model roster: capability, price, quality tier, usable now or not."""
    roster = load_roster(Project.settings_root(project_dir) if project_dir else None)
    table = Table(show_lines=False)
    for column in ("capability", "id", "model", "price", "tier", "usable"):
        table.add_column(column)
    for row in format_roster(roster, os.environ):
        usable_now = "yes" if row["usable"] == "yes" else f"no: {row['reason']}"
        table.add_row(
            row["capability"], row["id"], row["model"], row["price"], str(row["tier"]), usable_now
        )
    out.print(table)


@app.command(name="languages")
def list_languages() -> None:
    """List the dialogue languages: code, eSpeak voice, script, and whether a font draws it."""
    letters = _script_letters()
    table = Table(show_lines=False)
    for column in ("code", "language", "eSpeak voice", "script", "subtitles"):
        table.add_column(column)
    for code, lang in sorted(languages.LANGUAGES.items()):
        drawn = "yes" if not fonts.uncovered([letters.get(lang.script, "")]) else "boxes"
        table.add_row(code, lang.name, lang.voice, writing.script_name(lang.script), drawn)
    out.print(table)
    unvoiced = ", ".join(
        f"{name} ({code})" for code, (name, _, _) in sorted(languages.UNVOICED.items())
    )
    out.print(
        f"{len(languages.LANGUAGES)} voiced languages. --lang auto (the default) detects a "
        "screenplay's language from its dialogue. Detected but voiced by a stand-in, with a "
        f"warning: {unvoiced}.",
        highlight=False,
    )


def _script_letters(per_script: int = 24) -> dict[str, str]:
    """Return some letters of each script, to ask the fonts whether they draw it."""
    letters: dict[str, str] = {}
    for point in range(0x41, 0x30000):
        ch = chr(point)
        script = writing.script_of(ch) if unicodedata.category(ch)[0] == "L" else None
        if script and len(letters.get(script, "")) < per_script:
            letters[script] = letters.get(script, "") + chr(point)
    return letters
