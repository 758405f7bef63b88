"""Audio: eSpeak NG speech, WAV files, lip-sync envelopes and the in-memory mix.

Speech runs the eSpeak NG shared library shipped in the `espeakng-loader` wheel through ctypes
(in the helper process of `espeak_helper`); there is no espeak-ng binary and no network.
Everything else is numpy and scipy. The music bed is in `music`, loudness measurement and
normalisation (pyloudnorm, ITU-R BS.1770-4; the mix is delivered at TARGET_LUFS) in
`loudness`, and the streamed episode mix in `mix`.
"""

from __future__ import annotations

import atexit
import contextlib
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
from pathlib import Path
from xml.sax.saxutils import escape

import espeakng_loader
import numpy as np
from scipy.signal import resample_poly

from inkreel.media import espeak_helper
from inkreel.media.languages import (
    LANGUAGES,
    SCRIPT_LANGUAGE,
    Language,
    LanguageError,
    script_of,
    speaking_language,
)
from inkreel.media.loudness import (
    MIX_TRUE_PEAK_DBTP,
    PEAK_CEILING_DBFS,
    SILENCE_FLOOR_DBFS,
    TARGET_LUFS,
    box_mean,
    db_gain,
    normalise_loudness,
)
from inkreel.project import atomic_path

# VOICE_VARIANTS: the variants shipped in espeak-ng-data/voices/!v that sound like ordinary
# adult speakers (no robots, whispers, croaks or heavy echo). voice_for draws from these.
from inkreel.schemas.design import VOICE_VARIANTS, Voice
from inkreel.seeds import seed_of

# Language code -> eSpeak NG voice, for every language an episode can be voiced in (the table
# is in languages.py). A language the detector knows but eSpeak does not speak is voiced by a
# stand-in: see languages.speaking_language.
LANGUAGE_VOICES = {code: lang.voice for code, lang in LANGUAGES.items()}

SPEECH_PAD_S = 0.06
DIALOGUE_RMS_DBFS = -16.0
# Changes whenever mix() would sound different for the same inputs: put it in mix cache keys.
MIX_VERSION = "bs1770-16lufs-1.5dbtp-polyphase-secant-2"
DUCK_RAMP_S = 0.15


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
    h = seed_of(name.strip().casefold()).to_bytes(8, "big")
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


# ----------------------------------------------------------------------------- mixing


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
        gain = db_gain(DIALOGUE_RMS_DBFS) / level
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
            bed *= np.float32(db_gain(music_db - level))
        bed *= _duck_curve(active, sample_rate, duck_db)
        out = out + bed

    if target_lufs is not None:
        return normalise_loudness(out, sample_rate, target_lufs, MIX_TRUE_PEAK_DBTP)
    peak = float(np.max(np.abs(out))) if n else 0.0
    ceiling = db_gain(PEAK_CEILING_DBFS)
    if peak > ceiling:
        out = out * np.float32(ceiling / peak)
    return out.astype(np.float32, copy=False)


def _duck_curve(active: np.ndarray, sample_rate: int, duck_db: float) -> np.ndarray:
    """Return the music gain per sample: 1 in gaps, duck_db under dialogue, linear ramps."""
    half = max(1, round(DUCK_RAMP_S * sample_rate) // 2)
    # Widen the dialogue span by half a ramp, then average over a ramp: the music is fully
    # down by the first syllable and only comes back once the line has ended.
    widened = (box_mean(active, half) > 0).astype(np.float32)
    amount = box_mean(widened, half)
    return (1.0 - amount * (1.0 - db_gain(duck_db))).astype(np.float32)
