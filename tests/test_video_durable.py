"""Paid video tasks are durable: created once per clip across poll timeouts, retries and kills.

Each test runs `Dispatch.media` with `hosted_video` (as the editor does), a real `Ledger`
file and the real httpx client against the local Ark/Vidu fake; polling sleeps are recorded,
not slept, except in the child process that is killed mid-run.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from inkreel.providers.budget import Ledger
from inkreel.providers.dispatch import Dispatch
from inkreel.providers.media import accept_mp4, hosted_video
from inkreel.providers.roster import ModelEntry, Roster
from inkreel.providers.router import AllProvidersFailed, Router
from inkreel.providers.video import (
    SEEDANCE_2_0,
    VIDU_MODEL,
    SeedanceClient,
    VideoCallError,
    VideoRequest,
    ViduClient,
)
from tests.fake_video import ARK_TASKS, FakeVideoServer

KEY = "video-test-SECRET-42"
ENV = {"VIDEO_TEST_KEY": KEY}
EP = ("episode", "e1")
MODELS = {"seedance": SEEDANCE_2_0, "vidu": VIDU_MODEL}
CREATE_ROUTE = {"seedance": "ark_create", "vidu": "vidu_create"}
GET_ROUTE = {"seedance": "ark_get", "vidu": "vidu_get"}
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fake(mp4s: tuple[bytes, bytes]) -> Iterator[FakeVideoServer]:
    with FakeVideoServer(KEY, silent_mp4=mp4s[0], audio_mp4=mp4s[1], polls_to_finish=3) as f:
        yield f


@pytest.fixture
def frame(tmp_path: Path) -> Path:
    path = tmp_path / "keyframe.png"
    Image.new("RGB", (64, 36), "red").save(path)
    return path


def entry_table(model_id: str, vendor: str, base_url: str, timeout_s: float) -> dict[str, Any]:
    return {
        "id": model_id,
        "capability": "video",
        "provider": vendor,
        "model": MODELS[vendor],
        "base_url": base_url,
        "api_key_env": "VIDEO_TEST_KEY",
        "tasks": ["animate"],
        "price": {"usd_per_video_second": 0.05},
        "timeout_s": timeout_s,
    }


def make_dispatch(
    base_url: str,
    ledger: Ledger,
    vendor: str = "seedance",
    timeout_s: float = 0.5,
    poll_s: float = 5.0,
) -> Dispatch:
    """A run's dispatcher with one hosted video model (no offline fallback), no real backoff."""
    roster = Roster.default().merged([entry_table("fake-video", vendor, base_url, timeout_s)])
    router = Router(
        roster,
        overrides={"animate": "fake-video"},
        environ=ENV,
        sleep=lambda _s: None,
        offline_fallback=False,
    )
    calls = Dispatch(router, ledger, [EP], seed=1, environ=ENV)
    calls.video_poll_s = poll_s
    return calls


def animate(
    calls: Dispatch, shot: int, frame: Path, out_dir: Path, sleep: Callable[[float], None]
) -> str:
    """One clip as the editor asks for it; the model id that made it."""
    key = f"clip{shot}"

    def produce(entry: ModelEntry) -> tuple[bytes, Mapping[str, float]]:
        journal = calls.journal("animate", key, entry)
        return hosted_video(
            calls, entry, f"shot {shot}", frame, [], 2, shot, journal=journal, sleep=sleep
        )

    used = calls.media(
        "animate",
        "editor",
        key,
        out_dir / f"{key}.mp4",
        produce,
        accept_mp4,
        units={"video_seconds": 2},
        label=f"s{shot:02d}",
    )
    return used.id


def creates(fake: FakeVideoServer) -> list[str]:
    """Ids of the tasks the server created, in order."""
    return list(fake.tasks)


def polled_ids(fake: FakeVideoServer) -> set[str]:
    return {
        r.path.removeprefix(ARK_TASKS + "/").removeprefix("/ent/v2/tasks/").split("/")[0]
        for r in fake.requests
        if r.method == "GET" and not r.path.startswith("/files/")
    }


# --- a poll that outlasts timeout_s --------------------------------------------------------


@pytest.mark.parametrize("vendor", MODELS)
def test_a_task_outlasting_timeout_s_is_polled_to_the_end(
    vendor: str, fake: FakeVideoServer, frame: Path, tmp_path: Path
) -> None:
    # 40 polls 5 s apart (195 s) against a timeout_s of 0.5 s, and two status requests that
    # answer after the 0.5 s per-request timeout: the same task is polled until it is done.
    fake.polls_to_finish = 40
    fake.add_fault(GET_ROUTE[vendor], delay_s=2.0, times=2)  # type: ignore[arg-type]
    sleeps: list[float] = []
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        calls = make_dispatch(fake.base_url, ledger, vendor, timeout_s=0.5)
        assert animate(calls, 1, frame, tmp_path / "clips", sleeps.append) == "fake-video"
        job = ledger.job("animate:clip1")
        spent = ledger.spent(EP)
    assert len(creates(fake)) == 1
    assert polled_ids(fake) == {creates(fake)[0]}
    assert sum(sleeps) >= 150  # waited 300 times timeout_s
    assert job is not None and (job.task_id, job.state) == (creates(fake)[0], "succeeded")
    assert spent == pytest.approx(0.05)  # the 1-second clip, once
    assert (tmp_path / "clips" / "clip1.mp4").stat().st_size > 0


