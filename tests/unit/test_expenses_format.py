"""The expenses_sheet format and the demo's expenses generator, without a database.

Expected values are written out from the fixture text (tests/fixtures/expenses_sheet) and from
the generator's documented schedule, never read back from the parser's own helpers.
"""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from soleflipper.csv_parsing import ParsedRow, RowError, parse_csv
from soleflipper.demo_expenses import (
    EXPENSES_SHEET_HEADER,
    EXPENSES_SHEET_NAME,
    expenses_sheet_bytes,
    generate_expenses,
    write_demo_expenses_sheet,
)
from soleflipper.formats import FormatError, load_format, parse_format

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "expenses_sheet" / "expenses_sample.csv"


def _parsed(path: Path) -> tuple[dict[int, dict[str, str | None]], list[tuple[int, str | None, str]]]:
    fmt = load_format("expenses_sheet")
    rows, errors = {}, []
    for item in parse_csv(fmt, path)[1]:
        if isinstance(item, ParsedRow):
            rows[item.line] = dict(zip(fmt.column_names, item.values, strict=True))
        else:
            assert isinstance(item, RowError)
            errors.append((item.line, item.field, item.reason))
    return rows, errors


def test_format_shape():
    fmt = load_format("expenses_sheet")
    assert fmt.table == "sheets_expenses"
    assert fmt.identical_rows == "keep"  # two identical lines are two charges
    assert [(c.name, c.type, c.optional, c.not_null) for c in fmt.columns] == [
        ("expense_date", "date", False, True),
        ("category", "text", False, True),
        ("description", "text", True, False),
        ("amount", "numeric", False, True),
        ("currency", "currency", True, False),
        ("vat_rate", "numeric", True, False),
        ("payee", "text", True, False),
        ("invoice_number", "text", True, False),
        ("notes", "text", True, False),
    ]
    columns = {c.name: c for c in fmt.columns}
    assert columns["currency"].default == "EUR"
    assert columns["vat_rate"].default is None  # blank = no deductible VAT, never the default rate
    # the demo writes exactly the format's headers, in order
    assert list(EXPENSES_SHEET_HEADER) == [c.header for c in fmt.columns]


def test_fixture_rows_value_by_value():
    rows, _ = _parsed(FIXTURE)
    assert sorted(rows) == [2, 3, 4, 5, 6, 7, 8, 9]
    assert rows[2] == {  # a comma inside the quoted description
        "expense_date": "2024-07-01", "category": "Shipping supplies",
        "description": "Double-wall boxes 40x30x15, 50 pcs", "amount": "59.50", "currency": "EUR",
        "vat_rate": "19", "payee": "Kartonfabrik", "invoice_number": "KF-2024-118", "notes": None}
    assert rows[3] == {  # day-first date, "€29.00", blank currency -> EUR, "19%"
        "expense_date": "2024-07-03", "category": "Software", "description": 'Listing tool "Pro" plan',
        "amount": "29.00", "currency": "EUR", "vat_rate": "19", "payee": "Listify GmbH",
        "invoice_number": "LI-7781", "notes": "monthly"}
    assert (rows[4]["expense_date"], rows[4]["vat_rate"]) == ("2024-07-15", None)  # 15.07.2024, blank VAT
    assert (rows[5]["amount"], rows[5]["currency"], rows[5]["vat_rate"]) == ("12.99", "USD", None)  # "$12.99"
    assert rows[6]["amount"] == "1190.00"  # "1,190.00"
    assert rows[7] == rows[8]  # two identical lines: both kept (identical_rows: keep)
    assert (rows[9]["amount"], rows[9]["notes"]) == ("-5.95", "credit note")  # a refund


def test_fixture_bad_rows_name_line_field_and_reason():
    _, errors = _parsed(FIXTURE)
    assert errors == [
        (10, "Amount", "'12.5O' is not a number"),
        (11, "Date", "'2024-08-32' is not a date in %Y-%m-%d, %d/%m/%Y, %d/%m/%y, %d.%m.%Y, %d.%m.%y"),
        (12, "Category", "required value is missing"),
    ]


def test_german_decimal_comma_is_rejected_not_misread(tmp_path):
    path = tmp_path / "expenses.csv"
    path.write_text("Date,Category,Amount\n2024-07-01,Fees,\"12,50\"\n2024-07-02,Fees,\"1,250\"\n", encoding="utf-8")
    rows, errors = _parsed(path)
    assert [(line, field) for line, field, _ in errors] == [(2, "Amount")]
    assert "12,50" in errors[0][2]
    assert rows[3]["amount"] == "1250"  # a valid thousands grouping


