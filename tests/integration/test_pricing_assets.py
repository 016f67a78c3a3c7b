"""Pricing assets on a small hand-made warehouse: analytics.pricing_recommendations holds exactly the
library's recommendation for every pair in stock (market snapshot, recent market sales and the
forecast converted into the listing currency), never below the floor unless in clearance, a re-run
replaces the rows; analytics.pricing_backtest is the replay of the market history; the CLI prints
the table.

The marts the assets read are created by hand with the columns they use (building
products.inventory_items with dbt needs the whole purchase lineage); the fee schedules are the
seed CSV copied into core.platform_fee_schedules with the seed's column types."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import dagster as dg
import psycopg
import pytest

from assets.pricing import (
    pricing_backtest,
    pricing_recommendations,
    recommendations_respect_floor,
)
from resources.dbt import DBT_PROJECT_DIR
from resources.warehouse import WarehouseResource
from soleflipper.settings import PROJECT_ROOT
from soleflipper.warehouse_tables.forecasts import ensure_forecast_tables

AS_OF = date(2024, 12, 30)
USD_IN_EUR = Decimal("0.95")
DUNK, AF1 = "DD1391100", "CW2288111"

TABLES = """
create schema if not exists products; create schema if not exists staging;
create schema if not exists transactions; create schema if not exists core;
create table products.inventory_items (inventory_item_id text, product_key text, variant_key text, style_code text,
    product_name text, size_label text, current_status text, purchase_date date, purchased_at timestamptz,
    net_cost_amount numeric(14, 2), net_cost_currency text);
create table products.dim_variants (variant_key text, stockx_variant_id text);
create table staging.stg_stockx__market_data (stockx_variant_id text, currency text, lowest_ask_amount numeric,
    highest_bid_amount numeric, snapshot_date date);
create table transactions.fct_market_sales (market_sale_id text, source text, platform text, product_name text,
    product_series_key text, product_key text, variant_key text, size_system text, size_value text,
    sold_at timestamptz, sale_date date, price_amount numeric, price_currency text, retail_price_amount numeric,
    release_date date);
create table core.fx_rates_daily (rate_date date, currency text, home_currency text, home_per_unit numeric);
"""
# core.platform_fee_schedules as `dbt seed` builds it (column types from dbt_project.yml).
SEED = DBT_PROJECT_DIR / "seeds" / "platform_fee_schedules.csv"
FEES_TABLE = """
create table core.platform_fee_schedules (fee_schedule_id text, platform text, fee_type text, region text,
    seller_level text, category text, applies_when text, rate numeric(6, 4), fixed_amount numeric(14, 2),
    fixed_currency text, valid_from date, valid_to date, source_note text);
