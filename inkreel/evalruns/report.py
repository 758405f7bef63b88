"""The comparison report of evaluation runs: a self-contained `report.html` and a `summary.md`.

A column is one configuration of one run (`config`, or `run/config` when several runs are
compared); one column is the baseline (the first unless named).

A regression is judged item by item, then on the mean. An item got worse on a metric when its
score moved the wrong way (by the metric's direction) by more than the tolerance of its
baseline score: ``max(5 % of |baseline score|, 0.01)``. A column regressed on a metric when,
over the items both columns scored, its mean moved the wrong way by more than the tolerance of
the baseline's mean, and at least one item got worse; an improvement is the mirror image.
Metrics whose direction is "info", and metrics not in the registry, are shown, never judged.

LLM-as-judge scores (`judged` metrics) are reported in their own section with their own
changes, never in the weight-free regressions, means or quality summary.

The cost plot's quality of an item is the mean of its weight-free scores, each normalised to
0-1 over every score of that metric in the report (min-max, flipped where lower is better),
leaving out what the run spent rather than made (the line's time, money and retries) and
metrics that are equal everywhere.
"""

from __future__ import annotations

import base64
import io
import json
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, PackageLoader, StrictUndefined
from PIL import Image, UnidentifiedImageError

from inkreel.evalruns import plots
from inkreel.evalruns.jsonl import read_jsonl
from inkreel.evalruns.metrics import BY_KEY, Metric

REL_TOL = 0.05
ABS_FLOOR = 0.01
TOLERANCE_RULE = (
    "An item counts as worse (better) when its score moved the wrong (right) way by more than "
    f"max({REL_TOL:.0%} of |baseline score|, {ABS_FLOOR}). A column regressed (improved) on a "
    "metric when its mean over the items both columns scored moved the wrong (right) way by "
    f"more than max({REL_TOL:.0%} of |baseline mean|, {ABS_FLOOR}) and at least one item got "
    "worse (better)."
)
QUALITY_RULE = (
    "Quality of an item: the mean of its weight-free scores, each min-max normalised to 0-1 "
    "over this report (flipped where lower is better); what the run spent (the line's time, "
    "money and retries) and LLM-as-judge scores left out."
)
THUMB_HEIGHT = 96
MAX_THUMBS = 12  # per cell; the page stays a few megabytes for a few dozen items
SPENDING: frozenset[tuple[str, str]] = frozenset(
    {("line", "wall_s"), ("line", "cost_usd"), ("line", "retries")}
)

Key = tuple[str, str]  # (agent, metric)
Verdict = Literal["regression", "improvement", "same"]


class ReportError(ValueError):
    """Run directories that cannot be compared: one line saying which and what is wrong."""


@dataclass(frozen=True)
class Score:
    value: float | None
    comment: str


@dataclass(frozen=True)
class Cell:
    """What a column produced for an item: its status and keyframes, from its cell.json."""

    status: str  # "done", "failed", "missing" (no cell.json) or "unreadable"
    error: str | None = None
    keyframes: tuple[str, ...] = ()
    folder: Path | None = None
    cost_usd: float | None = None
    wall_s: float | None = None


@dataclass(frozen=True)
class Column:
    run: str
    config: str
    label: str
    rundir: Path
    settings: str | None
    prompts: str | None
    scores: dict[str, dict[Key, Score]]  # item -> (agent, metric) -> score
    cells: dict[str, Cell] = field(default_factory=dict)

    def cell(self, item: str) -> Cell:
        """The cell of `item` ("missing" when this column's run did not list it)."""
        return self.cells.get(item) or Cell("missing")

    def value(self, item: str, key: Key) -> float | None:
        score = self.scores.get(item, {}).get(key)
        return None if score is None else score.value

    def values(self, key: Key, items: Iterable[str]) -> list[float]:
        return [v for item in items if (v := self.value(item, key)) is not None]


@dataclass(frozen=True)
class Run:
    name: str
    rundir: Path
    meta: dict[str, Any]
    columns: tuple[Column, ...]
    items: tuple[str, ...]


