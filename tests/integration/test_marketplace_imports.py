"""Marketplace and spreadsheet files through the COPY loader on real PostgreSQL.

Counts and money totals are checked twice: against figures worked out by hand from the
fixture text, and against a computation straight from the file with csv + Decimal (not
with our parser), so a parser bug cannot hide by agreeing with itself.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from psycopg import sql

from resources.warehouse import load_file
from soleflipper.formats import load_format

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _usd(text: str) -> Decimal:  # "$1,250.00"
    return Decimal(text.replace("$", "").replace(",", ""))


def _plain(text: str) -> Decimal:  # "1,050.00", "$1,050.00", "205.19"
    return Decimal(text.strip().lstrip("$€£").replace(",", ""))


def _german(text: str) -> Decimal:  # "1.234,56", "95,00 €"
    return Decimal(text.replace("€", "").strip().replace(".", "").replace(",", "."))


@dataclass(frozen=True)
class Case:
    format: str
    file: str
    counts: tuple[int, int, int, int]  # read, loaded, duplicate, quarantined
    bad_lines: tuple[int, ...]  # where the quarantined records start
    bad_fields: tuple[str | None, ...]
    money: str  # raw column summed per currency
    currency: str  # raw column holding the currency
    totals: dict[str, Decimal]  # worked out by hand
    amount_header: str  # the same amount, read independently
    currency_of: Callable[[dict], str]
    to_decimal: Callable[[str], Decimal]
    delimiter: str = ","
    skip_lines_before_header: int = 0
    dedupe_identical: bool = True  # identical_rows: duplicate


CASES = [
    Case("ebay_sold_listings", "sold_listings_sample.csv", (8, 4, 1, 3), (6, 7, 9),
         ("sold_price", "link", "sold_date"), "sold_price", "sold_price_currency",
         {"USD": Decimal("1695.49")}, "sold_price", lambda r: "USD", _usd),
    Case("ebay_orders", "orders_report_sample.csv", (7, 5, 0, 2), (9, 10), ("Sale Date", "Sold For"),
         "total_price", "currency", {"USD": Decimal("1919.39")}, "Total Price", lambda r: "USD", _usd,
         skip_lines_before_header=1),
    Case("alias_consignment", "alias_sales_sample.csv", (6, 4, 0, 2), (6, 7),
         ("PRODUCT_PRICE_CENTS_SALE_PRICE", "CREDIT_DATE"), "sale_price", "sale_price_currency",
         {"USD": Decimal("538")}, "PRODUCT_PRICE_CENTS_SALE_PRICE", lambda r: "USD", Decimal),
    Case("alias_invoice", "alias_invoices_sample.csv", (5, 3, 0, 2), (5, 6), ("Currency", "InvoiceDate"),
         "amount", "currency", {"USD": Decimal("1270.00"), "EUR": Decimal("95.00")}, "Amount",
         lambda r: r["Currency"], _plain),
    Case("purchases_sheet", "purchases_sample.csv", (7, 5, 0, 2), (7, 8), ("Net Price", "Purchase Date"),
         "gross_price", "currency", {"EUR": Decimal("636.00"), "GBP": Decimal("1250.00")}, "Gross Price",
         lambda r: r["Currency"] or "EUR", _plain, dedupe_identical=False),
    Case("purchases_sheet_de", "einkaeufe_beispiel.csv", (6, 4, 0, 2), (6, 7), ("Netto", "Kaufdatum"),
         "gross_price", "currency", {"EUR": Decimal("1852.13")}, "Brutto",
         lambda r: r["Währung"] or "EUR", _german, delimiter=";", dedupe_identical=False),
    Case("sales_sheet", "sales_sample.csv", (6, 4, 0, 2), (6, 7), ("Sale Price", "Platform"),
         "sale_price", "currency", {"USD": Decimal("1305.19"), "EUR": Decimal("210.00")}, "Sale Price",
         lambda r: r["Currency"] or "EUR", _plain, dedupe_identical=False),
]


def _independent_totals(case: Case, path: Path) -> dict[str, Decimal]:
    """Sum the amount per currency with csv + Decimal, leaving out the known bad records."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    seen: set[tuple[str, ...]] = set()
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for _ in range(case.skip_lines_before_header):
            handle.readline()
        reader = csv.reader(handle, delimiter=case.delimiter)
        header = next(reader)
        end = reader.line_num + case.skip_lines_before_header
        for record in reader:
            start, end = end + 1, reader.line_num + case.skip_lines_before_header
            if start in case.bad_lines or len(record) != len(header) or not any(record):
                continue
            if case.dedupe_identical:
                if tuple(record) in seen:
                    continue
                seen.add(tuple(record))
            row = dict(zip(header, record, strict=True))
            if row[case.amount_header].strip():
                totals[case.currency_of(row)] += case.to_decimal(row[case.amount_header])
    return dict(totals)


