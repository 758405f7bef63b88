"""Audio: eSpeak NG speech, WAV files, lip-sync envelopes, a generated music bed and the mix.

Speech runs the eSpeak NG shared library shipped in the `espeakng-loader` wheel through ctypes;
there is no espeak-ng binary and no network. Everything else is plain numpy.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import math
import os
import re
import threading
import warnings
import wave
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np

from inkreel.project import atomic_path
from inkreel.schemas.design import Voice

log = logging.getLogger(__name__)

LANGUAGE_VOICES = {"en": "en-us", "zh": "cmn", "ja": "ja"}

# Variants shipped in espeak-ng-data/voices/!v that sound like ordinary adult speakers (no
# robots, whispers, croaks or heavy echo). voice_for draws from these.
MALE_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "Andy", "Denis")
FEMALE_VARIANTS = ("f1", "f2", "f3", "f4", "f5", "Andrea", "belinda", "linda", "steph")
VOICE_VARIANTS = MALE_VARIANTS + FEMALE_VARIANTS

SPEECH_PAD_S = 0.06
SILENCE_FLOOR_DBFS = -120.0
DIALOGUE_RMS_DBFS = -16.0
PEAK_CEILING_DBFS = -1.0
DUCK_RAMP_S = 0.15

# eSpeak NG C API constants (speak_lib.h).
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_ESPEAK_RATE = 1
_ESPEAK_PITCH = 3
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_SSML = 0x10
_EE_OK = 0
_BUFFER_MS = 500

# eSpeak's Japanese voice reads kana only; a kanji is announced as "Chinese letter" in English.
# Han runs in Japanese text are therefore read with the Mandarin dictionary instead, which at
# least gives syllables of the right length for subtitles and lip sync.
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3005]+")

_SYNTH_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class SpeechError(Exception):
    """Speech could not be produced; the message says why."""


class _Engine:
    """The loaded eSpeak NG library, initialised once and never used to speak in this process.

    eSpeak keeps generator state between utterances (pitch flutter phase, glottal cycle
    counters) that no API call resets, so the same line would come out slightly different
    depending on what was said before it. Each utterance is therefore rendered in a forked
    child that starts from this process's untouched state, which makes output bit-identical
    for the same text and voice whatever the order or thread of the calls, and keeps a crash
    inside the C library out of the caller's process.
    """

    def __init__(self, library: str | None = None, data: str | None = None) -> None:
        try:
            import espeakng_loader
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise SpeechError(f"the espeakng-loader package is not installed: {exc}") from exc
        lib_path = library or espeakng_loader.get_library_path()
        try:
            data_dir = Path(data or espeakng_loader.get_data_path())
        except RuntimeError as exc:
            raise SpeechError(f"eSpeak NG data is missing: {exc}") from exc
        if not (data_dir / "phontab").is_file():
            raise SpeechError(f"{data_dir} is not an espeak-ng-data directory (no phontab).")
        try:
            lib = ctypes.CDLL(lib_path)
        except OSError as exc:
            raise SpeechError(f"cannot load the eSpeak NG library {lib_path}: {exc}") from exc
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SYNTH_CALLBACK]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
            ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p,
        ]  # fmt: skip
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.argtypes = []
        lib.espeak_Synchronize.restype = ctypes.c_int

        # The API takes the directory that contains espeak-ng-data (the data dir itself is
        # also accepted by 1.52, but the parent is the documented form).
        rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS,
            _BUFFER_MS,
            str(data_dir.parent).encode(),
            _INITIALIZE_DONT_EXIT,
        )
        # With DONT_EXIT a failed initialisation still returns a rate, so prove it by loading
        # a voice (this reads the phoneme tables and a dictionary).
        if rate <= 0 or lib.espeak_SetVoiceByName(b"en-us") != _EE_OK:
            raise SpeechError(f"eSpeak NG could not initialise with data from {data_dir}.")
        self.lib = lib
        self.sample_rate = int(rate)
        self.variants = frozenset(p.name for p in (data_dir / "voices" / "!v").iterdir())
        self._chunks: list[bytes] = []
        # Kept on the instance: ctypes does not own the thunk and C would call freed memory.
        self._callback = _SYNTH_CALLBACK(self._on_audio)
        lib.espeak_SetSynthCallback(self._callback)
        self._pristine = True

    def _on_audio(self, wav: ctypes._Pointer[ctypes.c_short], n: int, _events: int) -> int:
        if wav and n > 0:
            self._chunks.append(ctypes.string_at(wav, 2 * n))
        return 0

    def _speak_here(self, text: str, voice_name: str, rate: int, pitch: int, flags: int) -> bytes:
        lib = self.lib
        if lib.espeak_SetVoiceByName(voice_name.encode()) != _EE_OK:
            raise SpeechError(f"eSpeak NG has no voice {voice_name!r}.")
        lib.espeak_SetParameter(_ESPEAK_RATE, rate, 0)
        lib.espeak_SetParameter(_ESPEAK_PITCH, pitch, 0)
        self._chunks.clear()
        data = text.encode("utf-8") + b"\0"
        status = lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, flags, None, None)
        lib.espeak_Synchronize()
        out = b"".join(self._chunks)
        self._chunks.clear()
        if status != _EE_OK:
            raise SpeechError(f"eSpeak NG refused the text (error {status}).")
        return out

    def speak(self, text: str, voice_name: str, rate: int, pitch: int, flags: int) -> np.ndarray:
        """Return int16 samples for `text`, rendered from the pristine engine state."""
        if not hasattr(os, "fork") or not self._pristine:
            return self._decode(self._speak_here(text, voice_name, rate, pitch, flags))
        read_fd, write_fd = os.pipe()
        try:
            with warnings.catch_warnings():
                # Python 3.12+ warns about fork in threaded processes; the child only runs
                # eSpeak and writes to a pipe, touching no lock another thread could hold.
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
        except OSError as exc:
            os.close(read_fd)
            os.close(write_fd)
            log.warning("fork failed (%s); speaking in-process, output may vary by order", exc)
            self._pristine = False
            return self._decode(self._speak_here(text, voice_name, rate, pitch, flags))
        if pid == 0:  # pragma: no cover - runs in the child, which never returns
            code = 1
            try:
                os.close(read_fd)
                try:
                    body = self._speak_here(text, voice_name, rate, pitch, flags)
                    kind = b"A"
                except Exception as exc:
                    body, kind = str(exc).encode("utf-8", "replace"), b"E"
                # Kind and length up front: a child that dies mid-write cannot pass off a
                # truncated line as a whole one.
                payload = kind + len(body).to_bytes(8, "little") + body
                view = memoryview(payload)
                while view:
                    view = view[os.write(write_fd, view) :]
                code = 0
            finally:
                os._exit(code)
        os.close(write_fd)
        try:
            with os.fdopen(read_fd, "rb") as pipe:
                payload = pipe.read()
        finally:
            _, status = os.waitpid(pid, 0)
        body = payload[9:]
        if len(payload) < 9 or int.from_bytes(payload[1:9], "little") != len(body):
            raise SpeechError(f"eSpeak NG crashed while speaking (child status {status}).")
        if payload[:1] == b"E":
            raise SpeechError(body.decode("utf-8", "replace"))
        return self._decode(body)

    @staticmethod
    def _decode(raw: bytes) -> np.ndarray:
        return np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2")


_LOCK = threading.Lock()
_ENGINE: _Engine | None = None


def _engine() -> _Engine:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = _Engine()
    return _ENGINE


def _espeak_text(text: str, language: str) -> tuple[str, int]:
    if language == "ja" and _HAN_RUN.search(text):
        parts, last = [], 0
        for match in _HAN_RUN.finditer(text):
            parts.append(escape(text[last : match.start()]))
            parts.append(f'<voice xml:lang="cmn">{escape(match.group())}</voice>')
            last = match.end()
        parts.append(escape(text[last:]))
        return "<speak>" + "".join(parts) + "</speak>", _CHARS_UTF8 | _SSML
    return text, _CHARS_UTF8


def synthesize(text: str, voice: Voice, language: str) -> tuple[np.ndarray, int]:
    """Speak `text` with `voice`; return float32 mono samples in [-1, 1] and the sample rate."""
    if language not in LANGUAGE_VOICES:
        raise SpeechError(
            f"no eSpeak voice for language {language!r}; supported: {sorted(LANGUAGE_VOICES)}."
        )
    if not text.strip():
        raise SpeechError("nothing to say: the line is empty.")
    body, flags = _espeak_text(text, language)
    voice_name = f"{LANGUAGE_VOICES[language]}+{voice.variant}"
    with _LOCK:
        engine = _engine()
        if voice.variant not in engine.variants:
            raise SpeechError(
                f"eSpeak NG has no voice variant {voice.variant!r}; use one of "
                f"{', '.join(VOICE_VARIANTS)}."
            )
        pcm = engine.speak(body, voice_name, voice.speed, voice.pitch, flags)
        rate = engine.sample_rate
    samples = pcm.astype(np.float32) / 32768.0
    trimmed = _trim_silence(samples, rate, SPEECH_PAD_S)
    if trimmed is None:
        raise SpeechError(f"eSpeak NG produced no audio for {text[:60]!r} ({voice_name}).")
    return trimmed, rate


def _trim_silence(samples: np.ndarray, rate: int, pad_s: float) -> np.ndarray | None:
    # eSpeak's pauses are digital silence (or a fading echo), so -54 dBFS marks real sound.
    loud = np.flatnonzero(np.abs(samples) > 0.002)
    if loud.size == 0:
        return None
    pad = np.zeros(round(pad_s * rate), dtype=np.float32)
    core = samples[loud[0] : loud[-1] + 1]
    return np.concatenate([pad, core, pad]).astype(np.float32, copy=False)


def voice_for(name: str, language: str) -> Voice:
    """Return a stable, distinct voice for a character name (same name, same voice, anywhere)."""
    if language not in LANGUAGE_VOICES:
        raise SpeechError(
            f"no eSpeak voice for language {language!r}; supported: {sorted(LANGUAGE_VOICES)}."
        )
    h = hashlib.sha256(name.strip().casefold().encode("utf-8")).digest()
    variant = VOICE_VARIANTS[int.from_bytes(h[0:4], "big") % len(VOICE_VARIANTS)]
    # Stay near the variant's own pitch and a natural pace: extremes sound like cartoons.
    pitch = 32 + h[4] % 37  # 32..68
    # eSpeak's cmn and ja voices already sound brisk at English rates: give them a slower band.
    low, span = (150, 41) if language == "en" else (135, 36)
    speed = low + h[5] % span
    return Voice(variant=variant, pitch=pitch, speed=speed)


# ----------------------------------------------------------------------------- files


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> Path:
    """Write float samples as 16-bit PCM WAV: (n,) mono or (n, channels); return the path."""
    path = Path(path)
    data = np.asarray(samples, dtype=np.float64)
    if data.ndim == 1:
        channels = 1
    elif data.ndim == 2:
        channels = data.shape[1]
    else:
        raise ValueError(f"samples must be (n,) or (n, channels), not shape {data.shape}")
    pcm = np.round(np.clip(np.nan_to_num(data), -1.0, 1.0) * 32767.0).astype("<i2")
    with atomic_path(path) as tmp, wave.open(str(tmp), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(int(sample_rate))
        out.writeframes(pcm.tobytes())
    return path


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Read a PCM WAV as float32: (n,) for mono, (n, channels) otherwise; and its sample rate."""
    with wave.open(str(path), "rb") as src:
        channels = src.getnchannels()
        width = src.getsampwidth()
        rate = src.getframerate()
        raw = src.readframes(src.getnframes())
    if width == 1:
        data = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        data = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    elif width == 4:
        data = (np.frombuffer(raw, dtype="<i4").astype(np.float64) / 2147483648.0).astype(
            np.float32
        )
    else:
        raise ValueError(f"{path}: {8 * width}-bit WAV is not supported")
    if channels > 1:
        data = data.reshape(-1, channels)
    return data, rate