@dataclass(frozen=True)
class Spread:
    mean: float
    sd: float
    n: int


@dataclass(frozen=True)
class Change:
    """A column's metric against the baseline's, over the items both scored."""

    column: str
    metric: Metric
    base_mean: float
    mean: float
    paired: int
    worse: tuple[str, ...]
    better: tuple[str, ...]
    verdict: Verdict

    @property
    def delta(self) -> float:
        return self.mean - self.base_mean


def write_report(
    rundirs: Sequence[Path], out: Path, baseline: str | None = None
) -> tuple[Path, Path]:
    """Compare the runs in `rundirs`; write `out/report.html` and `out/summary.md`."""
    if not rundirs:
        raise ReportError("no run directory given; name at least one (a folder with run.json).")
    runs = [load_run(Path(d)) for d in rundirs]
    names = [r.name for r in runs]
    for name in names:
        if names.count(name) > 1:
            raise ReportError(f"two run directories are both named {name!r} (run.json 'run').")
    columns = _label(runs)
    base = pick_baseline(runs, columns, baseline)
    items = list(dict.fromkeys(i for r in runs for i in r.items))
    report = _Report(runs, columns, base, items)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    html_path, md_path = out / "report.html", out / "summary.md"
    html_path.write_text(report.html(), encoding="utf-8")
    md_path.write_text(report.markdown(), encoding="utf-8")
    return html_path, md_path


# Reading run directories.


def load_run(rundir: Path) -> Run:
    """The run in `rundir`: its run.json, its scores per configuration and its cells."""
    if not rundir.is_dir():
        raise ReportError(f"{rundir} is not a folder; give a run directory (with run.json).")
    meta = _run_json(rundir / "run.json")
    name = meta["run"]
    declared = meta["configs"]
    scores: dict[str, dict[str, dict[Key, Score]]] = {c: {} for c in declared}
    items = list(meta["items"])
    for where, row in _results(rundir / "results.jsonl"):
        score = row.get("score")
        if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
            raise ReportError(f"{where}: 'score' is {score!r}; write a number or null.")
        value = None if score is None or not math.isfinite(score) else float(score)
        comment = row.get("comment")
        item_scores = scores.setdefault(row["config"], {}).setdefault(row["item"], {})
        # A later line replaces an earlier one: a resumed run scores an item again.
        item_scores[(row["agent"], row["metric"])] = Score(value, str(comment or ""))
        if row["item"] not in items:
            items.append(row["item"])
    columns = []
    for config, by_item in scores.items():
        spec = declared.get(config) if isinstance(declared.get(config), dict) else {}
        cells = {item: _cell(rundir, config, item) for item in items}
        columns.append(
            Column(
                run=name,
                config=config,
                label=config,
                rundir=rundir,
                settings=_text(spec.get("settings")),
                prompts=_text(spec.get("prompts")),
                scores=by_item,
                cells=cells,
            )
        )
    return Run(name, rundir, meta, tuple(columns), tuple(items))


def _run_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ReportError(f"{path.parent} is not a run directory: it has no run.json.")
    try:
        meta = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"{path}: not UTF-8 JSON ({exc}).") from None
    if not isinstance(meta, dict):
        raise ReportError(f"{path}: run.json is a JSON object with 'run', 'configs' and 'items'.")
    if not isinstance(meta.get("run"), str) or not meta["run"].strip():
        raise ReportError(f"{path}: 'run' (the run's name) is missing or not a string.")
    if not isinstance(meta.get("configs"), dict):
        raise ReportError(f"{path}: 'configs' is missing or not an object of name: settings.")
    items = meta.get("items", [])
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise ReportError(f"{path}: 'items' is not a list of item ids.")
    return meta


def _results(path: Path) -> Iterable[tuple[str, dict[str, Any]]]:
    if not path.is_file():
        raise ReportError(f"{path.parent} has no results.jsonl; has the run scored anything?")
    for where, row in read_jsonl(path, ReportError):
        if not isinstance(row, dict):
            raise ReportError(f"{where}: a result is a JSON object.")
        for name in ("item", "config", "agent", "metric"):
            if not isinstance(row.get(name), str) or not row[name]:
                raise ReportError(f"{where}: {name!r} is missing or not a string.")
        yield where, row


