"""`inkreel check`: continuity findings on a storyboard, ours or made elsewhere."""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.table import Table

from inkreel.agents.judge import judge_shots
from inkreel.checks import LEVELS, Bundle, run_checks
from inkreel.cli.base import JudgeOption, UserError, app, guarded, load_settings, out
from inkreel.project import MARKER, Project, write_text_atomic
from inkreel.providers import build_providers
from inkreel.providers.budget import BudgetExceeded, Ledger
from inkreel.providers.roster import Roster, RosterError


def check_levels(given: list[str] | None) -> tuple[str, ...]:

    levels = tuple(given or LEVELS)
    unknown = sorted(set(levels) - set(LEVELS))
    if unknown:
        raise UserError(f"unknown level {', '.join(unknown)}; use {', '.join(LEVELS)}.")
    return levels


def load_bundle(path: Path, root: Path | None = None) -> Any:
    """A storyboard JSON file as a check bundle, or one clear error."""

    try:
        return Bundle.load(path, root)
    except FileNotFoundError:
        raise UserError(f"{path} does not exist.") from None
    except UnicodeDecodeError as exc:
        raise UserError(f"{path} is not UTF-8 text ({exc.reason}).") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"])) or "the file"
        raise UserError(
            f"{path} is not a storyboard JSON file ({exc.error_count()} problem(s); first at "
            f"{where}: {first['msg']}). See docs/storyboard-schema.json."
        ) from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}.") from None


def judge_storyboard(
    storyboard: Path, bundle: Any, judge_model: str | None, budget: float | None
) -> list[Any]:
    """The judge's findings on every keyframe, when a judge is set (flag, environment or the
    project's inkreel.toml). Calls are paid in the project's ledger when the storyboard is in
    a project (a keyframe judged before is answered from it), else in a temporary one; the
    providers are the ones `produce` builds from the same settings."""

    settings = load_settings(bundle.root, judge_model=judge_model, budget_usd=budget)
    if settings.judge_model is None:
        return []
    try:
        roster = Roster.load(bundle.root)
    except RosterError as exc:
        raise UserError(str(exc)) from None
    folder = storyboard.resolve().parent
    name = folder.name if folder.parent.name == "episodes" else storyboard.stem
    with contextlib.ExitStack() as stack:
        if (bundle.root / MARKER).is_file():
            path = Project.open(bundle.root, create=False).ledger
        else:
            temporary = stack.enter_context(tempfile.TemporaryDirectory(prefix="inkreel-"))
            path = Path(temporary) / "ledger.sqlite"
        ledger = stack.enter_context(Ledger(path))
        providers = build_providers(
            settings, 0, ledger, f"check-{name}", roster=roster, context=name
        )
        try:
            return judge_shots(providers.calls, bundle, [s.id for s in bundle.board.shots])
        except BudgetExceeded as exc:
            raise UserError(
                f"{exc} Judging {storyboard} stopped; give a higher --budget (in a project, "
                "verdicts already paid for are not paid again)."
            ) from None


@app.command()
@guarded
def check(
    storyboard: Annotated[Path, typer.Argument(help="A storyboard JSON file.")],
    root: Annotated[
        Path | None,
        typer.Option(help="Directory the file's image paths are relative to."),
    ] = None,
    level: Annotated[
        list[str] | None, typer.Option(help="Only these levels: script, storyboard, image.")
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Where to write the findings as JSON.")
    ] = None,
    judge_model: JudgeOption = None,
    budget: Annotated[
        float | None,
        typer.Option(help="Hard cap on what judging this storyboard may spend, USD.", min=0),
    ] = None,
) -> None:
    """Check a storyboard (ours or made elsewhere) for continuity errors; exit 1 if any."""

    levels = check_levels(level)
    bundle = load_bundle(storyboard, root)
    findings = run_checks(bundle, levels)
    if "image" in levels and bundle.has_images:
        findings += judge_storyboard(storyboard, bundle, judge_model, budget)
    table = Table(title=f"Continuity: {storyboard}", show_lines=True)
    for column in ("level", "check", "shots", "severity", "finding", "fix (for)"):
        table.add_column(column)
    for f in findings:
        where = ", ".join(s for s in dict.fromkeys([f.shot_id, *f.shots]) if s) or (
            f"scene {f.scene}" if f.scene is not None else ""
        )
        table.add_row(
            f.level, f.check, where, f.severity, f.message, f"{f.fix_instruction} ({f.agent})"
        )
    out.print(table if findings else f"No continuity findings in {storyboard}.")
    for note in bundle.notes:
        out.print(f"note: {note}")
    if json_out is not None:
        report = {
            "storyboard": str(storyboard),
            "levels": list(levels),
            "notes": bundle.notes,
            "findings": [f.model_dump(mode="json") for f in findings],
        }
        write_text_atomic(json_out, json.dumps(report, indent=2, ensure_ascii=False))
        out.print(f"Report: {json_out}")
    if any(f.severity == "error" for f in findings):
        raise typer.Exit(1)
