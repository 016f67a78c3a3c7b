"""Finance marts (issue 5, point 1): unit economics, monthly P&L, expenses, inventory valuation.

A small hand-built dataset goes through the real loaders (a StockX seller report, the purchases
and sales sheets, an ECB rates file, the expenses sheet) and dbt builds the finance marts with
everything upstream of them and every test on those models (the singular money reconciliations
included).
Every expected amount below is worked out by hand from the inputs (the arithmetic is in the
comments) and written as a literal; nothing is read back from the warehouse's own logic.

Home currency EUR, VAT 19 % (the defaults). FX rates (ECB, units per EUR) are chosen so that
most conversions are exact: USD 1.25 -> 0.8 EUR per USD, USD 1.0240 -> 0.9765625, GBP 0.80 ->
1.25; GBP 0.85 -> 1/0.85 = 1.17647058823... stored to 10 places as 1.1764705882.

Purchases (per pair; net from gross at the written VAT rate, round half up):
  P1 2024-01-08 Solebox   DD1391-100 10   EUR gross 119.00 @19 %  net 100.00 (119 / 1.19)
  P2 2024-01-10 Kith US   CW2288-111 9    USD 200.00, 0 % VAT     net 200.00 -> 200 * 0.8 = 160.00 EUR
  P3 2024-01-15 END.      FZ5808 11       GBP gross 120.00 @20 %  net 100.00 -> 125.00 EUR (gross 150.00)
  P4 2024-02-05 Zalando   DV0833-105 9.5  EUR gross 95.00 @19 %   net 79.83 (95 / 1.19 = 79.8319)   never sold
  P5 2024-02-05 Snipes    IF6442 8.5      EUR gross 59.50 @19 %   net 50.00
  P7 2024-02-20 Kith US   B75806 8        USD 100.00, 0 %         -> 100 * 0.9765625 = 97.65625 -> 97.66
  P6 2024-03-04 Kith US   555088-134 11   USD 150.00, 0 %         -> 146.484375 -> 146.48  bought after the only sale: unsold
  P8 2024-03-04 Snipes    FV5029-141 9    EUR gross 100.00 @19 %  net 84.03 (100 / 1.19 = 84.0336)
  P9 2024-05-06 Solebox   DD1391-100 11   EUR gross 238.00 @19 %  net 200.00                 never sold

Sales (VAT treatment: StockX / GOAT self-billed intra-EU -> output VAT 0; eBay / in person
domestic -> output VAT = round(gross * 0.19 / 1.19, 2)):
  S1 2024-02-10 StockX  DD1391-100 10  EUR 180.00, payout 160.00              <- P1 (FIFO)
  S2 2024-02-12 StockX  CW2288-111 9   EUR 300.00, payout 270.00              <- P2 (USD)
  S3 2024-02-14 eBay    FZ5808 11      GBP 150.00, fees 20.00 -> payout 130.00 <- P3 (GBP)
  S4 2024-03-01 eBay    IF6442 8.5     EUR 89.00, fees 11.00 -> payout 78.00   <- P5
  S5 2024-03-02 Local   555088-134 11  EUR 200.00 cash (payout = price)       no purchase before it
  S6 2024-03-06 GOAT    B75806 8       USD 150.00, fees 22.50 -> payout 127.50 <- P7 (USD)
  S7 2024-03-08 eBay    FV5029-141 9   EUR 100.00, no fees, no payout         <- P8

Expenses (blank VAT rate = no deductible VAT):
  E1 2024-01-31 Storage           119.00 EUR @19  vat 19.00 net 100.00
  E2 2024-02-05 Software           12.99 USD  -   net 12.99 -> 12.99 * 0.8 = 10.392 -> 10.39 EUR
  E5 2024-02-10 Shipping supplies  23.80 EUR @19% vat 3.80 (23.80 * 0.19 / 1.19) net 20.00
  E6 2024-02-14 Fees                5.95 GBP  -   -> 5.95 * 1.1764705882 = 6.99999999979 -> 7.00 EUR
  E3 2024-02-29 Fees                9.90 EUR  -   net 9.90
  E4 2024-04-02 Shipping supplies  59.50 EUR @19  vat 9.50 net 50.00
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from conftest import _create_database, _drop_database
from dbt_runner import dbt_build
from warehouse_datasets import STOCKX_REPORT_HEADER, load_clean, stockx_report_rows, write_csv

from resources.warehouse import ensure_all_raw_tables, load_file
from soleflipper.demo_expenses import write_demo_expenses_sheet
from soleflipper.formats import load_format

D = Decimal
# One build of the finance marts and everything upstream takes minutes on a loaded machine.
pytestmark = pytest.mark.timeout(1800)


def build_finance(database_url: str, target: Path, *args: str, select: str = "+path:models/marts/finance") -> dict[str, str]:
    """`dbt build` of the finance marts and everything they are built from (seeds included), with
    every test on those models; fails the test with dbt's output unless it succeeds."""
    return dbt_build(database_url, target, "--select", select, "--indirect-selection", "cautious", *args)


