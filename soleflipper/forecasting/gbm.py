"""The pooled gradient-boosted model: one scikit-learn HistGradientBoostingRegressor per target,
trained across all series on scale-free targets, so a new or short series gets forecasts too.

Target for (series, issuing week t, step k): z = (y[t+k-1] - m4) / scale, with m4 the mean of the
last 4 weeks before t and scale the one-step naive MAE of the series' weeks before t. With the
absolute-error loss this is exactly the MASE the backtest scores. The point forecast is
m4 + scale * median(z | features). The 80 % interval comes from two quantile models (10 %, 90 %)
on the same rows. Training rows use only targets strictly before the fit's cutoff week.
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from soleflipper.forecasting.features import FeatureGrid

MIN_HISTORY = 8  # weeks of history a training row needs (scale and lags are noise before that)
MAX_ROWS = 100_000  # rows per fit, sampled with the seed, to bound CPU
Z_CLIP = 30.0  # scaled targets beyond this are outliers for every loss here


def _regressor(loss: str, seed: int, quantile: float | None = None, max_iter: int = 150):
    kwargs = {"quantile": quantile} if quantile is not None else {}
    return HistGradientBoostingRegressor(
        loss=loss,
        learning_rate=0.05,
        max_iter=max_iter,
        max_leaf_nodes=15,
        min_samples_leaf=200,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed,
        **kwargs,
    )


class PooledGBM:
    """Fit on rows with target week < cutoff; predict any (series, issuing week) at or after it."""

    def __init__(self, grid: FeatureGrid, target: str, horizon: int, seed: int = 0, intervals: bool = True):
        self.grid = grid
        self.target = target
        self.horizon = horizon
        self.seed = seed
        self.intervals = intervals
        self.models: dict[str, HistGradientBoostingRegressor] = {}

    def training_rows(self, series: np.ndarray, cutoff: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        g = self.grid
        weeks = np.arange(cutoff)
        ii, tt = np.meshgrid(series, weeks, indexing="ij")
        ii, tt = ii.ravel(), tt.ravel()
        ok = tt - g.first_week[ii] >= MIN_HISTORY
        ii, tt = ii[ok], tt[ok]
        _, sc = g.level_scale(self.target, ii, tt)
        ok = np.isfinite(sc) & (sc > 0)
        ii, tt = ii[ok], tt[ok]
        k = np.arange(1, self.horizon + 1)
        rs = np.repeat(ii, k.size)
        rw = np.repeat(tt, k.size)
        rk = np.tile(k, ii.size)
        ok = rw + rk - 1 <= cutoff - 1  # the target week is before the cutoff
        return rs[ok], rw[ok], rk[ok]

    def fit(self, series: np.ndarray, cutoff: int) -> bool:
        """Train on the given series' rows whose target week is before ``cutoff``; False if none."""
        # one OpenMP thread: on a shared, busy machine more threads spin and run many times slower
        with threadpool_limits(1, user_api="openmp"):
            return self._fit(series, cutoff)

    def _fit(self, series: np.ndarray, cutoff: int) -> bool:
        rs, rw, rk = self.training_rows(np.asarray(series, dtype=int), cutoff)
        if rs.size < 500:
            self.models = {}
            return False
        if rs.size > MAX_ROWS:
            pick = np.sort(np.random.default_rng(self.seed).choice(rs.size, MAX_ROWS, replace=False))
            rs, rw, rk = rs[pick], rw[pick], rk[pick]
        x = self.grid.rows(self.target, rs, rw, rk)
        # a feature the data never has (no release dates in the file) cannot be binned: drop it
        self.columns = np.flatnonzero(np.isfinite(x).any(axis=0))
        x = x[:, self.columns]
        m4, sc = self.grid.level_scale(self.target, rs, rw)
        z = np.clip((self.grid.actual(self.target, rs, rw + rk - 1) - m4) / sc, -Z_CLIP, Z_CLIP)
        self.models = {"point": _regressor("absolute_error", self.seed).fit(x, z)}
        if self.intervals:
            for name, q in (("lower", 0.1), ("upper", 0.9)):
                self.models[name] = _regressor("quantile", self.seed, q, max_iter=60).fit(x, z)
        return True

    def predict(self, series: np.ndarray, week: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(point, lower, upper), each len(series) x horizon, for issuing weeks ``week``.

        Rows whose scale is 0 or unknown (a constant window) get the mean of the last 4 weeks."""
        with threadpool_limits(1, user_api="openmp"):
            return self._predict(series, week)

    def _predict(self, series: np.ndarray, week: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        series = np.asarray(series, dtype=int)
        week = np.asarray(week, dtype=int)
        n, h = series.size, self.horizon
        m4, sc = self.grid.level_scale(self.target, series, week)
        point = np.repeat(m4[:, None], h, axis=1)
        lower, upper = point.copy(), point.copy()
        ok = np.isfinite(sc) & (sc > 0) & np.isfinite(m4)
        if self.models and ok.any():
            rs = np.repeat(series[ok], h)
            rw = np.repeat(week[ok], h)
            rk = np.tile(np.arange(1, h + 1), int(ok.sum()))
            x = self.grid.rows(self.target, rs, rw, rk)[:, self.columns]
            base = np.repeat(m4[ok], h)
            s = np.repeat(sc[ok], h)
            point[ok] = (base + s * self.models["point"].predict(x)).reshape(-1, h)
            if self.intervals:
                lo = (base + s * self.models["lower"].predict(x)).reshape(-1, h)
                hi = (base + s * self.models["upper"].predict(x)).reshape(-1, h)
                lower[ok] = np.minimum(lo, point[ok])
                upper[ok] = np.maximum(hi, point[ok])
        if self.target == "units":
            point, lower, upper = (np.maximum(a, 0.0) for a in (point, lower, upper))
        assert point.shape == (n, h)
        return point, lower, upper