def _cell(rundir: Path, config: str, item: str) -> Cell:
    if not (_plain_name(config) and _plain_name(item)):
        return Cell("missing", "the item id or configuration name is not a folder name")
    folder = rundir / "cells" / config / item
    path = folder / "cell.json"
    if not path.is_file():
        return Cell("missing", folder=folder)
    try:
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Cell("unreadable", f"{path.name}: {exc}", folder=folder)
    if not isinstance(raw, dict):
        return Cell("unreadable", "cell.json is not a JSON object", folder=folder)
    status = str(raw.get("status"))
    if status not in ("done", "failed"):
        return Cell("unreadable", f"cell.json: status {raw.get('status')!r}", folder=folder)
    keyframes = raw.get("keyframes") or []
    return Cell(
        status=status,
        error=_text(raw.get("error")),
        keyframes=tuple(str(k) for k in keyframes) if isinstance(keyframes, list) else (),
        folder=folder,
        cost_usd=_number(raw.get("cost_usd")),
        wall_s=_number(raw.get("wall_s")),
    )


def _plain_name(name: str) -> bool:
    return name not in ("", ".", "..") and "/" not in name and "\\" not in name


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _label(runs: Sequence[Run]) -> list[Column]:
    many = len(runs) > 1
    return [
        replace(c, label=f"{c.run}/{c.config}" if many else c.config)
        for r in runs
        for c in r.columns
    ]


def pick_baseline(runs: Sequence[Run], columns: Sequence[Column], name: str | None) -> int:
    """The baseline column's index: `name` as a label, a configuration or a one-config run."""
    if not columns:
        raise ReportError("the runs name no configuration; there is nothing to compare.")
    if name is None:
        return 0
    labels = [c.label for c in columns]
    if name in labels:
        return labels.index(name)
    by_config = [i for i, c in enumerate(columns) if c.config == name]
    by_run = [i for i, c in enumerate(columns) if c.run == name]
    if len(by_config) == 1:
        return by_config[0]
    if len(by_run) == 1:
        return by_run[0]
    why = "is ambiguous" if len(by_config) > 1 or len(by_run) > 1 else "names no column"
    raise ReportError(
        f"baseline {name!r} {why}; name one of the columns: {', '.join(labels)}"
        + (f" (runs: {', '.join(r.name for r in runs)})" if len(runs) > 1 else "")
        + "."
    )


# Statistics.


def describe(key: Key) -> Metric:
    """The registry's metric `key`, or an "info" metric for one the registry does not know."""
    return BY_KEY.get(key) or Metric(key[0], key[1], "info", "not in the metric registry")


def spread(values: Sequence[float]) -> Spread | None:
    """Mean, sample standard deviation and count, or None for no values."""
    if not values:
        return None
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return Spread(statistics.fmean(values), sd, len(values))


def tolerance(base: float) -> float:
    """How far a score may move from `base` and still count as unchanged."""
    return max(REL_TOL * abs(base), ABS_FLOOR)


def gain(metric: Metric, base: float, value: float) -> float:
    """How much better `value` is than `base` (negative: worse)."""
    return value - base if metric.better == "higher" else base - value


def item_verdict(metric: Metric, base: float, value: float) -> Verdict:
    """Whether one item's score got worse or better than the baseline's, past the tolerance."""
    if metric.better == "info":
        return "same"
    moved = gain(metric, base, value)
    if moved < -tolerance(base):
        return "regression"
    return "improvement" if moved > tolerance(base) else "same"


