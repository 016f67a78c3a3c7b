"""Forecasting assets on a small hand-made warehouse: the history is market sales (an activity file
loaded through the real loader and built into transactions.fct_market_sales by dbt) plus the
reseller's own sales (a hand-made transactions.fct_sales, one event per unit, prices converted at the
ECB rate of their day); analytics.demand_forecasts holds exactly the library's forecasts and a re-run
replaces them; analytics.forecast_accuracy gains one run's backtest per run; `soleflipper backtest`
prints the accuracy table for a file."""

from __future__ import annotations

import csv
import gzip
import io
import math
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pandas as pd
import psycopg
import pytest
from dbt_runner import dbt_ok
from warehouse_datasets import load_clean

from assets.forecasting import (
    demand_forecasts,
    demand_forecasts_are_consistent,
    forecast_accuracy,
    forecast_accuracy_is_not_empty,
)
from resources.warehouse import WarehouseResource, ensure_all_raw_tables
from soleflipper.settings import PROJECT_ROOT
from soleflipper.warehouse_inputs.sales_history import load_sales_history

START = datetime(2023, 1, 2, 12, tzinfo=UTC)  # a Monday
WEEKS = 56
PRODUCTS = {"DD1391-100": ("Nike Dunk Low Retro White Black", 120.0), "B75806": ("adidas Samba OG", 100.0)}
SIZES = ("9", "10")
FAST_MODELS = ["mean_last_4", "last_value"]


def market_rows() -> list[list[str]]:
    """A deterministic weekly pattern: level, trend and a 4-weekly cycle per product and size."""
    rows = []
    for p, (style, (name, base)) in enumerate(PRODUCTS.items()):
        for s, size in enumerate(SIZES):
            for week in range(WEEKS):
                units = 2 + p + s + week // 20 + (2 if week % 4 == 0 else 0)
                for k in range(units):
                    moment = START + timedelta(days=7 * week + k % 7, minutes=k)
                    price = base + 10 * s + week * 0.5 + (k % 3)
                    rows.append(
                        [name, "sneakers", moment.strftime("%Y-%m-%d %H:%M:%S"), f"{price:.0f}", size, style]
                    )
    return rows


OWN = """
create schema if not exists transactions; create schema if not exists core;
create table transactions.fct_sales (sale_id text, product_key text, item_name text, style_code text,
    variant_key text, sold_at timestamptz, sale_date date, gross_amount numeric(14, 2), gross_currency text,
    quantity integer);
insert into transactions.fct_sales values
    ('stockx:1', 'DD1391100', 'Nike Dunk Low Retro White Black', 'DD1391-100', 'DD1391100:US M 10',
     '2023-06-07 10:00+00', '2023-06-07', 130.00, 'USD', 2),
    ('stockx:2', 'DD1391100', 'Nike Dunk Low Retro White Black', 'DD1391-100', 'DD1391100:US M 9',
     '2023-06-08 10:00+00', '2023-06-08', 100.00, 'EUR', 1),
    ('ebay:3', 'B75806', 'adidas Samba OG', 'B75806', 'B75806:US M 9', '2023-06-09 10:00+00', '2023-06-09',
     90.00, 'GBP', 1),
    ('sheet:4', null, 'Plush', null, null, '2023-06-09 10:00+00', '2023-06-09', 20.00, 'USD', 1);
create table core.fx_rates_daily (rate_date date, currency text, home_currency text, home_per_unit numeric);
insert into core.fx_rates_daily values ('2023-06-08', 'USD', 'EUR', 0.9);
"""


def _write_gz(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(buffer.getvalue().encode("utf-8"), mtime=0))
    return path


