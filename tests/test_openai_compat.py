"""Hosted providers through the real openai / langchain-openai clients against FakeOpenAI."""

from __future__ import annotations

import io
import json
import pickle
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from PIL import Image

from inkreel.providers.openai import (
    OpenAIEmbeddings,
    OpenAIImages,
    OpenAISpeech,
    ProviderCallError,
    StructuredText,
    classify,
    decode_wav,
)
from inkreel.providers.prompt_io import tag
from inkreel.schemas import Script, ShotPlan, Voice
from tests.fake_openai import (
    FakeOpenAI,
    embedding_for,
    fake_openai,  # noqa: F401  (the shared fixture, used below)
    make_png,
    make_wav,
)

KEY = "sk-test-SECRET-123"
MODEL = "fake-gpt"

SCRIPT: dict[str, Any] = {
    "title": "The Keeper's Letter",
    "logline": "A lighthouse keeper answers a message in a bottle.",
    "language": "en",
    "characters": ["Mei", "Aiko"],
    "scenes": [
        {
            "number": 1,
            "heading": "EXT. LIGHTHOUSE - DUSK",
            "location": "Lighthouse",
            "interior": False,
            "time_of_day": "dusk",
            "act": "setup",
            "characters": ["Mei"],
            "beats": [
                {"kind": "action", "text": "Mei lifts a green bottle from the rocks."},
                {
                    "kind": "dialogue",
                    "text": "Who sent you?",
                    "character": "Mei",
                    "emotion": "surprised",
                },
            ],
        }
    ],
}
PLAN: dict[str, Any] = {
    "scene": 1,
    "shots": [
        {"beat": 0, "framing": "wide", "move": "push_in", "subjects": ["Mei"]},
        {"beat": 1, "framing": "close_up", "subjects": ["Mei"], "effects": ["sparkle"]},
    ],
}
MESSAGES = [SystemMessage("You are the screenwriter."), HumanMessage("Write the episode.")]


def answer(schema_name: str, request_json: dict[str, Any]) -> dict[str, Any]:
    return {"Script": SCRIPT, "ShotPlan": PLAN}[schema_name]