# ---------------------------------------------------------------------------------- the dataset

# ECB eurofxref-hist.csv layout: newest first, units of each currency per 1 EUR, a trailing comma.
FX_HEADER = ["Date", "USD", "GBP", ""]
FX_ROWS = [
    ["2024-03-06", "1.2500", "0.8500", ""],  # S6
    ["2024-03-04", "1.0240", "0.8500", ""],  # P6
    ["2024-02-20", "1.0240", "0.8500", ""],  # P7
    ["2024-02-14", "1.0240", "0.8500", ""],  # S3, E6
    ["2024-02-05", "1.2500", "0.8500", ""],  # E2
    ["2024-01-15", "1.2500", "0.8000", ""],  # P3
    ["2024-01-10", "1.2500", "0.8000", ""],  # P2
]

ORDER_S1, ORDER_S2 = "81000001-81000001", "82000002-82000002"
REPORT_SALES = {  # order -> (sale time, item, size, style, listing price, payout)
    ORDER_S1: ("2024-02-10 10:00:00 +00", "Nike Dunk Low Panda", "10", "DD1391-100", "180", "160.00"),
    ORDER_S2: ("2024-02-12 09:30:00 +00", "Nike Air Force 1 White", "9", "CW2288-111", "300", "270.00"),
}


PURCHASES_HEADER = ["Purchase Date", "Supplier", "Style Code", "Product", "Brand", "Size", "Quantity", "Net Price",
                    "Gross Price", "VAT Rate", "Currency", "Order Number"]
PURCHASES = [
    ["2024-01-08", "Solebox", "DD1391-100", "Dunk Low", "Nike", "10", "1", "", "119.00", "19", "EUR", "P1"],
    ["2024-01-10", "Kith US", "CW2288-111", "Air Force 1", "Nike", "9", "1", "200.00", "200.00", "0", "USD", "P2"],
    ["2024-01-15", "END.", "FZ5808", "Forum Low", "adidas", "11", "1", "", "120.00", "20", "GBP", "P3"],
    ["2024-02-05", "Zalando", "DV0833-105", "Dunk Low", "Nike", "9.5", "1", "", "95.00", "19", "EUR", "P4"],
    ["2024-02-05", "Snipes", "IF6442", "Samba OG", "adidas", "8.5", "1", "", "59.50", "19", "EUR", "P5"],
    ["2024-02-20", "Kith US", "B75806", "Samba", "adidas", "8", "1", "100.00", "100.00", "0", "USD", "P7"],
    ["2024-03-04", "Kith US", "555088-134", "Jordan 1 High", "Jordan", "11", "1", "150.00", "150.00", "0", "USD",
     "P6"],
    ["2024-03-04", "Snipes", "FV5029-141", "Air Force 1", "Nike", "9", "1", "", "100.00", "19", "EUR", "P8"],
    ["2024-05-06", "Solebox", "DD1391-100", "Dunk Low", "Nike", "11", "1", "", "238.00", "19", "EUR", "P9"],
]
SALES_HEADER = ["Sale Date", "Platform", "Order Number", "Style Code", "Product", "Size", "Sale Price", "Fees",
                "Payout", "Currency"]
