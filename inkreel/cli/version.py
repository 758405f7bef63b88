"""`inkreel version`."""

from __future__ import annotations

from inkreel import __version__
from inkreel.cli.base import app, out


@app.command()
def version() -> None:
    """Print the inkreel version."""
    out.print(__version__)
