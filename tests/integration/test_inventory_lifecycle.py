"""Inventory lifecycle (issue 5, point 1) on real PostgreSQL: products.inventory_items,
products.inventory_status_history and transactions.fct_returns.

A small hand-made dataset goes through the real loaders - a purchases sheet, a sales sheet, a
StockX seller report, StockX API orders and Notion page *versions* in the Notion sync's table
format (raw.notion_purchases keeps every version of a page) - and the lifecycle models are
built with everything upstream of them and their tests. Every expected status, timestamp and amount is written out below from the inputs, never
read back from the models' logic. The one input taken from the warehouse is the load time of
the sheet lines whose notes say "lost" / "Retoure" (the sheet has no date for that; the rule
is "from when SoleFlipper saw the note").

Items (purchase date -> what happens), and the history each must have:

S1 sheet   CW2288-111 / 9    01-10, delivered 01-12, sold on StockX 02-15 09:30
S2 sheet   DD1391-100 / 10   01-20, no delivery date, never sold (its recorded StockX order was
                             cancelled): in stock from the purchase date (assumed)
S3 sheet   DV0833-105 / 9.5  02-01, delivered 02-03, notes "Lost - stolen from storage": written off
S4 sheet   IF6442 / 42 2/3   03-01, delivered 03-05, sales sheet Return row of its order 03-10
S5 sheet   555088-134 / 11   03-15, no delivery date, sold locally 04-01 (sheet): no in_stock row;
                             notes "lost box, shoes fine" are no write-off (strict rule)
S6 sheet   FZ5808 / 11       04-10, notes "Retoure.": returned to supplier, at load time
S7 sheet   B75806 / 8 x2     04-20, delivered 04-22: two items in stock
N1 Notion  CT8012-116 / 10   05-01 Incoming, 05-04 Available, listed 05-05, delisted 05-20,
                             listed again (StockX + Alias) 06-01
N2 Notion  DZ5485-612 / 9    06-05, delivered 06-09, Consigned 06-11, sold on StockX 07-01 10:00
N3 Notion  DQ8426-067 / 10   07-10 Incoming, Cancelled 07-12 15:00: no item, purchase_cancelled
N4 Notion  FB2362-100 / 8    07-30, delivered 08-01, Notion sale page "Return" dated 08-09
N5 Notion  DH6927-111 / 10   08-28, Available 09-01, Lost 09-03, Available 09-04 (found),
                             Written off 09-05, re-edited 09-06: written off from 09-05
N6 Notion  DV1748-601 / 9    10-01 Incoming but listed, 10-03 listing withdrawn, 10-05 Available
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from dbt_runner import dbt_ok
from warehouse_datasets import (
    STOCKX_REPORT_HEADER,
    load_clean,
    notion_relation,
    stockx_api_order,
    stockx_report_rows,
    write_csv,
)

from assets.notion_sync import build_format, ensure_notion_tables
from resources.warehouse import ensure_all_raw_tables, load_rows
from soleflipper.formats import load_format
from soleflipper.notion_mappings import load_mapping
from soleflipper.record_parsing import parse_records


def ts(text: str) -> datetime:
    """'2024-05-04 10:00' (UTC) -> aware datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def day(text: str) -> datetime:
    return ts(f"{text} 00:00")


ORDER_S1, ORDER_N2 = "22222222-00000002", "44444444-00000004"
ORDER_CANCELLED, ORDER_RETURNED = "77777777-00000007", "88888888-00000008"

# ---------------------------------------------------------------------------- StockX
REPORT_SALES = {
    ORDER_S1: ("2024-02-15 09:30:00 +00", "Nike Air Force 1 White", "9", "CW2288-111", "160", "140.00"),
    ORDER_N2: ("2024-07-01 10:00:00 +00", "Jordan 1 High Chicago", "9", "DZ5485-612", "300", "270.00"),
}


