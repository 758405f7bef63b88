"""Retakes and line edits after the fact: only what they make stale is made again."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import pytest
import srt

from inkreel.graphs.changes import numbered_lines
from inkreel.project import Project
from inkreel.run import RunError, change_episode, episode_state, pending_review, run_episode
from inkreel.schemas import Emotion, LineEdit, Retake
from inkreel.schemas.episode import EpisodeRequest
from inkreel.status import episode_status

from .conftest import IDEA
from .fake_openai import FakeOpenAI


def produce(root: Path, review: list[str] | None = None) -> tuple[Project, dict[str, Any]]:
    project = Project.open(root)
    request = EpisodeRequest(
        episode="ep01", idea=IDEA, length_s=15, language="en", seed=3, review=review or []
    )
    return project, run_episode(project, request, {"request": request})


@pytest.fixture(scope="module")
def produced(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One episode made for this file's tests; each test changes a copy of it."""
    project, values = produce(tmp_path_factory.mktemp("retakes") / "p")
    return project.root, values


def copy_of(produced: tuple[Path, dict[str, Any]], where: Path) -> tuple[Project, dict[str, Any]]:
    """A copy of the produced project (its checkpoints, ledger, memory and files) at `where`."""
    root, values = produced
    shutil.copytree(root, where)
    return Project.open(where), values


