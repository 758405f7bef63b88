"""The comparison report of evaluation runs: report.html and summary.md from run directories."""

from __future__ import annotations

import base64
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from inkreel.evalruns.report import ReportError, write_report

Key = tuple[str, str]
ITEMS = ("lamp", "harbor", "kite")
HOSTILE = "<script>alert('comment')</script>"

# The baseline's scores per item, in ITEMS order.
BASE: dict[Key, list[float | None]] = {
    ("screenwriter", "drafts"): [3, 2, 3],
    ("screenwriter", "acts_present"): [1.0, 1.0, 1.0],
    ("screenwriter", "idea_coverage"): [0.6, 0.7, 0.8],
    ("character_designer", "cids_cross"): [0.82, 0.79, 0.85],
    ("director", "occm"): [1.0, 0.75, None],
    ("line", "cost_usd"): [0.4, 0.5, 0.45],
    ("line", "calls"): [12, 15, 11],
    ("foley", "beats"): [4, 5, 6],  # not in the metric registry: shown, never judged
    ("judge", "prompt_alignment"): [3.2, 3.0, 3.5],
}


def planted(scores: dict[Key, list[float | None]]) -> dict[Key, list[float | None]]:
    """The baseline with identity lost on every item, fewer drafts, and a small coverage dip."""
    changed = {key: list(values) for key, values in scores.items()}
    changed[("character_designer", "cids_cross")] = [0.52, 0.49, 0.55]
    changed[("screenwriter", "drafts")] = [1, 1, 1]
    # 3 % lower: past the absolute floor (0.01) but inside 5 %, so no regression.
    changed[("screenwriter", "idea_coverage")] = [0.582, 0.679, 0.776]
    changed[("judge", "prompt_alignment")] = [2.0, 2.1, 2.2]
    return changed


