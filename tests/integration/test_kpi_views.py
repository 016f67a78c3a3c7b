"""The seven KPI views on a small hand-built dataset, every KPI checked against hand arithmetic.

Issue 5, point 6. The dataset is in tests/fixtures/kpi_views/ and goes through the real
loaders (one file per format: ECB FX rates, the purchases sheet, a StockX seller report, the
sales sheet), then the whole dbt project is built once for the module and must pass every dbt
test. Every number below is worked out by hand from those files (the arithmetic is in the
comments); nothing is read back from the warehouse's own logic except the refresh time
(`as_of`), which ages of pairs still in stock are relative to.

Home currency EUR. FX (units of GBP per 1 EUR, ECB convention; home_per_unit = 1 / rate):
    2024-01-02 .. 2024-02-29   0.80000 -> 1 GBP = 1.25 EUR
    2024-03-01 .. 2024-05-02   0.78125 -> 1 GBP = 1.28 EUR
    2024-05-03 (Friday)        0.80000 -> 1.25 (Saturday 05-04 carries Friday's rate forward)
    2024-05-06 ..              0.78125 -> 1.28
Purchases (purchases sheet; net and gross as written; supplier; style / size):
    A1,A2 2024-01-02 Solebox    DD1391-100 / 10   2 pairs, each 100.00 / 119.00 EUR   sold S1, S2
    B     2024-02-03 Solebox    DZ5485-612 / 9    150.00 / 178.50 EUR                  sold S5
    C     2024-03-01 Solebox    CW2288-111 / 9     80.00 /  95.20 EUR                  in stock
    H     2024-03-15 Solebox    CW2288-111 / 8     70.00 /  83.30 EUR  "Lost: ..."      written off
    D     2024-01-10 Footpatrol DZ5485-612 / 10.5 200.00 / 240.00 GBP = 250.00 / 300.00 EUR  sold S6
    G     2024-02-10 Footpatrol CW2288-111 / 11    50.00 /  60.00 GBP =  62.50 /  75.00 EUR  returned
    E     2024-03-04 Footpatrol DZ5485-612 / 10   160.00 / 192.00 GBP = 204.80 / 245.76 EUR  sold S3
    F     2024-05-06 Footpatrol CW2288-111 / 10    60.00 /  72.00 GBP =  76.80 /  92.16 EUR  in stock
Sales (gross - payout = fees; net sale = payout - output VAT; profit = net sale - net buy):
    S1 StockX 2024-02-01 10:00  DD1391-100 / 10   180.00 - 158.40 = 21.60  Germany/Berlin  paid 02-05 10:00 (4 d)
    S2 StockX 2024-04-01 09:00  DD1391-100 / 10   200.00 - 178.00 = 22.00  France/Paris    paid 04-03 21:00 (2.5 d)
    S3 StockX 2024-04-04 10:00  DZ5485-612 / 10   300.00 - 264.00 = 36.00  Germany/Berlin  paid 04-08 16:00 (4.25 d)
    S4 StockX 2024-04-04 18:30  DD1391-100 / 11   150.00 - 132.00 = 18.00  Germany/Munich  not paid out; no purchase
    S5 Laced  2024-05-04        DZ5485-612 / 9    250 GBP - 30 GBP fees: 312.50 - 275.00 = 37.50 EUR (x 1.25)
    S6 in person 2024-07-09     DZ5485-612 / 10.5 357.00 EUR cash, no fees; output VAT 357 * 0.19/1.19 = 57.00
Per sold pair (EUR): S1 profit 158.40 - 100 = 58.40 (30 days), S2 178.00 - 100 = 78.00 (90 d),
S3 264.00 - 204.80 = 59.20 (31 d), S4 no cost, S5 275.00 - 150.00 = 125.00 (91 d),
S6 300.00 - 250.00 = 50.00 (181 d).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal as D

import psycopg
import pytest
from conftest import FIXTURES, _create_database, _drop_database
from dbt_runner import dbt_build
from psycopg import sql
from psycopg.rows import dict_row

from resources.warehouse import ensure_all_raw_tables, load_file
from soleflipper.formats import load_format

DATASET = FIXTURES / "kpi_views"
# Each file is named after its format; FX first (any order works: dbt reads them all).
FILES = ("ecb_fx_rates", "purchases_sheet", "stockx_sales_report", "sales_sheet")

VIEWS = ("mv_executive_metrics", "mv_product_performance", "mv_brand_analytics", "mv_platform_performance",
         "mv_inventory_status", "mv_customer_geography", "mv_supplier_performance")


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Built:
    def __init__(self, url: str, results: dict[str, str], manifest: dict, loaded_from: datetime,
                 loaded_to: datetime) -> None:
        self.url, self.results, self.manifest = url, results, manifest
        self.loaded_from, self.loaded_to = loaded_from, loaded_to

    def rows(self, view: str, key: tuple[str, ...]) -> dict[tuple, dict]:
        with psycopg.connect(self.url, row_factory=dict_row) as conn:
            rows = conn.execute(sql.SQL("select * from {}").format(sql.Identifier("analytics", view))).fetchall()
        by_key = {tuple(r[k] for k in key): r for r in rows}
        assert len(by_key) == len(rows), f"{view}: {key} is not unique"
        return by_key


@pytest.fixture(scope="module")
def built(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    name, url = _create_database(pg_server)
    target = tmp_path_factory.mktemp("kpi_views_target")
    try:
        with psycopg.connect(url) as conn:
            ensure_all_raw_tables(conn)
            loaded_from = conn.execute("select now()").fetchone()[0]
            conn.commit()
            for fmt in FILES:
                result = load_file(conn, load_format(fmt), DATASET / f"{fmt}.csv")
                assert result.rows_quarantined == 0, (fmt, result.sample_errors)
            loaded_to = conn.execute("select now()").fetchone()[0]
            conn.commit()
        results = dbt_build(url, target)  # the whole project, every dbt test included
        manifest = json.loads((target / "manifest.json").read_text())
        yield Built(url, results, manifest, loaded_from, loaded_to)
    finally:
        _drop_database(pg_server, name)


def assert_rows(actual: dict[tuple, dict], expected: dict[tuple, dict]) -> None:
    """Same keys, and every column of every row as expected (no column left unchecked)."""
    assert set(actual) == set(expected)
    for key, row in expected.items():
        assert set(actual[key]) == set(row), (key, set(actual[key]) ^ set(row))
        assert actual[key] == row, key


def test_dataset_builds_and_every_dbt_test_passes(built):
    tests = {k: v for k, v in built.results.items() if k.startswith("test.")}
    assert len(tests) >= 300 and set(tests.values()) == {"pass"}
    for view in VIEWS:
        assert built.results[f"model.soleflipper.{view}"] == "success"
    # every view has its own generic tests among them
    for view in VIEWS:
        assert any(view in k for k in tests), view


def test_executive_metrics(built):
    common = {"sale_year": date(2024, 1, 1), "home_currency": "EUR"}
    stockx = {"platform_name": "StockX", **common}
    expected = {
        (date(2024, 2, 1), "stockx"): {  # S1
            "sale_date": date(2024, 2, 1), "sale_week": date(2024, 1, 29),  # Thursday; Monday 29 Jan
            "sale_month": date(2024, 2, 1), "sale_quarter": date(2024, 1, 1), "platform": "stockx", **stockx,
            "orders": 1, "units_sold": 1, "revenue_home": D("180.00"), "fees_home": D("21.60"),
            "payout_home": D("158.40"), "output_vat_home": D("0.00"), "net_sales_home": D("158.40"),
            "units_with_profit": 1, "net_buy_home": D("100.00"), "profit_home": D("58.40"),
            "roi_pct": D("58.40"),  # 58.40 / 100.00
            "avg_order_value_home": D("180.00"),
            "first_sale_at": ts("2024-02-01 10:00"), "last_sale_at": ts("2024-02-01 10:00"),
        },
        (date(2024, 4, 1), "stockx"): {  # S2
            "sale_date": date(2024, 4, 1), "sale_week": date(2024, 4, 1),  # a Monday
            "sale_month": date(2024, 4, 1), "sale_quarter": date(2024, 4, 1), "platform": "stockx", **stockx,
            "orders": 1, "units_sold": 1, "revenue_home": D("200.00"), "fees_home": D("22.00"),
            "payout_home": D("178.00"), "output_vat_home": D("0.00"), "net_sales_home": D("178.00"),
            "units_with_profit": 1, "net_buy_home": D("100.00"), "profit_home": D("78.00"), "roi_pct": D("78.00"),
            "avg_order_value_home": D("200.00"),
            "first_sale_at": ts("2024-04-01 09:00"), "last_sale_at": ts("2024-04-01 09:00"),
        },
        (date(2024, 4, 4), "stockx"): {  # S3 + S4 (S4 has no purchase: revenue and fees, no profit)
            "sale_date": date(2024, 4, 4), "sale_week": date(2024, 4, 1),
            "sale_month": date(2024, 4, 1), "sale_quarter": date(2024, 4, 1), "platform": "stockx", **stockx,
            "orders": 2, "units_sold": 2,
            "revenue_home": D("450.00"),  # 300.00 + 150.00
            "fees_home": D("54.00"),  # 36.00 + 18.00
            "payout_home": D("396.00"),  # 264.00 + 132.00
            "output_vat_home": D("0.00"), "net_sales_home": D("396.00"),
            "units_with_profit": 1, "net_buy_home": D("204.80"),  # 160 GBP x 1.28 (rate of 03-04)
            "profit_home": D("59.20"),  # 264.00 - 204.80
            "roi_pct": D("28.91"),  # 59.20 / 204.80 = 0.2890625 -> 28.91
            "avg_order_value_home": D("225.00"),  # 450.00 / 2
            "first_sale_at": ts("2024-04-04 10:00"), "last_sale_at": ts("2024-04-04 18:30"),
        },
        (date(2024, 5, 4), "laced"): {  # S5, GBP at Friday's rate 1.25
            "sale_date": date(2024, 5, 4), "sale_week": date(2024, 4, 29),
            "sale_month": date(2024, 5, 1), "sale_quarter": date(2024, 4, 1), "platform": "laced",
            "platform_name": "Laced", **common,
            "orders": 1, "units_sold": 1, "revenue_home": D("312.50"),  # 250 x 1.25
            "fees_home": D("37.50"),  # 312.50 - 275.00
            "payout_home": D("275.00"),  # (250 - 30) x 1.25
            "output_vat_home": D("0.00"),  # Laced: self-billed intra-EU
            "net_sales_home": D("275.00"), "units_with_profit": 1, "net_buy_home": D("150.00"),
            "profit_home": D("125.00"), "roi_pct": D("83.33"),  # 125 / 150 = 0.8333...
            "avg_order_value_home": D("312.50"),
            "first_sale_at": ts("2024-05-04 00:00"), "last_sale_at": ts("2024-05-04 00:00"),
        },
        (date(2024, 7, 9), "in_person"): {  # S6, domestic sale with 19 % VAT in the price
            "sale_date": date(2024, 7, 9), "sale_week": date(2024, 7, 8),
            "sale_month": date(2024, 7, 1), "sale_quarter": date(2024, 7, 1), "platform": "in_person",
            "platform_name": "In person", **common,
            "orders": 1, "units_sold": 1, "revenue_home": D("357.00"), "fees_home": D("0.00"),
            "payout_home": D("357.00"), "output_vat_home": D("57.00"),  # 357 x 0.19 / 1.19
            "net_sales_home": D("300.00"), "units_with_profit": 1,
            "net_buy_home": D("250.00"),  # 200 GBP x 1.25 (rate of 01-10)
            "profit_home": D("50.00"), "roi_pct": D("20.00"),  # 50 / 250
            "avg_order_value_home": D("357.00"),
            "first_sale_at": ts("2024-07-09 00:00"), "last_sale_at": ts("2024-07-09 00:00"),
        },
    }
    assert_rows(built.rows("mv_executive_metrics", ("sale_date", "platform")), expected)


def test_product_performance(built):
    expected = {
        ("DD1391100",): {  # S1, S2, S4 (S4 unlinked)
            "product_key": "DD1391100", "style_code": "DD1391-100",
            "product_name": "Nike Dunk Low Retro White Black",  # the StockX report's item name
            "brand_key": "nike", "brand": "Nike", "parent_brand": None, "segment": "sportswear",
            "home_currency": "EUR", "units_sold": 3, "orders": 3,
            "revenue_home": D("530.00"),  # 180 + 200 + 150
            "avg_sale_price_home": D("176.67"),  # 530 / 3 = 176.666...
            "min_sale_price_home": D("150.00"), "max_sale_price_home": D("200.00"),
            # sample stddev of 180, 200, 150: squares of deviations from 176.667 are
            # 11.111 + 544.444 + 711.111 = 1266.667; / 2 = 633.333; sqrt = 25.166
            "sale_price_stddev_home": D("25.17"),
            "fees_home": D("61.60"),  # 21.60 + 22.00 + 18.00
            "units_with_profit": 2, "net_buy_home": D("200.00"),
            "profit_home": D("136.40"),  # 58.40 + 78.00
            "roi_pct": D("68.20"),  # 136.40 / 200
            "avg_net_buy_home": D("100.00"),
            "avg_shelf_life_days": D("60.00"),  # (30 + 90) / 2
            "supplier_count": 1, "first_sale_date": date(2024, 2, 1), "last_sale_date": date(2024, 4, 4),
            "sales_span_days": 63,  # 29 days of February (2024) + 31 of March + 3
        },
        ("DZ5485612",): {  # S3, S5, S6
            "product_key": "DZ5485612", "style_code": "DZ5485-612",
            "product_name": "Jordan 1 Retro High OG Chicago Lost and Found",
            "brand_key": "jordan", "brand": "Jordan", "parent_brand": "Nike", "segment": "sportswear",
            "home_currency": "EUR", "units_sold": 3, "orders": 3,
            "revenue_home": D("969.50"),  # 300.00 + 312.50 + 357.00
            "avg_sale_price_home": D("323.17"),  # 969.50 / 3 = 323.1666...
            "min_sale_price_home": D("300.00"), "max_sale_price_home": D("357.00"),
            # deviations from 323.1667: -23.1667, -10.6667, 33.8333; squares 536.694 + 113.778
            # + 1144.694 = 1795.167; / 2 = 897.583; sqrt = 29.960
            "sale_price_stddev_home": D("29.96"),
            "fees_home": D("73.50"),  # 36.00 + 37.50 + 0.00
            "units_with_profit": 3, "net_buy_home": D("604.80"),  # 204.80 + 150.00 + 250.00
            "profit_home": D("234.20"),  # 59.20 + 125.00 + 50.00
            "roi_pct": D("38.72"),  # 234.20 / 604.80 = 0.387235...
            "avg_net_buy_home": D("201.60"),  # 604.80 / 3
            "avg_shelf_life_days": D("101.00"),  # (31 + 91 + 181) / 3
            "supplier_count": 2,  # Footpatrol (S3, S6), Solebox (S5)
            "first_sale_date": date(2024, 4, 4), "last_sale_date": date(2024, 7, 9),
            "sales_span_days": 96,  # 26 (April) + 31 + 30 + 9
        },
    }
    assert_rows(built.rows("mv_product_performance", ("product_key",)), expected)


def test_brand_analytics(built):
    # all brands: 1499.50 revenue (530.00 + 969.50), 6 pairs
    expected = {
        ("nike",): {
            "brand_key": "nike", "brand": "Nike", "parent_brand_key": None, "parent_brand": None,
            "segment": "sportswear", "home_currency": "EUR", "units_sold": 3, "orders": 3,
            "revenue_home": D("530.00"), "avg_sale_price_home": D("176.67"), "sale_price_stddev_home": D("25.17"),
            "units_with_profit": 2, "net_buy_home": D("200.00"), "profit_home": D("136.40"), "roi_pct": D("68.20"),
            "product_variety": 1, "active_months": 2,  # February, April
            "first_sale_date": date(2024, 2, 1), "last_sale_date": date(2024, 4, 4),
            "market_share_pct": D("35.35"),  # 530.00 / 1499.50 = 0.353451...
            "sales_share_pct": D("50.00"),  # 3 / 6
            "price_positioning": "Mid-Range",  # 176.67 > 100
            "volume_tier": "Low Volume",  # 3 <= 50
        },
        ("jordan",): {  # the child brand is its own row, rolled up through parent_brand_key
            "brand_key": "jordan", "brand": "Jordan", "parent_brand_key": "nike", "parent_brand": "Nike",
            "segment": "sportswear", "home_currency": "EUR", "units_sold": 3, "orders": 3,
            "revenue_home": D("969.50"), "avg_sale_price_home": D("323.17"), "sale_price_stddev_home": D("29.96"),
            "units_with_profit": 3, "net_buy_home": D("604.80"), "profit_home": D("234.20"), "roi_pct": D("38.72"),
            "product_variety": 1, "active_months": 3,  # April, May, July
            "first_sale_date": date(2024, 4, 4), "last_sale_date": date(2024, 7, 9),
            "market_share_pct": D("64.65"),  # 969.50 / 1499.50 = 0.646548...
            "sales_share_pct": D("50.00"),
            "price_positioning": "Premium",  # 323.17 > 200
            "volume_tier": "Low Volume",
        },
    }
    assert_rows(built.rows("mv_brand_analytics", ("brand_key",)), expected)


def test_platform_performance(built):
    expected = {
        ("stockx",): {  # S1-S4
            "platform": "stockx", "platform_name": "StockX", "platform_type": "marketplace", "home_currency": "EUR",
            "orders": 4, "units_sold": 4, "active_months": 2,  # February, April
            "revenue_home": D("830.00"),  # 180 + 200 + 300 + 150
            "avg_order_value_home": D("207.50"), "min_order_value_home": D("150.00"),
            "max_order_value_home": D("300.00"),
            "fees_home": D("97.60"),  # 21.60 + 22.00 + 36.00 + 18.00
            "avg_fee_home": D("24.40"),  # 97.60 / 4
            "fee_pct": D("11.76"),  # from the sums: 97.60 / 830.00 = 0.117590...
            "avg_fee_pct": D("11.75"),  # average of 12 %, 11 %, 12 %, 12 %
            "payout_home": D("732.40"),  # 158.40 + 178.00 + 264.00 + 132.00
            "output_vat_home": D("0.00"), "net_sales_home": D("732.40"),
            "units_with_profit": 3, "net_buy_home": D("404.80"),  # 100 + 100 + 204.80
            "profit_home": D("195.60"),  # 58.40 + 78.00 + 59.20
            "roi_pct": D("48.32"),  # 195.60 / 404.80 = 0.483201...
            "profit_margin_pct": D("28.76"),  # 195.60 / (180 + 200 + 300) = 0.287647...
            "orders_paid_out": 3,  # S4 has no payout date
            "avg_payout_days": D("3.58"),  # (4 + 2.5 + 4.25) / 3 = 3.5833...
            "countries_served": 2,  # Germany, France
            "cities_served": 3,  # Berlin, Paris, Munich
            "first_sale_at": ts("2024-02-01 10:00"), "last_sale_at": ts("2024-04-04 18:30"),
        },
        ("laced",): {  # S5 (a sales sheet row: no payout date, no buyer place)
            "platform": "laced", "platform_name": "Laced", "platform_type": "marketplace", "home_currency": "EUR",
            "orders": 1, "units_sold": 1, "active_months": 1, "revenue_home": D("312.50"),
            "avg_order_value_home": D("312.50"), "min_order_value_home": D("312.50"),
            "max_order_value_home": D("312.50"), "fees_home": D("37.50"), "avg_fee_home": D("37.50"),
            "fee_pct": D("12.00"), "avg_fee_pct": D("12.00"),  # 37.50 / 312.50 (= 30 / 250)
            "payout_home": D("275.00"), "output_vat_home": D("0.00"), "net_sales_home": D("275.00"),
            "units_with_profit": 1, "net_buy_home": D("150.00"), "profit_home": D("125.00"), "roi_pct": D("83.33"),
            "profit_margin_pct": D("40.00"),  # 125 / 312.50
            "orders_paid_out": 0, "avg_payout_days": None, "countries_served": 0, "cities_served": 0,
            "first_sale_at": ts("2024-05-04 00:00"), "last_sale_at": ts("2024-05-04 00:00"),
        },
        ("in_person",): {  # S6
            "platform": "in_person", "platform_name": "In person", "platform_type": "local", "home_currency": "EUR",
            "orders": 1, "units_sold": 1, "active_months": 1, "revenue_home": D("357.00"),
            "avg_order_value_home": D("357.00"), "min_order_value_home": D("357.00"),
            "max_order_value_home": D("357.00"), "fees_home": D("0.00"), "avg_fee_home": D("0.00"),
            "fee_pct": D("0.00"), "avg_fee_pct": D("0.00"),
            "payout_home": D("357.00"), "output_vat_home": D("57.00"), "net_sales_home": D("300.00"),
            "units_with_profit": 1, "net_buy_home": D("250.00"), "profit_home": D("50.00"), "roi_pct": D("20.00"),
            "profit_margin_pct": D("14.01"),  # 50 / 357 = 0.140056...
            "orders_paid_out": 0, "avg_payout_days": None, "countries_served": 0, "cities_served": 0,
            "first_sale_at": ts("2024-07-09 00:00"), "last_sale_at": ts("2024-07-09 00:00"),
        },
    }
    assert_rows(built.rows("mv_platform_performance", ("platform",)), expected)


def test_customer_geography(built):
    expected = {
        ("Germany", "Berlin"): {  # S1, S3
            "country": "Germany", "city": "Berlin", "home_currency": "EUR", "orders": 2, "units_sold": 2,
            "active_months": 2, "revenue_home": D("480.00"),  # 180 + 300
            "avg_order_value_home": D("240.00"), "units_with_profit": 2,
            "net_buy_home": D("304.80"),  # 100 + 204.80
            "profit_home": D("117.60"),  # 58.40 + 59.20
            "roi_pct": D("38.58"),  # 117.60 / 304.80 = 0.385826...
            "platforms_used": 1, "platform_names": "stockx", "unique_products": 2,
            "unique_brands": 2,  # Nike and Jordan (a child brand counts as a brand)
            "first_order_at": ts("2024-02-01 10:00"), "last_order_at": ts("2024-04-04 10:00"),
        },
        ("Germany", "Munich"): {  # S4: no purchase, so no profit
            "country": "Germany", "city": "Munich", "home_currency": "EUR", "orders": 1, "units_sold": 1,
            "active_months": 1, "revenue_home": D("150.00"), "avg_order_value_home": D("150.00"),
            "units_with_profit": 0, "net_buy_home": None, "profit_home": None, "roi_pct": None,
            "platforms_used": 1, "platform_names": "stockx", "unique_products": 1, "unique_brands": 1,
            "first_order_at": ts("2024-04-04 18:30"), "last_order_at": ts("2024-04-04 18:30"),
        },
        ("France", "Paris"): {  # S2
            "country": "France", "city": "Paris", "home_currency": "EUR", "orders": 1, "units_sold": 1,
            "active_months": 1, "revenue_home": D("200.00"), "avg_order_value_home": D("200.00"),
            "units_with_profit": 1, "net_buy_home": D("100.00"), "profit_home": D("78.00"), "roi_pct": D("78.00"),
            "platforms_used": 1, "platform_names": "stockx", "unique_products": 1, "unique_brands": 1,
            "first_order_at": ts("2024-04-01 09:00"), "last_order_at": ts("2024-04-01 09:00"),
        },
        ("(unknown)", "(unknown)"): {  # S5, S6: the sales sheet has no buyer place
            "country": "(unknown)", "city": "(unknown)", "home_currency": "EUR", "orders": 2, "units_sold": 2,
            "active_months": 2, "revenue_home": D("669.50"),  # 312.50 + 357.00
            "avg_order_value_home": D("334.75"), "units_with_profit": 2,
            "net_buy_home": D("400.00"),  # 150 + 250
            "profit_home": D("175.00"),  # 125 + 50
            "roi_pct": D("43.75"),  # 175 / 400
            "platforms_used": 2, "platform_names": "in_person, laced", "unique_products": 1, "unique_brands": 1,
            "first_order_at": ts("2024-05-04 00:00"), "last_order_at": ts("2024-07-09 00:00"),
        },
    }
    assert_rows(built.rows("mv_customer_geography", ("country", "city")), expected)
    # The view adds up to every sale: 6 orders, 1499.50 revenue.
    with psycopg.connect(built.url) as conn:
        assert conn.execute("select sum(orders), sum(revenue_home) from analytics.mv_customer_geography"
                            ).fetchone() == (6, D("1499.50"))


def test_inventory_status(built):
    actual = built.rows("mv_inventory_status", ("style_code", "size_label", "sale_unit_id"))
    as_of = {r["as_of"] for r in actual.values()}
    assert len(as_of) == 1
    [as_of] = as_of
    # refreshed by the build, after the data was loaded
    assert built.loaded_to <= as_of
    as_of_day = as_of.astimezone(UTC).date()
    with psycopg.connect(built.url) as conn:
        [(loaded_at,)] = conn.execute("select distinct _loaded_at from raw.sheets_purchases").fetchall()
        ids = dict(conn.execute("select style_code || '/' || size_label || '/' || unit_index, purchase_id"
                                " from transactions.fct_purchases").fetchall())
    assert built.loaded_from <= loaded_at <= built.loaded_to

    def item(style: str, size: str, purchase_date: date, supplier: str, status: str, since: datetime,
             net: str, gross: str, age: int, bucket: str, sale: str | None = None, sold_at: datetime | None = None,
             revenue: str | None = None, profit: str | None = None, unit: int = 1) -> tuple[tuple, dict]:
        nike = style != "DZ5485-612"
        in_stock = status in ("purchased", "in_stock", "listed")
        row = {
            "inventory_item_id": ids[f"{style}/{size}/{unit}"],
            "product_key": style.replace("-", ""), "style_code": style,
            "product_name": {"DD1391-100": "Nike Dunk Low Retro White Black",
                             "DZ5485-612": "Jordan 1 Retro High OG Chicago Lost and Found",
                             "CW2288-111": "Air Force 1 '07"}[style],  # no StockX sale: the sheet's name
            "size_label": size, "brand_key": "nike" if nike else "jordan", "brand": "Nike" if nike else "Jordan",
            "supplier_key": supplier.lower(), "supplier": supplier, "purchase_date": purchase_date,
            "delivery_date": DELIVERED.get((style, size)), "current_status": status, "status_since": since,
            "is_in_stock": in_stock, "listed_platforms": None, "home_currency": "EUR",
            "net_cost_home": D(net), "gross_cost_home": D(gross), "as_of": as_of, "age_days": age,
            "age_bucket": bucket, "current_stock_value_home": D(net) if in_stock else D("0.00"),
            "sale_unit_id": sale, "sale_platform": sale.split(":")[0] if sale else None, "sold_at": sold_at,
            "sale_revenue_home": D(revenue) if revenue else None, "sale_profit_home": D(profit) if profit else None,
        }
        return (style, size, sale), row

    [local_sale] = [k[2] for k in actual if k[2] and k[2].startswith("in_person:")]
    expected = dict([
        # sold pairs: age = shelf life (purchase day to sale day), fixed; every bucket boundary
        item("DD1391-100", "10", date(2024, 1, 2), "Solebox", "sold", ts("2024-02-01 10:00"), "100.00", "119.00",
             30, "Fast", "stockx:71000001-81000001#1", ts("2024-02-01 10:00"), "180.00", "58.40", unit=1),
        item("DD1391-100", "10", date(2024, 1, 2), "Solebox", "sold", ts("2024-04-01 09:00"), "100.00", "119.00",
             90, "Normal", "stockx:71000002-81000002#1", ts("2024-04-01 09:00"), "200.00", "78.00", unit=2),
        item("DZ5485-612", "10", date(2024, 3, 4), "Footpatrol", "sold", ts("2024-04-04 10:00"),
             "204.80", "245.76",  # 160 / 192 GBP x 1.28
             31, "Normal", "stockx:71000003-81000003#1", ts("2024-04-04 10:00"), "300.00", "59.20"),
        item("DZ5485-612", "9", date(2024, 2, 3), "Solebox", "sold", ts("2024-05-04 00:00"), "150.00", "178.50",
             91, "Slow", "laced:LC-100001#1", ts("2024-05-04 00:00"), "312.50", "125.00"),
        item("DZ5485-612", "10.5", date(2024, 1, 10), "Footpatrol", "sold", ts("2024-07-09 00:00"),
             "250.00", "300.00",  # 200 / 240 GBP x 1.25
             181, "Dead", local_sale, ts("2024-07-09 00:00"), "357.00", "50.00"),
        # still held: aged to the refresh day, so Dead ever since late 2024; valued at net cost
        item("CW2288-111", "9", date(2024, 3, 1), "Solebox", "in_stock", ts("2024-03-04 00:00"), "80.00", "95.20",
             (as_of_day - date(2024, 3, 1)).days, "Dead"),
        item("CW2288-111", "10", date(2024, 5, 6), "Footpatrol", "in_stock",
             ts("2024-05-06 00:00"),  # no delivery date: in stock from the purchase
             "76.80", "92.16",  # 60 / 72 GBP x 1.28
             (as_of_day - date(2024, 5, 6)).days, "Dead"),
        # left the stock when the sheet said so (its load time): worth 0, aged to that day
        item("CW2288-111", "8", date(2024, 3, 15), "Solebox", "written_off", loaded_at, "70.00", "83.30",
             (loaded_at.astimezone(UTC).date() - date(2024, 3, 15)).days, "Dead"),
        item("CW2288-111", "11", date(2024, 2, 10), "Footpatrol", "returned", loaded_at,
             "62.50", "75.00",  # 50 / 60 GBP x 1.25 (Saturday: Friday's rate)
             (loaded_at.astimezone(UTC).date() - date(2024, 2, 10)).days, "Dead"),
    ])
    assert_rows(actual, expected)
    assert (as_of_day - date(2024, 5, 6)).days > 180
    # Current stock value: C and F, 80.00 + 76.80.
    assert sum(r["current_stock_value_home"] for r in actual.values()) == D("156.80")


DELIVERED = {("DD1391-100", "10"): date(2024, 1, 5), ("DZ5485-612", "9"): date(2024, 2, 6),
             ("CW2288-111", "9"): date(2024, 3, 4), ("DZ5485-612", "10.5"): date(2024, 1, 15),
             ("CW2288-111", "11"): date(2024, 2, 14), ("DZ5485-612", "10"): date(2024, 3, 8)}


def test_supplier_performance(built):
    expected = {
        ("solebox",): {  # A1, A2 (sold), B (sold), C (in stock), H (written off)
            "supplier_key": "solebox", "supplier": "Solebox", "home_currency": "EUR", "units_purchased": 5,
            "total_spent_net_home": D("500.00"),  # 100 + 100 + 150 + 80 + 70
            "total_spent_gross_home": D("595.00"),  # 119 + 119 + 178.50 + 95.20 + 83.30
            "avg_purchase_price_home": D("100.00"),  # 500 / 5
            "unique_products": 3, "unique_brands": 2, "brand_list": "Jordan, Nike",
            "units_sold": 3, "sell_through_pct": D("60.00"),  # 3 / 5
            "revenue_home": D("692.50"),  # 180 + 200 + 312.50
            "units_with_profit": 3, "net_buy_home": D("350.00"),  # 100 + 100 + 150
            "profit_home": D("261.40"),  # 58.40 + 78.00 + 125.00
            "roi_pct": D("74.69"),  # 261.40 / 350 = 0.746857...
            "avg_days_to_sell": D("70.33"),  # (30 + 90 + 91) / 3 = 70.333...
            "unsold_units": 1, "unsold_value_home": D("80.00"), "returned_units": 0, "written_off_units": 1,
            "first_purchase_date": date(2024, 1, 2), "last_purchase_date": date(2024, 3, 15),
        },
        ("footpatrol",): {  # D (sold), E (sold), F (in stock), G (returned); bought in GBP
            "supplier_key": "footpatrol", "supplier": "Footpatrol", "home_currency": "EUR", "units_purchased": 4,
            "total_spent_net_home": D("594.10"),  # 250.00 + 62.50 + 204.80 + 76.80
            "total_spent_gross_home": D("712.92"),  # 300.00 + 75.00 + 245.76 + 92.16
            "avg_purchase_price_home": D("148.53"),  # 594.10 / 4 = 148.525, half away from zero
            "unique_products": 2, "unique_brands": 2, "brand_list": "Jordan, Nike",
            "units_sold": 2, "sell_through_pct": D("50.00"),  # 2 / 4
            "revenue_home": D("657.00"),  # 357 + 300
            "units_with_profit": 2, "net_buy_home": D("454.80"),  # 250 + 204.80
            "profit_home": D("109.20"),  # 50.00 + 59.20
            "roi_pct": D("24.01"),  # 109.20 / 454.80 = 0.240105...
            "avg_days_to_sell": D("106.00"),  # (181 + 31) / 2
            "unsold_units": 1, "unsold_value_home": D("76.80"), "returned_units": 1, "written_off_units": 0,
            "first_purchase_date": date(2024, 1, 10), "last_purchase_date": date(2024, 5, 6),
        },
    }
    assert_rows(built.rows("mv_supplier_performance", ("supplier_key",)), expected)


# The configured unique index (plain, non-null columns) and dashboard indexes, and the cadence.
INDEXES = {
    "mv_executive_metrics": ({"sale_date, platform"}, {"sale_month", "platform"}, "hourly"),
    "mv_product_performance": ({"product_key"}, {"brand_key", "revenue_home", "units_sold"}, "daily"),
    "mv_brand_analytics": ({"brand_key"}, {"revenue_home", "market_share_pct", "parent_brand_key"}, "daily"),
    "mv_platform_performance": ({"platform"}, {"revenue_home", "orders"}, "hourly"),
    "mv_inventory_status": ({"inventory_item_id"}, {"product_key", "brand_key", "supplier_key", "current_status",
                                                    "age_bucket", "age_days"}, "hourly"),
    "mv_customer_geography": ({"country, city"}, {"city", "revenue_home"}, "daily"),
    "mv_supplier_performance": ({"supplier_key"}, {"revenue_home", "roi_pct"}, "weekly"),
}


def test_every_view_has_a_unique_index_dashboard_indexes_and_a_refresh_cadence(built):
    with psycopg.connect(built.url) as conn:
        for view, (unique, others, cadence) in INDEXES.items():
            rows = conn.execute(
                "select x.indisunique, (select string_agg(a.attname, ', ' order by k.ord)"
                "  from unnest(x.indkey::int2[]) with ordinality as k(attnum, ord)"
                "  join pg_attribute as a on a.attrelid = x.indrelid and a.attnum = k.attnum)"
                " from pg_index as x where x.indrelid = %s::regclass", (f"analytics.{view}",)).fetchall()
            assert {cols for u, cols in rows if u} == unique, view
            assert {cols for u, cols in rows if not u} == others, view
            # the unique index's columns are never null (REFRESH ... CONCURRENTLY needs that)
            for column in next(iter(unique)).split(", "):
                assert conn.execute(sql.SQL("select count(*) from {} where {} is null").format(
                    sql.Identifier("analytics", view), sql.Identifier(column))).fetchone()[0] == 0
            assert conn.execute("select relkind from pg_class where oid = %s::regclass",
                                (f"analytics.{view}",)).fetchone()[0] == "m"
            node = built.manifest["nodes"][f"model.soleflipper.{view}"]
            assert node["config"]["materialized"] == "kpi_view"
            assert node["config"]["meta"]["refresh_cadence"] == cadence
            assert all(c["description"] for c in node["columns"].values())
            actual_columns = [c for (c,) in conn.execute(
                "select attname from pg_attribute where attrelid = %s::regclass and attnum > 0 order by attnum",
                (f"analytics.{view}",))]
            assert actual_columns == list(node["columns"]), view  # every column documented, in order