def stockx_order(number: str, status: str, amount: str, updated: str, notes: str | None = None) -> dict:
    order = stockx_api_order(number, "2024-03-01T08:00:00.000Z", "DD1391-100", "10", None, status)
    order.update({"amount": amount, "updatedAt": updated})
    if notes:
        order["authenticationDetails"] = {"status": "FAILED", "failureNotes": notes}
    return order


API_ORDERS = [
    # the pair S2 was sold in this order (its Sale ID), the buyer cancelled: S2 stays in stock
    stockx_order(ORDER_CANCELLED, "CANCELED", "150", "2024-03-02T09:15:00.000Z"),
    stockx_order(ORDER_RETURNED, "RETURNED", "200", "2024-03-20T16:45:00.000Z", "Used: creasing"),
]

# ---------------------------------------------------------------------------- sheets
PURCHASES_HEADER = ["Purchase Date", "Supplier", "Style Code", "Product", "Brand", "Size", "Quantity", "Net Price",
                    "Gross Price", "VAT Rate", "Currency", "Order Number", "Invoice Number", "Delivery Date", "Notes",
                    "Sale ID"]
PURCHASES = [
    ["2024-01-10", "Snipes", "CW2288-111", "Air Force 1", "Nike", "9", "1", "", "100.00", "19", "EUR", "SN-1", "",
     "2024-01-12", "", ""],  # S1
    ["2024-01-20", "Solebox, Berlin", "DD1391-100", "Dunk Low", "Nike", "10", "1", "", "119.00", "19", "EUR", "SB-2",
     "", "", "", ORDER_CANCELLED],  # S2
    ["2024-02-01", "Zalando", "DV0833-105", "Dunk Low", "Nike", "9.5", "1", "", "95.00", "19", "EUR", "ZA-1", "",
     "2024-02-03", "Lost - stolen from storage", ""],  # S3
    ["2024-03-01", "Zalando", "IF6442", "Samba OG", "adidas", "42 2/3", "1", "200.00", "238.00", "19", "EUR",
     "ZA-4411", "", "2024-03-05", "", ""],  # S4
    ["2024-03-15", "Footlocker", "555088-134", "Jordan 1 High", "Jordan", "11", "1", "", "180.00", "19", "EUR", "FL-5",
     "", "", "lost box, shoes fine", ""],  # S5
    ["2024-04-10", "Kickz", "FZ5808", "Forum Low", "adidas", "11", "1", "", "120.00", "19", "EUR", "KZ-6", "", "",
     "Retoure.", ""],  # S6
    ["2024-04-20", "Adidas", "B75806", "Samba OG", "adidas", "8", "2", "", "95.00", "19", "EUR", "AD-7", "",
     "2024-04-22", "", ""],  # S7
]
SALES_HEADER = ["Sale Date", "Platform", "Order Number", "Style Code", "Product", "Size", "Sale Price", "Fees",
                "Payout", "Currency", "Notes"]
SALES = [
    ["2024-04-01", "Local", "", "555088-134", "Jordan 1 High", "11", "210.00", "", "", "EUR", "cash"],  # S5 sold
    ["2024-03-10", "Return", "ZA-4411", "IF6442", "Samba OG", "42 2/3", "238.00", "", "", "EUR", ""],  # S4 back
    ["2024-05-02", "Retoure", "XX-999", "", "unknown pair", "", "80.00", "", "", "EUR", ""],  # no purchase known
]

# ---------------------------------------------------------------------------- Notion
PAGE = {name: f"a0000000-0000-4000-8000-00000000000{i}" for i, name in enumerate(
    ("N1", "N2", "N3", "N4", "N5", "N6"), start=1)}
SALE_PAGE_N2 = "b0000000-0000-4000-8000-000000000002"
SALE_PAGE_N4 = "b0000000-0000-4000-8000-000000000004"
SALE_PAGE_ORPHAN = "b0000000-0000-4000-8000-000000000009"


