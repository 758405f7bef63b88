"""`inkreel report`: the morning report of a series, on a project a night left in every state.

One project is made once for the module, on the local OpenAI-compatible fake (priced text
and judge models, offline pictures and voices): a batch of two episodes, ep01 delivered with
a shot the judge keeps flagging and two vendor errors survived, ep02 failing in the director
(a drill); ep03 stopped by its episode budget; ep04 waiting at the script gate; ep05 stopped
with Ctrl-C.
"""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from typer.testing import CliRunner

from inkreel import cli
from inkreel.agents import director, screenwriter
from inkreel.project import Project
from inkreel.providers.budget import Ledger
from inkreel.series.morning import SinceError, parse_since
from inkreel.series.morning_pages import usd

from .conftest import IDEA
from .fake_openai import FakeOpenAI, story_engine_answer
from .test_judge import facts, problem, verdict

runner = CliRunner()
FLAGGED = "s01-001"
ENV = {
    "LOCAL_LLM_KEY": "sk-test-llm",
    "LOCAL_VISION_KEY": "sk-test-vision",
    "INKREEL_RETRY_BASE_DELAY_S": "0",
}
PRICE = "price = { usd_per_1k_input_tokens = 0.001, usd_per_1k_output_tokens = 0.002 }\n"


def settings_file(base_url: str) -> str:
    """Small frames, one continuity attempt, and priced hosted text and judge models."""
    return (
        "width = 640\nheight = 360\nfps = 12\nmusic = false\ncontinuity_max_attempts = 1\n"
        '[[models]]\nid = "local-llm"\ncapability = "text"\nprovider = "openai"\n'
        f'model = "test-model"\nbase_url = "{base_url}"\napi_key_env = "LOCAL_LLM_KEY"\n'
        f'tier = 3\ntasks = ["write", "design", "storyboard"]\n{PRICE}'
        '[[models]]\nid = "local-vision"\ncapability = "text"\nprovider = "openai"\n'
        f'model = "vision-test"\nbase_url = "{base_url}"\napi_key_env = "LOCAL_VISION_KEY"\n'
        f'tasks = ["judge"]\n{PRICE}'
    )


def judge_keeps_flagging(schema: str, request_json: dict[str, Any]) -> dict[str, Any]:
    """The story engine's answers, and a judge that finds the same fault in FLAGGED always."""
    if schema != "JudgeVerdict":
        return story_engine_answer(schema, request_json)
    if facts(request_json, "shot")["id"] != FLAGGED:
        return verdict(request_json)
    names = [c["name"] for c in facts(request_json, "expected")]
    return verdict(request_json, problem("hair_colour", names[0] if names else "", 0.9))


@dataclass(frozen=True)
class Night:
    root: Path
    batch_output: str


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Night]:
    base = tmp_path_factory.mktemp("morning")
    root = base / "series"
    plan, write = director.plan_storyboard, screenwriter.write_script

    def crashing_plan(state: Any, runtime: Any) -> Any:
        if runtime.context.episode == "ep02":
            raise RuntimeError("the director's plan crashed (drill)")
        return plan(state, runtime)

    def ctrl_c(state: Any, runtime: Any) -> Any:
        if runtime.context.episode == "ep05":
            raise KeyboardInterrupt
        return write(state, runtime)

    batch_file = base / "night.txt"
    batch_file.write_text(f"{IDEA}\nA baker and a thief share one umbrella in the rain.\n")
    common = ["-o", str(root), "--length", "10", "--policy", "best"]
    fox = ["produce", "A fox teaches a crow to count.", *common, "--episode", "ep03"]
    boats = ["produce", "Two sisters race paper boats.", *common, "--episode", "ep04"]
    with FakeOpenAI(answer=judge_keeps_flagging) as server, pytest.MonkeyPatch.context() as mp:
        root.mkdir()
        (root / "inkreel.toml").write_text(settings_file(server.base_url))
        mp.setattr(director, "plan_storyboard", crashing_plan)
        mp.setattr(screenwriter, "write_script", ctrl_c)
        for _ in range(2):  # the screenwriter's first call meets two server errors
            server.fail("chat", status=500)
        batch = runner.invoke(
            cli.app,
            ["batch", str(batch_file), *common, "--batch-budget", "1"],
            env={**ENV, "INKREEL_JUDGE_MODEL": "local-vision"},
        )
        assert batch.exit_code == 1, batch.output  # ep02 failed, the batch went on
        assert (root / "logs/ep02.log").is_file()
        stopped = runner.invoke(cli.app, [*fox, "--budget", "0.006"], env=ENV)
        assert stopped.exit_code == 2, stopped.output
        waiting = runner.invoke(cli.app, [*boats, "--review", "script"], env=ENV)
        assert waiting.exit_code == 0, waiting.output
        cut = runner.invoke(cli.app, ["produce", "A kite.", *common, "--episode", "ep05"], env=ENV)
        assert cut.exit_code == 130, cut.output
    yield Night(root, batch.output)