"""

PAIRS = [
    # fresh pair with market data and a size-level forecast
    (
        "A",
        DUNK,
        f"{DUNK}:US M 10",
        "DD1391-100",
        "Nike Dunk Low Retro White Black",
        "10",
        "in_stock",
        date(2024, 12, 1),
        Decimal("95.00"),
        "EUR",
    ),
    # listed for 304 days: clearance; only a product-level forecast
    (
        "B",
        AF1,
        f"{AF1}:US M 9",
        "CW2288-111",
        "Nike Air Force 1 Low '07 White",
        "9",
        "listed",
        date(2024, 3, 1),
        Decimal("150.00"),
        "EUR",
    ),
    (
        "C",
        AF1,
        f"{AF1}:US M 9",
        "CW2288-111",
        "Nike Air Force 1 Low '07 White",
        "9",
        "in_stock",
        None,
        None,
        None,
    ),
    (
        "D",
        DUNK,
        f"{DUNK}:US M 10",
        "DD1391-100",
        "Nike Dunk Low Retro White Black",
        "10",
        "sold",
        date(2024, 11, 1),
        Decimal("90.00"),
        "EUR",
    ),
]
DUNK_SALES = [
    (date(2024, 12, 5), 205),
    (date(2024, 12, 12), 199),
    (date(2024, 12, 19), 214),
    (date(2024, 12, 27), 208),
    (date(2024, 12, 28), 201),
    (date(2024, 10, 1), 400),
]  # last: too old


@pytest.fixture
def warehouse(database_url, monkeypatch):
    monkeypatch.delenv("SOLEFLIPPER_PRICING_RULES", raising=False)
    monkeypatch.delenv("SOLEFLIPPER_PRICING_AS_OF", raising=False)
    with psycopg.connect(database_url) as conn:
        conn.execute(TABLES)
        conn.execute(FEES_TABLE)
        with conn.cursor().copy(
            "copy core.platform_fee_schedules from stdin with (format csv, header true)"
        ) as copy:
            copy.write(SEED.read_bytes())
        for item, product, variant, style, name, size, status, bought, cost, currency in PAIRS:
            conn.execute(
                "insert into products.inventory_items values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (item, product, variant, style, name, size, status, bought, None, cost, currency),
            )
        conn.execute(
            "insert into products.dim_variants values (%s, 'sx-dunk-10'), (%s, 'sx-af1-9')",
            (f"{DUNK}:US M 10", f"{AF1}:US M 9"),
        )
        conn.execute(
            "insert into staging.stg_stockx__market_data values"
            " ('sx-dunk-10', 'EUR', 180, 150, '2024-12-29'),"
            " ('sx-dunk-10', 'EUR', 999, 990, '2025-01-05')"
        )  # after the pricing day: ignored
        for i, (day, price) in enumerate(DUNK_SALES):
            conn.execute(
                "insert into transactions.fct_market_sales values (%s, 'stockx_activity_sales', 'stockx',"
                " 'Nike Dunk Low Retro White Black', %s, %s, %s, 'US M', '10', %s, %s, %s, 'USD', 120, null)",
                (f"s{i}", DUNK, DUNK, f"{DUNK}:US M 10", day, day, price),
            )
        conn.execute(
            "insert into core.fx_rates_daily values ('2024-12-20', 'USD', 'EUR', %s),"
            " ('2025-01-02', 'USD', 'EUR', 2)",
            (USD_IN_EUR,),
        )  # the later rate must not be used
        ensure_forecast_tables(conn)
        for level, series, target, point, lower, upper, currency in (
            ("product_size", f"{DUNK}:US M 10", "units", 3.5, 2.0, 5.0, None),
            ("product_size", f"{DUNK}:US M 10", "price", 210, 180, 240, "USD"),
            ("product", AF1, "units", 1.0, 0.0, 2.0, None),
            ("product", AF1, "price", 100, 90, 110, "USD"),
        ):
            for horizon, week in ((4, date(2025, 1, 20)), (8, date(2025, 2, 17))):
                conn.execute(
                    "insert into analytics.demand_forecasts (level, series_id, product_series_key, target,"
                    " horizon_weeks, week_start, model, point, lower_80, upper_80, currency, history_weeks,"
                    " history_end, computed_at) values (%s, %s, %s, %s, %s, %s, 'chosen', %s, %s, %s, %s, 60,"
                    " '2024-12-29', now())",
                    (
                        level,
                        series,
                        series.split(":")[0],
                        target,
                        horizon,
                        week,
                        point * (1 if horizon == 4 else 2),
                        lower,
                        upper * (1 if horizon == 4 else 2),
                        currency,
                    ),
                )
    return database_url


def _materialize(url: str, *assets, config: dict | None = None) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        list(assets),
        resources={"warehouse": WarehouseResource(database_url=url)},
        run_config={"ops": config or {}},
    )


def _expected():
    """The library's recommendations, from inputs written out by hand (USD at 0.95 EUR)."""
    from soleflipper.pricing import (
        DemandEstimate,
        MarketSnapshot,
        PairInStock,
        Sale,
        load_fee_schedules_csv,
        load_rules,
        recommend,
    )

    rules, schedules = load_rules(), load_fee_schedules_csv()
    fx = {("USD", "EUR"): USD_IN_EUR, ("EUR", "USD"): Decimal(1) / USD_IN_EUR}
    recent = tuple(
        Sale(day, (Decimal(price) * USD_IN_EUR).quantize(Decimal("0.01")))
        for day, price in DUNK_SALES
        if day >= AS_OF - timedelta(days=rules.recent_sales_days)
    )
    dunk = recommend(
        PairInStock("Nike Dunk Low Retro White Black", "10", Decimal("95.00"), "EUR", date(2024, 12, 1), "A"),
        {"stockx": MarketSnapshot("stockx", "EUR", Decimal(180), Decimal(150), recent)},
        DemandEstimate(3.5, Decimal("199.50"), Decimal("171.00"), Decimal("228.00")),
        schedules,
        rules,
        AS_OF,
        fx,
    )
    af1 = recommend(
        PairInStock("Nike Air Force 1 Low '07 White", "9", Decimal("150.00"), "EUR", date(2024, 3, 1), "B"),
        {"stockx": MarketSnapshot("stockx", "EUR")},
        DemandEstimate(1.0, Decimal("95.00"), Decimal("85.50"), Decimal("104.50")),
        schedules,
        rules,
        AS_OF,
        fx,
    )
    return {"A": dunk.best, "B": af1.best}


