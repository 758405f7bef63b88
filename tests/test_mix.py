"""The streamed mix: the same sound as the in-memory `audio.mix`, in memory that does not grow
with the runtime."""

from __future__ import annotations

import math
import tracemalloc
from itertools import pairwise
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest

from inkreel.media import audio, loudness, mix
from inkreel.media.music import music_bed
from inkreel.schemas.design import Voice

M3 = Voice(variant="m3", pitch=50, speed=170)
F2 = Voice(variant="f2", pitch=60, speed=160)
LSB = 1 / 32768


def takes() -> list[tuple[np.ndarray, int]]:
    lines = ("Stop! Who is there?", "I waited all night, and nobody came back for the letter.")
    return [audio.synthesize(text, voice, "en") for text in lines for voice in (M3, F2)]


def dialogue(duration_s: float) -> list[tuple[np.ndarray, int, float]]:
    """Lines back to back, some overlapping, one whispered and one shouted."""
    spoken = takes()
    out, start, k = [], 0.4, 0
    while start < duration_s - 1.0:
        samples, rate = spoken[k % len(spoken)]
        scale = (0.05, 1.0, 6.0)[k % 3]
        out.append((np.clip(scale * samples, -1, 1).astype(np.float32), rate, start))
        start += len(samples) / rate + (-0.3 if k % 4 == 3 else 0.5)
        k += 1
    return out


def loaders(lines: list[tuple[np.ndarray, int, float]]) -> list[mix.Line]:
    return [((lambda s=s, r=r: (s, r)), t) for s, r, t in lines]


def in_memory(path: Path, lines: list, music: bool, duration_s: float, **kw: float) -> np.ndarray:
    """The old path: audio.mix, written by audio.write_wav and read back."""
    bed = music_bed(duration_s, seed=4) if music else None
    out = audio.mix(lines, bed, duration_s, **kw)
    return audio.read_wav(audio.write_wav(path, out, 44100))[0]


@pytest.mark.parametrize("music", [True, False])
def test_streamed_mix_sounds_as_the_in_memory_one(tmp_path: Path, music: bool) -> None:
    duration_s = 14.0
    lines = dialogue(duration_s)
    old = in_memory(tmp_path / "old.wav", lines, music, duration_s)
    # Small blocks, so lines, chords, the ducking and the limiter all straddle block edges.
    bed = mix.MusicBed(duration_s, seed=4) if music else None
    path = mix.mix_to_wav(tmp_path / "new.wav", loaders(lines), bed, duration_s, block=20000)
    new, rate = audio.read_wav(path)
    assert rate == 44100 and new.shape == old.shape == (round(duration_s * 44100),)
    # Float rounding in another order moves a sample by one 16-bit step; where a block
    # decides a limiter round on its own (see inkreel.media.mix) a peak may come out up to a
    # tenth of a dB different. The delivery figures, measured with the project's own meters,
    # are the same.
    assert np.all(np.abs(new - old) <= np.abs(old) * (10 ** (0.1 / 20) - 1) + 1.01 * LSB)
    assert loudness.integrated_lufs(new, rate) == pytest.approx(
        loudness.integrated_lufs(old, rate), abs=0.01
    )
    assert loudness.integrated_lufs(new, rate) == pytest.approx(loudness.TARGET_LUFS, abs=0.5)
    # No sample moved by more than 0.1 dB, so neither can the true peak (measured 0.002-0.034
    # dB apart on different machines' numpy/scipy builds).
    assert loudness.true_peak_dbfs(new) == pytest.approx(loudness.true_peak_dbfs(old), abs=0.1)
    assert loudness.true_peak_dbfs(new) <= loudness.MIX_TRUE_PEAK_DBTP + 0.05


def test_without_a_loudness_target_only_the_peaks_are_kept_down(tmp_path: Path) -> None:
    lines = dialogue(6.0)
    old = in_memory(tmp_path / "old.wav", lines, True, 6.0, target_lufs=None)  # type: ignore[arg-type]
    path = mix.mix_to_wav(
        tmp_path / "new.wav", loaders(lines), mix.MusicBed(6.0, 4), 6.0, target_lufs=None
    )
    new = audio.read_wav(path)[0]
    assert np.abs(new - old).max() <= 1.01 * LSB
    assert np.abs(new).max() <= 10 ** (loudness.PEAK_CEILING_DBFS / 20) + LSB


def test_silence_and_an_empty_mix(tmp_path: Path) -> None:
    path = mix.mix_to_wav(tmp_path / "quiet.wav", [], None, 2.0)
    assert np.array_equal(audio.read_wav(path)[0], np.zeros(88200, np.float32))
    path = mix.mix_to_wav(tmp_path / "empty.wav", [], mix.MusicBed(0.0, 1), 0.0)
    assert audio.read_wav(path)[0].size == 0


def test_music_bed_in_blocks_is_the_music_bed() -> None:
    whole = music_bed(20.0, seed=7, mood="tense")
    bed = mix.MusicBed(20.0, seed=7, mood="tense")
    edges = [0, 1000, 70001, 300000, 500000, bed.n]
    blocks = np.concatenate([bed.render(a, b) for a, b in pairwise(edges)])
    # music_bed ends by scaling its peak to -3 dBFS; render leaves that to the mix.
    scaled = blocks * np.float32(10 ** (-3 / 20) / np.abs(blocks).max())
    assert blocks.shape == whole.shape
    assert np.abs(scaled - whole).max() < 1e-6
    with pytest.raises(ValueError, match="mood"):
        mix.MusicBed(5.0, seed=1, mood="jaunty")


def test_loudness_meter_fed_in_blocks_matches_pyloudnorm() -> None:
    rate = 44100
    rng = np.random.default_rng(5)
    t = np.arange(rate * 9) / rate
    # Loud, quiet and silent stretches, so both gates have something to gate.
    signal = 0.3 * np.sin(2 * np.pi * 440 * t) * (t < 3) + 0.01 * rng.standard_normal(t.size)
    signal[round(6.2 * rate) :] = 0.0
    meter = mix.LoudnessMeter(rate)
    for a in range(0, signal.size, 12345):
        meter.feed(signal[a : a + 12345])
    expected = pyloudnorm.Meter(rate).integrated_loudness(signal)
    assert meter.integrated() == pytest.approx(expected, abs=1e-6)
    short = mix.LoudnessMeter(rate)
    short.feed(signal[: rate // 10])
    assert short.integrated() == -math.inf
    silent = mix.LoudnessMeter(rate)
    silent.feed(np.zeros(rate))
    assert silent.integrated() == -math.inf


def test_memory_does_not_grow_with_the_runtime(tmp_path: Path) -> None:
    """Ten times the runtime, the same peak: lines are read as the mix reaches them."""
    rate = 8000
    line = (0.3 * np.sin(np.arange(rate) * 0.3)).astype(np.float32)
    loads: list[float] = []

    def peak(duration_s: float) -> int:
        starts = np.arange(0.5, duration_s - 1.5, 1.5)
        lines = [((lambda t=t: (loads.append(t), (line, rate))[1]), float(t)) for t in starts]
        tracemalloc.start()
        mix.mix_to_wav(
            tmp_path / "m.wav", lines, mix.MusicBed(duration_s, 1, sample_rate=rate),
            duration_s, sample_rate=rate, block=16384,
        )  # fmt: skip
        used = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert loads == sorted(loads) and len(loads) == len(starts)  # each once, in order
        loads.clear()
        return used

    short, long = peak(40.0), peak(400.0)
    assert long < 1.5 * short, (short, long)
