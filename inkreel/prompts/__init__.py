"""Prompt templates, one file per agent; a settings' `prompts_dir` overrides them file by file."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path


def system_prompt(agent: str, folder: str | Path | None = None) -> str:
    """The agent's prompt: `folder/AGENT.md` when that file exists, else the packaged one."""
    if folder is not None:
        override = Path(folder) / f"{agent}.md"
        if override.is_file():
            return _read(str(override.resolve()))
    return _packaged(agent)


@cache
def _packaged(agent: str) -> str:
    return resources.files(__package__).joinpath(f"{agent}.md").read_text(encoding="utf-8")


@cache
def _read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def prompt_names() -> list[str]:
    """The packaged prompts' names (`screenwriter`, `director`, ...)."""
    files = resources.files(__package__).iterdir()
    return sorted(f.name[:-3] for f in files if f.name.endswith(".md"))
