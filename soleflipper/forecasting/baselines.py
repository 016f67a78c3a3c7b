"""The four baselines and the median candidate, each a function of the training window only.

Point forecasts for steps k = 1..H after the origin, from ``x`` (the weeks before the origin):

* ``mean_last_4``: the mean of the last 4 weeks (of all weeks when fewer);
* ``last_value``: the last week;
* ``seasonal_naive_4``: the value 4 weeks before the forecast week (x[-4 + (k-1) % 4]);
* ``median_last_4`` (a candidate, not a baseline): the median of the last 4 weeks;
* ``damped_ets``: additive damped-trend exponential smoothing (statsmodels Holt, see models.py).

Intervals for the three simple baselines are empirical: the 10 % and 90 % quantiles of the
baseline's own errors at step k over every earlier origin inside the training window (an
inner rolling-origin backtest), added to the point forecast. Nothing after the origin is used.
"""

from __future__ import annotations

import numpy as np

Z80 = 1.2815515655446004  # standard-normal 90 % quantile: a central 80 % interval
MIN_INNER_ORIGIN = 4  # inner origins need 4 weeks for mean_last_4 / seasonal_naive_4


def point_mean_last_4(x: np.ndarray, horizon: int) -> np.ndarray:
    return np.full(horizon, float(np.mean(x[-4:])))


def point_last_value(x: np.ndarray, horizon: int) -> np.ndarray:
    return np.full(horizon, float(x[-1]))


def point_seasonal_naive_4(x: np.ndarray, horizon: int) -> np.ndarray:
    if x.size < 4:
        return point_last_value(x, horizon)
    season = x[-4:]
    return np.array([season[(k - 1) % 4] for k in range(1, horizon + 1)], dtype=float)


def point_median_last_4(x: np.ndarray, horizon: int) -> np.ndarray:
    return np.full(horizon, float(np.median(x[-4:])))


SIMPLE_POINT = {
    "median_last_4": point_median_last_4,
    "mean_last_4": point_mean_last_4,
    "last_value": point_last_value,
    "seasonal_naive_4": point_seasonal_naive_4,
}


def inner_forecasts(name: str, x: np.ndarray, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Forecasts a simple baseline would have made at every inner origin u = 4..len(x)-1.

    Returns (u, F) with F[j, k-1] the forecast for week u[j] + k - 1 (0-based within ``x``).
    """
    n = x.size
    u = np.arange(MIN_INNER_ORIGIN, n)
    if u.size == 0:
        return u, np.zeros((0, horizon))
    csum = np.concatenate([[0.0], np.cumsum(x)])
    if name == "mean_last_4":
        flat = (csum[u] - csum[u - 4]) / 4.0
        return u, np.repeat(flat[:, None], horizon, axis=1)
    if name == "median_last_4":
        windows = np.lib.stride_tricks.sliding_window_view(x, 4)  # windows[j] = x[j:j+4]
        flat = np.median(windows[u - 4], axis=1)
        return u, np.repeat(flat[:, None], horizon, axis=1)
    if name == "last_value":
        return u, np.repeat(x[u - 1][:, None], horizon, axis=1)
    if name == "seasonal_naive_4":
        k = np.arange(1, horizon + 1)
        return u, x[u[:, None] - 4 + (k[None, :] - 1) % 4]
    raise ValueError(f"no inner forecasts for {name}")


def empirical_error_quantiles(
    x: np.ndarray, u: np.ndarray, forecasts: np.ndarray, q=(0.1, 0.9)
) -> tuple[np.ndarray, np.ndarray]:
    """Per-step quantiles of (actual - forecast) over inner origins whose target lies in ``x``.

    A step with no observed inner error gets 0 (the interval collapses to the point)."""
    n, horizon = x.size, forecasts.shape[1]
    lo = np.zeros(horizon)
    hi = np.zeros(horizon)
    for k in range(1, horizon + 1):
        ok = u + k - 1 < n
        if not ok.any():
            continue
        err = x[u[ok] + k - 1] - forecasts[ok, k - 1]
        lo[k - 1], hi[k - 1] = np.quantile(err, q)
    return lo, hi


def simple_baseline(
    name: str, x: np.ndarray, horizon: int, nonnegative: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(point, lower_80, upper_80) for steps 1..horizon of a simple baseline."""
    x = np.asarray(x, dtype=float)
    point = SIMPLE_POINT[name](x, horizon)
    u, inner = inner_forecasts(name, x, horizon)
    qlo, qhi = empirical_error_quantiles(x, u, inner)
    lower, upper = point + qlo, point + qhi
    if nonnegative:
        point, lower, upper = (np.maximum(a, 0.0) for a in (point, lower, upper))
    return point, lower, upper
