"""The line on routed providers: a fault drill, a hosted text model, budgets and secrets.

The hosted model is `tests/fake_openai.py`, a local OpenAI-compatible server driven through
the real `openai` / `langchain-openai` clients; no test touches the internet.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from inkreel import cli
from inkreel.memory import AssetMemory
from inkreel.project import Project
from inkreel.providers.budget import Ledger
from inkreel.schemas import Manifest

from .conftest import IDEA
from .fake_openai import FakeOpenAI

runner = CliRunner()
SECRET = "sk-test-SECRET-123"
DELIVERED = {"episode_video", "subtitles", "screenplay", "storyboard_sheet"}


def produce(root: Path, *args: str, env: dict[str, str] | None = None):
    return runner.invoke(
        cli.app,
        ["produce", IDEA, "-o", str(root), "--length", "12", "--episode", "e1", *args],
        env={"INKREEL_RETRY_BASE_DELAY_S": "0", **(env or {})},
    )


def delivered_hashes(root: Path) -> dict[str, str]:
    manifest = Manifest.model_validate_json((root / "episodes/e1/manifest.json").read_text())
    return {a.kind: a.sha256 for a in manifest.artifacts if a.kind in DELIVERED}


def hosted_project(root: Path, base_url: str, price_in: float = 0.001) -> None:
    root.mkdir(parents=True)
    (root / "inkreel.toml").write_text(
        "[[models]]\n"
        'id = "local-llm"\ncapability = "text"\nprovider = "openai"\nmodel = "test-model"\n'
        f'base_url = "{base_url}"\napi_key_env = "LOCAL_LLM_KEY"\ntier = 3\n'
        'tasks = ["write", "design", "storyboard", "judge"]\n'
        f"price = {{ usd_per_1k_input_tokens = {price_in}, usd_per_1k_output_tokens = 0.002 }}\n"
    )


def test_fault_drill_survives_and_delivers_identical_files(tmp_path: Path) -> None:
    clean = produce(tmp_path / "clean")
    assert clean.exit_code == 0, clean.output
    drill = produce(
        tmp_path / "drill", env={"INKREEL_FAULT_RATE": "0.4", "INKREEL_FAULT_SEED": "7"}
    )
    assert drill.exit_code == 0, drill.output
    assert delivered_hashes(tmp_path / "drill") == delivered_hashes(tmp_path / "clean")
    run = json.loads((tmp_path / "drill/episodes/e1/run.json").read_text())
    assert sum(run["faults_survived"].values()) > 0
    # Keyframes, voices and shot clips were sabotaged too: a truncated PNG, WAV or MP4 is
    # caught by decoding it and asked for again.
    by_task = run["faults_by_task"]
    assert {"keyframe", "voice", "animate"} <= set(by_task)
    assert {"write", "design", "storyboard"} & set(by_task)
    media = [
        k for t, kinds in by_task.items() if t in ("keyframe", "voice", "animate") for k in kinds
    ]
    assert "truncated" in media
    # Every survived fault is counted once, under its task.
    assert sum(run["faults_survived"].values()) == sum(sum(k.values()) for k in by_task.values())
    assert any(c["outcome"] == "retried" for c in run["calls"])


def test_hosted_text_model_runs_the_episode_and_never_leaks_the_key(tmp_path: Path) -> None:
    root = tmp_path / "hosted"
    with FakeOpenAI() as server:
        hosted_project(root, server.base_url)
        result = produce(root, "--policy", "best", env={"LOCAL_LLM_KEY": SECRET})
        assert result.exit_code == 0, result.output
        chats = server.requests_to("chat")
    assert chats, "the hosted model was not called"
    assert all(r.headers.get("authorization") == f"Bearer {SECRET}" for r in chats)
    run = json.loads((root / "episodes/e1/run.json").read_text())
    text_calls = [c for c in run["calls"] if c["task"] in ("write", "design", "storyboard")]
    assert {c["model"] for c in text_calls} == {"local-llm"}
    others = {c["task"]: c["model"] for c in run["calls"] if c not in text_calls}
    assert others == {
        "keyframe": "offline-image",
        "voice": "offline-speech",
        "animate": "offline-video",
    }
    assert run["spent_usd"] > 0
    leaked = [p for p in root.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    assert leaked == [], f"the key was written to {leaked}"
    assert SECRET not in result.output


def test_budget_stops_cleanly_and_resume_does_not_pay_twice(tmp_path: Path) -> None:
    root = tmp_path / "budget"
    with FakeOpenAI() as server:
        hosted_project(root, server.base_url, price_in=0.05)
        env = {"LOCAL_LLM_KEY": SECRET}
        stopped = produce(root, "--policy", "best", "--budget", "0.05", env=env)
        assert stopped.exit_code == 2
        assert "Raise the episode cap" in stopped.stderr
        assert not (root / "episodes/e1/manifest.json").exists()
        paid_before = len(server.requests_to("chat"))
        resumed = runner.invoke(
            cli.app, ["resume", "-o", str(root), "--episode", "e1", "--budget", "100"], env=env
        )
        assert resumed.exit_code == 0, resumed.output
        calls = len(server.requests_to("chat"))
    run = json.loads((root / "episodes/e1/run.json").read_text())
    assert run["spent_usd"] <= 100
    # Every successful call is paid once: the resumed run asked only what the stop left.
    keys = [row["calls"] for row in run["cost_table"] if row["model"] == "local-llm"]
    assert sum(keys) == calls and calls > paid_before


def test_models_lists_the_roster(tmp_path: Path) -> None:
    result = runner.invoke(cli.app, ["models"])
    assert result.exit_code == 0
    assert "offline-text" in result.output and "gpt-4.1" in result.output


@pytest.mark.parametrize("flag", [["--model", "write=nope"], ["--policy", "cheapest"]])
def test_bad_model_choice_is_a_clear_error(tmp_path: Path, flag: list[str]) -> None:
    result = produce(tmp_path / "p", *flag)
    assert result.exit_code == 2 and "Traceback" not in result.output


def hosted_media_project(root: Path, openai_url: str, video_url: str) -> None:
    root.mkdir(parents=True)
    (root / "inkreel.toml").write_text(
        "[[models]]\n"
        'id = "local-image"\ncapability = "image"\nprovider = "openai"\nmodel = "img-test"\n'
        f'base_url = "{openai_url}"\napi_key_env = "LOCAL_LLM_KEY"\ntasks = ["keyframe"]\n'
        "price = { usd_per_image = 0.02 }\nmax_in_flight = 2\n"
        "[[models]]\n"
        'id = "local-tts"\ncapability = "speech"\nprovider = "openai"\nmodel = "tts-test"\n'
        f'base_url = "{openai_url}"\napi_key_env = "LOCAL_LLM_KEY"\ntasks = ["voice"]\n'
        "price = { usd_per_1k_speech_chars = 0.015 }\n"
        "[[models]]\n"
        'id = "local-seedance"\ncapability = "video"\nprovider = "seedance"\n'
        f'model = "doubao-seedance-2-0-260128"\nbase_url = "{video_url}"\n'
        'api_key_env = "ARK_TEST_KEY"\ntasks = ["animate"]\n'
        "price = { usd_per_video_second = 0.05 }\n"
    )


def test_hosted_keyframes_voices_and_video_make_the_episode(tmp_path: Path) -> None:
    from inkreel.schemas import Timeline

    from .fake_video import FakeVideoServer, make_mp4

    root = tmp_path / "media"
    ark_key = "ark-test-SECRET-456"
    silent = make_mp4(tmp_path / "silent.mp4", audio=False)
    voiced = make_mp4(tmp_path / "voiced.mp4", audio=True)
    with (
        FakeOpenAI() as server,
        FakeVideoServer(ark_key, silent, voiced, polls_to_finish=2) as video,
    ):
        hosted_media_project(root, server.base_url, video.base_url)
        env = {"LOCAL_LLM_KEY": SECRET, "ARK_TEST_KEY": ark_key, "INKREEL_VIDEO_POLL_S": "0.01"}
        models = ["--image-model", "local-image", "--speech-model", "local-tts"]
        result = produce(root, *models, "--video-model", "local-seedance", env=env)
        assert result.exit_code == 0, result.output
        edits = server.requests_to("images.edit")
        speech = server.requests_to("speech")
        tasks = video.requests_to("/api/v3/contents/generations/tasks", "POST")
    folder = root / "episodes/e1"
    timeline = Timeline.model_validate_json((folder / "timeline.json").read_text())
    shots = [c for c in timeline.video if c.title is None]
    # One reference-guided edit per keyframe: each character's turnaround and the set's plate.
    assert len(edits) >= len(shots)
    assert all(len(r.files("image[]")) >= 2 for r in edits)
    # The references are the images the asset memory stores for the cast, and the plates.
    memory = AssetMemory(Project.open(root, create=False).memory_dir)
    stored = memory.references.get(include=["metadatas"])["metadatas"] or []
    paths = [str(m["path"]) for m in stored]
    paths += [p for record in memory.location_records() for p in record["plates"].values()]
    kept = {(root / p).read_bytes() for p in paths}
    sent = [part.data for r in edits for part in r.files("image[]")[1:]]
    assert sent and all(image in kept for image in sent)
    assert len(speech) == len(timeline.audio)
    assert len(tasks) == len(shots)
    run = json.loads((folder / "run.json").read_text())
    used = {c["task"]: c["model"] for c in run["calls"] if c["outcome"] == "ok"}
    assert used["keyframe"] == "local-image"
    assert used["voice"] == "local-tts"
    assert used["animate"] == "local-seedance"
    by_model: dict[str, float] = {}
    for row in run["cost_table"]:
        by_model[row["model"]] = by_model.get(row["model"], 0.0) + row["usd"]
    assert by_model["local-image"] == pytest.approx(0.02 * len(edits))
    assert by_model["local-seedance"] > 0
    # The delivered episode has every shot's frames, from the hosted clips.
    import imageio_ffmpeg

    frames, _ = imageio_ffmpeg.count_frames_and_secs(str(folder / "episode.mp4"))
    assert frames == timeline.frames
    leaked = [
        p
        for p in root.rglob("*")
        if p.is_file() and (SECRET.encode() in p.read_bytes() or ark_key.encode() in p.read_bytes())
    ]
    assert leaked == []


def test_hosted_keyframes_without_video_move_the_still(tmp_path: Path) -> None:
    import imageio_ffmpeg
    import numpy as np

    from inkreel.schemas import Timeline

    root = tmp_path / "stills"
    with FakeOpenAI() as server:
        hosted_media_project(root, server.base_url, "http://127.0.0.1:9")
        env = {"LOCAL_LLM_KEY": SECRET}
        result = produce(root, "--image-model", "local-image", "--no-title-card", env=env)
        assert result.exit_code == 0, result.output
    folder = root / "episodes/e1"
    timeline = Timeline.model_validate_json((folder / "timeline.json").read_text())
    reader = imageio_ffmpeg.read_frames(str(folder / "episode.mp4"))
    meta = next(reader)
    width, height = meta["size"]
    first = np.frombuffer(next(reader), np.uint8).reshape(height, width, 3)
    frames = 1 + sum(1 for _ in reader)
    assert frames == timeline.frames
    # The fake model draws a flat colour with a light rectangle in the middle: the episode
    # shows the hosted keyframe, not the procedural renderer's drawing.
    centre = first[height // 2 - 20 : height // 2 + 20, width // 2 - 20 : width // 2 + 20]
    assert np.abs(centre.astype(int) - 240).max() < 12


def test_batch_stops_at_its_cap_and_continues_without_paying_twice(tmp_path: Path) -> None:
    root = tmp_path / "series"
    ideas = tmp_path / "season.txt"
    env = {"LOCAL_LLM_KEY": SECRET, "INKREEL_RETRY_BASE_DELAY_S": "0"}
    args = ["batch", str(ideas), "-o", str(root), "--length", "12", "--policy", "best"]
    with FakeOpenAI() as server:
        hosted_project(root, server.base_url)
        ideas.write_text(f"# season one\n{IDEA}\n")
        first = runner.invoke(cli.app, args, env=env)
        assert first.exit_code == 0, first.output
        one = json.loads((root / "episodes/ep01/run.json").read_text())["spent_usd"]
        assert one > 0
        ideas.write_text(f"{IDEA}\nRosa, Tam and Bo run a noodle stall during a storm.\n")
        cap = 1.5 * one
        stopped = runner.invoke(cli.app, [*args, "--batch-budget", f"{cap}"], env=env)
        assert stopped.exit_code == 2, stopped.output
        assert "ep01 is already produced" in stopped.stderr
        assert "batch" in stopped.stderr and "ep02" in stopped.stderr
        assert not (root / "episodes/ep02/manifest.json").exists()
        with Ledger(root / "ledger.sqlite") as ledger:
            assert ledger.spent(("batch", "season")) <= cap + 1e-9
        done = runner.invoke(cli.app, [*args, "--batch-budget", "100"], env=env)
        assert done.exit_code == 0, done.output
        chats = len(server.requests_to("chat"))
    assert (root / "episodes/ep02/manifest.json").exists()
    paid = 0
    for episode in ("ep01", "ep02"):
        run = json.loads((root / f"episodes/{episode}/run.json").read_text())
        paid += sum(r["calls"] for r in run["cost_table"] if r["model"] == "local-llm")
    assert paid == chats  # every answered request paid once, none asked twice
