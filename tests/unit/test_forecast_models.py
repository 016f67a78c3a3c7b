"""Models on synthetic series with known structure, honesty (no look-ahead) and determinism."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from soleflipper.forecasting import CHOSEN_MODEL, WeeklyPanel, forecast
from soleflipper.forecasting.backtest import backtest_forecasts, score
from soleflipper.forecasting.ets import damped_ets
from soleflipper.forecasting.features import FeatureGrid
from soleflipper.forecasting.gbm import PooledGBM


def _panel(units: np.ndarray, price: np.ndarray, first_week=None) -> WeeklyPanel:
    n, w = units.shape
    return WeeklyPanel(
        keys=[(f"s{i:02d}",) for i in range(n)],
        key_names=["product"],
        weeks=pd.date_range("2024-01-01", periods=w, freq="7D"),
        units=units,
        price=price,
        first_week=np.zeros(n, dtype=int) if first_week is None else np.asarray(first_week),
        static=pd.DataFrame(
            {
                "retail_price": [np.nan] * n,
                "release_date": [pd.NaT] * n,
                "brand": [None] * n,
                "size": [None] * n,
            }
        ),
    )


def _noise_panel(n: int, w: int, seed: int) -> WeeklyPanel:
    rng = np.random.default_rng(seed)
    return _panel(rng.poisson(5.0, (n, w)).astype(float), 100.0 + 10.0 * rng.standard_normal((n, w)))


def test_damped_ets_follows_an_exact_linear_trend_within_one_percent():
    t = np.arange(40.0)
    point, lower, upper = damped_ets(10.0 + 2.0 * t, 12, nonnegative=False)
    truth = 10.0 + 2.0 * np.arange(40, 52)
    assert np.all(np.abs(point / truth - 1.0) < 0.01)
    assert np.all(lower <= point) and np.all(point <= upper)


def test_pooled_model_recovers_each_series_level():
    """Poisson demand at 40 different rates: the pooled median forecast is within 10 % of the rate
    on average and 25 % for every series (the median of a Poisson sits just under its mean)."""
    rng = np.random.default_rng(1)
    rates = np.linspace(10.0, 40.0, 40)
    units = rng.poisson(rates[:, None], (40, 52)).astype(float)
    price = np.full((40, 52), 100.0) + rng.standard_normal((40, 52))
    grid = FeatureGrid(_panel(units, price))
    model = PooledGBM(grid, "units", horizon=4, seed=0, intervals=False)
    assert model.fit(np.arange(40), 52)
    point, _, _ = model.predict(np.arange(40), np.full(40, 52))
    rel = np.abs(point.mean(axis=1) / rates - 1.0)
    assert rel.mean() < 0.10
    assert rel.max() < 0.25


def test_pooled_model_learns_a_four_week_season():
    """A strong 4-week pattern: the pooled model's 12-week forecasts follow it (the season-blind
    4-week mean cannot), cutting the mean absolute error against the true expectation by 40 % or more."""
    rng = np.random.default_rng(2)
    season = np.array([1.0, 1.6, 0.6, 0.8])
    levels = np.linspace(5.0, 40.0, 40)
    expected = levels[:, None] * season[np.arange(52) % 4][None, :]
    units = rng.poisson(expected).astype(float)
    price = 100.0 + rng.standard_normal((40, 52))
    model = PooledGBM(FeatureGrid(_panel(units, price)), "units", horizon=12, seed=0, intervals=False)
    assert model.fit(np.arange(40), 40)
    point, _, _ = model.predict(np.arange(40), np.full(40, 40))
    mean_last_4 = units[:, 36:40].mean(axis=1, keepdims=True)
    gbm_error = np.abs(point - expected[:, 40:52]).mean()
    mean_error = np.abs(mean_last_4 - expected[:, 40:52]).mean()
    assert gbm_error < 0.6 * mean_error


def test_no_model_beats_the_true_mean_on_pure_noise():
    """On i.i.d. noise the best possible forecast is the true mean: no model may beat it by more
    than the 3 % this sample's noise allows (a bigger win would mean it sees the future)."""
    panel = _noise_panel(20, 44, seed=3)
    tasks, forecasts = backtest_forecasts(panel)
    for target, mu in (("units", 5.0), ("price", 100.0)):
        oracle = np.full((tasks.series.size, 12), mu)
        forecasts[target, "oracle"] = (oracle, oracle, oracle)
    results = score(panel, tasks, forecasts).set_index(["target", "model", "horizon"])["mase"]
    for target in ("units", "price"):
        for h in (4, 8, 12):
            best_oracle = results[target, "oracle", h]
            for model in ("mean_last_4", "last_value", "damped_ets", "pooled_gbm", CHOSEN_MODEL):
                assert results[target, model, h] > 0.97 * best_oracle, (target, model, h)


def test_forecasts_at_an_origin_ignore_everything_after_it():
    """Scrambling every week from calendar week 34 on changes no forecast issued at week <= 34."""
    panel = _noise_panel(12, 44, seed=4)
    tasks, before = backtest_forecasts(panel)
    scrambled = _noise_panel(12, 44, seed=99)
    panel.units[:, 34:] = scrambled.units[:, 34:] * 3.0
    panel.price[:, 34:] = scrambled.price[:, 34:] + 50.0
    tasks_after, after = backtest_forecasts(panel)
    np.testing.assert_array_equal(tasks.week, tasks_after.week)
    early = tasks.week <= 34
    assert early.sum() == 36 and (~early).sum() > 0
    for key, (point, lower, upper) in before.items():
        np.testing.assert_array_equal(point[early], after[key][0][early], err_msg=str(key))
        np.testing.assert_array_equal(lower[early], after[key][1][early], err_msg=str(key))
        np.testing.assert_array_equal(upper[early], after[key][2][early], err_msg=str(key))


def test_forecast_is_deterministic_and_shaped():
    panel = _noise_panel(8, 30, seed=5)
    panel.first_week[7] = 25  # a new product: 5 weeks of history
    panel.units[7, :25] = 0.0
    panel.price[7, :25] = np.nan
    first = forecast(panel, seed=0)
    second = forecast(panel, seed=0)
    pd.testing.assert_frame_equal(first, second)
    assert list(first.columns) == [
        "product",
        "target",
        "horizon_weeks",
        "week_start",
        "model",
        "point",
        "lower_80",
        "upper_80",
    ]
    assert len(first) == 8 * 2 * 12
    assert first["week_start"].min() == pd.Timestamp("2024-01-01") + pd.Timedelta(weeks=30)
    assert first["week_start"].max() == pd.Timestamp("2024-01-01") + pd.Timedelta(weeks=41)
    assert set(first.loc[first["product"] == "s07", "model"]) == {"mean_last_4"}
    assert set(first.loc[first["product"] != "s07", "model"]) == {CHOSEN_MODEL}
    units = first[first["target"] == "units"]
    assert (units["lower_80"] <= units["point"]).all() and (units["point"] <= units["upper_80"]).all()
    assert (units["lower_80"] >= 0).all()
    assert units.loc[units["product"] == "s07", "point"].iloc[0] == pytest.approx(
        panel.units[7, 26:30].mean()
    )
