"""Prompt templates, one file per agent."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def system_prompt(agent: str) -> str:
    return resources.files(__package__).joinpath(f"{agent}.md").read_text(encoding="utf-8")