# ----------------------------------------------------------------------------- analysis


def rms_dbfs(samples: np.ndarray) -> float:
    """Return the RMS level in dBFS (full-scale sine = -3 dB), floored at -120 for silence."""
    data = np.asarray(samples, dtype=np.float64)
    if data.size == 0:
        return SILENCE_FLOOR_DBFS
    rms = math.sqrt(float(np.mean(data * data)))
    return max(SILENCE_FLOOR_DBFS, 20.0 * math.log10(rms)) if rms > 0 else SILENCE_FLOOR_DBFS


def _mono(samples: np.ndarray) -> np.ndarray:
    data = np.asarray(samples, dtype=np.float32)
    return data.mean(axis=1) if data.ndim == 2 else data


def loudness_envelope(samples: np.ndarray, sample_rate: int, fps: int = 24) -> np.ndarray:
    """Return one mouth-opening value in [0, 1] per video frame (RMS, peak-normalised)."""
    data = _mono(samples).astype(np.float64)
    n_frames = math.ceil(len(data) * fps / sample_rate)
    if n_frames == 0:
        return np.zeros(0, dtype=np.float32)
    edges = np.minimum(
        np.round(np.arange(n_frames + 1) * sample_rate / fps).astype(np.int64), len(data)
    )
    energy = np.concatenate([[0.0], np.cumsum(data * data)])
    counts = np.maximum(edges[1:] - edges[:-1], 1)
    rms = np.sqrt(np.maximum(energy[edges[1:]] - energy[edges[:-1]], 0.0) / counts)
    peak = rms.max()
    if peak <= 0:
        return np.zeros(n_frames, dtype=np.float32)
    env = rms / peak
    # Below -30 dB of the line's peak is breath and room: keep the mouth shut there.
    env[env < 0.03] = 0.0
    # A short kernel removes single-frame flicker without making the mouth lag the sound.
    padded = np.pad(env, 1, mode="edge")
    env = 0.25 * padded[:-2] + 0.5 * padded[1:-1] + 0.25 * padded[2:]
    return np.clip(env, 0.0, 1.0).astype(np.float32)