@pytest.fixture(autouse=True)
def _no_tracing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing may leave the machine: no LangSmith tracing, whatever the environment says.
    for name in ("LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2", "LANGSMITH_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(answer) as s:
        yield s


def text(s: FakeOpenAI, timeout_s: float = 5.0, **kw: Any) -> StructuredText:
    return StructuredText(MODEL, s.base_url, KEY, timeout_s, **kw)


def assert_no_key(exc: ProviderCallError) -> None:
    for blob in (str(exc), repr(exc), exc.detail, json.dumps(exc.diagnostic, default=str)):
        assert KEY not in blob
        assert "SECRET" not in blob


# -- structured text ---------------------------------------------------------------------------


def test_script_from_a_tool_call(server: FakeOpenAI) -> None:
    script, usage = text(server).generate(Script, MESSAGES)

    assert isinstance(script, Script)
    assert script == Script.model_validate(SCRIPT)
    assert usage.model == MODEL and usage.requests == 1
    assert usage.input_tokens > 0 and usage.output_tokens > 0
    (req,) = server.requests_to("chat")
    assert req.headers["authorization"] == f"Bearer {KEY}"
    assert req.json["model"] == MODEL
    assert req.json["tool_choice"]["function"]["name"] == "Script"
    assert req.json["tools"][0]["function"]["name"] == "Script"
    assert [m["role"] for m in req.json["messages"]] == ["system", "user"]


def test_shot_plan_from_a_scripted_tool_call(server: FakeOpenAI) -> None:
    server.queue_tool_call(PLAN)
    plan, usage = text(server).generate(ShotPlan, MESSAGES)
    assert isinstance(plan, ShotPlan)
    assert [s.framing for s in plan.shots] == ["wide", "close_up"]
    assert plan.shots[1].effects == ["sparkle"]
    assert usage.requests == 1


def test_the_shared_fixture_answers_with_the_story_engine(
    fake_openai: FakeOpenAI,  # noqa: F811  (the fixture imported from tests.fake_openai)
) -> None:
    idea = "A lighthouse keeper named Mei finds a message in a bottle from a girl called Aiko."
    prompt = "\n\n".join([tag("idea", idea), tag("runtime_seconds", "30"), tag("language", "en")])
    script, _ = text(fake_openai).generate(Script, [SystemMessage("sys"), HumanMessage(prompt)])
    assert "Mei" in script.characters and len(script.scenes) >= 1


def test_as_chat_model_works_like_the_agents_use_it(server: FakeOpenAI) -> None:
    chat = text(server).as_chat_model()
    assert isinstance(chat, BaseChatModel)
    plan = chat.with_structured_output(ShotPlan).invoke(MESSAGES)
    assert isinstance(plan, ShotPlan)


def test_json_schema_method(server: FakeOpenAI) -> None:
    script, _ = text(server, method="json_schema").generate(Script, MESSAGES)
    assert script.title == SCRIPT["title"]
    (req,) = server.requests_to("chat")
    assert req.json["response_format"]["type"] == "json_schema"
    assert "tools" not in req.json


def test_json_schema_method_repairs_bad_content(server: FakeOpenAI) -> None:
    server.queue_content('{"title": "x", "scenes": "none"}')
    script, usage = text(server, method="json_schema").generate(Script, MESSAGES)
    assert script.title == SCRIPT["title"] and usage.requests == 2
    _, second = server.requests_to("chat")
    bad, ask = second.json["messages"][-2:]
    assert bad == {"role": "assistant", "content": '{"title": "x", "scenes": "none"}'}
    assert ask["role"] == "user" and "scenes: Input should be a valid list" in ask["content"]
    assert "JSON object only" in ask["content"]


def test_invalid_json_is_repaired_once(server: FakeOpenAI) -> None:
    server.queue_invalid_json('{"title": "Half a')
    server.queue_tool_call(SCRIPT)

    script, usage = text(server).generate(Script, MESSAGES)

    assert script.title == SCRIPT["title"]
    assert usage.requests == 2
    first, second = server.requests_to("chat")
    msgs = second.json["messages"]
    assert len(msgs) == len(first.json["messages"]) + 2
    bad, ask = msgs[-2], msgs[-1]
    # The bad answer goes back as plain assistant text (never `content: null` beside an
    # echoed tool call, which llama.cpp's server rejects with HTTP 500).
    assert bad == {"role": "assistant", "content": '{"title": "Half a'}
    assert ask["role"] == "user"
    assert "not valid JSON" in ask["content"]
    assert "Unterminated string" in ask["content"]
    assert second.json["tool_choice"]["function"]["name"] == "Script"


def test_repair_request_is_a_conversation_every_server_accepts(server: FakeOpenAI) -> None:
    server.queue_tool_call({"title": "No scenes", "scenes": []})
    server.queue_tool_call(SCRIPT)
    text(server).generate(Script, MESSAGES)
    _, second = server.requests_to("chat")
    for message in second.json["messages"]:
        assert isinstance(message.get("content"), str) and message["content"], message
        assert "tool_calls" not in message and message["role"] != "tool"


def test_a_rejected_repair_request_is_reported_as_invalid_output(server: FakeOpenAI) -> None:
    server.queue_tool_call({"title": "No scenes", "scenes": []})
    server.fail("chat")  # the first request is answered as queued
    server.fail("chat", status=500)  # the repair request is rejected
    with pytest.raises(ProviderCallError) as info:
        text(server).generate(Script, MESSAGES)
    assert info.value.kind == "invalid_output", info.value
    assert "scenes: List should have at least 1 item" in " ".join(info.value.diagnostic["errors"])


def test_review_findings_go_back_to_the_model_once(server: FakeOpenAI) -> None:
    server.queue_tool_call(SCRIPT)
    fixed = {**SCRIPT, "characters": ["Mei", "Aiko", "Odile"]}
    server.queue_tool_call(fixed)

    def review(script: Script) -> list[str]:
        return [] if "Odile" in script.characters else ["characters: Odile is not in the cast"]

    script, usage = text(server).generate(Script, MESSAGES, review)
    assert "Odile" in script.characters and usage.requests == 2
    _, second = server.requests_to("chat")
    assert "characters: Odile is not in the cast" in second.json["messages"][-1]["content"]


def test_review_findings_twice_raise_invalid_output_naming_them(server: FakeOpenAI) -> None:
    server.queue_tool_call(SCRIPT)
    server.queue_tool_call(SCRIPT)
    with pytest.raises(ProviderCallError) as info:
        text(server).generate(Script, MESSAGES, lambda _: ["scenes[0]: no night light"])
    assert info.value.kind == "invalid_output"
    assert info.value.diagnostic["errors"] == ["scenes[0]: no night light"]
    assert len(server.requests_to("chat")) == 2


def test_bounds_a_grammar_does_not_enforce_are_fitted_not_rejected(server: FakeOpenAI) -> None:
    loud = {"shots": [{"beat": 0, "framing": "Close-Up", "angle": None, "subjects": ["Mei"]}]}
    server.queue_tool_call(loud)
    plan, usage = text(server).generate(ShotPlan, MESSAGES)
    assert plan.shots[0].framing == "close_up" and plan.shots[0].angle == "eye_level"
    assert usage.requests == 1
    assert usage.repaired == [
        "shots[0].framing: 'Close-Up' -> 'close_up'",
        "shots[0].angle: null -> the default",
    ]


def test_per_model_options_reach_the_server(server: FakeOpenAI) -> None:
    text(server, max_tokens=700, temperature=0.2, seed=11).generate(Script, MESSAGES)
    body = server.requests_to("chat")[0].json
    assert (body["max_tokens"], body["temperature"], body["seed"]) == (700, 0.2, 11)


def test_json_object_mode_shows_the_schema_in_the_prompt(server: FakeOpenAI) -> None:
    server.queue_content(json.dumps(SCRIPT))
    script, _ = text(server, method="json_object").generate(Script, MESSAGES)
    assert script.title == SCRIPT["title"]
    body = server.requests_to("chat")[0].json
    assert body["response_format"] == {"type": "json_object"}
    assert "tools" not in body
    assert '"scenes"' in body["messages"][-1]["content"]


def test_schema_violation_is_repaired_with_the_validation_error(server: FakeOpenAI) -> None:
    server.queue_tool_call({"title": "No scenes", "scenes": []})
    server.queue_tool_call(SCRIPT)

    script, _ = text(server).generate(Script, MESSAGES)

    assert script.scenes
    _, second = server.requests_to("chat")
    repair = second.json["messages"][-1]["content"]
    assert "validation error" in repair and "Script" in repair
    assert "scenes: List should have at least 1 item" in repair


def test_prose_instead_of_a_tool_call_is_repaired(server: FakeOpenAI) -> None:
    server.queue_content("Here is a lovely story about a lighthouse.")
    server.queue_tool_call(SCRIPT)
    script, _ = text(server).generate(Script, MESSAGES)
    assert script.title == SCRIPT["title"]
    _, second = server.requests_to("chat")
    assert second.json["messages"][-2] == {
        "role": "assistant",
        "content": "Here is a lovely story about a lighthouse.",
    }
    assert second.json["messages"][-1]["role"] == "user"
    assert "no call to Script" in second.json["messages"][-1]["content"]


def test_invalid_twice_raises_invalid_output_with_a_diagnostic(server: FakeOpenAI) -> None:
    long_bad = '{"title": "' + "x" * 600
    server.queue_invalid_json(long_bad)
    server.queue_tool_call({"title": "still no scenes", "scenes": [{"number": 0}]})

    with pytest.raises(ProviderCallError) as info:
        text(server).generate(Script, MESSAGES)

    exc = info.value
    assert exc.kind == "invalid_output" and not exc.retryable
    d = exc.diagnostic
    assert d["model"] == MODEL and d["schema"] == "Script" and d["attempts"] == 2
    assert "validation error" in d["problem"]
    # A scene number of 0 is fitted to the schema's minimum, not held against the answer.
    assert not any(e.startswith("scenes.0.number:") for e in d["errors"])
    assert any(e.startswith("scenes.0.heading:") for e in d["errors"])
    assert len(d["output_excerpt"]) <= 300 and "still no scenes" in d["output_excerpt"]
    assert len(d["first_output_excerpt"]) <= 300 and d["first_output_excerpt"].endswith("...")
    assert "not valid JSON" in d["first_problem"]
    assert MODEL in str(exc) and "Script" in str(exc)
    assert len(server.requests_to("chat")) == 2
    assert_no_key(exc)


def test_refusal_field(server: FakeOpenAI) -> None:
    server.queue_refusal("I'm sorry, I can't help with that request.")
    with pytest.raises(ProviderCallError) as info:
        text(server).generate(Script, MESSAGES)
    assert info.value.kind == "refusal"
    assert info.value.diagnostic["schema"] == "Script"
    assert len(server.requests_to("chat")) == 1  # a refusal is not repaired


def test_refusal_text_without_a_tool_call(server: FakeOpenAI) -> None:
    server.queue_content("I can't help with that.")
    with pytest.raises(ProviderCallError) as info:
        text(server).generate(ShotPlan, MESSAGES)
    assert info.value.kind == "refusal"
    assert len(server.requests_to("chat")) == 1


def test_content_filter_stop_is_a_refusal(server: FakeOpenAI) -> None:
    server.queue_content("", finish_reason="content_filter")
    with pytest.raises(ProviderCallError) as info:
        text(server).generate(Script, MESSAGES)
    assert info.value.kind == "refusal"


# -- transport failures --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "0"}, 0.0),
        ({"retry-after": "2.5"}, 2.5),
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({}, None),
    ],
)
def test_429_is_rate_limited_with_retry_after(
    server: FakeOpenAI, headers: dict[str, str], expected: float | None
) -> None:
    server.fail("chat", status=429, headers=headers)
    with pytest.raises(ProviderCallError) as info:
        text(server).generate(Script, MESSAGES)
    exc = info.value
    assert (exc.kind, exc.status, exc.retry_after) == ("rate_limited", 429, expected)
    assert exc.retryable
    assert len(server.requests_to("chat")) == 1  # the SDK did not retry (max_retries=0)


