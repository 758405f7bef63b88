"""File-producing capabilities: which model answers an entry, the hosted ones, and the checks.

`keyframe_model`, `voice_model` and `animate_model` give the capability (`providers.
capabilities`) that serves a roster entry: the offline stand-in (`offline.stand_ins`) or the
hosted client below. The agents call it from the producer they hand `Dispatch.media`, without
knowing which one answers. Whatever produced it,
an answer is accepted only if it decodes: `accept_png` (a whole image, re-encoded to PNG and
fitted to the frame), `accept_wav` (a whole RIFF/WAVE file) and `accept_mp4` (an MP4 with a
video track and a duration).

In flight when the process dies: a keyframe or a voice is a synchronous call whose file comes
in the answer, with no handle to ask for it again, so the resume sends it again (it may be
paid twice; its reservation stays pending until then and `Ledger.interrupted` lists it with
the amount). A video task is stored in the ledger before it is polled, and the resume polls
it instead of paying for a new one (`hosted_video`).
"""

from __future__ import annotations

import io
import logging
import math
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from PIL import Image

from inkreel.providers.budget import JobJournal
from inkreel.providers.capabilities import (
    AnimateModel,
    AnimateRequest,
    KeyframeModel,
    KeyframeRequest,
    Produced,
    VoiceModel,
)
from inkreel.providers.dispatch import BadPayload, Dispatch
from inkreel.providers.offline.stand_ins import OfflineAnimate, OfflineKeyframes, OfflineVoice
from inkreel.providers.openai import (
    OpenAIImages,
    OpenAISpeech,
    ProviderCallError,
    as_png,
    decode_wav,
)
from inkreel.providers.roster import ModelEntry
from inkreel.providers.video import (
    CLIP_SECONDS,
    SeedanceClient,
    VideoCallError,
    VideoRequest,
    ViduClient,
    inspect_mp4,
)
from inkreel.schemas.design import Voice

log = logging.getLogger(__name__)

FRAME = (1280, 720)
# How long a video task may take, queue included: an entry's `timeout_s` bounds one HTTP
# request, and vendors' queues can hold a task for many minutes at busy hours.
VIDEO_MAX_WAIT_S = 3600.0


def accept_png(data: bytes, size: tuple[int, int] = FRAME) -> bytes:
    """The image as a PNG of exactly `size` (cropped to the aspect, then resized)."""

    try:
        png = as_png(data, "image")
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

    try:
        samples, rate = decode_wav(data)
    except ValueError as exc:
        raise BadPayload(f"the audio does not decode as WAV: {exc} ({len(data)} bytes)") from None
    if samples.size < rate // 20:
        raise BadPayload(f"the audio is {samples.size / rate:.3f} s long")
    return data


def accept_mp4(data: bytes) -> bytes:

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


def video_client(
    calls: Dispatch, entry: ModelEntry, sleep: Callable[[float], None]
) -> SeedanceClient | ViduClient:
    """A Seedance (Ark) or Vidu task client for `entry`."""

    assert entry.base_url
    kind = SeedanceClient if entry.provider in ("ark", "byteplus", "seedance") else ViduClient
    return kind(
        api_key=calls.key(entry),
        base_url=entry.base_url,
        model=entry.model,
        timeout_s=entry.timeout_s,
        poll_interval_s=calls.video_poll_s,
        max_wait_s=max(entry.timeout_s, VIDEO_MAX_WAIT_S),
        sleep=sleep,
    )