# ----------------------------------------------------------------------------- music

_CHORDS = {
    "maj": (0, 4, 7), "min": (0, 3, 7), "sus2": (0, 2, 7), "add9": (0, 4, 7, 14),
    "maj7": (0, 4, 7, 11), "min7": (0, 3, 7, 10), "dom7": (0, 4, 7, 10),
}  # fmt: skip


@dataclass(frozen=True)
class _Mood:
    tempo: float  # beats per minute
    beats_per_chord: int
    attack_s: float  # pad swell-in per chord
    release_s: float  # pad ring-out, overlapping the next chord
    centre: float  # MIDI note the pad voicing gathers around
    pulse: str  # "bell", "arp" or "ostinato"
    # (semitones above the tonic, chord quality) per chord.
    progressions: tuple[tuple[tuple[int, str], ...], ...]


_MOODS = {
    "calm": _Mood(68, 8, 1.8, 1.6, 64.0, "bell", (
        ((0, "add9"), (9, "min7"), (5, "maj7"), (7, "sus2")),  # I vi IV V
        ((0, "maj7"), (7, "maj"), (9, "min7"), (5, "add9")),  # I V vi IV
        ((0, "add9"), (5, "maj7"), (9, "min7"), (7, "maj")),  # I IV vi V
    )),
    "warm": _Mood(80, 8, 1.2, 1.4, 62.0, "arp", (
        ((0, "maj7"), (5, "maj7"), (9, "min7"), (7, "dom7")),  # I IV vi V7
        ((0, "add9"), (4, "min7"), (5, "maj7"), (7, "maj")),  # I iii IV V
        ((0, "maj7"), (9, "min7"), (2, "min7"), (7, "dom7")),  # I vi ii V7
    )),
    "tense": _Mood(92, 4, 0.7, 0.9, 57.0, "ostinato", (
        ((0, "min"), (8, "maj"), (3, "maj"), (10, "maj")),  # i VI III VII
        ((0, "min"), (5, "min"), (8, "maj"), (7, "maj")),  # i iv VI V
        ((0, "min7"), (8, "maj7"), (5, "min"), (7, "dom7")),  # i VI iv V7
    )),
}  # fmt: skip

