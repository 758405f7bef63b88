"""Evaluation runs: a vision model grades each shot's prompt alignment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from inkreel.cli import app

from .fake_openai import FakeOpenAI
from .test_evalruns import IDEAS, write_jsonl


def test_a_judge_model_grades_prompt_alignment_through_the_real_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The judge is a vision model on the local OpenAI-compatible server (tests/fake_openai),
    reached through the real openai / langchain-openai clients; its grades are paid once."""

    def grade(schema: str, request_json: dict[str, Any]) -> dict[str, Any]:
        assert schema == "AlignmentVerdict"
        parts = request_json["messages"][-1]["content"]
        assert any(p.get("type") == "image_url" for p in parts)
        asked = json.dumps(parts[0]["text"])
        return {"score": 4 if "close_up" in asked else 2, "reason": "the framing decided it"}

    monkeypatch.setenv("LOCAL_VISION_KEY", "sk-vision-test")
    dataset = write_jsonl(tmp_path / "ideas.jsonl", IDEAS[:1])
    out = tmp_path / "run"
    with FakeOpenAI(answer=grade) as server:
        toml = tmp_path / "vision.toml"
        toml.write_text(
            "width = 640\nheight = 360\nfps = 12\nmusic = false\n[[models]]\n"
            'id = "local-vision"\ncapability = "text"\nprovider = "openai"\n'
            f'model = "vision-test"\nbase_url = "{server.base_url}"\n'
            'api_key_env = "LOCAL_VISION_KEY"\ntasks = ["judge"]\n'
            "price = { usd_per_1k_input_tokens = 0.001, usd_per_1k_output_tokens = 0.002 }\n",
            "utf-8",
        )
        args = ["eval", "run", str(dataset), "--out", str(out), "--config", f"v={toml}"]
        args += ["--judge-model", "local-vision", "--plant", "script"]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        asked = len(server.requests_to("chat"))
        cell = out / "cells" / "v" / "lamp"
        grades = json.loads((cell / "judge.json").read_text("utf-8"))
        board = json.loads((cell / "episodes" / "ep01" / "storyboard.json").read_text("utf-8"))
        assert asked == len(grades) == len(board["shots"])
        expected = [4 if s["framing"] == "close_up" else 2 for s in board["shots"]]
        assert [g["score"] for g in grades.values()] == expected
        rows = [json.loads(x) for x in (out / "results.jsonl").read_text("utf-8").splitlines()]
        (judged,) = [r for r in rows if r["agent"] == "judge"]
        assert judged["metric"] == "prompt_alignment"
        assert judged["score"] == pytest.approx(sum(expected) / len(expected))
        assert judged["cost_usd"] > 0
        # Scored again (the cell's marker gone): the grades come from the ledger, not the model.
        (cell / "cell.json").unlink()
        again = CliRunner().invoke(app, args)
        assert again.exit_code == 0, again.output
        assert len(server.requests_to("chat")) == asked