def compare(base: Column, column: Column, metric: Metric, items: Sequence[str]) -> Change | None:
    """`column` against `base` on `metric`, item by item; None when it cannot be judged."""
    if metric.better == "info":
        return None
    key = (metric.agent, metric.name)
    pairs = [
        (item, b, v)
        for item in items
        if (b := base.value(item, key)) is not None and (v := column.value(item, key)) is not None
    ]
    if not pairs:
        return None
    worse = tuple(i for i, b, v in pairs if item_verdict(metric, b, v) == "regression")
    better = tuple(i for i, b, v in pairs if item_verdict(metric, b, v) == "improvement")
    base_mean = statistics.fmean(b for _, b, _ in pairs)
    mean = statistics.fmean(v for _, _, v in pairs)
    moved = gain(metric, base_mean, mean)
    verdict: Verdict = "same"
    if moved < -tolerance(base_mean) and worse:
        verdict = "regression"
    elif moved > tolerance(base_mean) and better:
        verdict = "improvement"
    return Change(column.label, metric, base_mean, mean, len(pairs), worse, better, verdict)


def quality(
    columns: Sequence[Column], keys: Sequence[Key], items: Sequence[str]
) -> list[dict[str, float]]:
    """Each column's quality per item (see QUALITY_RULE): item -> 0-1."""
    normalised: list[dict[str, list[float]]] = [{} for _ in columns]
    for key in keys:
        metric = describe(key)
        if metric.judged or metric.better == "info" or key in SPENDING:
            continue
        values = [v for c in columns for v in c.values(key, items)]
        low, high = min(values, default=0.0), max(values, default=0.0)
        if high - low <= 0:
            continue
        for index, column in enumerate(columns):
            for item in items:
                value = column.value(item, key)
                if value is None:
                    continue
                share = (value - low) / (high - low)
                share = share if metric.better == "higher" else 1 - share
                normalised[index].setdefault(item, []).append(share)
    return [{i: statistics.fmean(s) for i, s in n.items()} for n in normalised]


# Presentation.


def fmt(value: float | None) -> str:
    """A score as the report shows it."""
    if value is None:
        return "—"
    if value == int(value) and abs(value) < 1e6:
        return str(int(value))
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 0.01 else f"{value:.3f}".rstrip("0").rstrip(".")


def signed(value: float) -> str:
    return ("+" if value > 0 else "−" if value < 0 else "±") + fmt(abs(value))


def relative(change: Change) -> str:
    """The change as a share of the baseline's mean ("" when that is zero)."""
    if change.base_mean == 0:
        return ""
    return f"{change.delta / abs(change.base_mean):+.0%}".replace("-", "−")


def spread_text(s: Spread | None) -> str:
    return "—" if s is None else f"{fmt(s.mean)} ± {fmt(s.sd)} (n={s.n})"