def test_a_router_retry_polls_the_stored_task(
    fake: FakeVideoServer, frame: Path, tmp_path: Path
) -> None:
    # Six 503s in a row exhaust the client's poll errors: the router retries the call.
    fake.add_fault("ark_get", 503, {"error": {"code": "ServiceUnavailable"}}, times=6)
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        calls = make_dispatch(fake.base_url, ledger)
        animate(calls, 1, frame, tmp_path / "clips", lambda _s: None)
    outcomes = [r.outcome for r in calls.router.log.records]
    assert outcomes == ["retried", "ok"]
    assert len(creates(fake)) == 1


def test_only_a_stored_task_that_failed_is_replaced(
    fake: FakeVideoServer, frame: Path, tmp_path: Path
) -> None:
    fake.fail_next_task("InternalServiceError", "the render farm fell over")
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        calls = make_dispatch(fake.base_url, ledger)
        with pytest.raises(AllProvidersFailed):
            animate(calls, 1, frame, tmp_path / "clips", lambda _s: None)
        failed = ledger.job("animate:clip1")
        animate(calls, 1, frame, tmp_path / "clips", lambda _s: None)
        replaced = ledger.job("animate:clip1")
    first, second = creates(fake)
    assert failed is not None and (failed.task_id, failed.state) == (first, "failed")
    assert replaced is not None and (replaced.task_id, replaced.state) == (second, "succeeded")


# --- abandoned tasks -----------------------------------------------------------------------


@pytest.mark.parametrize("vendor", MODELS)
def test_a_task_still_queued_after_max_wait_is_cancelled_and_replaced(
    vendor: str, fake: FakeVideoServer, frame: Path, tmp_path: Path
) -> None:
    fake.polls_to_finish = fake.queued_polls = 1000
    kind = SeedanceClient if vendor == "seedance" else ViduClient
    request = VideoRequest(prompt="p", first_frame=frame)
    with (
        Ledger(tmp_path / "ledger.sqlite") as ledger,
        kind(KEY, base_url=fake.base_url, max_wait_s=20, sleep=lambda _s: None) as client,
    ):
        journal = ledger.journal("animate:clip1", vendor, "fake-video")
        with pytest.raises(VideoCallError) as gave_up:
            client.generate(request, tmp_path / "a.mp4", journal)
        (task_id,) = creates(fake)
        assert (gave_up.value.kind, gave_up.value.state) == ("timeout", "queued")
        assert fake.tasks[task_id].cancelled
        assert journal.task_id() is None  # cancelled: the next attempt may create anew
        fake.polls_to_finish, fake.queued_polls = 3, 1
        result = client.generate(request, tmp_path / "b.mp4", journal)
    assert creates(fake) == [task_id, result.task_id]


def test_a_running_task_past_max_wait_is_kept_and_polled_again(
    fake: FakeVideoServer, frame: Path, tmp_path: Path
) -> None:
    fake.polls_to_finish = 1000
    request = VideoRequest(prompt="p", first_frame=frame)
    with (
        Ledger(tmp_path / "ledger.sqlite") as ledger,
        SeedanceClient(KEY, base_url=fake.base_url, max_wait_s=20, sleep=lambda _s: None) as c,
    ):
        journal = ledger.journal("animate:clip1", "seedance", "fake-video")
        with pytest.raises(VideoCallError) as gave_up:
            c.generate(request, tmp_path / "a.mp4", journal)
        assert gave_up.value.state == "running"
        fake.polls_to_finish = fake.polls(creates(fake)[0]) + 2
        result = c.generate(request, tmp_path / "b.mp4", journal)
    assert fake.requests_to(ARK_TASKS, "DELETE") == []  # a running task cannot be cancelled
    assert creates(fake) == [result.task_id]