def write_run(
    root: Path,
    name: str,
    configs: dict[str, dict[Key, list[float | None]]],
    failed: dict[tuple[str, str], str] | None = None,
) -> Path:
    """A run directory as the runner writes it: run.json, results.jsonl and cells."""
    failed = failed or {}
    rundir = root / name
    rundir.mkdir(parents=True)
    meta = {
        "run": name,
        "dataset": "evals/stories.jsonl",
        "seed": 0,
        "configs": {c: {"settings": f"configs/{c}.toml", "prompts": None} for c in configs},
        "items": list(ITEMS),
        "created": "2025-01-02T03:04:05Z",
    }
    (rundir / "run.json").write_text(json.dumps(meta), encoding="utf-8")
    rows = []
    for shade, (config, scores) in enumerate(configs.items()):
        for index, item in enumerate(ITEMS):
            error = failed.get((config, item))
            cell_dir = rundir / "cells" / config / item
            keyframes = []
            if error is None:
                for shot in range(2):
                    relative = f"episodes/ep01/keyframes/shot{shot + 1:02d}.png"
                    (cell_dir / relative).parent.mkdir(parents=True, exist_ok=True)
                    colour = (40 * shade, 80 + 40 * shot, 120 + 30 * index)
                    Image.new("RGB", (320, 180), colour).save(cell_dir / relative)
                    keyframes.append(relative)
                for (agent, metric), values in scores.items():
                    comment = HOSTILE if (agent, metric) == ("director", "occm") else "ok"
                    rows.append(
                        {
                            "run": name,
                            "item": item,
                            "config": config,
                            "agent": agent,
                            "metric": metric,
                            "score": values[index],
                            "comment": comment,
                            "cost_usd": 0.0,
                            "seconds": 0.1,
                        }
                    )
            cell_dir.mkdir(parents=True, exist_ok=True)
            cell = {
                "item": item,
                "config": config,
                "status": "failed" if error else "done",
                "error": error,
                "keyframes": keyframes,
                "wall_s": 12.5,
                "cost_usd": scores[("line", "cost_usd")][index] or 0.0,
            }
            (cell_dir / "cell.json").write_text(json.dumps(cell), encoding="utf-8")
    lines = [json.dumps(r) for r in rows]
    (rundir / "results.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return rundir


class Page(HTMLParser):
    """The report's tags, its text per <section id>, and its table rows per section."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: dict[str, str] = {}
        self.rows: dict[str, list[list[str]]] = {}
        self.row_classes: list[tuple[str, list[str]]] = []  # (classes, cell texts)
        self.section = ""
        self.stack: list[str] = []
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = {k: v or "" for k, v in attrs}
        self.tags.append((tag, named))
        if tag == "section":
            self.section = named.get("id", "")
        elif tag == "tr":
            self.rows.setdefault(self.section, []).append([])
            self.row_classes.append((named.get("class", ""), []))
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self.cell is not None:
            text = " ".join("".join(self.cell).split())
            self.rows[self.section][-1].append(text)
            self.row_classes[-1][1].append(text)
            self.cell = None
        elif tag == "section":
            self.section = ""

    def handle_data(self, data: str) -> None:
        self.text[self.section] = self.text.get(self.section, "") + data
        if self.cell is not None:
            self.cell.append(data)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def rows_naming(page: Page, section: str, metric: str) -> list[list[str]]:
    return [r for r in page.rows.get(section, []) if any(metric in cell for cell in r)]


@pytest.fixture
def nightly(tmp_path: Path) -> Path:
    return write_run(tmp_path / "runs", "nightly", {"base": BASE, "tuned": planted(BASE)})


@pytest.fixture
def trial(tmp_path: Path) -> Path:
    cheap = {key: list(values) for key, values in BASE.items()}
    cheap[("line", "cost_usd")] = [0.1, 0.1, 0.12]
    return write_run(
        tmp_path / "runs",
        "trial",
        {"base": BASE, "cheap": cheap},
        failed={("cheap", "kite"): "render timed out after 600 s"},
    )


def test_one_run_report_lists_the_planted_regression_and_improvement(
    nightly: Path, tmp_path: Path
) -> None:
    html, summary = write_report([nightly], tmp_path / "out")

    assert (html, summary) == (tmp_path / "out/report.html", tmp_path / "out/summary.md")
    page = parse(html)
    body = html.read_text(encoding="utf-8")
    for item in ITEMS:
        assert item in page.text["matrix"]
    headers = next(r for r in page.rows["matrix"] if r and r[0] == "item / metric")
    assert [h.removesuffix(" (baseline)") for h in headers[1:]] == ["base", "tuned"]

    regressions = page.rows["regressions"]
    (drop,) = rows_naming(page, "regressions", "cids_cross")
    assert drop[:2] == ["tuned", "character_designer"]
    assert drop[-2:] == ["3/3", "0/3"]  # worse on every item, better on none
    assert len(regressions) == 2  # the header and the one planted regression
    (fewer,) = rows_naming(page, "improvements", "drafts")
    assert fewer[:2] == ["tuned", "screenwriter"]
    # A 3 % dip is inside the tolerance.
    assert not rows_naming(page, "regressions", "idea_coverage")
    assert not rows_naming(page, "improvements", "idea_coverage")
    by_agent = {r[0]: r[1:] for r in page.rows["by-agent"][1:]}
    assert "▼ cids_cross" in by_agent["character_designer"][1]
    assert "▲ drafts" in by_agent["screenwriter"][1]

    # The judge's score fell too, but only its own section says so.
    for section in ("regressions", "improvements", "by-agent", "means", "plots"):
        assert "prompt_alignment" not in page.text[section], section
    (judged,) = rows_naming(page, "judge", "prompt_alignment")[-1:]
    assert judged[0] == "tuned"
    assert "LLM-as-judge" in page.text["judge"]

    # A metric outside the registry is shown, never judged.
    assert rows_naming(page, "means", "beats")
    assert "beats" not in page.text["regressions"] + page.text["improvements"]

    # Means with their spread and count.
    (cids_mean,) = rows_naming(page, "means", "cids_cross")
    assert cids_mean[2].startswith("0.82 ± 0.03 (n=3)")
    (occm_mean,) = rows_naming(page, "means", "occm")
    assert occm_mean[2].startswith("0.875 ± 0.177 (n=2)")  # a null score is not a zero

    text = summary.read_text(encoding="utf-8")
    head, _, rest = text.partition("## Improvements against base (1)")
    assert "## Regressions against base (1)" in head
    assert "**tuned** `character_designer/cids_cross`: 0.82 → 0.52" in head
    assert "worse on 3/3 items" in head
    assert "`screenwriter/drafts`" in rest.split("## Means")[0]
    assert "prompt_alignment" not in text.split("## LLM-as-judge")[0]
    assert "`judge/prompt_alignment`" in text.split("## LLM-as-judge")[1]
    assert "5%" in text  # the tolerance is stated

    assert "<script>alert" not in body  # untrusted comments are escaped
    assert [t for t, _ in page.tags].count("script") == 1
    assert HOSTILE in page.text["matrix"]


def test_the_report_is_self_contained_with_keyframe_strips_and_plots(
    nightly: Path, trial: Path, tmp_path: Path
) -> None:
    html, _ = write_report([nightly, trial], tmp_path / "out")

    body = html.read_text(encoding="utf-8")
    assert "http://" not in body and "https://" not in body
    page = parse(html)
    for tag, attrs in page.tags:
        assert tag not in ("link", "iframe", "object", "embed"), tag
        if tag in ("img", "script", "source"):
            assert attrs.get("src", "data:").startswith("data:"), attrs
    images = [a["src"] for t, a in page.tags if t == "img"]
    thumbs = [s for s in images if s.startswith("data:image/jpeg;base64,")]
    # Two keyframes in each of 4 columns x 3 items, less the failed cell.
    assert len(thumbs) == 2 * (4 * 3 - 1)
    thumb = Image.open(io.BytesIO(base64.b64decode(thumbs[0].split(",", 1)[1])))
    assert thumb.size == (171, 96)
    plots = [s for s in images if s.startswith("data:image/png;base64,")]
    agents_with_plain_scores = 5  # screenwriter, character_designer, director, line, foley
    assert len(plots) == agents_with_plain_scores + 1 + 1  # + the judge, + cost vs quality
    for uri in plots:
        assert Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).format == "PNG"


def test_several_runs_label_columns_run_slash_config_and_flag_failed_cells(
    nightly: Path, trial: Path, tmp_path: Path
) -> None:
    html, summary = write_report([nightly, trial], tmp_path / "out", baseline="trial/base")

    page = parse(html)
    headers = next(r for r in page.rows["matrix"] if r and r[0] == "item / metric")
    labels = ["nightly/base", "nightly/tuned", "trial/base", "trial/cheap"]
    assert headers[1:] == ["nightly/base", "nightly/tuned", "trial/base (baseline)", "trial/cheap"]
    for label in labels:
        assert label in page.text["columns"]
    runs = {r[0]: r for r in page.rows["columns"] if r and r[0] in ("nightly", "trial")}
    assert runs["trial"][1:] == [
        str(trial),
        "evals/stories.jsonl",
        "0",
        "2025-01-02T03:04:05Z",
        "3",
    ]
    (drop,) = rows_naming(page, "regressions", "cids_cross")
    assert drop[0] == "nightly/tuned"
    assert "trial/cheap failed or lacks 1 item(s) the baseline produced: kite" in " ".join(
        page.text["regressions"].split()
    )
    assert "render timed out after 600 s" in page.text["matrix"]
    # cheap costs less on the items it made: an improvement on the line's cost.
    (cost,) = rows_naming(page, "improvements", "cost_usd")
    assert cost[0] == "trial/cheap"
    assert "kite" in summary.read_text(encoding="utf-8").split("## Improvements")[0]


def test_different_only_marks_the_rows_scored_the_same_everywhere(
    nightly: Path, tmp_path: Path
) -> None:
    html, _ = write_report([nightly], tmp_path / "out")

    page = parse(html)
    body = html.read_text(encoding="utf-8")
    checkbox = [a for t, a in page.tags if t == "input" and a.get("id") == "different-only"]
    assert checkbox and checkbox[0]["type"] == "checkbox"
    assert "body.different-only .same { display: none; }" in body
    assert 'getElementById("different-only")' in body

    def classes(metric: str) -> set[str]:
        found = [c for c, cells in page.row_classes if cells and metric in cells[0]]
        assert found, metric
        return set(found)

    assert classes("acts_present") == {"same"}  # 1.0 in both columns on every item
    # Only whole rows and items hide; a cell never does, or the columns would shift.
    hiding = [t for t, a in page.tags if "same" in a.get("class", "").split()]
    assert set(hiding) == {"tr"}  # no item is the same everywhere here
    assert classes("cids_cross") == {""}
    # Every item differs somewhere (cids_cross), so no item block is hidden.
    item_blocks = [a.get("class", "").split() for t, a in page.tags if t == "tbody"]
    assert [c for c in item_blocks if "item" in c] == [["item"]] * len(ITEMS)

    twins = write_run(tmp_path / "twins", "twins", {"a": BASE, "b": BASE})
    page = parse(write_report([twins], tmp_path / "twins-out")[0])
    item_blocks = [a.get("class", "").split() for t, a in page.tags if t == "tbody"]
    assert [c for c in item_blocks if "item" in c] == [["item", "same"]] * len(ITEMS)


def test_baseline_by_config_run_or_label(nightly: Path, trial: Path, tmp_path: Path) -> None:
    html, _ = write_report([nightly, trial], tmp_path / "a", baseline="cheap")
    assert "trial/cheap (baseline)" in parse(html).text["matrix"]
    html, _ = write_report([nightly], tmp_path / "b", baseline="tuned")
    page = parse(html)
    # Against tuned, base is the one that improved identity.
    (rise,) = rows_naming(page, "improvements", "cids_cross")
    assert rise[0] == "base"


@pytest.mark.parametrize(
    ("baseline", "message"),
    [
        ("nope", "baseline 'nope' names no column; name one of the columns: nightly/base, "),
        ("base", "baseline 'base' is ambiguous; name one of the columns: nightly/base, "),
        ("nightly", "baseline 'nightly' is ambiguous"),
    ],
)
def test_a_baseline_that_names_no_single_column_is_refused(
    nightly: Path, trial: Path, tmp_path: Path, baseline: str, message: str
) -> None:
    with pytest.raises(ReportError) as caught:
        write_report([nightly, trial], tmp_path / "out", baseline=baseline)
    assert str(caught.value).startswith(message)
    assert "trial/cheap" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "out").exists()


def test_bad_inputs_are_one_clear_line(nightly: Path, tmp_path: Path) -> None:
    def refused(rundirs: list[Path]) -> str:
        with pytest.raises(ReportError) as caught:
            write_report(rundirs, tmp_path / "out")
        assert "\n" not in str(caught.value)
        return str(caught.value)

    assert "no run directory given" in refused([])
    assert refused([tmp_path / "absent"]) == f"{tmp_path / 'absent'} is not a folder; " + (
        "give a run directory (with run.json)."
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    assert refused([empty]) == f"{empty} is not a run directory: it has no run.json."

    results = nightly / "results.jsonl"
    lines = results.read_text(encoding="utf-8").splitlines()
    results.write_text("\n".join([*lines[:2], '{"item": "lamp", ', *lines[2:]]), encoding="utf-8")
    assert refused([nightly]).startswith(f"{results}:3: not JSON (")
    results.write_text(json.dumps({"item": "lamp", "config": "base"}), encoding="utf-8")
    assert refused([nightly]) == f"{results}:1: 'agent' is missing or not a string."
    results.unlink()
    assert "has no results.jsonl" in refused([nightly])

    (nightly / "run.json").write_text("{not json", encoding="utf-8")
    assert refused([nightly]).startswith(f"{nightly / 'run.json'}: not UTF-8 JSON")
    assert not (tmp_path / "out").exists()


def test_two_runs_with_one_name_are_refused(nightly: Path, tmp_path: Path) -> None:
    again = write_run(tmp_path / "elsewhere", "nightly", {"base": BASE})
    with pytest.raises(ReportError, match="both named 'nightly'"):
        write_report([nightly, again], tmp_path / "out")