SALES = [
    ["2024-02-14", "eBay", "12-10000-00003", "FZ5808", "Forum Low", "11", "150.00", "20.00", "", "GBP"],  # S3
    ["2024-03-01", "eBay", "12-10000-00004", "IF6442", "Samba OG", "8.5", "89.00", "11.00", "", "EUR"],  # S4
    ["2024-03-02", "Local", "", "555088-134", "Jordan 1 High", "11", "200.00", "", "", "EUR"],  # S5
    ["2024-03-06", "GOAT", "G-600006", "B75806", "Samba", "8", "150.00", "22.50", "", "USD"],  # S6
    ["2024-03-08", "eBay", "12-10000-00007", "FV5029-141", "Air Force 1", "9", "100.00", "", "", "EUR"],  # S7
]
EXPENSES_HEADER = ["Date", "Category", "Description", "Amount", "Currency", "VAT Rate", "Payee"]
EXPENSES = [
    ["2024-01-31", "Storage", "Storage unit January", "119.00", "EUR", "19", "LagerPlus"],  # E1
    ["2024-02-05", "Software", "Inventory app", "12.99", "USD", "", "Stocky Inc."],  # E2
    ["2024-02-10", "Shipping supplies", "Boxes", "23.80", "EUR", "19%", "Kartonfabrik"],  # E5
    ["2024-02-14", "Fees", "Return label (UK)", "5.95", "GBP", "", "Royal Mail"],  # E6
    ["2024-02-29", "Fees", "Bank account fee", "9.90", "", "", "Sparkasse"],  # E3: blank currency = EUR
    ["2024-04-02", "Shipping supplies", "Boxes", "59.50", "EUR", "19", "Kartonfabrik"],  # E4
]


def load_dataset(conn, tmp_path: Path) -> None:
    ensure_all_raw_tables(conn)
    load_clean(conn, "ecb_fx_rates", write_csv(tmp_path / "eurofxref-hist.csv", FX_HEADER, FX_ROWS))
    load_clean(conn, "stockx_sales_report", write_csv(tmp_path / "report.csv", STOCKX_REPORT_HEADER, stockx_report_rows(REPORT_SALES)))
    load_clean(conn, "purchases_sheet", write_csv(tmp_path / "purchases.csv", PURCHASES_HEADER, PURCHASES))
    load_clean(conn, "sales_sheet", write_csv(tmp_path / "sales.csv", SALES_HEADER, SALES))
    load_clean(conn, "expenses_sheet", write_csv(tmp_path / "expenses.csv", EXPENSES_HEADER, EXPENSES))


UE_COLUMNS = (
    "gross_sale_amount, payout_amount, output_vat_amount, net_sale_amount, sale_currency,"
    " gross_buy_amount, input_vat_amount, net_buy_amount, buy_currency,"
    " gross_sale_home, fees_home, net_sale_home, net_buy_home, profit_home, roi, shelf_life_days,"
    " profit_per_shelf_day_home, profit_amount, profit_currency")


def unit_economics(conn) -> dict[tuple[date, str], tuple]:
    rows = conn.execute(
        f"select sale_date, platform, {UE_COLUMNS} from finance.fct_unit_economics").fetchall()  # noqa: S608
    by_key = {(r[0], r[1]): r[2:] for r in rows}
    assert len(by_key) == len(rows)
    return by_key


def pnl(conn) -> dict[date, tuple]:
    return {r[0]: r[1:] for r in conn.execute(
        "select month, home_currency, units_sold, revenue_home, fees_home, output_vat_home, net_sales_home,"
        " cost_of_goods_sold_home, gross_profit_home, expenses_home, net_profit_home, purchases_home,"
        " units_purchased, units_sold_without_cost, units_sold_without_payout, expense_count,"
        " purchases_vat_home, expenses_vat_home, vat_payable_home from finance.fct_monthly_pnl").fetchall()}


