"""`inkreel chat` driven end to end with scripted input, as a writer would type it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from inkreel import cli
from inkreel.chat import list_threads
from inkreel.project import Project
from inkreel.run import episode_state

from .conftest import IDEA

runner = CliRunner()


def chat(root: Path, lines: list[str], *args: str) -> str:
    result = runner.invoke(
        cli.app, ["chat", "-o", str(root), "--length", "12", *args], input="\n".join(lines) + "\n"
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_a_terminal_chat_from_idea_to_a_retaken_shot(tmp_path: Path) -> None:
    root = tmp_path / "series"
    said = chat(
        root,
        [IDEA, "logline 2", "approve", "approve", "approve", "shot 3 close-up", "render", "/quit"],
    )
    assert "Three loglines" in said and "The outline" in said
    assert "Scene 1:" in said and "The storyboard" in said
    assert "Episode ep01 is ready: episodes/ep01/episode.mp4" in said
    assert "Rendering shots" in said and "Editor delivered the episode" in said  # progress
    assert "Done: retake s01-003 (close up)" in said
    values = episode_state(Project.open(root), "ep01").values
    assert values["shots"]["s01-003"].framing == "close_up"
    assert (root / "episodes/ep01/episode.mp4").stat().st_size > 0

    # Later: the conversation is listed, and continued where it was.
    (thread,) = [t.thread for t in list_threads(Project.open(root))]
    assert f"--thread {thread}" in said
    again = chat(
        root, ["/threads", "/status", "what did continuity flag?", "/help"], "--thread", thread
    )
    assert f"*{thread}  episode" in again
    assert f"conversation {thread}: stage episode, episode ep01" in again
    assert "Continuity checked" in again
    assert "/threads" in again and "rule-based parser" in again


def test_bad_input_to_the_terminal_chat(tmp_path: Path) -> None:
    root = tmp_path / "series"
    said = chat(root, ["", "approve", "   ", "x" * 9000])
    assert "Say something" in said and "cannot approve at the idea stage" in said
    assert "keep it under 8000" in said
    result = runner.invoke(cli.app, ["chat", "-o", str(root), "--thread", "chat-deadbeef"])
    assert result.exit_code == 2 and "no conversation 'chat-deadbeef'" in result.output
    result = runner.invoke(cli.app, ["chat", "-o", str(root), "--lang", "xx"])
    assert result.exit_code == 2
