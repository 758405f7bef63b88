"""The series' cast across episodes: a set named differently resolves to the stored one, a new
person with a look like another's stays new, and `inkreel cast` lists who appears where."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langgraph.runtime import Runtime
from PIL import Image
from typer.testing import CliRunner

from inkreel import cli
from inkreel.agents import reference_art
from inkreel.agents.character_designer import _draw_character, design_cast
from inkreel.graphs.checkpoint import open_checkpointer
from inkreel.graphs.episode import build_episode_graph
from inkreel.media.fountain import read_fountain
from inkreel.project import Project
from inkreel.run import summary_rows
from inkreel.schemas import Character, CharacterDesign, Voice
from inkreel.schemas.episode import EpisodeRequest
from tests.conftest import open_context

runner = CliRunner()
SMALL = "width = 640\nheight = 360\nfps = 12\nmusic = false\ncontinuity_max_attempts = 1\n"
PILOT = """Title: The Wall

EXT. HARBOUR WALL - DAY

Nadia runs along the wall with a sealed letter.

NADIA
Mei! The boat is in.

MEI
Then we go tonight.
"""
SECOND = """Title: The Letter

EXT. THE HARBOR WALL - DUSK

Lena, a young courier in a red coat, waits where the wall ends.

LENA
You are Nadia?

NADIA
Who sent you?
"""


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two short episodes of one series: the second names the pilot's set differently."""
    root = tmp_path_factory.mktemp("cast") / "series"
    root.mkdir()
    (root / "inkreel.toml").write_text(SMALL)
    for episode, text in (("ep01", PILOT), ("ep02", SECOND)):
        script = root.parent / f"{episode}.fountain"
        script.write_text(text)
        args = ["produce", "--script", str(script), "-o", str(root), "--episode", episode]
        result = runner.invoke(cli.app, args)
        assert result.exit_code == 0, result.output + str(result.exception)
    return root


def state_of(root: Path, episode: str) -> dict[str, object]:
    with open_checkpointer(Path(root) / "checkpoints.sqlite") as saver:
        graph = build_episode_graph().compile(checkpointer=saver)
        return dict(graph.get_state({"configurable": {"thread_id": episode}}).values)


def test_a_set_named_differently_is_the_stored_one_and_the_match_is_in_the_summary(
    series: Path,
) -> None:
    pilot, second = state_of(series, "ep01"), state_of(series, "ep02")
    wall = pilot["locations"]["Harbour Wall"]  # type: ignore[index]
    assert second["locations"]["The Harbor Wall"] == wall  # type: ignore[index]
    (matched,) = second["cast_matched"]  # type: ignore[misc]
    assert matched["kind"] == "location" and matched["matched"] == "Harbour Wall"
    assert 0.88 <= matched["score"] < 1.0
    rows = dict(summary_rows(Project.open(series, create=False), second))
    assert rows["Matched in memory"] == f"The Harbor Wall → Harbour Wall ({matched['score']:.2f})"
    # Nadia is the pilot's; Lena, another young courier, is designed anew.
    assert second["cast_reused"] == ["NADIA"] and second["cast_new"] == ["LENA"]
    assert "Matched in memory" not in dict(summary_rows(Project.open(series), pilot))


