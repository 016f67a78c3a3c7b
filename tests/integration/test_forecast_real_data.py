"""The forecasting readers, panel and backtest on the real StockX files (a few series only:
the full protocol run is `python -m soleflipper.forecasting.cli_backtest`, see
benchmarks/forecast_backtest.md)."""

from __future__ import annotations

import pandas as pd
import pytest

from soleflipper.forecasting import (
    forecast,
    read_sneakertracker,
    read_stockx_contest,
    run_backtest,
    weekly_panel,
)

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def contest(real_data):
    return read_stockx_contest(real_data / "stockx_contest_2019.csv.gz")


def test_contest_reader_and_product_panel(contest):
    assert len(contest) == 99_956
    assert contest["product"].nunique() == 50
    assert sorted(contest["brand"].unique()) == ["Off-White", "Yeezy"]  # leading space stripped
    assert contest["sold_at"].min() == pd.Timestamp("2017-09-01", tz="UTC")
    panel = weekly_panel(contest, ["product"])
    # the last sale is Wednesday 2019-02-13: that incomplete week is left out
    assert (panel.n_series, len(panel.weeks)) == (29, 76)
    assert (panel.weeks[0], panel.weeks[-1]) == (pd.Timestamp("2017-08-28"), pd.Timestamp("2019-02-04"))
    assert panel.units.sum() == 54_911
    assert panel.static.loc[0, "retail_price"] == 200.0
    assert panel.static.loc[0, "release_date"] == pd.Timestamp("2015-11-14")


def test_sneakertracker_reader_normalises_sizes(real_data):
    sales = read_sneakertracker(real_data / "stockx_sales_2017_2018_sneakertracker.csv.gz")
    assert len(sales) == 139_833  # exact duplicates kept
    assert sales["product"].nunique() == 20
    sizes = set(sales["size"])
    assert "11" in sizes and "11.0" not in sizes and {"S", "M", "L", "XL"} <= sizes
    panel = weekly_panel(sales, ["product", "size"])
    assert (panel.n_series, len(panel.weeks)) == (214, 54)


def test_backtest_and_forecast_on_three_contest_products(contest):
    panel = weekly_panel(contest, ["product"]).subset([0, 1, 2])
    assert panel.history_weeks().tolist() == [75, 74, 73]
    results = run_backtest(panel, models=["mean_last_4", "last_value"])
    units = results[(results["target"] == "units") & (results["model"] == "mean_last_4")].set_index("horizon")
    # origins 26, 30, ... with h weeks after them: 12 + 12 + 11 at h=4
    assert units["n_forecasts"].tolist() == [35, 32, 29]
    assert units.loc[4, "mase"] == pytest.approx(0.980531, abs=1e-6)
    frame = forecast(panel)
    assert len(frame) == 3 * 2 * 12
    assert frame["week_start"].min() == pd.Timestamp("2019-02-11")
