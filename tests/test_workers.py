"""A series overnight on worker processes: PostgreSQL (checkpoints, ledger, queue), a chroma
server (the asset memory), a hosted text model (the local OpenAI-compatible test server).

Each test makes a project on a fresh database, queues a batch of three short episodes that
share their characters (`inkreel batch --queue`) and runs `inkreel worker` processes on it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from inkreel import cli
from inkreel.pg import connect, schema_name
from inkreel.project import Project
from inkreel.providers.budget import Ledger
from inkreel.providers.shared_limits import SHARED_SCHEMA, SharedRateLimiter
from inkreel.queue import queue_counts
from inkreel.series.morning import morning_report
from tests.chroma_server import chroma_url  # noqa: F401
from tests.fake_openai import FakeOpenAI
from tests.postgres_server import database_url, postgres  # noqa: F401
from tests.tcp_proxy import TcpProxy

KEY_ENV = "SERIES_LLM_KEY"
IDEAS = [
    "A lighthouse keeper named Mei finds a message in a bottle from a girl called Aiko.",
    "Mei and Aiko repair the lighthouse lamp before the storm.",
    "Mei teaches Aiko to read the stars from the lighthouse gallery.",
]
# Fast enough to stall: a killed worker's job goes back on the queue after 2 s of silence.
FAST = ["--heartbeat", "0.5", "--stalled", "2"]
runner = CliRunner()


@pytest.fixture
def fake_llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def series(root: Path, database: str, memory: str, base_url: str) -> Path:
    """A project whose text tasks go to the test server, on the shared services."""
    root.mkdir(parents=True)
    (root / "inkreel.toml").write_text(
        "width = 640\nheight = 360\nfps = 12\nmusic = false\nretry_base_delay_s = 0\n"
        'text_model = "series-llm"\n'
        "[storage]\n"
        f'database = "{database}"\nmemory = "{memory}"\n'
        "[[models]]\n"
        'id = "series-llm"\ncapability = "text"\nprovider = "openai"\nmodel = "test-model"\n'
        f'base_url = "{base_url}"\napi_key_env = "{KEY_ENV}"\ntier = 3\n'
        'tasks = ["write", "design", "storyboard"]\n'
        "price = { usd_per_1k_input_tokens = 0.001, usd_per_1k_output_tokens = 0.002 }\n",
        encoding="utf-8",
    )
    night = root.parent / "night.txt"
    night.write_text("\n".join(IDEAS) + "\n", encoding="utf-8")
    env = {KEY_ENV: "sk-series"}
    queue = ["batch", str(night), "-o", str(root), "--queue", "--length", "10"]
    alone = runner.invoke(cli.app, queue, env=env)
    assert alone.exit_code == 2, alone.output  # no worker: an error, but the episodes wait
    assert "Queued 3 episode(s)" in alone.output
    assert "no worker serves this project" in " ".join(alone.output.split())
    queued = runner.invoke(cli.app, [*queue, "--workers-later"], env=env)
    assert queued.exit_code == 0, queued.output
    assert "Queued 0 episode(s)" in queued.output and "(3 already waiting)" in queued.output
    assert "No worker is running yet" in queued.output
    return root


def start_worker(root: Path, *extra: str) -> subprocess.Popen[str]:
    env = {**os.environ, KEY_ENV: "sk-series", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "inkreel.cli",
            "worker",
            "-o",
            str(root),
            "--until-empty",
            *FAST,
            *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def into_first_episode(worker: subprocess.Popen[str]) -> list[str]:
    """The worker's lines until it is well into its first episode (its storyboard planned);
    the last one names the episode."""
    assert worker.stdout is not None
    seen = []
    for line in worker.stdout:
        seen.append(line)
        if "Director planned the storyboard" in line:
            break
    return seen


def finish(worker: subprocess.Popen[str]) -> str:
    out, _ = worker.communicate(timeout=600)
    assert worker.returncode == 0, out
    return out


def ledger_counts(project: Project) -> tuple[int, int, dict[str, int]]:
    """The hosted model's charges (paid or failed calls), its interrupted calls, and successful
    charges per call (the offline engine's calls are in the ledger too, at $0)."""
    with Ledger.open(project) as ledger:
        charges = ledger._db.execute(
            "SELECT call_key, ok FROM charges WHERE model = ?", ("series-llm",)
        ).fetchall()
        interrupted = ledger._db.execute(
            "SELECT count(*) FROM interrupted_calls WHERE model = ?", ("series-llm",)
        ).fetchone()[0]
    paid: dict[str, int] = {}
    for key, ok in charges:
        paid[key] = paid.get(key, 0) + int(ok)
    return len(charges), int(interrupted), paid


def check_series(root: Path) -> None:
    """Every episode delivered, each character designed once, the same one in every episode."""
    for episode in ("ep01", "ep02", "ep03"):
        assert (root / "episodes" / episode / "episode.mp4").is_file(), episode
    ids: dict[str, set[str]] = {}
    for episode in ("ep01", "ep02", "ep03"):
        cast = json.loads((root / "episodes" / episode / "cast.json").read_text("utf-8"))
        for name, asset in cast["characters"].items():
            ids.setdefault(name.upper(), set()).add(asset["id"])
    assert {"MEI", "AIKO"} <= set(ids)
    assert all(len(found) == 1 for found in ids.values()), ids
    designed = [p for p in (root / "assets" / "characters").iterdir() if p.is_dir()]
    assert len(designed) == len(ids), (designed, ids)


def test_three_episodes_on_two_workers_are_made_once_and_paid_once(
    tmp_path: Path,
    database_url: str,  # noqa: F811
    chroma_url: str,  # noqa: F811
    fake_llm: FakeOpenAI,
) -> None:
    root = series(tmp_path / "series", database_url, chroma_url, fake_llm.base_url)
    first, second = start_worker(root), start_worker(root)
    logs = finish(first) + finish(second)
    assert logs.count(": delivered") == 3, logs
    check_series(root)
    project = Project.open(root)
    counts = queue_counts(project)
    assert (counts.todo, counts.doing, counts.succeeded) == (0, 0, 3)
    charges, interrupted, paid = ledger_counts(project)
    assert charges == len(fake_llm.requests_to("chat")) > 0
    assert interrupted == 0 and all(n == 1 for n in paid.values())
    report = morning_report(project)
    assert [e.name for e in report.episodes] == ["ep01", "ep02", "ep03"]
    assert all(e.status == "finished" and e.spend.usd > 0 for e in report.episodes)
    made = runner.invoke(cli.app, ["report", "-o", str(root)])
    assert made.exit_code == 0, made.output
    markdown = next((root / "reports").glob("*.md")).read_text("utf-8")
    for e in report.episodes:
        assert e.name in markdown and f"{e.spend.usd:.4f}" in markdown


def test_a_worker_killed_mid_episode_leaves_it_to_the_other(
    tmp_path: Path,
    database_url: str,  # noqa: F811
    chroma_url: str,  # noqa: F811
    fake_llm: FakeOpenAI,
) -> None:
    root = series(tmp_path / "series", database_url, chroma_url, fake_llm.base_url)
    doomed = start_worker(root)
    seen = into_first_episode(doomed)
    survivor = start_worker(root)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=60)
    logs = finish(survivor)
    killed = seen[-1].split(":")[0]
    assert f"{killed}: resuming from its checkpoint" in logs, logs
    assert "stalled job(s) of a dead worker back on the queue" in logs, logs
    check_series(root)
    project = Project.open(root)
    counts = queue_counts(project)
    assert (counts.todo, counts.doing, counts.succeeded) == (0, 0, 3)
    charges, interrupted, paid = ledger_counts(project)
    requests = len(fake_llm.requests_to("chat"))
    # A call in flight when the worker died is sent again (and counted as interrupted).
    assert charges <= requests <= charges + interrupted
    assert all(n == 1 for n in paid.values()), paid


