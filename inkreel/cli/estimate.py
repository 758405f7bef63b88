"""`inkreel estimate`: what an episode (or a batch) will cost, before any model is called."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from inkreel.cli.base import (
    JudgeOption,
    LangOption,
    PinOption,
    PolicyOption,
    UserError,
    _placeholder,
    app,
    check_idea,
    check_language,
    guarded,
    load_roster,
    load_settings,
    out,
    parse_models,
    settle_language,
)
from inkreel.estimate import Shape, draft_script, estimate_episode, pricing_chooser
from inkreel.media.fountain import load_fountain
from inkreel.project import Project
from inkreel.providers.budget import EstimateReport
from inkreel.providers.router import RouterError


@app.command()
@guarded
def estimate(
    idea: Annotated[
        str | None, typer.Argument(help="The story idea, in one or two sentences.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Project whose inkreel.toml to use.")
    ] = None,
    script: Annotated[Path | None, typer.Option("--script", help="A Fountain screenplay.")] = None,
    length: Annotated[
        float, typer.Option(help="Target runtime in seconds.", min=10, max=900)
    ] = 60.0,
    lang: LangOption = "auto",
    seed: Annotated[int, typer.Option(help="Seed of the local draft.")] = 0,
    episodes: Annotated[int, typer.Option(help="Episodes in the batch.", min=1)] = 1,
    budget: Annotated[
        float | None, typer.Option(help="Compare with this cap per episode, USD.", min=0)
    ] = None,
    policy: PolicyOption = None,
    model: PinOption = None,
    text_model: Annotated[str | None, typer.Option(help="Text model id.")] = None,
    image_model: Annotated[str | None, typer.Option(help="Keyframe model id, or auto.")] = None,
    speech_model: Annotated[str | None, typer.Option(help="Voice model id, or auto.")] = None,
    video_model: Annotated[
        str | None, typer.Option(help="Image-to-video model id, or auto.")
    ] = None,
    judge_model: JudgeOption = None,
) -> None:
    """Print what an episode (or a batch) will cost, before any model is called."""
    if (idea is None) == (script is None):
        raise UserError("give either an IDEA or --script FILE.fountain (not both, not neither).")
    lang = check_language(lang, screenplay=script is not None)
    root = Project.settings_root(output) if output else None
    settings = load_settings(
        root,
        text_model=text_model,
        image_model=image_model,
        speech_model=speech_model,
        video_model=video_model,
        judge_model=judge_model,
        policy=policy,
        pins=parse_models(model),
    )
    roster = load_roster(root)
    try:
        chooser, missing = pricing_chooser(roster, settings, os.environ)
    except RouterError as exc:
        raise UserError(str(exc)) from None
    if idea is not None:
        the_script = draft_script(check_idea(idea), length, lang, seed)
    else:
        assert script is not None
        the_script = settle_language(load_fountain(script, language=_placeholder(lang)), lang)
    try:
        shape, report = estimate_episode(
            the_script,
            length,
            script is not None,
            roster,
            chooser,
            judge=settings.judge_model is not None,
        )
    except RouterError as exc:  # e.g. a judge left to the router with no vision model usable
        raise UserError(str(exc)) from None
    _print_estimate(shape, report, episodes, budget)
    if missing:
        out.print(f"Priced without keys; producing needs {', '.join(sorted(set(missing)))}.")


def _print_estimate(
    shape: Shape, report: EstimateReport, episodes: int, budget: float | None
) -> None:
    """The estimate's table, the episode's shape, and the batch and budget verdicts."""
    table = Table(title="Expected cost per episode (no model was called)")
    for column in ("task", "model", "calls", "units", "USD"):
        table.add_column(column, justify="right" if column in ("calls", "USD") else "left")
    for line in report.lines:
        units = ", ".join(f"{v:,.0f} {k.replace('_', ' ')}" for k, v in line.units.items())
        table.add_row(line.task, line.model_id, str(line.calls), units, f"{line.usd:.4f}")
    table.add_row("total", "", "", "", f"{report.total_usd:.4f}")
    out.print(table)
    out.print(
        f"Shape: {shape.scenes} scenes, {shape.characters} characters, {shape.locations} "
        f"locations, {shape.beats} beats -> about {shape.beats} shots, {shape.lines} lines "
        f"({shape.line_chars} characters), about {shape.seconds:.0f} s."
    )
    if episodes > 1:
        out.print(f"Batch of {episodes} episodes: about ${report.total_usd * episodes:.4f}.")
    if budget is not None:
        verdict = "fits" if report.total_usd <= budget else "does NOT fit"
        out.print(f"Expected ${report.total_usd:.4f} {verdict} a ${budget:.4f} cap per episode.")
    out.print(
        "Assumes one shot per beat, no continuity retries and no fallbacks; the ledger "
        "enforces --budget during the run."
    )
