"""Checking a downloaded clip: a whole MP4, its duration and whether it has sound."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TypedDict

from inkreel.providers.video.errors import VideoCallError


def _box_header(buf: bytes, offset: int, end: int) -> tuple[str, int, int] | None:
    """(type, header length, box size) of the ISO-BMFF box at offset, or None if malformed."""
    if end - offset < 8:
        return None
    size = int.from_bytes(buf[offset : offset + 4], "big")
    kind = buf[offset + 4 : offset + 8].decode("latin-1")
    header = 8
    if size == 1:
        if end - offset < 16:
            return None
        size = int.from_bytes(buf[offset + 8 : offset + 16], "big")
        header = 16
    elif size == 0:
        size = end - offset
    if size < header:
        return None
    return kind, header, size


def _mvhd_seconds(moov: bytes) -> float | None:
    offset = 0
    while offset < len(moov):
        box = _box_header(moov, offset, len(moov))
        if box is None:
            return None
        kind, header, size = box
        if kind == "mvhd":
            body = moov[offset + header : offset + size]
            if not body:
                return None
            if body[0] == 1 and len(body) >= 32:
                timescale = int.from_bytes(body[20:24], "big")
                duration = int.from_bytes(body[24:32], "big")
            elif len(body) >= 20:
                timescale = int.from_bytes(body[12:16], "big")
                duration = int.from_bytes(body[16:20], "big")
            else:
                return None
            return duration / timescale if timescale else None
        offset += size
    return None


_SOUND_HANDLER = re.compile(rb"hdlr.{8}soun", re.DOTALL)


class Mp4Info(TypedDict):
    seconds: float | None
    has_audio: bool


def inspect_mp4(path: Path) -> Mp4Info:
    """Check that ``path`` is a whole MP4 and say how long it is and whether it has sound.

    The top-level boxes must start with ``ftyp``, include ``moov`` and end exactly at the end
    of the file, which an empty, HTML or cut-off download does not. Raises
    ``VideoCallError("invalid_output")``.
    """
    try:
        total = path.stat().st_size
    except OSError as exc:
        raise VideoCallError("invalid_output", f"no video at {path}: {exc}") from None
    if total == 0:
        raise VideoCallError("invalid_output", "the downloaded video is empty")
    moov: bytes | None = None
    offset = 0
    with path.open("rb") as f:
        while offset < total:
            f.seek(offset)
            head = f.read(16)
            if offset == 0 and head[4:8] != b"ftyp":
                raise VideoCallError(
                    "invalid_output",
                    f"the download is not an MP4 (it does not start with an ftyp box; "
                    f"first bytes {head[:12]!r})",
                )
            box = _box_header(head, 0, min(len(head), total - offset))
            if box is None or offset + box[2] > total:
                raise VideoCallError(
                    "invalid_output",
                    f"the downloaded video is not a whole MP4 (box at byte {offset} "
                    f"runs past the end of the {total}-byte file; truncated download?)",
                )
            kind, header, size = box
            if kind == "moov":
                f.seek(offset + header)
                moov = f.read(size - header)
            offset += size
    if moov is None:
        raise VideoCallError("invalid_output", "the downloaded MP4 has no moov box")
    return {"seconds": _mvhd_seconds(moov), "has_audio": bool(_SOUND_HANDLER.search(moov))}