# Tonic pitch classes that sit comfortably for pads and bass (C D Eb F G A Bb).
_TONICS = (0, 2, 3, 5, 7, 9, 10)


def _hz(midi: np.ndarray | float) -> np.ndarray:
    return np.asarray(440.0 * 2.0 ** ((np.asarray(midi, dtype=np.float64) - 69.0) / 12.0))


def _cycles(freqs: np.ndarray, n: int, sample_rate: int, phases: np.ndarray) -> np.ndarray:
    # Phase for sample k = block * B + r is frac(phase of the block start) + f * r / sr: the
    # coarse part is exact in float64 for few values, the fine part stays small, so the sum is
    # precise in float32, where numpy's sin is vectorised. np.mod over every float64 sample
    # would cost most of a 60 s bed's budget.
    block = 1024
    n_blocks = -(-n // block)
    per_sample = freqs[:, None] / sample_rate
    coarse = np.mod(per_sample * (np.arange(n_blocks) * block) + phases[:, None], 1.0)
    fine = per_sample * np.arange(block)
    cycles = coarse.astype(np.float32)[:, :, None] + fine.astype(np.float32)[:, None, :]
    return cycles.reshape(freqs.size, n_blocks * block)[:, :n]


def _sine(cycles: np.ndarray) -> np.ndarray:
    return np.sin(np.float32(2.0 * np.pi) * cycles)


def _triangle(cycles: np.ndarray) -> np.ndarray:
    return np.float32(1.0) - np.float32(4.0) * np.abs(cycles - np.floor(cycles) - np.float32(0.5))


def _envelope(n: int, attack: int, release: int) -> np.ndarray:
    env = np.ones(n, dtype=np.float32)
    attack, release = min(attack, n // 2), min(release, n // 2)
    if attack:
        env[:attack] = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, attack, dtype=np.float32))
    if release:
        env[n - release :] = 0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, release, dtype=np.float32))
    return env


