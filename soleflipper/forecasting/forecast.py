"""Forecasts from the end of a weekly panel: the chosen model per series, with 80 % intervals.

Every series gets a forecast for each of the max(horizons) weeks after the panel's last week,
for units and price. The pooled model is fitted on every series' full history (all targets
before the first forecast week), the other components on each series' own history.

Short histories: a series with fewer than ``MIN_HISTORY`` (8) weeks since its first sale (a new
product, or a panel built with a low ``min_weeks``) gets ``mean_last_4`` over the weeks it has,
with the empirical interval of that baseline (zero width with under 5 weeks), and the ``model``
column says so. Damped ETS inside the ensemble falls back to the 4-week mean under 10 weeks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from soleflipper.forecasting.baselines import simple_baseline
from soleflipper.forecasting.ets import damped_ets
from soleflipper.forecasting.features import FeatureGrid
from soleflipper.forecasting.gbm import MIN_HISTORY, PooledGBM
from soleflipper.forecasting.selection import CHOSEN_MODEL, chosen_forecasts, combine
from soleflipper.forecasting.weekly import WeeklyPanel

SHORT_HISTORY_MODEL = "mean_last_4"
FORECAST_COLUMNS = ["target", "horizon_weeks", "week_start", "model", "point", "lower_80", "upper_80"]


def _component_forecasts(panel: WeeklyPanel, target: str, horizon: int, seed: int) -> dict:
    values = panel.units if target == "units" else panel.price
    n, w = values.shape
    nonneg = target == "units"
    out = {}
    for name in combine.components:
        if name == "pooled_gbm":
            continue
        arrs = [np.zeros((n, horizon)) for _ in range(3)]
        for i in range(n):
            x = values[i, panel.first_week[i] : w]
            fn = damped_ets if name == "damped_ets" else None
            res = fn(x, horizon, nonneg) if fn else simple_baseline(name, x, horizon, nonneg)
            for a, v in zip(arrs, res, strict=True):
                a[i] = v
        out[name] = tuple(arrs)
    model = PooledGBM(FeatureGrid(panel), target, horizon, seed=seed)
    fitted = model.fit(np.arange(n), w)
    week = np.full(n, w)
    # without enough pooled rows the pooled component is the 4-week mean (its own fallback)
    out["pooled_gbm"] = model.predict(np.arange(n), week) if fitted else out["mean_last_4"]
    return out


def forecast(panel: WeeklyPanel, horizons: Sequence[int] = (4, 8, 12), seed: int = 0) -> pd.DataFrame:
    """One row per series x target x future week 1..max(horizons): key columns, then
    target, horizon_weeks, week_start (Monday), model, point, lower_80, upper_80."""
    horizon = max(horizons)
    n = panel.n_series
    if n == 0:
        return pd.DataFrame(columns=[*panel.key_names, *FORECAST_COLUMNS])
    history = panel.history_weeks()
    short = history < MIN_HISTORY
    last_monday = panel.weeks[-1]
    week_starts = [last_monday + pd.Timedelta(days=7 * k) for k in range(1, horizon + 1)]
    frames = []
    for target in ("units", "price"):
        parts = _component_forecasts(panel, target, horizon, seed)
        windows = (
            (panel.price[i, panel.first_week[i] :], panel.units[i, panel.first_week[i] :]) for i in range(n)
        )
        point, lower, upper = chosen_forecasts(target, parts, windows)
        fb = parts[SHORT_HISTORY_MODEL]
        point[short] = fb[0][short]
        # an empirical interval from a few weeks can miss its own point: widen it to include it
        lower[short] = np.minimum(fb[1][short], point[short])
        upper[short] = np.maximum(fb[2][short], point[short])
        model = np.where(short, SHORT_HISTORY_MODEL, CHOSEN_MODEL)
        keys = pd.DataFrame(panel.keys, columns=panel.key_names)
        frame = keys.loc[np.repeat(np.arange(n), horizon)].reset_index(drop=True)
        frame["target"] = target
        frame["horizon_weeks"] = np.tile(np.arange(1, horizon + 1), n)
        frame["week_start"] = np.tile(np.array(week_starts, dtype="datetime64[ns]"), n)
        frame["model"] = np.repeat(model, horizon)
        frame["point"] = point.ravel()
        frame["lower_80"] = lower.ravel()
        frame["upper_80"] = upper.ravel()
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