def _rows(url: str) -> dict[str, tuple]:
    with psycopg.connect(url) as conn:
        return {
            r[0]: r[1:]
            for r in conn.execute(
                "select inventory_item_id, platform, recommended, currency, list_price, floor, expected_days_to_sell,"
                " expected_payout, expected_profit, clearance, loss, recent_sales, lowest_ask, highest_bid, demand_level,"
                " computed_at, run_id from analytics.pricing_recommendations order by 1"
            )
        }


def test_recommendations_are_the_librarys_for_every_pair_in_stock_and_a_rerun_replaces_them(warehouse):
    config = {"analytics__pricing_recommendations": {"config": {"as_of": AS_OF.isoformat()}}}
    result = _materialize(warehouse, pricing_recommendations, recommendations_respect_floor, config=config)
    assert result.success
    expected = _expected()
    rows = _rows(warehouse)
    assert set(rows) == {"A", "B"}  # C has no cost, D is sold
    for item, rec in expected.items():
        assert rows[item][:10] == (
            "stockx",
            True,
            "EUR",
            rec.list_price,
            rec.floor,
            rec.expected_days_to_sell,
            rec.expected_payout,
            rec.expected_profit,
            rec.clearance,
            rec.clearance_loss,
        ), item
    assert rows["A"][10:14] == (5, Decimal("180.00"), Decimal("150.00"), "product_size")
    assert rows["B"][8] is True and rows["B"][10:14] == (0, None, None, "product")
    assert rows["A"][3] >= rows["A"][4] and rows["A"][8] is False  # list price >= floor outside clearance

    checks = result.get_asset_check_evaluations()
    assert [(c.check_name, c.passed) for c in checks] == [("recommendations_respect_floor", True)]
    meta = result.asset_materializations_for_node("analytics__pricing_recommendations")[0].metadata
    assert (meta["pairs_in_stock"].value, meta["pairs_priced"].value, meta["pairs_without_cost"].value) == (
        3,
        2,
        1,
    )
    assert meta["fee_schedules"].value == "core.platform_fee_schedules"

    again = _materialize(warehouse, pricing_recommendations, config=config)
    rows_again = _rows(warehouse)
    assert set(rows_again) == {"A", "B"}
    assert {k: v[:14] for k, v in rows_again.items()} == {k: v[:14] for k, v in rows.items()}
    assert rows_again["A"][15] == again.run_id != rows["A"][15] and rows_again["A"][14] > rows["A"][14]


