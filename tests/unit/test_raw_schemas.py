"""Pandera schemas of the raw tables (soleflipper/raw_schemas.py): generated from the formats,
plus the domain rules; validated here on hand-made frames with exact failures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest

from soleflipper.formats import available_formats, load_format
from soleflipper.raw_schemas import (
    DOMAIN_RULES,
    ISO_4217,
    KNOWN_PLATFORMS,
    SAMPLE_ROWS,
    ValidationReport,
    platform_text,
    rules_for,
    table_schema,
    validate_chunk,
    vocabulary_schema,
)

UTC = dt.UTC


@pytest.mark.parametrize("name", available_formats())
def test_every_format_has_a_schema_with_every_column(name):
    fmt = load_format(name)
    schema = table_schema(fmt)
    assert list(schema.columns) == fmt.column_names
    for col in fmt.columns:
        assert schema.columns[col.name].nullable == (not col.not_null and col.name not in rules_for(fmt.table).not_null)


def test_every_rule_names_a_real_column():
    tables = {load_format(n).table: set(load_format(n).column_names) for n in available_formats()}
    for table, rules in DOMAIN_RULES.items():
        if table.startswith("notion_"):
            continue  # Notion columns come from the mapping (absent ones are ignored)
        named = {*rules.non_negative, *rules.positive, *rules.not_null, *rules.percent, *rules.vocabulary,
                 *rules.platform_columns}
        assert named <= tables[table], (table, named - tables[table])
    assert set(DOMAIN_RULES) - {"notion_purchases", "notion_sales"} == set(tables)


def test_iso_4217_codes():
    assert len(ISO_4217) == 181
    assert {"EUR", "USD", "GBP", "CHF", "JPY", "HKD", "CNY"} <= ISO_4217
    assert not {"ZZZ", "XXX", "XTS", "EUX", "eur"} & ISO_4217
    assert all(len(code) == 3 and code.isalpha() and code.isupper() for code in ISO_4217)


def sales(**overrides) -> pd.DataFrame:
    rows = [
        {"sale_date": dt.date(2024, 8, 13), "platform": "Klekt", "order_number": "K-1", "style_code": "DD1391-100",
         "product_name": "Dunk", "size": "10", "sale_price": Decimal("150.00"), "fees": Decimal("15"),
         "payout": Decimal("135"), "currency": "EUR", "notes": None, "_source": "/x/s.csv", "_source_line": 2},
        {"sale_date": dt.date(2024, 8, 14), "platform": "eBay.de", "order_number": None, "style_code": None,
         "product_name": None, "size": None, "sale_price": Decimal("80"), "fees": None, "payout": Decimal("-2"),
         "currency": "USD", "notes": "x", "_source": "/x/s.csv", "_source_line": 3},
    ]
    for line, changes in overrides.items():
        rows[int(line[1:])].update(changes)
    return pd.DataFrame.from_records(rows)


def test_valid_sales_rows_pass():
    report = ValidationReport()
    validate_chunk(table_schema(load_format("sales_sheet")), sales(), report)
    assert (report.rows, report.num_failures, report.failed_rows, report.sample) == (2, 0, 0, [])


def test_invalid_sales_rows_fail_with_every_failure_and_their_line():
    frame = sales(r0={"currency": "ZZZ", "sale_price": Decimal("-1")}, r1={"platform": None, "fees": Decimal("-5")})
    report = ValidationReport()
    validate_chunk(table_schema(load_format("sales_sheet")), frame, report)
    assert report.num_failures == 4
    assert report.failed_rows == 2
    assert dict(report.by_check) == {
        "currency: ISO 4217 currency code": 1,
        "sale_price: >= 0": 1,
        "fees: >= 0": 1,
        "platform: not_nullable": 1,
    }
    assert sorted((r["column"], r["value"], r["source_line"]) for r in report.sample) == [
        ("currency", "ZZZ", 2), ("fees", -5.0, 3), ("platform", None, 3), ("sale_price", -1.0, 2)]


def test_counts_are_exact_beyond_the_sample():
    frame = pd.concat([sales(r0={"currency": "ZZZ"})] * 30, ignore_index=True)
    report = ValidationReport()
    validate_chunk(table_schema(load_format("sales_sheet")), frame, report)
    assert (report.num_failures, report.failed_rows, len(report.sample)) == (30, 30, SAMPLE_ROWS)


def test_a_value_of_the_wrong_type_is_a_failure():
    frame = sales(r0={"sale_price": "a lot"})
    report = ValidationReport()
    validate_chunk(table_schema(load_format("sales_sheet")), frame, report)
    # pandera reports the failed coercion, the dtype, and that the range check could not compare.
    assert dict(report.by_check) == {"sale_price: coerce_dtype('float64')": 1, "sale_price: dtype('float64')": 1,
                                     "sale_price: >= 0": 1}
    assert (report.num_failures, report.failed_rows) == (3, 1)
    assert report.sample[0] == {"column": "sale_price", "check": "coerce_dtype('float64')", "value": "a lot",
                                "source": "/x/s.csv", "source_line": 2}


def test_stockx_report_quantity_pattern_and_not_null_rules():
    fmt = load_format("stockx_sales_report")
    row = {c: None for c in fmt.column_names}
    row.update({"order_number": "12345678-87654321", "sale_date": dt.datetime(2024, 1, 1, tzinfo=UTC),
                "listing_price": Decimal("100"), "listing_price_currency": "EUR", "total_payout": Decimal("88"),
                "total_payout_currency": "EUR", "quantity": 1, "shipping_fee": Decimal("-0.07")})
    bad = {**row, "order_number": "not an order", "quantity": 0, "total_payout": Decimal("-1"),
           "listing_price_currency": None}
    report = ValidationReport()
    validate_chunk(table_schema(fmt), pd.DataFrame.from_records([row, bad]), report)
    assert dict(report.by_check) == {
        r"order_number: matches ^(\d+-\d+|\d{2}-[A-Z0-9]+)$": 1,
        "quantity: >= 1 (a quantity)": 1,
        "total_payout: >= 0": 1,
        "listing_price_currency: not_nullable": 1,
    }  # a negative shipping fee (a rounding credit in the real 2022 report) is allowed


def test_vocabularies_warn_about_unknown_statuses_and_platforms():
    orders = load_format("stockx_orders")
    frame = pd.DataFrame({c: [None, None, None] for c in orders.column_names})
    frame["status"] = ["COMPLETED", "RETURN_TO_SELLER", None]
    frame["inventory_type"] = ["STANDARD", "FLEX", "DIRECT"]
    report = ValidationReport()
    validate_chunk(vocabulary_schema(orders), frame, report)
    assert dict(report.by_check) == {"status: one of 18 known values": 1}

    report = ValidationReport()
    frame = sales(r1={"platform": "Vinted"})
    validate_chunk(vocabulary_schema(load_format("sales_sheet")), frame, report)
    assert [(r["column"], r["value"]) for r in report.sample] == [("platform", "Vinted")]
    assert vocabulary_schema(load_format("purchases_sheet")) is None


def test_platform_text_matches_staging():
    assert platform_text("eBay.de") == "ebayde"
    assert platform_text("In Person") == "inperson"
    assert {platform_text(p) for p in ("StockX", "Alias", "We The New", "Kleinanzeigen")} <= KNOWN_PLATFORMS


def test_ebay_refund_with_fees_given_back_passes_and_a_negative_fee_basis_fails():
    fmt = load_format("ebay_api_transactions")
    row = {c: None for c in fmt.column_names}
    row.update({"transaction_id": "t-1", "transaction_type": "REFUND",
                "transaction_date": dt.datetime(2026, 11, 2, tzinfo=UTC),
                "total_fee_basis_amount": Decimal("20.00"), "total_fee_amount": Decimal("-2.58")})
    bad = {**row, "transaction_id": "t-2", "total_fee_basis_amount": Decimal("-20.00")}
    report = ValidationReport()
    validate_chunk(table_schema(fmt), pd.DataFrame.from_records([row, bad]), report)
    assert dict(report.by_check) == {"total_fee_basis_amount: >= 0": 1}


def test_a_name_with_a_trailing_newline_is_no_identifier():
    from soleflipper.formats import IDENTIFIER

    assert IDENTIFIER.match("stockx_sales_report")
    assert not IDENTIFIER.match("stockx_sales_report\n")  # "$" would have let it through