def version(page: str, edited: str, created: str, **values) -> dict:
    return {"page_id": PAGE.get(page, page), "last_edited_time": edited, "created_time": created,
            "in_trash": False, "archived": False, "url": f"https://www.notion.so/{page}",
            "page": {"object": "page", "id": PAGE.get(page, page), "edited": edited}, **values}


def purchase_versions(page: str, created: str, base: dict, steps: list[tuple[str, dict]]) -> list[dict]:
    """One version per step: the page's values so far, updated by the step's changes."""
    values, out = dict(base), []
    for edited, changes in steps:
        values.update(changes)
        out.append(version(page, edited, created, **values))
    return out


def notion_base(sku: str, size: str, gross: str, bought: str, **more) -> dict:
    return {"sku": sku, "size": size, "supplier": "Nike", "gross_buy": gross, "vat_included": True,
            "buy_date": bought, "listed_stockx": False, "listed_alias": False, "listed_local": False, **more}


NOTION_PURCHASES = [
    *purchase_versions("N1", "2024-05-01T08:00:00Z", notion_base("CT8012-116", "10 US", "190", "2024-05-01"), [
        ("2024-05-01T08:00:00Z", {"status": "Incoming"}),
        ("2024-05-04T10:00:00Z", {"status": "Available"}),
        ("2024-05-05T12:00:00Z", {"listed_stockx": True}),
        ("2024-05-20T09:00:00Z", {"listed_stockx": False}),
        ("2024-06-01T09:00:00Z", {"listed_stockx": True, "listed_alias": True}),
    ]),
    *purchase_versions("N2", "2024-06-05T08:00:00Z", notion_base("DZ5485-612", "9 US", "180", "2024-06-05",
                                                                 delivery_date="2024-06-09"), [
        ("2024-06-10T10:00:00Z", {"status": "Available"}),
        ("2024-06-11T10:00:00Z", {"status": "Consigned"}),
        ("2024-07-01T12:00:00Z", {"status": "Sale completed", "sale_page_ids": notion_relation(SALE_PAGE_N2)}),
    ]),
    *purchase_versions("N3", "2024-07-10T08:00:00Z", notion_base("DQ8426-067", "10 US", "150", "2024-07-10",
                                                                 supplier_order_number="NK-3"), [
        ("2024-07-10T08:00:00Z", {"status": "Incoming"}),
        ("2024-07-12T15:00:00Z", {"status": "Cancelled"}),
    ]),
    *purchase_versions("N4", "2024-07-30T08:00:00Z", notion_base("FB2362-100", "8 US", "125", "2024-07-30",
                                                                 delivery_date="2024-08-01"), [
        ("2024-08-01T09:00:00Z", {"status": "Available"}),
        ("2024-08-10T09:00:00Z", {"sale_page_ids": notion_relation(SALE_PAGE_N4)}),
    ]),
    *purchase_versions("N5", "2024-08-28T08:00:00Z", notion_base("DH6927-111", "10 US", "110", "2024-08-28"), [
        ("2024-09-01T08:00:00Z", {"status": "Available"}),
        ("2024-09-03T08:00:00Z", {"status": "Lost"}),
        ("2024-09-04T08:00:00Z", {"status": "Available"}),
        ("2024-09-05T08:00:00Z", {"status": "Written off"}),
        ("2024-09-06T08:00:00Z", {"status": "written off ", "listed_local": False}),
    ]),
    *purchase_versions("N6", "2024-10-01T08:00:00Z", notion_base("DV1748-601", "9 US", "130", "2024-10-01"), [
        ("2024-10-01T08:00:00Z", {"status": "Incoming", "listed_stockx": True}),
        ("2024-10-03T08:00:00Z", {"listed_stockx": False}),
        ("2024-10-05T10:00:00Z", {"status": "Available"}),
    ]),
]
# a version in the trash says nothing about the pair (N1 was trashed by mistake and restored)
NOTION_PURCHASES.insert(3, {**NOTION_PURCHASES[2], "last_edited_time": "2024-05-06T12:00:00Z", "in_trash": True,
                            "listed_stockx": False})
