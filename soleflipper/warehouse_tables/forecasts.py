"""analytics.demand_forecasts and analytics.forecast_accuracy: DDL and writers.

* ``analytics.demand_forecasts``: per product and per product × size, weekly units and price for
  the next weeks (point and 80 % interval). Replaced as a whole in one transaction per run:
  readers see the previous forecasts until the new ones commit.
* ``analytics.forecast_accuracy``: the rolling-origin backtest (MASE, sMAPE, bias, 80 % coverage
  per target, model and horizon), appended per run with ``run_id`` and ``computed_at`` so the
  history of accuracy stays.
"""

from datetime import datetime
from typing import Any

import pandas as pd
import psycopg

from soleflipper.warehouse_tables.relations import ensure_tables, replace_all_rows

DEMAND_DDL = """
create schema if not exists analytics;
create table if not exists analytics.demand_forecasts (
    level text not null check (level in ('product', 'product_size')),
    series_id text not null,
    product_series_key text not null,
    product_name text,
    size text,
    target text not null check (target in ('units', 'price')),
    horizon_weeks integer not null,
    week_start date not null,
    model text not null,
    point numeric not null,
    lower_80 numeric,
    upper_80 numeric,
    currency text,
    history_weeks integer not null,
    history_end date not null,
    computed_at timestamptz not null,
    run_id text,
    primary key (level, series_id, target, horizon_weeks, week_start, model)
);
comment on table analytics.demand_forecasts is
    'Weekly demand forecasts per product and product x size (units: pairs a week; price in currency). '
    'Written by the Dagster asset analytics/demand_forecasts (assets/forecasting.py), replaced per run.';
"""

ACCURACY_DDL = """
create schema if not exists analytics;
create table if not exists analytics.forecast_accuracy (
    run_id text not null,
    computed_at timestamptz not null,
    dataset text not null,
    level text not null,
    target text not null,
    model text not null,
    horizon integer not null,
    mase double precision,
    smape double precision,
    bias double precision,
    coverage_80 double precision,
    n_series integer not null,
    n_forecasts integer not null,
    primary key (run_id, dataset, level, target, model, horizon)
);
comment on table analytics.forecast_accuracy is
    'Rolling-origin backtest of the demand forecasts (MASE, sMAPE, bias, 80 % coverage), appended per '
    'run by the Dagster asset analytics/forecast_accuracy (assets/forecasting.py).';
"""

DEMAND_FORECAST_COLUMNS = [
    "level",
    "series_id",
    "product_series_key",
    "product_name",
    "size",
    "target",
    "horizon_weeks",
    "week_start",
    "model",
    "point",
    "lower_80",
    "upper_80",
    "currency",
    "history_weeks",
    "history_end",
]
"""The columns of analytics.demand_forecasts a run computes (the table adds computed_at and run_id)."""


def ensure_forecast_tables(conn: psycopg.Connection) -> None:
    """Create the two forecasting tables when missing (DDL only then: no lock on a live table)."""
    ensure_tables(
        conn, ["analytics.demand_forecasts", "analytics.forecast_accuracy"], [DEMAND_DDL, ACCURACY_DDL]
    )


def _rounded(value: Any, target: str) -> str | None:
    """Prices to the cent, units to 1/1000 of a pair and never negative."""
    if value is None or pd.isna(value):
        return None
    return f"{float(value):.2f}" if target == "price" else f"{max(float(value), 0.0):.3f}"


def _float_or_none(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def replace_demand_forecasts(
    conn: psycopg.Connection, rows: pd.DataFrame, computed_at: datetime, run_id: str | None
) -> int:
    """Replace analytics.demand_forecasts with ``rows`` in one transaction; returns the rows written.
    Prices to the cent, units to 1/1000 of a pair and never negative."""
    ensure_forecast_tables(conn)
    replace_all_rows(
        conn,
        "analytics.demand_forecasts",
        [*DEMAND_FORECAST_COLUMNS, "computed_at", "run_id"],
        (
            (
                r.level,
                r.series_id,
                r.product_series_key,
                r.product_name,
                r.size,
                r.target,
                int(r.horizon_weeks),
                r.week_start,
                r.model,
                _rounded(r.point, r.target),
                _rounded(r.lower_80, r.target),
                _rounded(r.upper_80, r.target),
                r.currency,
                int(r.history_weeks),
                r.history_end,
                computed_at,
                run_id,
            )
            for r in rows.itertuples(index=False)
        ),
    )
    return len(rows)


def append_forecast_accuracy(
    conn: psycopg.Connection, results: pd.DataFrame, dataset: str, run_id: str, computed_at: datetime
) -> int:
    """Append one run's accuracy rows (a re-executed run replaces its own rows, nothing else)."""
    ensure_forecast_tables(conn)
    with conn.transaction():
        conn.execute(
            "delete from analytics.forecast_accuracy where run_id = %s and dataset = %s", (run_id, dataset)
        )
        with conn.cursor() as cur:
            cur.executemany(
                "insert into analytics.forecast_accuracy (run_id, computed_at, dataset, level, target, model,"
                " horizon, mase, smape, bias, coverage_80, n_series, n_forecasts)"
                " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        run_id,
                        computed_at,
                        dataset,
                        r.level,
                        r.target,
                        r.model,
                        int(r.horizon),
                        _float_or_none(r.mase),
                        _float_or_none(r.smape),
                        _float_or_none(r.bias),
                        _float_or_none(r.coverage_80),
                        int(r.n_series),
                        int(r.n_forecasts),
                    )
                    for r in results.itertuples(index=False)
                ],
            )
    return len(results)


def forecast_consistency(conn: psycopg.Connection) -> tuple[int, int, int]:
    """(rows, forecasts of negative units, forecasts outside their own 80 % interval) in
    analytics.demand_forecasts (created when missing)."""
    ensure_forecast_tables(conn)
    return conn.execute(
        "select count(*), count(*) filter (where target = 'units' and point < 0),"
        " count(*) filter (where lower_80 > point or upper_80 < point)"
        " from analytics.demand_forecasts"
    ).fetchone()


def latest_accuracy_run(conn: psycopg.Connection) -> tuple[str, int] | None:
    """(run id, rows) of the latest run in analytics.forecast_accuracy (created when missing); None when empty."""
    ensure_forecast_tables(conn)
    return conn.execute(
        "select run_id, count(*) from analytics.forecast_accuracy"
        " group by run_id order by max(computed_at) desc limit 1"
    ).fetchone()