def test_cast_lists_each_asset_with_its_files_and_episodes(series: Path) -> None:
    result = runner.invoke(cli.app, ["cast", "-o", str(series), "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    people = {c["name"]: c for c in listed["characters"]}
    assert set(people) == {"NADIA", "MEI", "LENA"}
    assert people["NADIA"]["episodes"] == ["ep01", "ep02"]
    assert people["MEI"]["episodes"] == ["ep01"] and people["LENA"]["episodes"] == ["ep02"]
    assert people["NADIA"]["first_episode"] == "ep01"
    for person in people.values():
        (sheet,) = person["files"]
        assert sheet.endswith("sheet.png") and (series / sheet).is_file()
    (wall,) = listed["locations"]
    assert wall["name"] == "Harbour Wall" and wall["episodes"] == ["ep01", "ep02"]
    assert wall["also_named"] == ["The Harbor Wall"]
    assert len(wall["files"]) == 3 and all((series / p).is_file() for p in wall["files"])
    table = runner.invoke(cli.app, ["cast", "-o", str(series)], terminal_width=200)
    assert table.exit_code == 0, table.output
    nadia = next(line for line in table.output.splitlines() if "NADIA" in line)
    assert "ep01, ep02" in nadia and people["NADIA"]["files"][0] in nadia
    assert "also The Harbor Wall" in table.output


def test_cast_of_a_directory_that_is_not_a_project_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a series")
    result = runner.invoke(cli.app, ["cast", "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert "is not an inkreel project" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "memory").exists()


DOCTOR = """Title: Rounds

INT. CLINIC - NIGHT

Dr. Chen checks the chart. Nadine, a young courier in a red coat, brings the letter.

DR. CHEN
Who sent this?

NADINE
Nadia.
"""


def test_the_designer_maps_a_name_written_differently_to_the_stored_character(
    tmp_path: Path,
) -> None:
    with open_context(tmp_path / "project", music=False) as ctx:
        runtime = Runtime(context=ctx.context)
        stored = {}
        for name, look in (("DR CHEN", "#9a9a9a"), ("NADIA", "#2b2b2b")):
            design = CharacterDesign(
                name=name,
                role="courier",
                hair_colour=look,
                voice=Voice(variant="f2", pitch=50, speed=170),
            )
            stored[name] = Character(id=f"chr-{name.lower().replace(' ', '-')}", design=design)
            ctx.memory.put_character(stored[name], ctx.project.root)
        request = EpisodeRequest(episode="ep02", script_file="rounds.fountain", seed=1)
        state = {"request": request, "script": read_fountain(DOCTOR)}
        update = design_cast(state, runtime)  # type: ignore[arg-type]
    assert set(update["cast"]) == {"DR. CHEN", "NADINE"}
    assert update["cast"]["DR. CHEN"] == stored["DR CHEN"]  # the stored asset, under the name
    assert update["cast_reused"] == ["DR. CHEN"] and update["cast_new"] == ["NADINE"]
    assert update["cast"]["NADINE"].id != stored["NADIA"].id
    (matched,) = [m for m in update["cast_matched"] if m["kind"] == "character"]
    assert (matched["name"], matched["matched"]) == ("DR. CHEN", "DR CHEN")
    assert matched["score"] >= 0.88


def test_projects_in_one_process_draw_each_design_once_and_store_the_same_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An evaluation run's cells are projects of their own: a character they share is drawn
    once in the process, and every project stores the drawing's own files."""
    voice = Voice(variant="f2", pitch=50, speed=170)
    design = CharacterDesign(name="Juno", role="pilot", hair_colour="#3a6ea5", voice=voice)
    real = reference_art.render_reference_sheet
    drawn: list[str] = []

    def counted(d: CharacterDesign) -> Any:
        drawn.append(d.name)
        return real(d)

    reference_art._sheet_pngs.cache_clear()
    monkeypatch.setattr(reference_art, "render_reference_sheet", counted)
    stored = []
    for project in ("cell-a", "cell-b"):
        with open_context(tmp_path / project) as ctx:
            character, artifacts = _draw_character(ctx, design, seed=0, episode="ep01")
            rels = [*character.turnaround.values(), *character.expressions.values()]
            stored.append({rel: (ctx.project.root / rel).read_bytes() for rel in rels})
            assert len(artifacts) == len(rels) + 1
    assert drawn == ["Juno"] and stored[0] == stored[1] and len(stored[0]) == 10
    views, expressions, _ = real(design)
    front = Image.open(io.BytesIO(stored[0][character.turnaround["front"]]))
    assert np.array_equal(np.asarray(front), np.asarray(views["front"]))
    happy = Image.open(io.BytesIO(stored[0][character.expressions["happy"]]))
    assert np.array_equal(np.asarray(happy), np.asarray(expressions["happy"]))
