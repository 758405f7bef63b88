"""`inkreel eval consistency` and `inkreel eval continuity`: measure what the line made."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from inkreel.checks import Bundle
from inkreel.cli.base import UserError, err, eval_app, fail, guarded, out
from inkreel.cli.check import check_levels, load_bundle
from inkreel.evalruns.configs import ConfigError, parse_configs
from inkreel.evalruns.dataset import DatasetError
from inkreel.evalruns.export import ExportError, export_run
from inkreel.evalruns.report import ReportError, write_report
from inkreel.evalruns.runner import Cell, EvalRun, EvalRunError
from inkreel.evalruns.scores import PLANT_LEVELS
from inkreel.evals import consistency
from inkreel.evals.continuity import evaluate, format_summary
from inkreel.project import Project
from inkreel.run import check_episode_name


@eval_app.command("consistency")
@guarded
def eval_consistency(
    project_dir: Annotated[Path, typer.Argument(help="Project directory.")],
    episode: Annotated[str, typer.Option(help="Episode to measure.")],
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Where to write the JSON report.")
    ] = None,
) -> None:
    """Score character identity, on-screen counts and set stability of an episode."""

    check_episode_name(episode)
    project = Project.open(project_dir, create=False)
    folder = project.root / "episodes" / episode
    if not (folder / "storyboard.json").exists():
        raise UserError(
            f"episode {episode} in {project.root} has no storyboard.json; produce or "
            "resume it first."
        )
    report = consistency.evaluate_episode(project.root, episode)
    path = consistency.write_report(report, json_out or folder / "consistency.json")
    out.print(consistency.format_report(report))
    out.print(f"Report: {path}")


@eval_app.command("continuity")
@guarded
def eval_continuity(
    projects: Annotated[
        list[Path], typer.Argument(help="Project directories whose episodes are the clean set.")
    ],
    episode: Annotated[
        list[str] | None, typer.Option(help="Only these episodes (repeatable).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the planted defects.")] = 0,
    cases: Annotated[int, typer.Option(help="Cases per defect type and level.", min=1)] = 3,
    level: Annotated[
        list[str] | None, typer.Option(help="Only these levels: script, storyboard, image.")
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Where results.jsonl and summary.json go.")
    ] = Path("continuity-eval"),
) -> None:
    """Plant one defect per case in clean episodes and score the continuity checker."""

    levels = check_levels(level)
    bundles: dict[str, Bundle] = {}
    for root in projects:
        project = Project.open(root, create=False)
        for folder in sorted((project.root / "episodes").glob("*")):
            board = folder / "storyboard.json"
            if episode and folder.name not in episode:
                continue
            if board.is_file() and (folder / "manifest.json").is_file():
                bundles[f"{project.root.name}/{folder.name}"] = load_bundle(board, project.root)
    if not bundles:
        raise UserError("no produced episodes found in " + ", ".join(map(str, projects)) + ".")
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err
    ) as bar:
        job = bar.add_task("Planting and checking", total=None)
        summary = evaluate(
            bundles,
            out_dir,
            seed=seed,
            cases_per_type=cases,
            levels=levels,
            progress=lambda case: bar.update(job, advance=1, description=case),
        )
    out.print(format_summary(summary), soft_wrap=True, highlight=False)
    out.print(f"Results: {out_dir / 'results.jsonl'}, {out_dir / 'summary.json'}")


@eval_app.command("run")
@guarded
def eval_run(
    dataset: Annotated[
        Path,
        typer.Argument(help="A folder of ID/story.json, a .jsonl of ideas, or .fountain files."),
    ],
    out_dir: Annotated[
        Path, typer.Option("--out", help="The run directory (resumed if it exists).")
    ],
    config: Annotated[
        list[str] | None,
        typer.Option(help="NAME=FILE.toml: a settings file to compare (repeatable)."),
    ] = None,
    jobs: Annotated[int, typer.Option(help="Cells produced at once (processes).", min=1)] = 1,
    limit: Annotated[int | None, typer.Option(help="Only the first K items.", min=1)] = None,
    seed: Annotated[int, typer.Option(help="Seed of every episode and planted defect.")] = 0,
    judge_model: Annotated[
        str | None,
        typer.Option(help="A roster model that reads images: grade each shot's prompt alignment."),
    ] = None,
    plant: Annotated[
        list[str] | None,
        typer.Option(
            help="Plant continuity defects at these levels only: script, storyboard, image."
        ),
    ] = None,
) -> None:
    """Produce every item of DATASET under every --config, scored per agent."""
    try:
        run = EvalRun.open(
            out_dir,
            dataset,
            parse_configs(config or []),
            seed=seed,
            limit=limit,
            plant_levels=tuple(plant or PLANT_LEVELS),
            judge_model=judge_model,
        )
    except (DatasetError, ConfigError, EvalRunError) as exc:
        raise UserError(str(exc)) from None
    total = len(run.items) * len(run.configs)
    err.print(
        f"inkreel: {len(run.items)} item(s) x {len(run.configs)} configuration(s) into "
        f"{run.root} ({jobs} at a time)"
    )
    failed: list[str] = []
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err
    ) as bar:
        job = bar.add_task("Cells", total=total)

        def done(cell: Cell) -> None:
            mark = "reused" if cell.reused else f"{cell.wall_s:.1f} s"
            if cell.status != "done":
                failed.append(f"{cell.config}/{cell.item}: {cell.error}")
                mark = "FAILED"
            bar.console.print(f"  {cell.config}/{cell.item}: {mark}", highlight=False)
            bar.update(job, advance=1)

        run.run(jobs=jobs, on_cell=done)
    out.print(f"Results: {run.root / 'results.jsonl'}")
    if failed:
        for line in failed:
            err.print(f"[red]failed[/] {escape(line)}")
        fail(
            f"{len(failed)} of {total} cell(s) failed (details in each cell's error.log); "
            "run the same command again to retry them.",
            1,
        )


@eval_app.command("report")
@guarded
def eval_report(
    rundirs: Annotated[list[Path], typer.Argument(help="Run directories to compare.")],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Where report.html and summary.md go.")
    ] = None,
    baseline: Annotated[
        str | None, typer.Option(help="The configuration (or RUN/CONFIG) compared against.")
    ] = None,
) -> None:
    """Compare evaluation runs: report.html (self-contained) and summary.md."""
    try:
        html, summary = write_report(rundirs, out_dir or rundirs[0], baseline)
    except ReportError as exc:
        raise UserError(str(exc)) from None
    out.print(f"Report: {html}\nSummary: {summary}")


@eval_app.command("export")
@guarded
def eval_export(
    rundir: Annotated[Path, typer.Argument(help="An evaluation run of story.json items.")],
    vistorybench: Annotated[
        Path, typer.Option("--vistorybench", help="ViStoryBench's outputs folder to write into.")
    ],
    config: Annotated[
        str | None, typer.Option(help="The configuration to export (default: the only one).")
    ] = None,
    method: Annotated[
        str | None, typer.Option(help="Method name in their layout (default: inkreel-CONFIG).")
    ] = None,
) -> None:
    """Write a run's keyframes in ViStoryBench's generated-output layout."""
    try:
        configs = list(json.loads((rundir / "run.json").read_text("utf-8"))["configs"])
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(f"{rundir} is not an evaluation run ({exc}).") from None
    if config is None and len(configs) != 1:
        raise UserError(
            f"{rundir} has configurations {', '.join(configs)}: choose one with --config."
        )
    try:
        written = export_run(rundir, vistorybench, config or configs[0], method)
    except ExportError as exc:
        raise UserError(str(exc)) from None
    out.print(f"Wrote {len(written)} keyframe(s) under {vistorybench}")
