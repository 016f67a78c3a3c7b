"""The backtest protocol on hand-computed examples: weekly bins, zero-fill, carry-forward,
the 40-week filter, origins, and MASE / sMAPE / bias / coverage."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from soleflipper.forecasting import WeeklyPanel, run_backtest, weekly_panel
from soleflipper.forecasting.baselines import simple_baseline
from soleflipper.forecasting.metrics import bias, coverage, mase, naive_scale, smape
from soleflipper.forecasting.weekly import carry_forward, origins


def _sales(rows):
    return pd.DataFrame(rows, columns=["product", "sold_at", "price"])


SALES = _sales(
    [
        ("A", "2024-01-01", 100.0),  # Monday: week 0
        ("A", "2024-01-03", 110.0),
        ("A", "2024-01-07", 120.0),  # Sunday: still week 0
        ("A", "2024-01-15", 90.0),  # week 2 (week 1 has no sale)
        ("A", "2024-01-21", 100.0),
        ("B", "2024-01-16", 50.0),  # B starts in week 2
        ("A", "2024-01-29", 999.0),  # after `end`: ignored
    ]
)


def test_weekly_panel_monday_bins_zero_fill_and_carry_forward():
    panel = weekly_panel(SALES, ["product"], min_weeks=0, end=date(2024, 1, 28))
    assert panel.keys == [("A",), ("B",)]
    assert list(panel.weeks.strftime("%Y-%m-%d")) == ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22"]
    assert panel.units.tolist() == [[3, 0, 2, 0], [0, 0, 1, 0]]
    np.testing.assert_array_equal(panel.price[0], [110.0, 110.0, 95.0, 95.0])
    np.testing.assert_array_equal(panel.price[1], [np.nan, np.nan, 50.0, 50.0])
    assert panel.first_week.tolist() == [0, 2]
    assert panel.history_weeks().tolist() == [4, 2]


def test_weekly_panel_min_weeks_counts_from_first_sale_to_panel_end():
    assert weekly_panel(SALES, ["product"], min_weeks=3, end=date(2024, 1, 28)).keys == [("A",)]
    assert weekly_panel(SALES, ["product"], min_weeks=2, end=date(2024, 1, 28)).keys == [("A",), ("B",)]
    assert weekly_panel(SALES, ["product"], min_weeks=5, end=date(2024, 1, 28)).keys == []


def test_weekly_panel_drops_the_incomplete_last_week_by_default():
    # the last sale is Monday 2024-01-29, so its week is incomplete and left out
    panel = weekly_panel(SALES, ["product"], min_weeks=0)
    assert panel.weeks[-1] == pd.Timestamp("2024-01-22")
    assert panel.units[0].sum() == 5


def test_weekly_panel_reads_utc_timestamps():
    sales = _sales(
        [("A", pd.Timestamp("2024-01-07T23:30:00Z"), 10.0), ("A", pd.Timestamp("2024-01-08T00:30:00Z"), 20.0)]
    )
    panel = weekly_panel(sales, ["product"], min_weeks=0, end=date(2024, 1, 14))
    assert panel.units.tolist() == [[1, 1]]


def test_forty_week_filter_keeps_exactly_forty():
    start = pd.Timestamp("2024-01-01")
    rows = [("long", start, 1.0), ("short", start + pd.Timedelta(weeks=1), 1.0)]
    end = (start + pd.Timedelta(weeks=40) - pd.Timedelta(days=1)).date()  # Sunday of week 39
    panel = weekly_panel(_sales(rows), ["product"], end=end)
    assert len(panel.weeks) == 40
    assert panel.keys == [("long",)]


def test_carry_forward():
    out = carry_forward(np.array([[np.nan, 1.0, np.nan, 3.0, np.nan]]))
    np.testing.assert_array_equal(out, [[np.nan, 1.0, 1.0, 3.0, 3.0]])


def test_origins_every_four_weeks_from_26():
    assert origins(40, 4) == [26, 30, 34]
    assert origins(40, 12) == [26]
    assert origins(50, 4) == [26, 30, 34, 38, 42, 46]
    assert origins(37, 12) == []


def test_metrics_on_hand_computed_arrays():
    assert naive_scale(np.array([1.0, 3.0, 2.0, 2.0])) == 1.0  # (2 + 1 + 0) / 3
    assert mase(np.array([2.0, 4.0]), np.array([3.0, 3.0]), 1.0) == 1.0
    assert mase(np.array([2.0, 4.0]), np.array([3.0, 3.0]), 2.0) == 0.5
    assert smape(np.array([0.0, 2.0]), np.array([0.0, 1.0])) == pytest.approx(100.0 / 3.0)  # (0 + 200/3) / 2
    assert bias(np.array([2.0, 4.0]), np.array([3.0, 5.0]), 2.0) == 0.5
    lo, hi = np.array([0.0, 2.0, 3.5, 0.0]), np.array([2.0, 3.0, 4.0, 3.0])
    assert coverage(np.array([1.0, 2.0, 3.0, 4.0]), lo, hi) == 0.5


def test_simple_baselines_points_and_empirical_intervals():
    x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    point, lower, upper = simple_baseline("mean_last_4", x, 3, nonnegative=True)
    np.testing.assert_array_equal(point, [4.5, 4.5, 4.5])
    # inner origins 4 and 5 forecast 2.5 and 3.5: step-1 errors 2.5, 2.5; step 2 only 6 - 2.5
    np.testing.assert_array_equal(lower, [7.0, 8.0, 4.5])
    np.testing.assert_array_equal(upper, [7.0, 8.0, 4.5])
    np.testing.assert_array_equal(simple_baseline("last_value", x, 2, True)[0], [6.0, 6.0])
    np.testing.assert_array_equal(simple_baseline("seasonal_naive_4", x, 6, True)[0], [3, 4, 5, 6, 3, 4])
    np.testing.assert_array_equal(
        simple_baseline("median_last_4", np.array([9.0, 1.0, 7.0, 2.0, 3.0]), 1, True)[0], [2.5]
    )


def _alternating_panel(n_weeks: int = 32) -> WeeklyPanel:
    t = np.arange(n_weeks)
    units = (t % 2).astype(float)[None, :]
    price = (100.0 + 10.0 * (t % 2))[None, :]
    const = np.vstack([units, np.zeros((1, n_weeks))])
    return WeeklyPanel(
        keys=[("alt",), ("flat",)],
        key_names=["product"],
        weeks=pd.date_range("2024-01-01", periods=n_weeks, freq="7D"),
        units=const,
        price=np.vstack([price, np.full((1, n_weeks), 80.0)]),
        first_week=np.array([0, 0]),
        static=pd.DataFrame(
            {
                "retail_price": [np.nan] * 2,
                "release_date": [pd.NaT] * 2,
                "brand": [None] * 2,
                "size": [None] * 2,
            }
        ),
    )


def test_run_backtest_hand_computed():
    """0,1,0,1,... : origin 26 only; mean_last_4 says 0.5, last value 1; the flat series has scale 0."""
    results = run_backtest(_alternating_panel(), horizons=(4,), models=["mean_last_4", "last_value"])
    assert list(results.columns) == [
        "target",
        "model",
        "horizon",
        "mase",
        "smape",
        "bias",
        "coverage_80",
        "n_series",
        "n_forecasts",
    ]
    units = results[results["target"] == "units"].set_index("model")
    assert units.loc["mean_last_4", "mase"] == 0.5
    assert units.loc["mean_last_4", "smape"] == pytest.approx((200.0 + 200.0 / 3.0) / 2.0)
    assert units.loc["mean_last_4", "bias"] == 0.0
    assert units.loc["mean_last_4", "coverage_80"] == 1.0  # inner errors are -0.5 / +0.5
    assert units.loc["last_value", "mase"] == 0.5
    assert units.loc["last_value", "smape"] == 100.0
    assert units.loc["last_value", "bias"] == 0.5
    assert units.loc["last_value", "n_series"] == 1
    assert units.loc["last_value", "n_forecasts"] == 1
    price = results[results["target"] == "price"].set_index("model")
    assert price.loc["mean_last_4", "mase"] == 0.5  # errors 5 on a scale of 10
    assert results.attrs["excluded_zero_scale"] == {"units": 1, "price": 1}
