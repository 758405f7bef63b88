"""`inkreel produce --story`: a ViStoryBench story.json becomes an episode that keeps its
characters and its shots; bad input is one line and nothing written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from inkreel.cli import app
from inkreel.schemas import StoryboardFile

from .test_cli import assert_user_error

runner = CliRunner()


def story_shot(
    index: int, setting: str, perspective: str, characters: list[str], plot: str
) -> dict[str, Any]:
    return {
        "index": index,
        "Setting Description": {"en": setting},
        "Plot Correspondence": {"en": plot},
        "Shot Perspective Design": {"en": perspective},
        "Characters Appearing": {"en": characters},
        "Static Shot Description": {"en": f"{plot} Seen as the story draws it."},
    }


STORY: dict[str, Any] = {
    "Story_type": {"en": "Short drama"},
    "Characters": {
        "Mei": {"name_en": "Mei", "prompt_en": "A woman with long red hair in a blue coat."},
        "Aiko": {"name_en": "Aiko", "prompt_en": "A girl with a black bob in a yellow raincoat."},
    },
    "Shots": [
        story_shot(1, "Dusk, a lighthouse on a cliff", "Long shot", ["Mei"], "Mei climbs up."),
        story_shot(
            2,
            "Dusk, a lighthouse on a cliff",
            "Medium shot, eye level",
            ["Mei", "Aiko"],
            "Mei meets Aiko at the door.",
        ),
        story_shot(
            3, "Night, the lamp room", "Close-up, low angle", ["Aiko"], "Aiko reads a letter."
        ),
        story_shot(
            4,
            "Night, the lamp room",
            "Over-the-shoulder shot",
            ["Mei", "Aiko"],
            "Mei smiles at Aiko.",
        ),
    ],
    "inkreel": {"length_s": 14, "title": "The Lamp Room"},
}
ASKED = [
    ("wide", ["Mei"]),
    ("medium", ["Aiko", "Mei"]),
    ("close_up", ["Aiko"]),
    ("over_the_shoulder", ["Aiko", "Mei"]),
]


def write_story(folder: Path, story: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "story.json"
    text = story if isinstance(story, str) else json.dumps(story, ensure_ascii=False)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_story_becomes_an_episode_with_its_shots_cast_and_some_lines(tmp_path: Path) -> None:
    path = write_story(tmp_path / "lamp", STORY)
    root = tmp_path / "series"
    result = runner.invoke(app, ["produce", "--story", str(path), "-o", str(root)])
    assert result.exit_code == 0, result.output + str(result.exception)
    episode = root / "episodes" / "ep01"
    board = StoryboardFile.model_validate_json((episode / "storyboard.json").read_text())
    assert board.script is not None and board.script.source == "story"
    scenes = {s.number: s for s in board.script.scenes}
    # One storyboard shot per story shot, in the story's order ...
    directions = [scenes[s.scene].beats[s.beat].shot for s in board.shots]
    assert [d.number if d else None for d in directions] == [1, 2, 3, 4]
    # ... showing exactly whom the story lists, framed as it asks.
    assert [
        (s.framing.value, sorted(b.character for b in s.blocking)) for s in board.shots
    ] == ASKED
    assert board.shots[2].angle.value == "low"
    assert all(0 <= b.screen_x <= 1 for s in board.shots for b in s.blocking)
    # The screenwriter filled in dialogue, said by someone on screen in that shot.
    spoken = [s for s in board.shots if s.line_id]
    assert spoken, "no line was written for any shot"
    assert all(s.speaker in {b.character for b in s.blocking} for s in spoken)
    assert set(board.cast) == {"Mei", "Aiko"}
    runtime = sum(s.duration_s for s in board.shots)
    assert 10 <= runtime <= 20, runtime
    assert (episode / "episode.mp4").stat().st_size > 0


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (None, "does not exist"),
        ('{"Characters": {}, "Shots": [', "not valid JSON"),
        (
            {
                **STORY,
                "Shots": [story_shot(1, "A street", "Long shot", ["Nobody"], "Nobody walks.")],
            },
            "'Nobody'",
        ),
    ],
)
def test_bad_story_input_is_one_line_and_writes_nothing(
    tmp_path: Path, content: Any, needle: str
) -> None:
    path = tmp_path / "story" / "story.json"
    if content is not None:
        write_story(path.parent, content)
    result = runner.invoke(app, ["produce", "--story", str(path), "-o", str(tmp_path / "p")])
    assert_user_error(result, needle)
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "p").exists(), "nothing is created for a refused request"


def test_a_story_comes_alone(tmp_path: Path) -> None:
    path = write_story(tmp_path / "lamp", STORY)
    result = runner.invoke(app, ["produce", "An idea", "--story", str(path), "-o", str(tmp_path)])
    assert_user_error(result, "exactly one")
