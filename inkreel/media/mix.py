"""The episode mix, streamed: dialogue over a ducked music bed, at delivery loudness, to a WAV.

`audio.mix` builds the same mix in memory, which is fine for a scene but not for an episode:
a 15-minute mix and the normaliser's float64 intermediates took ~2.6 GB. `mix_to_wav` works in
blocks of a few seconds and keeps the whole signal only on disk (float temp files next to the
output), so its memory does not grow with the runtime:

1. the music bed is rendered block by block (`MusicBed`: the chords overlapping a block, the
   same samples as `music.music_bed`) and its level measured;
2. each block of the mix is made from the lines that overlap it (read when the mix reaches
   them, placed and levelled as in `audio.mix`) and the bed, ducked under them; its loudness
   goes to a streaming BS.1770-4 meter (`LoudnessMeter`, pyloudnorm's algorithm);
3. normalisation passes as in `loudness.normalise_loudness` (one gain, then the true-peak
   limiter, re-measured up to five times), each pass a block at a time with enough context on
   both sides that the limiter's look-ahead, hold and smoothing see what they would see on the
   whole signal;
4. the last pass is written as 16-bit PCM.

One difference from `loudness.normalise_loudness`: whether a limiter round runs at all is decided
per block (with its context), not once for the whole signal, so a block with no peak over the
ceiling is not turned down by the last 0.1 dB of margin because another block had one.
Measured against the in-memory path (tests/test_mix.py: 14 s of eSpeak lines, whispered to
shouted, in 20,000-sample blocks): peaks up to 0.08 dB apart (the in-memory path turned them
down further because a peak elsewhere needed another round), loudness -16.004 against
-16.000 LUFS, true peak -1.541 against -1.539 dBTP; in the default ~6 s blocks the same mix
came out within one 16-bit step of it everywhere.
"""

from __future__ import annotations

import math
import tempfile
import wave
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pyloudnorm import IIRfilter
from scipy.signal import lfilter

from inkreel.media import audio
from inkreel.media.audio import (
    _active_rms,
    _duck_curve,
    _resample,
)
from inkreel.media.loudness import (
    _LIMIT_MARGIN_DB,
    _LOUDNESS_PASSES,
    _LOUDNESS_TOLERANCE_LU,
    MIX_TRUE_PEAK_DBTP,
    PEAK_CEILING_DBFS,
    SILENCE_FLOOR_DBFS,
    TARGET_LUFS,
    _limit_gain,
    _true_peak_envelope,
    db_gain,
    gain_step_db,
)
from inkreel.media.music import (
    _MOODS,
    _TONICS,
    _add_bass,
    _add_pulse,
    _cycles,
    _envelope,
    _hz,
    _sine,
    _triangle,
    _voicing,
)
from inkreel.project import atomic_path

# Changes whenever mix_to_wav would sound different for the same inputs: in mix cache keys.
MIX_VERSION = f"{audio.MIX_VERSION}-streamed"
BLOCK = 1 << 18  # samples a pass holds at once (~6 s at 44.1 kHz)
# Context each side of a block: the duck curve reaches 2 x 75 ms; the limiter's three rounds
# each reach back 60 ms hold + 10 ms smoothing + the oversampler's taps (~3.1k samples at
# 44.1 kHz) and ahead ~0.9k, so 16k samples cover all three rounds up to 96 kHz.
_DUCK_CONTEXT = 1 << 13
_LIMIT_CONTEXT = 1 << 14

# A dialogue line on the mix: a loader for its samples and rate, and its start in seconds.
Line = tuple[Callable[[], tuple[np.ndarray, int]], float]


# ----------------------------------------------------------------------------- loudness