NOTION_PURCHASES.insert(4, {**NOTION_PURCHASES[2], "last_edited_time": "2024-05-07T12:00:00Z"})

NOTION_SALES = [
    version(SALE_PAGE_N2, "2024-07-01T12:00:00Z", "2024-07-01T11:00:00Z", sku="DZ5485-612", size="9 US",
            sale_id=ORDER_N2, sale_platform="StockX", sale_date="2024-07-01", gross_sale="300", net_sale="270",
            purchase_page_ids=notion_relation(PAGE["N2"])),
    version(SALE_PAGE_N4, "2024-08-10T09:00:00Z", "2024-08-10T08:00:00Z", sku="FB2362-100", size="8 US",
            sale_platform="Return", sale_date="2024-08-09", gross_sale="120", net_sale="120",
            purchase_page_ids=notion_relation(PAGE["N4"])),
    version(SALE_PAGE_ORPHAN, "2024-09-20T09:00:00Z", "2024-09-20T08:00:00Z", sku="DD1391-100", size="10 US",
            sale_platform="Return", sale_date="2024-09-19", gross_sale="60"),
]


def load_dataset(conn, tmp_path: Path) -> None:
    ensure_all_raw_tables(conn)
    mapping = load_mapping()
    ensure_notion_tables(conn, mapping.databases.values())
    load_clean(conn, "stockx_sales_report", write_csv(tmp_path / "report.csv", STOCKX_REPORT_HEADER, stockx_report_rows(REPORT_SALES)))
    fmt = load_format("stockx_orders")
    result = load_rows(conn, fmt, parse_records(fmt, API_ORDERS), source="GET /selling/orders/history")
    assert (result.rows_loaded, result.rows_quarantined) == (len(API_ORDERS), 0)
    load_clean(conn, "purchases_sheet", write_csv(tmp_path / "purchases.csv", PURCHASES_HEADER, PURCHASES))
    load_clean(conn, "sales_sheet", write_csv(tmp_path / "sales.csv", SALES_HEADER, SALES))
    for name, pages in (("purchases", NOTION_PURCHASES), ("sales", NOTION_SALES)):
        fmt = build_format(mapping.databases[name])
        result = load_rows(conn, fmt, parse_records(fmt, pages), source=f"notion:{name}")
        assert (result.rows_loaded, result.rows_quarantined) == (len(pages), 0)
    conn.commit()


def test_inventory_statuses_history_and_returns(conn, database_url, tmp_path):
    load_dataset(conn, tmp_path)
    # The lifecycle models and everything upstream, with their tests (the whole project is built
    # green on sample data by test_purchase_sale_linking and the e2e pipeline test).
    dbt_ok(database_url, tmp_path / "build", "build", "--indirect-selection", "cautious",
        "-s", "+inventory_items", "+inventory_status_history", "+fct_returns")
    results = json.loads((tmp_path / "build" / "run_results.json").read_text())["results"]
    tests = {r["unique_id"]: r["status"] for r in results if r["unique_id"].startswith("test.")}
    assert len(tests) > 50 and set(tests.values()) == {"pass"}
    for name in ("assert_inventory_history_is_contiguous_with_one_open_row",
                 "assert_returns_cover_cancelled_and_returned_purchases"):
        assert tests[f"test.soleflipper.{name}"] == "pass"
    check_lifecycle(conn)

    # Rebuilt in place (stable_replace), never dropped: the KPI views built on them survive.
    relations = ("products.inventory_items", "products.inventory_status_history", "transactions.fct_returns")
    snapshot = "select * from {} order by 1"

    def state() -> dict[str, tuple[int, list[tuple]]]:
        return {name: (conn.execute("select %s::regclass::oid", (name,)).fetchone()[0],
                       conn.execute(snapshot.format(name)).fetchall()) for name in relations}

    before = state()
    conn.commit()
    dbt_ok(database_url, tmp_path / "again", "build", "--indirect-selection", "cautious",
        "-s", "inventory_status_history", "inventory_items", "fct_returns")
    assert state() == before


