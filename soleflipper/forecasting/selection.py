"""Model names and the chosen model.

``median_of_five`` (a candidate) forecasts, for every week after the origin, the median of five
forecasts of that week: mean_last_4, median_last_4, last_value, damped_ets and pooled_gbm. Its
80 % interval is the median of the five lower bounds and the median of the five upper bounds.

``chosen``:

* units: ``median_of_five``;
* price: the median of the carried-forward mixture (mixture.py) around a level L_k = the median
  of mean_last_4, median_last_4, the noise-aware Kalman level (level.py), damped_ets and
  pooled_gbm (the median of five with last value replaced by its noise-aware version):
  p0(k) * delta(last value) + (1 - p0(k)) * Laplace(level, b_k), p0(k) the probability of
  no sale in the k weeks after the origin and b_k the spread of fresh weekly medians, both
  estimated from the training window. Dense series (p0 ~ 0) get the level, sparse ones
  (p0 >= 0.5) exactly the last value, and in between the forecast moves from the level toward the
  last value. Interval: the mixture's 10 % and 90 % quantiles.

Why a median ensemble: on weekly resale series no single method wins everywhere (the pooled
model is best where there are many series to learn from, last value where prices move in steps,
the 4-week mean where demand is noisy), and which one wins changes with the data set and the
level. A median of five follows whichever methods agree and ignores the one that is far off,
so it needs no weights or selection fitted to a data set. The price mixture adds one thing the
protocol itself implies (a price actual with no sale in between IS the last value), with no
parameter fitted to any file.

Per-series selection by an inner rolling-origin backtest (a series leaves the default only when
another component beat it on several earlier origins by a margin) was measured on the four real
panels and did not help (benchmarks/forecast_backtest.md); it is not used.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from soleflipper.forecasting.level import kalman_level
from soleflipper.forecasting.mixture import mixture_price

BASELINES = ("mean_last_4", "last_value", "seasonal_naive_4", "damped_ets")
CANDIDATES = ("median_last_4", "pooled_gbm", "median_of_five")
CHOSEN_MODEL = "chosen"
ENSEMBLE = "median_of_five"


class _MedianEnsemble:
    components = ("mean_last_4", "median_last_4", "last_value", "damped_ets", "pooled_gbm")

    def __call__(self, forecasts: dict, nonnegative: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """forecasts: component name -> (point, lower, upper), arrays of equal shape."""
        stacked = [np.stack([forecasts[c][part] for c in self.components]) for part in range(3)]
        point, lower, upper = (np.median(s, axis=0) for s in stacked)
        lower, upper = np.minimum(lower, point), np.maximum(upper, point)
        if nonnegative:
            point, lower, upper = (np.maximum(a, 0.0) for a in (point, lower, upper))
        return point, lower, upper


combine = _MedianEnsemble()


PRICE_LEVEL_COMPONENTS = ("mean_last_4", "median_last_4", "kalman_level", "damped_ets", "pooled_gbm")


def chosen_forecasts(
    target: str,
    components: dict,
    windows: Iterable[tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The chosen model from the five components' forecasts (rows = series or tasks).

    ``components``: name -> (point, lower, upper) for ``combine.components``; ``windows`` yields,
    row by row, that row's training window (price, units): the weeks before its origin.
    Units: the median of five. Price: the mixture median (mixture.py) whose level is the median
    of mean_last_4, median_last_4, the noise-aware Kalman level (level.py), damped_ets and
    pooled_gbm: last value's place in the level goes to the Kalman level, its noise-aware
    version, since the last value itself is the mixture's point mass."""
    if target == "units":
        return combine(components, nonnegative=True)
    base = components["mean_last_4"][0]
    n, horizon = base.shape
    out = [np.zeros_like(base) for _ in range(3)]
    for j, (price, units) in enumerate(windows):
        kalman = np.full(horizon, kalman_level(price, units))
        parts = [kalman if c == "kalman_level" else components[c][0][j] for c in PRICE_LEVEL_COMPONENTS]
        level = np.median(np.stack(parts), axis=0)
        for a, v in zip(out, mixture_price(price, units, level, horizon), strict=True):
            a[j] = v
    return tuple(out)