def test_floor_check_fails_on_a_row_below_its_floor(warehouse):
    config = {"analytics__pricing_recommendations": {"config": {"as_of": AS_OF.isoformat()}}}
    assert _materialize(warehouse, pricing_recommendations, config=config).success
    with psycopg.connect(warehouse) as conn:
        conn.execute(
            "update analytics.pricing_recommendations set list_price = floor - 1 where inventory_item_id = 'A'"
        )
    result = dg.materialize(
        [recommendations_respect_floor],
        resources={"warehouse": WarehouseResource(database_url=warehouse)},
        selection=dg.AssetSelection.checks(recommendations_respect_floor),
    )
    (check,) = result.get_asset_check_evaluations()
    assert not check.passed and check.metadata["below_floor_without_clearance"].value == 1


def test_pricing_backtest_is_the_replay_of_the_market_history(warehouse):
    from soleflipper.pricing.replay import ContestSale, ReplayConfig, replay, summarize

    with psycopg.connect(warehouse) as conn:
        conn.execute("delete from transactions.fct_market_sales")
        start = date(2024, 1, 1)
        for day in range(120):
            for k in range(day % 3):
                conn.execute(
                    "insert into transactions.fct_market_sales (platform, product_series_key, size_system,"
                    " size_value, sale_date, price_amount, price_currency, retail_price_amount, release_date)"
                    " values ('stockx', %s, 'US M', '10', %s, %s, 'USD', 110, '2023-12-01')",
                    (DUNK, start + timedelta(days=day), 150 + (day * 7 + k * 13) % 40),
                )
    result = _materialize(warehouse, pricing_backtest)
    assert result.success
    with psycopg.connect(warehouse) as conn:
        sales = [
            ContestSale(day, DUNK, "US M 10", Decimal(str(price)), Decimal(110), date(2023, 12, 1))
            for day, price in conn.execute(
                "select sale_date, price_amount from transactions.fct_market_sales"
                " order by sale_date, price_amount"
            )
        ]
        stored = conn.execute(
            "select strategy, pairs, sold_within_30_rate, mean_list_price, currency, series"
            " from analytics.pricing_backtest order by strategy"
        ).fetchall()
    summary = summarize(replay(sales, ReplayConfig()))
    assert stored == sorted(
        (r["strategy"], r["pairs"], r["sold_within_30_rate"], r["mean_list_price"], "USD", 1)
        for r in summary.to_dict("records")
    )
    assert stored and all(pairs > 0 for _, pairs, *_ in stored)
    assert _materialize(warehouse, pricing_backtest).success  # a re-run replaces
    with psycopg.connect(warehouse) as conn:
        assert conn.execute("select count(*) from analytics.pricing_backtest").fetchone()[0] == len(stored)


def test_cli_prints_the_recommendations(warehouse, tmp_path):
    config = {"analytics__pricing_recommendations": {"config": {"as_of": AS_OF.isoformat()}}}
    assert _materialize(warehouse, pricing_recommendations, config=config).success
    env = {**os.environ, "SOLEFLIPPER_DATABASE_URL": warehouse, "SOLEFLIPPER_HOME": str(tmp_path / "home")}
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "pricing", "--reasons"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    expected = _expected()
    out = proc.stdout
    assert "Pricing recommendations for 2 pairs in stock (priced for 2024-12-30" in out
    lines = [line for line in out.splitlines() if line.startswith("Nike ")]
    assert len(lines) == 2
    assert (
        lines[0].startswith("Nike Dunk Low Retro White Black")
        and f"{expected['A'].list_price:.2f} EUR" in lines[0]
    )
    assert lines[1].startswith("Nike Air Force 1 Low '07 White") and lines[1].rstrip().endswith("clearance")
    assert "CLEARANCE" in out and "floor" in out


EBAY_TRANSACTIONS = """
create table staging.stg_ebay__api_transactions (transaction_id text, transaction_type text, order_id text,
    transaction_date timestamptz, order_line_items jsonb);
"""


