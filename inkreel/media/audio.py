"""Audio: eSpeak NG speech, WAV files, lip-sync envelopes, a generated music bed and the mix.

Speech runs the eSpeak NG shared library shipped in the `espeakng-loader` wheel through ctypes;
there is no espeak-ng binary and no network. Everything else is numpy and scipy; loudness is
measured with pyloudnorm (ITU-R BS.1770-4) and the mix is delivered at TARGET_LUFS.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import io
import json
import math
import os
import re
import subprocess
import sys
import threading
import unicodedata
import wave
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import pyloudnorm
from scipy.signal import firwin, resample_poly

from inkreel.media import espeak_helper
from inkreel.media.languages import (
    LANGUAGES,
    SCRIPT_LANGUAGE,
    Language,
    LanguageError,
    script_of,
    speaking_language,
)
from inkreel.project import atomic_path

# VOICE_VARIANTS: the variants shipped in espeak-ng-data/voices/!v that sound like ordinary
# adult speakers (no robots, whispers, croaks or heavy echo). voice_for draws from these.
from inkreel.schemas.design import VOICE_VARIANTS, Voice

# Language code -> eSpeak NG voice, for every language an episode can be voiced in (the table
# is in languages.py). A language the detector knows but eSpeak does not speak is voiced by a
# stand-in: see languages.speaking_language.
LANGUAGE_VOICES = {code: lang.voice for code, lang in LANGUAGES.items()}

SPEECH_PAD_S = 0.06
SILENCE_FLOOR_DBFS = -120.0
DIALOGUE_RMS_DBFS = -16.0
PEAK_CEILING_DBFS = -1.0
# Delivery loudness (ITU-R BS.1770-4 integrated), the usual target for online video.
TARGET_LUFS = -16.0
# The mix's true-peak ceiling: half a dB under PEAK_CEILING_DBFS, because the AAC encode
# overshoots by a few tenths (measured +0.2 dB at 160 kb/s) and the delivered file must stay
# at or under -1 dBTP.
MIX_TRUE_PEAK_DBTP = -1.5
# Changes whenever mix() would sound different for the same inputs: put it in mix cache keys.
MIX_VERSION = "bs1770-16lufs-1.5dbtp-polyphase-secant-2"
DUCK_RAMP_S = 0.15

# Loudness normalisation: BS.1770 gating block, true-peak oversampling, limiter timing.
_METER_BLOCK_S = 0.4
_OVERSAMPLE = 4
_ENVELOPE_BLOCK, _ENVELOPE_PAD = 1 << 18, 64  # the interpolator reaches ~10 samples each way
_LIMIT_SMOOTH_S = 0.005
_LIMIT_HOLD_S = 0.06
_LIMIT_MARGIN_DB = 0.1
_LOUDNESS_PASSES = 5
_LOUDNESS_TOLERANCE_LU = 0.02
_MAX_GAIN_STEP_DB = 6.0  # a step of the loudness search, at most
# The loudness a first gain step after the limiter is expected to keep, per dB (measured on
# eSpeak dialogue over the music bed: 0.39-0.42; a mix with no peaks keeps all of it).
_LIMITER_KEEPS = 0.5

# espeak_Synth flags (speak_lib.h).
_CHARS_UTF8 = 1
_SSML = 0x10

# Where a Unicode character name says how a letter sounds: "KHMER LETTER SA", "LAO VOWEL
# SIGN I", "TIBETAN SUBJOINED LETTER RA".
_SOUND_IN_NAME = re.compile(r"\b(?:LETTER|SYLLABLE|VOWEL SIGN|VOWEL)\s+([A-Z]+)")


class SpeechError(Exception):
    """Speech could not be produced; the message says why."""


class _Engine:
    """A running eSpeak helper process and the pipe conversation with it."""

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
        if not sys.executable:
            raise SpeechError("cannot start the eSpeak helper: no Python executable is known.")
        self.owner_pid = os.getpid()
        try:
            # -I: the helper (run by path) needs only the standard library and must not pick
            # up the caller's PYTHONPATH or site packages.
            self._proc = subprocess.Popen(
                [sys.executable, "-I", espeak_helper.__file__, lib_path, str(data_dir)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError as exc:
            raise SpeechError(f"cannot start the eSpeak helper process: {exc}") from exc
        kind, body = self._read_frame()
        if kind != b"R":
            self.close()
            raise SpeechError(body.decode("utf-8", "replace"))
        info = json.loads(body)
        self.sample_rate = int(info["rate"])
        self.variants = frozenset(info["variants"])

    def alive(self) -> bool:
        return self.owner_pid == os.getpid() and self._proc.poll() is None

    def close(self) -> None:
        """Stop the helper: closing its input ends its loop; kill it if it does not go."""
        if self.owner_pid != os.getpid():
            return  # a forked copy of the caller must not stop its parent's helper
        with contextlib.suppress(OSError):
            if self._proc.stdin:
                self._proc.stdin.close()
        try:
            self._proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout:
            self._proc.stdout.close()

    def _read_frame(self) -> tuple[bytes, bytes]:
        stream = self._proc.stdout
        assert stream is not None
        head = stream.read(9)
        if len(head) < 9:
            code = self._proc.poll()
            return b"E", f"the eSpeak helper process stopped (exit code {code}).".encode()
        size = int.from_bytes(head[1:9], "little")
        body = stream.read(size)
        if len(body) < size:
            return b"E", b"the eSpeak helper process stopped mid-answer."
        return head[:1], body

    def speak(self, text: str, voice_name: str, rate: int, pitch: int, flags: int) -> np.ndarray:
        """Return int16 samples for `text`, rendered from the helper's pristine state."""
        request = json.dumps(
            {"text": text, "voice": voice_name, "rate": rate, "pitch": pitch, "flags": flags}
        ).encode("utf-8")
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            stdin.write(len(request).to_bytes(4, "little") + request)
            stdin.flush()
        except OSError as exc:
            raise SpeechError(f"the eSpeak helper process stopped: {exc}") from exc
        kind, body = self._read_frame()
        if kind != b"A":
            raise SpeechError(body.decode("utf-8", "replace"))
        return np.frombuffer(body[: len(body) // 2 * 2], dtype="<i2")


_LOCK = threading.Lock()
_ENGINE: _Engine | None = None


def _engine() -> _Engine:
    global _ENGINE
    if _ENGINE is None or not _ENGINE.alive():
        if _ENGINE is not None:
            _ENGINE.close()  # reap a helper that died and release its pipes
        _ENGINE = _Engine()
    return _ENGINE


@atexit.register
def _stop_engine() -> None:
    # Bounded wait: a thread stuck mid-line must not hold up interpreter exit; the helper then
    # ends on its own when our end of its input pipe closes.
    if not _LOCK.acquire(timeout=2):
        return
    try:
        if _ENGINE is not None:
            _ENGINE.close()
    finally:
        _LOCK.release()


def _reads(lang: Language) -> set[str]:
    """Return the scripts a language's eSpeak voice reads as words."""
    # eSpeak's Japanese voice reads kana only: a kanji is announced as "Chinese letter" and
    # Latin is spelled out. Every other voice reads Latin (as English, or its own way).
    return {lang.script} if lang.code == "ja" else {lang.script, "LATIN"}


def _foreign_runs(text: str, lang: Language) -> list[tuple[int, int, str]]:
    """Return (start, end, script) of the runs of letters the voice of `lang` cannot read."""
    readable = _reads(lang)
    runs: list[tuple[int, int, str]] = []
    start = end = 0
    current: str | None = None
    previous: str | None = None
    for i, ch in enumerate(text):
        script = script_of(ch)
        if script is None and unicodedata.category(ch)[0] == "M":
            script = previous  # a combining mark belongs to the letter before it
        previous = script
        if script is not None and script not in readable:
            if script != current:
                if current is not None:
                    runs.append((start, end, current))
                start, current = i, script
            end = i + 1
        elif current is not None and not ch.isspace():
            runs.append((start, end, current))  # a run goes on over spaces between its words
            current = None
    if current is not None:
        runs.append((start, end, current))
    return runs


def _romanise(run: str) -> str:
    """Return a rough Latin reading of letters no eSpeak voice reads, from their Unicode names.

    "សួស្តី" (Khmer) becomes "suastii": each letter says its sound in its name, and a
    consonant's own vowel is dropped before a vowel sign or a subscript mark. Far from right,
    but a word comes out about as long as a word instead of a list of letter names.
    """
    out = []
    for i, ch in enumerate(run):
        match = _SOUND_IN_NAME.search(unicodedata.name(ch, ""))
        if not match:
            out.append(" " if ch.isspace() else "")
            continue
        sound = match.group(1).lower()
        following = run[i + 1] if i + 1 < len(run) else ""
        if (
            unicodedata.category(ch)[0] == "L"
            and following
            and unicodedata.category(following)[0] == "M"
            and len(sound) > 1
            and sound[-1] in "aeiou"
        ):
            sound = sound[:-1]
        out.append(sound)
    return "".join(out)


def _espeak_text(text: str, lang: Language) -> tuple[str, int]:
    """Return what eSpeak is given for a line, and the espeak_Synth flags.

    A run of letters in a script the language's voice cannot read is wrapped in SSML for the
    voice of the script's usual language (kanji in Japanese -> Mandarin, which at least gives
    syllables of the right length for subtitles and lip sync; Cyrillic in an English line ->
    Russian); a run in a script no voice reads becomes a romanisation. Left alone, eSpeak
    spells every unknown letter out by name ("Telugu letter ka"): seconds per word.
    """
    runs = _foreign_runs(text, lang)
    if not runs:
        return text, _CHARS_UTF8
    parts, last = [], 0
    for start, end, script in runs:
        parts.append(escape(text[last:start]))
        run = text[start:end]
        code = SCRIPT_LANGUAGE.get(script)
        if code is not None:
            parts.append(f'<voice xml:lang="{LANGUAGES[code].voice}">{escape(run)}</voice>')
        elif "LATIN" in _reads(lang):
            parts.append(escape(_romanise(run)))
        else:
            english = LANGUAGES["en"].voice
            parts.append(f'<voice xml:lang="{english}">{escape(_romanise(run))}</voice>')
        last = end
    parts.append(escape(text[last:]))
    return "<speak>" + "".join(parts) + "</speak>", _CHARS_UTF8 | _SSML


def _speaking(language: str, text: str = "") -> Language:
    try:
        return speaking_language(language, text)
    except LanguageError:
        raise SpeechError(
            f"no eSpeak voice for language {language!r}; `inkreel languages` lists the "
            f"{len(LANGUAGES)} voiced languages."
        ) from None


def synthesize(text: str, voice: Voice, language: str) -> tuple[np.ndarray, int]:
    """Speak `text` with `voice`; return float32 mono samples in [-1, 1] and the sample rate.

    `language` is a code of languages.LANGUAGES, or of a language eSpeak has no voice for,
    which is then voiced by a stand-in (languages.speaking_language).
    """
    lang = _speaking(language, text)
    if not text.strip():
        raise SpeechError("nothing to say: the line is empty.")
    body, flags = _espeak_text(text, lang)
    voice_name = f"{lang.voice}+{voice.variant}"
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
    _speaking(language)
    h = hashlib.sha256(name.strip().casefold().encode("utf-8")).digest()
    variant = VOICE_VARIANTS[int.from_bytes(h[0:4], "big") % len(VOICE_VARIANTS)]
    # Stay near the variant's own pitch and a natural pace: extremes sound like cartoons.
    pitch = 32 + h[4] % 37  # 32..68
    # eSpeak's other voices (cmn and ja first) sound brisk at English rates: a slower band.
    low, span = (150, 41) if language == "en" else (135, 36)
    speed = low + h[5] % span
    return Voice(variant=variant, pitch=pitch, speed=speed)


# ----------------------------------------------------------------------------- files


def wav_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    """Float samples as a 16-bit PCM WAV file: (n,) mono or (n, channels)."""
    data = np.asarray(samples, dtype=np.float64)
    if data.ndim == 1:
        channels = 1
    elif data.ndim == 2:
        channels = data.shape[1]
    else:
        raise ValueError(f"samples must be (n,) or (n, channels), not shape {data.shape}")
    pcm = np.round(np.clip(np.nan_to_num(data), -1.0, 1.0) * 32767.0).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(int(sample_rate))
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> Path:
    """Write float samples as 16-bit PCM WAV: (n,) mono or (n, channels); return the path."""
    path = Path(path)
    data = wav_bytes(samples, sample_rate)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def layer(takes: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, int]:
    """Return takes said together (a chorus): mono, at the first take's rate, each voice at
    1/sqrt(n) so the sum keeps about one voice's loudness, peaks held under full scale."""
    rate = takes[0][1]
    voices = [_resample(samples, src, rate) for samples, src in takes]
    out = np.zeros(max(v.size for v in voices), dtype=np.float32)
    for v in voices:
        out[: v.size] += v / math.sqrt(len(voices))
    peak = float(np.max(np.abs(out), initial=0.0))
    return (out * (0.98 / peak) if peak > 0.98 else out), rate


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
    """Return mono samples at dst_rate (polyphase FIR: no imaging from linear interpolation)."""
    data = _mono(samples)
    if src_rate == dst_rate or data.size == 0:
        return data.astype(np.float32, copy=False)
    common = math.gcd(int(src_rate), int(dst_rate))
    out = resample_poly(data.astype(np.float64), dst_rate // common, src_rate // common)
    return np.asarray(out, dtype=np.float32)


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
    target_lufs: float | None = TARGET_LUFS,
) -> np.ndarray:
    """Mix dialogue lines (samples, rate, start_s) over a ducked music bed; float32 mono.

    The result is normalised to `target_lufs` integrated loudness (ITU-R BS.1770-4) with true
    peaks at or below MIX_TRUE_PEAK_DBTP (see normalise_loudness), which leaves room for the
    AAC encode to stay under PEAK_CEILING_DBFS. Normalisation is one gain
    for the whole mix plus a peak limiter that only ever turns down, so the music stays ducked
    under dialogue by at least `duck_db`. `target_lufs=None` skips it and only keeps the peaks
    under the ceiling (by turning the whole mix down if needed).
    """
    n = round(duration_s * sample_rate)
    voice = np.zeros(n, dtype=np.float32)
    active = np.zeros(n, dtype=np.float32)
    for samples, rate, start_s in dialogue:
        line = _resample(samples, rate, sample_rate)
        level = _active_rms(line, sample_rate)
        if level <= 0:
            continue
        # Every line to the same speech level, so a soft variant is not lost beside a loud
        # one; the limiter in normalise_loudness takes care of the peaks this pushes up.
        gain = _db(DIALOGUE_RMS_DBFS) / level
        begin = round(start_s * sample_rate)
        lo, hi = max(begin, 0), min(begin + line.size, n)
        if hi <= lo:
            continue
        voice[lo:hi] += gain * line[lo - begin : hi - begin]
        active[lo:hi] = 1.0

    out = voice
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

    if target_lufs is not None:
        return normalise_loudness(out, sample_rate, target_lufs, MIX_TRUE_PEAK_DBTP)
    peak = float(np.max(np.abs(out))) if n else 0.0
    ceiling = _db(PEAK_CEILING_DBFS)
    if peak > ceiling:
        out = out * np.float32(ceiling / peak)
    return out.astype(np.float32, copy=False)


# ----------------------------------------------------------------------------- loudness


def integrated_lufs(samples: np.ndarray, sample_rate: int) -> float:
    """Return integrated loudness in LUFS (ITU-R BS.1770-4 via pyloudnorm).

    Takes (n,) mono or (n, channels) up to 5 channels. Returns -inf for silence (nothing above
    the -70 LUFS absolute gate) and for audio shorter than one 400 ms gating block.
    """
    data = np.asarray(samples, dtype=np.float64)
    if data.shape[0] < _METER_BLOCK_S * sample_rate or not np.any(data):
        return -math.inf
    value = float(pyloudnorm.Meter(sample_rate).integrated_loudness(data))
    return value if math.isfinite(value) else -math.inf


def true_peak_dbfs(samples: np.ndarray) -> float:
    """Return the true peak in dBTP, estimated by 4x oversampling (as BS.1770-4 Annex 2).

    The estimate uses scipy's polyphase interpolator; it is floored at SILENCE_FLOOR_DBFS.
    """
    data = np.asarray(samples, dtype=np.float64)
    if data.size == 0:
        return SILENCE_FLOOR_DBFS
    peak = float(_true_peak_envelope(data).max())
    return max(SILENCE_FLOOR_DBFS, 20.0 * math.log10(peak)) if peak > 0 else SILENCE_FLOOR_DBFS


def normalise_loudness(
    samples: np.ndarray,
    sample_rate: int,
    target_lufs: float = TARGET_LUFS,
    peak_dbfs: float = PEAK_CEILING_DBFS,
) -> np.ndarray:
    """Return samples at `target_lufs` integrated loudness with true peaks <= `peak_dbfs`.

    Loudness is measured with pyloudnorm's ITU-R BS.1770-4 meter (K-weighting, 400 ms blocks,
    -70 LUFS absolute and -10 LU relative gates). One gain brings the whole signal to the
    target; then a smooth look-ahead limiter turns down only the peaks that would pass the
    ceiling. The ceiling is a *true-peak* ceiling (dBTP): peaks are estimated on a 4x
    oversampled copy (scipy.signal.resample_poly), which also bounds every sample, so the
    sample peak is <= peak_dbfs as well. Limiting lowers the loudness a little, so the gain
    is re-measured and corrected a few times; the result is within ~0.1 LU of the target
    unless the material is so peaky that the ceiling cannot be met at that loudness.

    Accepts (n,) or (n, channels); returns float32 of the same shape. Silence and audio
    shorter than one 400 ms gating block cannot be measured: they only get the peak ceiling.
    """
    data = np.nan_to_num(np.asarray(samples, dtype=np.float64))
    if data.ndim not in (1, 2):
        raise ValueError(f"samples must be (n,) or (n, channels), not shape {data.shape}")
    ceiling = _db(peak_dbfs)
    loudness = integrated_lufs(data, sample_rate)
    if not math.isfinite(loudness):
        return _true_peak_limit(data, ceiling, sample_rate).astype(np.float32)
    gain_db = target_lufs - loudness
    out = data * _db(gain_db)
    tried: list[tuple[float, float]] = []
    for attempt in range(_LOUDNESS_PASSES):
        out = _true_peak_limit(out, ceiling, sample_rate)
        loudness = integrated_lufs(out, sample_rate)
        if not math.isfinite(loudness) or abs(loudness - target_lufs) <= _LOUDNESS_TOLERANCE_LU:
            break
        if attempt < _LOUDNESS_PASSES - 1:
            tried.append((gain_db, loudness))
            step = gain_step_db(target_lufs, tried)
            gain_db += step
            out = out * _db(step)
    return out.astype(np.float32)


def gain_step_db(target_lufs: float, tried: list[tuple[float, float]]) -> float:
    """The next gain step (dB) toward the loudness target, from the passes so far: (gain in
    dB, loudness after the limiter). The limiter takes back part of every step, so each step
    is scaled by how far the loudness moved per dB of the last one (a secant step; the first
    one by the usual share, _LIMITER_KEEPS): measured on a 60 s mix, the target came within
    0.02 LU in 3 passes, where plain steps left it 0.1 LU short after 5."""
    gain, loudness = tried[-1]
    moved = _LIMITER_KEEPS  # before two passes say how much the limiter keeps of a step
    if len(tried) > 1:
        gain_before, loudness_before = tried[-2]
        if gain != gain_before:
            moved = min(1.0, max(0.1, (loudness - loudness_before) / (gain - gain_before)))
    step = (target_lufs - loudness) / moved
    return max(-_MAX_GAIN_STEP_DB, min(_MAX_GAIN_STEP_DB, step))


def _interpolator_gain() -> float:
    """The largest sum of |weights| of any point resample_poly interpolates at 4x (its
    Kaiser-windowed sinc, as resample_poly designs it), with a hair of headroom."""
    taps = _OVERSAMPLE * np.concatenate(
        [[0.0], firwin(20 * _OVERSAMPLE + 1, 1 / _OVERSAMPLE, window=("kaiser", 5.0))]
    )
    return 1.001 * max(float(np.abs(taps[k::_OVERSAMPLE]).sum()) for k in range(_OVERSAMPLE))


_INTERPOLATOR_GAIN = _interpolator_gain()


def _true_peak_envelope(data: np.ndarray, floor: float = 0.0) -> np.ndarray:
    """Return, per sample, the largest |value| of the 4x oversampled signal next to it.

    Each sample gets the peaks of the intervals on both sides of it, so a gain that is held
    over a sample and its neighbours keeps the inter-sample peaks under control too. Works in
    blocks so a long mix never holds four float64 copies of itself.

    With a `floor`, only the samples whose envelope could pass it are oversampled: an
    interpolated point is a weighted sum of the samples within the interpolator's reach, so
    it is at most their largest |value| times the weights' absolute sum. Elsewhere the value
    is |sample| (at most the floor), so a limiter that acts only above the floor sees the
    same envelope; a dialogue mix leaves over 90 % of its samples well under it.
    """
    frames = data.reshape(data.shape[0], -1)
    # Mono as 1-D: a max over an axis of length one costs as much as the oversampling.
    if frames.shape[1] == 1:
        frames = frames[:, 0]
    env = np.abs(frames) if frames.ndim == 1 else np.abs(frames).max(axis=1)
    if floor <= 0 or env.size < 2:
        return _oversampled_peaks(frames, env)
    # Chunks of 64 samples: a sample's envelope reads at most 11 samples each way, so the
    # loudest sample of its chunk and the two next to it bounds it (the ends wrap round,
    # which only oversamples a chunk more).
    size = _ENVELOPE_PAD
    chunks = -(-env.size // size)
    loudest = np.zeros(chunks * size)
    loudest[: env.size] = env
    loudest = loudest.reshape(chunks, size).max(axis=1)
    near = np.maximum(loudest, np.maximum(np.roll(loudest, 1), np.roll(loudest, -1)))
    hot_chunks = near * _INTERPOLATOR_GAIN > floor
    if not hot_chunks.any():
        return env
    # The hot chunks with a chunk of context each side (more than the oversampler reads),
    # side by side: a hot sample is further than the interpolator reaches from where two
    # runs meet, so its value is the same as in the whole signal, and one call does them all.
    hot = np.repeat(hot_chunks, size)[: env.size]
    kept_chunks = hot_chunks | np.roll(hot_chunks, 1) | np.roll(hot_chunks, -1)
    kept = np.repeat(kept_chunks, size)[: env.size]
    runs = frames[kept]
    peaks = np.abs(runs) if runs.ndim == 1 else np.abs(runs).max(axis=1)
    env[hot] = _oversampled_peaks(runs, peaks)[hot[kept]]
    return env


def _oversampled_peaks(frames: np.ndarray, env: np.ndarray) -> np.ndarray:
    """Raise env (|frames|, per sample) to the 4x oversampled peaks around each sample."""
    n = frames.shape[0]
    if n < 2:
        return env
    for lo in range(0, n, _ENVELOPE_BLOCK):
        hi = min(lo + _ENVELOPE_BLOCK, n)
        a, b = max(0, lo - _ENVELOPE_PAD), min(n, hi + _ENVELOPE_PAD)
        over = np.abs(resample_poly(frames[a:b], _OVERSAMPLE, 1, axis=0))
        if over.ndim > 1:
            over = over.max(axis=1)
        # over[k] is the signal at time a + k / 4: row i holds sample a + i and the three
        # points between it and the next sample.
        # (A max over an axis of four is a slow reduction; strided maxima are the same.)
        after = over[0::_OVERSAMPLE]
        for k in range(1, _OVERSAMPLE):
            after = np.maximum(after, over[k::_OVERSAMPLE])
        i0, count = lo - a, hi - lo
        before = (
            after[i0 - 1 : i0 - 1 + count]
            if i0 > 0
            else np.concatenate([after[:1], after[: count - 1]])
        )
        env[lo:hi] = np.maximum(env[lo:hi], np.maximum(after[i0 : i0 + count], before))
    return env


def _true_peak_limit(data: np.ndarray, ceiling: float, sample_rate: int) -> np.ndarray:
    """Return data (float64, (n,) or (n, ch)) with a smooth gain that keeps true peaks <= ceiling.

    The gain is a look-ahead hold-and-release curve (see _limit_gain) computed from the 4x
    oversampled peak envelope, shared by all channels. The smoothed gain can still let an
    inter-sample peak through by a hair, so the result is checked and the pass repeated; a
    last whole-signal trim catches whatever is left.
    """
    out = data
    target = ceiling * _db(-_LIMIT_MARGIN_DB)
    for _ in range(3):
        env = _true_peak_envelope(out, floor=target)
        if env.size == 0 or float(env.max()) <= ceiling:
            return out
        gain = _limit_gain(env, target, sample_rate)
        out = out * (gain if out.ndim == 1 else gain[:, None])
    peak = float(_true_peak_envelope(out).max()) if out.size else 0.0
    return out * (ceiling / peak) if peak > ceiling else out


def _limit_gain(envelope: np.ndarray, ceiling: float, sample_rate: int) -> np.ndarray:
    """Return a smooth gain <= ceiling / envelope everywhere (1 where nothing is too loud).

    The minimum needed gain is held from 10 ms before a peak (look-ahead) to 60 ms after it
    (hold, so the gain does not follow single pitch periods and buzz), then smoothed by two
    5 ms box filters (a 20 ms S-shaped attack and release). Holding over a window at least as
    wide as the smoothing on each side guarantees the smoothed gain never exceeds what any
    peak needs.
    """
    need = np.minimum(1.0, ceiling / np.maximum(envelope, 1e-12))
    smooth = max(1, round(_LIMIT_SMOOTH_S * sample_rate))
    ahead = 2 * smooth
    back = max(ahead, round(_LIMIT_HOLD_S * sample_rate))
    held = _running_min_span(need, back, ahead)
    return _box_mean(_box_mean(held, smooth), smooth)


def _running_min_span(values: np.ndarray, back: int, ahead: int) -> np.ndarray:
    """Return min(values[t - back : t + ahead + 1]) for every t (clipped at the edges)."""
    if (back + ahead) % 2:
        back += 1  # a centred window needs an even span; one sample more hold is harmless
    half = (back + ahead) // 2
    shift = (ahead - back) // 2
    pad = max(back, ahead)
    padded = np.concatenate([np.full(pad, np.inf), values, np.full(pad, np.inf)])
    centred = _running_min(padded, half)
    return centred[pad + shift : pad + shift + values.size]


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