def _thumbnail(path: Path) -> str | None:
    try:
        with Image.open(path) as image:
            image.draft("RGB", (THUMB_HEIGHT * 4, THUMB_HEIGHT))
            frame = image.convert("RGBA")
    except (OSError, UnidentifiedImageError):
        return None
    frame.thumbnail((THUMB_HEIGHT * 4, THUMB_HEIGHT))
    flat = Image.new("RGB", frame.size, "white")
    flat.paste(frame, mask=frame.getchannel("A"))
    buffer = io.BytesIO()
    flat.save(buffer, format="JPEG", quality=75)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class _Report:
    """The comparison, computed once, rendered as HTML and as Markdown."""

    def __init__(
        self, runs: Sequence[Run], columns: Sequence[Column], base: int, items: Sequence[str]
    ) -> None:
        self.runs = runs
        self.columns = columns
        self.base = base
        self.items = items
        seen = {key for c in columns for by_key in c.scores.values() for key in by_key}
        known = [k for k in BY_KEY if k in seen]
        self.keys = known + sorted(seen - set(known))
        self.plain = [k for k in self.keys if not describe(k).judged]
        self.judged = [k for k in self.keys if describe(k).judged]
        baseline = columns[base]
        self.changes: dict[tuple[str, Key], Change] = {}
        for column in columns:
            if column is baseline:
                continue
            for key in self.keys:
                change = compare(baseline, column, describe(key), items)
                if change is not None:
                    self.changes[(column.label, key)] = change

    @property
    def baseline(self) -> Column:
        return self.columns[self.base]

    def verdicts(self, keys: Sequence[Key], verdict: Verdict) -> list[Change]:
        return [
            change
            for column in self.columns
            for key in keys
            if (change := self.changes.get((column.label, key))) and change.verdict == verdict
        ]

    def failures(self) -> list[tuple[Column, list[str], list[str]]]:
        """Per column: items it failed that the baseline produced, and the converse."""
        done = {i for i in self.items if self.baseline.cell(i).status == "done"}
        rows = []
        for column in self.columns:
            if column is self.baseline:
                continue
            ok = {i for i in self.items if column.cell(i).status == "done"}
            lost = [i for i in self.items if i in done and i not in ok]
            won = [i for i in self.items if i in ok and i not in done]
            if lost or won:
                rows.append((column, lost, won))
        return rows

    # The page.

    def html(self) -> str:
        env = Environment(
            loader=PackageLoader("inkreel.evalruns", "templates"),
            autoescape=True,  # item ids, comments and errors are untrusted text
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["fmt"] = fmt
        env.filters["signed"] = signed
        env.filters["relative"] = relative
        template = env.get_template("report.html.j2")
        regressions = self.verdicts(self.plain, "regression")
        failures = self.failures()
        return template.render(
            alarm=bool(regressions or any(lost for _, lost, _ in failures)),
            runs=[self._run_view(r) for r in self.runs],
            columns=[self._column_view(i, c) for i, c in enumerate(self.columns)],
            baseline=self.baseline.label,
            regressions=regressions,
            improvements=self.verdicts(self.plain, "improvement"),
            failures=failures,
            by_agent=self._by_agent(),
            means=self._means(self.plain),
            judge_means=self._means(self.judged),
            judge_regressions=self.verdicts(self.judged, "regression"),
            judge_improvements=self.verdicts(self.judged, "improvement"),
            plots=self._plots(self.plain),
            judge_plots=self._plots(self.judged),
            cost_plot=self._cost_plot(),
            matrix=self._matrix(),
            tolerance_rule=TOLERANCE_RULE,
            quality_rule=QUALITY_RULE,
        )

    def _run_view(self, run: Run) -> dict[str, Any]:
        meta = run.meta
        return {
            "name": run.name,
            "dir": str(run.rundir),
            "dataset": _text(meta.get("dataset")) or "—",
            "seed": _text(meta.get("seed")) or "—",
            "created": _text(meta.get("created")) or "—",
            "item_count": len(run.items),  # not "items": Jinja would find dict.items
        }

    def _column_view(self, index: int, column: Column) -> dict[str, Any]:
        statuses = [column.cell(i).status for i in self.items]
        return {
            "label": column.label,
            "colour": plots.colour(index),
            "baseline": index == self.base,
            "settings": column.settings or "defaults",
            "prompts": column.prompts or "packaged",
            "done": statuses.count("done"),
            "failed": len(statuses) - statuses.count("done"),
        }

    def _by_agent(self) -> list[dict[str, Any]]:
        agents = list(dict.fromkeys(k[0] for k in self.plain))
        rows = []
        for agent in agents:
            cells: list[dict[str, Any] | None] = []
            for column in self.columns:
                if column is self.baseline:
                    cells.append(None)
                    continue
                changes = [
                    c
                    for k in self.plain
                    if k[0] == agent and (c := self.changes.get((column.label, k)))
                ]
                cells.append(
                    {
                        "worse": [c.metric.name for c in changes if c.verdict == "regression"],
                        "better": [c.metric.name for c in changes if c.verdict == "improvement"],
                        "compared": len(changes),
                    }
                )
            changed = any(c and (c["worse"] or c["better"]) for c in cells)
            rows.append({"agent": agent, "cells": cells, "same": not changed})
        return rows

    def _means(self, keys: Sequence[Key]) -> list[dict[str, Any]]:
        rows = []
        for key in keys:
            metric = describe(key)
            stats = [spread(c.values(key, self.items)) for c in self.columns]
            cells = []
            for column, s in zip(self.columns, stats, strict=True):
                change = self.changes.get((column.label, key))
                cells.append(
                    {
                        "text": spread_text(s),
                        "verdict": _mark(change.verdict) if change else "",
                        "delta": signed(change.delta) if change else "",
                    }
                )
            rows.append(
                {
                    "metric": metric,
                    "cells": cells,
                    "same": len({(s.mean, s.sd, s.n) if s else None for s in stats}) <= 1,
                }
            )
        return rows

    def _plots(self, keys: Sequence[Key]) -> list[dict[str, str]]:
        labels = [c.label for c in self.columns]
        figures = []
        for agent in dict.fromkeys(k[0] for k in keys):
            panels = [
                plots.Panel(
                    title=key[1],
                    better=describe(key).better,
                    values=[c.values(key, self.items) for c in self.columns],
                )
                for key in keys
                if key[0] == agent
            ]
            figures.append({"agent": agent, "uri": plots.score_distributions(panels, labels)})
        return figures

    def _cost_plot(self) -> str | None:
        qualities = quality(self.columns, self.plain, self.items)
        series = []
        for column, by_item in zip(self.columns, qualities, strict=True):
            points = []
            for item, q in by_item.items():
                cost = column.cell(item).cost_usd
                if cost is None:
                    cost = column.value(item, ("line", "cost_usd"))
                if cost is not None:
                    points.append((cost, q))
            series.append((column.label, points))
        if not any(points for _, points in series):
            return None
        return plots.cost_quality(series)

    def _matrix(self) -> list[dict[str, Any]]:
        thumbs: dict[Path, str | None] = {}
        rows = []
        for item in self.items:
            cells = [self._cell_view(c, item, thumbs) for c in self.columns]
            groups: list[dict[str, Any]] = []
            for title, keys in (("weight-free", self.plain), ("LLM-as-judge", self.judged)):
                lines = [
                    self._score_line(item, key)
                    for key in keys
                    if any(key in c.scores.get(item, {}) for c in self.columns)
                ]
                if lines:
                    groups.append({"title": title, "lines": lines})
            statuses = {(c["status"], c["error"]) for c in cells}
            same = len(statuses) == 1 and all(line["same"] for g in groups for line in g["lines"])
            rows.append({"id": item, "cells": cells, "groups": groups, "same": same})
        return rows

    def _cell_view(self, column: Column, item: str, cache: dict[Path, str | None]) -> dict:
        cell = column.cell(item)
        shown, notes = [], []
        root = column.rundir.resolve()
        for name in cell.keyframes[:MAX_THUMBS]:
            path = ((cell.folder or root) / name).resolve()
            if not path.is_relative_to(root):
                notes.append(f"{name}: outside the run directory, not shown")
                continue
            if path not in cache:
                cache[path] = _thumbnail(path) if path.is_file() else None
            uri = cache[path]
            if uri is None:
                notes.append(f"{name}: missing or not an image")
            else:
                shown.append({"uri": uri, "name": name})
        return {
            "status": cell.status,
            "error": cell.error,
            "thumbs": shown,
            "more": max(0, len(cell.keyframes) - MAX_THUMBS),
            "notes": notes,
            "cost": fmt(cell.cost_usd) if cell.cost_usd is not None else None,
            "wall": fmt(cell.wall_s) if cell.wall_s is not None else None,
        }

    def _score_line(self, item: str, key: Key) -> dict[str, Any]:
        metric = describe(key)
        base = self.baseline.value(item, key)
        cells = []
        for column in self.columns:
            score = column.scores.get(item, {}).get(key)
            value = None if score is None else score.value
            verdict = ""
            if column is not self.baseline and base is not None and value is not None:
                verdict = _mark(item_verdict(metric, base, value))
            cells.append(
                {
                    "text": fmt(value) if score else "",
                    "comment": score.comment if score else "",
                    "verdict": verdict,
                }
            )
        values = {column.value(item, key) for column in self.columns}
        present = {key in column.scores.get(item, {}) for column in self.columns}
        return {"metric": metric, "cells": cells, "same": len(values) == 1 and present == {True}}

    # The summary.

    def markdown(self) -> str:
        base = self.baseline.label
        lines = [
            f"# Evaluation report: {', '.join(_md(c.label) for c in self.columns)}",
            "",
            f"Baseline: **{_md(base)}**. Runs: "
            + ", ".join(f"{_md(r.name)} ({len(r.items)} items)" for r in self.runs)
            + ".",
            "",
        ]
        regressions = self.verdicts(self.plain, "regression")
        failures = self.failures()
        lines.append(f"## Regressions against {_md(base)} ({len(regressions)})")
        lines.append("")
        lines += [f"- {_md_change(c)}" for c in regressions] or ["- none beyond the tolerance"]
        for column, lost, _ in failures:
            if lost:
                lines.append(
                    f"- **{_md(column.label)}** failed or lacks {len(lost)} item(s) the "
                    f"baseline produced: {', '.join(_md(i) for i in lost)}"
                )
        lines.append("")
        improvements = self.verdicts(self.plain, "improvement")
        lines.append(f"## Improvements against {_md(base)} ({len(improvements)})")
        lines.append("")
        lines += [f"- {_md_change(c)}" for c in improvements] or ["- none beyond the tolerance"]
        for column, _, won in failures:
            if won:
                lines.append(
                    f"- **{_md(column.label)}** produced {len(won)} item(s) the baseline did "
                    f"not: {', '.join(_md(i) for i in won)}"
                )
        lines += ["", TOLERANCE_RULE, ""]
        lines += self._md_means("Means (weight-free scores; mean ± sd, n items)", self.plain)
        if self.judged:
            lines += self._md_means(
                "LLM-as-judge scores (kept apart from the weight-free scores)", self.judged
            )
            judged = self.verdicts(self.judged, "regression") + self.verdicts(
                self.judged, "improvement"
            )
            lines += [f"- {c.verdict}: {_md_change(c)}" for c in judged] or [
                "- no judged change beyond the tolerance"
            ]
            lines.append("")
        return "\n".join(lines)

    def _md_means(self, title: str, keys: Sequence[Key]) -> list[str]:
        lines = [f"## {title}", ""]
        lines.append("| metric | " + " | ".join(_md(c.label) for c in self.columns) + " |")
        lines.append("|---|" + "---|" * len(self.columns))
        for key in keys:
            metric = describe(key)
            cells = []
            for column in self.columns:
                text = spread_text(spread(column.values(key, self.items)))
                change = self.changes.get((column.label, key))
                if change and change.verdict != "same":
                    text += " **▼**" if change.verdict == "regression" else " **▲**"
                cells.append(text)
            arrow = {"higher": "↑", "lower": "↓"}.get(metric.better, "(info)")
            lines.append(
                f"| {_md(metric.agent)}/{_md(metric.name)} {arrow} | " + " | ".join(cells) + " |"
            )
        lines.append("")
        return lines


def _mark(verdict: Verdict) -> str:
    """A verdict as a cell's CSS class: none for "same", a class the filter hides rows by."""
    return "" if verdict == "same" else verdict


def _md(text: str) -> str:
    """`text` safe inside a Markdown table cell or emphasis."""
    return "".join("\\" + ch if ch in "\\`*_[]|<>#" else ch for ch in text.replace("\n", " "))


def _code(text: str) -> str:
    """`text` as a Markdown code span (a backtick in it would end the span)."""
    return "`" + text.replace("`", "'").replace("\n", " ") + "`"


def _md_change(change: Change) -> str:
    metric = change.metric
    return (
        f"**{_md(change.column)}** {_code(f'{metric.agent}/{metric.name}')}: "
        f"{fmt(change.base_mean)} → {fmt(change.mean)} "
        f"({', '.join(filter(None, (signed(change.delta), relative(change))))})"
        f"; worse on {len(change.worse)}/{change.paired} items, "
        f"better on {len(change.better)}/{change.paired}"
    )