def test_500_is_server_error_and_not_retried_by_the_sdk(server: FakeOpenAI) -> None:
    server.fail("chat", status=500)
    server.fail("chat", status=500)
    with pytest.raises(ProviderCallError) as info:
        text(server).generate(Script, MESSAGES)
    assert (info.value.kind, info.value.status) == ("server_error", 500)
    assert len(server.requests_to("chat")) == 1


@pytest.mark.parametrize(
    ("status", "kind"), [(400, "bad_request"), (401, "auth"), (403, "auth"), (503, "server_error")]
)
def test_other_statuses(server: FakeOpenAI, status: int, kind: str) -> None:
    server.fail("embeddings", status=status)
    with pytest.raises(ProviderCallError) as info:
        OpenAIEmbeddings("emb", server.base_url, KEY, 5).embed(["a"])
    assert (info.value.kind, info.value.status) == (kind, status)


def test_timeout(server: FakeOpenAI) -> None:
    server.fail("chat", delay_s=1.0)
    start = time.monotonic()
    with pytest.raises(ProviderCallError) as info:
        text(server, timeout_s=0.2).generate(Script, MESSAGES)
    assert info.value.kind == "timeout" and info.value.retryable
    assert time.monotonic() - start < 0.9


def test_connection_refused_is_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the call: nothing listens there
    with pytest.raises(ProviderCallError) as info:
        OpenAIEmbeddings("emb", f"http://127.0.0.1:{port}/v1", KEY, 2).embed(["a"])
    # Retryable, but not a server error: the router marks the endpoint down after a few.
    assert info.value.kind == "unreachable" and info.value.status is None
    assert info.value.retryable