def _voicing(root: int, quality: str, centre: float) -> np.ndarray:
    # Every chord tone goes in the octave nearest the centre, so neighbouring chords share or
    # step between notes instead of jumping: that is what keeps a pad smooth.
    notes = {pc + 12 * round((centre - pc) / 12) for pc in (root + i for i in _CHORDS[quality])}
    return np.array(sorted(notes), dtype=np.float64)


def music_bed(
    duration_s: float, seed: int, mood: str = "calm", sample_rate: int = 44100
) -> np.ndarray:
    """Generate a soft, deterministic underscore: pad chords, bass and an optional pulse."""
    if mood not in _MOODS:
        raise ValueError(f"unknown mood {mood!r}; use one of {sorted(_MOODS)}")
    n = round(max(0.0, duration_s) * sample_rate)
    out = np.zeros(n, dtype=np.float32)
    if n == 0:
        return out
    style = _MOODS[mood]
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, sorted(_MOODS).index(mood)])
    tonic = _TONICS[int(rng.integers(len(_TONICS)))]
    progression = style.progressions[int(rng.integers(len(style.progressions)))]
    centre = style.centre + float(rng.uniform(-2.0, 2.0))
    detune = np.array([-1.0, 1.0]) * float(rng.uniform(4.0, 7.0)) / 1200.0
    beat = 60.0 / style.tempo
    chord_len = round(style.beats_per_chord * beat * sample_rate)
    attack = round(style.attack_s * sample_rate)
    release = round(style.release_s * sample_rate)

    for k in range(math.ceil(n / chord_len)):
        degree, quality = progression[k % len(progression)]
        start = k * chord_len
        # Each chord's pad rings on through the next chord's swell: a slow crossfade.
        length = min(chord_len + release, n - start)
        notes = _voicing(48 + tonic + degree, quality, centre)
        freqs = (_hz(notes)[:, None] * 2.0 ** detune[None, :]).ravel()
        cycles = _cycles(freqs, length, sample_rate, rng.random(freqs.size))
        # Detuned sine pairs give the chorus; a quiet triangle per note gives body.
        pad = _sine(cycles).sum(axis=0) + 0.35 * _triangle(cycles[::2]).sum(axis=0)
        t = np.arange(length, dtype=np.float32) / np.float32(sample_rate)
        swell = float(rng.uniform(0.08, 0.16))
        pad *= 0.85 + 0.15 * np.sin(np.float32(2 * np.pi * swell) * t + float(rng.uniform(0, 6.3)))
        pad *= _envelope(length, attack, release) * np.float32(0.11 / math.sqrt(notes.size))
        out[start : start + length] += pad
        _add_bass(out, style, 36 + (tonic + degree) % 12, start, chord_len, beat, sample_rate)
        _add_pulse(out, style, notes, start, chord_len, beat, sample_rate)

    out *= _envelope(
        n, min(round(2.0 * sample_rate), n // 4), min(round(3.0 * sample_rate), n // 4)
    )
    peak = float(np.max(np.abs(out)))
    if peak > 0:
        out *= np.float32(_db(-3.0) / peak)
    return out


def _add_bass(
    out: np.ndarray, style: _Mood, note: int, start: int, chord_len: int, beat: float,
    sample_rate: int,
) -> None:  # fmt: skip
    n = out.size
    if style.pulse == "ostinato":
        # A muted low ostinato: eighth notes on the root with a quick decay.
        step = round(beat / 2 * sample_rate)
        cyc = _cycles(_hz(note)[None], step, sample_rate, np.zeros(1))[0]
        decay = np.exp(-np.arange(step, dtype=np.float32) / np.float32(0.12 * sample_rate))
        hit = (_sine(cyc) + 0.25 * _sine(2 * cyc)) * decay
        hit *= _envelope(step, round(0.005 * sample_rate), round(0.02 * sample_rate))
        for j, offset in enumerate(range(0, chord_len, step)):
            begin = start + offset
            if begin >= n:
                break
            end = min(begin + step, n)
            out[begin:end] += (0.16 if j % 4 == 0 else 0.1) * hit[: end - begin]
        return
    length = min(chord_len + round(0.3 * sample_rate), n - start)
    cyc = _cycles(_hz(note)[None], length, sample_rate, np.zeros(1))[0]
    tone = _sine(cyc) + 0.2 * _sine(2 * cyc)
    decay = 0.45 + 0.55 * np.exp(-np.arange(length, dtype=np.float32) / np.float32(sample_rate))
    env = _envelope(length, round(0.04 * sample_rate), round(0.35 * sample_rate))
    out[start : start + length] += 0.16 * tone * decay * env


def _add_pulse(
    out: np.ndarray, style: _Mood, notes: np.ndarray, start: int, chord_len: int, beat: float,
    sample_rate: int,
) -> None:  # fmt: skip
    if style.pulse == "ostinato":
        return  # the tense bass already pulses
    n = out.size
    low, mid, top = notes.min() + 12, notes[notes.size // 2] + 12, notes.max() + 12
    if style.pulse == "bell":
        # One soft mallet note on each chord change: a marker, not a rhythm.
        events = [(0, top, 0.05)]
    else:
        pattern = (low, mid, top, mid)
        events = [
            (round(i * beat * sample_rate), pattern[i % 4], 0.045 if i % 2 == 0 else 0.03)
            for i in range(style.beats_per_chord)
        ]
    hit = round(1.2 * sample_rate)
    decay = np.exp(-np.arange(hit, dtype=np.float32) / np.float32(0.35 * sample_rate))
    decay *= _envelope(hit, round(0.006 * sample_rate), round(0.05 * sample_rate))
    freqs = _hz(np.array([e[1] for e in events], dtype=np.float64))
    cycles = _cycles(freqs, hit, sample_rate, np.zeros(freqs.size))
    # Sine plus a quiet octave: a soft mallet colour that sits above the pad.
    tones = (_sine(cycles) + 0.15 * _sine(2 * cycles)) * decay
    for (offset, _note, amp), tone in zip(events, tones, strict=True):
        begin = start + offset
        if begin >= n:
            break
        end = min(begin + hit, n)
        out[begin:end] += amp * tone[: end - begin]


# ----------------------------------------------------------------------------- mixing


def _db(value: float) -> float:
    return float(10 ** (value / 20.0))


def _resample(samples: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    data = _mono(samples)
    if src_rate == dst_rate or data.size == 0:
        return data.astype(np.float32, copy=False)
    n_out = max(1, round(data.size * dst_rate / src_rate))
    positions = np.arange(n_out, dtype=np.float64) * (src_rate / dst_rate)
    return np.interp(positions, np.arange(data.size), data).astype(np.float32)


def _active_rms(samples: np.ndarray, sample_rate: int) -> float:
    # RMS over 50 ms windows within 30 dB of the loudest one: pauses do not drag it down.
    win = max(1, round(0.05 * sample_rate))
    usable = samples[: samples.size // win * win].astype(np.float64)
    if usable.size == 0:
        usable = samples.astype(np.float64)
        win = max(1, usable.size)
    power = (usable.reshape(-1, win) ** 2).mean(axis=1)
    if power.max() <= 0:
        return 0.0
    return math.sqrt(float(power[power >= power.max() * 1e-3].mean()))


def mix(
    dialogue: list[tuple[np.ndarray, int, float]],
    music: np.ndarray | None,
    duration_s: float,
    sample_rate: int = 44100,
    duck_db: float = -12.0,
    music_db: float = -18.0,
) -> np.ndarray:
    """Mix dialogue lines (samples, rate, start_s) over a ducked music bed; float32 mono."""
    n = round(duration_s * sample_rate)
    voice = np.zeros(n, dtype=np.float32)
    active = np.zeros(n, dtype=np.float32)
    for samples, rate, start_s in dialogue:
        line = _resample(samples, rate, sample_rate)
        level = _active_rms(line, sample_rate)
        if level <= 0:
            continue
        # Every line to the same speech level, so a soft variant is not lost beside a loud
        # one; the limiter below takes care of the peaks this pushes past the ceiling.
        gain = _db(DIALOGUE_RMS_DBFS) / level
        begin = round(start_s * sample_rate)
        lo, hi = max(begin, 0), min(begin + line.size, n)
        if hi <= lo:
            continue
        voice[lo:hi] += gain * line[lo - begin : hi - begin]
        active[lo:hi] = 1.0

    # eSpeak's glottal pulses put speech peaks ~18 dB over its RMS; limit them rather than
    # turn every line down to fit them.
    out = _limit(voice, _db(PEAK_CEILING_DBFS - 0.5), sample_rate)
    if music is not None and n > 0:
        bed = np.zeros(n, dtype=np.float32)
        src = _mono(music)[:n]
        bed[: src.size] = src
        # music_db is the bed's RMS over its whole length, before ducking.
        level = rms_dbfs(bed)
        if level > SILENCE_FLOOR_DBFS:
            bed *= np.float32(_db(music_db - level))
        bed *= _duck_curve(active, sample_rate, duck_db)
        out = out + bed

    peak = float(np.max(np.abs(out))) if n else 0.0
    ceiling = _db(PEAK_CEILING_DBFS)
    if peak > ceiling:
        out = out * np.float32(ceiling / peak)
    return out.astype(np.float32, copy=False)


def _running_min(values: np.ndarray, half: int) -> np.ndarray:
    """Return the minimum of `values` over a centred window of 2 * half + 1 samples."""
    # van Herk / Gil-Werman: per-block prefix and suffix minima give any window's minimum
    # from two lookups, so the cost does not grow with the window.
    width = 2 * half + 1
    n = values.size
    padded = np.concatenate([
        np.full(half, np.inf), values.astype(np.float64), np.full(half + width, np.inf)
    ])  # fmt: skip
    blocks = -(-padded.size // width)
    padded = np.concatenate([padded, np.full(blocks * width - padded.size, np.inf)])
    grid = padded.reshape(blocks, width)
    prefix = np.minimum.accumulate(grid, axis=1).ravel()
    suffix = np.minimum.accumulate(grid[:, ::-1], axis=1)[:, ::-1].ravel()
    idx = np.arange(n)
    return np.minimum(suffix[idx], prefix[idx + width - 1])


def _limit(signal: np.ndarray, ceiling: float, sample_rate: int) -> np.ndarray:
    """Return `signal` with a smooth gain that keeps every sample within +/- ceiling."""
    if signal.size == 0 or float(np.max(np.abs(signal))) <= ceiling:
        return signal
    need = np.minimum(1.0, ceiling / np.maximum(np.abs(signal), 1e-12))
    # Holding the lowest gain over a window at least as wide as the smoothing one guarantees
    # the smoothed gain is never above what any peak needs; 10 ms each way keeps the gain
    # moving at syllable speed rather than per pitch period, which would buzz.
    half = max(1, round(0.01 * sample_rate))
    gain = _box_mean(_running_min(need, half), half)
    return (signal * gain).astype(np.float32)


def _box_mean(values: np.ndarray, half: int) -> np.ndarray:
    """Return the mean of `values` over a centred window of 2 * half + 1 samples."""
    sums = np.concatenate([[0.0], np.cumsum(values, dtype=np.float64)])
    idx = np.arange(values.size)
    lo = np.clip(idx - half, 0, values.size)
    hi = np.clip(idx + half + 1, 0, values.size)
    return (sums[hi] - sums[lo]) / (hi - lo)


def _duck_curve(active: np.ndarray, sample_rate: int, duck_db: float) -> np.ndarray:
    """Return the music gain per sample: 1 in gaps, duck_db under dialogue, linear ramps."""
    half = max(1, round(DUCK_RAMP_S * sample_rate) // 2)
    # Widen the dialogue span by half a ramp, then average over a ramp: the music is fully
    # down by the first syllable and only comes back once the line has ended.
    widened = (_box_mean(active, half) > 0).astype(np.float32)
    amount = _box_mean(widened, half)
    return (1.0 - amount * (1.0 - _db(duck_db))).astype(np.float32)
