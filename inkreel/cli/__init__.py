"""The `inkreel` command line: produce and resume episodes.

Each command lives in its own module and registers itself on `app` when imported.
"""

from inkreel.cli.base import app, main

# isort: off
# Imported for the commands they register, in the order `inkreel --help` lists them.
from inkreel.cli import produce, batch, report, resume, review, chat, estimate  # noqa: F401
from inkreel.cli import serve  # noqa: F401
from inkreel.cli import cast  # noqa: F401
from inkreel.cli import catalog, check, evals, version, worker  # noqa: F401

__all__ = ["app", "main"]
