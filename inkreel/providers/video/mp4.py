"""Checking a downloaded clip with ffmpeg: a whole MP4, its duration and whether it has sound.

The ffmpeg binary is the one imageio-ffmpeg ships (it ships no ffprobe): copying every stream
to the null muxer reads the whole file, and the input header it prints gives the duration
and the streams.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import TypedDict

import imageio_ffmpeg

from inkreel.providers.video.errors import VideoCallError

# ffmpeg reads a whole clip to the null muxer in well under this, even a long one.
FFMPEG_TIMEOUT_S = 120.0
_DURATION = re.compile(r"Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)")
_AUDIO_STREAM = re.compile(r"Stream #\d+:\d+.*: Audio: ")
_PROBLEM = re.compile(r"\[(?:error|fatal)\] (.*)")


class Mp4Info(TypedDict):
    seconds: float | None
    has_audio: bool


def inspect_mp4(path: Path) -> Mp4Info:
    """Check that ``path`` is a whole MP4 and say how long it is and whether it has sound.

    An empty file, one that does not start with an ``ftyp`` box (an HTML page, say) and one
    ffmpeg cannot read to the end (a cut-off download) raise
    ``VideoCallError("invalid_output")`` saying which.
    """
    try:
        with path.open("rb") as f:
            head = f.read(12)
    except OSError as exc:
        raise VideoCallError("invalid_output", f"no video at {path}: {exc}") from None
    if not head:
        raise VideoCallError("invalid_output", "the downloaded video is empty")
    if head[4:8] != b"ftyp":
        raise VideoCallError(
            "invalid_output",
            f"the download is not an MP4 (it does not start with an ftyp box; "
            f"first bytes {head!r})",
        )
    header, problems = _read_with_ffmpeg(path)
    if problems:
        raise VideoCallError(
            "invalid_output",
            f"the downloaded video is not a whole MP4 (ffmpeg: {problems[0]}; truncated download?)",
        )
    return {"seconds": _seconds(header), "has_audio": bool(_AUDIO_STREAM.search(header))}


def _read_with_ffmpeg(path: Path) -> tuple[str, list[str]]:
    """ffmpeg's description of the input, and the errors it met reading every packet."""
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "level+info",
        "-i",
        str(path),
        "-map",
        "0",
        "-c",
        "copy",
        "-f",
        "null",
        "-",
    ]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, errors="replace", timeout=FFMPEG_TIMEOUT_S
        )
    except subprocess.TimeoutExpired:
        return "", [f"reading the file took over {FFMPEG_TIMEOUT_S:.0f} s"]
    log = done.stderr
    header = log.split("Output #", 1)[0]
    problems = [m.group(1).strip() for m in _PROBLEM.finditer(log)]
    if done.returncode != 0 and not problems:
        problems = [f"exit status {done.returncode}"]
    return header, problems


def _seconds(header: str) -> float | None:
    match = _DURATION.search(header)
    if match is None:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
