"""Product matching on real PostgreSQL: style codes and sizes from every source become one
product and variant catalog (products.dim_products, products.dim_variants); what cannot be
matched is listed in products.unmatched_items, never dropped; and the SQL macros compute
exactly what soleflipper.products computes in Python."""

from __future__ import annotations

import csv
import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import dagster as dg
import pytest
from dbt_runner import run_dbt

from assets.checks_products import evaluate_match_rate, product_match_rate
from resources.warehouse import WarehouseResource, ensure_raw_table, load_file, load_rows
from soleflipper.formats import available_formats, load_format
from soleflipper.products import SizeError, normalize_style_code, parse_size, style_key
from soleflipper.record_parsing import parse_records

P_PANDA = "5e6a1e57-1c7d-435a-82bd-5666a13560fe"
P_PANDA_RELISTED = "9b0c3f2e-0000-4000-8000-000000000002"  # the same style, written 'dd1391100'
P_GS = "0a1d6a0b-8b51-4c43-9f4e-2d8a2d7a4b11"
V_PANDA_10 = "c2b6d5b8-1f0e-4a5e-9d5a-2b9d3c1e7f10"
V_PANDA_105 = "c2b6d5b8-1f0e-4a5e-9d5a-2b9d3c1e7f11"
V_RELISTED_10 = "d0000000-0000-4000-8000-000000000010"
V_GS_55 = "7f0c2a94-0b1e-4d61-a0fe-1c6b2d7d9e33"
V_ORDER_ONLY = "e0000000-0000-4000-8000-000000000009"

PRODUCTS = [
    {"productId": P_PANDA, "urlKey": "nike-dunk-low-retro-white-black-2021", "styleId": "DD1391 100",
     "productType": "sneakers", "title": "Nike Dunk Low Retro White Black Panda", "brand": "Nike",
     "productAttributes": {"gender": "men", "season": None, "releaseDate": "2021-03-10", "retailPrice": 110,
                           "colorway": "White/Black-White", "color": "white"},
     "sizeChart": {"availableConversions": [{"name": "US M", "type": "us m"}],
                   "defaultConversion": {"name": "US M", "type": "us m"}}},
    {"productId": P_PANDA_RELISTED, "urlKey": "nike-dunk-low-panda-relisted", "styleId": "dd1391100",
     "productType": "sneakers", "title": None, "brand": "Nike", "productAttributes": {}},
    {"productId": P_GS, "urlKey": "nike-dunk-low-retro-white-black-2021-gs", "styleId": "cw1590 100",
     "productType": "sneakers", "title": "Nike Dunk Low Retro White Black (GS)", "brand": "Nike",
     "productAttributes": {"gender": "child", "season": None, "releaseDate": "2021-03-10", "retailPrice": 90,
                           "colorway": "White/Black-White", "color": None}},
]


def _variant(product_id: str, variant_id: str, value: str, default: str | None, gtin: str | None = None) -> dict:
    return {"productId": product_id, "variantId": variant_id, "variantName": f"X:{value}", "variantValue": value,
            "sizeChart": {"availableConversions": [],
                          "defaultConversion": {"size": default, "type": "us"} if default else None},
            "gtins": [{"gtin": gtin, "type": "UPC"}] if gtin else [], "isFlexEligible": True}


VARIANTS = [
    _variant(P_PANDA, V_PANDA_10, "10", "US M 10", "194956623259"),
    _variant(P_PANDA, V_PANDA_105, "10.5", "US M 10.5", "194956623266"),
    _variant(P_PANDA_RELISTED, V_RELISTED_10, "10", None),  # same size of the same style
    _variant(P_GS, V_GS_55, "5.5", "US Y 5.5"),  # the bare value alone would read as US M 5.5
]


def _order(number: str, status: str, updated: str, style: str | None, product_id: str, variant_id: str,
           value: str) -> dict:
    return {"orderNumber": number, "listingId": None, "askId": "1440", "amount": "120", "currencyCode": "EUR",
            "status": status, "createdAt": "2025-06-02T09:14:03.000Z", "updatedAt": updated,
            "product": {"productId": product_id, "productName": None, "styleId": style},
            "variant": {"variantId": variant_id, "variantName": f"X:{value}", "variantValue": value},
            "authenticationDetails": None, "inventoryType": "STANDARD", "payout": None, "initiatedShipments": None}


ORDERS = [
    # No style id in the order: the product's (via product id) and the variant's size system apply.
    _order("74512233-74412001", "AUTHENTICATING", "2025-06-03T10:00:00.000Z", None, P_GS, V_GS_55, "5.5"),
    # A variant the catalog does not have: its id comes from the order.
    _order("74512299-74412077", "COMPLETED", "2025-06-04T10:00:00.000Z", "DD1391-100", P_PANDA, V_ORDER_ONLY, "9"),
]
ORDER_UPDATE = _order("74512233-74412001", "COMPLETED", "2025-06-09T16:40:11.000Z", None, P_GS, V_GS_55, "5.5")

