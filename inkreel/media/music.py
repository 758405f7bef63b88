"""The generated music bed: a mood's chords as pads, bass and a pulse, deterministic for a seed."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from inkreel.media.loudness import db_gain

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
        out *= np.float32(db_gain(-3.0) / peak)
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
