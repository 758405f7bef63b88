"""The `inkreel` typer app and what its commands share: consoles, error reporting, options
and the checks of their input."""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from inkreel.estimate import EpisodeOverBudget
from inkreel.media import languages
from inkreel.media.fountain import ScriptError
from inkreel.memory import MemoryUnavailable
from inkreel.project import ProjectError
from inkreel.providers import ProviderError
from inkreel.providers.budget import BudgetExceeded
from inkreel.providers.errors import RunStop
from inkreel.providers.roster import Roster, RosterError
from inkreel.queue import QueueError
from inkreel.run import RunError
from inkreel.schemas import GATES, Gate, Script
from inkreel.settings import LANGUAGES, Settings, SettingsFileError
from inkreel.storage import (
    DATABASE_ENV,
    MEMORY_ENV,
    StorageError,
    check_database_url,
    check_memory_url,
)

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="inkreel: turn a story idea or a Fountain screenplay into a motion-comic episode.",
)
eval_app = typer.Typer(no_args_is_help=True, help="Measure what the line produced.")
app.add_typer(eval_app, name="eval")

err = Console(stderr=True)
out = Console()

MAX_IDEA_CHARS = 4000

# Bad input: reported as one line on stderr with exit code 2.
UserError = RunError


PolicyOption = Annotated[str | None, typer.Option(help="Model choice: draft, balanced or best.")]
PinOption = Annotated[
    list[str] | None, typer.Option(help="Pin a model for a task: TASK=ID (repeatable).")
]
LangOption = Annotated[
    str,
    typer.Option(
        help="Dialogue language: auto (detect a screenplay's; en for an idea), en, zh or ja "
        "for an idea, any code of `inkreel languages` for a --script."
    ),
]
FallbackOption = Annotated[
    str | None,
    typer.Option(
        help="When the next model takes a call: on-error (default: unusable answers, repeated "
        "failures; a rejected key or an unreachable endpoint stops the run), always (those "
        "too, with a warning), never (first model only)."
    ),
]
JudgeOption = Annotated[
    str | None,
    typer.Option(
        help="Also judge every keyframe with a hosted model that reads images: a roster id "
        "(gpt-4.1-mini...) or auto (default: no judge)."
    ),
]


ServerOption = Annotated[
    str | None,
    typer.Option(
        help="A LangGraph server running the graph (e.g. http://127.0.0.1:2024 from `langgraph "
        "dev`): act on the episode's thread there instead of in this process."
    ),
]
ReviewOption = Annotated[
    str,
    typer.Option(
        help="Stop for your decision at these gates (comma-separated): script (before any "
        "design), storyboard (before any keyframe), cut (after assembly). Default: none."
    ),
]


def parse_review(text: str) -> list[Gate]:
    """The gates of --review, checked."""
    gates = [g.strip() for g in text.split(",") if g.strip()]
    unknown = [g for g in gates if g not in GATES]
    if unknown:
        raise UserError(
            f"--review {', '.join(unknown)}: not a gate; use any of {', '.join(GATES)}."
        )
    return list(dict.fromkeys(gates))  # type: ignore[arg-type]


def read_text_file(path: Path, what: str, encoding: str = "utf-8") -> str:
    """A text file the user named, or one message saying why it cannot be read."""
    try:
        return path.read_text(encoding=encoding)
    except FileNotFoundError:
        raise UserError(f"{what} {path} does not exist.") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{what} {path} is not UTF-8 text ({exc.reason}).") from None
    except OSError as exc:
        raise UserError(f"cannot read {what} {path}: {exc.strerror}.") from None