def test_bad_storage_is_one_clear_error(tmp_path: Path, database_url: str) -> None:  # noqa: F811
    root = tmp_path / "p"
    Project.open(root)
    night = tmp_path / "night.txt"
    night.write_text(IDEAS[0] + "\n", encoding="utf-8")
    queue = ["batch", str(night), "-o", str(root), "--queue"]
    worker = ["worker", "-o", str(root), "--database", database_url]
    unset = {"INKREEL_DATABASE_URL": "", "INKREEL_MEMORY_URL": ""}
    cases = [
        (queue, "the queue lives in PostgreSQL"),
        (
            [*queue, "--database", "mysql://x/y"],
            "is not a PostgreSQL URL",
        ),
        (
            [*queue, "--database", "postgresql://nobody@127.0.0.1:9/none"],
            "cannot reach the database at postgresql://nobody@127.0.0.1:9/none",
        ),
        (
            worker,
            "workers share one asset memory, a chroma server",
        ),
        (
            [*worker, "--memory", "http://127.0.0.1:9"],
            "cannot reach the asset memory at http://127.0.0.1:9",
        ),
        (["worker", "-o", str(tmp_path / "nothing")], "is not an inkreel project"),
    ]
    for args, message in cases:
        result = runner.invoke(cli.app, args, env=unset)
        assert result.exit_code == 2, (args, result.output)
        assert message in " ".join(result.output.split()), (args, result.output)
    assert not (root / "episodes").exists()  # nothing half-made


