"""Weekly demand and price forecasts per product or product x size, and their backtest.

Public API (names and shapes are a contract with the Dagster assets, CLI and warehouse tables):

* Sales events (``SalesEvents``): any DataFrame with the key columns (e.g. ``product``,
  ``size`` as str), ``sold_at`` (datetime64 UTC or date), ``price`` (float, one currency) and
  optionally the static columns ``retail_price``, ``release_date``, ``brand``.
* ``read_stockx_contest(path)``, ``read_sneakertracker(path)`` -> sales events from the two real
  StockX layouts (plain or gzipped CSV, streamed with the csv module).
* ``weekly_panel(sales, keys, min_weeks=40, end=None) -> WeeklyPanel``: Monday weeks, units
  zero-filled, price = weekly median carried forward (NaN before a series' first sale), only
  complete weeks up to ``end`` (default: the last sale's date), series with >= min_weeks weeks
  from first sale to panel end (weekly.py has the exact rules).
* ``WeeklyPanel``: keys (list[tuple]), key_names, weeks (DatetimeIndex of Mondays), units and
  price (n_series x n_weeks arrays), first_week (int per series), static (DataFrame by series
  position: retail_price, release_date, brand, size).
* ``run_backtest(panel, horizons=(4, 8, 12), first_origin=26, step=4, models=None, seed=0,
  progress=None) -> DataFrame[target, model, horizon, mase, smape, bias, coverage_80, n_series,
  n_forecasts]``. models=None runs BASELINES, CANDIDATES and CHOSEN_MODEL; progress(done, total)
  is called after each model x target.
* ``forecast(panel, horizons=(4, 8, 12), seed=0) -> DataFrame[<key columns>, target,
  horizon_weeks, week_start, model, point, lower_80, upper_80]``: one row per series x target x
  future week 1..max(horizons).
* ``accuracy_plot_png(results, title) -> bytes``: PNG of MASE by horizon per model and target.
* ``BASELINES`` = ("mean_last_4", "last_value", "seasonal_naive_4", "damped_ets"),
  ``CANDIDATES`` = ("median_last_4", "pooled_gbm", "median_of_five"), ``CHOSEN_MODEL`` = "chosen".

Definitions:

* MASE at horizon h: the mean over (series, origin) of mean_{k=1..h} |y_k - f_k| / scale, with
  scale the in-sample one-step naive MAE of the series' training window (first sale .. origin).
  Origins are 26, 30, 34, ... weeks after the series' first sale, kept for horizon h when h
  weeks are observed after them. Windows with scale 0 (constant, e.g. no sales at all) are left
  out of every metric and counted in ``results.attrs["excluded_zero_scale"]``. sMAPE (percent,
  0/0 = 0), bias (mean (f - y) / scale) and coverage_80 (share of weeks inside the 80 %
  interval) are means over the same forecasts (metrics.py, backtest.py).
* Intervals: simple baselines use the 10 %/90 % quantiles of their own errors at each step over
  earlier origins inside the training window; damped ETS its model variance; the pooled model
  two quantile models (10 %, 90 %); median_of_five the median of its components' bounds; the
  chosen price model the 10 %/90 % quantiles of its mixture.
* ``median_of_five`` (selection.py) is the median of five forecasts per week: mean_last_4,
  median_last_4, last_value, damped_ets and pooled_gbm (gbm.py: one scikit-learn gradient-boosted
  model per target, pooled over all series, on scale-free targets).
* The chosen model (selection.py): units = median_of_five; price = the median of the
  carried-forward mixture p0(k) * delta(last value) + (1 - p0(k)) * Laplace(L_k, b_k)
  (mixture.py): p0(k) = P(no sale in the next k weeks) from the training window's units, L_k the
  median of mean_last_4, median_last_4, a noise-aware Kalman level (level.py), damped_ets and
  pooled_gbm. Sparse series (p0 >= 0.5) get exactly the last value, dense ones the level.
* Honesty: every model, feature, scale and interval at an origin uses only weeks before it; the
  pooled model is refitted every 4 weeks on rows whose target week precedes the refit week.
* Short histories in ``forecast``: under 8 weeks since the first sale -> mean_last_4 over the
  weeks there are (model column "mean_last_4"); forecast.py has the details.

CLI: ``python -m soleflipper.forecasting.cli_backtest --input FILE --format
stockx_contest|sneakertracker --level product|product_size [--out results.csv] [--plot a.png]``.
"""

from __future__ import annotations

import pandas as pd

from soleflipper.forecasting.backtest import RESULT_COLUMNS, run_backtest
from soleflipper.forecasting.forecast import FORECAST_COLUMNS, forecast
from soleflipper.forecasting.plots import accuracy_plot_png
from soleflipper.forecasting.sales_history import read_sneakertracker, read_stockx_contest
from soleflipper.forecasting.selection import BASELINES, CANDIDATES, CHOSEN_MODEL
from soleflipper.forecasting.weekly import WeeklyPanel, weekly_panel

SalesEvents = pd.DataFrame  # a plain DataFrame; see the module docstring for its columns

__all__ = [
    "BASELINES",
    "CANDIDATES",
    "CHOSEN_MODEL",
    "FORECAST_COLUMNS",
    "RESULT_COLUMNS",
    "SalesEvents",
    "WeeklyPanel",
    "accuracy_plot_png",
    "forecast",
    "read_sneakertracker",
    "read_stockx_contest",
    "run_backtest",
    "weekly_panel",
]
