"""The damped-trend ETS baseline: statsmodels' additive damped Holt, fitted per window."""

from __future__ import annotations

import warnings

import numpy as np
from statsmodels.tsa.holtwinters import ExponentialSmoothing

from soleflipper.forecasting.baselines import Z80, point_mean_last_4

MIN_ETS_WEEKS = 10  # statsmodels' heuristic initialisation needs 10 observations


def damped_ets(x: np.ndarray, horizon: int, nonnegative: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(point, lower_80, upper_80) from ETS(A,Ad,N) fitted to the training window ``x``.

    Parameters by least squares (statsmodels, heuristic initial states, brute-force start).
    Intervals are the model's normal ones: sigma^2 (1 + sum_{j<k} c_j^2), c_j = alpha (1 + beta
    (phi + ... + phi^j)), sigma from the one-step in-sample residuals. A window shorter than
    10 weeks or constant gets the mean of its last 4 weeks with a zero-width interval.
    """
    x = np.asarray(x, dtype=float)
    if x.size < MIN_ETS_WEEKS or np.ptp(x) == 0:
        point = point_mean_last_4(x, horizon)
        return point, point.copy(), point.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ExponentialSmoothing(x, trend="add", damped_trend=True, initialization_method="heuristic").fit(
            use_brute=True
        )
    point = np.asarray(fit.forecast(horizon), dtype=float)
    alpha = float(fit.params["smoothing_level"])
    beta = float(fit.params["smoothing_trend"])
    phi = float(fit.params["damping_trend"])
    sigma = float(np.sqrt(np.mean((x - np.asarray(fit.fittedvalues)) ** 2)))
    phi_sums = np.cumsum(phi ** np.arange(1, horizon))  # phi_j = phi + ... + phi^j
    c = alpha * (1.0 + beta * phi_sums)
    var = sigma**2 * (1.0 + np.concatenate([[0.0], np.cumsum(c**2)]))
    half = Z80 * np.sqrt(var)
    lower, upper = point - half, point + half
    if nonnegative:
        point, lower, upper = (np.maximum(a, 0.0) for a in (point, lower, upper))
    return point, lower, upper
