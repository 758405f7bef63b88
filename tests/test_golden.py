"""The delivered files of a fixed-seed episode, byte for byte (a refactor must not move them).

The SHA-256 of every file the manifest lists is compared with `data/golden_episode.json`.
A change that is meant to alter the output (a new drawing, another mix) rewrites it:

    INKREEL_UPDATE_GOLDEN=1 pytest tests/test_golden.py

and says in its commit which files changed and why. The hashes are those of this project's
pinned toolchain (numpy, Pillow, the ffmpeg that imageio-ffmpeg ships).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from typer.testing import CliRunner

from inkreel import cli
from inkreel.schemas import Manifest

from .conftest import IDEA

GOLDEN = Path(__file__).parent / "data" / "golden_episode.json"
# Files whose bytes carry the run's own timings or paths, not what it drew or played.
VOLATILE_KINDS = frozenset({"run_report"})
runner = CliRunner()


def delivered_hashes(root: Path, episode: str) -> dict[str, str]:
    """Every delivered file's SHA-256, by its path in the episode's project."""
    folder = root / "episodes" / episode
    manifest = Manifest.model_validate_json((folder / "manifest.json").read_text("utf-8"))
    return {
        a.path: hashlib.sha256((root / a.path).read_bytes()).hexdigest()
        for a in sorted(manifest.artifacts, key=lambda a: a.path)
        if a.kind not in VOLATILE_KINDS
    }


def test_a_fixed_seed_episode_delivers_the_same_bytes(tmp_path: Path) -> None:
    root = tmp_path / "golden"
    made = runner.invoke(
        cli.app,
        ["produce", IDEA, "-o", str(root), "--length", "10", "--seed", "7", "--title-card"],
    )
    assert made.exit_code == 0, made.output
    hashes = delivered_hashes(root, "ep01")
    if os.environ.get("INKREEL_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(json.dumps(hashes, indent=1) + "\n", encoding="utf-8")
    expected = json.loads(GOLDEN.read_text("utf-8"))
    changed = sorted(p for p in expected.keys() | hashes.keys() if expected.get(p) != hashes.get(p))
    assert not changed, f"{len(changed)} delivered file(s) differ from the golden run: {changed}"
    assert any(p.endswith("episode.mp4") for p in hashes)
