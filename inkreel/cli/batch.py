"""`inkreel batch`: every episode of a batch file, under per-episode and batch caps."""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from inkreel.cli.base import (
    DatabaseOption,
    FallbackOption,
    LangOption,
    MemoryOption,
    PinOption,
    PolicyOption,
    ReviewOption,
    UserError,
    _placeholder,
    app,
    check_idea,
    check_language,
    err,
    fail,
    guarded,
    load_settings,
    parse_models,
    parse_review,
    read_text_file,
    settle_language,
    use_storage,
)
from inkreel.cli.progress import finish_run, run_with_progress
from inkreel.media.fountain import ScriptError, load_fountain
from inkreel.project import Project, ProjectError
from inkreel.providers import ProviderError
from inkreel.providers.budget import BudgetExceeded, Ledger
from inkreel.providers.errors import RunStop
from inkreel.queue import QueuedEpisode, copy_script, enqueue, queue_counts, queue_name
from inkreel.run import is_delivered, is_started, pending_review
from inkreel.schemas import Script
from inkreel.schemas.episode import EpisodeRequest
from inkreel.schemas.review import Gate
from inkreel.settings import Settings


def read_batch(path: Path) -> list[tuple[str | None, Path | None]]:
    """A batch file: one episode per line, an idea or a path to a .fountain screenplay
    (relative to the batch file); blank lines and lines starting with # are skipped."""
    text = read_text_file(path, "batch file")
    entries: list[tuple[str | None, Path | None]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.lower().endswith(".fountain"):
            script = (path.parent / line).resolve()
            if not script.is_file():
                raise UserError(f"{path}:{number}: screenplay {line} does not exist.")
            entries.append((None, script))
        else:
            try:
                entries.append((check_idea(line), None))
            except UserError as exc:
                raise UserError(f"{path}:{number}: {exc}") from None
    if not entries:
        raise UserError(f"batch file {path} names no episodes (one idea or .fountain per line).")
    return entries


@app.command()
@guarded
def batch(
    file: Annotated[Path, typer.Argument(help="One idea or .fountain path per line.")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Project directory (the series).")
    ] = Path("inkreel-project"),
    budget: Annotated[
        float | None, typer.Option(help="Hard cap on each episode's model spend, USD.", min=0)
    ] = None,
    batch_budget: Annotated[
        float | None, typer.Option(help="Hard cap on the whole batch's model spend, USD.", min=0)
    ] = None,
    length: Annotated[
        float, typer.Option(help="Target runtime per episode, seconds.", min=10, max=900)
    ] = 60.0,
    lang: LangOption = "auto",
    seed: Annotated[int, typer.Option(help="Seed of the first episode (then +1 each).")] = 0,
    policy: PolicyOption = None,
    model: PinOption = None,
    fallback: FallbackOption = None,
    review: ReviewOption = "",
    queue: Annotated[
        bool,
        typer.Option(
            "--queue",
            help="Put the episodes on the project's queue (PostgreSQL) for `inkreel worker` "
            "processes, on this machine or others, instead of producing them here.",
        ),
    ] = False,
    workers_later: Annotated[
        bool,
        typer.Option(
            "--workers-later",
            help="With --queue: no worker runs yet, and that is intended (exit 0, not 2).",
        ),
    ] = False,
    database: DatabaseOption = None,
    memory: MemoryOption = None,
) -> None:
    """Produce a series overnight: every episode of FILE, under per-episode and batch caps.

    Run it again after a stop (a budget, a crash, Ctrl-C): finished episodes are skipped,
    unfinished ones resume from their checkpoints, so nothing is produced or paid twice.
    With --review, an episode that reaches a gate waits there and the batch goes on to the
    next; answer it (inkreel approve ...) and run the batch again.
    """
    use_storage(database, memory)
    gates = parse_review(review)
    lang = check_language(lang, screenplay=True)
    entries = read_batch(file)
    idea_lang = check_language(lang) if any(idea for idea, _ in entries) else lang
    project = Project.open(output)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", file.stem) or "batch"
    settings = load_settings(
        project.root,
        budget_usd=budget,
        batch=name,
        batch_budget_usd=batch_budget,
        policy=policy,
        pins=parse_models(model),
        fallback=fallback,
    )
    plan = _Plan(length, seed, gates, settings, idea_lang, lang)
    if queue:
        _enqueue(project, entries, plan, workers_later)
        return
    _produce_all(project, entries, plan, name, batch_budget)


def _produce_all(
    project: Project,
    entries: list[tuple[str | None, Path | None]],
    plan: _Plan,
    name: str,
    batch_budget: float | None,
) -> None:
    """Produce the batch's episodes here, one after another: a delivered one is skipped, a
    started one resumed; a failed one is logged and the batch goes on (exit 1 at the end)."""
    failed: list[str] = []
    waiting: list[str] = []
    for index, (idea, script) in enumerate(entries, 1):
        episode = f"ep{index:02d}"
        folder = project.root / "episodes" / episode
        if (folder / "manifest.json").exists():
            err.print(f"[{index}/{len(entries)}] {episode} is already produced; skipped.")
            continue
        started = is_started(project, episode)
        imported = None
        if started:
            err.print(f"[{index}/{len(entries)}] resuming {episode}")
        else:
            err.print(f"[{index}/{len(entries)}] producing {episode}: {idea or script}")
            if script is not None:
                imported = plan.screenplay(script)
        request = plan.request(index, idea, script, imported)
        first: dict[str, Any] | None = None if started else {"request": request}
        if first is not None and imported is not None:
            first["script"] = imported
        try:
            values = run_with_progress(
                project, request, first, resume="the same batch command with"
            )
        except BudgetExceeded as exc:
            raise UserError(
                f"{exc} The batch stopped at {episode}; everything before it is delivered and "
                f"{episode} is checkpointed. Continue with the same command and a higher cap."
            ) from None
        except (UserError, ProjectError, ScriptError, ProviderError, RunStop, KeyboardInterrupt):
            raise
        except Exception as exc:
            log = project.write_failure_log(episode, traceback.format_exc())
            err.print(f"[red]{episode} failed[/]: {exc} (details in {log}); going on.")
            failed.append(episode)
            continue
        asked = pending_review(project, episode)
        if asked is not None:
            waiting.append(episode)
        finish_run(project, episode, values, asked)
    with Ledger.open(project) as ledger:
        spent = ledger.spent(("batch", name))
    cap = f" of ${batch_budget:.4f}" if batch_budget is not None else ""
    done = len(entries) - len(failed) - len(waiting)
    at_gates = f", {len(waiting)} waiting for review ({', '.join(waiting)})" if waiting else ""
    err.print(f"Batch {name}: {done}/{len(entries)} episodes{at_gates}, ${spent:.4f}{cap}.")
    if failed:
        fail(f"{len(failed)} episode(s) failed: {', '.join(failed)}; run the batch again.", 1)


@dataclass(frozen=True)
class _Plan:
    """What every episode of the batch shares: its request is made from this and its line."""

    length_s: float
    seed: int
    gates: list[Gate]
    settings: Settings
    idea_lang: str
    lang: str

    def screenplay(self, script: Path) -> Script:
        return settle_language(load_fountain(script, language=_placeholder(self.lang)), self.lang)

    def request(
        self, index: int, idea: str | None, script: Path | None, imported: Script | None
    ) -> EpisodeRequest:
        """Episode `index` (epNN, the seed + index - 1) of an idea or an imported screenplay."""
        return EpisodeRequest(
            episode=f"ep{index:02d}",
            idea=idea,
            script_file=str(script) if script else None,
            length_s=self.length_s,
            language=imported.language if imported else self.idea_lang,
            seed=self.seed + index - 1,
            review=self.gates,
            settings=self.settings.model_dump(),
        )


def _enqueue(
    project: Project,
    entries: list[tuple[str | None, Path | None]],
    plan: _Plan,
    workers_later: bool,
) -> None:
    """Queue every episode not yet delivered; say how many wait and how many workers run.
    No live worker is an error (exit 2) unless `workers_later`: the episodes stay queued."""
    items = []
    for index, (idea, script) in enumerate(entries, 1):
        episode = f"ep{index:02d}"
        if is_delivered(project, episode):
            err.print(f"[{index}/{len(entries)}] {episode} is already produced; skipped.")
            continue
        imported = plan.screenplay(script) if script is not None else None
        request = plan.request(index, idea, script, imported)
        copied = copy_script(project, script) if script is not None else None
        items.append(QueuedEpisode(project_id=project.id, request=request, script_file=copied))
    ids = enqueue(project, items)
    queued = sum(1 for i in ids if i is not None)
    already = len(ids) - queued
    counts = queue_counts(project)
    err.print(
        f"Queued {queued} episode(s) on {queue_name(project)}"
        + (f" ({already} already waiting)" if already else "")
        + f"; {counts.todo} waiting, {counts.doing} running."
    )
    if counts.workers == 0 and not workers_later:
        fail(
            f"no worker serves this project, so nothing will make these episodes. They stay "
            f"queued: start a worker on each machine that shares {project.root} "
            f"(inkreel worker -o {project.root}), or pass --workers-later when that is intended."
        )
    if counts.workers == 0:
        err.print(f"No worker is running yet: inkreel worker -o {project.root}")
