"""Seedance (Ark) and Vidu clients against a local fake of their task APIs; no real waiting."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from inkreel.providers.retry_after import parse_retry_after
from inkreel.providers.video import (
    ARK_BEIJING,
    SEEDANCE_2_0,
    VIDU_GLOBAL,
    SeedanceClient,
    VideoCallError,
    VideoRequest,
    ViduClient,
    image_data_url,
    inspect_mp4,
)
from tests.fake_video import ARK_TASKS, FakeVideoServer

KEY = "sk-test-SECRET-0123456789abcdef"
POLLS = 3


@pytest.fixture
def fake(mp4s: tuple[bytes, bytes]) -> Iterator[FakeVideoServer]:
    with FakeVideoServer(KEY, silent_mp4=mp4s[0], audio_mp4=mp4s[1], polls_to_finish=POLLS) as f:
        yield f


@pytest.fixture
def frames(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name, colour in (("first", "red"), ("last", "green"), ("ref1", "white"), ("ref2", "gray")):
        paths[name] = tmp_path / "frames" / f"{name}.png"
        paths[name].parent.mkdir(exist_ok=True)
        Image.new("RGB", (64, 36), colour).save(paths[name])
    return paths


@pytest.fixture
def sleeps() -> list[float]:
    return []


def seedance(
    fake: FakeVideoServer, sleeps: list[float], key: str = KEY, **kw: Any
) -> SeedanceClient:
    return SeedanceClient(key, base_url=fake.base_url, sleep=sleeps.append, **kw)


def vidu(fake: FakeVideoServer, sleeps: list[float], key: str = KEY, **kw: Any) -> ViduClient:
    return ViduClient(key, base_url=fake.base_url, sleep=sleeps.append, **kw)


CLIENTS = {"seedance": seedance, "vidu": vidu}


def assert_no_key(exc: BaseException) -> None:
    for text in (str(exc), repr(exc), *map(str, exc.args)):
        assert KEY not in text
    assert exc.__cause__ is None or KEY not in str(exc.__cause__)


def decoded(data_url: str, path: Path) -> bool:
    head, _, payload = data_url.partition(",")
    return head == "data:image/png;base64" and base64.b64decode(payload) == path.read_bytes()


def no_leftovers(out: Path) -> bool:
    return not out.exists() and not any(out.parent.glob(f".{out.stem}.*"))


# --- Seedance (Ark) --------------------------------------------------------------------------


def test_seedance_generates_a_clip_with_the_documented_task_calls(
    fake: FakeVideoServer, frames: dict[str, Path], sleeps: list[float], tmp_path: Path
) -> None:
    req = VideoRequest(
        prompt="Mei turns toward the sea.",
        first_frame=frames["first"],
        last_frame=frames["last"],
        duration_s=5,
        resolution="720p",
        ratio="16:9",
        audio=True,
        seed=7,
    )
    out = tmp_path / "clips" / "shot01.mp4"
    with seedance(fake, sleeps, poll_interval_s=5) as client:
        result = client.generate(req, out)

    (create,) = fake.requests_to(ARK_TASKS, "POST")
    assert create.headers["Authorization"] == f"Bearer {KEY}"
    body = create.json
    assert body["model"] == SEEDANCE_2_0
    assert body["content"][0] == {"type": "text", "text": "Mei turns toward the sea."}
    first, last = body["content"][1:]
    assert (first["type"], first["role"], last["role"]) == (
        "image_url",
        "first_frame",
        "last_frame",
    )
    assert decoded(first["image_url"]["url"], frames["first"])
    assert decoded(last["image_url"]["url"], frames["last"])
    assert (body["duration"], body["ratio"], body["resolution"]) == (5, "16:9", "720p")
    assert (body["generate_audio"], body["seed"], body["watermark"]) == (True, 7, False)

    gets = fake.requests_to(f"{ARK_TASKS}/{result.task_id}", "GET")
    assert len(gets) == fake.polls(result.task_id) == POLLS
    assert all(g.headers["Authorization"] == f"Bearer {KEY}" for g in gets)
    assert sleeps == [5] * (POLLS - 1)
    (download,) = fake.requests_to("/files/")
    assert "Authorization" not in download.headers  # pre-signed URL: the key stays home

    assert result.path == out and out.read_bytes()[4:8] == b"ftyp"
    assert list(out.parent.iterdir()) == [out]  # no temporary file left beside it
    assert (result.provider, result.model) == ("seedance", SEEDANCE_2_0)
    assert result.task_id.startswith("cgt-")
    assert result.has_audio is True
    assert result.seconds == pytest.approx(1.0, abs=0.1)
    assert result.cost_units == {"completion_tokens": 108900, "total_tokens": 108900}


def test_seedance_silent_clip_and_default_region(
    fake: FakeVideoServer, frames: dict[str, Path], sleeps: list[float], tmp_path: Path
) -> None:
    assert SeedanceClient(KEY).base_url == ARK_BEIJING
    with seedance(fake, sleeps) as client:
        result = client.generate(
            VideoRequest(prompt="p", first_frame=frames["first"]), tmp_path / "a.mp4"
        )
    body = fake.requests_to(ARK_TASKS, "POST")[0].json
    assert body["generate_audio"] is False and "seed" not in body
    assert [c.get("role") for c in body["content"]] == [None, "first_frame"]
    assert result.has_audio is False


def test_seedance_references_only_in_reference_mode(
    fake: FakeVideoServer, frames: dict[str, Path], sleeps: list[float], tmp_path: Path
) -> None:
    req = VideoRequest(
        prompt="p", first_frame=frames["first"], references=[frames["ref1"], frames["ref2"]]
    )
    with seedance(fake, sleeps) as client:
        client.create(req)
    with seedance(fake, sleeps, use_references=True) as client:
        client.create(req)
    default, reference = (r.json["content"] for r in fake.requests_to(ARK_TASKS, "POST"))
    assert [c.get("role") for c in default] == [None, "first_frame"]
    assert [c.get("role") for c in reference] == [None, *["reference_image"] * 3]
    assert decoded(reference[1]["image_url"]["url"], frames["first"])
    assert decoded(reference[3]["image_url"]["url"], frames["ref2"])


def test_seedance_legacy_prompt_flags_and_extra_body(
    fake: FakeVideoServer, frames: dict[str, Path], sleeps: list[float]
) -> None:
    req = VideoRequest(prompt="A kite.", first_frame=frames["first"], seed=3, duration_s=10)
    with seedance(
        fake, sleeps, params_in_prompt=True, extra_body={"return_last_frame": True}
    ) as client:
        client.create(req)
    body = fake.requests_to(ARK_TASKS, "POST")[0].json
    assert body["content"][0]["text"] == (
        "A kite. --resolution 720p --ratio 16:9 --duration 10 --watermark false --seed 3"
    )
    assert "duration" not in body and body["return_last_frame"] is True


def test_image_urls_can_come_from_an_uploader(
    fake: FakeVideoServer, frames: dict[str, Path], sleeps: list[float]
) -> None:
    with seedance(fake, sleeps, image_url=lambda p: f"https://bucket.example/{p.name}") as client:
        client.create(VideoRequest(prompt="p", first_frame=frames["first"]))
    content = fake.requests_to(ARK_TASKS, "POST")[0].json["content"]
    assert content[1]["image_url"]["url"] == "https://bucket.example/first.png"


# --- Vidu ------------------------------------------------------------------------------------


def test_vidu_generates_a_clip_with_the_documented_task_calls(
    fake: FakeVideoServer, frames: dict[str, Path], sleeps: list[float], tmp_path: Path
) -> None:
    assert ViduClient(KEY).base_url == VIDU_GLOBAL
    req = VideoRequest(
        prompt="Aiko waves.", first_frame=frames["first"], duration_s=4, audio=True, seed=9
    )
    out = tmp_path / "v.mp4"
    with vidu(fake, sleeps, poll_interval_s=2) as client:
        result = client.generate(req, out)

    (create,) = fake.requests_to("/ent/v2/img2video", "POST")
    assert create.headers["Authorization"] == f"Token {KEY}"
    body = create.json
    assert body["model"] == "viduq3-pro" and body["prompt"] == "Aiko waves."
    assert len(body["images"]) == 1 and decoded(body["images"][0], frames["first"])
    assert (body["duration"], body["resolution"], body["seed"], body["audio"]) == (
        4,
        "720p",
        9,
        True,
    )

    gets = fake.requests_to(f"/ent/v2/tasks/{result.task_id}/creations", "GET")
    assert len(gets) == fake.polls(result.task_id) == POLLS
    assert all(g.headers["Authorization"] == f"Token {KEY}" for g in gets)
    assert sleeps == [2] * (POLLS - 1)
    assert "Authorization" not in fake.requests_to("/files/")[0].headers
    assert out.read_bytes()[4:8] == b"ftyp" and list(tmp_path.glob(".v.*")) == []
    assert (result.provider, result.has_audio, result.cost_units) == ("vidu", True, {"credits": 10})
    assert result.seconds == pytest.approx(1.0, abs=0.1)


def test_vidu_start_end_and_reference_endpoints(
    fake: FakeVideoServer, frames: dict[str, Path], sleeps: list[float]
) -> None:
    with vidu(fake, sleeps, audio_field=None) as client:
        client.create(
            VideoRequest(prompt="p", first_frame=frames["first"], last_frame=frames["last"])
        )
        client.create(
            VideoRequest(prompt="p", first_frame=frames["first"], references=[frames["ref1"]])
        )
    with vidu(fake, sleeps, use_references=True, reference_model="viduq1") as client:
        client.create(
            VideoRequest(
                prompt="@1 waves",
                first_frame=frames["first"],
                references=[frames["ref1"]],
                ratio="9:16",
            )
        )
    (start_end,) = fake.requests_to("/ent/v2/start-end2video")
    assert [
        decoded(u, frames[n])
        for u, n in zip(start_end.json["images"], ("first", "last"), strict=True)
    ] == [
        True,
        True,
    ]
    assert "audio" not in start_end.json
    (plain,) = fake.requests_to("/ent/v2/img2video")  # references ignored outside reference mode
    assert len(plain.json["images"]) == 1
    (ref,) = fake.requests_to("/ent/v2/reference2video")
    assert ref.json["model"] == "viduq1" and ref.json["aspect_ratio"] == "9:16"
    assert decoded(ref.json["images"][1], frames["ref1"])


# --- failures, both vendors ------------------------------------------------------------------

CREATE_ROUTE = {"seedance": "ark_create", "vidu": "vidu_create"}
GET_ROUTE = {"seedance": "ark_get", "vidu": "vidu_get"}


@pytest.mark.parametrize("vendor", CLIENTS)
@pytest.mark.parametrize(
    ("retry_after", "seconds"), [("7", 7.0), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)]
)
def test_429_is_rate_limited_with_retry_after(
    vendor: str,
    retry_after: str,
    seconds: float,
    fake: FakeVideoServer,
    frames: dict[str, Path],
    sleeps: list[float],
) -> None:
    fake.add_fault(
        CREATE_ROUTE[vendor],  # type: ignore[arg-type]
        429,
        {
            "code": 429,
            "reason": "TooManyRequests",
            "error": {"code": "RateLimitExceeded", "message": "slow down"},
        },
        {"Retry-After": retry_after},
    )
    with CLIENTS[vendor](fake, sleeps) as client, pytest.raises(VideoCallError) as info:
        client.generate(
            VideoRequest(prompt="p", first_frame=frames["first"]), frames["first"].parent / "x.mp4"
        )
    err = info.value
    assert (err.kind, err.status, err.retry_after, err.retryable) == (
        "rate_limited",
        429,
        seconds,
        True,
    )
    assert "429" in str(err)
    assert_no_key(err)


@pytest.mark.parametrize("vendor", CLIENTS)
def test_500_is_server_error(
    vendor: str, fake: FakeVideoServer, frames: dict[str, Path], sleeps: list[float]
) -> None:
    fake.add_fault(CREATE_ROUTE[vendor], 500, {"code": 500, "reason": "InternalServiceFailure"})  # type: ignore[arg-type]
    with CLIENTS[vendor](fake, sleeps) as client, pytest.raises(VideoCallError) as info:
        client.create(VideoRequest(prompt="p", first_frame=frames["first"]))
    assert (info.value.kind, info.value.status) == ("server_error", 500)
    assert_no_key(info.value)


@pytest.mark.parametrize("vendor", CLIENTS)
def test_failed_task_carries_the_vendor_error(
    vendor: str, fake: FakeVideoServer, frames: dict[str, Path], sleeps: list[float], tmp_path: Path
) -> None:
    fake.fail_next_task("InternalServiceFailure", "the generation service crashed")
    out = tmp_path / "f.mp4"
    with CLIENTS[vendor](fake, sleeps) as client, pytest.raises(VideoCallError) as info:
        client.generate(VideoRequest(prompt="p", first_frame=frames["first"]), out)
    err = info.value
    assert err.kind == "failed" and err.code == "InternalServiceFailure"
    assert err.task_id is not None
    assert "InternalServiceFailure" in str(err) and err.task_id in str(err)
    if vendor == "seedance":  # Vidu reports only err_code
        assert "the generation service crashed" in str(err)
    assert fake.polls(err.task_id) == POLLS
    assert no_leftovers(out)
    assert_no_key(err)


@pytest.mark.parametrize(
    ("vendor", "code"),
    [("seedance", "OutputVideoSensitiveContentDetected"), ("vidu", "CreationPolicyViolation")],
)
def test_safety_refusals(
    vendor: str, code: str, fake: FakeVideoServer, frames: dict[str, Path], sleeps: list[float]
) -> None:
    fake.fail_next_task(code, "refused")
    with CLIENTS[vendor](fake, sleeps) as client, pytest.raises(VideoCallError) as info:
        client.generate(
            VideoRequest(prompt="p", first_frame=frames["first"]), frames["first"].parent / "r.mp4"
        )
    assert (info.value.kind, info.value.code) == ("refusal", code)


def test_refused_at_creation(
    fake: FakeVideoServer, frames: dict[str, Path], sleeps: list[float]
) -> None:
    fake.add_fault(
        "ark_create",
        400,
        {
            "error": {
                "code": "InputImageSensitiveContentDetected",
                "message": "sensitive",
                "type": "BadRequest",
            }
        },
    )
    fake.add_fault(
        "vidu_create",
        400,
        {"code": 400, "reason": "FieldInvalid", "message": "invalid field: duration"},
    )
    with seedance(fake, sleeps) as s, pytest.raises(VideoCallError) as refused:
        s.create(VideoRequest(prompt="p", first_frame=frames["first"]))
    with vidu(fake, sleeps) as v, pytest.raises(VideoCallError) as bad:
        v.create(VideoRequest(prompt="p", first_frame=frames["first"]))
    assert (refused.value.kind, refused.value.status) == ("refusal", 400)
    assert (bad.value.kind, bad.value.code) == ("bad_request", "FieldInvalid")
    assert "invalid field: duration" in str(bad.value)


@pytest.mark.parametrize("vendor", CLIENTS)
@pytest.mark.parametrize("mode", ["content-length", "close", "html"])
def test_cut_off_or_non_mp4_download_is_invalid_output_and_leaves_nothing(
    vendor: str,
    mode: str,
    fake: FakeVideoServer,
    frames: dict[str, Path],
    sleeps: list[float],
    tmp_path: Path,
) -> None:
    fake.truncate = mode  # type: ignore[assignment]
    out = tmp_path / "clips" / "cut.mp4"
    with CLIENTS[vendor](fake, sleeps) as client, pytest.raises(VideoCallError) as info:
        client.generate(VideoRequest(prompt="p", first_frame=frames["first"]), out)
    assert info.value.kind == "invalid_output" and info.value.task_id
    assert no_leftovers(out)
    assert_no_key(info.value)


@pytest.mark.parametrize("vendor", CLIENTS)
def test_slow_answer_is_timeout(
    vendor: str, fake: FakeVideoServer, frames: dict[str, Path], sleeps: list[float]
) -> None:
    fake.add_fault(CREATE_ROUTE[vendor], delay_s=1.0)  # type: ignore[arg-type]
    with (
        CLIENTS[vendor](fake, sleeps, timeout_s=0.2) as client,
        pytest.raises(VideoCallError) as info,
    ):
        client.create(VideoRequest(prompt="p", first_frame=frames["first"]))
    assert info.value.kind == "timeout" and info.value.retryable
    assert_no_key(info.value)


@pytest.mark.parametrize("vendor", CLIENTS)
def test_transient_poll_errors_are_waited_out(
    vendor: str, fake: FakeVideoServer, frames: dict[str, Path], sleeps: list[float], tmp_path: Path
) -> None:
    fake.add_fault(GET_ROUTE[vendor], 503, {"message": "busy"})  # type: ignore[arg-type]
    fake.add_fault(GET_ROUTE[vendor], 429, {"message": "slow"}, {"Retry-After": "30"})  # type: ignore[arg-type]
    with CLIENTS[vendor](fake, sleeps, poll_interval_s=5) as client:
        result = client.generate(
            VideoRequest(prompt="p", first_frame=frames["first"]), tmp_path / "ok.mp4"
        )
    assert fake.polls(result.task_id) == POLLS
    assert sleeps == [5, 30] + [5] * (POLLS - 1)


@pytest.mark.parametrize("vendor", CLIENTS)
def test_wait_gives_up_after_max_wait(
    vendor: str, fake: FakeVideoServer, frames: dict[str, Path], sleeps: list[float]
) -> None:
    fake.polls_to_finish = 1000
    with CLIENTS[vendor](fake, sleeps, poll_interval_s=5, max_wait_s=20) as client:
        task_id = client.create(VideoRequest(prompt="p", first_frame=frames["first"]))
        with pytest.raises(VideoCallError) as info:
            client.wait(task_id)
    assert (info.value.kind, info.value.task_id) == ("timeout", task_id)
    assert fake.polls(task_id) == 5 and sum(sleeps) == 20


@pytest.mark.parametrize("vendor", CLIENTS)
def test_wrong_key_is_auth_and_never_echoed(
    vendor: str, fake: FakeVideoServer, frames: dict[str, Path], sleeps: list[float]
) -> None:
    wrong = "sk-wrong-KEY-999999999"
    with CLIENTS[vendor](fake, sleeps, key=wrong) as client, pytest.raises(VideoCallError) as info:
        client.create(VideoRequest(prompt="p", first_frame=frames["first"]))
    assert (info.value.kind, info.value.status) == ("auth", 401)
    assert wrong not in str(info.value) and "[redacted]" in str(info.value)
    assert wrong not in repr(client)


@pytest.mark.parametrize("vendor", CLIENTS)
def test_bad_image_fails_before_any_call(
    vendor: str, fake: FakeVideoServer, tmp_path: Path, sleeps: list[float]
) -> None:
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with CLIENTS[vendor](fake, sleeps) as client:
        for path in (tmp_path / "missing.png", text):
            with pytest.raises(VideoCallError) as info:
                client.create(VideoRequest(prompt="p", first_frame=path))
            assert info.value.kind == "bad_request"
    assert fake.requests == []


# --- helpers ---------------------------------------------------------------------------------


def test_parse_retry_after() -> None:
    from datetime import UTC, datetime

    now = datetime(2015, 10, 21, 7, 27, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 60.0
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_inspect_mp4(mp4s: tuple[bytes, bytes], tmp_path: Path) -> None:
    silent, audio = mp4s
    path = tmp_path / "v.mp4"
    path.write_bytes(audio)
    assert inspect_mp4(path)["has_audio"] is True
    path.write_bytes(silent)
    info = inspect_mp4(path)
    assert info["has_audio"] is False and info["seconds"] == pytest.approx(1.0, abs=0.1)
    for broken, says in (
        (b"", "empty"),
        (silent[: len(silent) // 2], "truncated"),
        (b"<html><body>Access denied</body></html>", "not an MP4"),
        (b"\x00\x00\x00\x08free" + silent, "not an MP4"),
    ):
        path.write_bytes(broken)
        with pytest.raises(VideoCallError) as err:
            inspect_mp4(path)
        assert err.value.kind == "invalid_output" and says in str(err.value)


def test_image_data_url_limits(frames: dict[str, Path]) -> None:
    assert image_data_url(frames["first"]).startswith("data:image/png;base64,")
    with pytest.raises(VideoCallError) as err:
        image_data_url(frames["first"], max_bytes=10)
    assert err.value.kind == "bad_request"
