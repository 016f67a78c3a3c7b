"""analytics.pricing_recommendations and analytics.pricing_backtest: DDL and writers.

* ``analytics.pricing_recommendations``: one row per pair in stock × enabled platform,
  ``recommended`` marking the platform to list on. Replaced as a whole in one transaction per run.
* ``analytics.pricing_backtest``: the pricing replay on the warehouse's market sales history,
  summarised per strategy. Replaced per run.
"""

from datetime import date, datetime
from typing import Any

import pandas as pd
import psycopg
from psycopg import sql

from soleflipper.warehouse_tables.relations import ensure_tables, replace_all_rows

RECOMMENDATIONS_DDL = """
create schema if not exists analytics;
create table if not exists analytics.pricing_recommendations (
    inventory_item_id text not null,
    platform text not null,
    recommended boolean not null,
    product_key text,
    variant_key text,
    style_code text,
    product_name text,
    size_label text,
    current_status text not null,
    purchase_date date,
    days_in_stock integer,
    currency text not null,
    list_price numeric(14, 2) not null,
    floor numeric(14, 2) not null,
    floor_basis text not null,
    expected_days_to_sell integer not null,
    sell_probability double precision not null,
    expected_fees numeric(14, 2) not null,
    expected_payout numeric(14, 2) not null,
    cost numeric(14, 2) not null,
    holding_cost numeric(14, 2) not null,
    expected_profit numeric(14, 2) not null,
    clearance boolean not null,
    loss numeric(14, 2),
    market_reference numeric(14, 2),
    lowest_ask numeric(14, 2),
    highest_bid numeric(14, 2),
    recent_sales integer not null,
    demand_level text,
    demand_weekly_units double precision,
    reason text not null,
    priced_on date not null,
    computed_at timestamptz not null,
    run_id text,
    primary key (inventory_item_id, platform)
);
comment on table analytics.pricing_recommendations is
    'List-price recommendation per pair in stock and platform (recommended = where to list), every amount '
    'in currency. Written by the Dagster asset analytics/pricing_recommendations (assets/pricing.py).';
"""

BACKTEST_DDL = """
create schema if not exists analytics;
create table if not exists analytics.pricing_backtest (
    strategy text not null primary key,
    pairs integer not null,
    sold_within_7_rate double precision,
    sold_within_30_rate double precision,
    median_days_to_sell double precision,
    mean_list_price numeric(14, 2),
    realised_margin double precision,
    profit_per_pair_sold numeric(14, 2),
    profit_per_pair_offered numeric(14, 2),
    below_min_margin integer,
    below_cost integer,
    below_own_floor integer,
    currency text not null,
    series integer not null,
    first_replay_date date,
    last_replay_date date,
    dataset text not null,
    computed_at timestamptz not null,
    run_id text
);
comment on table analytics.pricing_backtest is
    'Pricing replay on the market sales history, per strategy (recommended vs the original market-based '
    'rule). Written by the Dagster asset analytics/pricing_backtest (assets/pricing.py), replaced per run.';
"""

BACKTEST_COLUMNS = [
    "strategy",
    "pairs",
    "sold_within_7_rate",
    "sold_within_30_rate",
    "median_days_to_sell",
    "mean_list_price",
    "realised_margin",
    "profit_per_pair_sold",
    "profit_per_pair_offered",
    "below_min_margin",
    "below_cost",
    "below_own_floor",
]


RECOMMENDATION_COLUMNS = [
    "inventory_item_id",
    "platform",
    "recommended",
    "product_key",
    "variant_key",
    "style_code",
    "product_name",
    "size_label",
    "current_status",
    "purchase_date",
    "days_in_stock",
    "currency",
    "list_price",
    "floor",
    "floor_basis",
    "expected_days_to_sell",
    "sell_probability",
    "expected_fees",
    "expected_payout",
    "cost",
    "holding_cost",
    "expected_profit",
    "clearance",
    "loss",
    "market_reference",
    "lowest_ask",
    "highest_bid",
    "recent_sales",
    "demand_level",
    "demand_weekly_units",
    "reason",
    "priced_on",
]


def ensure_pricing_tables(conn: psycopg.Connection) -> None:
    """Create the two pricing tables when missing (DDL only then)."""
    ensure_tables(
        conn,
        ["analytics.pricing_recommendations", "analytics.pricing_backtest"],
        [RECOMMENDATIONS_DDL, BACKTEST_DDL],
    )


def replace_recommendations(
    conn: psycopg.Connection, rows: list[dict[str, Any]], computed_at: datetime, run_id: str | None
) -> int:
    """Replace analytics.pricing_recommendations with ``rows`` in one transaction."""
    ensure_pricing_tables(conn)
    replace_all_rows(
        conn,
        "analytics.pricing_recommendations",
        [*RECOMMENDATION_COLUMNS, "computed_at", "run_id"],
        ([*(row[c] for c in RECOMMENDATION_COLUMNS), computed_at, run_id] for row in rows),
    )
    return len(rows)


def replace_pricing_backtest(
    conn: psycopg.Connection,
    summary: pd.DataFrame,
    currency: str,
    series: int,
    first: date | None,
    last: date | None,
    dataset: str,
    computed_at: datetime,
    run_id: str | None,
) -> int:
    """Replace analytics.pricing_backtest with one run's per-strategy summary in one transaction."""
    ensure_pricing_tables(conn)
    with conn.transaction():
        conn.execute("lock table analytics.pricing_backtest in exclusive mode")
        conn.execute("delete from analytics.pricing_backtest")
        with conn.cursor() as cur:
            for r in summary.to_dict("records"):
                values = [None if pd.isna(r.get(c)) else r.get(c) for c in BACKTEST_COLUMNS]
                cur.execute(
                    sql.SQL(
                        "insert into analytics.pricing_backtest ({}, currency, series, first_replay_date,"
                        " last_replay_date, dataset, computed_at, run_id) values ({}, %s, %s, %s, %s, %s, %s, %s)"
                    ).format(
                        sql.SQL(", ").join(map(sql.Identifier, BACKTEST_COLUMNS)),
                        sql.SQL(", ").join(sql.Placeholder() * len(BACKTEST_COLUMNS)),
                    ),
                    [*values, currency, series, first, last, dataset, computed_at, run_id],
                )
    return len(summary)


def recommendation_floor_violations(conn: psycopg.Connection) -> tuple[int, int, int, int]:
    """(rows, rows below their floor without clearance, pairs, pairs without exactly one recommended
    platform) in analytics.pricing_recommendations (created when missing)."""
    ensure_pricing_tables(conn)
    return conn.execute(
        "select (select count(*) from analytics.pricing_recommendations),"
        " (select count(*) from analytics.pricing_recommendations where list_price < floor and not clearance),"
        " (select count(distinct inventory_item_id) from analytics.pricing_recommendations),"
        " (select count(*) from (select inventory_item_id from analytics.pricing_recommendations"
        "  group by 1 having count(*) filter (where recommended) <> 1) as x)"
    ).fetchone()
