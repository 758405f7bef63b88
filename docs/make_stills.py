"""Regenerate the README stills: a character sheet, a storyboard and two episode frames.

Usage: python docs/make_stills.py   (writes docs/stills/*.png, each well under 300 KB)
It produces a short offline episode in a temporary project, so the stills always show what
the current renderer makes.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from imageio_ffmpeg import get_ffmpeg_exe
from PIL import Image

from inkreel.schemas import StoryboardFile, Timeline

OUT = Path(__file__).resolve().parent / "stills"
IDEA = "Detective Kai chases a stolen jade dragon through the night market with Lena."
LIMIT = 300_000


def save_small(image: Image.Image, path: Path, width: int) -> Path:
    """Save a downscaled, palette-quantised PNG; shrink further until under the size limit."""
    while True:
        small = image.convert("RGB")
        small.thumbnail((width, width * 2))
        small.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
        if path.stat().st_size < LIMIT * 0.8 or width < 320:
            return path
        width = int(width * 0.85)


def frame_at(video: Path, seconds: float, out: Path) -> Image.Image:
    subprocess.run(
        [
            get_ffmpeg_exe(),
            "-y",
            "-loglevel",
            "error",
            "-ss",
            f"{seconds:.2f}",
            "-i",
            str(video),
            "-frames:v",
            "1",
            str(out),
        ],
        check=True,
    )
    return Image.open(out)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="inkreel-stills-") as tmp:
        root = Path(tmp) / "series"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "inkreel.cli",
                "produce",
                IDEA,
                "-o",
                str(root),
                "--length",
                "30",
                "--episode",
                "stills",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        folder = root / "episodes" / "stills"
        board = StoryboardFile.model_validate_json((folder / "storyboard.json").read_text())
        lead = next(iter(board.cast.values()))
        save_small(Image.open(root / lead.sheet), OUT / "character-sheet.png", 800)
        save_small(Image.open(folder / "storyboard.png"), OUT / "storyboard.png", 900)
        # One dialogue close-up and one wider two-character shot, from the middle of each shot.
        timeline = Timeline.model_validate_json((folder / "timeline.json").read_text())
        middle = {c.shot_id: (c.start + c.frames / 2) / timeline.fps for c in timeline.video}
        close = next((s for s in board.shots if s.speaker and s.framing.value == "close_up"), None)
        wide = next((s for s in board.shots if len(s.blocking) > 1 and s.speaker), None)
        for name, shot in (("frame-close-up.png", close), ("frame-two-shot.png", wide)):
            if shot is not None:
                image = frame_at(folder / "episode.mp4", middle[shot.id], Path(tmp) / name)
                save_small(image, OUT / name, 640)
    for path in sorted(OUT.glob("*.png")):
        print(f"{path.relative_to(OUT.parent.parent)}: {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