def test_a_copy_of_the_project_directory_is_not_shared(
    tmp_path: Path,
    database_url: str,  # noqa: F811
) -> None:
    original = tmp_path / "shared"
    Project.open(original)
    (original / "inkreel.toml").write_text(
        f'[storage]\ndatabase = "{database_url}"\n', encoding="utf-8"
    )
    copy = tmp_path / "copy"
    shutil.copytree(original, copy)
    # A live worker (another process: its own token) serving the original directory.
    project = Project.open(original)
    with connect(database_url, schema_name(project.id)) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS workers (token TEXT PRIMARY KEY, host TEXT NOT NULL, "
            "root TEXT NOT NULL, seen_at DOUBLE PRECISION NOT NULL)"
        )
        conn.execute(
            "INSERT INTO workers VALUES ('abc123-4242-1', 'render-2', %s, %s)",
            (str(original), time.time()),
        )
    (original / "workers").mkdir()
    (original / "workers" / "abc123-4242-1").write_text("{}", encoding="utf-8")
    night = tmp_path / "night.txt"
    night.write_text(IDEAS[0] + "\n", encoding="utf-8")
    refused = runner.invoke(cli.app, ["batch", str(night), "-o", str(copy), "--queue"])
    assert refused.exit_code == 2, refused.output
    said = " ".join(refused.output.split())
    assert f"{copy} is not the project directory that the worker on render-2 uses" in said
    assert queue_counts(Project.open(original)).todo == 0  # nothing queued from the copy
    queued = runner.invoke(cli.app, ["batch", str(night), "-o", str(original), "--queue"])
    assert queued.exit_code == 0, queued.output
    assert "1 waiting, 0 running" in queued.output and "No worker" not in queued.output


def test_an_endpoints_limits_hold_across_workers(database_url: str) -> None:  # noqa: F811
    """Two workers' limiters of one endpoint: one call in flight, one call a minute, between
    them; a dead worker's slot is free again."""
    first = SharedRateLimiter(database_url, SHARED_SCHEMA, "https://api.example", 1, 1)
    second = SharedRateLimiter(database_url, SHARED_SCHEMA, "https://api.example", 1, 1)
    other = SharedRateLimiter(database_url, SHARED_SCHEMA, "https://other.example", None, 1)
    assert first.try_slot() and first.in_flight == 1
    assert not second.try_slot() and second.in_flight == 0
    assert other.try_slot()  # another endpoint has its own slots
    assert first.try_token() == 0.0
    assert 55.0 < second.try_token() <= 60.0  # the minute's one call is taken
    # The worker dies: the server ends its session, and so frees its slot. (A client's own
    # close returns before the server has ended the session: wait for the end, up to 5 s.)
    with connect(database_url) as admin:
        pid = first._conn.info.backend_pid
        assert admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,)).fetchone()[0]
    first.close()
    assert second.try_slot()
    second.release()
    for limiter in (second, other):
        limiter.close()