def _db_totals(conn, table: str, money: str, currency: str) -> dict[str, Decimal]:
    query = sql.SQL("select {c}, sum({m}) from {t} where {m} is not null group by 1").format(
        c=sql.Identifier(currency), m=sql.Identifier(money), t=sql.Identifier("raw", table))
    return {code.strip(): total for code, total in conn.execute(query).fetchall()}


def _count(conn, table: str) -> int:
    return conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier("raw", table))).fetchone()[0]


@pytest.mark.parametrize("case", CASES, ids=[c.format for c in CASES])
def test_fixture_loads_with_exact_counts_totals_and_quarantine(conn, case):
    fmt = load_format(case.format)
    path = FIXTURES / case.format / case.file
    result = load_file(conn, fmt, path)
    assert (result.rows_read, result.rows_loaded, result.rows_duplicate, result.rows_quarantined) == case.counts
    assert _count(conn, fmt.table) == case.counts[1]
    assert _db_totals(conn, fmt.table, case.money, case.currency) == case.totals == \
        _independent_totals(case, path)
    quarantined = conn.execute(
        "select line_number, field from raw.quarantine where raw_table = %s order by line_number",
        (fmt.table,)).fetchall()
    assert quarantined == list(zip(case.bad_lines, case.bad_fields, strict=True))
    # Reloading the same file adds nothing, neither rows nor quarantine entries.
    again = load_file(conn, fmt, path)
    assert again.skipped_file and again.rows_loaded == 0
    assert _count(conn, fmt.table) == case.counts[1]
    assert conn.execute("select count(*) from raw.quarantine").fetchone()[0] == case.counts[3]


def test_constant_columns_are_real_typed_columns_in_the_raw_table(conn):
    load_file(conn, load_format("ebay_sold_listings"), FIXTURES / "ebay_sold_listings" / "sold_listings_sample.csv")
    load_file(conn, load_format("ebay_orders"), FIXTURES / "ebay_orders" / "orders_report_sample.csv")
    types = dict(conn.execute(
        "select table_name || '.' || column_name, data_type from information_schema.columns"
        " where table_schema = 'raw' and column_name in ('sold_price_currency', 'marketplace', 'currency')"
    ).fetchall())
    assert types == {"ebay_sold_listings.sold_price_currency": "character",
                     "ebay_sold_listings.marketplace": "text", "ebay_orders.currency": "character"}
    assert conn.execute("select distinct sold_price_currency, marketplace from raw.ebay_sold_listings"
                        ).fetchall() == [("USD", "EBAY_US")]
    assert conn.execute("select distinct currency from raw.ebay_orders").fetchall() == [("USD",)]
    # the order summary row and its two item rows are all there, told apart by item_number
    assert conn.execute(
        "select count(*) filter (where item_number is null), count(*) filter (where item_number is not null),"
        " sum(sold_for * quantity) from raw.ebay_orders where order_number = '03-11111-00002'"
    ).fetchone() == (1, 2, Decimal("410.00"))


def test_english_and_german_purchase_sheets_union_into_one_purchases_set(conn):
    en = load_file(conn, load_format("purchases_sheet"), FIXTURES / "purchases_sheet" / "purchases_sample.csv")
    de = load_file(conn, load_format("purchases_sheet_de"),
                   FIXTURES / "purchases_sheet_de" / "einkaeufe_beispiel.csv")
    assert (en.rows_loaded, de.rows_loaded) == (5, 4)
    # the two raw tables have the same columns, in the same order and types: UNION ALL just works
    columns = conn.execute(
        "select table_name, array_agg(column_name || ' ' || data_type order by ordinal_position)"
        " from information_schema.columns where table_schema = 'raw'"
        " and table_name in ('sheets_purchases', 'sheets_purchases_de') group by 1 order by 1").fetchall()
    assert columns[0][1] == columns[1][1]
    # what was spent, per currency: gross price per pair x pairs
    assert dict(conn.execute(
        "select currency, sum(gross_price * quantity) from"
        " (select * from raw.sheets_purchases union all select * from raw.sheets_purchases_de) p group by 1"
    ).fetchall()) == {"EUR": Decimal("746.00") + Decimal("3321.26"), "GBP": Decimal("1250.00")}


