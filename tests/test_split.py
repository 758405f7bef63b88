"""Splitting a long screenplay into episodes: between scenes, at act or sequence breaks where
they fall near the middle, balanced by runtime; each part produced as its own episode."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from inkreel import cli
from inkreel.media.fountain import read_fountain
from inkreel.project import Project
from inkreel.run import next_episode_name
from inkreel.schemas import Manifest
from inkreel.split import SplitError, part_names, section_breaks, split_script

runner = CliRunner()
PLACES = ["TEA HOUSE", "HARBOUR", "LIGHTHOUSE", "MARKET", "FERRY", "LIBRARY", "ROOF", "PIER"]


def screenplay(scenes: list[tuple[str, int]], cast: tuple[str, ...] = ("MEI", "AIKO")) -> str:
    """Fountain text: per scene an optional section line ("#", "##" or "") and how many
    ten-word lines are spoken in it."""
    out = ["Title: Split Test", ""]
    for k, (section, lines) in enumerate(scenes):
        if section:
            out += [f"{section} Part {k}", ""]
        out += [f"INT. {PLACES[k % len(PLACES)]} - DAY", "", "The kettle ticks.", ""]
        for i in range(lines):
            out += [cast[i % len(cast)], "one two three four five six seven eight nine ten", ""]
    return "\n".join(out)


def cut(text: str, parts: int) -> list[int]:
    """Scenes per part."""
    return [len(p.scenes) for p in split_script(read_fountain(text), parts, text)]


def test_an_act_break_near_the_middle_wins_over_an_exact_balance() -> None:
    # Twelve equal scenes; the act break after scene 5 leaves 5/7, after 6 it would be 6/6.
    acts = [("#" if k in (0, 5) else "", 4) for k in range(12)]
    assert cut(screenplay(acts), 2) == [5, 7]
    # Without the sections only the runtime counts; an act break far off the middle (3/9)
    # loses to it too.
    assert cut(screenplay([("", 4)] * 12), 2) == [6, 6]
    assert cut(screenplay([("#" if k in (0, 3) else "", 4) for k in range(12)]), 2) == [6, 6]


def test_a_sequence_break_beats_a_plain_scene_boundary() -> None:
    # Nine equal scenes: 4/5 and 5/4 are as balanced; the one at a sequence break wins, and
    # the act break after scene 1 is far too lopsided.
    scenes = [("#" if k in (0, 1) else "##" if k == 4 else "", 4) for k in range(9)]
    assert cut(screenplay(scenes), 2) == [4, 5]


def test_parts_are_balanced_by_what_is_spoken() -> None:
    # One long scene and many short ones: the cut keeps the parts' talk about equal.
    text = screenplay([("", 24), ("", 4), ("", 4), ("", 4), ("", 4), ("", 4), ("", 4)])
    assert cut(text, 2) == [1, 6]
    assert cut(text, 3) == [1, 3, 3]


def test_sections_are_found_by_the_importer_whatever_the_headings() -> None:
    text = "\n".join(
        [
            "MEI", "Before any heading.", "",
            ".THE ROOF", "", "A forced heading.", "",
            "# Act Two", "",  # a section inside a scene: the break is before the next one
            "More of the roof.", "",
            "EXT. PIER - NIGHT", "", "MEI", "Hello.", "",
            "## Sequence", "", "### Beat", "",
            "INT. FERRY - DAY", "", "AIKO", "Hi.", "",
        ]
    )  # fmt: skip
    script = read_fountain(text)
    assert [s.heading for s in script.scenes] == ["UNTITLED", "THE ROOF", "EXT. PIER - NIGHT",
                                                  "INT. FERRY - DAY"]  # fmt: skip
    assert section_breaks(text, script) == {2: 1, 3: 2}


def test_each_part_is_a_script_of_its_own() -> None:
    text = screenplay([("#", 2), ("", 2), ("#", 2), ("", 2)], cast=("MEI", "AIKO"))
    text += "\n\nINT. ROOF - NIGHT\n\nJIN\nOnly I am here.\n"
    script = read_fountain(text)
    first, second = split_script(script, 2, text)
    assert [s.number for s in first.scenes] == [1, 2]
    assert [s.number for s in second.scenes] == [1, 2, 3]
    assert [s.heading for s in first.scenes + second.scenes] == [s.heading for s in script.scenes]
    assert first.title == "Split Test (1/2)" and second.title == "Split Test (2/2)"
    assert first.characters == ["MEI", "AIKO"]
    assert second.characters == ["MEI", "AIKO", "JIN"]
    assert split_script(script, 1, text) == [script]


def test_more_episodes_than_scenes_is_an_error() -> None:
    script = read_fountain(screenplay([("", 1), ("", 1)]))
    with pytest.raises(SplitError, match="2 scenes into 3 episodes"):
        split_script(script, 3)


def test_part_names() -> None:
    assert part_names("film", 1) == ["film"]
    assert part_names("film", 3) == ["film-part1", "film-part2", "film-part3"]


def test_produce_split_episodes_shares_the_cast_and_goes_on_after_a_stop(tmp_path: Path) -> None:
    path = tmp_path / "film.fountain"
    path.write_text(screenplay([("#", 2), ("", 2), ("#", 2)]), encoding="utf-8")
    root = tmp_path / "series"
    args = ["produce", "--script", str(path), "-o", str(root), "--split-episodes", "2"]
    result = runner.invoke(cli.app, args)
    assert result.exit_code == 0, result.output + str(result.exception)
    first, second = (
        Manifest.model_validate_json((root / "episodes" / n / "manifest.json").read_text())
        for n in ("ep01-part1", "ep01-part2")
    )
    assert first.summary["scenes"] == 2 and second.summary["scenes"] == 1
    assert first.summary["title"] == "Split Test (1/2)"
    assert set(first.summary["characters_new"]) == {"MEI", "AIKO"}
    assert second.summary["characters_new"] == []
    assert set(second.summary["characters_reused"]) == {"MEI", "AIKO"}
    # Run again: what is finished is skipped; a new screenplay gets the next base name.
    again = runner.invoke(cli.app, [*args, "--episode", "ep01"])
    assert again.exit_code == 0, again.output
    assert again.output.count("is already produced; skipped") == 2
    assert next_episode_name(Project.open(root)) == "ep02"
    idea = runner.invoke(cli.app, ["produce", "an idea", "-o", str(root), "--split-episodes", "2"])
    assert idea.exit_code == 2 and "--split-episodes" in idea.output