def test_truncated_chat_body_is_invalid_output(server: FakeOpenAI) -> None:
    server.fail("chat", truncated=True)
    with pytest.raises(ProviderCallError) as info:
        text(server).generate(Script, MESSAGES)
    assert info.value.kind == "invalid_output"


def test_content_policy_400_is_a_refusal(server: FakeOpenAI) -> None:
    body = {
        "error": {
            "message": "blocked",
            "type": "invalid_request_error",
            "code": "content_policy_violation",
        }
    }
    server.fail("images.generate", status=400, body=body)
    with pytest.raises(ProviderCallError) as info:
        OpenAIImages("img", server.base_url, KEY, 5).generate("a lighthouse")
    assert (info.value.kind, info.value.status) == ("refusal", 400)


def test_classify_retry_after_http_date_and_unknown_errors() -> None:
    import httpx2
    import openai

    future = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    request = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions")
    response = httpx2.Response(429, headers={"retry-after": future}, request=request)
    err = classify(openai.RateLimitError("slow down", response=response, body=None), model="m")
    assert err.kind == "rate_limited" and err.retry_after is not None
    assert 25 <= err.retry_after <= 31
    assert classify(RuntimeError("boom")).kind == "bad_request"
    same = ProviderCallError("timeout", "x")
    assert classify(same) is same

    copy = pickle.loads(pickle.dumps(err))
    assert (copy.kind, copy.status, copy.retry_after, str(copy)) == (
        err.kind,
        err.status,
        err.retry_after,
        str(err),
    )


