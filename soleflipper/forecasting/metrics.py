"""Accuracy of one forecast path (the h weeks after one origin) and the protocol's scale.

For a series, an origin and a horizon h, with actuals ``y[0..h-1]``, point forecasts ``f``,
80 % bounds ``lo``/``hi`` and the training window ``x`` (the weeks before the origin):

* ``scale`` = mean |x[t] - x[t-1]| over the training window (in-sample one-step naive MAE);
* ``mase``  = mean |y - f| / scale;
* ``smape`` = mean of 200 |y - f| / (|y| + |f|), a week with y = f = 0 counting 0 (percent);
* ``bias``  = mean (f - y) / scale (positive: over-forecast, in MASE units);
* ``coverage_80`` = share of the h weeks with lo <= y <= hi.

A window with scale 0 (constant, e.g. all-zero units) has no MASE; the backtest leaves such
forecasts out of every metric and counts them (``results.attrs["excluded_zero_scale"]``).
"""

from __future__ import annotations

import numpy as np


def naive_scale(x: np.ndarray) -> float:
    """In-sample one-step naive MAE of a training window (0.0 when it has fewer than 2 weeks)."""
    x = np.asarray(x, dtype=float)
    if x.size < 2:
        return 0.0
    return float(np.mean(np.abs(np.diff(x))))


def mase(y: np.ndarray, f: np.ndarray, scale: float) -> float:
    return float(np.mean(np.abs(np.asarray(y, float) - np.asarray(f, float))) / scale)


def smape(y: np.ndarray, f: np.ndarray) -> float:
    y = np.asarray(y, float)
    f = np.asarray(f, float)
    err = np.abs(y - f)
    den = np.abs(y) + np.abs(f)
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(den == 0, 0.0, 200.0 * err / den)
    return float(np.mean(terms))


def bias(y: np.ndarray, f: np.ndarray, scale: float) -> float:
    return float(np.mean(np.asarray(f, float) - np.asarray(y, float)) / scale)


def coverage(y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    y = np.asarray(y, float)
    return float(np.mean((y >= np.asarray(lo, float)) & (y <= np.asarray(hi, float))))