class LoudnessMeter:
    """ITU-R BS.1770-4 integrated loudness of a mono signal fed in blocks (as pyloudnorm).

    K-weighting filters carry their state from block to block; the mean square of every
    400 ms gating block (75 % overlap, bounds as pyloudnorm computes them) is summed as the
    samples arrive, so the meter holds one number per 100 ms, not the signal.
    """

    GATE_S = 0.4
    STEP = 0.25

    def __init__(self, sample_rate: int) -> None:
        self.rate = sample_rate
        self.stages = [
            IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, sample_rate, "high_shelf"),
            IIRfilter(0.0, 0.5, 38.0, sample_rate, "high_pass"),
        ]
        self.states = [np.zeros(max(len(f.a), len(f.b)) - 1) for f in self.stages]
        self.samples = 0
        self.sums: list[float] = []

    def _bounds(self, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # The same float expressions as pyloudnorm, so every block has the same samples.
        lower = (self.GATE_S * (j * self.STEP) * self.rate).astype(np.int64)
        upper = (self.GATE_S * (j * self.STEP + 1) * self.rate).astype(np.int64)
        return lower, upper

    def feed(self, block: np.ndarray) -> None:
        """Add the next samples of the signal."""
        data = np.asarray(block, dtype=np.float64)
        for k, stage in enumerate(self.stages):
            data, self.states[k] = lfilter(stage.b, stage.a, data, zi=self.states[k])
            data = stage.passband_gain * data
        lo, hi = self.samples, self.samples + data.size
        self.samples = hi
        if data.size == 0:
            return
        sums = np.concatenate([[0.0], np.cumsum(np.square(data))])
        hop = self.GATE_S * self.STEP * self.rate
        first = max(0, math.floor((lo - self.GATE_S * self.rate) / hop) - 2)
        j = np.arange(first, math.ceil(hi / hop) + 2)
        lower, upper = self._bounds(j)
        hit = (lower < hi) & (upper > lo)
        j, lower, upper = j[hit], lower[hit], upper[hit]
        if j.size == 0:
            return
        part = sums[np.clip(upper - lo, 0, data.size)] - sums[np.clip(lower - lo, 0, data.size)]
        if int(j[-1]) >= len(self.sums):
            self.sums.extend([0.0] * (int(j[-1]) + 1 - len(self.sums)))
        for index, value in zip(j.tolist(), part.tolist(), strict=True):
            self.sums[index] += value

    def integrated(self) -> float:
        """Integrated loudness in LUFS; -inf for silence or less than one gating block."""
        if self.samples < self.GATE_S * self.rate:
            return -math.inf
        seconds = self.samples / self.rate
        count = int(np.round((seconds - self.GATE_S) / (self.GATE_S * self.STEP))) + 1
        z = np.zeros(count)
        known = min(count, len(self.sums))
        z[:known] = self.sums[:known]
        z /= self.GATE_S * self.rate
        with np.errstate(divide="ignore"):
            blocks = -0.691 + 10.0 * np.log10(z)
        loud = blocks >= -70.0
        if not loud.any():
            return -math.inf
        relative = -0.691 + 10.0 * math.log10(float(z[loud].mean())) - 10.0
        gated = (blocks > relative) & loud
        if not gated.any():
            return -math.inf
        value = -0.691 + 10.0 * math.log10(float(z[gated].mean()))
        return value if math.isfinite(value) else -math.inf


# ----------------------------------------------------------------------------- music


@dataclass(frozen=True)
class _Chord:
    start: int
    length: int  # of the pad
    span: int  # of everything the chord plays (pad, bass, pulse), clipped at the end
    notes: np.ndarray
    root: int
    phases: np.ndarray
    swell: float
    swell_phase: float


class MusicBed:
    """`music.music_bed` rendered a block at a time: the same chords, bass and pulse.

    `render(lo, hi)` returns samples lo..hi-1 before the bed's peak normalisation (the mix
    sets the bed's level by its RMS, so that gain is the mix's business); blocks must be asked
    for in order. Only the chords sounding in the block are rendered and kept.
    """

    def __init__(
        self, duration_s: float, seed: int, mood: str = "calm", sample_rate: int = 44100
    ) -> None:
        if mood not in _MOODS:
            raise ValueError(f"unknown mood {mood!r}; use one of {sorted(_MOODS)}")
        self.n = n = round(max(0.0, duration_s) * sample_rate)
        self.rate = sample_rate
        self.style = style = _MOODS[mood]
        # The random draws in music_bed's order, so the same seed gives the same music.
        rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, sorted(_MOODS).index(mood)])
        tonic = _TONICS[int(rng.integers(len(_TONICS)))]
        progression = style.progressions[int(rng.integers(len(style.progressions)))]
        centre = style.centre + float(rng.uniform(-2.0, 2.0))
        self.detune = np.array([-1.0, 1.0]) * float(rng.uniform(4.0, 7.0)) / 1200.0
        self.beat = 60.0 / style.tempo
        self.chord_len = round(style.beats_per_chord * self.beat * sample_rate)
        self.attack = round(style.attack_s * sample_rate)
        self.release = round(style.release_s * sample_rate)
        # Everything a chord plays ends within this of its start: pad release, bass ring,
        # ostinato step, pulse hit.
        reach = self.chord_len + max(
            self.release, round(1.2 * sample_rate), round(self.beat / 2 * sample_rate)
        )
        self.chords: list[_Chord] = []
        for k in range(math.ceil(n / self.chord_len) if n else 0):
            degree, quality = progression[k % len(progression)]
            start = k * self.chord_len
            notes = _voicing(48 + tonic + degree, quality, centre)
            phases = rng.random(notes.size * 2)
            swell = float(rng.uniform(0.08, 0.16))
            swell_phase = float(rng.uniform(0, 6.3))
            self.chords.append(
                _Chord(
                    start,
                    min(self.chord_len + self.release, n - start),
                    min(reach, n - start),
                    notes,
                    36 + (tonic + degree) % 12,
                    phases,
                    swell,
                    swell_phase,
                )
            )
        self.fade_in = min(round(2.0 * sample_rate), n // 4)
        self.fade_out = min(round(3.0 * sample_rate), n // 4)
        self._sounding: dict[int, np.ndarray] = {}

    def _play(self, chord: _Chord) -> np.ndarray:
        """The chord's samples from its start (music_bed's pad, bass and pulse)."""
        rate, style = self.rate, self.style
        out = np.zeros(chord.span, dtype=np.float32)
        freqs = (_hz(chord.notes)[:, None] * 2.0 ** self.detune[None, :]).ravel()
        cycles = _cycles(freqs, chord.length, rate, chord.phases)
        pad = _sine(cycles).sum(axis=0) + 0.35 * _triangle(cycles[::2]).sum(axis=0)
        del cycles
        t = np.arange(chord.length, dtype=np.float32) / np.float32(rate)
        pad *= 0.85 + 0.15 * np.sin(np.float32(2 * np.pi * chord.swell) * t + chord.swell_phase)
        pad *= _envelope(chord.length, self.attack, self.release) * np.float32(
            0.11 / math.sqrt(chord.notes.size)
        )
        out[: chord.length] += pad
        _add_bass(out, style, chord.root, 0, self.chord_len, self.beat, rate)
        _add_pulse(out, style, chord.notes, 0, self.chord_len, self.beat, rate)
        return out

    def render(self, lo: int, hi: int) -> np.ndarray:
        """Samples lo..hi-1 of the bed (float32, before peak normalisation)."""
        lo, hi = max(0, lo), min(self.n, hi)
        out = np.zeros(max(0, hi - lo), dtype=np.float32)
        if hi <= lo:
            return out
        for k in [k for k in self._sounding if self.chords[k].start + self.chords[k].span <= lo]:
            del self._sounding[k]
        first = max(0, (lo - self.chords[0].span) // self.chord_len)
        for k in range(first, min(len(self.chords), hi // self.chord_len + 1)):
            chord = self.chords[k]
            a, b = max(lo, chord.start), min(hi, chord.start + chord.span)
            if b <= a:
                continue
            if k not in self._sounding:
                self._sounding[k] = self._play(chord)
            out[a - lo : b - lo] += self._sounding[k][a - chord.start : b - chord.start]
        self._fade(out, lo)
        return out

    def _fade(self, out: np.ndarray, lo: int) -> None:
        env_in = _envelope(2 * self.fade_in, self.fade_in, 0)[: self.fade_in]
        env_out = _envelope(2 * self.fade_out, 0, self.fade_out)[self.fade_out :]
        hi = lo + out.size
        a, b = lo, min(hi, self.fade_in)
        if b > a:
            out[: b - lo] *= env_in[a:b]
        start = self.n - self.fade_out
        a, b = max(lo, start), hi
        if b > a:
            out[a - lo :] *= env_out[a - start : b - start]


# ----------------------------------------------------------------------------- the mix


class _Signal:
    """A signal on disk (float32 or float64 samples), written in order and read by range."""

    def __init__(self, path: Path, dtype: type[np.floating] = np.float64) -> None:
        self.path = path
        self.dtype = np.dtype(dtype)
        self._out = path.open("wb")

    def write(self, block: np.ndarray) -> None:
        self._out.write(np.ascontiguousarray(block, dtype=self.dtype).tobytes())

    def close(self) -> None:
        self._out.close()

    def read(self, lo: int, hi: int) -> np.ndarray:
        count = max(0, hi - lo)
        return np.fromfile(
            self.path, dtype=self.dtype, count=count, offset=lo * self.dtype.itemsize
        )


def _blocks(n: int, block: int) -> Iterator[tuple[int, int]]:
    for lo in range(0, n, block):
        yield lo, min(n, lo + block)


class _Placer:
    """The dialogue lines, loaded when the mix reaches them and dropped once it has passed."""

    def __init__(self, lines: Sequence[Line], sample_rate: int) -> None:
        self.rate = sample_rate
        starts = [round(start_s * sample_rate) for _, start_s in lines]
        self.pending = sorted(range(len(lines)), key=lambda i: (starts[i], i))
        self.pending.reverse()  # pop() takes the earliest
        self.lines = lines
        self.starts = starts
        self.loaded: list[tuple[int, int, np.ndarray, float]] = []  # (order, begin, line, gain)

    def place(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Voice and dialogue activity for samples a..b-1 (as audio.mix places them)."""
        while self.pending and self.starts[self.pending[-1]] < b:
            i = self.pending.pop()
            load, _ = self.lines[i]
            samples, rate = load()
            line = _resample(samples, rate, self.rate)
            level = _active_rms(line, self.rate)
            if level > 0:
                # Every line to the same speech level (see audio.mix).
                self.loaded.append(
                    (i, self.starts[i], line, db_gain(audio.DIALOGUE_RMS_DBFS) / level)
                )
        self.loaded = [e for e in self.loaded if e[1] + e[2].size > a]
        voice = np.zeros(b - a, dtype=np.float32)
        active = np.zeros(b - a, dtype=np.float32)
        for _, begin, line, gain in sorted(self.loaded, key=lambda e: e[0]):
            lo, hi = max(begin, a), min(begin + line.size, b)
            if hi <= lo:
                continue
            voice[lo - a : hi - a] += gain * line[lo - begin : hi - begin]
            active[lo - a : hi - a] = 1.0
        return voice, active


def mix_to_wav(
    path: Path,
    dialogue: Sequence[Line],
    music: MusicBed | None,
    duration_s: float,
    sample_rate: int = 44100,
    duck_db: float = -12.0,
    music_db: float = -18.0,
    target_lufs: float | None = TARGET_LUFS,
    block: int = BLOCK,
) -> Path:
    """Write `audio.mix` of the same inputs as 16-bit mono WAV, a block at a time.

    `dialogue` holds (load, start_s) pairs: each line is loaded when the mix reaches it.
    `music` is the bed to duck under the dialogue (its length is the mix's), or None.
    """
    path = Path(path)
    n = round(duration_s * sample_rate)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".mix-", dir=path.parent) as tmp:
        folder = Path(tmp)
        bed_file = _Signal(folder / "bed.f32", np.float32)
        bed_scale = _bed_pass(bed_file, music, n, block, music_db)
        bed_file.close()
        mixed, loudness, sample_peak = _dialogue_pass(
            folder, dialogue, bed_file, bed_scale, n, sample_rate, block, duck_db
        )
        bed_file.path.unlink()
        if target_lufs is None:
            top = db_gain(PEAK_CEILING_DBFS)
            scale = float(np.float32(top / sample_peak)) if sample_peak > top else None
            return _write_pcm(path, mixed, n, sample_rate, block, scale)
        source, trim = _loudness_passes(folder, mixed, n, sample_rate, block, loudness, target_lufs)
        return _write_pcm(path, source, n, sample_rate, block, trim if trim < 1.0 else None)


def _bed_pass(
    bed_file: _Signal, music: MusicBed | None, n: int, block: int, music_db: float
) -> tuple[np.float32, np.float32] | None:
    """Pass 1: write the bed, and return what its level needs (to its peak, then to
    `music_db` RMS as audio.mix has it); None without a bed or with a silent one."""
    if music is None or n <= 0:
        return None
    peak, energy = 0.0, 0.0
    for lo, hi in _blocks(n, block):
        raw = music.render(lo, hi)
        if raw.size < hi - lo:
            raw = np.concatenate([raw, np.zeros(hi - lo - raw.size, np.float32)])
        bed_file.write(raw)
        peak = max(peak, float(np.max(np.abs(raw))))
        energy += float(np.sum(np.square(raw, dtype=np.float64)))
    if peak <= 0:
        return None
    to_peak = np.float32(db_gain(-3.0) / peak)
    rms = math.sqrt(energy / n) * float(to_peak)
    level = 20.0 * math.log10(rms) if rms > 0 else SILENCE_FLOOR_DBFS
    level = max(SILENCE_FLOOR_DBFS, level)
    to_level = (
        np.float32(db_gain(music_db - level)) if level > SILENCE_FLOOR_DBFS else np.float32(1.0)
    )
    return to_peak, to_level


def _dialogue_pass(
    folder: Path,
    dialogue: Sequence[Line],
    bed_file: _Signal,
    bed_scale: tuple[np.float32, np.float32] | None,
    n: int,
    sample_rate: int,
    block: int,
    duck_db: float,
) -> tuple[_Signal, float, float]:
    """Pass 2: dialogue placed, the bed ducked under it; the mix, its integrated loudness
    and its sample peak."""
    mixed = _Signal(folder / "mix.f32", np.float32)
    meter = LoudnessMeter(sample_rate)
    placer = _Placer(dialogue, sample_rate)
    sample_peak = 0.0
    for lo, hi in _blocks(n, block):
        a, b = max(0, lo - _DUCK_CONTEXT), min(n, hi + _DUCK_CONTEXT)
        voice, active = placer.place(a, b)
        out = voice[lo - a : hi - a]
        if bed_scale is not None:
            bed = bed_file.read(lo, hi)
            bed *= bed_scale[0]
            bed *= bed_scale[1]
            bed *= _duck_curve(active, sample_rate, duck_db)[lo - a : hi - a]
            out = out + bed
        mixed.write(out)
        meter.feed(out)
        sample_peak = max(sample_peak, float(np.max(np.abs(out))))
    mixed.close()
    return mixed, meter.integrated(), sample_peak


def _loudness_passes(
    folder: Path,
    mixed: _Signal,
    n: int,
    sample_rate: int,
    block: int,
    loudness: float,
    target_lufs: float,
) -> tuple[_Signal, float]:
    """Passes 3+: gain to `target_lufs` under the true-peak ceiling, stepping the gain as
    loudness.normalise_loudness does; the last pass's signal and its limiter trim."""
    ceiling = db_gain(MIX_TRUE_PEAK_DBTP)
    if not math.isfinite(loudness):
        limited, _, trim = _limit_pass(
            mixed, folder / "pass0.f64", n, 1.0, ceiling, sample_rate, block
        )
        return limited, trim
    gain_db = target_lufs - loudness
    gain = db_gain(gain_db)
    source = mixed
    tried: list[tuple[float, float]] = []
    for attempt in range(_LOUDNESS_PASSES):
        source, loudness, trim = _limit_pass(
            source, folder / f"pass{attempt}.f64", n, gain, ceiling, sample_rate, block
        )
        if trim < 1.0:
            loudness += 20.0 * math.log10(trim)
        if (
            not math.isfinite(loudness)
            or abs(loudness - target_lufs) <= _LOUDNESS_TOLERANCE_LU
            or attempt == _LOUDNESS_PASSES - 1
        ):
            break
        # The steps of loudness.normalise_loudness, whose limiter trims inside the pass.
        tried.append((gain_db, loudness))
        step = gain_step_db(target_lufs, tried)
        gain_db += step
        gain = trim * db_gain(step)
    return source, trim


def _limit_pass(
    source: _Signal,
    target: Path,
    n: int,
    gain: float,
    ceiling: float,
    sample_rate: int,
    block: int,
) -> tuple[_Signal, float, float]:
    """One normalisation pass: gain, then the true-peak limiter (loudness._true_peak_limit's
    rounds) on each block with its context. Returns the result, its loudness and the trim
    that brings a peak the limiter left over the ceiling down to it (1.0 if none)."""
    out = _Signal(target)
    meter = LoudnessMeter(sample_rate)
    margin = ceiling * db_gain(-_LIMIT_MARGIN_DB)
    worst = 0.0
    for lo, hi in _blocks(n, block):
        a, b = max(0, lo - _LIMIT_CONTEXT), min(n, hi + _LIMIT_CONTEXT)
        data = source.read(a, b).astype(np.float64) * gain
        env = _true_peak_envelope(data, floor=margin)
        for _ in range(3):
            if env.size == 0 or float(env.max()) <= ceiling:
                break
            data = data * _limit_gain(env, margin, sample_rate)
            env = _true_peak_envelope(data, floor=margin)
        inner = data[lo - a : hi - a]
        worst = max(worst, float(env[lo - a : hi - a].max()))
        out.write(inner)
        meter.feed(inner)
    out.close()
    if source.path.suffix == ".f64":
        source.path.unlink()
    return out, meter.integrated(), ceiling / worst if worst > ceiling else 1.0


def _write_pcm(
    path: Path,
    source: _Signal,
    n: int,
    sample_rate: int,
    block: int,
    scale: float | None,
) -> Path:
    """Write the signal as 16-bit PCM WAV (rounded as audio.wav_bytes does), temp then rename."""
    with atomic_path(path) as tmp, wave.open(str(tmp), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(int(sample_rate))
        for lo, hi in _blocks(n, block):
            data = source.read(lo, hi)
            if scale is not None:
                data = data * scale
            # audio.mix returns float32; write_wav rounds from that.
            data = np.nan_to_num(data.astype(np.float32).astype(np.float64))
            pcm = np.round(np.clip(data, -1.0, 1.0) * 32767.0).astype("<i2")
            out.writeframes(pcm.tobytes())
    return path