def month_ends_until(today: date) -> list[date]:
    """Month ends from January 2024 to today's month."""
    ends, year, month = [], 2024, 1
    while (year, month) <= (today.year, today.month):
        nxt = date(year + month // 12, month % 12 + 1, 1)
        ends.append(date.fromordinal(nxt.toordinal() - 1))
        year, month = nxt.year, nxt.month
    return ends


# ---------------------------------------------------------------------------------- the tests


@pytest.fixture(scope="module")
def built(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The dataset loaded and built once (default vars) for the tests that read the marts."""
    name, url = _create_database(pg_server)
    tmp = tmp_path_factory.mktemp("finance")
    try:
        with psycopg.connect(url) as conn:
            load_dataset(conn, tmp)
        yield url, build_finance(url, tmp / "build")
    finally:
        _drop_database(pg_server, name)


@pytest.fixture
def finance_db(built) -> Iterator[psycopg.Connection]:
    with psycopg.connect(built[0], autocommit=True) as conn:
        yield conn


def test_finance_marts_on_a_hand_built_dataset(built, finance_db):
    status, conn = built[1], finance_db
    tests = {k: v for k, v in status.items() if k.startswith("test.")}
    assert set(tests.values()) == {"pass"}, {k: v for k, v in tests.items() if v != "pass"}
    for name in ("assert_finance_unit_economics_reconcile_with_fct_sales",
                 "assert_finance_profit_is_net_sale_minus_net_buy", "assert_finance_pnl_matches_facts",
                 "assert_finance_inventory_valuation_matches_inventory",
                 "assert_finance_expenses_reconcile_with_raw"):
        assert tests[f"test.soleflipper.{name}"] == "pass"

    # -- fct_unit_economics: one row per sold pair
    ue = unit_economics(conn)
    assert ue == {
        # S1 StockX (intra-EU: output VAT 0, net sale = payout) <- P1 (EUR)
        # fees 180 - 160 = 20.00; profit 160.00 - 100.00 = 60.00; ROI 60 / 100 = 0.6;
        # shelf 2024-01-08 -> 2024-02-10 = 33 days; 60 / 33 = 1.8181.. -> 1.82
        (date(2024, 2, 10), "stockx"): (
            D("180.00"), D("160.00"), D("0.00"), D("160.00"), "EUR",
            D("119.00"), D("19.00"), D("100.00"), "EUR",
            D("180.00"), D("20.00"), D("160.00"), D("100.00"), D("60.00"), D("0.6000"), 33, D("1.82"),
            D("60.00"), "EUR"),
        # S2 StockX EUR <- P2 bought in USD: net buy 200.00 USD * 0.8 (2024-01-10) = 160.00 EUR;
        # profit 270.00 - 160.00 = 110.00; ROI 110 / 160 = 0.6875; shelf 01-10 -> 02-12 = 33;
        # 110 / 33 = 3.333.. -> 3.33; no profit in an original currency (EUR sale, USD purchase)
        (date(2024, 2, 12), "stockx"): (
            D("300.00"), D("270.00"), D("0.00"), D("270.00"), "EUR",
            D("200.00"), D("0.00"), D("200.00"), "USD",
            D("300.00"), D("30.00"), D("270.00"), D("160.00"), D("110.00"), D("0.6875"), 33, D("3.33"),
            None, None),
        # S3 eBay in GBP (domestic: output VAT = round(150.00 * 0.19 / 1.19, 2) = round(23.9495..) = 23.95 GBP,
        # net sale 130.00 - 23.95 = 106.05 GBP). At 2024-02-14 (1.1764705882 EUR per GBP):
        # gross 150 * 1.1764705882 = 176.47058823 -> 176.47; payout 130 * .. = 152.94117647 -> 152.94;
        # output VAT 23.95 * .. = 28.17647058 -> 28.18; fees 176.47 - 152.94 = 23.53;
        # net sale 152.94 - 28.18 = 124.76. <- P3: net 100.00 GBP * 1.25 (2024-01-15) = 125.00.
        # profit 124.76 - 125.00 = -0.24 EUR (but 106.05 - 100.00 = +6.05 GBP: the pound fell);
        # ROI -0.24 / 125 = -0.00192 -> -0.0019; shelf 01-15 -> 02-14 = 30; -0.24 / 30 = -0.008 -> -0.01
        (date(2024, 2, 14), "ebay"): (
            D("150.00"), D("130.00"), D("23.95"), D("106.05"), "GBP",
            D("120.00"), D("20.00"), D("100.00"), "GBP",
            D("176.47"), D("23.53"), D("124.76"), D("125.00"), D("-0.24"), D("-0.0019"), 30, D("-0.01"),
            D("6.05"), "GBP"),
        # S4 eBay EUR: output VAT round(89 * 0.19 / 1.19, 2) = round(14.2100..) = 14.21; payout 89 - 11 = 78.00;
        # net sale 78.00 - 14.21 = 63.79 <- P5 net 50.00 (59.50 / 1.19); profit 13.79; ROI 13.79 / 50 = 0.2758;
        # shelf 02-05 -> 03-01 (2024 is a leap year) = 25; 13.79 / 25 = 0.5516 -> 0.55
        (date(2024, 3, 1), "ebay"): (
            D("89.00"), D("78.00"), D("14.21"), D("63.79"), "EUR",
            D("59.50"), D("9.50"), D("50.00"), "EUR",
            D("89.00"), D("11.00"), D("63.79"), D("50.00"), D("13.79"), D("0.2758"), 25, D("0.55"),
            D("13.79"), "EUR"),
        # S5 cash sale in person: payout = price 200.00, output VAT round(200 * 0.19 / 1.19, 2) =
        # round(31.9327..) = 31.93, net sale 168.07; P6 of that style and size was bought two days
        # later, so no purchase is linked: buy side and profit null
        (date(2024, 3, 2), "in_person"): (
            D("200.00"), D("200.00"), D("31.93"), D("168.07"), "EUR",
            None, None, None, None,
            D("200.00"), D("0.00"), D("168.07"), None, None, None, None, None,
            None, None),
        # S6 GOAT in USD (intra-EU: no output VAT): payout 150 - 22.50 = 127.50 USD; at 2024-03-06
        # (0.8): gross 120.00, payout 102.00, fees 18.00, net sale 102.00. <- P7 100.00 USD at
        # 2024-02-20 (0.9765625) = 97.65625 -> 97.66; profit 102.00 - 97.66 = 4.34 EUR, 127.50 - 100.00 =
        # 27.50 USD; ROI 4.34 / 97.66 = 0.04444.. -> 0.0444; shelf 02-20 -> 03-06 = 15; 4.34 / 15 = 0.2893 -> 0.29
        (date(2024, 3, 6), "goat"): (
            D("150.00"), D("127.50"), D("0.00"), D("127.50"), "USD",
            D("100.00"), D("0.00"), D("100.00"), "USD",
            D("120.00"), D("18.00"), D("102.00"), D("97.66"), D("4.34"), D("0.0444"), 15, D("0.29"),
            D("27.50"), "USD"),
        # S7 eBay without a payout: output VAT round(100 * 0.19 / 1.19, 2) = round(15.966..) = 15.97
        # (owed on the price), no fees, net sale or profit. <- P8 net 84.03 (100 / 1.19 = 84.0336), 4 days
        (date(2024, 3, 8), "ebay"): (
            D("100.00"), None, D("15.97"), None, "EUR",
            D("100.00"), D("15.97"), D("84.03"), "EUR",
            D("100.00"), None, None, D("84.03"), None, None, 4, None,
            None, None),
    }
    # identities beyond the listed columns: payout = net sale + output VAT in home currency,
    # input VAT = gross - net buy; links, reasons and keys
    extra = {(r[0], r[1]): r[2:] for r in conn.execute(
        "select sale_date, platform, payout_home, output_vat_home, gross_buy_home, input_vat_home,"
        " output_vat_rate, sales_vat_treatment, link_method, unlinked_reason is not null, supplier_key,"
        " home_currency from finance.fct_unit_economics").fetchall()}
    assert extra == {
        (date(2024, 2, 10), "stockx"): (D("160.00"), D("0.00"), D("119.00"), D("19.00"), D("0.0000"),
                                        "self_billed_intra_eu", "fifo_style_size", False, "solebox", "EUR"),
        (date(2024, 2, 12), "stockx"): (D("270.00"), D("0.00"), D("160.00"), D("0.00"), D("0.0000"),
                                        "self_billed_intra_eu", "fifo_style_size", False, "kith-us", "EUR"),
        # gross buy 120.00 GBP * 1.25 = 150.00, input VAT 150.00 - 125.00 = 25.00
        (date(2024, 2, 14), "ebay"): (D("152.94"), D("28.18"), D("150.00"), D("25.00"), D("0.1900"),
                                      "domestic_standard", "fifo_style_size", False, "end", "EUR"),
        (date(2024, 3, 1), "ebay"): (D("78.00"), D("14.21"), D("59.50"), D("9.50"), D("0.1900"),
                                     "domestic_standard", "fifo_style_size", False, "snipes", "EUR"),
        (date(2024, 3, 2), "in_person"): (D("200.00"), D("31.93"), None, None, D("0.1900"),
                                          "domestic_standard", None, True, None, "EUR"),
        (date(2024, 3, 6), "goat"): (D("102.00"), D("0.00"), D("97.66"), D("0.00"), D("0.0000"),
                                     "self_billed_intra_eu", "fifo_style_size", False, "kith-us", "EUR"),
        (date(2024, 3, 8), "ebay"): (None, D("15.97"), D("100.00"), D("15.97"), D("0.1900"),
                                     "domestic_standard", "fifo_style_size", False, "snipes", "EUR"),
    }

    # -- fct_expenses
    expenses = {r[0]: r[1:] for r in conn.execute(
        "select description || ' ' || expense_date, category_key, gross_amount, vat_rate, vat_amount, net_amount,"
        " currency, gross_amount_home, vat_amount_home, net_amount_home, home_currency from finance.fct_expenses"
    ).fetchall()}
    assert expenses == {
        # 119.00 * 0.19 / 1.19 = 19.00; net 100.00
        "Storage unit January 2024-01-31": ("storage", D("119.00"), D("0.1900"), D("19.00"), D("100.00"), "EUR",
                                            D("119.00"), D("19.00"), D("100.00"), "EUR"),
        # no VAT rate: no deductible VAT; 12.99 USD * 0.8 = 10.392 -> 10.39
        "Inventory app 2024-02-05": ("software", D("12.99"), D("0.0000"), D("0.00"), D("12.99"), "USD",
                                     D("10.39"), D("0.00"), D("10.39"), "EUR"),
        # 23.80 * 0.19 / 1.19 = 3.80; net 20.00
        "Boxes 2024-02-10": ("shipping_supplies", D("23.80"), D("0.1900"), D("3.80"), D("20.00"), "EUR",
                             D("23.80"), D("3.80"), D("20.00"), "EUR"),
        # 5.95 GBP * 1.1764705882 = 6.99999999979 -> 7.00
        "Return label (UK) 2024-02-14": ("fees", D("5.95"), D("0.0000"), D("0.00"), D("5.95"), "GBP",
                                         D("7.00"), D("0.00"), D("7.00"), "EUR"),
        "Bank account fee 2024-02-29": ("fees", D("9.90"), D("0.0000"), D("0.00"), D("9.90"), "EUR",
                                        D("9.90"), D("0.00"), D("9.90"), "EUR"),
        # 59.50 * 0.19 / 1.19 = 9.50; net 50.00
        "Boxes 2024-04-02": ("shipping_supplies", D("59.50"), D("0.1900"), D("9.50"), D("50.00"), "EUR",
                             D("59.50"), D("9.50"), D("50.00"), "EUR"),
    }

    # -- fct_monthly_pnl
    # (home, units sold, revenue, fees, output VAT, net sales, COGS, gross profit, expenses,
    #  net profit, purchases, units purchased, sold w/o cost, sold w/o payout, expense count,
    #  purchases VAT, expenses VAT, VAT payable)
    assert pnl(conn) == {
        # January: only purchases and an expense. Purchases P1 100.00 + P2 160.00 + P3 125.00 = 385.00,
        # their VAT 19.00 + 0 + (150.00 - 125.00 = 25.00) = 44.00; expense E1 net 100.00, VAT 19.00;
        # net profit -100.00; VAT payable 0 - 44.00 - 19.00 = -63.00
        date(2024, 1, 1): ("EUR", 0, D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("0.00"),
                           D("100.00"), D("-100.00"), D("385.00"), 3, 0, 0, 1, D("44.00"), D("19.00"), D("-63.00")),
        # February: S1, S2, S3. Revenue 180.00 + 300.00 + 176.47 = 656.47; fees 20.00 + 30.00 + 23.53 = 73.53;
        # output VAT 28.18; net sales 160.00 + 270.00 + 124.76 = 554.76 (656.47 - 73.53 - 28.18);
        # COGS 100.00 + 160.00 + 125.00 = 385.00; gross profit 169.76 (= 60.00 + 110.00 - 0.24);
        # expenses 10.39 + 20.00 + 7.00 + 9.90 = 47.29; net profit 169.76 - 47.29 = 122.47;
        # purchases P4 79.83 + P5 50.00 + P7 97.66 = 227.49, VAT 15.17 + 9.50 + 0 = 24.67;
        # VAT payable 28.18 - 24.67 - 3.80 = -0.29
        date(2024, 2, 1): ("EUR", 3, D("656.47"), D("73.53"), D("28.18"), D("554.76"), D("385.00"), D("169.76"),
                           D("47.29"), D("122.47"), D("227.49"), 3, 0, 0, 4, D("24.67"), D("3.80"), D("-0.29")),
        # March: S4, S5, S6, S7. Revenue 89.00 + 200.00 + 120.00 + 100.00 = 509.00; fees 11.00 + 0.00 + 18.00
        # (S7 unknown) = 29.00; output VAT 14.21 + 31.93 + 0 + 15.97 = 62.11; net sales 63.79 + 168.07 +
        # 102.00 = 333.86; COGS (linked pairs) 50.00 + 97.66 + 84.03 = 231.69 (S7 counts although its
        # payout is unknown, S5 has no cost); gross = net profit 333.86 - 231.69 = 102.17; purchases
        # P6 146.48 + P8 84.03 = 230.51, VAT 0 + 15.97; VAT payable 62.11 - 15.97 = 46.14
        date(2024, 3, 1): ("EUR", 4, D("509.00"), D("29.00"), D("62.11"), D("333.86"), D("231.69"), D("102.17"),
                           D("0.00"), D("102.17"), D("230.51"), 2, 1, 1, 0, D("15.97"), D("0.00"), D("46.14")),
        # April: only expense E4 (net 50.00, VAT 9.50)
        date(2024, 4, 1): ("EUR", 0, D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("0.00"),
                           D("50.00"), D("-50.00"), D("0.00"), 0, 0, 0, 1, D("0.00"), D("9.50"), D("-9.50")),
        # May: only purchase P9 (net 200.00, VAT 38.00)
        date(2024, 5, 1): ("EUR", 0, D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("0.00"),
                           D("0.00"), D("0.00"), D("200.00"), 1, 0, 0, 0, D("38.00"), D("0.00"), D("-38.00")),
    }

    # -- fct_inventory_valuation: month ends from January 2024 to the current month
    today = conn.execute("select (now() at time zone 'UTC')::date").fetchone()[0]
    valuation = {r[0]: r[1:] for r in conn.execute(
        "select month_end, home_currency, units_in_stock, stock_value_net_home, stock_value_gross_home,"
        " units_without_cost, is_month_complete from finance.fct_inventory_valuation").fetchall()}
    ends = month_ends_until(today)
    assert sorted(valuation) == ends
    expected = {
        # P1, P2, P3 bought, none sold: net 100.00 + 160.00 + 125.00; gross 119.00 + 160.00 + 150.00
        date(2024, 1, 31): (3, D("385.00"), D("429.00")),
        # + P4, P5, P7; P1, P2, P3 sold: net 79.83 + 50.00 + 97.66 = 227.49; gross 95.00 + 59.50 + 97.66 = 252.16
        date(2024, 2, 29): (3, D("227.49"), D("252.16")),
        # + P6, P8; P5, P7, P8 sold: P4 and P6 left: net 79.83 + 146.48 = 226.31; gross 95.00 + 146.48
        date(2024, 3, 31): (2, D("226.31"), D("241.48")),
        date(2024, 4, 30): (2, D("226.31"), D("241.48")),
    }
    for end in ends:
        # from May on P9 too: net 226.31 + 200.00 = 426.31; gross 241.48 + 238.00 = 479.48
        units, net, gross = expected.get(end, (3, D("426.31"), D("479.48")))
        assert valuation[end] == ("EUR", units, net, gross, 0, end < today), end


def test_not_vat_registered_rebuild_replaces_rows_in_place(built, finance_db, tmp_path):
    """vat_registered false: no output or input VAT, net = gross; the rebuild replaces the rows
    of the same tables (stable_replace: the OIDs survive). Restores the default build after."""
    database_url, conn = built[0], finance_db
    oids = ("select array_agg(oid order by relname) from pg_class"
            " where relnamespace = 'finance'::regnamespace and relkind = 'r'")
    before = conn.execute(oids).fetchone()[0]
    assert len(before) == 4
    build_finance(database_url, tmp_path / "build", "--vars", "{vat_registered: false}", select="path:models/marts/finance")
    try:
        assert conn.execute(oids).fetchone()[0] == before
        check_not_vat_registered(conn)
    finally:
        build_finance(database_url, tmp_path / "restore", select="path:models/marts/finance")


def check_not_vat_registered(conn) -> None:

    ue = {(r[0], r[1]): r[2:] for r in conn.execute(
        "select sale_date, platform, output_vat_amount, net_sale_amount, input_vat_amount, net_buy_amount,"
        " net_sale_home, net_buy_home, profit_home from finance.fct_unit_economics"
        " where sale_date in ('2024-02-10', '2024-02-14', '2024-03-01')").fetchall()}
    assert ue == {
        # net buy = gross buy 119.00; profit 160.00 - 119.00 = 41.00
        (date(2024, 2, 10), "stockx"): (D("0.00"), D("160.00"), D("0.00"), D("119.00"), D("160.00"), D("119.00"),
                                        D("41.00")),
        # eBay GBP: net sale = payout 130.00 GBP -> 152.94; buy 120.00 GBP * 1.25 = 150.00; profit 2.94
        (date(2024, 2, 14), "ebay"): (D("0.00"), D("130.00"), D("0.00"), D("120.00"), D("152.94"), D("150.00"),
                                      D("2.94")),
        # eBay EUR: net sale 78.00, net buy 59.50, profit 18.50
        (date(2024, 3, 1), "ebay"): (D("0.00"), D("78.00"), D("0.00"), D("59.50"), D("78.00"), D("59.50"),
                                     D("18.50")),
    }
    feb = conn.execute(
        "select net_sales_home, cost_of_goods_sold_home, expenses_home, net_profit_home, purchases_home,"
        " vat_payable_home from finance.fct_monthly_pnl where month = '2024-02-01'").fetchone()
    # net sales 160.00 + 270.00 + 152.94 = 582.94; COGS 119.00 + 160.00 + 150.00 = 429.00;
    # expenses gross 10.39 + 23.80 + 7.00 + 9.90 = 51.09; net profit 582.94 - 429.00 - 51.09 = 102.85;
    # purchases gross 95.00 + 59.50 + 97.66 = 252.16; no VAT at all
    assert feb == (D("582.94"), D("429.00"), D("51.09"), D("102.85"), D("252.16"), D("0.00"))
    assert conn.execute("select stock_value_net_home, stock_value_gross_home from finance.fct_inventory_valuation"
                        " where month_end = '2024-02-29'").fetchone() == (D("252.16"), D("252.16"))


def test_bad_expense_row_is_quarantined_with_file_line_and_field(conn, tmp_path):
    ensure_all_raw_tables(conn)
    path = write_csv(tmp_path / "expenses.csv", EXPENSES_HEADER, [
        ["2024-07-01", "Storage", "Storage unit July", "119.00", "EUR", "19", "LagerPlus"],
        ["2024-07-02", "Fees", "Card fee", "12.5O", "EUR", "", "Sparkasse"],  # letter O for a zero
        ["2024-07-03", "Software", "Listing tool", "29.00", "EUR", "19", "Listify"],
    ])
    result = load_file(conn, load_format("expenses_sheet"), path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 2, 1)
    [error] = result.sample_errors
    assert (error.line, error.field, error.reason) == (3, "Amount", "'12.5O' is not a number")
    quarantined = conn.execute(
        "select source, raw_table, line_number, field, reason, record ->> 'Amount' from raw.quarantine").fetchall()
    assert quarantined == [(str(path.resolve()), "sheets_expenses", 3, "Amount", "'12.5O' is not a number",
                            "12.5O")]
    assert conn.execute("select expense_date, amount from raw.sheets_expenses order by expense_date").fetchall() == [
        (date(2024, 7, 1), D("119.00")), (date(2024, 7, 3), D("29.00"))]


@pytest.mark.parametrize("n_sales", [300])
def test_demo_expenses_file_loads_completely(conn, tmp_path, n_sales):
    ensure_all_raw_tables(conn)
    path = write_demo_expenses_sheet(tmp_path / "imports" / "expenses_sheet", n_sales=n_sales, seed=7)
    with open(path, newline="", encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
        gross = {}
        for r in records:
            gross[r["Currency"]] = gross.get(r["Currency"], D(0)) + D(r["Amount"])
    result = load_file(conn, load_format("expenses_sheet"), path)
    assert (result.rows_loaded, result.rows_quarantined) == (len(records), 0)
    loaded = dict(conn.execute("select currency::text, sum(amount) from raw.sheets_expenses group by 1").fetchall())
    assert loaded == gross
