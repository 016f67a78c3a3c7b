"""The demo's purchases: one per sale, unsold stock, VAT to the cent, split between sheet and Notion.

Expected values come from the sales report rows (generate_sales) and from hand-checked VAT
arithmetic, never from the purchase generator's own helpers.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import yaml

from simulators.notion_data import build_demo_workspace
from soleflipper import demo_data
from soleflipper.csv_parsing import ParsedRow, parse_csv
from soleflipper.demo_data import (
    DEMO_SUPPLIERS,
    PURCHASES_SHEET_HEADER,
    PURCHASES_SHEET_NAME,
    Purchase,
    generate_purchases,
    generate_sales,
    iter_purchases,
    split_purchases,
    write_demo_purchases_sheet,
    write_purchases_sheet,
)
from soleflipper.formats import load_format
from soleflipper.notion_mappings import load_mapping

N = 2000
SEED = 7
START, END = date(2023, 1, 2), date(2024, 12, 29)
CUTOVER = date(2024, 5, 26)  # START + round(728 days * 0.7)
FORMAT_YAML = Path(demo_data.__file__).resolve().parent / "formats" / "purchases_sheet.yaml"
PAYOUT = "Total Gross Amount (Total Payout)"
SHOPS = {s.name for s in DEMO_SUPPLIERS if s.vat}
PRIVATE = {s.name for s in DEMO_SUPPLIERS if not s.vat}


@pytest.fixture(scope="module")
def sales() -> list[dict[str, str]]:
    return generate_sales(N, seed=SEED)


@pytest.fixture(scope="module")
def purchases() -> list[Purchase]:
    return generate_purchases(N, seed=SEED)


@pytest.fixture(scope="module")
def by_order(sales) -> dict[str, dict[str, str]]:
    return {r["Order Number"]: r for r in sales}


def _sale_day(row: dict[str, str]) -> date:
    return date.fromisoformat(row["Sale Date"][:10])


def test_one_purchase_per_sale_with_the_reports_style_and_size(purchases, sales, by_order):
    sold = [p for p in purchases if p.sold]
    assert len(sold) == N
    assert [p.sale_order_number for p in sold] == [r["Order Number"] for r in sales]  # in sale order
    for p in sold:
        row = by_order[p.sale_order_number]
        assert (p.style_code, p.size, p.product_name) == (row["Style"], row["Sku Size"], row["Item"])
        assert p.sale_date == _sale_day(row)
    assert [p.unit for p in purchases] == list(range(len(purchases)))


def test_bought_3_to_120_days_before_the_sale_and_delivered_before_it(purchases):
    days = Counter()
    for p in purchases:
        if p.sold:
            gap = (p.sale_date - p.purchase_date).days
            assert 3 <= gap <= 120, p
            assert p.purchase_date <= p.delivery_date < p.sale_date, p
            days[gap // 30] += 1
        elif p.delivery_date is not None:
            assert p.purchase_date <= p.delivery_date <= END
    assert days == {0: 715, 1: 761, 2: 391, 3: 133}  # mostly sold within two months


def test_vat_to_the_cent(purchases):
    # hand-checked: 105.99 / 1.19 = 89.0672... -> 89.07; 66.95 / 1.19 = 56.2605... -> 56.26
    expected = {
        0: ("Solebox Demo", "105.99", "89.07", "16.92", "19"),
        1: ("Privat Kleinanzeigen Demo", "135.00", "135.00", "0.00", "0"),
        2: ("Solebox Demo", "66.95", "56.26", "10.69", "19"),
        3: ("Snipes Demo", "66.00", "55.46", "10.54", "19"),
        6: ("Nike Store Demo", "149.99", "126.04", "23.95", "19"),
        9: ("Zalando Demo", "66.99", "56.29", "10.70", "19"),  # unsold stock
    }
    for unit, (supplier, gross, net, vat, rate) in expected.items():
        p = purchases[unit]
        assert (p.supplier, p.gross_price, p.net_price, p.vat_amount, p.vat_rate) == (
            supplier, Decimal(gross), Decimal(net), Decimal(vat), Decimal(rate))  # fmt: skip
    for p in purchases:
        assert p.gross_price == p.gross_price.quantize(Decimal("0.01")) > 0
        if p.supplier in SHOPS:
            assert p.vat and p.net_price == (p.gross_price / Decimal("1.19")).quantize(
                Decimal("0.01"), rounding=ROUND_HALF_UP)  # fmt: skip
        else:
            assert p.supplier in PRIVATE and not p.vat
            assert p.net_price == p.gross_price and p.vat_rate == 0
            assert p.supplier_order_number == p.invoice_number == ""


def test_cost_follows_the_sale_mostly_profitable_some_losses(purchases, by_order):
    profits = [Decimal(by_order[p.sale_order_number][PAYOUT]) - p.net_price for p in purchases if p.sold]
    losses = sum(profit < 0 for profit in profits)
    assert losses == 180 and 0.05 * N < losses < 0.2 * N
    assert sum(profits) == Decimal("70380.30")
    catalog = {p.item: p for p in demo_data.CATALOG}
    for p in purchases:
        if p.vat:
            assert p.gross_price <= catalog[p.product_name].retail  # a shop never charges above retail


def test_suppliers_sell_what_they_stock(purchases):
    brand_stores = {s.name: s.brands for s in DEMO_SUPPLIERS if s.brands}
    for p in purchases:
        if p.supplier in brand_stores:
            assert p.brand in brand_stores[p.supplier]
        if p.style_code == "N/A":
            assert p.supplier in {"Galeria Demo", *PRIVATE}
        else:
            assert p.supplier != "Galeria Demo"
    counts = Counter(p.supplier for p in purchases)
    assert set(counts) == {s.name for s in DEMO_SUPPLIERS}
    assert counts["Solebox Demo"] == 398 and counts["Privat Kleinanzeigen Demo"] == 194


def test_unsold_stock_is_eight_percent_bought_in_the_last_four_months(purchases):
    unsold = [p for p in purchases if not p.sold]
    assert len(unsold) == round(N * 0.08) == 160
    assert len(purchases) == N + 160
    for p in unsold:
        assert p.sale_date is None and not p.order_number_recorded and p.notes == ""
        assert END - timedelta(days=120) < p.purchase_date <= END
        source = purchases[p.unit - 1]  # restocked from the sale just before it
        assert source.sold and (source.style_code, source.product_name) == (p.style_code, p.product_name)
        assert p.book == source.book
    assert sum(p.delivery_date is None for p in unsold) == 3  # ordered in the last days: still incoming


def test_about_30_percent_note_their_stockx_order_number(purchases):
    sold = [p for p in purchases if p.sold]
    recorded = [p for p in sold if p.order_number_recorded]
    assert len(recorded) == 660  # 0.33 of the sales
    assert all(p.style_code != "N/A" or p.order_number_recorded for p in sold)  # nothing else links them
    assert all(p.notes == f"StockX order {p.sale_order_number}" for p in recorded)
    assert all(p.notes == "" for p in purchases if not p.order_number_recorded)


def test_same_seed_same_purchases_other_seed_other_purchases(purchases):
    stream = iter_purchases(N, seed=SEED)
    assert iter(stream) is stream
    assert list(stream) == purchases
    assert generate_purchases(N, seed=8) != purchases
    assert generate_sales(N, seed=SEED) == generate_sales(N, seed=SEED)  # the sales are untouched


def test_split_is_disjoint_and_complete_by_sale_date(purchases):
    sheet, notion = split_purchases(purchases)
    assert (len(sheet), len(notion)) == (1385, 775)
    sheet_units, notion_units = {p.unit for p in sheet}, {p.unit for p in notion}
    assert not sheet_units & notion_units
    assert sheet_units | notion_units == {p.unit for p in purchases}
    assert all(p.book == "sheet" for p in sheet) and all(p.book == "notion" for p in notion)
    assert all(p.sale_date < CUTOVER for p in sheet if p.sold)
    assert all(p.sale_date >= CUTOVER for p in notion if p.sold)
    assert (sum(p.sold for p in sheet), sum(p.sold for p in notion)) == (1285, 715)
    assert (sum(not p.sold for p in sheet), sum(not p.sold for p in notion)) == (100, 60)
    for book in (sheet, notion):
        assert [p.purchase_date for p in book] == sorted(p.purchase_date for p in book)


def test_the_sheet_is_the_purchases_sheet_format_and_byte_identical_on_rerun(tmp_path, purchases):
    path = write_demo_purchases_sheet(tmp_path, n_sales=N, seed=SEED)
    assert path == tmp_path / PURCHASES_SHEET_NAME == tmp_path / "Demo Sneakers GmbH - Purchases.csv"
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\r\n") == 1386
    headers = [c["header"] for c in yaml.safe_load(FORMAT_YAML.read_text(encoding="utf-8"))["columns"]]
    # the format's columns in order, then "Sale ID" (unmapped: kept in _extra, read by staging)
    assert list(PURCHASES_SHEET_HEADER) == [*headers, "Sale ID"]
    stat = path.stat()
    assert write_demo_purchases_sheet(tmp_path, n_sales=N, seed=SEED) == path
    assert path.read_bytes() == raw and path.stat().st_mtime_ns == stat.st_mtime_ns  # untouched
    assert hashlib.sha256(raw).hexdigest() == (
        "a7fdf924d46248b96fc295193580d259c50c1d299d20d851ce8db9f7eca51d69")  # fmt: skip

    fmt = load_format("purchases_sheet")
    parsed = list(parse_csv(fmt, path)[1])
    assert len(parsed) == 1385 and all(isinstance(r, ParsedRow) for r in parsed)
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    sheet, _ = split_purchases(purchases)
    assert [r["Style Code"] for r in rows] == [p.style_code for p in sheet]
    first = rows[0]
    assert first == {
        "Purchase Date": "2022-09-13", "Supplier": "Privat Kleinanzeigen Demo", "Style Code": "HQ4540",
        "Product": "adidas Yeezy Boost 350 V2 Onyx", "Brand": "adidas", "Size": "9", "Quantity": "1",
        "Net Price": "235.00", "Gross Price": "235.00", "VAT Rate": "0", "Currency": "EUR",
        "Order Number": "", "Invoice Number": "", "Delivery Date": "2022-09-14",
        "Notes": "StockX order 29502565-29391235", "Sale ID": "29502565-29391235",
    }  # fmt: skip
    shop = next(r for r in rows if r["Supplier"] == "Solebox Demo")
    assert (shop["Gross Price"], shop["Net Price"], shop["VAT Rate"]) == ("53.99", "45.37", "19")


def test_write_purchases_sheet_writes_the_given_rows(tmp_path, purchases):
    path = tmp_path / "sub" / "few.csv"
    assert write_purchases_sheet(path, purchases[:3]) == 3
    lines = path.read_bytes().split(b"\r\n")
    assert lines[1] == (b"2022-11-23,Solebox Demo,DO5295-010,Nike x Stussy Fleece Hoodie Black,Nike,L,1,"
                        b"89.07,105.99,19,EUR,SB-3975198,RE-2022-91667,2022-11-27,StockX order 29464844-29353514,"
                        b"29464844-29353514")
    assert lines[4] == b""


# -- the Notion share, as the simulator seeds it ------------------------------------------------


@pytest.fixture(scope="module")
def notion_workspace():
    return build_demo_workspace(N, seed=SEED)


def _text(page, name: str) -> str | None:
    return "".join(item["plain_text"] for item in page.values.get(name) or []) or None


def test_notion_holds_exactly_the_notion_share_and_its_stockx_sales(notion_workspace, purchases, by_order):
    ws, ids = notion_workspace
    _, notion = split_purchases(purchases)
    pages = {db: [p for p in ws.pages.values() if p.db == db] for db in ("purchases", "sales")}
    assert (len(pages["purchases"]), len(pages["sales"])) == (775, 715)
    by_id = {page.id: page for page in pages["purchases"]}
    for p in notion:
        page = by_id[ids[f"purchase:{p.unit}"]]
        values = page.values
        assert (_text(page, "SKU"), values["Size"]) == (
            (p.style_code, p.size) if p.style_code != "N/A" else (None, None))  # fmt: skip
        assert (values["Supplier"], values["VAT?"], values["Buy Date"]["start"]) == (
            p.supplier, p.vat, p.purchase_date.isoformat())  # fmt: skip
        assert (Decimal(str(values["Gross Buy"])), Decimal(str(values["Net Buy"]))) == (p.gross_price, p.net_price)
        assert values["Status"] == ("Sale completed" if p.sold else "Available" if p.delivery_date else "Incoming")
        if not p.sold:
            assert not values.get("Sale")
            continue
        [sale_id] = values["Sale"]
        sale = ws.pages[sale_id]
        row = by_order[p.sale_order_number]
        assert _text(sale, "Sale ID") == row["Order Number"] == p.sale_order_number
        assert sale.values["Purchase"] == [page.id]
        assert sale.values["Sale Platform"] == "StockX"
        assert sale.values["Sale Date"]["start"] == row["Sale Date"][:10]
        assert Decimal(str(sale.values["Gross Sale"])) == Decimal(row["Listing Price"])
        assert Decimal(str(sale.values["Net Sale"])) == Decimal(row[PAYOUT])
    sale_ids = [_text(s, "Sale ID") for s in pages["sales"]]
    assert len(set(sale_ids)) == 715 and set(sale_ids) <= set(by_order)
    assert all(_sale_day(by_order[i]) >= CUTOVER for i in sale_ids)  # none of the sheet's sales


def test_notion_demo_keeps_every_property_type_of_the_default_mapping(notion_workspace):
    ws, _ = notion_workspace
    mapping = load_mapping(env={})
    for name, db in mapping.databases.items():
        props = ws.databases[name].props
        for column in db.columns:
            assert props[column.property].type == column.notion_type, (name, column.property)
        assert db.database_id == ws.databases[name].database_id
        assert db.data_source_id == ws.databases[name].data_source_id
    assert build_demo_workspace(60, seed=3)[1] == build_demo_workspace(60, seed=3)[1]  # same page ids