def files(project: Project, paths: dict[str, str]) -> dict[str, tuple[str, int, str]]:
    """Each entry's file: (path, mtime in ns, sha256)."""
    out = {}
    for key, rel in paths.items():
        path = project.root / rel
        out[key] = (rel, path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
    return out


def cues(project: Project) -> list[srt.Subtitle]:
    text = (project.root / "episodes/ep01/episode.srt").read_text(encoding="utf-8")
    return list(srt.parse(text))


def test_a_retake_redraws_one_shot_and_leaves_every_other_segment_untouched(
    tmp_path: Path, produced: tuple[Path, dict[str, Any]]
) -> None:
    project, before = copy_of(produced, tmp_path / "p")
    segments = files(project, before["segments"])
    takes = files(project, {k: t.path for k, t in before["takes"].items()})
    timeline = before["timeline"]
    order = [c.shot_id for c in timeline.video]
    # A speaking shot, not a close-up: taken again close, with the speaker angry.
    target = next(
        i
        for i in before["shot_order"]
        if before["shots"][i].speaker and before["shots"][i].framing != "close_up"
    )
    speaker = before["shots"][target].speaker
    after = change_episode(
        project,
        "ep01",
        [Retake(shot=target, framing="close_up", emotion=Emotion.angry, note="tighter")],
        [],
    )
    shot = after["shots"][target]
    assert shot.framing == "close_up"
    assert {b.character: b.expression for b in shot.blocking}[speaker] == Emotion.angry
    assert "anger_mark" in shot.effects and not {"sparkle", "sweat_drop"} & set(shot.effects)
    assert after["keyframes"][target].path != before["keyframes"][target].path
    # Every other segment is the same file, not written again; the retaken shot's is new, and
    # so is the clip before it if it dissolves into it (its last frames show this shot).
    now = files(project, after["segments"])
    changed = {k for k in segments if now[k] != segments[k]}
    k = order.index(target)
    dissolving = {order[k - 1]} if k and timeline.video[k - 1].dissolve_frames else set()
    assert target in changed and changed <= {target} | dissolving
    # No voice was recorded again; the episode was cut again and the retake recorded.
    assert files(project, {k: t.path for k, t in after["takes"].items()}) == takes
    assert [r.changed for r in after["reviews"]] == [
        [f"{target}: framing close_up, emotion angry, note tighter"]
    ]
    assert {r.state for r in episode_status(project, "ep01")} == {"current"}
    manifest = project.root / "episodes/ep01/manifest.json"
    assert manifest.stat().st_mtime_ns > max(m for _, m, _ in segments.values())


def test_an_edited_line_changes_one_voice_take_and_one_subtitle(
    tmp_path: Path, produced: tuple[Path, dict[str, Any]]
) -> None:
    project, before = copy_of(produced, tmp_path / "p")
    old_cues = cues(project)
    old_takes = files(project, {k: t.path for k, t in before["takes"].items()})
    words = "The lamp is lit, and I am not leaving."
    after = change_episode(project, "ep01", [], [LineEdit(line=2, text=words)])
    new_takes = files(project, {k: t.path for k, t in after["takes"].items()})
    second = numbered_lines(after["script"])[1][0]
    assert [k for k in old_takes if new_takes[k] != old_takes[k]] == [second]
    new_cues = cues(project)
    assert len(new_cues) == len(old_cues)
    pairs = zip(old_cues, new_cues, strict=True)
    changed = [n for n, (a, b) in enumerate(pairs) if a.content != b.content]
    assert changed == [1] and new_cues[1].content.replace("\n", " ") == words
    assert "The lamp is lit" in (project.root / "episodes/ep01/script.fountain").read_text()
    # Everything the state points at is made from what the state says now.
    assert {r.state for r in episode_status(project, "ep01")} == {"current"}


def test_retakes_at_the_cut_gate_and_bad_requests(tmp_path: Path) -> None:
    project, before = produce(tmp_path / "p", review=["cut"])
    asked = pending_review(project, "ep01")
    assert asked is not None and asked["gate"] == "cut"
    assert asked["review_configs"][0]["allowed_decisions"] == ["approve", "edit"]
    assert [line["line"] for line in asked["action_requests"][0]["args"]["lines"]][:2] == [1, 2]
    with pytest.raises(RunError, match="there is no shot 's99-001'"):
        change_episode(project, "ep01", [Retake(shot="s99-001", angle="low")], [])
    with pytest.raises(RunError, match="line 99: the script has"):
        change_episode(project, "ep01", [], [LineEdit(line=99, text="Hello.")])
    with pytest.raises(RunError, match="not in the cast: Zed"):
        target = before["shot_order"][1]
        change_episode(project, "ep01", [Retake(shot=target, who=["Zed"])], [])
    target = before["shot_order"][1]
    change_episode(project, "ep01", [Retake(shot=target, angle="low")], [])
    asked = pending_review(project, "ep01")
    assert asked is not None and asked["gate"] == "cut"  # the new cut, to approve
    reviews = episode_state(project, "ep01").values["reviews"]
    assert [(r.gate, r.decision) for r in reviews] == [("cut", "edit")]


def test_a_hosted_retake_pays_only_for_the_shot_drawn_again(tmp_path: Path) -> None:
    root = tmp_path / "hosted"
    with FakeOpenAI() as server:
        root.mkdir()
        (root / "inkreel.toml").write_text(
            # One take a shot: the fake server's pictures would not pass the image checks.
            "continuity_max_attempts = 1\n"
            'image_model = "local-image"\nspeech_model = "local-tts"\n'
            "[[models]]\n"
            'id = "local-image"\ncapability = "image"\nprovider = "openai"\nmodel = "img-test"\n'
            f'base_url = "{server.base_url}"\napi_key_env = "LOCAL_LLM_KEY"\n'
            'tasks = ["keyframe"]\nprice = { usd_per_image = 0.02 }\n'
            "[[models]]\n"
            'id = "local-tts"\ncapability = "speech"\nprovider = "openai"\nmodel = "tts-test"\n'
            f'base_url = "{server.base_url}"\napi_key_env = "LOCAL_LLM_KEY"\ntasks = ["voice"]\n'
            "price = { usd_per_1k_speech_chars = 0.015 }\n"
        )
        with pytest.MonkeyPatch.context() as env:
            env.setenv("LOCAL_LLM_KEY", "sk-test")
            project, before = produce(root)
            drawn = len(server.requests_to("images.edit"))
            spoken = len(server.requests_to("speech"))
            target = before["shot_order"][-1]
            change_episode(project, "ep01", [Retake(shot=target, note="softer light")], [])
            edits = server.requests_to("images.edit")
            # One new keyframe, with the note; every other shot and voice came from disk.
            assert len(edits) == drawn + 1 and len(server.requests_to("speech")) == spoken
            assert "Change from the last take: softer light" in (edits[-1].field("prompt") or "")
    assert drawn == len(before["shot_order"])
