"""The README's "How it works" names every node of the episode graph, and no other."""

from __future__ import annotations

import re
from pathlib import Path

from inkreel.graphs.episode import build_episode_graph

README = Path(__file__).resolve().parents[1] / "README.md"


def test_how_it_works_lists_the_graphs_nodes() -> None:
    text = README.read_text("utf-8")
    section = text.split("## How it works", 1)[1]
    diagram = section.split("```", 2)[1]
    named = set(re.findall(r"^\s*(?:->\s+)?([a-z]+(?:_[a-z]+)+)\b", diagram, re.MULTILINE))
    assert named == set(build_episode_graph().nodes)