def _ebay_line(line_id: str, basis: str, fees: list[tuple[str, str]]) -> dict:
    return {"lineItemId": line_id, "feeBasisAmount": {"value": basis, "currency": "EUR"},
            "marketplaceFees": [{"feeType": t, "amount": {"value": v, "currency": "EUR"}} for t, v in fees]}


def test_ebay_is_priced_at_the_fees_its_finances_transactions_show(warehouse, tmp_path, monkeypatch):
    import json

    from soleflipper.pricing import fee_breakdown, load_fee_schedules_csv, load_rules

    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(
        "platforms:\n  stockx: {enabled: true, currency: EUR, region: EU, seller_level: '1'}\n"
        "  ebay: {enabled: true, currency: EUR, final_value_rate: observed, shipping_cost: 6.99}\n"
    )
    monkeypatch.setenv("SOLEFLIPPER_PRICING_RULES", str(rules_file))
    config = {"analytics__pricing_recommendations": {"config": {"as_of": AS_OF.isoformat()}}}
    # Before eBay is synced (no staging table): eBay is not priced, StockX is.
    assert _materialize(warehouse, pricing_recommendations, config=config).success
    assert {row[0] for row in _rows(warehouse).values()} == {"stockx"}

    with psycopg.connect(warehouse) as conn:
        conn.execute(EBAY_TRANSACTIONS)
        for txn, kind, order, when, lines in (
            ("t1", "SALE", "o1", "2024-12-10T10:00:00Z",
             [_ebay_line("l1", "146.99", [("FINAL_VALUE_FEE", "18.96"), ("FINAL_VALUE_FEE_FIXED_PER_ORDER", "0.35")]),
              _ebay_line("l2", "101.99", [("FINAL_VALUE_FEE", "13.16")])]),
            ("t2", "SALE", "o2", "2024-12-20T10:00:00Z",
             [_ebay_line("l3", "266.99", [("FINAL_VALUE_FEE", "34.44"), ("FINAL_VALUE_FEE_FIXED_PER_ORDER", "0.35"),
                                          ("AD_FEE", "9.99")])]),
            ("t3", "REFUND", "o2", "2024-12-22T10:00:00Z", [_ebay_line("l3", "266.99", [("FINAL_VALUE_FEE", "-34.44")])]),
            ("t4", "SALE", "o3", "2025-01-05T10:00:00Z",  # after the pricing day
             [_ebay_line("l4", "100.00", [("FINAL_VALUE_FEE", "50.00"), ("FINAL_VALUE_FEE_FIXED_PER_ORDER", "0.35")])]),
        ):
            conn.execute("insert into staging.stg_ebay__api_transactions values (%s, %s, %s, %s, %s)",
                         (txn, kind, order, when, json.dumps(lines)))
    result = _materialize(warehouse, pricing_recommendations, config=config)
    assert result.success
    rate = ((Decimal("18.96") + Decimal("13.16") + Decimal("34.44"))
            / (Decimal("146.99") + Decimal("101.99") + Decimal("266.99"))).quantize(Decimal("0.0001"))
    assert rate == Decimal("0.1290")
    with psycopg.connect(warehouse) as conn:
        ebay = conn.execute(
            "select inventory_item_id, list_price, expected_fees, expected_payout, reason"
            " from analytics.pricing_recommendations where platform = 'ebay' order by 1").fetchall()
    assert [row[0] for row in ebay] == ["A", "B"]
    profile = next(p for p in load_rules().platforms if p.platform == "ebay")
    from dataclasses import replace

    profile = replace(profile, final_value_rate=rate, fixed_per_order=Decimal("0.35")).profile()
    for _item, price, fees, payout, reason in ebay:
        expected = fee_breakdown(price, load_fee_schedules_csv(), profile, AS_OF)
        assert (fees, payout) == (expected.total_fees, expected.net_payout)
        assert fees == (price * rate).quantize(Decimal("0.01"), ROUND_HALF_UP) + Decimal("0.35")
        assert reason.endswith("; eBay fees as observed in eBay Finances: 3 line items of 2 orders, "
                               "2024-12-10..2024-12-20")
