"""File-producing calls: the hosted producers and the checks every answer must pass.

The agents hand `Dispatch.media` a producer per model: the offline one draws or speaks
locally, the hosted ones below call the provider through its client. Whatever produced it,
an answer is accepted only if it decodes: `accept_png` (a whole image, re-encoded to PNG and
fitted to the frame), `accept_wav` (a whole RIFF/WAVE file) and `accept_mp4` (an MP4 with a
video track and a duration).
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Mapping
from pathlib import Path

from PIL import Image

from inkreel.providers.dispatch import BadPayload, Dispatch
from inkreel.providers.roster import ModelEntry
from inkreel.schemas.design import Voice

FRAME = (1280, 720)


def accept_png(data: bytes, size: tuple[int, int] = FRAME) -> bytes:
    """The image as a PNG of exactly `size` (cropped to the aspect, then resized)."""
    from inkreel.providers.openai_compat import ProviderCallError, _as_png

    try:
        png = _as_png(data, "image")
    except ProviderCallError as exc:
        raise BadPayload(str(exc)) from None
    with Image.open(io.BytesIO(png)) as im:
        if im.size == size and im.mode == "RGB":
            return png
        image = im.convert("RGB")
    w, h = image.size
    target = size[0] / size[1]
    if w / h > target:  # too wide: crop the sides
        cw = round(h * target)
        image = image.crop(((w - cw) // 2, 0, (w - cw) // 2 + cw, h))
    elif w / h < target:
        ch = round(w / target)
        image = image.crop((0, (h - ch) // 2, w, (h - ch) // 2 + ch))
    out = io.BytesIO()
    image.resize(size, Image.Resampling.LANCZOS).save(out, format="PNG")
    return out.getvalue()


def accept_wav(data: bytes) -> bytes:
    from inkreel.providers.openai_compat import decode_wav

    try:
        samples, rate = decode_wav(data)
    except ValueError as exc:
        raise BadPayload(f"the audio does not decode as WAV: {exc} ({len(data)} bytes)") from None
    if samples.size < rate // 20:
        raise BadPayload(f"the audio is {samples.size / rate:.3f} s long")
    return data


def accept_mp4(data: bytes) -> bytes:
    from inkreel.providers.video import VideoCallError, inspect_mp4

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.mp4"
        path.write_bytes(data)
        try:
            info = inspect_mp4(path)
        except VideoCallError as exc:
            raise BadPayload(str(exc)) from None
    if not info["seconds"]:
        raise BadPayload("the clip has no duration")
    return data


def hosted_image(
    calls: Dispatch, entry: ModelEntry, prompt: str, references: list[Path]
) -> tuple[bytes, Mapping[str, float]]:
    """A keyframe from an OpenAI-compatible image model: an edit guided by the references."""
    from inkreel.providers.openai_compat import OpenAIImages

    assert entry.base_url
    client = OpenAIImages(entry.model, entry.base_url, calls.key(entry), entry.timeout_s)
    size = f"{FRAME[0]}x{FRAME[1]}"
    data = client.edit(prompt, references, size) if references else client.generate(prompt, size)
    return data, {"images": 1}


def hosted_speech(
    calls: Dispatch, entry: ModelEntry, text: str, voice: Voice, language: str
) -> tuple[bytes, Mapping[str, float]]:
    from inkreel.providers.openai_compat import OpenAISpeech

    assert entry.base_url
    client = OpenAISpeech(entry.model, entry.base_url, calls.key(entry), entry.timeout_s)
    return client.speak(text, voice), {"speech_chars": len(text)}


def hosted_video(
    calls: Dispatch,
    entry: ModelEntry,
    prompt: str,
    first_frame: Path,
    references: list[Path],
    duration_s: int,
    seed: int,
) -> tuple[bytes, Mapping[str, float]]:
    """A clip from Seedance (Ark) or Vidu, animated from the shot's keyframe."""
    from inkreel.providers.video import SeedanceClient, VideoRequest, ViduClient

    assert entry.base_url
    kind = SeedanceClient if entry.provider in ("ark", "byteplus", "seedance") else ViduClient
    client = kind(
        api_key=calls.key(entry),
        base_url=entry.base_url,
        model=entry.model,
        timeout_s=min(60.0, entry.timeout_s),
        poll_interval_s=calls.video_poll_s,
        max_wait_s=entry.timeout_s,
    )
    request = VideoRequest(
        prompt=prompt,
        first_frame=first_frame,
        references=references,
        duration_s=duration_s,
        seed=seed,
    )
    try:
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "clip.mp4"
            result = client.generate(request, out)
            data = out.read_bytes()
    finally:
        client.close()
    seconds = result.seconds or float(duration_s)
    return data, {"video_seconds": seconds}
