"""Purchases linked to sales at unit level (issue 4, point 5) on real PostgreSQL.

A small hand-made dataset goes through the real loaders (CSV sheets, a StockX seller report,
StockX API orders, Notion page versions in the Notion sync's table format) and the whole dbt
project is built. Every expected number is written out here or computed with Decimal from
the inputs below, never read back from the warehouse's own logic:

* transactions.fct_sales: one row per sale across sources; the report wins over the API and a
  Notion page of a StockX order only enriches it;
* transactions.fct_purchases: one row per unit, net from gross at 19 % to the cent;
* int_purchase_sale_links / fct_sale_units: recorded order number first, then FIFO by style
  and size; unlinked_sales and unsold_purchases with their reasons.

A second test builds the project on the demo StockX reports plus every sample file in
tests/fixtures and requires every dbt test to pass.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from dbt_runner import dbt_build
from warehouse_datasets import (
    STOCKX_REPORT_HEADER,
    load_clean,
    notion_relation,
    stockx_api_order,
    stockx_report_rows,
    write_csv,
)

from assets.notion_sync import build_format, ensure_notion_tables
from resources.warehouse import ensure_all_raw_tables, load_file, load_rows
from soleflipper.formats import available_formats, load_format
from soleflipper.notion_mappings import load_mapping
from soleflipper.record_parsing import parse_records

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
FORMAT_NAMES = set(available_formats())
CENT = Decimal("0.01")


def net_from_gross(gross: str, rate: str = "0.19") -> Decimal:
    return (Decimal(gross) / (1 + Decimal(rate))).quantize(CENT, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------------------------- the dataset
#
# Scenario                                  style / size       purchases               sales
# R  recorded order number beats FIFO       DD1391-100 / 10    01-05 (none), 02-01     StockX 03-01 (+ API copy)
#                                                              (Sale ID = the order)
# F  FIFO: earliest purchase, earliest sale CW2288-111 / 9     01-10, 01-20            Laced sheet 02-10, StockX 02-15
# A  purchase after the sale                DV0833-105 / 9.5   04-10                   StockX 04-01
# N  sale without a purchase                555088-134 / 11    -                       local sheet sale 05-01
# U  purchase never sold (German sheet)     IF6442 / 42 2/3    06-01                   -
# Q  quantity 2                             B75806 / 8         06-15 x2                StockX API-only 07-01
# D  Notion duplicate of a report sale      CT8012-116 / 10    Notion 07-01            StockX 08-01 = Notion page,
#                                                                                      + Notion local sale 09-01

ORDER_R, ORDER_F, ORDER_A, ORDER_D = "11111111-00000001", "22222222-00000002", "33333333-00000003", "44444444-00000004"
ORDER_Q, ORDER_UNPAID = "55555555-00000005", "66666666-00000006"

# order number -> (sale time, item, size, style, listing price, payout)
REPORT_SALES = {
    ORDER_R: ("2024-03-01 10:00:00 +00", "Nike Dunk Low Panda", "10", "DD1391-100", "180", "160.00"),
    ORDER_F: ("2024-02-15 09:30:00 +00", "Nike Air Force 1 White", "9", "CW2288-111", "160", "140.00"),
    ORDER_A: ("2024-04-01 08:00:00 +00", "Nike Dunk Low Grey Fog", "9.5", "DV0833-105", "130", "110.00"),
    ORDER_D: ("2024-08-01 12:00:00 +00", "Jordan 1 Low", "10", "CT8012-116", "280", "250.00"),
}


API_ORDERS = [
    # the report's order R again, with another payout: the report's wins
    stockx_api_order(ORDER_R, "2024-03-01T10:00:00.000Z", "DD1391-100", "10",
              {"totalPayout": "150", "salePrice": "180", "totalAdjustments": "-30", "currencyCode": "EUR",
               "adjustments": []}, "COMPLETED"),
    # only in the API, paid out: a sale (fees as negative adjustments)
    stockx_api_order(ORDER_Q, "2024-07-01T12:00:00.000Z", "B75806", "8",
              {"totalPayout": "100", "salePrice": "120", "totalAdjustments": "-20", "currencyCode": "EUR",
               "adjustments": [{"adjustmentType": "Transaction Fee (9%)", "amount": "-10.80", "percentage": "0.09"},
                               {"adjustmentType": "Payment Proc. (3%)", "amount": "-3.60", "percentage": "0.03"},
                               {"adjustmentType": "Shipping", "amount": "-5.60", "percentage": "0"}]},
              "COMPLETED"),
    # not paid out yet: no sale
    stockx_api_order(ORDER_UNPAID, "2024-07-02T12:00:00.000Z", "B75806", "8", None, "CREATED"),
]

PURCHASES_HEADER = ["Purchase Date", "Supplier", "Style Code", "Product", "Brand", "Size", "Quantity", "Net Price",
                    "Gross Price", "VAT Rate", "Currency", "Order Number", "Invoice Number", "Delivery Date", "Notes",
                    "Sale ID"]  # not a column of the format: kept in _extra, read as the recorded sale
PURCHASES = [
    # R: an earlier purchase of the same size, and the one the reseller recorded the sale for
    ["2024-01-05", "Nike", "DD1391-100", "Dunk Low", "Nike", "10", "1", "", "119.00", "19", "EUR", "N-1", "", "", "", ""],
    ["2024-02-01", "Solebox", "DD1391 100", "Dunk Low", "Nike", "10", "1", "", "129.99", "", "EUR", "S-2", "", "", "",
     ORDER_R],
    # F: listed out of date order on purpose
    ["2024-01-20", "Snipes", "CW2288-111", "Air Force 1", "Nike", "9", "1", "", "110.00", "19", "EUR", "SN-2", "", "",
     "", ""],
    ["2024-01-10", "Snipes", "CW2288-111", "Air Force 1", "Nike", "9", "1", "", "100.00", "19", "EUR", "SN-1", "", "",
     "", ""],
    # A: bought after the only sale of that size; net and gross both given (kept as recorded)
    ["2024-04-10", "Zalando", "DV0833-105", "Dunk Low", "Nike", "9.5", "1", "70.00", "85.00", "", "EUR", "Z-1", "", "",
     "", ""],
    # Q: two pairs in one line
    ["2024-06-15", "Adidas", "B75806", "Samba OG", "adidas", "8", "2", "", "95.00", "19%", "EUR", "AD-7", "", "",
     "", ""],
]
PURCHASES_DE_HEADER = ["Kaufdatum", "Lieferant", "Artikelnummer", "Produkt", "Marke", "Größe", "Menge", "Netto",
                       "Brutto", "MwSt", "Währung", "Bestellnummer", "Rechnungsnummer", "Lieferdatum", "Notizen"]
PURCHASES_DE = [["01.06.2024", "Adidas", "IF6442", "Samba OG", "adidas", "42 2/3", "1", "", "238,00", "", "EUR",
                 "AD-1000231", "", "", ""]]  # U: never sold; no MwSt -> the default 19 %
SALES_HEADER = ["Sale Date", "Platform", "Order Number", "Style Code", "Product", "Size", "Sale Price", "Fees",
                "Payout", "Currency", "Notes"]
SALES = [
    ["2024-02-10", "Laced", "#100001", "CW2288-111", "Air Force 1", "9", "150.00", "20.00", "", "EUR", ""],  # F
    ["2024-05-01", "Local", "", "555088-134", "Jordan 1 High", "11", "200.00", "", "", "EUR", "cash"],  # N
]

NOTION_PURCHASE = "a0000000-0000-4000-8000-000000000001"
NOTION_SALE_STOCKX = "b0000000-0000-4000-8000-000000000001"
NOTION_SALE_LOCAL = "b0000000-0000-4000-8000-000000000002"
NOTION_SALE_TRASHED = "b0000000-0000-4000-8000-000000000003"


def notion_page(page_id: str, edited: str, trashed: bool = False, **values) -> dict:
    return {"page_id": page_id, "last_edited_time": edited, "created_time": "2024-06-01T08:00:00Z",
            "in_trash": trashed, "archived": trashed, "url": f"https://www.notion.so/{page_id.replace('-', '')}",
            "page": {"object": "page", "id": page_id}, **values}


NOTION_PURCHASES = [
    # D: bought with VAT, only the gross price noted; related to the StockX sale's page
    notion_page(NOTION_PURCHASE, "2024-08-02T10:00:00Z", sku="CT8012-116", size="10 US", size_system="US",
                supplier="Nike", gross_buy="190", vat_included=True, buy_date="2024-07-01",
                sale_page_ids=notion_relation(NOTION_SALE_STOCKX), status="Sale completed"),
]
NOTION_SALES = [
    # D: the report's order D again (net sale noted differently): no second sale
    notion_page(NOTION_SALE_STOCKX, "2024-08-02T10:00:00Z", sku="CT8012-116", size="10 US", sale_id=ORDER_D,
                sale_platform="StockX", sale_date="2024-08-01", gross_sale="280", net_sale="249",
                purchase_page_ids=notion_relation(NOTION_PURCHASE)),
    # a local sale only Notion knows, of the same style and size
    notion_page(NOTION_SALE_LOCAL, "2024-09-01T18:00:00Z", sku="CT8012-116", size="10 US",
                sale_platform="Kleinanzeigen", sale_date="2024-09-01", gross_sale="120", net_sale="120"),
    # a page that was trashed afterwards: no sale
    notion_page(NOTION_SALE_TRASHED, "2024-09-02T09:00:00Z", sku="CW2288-111", size="9 US", sale_id="77777777-1",
                sale_platform="StockX", sale_date="2024-09-02", gross_sale="170", net_sale="150"),
    notion_page(NOTION_SALE_TRASHED, "2024-09-03T09:00:00Z", trashed=True, sku="CW2288-111", size="9 US",
                sale_id="77777777-1", sale_platform="StockX", sale_date="2024-09-02", gross_sale="170",
                net_sale="150"),
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
    load_clean(conn, "purchases_sheet_de",
         write_csv(tmp_path / "einkaeufe.csv", PURCHASES_DE_HEADER, PURCHASES_DE, delimiter=";"))
    load_clean(conn, "sales_sheet", write_csv(tmp_path / "sales.csv", SALES_HEADER, SALES))
    for name, pages in (("purchases", NOTION_PURCHASES), ("sales", NOTION_SALES)):
        fmt = build_format(mapping.databases[name])
        result = load_rows(conn, fmt, parse_records(fmt, pages), source=f"notion:{name}")
        assert (result.rows_loaded, result.rows_quarantined) == (len(pages), 0)


# ---------------------------------------------------------------------------------- the tests


def test_purchases_link_to_sales_by_recorded_order_then_fifo(conn, database_url, tmp_path):
    load_dataset(conn, tmp_path)
    status = dbt_build(database_url, tmp_path / "build")
    tests = {k: v for k, v in status.items() if k.startswith("test.")}
    assert set(tests.values()) == {"pass"}
    for name in ("assert_every_unit_is_linked_once_or_reported", "assert_no_sale_is_counted_twice",
                 "assert_fct_sales_payout_reconciles_with_raw"):
        assert tests[f"test.soleflipper.{name}"] == "pass"

    # -- fct_sales: one row per sale, whichever sources repeat it
    sales = {row[0]: row[1:] for row in conn.execute(
        "select sale_id, source_system, payout_amount, payout_currency, enriched_by, quantity"
        " from transactions.fct_sales").fetchall()}
    [local_sheet] = [s for s in sales if s.startswith("in_person:sales_sheet:")]
    expected = {
        f"stockx:{ORDER_R}": ("stockx_sales_report", Decimal("160.00"), "EUR", None, 1),  # not the API's 150
        f"stockx:{ORDER_F}": ("stockx_sales_report", Decimal("140.00"), "EUR", None, 1),
        f"stockx:{ORDER_A}": ("stockx_sales_report", Decimal("110.00"), "EUR", None, 1),
        f"stockx:{ORDER_D}": ("stockx_sales_report", Decimal("250.00"), "EUR", "notion_sales", 1),  # not 249
        f"stockx:{ORDER_Q}": ("stockx_orders", Decimal("100.00"), "EUR", None, 1),
        "laced:#100001": ("sales_sheet", Decimal("130.00"), "EUR", None, 1),  # 150.00 - 20.00 fees
        local_sheet: ("sales_sheet", Decimal("200.00"), "EUR", None, 1),  # in person: no fees
        f"kleinanzeigen:notion:{NOTION_SALE_LOCAL}": ("notion_sales", Decimal("120.00"), "EUR", None, 1),
    }
    assert sales == expected
    # The Notion page of StockX order D is no second sale: one row for the order, from the report.
    assert conn.execute("select count(*) from transactions.fct_sales where order_number = %s",
                        (ORDER_D,)).fetchone()[0] == 1
    # API fees come from the payout adjustments (negative there, positive here).
    assert conn.execute(
        "select gross_amount, seller_fee_amount, payment_fee_amount, shipping_fee_amount, total_fees_amount"
        " from transactions.fct_sales where sale_id = %s", (f"stockx:{ORDER_Q}",)).fetchone() == (
        Decimal("120.00"), Decimal("10.80"), Decimal("3.60"), Decimal("5.60"), Decimal("20.00"))

    # -- fct_purchases: one row per unit; net from gross at 19 % to the cent
    purchases = conn.execute(
        "select source, purchase_date, style_code, size_system, size_value, unit_index, units_in_line, gross_price,"
        " net_price, vat_rate, vat_amount, price_basis, sale_order_number"
        " from transactions.fct_purchases order by purchase_date, style_code, unit_index").fetchall()
    nets = {g: net_from_gross(g) for g in ("119.00", "129.99", "100.00", "110.00", "95.00", "238.00", "190")}
    assert nets == {"119.00": Decimal("100.00"), "129.99": Decimal("109.24"), "100.00": Decimal("84.03"),
                    "110.00": Decimal("92.44"), "95.00": Decimal("79.83"), "238.00": Decimal("200.00"),
                    "190": Decimal("159.66")}
    rate = Decimal("0.1900")
    assert purchases == [
        ("purchases_sheet", date(2024, 1, 5), "DD1391-100", "US M", "10", 1, 1, Decimal("119.00"), nets["119.00"],
         rate, Decimal("19.00"), "net_from_gross", None),
        ("purchases_sheet", date(2024, 1, 10), "CW2288-111", "US M", "9", 1, 1, Decimal("100.00"), nets["100.00"],
         rate, Decimal("100.00") - nets["100.00"], "net_from_gross", None),
        ("purchases_sheet", date(2024, 1, 20), "CW2288-111", "US M", "9", 1, 1, Decimal("110.00"), nets["110.00"],
         rate, Decimal("110.00") - nets["110.00"], "net_from_gross", None),
        # no VAT rate written: the default 19 %
        ("purchases_sheet", date(2024, 2, 1), "DD1391-100", "US M", "10", 1, 1, Decimal("129.99"), nets["129.99"],
         rate, Decimal("129.99") - nets["129.99"], "net_from_gross", ORDER_R),
        # net and gross both written: kept as recorded, the rate they imply
        ("purchases_sheet", date(2024, 4, 10), "DV0833-105", "US M", "9.5", 1, 1, Decimal("85.00"), Decimal("70.00"),
         (Decimal("85.00") / Decimal("70.00") - 1).quantize(Decimal("0.0001"), ROUND_HALF_UP), Decimal("15.00"),
         "net_and_gross", None),
        ("purchases_sheet_de", date(2024, 6, 1), "IF6442", "EU", "422/3", 1, 1, Decimal("238.00"), nets["238.00"],
         rate, Decimal("38.00"), "net_from_gross", None),
        # quantity 2: two units, each with the per-pair price
        ("purchases_sheet", date(2024, 6, 15), "B75806", "US M", "8", 1, 2, Decimal("95.00"), nets["95.00"], rate,
         Decimal("15.17"), "net_from_gross", None),
        ("purchases_sheet", date(2024, 6, 15), "B75806", "US M", "8", 2, 2, Decimal("95.00"), nets["95.00"], rate,
         Decimal("15.17"), "net_from_gross", None),
        # Notion: VAT? ticked, gross only; the recorded sale is the related page's Sale ID
        ("notion_purchases", date(2024, 7, 1), "CT8012-116", "US M", "10", 1, 1, Decimal("190.00"), nets["190"],
         rate, Decimal("190.00") - nets["190"], "net_from_gross", ORDER_D),
    ]

    # -- the links
    def purchase(style: str, day: date, unit: int = 1) -> str:
        return conn.execute("select purchase_id from transactions.fct_purchases where style_code = %s"
                            " and purchase_date = %s and unit_index = %s", (style, day, unit)).fetchone()[0]

    links = {row[0]: row[1:] for row in conn.execute(
        "select sale_unit_id, purchase_id, link_method, days_in_stock from staging.int_purchase_sale_links"
    ).fetchall()}
    r_early, r_recorded = purchase("DD1391-100", date(2024, 1, 5)), purchase("DD1391-100", date(2024, 2, 1))
    f_first, f_second = purchase("CW2288-111", date(2024, 1, 10)), purchase("CW2288-111", date(2024, 1, 20))
    q_first, q_second = purchase("B75806", date(2024, 6, 15), 1), purchase("B75806", date(2024, 6, 15), 2)
    notion = f"notion_purchases:{NOTION_PURCHASE}:1"
    assert links == {
        # recorded order number wins although r_early is earlier and of the same size
        f"stockx:{ORDER_R}#1": (r_recorded, "recorded_order_number", (date(2024, 3, 1) - date(2024, 2, 1)).days),
        # FIFO: earliest purchase to the earliest sale
        "laced:#100001#1": (f_first, "fifo_style_size", (date(2024, 2, 10) - date(2024, 1, 10)).days),
        f"stockx:{ORDER_F}#1": (f_second, "fifo_style_size", (date(2024, 2, 15) - date(2024, 1, 20)).days),
        f"stockx:{ORDER_Q}#1": (q_first, "fifo_style_size", (date(2024, 7, 1) - date(2024, 6, 15)).days),
        # the Notion purchase's Sale relation names the page merged into the report's sale
        f"stockx:{ORDER_D}#1": (notion, "recorded_order_number", (date(2024, 8, 1) - date(2024, 7, 1)).days),
    }

    unlinked = dict(conn.execute("select sale_unit_id, reason from transactions.unlinked_sales").fetchall())
    assert unlinked == {
        f"stockx:{ORDER_A}#1": "only purchases after the sale date",  # the pair was bought 9 days later
        f"{local_sheet}#1": "no purchase of this product and size",
        f"kleinanzeigen:notion:{NOTION_SALE_LOCAL}#1":
            "earlier purchases of this product and size are linked to other sales",
    }
    unsold = dict(conn.execute("select purchase_id, reason from transactions.unsold_purchases").fetchall())
    assert unsold == {
        r_early: "no unlinked sale of this product and size on or after the purchase date",
        purchase("DV0833-105", date(2024, 4, 10)): "no unlinked sale of this product and size on or after the purchase date",
        purchase("IF6442", date(2024, 6, 1)): "no sale of this product and size",
        q_second: "no unlinked sale of this product and size on or after the purchase date",
    }

    # Every sale unit exactly once in links or unlinked, every purchase unit exactly once in
    # links or unsold (counted here, not by the singular test).
    sale_units = sum(row[4] for row in expected.values())
    assert len(links) + len(unlinked) == sale_units == 8
    assert len(links) + len(unsold) == len(purchases) == 9
    assert set(links).isdisjoint(unlinked) and {v[0] for v in links.values()}.isdisjoint(unsold)

    # Unit economics: profit = payout - net cost, ROI = profit / net cost.
    economics = {row[0]: row[1:] for row in conn.execute(
        "select sale_unit_id, net_cost_amount, profit_amount, roi from transactions.fct_sale_units").fetchall()}
    assert len(economics) == 8
    assert economics[f"stockx:{ORDER_F}#1"] == (
        nets["110.00"], Decimal("140.00") - nets["110.00"],
        ((Decimal("140.00") - nets["110.00"]) / nets["110.00"]).quantize(Decimal("0.0001"), ROUND_HALF_UP))
    assert economics[f"stockx:{ORDER_D}#1"][:2] == (nets["190"], Decimal("250.00") - nets["190"])
    assert economics[f"stockx:{ORDER_A}#1"] == (None, None, None)


def test_whole_project_builds_green_on_demo_reports_and_sample_files(conn, database_url, demo_reports, tmp_path):
    ensure_all_raw_tables(conn)
    for path in demo_reports:
        load_file(conn, load_format("stockx_sales_report"), path)
    loaded = {}
    # Every folder named after a file format holds samples of it (kpi_views/ is a test's dataset).
    for folder in sorted(p for p in FIXTURES.iterdir() if p.is_dir() and p.name in FORMAT_NAMES):
        for path in sorted(folder.iterdir()):
            loaded[folder.name] = loaded.get(folder.name, 0) + load_file(conn, load_format(folder.name), path).rows_loaded
    # The samples contain rows the loader rejects on purpose (bad dates, "$12O.00", ...).
    assert loaded == {"alias_consignment": 4, "alias_invoice": 3, "ebay_orders": 5, "ebay_sold_listings": 4,
                      "ecb_fx_rates": 1 + 6, "expenses_sheet": 8, "purchases_sheet": 5,
                      "purchases_sheet_de": 4, "sales_sheet": 4}

    status = dbt_build(database_url, tmp_path / "build")
    tests = {k: v for k, v in status.items() if k.startswith("test.")}
    assert len(tests) >= 200 and set(tests.values()) == {"pass"}
    assert {v for k, v in status.items() if k.startswith("model.")} == {"success"}

    counts = dict(conn.execute(
        "select source_system, count(*) from transactions.fct_sales group by 1").fetchall())
    # 300 demo StockX orders; 4 Alias export sales, 3 Alias/GOAT invoices; 4 eBay order lines
    # (the summary row of the multi-item order is no sale); of the 4 sales sheet rows the eBay
    # one is an order of the eBay report (it only fills its payout), 3 are sales of their own.
    assert counts == {"stockx_sales_report": 300, "alias_consignment": 4, "alias_invoice": 3, "ebay_orders": 4,
                      "sales_sheet": 3}
    assert conn.execute("select payout_amount, enriched_by from transactions.fct_sales"
                        " where sale_id = 'ebay:03-11111-00001:100000000101'").fetchone() == (Decimal("957.00"),
                                                                                               "sales_sheet")
    # Purchases: 5 English lines (one of 2 pairs) and 4 German lines (one of 2 pairs).
    assert conn.execute("select count(*) from transactions.fct_purchases").fetchone()[0] == 6 + 5
    units = conn.execute("select count(*) from transactions.fct_sale_units").fetchone()[0]
    assert units == 300 + 4 + 3 + (1 + 1 + 2 + 1) + 3  # the eBay line of 2 pairs is two units
    linked, unlinked, unsold = conn.execute(
        "select (select count(*) from staging.int_purchase_sale_links),"
        " (select count(*) from transactions.unlinked_sales), (select count(*) from transactions.unsold_purchases)"
    ).fetchone()
    assert linked + unlinked == units and linked + unsold == 11
