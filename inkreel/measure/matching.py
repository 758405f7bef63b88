"""Template matching: where a patch of one image is found again in another, and how well."""

from __future__ import annotations

import math

import numpy as np
from PIL import Image
from scipy import ndimage
from scipy.signal import fftconvolve


def masked_ncc(
    image: np.ndarray, imask: np.ndarray, templ: np.ndarray, tmask: np.ndarray
) -> np.ndarray:
    """Masked normalised cross-correlation over all 'valid' placements of templ in image."""
    M = tmask.astype(np.float64)
    IM = imask.astype(np.float64)
    T = templ * M
    Im = image * IM
    k = M[::-1, ::-1]
    kt = T[::-1, ::-1]
    kt2 = (T * templ)[::-1, ::-1]

    def corr(a: np.ndarray, kern: np.ndarray) -> np.ndarray:
        return fftconvolve(a, kern, mode="valid")

    n = corr(IM, k)
    sT = corr(IM, kt)
    sI = corr(Im, k)
    sTI = corr(Im, kt)
    sT2 = corr(IM, kt2)
    sI2 = corr(Im * image, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        num = sTI - sT * sI / n
        vt = np.maximum(sT2 - sT * sT / n, 0.0)
        vi = np.maximum(sI2 - sI * sI / n, 0.0)
        ncc = num / np.sqrt(vt * vi)
    ok = (n >= 0.5 * M.sum()) & (vt > 1e-9) & (vi > 1e-9)
    return np.where(ok, ncc, -1.0)


def gradient_features(gray: np.ndarray) -> np.ndarray:
    return ndimage.gaussian_gradient_magnitude(gray, sigma=1.0)


def resample(
    gray: np.ndarray,
    valid: np.ndarray,
    box: tuple[float, float, float, float],
    size: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """Resample the float box of (gray, valid) to `size` (w, h); outside the frame is invalid."""
    H, W = gray.shape
    x0, y0, x1, y1 = box
    pad = math.ceil(max(0.0, -x0, -y0, x1 - W, y1 - H)) + 4
    if pad > 4:
        gray = np.pad(gray, pad)
        valid = np.pad(valid, pad)
        x0, y0, x1, y1 = x0 + pad, y0 + pad, x1 + pad, y1 + pad
    else:
        pad = 0
    g = Image.fromarray(gray.astype(np.float32))
    v = Image.fromarray(valid.astype(np.float32))
    gs = np.asarray(g.resize(size, Image.Resampling.BICUBIC, box=(x0, y0, x1, y1)), np.float64)
    vs = np.asarray(v.resize(size, Image.Resampling.BILINEAR, box=(x0, y0, x1, y1)))
    return gs, vs > 0.99


def subpixel_peak(c: np.ndarray, iy: int, ix: int) -> tuple[float, float]:
    def fit(a: float, b: float, d: float) -> float:
        den = a - 2 * b + d
        return 0.0 if den >= 0 else max(-0.5, min(0.5, 0.5 * (a - d) / den))

    sy = fit(c[iy - 1, ix], c[iy, ix], c[iy + 1, ix]) if 0 < iy < c.shape[0] - 1 else 0.0
    sx = fit(c[iy, ix - 1], c[iy, ix], c[iy, ix + 1]) if 0 < ix < c.shape[1] - 1 else 0.0
    return sy, sx


def blurred_grey(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(ndimage.gaussian_filter(rgb @ np.array([0.299, 0.587, 0.114]), 1.0))


def grey_window(
    rgb: np.ndarray, valid: np.ndarray, box: tuple[int, int, int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Cut (grey, valid) to a box that may reach past the frame (outside is invalid)."""
    x0, y0, x1, y1 = box
    H, W = valid.shape
    grey = np.zeros((y1 - y0, x1 - x0))
    ok = np.zeros(grey.shape, bool)
    cy0, cy1, cx0, cx1 = max(0, y0), min(H, y1), max(0, x0), min(W, x1)
    if cy1 > cy0 and cx1 > cx0:
        grey[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0] = blurred_grey(rgb[cy0:cy1, cx0:cx1])
        ok[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0] = valid[cy0:cy1, cx0:cx1]
    return grey, ok


def near_match(frame: np.ndarray, source: np.ndarray, mask: np.ndarray, tol: int) -> np.ndarray:
    """For the `mask` pixels of `frame`: does `source` match it within `tol`, give or take a
    pixel? (int16 images.)"""
    if not mask.any():
        return np.zeros(0, bool)
    ys, xs = np.nonzero(mask)
    y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    P = 2
    pad = np.pad(source, ((P, P), (P, P), (0, 0)), constant_values=-1000)
    here = frame[y0:y1, x0:x1]
    ok = np.zeros(here.shape[:2], bool)
    for ey in (-1, 0, 1):
        for ex in (-1, 0, 1):
            sy, sx = y0 - ey + P, x0 - ex + P
            ok |= np.abs(here - pad[sy : sy + y1 - y0, sx : sx + x1 - x0]).max(axis=2) <= tol
    return np.asarray(ok[mask[y0:y1, x0:x1]])