def test_a_re_saved_sheet_with_identical_purchase_lines_adds_nothing(conn, tmp_path):
    """identical_rows: keep numbers identical lines, so a re-export (other bytes) matches again."""
    fmt = load_format("purchases_sheet")
    src = FIXTURES / "purchases_sheet" / "purchases_sample.csv"
    load_file(conn, fmt, src)
    with open(src, newline="", encoding="utf-8") as f:
        records = list(csv.reader(f))
    resaved = tmp_path / "purchases_resaved.csv"
    with open(resaved, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\r\n", quoting=csv.QUOTE_ALL).writerows(records)
    result = load_file(conn, fmt, resaved)
    assert not result.skipped_file
    assert (result.rows_loaded, result.rows_duplicate, result.rows_quarantined) == (0, 5, 2)
    # a third identical purchase line is a new purchase
    with open(resaved, "a", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\r\n").writerow(records[1])
    more = load_file(conn, fmt, resaved)
    assert (more.rows_loaded, more.rows_duplicate) == (1, 5)
    assert conn.execute("select count(*) from raw.sheets_purchases where style_code = 'IF6442'").fetchone()[0] == 3


def test_a_re_scrape_of_the_same_sold_listings_is_a_new_version_of_each_sale(conn, tmp_path):
    fmt = load_format("ebay_sold_listings")
    src = FIXTURES / "ebay_sold_listings" / "sold_listings_sample.csv"
    load_file(conn, fmt, src)
    rescrape = tmp_path / "rescrape.csv"
    rescrape.write_text(src.read_text(encoding="utf-8").replace("itmmeta=01", "itmmeta=02"), encoding="utf-8")
    result = load_file(conn, fmt, rescrape)
    # new tracking tokens: new rows, but every one is a known sale (item number + sold date)
    assert (result.rows_loaded, result.rows_changed, result.rows_duplicate) == (4, 4, 1)
    assert conn.execute("select count(distinct (item_number, sold_date)) from raw.ebay_sold_listings"
                        ).fetchone()[0] == 4


REAL_EBAY = {"ebay_sold_adidas_yeezy_350_2025.csv": (124, Decimal("17482.29")),
             "ebay_sold_air_jordan_1_high_2025.csv": (246, Decimal("44832.29"))}


@pytest.mark.shared_data
def test_real_ebay_sold_listings_load_with_every_row_accounted_for(conn, real_data):
    fmt = load_format("ebay_sold_listings")
    expected_total = Decimal(0)
    for name, (rows_in_file, usd_total) in REAL_EBAY.items():
        path = real_data / name
        with open(path, newline="", encoding="utf-8") as f:
            records = list(csv.DictReader(f))
        independent = sum((_usd(r["sold_price"]) for r in records), Decimal(0))
        assert (len(records), independent) == (rows_in_file, usd_total)
        assert Counter(tuple(r.values()) for r in records).most_common(1)[0][1] == 1  # no identical rows
        result = load_file(conn, fmt, path)
        assert result.rows_read == rows_in_file
        assert result.rows_loaded + result.rows_duplicate + result.rows_quarantined == rows_in_file
        assert (result.rows_loaded, result.rows_duplicate, result.rows_quarantined) == (rows_in_file, 0, 0)
        loaded = conn.execute("select count(*), sum(sold_price) from raw.ebay_sold_listings where _source = %s",
                              (str(path.resolve()),)).fetchone()
        assert loaded == (rows_in_file, usd_total)
        expected_total += usd_total
    assert _db_totals(conn, "ebay_sold_listings", "sold_price", "sold_price_currency") == \
        {"USD": expected_total} == {"USD": Decimal("62314.58")}
    # "Pre-Owned ·" arrived clean; "Aug 9, 2025" as a date; every row has its item number
    assert dict(conn.execute("select condition, count(*) from raw.ebay_sold_listings group by 1").fetchall()) == \
        {"Pre-Owned": 227, "Brand New": 143}
    assert conn.execute("select min(sold_date)::text, max(sold_date)::text, count(distinct item_number)"
                        " from raw.ebay_sold_listings").fetchone() == ("2025-03-23", "2025-08-12", 370)
    for name in REAL_EBAY:
        again = load_file(conn, fmt, real_data / name)
        assert again.skipped_file and again.rows_loaded == 0
    assert _count(conn, "ebay_sold_listings") == 370