# -- images --------------------------------------------------------------------------------------


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def test_image_generate_b64(server: FakeOpenAI) -> None:
    png = OpenAIImages("img-model", server.base_url, KEY, 5).generate("a lighthouse at dusk")
    image = decode(png)
    assert image.format == "PNG" and image.size == (1280, 720)
    (req,) = server.requests_to("images.generate")
    assert req.json["prompt"] == "a lighthouse at dusk"
    assert req.json["size"] == "1280x720" and req.json["model"] == "img-model"


def test_image_generate_url_from_the_same_host(server: FakeOpenAI) -> None:
    server.image_response = "url"
    png = OpenAIImages("img-model", server.base_url, KEY, 5).generate("x", size="320x180")
    assert decode(png).size == (320, 180)
    (get,) = [r for r in server.requests if r.method == "GET"]
    assert get.path.startswith("/v1/files/")
    assert "authorization" not in get.headers  # the key goes to the API only


def test_image_url_on_another_host_is_not_fetched(server: FakeOpenAI) -> None:
    server.image_response = "url"
    server.image_url_override = f"http://127.0.0.2:{server.port}/v1/files/elsewhere.png"
    with pytest.raises(ProviderCallError) as info:
        OpenAIImages("img-model", server.base_url, KEY, 5).generate("x")
    assert info.value.kind == "invalid_output" and "127.0.0.2" in str(info.value)
    assert not [r for r in server.requests if r.method == "GET"]


def test_image_edit_sends_the_references_as_multipart_parts(
    server: FakeOpenAI, tmp_path: Path
) -> None:
    turnaround, plate = tmp_path / "mei_turnaround.png", tmp_path / "lighthouse_dusk.png"
    turnaround.write_bytes(make_png("96x64", "turnaround"))
    plate.write_bytes(make_png("160x90", "plate"))

    images = OpenAIImages("img-model", server.base_url, KEY, 5)
    png = images.edit("Mei on the lighthouse stairs", [turnaround, plate], size="640x360")

    assert decode(png).size == (640, 360)
    (req,) = server.requests_to("images.edit")
    assert req.headers["content-type"].startswith("multipart/form-data")
    parts = req.files("image[]")
    assert [(p.filename, p.content_type) for p in parts] == [
        ("mei_turnaround.png", "image/png"),
        ("lighthouse_dusk.png", "image/png"),
    ]
    assert [p.data for p in parts] == [turnaround.read_bytes(), plate.read_bytes()]
    assert req.field("prompt") == "Mei on the lighthouse stairs"
    assert req.field("model") == "img-model" and req.field("size") == "640x360"

    images.edit("one reference", [plate])
    single = server.requests_to("images.edit")[-1]
    assert [p.data for p in single.files("image")] == [plate.read_bytes()]


@pytest.mark.parametrize("endpoint", ["images.generate", "images.edit"])
def test_truncated_image_is_invalid_output(
    server: FakeOpenAI, tmp_path: Path, endpoint: str
) -> None:
    ref = tmp_path / "ref.png"
    ref.write_bytes(make_png("32x32"))
    server.fail(endpoint, truncated=True)
    images = OpenAIImages("img-model", server.base_url, KEY, 5)
    with pytest.raises(ProviderCallError) as info:
        images.generate("x") if endpoint == "images.generate" else images.edit("x", [ref])
    assert info.value.kind == "invalid_output"
    assert_no_key(info.value)


# -- speech --------------------------------------------------------------------------------------


def test_speech_wav_decodes_to_float32_mono(server: FakeOpenAI) -> None:
    speech = OpenAISpeech("tts-model", server.base_url, KEY, 5, voice_map={"m3": "onyx"})
    samples, rate = speech.synthesize(
        "Who sent you?", Voice(variant="m3", pitch=50, speed=255), "en"
    )

    assert rate == 24_000
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert samples.size == round(0.05 * len("Who sent you?") * rate)
    assert float(np.abs(samples).max()) <= 1.0 and 0.45 < float(np.abs(samples).max()) < 0.55
    (req,) = server.requests_to("speech")
    assert req.json["voice"] == "onyx" and req.json["response_format"] == "wav"
    assert req.json["speed"] == pytest.approx(1.5) and req.json["input"] == "Who sent you?"

    speech.synthesize("Hello.", Voice(variant="f2", pitch=50, speed=170), "en")
    assert server.requests_to("speech")[-1].json["voice"] == "alloy"
    assert server.requests_to("speech")[-1].json["speed"] == pytest.approx(1.0)
    assert speech.name == "openai" and speech.model == "tts-model" and "m3" in speech.voices["male"]