def report(root: Path, *args: str) -> tuple[Any, str, str]:
    """Run `inkreel report`; return the result and the HTML and markdown it wrote."""
    result = runner.invoke(cli.app, ["report", "-o", str(root), *args])
    assert result.exit_code == 0, result.output
    html_path, md_path = re.findall(r"^Wrote (.+)$", result.stdout, re.M)
    assert re.fullmatch(r"morning-\d{8}-\d{4}\.html", Path(html_path).name)
    assert Path(html_path).parent == root / "reports"
    return result, Path(html_path).read_text("utf-8"), Path(md_path).read_text("utf-8")


def episode_rows(markdown: str) -> dict[str, list[str]]:
    """The markdown's episode table: name -> its cells."""
    rows = {}
    table = markdown.split("## Episodes", 1)[1].split("##", 1)[0]
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if re.fullmatch(r"ep\d\d", cells[0]):
            rows[cells[0]] = cells
    return rows


def next_steps(markdown: str) -> dict[str, list[str]]:
    """The markdown's 'What to do next': episode -> its commands, in order."""
    steps: dict[str, list[str]] = {}
    section = markdown.split("## What to do next", 1)[1].split("## Episodes", 1)[0]
    current = ""
    for line in section.splitlines():
        head = re.match(r"- \*\*(\S+)\*\*", line)
        if head:
            current = head[1]
            steps[current] = []
        elif re.match(r"\s+\d+\. `", line):
            steps[current].append(line.split("`")[1])
    return steps


def test_every_episode_is_listed_with_its_status_spend_and_next_command(night: Night) -> None:
    root = night.root.resolve()
    result, _, markdown = report(root)
    rows = episode_rows(markdown)
    status = {name: cells[2] for name, cells in rows.items()}
    assert status == {
        "ep01": "finished",
        "ep02": "failed",
        "ep03": "over budget",
        "ep04": "waiting for review",
        "ep05": "interrupted",
    }
    stopped = "3 stopped (1 waiting for review, 1 over budget, 1 interrupted)"
    assert f"**1 finished, {stopped}, 1 failed.**" in markdown
    # Spend per episode is the ledger's, and ep03's cap is its --budget.
    with Ledger(root / "ledger.sqlite") as ledger:
        spent = {ep: ledger.spent(("episode", ep)) for ep in status}
        batch = ledger.spent(("batch", "night"))
    assert all(usd for ep, usd in spent.items() if ep != "ep05")
    for ep, cells in rows.items():
        assert cells[3] == usd(spent[ep])
    assert rows["ep03"][4] == "$0.0060" and rows["ep01"][4] == "-"
    assert batch == pytest.approx(spent["ep01"] + spent["ep02"])
    assert f"| night | ep01, ep02 | {usd(batch)} | $1.0000 |" in markdown
    assert f"Spent {usd(sum(spent.values()))}" in markdown
    # Per agent: the judge's calls are the continuity checker's, on the vision model.
    models = markdown.split("| model |", 1)[1].split("##", 1)[0]
    assert re.search(r"\| local-vision \| \d+ \| 0 \| \$0\.\d{4} \|", models)
    agents = markdown.split("| agent |", 1)[1].split("| model |", 1)[0]
    named = set(re.findall(r"^\| (\w+) \|", agents, re.M))
    assert {"continuity", "screenwriter", "director"} <= named
    # Faults survived and wall time come from each episode's run.json.
    run = json.loads((root / "episodes/ep01/run.json").read_text())
    assert run["faults_survived"] == {"server_error": 2}
    assert rows["ep01"][8] == "2 server_error"
    for ep, cells in rows.items():
        wall = sum(
            s["wall_s"]
            for s in json.loads((root / f"episodes/{ep}/run.json").read_text())["sessions"]
        )
        assert cells[5] == f"{wall:.1f} s"
    # What to do next: the commands that really continue each one.
    where = f"-o {root} --episode"
    steps = next_steps(markdown)
    assert steps["ep01"] == [f"inkreel retake {where} ep01 --shot {FLAGGED}"]
    log = root / "logs/ep02.log"
    assert steps["ep02"] == [f"tail -n 40 {log}", f"inkreel resume {where} ep02"]
    assert steps["ep03"] == [f"inkreel resume {where} ep03 --budget USD"]
    assert steps["ep04"][:2] == [f"inkreel review {where} ep04", f"inkreel approve {where} ep04"]
    assert steps["ep05"] == [f"inkreel resume {where} ep05"]
    assert "the director's plan crashed (drill)" in markdown
    # The terminal gets the same in short, and where the files are.
    assert "1 finished, 3 stopped, 1 failed" in result.stdout
    assert f"ep03: over budget {usd(spent['ep03'])} -> inkreel resume {where} ep03" in " ".join(
        result.stdout.split()
    )