API_VARIANT_KEYS = {"DD1391100:US M 10", "DD1391100:US M 10.5", "CW1590100:US Y 5.5", "DD1391100:US M 9"}


def create_raw_tables(conn) -> None:
    """What `soleflipper setup` does: an (empty) raw table for every format."""
    for name in available_formats():
        ensure_raw_table(conn, load_format(name))


def load_api(conn, name: str, records: list[dict], source: str) -> None:
    fmt = load_format(name)
    result = load_rows(conn, fmt, parse_records(fmt, records), source=source)
    assert (result.rows_loaded, result.rows_quarantined) == (len(records), 0)


def demo_sales(paths: list[Path]) -> dict[str, dict[str, str]]:
    """Order number -> the newest row of the demo files (later files carry newer versions)."""
    sales: dict[str, dict[str, str]] = {}
    for path in paths:
        with open(path, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                previous = sales.get(row["Order Number"])
                assert previous is None or (previous["Style"], previous["Sku Size"]) == (row["Style"], row["Sku Size"])
                sales[row["Order Number"]] = row
    return sales


def python_variant_key(style: str, size: str) -> str | None:
    """The dim_variants key soleflipper.products gives a sale, None when it has no variant."""
    code = normalize_style_code(style)
    try:
        parsed = parse_size(size)
    except SizeError:
        return None
    if code is None or parsed is None:
        return None
    return f"{style_key(code)}:{parsed.system} {parsed.value}"


def test_products_and_variants_from_every_source(conn, database_url, demo_reports, tmp_path):
    create_raw_tables(conn)
    for path in demo_reports:
        load_file(conn, load_format("stockx_sales_report"), path)
    load_api(conn, "stockx_products", PRODUCTS, "GET /catalog/products/{productId}")
    load_api(conn, "stockx_variants", VARIANTS, "GET /catalog/products/{productId}/variants")
    load_api(conn, "stockx_orders", ORDERS, "GET /selling/orders/active")
    load_api(conn, "stockx_orders", [ORDER_UPDATE], "GET /selling/orders/history")

    # Everything the products schema is built from (seed, staging, intermediate) and its tests.
    proc = run_dbt(database_url, tmp_path / "build", "build", "--select", "+path:models/marts/products",
                "--indirect-selection", "cautious")
    assert proc.returncode == 0, proc.stdout[-4000:]
    results = json.loads((tmp_path / "build" / "run_results.json").read_text())["results"]
    statuses = {r["unique_id"]: r["status"] for r in results}
    assert statuses["model.soleflipper.dim_variants"] == "success"
    tests = {k: v for k, v in statuses.items() if k.startswith("test.")}
    assert len(tests) >= 60 and set(tests.values()) == {"pass"}
    assert "test.soleflipper.assert_every_product_mention_is_matched_or_reported" in tests

    # The newest version of an API order wins.
    assert conn.execute("select order_status from staging.stg_stockx__orders where order_number = %s",
                        ("74512233-74412001",)).fetchall() == [("COMPLETED",)]

    # 'DD1391-100' (seller report), 'DD1391 100' and 'dd1391100' (two StockX products): one product,
    # with the titled StockX catalog product's attributes.
    assert {style_key(c) for c in ("DD1391-100", "DD1391 100", "dd1391100")} == {"DD1391100"}
    panda = conn.execute(
        "select product_key, style_code, brand, title, colorway, retail_price, retail_currency, release_date::text,"
        " stockx_product_id, attributes_source from products.dim_products where style_code ilike 'dd1391%%100'"
    ).fetchall()
    assert panda == [("DD1391100", "DD1391-100", "Nike", "Nike Dunk Low Retro White Black Panda", "White/Black-White",
                      Decimal("110.00"), "USD", "2021-03-10", P_PANDA, "stockx_products")]

    sales = demo_sales(demo_reports)
    assert len(sales) == 300
    # Products: every style of the demo sales, plus none from the API (it only adds spellings).
    expected_products = {style_key(normalize_style_code(s["Style"])) for s in sales.values()} - {None}
    products = dict(conn.execute("select product_key, attributes_source from products.dim_products").fetchall())
    assert set(products) == expected_products
    # Products StockX's catalog does not have are named after the seller report's Item.
    zebra = conn.execute("select title, brand, attributes_source from products.dim_products"
                         " where product_key = 'CP9654'").fetchone()
    assert zebra == ("adidas Yeezy Boost 350 V2 Zebra", None, "stockx_sales_report")

    # Every demo sale whose style and size can be read maps to a variant, and the variants are
    # exactly those plus the API's.
    expected_keys = {python_variant_key(s["Style"], s["Sku Size"]) for s in sales.values()} - {None}
    variants = {row[0]: row[1:] for row in conn.execute(
        "select variant_key, size_system, size_value, us_m_size, eu_size, uk_size, cm, gtin, stockx_variant_id"
        " from products.dim_variants").fetchall()}
    assert set(variants) == expected_keys | API_VARIANT_KEYS
    sale_keys = dict(conn.execute(
        "select source_id, variant_key from staging.int_product_mentions_matched where source = 'stockx_sales_report'"
    ).fetchall())
    for number, sale in sales.items():
        assert sale_keys[number] == python_variant_key(sale["Style"], sale["Sku Size"]), number
    assert variants["DD1391100:US M 10"] == ("US M", "10", Decimal("10.0"), Decimal("44.0"), Decimal("9.0"),
                                             Decimal("28.0"), "194956623259", V_PANDA_10)
    assert variants["CW1590100:US Y 5.5"][-1] == V_GS_55  # order without style id, via product and variant
    assert variants["DD1391100:US M 9"][-2:] == (None, V_ORDER_ONLY)
    assert all(v[2] is not None for k, v in variants.items() if v[0] in ("US M", "US W", "US Y"))

    # Unmatched: exactly the demo's non-sneaker items (Style N/A), reason 'no style code'.
    no_style = {number for number, sale in sales.items() if sale["Style"] == "N/A"}
    assert len(no_style) > 0
    unmatched = conn.execute("select source, source_id, reason from products.unmatched_items").fetchall()
    assert sorted(unmatched) == sorted(("stockx_sales_report", n, "no style code") for n in no_style)

    mentions = len(sales) + len(ORDERS) + len(PRODUCTS) + len(VARIANTS)
    rate = (Decimal(mentions - len(no_style)) / mentions).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
    summary = conn.execute("select mentions, matched, unmatched, match_rate, unmatched_no_style_code"
                           " from products.product_match_summary").fetchall()
    assert summary == [(mentions, mentions - len(no_style), len(no_style), rate, len(no_style))]

    # The asset check judges the mentions that carry a style code: every one of them matched,
    # while the plush and books (no style code) are reported, not held against the catalogue.
    assert rate < Decimal("0.98")
    severity, check_rate, metadata = evaluate_match_rate(conn)
    assert (severity, check_rate) == (None, Decimal("1.000000"))
    assert (metadata["mentions"], metadata["unmatched"], metadata["unmatched_no_style_code"],
            metadata["match_rate_all_mentions"], metadata["style_coded_mentions"]) == (
        mentions, len(no_style), len(no_style), float(rate), mentions - len(no_style))
    result = product_match_rate(warehouse=WarehouseResource(database_url=database_url))
    assert result.passed


@pytest.mark.parametrize(("mentions", "matched", "no_style", "severity"), [
    (1000, 1000, 0, None),
    (1000, 980, 0, None),
    (1000, 979, 0, dg.AssetCheckSeverity.WARN),
    (1000, 900, 0, dg.AssetCheckSeverity.WARN),
    (1000, 899, 0, dg.AssetCheckSeverity.ERROR),
    (1100, 899, 100, dg.AssetCheckSeverity.ERROR),  # 899 of 1000 style-coded mentions
    (1100, 990, 100, None),  # 99 % of style-coded mentions, although 90 % of all mentions
    (0, 0, 0, None),
])
def test_match_rate_check_warns_below_98_and_fails_below_90_percent(conn, mentions, matched, no_style, severity):
    conn.execute("create schema products")
    conn.execute("create table products.product_match_summary as select %s::bigint as mentions,"
                 " %s::bigint as matched, %s::bigint as unmatched,"
                 " round(%s::numeric / nullif(%s, 0), 6)::numeric(7, 6) as match_rate,"
                 " %s::bigint as unmatched_no_style_code, 0::bigint as unmatched_unreadable_size,"
                 " 0::bigint as unmatched_unknown_style_code",
                 (mentions, matched, mentions - matched, matched, mentions, no_style))
    got, rate, metadata = evaluate_match_rate(conn)
    assert got == severity
    coded = mentions - no_style
    assert rate == (None if coded == 0 else (Decimal(matched) / coded).quantize(Decimal("0.000001")))
    assert metadata["unmatched"] == mentions - matched


# --------------------------------------------------------------------------- SQL == Python

STYLE_CODES = [
    "DD1391-100", "DD1391 100", "dd1391100", "  dd1391_100 ", "dd.1391.100", "DD1391·100", "DD1391--100",
    " _dd1391 100_ ", "DD1391\u00a0100", "\u2003dd1391100", "555088-711", "555088711", "555088 711",
    "1191A266-102", "1191a266 102", "1201A019-108", "GZ1458", "171545C", "CP9654K", "EK0A5BBG-S06",
    "OMNJ012R21LEA0011001", "111111- 111", "5955-CHE", "CRTZ-ALC-TB", "BB550WT1", "M2002RDA",
    "DH0832-660/DH0833-660", "1I20-191-006/1I20-291-006", "L41086600", "FW23SW54", "N/A", "n/a", "NA",
    "none", "NULL", "-", "--", "", "   ", "DD13910100", "DD1391-1000", "AB123-456",
]
SIZE_LABELS = [
    "10", "10.5", "9.0", "10 1/2", "101/2", "11/2", "10.5W", "8W", "W 8", "US W 8", "5.5Y", "4Y", "6.5 GS",
    "GS 4", "3J", "J 3", "10C", "1C", "9TD", "TD 5", "PS 11", "4.5K", "C 10", "M 10", "10 M", "US 10",
    "US M 10", "US10W", "43", "39", "42 2/3", "EU 44.5", "EU42", "EU 42 1/3", "42 1/2", "44.0", "UK 9",
    "UK10.5", "UK 10 1/2", "M", "XXL", "2XL", "S/M", "L/XL", "34W/32L", "34 W / 32 L", "36/38",
    "12W / 10.5M", "10W / 8.5M / 42", "S / Men's 9-10", "M / L", "10 / 11", "10 /", "/ 10", "OS",
    "one size", "OSFA", "N/A", "", "  ", "106", "size ten", "10.75", "XXXXL/7", "US 20", "20", "18",
    "18.5", "16", "52", "53", "0", "00", "10\u00a0W", "\t10.5\t", "5 Y",
]


def sql_normalise(conn, database_url: str, target: Path, inputs: list[str]) -> dict[str, tuple]:
    """Run the dbt macros on `inputs` in PostgreSQL: value -> (code, key, system, value, unreadable)."""
    inline = ("select v, {{ normalize_style_code('v') }}, {{ style_key('v') }}, {{ size_system('v') }},"
              " {{ size_value('v') }}, {{ size_is_unreadable('v') }} from _examples")
    proc = run_dbt(database_url, target, "compile", "--quiet", "--output", "json", "--inline", inline)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    compiled = json.loads(proc.stdout)["compiled"]
    conn.execute("create temp table _examples (v text)")
    with conn.cursor().copy("copy _examples (v) from stdin") as copy:
        for value in dict.fromkeys(inputs):
            copy.write_row((value,))
    return {row[0]: tuple(row[1:]) for row in conn.execute(compiled).fetchall()}


def python_normalise(value: str) -> tuple:
    try:
        size = parse_size(value)
        sized = (size.system, size.value, False) if size else (None, None, False)
    except SizeError:
        sized = (None, None, True)
    return (normalize_style_code(value), style_key(value), *sized)


def assert_sql_equals_python(conn, database_url, target, inputs) -> None:
    got = sql_normalise(conn, database_url, target, inputs)
    assert set(got) == set(inputs)
    differences = {v: (sql, python_normalise(v)) for v, sql in got.items() if sql != python_normalise(v)}
    assert differences == {}


def test_sql_macros_agree_with_python_on_tricky_and_demo_inputs(conn, database_url, demo_reports, tmp_path):
    assert len(STYLE_CODES) >= 30 and len(SIZE_LABELS) >= 40
    sales = demo_sales(demo_reports).values()
    inputs = STYLE_CODES + SIZE_LABELS + [s["Style"] for s in sales] + [s["Sku Size"] for s in sales]
    # Both macros run on every input: style rules on sizes and size rules on codes are edge cases too.
    assert_sql_equals_python(conn, database_url, tmp_path / "compile", inputs)


@pytest.mark.shared_data
def test_sql_macros_agree_with_python_on_the_real_seller_report(conn, database_url, real_data, tmp_path):
    path = real_data / "stockx_seller_sales_report_2022.csv"
    if not path.exists():
        pytest.skip(f"{path.name} is not in {real_data}")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    styles = sorted({r["Style"] for r in rows})
    sizes = sorted({r["Sku Size"] for r in rows})
    assert len(styles) >= 30 and len(sizes) >= 40
    market = real_data / "stockx_jordan_size_market_2022-10.csv"  # StockX's per-size labels (10.5c, 1.5Y)
    if market.exists():
        with open(market, newline="", encoding="utf-8") as f:
            sizes += sorted({r["size"] for r in csv.DictReader(f)})
    assert_sql_equals_python(conn, database_url, tmp_path / "compile", styles + sizes)
