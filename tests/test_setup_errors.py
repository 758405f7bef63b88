"""A bad or partial project setup is reported in one line, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from inkreel import cli

from .conftest import IDEA

runner = CliRunner()
BROKEN = '[[models]]\nid = "local-llm"\ncapability = "text"\nbase_url "http://x"\n'
HOSTED = (
    "[[models]]\n"
    'id = "local-llm"\ncapability = "text"\nprovider = "openai"\nmodel = "test-model"\n'
    'base_url = "http://127.0.0.1:9/v1"\napi_key_env = "LOCAL_LLM_KEY"\ntier = 3\n'
    'tasks = ["write", "design", "storyboard"]\n'
    "price = { usd_per_1k_input_tokens = 0.5, usd_per_1k_output_tokens = 1.0 }\n"
)


@pytest.mark.parametrize(
    "args",
    [
        ["produce", IDEA, "--length", "12"],
        ["estimate", IDEA, "--length", "12"],
        ["models"],
        ["batch", "BATCH"],
    ],
    ids=["produce", "estimate", "models", "batch"],
)
def test_malformed_toml_is_one_line_with_file_line_and_column(
    tmp_path: Path, args: list[str]
) -> None:
    root = tmp_path / "show"
    root.mkdir()
    toml = root / "inkreel.toml"
    toml.write_text(BROKEN)
    batch = tmp_path / "season.txt"
    batch.write_text(IDEA + "\n")
    args = [str(batch) if a == "BATCH" else a for a in args]
    result = runner.invoke(cli.app, [*args, "-o", str(root)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    [line] = result.stderr.strip().splitlines()
    assert f"{toml}:4:10:" in line, line


def test_non_utf8_toml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "inkreel.toml").write_bytes(b"music = \xff\n")
    result = runner.invoke(cli.app, ["models", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert str(tmp_path / "inkreel.toml") in result.stderr and "UTF-8" in result.stderr


@pytest.mark.parametrize("command", ["estimate", "models"])
def test_a_folder_with_only_inkreel_toml_is_priced_and_listed(tmp_path: Path, command: str) -> None:
    root = tmp_path / "setup"
    root.mkdir()
    (root / "inkreel.toml").write_text(HOSTED)
    args = [IDEA, "--length", "12", "--policy", "best"] if command == "estimate" else []
    result = runner.invoke(
        cli.app, [command, *args, "-o", str(root)], env={"LOCAL_LLM_KEY": "sk-x"}
    )
    assert result.exit_code == 0, result.output
    assert "local-llm" in result.stdout
    # Nothing was created: pricing or listing does not start a project.
    assert sorted(p.name for p in root.iterdir()) == ["inkreel.toml"]