class Links(HTMLParser):
    """Every URL-bearing attribute of a page, and its images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.images: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.urls += [v for k, v in values.items() if k in ("src", "href", "action", "poster")]
        if tag == "img":
            self.images.append(values)


def test_the_page_is_self_contained_and_shows_the_flagged_keyframe(night: Night) -> None:
    _, html, markdown = report(night.root)
    links = Links()
    links.feed(html)
    assert links.urls and all(u.startswith("data:image/") for u in links.urls)
    assert not re.search(r"https?://|url\(|@import", html)
    (image,) = links.images
    assert image["alt"] == f"keyframe of ep01 {FLAGGED}"
    data = base64.b64decode(image["src"].split(",", 1)[1])
    with Image.open(io.BytesIO(data)) as thumb:
        assert thumb.format == "JPEG" and thumb.width == 320
    # The shot's finding, as the continuity report keeps it.
    continuity = json.loads((night.root / "episodes/ep01/continuity.json").read_text())
    (finding,) = [f for f in continuity["findings"] if f["shot_id"] == FLAGGED]
    assert finding["check"] == "hair_colour"
    assert finding["message"] in html and finding["fix_instruction"] in html
    assert [s["status"] for s in continuity["shots"] if s["shot_id"] == FLAGGED] == ["flagged"]
    # The markdown links the same keyframe, relative to where it is saved.
    (linked,) = re.findall(r"!\[keyframe of ep01 [^]]+\]\(([^)]+)\)", markdown)
    assert (night.root / "reports" / linked).resolve().is_file()


def test_since_keeps_the_episodes_run_since_then(night: Night) -> None:
    run = json.loads((night.root / "episodes/ep05/run.json").read_text())
    started = run["sessions"][-1]["started_at"]
    since = datetime.fromtimestamp(started).isoformat()
    _, _, markdown = report(night.root, "--since", since)
    assert list(episode_rows(markdown)) == ["ep05"]
    assert "(1 of 5)" in markdown
    _, _, markdown = report(night.root, "--since", "12h")
    assert list(episode_rows(markdown)) == ["ep01", "ep02", "ep03", "ep04", "ep05"]
    later = datetime.fromtimestamp(started + 3600).isoformat()
    result, _, markdown = report(night.root, "--since", later)
    assert "No episode of this series had a run started since" in markdown
    assert "No episodes with a run in that time" in result.stdout


def test_a_run_made_before_sessions_were_kept_has_an_unknown_wall_time(tmp_path: Path) -> None:
    project = Project.open(tmp_path / "old")
    folder = project.episode_dir("ep01")
    (folder / "manifest.json").write_text(json.dumps({"summary": {"title": "Old"}}))
    (folder / "run.json").write_text(json.dumps({"episode": "ep01", "spent_usd": 0.5}))
    result, html, markdown = report(project.root)
    assert episode_rows(markdown)["ep01"][1:6] == ["Old", "finished", "$0.5000", "-", "unknown"]
    assert "Wall time unknown" in markdown and "unknown" in html
    assert "1 finished, 0 stopped, 0 failed" in result.stdout


def test_a_project_with_no_episodes_says_so(tmp_path: Path) -> None:
    project = Project.open(tmp_path / "new")
    result, html, markdown = report(project.root)
    assert "This series has no episodes yet" in markdown and "no episodes yet" in html
    assert result.stdout.startswith("No episodes in")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "{tmp}"], "is not an inkreel project"),
        (["-o", "{tmp}/missing"], "is not an inkreel project"),
        (["-o", "{project}", "--since", "last tuesday"], "--since 'last tuesday' is not a time"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    project = Project.open(tmp_path / "p")
    filled = [a.format(tmp=tmp_path, project=project.root) for a in args]
    result = runner.invoke(cli.app, ["report", *filled])
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.stderr.split()) and "Traceback" not in result.output
    assert not (project.root / "reports").exists()


def test_since_reads_dates_clock_times_and_spans() -> None:
    now = datetime(2025, 6, 2, 7, 30).timestamp()
    assert parse_since("12h", now) == now - 12 * 3600
    assert parse_since("90m", now) == now - 90 * 60
    assert parse_since("2d", now) == now - 2 * 86400
    assert parse_since("2025-06-01", now) == datetime(2025, 6, 1).timestamp()
    assert parse_since("2025-06-01T22:00", now) == datetime(2025, 6, 1, 22).timestamp()
    # A clock time is the last such moment: 22:00 is last night, 06:00 this morning.
    assert parse_since("22:00", now) == datetime(2025, 6, 1, 22).timestamp()
    assert parse_since("06:00", now) == datetime(2025, 6, 2, 6).timestamp()
    for text in ("", "yesterday", "12 parsecs", "25:00"):
        with pytest.raises(SinceError, match="not a time"):
            parse_since(text, now)