def test_truncated_wav_is_invalid_output(server: FakeOpenAI) -> None:
    server.fail("speech", truncated=True)
    speech = OpenAISpeech("tts-model", server.base_url, KEY, 5)
    with pytest.raises(ProviderCallError) as info:
        speech.synthesize("Who sent you?", Voice(variant="m3", pitch=50, speed=170), "en")
    assert info.value.kind == "invalid_output" and "truncated" in str(info.value)


def test_decode_wav_streamed_stereo_and_garbage() -> None:
    wav = bytearray(make_wav("abcd", rate=16_000))
    pcm = np.frombuffer(bytes(wav[44:]), "<i2")
    wav[40:44] = struct.pack("<I", 0xFFFFFFFF)  # a streamed WAV: size unknown
    samples, rate = decode_wav(bytes(wav))
    assert rate == 16_000 and np.allclose(samples, pcm / 32768.0)

    stereo = np.stack([pcm, np.zeros_like(pcm)], axis=1).astype("<i2").tobytes()
    header = b"RIFF" + struct.pack("<I", 36 + len(stereo)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 2, 16_000, 64_000, 4, 16)
    header += b"data" + struct.pack("<I", len(stereo))
    mono, _ = decode_wav(header + stereo)
    assert np.allclose(mono, pcm / 65536.0)

    for bad in (b"", b"ID3\x04mp3 data", header):  # `header` alone: declares data, has none
        with pytest.raises(ValueError):
            decode_wav(bad)


# -- embeddings ----------------------------------------------------------------------------------


def test_embeddings(server: FakeOpenAI) -> None:
    emb = OpenAIEmbeddings("emb-model", server.base_url, KEY, 5)
    texts = ["Mei", "the lighthouse", "a green bottle"]
    vectors = emb.embed(texts)
    assert len(vectors) == 3 and all(len(v) == 8 for v in vectors)
    assert np.allclose(vectors[1], embedding_for("the lighthouse"))
    (req,) = server.requests_to("embeddings")
    assert req.json == {"model": "emb-model", "input": texts, "encoding_format": "float"}
    assert emb.embed([]) == [] and len(server.requests_to("embeddings")) == 1


# -- the key -------------------------------------------------------------------------------------


def test_the_key_never_appears_in_errors(server: FakeOpenAI, tmp_path: Path) -> None:
    echo = {"error": {"message": f"Incorrect API key provided: {KEY}.", "code": "invalid_api_key"}}
    server.fail("chat", status=401, body=echo)
    server.fail("images.edit", status=400, body={"error": {"message": f"Bearer {KEY} rejected"}})
    server.fail("speech", status=429, body={"error": {"message": f"key {KEY} is over quota"}})
    server.fail("embeddings", status=500, body=f"upstream said {KEY}".encode())
    ref = tmp_path / "ref.png"
    ref.write_bytes(make_png("8x8"))
    voice = Voice(variant="m1", pitch=50, speed=170)
    calls = [
        lambda: text(server).generate(Script, MESSAGES),
        lambda: OpenAIImages("i", server.base_url, KEY, 5).edit("x", [ref]),
        lambda: OpenAISpeech("s", server.base_url, KEY, 5).synthesize("hi", voice, "en"),
        lambda: OpenAIEmbeddings("e", server.base_url, KEY, 5).embed(["x"]),
    ]
    kinds = []
    for call in calls:
        with pytest.raises(ProviderCallError) as info:
            call()
        assert_no_key(info.value)
        assert info.value.__cause__ is None
        kinds.append(info.value.kind)
    assert kinds == ["auth", "bad_request", "rate_limited", "server_error"]

    # The invalid-output diagnostic too, even when the model echoes the key back.
    server.queue_tool_call({"title": KEY, "scenes": []})
    server.queue_content(f"My key is {KEY}, and no JSON.")
    with pytest.raises(ProviderCallError) as info:
        text(server).generate(Script, MESSAGES)
    assert info.value.kind == "invalid_output"
    assert_no_key(info.value)
