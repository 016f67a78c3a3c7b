"""Scale-free features for the pooled model, for every series and every issuing week at once.

Issuing week ``t`` (a column index 0..n_weeks) means: the forecast is made with weeks < t only
and forecasts weeks t, t+1, ...  Every feature at t is computed from weeks < t of the same series
(plus its static columns), so a row never sees the future. Values are scaled by the series'
one-step naive MAE of weeks first..t-1 (the protocol's MASE scale) and centred on the mean of
its last 4 weeks, so one model serves series of any size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from soleflipper.forecasting.weekly import WeeklyPanel

N_LAGS = 8


def _rolling_mean(csum: np.ndarray, cnt: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last ``window`` observed weeks before each issuing week (NaN when none)."""
    lagged = np.zeros_like(csum)
    lagged_n = np.zeros_like(cnt)
    lagged[:, window:] = csum[:, :-window]
    lagged_n[:, window:] = cnt[:, :-window]
    n = cnt - lagged_n
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, (csum - lagged) / np.where(n > 0, n, 1), np.nan)


@dataclass
class SeriesStats:
    """Per (series, issuing week) level, scale and lags of one target; arrays n x (n_weeks + 1)."""

    values: np.ndarray  # n x n_weeks, NaN before the first sale
    m4: np.ndarray
    m8: np.ndarray
    m13: np.ndarray
    m26: np.ndarray
    scale: np.ndarray
    lags: np.ndarray  # N_LAGS x n x (n_weeks + 1)


def series_stats(values: np.ndarray) -> SeriesStats:
    n, w = values.shape
    valid = ~np.isnan(values)
    z = np.where(valid, values, 0.0)
    csum = np.zeros((n, w + 1))
    cnt = np.zeros((n, w + 1))
    csum[:, 1:] = np.cumsum(z, axis=1)
    cnt[:, 1:] = np.cumsum(valid, axis=1)
    diffs = np.abs(np.diff(values, axis=1))
    dvalid = ~np.isnan(diffs)
    dsum = np.zeros((n, w + 1))
    dcnt = np.zeros((n, w + 1))
    # diffs[:, j] compares weeks j and j+1, both < t when j <= t - 2
    dsum[:, 2:] = np.cumsum(np.where(dvalid, diffs, 0.0), axis=1)
    dcnt[:, 2:] = np.cumsum(dvalid, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(dcnt > 0, dsum / np.where(dcnt > 0, dcnt, 1), np.nan)
    lags = np.full((N_LAGS, n, w + 1), np.nan)
    for j in range(1, N_LAGS + 1):
        lags[j - 1][:, j:] = values[:, : w + 1 - j]
    return SeriesStats(
        values=values,
        m4=_rolling_mean(csum, cnt, 4),
        m8=_rolling_mean(csum, cnt, 8),
        m13=_rolling_mean(csum, cnt, 13),
        m26=_rolling_mean(csum, cnt, 26),
        scale=scale,
        lags=lags,
    )


class FeatureGrid:
    """Features of a panel for both targets, computed once and sliced per (series, week, step)."""

    def __init__(self, panel: WeeklyPanel):
        n, w = panel.units.shape
        before_first = np.arange(w)[None, :] < panel.first_week[:, None]
        units = np.where(before_first, np.nan, panel.units)
        self.n_weeks = w
        self.first_week = panel.first_week
        self.stats = {"units": series_stats(units), "price": series_stats(panel.price)}
        t = np.arange(w + 1)[None, :]
        self.age = (t - panel.first_week[:, None]).astype(float)
        release = panel.static["release_date"] if "release_date" in panel.static else None
        week_starts = np.concatenate(
            [panel.weeks.values, [panel.weeks.values[-1] + np.timedelta64(7, "D")]] if w else [[]]
        )
        if release is not None and release.notna().any():
            rel = release.to_numpy(dtype="datetime64[ns]")
            days = (week_starts[None, :] - rel[:, None]) / np.timedelta64(1, "D")
            self.release_age = np.where(np.isnat(rel)[:, None], np.nan, days / 7.0)
        else:
            self.release_age = np.full((n, w + 1), np.nan)
        retail = (
            panel.static["retail_price"].to_numpy(dtype=float) if "retail_price" in panel.static else None
        )
        pu, pp = self.stats["units"], self.stats["price"]
        with np.errstate(invalid="ignore", divide="ignore"):
            self.retail_ratio = (
                np.log(pp.m4 / retail[:, None]) if retail is not None else np.full((n, w + 1), np.nan)
            )
            zero_weeks = np.stack([(pu.lags[j] == 0) for j in range(N_LAGS)])
            known = np.stack([~np.isnan(pu.lags[j]) for j in range(N_LAGS)])
            self.zero_frac = np.where(
                known.sum(0) > 0, zero_weeks.sum(0) / np.maximum(known.sum(0), 1), np.nan
            )
            self.velocity = np.log1p(pu.m4)
            self.velocity_momentum = np.log1p(pu.m4) - np.log1p(pu.m13)
            self.price_momentum = np.log(pp.m4 / pp.m13)
            self.price_momentum_26 = np.log(pp.m4 / pp.m26)

    def names(self) -> list[str]:
        return [
            *[f"lag{j}" for j in range(1, N_LAGS + 1)],
            "m8",
            "m13",
            "m26",
            "level_over_scale",
            "age_weeks",
            "release_age_weeks",
            "log_price_over_retail",
            "zero_share_8",
            "velocity",
            "velocity_momentum",
            "price_momentum",
            "price_momentum_26",
            "step",
        ]

    def rows(self, target: str, series: np.ndarray, week: np.ndarray, step: np.ndarray) -> np.ndarray:
        """Feature matrix for rows (series index, issuing week, step 1..H)."""
        s = self.stats[target]
        m4 = s.m4[series, week]
        sc = s.scale[series, week]
        with np.errstate(invalid="ignore", divide="ignore"):
            cols = [(s.lags[j][series, week] - m4) / sc for j in range(N_LAGS)]
            cols += [
                (s.m8[series, week] - m4) / sc,
                (s.m13[series, week] - m4) / sc,
                (s.m26[series, week] - m4) / sc,
            ]
            cols.append(m4 / sc)
        cols += [
            self.age[series, week],
            self.release_age[series, week],
            self.retail_ratio[series, week],
            self.zero_frac[series, week],
            self.velocity[series, week],
            self.velocity_momentum[series, week],
            self.price_momentum[series, week],
            self.price_momentum_26[series, week],
            step.astype(float),
        ]
        x = np.column_stack(cols)
        x[~np.isfinite(x)] = np.nan  # the model treats NaN as "unknown"
        return x

    def level_scale(self, target: str, series: np.ndarray, week: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = self.stats[target]
        return s.m4[series, week], s.scale[series, week]

    def actual(self, target: str, series: np.ndarray, week: np.ndarray) -> np.ndarray:
        return self.stats[target].values[series, week]