def test_vat_rate_out_of_range_is_quarantined_by_line_and_field(tmp_path):
    path = tmp_path / "expenses.csv"
    path.write_text("Date,Category,Amount,VAT Rate\n"
                    "2024-07-01,Fees,10.00,100\n"  # the bound itself
                    "2024-07-02,Fees,10.00,190\n"  # a typo for 19: never a rate of 190 %
                    "2024-07-03,Fees,10.00,-7%\n"
                    "2024-07-04,Fees,10.00,0.19\n", encoding="utf-8")
    rows, errors = _parsed(path)
    assert sorted(rows) == [2, 5]
    assert (rows[2]["vat_rate"], rows[5]["vat_rate"]) == ("100", "0.19")
    assert errors == [(3, "VAT Rate", "'190' is above the maximum 100"),
                      (4, "VAT Rate", "'-7' is below the minimum 0 (cell '-7%')")]


def test_numeric_bounds_in_a_format_are_checked():
    base = {"name": "x", "source": "s", "entity": "e"}
    column = {"name": "rate", "header": "Rate", "type": "numeric", "min": 5, "max": 1}
    with pytest.raises(FormatError, match=r"max: 1 is below min 5"):
        parse_format({**base, "columns": [column]}, "x.yaml")
    with pytest.raises(FormatError, match=r"max: 'high' is not a number"):
        parse_format({**base, "columns": [{**column, "max": "high"}]}, "x.yaml")


# --- the demo generator ---------------------------------------------------------------------------

def test_demo_expenses_are_deterministic(tmp_path):
    first = write_demo_expenses_sheet(tmp_path / "a", n_sales=2000, seed=7)
    second = write_demo_expenses_sheet(tmp_path / "b", n_sales=2000, seed=7)
    assert first.name == EXPENSES_SHEET_NAME == "Demo Sneakers GmbH - Expenses.csv"
    assert first.read_bytes() == second.read_bytes()
    assert expenses_sheet_bytes(generate_expenses(2000, seed=8)) != first.read_bytes()
    # written again with the same content: the file is left alone (the import sensor sees no change)
    mtime = first.stat().st_mtime_ns
    write_demo_expenses_sheet(tmp_path / "a", n_sales=2000, seed=7)
    assert first.stat().st_mtime_ns == mtime


def test_demo_expenses_parse_without_errors_and_follow_the_schedule(tmp_path):
    path = write_demo_expenses_sheet(tmp_path, n_sales=2000, seed=7)
    rows, errors = _parsed(path)
    assert errors == []
    with open(path, newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    assert len(rows) == len(records)
    assert path.read_bytes().count(b"\r\n") == len(records) + 1  # CRLF, as Google Sheets downloads
    dates = [date.fromisoformat(r["expense_date"]) for r in rows.values()]
    assert dates == sorted(dates) and min(dates) >= date(2023, 1, 2) and max(dates) <= date(2024, 12, 29)
    recurring = Counter((r["category"], r["payee"], r["amount"], r["currency"], r["vat_rate"])
                        for r in rows.values() if r["category"] in ("Storage", "Software")
                        or r["payee"] == "Sparkasse Demo")
    # 24 months from 2023-01 to 2024-12; storage rent is due on the 1st (2023-01-01 is before the
    # range), the bank fee on the last day of the month (2024-12-31 is after it)
    assert recurring == {
        ("Storage", "LagerPlus Self Storage Demo", "119.00", "EUR", "19"): 23,
        ("Software", "Listify Demo GmbH", "29.00", "EUR", "19"): 24,
        ("Software", "Stocky Demo Inc.", "12.99", "USD", None): 24,  # reverse charge: no VAT
        ("Fees", "Sparkasse Demo", "9.90", "EUR", None): 23,
    }
    assert {r["currency"] for r in rows.values()} == {"EUR", "USD", "GBP"}
    assert {r["category"] for r in rows.values()} == {"Storage", "Software", "Shipping supplies", "Fees"}
    supplies = [Decimal(r["amount"]) for r in rows.values() if r["category"] == "Shipping supplies"]
    assert len([a for a in supplies if a > 0]) >= 24  # at least one order a month
    assert all(a.as_tuple().exponent == -2 for a in supplies)  # to the cent
    # more sales, more shipping supplies
    assert len(generate_expenses(20000, seed=7)) > len(generate_expenses(200, seed=7))


def test_demo_generator_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n_sales"):
        generate_expenses(-1)
    with pytest.raises(ValueError, match="end"):
        generate_expenses(10, start=date(2024, 1, 2), end=date(2024, 1, 1))
