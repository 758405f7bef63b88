"""A small OpenAI-compatible HTTP server for tests: loopback only, scripted, bounded.

Use it as a context manager or through the `fake_openai` fixture:

    with FakeOpenAI() as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)
        server.queue_tool_call({"title": "x", "scenes": [...]})
        server.fail("chat", status=429, headers={"retry-after": "0"})

To use the fixture from another test module, import it (`from tests.fake_openai import
fake_openai  # noqa: F401`) or add `pytest_plugins = ["tests.fake_openai"]` to a conftest.

Endpoints (all under /v1):
- POST chat/completions: answers the next scripted reply (`queue_tool_call`, `queue_content`,
  `queue_refusal`, `queue_invalid_json`). With nothing scripted it answers a request that has
  `tools` with a tool call, and a request with a `json_schema` response_format with JSON content,
  whose arguments come from `answer(schema_name, request_json) -> dict` (by default the offline
  story engine reading the non-system messages, exactly as OfflineChatModel does). The schema
  itself is in `request_json` (`request_schema` in tests/random_answers.py finds it):
  `RandomAnswers` there answers random instances of it.
  Image parts (`image_url`, e.g. base64 data URLs) are recorded with the request and billed
  in `usage` as IMAGE_TOKENS each, not as the length of their data.
- POST images/generations, POST images/edits (multipart): a PNG made with Pillow at the requested
  size, as `b64_json`, or as a `url` served by GET /v1/files/<name> when `image_response="url"`.
- POST audio/speech: a 24 kHz 16-bit mono WAV (a sine, longer for longer text).
- POST embeddings: deterministic unit vectors (`float` or `base64` encoding).

Faults are queued per endpoint (`server.fail(endpoint, ...)`), each used by one request:
`status` (+ `headers`, `body`), `delay_s` (bounded by `max_delay_s`; cut short when the server
stops) and `truncated` (the payload is cut in half: the PNG inside the JSON for images, the WAV
for speech, the JSON body itself for chat and embeddings; Content-Length matches what is sent).

Every request is recorded in `server.requests` (method, path, lower-cased headers, JSON body or
multipart parts). The server binds 127.0.0.1 on a free port, runs in a daemon thread, and stops
on exit; nothing here sleeps except a programmed delay.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import io
import itertools
import json
import socketserver
import struct
import threading
import time
import wave
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import numpy as np
from PIL import Image, ImageDraw

from inkreel.providers.offline import story_engine

Endpoint = Literal["chat", "images.generate", "images.edit", "speech", "embeddings"]
ENDPOINTS: dict[str, Endpoint] = {
    "/v1/chat/completions": "chat",
    "/v1/images/generations": "images.generate",
    "/v1/images/edits": "images.edit",
    "/v1/audio/speech": "speech",
    "/v1/embeddings": "embeddings",
}
SPEECH_RATE = 24_000
EMBEDDING_DIM = 8
IMAGE_TOKENS = 85  # an image part in a chat request, as OpenAI bills a low-detail image
Answer = Callable[[str, dict[str, Any]], dict[str, Any]]


def story_engine_answer(schema_name: str, request_json: dict[str, Any]) -> dict[str, Any]:
    """Default answer: the offline story engine, given the non-system messages as the prompt."""
    prompt = "\n\n".join(
        _text(m.get("content")) for m in request_json.get("messages", []) if m["role"] != "system"
    )
    return story_engine.answer(schema_name, prompt, 0)


def _prompt_tokens(messages: list[Any]) -> int:
    """A chat request's input tokens: its JSON text, plus IMAGE_TOKENS per image part."""
    images, text_only = 0, []
    for m in messages:
        content = m.get("content")
        if isinstance(content, list):
            kept = [
                p for p in content if not (isinstance(p, dict) and p.get("type") == "image_url")
            ]
            images += len(content) - len(kept)
            m = {**m, "content": kept}
        text_only.append(m)
    return len(json.dumps(text_only)) // 4 + images * IMAGE_TOKENS


def _text(content: Any) -> str:
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