@pytest.fixture(scope="module")
def history_frame() -> pd.DataFrame:
    """The same events as the warehouse holds, built here without it (for the library's own answer)."""
    market = [
        {
            "product_series_key": style.replace("-", ""),
            "size": f"US M {size}",
            "sold_at": pd.Timestamp(sold, tz="UTC"),
            "price": float(price),
        }
        for name, _cat, sold, price, size, style in market_rows()
    ]
    own = [
        {
            "product_series_key": "DD1391100",
            "size": "US M 10",
            "sold_at": pd.Timestamp("2023-06-07 10:00", tz="UTC"),
            "price": 130.0,
        }
    ] * 2 + [
        {
            "product_series_key": "DD1391100",
            "size": "US M 9",
            "sold_at": pd.Timestamp("2023-06-08 10:00", tz="UTC"),
            "price": 100 / 0.9,
        }
    ]
    return pd.DataFrame(market + own)


@pytest.fixture
def warehouse(database_url, tmp_path):
    path = _write_gz(
        tmp_path / "market.csv.gz",
        ["product", "category", "createdAt", "amount", "shoeSize", "styleId"],
        market_rows(),
    )
    with psycopg.connect(database_url) as conn:
        ensure_all_raw_tables(conn)
        load_clean(conn, "stockx_activity_sales", path)
        conn.execute(OWN)
    dbt_ok(database_url, tmp_path / "target", "run", "--select", "+fct_market_sales")
    return database_url


def _materialize(url: str, *assets, config: dict | None = None) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        list(assets),
        resources={"warehouse": WarehouseResource(database_url=url)},
        run_config={"ops": config or {}},
    )


def test_history_is_market_sales_and_own_units_converted_at_the_days_rate(warehouse):
    with psycopg.connect(warehouse) as conn:
        history = load_sales_history(conn)
    assert (history.market_sales, history.own_sales, history.own_sales_without_fx, history.currency) == (
        len(market_rows()),
        3,
        1,
        "USD",
    )  # quantity 2 is two events; GBP has no rate; no style code: not history
    own = history.sales.iloc[history.market_sales :]
    assert sorted(own["size"]) == ["US M 10", "US M 10", "US M 9"]
    assert math.isclose(own[own["size"] == "US M 9"]["price"].iloc[0], 100 / 0.9)
    assert set(history.sales["product_series_key"]) == {"DD1391100", "B75806"}


def test_demand_forecasts_are_the_librarys_and_a_rerun_replaces_them(warehouse, history_frame):
    from soleflipper.forecasting import forecast, weekly_panel

    config = {"analytics__demand_forecasts": {"config": {"horizons": [4, 8]}}}
    first = _materialize(warehouse, demand_forecasts, demand_forecasts_are_consistent, config=config)
    assert first.success
    assert [(c.check_name, c.passed) for c in first.get_asset_check_evaluations()] == [
        ("demand_forecasts_are_consistent", True)
    ]
    expected = {}
    for level, keys in (
        ("product", ["product_series_key"]),
        ("product_size", ["product_series_key", "size"]),
    ):
        frame = forecast(weekly_panel(history_frame, keys=keys, min_weeks=40), horizons=(4, 8), seed=0)
        for r in frame.to_dict("records"):
            series = (
                r["product_series_key"] if level == "product" else f"{r['product_series_key']}:{r['size']}"
            )
            digits = 2 if r["target"] == "price" else 3
            point = (
                round(float(r["point"]), digits)
                if r["target"] == "price"
                else max(round(float(r["point"]), 3), 0)
            )
            expected[
                (
                    level,
                    series,
                    r["target"],
                    r["horizon_weeks"],
                    pd.Timestamp(r["week_start"]).date(),
                    r["model"],
                )
            ] = point
    with psycopg.connect(warehouse) as conn:
        rows = {
            r[:6]: float(r[6])
            for r in conn.execute(
                "select level, series_id, target, horizon_weeks, week_start, model, point from analytics.demand_forecasts"
            )
        }
        currencies = dict(
            conn.execute(
                "select target, string_agg(distinct coalesce(currency, '-'), ',')"
                " from analytics.demand_forecasts group by 1"
            ).fetchall()
        )
        first_run = conn.execute("select distinct run_id from analytics.demand_forecasts").fetchall()
    assert set(rows) == set(expected)
    assert {k: round(v, 3) for k, v in rows.items()} == pytest.approx(
        {k: round(v, 3) for k, v in expected.items()}
    )
    assert {k[1] for k in rows if k[0] == "product_size"} == {
        "DD1391100:US M 9",
        "DD1391100:US M 10",
        "B75806:US M 9",
        "B75806:US M 10",
    }
    assert currencies == {"price": "USD", "units": "-"}
    meta = first.asset_materializations_for_node("analytics__demand_forecasts")[0].metadata
    assert meta["rows"].value == len(expected) and meta["series"].value == 6
    assert meta["plot"].value.startswith("![")

    second = _materialize(warehouse, demand_forecasts, config=config)
    with psycopg.connect(warehouse) as conn:
        count, runs = conn.execute(
            "select count(*), array_agg(distinct run_id) from analytics.demand_forecasts"
        ).fetchone()
    assert count == len(expected) and runs == [second.run_id] and first_run == [(first.run_id,)]