def check_lifecycle(conn) -> None:
    # -- which purchase unit is which item
    ids = dict(conn.execute(
        "select style_code || coalesce('#' || unit_index, ''), purchase_id from transactions.fct_purchases").fetchall())
    item = {
        "S1": ids["CW2288-111#1"], "S2": ids["DD1391-100#1"], "S3": ids["DV0833-105#1"], "S4": ids["IF6442#1"],
        "S5": ids["555088-134#1"], "S6": ids["FZ5808#1"], "S7a": ids["B75806#1"], "S7b": ids["B75806#2"],
        **{name: f"notion_purchases:{page}:1" for name, page in PAGE.items()},
    }
    assert ids["DQ8426-067#1"] == item["N3"]
    line = {name: pid.rsplit(":", 1)[0] for name, pid in item.items()}
    loaded_at = dict(conn.execute(
        "select notes, _loaded_at from raw.sheets_purchases where notes in ('Lost - stolen from storage', 'Retoure.')"
    ).fetchall())
    lost_seen, retoure_seen = loaded_at["Lost - stolen from storage"], loaded_at["Retoure."]
    sales_rows = dict(conn.execute(
        "select coalesce(order_number, 'local'), 'sales_sheet:' || _row_hash from raw.sheets_sales").fetchall())
    s4_return, s5_sale_id = sales_rows["ZA-4411"], f"in_person:{sales_rows['local']}"

    # -- the history of every item, exactly
    rows = conn.execute(
        "select inventory_item_id, status_index, status, valid_from, valid_to, source, source_record, previous_status"
        " from products.inventory_status_history order by inventory_item_id, status_index").fetchall()
    history: dict[str, list[tuple]] = {}
    for item_id, index, st, start, _end, source, record, previous in rows:
        history.setdefault(item_id, []).append((st, start, source, record))
        assert index == len(history[item_id])
        if previous is None:
            assert index == 1
    # contiguity, checked here too (not only by the singular test)
    for item_id in history:
        chain = [r for r in rows if r[0] == item_id]
        assert [r[4] for r in chain] == [r[3] for r in chain[1:]] + [None]

    def v(page: str, edited: str) -> str:
        return f"notion_purchases:{PAGE[page]}@{edited}"

    assert history == {
        item["S1"]: [("purchased", day("2024-01-10"), "purchase_date", line["S1"]),
                     ("in_stock", day("2024-01-12"), "delivery_date", line["S1"]),
                     ("sold", ts("2024-02-15 09:30"), "sale", f"fct_sale_units:stockx:{ORDER_S1}#1")],
        # no delivery date, no sale: in stock from the purchase day, no purchased row
        item["S2"]: [("in_stock", day("2024-01-20"), "purchase_date_assumed", line["S2"])],
        item["S3"]: [("purchased", day("2024-02-01"), "purchase_date", line["S3"]),
                     ("in_stock", day("2024-02-03"), "delivery_date", line["S3"]),
                     ("written_off", lost_seen, "sheet_notes", item["S3"])],
        item["S4"]: [("purchased", day("2024-03-01"), "purchase_date", line["S4"]),
                     ("in_stock", day("2024-03-05"), "delivery_date", line["S4"]),
                     ("returned", day("2024-03-10"), "sales_sheet", s4_return)],
        # sold without a recorded arrival: purchased -> sold
        item["S5"]: [("purchased", day("2024-03-15"), "purchase_date", line["S5"]),
                     ("sold", day("2024-04-01"), "sale", f"fct_sale_units:{s5_sale_id}#1")],
        item["S6"]: [("in_stock", day("2024-04-10"), "purchase_date_assumed", line["S6"]),
                     ("returned", retoure_seen, "sheet_notes", item["S6"])],
        item["S7a"]: [("purchased", day("2024-04-20"), "purchase_date", line["S7a"]),
                      ("in_stock", day("2024-04-22"), "delivery_date", line["S7a"])],
        item["S7b"]: [("purchased", day("2024-04-20"), "purchase_date", line["S7b"]),
                      ("in_stock", day("2024-04-22"), "delivery_date", line["S7b"])],
        item["N1"]: [("purchased", day("2024-05-01"), "purchase_date", line["N1"]),
                     ("in_stock", ts("2024-05-04 10:00"), "notion_status", v("N1", "2024-05-04T10:00:00Z")),
                     ("listed", ts("2024-05-05 12:00"), "notion_listing", v("N1", "2024-05-05T12:00:00Z")),
                     # the trashed version (05-06) is ignored; the restored one changes nothing
                     ("in_stock", ts("2024-05-20 09:00"), "notion_listing", v("N1", "2024-05-20T09:00:00Z")),
                     ("listed", ts("2024-06-01 09:00"), "notion_listing", v("N1", "2024-06-01T09:00:00Z"))],
        item["N2"]: [("purchased", day("2024-06-05"), "purchase_date", line["N2"]),
                     ("in_stock", day("2024-06-09"), "delivery_date", line["N2"]),
                     ("listed", ts("2024-06-11 10:00"), "notion_listing", v("N2", "2024-06-11T10:00:00Z")),
                     ("sold", ts("2024-07-01 10:00"), "sale", f"fct_sale_units:stockx:{ORDER_N2}#1")],
        item["N4"]: [("purchased", day("2024-07-30"), "purchase_date", line["N4"]),
                     ("in_stock", day("2024-08-01"), "delivery_date", line["N4"]),
                     ("returned", day("2024-08-09"), "notion_sales", f"notion_sales:{SALE_PAGE_N4}")],
        # Lost on 09-03 was taken back on 09-04: written off from the final run's first version
        item["N5"]: [("purchased", day("2024-08-28"), "purchase_date", line["N5"]),
                     ("in_stock", ts("2024-09-01 08:00"), "notion_status", v("N5", "2024-09-01T08:00:00Z")),
                     ("written_off", ts("2024-09-05 08:00"), "notion_status", f"notion_purchases:{PAGE['N5']}")],
        # listed before it arrived, the listing withdrawn: back to purchased, then in stock
        item["N6"]: [("purchased", day("2024-10-01"), "purchase_date", line["N6"]),
                     ("listed", ts("2024-10-01 08:00"), "notion_listing", v("N6", "2024-10-01T08:00:00Z")),
                     ("purchased", ts("2024-10-03 08:00"), "notion_listing", v("N6", "2024-10-03T08:00:00Z")),
                     ("in_stock", ts("2024-10-05 10:00"), "notion_status", v("N6", "2024-10-05T10:00:00Z"))],
    }

    # -- inventory_items: current status = the open row; the sale; costs; listing platforms
    items = {row[0]: row[1:] for row in conn.execute(
        "select inventory_item_id, current_status, status_since, sale_id, platform, sold_at, listed_platforms,"
        " supplier_key, net_cost_amount, net_cost_currency, gross_cost_amount, vat_amount, purchased_at"
        " from products.inventory_items").fetchall()}
    assert set(items) == set(item.values()) - {item["N3"]}  # the cancelled purchase is no item
    current = {name: items[pid][:6] for name, pid in item.items() if name != "N3"}
    assert current == {
        "S1": ("sold", ts("2024-02-15 09:30"), f"stockx:{ORDER_S1}", "stockx", ts("2024-02-15 09:30"), None),
        "S2": ("in_stock", day("2024-01-20"), None, None, None, None),
        "S3": ("written_off", lost_seen, None, None, None, None),
        "S4": ("returned", day("2024-03-10"), None, None, None, None),
        "S5": ("sold", day("2024-04-01"), s5_sale_id, "in_person", day("2024-04-01"), None),
        "S6": ("returned", retoure_seen, None, None, None, None),
        "S7a": ("in_stock", day("2024-04-22"), None, None, None, None),
        "S7b": ("in_stock", day("2024-04-22"), None, None, None, None),
        "N1": ("listed", ts("2024-06-01 09:00"), None, None, None, "stockx,alias"),
        "N2": ("sold", ts("2024-07-01 10:00"), f"stockx:{ORDER_N2}", "stockx", ts("2024-07-01 10:00"), None),
        "N4": ("returned", day("2024-08-09"), None, None, None, None),
        "N5": ("written_off", ts("2024-09-05 08:00"), None, None, None, None),
        "N6": ("in_stock", ts("2024-10-05 10:00"), None, None, None, None),
    }
    # costs per pair with their currency (net from gross at 19 %: 119.00 -> 100.00)
    assert items[item["S2"]][6:] == ("solebox-berlin", Decimal("100.00"), "EUR", Decimal("119.00"),
                                     Decimal("19.00"), day("2024-01-20"))
    assert items[item["N1"]][6:] == ("nike", Decimal("159.66"), "EUR", Decimal("190.00"), Decimal("30.34"),
                                     day("2024-05-01"))

    # -- fct_returns: every cancellation and return, with amounts and currencies
    returns = {row[0]: row[1:] for row in conn.execute(
        "select return_id, kind, platform, order_number, purchase_id, occurred_at, amount, amount_currency,"
        " source_system, reason from transactions.fct_returns").fetchall()}
    s4_row = f"returned_to_supplier:{s4_return}#{item['S4']}"
    orphan_sheet_row = f"returned_to_supplier:{sales_rows['XX-999']}"
    assert returns == {
        f"order_cancelled:stockx:{ORDER_CANCELLED}": (
            "order_cancelled", "stockx", ORDER_CANCELLED, item["S2"], ts("2024-03-02 09:15"), Decimal("150.00"), "EUR",
            "stockx_orders", "StockX order status CANCELED"),
        f"buyer_return:stockx:{ORDER_RETURNED}": (
            "buyer_return", "stockx", ORDER_RETURNED, None, ts("2024-03-20 16:45"), Decimal("200.00"), "EUR",
            "stockx_orders", "StockX order status RETURNED (Used: creasing)"),
        s4_row: ("returned_to_supplier", None, "ZA-4411", item["S4"], day("2024-03-10"), Decimal("238.00"), "EUR",
                 "sales_sheet", "sales sheet row with platform Return"),
        orphan_sheet_row: ("returned_to_supplier", None, "XX-999", None, day("2024-05-02"), Decimal("80.00"), "EUR",
                           "sales_sheet", "sales sheet row with platform Retoure"),
        f"returned_to_supplier:{item['S6']}": (
            "returned_to_supplier", None, "KZ-6", item["S6"], retoure_seen, Decimal("120.00"), "EUR",
            "purchases_sheet", "purchases sheet notes: Retoure."),
        f"returned_to_supplier:notion_sales:{SALE_PAGE_N4}#{item['N4']}": (
            "returned_to_supplier", None, None, item["N4"], day("2024-08-09"), Decimal("120.00"), "EUR",
            "notion_sales", "Notion sale with platform Return"),
        f"returned_to_supplier:notion_sales:{SALE_PAGE_ORPHAN}": (
            "returned_to_supplier", None, None, None, day("2024-09-19"), Decimal("60.00"), "EUR",
            "notion_sales", "Notion sale with platform Return"),
        f"purchase_cancelled:{item['N3']}": (
            "purchase_cancelled", None, "NK-3", item["N3"], ts("2024-07-12 15:00"), Decimal("150.00"), "EUR",
            "notion_purchases", "purchase status Cancelled"),
    }
    # written-off pairs are no returns
    assert not {item["S3"], item["N5"]} & {r[3] for r in returns.values()}