@dataclass
class FormPart:
    name: str
    filename: str | None
    content_type: str
    data: bytes


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any = None
    form: list[FormPart] = field(default_factory=list)

    @property
    def endpoint(self) -> str | None:
        return ENDPOINTS.get(self.path)

    def files(self, name: str) -> list[FormPart]:
        """Multipart parts named `name` that carry a file."""
        return [p for p in self.form if p.name == name and p.filename is not None]

    def field(self, name: str) -> str | None:
        for p in self.form:
            if p.name == name and p.filename is None:
                return p.data.decode()
        return None


@dataclass
class Fault:
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay_s: float = 0.0
    truncated: bool = False


@dataclass
class ChatReply:
    """One scripted assistant reply."""

    kind: Literal["tool_call", "content", "refusal"]
    arguments: str = ""  # tool_call: the raw arguments string (may be invalid JSON)
    name: str | None = None  # tool_call: defaults to the tool the request forces
    content: str | None = None
    finish_reason: str | None = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeOpenAI

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse name lookup: skip it.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.server.fake._serve(self)

    def do_GET(self) -> None:
        self.server.fake._serve(self)


class FakeOpenAI:
    """An OpenAI-compatible server on 127.0.0.1 for the duration of a `with` block."""

    def __init__(
        self,
        answer: Answer | None = None,
        *,
        image_response: Literal["b64_json", "url"] = "b64_json",
        max_delay_s: float = 3.0,
    ) -> None:
        self.answer: Answer = answer or story_engine_answer
        self.image_response = image_response
        self.image_url_override: str | None = None  # answer this URL instead of our own
        self.max_delay_s = max_delay_s
        self.requests: list[RecordedRequest] = []
        self.chat_replies: deque[ChatReply] = deque()
        self.faults: dict[str, deque[Fault]] = {e: deque() for e in ENDPOINTS.values()}
        self.files: dict[str, bytes] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> FakeOpenAI:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()  # wakes any programmed delay
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @property
    def port(self) -> int:
        assert self._server is not None, "use FakeOpenAI as a context manager"
        return int(self._server.server_address[1])

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v1"

    # -- scripting --------------------------------------------------------------------------

    def queue_tool_call(self, arguments: dict[str, Any] | str, name: str | None = None) -> None:
        """Answer the next chat request with a tool call (a str is sent verbatim)."""
        raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
        self.chat_replies.append(ChatReply("tool_call", arguments=raw, name=name))

    def queue_invalid_json(self, arguments: str = '{"title": "Half a', name: str | None = None):
        self.chat_replies.append(ChatReply("tool_call", arguments=arguments, name=name))

    def queue_content(self, content: str, finish_reason: str = "stop") -> None:
        """Answer the next chat request with plain assistant text and no tool call."""
        self.chat_replies.append(ChatReply("content", content=content, finish_reason=finish_reason))

    def queue_refusal(self, refusal: str = "I'm sorry, I can't help with that.") -> None:
        """Answer with the `refusal` field set, as OpenAI's structured outputs do."""
        self.chat_replies.append(ChatReply("refusal", content=refusal))

    def fail(
        self,
        endpoint: str,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        body: Any = None,
        delay_s: float = 0.0,
        truncated: bool = False,
    ) -> None:
        """Queue a fault for the next request to `endpoint` (see ENDPOINTS values)."""
        if endpoint not in self.faults:
            raise ValueError(f"unknown endpoint {endpoint!r}; one of {sorted(self.faults)}")
        self.faults[endpoint].append(Fault(status, dict(headers or {}), body, delay_s, truncated))

    def requests_to(self, endpoint: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.endpoint == endpoint]

    # -- serving ----------------------------------------------------------------------------

    def _serve(self, h: _Handler) -> None:
        try:
            request = self._read(h)
            with self._lock:
                self.requests.append(request)
                endpoint = request.endpoint
                fault = (
                    self.faults[endpoint].popleft() if endpoint and self.faults[endpoint] else None
                )
            if fault and fault.delay_s > 0:
                self._stop.wait(min(fault.delay_s, self.max_delay_s))
                if self._stop.is_set():
                    return
            status, headers, body = self._respond(request, fault)
            h.send_response(status)
            for k, v in headers.items():
                h.send_header(k, v)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            h.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            h.close_connection = True  # the client gave up (timeout test)

    def _read(self, h: _Handler) -> RecordedRequest:
        headers = {k.lower(): v for k, v in h.headers.items()}
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(h.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    h.rfile.readline()
                    break
                chunks.append(h.rfile.read(size))
                h.rfile.readline()
            body = b"".join(chunks)
        else:
            body = h.rfile.read(int(headers.get("content-length", "0") or 0))
        request = RecordedRequest(h.command, h.path.split("?")[0], headers, body)
        ctype = headers.get("content-type", "")
        if ctype.startswith("application/json") and body:
            request.json = json.loads(body)
        elif ctype.startswith("multipart/form-data"):
            request.form = _parse_multipart(ctype, body)
        return request

    def _respond(
        self, req: RecordedRequest, fault: Fault | None
    ) -> tuple[int, dict[str, str], bytes]:
        if fault and fault.status:
            body = fault.body
            if body is None:
                body = {
                    "error": {
                        "message": f"fake {fault.status} for {req.endpoint}",
                        "type": "server_error" if fault.status >= 500 else "invalid_request_error",
                        "code": None,
                    }
                }
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            return fault.status, {"Content-Type": "application/json", **fault.headers}, raw
        truncated = bool(fault and fault.truncated)
        extra = fault.headers if fault else {}
        if req.method == "GET" and req.path.startswith("/v1/files/"):
            data = self.files.get(req.path.rsplit("/", 1)[-1])
            if data is None:
                return 404, {"Content-Type": "text/plain"}, b"no such file"
            return 200, {"Content-Type": "image/png", **extra}, data
        handlers = {
            "chat": self._chat,
            "images.generate": self._image,
            "images.edit": self._image,
            "speech": self._speech,
            "embeddings": self._embeddings,
        }
        endpoint = req.endpoint
        if endpoint is None or req.method != "POST":
            return 404, {"Content-Type": "application/json"}, b'{"error": {"message": "not found"}}'
        try:
            ctype, body = handlers[endpoint](req, truncated)
        except Exception as exc:  # a bad answer callback: say so, as a 500
            message = {"error": {"message": f"FakeOpenAI: {type(exc).__name__}: {exc}"}}
            return 500, {"Content-Type": "application/json"}, json.dumps(message).encode()
        if truncated and ctype == "application/json" and endpoint in ("chat", "embeddings"):
            body = body[: len(body) // 2]
        return 200, {"Content-Type": ctype, **extra}, body

    # -- endpoints --------------------------------------------------------------------------

    def _chat(self, req: RecordedRequest, truncated: bool) -> tuple[str, bytes]:
        rj = req.json or {}
        n = next(self._ids)
        tools = rj.get("tools") or []
        forced = rj.get("tool_choice")
        tool_name = (
            forced["function"]["name"]
            if isinstance(forced, dict)
            else (tools[0]["function"]["name"] if tools else None)
        )
        reply = self.chat_replies.popleft() if self.chat_replies else None
        if reply is None:
            fmt = rj.get("response_format") or {}
            if tool_name:
                args = self.answer(tool_name, rj)
                reply = ChatReply("tool_call", arguments=json.dumps(args), name=tool_name)
            elif fmt.get("type") == "json_schema":
                args = self.answer(fmt["json_schema"]["name"], rj)
                reply = ChatReply("content", content=json.dumps(args))
            else:
                reply = ChatReply("content", content="Hello from FakeOpenAI.")
        message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
        if reply.kind == "tool_call":
            name = reply.name or tool_name or "unknown"
            message["tool_calls"] = [
                {
                    "id": f"call_{n:04d}",
                    "type": "function",
                    "function": {"name": name, "arguments": reply.arguments},
                }
            ]
            finish, out_text = "tool_calls", reply.arguments
        elif reply.kind == "refusal":
            message["refusal"] = reply.content
            finish, out_text = "stop", reply.content or ""
        else:
            message["content"] = reply.content
            finish, out_text = reply.finish_reason or "stop", reply.content or ""
        prompt_tokens = _prompt_tokens(rj.get("messages", []))
        completion_tokens = max(1, len(out_text) // 4)
        body = {
            "id": f"chatcmpl-fake-{n}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": rj.get("model", "fake"),
            "choices": [
                {"index": 0, "message": message, "finish_reason": finish, "logprobs": None}
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        return "application/json", json.dumps(body).encode()

    def _image(self, req: RecordedRequest, truncated: bool) -> tuple[str, bytes]:
        if req.json is not None:
            prompt, size = req.json.get("prompt", ""), req.json.get("size") or "1024x1024"
        else:
            prompt, size = req.field("prompt") or "", req.field("size") or "1024x1024"
        png = make_png(size, prompt)
        if truncated:
            png = png[: len(png) // 2]
        n = next(self._ids)
        if self.image_response == "url":
            name = f"img-{n}.png"
            self.files[name] = png
            item = {"url": self.image_url_override or f"{self.base_url}/files/{name}"}
        else:
            item = {"b64_json": base64.b64encode(png).decode()}
        body = {"created": int(time.time()), "data": [item]}
        return "application/json", json.dumps(body).encode()

    def _speech(self, req: RecordedRequest, truncated: bool) -> tuple[str, bytes]:
        text = (req.json or {}).get("input", "")
        wav = make_wav(text)
        if truncated:
            wav = wav[: 44 + (len(wav) - 44) // 2 + 1]  # header intact, half the data, odd length
        return "audio/wav", wav

    def _embeddings(self, req: RecordedRequest, truncated: bool) -> tuple[str, bytes]:
        rj = req.json or {}
        texts = rj.get("input", [])
        texts = [texts] if isinstance(texts, str) else texts
        dim = int(rj.get("dimensions") or EMBEDDING_DIM)
        data = []
        for i, text in enumerate(texts):
            vec = embedding_for(str(text), dim)
            value: Any = (
                base64.b64encode(vec.astype("<f4").tobytes()).decode()
                if rj.get("encoding_format") == "base64"
                else [float(x) for x in vec]
            )
            data.append({"object": "embedding", "index": i, "embedding": value})
        tokens = sum(len(str(t)) // 4 + 1 for t in texts)
        body = {
            "object": "list",
            "data": data,
            "model": rj.get("model", "fake"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        return "application/json", json.dumps(body).encode()


# -- payload makers (also handy for assertions) -----------------------------------------------


def make_png(size: str, prompt: str = "") -> bytes:
    """A small-palette PNG of `size` ("WxH", capped at 4096 a side) coloured by the prompt."""
    try:
        w, h = (max(1, min(4096, int(v))) for v in size.lower().split("x"))
    except ValueError:
        w, h = 1024, 1024
    colour = tuple(hashlib.sha256(prompt.encode()).digest()[:3])
    image = Image.new("RGB", (w, h), colour)
    ImageDraw.Draw(image).rectangle((w // 4, h // 4, 3 * w // 4, 3 * h // 4), fill=(240, 240, 240))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def make_wav(text: str, rate: int = SPEECH_RATE) -> bytes:
    """A 16-bit mono WAV: a 220 Hz sine at half scale, 0.05 s per character (0.2-3 s)."""
    seconds = min(3.0, max(0.2, 0.05 * len(text)))
    t = np.arange(round(seconds * rate)) / rate
    pcm = (0.5 * 32767 * np.sin(2 * np.pi * 220 * t)).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return out.getvalue()


def embedding_for(text: str, dim: int = EMBEDDING_DIM) -> np.ndarray:
    digest = hashlib.sha256(text.encode()).digest() * (dim // 32 + 1)
    vec = np.array(struct.unpack(f"{dim}b", digest[:dim]), dtype=np.float32) + 0.5
    return vec / np.linalg.norm(vec)


def _parse_multipart(content_type: str, body: bytes) -> list[FormPart]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    parts = []
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        name = part.get_param("name", header="content-disposition")
        parts.append(
            FormPart(
                name=name if isinstance(name, str) else "",
                filename=part.get_filename(),
                content_type=part.get_content_type(),
                data=payload if isinstance(payload, bytes) else b"",
            )
        )
    return parts


try:  # the benchmarks in bench/ run the server without pytest
    import pytest
except ImportError:  # pragma: no cover
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture
    def fake_openai() -> Iterator[FakeOpenAI]:
        """A running FakeOpenAI (default answers from the offline story engine)."""
        with FakeOpenAI() as server:
            yield server
