"""An evaluation run: every item of a dataset under every configuration, scored per agent.

    run = EvalRun.open(Path("runs/prompts-v2"), Path("evals/datasets/inkreel-12"),
                       [parse_config("base=base.toml"), parse_config("v2=v2.toml")], seed=0)
    run.run(jobs=2, on_cell=print)      # resumable: finished cells are never redone

The run directory:

    RUNDIR/run.json                     the dataset, seed, configurations (and their digests)
    RUNDIR/results.jsonl                every cell's rows, in item then configuration order
    RUNDIR/cells/CONFIG/ITEM/           the cell's own project (inkreel.toml = the config)
    RUNDIR/cells/CONFIG/ITEM/cell.json  written last: done (with its keyframes) or failed
    RUNDIR/cells/CONFIG/ITEM/rows.jsonl the cell's rows

A cell is one project, so its checkpoints and ledger are its own: an interrupted run resumes
each unfinished episode from its checkpoint, and a paid call made before is answered from the
cell's ledger, never paid twice. Cells run in `jobs` worker processes. A run is reproducible
for its seed: every episode is produced with it, and the planted defects are chosen by it.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from inkreel.checks import Bundle
from inkreel.evalruns.configs import EvalConfig
from inkreel.evalruns.dataset import Item, load_dataset
from inkreel.evalruns.judge import judge_alignment
from inkreel.evalruns.scores import (
    PLANT_LEVELS,
    Score,
    agent_costs,
    agent_seconds,
    rows,
    score_item,
)
from inkreel.media.fountain import load_fountain
from inkreel.media.languages import LanguageError, resolve_language
from inkreel.media.story_json import StoryError, load_story
from inkreel.project import Project, write_text_atomic
from inkreel.run import StageClock, episode_state, is_delivered, run_episode, story_input
from inkreel.schemas import Script
from inkreel.schemas.episode import EpisodeRequest
from inkreel.services import EpisodeContext, open_services
from inkreel.settings import Settings

EPISODE = "ep01"
RUN_FORMAT = 1


class EvalRunError(ValueError):
    """A run that cannot go on as asked: one line."""


@dataclass(frozen=True)
class Cell:
    """What one finished (or failed) cell says of itself (`cell.json`)."""

    item: str
    config: str
    status: str  # "done" or "failed"
    error: str | None
    keyframes: list[str]  # relative to the cell's folder, in shot order
    wall_s: float
    cost_usd: float
    reused: bool = False  # finished in an earlier invocation of the run


@dataclass(frozen=True)
class CellOptions:
    """How every cell of a run is scored besides its configuration."""

    plant_levels: tuple[str, ...] = PLANT_LEVELS
    judge_model: str | None = None  # a roster id that reads images: prompt alignment


class EvalRun:
    def __init__(
        self,
        root: Path,
        dataset: Path,
        items: list[Item],
        configs: list[EvalConfig],
        seed: int,
        plant_levels: tuple[str, ...] = PLANT_LEVELS,
        judge_model: str | None = None,
    ) -> None:
        self.root = root
        self.judge_model = judge_model
        self.dataset = dataset
        self.items = items
        self.configs = configs
        self.seed = seed
        self.plant_levels = plant_levels

    @property
    def name(self) -> str:
        return self.root.name

    @classmethod
    def open(
        cls,
        root: Path,
        dataset: Path,
        configs: Sequence[EvalConfig],
        *,
        seed: int = 0,
        limit: int | None = None,
        plant_levels: tuple[str, ...] = PLANT_LEVELS,
        judge_model: str | None = None,
    ) -> EvalRun:
        """A new run in `root`, or the run already there (same dataset, seed, planted levels
        and configs)."""
        unknown = sorted(set(plant_levels) - set(PLANT_LEVELS))
        if unknown or not plant_levels:
            raise EvalRunError(
                f"planted levels are some of {', '.join(PLANT_LEVELS)}, not {unknown or 'none'}"
            )
        items = load_dataset(dataset)[:limit]
        run = cls(
            Path(root), Path(dataset), items, list(configs), seed, tuple(plant_levels), judge_model
        )
        run._claim()
        return run

    def _describe(self) -> dict[str, Any]:
        return {
            "format": RUN_FORMAT,
            "run": self.name,
            "dataset": str(self.dataset.resolve()),
            "seed": self.seed,
            "plant_levels": list(self.plant_levels),
            "judge_model": self.judge_model,
            "configs": {
                c.name: {
                    "settings": str(c.file) if c.file else None,
                    "prompts": str(c.prompts_dir) if c.prompts_dir else None,
                    "digest": c.digest,
                }
                for c in self.configs
            },
            "items": [i.id for i in self.items],
        }

    def _claim(self) -> None:
        """Write run.json, or check that the run there is this one."""
        path = self.root / "run.json"
        wanted = self._describe()
        if path.is_file():
            try:
                had = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise EvalRunError(f"{path} cannot be read ({exc}); use another --out.") from None
            for key in ("dataset", "seed", "plant_levels", "judge_model"):
                if had.get(key) != wanted[key]:
                    raise EvalRunError(
                        f"{self.root} is a run with {key} {had.get(key)!r}, not "
                        f"{wanted[key]!r}; use another --out to start a new run."
                    )
            for name, config in wanted["configs"].items():
                before = had.get("configs", {}).get(name)
                if before is not None and before.get("digest") != config["digest"]:
                    raise EvalRunError(
                        f"configuration {name} changed since {self.root} was started (its "
                        "settings file or prompts differ); name it differently or use "
                        "another --out."
                    )
            wanted["configs"] = {**had.get("configs", {}), **wanted["configs"]}
            wanted["items"] = list(dict.fromkeys([*had.get("items", []), *wanted["items"]]))
            wanted["created"] = had.get("created")
        else:
            wanted["created"] = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            write_text_atomic(path, json.dumps(wanted, indent=2, ensure_ascii=False) + "\n")
        except OSError as exc:
            raise EvalRunError(f"cannot write the run into {self.root}: {exc.strerror}.") from None

    @property
    def options(self) -> CellOptions:
        return CellOptions(self.plant_levels, self.judge_model)

    def cell_dir(self, config: str, item: str) -> Path:
        return self.root / "cells" / config / item

    def run(self, jobs: int = 1, on_cell: Callable[[Cell], None] | None = None) -> list[Cell]:
        """Produce and score every cell not finished yet (`jobs` at a time), then write
        results.jsonl; the cells, finished before or now."""
        todo = [(c, i) for i in self.items for c in self.configs]
        cells: dict[tuple[str, str], Cell] = {}
        pending = []
        for config, item in todo:
            done = read_cell(self.cell_dir(config.name, item.id))
            if done is not None and done.status == "done":
                cells[(config.name, item.id)] = done
                if on_cell is not None:
                    on_cell(done)
            else:
                pending.append((config, item))
        if jobs <= 1:
            for config, item in pending:
                cell = run_cell(self.root, self.name, config, item, self.seed, self.options)
                cells[(config.name, item.id)] = cell
                self.write_results(cells)
                if on_cell is not None:
                    on_cell(cell)
        elif pending:
            with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
                futures = [
                    pool.submit(run_cell, self.root, self.name, c, i, self.seed, self.options)
                    for c, i in pending
                ]
                for future in as_completed(futures):
                    cell = future.result()
                    cells[(cell.config, cell.item)] = cell
                    self.write_results(cells)
                    if on_cell is not None:
                        on_cell(cell)
        self.write_results(cells)
        return [cells[(c.name, i.id)] for c, i in todo]

    def write_results(self, cells: dict[tuple[str, str], Cell]) -> Path:
        """results.jsonl from the finished cells' rows, in item then configuration order."""
        lines: list[str] = []
        for item in self.items:
            for config in self.configs:
                cell = cells.get((config.name, item.id))
                if cell is None or cell.status != "done":
                    continue
                rows_file = self.cell_dir(config.name, item.id) / "rows.jsonl"
                lines += rows_file.read_text(encoding="utf-8").splitlines()
        path = self.root / "results.jsonl"
        write_text_atomic(path, "".join(line + "\n" for line in lines))
        return path


