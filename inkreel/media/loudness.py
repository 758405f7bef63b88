"""Loudness: BS.1770 integrated loudness, true peak, normalising to a target under a ceiling."""

from __future__ import annotations

import math

import numpy as np
import pyloudnorm
from scipy.signal import firwin, resample_poly

SILENCE_FLOOR_DBFS = -120.0
PEAK_CEILING_DBFS = -1.0
# Delivery loudness (ITU-R BS.1770-4 integrated), the usual target for online video.
TARGET_LUFS = -16.0
# The mix's true-peak ceiling: half a dB under PEAK_CEILING_DBFS, because the AAC encode
# overshoots by a few tenths (measured +0.2 dB at 160 kb/s) and the delivered file must stay
# at or under -1 dBTP.
MIX_TRUE_PEAK_DBTP = -1.5

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
    ceiling = db_gain(peak_dbfs)
    loudness = integrated_lufs(data, sample_rate)
    if not math.isfinite(loudness):
        return _true_peak_limit(data, ceiling, sample_rate).astype(np.float32)
    gain_db = target_lufs - loudness
    out = data * db_gain(gain_db)
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
            out = out * db_gain(step)
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
    target = ceiling * db_gain(-_LIMIT_MARGIN_DB)
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
    return box_mean(box_mean(held, smooth), smooth)


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


def box_mean(values: np.ndarray, half: int) -> np.ndarray:
    """Return the mean of `values` over a centred window of 2 * half + 1 samples."""
    sums = np.concatenate([[0.0], np.cumsum(values, dtype=np.float64)])
    idx = np.arange(values.size)
    lo = np.clip(idx - half, 0, values.size)
    hi = np.clip(idx + half + 1, 0, values.size)
    return (sums[hi] - sums[lo]) / (hi - lo)


def db_gain(value: float) -> float:
    return float(10 ** (value / 20.0))
