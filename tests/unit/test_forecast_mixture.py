"""The carried-forward price mixture (mixture.py) on hand-computed cases, its estimates, and its
place in the chosen model (no look-ahead, determinism)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from soleflipper.forecasting import CHOSEN_MODEL, WeeklyPanel, forecast
from soleflipper.forecasting.backtest import backtest_forecasts
from soleflipper.forecasting.mixture import (
    mixture_median,
    mixture_price,
    mixture_quantile,
    p_no_sale,
    sale_week_spread,
)
from soleflipper.forecasting.selection import ENSEMBLE


def test_median_is_exactly_the_last_value_when_no_sale_is_at_least_even_odds():
    assert mixture_median(100.0, 90.0, 0.6, 5.0) == 100.0
    assert mixture_median(100.0, 90.0, 0.5, 5.0) == 100.0
    assert mixture_median(80.0, 90.0, 0.5, 5.0) == 80.0
    assert mixture_median(100.0, 90.0, 1.0, 0.0) == 100.0


def test_median_is_the_level_when_a_sale_is_certain():
    assert mixture_median(100.0, 90.0, 0.0, 5.0) == 90.0
    assert mixture_median(80.0, 90.0, 0.0, 5.0) == 90.0
    assert mixture_median(80.0, 90.0, 0.0, 0.0) == 90.0


def test_median_in_between_solved_by_hand():
    # LV above L, p0 = 0.2, Laplace(90, 5): G(LV-) = 0.8 (1 - e^-2 / 2) = 0.7459 > 0.5, so the
    # median solves 0.8 F((x - 90) / 5) = 0.5: F(z) = 0.625 -> z = -ln(2 * 0.375) = ln(4/3).
    assert mixture_median(100.0, 90.0, 0.2, 5.0) == pytest.approx(90.0 + 5.0 * math.log(4.0 / 3.0), abs=1e-12)
    # LV below L: G(LV) = 0.8 e^-2 / 2 + 0.2 = 0.254 < 0.5, so 0.2 + 0.8 F(z) = 0.5: F(z) = 0.375
    # -> z = ln(0.75).
    assert mixture_median(80.0, 90.0, 0.2, 5.0) == pytest.approx(90.0 + 5.0 * math.log(0.75), abs=1e-12)
    # LV just above L: G(LV-) = 0.7 (1 - e^-0.4 / 2) = 0.4654 <= 0.5 <= G(LV) = 0.7654: the median
    # is the point mass, exactly LV.
    assert mixture_median(92.0, 90.0, 0.3, 5.0) == 92.0


def test_mixture_quantiles_by_hand():
    # 10 % quantile of 0.2 delta(100) + 0.8 Laplace(90, 5): 0.1 < G(100-) so 0.8 F(z) = 0.1,
    # F(z) = 0.125 -> z = ln(0.25).
    assert mixture_quantile(0.1, 100.0, 90.0, 0.2, 5.0) == pytest.approx(
        90.0 + 5.0 * math.log(0.25), abs=1e-12
    )
    # 90 % quantile: G(100-) = 0.7459 < 0.9 <= G(100) = 0.9459 -> exactly LV.
    assert mixture_quantile(0.9, 100.0, 90.0, 0.2, 5.0) == 100.0


def test_p_no_sale_on_a_tiny_series():
    units = np.array([1.0, 0.0, 0.0, 1.0, 0.0, 0.0])
    lam = 2.0 / 6.0  # mean of the last 8 weeks (all 6 there are)
    # k = 1: positions t = 0..4 followed by an empty week: t = 0, 1, 3, 4 -> 4 of 5
    # k = 2: positions t = 0..3 followed by 2 empty weeks: t = 0, 3 -> 2 of 4
    expected = [
        (4.0 + 8.0 * math.exp(-lam)) / (5.0 + 8.0),
        (2.0 + 8.0 * math.exp(-2.0 * lam)) / (4.0 + 8.0),
    ]
    np.testing.assert_allclose(p_no_sale(units, 2), expected, rtol=1e-12)


def test_sale_week_spread_uses_only_weeks_with_a_sale():
    price = np.array([100.0, 100.0, 110.0, 110.0, 90.0])
    units = np.array([1.0, 0.0, 2.0, 0.0, 1.0])
    assert sale_week_spread(price, units) == 15.0  # |110 - 100| and |90 - 110|


def test_sparse_series_forecast_is_the_last_value_and_dense_the_level():
    sparse_units = np.tile([1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], 5)
    price = 100.0 + np.arange(40.0)
    point, lower, upper = mixture_price(price, sparse_units, np.full(12, 90.0), 12)
    # one sale every 8 weeks: no sale in the next k <= 4 weeks has p0 >= 0.5 -> exactly the last
    # value; by 12 weeks a sale is likely and the forecast has moved toward the level
    np.testing.assert_array_equal(point[:4], np.full(4, 139.0))
    assert 90.0 < point[11] < 100.0
    assert np.all(lower <= point) and np.all(point <= upper)
    dense_units = np.full(40, 20.0)
    point, _, _ = mixture_price(price, dense_units, np.full(12, 90.0), 12)
    np.testing.assert_allclose(point, 90.0, atol=1e-6)  # p0 ~ 8 e^-20k / (m + 8): the level


def _sparse_panel(n: int, w: int, seed: int) -> WeeklyPanel:
    rng = np.random.default_rng(seed)
    units = rng.poisson(0.6, (n, w)).astype(float)
    units[:, 0] = 1.0
    raw = np.where(units > 0, 100.0 + 10.0 * rng.standard_normal((n, w)), np.nan)
    price = pd.DataFrame(raw).ffill(axis=1).to_numpy()
    return WeeklyPanel(
        keys=[(f"s{i:02d}",) for i in range(n)],
        key_names=["product"],
        weeks=pd.date_range("2024-01-01", periods=w, freq="7D"),
        units=units,
        price=price,
        first_week=np.zeros(n, dtype=int),
        static=pd.DataFrame(
            {
                "retail_price": [np.nan] * n,
                "release_date": [pd.NaT] * n,
                "brand": [None] * n,
                "size": [None] * n,
            }
        ),
    )


def test_chosen_price_on_sparse_series_ignores_everything_after_the_origin():
    """Sparse demand (the mixture is active): scrambling every week from calendar week 34 on
    changes no forecast issued at week <= 34, and the mixture does move some forecasts."""
    panel = _sparse_panel(12, 44, seed=6)
    models = [CHOSEN_MODEL, ENSEMBLE, "last_value"]
    tasks, before = backtest_forecasts(panel, models=models)
    other = _sparse_panel(12, 44, seed=98)
    panel.units[:, 34:] = other.units[:, 34:]
    panel.price[:, 34:] = other.price[:, 34:] + 50.0
    _, after = backtest_forecasts(panel, models=models)
    early = tasks.week <= 34
    assert early.any() and (~early).any()
    for key in before:
        for part in range(3):
            np.testing.assert_array_equal(before[key][part][early], after[key][part][early], err_msg=str(key))
    chosen = before["price", CHOSEN_MODEL][0]
    assert np.any(chosen != before["price", ENSEMBLE][0])
    assert np.any(chosen == before["price", "last_value"][0])
    np.testing.assert_array_equal(before["units", CHOSEN_MODEL][0], before["units", ENSEMBLE][0])


def test_forecast_with_the_mixture_is_deterministic():
    panel = _sparse_panel(6, 40, seed=7)
    first = forecast(panel, seed=0)
    second = forecast(panel, seed=0)
    pd.testing.assert_frame_equal(first, second)
    price = first[first["target"] == "price"]
    assert (price["lower_80"] <= price["point"]).all() and (price["point"] <= price["upper_80"]).all()


def test_kalman_level_constant_short_and_noise_aware():
    from soleflipper.forecasting.level import kalman_level

    assert kalman_level(np.full(30, 120.0), np.full(30, 2.0)) == 120.0
    assert kalman_level(np.array([100.0, 100.0, 110.0]), np.array([1.0, 0.0, 1.0])) == 110.0  # < 3 sale weeks
    rng = np.random.default_rng(8)
    price = 100.0 + rng.standard_normal(40)
    units = np.full(40, 10.0)
    price[-1] = 150.0
    light, heavy = units.copy(), units.copy()
    light[-1], heavy[-1] = 1.0, 50.0
    # a jump seen in one sale moves the level less than the same jump seen in 50 sales
    assert 100.0 < kalman_level(price, light) < kalman_level(price, heavy) <= 150.0
