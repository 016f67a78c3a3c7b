"""A noise-aware price level: a local-level Kalman filter on the weekly medians.

The weekly price of a series is the median of that week's n_t sales, so its noise shrinks like
1/sqrt(n_t), and a week without sales carries no new information (the protocol's
carried-forward value is not an observation). The model:

    level_t = level_{t-1} + eta_t,            Var eta = g r          (random walk)
    y_t     = level_t + eps_t  (weeks with a sale only), Var eps = r (1 / n_t + c)

``c`` lets part of the noise not shrink with n (e.g. the size mix inside a product's week).
(g, c) are chosen on the training window by maximum likelihood (r concentrated out) over a fixed
grid: g in 13 log-spaced values 1e-3..10, c in {0, 0.05, 0.25, 1}; the filter starts at the first
sale with variance r (1 / n_0 + c). The forecast for every later week is the filtered level at
the window's end. Fewer than 3 weeks with a sale, or no update: the last value.
"""

from __future__ import annotations

import numpy as np

_G = np.exp(np.linspace(np.log(1e-3), np.log(10.0), 13))
_C = np.array([0.0, 0.05, 0.25, 1.0])
GRID_G, GRID_C = (a.ravel() for a in np.meshgrid(_G, _C, indexing="ij"))


def kalman_level(price: np.ndarray, units: np.ndarray) -> float:
    """The filtered level at the end of the window (``price``, ``units``: the weeks before the origin)."""
    x = np.asarray(price, dtype=float)
    u = np.asarray(units, dtype=float)
    sale = np.flatnonzero((u > 0) & np.isfinite(x))
    if sale.size < 3:
        return float(x[-1])
    t0 = int(sale[0])
    level = np.full(GRID_G.size, x[t0])
    var = 1.0 / u[t0] + GRID_C
    ssq = np.zeros(GRID_G.size)
    logdet = np.zeros(GRID_G.size)
    n_obs = 0
    last = t0
    for t in sale[1:]:
        var = var + GRID_G * (t - last)  # the random walk over the weeks since the last sale
        last = int(t)
        f = var + 1.0 / u[t] + GRID_C
        v = x[t] - level
        ssq += v * v / f
        logdet += np.log(f)
        n_obs += 1
        gain = var / f
        level = level + gain * v
        var = var * (1.0 - gain)
    r = np.maximum(ssq / n_obs, 1e-12)
    loglik = -0.5 * (logdet + n_obs * np.log(r))
    return float(level[int(np.argmax(loglik))])