def test_a_queued_task_left_on_a_model_the_router_left_is_cancelled(
    fake: FakeVideoServer, frame: Path, tmp_path: Path
) -> None:
    # The first model's status answers 400 (not retried), so the router falls back to the
    # second model while the first task is still queued.
    fake.queued_polls = 1000
    fake.add_fault("ark_get", 400, {"error": {"code": "InvalidParameter", "message": "?"}})
    tables = [entry_table(m, "seedance", fake.base_url, 0.5) for m in ("fake-a", "fake-b")]
    roster = Roster.default().merged(tables)
    router = Router(
        roster,
        overrides={"animate": "fake-a"},
        environ=ENV,
        sleep=lambda _s: None,
        offline_fallback=False,
    )
    with Ledger(tmp_path / "ledger.sqlite") as ledger:
        calls = Dispatch(router, ledger, [EP], seed=1, environ=ENV)
        used = animate(calls, 1, frame, tmp_path / "clips", lambda _s: None)
    first, second = creates(fake)
    assert used == "fake-b"
    assert [r.path for r in fake.requests_to(ARK_TASKS, "DELETE")] == [f"{ARK_TASKS}/{first}"]
    assert fake.tasks[first].cancelled and not fake.tasks[second].cancelled


# --- a run killed while clips are in flight ------------------------------------------------

CLIPS = 3


def child(argv: list[str]) -> None:
    """The killed run: animate CLIPS shots at once, polling for real, until killed."""
    base_url, ledger_path, frame, out_dir = argv
    calls = make_dispatch(base_url, Ledger(Path(ledger_path)), timeout_s=0.5, poll_s=0.02)
    threads = [
        threading.Thread(target=animate, args=(calls, i, Path(frame), Path(out_dir), time.sleep))
        for i in range(CLIPS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_a_run_killed_mid_video_resumes_without_creating_any_clip_twice(
    fake: FakeVideoServer, frame: Path, tmp_path: Path
) -> None:
    fake.polls_to_finish = 10**9  # nothing finishes before the kill
    ledger_path, out_dir = tmp_path / "ledger.sqlite", tmp_path / "clips"

    def in_flight() -> bool:
        gets = [r.path for r in fake.requests if r.method == "GET"]
        tasks = list(fake.tasks)
        return len(tasks) == CLIPS and all(sum(p.endswith(t) for p in gets) >= 3 for t in tasks)

    code = "import sys; from tests.test_video_durable import child; child(sys.argv[1:])"
    args = [fake.base_url, str(ledger_path), str(frame), str(out_dir)]
    with (tmp_path / "child.log").open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, stderr=log)
        try:
            while not fake.wait_for(in_flight, 1.0):
                assert proc.poll() is None, (tmp_path / "child.log").read_text()
        finally:
            proc.kill()
            proc.wait()
    assert not list(out_dir.glob("*.mp4"))
    tasks = creates(fake)

    fake.polls_to_finish = max(fake.polls(t) for t in tasks) + 2
    with Ledger(ledger_path) as ledger:
        left = ledger.interrupted(EP)
        calls = make_dispatch(fake.base_url, ledger)
        for i in range(CLIPS):
            animate(calls, i, frame, out_dir, lambda _s: None)
        after = ledger.interrupted(EP)
        spent = ledger.spent(EP)
    assert creates(fake) == tasks  # exactly one create per clip
    assert len(list(out_dir.glob("*.mp4"))) == CLIPS
    assert sorted(r["job"] for r in left) == sorted(tasks)
    assert [(r["task"], r["agent"], r["reserved_usd"], r["resumed"]) for r in left] == [
        ("animate", "editor", 0.1, False)
    ] * CLIPS
    assert sorted(r["job"] for r in after) == sorted(tasks)
    assert all(r["resumed"] for r in after)
    assert spent == pytest.approx(CLIPS * 0.05)


# --- synchronous calls in flight -----------------------------------------------------------


def test_interrupted_lists_calls_a_dead_process_left_reserved(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with Ledger(path) as dead:
        dead.reserve("keyframe:k1", [EP], 0.04, agent="director", model="img", shot="s01")
        with pytest.raises(KeyboardInterrupt), dead.charge("voice:v1", [EP], 0.01, task="voice"):
            raise KeyboardInterrupt  # Ctrl-C: the call's outcome is unknown, like a kill
        with dead.charge("voice:v2", [EP], 0.01, task="voice"):
            pass
    with Ledger(path) as resumed:
        resumed.reserve("keyframe:k2", [EP], 0.04)  # this process's own call in flight
        before = resumed.interrupted(EP)
        with resumed.charge("keyframe:k1", [EP], 0.04, agent="director", model="img"):
            pass
        after = resumed.interrupted(EP)
    assert [(r["call_key"], r["reserved_usd"], r["resumed"]) for r in before] == [
        ("keyframe:k1", 0.04, False),
        ("voice:v1", 0.01, False),
    ]
    assert before[0] | {"reserved_at": 0} == {
        "call_key": "keyframe:k1",
        "agent": "director",
        "task": "",
        "model": "img",
        "shot": "s01",
        "reserved_usd": 0.04,
        "reserved_at": 0,
        "resumed": False,
        "job": None,
    }
    assert [(r["call_key"], r["resumed"]) for r in after] == [
        ("keyframe:k1", True),
        ("voice:v1", False),
    ]