def test_forecast_accuracy_appends_one_backtest_per_run(warehouse, history_frame):
    from soleflipper.forecasting import run_backtest, weekly_panel

    config = {"analytics__forecast_accuracy": {"config": {"models": FAST_MODELS, "horizons": [4]}}}
    first = _materialize(warehouse, forecast_accuracy, forecast_accuracy_is_not_empty, config=config)
    assert first.success
    assert [(c.check_name, c.passed) for c in first.get_asset_check_evaluations()] == [
        ("forecast_accuracy_is_not_empty", True)
    ]
    expected = run_backtest(
        weekly_panel(history_frame, keys=["product_series_key"], min_weeks=40),
        horizons=(4,),
        models=FAST_MODELS,
        seed=0,
    )
    second = _materialize(warehouse, forecast_accuracy, config=config)
    with psycopg.connect(warehouse) as conn:
        stored = conn.execute(
            "select run_id, level, target, model, horizon, mase, n_series, n_forecasts"
            " from analytics.forecast_accuracy order by computed_at, target, model"
        ).fetchall()
    assert len(stored) == 2 * len(expected)
    assert {r[0] for r in stored} == {first.run_id, second.run_id}
    mine = sorted(r[1:] for r in stored if r[0] == first.run_id)
    theirs = sorted(
        ("product", r["target"], r["model"], r["horizon"], r["mase"], r["n_series"], r["n_forecasts"])
        for r in expected.to_dict("records")
    )
    assert [m[:4] + m[5:] for m in mine] == [t[:4] + t[5:] for t in theirs]
    assert [m[4] for m in mine] == pytest.approx([t[4] for t in theirs], nan_ok=True)


def test_cli_backtest_prints_the_table_for_a_file_and_writes_csv(tmp_path):
    rows = [
        [sold[:10], " Yeezy", name.replace(" ", "-"), price, "220", "2016-11-23", size, "California"]
        for name, _cat, sold, price, size, _style in market_rows()
    ]
    path = _write_gz(
        tmp_path / "contest.csv.gz",
        [
            "Order Date",
            "Brand",
            "Sneaker Name",
            "Sale Price",
            "Retail Price",
            "Release Date",
            "Shoe Size",
            "Buyer Region",
        ],
        rows,
    )
    out = tmp_path / "accuracy.csv"
    env = {**os.environ, "SOLEFLIPPER_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.cli",
            "backtest",
            "--input",
            str(path),
            "--format",
            "stockx_contest",
            "--level",
            "product_size",
            "--horizons",
            "4",
            "--models",
            *FAST_MODELS,
            "--out",
            str(out),
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"Forecast accuracy on contest.csv.gz (stockx_contest, {len(rows):,} sales):" in proc.stdout
    table = [line for line in proc.stdout.splitlines() if line.startswith("product_size")]
    assert {line.split()[2] for line in table} == set(FAST_MODELS) and {
        line.split()[1] for line in table
    } == {"units", "price"}
    written = pd.read_csv(out)
    assert list(written.columns[:4]) == ["level", "target", "model", "horizon"] and len(written) == len(table)
    assert (written["n_series"] == 4).all()
