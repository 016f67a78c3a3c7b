"""Marketplace and spreadsheet formats, and the format options they need, on hand-made files.

Every fixture in tests/fixtures/<format>/ is synthetic (invented values) and has at least one
tricky row (quotes, embedded delimiter, decimal comma, empty optional values) and bad rows.
Expected values below were worked out by hand from the fixture text.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from soleflipper.csv_parsing import FileFormatError, ParsedRow, RowError, parse_csv
from soleflipper.formats import (
    FormatError,
    available_formats,
    load_format,
    load_format_file,
    parse_format,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NEW_FORMATS = ["alias_consignment", "alias_invoice", "ebay_orders", "ebay_sold_listings",
               "purchases_sheet", "purchases_sheet_de", "sales_sheet"]


def _parse(fmt, path: Path) -> list[ParsedRow | RowError]:
    return list(parse_csv(fmt, path)[1])


def _rows(fmt, path: Path) -> dict[int, dict[str, str | None]]:
    """Parsed rows by line, as column -> value."""
    return {r.line: dict(zip(fmt.column_names, r.values, strict=True))
            for r in _parse(fmt, path) if isinstance(r, ParsedRow)}


def _errors(fmt, path: Path) -> list[tuple[int, str | None, str]]:
    return [(r.line, r.field, r.reason) for r in _parse(fmt, path) if isinstance(r, RowError)]


def _fixture(name: str) -> Path:
    (path,) = sorted((FIXTURES / name).glob("*.csv"))
    return path


# --- built-in formats -------------------------------------------------------------------------

@pytest.mark.parametrize("name", available_formats())
def test_every_builtin_format_loads(name):
    fmt = load_format(name)
    assert fmt.name == name and fmt.path is not None and fmt.path.name == f"{name}.yaml"
    assert len(set(fmt.column_names)) == len(fmt.column_names)
    # constant columns come last, after every column read from the file
    kinds = [c.is_constant for c in fmt.columns]
    assert kinds == sorted(kinds)


def test_the_new_formats_are_built_in():
    assert set(NEW_FORMATS) <= set(available_formats())
    assert [load_format(n).table for n in NEW_FORMATS] == [
        "alias_consignment", "alias_invoice", "ebay_orders", "ebay_sold_listings",
        "sheets_purchases", "sheets_purchases_de", "sheets_sales"]


def test_every_format_has_its_own_raw_table():
    """One import asset per format, keyed raw/<table>: two formats on one table would collide."""
    tables = [load_format(n).table for n in available_formats()]
    assert len(tables) == len(set(tables))


def test_german_purchases_sheet_has_exactly_the_english_columns():
    en, de = load_format("purchases_sheet"), load_format("purchases_sheet_de")
    assert (en.table, de.table) == ("sheets_purchases", "sheets_purchases_de")
    assert [(c.name, c.type, c.default) for c in en.columns] == [(c.name, c.type, c.default) for c in de.columns]
    assert en.identical_rows == de.identical_rows == "keep"


def test_explicit_currencies_become_constant_columns():
    assert load_format("ebay_sold_listings").constants == {"sold_price_currency": "USD", "marketplace": "EBAY_US"}
    assert load_format("ebay_orders").constants == {"currency": "USD"}
    assert load_format("alias_consignment").constants == {"sale_price_currency": "USD"}
    sold = {c.name: c for c in load_format("ebay_sold_listings").columns}
    assert sold["sold_price_currency"].sql_type == "char(3)" and sold["marketplace"].sql_type == "text"


# --- each fixture, value by value --------------------------------------------------------------

def test_ebay_sold_listings_fixture():
    fmt = load_format("ebay_sold_listings")
    path = _fixture("ebay_sold_listings")
    rows = _rows(fmt, path)
    assert sorted(rows) == [2, 3, 4, 5, 8]
    link3 = ("https://www.ebay.com/itm/100000000002?_skw=samba&itmmeta=01aaaaaaaaaaaaaaaaaaaaaaa2"
             "&hash=item0000000002:g:bbbb")
    assert rows[3] == {  # quotes and a comma in the title, "$1,250.00"
        "title": 'adidas samba og "cloud white", size 9.5 - b75806', "sold_price": "1250.00",
        "link": link3, "item_number": "100000000002", "sold_date": "2025-07-14", "size": "9.5",
        "condition": "Brand New", "sold_price_currency": "USD", "marketplace": "EBAY_US"}
    assert rows[2]["condition"] == "Pre-Owned" and rows[2]["sold_date"] == "2025-07-04"  # "Pre-Owned ·"
    assert rows[4] == {  # empty size and condition
        "title": "new balance 550 white green", "sold_price": "89.99",
        "link": "https://www.ebay.com/itm/100000000003?itmmeta=01aaaaaaaaaaaaaaaaaaaaaaa3",
        "item_number": "100000000003", "sold_date": "2025-06-30", "size": None, "condition": None,
        "sold_price_currency": "USD", "marketplace": "EBAY_US"}
    assert (rows[5]["sold_price"], rows[5]["condition"], rows[5]["size"]) == ("245.50", "Pre-Owned", "11.0")
    assert rows[8] == rows[2]  # the same card twice: the loader counts it as a duplicate
    errors = _errors(fmt, path)
    assert [(line, field) for line, field, _ in errors] == [(6, "sold_price"), (7, "link"), (9, "sold_date")]
    assert errors[0][2] == "'12O.00' is not a number (cell '$12O.00')"
    assert "does not contain /itm/" in errors[1][2]
    assert errors[2][2] == "'Jul 32, 2025' is not a date in %b %d, %Y"


def test_ebay_orders_fixture_with_report_framing_and_multi_item_order():
    fmt = load_format("ebay_orders")
    path = _fixture("ebay_orders")
    rows = _rows(fmt, path)
    # line 1 and 3 are rows of bare commas, 11 is blank, 12-13 the footer: none is a row or an error
    assert sorted(rows) == [4, 5, 6, 7, 8]
    assert rows[4] == {
        "sales_record_number": "1001", "order_number": "03-11111-00001", "buyer_username": "example_buyer_1",
        "ship_to_country": "United States", "item_number": "100000000101",
        "item_title": 'Nike Air Jordan 1 Retro High OG "Chicago", Size 10', "custom_label": "DZ5485-612-10",
        "sold_via_promoted_listings": "true", "quantity": "1", "sold_for": "1250.00",
        "shipping_and_handling": "15.00", "ebay_collect_and_remit_tax_rate": "7.25",
        "seller_collected_tax": "0.00", "ebay_collected_tax": "91.71", "ebay_collected_charges": "0.00",
        "total_price": "1356.71", "ebay_collected_tax_included": "true",
        "payment_method": "eBay Managed Payments", "sale_date": "2025-07-02", "paid_on_date": "2025-07-02",
        "ship_by_date": "2025-07-05", "shipped_on_date": "2025-07-03", "shipping_service": "UPS Ground",
        "tracking_number": "1Z0000000000000001", "transaction_id": "2000000000001",
        "variation_details": "[US Shoe Size:10]", "global_shipping_program": "false",
        "authenticity_verification_program": "Yes", "authenticity_verification_status": "PASSED",
        "ebay_international_shipping": None, "currency": "USD"}
    summary = rows[5]  # the order summary row of a two-item order: totals, no item
    assert (summary["order_number"], summary["item_number"], summary["sold_for"], summary["quantity"],
            summary["shipping_and_handling"], summary["total_price"]) == \
        ("03-11111-00002", None, None, None, "20.00", "466.39")
    assert [(rows[n]["item_number"], rows[n]["quantity"], rows[n]["sold_for"], rows[n]["total_price"])
            for n in (6, 7)] == [("100000000102", "1", "120.00", None), ("100000000103", "2", "145.00", None)]
    unshipped = rows[8]
    assert (unshipped["shipped_on_date"], unshipped["tracking_number"], unshipped["custom_label"],
            unshipped["variation_details"], unshipped["sold_for"]) == (None, None, None, None, "89.99")
    assert {r["currency"] for r in rows.values()} == {"USD"}
    errors = _errors(fmt, path)
    assert [(line, field) for line, field, _ in errors] == [(9, "Sale Date"), (10, "Sold For")]
    assert errors[0][2].startswith("'Feb-30-25' is not a date")
    assert errors[1][2] == "'€95.00' is not a number"  # a euro amount is not silently stored as USD


def test_alias_consignment_fixture():
    fmt = load_format("alias_consignment")
    path = _fixture("alias_consignment")
    rows = _rows(fmt, path)
    assert rows == {
        2: {"order_number": "900000001", "product_name": "Air Jordan 4 Retro 'Military Black'",
            "sale_price": "210", "credit_date": "2024-03-15", "username": "example_seller",
            "sku": "DH6927 111", "size": "10", "purchased_date": "2024-03-12", "sale_price_currency": "USD"},
        3: {"order_number": "900000002", "product_name": 'Yeezy Boost 350 V2 "Onyx", Kids',
            "sale_price": "145", "credit_date": "2024-04-02", "username": "example_seller",
            "sku": "HQ4540", "size": "5.5", "purchased_date": None, "sale_price_currency": "USD"},
        4: {"order_number": "900000003", "product_name": "Stussy Hoodie, Black", "sale_price": "95",
            "credit_date": "2024-04-03", "username": None, "sku": None, "size": "106",
            "purchased_date": None, "sale_price_currency": "USD"},
        5: {"order_number": "900000004", "product_name": "Nike Dunk Low 'Panda'", "sale_price": "88",
            "credit_date": "2024-04-30", "username": "example_seller", "sku": "DD1391 100", "size": "9",
            "purchased_date": "2024-04-28", "sale_price_currency": "USD"},
    }
    assert _errors(fmt, path) == [
        (6, "PRODUCT_PRICE_CENTS_SALE_PRICE", "required value is missing"),
        (7, "CREDIT_DATE", "'31/02/24' is not a date in %d/%m/%y, %d/%m/%Y, %d.%m.%y, %d.%m.%Y")]


def test_alias_invoice_fixture():
    fmt = load_format("alias_invoice")
    path = _fixture("alias_invoice")
    rows = _rows(fmt, path)
    assert sorted(rows) == [2, 3, 4]
    assert rows[3] == {
        "site": "goat", "order_id": "710000002", "amount": "1050.00",
        "item_name_with_size": 'Travis Scott x Air Jordan 1 Low "Mocha", Size 9', "invoice_date": "2025-08-01",
        "delivery_date": "2025-08-06", "currency": "USD", "tracking_number": "1Z0000000000000012",
        "currency_exchange": "true", "converted_currency_sign": "€", "exchange_rate": "0.92",
        "final_amount_exchanged": "834.21", "store_price": "1050.00", "processing_fee": "31.50",
        "shipping_fee": "12.00", "transaction_fee": "99.75", "bulk_ship_discount": "0.00",
        "tax_exempt_notice": "Export delivery, VAT exempt", "total_amount_net": "906.75", "vat": "0.00",
        "total_vat_included": "906.75"}
    assert (rows[4]["invoice_date"], rows[4]["currency"], rows[4]["delivery_date"], rows[4]["tracking_number"],
            rows[4]["converted_currency_sign"], rows[4]["total_amount_net"]) == \
        ("2025-08-03", "EUR", None, None, None, "75.12")
    assert (rows[2]["amount"], rows[2]["invoice_date"], rows[2]["currency_exchange"]) == ("220.00", "2025-07-28", "false")
    assert _errors(fmt, path) == [
        (5, "Currency", "'US$' is not a three-letter currency code"),
        (6, "InvoiceDate", "'13/13/25' is not a date in %d/%m/%y, %d/%m/%Y, %d.%m.%y, %d.%m.%Y")]


def test_purchases_sheet_fixture():
    fmt = load_format("purchases_sheet")
    path = _fixture("purchases_sheet")
    rows = _rows(fmt, path)
    assert sorted(rows) == [2, 3, 4, 5, 6]
    assert rows[3] == {  # day-first date, a comma in the supplier, quotes in the product, "19%"
        "purchase_date": "2024-07-23", "supplier": "Solebox, Berlin", "style_code": "IE0421",
        "product_name": 'Dunk Low "Panda"', "brand": "Nike", "size": "10", "quantity": "2",
        "net_price": "92.44", "gross_price": "110.00", "vat_rate": "19", "currency": "EUR",
        "order_number": "SB-77812", "invoice_number": None, "delivery_date": None,
        "notes": "two pairs, one for a friend"}
    assert rows[4] == {  # empty optional values: quantity and currency take their defaults
        "purchase_date": "2024-08-05", "supplier": "Footlocker", "style_code": "IH2814", "product_name": None,
        "brand": "adidas", "size": "9", "quantity": "1", "net_price": "42.02", "gross_price": "50.00",
        "vat_rate": None, "currency": "EUR", "order_number": None, "invoice_number": None,
        "delivery_date": None, "notes": None}
    assert (rows[5]["purchase_date"], rows[5]["net_price"], rows[5]["gross_price"], rows[5]["currency"]) == \
        ("2024-08-12", "1041.67", "1250.00", "GBP")
    assert rows[6] == rows[2]  # two identical purchase lines: both kept (identical_rows: keep)
    errors = _errors(fmt, path)
    assert [(line, field) for line, field, _ in errors] == [(7, "Net Price"), (8, "Purchase Date")]
    # a German decimal comma in the English sheet is refused, never read as 7983
    assert errors[0][2] == ("'79,83' is not a number: ',' separates thousands (groups of three digits) "
                            "and '.' decimals")


def test_german_purchases_sheet_fixture():
    fmt = load_format("purchases_sheet_de")
    path = _fixture("purchases_sheet_de")
    rows = _rows(fmt, path)
    assert sorted(rows) == [2, 3, 4, 5]
    assert rows[3] == {  # "16/03/24", "Solebox; Berlin", "1.234,56", "19 %"
        "purchase_date": "2024-03-16", "supplier": "Solebox; Berlin", "style_code": "IE0421",
        "product_name": 'Dunk Low "Panda"', "brand": "Nike", "size": "44", "quantity": "2",
        "net_price": "1234.56", "gross_price": "1469.13", "vat_rate": "19", "currency": "EUR",
        "order_number": "SB-77812", "invoice_number": None, "delivery_date": None,
        "notes": 'Notiz mit "Anführungszeichen", Komma'}
    assert (rows[2]["purchase_date"], rows[2]["net_price"], rows[2]["size"], rows[2]["delivery_date"]) == \
        ("2024-03-15", "200.00", "42 2/3", "2024-03-18")
    assert (rows[4]["purchase_date"], rows[4]["quantity"], rows[4]["currency"], rows[4]["vat_rate"]) == \
        ("2024-04-01", "1", "EUR", None)
    assert (rows[5]["net_price"], rows[5]["gross_price"], rows[5]["size"]) == ("79.83", "95.00", "44,5")  # "95,00 €"
    errors = _errors(fmt, path)
    assert [(line, field) for line, field, _ in errors] == [(6, "Netto"), (7, "Kaufdatum")]
    assert errors[0][2] == ("'12.50' is not a number: '.' separates thousands (groups of three digits) "
                            "and ',' decimals")


def test_sales_sheet_fixture():
    fmt = load_format("sales_sheet")
    path = _fixture("sales_sheet")
    rows = _rows(fmt, path)
    assert rows == {
        2: {"sale_date": "2024-08-13", "platform": "Alias", "order_number": "514496694", "style_code": "IF6442",
            "product_name": "Samba OG", "size": "8.5", "sale_price": "205.19", "fees": "0.00",
            "payout": "205.19", "currency": "USD", "notes": None},
        3: {"sale_date": "2024-08-13", "platform": "StockX", "order_number": "12345678-87654321",
            "style_code": "IE0421", "product_name": 'Dunk Low "Panda", GS', "size": "10", "sale_price": "150.00",
            "fees": "16.50", "payout": "133.50", "currency": "EUR", "notes": "paid out, 2 days late"},
        4: {"sale_date": "2024-08-20", "platform": "Kleinanzeigen", "order_number": None, "style_code": "IH2814",
            "product_name": None, "size": "9", "sale_price": "60.00", "fees": None, "payout": None,
            "currency": "EUR", "notes": None},
        5: {"sale_date": "2024-09-01", "platform": "eBay", "order_number": "03-11111-00001",
            "style_code": "DZ5485-612", "product_name": None, "size": "10", "sale_price": "1100.00",
            "fees": "143.00", "payout": "957.00", "currency": "USD", "notes": None},
    }
    assert _errors(fmt, path) == [(6, "Sale Price", "'-5.00' is below the minimum 0"),
                                  (7, "Platform", "required value is missing")]


def test_wrong_file_in_a_folder_fails_naming_the_missing_columns():
    with pytest.raises(FileFormatError) as err:
        parse_csv(load_format("alias_invoice"), _fixture("alias_consignment"))
    assert "alias_sales_sample.csv: not a alias_invoice file" in str(err.value) and "'OrderID'" in str(err.value)


# --- the new options, one by one ---------------------------------------------------------------

def _fmt(columns: list[dict], **top) -> object:
    return parse_format({"name": "t", "source": "test", "entity": "t", "columns": columns, **top}, "inline")


def _write(tmp_path: Path, text: str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_strip_chars_cleans_amounts_and_text_and_may_leave_nothing(tmp_path):
    fmt = _fmt([{"name": "price", "header": "price", "type": "numeric", "strip_chars": "$€"},
                {"name": "condition", "header": "condition", "strip_chars": " ·"},
                {"name": "grade", "header": "grade", "strip_chars": "*", "default": "unknown"},
                {"name": "code", "header": "code", "strip_chars": "#", "not_null": True}],
               thousands_separator=",")
    path = _write(tmp_path, "price,condition,grade,code\n"
                            '"$1,234.50 ",Pre-Owned ·,**,#A1\n'
                            "€ 7 ,·,*B*,#\n"
                            "$-,New,C,#C3\n")
    out = _parse(fmt, path)
    assert [r.values for r in out[:1]] == [["1234.50", "Pre-Owned", "unknown", "A1"]]
    assert isinstance(out[1], RowError) and (out[1].line, out[1].field, out[1].reason) == \
        (3, "code", "required value is missing")  # "#" strips to nothing: missing
    assert isinstance(out[2], RowError) and (out[2].field, out[2].reason) == ("price", "'-' is not a number (cell '$-')")
    single = _write(tmp_path, "price,condition,grade,code\n€ 7 ,·,*B*,#Z\n", "g.csv")
    assert _parse(fmt, single)[0].values == ["7", None, "B", "Z"]  # " ·" alone is NULL


def test_extract_takes_one_group_and_lets_two_columns_read_one_header(tmp_path):
    fmt = _fmt([{"name": "link", "header": "link", "not_null": True},
                {"name": "item_number", "header": "link", "extract": r"/itm/(\d+)"},
                {"name": "epid", "header": "link", "extract": r"[?&]epid=(\d+)", "type": "integer"}])
    path = _write(tmp_path, "link\n"
                            "https://www.ebay.com/itm/123456?epid=42&x=1\n"
                            "https://www.ebay.com/sch/i.html\n")
    first, second = _parse(fmt, path)
    assert first.values == ["https://www.ebay.com/itm/123456?epid=42&x=1", "123456", "42"]
    assert first.extra is None  # the header is used, not an unknown column
    assert isinstance(second, RowError) and (second.line, second.field) == (3, "link")
    assert second.reason == r"'https://www.ebay.com/sch/i.html' does not contain /itm/(\d+)"


def test_default_fills_empty_cells_and_absent_columns(tmp_path):
    fmt = _fmt([{"name": "amount", "header": "amount", "type": "numeric"},
                {"name": "currency", "header": "currency", "type": "currency", "default": "eur", "optional": True},
                {"name": "quantity", "header": "qty", "type": "integer", "default": 1, "not_null": True,
                 "optional": True}])
    assert [c.default for c in fmt.columns] == [None, "EUR", "1"]  # stored canonically
    with_cols = _write(tmp_path, "amount,currency,qty\n10,USD,2\n11,,\n", "a.csv")
    assert [r.values for r in _parse(fmt, with_cols)] == [["10", "USD", "2"], ["11", "EUR", "1"]]
    without = _write(tmp_path, "amount\n12\n", "b.csv")
    assert [r.values for r in _parse(fmt, without)] == [["12", "EUR", "1"]]


def test_currency_and_constants_become_columns_with_the_same_value_in_every_row(tmp_path):
    fmt = _fmt([{"name": "price", "header": "price", "type": "numeric", "currency": "USD"},
                {"name": "fee", "header": "fee", "type": "numeric"}],
               currency="USD",
               constants={"platform": "ebay", "fee_rate": {"value": 0.129, "type": "numeric"},
                          "snapshot": {"value": "2025-08-12", "type": "date"},
                          "verified": {"value": True, "type": "boolean"},
                          "site_currency": {"value": "usd", "type": "currency"}})
    assert fmt.column_names == ["price", "fee", "price_currency", "currency", "platform", "fee_rate",
                                "snapshot", "verified", "site_currency"]
    assert fmt.constants == {"price_currency": "USD", "currency": "USD", "platform": "ebay", "fee_rate": "0.129",
                             "snapshot": "2025-08-12", "verified": "true", "site_currency": "USD"}
    assert [c.sql_type for c in fmt.columns[2:]] == ["char(3)", "char(3)", "text", "numeric", "date", "boolean",
                                                     "char(3)"]
    path = _write(tmp_path, "price,fee\n10,1\n20,\n")
    assert [r.values for r in _parse(fmt, path)] == [
        ["10", "1", "USD", "USD", "ebay", "0.129", "2025-08-12", "true", "USD"],
        ["20", None, "USD", "USD", "ebay", "0.129", "2025-08-12", "true", "USD"]]


def test_a_constant_named_like_a_file_header_is_not_read_from_the_file(tmp_path):
    fmt = _fmt([{"name": "price", "header": "price", "type": "numeric"}], constants={"platform": "ebay"})
    path = _write(tmp_path, "price,platform\n5,alias\n")
    (row,) = _parse(fmt, path)
    assert row.values == ["5", "ebay"] and row.extra == {"platform": "alias"}  # nothing is lost


@pytest.mark.parametrize(("decimal", "thousands", "text", "expected"), [
    (",", ".", "1.234,56", "1234.56"),
    (",", ".", "1.234.567", "1234567"),
    (",", ".", "-1.234,5", "-1234.5"),
    (",", ".", "12,5", "12.5"),
    (",", ".", "12", "12"),
    (",", None, "1234,56", "1234.56"),
    (",", " ", "1 234,56", "1234.56"),
    (",", "\u00a0", "1\u00a0234,56", "1234.56"),
    (".", ",", "1,234.56", "1234.56"),
    (".", "'", "1'234.56", "1234.56"),
    (".", ",", "0.5", "0.5"),
])
def test_european_and_other_separators(tmp_path, decimal, thousands, text, expected):
    top = {"decimal_separator": decimal, **({"thousands_separator": thousands} if thousands else {})}
    fmt = _fmt([{"name": "n", "header": "n", "type": "numeric"}], delimiter=";", **top)
    (row,) = _parse(fmt, _write(tmp_path, f"n\n{text}\n"))
    assert row.values == [expected]


@pytest.mark.parametrize(("decimal", "thousands", "text", "reason"), [
    (",", ".", "12.5", "'12.5' is not a number: '.' separates thousands (groups of three digits) and ',' decimals"),
    (",", ".", "1.23,4", "'1.23,4' is not a number: '.' separates thousands (groups of three digits) and ',' decimals"),
    (",", None, "12.50", "'12.50' is not a number: the decimal separator is ','"),
    (".", ",", "12,50", "'12,50' is not a number: ',' separates thousands (groups of three digits) and '.' decimals"),
    (".", ",", "1,2345.0", "'1,2345.0' is not a number: ',' separates thousands (groups of three digits) and '.' decimals"),
])
def test_misplaced_separators_are_errors_never_a_wrong_number(tmp_path, decimal, thousands, text, reason):
    top = {"decimal_separator": decimal, **({"thousands_separator": thousands} if thousands else {})}
    fmt = _fmt([{"name": "n", "header": "n", "type": "numeric"}], delimiter=";", **top)
    (row,) = _parse(fmt, _write(tmp_path, f"n\n{text}\n"))
    assert isinstance(row, RowError) and (row.line, row.field, row.reason) == (2, "n", reason)


@pytest.mark.parametrize(("formats", "text", "expected"), [
    (["%b %d, %Y"], "Aug 9, 2025", "2025-08-09"),
    (["%b %d, %Y"], "Dec 31, 2024", "2024-12-31"),
    (["%d.%m.%Y", "%d/%m/%y"], "15.03.2024", "2024-03-15"),
    (["%d.%m.%Y", "%d/%m/%y"], "15/03/24", "2024-03-15"),
    (["%d.%m.%Y", "%d/%m/%y"], "05/11/24", "2024-11-05"),  # day first
    (["%b-%d-%y", "%b-%d-%y %H:%M:%S"], "Sep-30-25 23:45:00", "2025-09-30"),
])
def test_date_formats(tmp_path, formats, text, expected):
    fmt = _fmt([{"name": "d", "header": "d", "type": "date"}], date_formats=formats, delimiter=";")
    (row,) = _parse(fmt, _write(tmp_path, f"d\n{text}\n"))
    assert row.values == [expected]


def test_day_first_timestamps_in_a_local_time_zone_are_stored_in_utc(tmp_path):
    fmt = _fmt([{"name": "t", "header": "t", "type": "timestamptz"}],
               timestamp_formats=["%d.%m.%Y %H:%M", "%d.%m.%Y"], default_timezone="Europe/Berlin", delimiter=";")
    path = _write(tmp_path, "t\n15.03.2024 14:30\n15.07.2024 14:30\n01.04.2024\n")
    assert [r.values for r in _parse(fmt, path)] == [
        ["2024-03-15T13:30:00+00:00"], ["2024-07-15T12:30:00+00:00"], ["2024-03-31T22:00:00+00:00"]]


def test_skip_records_drops_report_furniture_but_never_a_valid_row(tmp_path):
    fmt = _fmt([{"name": "order", "header": "Order", "not_null": True},
                {"name": "amount", "header": "Amount", "type": "numeric"},
                {"name": "note", "header": "Note"}],
               skip_records=[r"record\(s\) downloaded", r"^Seller ID\s*:"])
    path = _write(tmp_path,
                  "Seller ID : before_the_header\n"   # line 1: skipped before the header
                  ",,\n"                              # line 2: bare delimiters
                  "Order,Amount,Note\n"               # line 3: header
                  ",,\n"                              # line 4: padding row, no data
                  "A1,10,\n"                          # line 5
                  "A2,11,2 record(s) downloaded\n"    # line 6: valid, kept although it matches
                  ",12,3 record(s) downloaded\n"      # line 7: would be an error and matches: skipped
                  "A4,x,\n"                           # line 8: an error that does not match: kept
                  "\n"
                  "3,record(s) downloaded,from Jul-01-25 to Jul-31-25,x\n"  # wrong width, matches
                  "Seller ID : example\n"
                  "broken line\n")                    # line 12: wrong width, no match
    out = _parse(fmt, path)
    assert [(type(r).__name__, r.line) for r in out] == [
        ("ParsedRow", 5), ("ParsedRow", 6), ("RowError", 8), ("RowError", 12)]
    assert out[1].values == ["A2", "11", "2 record(s) downloaded"]
    assert out[2].field == "Amount" and "fields, the header has 3" in out[3].reason


def test_rows_of_bare_delimiters_are_skipped_without_any_option(tmp_path):
    fmt = _fmt([{"name": "a", "header": "a", "not_null": True}, {"name": "b", "header": "b"}])
    path = _write(tmp_path, ",\n\na,b\n,\n1,2\n,,\n")
    out = _parse(fmt, path)
    assert [(type(r).__name__, r.line) for r in out] == [("ParsedRow", 5)]


def test_a_file_of_only_blank_rows_has_no_header(tmp_path):
    fmt = _fmt([{"name": "a", "header": "a"}])
    with pytest.raises(FileFormatError, match="the file is empty"):
        parse_csv(fmt, _write(tmp_path, ",,\n\n,\n"))


# --- YAML validation: every new key, with the file and key in the message ----------------------

BASE = {
    "name": "demo", "source": "test", "entity": "demo",
    "columns": [{"name": "title", "header": "Title"},
                {"name": "price", "header": "Price", "type": "numeric"},
                {"name": "quantity", "header": "Qty", "type": "integer"}],
}


def _with(column: int | None = None, **changes) -> dict:
    data = {**BASE, "columns": [dict(c) for c in BASE["columns"]]}
    if column is None:
        data.update(changes)
    else:
        data["columns"][column].update(changes)
    return data


@pytest.mark.parametrize(("data", "message"), [
    (_with(1, strip_chars=""), "columns[1] (price).strip_chars: must be a non-empty string"),
    (_with(1, strip_chars=["$"]), "columns[1] (price).strip_chars: must be a non-empty string"),
    (_with(1, strip_chars="$0"), "columns[1] (price).strip_chars: must not contain '0'"),
    (_with(1, strip_chars="$-"), "columns[1] (price).strip_chars: must not contain '-'"),
    (_with(1, strip_chars="$."), "columns[1] (price).strip_chars: must not contain '.'"),
    (_with(0, extract="("), "columns[0] (title).extract: invalid regular expression"),
    (_with(0, extract=r"\d+"), "columns[0] (title).extract: needs exactly one (group), found 0"),
    (_with(0, extract=r"(\d)-(\d)"), "columns[0] (title).extract: needs exactly one (group), found 2"),
    (_with(1, header="Title"), "columns[1] (price): header 'title' already used by column 'title'"),
    (_with(2, default="one"), "columns[2] (quantity).default: 'one' is not a whole number"),
    (_with(1, default="1,5"), "columns[1] (price).default: '1,5' is not a number"),
    (_with(0, default=True), "columns[0] (title).default: True was read as a YAML boolean; put the value in quotes"),
    (_with(1, currency="usd"), "columns[1] (price).currency: 'usd' is not a three-letter currency code"),
    (_with(0, currency="USD"), "columns[0] (title).currency: only numeric or integer amounts have a currency"),
    (_with(1, currency="USD", name="title_x") | {"constants": {"title_x_currency": "x"}},
     "constant column 'title_x_currency' (from currency/constants) clashes"),
    (_with(currency="EURO"), "currency: 'EURO' is not a three-letter currency code"),
    (_with(0, name="currency") | {"currency": "EUR"}, "constant column 'currency' (from currency/constants) clashes"),
    (_with(constants=["platform"]), "constants must be a mapping of column name to value"),
    (_with(constants={"Platform": "ebay"}), "constants.Platform: 'Platform' is not a valid name"),
    (_with(constants={"title": "x"}), "constant column 'title' (from currency/constants) clashes"),
    (_with(constants={"platform": {"type": "text"}}), "constants.platform: expected a value or {value: ..., type: ...}"),
    (_with(constants={"platform": {"value": "x", "type": "money"}}), "constants.platform.type: 'money' is not one of"),
    (_with(constants={"snapshot": {"value": "12.08.2025", "type": "date"}}),
     "constant snapshot: '12.08.2025' is not a date (YYYY-MM-DD) (write defaults and constants canonically"),
    (_with(constants={"flag": None}), "constants.flag: expected a single value, got None"),
    (_with(constants={"platform": False}), "constants.platform: False was read as a YAML boolean"),
    (_with(decimal_separator=";"), "decimal_separator must be one of ('.', ',')"),
    (_with(thousands_separator="x"), "thousands_separator must be one of"),
    (_with(decimal_separator=",", thousands_separator=","), "thousands_separator and decimal_separator are both ','"),
    (_with(date_formats="%d.%m.%Y"), "date_formats must be a list of strings"),
    (_with(date_formats=["dd.mm.yyyy"]), "date_formats entry 'dd.mm.yyyy' has no % directives"),
    (_with(date_formats=["%d.%m."]), "date_formats entry '%d.%m.' must contain a year, a month and a day"),
    (_with(date_formats=["%d/%m/%Y", "%m/%d/%Y"]),
     "date_formats '%d/%m/%Y' and '%m/%d/%Y' are ambiguous: '03/02/2001' is 2001-02-03 in one and 2001-03-02"),
    (_with(timestamp_formats=["%Y-%m-%d %H:%M", "%Y-%d-%m %H:%M"]), "timestamp_formats '%Y-%m-%d %H:%M' and"),
    (_with(default_timezone="Mars/Olympus"), "default_timezone 'Mars/Olympus' is not an IANA time zone"),
    (_with(skip_records=["("]), "skip_records entry '(' is not a valid regular expression"),
    (_with(skip_records="Seller ID"), "skip_records must be a list of strings"),
    (_with(delimiter=";;"), "delimiter must be a single character"),
    (_with(encoding="utf-99"), "encoding 'utf-99' is not a known text encoding"),
    (_with(columns=[]), "columns must be a non-empty list"),
    (_with(2, min="1"), "columns[2] (quantity).min: '1' is not a number"),
    (_with(natural_key=["nope"]), "natural_key column 'nope' is not a column"),
])
def test_invalid_options_are_reported_with_file_and_key(tmp_path, data, message):
    path = tmp_path / "broken_format.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(FormatError) as err:
        load_format_file(path)
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)


def test_valid_options_round_trip_through_yaml(tmp_path):
    data = _with(1, strip_chars="$€", currency="USD") | {
        "decimal_separator": ",", "thousands_separator": ".", "date_formats": ["%d.%m.%Y", "%d/%m/%y"],
        "timestamp_formats": ["%d.%m.%Y %H:%M"], "default_timezone": "Europe/Berlin",
        "constants": {"platform": "ebay"}, "skip_records": ["^Seller ID"], "delimiter": ";"}
    path = tmp_path / "ok.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    fmt = load_format_file(path)
    assert fmt.column_names == ["title", "price", "quantity", "price_currency", "platform"]
    assert (fmt.decimal_separator, fmt.thousands_separator, fmt.skip_records) == (",", ".", ("^Seller ID",))