HOLDER = """
import sys
from inkreel.project import Project
from inkreel.providers.budget import Ledger
ledger = Ledger.open(Project.open(sys.argv[1]))
key = sys.argv[2]
ledger.reserve(key, [("episode", "ep01")], 0.04, model="img")
print("reserved", flush=True)
if sys.stdin.readline().strip() == "pay":
    ledger.reconcile(key, 0.04, ok=True, result="the image")
    print("paid", flush=True)
    sys.stdin.readline()
"""


def test_a_call_another_live_worker_is_making_is_waited_for_not_paid_twice(
    tmp_path: Path,
    database_url: str,  # noqa: F811
) -> None:
    root = tmp_path / "p"
    Project.open(root)
    (root / "inkreel.toml").write_text(f'[storage]\ndatabase = "{database_url}"\n', "utf-8")
    project = Project.open(root)
    ep = [("episode", "ep01")]

    def holder(key: str) -> subprocess.Popen[str]:
        worker = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(root), key],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert worker.stdout is not None and worker.stdout.readline().strip() == "reserved"
        return worker

    live = holder("keyframe:k1")
    assert live.stdin is not None and live.stdout is not None
    with Ledger.open(project) as ledger:
        # The other worker's call is in flight: this one waits instead of paying again.
        assert ledger._try_reserve("keyframe:k1", ep, 40_000, ("", "img", "", "")) is None
        live.stdin.write("pay\n")
        live.stdin.flush()
        assert live.stdout.readline().strip() == "paid"
        again = ledger.reserve("keyframe:k1", ep, 0.04, model="img")
        assert again.already_paid and ledger.result_for("keyframe:k1") == "the image"
        live.communicate("\n", timeout=60)
        # A worker killed with its call in flight: the call is made again, and listed.
        dead = holder("keyframe:k2")
        dead.kill()
        dead.wait(timeout=60)
        retried = ledger.reserve("keyframe:k2", ep, 0.04, model="img")
        assert not retried.already_paid
        interrupted = ledger.interrupted(("episode", "ep01"))
    assert [(r["call_key"], r["resumed"]) for r in interrupted] == [("keyframe:k2", True)]


def test_a_worker_that_loses_the_database_stops_and_its_episode_is_resumed(
    tmp_path: Path,
    database_url: str,  # noqa: F811
    chroma_url: str,  # noqa: F811
    fake_llm: FakeOpenAI,
) -> None:
    root = series(tmp_path / "series", database_url, chroma_url, fake_llm.base_url)
    address = urlsplit(database_url)
    with TcpProxy(address.hostname or "127.0.0.1", address.port or 5432) as proxy:
        through = address._replace(netloc=f"postgres@127.0.0.1:{proxy.port}").geturl()
        cut_off = start_worker(root, "--database", through)
        seen = into_first_episode(cut_off)
        proxy.cut()
        out, _ = cut_off.communicate(timeout=120)
    log = "".join(seen) + out
    assert cut_off.returncode == 2, log
    assert "lost the database" in log and "Traceback" not in log, log
    stopped = seen[-1].split(":")[0]
    assert not (root / "episodes" / stopped / "episode.mp4").exists()
    later = finish(start_worker(root))
    assert f"{stopped}: resuming from its checkpoint" in later, later
    check_series(root)
    counts = queue_counts(Project.open(root))
    assert (counts.todo, counts.doing, counts.succeeded) == (0, 0, 3)