def hosted_video(
    calls: Dispatch,
    entry: ModelEntry,
    prompt: str,
    first_frame: Path,
    references: list[Path],
    duration_s: int,
    seed: int,
    *,
    journal: JobJournal | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[bytes, Mapping[str, float]]:
    """A clip from Seedance (Ark) or Vidu, animated from the shot's keyframe.

    With `journal` (`Dispatch.journal` of the call) the vendor task is stored in the ledger
    before it is polled, so a retry or a resume of the same call polls it instead of paying
    for a new one, and a queued task the call left on another model is cancelled.
    """

    if journal is not None:
        _cancel_abandoned(calls, entry, journal)
    client = video_client(calls, entry, sleep)
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
            result = client.generate(request, out, journal)
            data = out.read_bytes()
    finally:
        client.close()
    seconds = result.seconds or float(duration_s)
    return data, {"video_seconds": seconds}


def _cancel_abandoned(calls: Dispatch, entry: ModelEntry, journal: JobJournal) -> None:
    """Cancel the call's task on another model (the router fell back), if still queued."""

    job = journal.ledger.job(journal.call_key)
    if job is None or job.model == entry.id or job.state != "created":
        return
    if job.model not in calls.router.roster:
        return
    other = calls.router.roster.get(job.model)
    if not other.base_url or not other.api_key_env or other.api_key_env not in calls.environ:
        log.warning("cannot cancel %s task %s: no endpoint or key", job.model, job.task_id)
        return
    client = video_client(calls, other, time.sleep)
    try:
        state = client.poll(job.task_id)["state"]
        if state == "queued" and client.cancel(job.task_id):
            journal.ledger.set_job_state(job.call_key, job.task_id, "cancelled")
        elif state not in ("cancelled", "failed", "expired"):
            # A running task cannot be cancelled: the vendor will bill it.
            log.warning("%s task %s is %s and left behind", job.model, job.task_id, state)
    except VideoCallError as exc:
        log.warning("cannot cancel %s task %s: %s", job.model, job.task_id, exc)
    finally:
        client.close()


class HostedKeyframes:
    """An OpenAI-compatible image model as a `KeyframeModel`: an edit guided by the references."""

    def __init__(self, calls: Dispatch, entry: ModelEntry) -> None:
        assert entry.base_url
        self.client = OpenAIImages(entry.model, entry.base_url, calls.key(entry), entry.timeout_s)

    def draw(self, request: KeyframeRequest) -> Produced:
        size = f"{FRAME[0]}x{FRAME[1]}"
        if request.references:
            return self.client.edit(request.prompt, request.references, size), {"images": 1}
        return self.client.generate(request.prompt, size), {"images": 1}


class HostedVoice:
    """An OpenAI-compatible speech model as a `VoiceModel`."""

    def __init__(self, calls: Dispatch, entry: ModelEntry) -> None:
        assert entry.base_url
        self.client = OpenAISpeech(entry.model, entry.base_url, calls.key(entry), entry.timeout_s)

    def speak(self, text: str, voice: Voice, language: str) -> Produced:
        return self.client.speak(text, voice), {"speech_chars": len(text)}


class HostedAnimate:
    """Seedance (Ark) or Vidu as an `AnimateModel`: a clip the editor fits to the shot."""

    finished = False

    def __init__(self, calls: Dispatch, entry: ModelEntry) -> None:
        self.calls = calls
        self.entry = entry

    def clip_seconds(self, seconds: float) -> float:
        low, high = CLIP_SECONDS
        return max(low, min(high, math.ceil(seconds)))

    def animate(self, request: AnimateRequest) -> Produced:
        assert request.first_frame is not None, "a hosted model animates the shot's keyframe"
        return hosted_video(
            self.calls,
            self.entry,
            request.prompt,
            request.first_frame,
            [],
            int(self.clip_seconds(request.seconds)),
            request.seed,
            journal=self.calls.journal("animate", request.key, self.entry),
        )


def keyframe_model(calls: Dispatch, entry: ModelEntry) -> KeyframeModel:
    """The keyframe capability `entry` names: the procedural drawing or a hosted model."""
    return OfflineKeyframes() if entry.offline else HostedKeyframes(calls, entry)


def voice_model(calls: Dispatch, entry: ModelEntry) -> VoiceModel:
    """The voice capability `entry` names: eSpeak NG or a hosted model."""
    return OfflineVoice() if entry.offline else HostedVoice(calls, entry)


def animate_model(calls: Dispatch, entry: ModelEntry) -> AnimateModel:
    """The animate capability `entry` names: the procedural motion or a vendor's model."""
    return OfflineAnimate() if entry.offline else HostedAnimate(calls, entry)
