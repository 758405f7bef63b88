"""Evaluation runs: datasets, configurations, a resumable run scored per agent, and a planted
regression seen in the scores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import SystemMessage
from typer.testing import CliRunner

from inkreel.cli import app
from inkreel.evalruns.configs import ConfigError, parse_config, parse_configs
from inkreel.evalruns.dataset import DatasetError, load_dataset
from inkreel.evalruns.metrics import BY_KEY
from inkreel.evalruns.runner import EvalRun, EvalRunError
from inkreel.prompts import system_prompt

IDEAS = [
    {
        "id": "lamp",
        "idea": "A lighthouse keeper named Aiko finds a stranger named Ren.",
        "length_s": 8,
    },
    {"id": "tea", "idea": "茶馆老板梅在雨夜收到一封神秘的信。", "language": "zh", "length_s": 8},
    {
        "id": "train",
        "idea": "駅員のケンは終電で忘れ物の傘を見つける。",
        "language": "ja",
        "length_s": 8,
    },
]
SCREENPLAY = """INT. KITCHEN - NIGHT

MEI stirs a pot.

MEI
The soup is ready.
"""


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def test_a_dataset_of_ideas_or_screenplays_and_what_is_refused(tmp_path: Path) -> None:
    items = load_dataset(write_jsonl(tmp_path / "ideas.jsonl", [*IDEAS, "A bare idea."]))
    assert [(i.id, i.kind, i.language, i.length_s) for i in items] == [
        ("lamp", "idea", "en", 8.0),
        ("tea", "idea", "zh", 8.0),
        ("train", "idea", "ja", 8.0),
        ("idea004", "idea", "en", 30.0),
    ]
    plays = tmp_path / "plays"
    plays.mkdir()
    (plays / "soup.fountain").write_text(SCREENPLAY, "utf-8")
    (plays / "soup.json").write_text('{"length_s": 20, "tags": ["drama"]}', "utf-8")
    (plays / "bare.fountain").write_text(SCREENPLAY, "utf-8")
    assert [(i.id, i.kind, i.language, i.length_s, i.tags) for i in load_dataset(plays)] == [
        ("bare", "fountain", "auto", 30.0, ()),
        ("soup", "fountain", "auto", 20.0, ("drama",)),
    ]
    bad = {
        "not JSON (": "{oops",
        "'idea' is missing": '{"id": "x"}',
        "language 'fr'": '{"idea": "x", "language": "fr"}',
        "length_s": '{"idea": "x", "length_s": 1}',
        "appears twice": '{"id": "a", "idea": "x"}\n{"id": "a", "idea": "y"}',
        "item id '../x'": '{"id": "../x", "idea": "x"}',
        "holds no idea": "\n\n",
    }
    for message, text in bad.items():
        path = tmp_path / "bad.jsonl"
        path.write_text(text, "utf-8")
        with pytest.raises(DatasetError, match=message.replace("(", r"\(")):
            load_dataset(path)
    (tmp_path / "latin1.jsonl").write_bytes('{"idea": "caf\xe9"}'.encode("latin-1"))
    with pytest.raises(DatasetError, match="not UTF-8"):
        load_dataset(tmp_path / "latin1.jsonl")
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="holds no story"):
        load_dataset(tmp_path / "empty")


def test_configurations_and_prompt_overrides(tmp_path: Path) -> None:
    variant = tmp_path / "terse"
    variant.mkdir()
    (variant / "screenwriter.md").write_text("Write very short scripts.", "utf-8")
    toml = tmp_path / "terse.toml"
    toml.write_text('policy = "draft"\nprompts_dir = "terse"\n', "utf-8")
    config = parse_config(f"terse={toml}")
    assert config.prompts_dir == variant.resolve() and config.file == toml.resolve()
    settings = config.install(tmp_path / "cell")
    assert settings.policy == "draft" and settings.prompts_dir == str(variant.resolve())
    # The variant replaces its file only; the others stay the packaged ones.
    assert system_prompt("screenwriter", settings.prompts_dir) == "Write very short scripts."
    assert system_prompt("director", settings.prompts_dir) == system_prompt("director")
    before = config.digest
    (variant / "screenwriter.md").write_text("Write long scripts.", "utf-8")
    assert parse_config(f"terse={toml}").digest != before  # a changed prompt is a new config
    assert parse_configs([])[0].name == "default"
    (variant / "screnwriter.md").write_text("typo", "utf-8")
    refused = {
        "unknown prompts screnwriter": f"terse={toml}",
        "write NAME=FILE.toml": "no-equals-sign",
        "is not a file": f"x={tmp_path / 'missing.toml'}",
    }
    for message, spec in refused.items():
        with pytest.raises(ConfigError, match=message):
            parse_config(spec)
    with pytest.raises(ConfigError, match="given twice"):
        parse_configs(["a=", "a="])
    broken = tmp_path / "broken.toml"
    broken.write_text("policy = ", "utf-8")
    with pytest.raises(ConfigError, match=r"broken\.toml"):
        parse_config(f"b={broken}")
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('policy = "cheapest"\n', "utf-8")
    with pytest.raises(ConfigError, match="invalid settings: policy"):
        parse_config(f"w={wrong}").install(tmp_path / "cell2")


def test_an_agent_asks_with_the_configured_prompt(tmp_path: Path) -> None:
    from inkreel.agents.common import ask
    from inkreel.settings import Settings

    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "director.md").write_text("Plan few shots.", "utf-8")
    seen: list[Any] = []

    class Calls:
        def structured(self, agent: str, schema: Any, messages: Any, label: str, check: Any) -> Any:
            seen.append(messages)
            return "answer"

    class Ctx:
        settings = Settings(prompts_dir="p")
        project = type("P", (), {"root": tmp_path})()
        providers = type("Providers", (), {"calls": Calls()})()

    from inkreel.services import Services

    Ctx.prompt = Services.prompt  # type: ignore[attr-defined]
    assert ask(Ctx(), "director", SystemMessage, "plan", lambda x: x) == "answer"  # type: ignore[arg-type]
    assert seen[0][0].content == "Plan few shots."


def test_a_run_scores_every_agent_resumes_and_shows_a_planted_regression(tmp_path: Path) -> None:
    dataset = write_jsonl(tmp_path / "ideas.jsonl", IDEAS)
    # Small frames keep the six episodes quick; both configurations share them.
    small = "width = 640\nheight = 360\nfps = 12\nmusic = false\n"
    base = tmp_path / "base.toml"
    base.write_text(small, "utf-8")
    drift = tmp_path / "drift.toml"
    # The drift drill makes every sheet and keyframe take with a defect, and one attempt
    # leaves them for a person: a configuration that must score worse.
    drift.write_text(small + "drift_rate = 1.0\ncontinuity_max_attempts = 1\n", "utf-8")
    out = tmp_path / "run"
    args = ["eval", "run", str(dataset), "--out", str(out), "--config", f"base={base}"]
    # Defects planted in the script only: image planting redraws keyframes, and the
    # continuity eval's own tests cover every level.
    args += ["--config", f"drift={drift}", "--jobs", "2", "--plant", "script"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text("utf-8").splitlines()]
    assert {r["run"] for r in rows} == {"run"}
    cells = {(r["config"], r["item"]) for r in rows}
    assert cells == {(c, i["id"]) for c in ("base", "drift") for i in IDEAS}
    for config, item in cells:
        got = {
            (r["agent"], r["metric"]) for r in rows if (r["config"], r["item"]) == (config, item)
        }
        assert got == {k for k, m in BY_KEY.items() if not m.judged}, (config, item)
    assert set(rows[0]) == {
        "run", "item", "config", "agent", "metric", "score", "comment", "cost_usd", "seconds"
    }  # fmt: skip

    def total(config: str, agent: str, metric: str) -> float:
        return sum(
            r["score"] or 0.0
            for r in rows
            if (r["config"], r["agent"], r["metric"]) == (config, agent, metric)
        )

    # Drifted script drafts are left as they are with one attempt: the checker finds them.
    worse = total("drift", "screenwriter", "script_errors")
    assert worse > total("base", "screenwriter", "script_errors") == 0
    assert total("drift", "continuity", "false_positives") >= total(
        "base", "continuity", "false_positives"
    )
    cell = json.loads((out / "cells" / "base" / "lamp" / "cell.json").read_text("utf-8"))
    assert cell["status"] == "done" and cell["keyframes"]
    assert all((out / "cells" / "base" / "lamp" / k).is_file() for k in cell["keyframes"])

    # Run again: nothing is redone (every cell is reused, results unchanged).
    before = (out / "results.jsonl").read_text("utf-8")
    mtimes = {p: p.stat().st_mtime_ns for p in out.glob("cells/*/*/episodes/ep01/episode.mp4")}
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert again.output.count("reused") == 6
    assert (out / "results.jsonl").read_text("utf-8") == before
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes

    # The report compares the configurations and names the planted regression first.
    report = CliRunner().invoke(app, ["eval", "report", str(out), "--baseline", "base"])
    assert report.exit_code == 0, report.output
    html = (out / "report.html").read_text("utf-8")
    assert all(i["id"] in html for i in IDEAS) and "drift" in html and "http" not in html
    summary = (out / "summary.md").read_text("utf-8")
    regressions = summary.replace("\\_", "_").split("## ")[1]
    assert "script_errors" in regressions and "screenwriter" in regressions, summary[:2000]
    missing = CliRunner().invoke(app, ["eval", "report", str(out), "--baseline", "nope"])
    assert missing.exit_code == 2 and "nope" in missing.output

    # The same run directory with another seed, or a changed configuration, is refused.
    with pytest.raises(EvalRunError, match="seed"):
        EvalRun.open(out, dataset, parse_configs([f"base={base}"]), seed=1)
    drift.write_text(small + "drift_rate = 0.5\ncontinuity_max_attempts = 1\n", "utf-8")
    changed = CliRunner().invoke(app, args)
    assert changed.exit_code == 2 and "configuration drift changed" in changed.output