def fail(message: str, code: int = 2) -> NoReturn:
    # The message is plain text: "[[models]]" or a path with brackets must print as written.
    err.print(f"[bold red]inkreel: error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def check_idea(idea: str) -> str:
    text = idea.strip()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Undecodable bytes from the shell arrive as lone surrogates.
        raise UserError(
            "the idea is not valid UTF-8 text; retype it or save it as UTF-8."
        ) from None
    if not text or not re.search(r"\w", text):
        raise UserError('the idea is empty; give a sentence such as "A courier finds a map".')
    if len(text) > MAX_IDEA_CHARS:
        raise UserError(
            f"the idea is {len(text)} characters long (at most {MAX_IDEA_CHARS}); put a longer "
            "story in a Fountain screenplay and use --script."
        )
    return text


def check_language(lang: str, screenplay: bool = False) -> str:
    """Return the --lang to use: a known code or auto for a screenplay; for a story idea en, zh
    or ja (auto is en), the languages the offline story engine writes."""
    code = lang.strip().lower()
    if code == languages.AUTO:
        return code if screenplay else "en"
    if not languages.is_known(code):
        raise UserError(languages.unknown_language_message(lang))
    code = languages.canonical(code)
    if not screenplay and code not in LANGUAGES:
        raise UserError(
            f"a story idea is written in one of {', '.join(LANGUAGES)}; "
            f"{languages.language_name(code)} ({code}) dialogue comes from a Fountain screenplay "
            "(--script, or a .fountain line in a batch)."
        )
    return code


def settle_language(script: Script, lang: str) -> Script:
    """Return the screenplay in the language of its dialogue (detected for auto), after one
    warning for each thing about it that cannot be voiced or drawn."""
    lines = [beat.text for scene in script.scenes for beat in scene.beats if beat.voices()]
    try:
        code, notes = languages.resolve_language(lang, lines)
    except languages.LanguageError as exc:
        raise UserError(str(exc)) from None
    if lang == languages.AUTO:
        err.print(f"Dialogue language: {languages.language_name(code)} ({code}), detected.")
    for note in notes:
        warn(note)
    return script.model_copy(update={"language": code})


def _placeholder(lang: str) -> str:
    # The language a screenplay is read with before its dialogue is detected.
    return languages.DEFAULT if lang == languages.AUTO else lang


def parse_models(pins: list[str] | None) -> dict[str, str] | None:
    if not pins:
        return None
    chosen = {}
    for pin in pins:
        task, _, model_id = pin.partition("=")
        if not task or not model_id:
            raise UserError(f"--model {pin!r}: write it as TASK=ID, e.g. write=deepseek-chat.")
        chosen[task.strip()] = model_id.strip()
    return chosen


def load_settings(root: Path | None, **flags: Any) -> Settings:
    try:
        return Settings.load(root, **flags)
    except SettingsFileError as exc:
        raise UserError(str(exc)) from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise UserError(f"invalid settings: {problems}") from None


def load_roster(root: Path | None) -> Roster:
    try:
        return Roster.load(root)
    except RosterError as exc:
        raise UserError(str(exc)) from None


def warn(message: str) -> None:
    """Print a warning the run goes on after (a model that hands its calls on)."""
    err.print(
        f"[bold yellow]inkreel: warning:[/] {escape(message)}", highlight=False, soft_wrap=True
    )


# Errors of the user's making (input, setup, services): one message and exit 2.
USER_ERRORS = (
    UserError,
    ProjectError,
    ScriptError,
    ProviderError,
    RunStop,
    StorageError,
    QueueError,
    MemoryUnavailable,
)


def guarded(func: Any) -> Any:
    """Turn user errors into one message and exit 2; keep internal failures resumable."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except USER_ERRORS as exc:
            fail(str(exc))
        except EpisodeOverBudget as exc:
            fail(f"{exc} (the run is checkpointed: nothing is paid twice).")
        except BudgetExceeded as exc:
            fail(f"{exc} The run is checkpointed: continue with `inkreel resume ... --budget`.")
        except KeyboardInterrupt:
            fail("interrupted; the run is checkpointed: continue it with `inkreel resume`.", 130)

    return wrapper


DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database",
        help="PostgreSQL URL for checkpoints, ledger and queue (default: `database` in the "
        "project's inkreel.toml storage table, else SQLite files in the project).",
        show_default=False,
    ),
]
MemoryOption = Annotated[
    str | None,
    typer.Option(
        "--memory",
        help="Chroma server URL for the asset memory, http://HOST:PORT (default: `memory` "
        "in inkreel.toml's storage table, else embedded in the project).",
        show_default=False,
    ),
]


def use_storage(database: str | None, memory: str | None) -> None:
    """Flags over the environment: every project this process (and its children) opens
    uses them."""
    if database is not None:
        os.environ[DATABASE_ENV] = check_database_url(database) or ""
    if memory is not None:
        os.environ[MEMORY_ENV] = check_memory_url(memory) or ""


def main() -> None:
    """Run the command line (the `inkreel` console script)."""
    app()