def read_cell(folder: Path) -> Cell | None:
    path = folder / "cell.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Cell(**{**data, "reused": True})
    except (ValueError, TypeError):  # unreadable (edited by hand, damaged): made again
        return None


def run_cell(
    root: Path,
    run_name: str,
    config: EvalConfig,
    item: Item,
    seed: int,
    options: CellOptions | None = None,
) -> Cell:
    """Produce (or resume) and score one cell; a failure is recorded, never raised."""
    folder = root / "cells" / config.name / item.id
    started = time.perf_counter()
    try:
        project = Project.open(folder)
        settings = config.install(folder)
        clock = StageClock()
        if not is_delivered(project, EPISODE):
            state = episode_state(project, EPISODE)
            if state.values:  # an interrupted cell: resume it
                request = state.values["request"]
                run_episode(project, request, None, on_update=clock.on_update)
            else:
                request, first = first_input(item, seed, settings.model_dump())
                run_episode(project, request, first, on_update=clock.on_update)
        wall_s = time.perf_counter() - started
        options = options or CellOptions()
        scores = score_item(
            folder, EPISODE, item, wall_s=wall_s, seed=seed, plant_levels=options.plant_levels
        )
        judge_usd = 0.0
        if options.judge_model is not None:
            judged, judge_usd = _judged(folder, settings, seed, options.judge_model)
            scores.append(judged)
        report = json.loads((folder / "episodes" / EPISODE / "run.json").read_text("utf-8"))
        lines = rows(
            scores,
            run=run_name,
            item=item.id,
            config=config.name,
            costs={**agent_costs(report), "judge": judge_usd},
            seconds=agent_seconds(clock.finished_at),
        )
        write_text_atomic(
            folder / "rows.jsonl",
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines),
        )
        cell = Cell(
            item=item.id,
            config=config.name,
            status="done",
            error=None,
            keyframes=_keyframes(folder),
            wall_s=round(wall_s, 3),
            cost_usd=float(report.get("spent_usd") or 0.0) + judge_usd,
        )
    except Exception as exc:  # a cell that fails is recorded; the run goes on
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "error.log").write_text(traceback.format_exc(), encoding="utf-8")
        message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        cell = Cell(
            item=item.id,
            config=config.name,
            status="failed",
            error=f"{type(exc).__name__}: {message}",
            keyframes=[],
            wall_s=round(time.perf_counter() - started, 3),
            cost_usd=0.0,
        )
    data = asdict(cell)
    data.pop("reused")
    write_text_atomic(folder / "cell.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return cell


def first_input(
    item: Item, seed: int, settings: dict[str, Any]
) -> tuple[EpisodeRequest, dict[str, Any]]:
    """The episode request (and first graph input) that produces `item`."""
    if item.kind == "story":
        try:
            story = load_story(item.source)
        except StoryError as exc:
            raise EvalRunError(str(exc)) from None
        return story_input(
            story,
            EPISODE,
            length_s=item.length_s,
            seed=seed,
            settings=settings,
            story_file=str(item.source),
        )
    language = item.language
    script: Script | None = None
    if item.kind == "fountain":
        script = load_fountain(item.source, language="en" if language == "auto" else language)
        lines = [b.text for s in script.scenes for b in s.beats if b.voices()]
        try:
            language, _ = resolve_language(language, lines)
        except LanguageError as exc:
            raise EvalRunError(f"{item.source}: {exc}") from None
        script = script.model_copy(update={"language": language})
    request = EpisodeRequest(
        episode=EPISODE,
        idea=item.idea,
        script_file=str(item.source) if item.kind == "fountain" else None,
        length_s=item.length_s,
        language=language,
        seed=seed,
        settings=settings,
    )
    first: dict[str, Any] = {"request": request}
    if script is not None:
        first["script"] = script
    return request, first


def _keyframes(folder: Path) -> list[str]:
    """The episode's keyframes in shot order, relative to the cell's folder."""
    board = json.loads((folder / "episodes" / EPISODE / "storyboard.json").read_text("utf-8"))
    frames = board.get("keyframes") or {}
    return [frames[s["id"]]["path"] for s in board.get("shots", []) if s["id"] in frames]


def _judged(folder: Path, settings: Settings, seed: int, judge_model: str) -> tuple[Score, float]:
    """The judge's prompt alignment of the cell's keyframes (the mean grade, each shot's in
    the comment and in judge.json) and what it cost."""
    judged = settings.model_copy(update={"judge_model": judge_model})
    context = EpisodeContext(
        project=str(folder), episode=EPISODE, seed=seed, settings=judged.model_dump()
    )
    bundle = Bundle.load(folder / "episodes" / EPISODE / "storyboard.json", folder)
    with open_services(context) as live:
        before = live.ledger.spent(("episode", EPISODE))
        grades = judge_alignment(live.providers.calls, bundle)
        cost = live.ledger.spent(("episode", EPISODE)) - before
    write_text_atomic(
        folder / "judge.json",
        json.dumps({k: {"score": g, "reason": r} for k, (g, r) in grades.items()}, indent=2) + "\n",
    )
    given = [g for g, _ in grades.values() if g is not None]
    comment = "; ".join(f"{k}={g if g is not None else '-'}" for k, (g, _) in grades.items())
    mean = sum(given) / len(given) if given else None
    return Score("judge", "prompt_alignment", mean, comment), cost
