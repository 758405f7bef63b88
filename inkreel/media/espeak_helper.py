"""The helper process that owns eSpeak NG: `python -I espeak_helper.py LIBRARY DATA_DIR`.

`media.audio` runs this file by path, so it uses only the standard library (no numpy, so no
BLAS threads): it loads and initialises eSpeak once, then forks a child per utterance. eSpeak
keeps generator state between utterances (pitch flutter phase, glottal cycle counters) that
no API call resets, so speaking in one long-lived process makes a line come out slightly
different depending on what was said before it. Every child starts from the helper's
untouched state instead, so the same text and voice give bit-identical samples whatever the
order or thread of the calls, and a crash inside the C library costs one line, not the
caller. Forking the caller itself is not an option: it has threads (LangGraph, BLAS), and a
fork while OpenBLAS is busy in another thread hangs.

The conversation: requests come on stdin as a 4-byte little-endian length and a JSON body
(`text`, `voice`, `rate`, `pitch`, `flags`); answers go to stdout as frames, a kind byte
(`R` ready, `A` audio, `E` error), an 8-byte little-endian length and the body.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
import zlib
from typing import Any, BinaryIO

Frame = tuple[bytes, bytes]

_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_BUFFER_MS = 500
_INITIALIZE_DONT_EXIT = 0x8000
_RATE, _PITCH = 1, 3  # espeakRATE, espeakPITCH
_POS_CHARACTER = 1


def write_frame(out: BinaryIO, kind: bytes, body: bytes) -> None:
    """Send one frame to the caller."""
    out.write(kind + len(body).to_bytes(8, "little") + body)
    out.flush()


def load_library(lib_path: str) -> ctypes.CDLL:
    """Load eSpeak NG and declare the signatures of the calls made here."""
    lib = ctypes.CDLL(lib_path)
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
    lib.espeak_SetSynthCallback.restype = None
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetVoiceByName.restype = ctypes.c_int
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_SetParameter.restype = ctypes.c_int
    lib.espeak_Synth.argtypes = [
        ctypes.c_void_p,
        ctypes.c_size_t,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.c_void_p,
        ctypes.c_void_p,
    ]
    lib.espeak_Synth.restype = ctypes.c_int
    lib.espeak_Synchronize.argtypes = []
    lib.espeak_Synchronize.restype = ctypes.c_int
    lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
    lib.espeak_ng_SetRandSeed.restype = None
    return lib


class Speaker:
    """An initialised eSpeak that speaks one request at a time into PCM bytes."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        self.lib = lib
        self.chunks: list[bytes] = []
        self._on_audio_c = _CALLBACK(self._on_audio)  # kept: eSpeak holds only the pointer
        lib.espeak_SetSynthCallback(self._on_audio_c)

    def _on_audio(self, wav: Any, n: int, events: Any) -> int:
        if wav and n > 0:
            self.chunks.append(ctypes.string_at(wav, 2 * n))
        return 0

    def speak(self, req: dict[str, Any]) -> Frame:
        """Speak the request here; return an audio or an error frame."""
        lib = self.lib
        if lib.espeak_SetVoiceByName(req["voice"].encode()) != 0:
            return b"E", f"eSpeak NG has no voice {req['voice']!r}.".encode()
        lib.espeak_SetParameter(_RATE, req["rate"], 0)
        lib.espeak_SetParameter(_PITCH, req["pitch"], 0)
        text = req["text"].encode("utf-8") + b"\0"
        # The breathy variants mix in noise from a generator eSpeak seeds from the clock:
        # seed it from the request, so the same line always sounds (and hashes) the same.
        lib.espeak_ng_SetRandSeed(zlib.crc32(text + req["voice"].encode()))
        self.chunks.clear()
        # Flags carry espeakCHARS_UTF8 and, for SSML, espeakSSML.
        status = lib.espeak_Synth(text, len(text), 0, _POS_CHARACTER, 0, req["flags"], None, None)
        lib.espeak_Synchronize()
        if status != 0:
            return b"E", f"eSpeak NG refused the text (error {status}).".encode()
        return b"A", b"".join(self.chunks)

    def render(self, req: dict[str, Any]) -> Frame:
        """Speak the request in a forked child, so every line starts from the same state."""
        if not hasattr(os, "fork"):
            return self.speak(req)
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            self._speak_in_child(req, read_fd, write_fd)
        os.close(write_fd)
        with os.fdopen(read_fd, "rb") as pipe:
            payload = pipe.read()
        _, status = os.waitpid(pid, 0)
        body = payload[9:]
        if len(payload) < 9 or int.from_bytes(payload[1:9], "little") != len(body):
            return b"E", f"eSpeak NG crashed while speaking (status {status}).".encode()
        return payload[:1], body

    def _speak_in_child(self, req: dict[str, Any], read_fd: int, write_fd: int) -> None:
        code = 1
        try:
            os.close(read_fd)
            try:
                kind, body = self.speak(req)
            except Exception as exc:  # anything, so the parent hears why the line failed
                kind, body = b"E", str(exc).encode("utf-8", "replace")
            payload = memoryview(kind + len(body).to_bytes(8, "little") + body)
            while payload:
                payload = payload[os.write(write_fd, payload) :]
            code = 0
        finally:
            os._exit(code)


def start(lib_path: str, data_dir: str, out: BinaryIO) -> Speaker | None:
    """Load and initialise eSpeak and send the ready frame; None (error sent) if it cannot."""
    try:
        lib = load_library(lib_path)
    except OSError as exc:
        write_frame(out, b"E", f"cannot load the eSpeak NG library {lib_path}: {exc}".encode())
        return None
    # The directory that holds espeak-ng-data is the documented form (1.52 also takes the data
    # dir itself).
    rate = lib.espeak_Initialize(
        _AUDIO_OUTPUT_SYNCHRONOUS,
        _BUFFER_MS,
        os.path.dirname(data_dir).encode(),
        _INITIALIZE_DONT_EXIT,
    )
    # With DONT_EXIT a failed initialisation still returns a rate: prove it by loading a voice.
    if rate <= 0 or lib.espeak_SetVoiceByName(b"en-us") != 0:
        write_frame(
            out, b"E", f"eSpeak NG could not initialise with data from {data_dir}.".encode()
        )
        return None
    speaker = Speaker(lib)
    variants = sorted(os.listdir(os.path.join(data_dir, "voices", "!v")))
    write_frame(out, b"R", json.dumps({"rate": rate, "variants": variants}).encode())
    return speaker


def main(lib_path: str, data_dir: str) -> None:
    """Serve requests from stdin until the caller goes away."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray C prints must not corrupt the frame stream
    speaker = start(lib_path, data_dir, out)
    if speaker is None:
        return
    stdin = sys.stdin.buffer
    while True:
        head = stdin.read(4)
        if len(head) < 4:
            return  # the caller has gone
        size = int.from_bytes(head, "little")
        body = stdin.read(size)
        if len(body) < size:
            return
        write_frame(out, *speaker.render(json.loads(body)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
