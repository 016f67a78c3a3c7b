"""The tax-year export and the DAC7 reconciliation (soleflipper/reporting/tax.py) on hand-made pairs.

Every expected amount is worked out by hand from the rows below and written as a literal.

Pairs (home currency EUR; gross, output VAT, payout, fees = gross - payout, net sale = payout - VAT,
net buy, input VAT):
  U1 stockx S1 sold 2024-01-15 paid 2024-01-20  200.00   0.00 180.00 20.00 180.00  120.00 22.80
  U2 stockx S2 sold 2024-03-31 paid 2024-04-02  150.00   0.00 135.50 14.50 135.50  100.00 19.00  (DAC7: Q2)
  U3 ebay   S3 sold 2024-02-10 paid ?           119.00  19.00 100.00 19.00  81.00   50.00  9.50
  U4 ebay   S3 (second pair of the order)       119.00  19.00 100.00 19.00  81.00   unlinked
  U5 ebay   S4 sold 2024-12-31 paid 2025-01-03   59.50   9.50  50.00  9.50  40.50   30.00  5.70  (DAC7: 2025)
  U6 alias  S5 sold 2023-12-30 paid 2024-01-02  300.00   0.00 270.00 30.00 270.00  200.00  0.00  (tax: 2023)
  U7 local  S6 sold 2024-02-11, no payout        80.00  12.77   -      -      -      60.00 11.40
Fee kinds reported: S1 seller 18.00 + payment 2.00; S3 seller 15.00; none for the others.
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal

import pytest

from soleflipper.reporting.tax import (
    Dac7Row,
    SaleFeeKinds,
    SoldUnit,
    TaxRow,
    dac7_by_platform_quarter,
    pnl_differences,
    tax_by_platform_month,
    write_tax_export,
)

D = Decimal


def unit(sale_id, platform, sold, paid, gross, vat, payout, net_buy, input_vat, linked=True) -> SoldUnit:
    gross, vat = D(gross), D(vat)
    payout = None if payout is None else D(payout)
    return SoldUnit(
        sale_id=sale_id, platform=platform, sale_date=date.fromisoformat(sold),
        paid_out_on=None if paid is None else date.fromisoformat(paid), home_currency="EUR",
        gross_sale_home=gross, output_vat_home=vat, payout_home=payout,
        fees_home=None if payout is None else gross - payout,
        net_sale_home=None if payout is None else payout - vat,
        net_buy_home=None if net_buy is None else D(net_buy),
        input_vat_home=None if input_vat is None else D(input_vat), linked=linked,
    )  # fmt: skip


UNITS = [
    unit("S1", "stockx", "2024-01-15", "2024-01-20", "200.00", "0.00", "180.00", "120.00", "22.80"),
    unit("S2", "stockx", "2024-03-31", "2024-04-02", "150.00", "0.00", "135.50", "100.00", "19.00"),
    unit("S3", "ebay", "2024-02-10", None, "119.00", "19.00", "100.00", "50.00", "9.50"),
    unit("S3", "ebay", "2024-02-10", None, "119.00", "19.00", "100.00", None, None, linked=False),
    unit("S4", "ebay", "2024-12-31", "2025-01-03", "59.50", "9.50", "50.00", "30.00", "5.70"),
    unit("S5", "alias", "2023-12-30", "2024-01-02", "300.00", "0.00", "270.00", "200.00", "0.00"),
    unit("S6", "local", "2024-02-11", None, "80.00", "12.77", None, "60.00", "11.40"),
]
FEE_KINDS = [
    SaleFeeKinds("S1", D("18.00"), D("2.00"), None),
    SaleFeeKinds("S3", D("15.00"), None, None),
]

# (sales, units, gross, output VAT, net revenue, fees, seller, payment, shipping, other, payout, net sales,
#  COGS, input VAT, gross profit, units without cost, units without payout)
TAX_COLUMNS = (
    "sales", "units_sold", "revenue_gross_home", "output_vat_home", "revenue_net_home", "fees_home",
    "seller_fee_home", "payment_fee_home", "shipping_fee_home", "other_fees_home", "payout_home",
    "net_sales_home", "cost_of_goods_sold_home", "input_vat_home", "gross_profit_home", "units_without_cost",
    "units_without_payout",
)  # fmt: skip


def amounts(*values: str) -> tuple:
    return tuple(int(v) if "." not in v else D(v) for v in values)


NONE = amounts("0", "0", *["0.00"] * 13, "0", "0")
EXPECTED_2024 = {
    ("ebay", "2024-02"): amounts("1", "2", "238.00", "38.00", "200.00", "38.00", "15.00", "0.00", "0.00", "23.00",
                                 "200.00", "162.00", "50.00", "9.50", "112.00", "1", "0"),
    ("ebay", "2024-12"): amounts("1", "1", "59.50", "9.50", "50.00", "9.50", "0.00", "0.00", "0.00", "9.50",
                                 "50.00", "40.50", "30.00", "5.70", "10.50", "0", "0"),
    ("ebay", "total"): amounts("2", "3", "297.50", "47.50", "250.00", "47.50", "15.00", "0.00", "0.00", "32.50",
                               "250.00", "202.50", "80.00", "15.20", "122.50", "1", "0"),
    ("local", "2024-02"): amounts("1", "1", "80.00", "12.77", "67.23", "0.00", "0.00", "0.00", "0.00", "0.00",
                                  "0.00", "0.00", "60.00", "11.40", "-60.00", "0", "1"),
    ("local", "total"): amounts("1", "1", "80.00", "12.77", "67.23", "0.00", "0.00", "0.00", "0.00", "0.00",
                                "0.00", "0.00", "60.00", "11.40", "-60.00", "0", "1"),
    ("stockx", "2024-01"): amounts("1", "1", "200.00", "0.00", "200.00", "20.00", "18.00", "2.00", "0.00", "0.00",
                                   "180.00", "180.00", "120.00", "22.80", "60.00", "0", "0"),
    ("stockx", "2024-03"): amounts("1", "1", "150.00", "0.00", "150.00", "14.50", "0.00", "0.00", "0.00", "14.50",
                                   "135.50", "135.50", "100.00", "19.00", "35.50", "0", "0"),
    ("stockx", "total"): amounts("2", "2", "350.00", "0.00", "350.00", "34.50", "18.00", "2.00", "0.00", "14.50",
                                 "315.50", "315.50", "220.00", "41.80", "95.50", "0", "0"),
    ("all", "2024-01"): amounts("1", "1", "200.00", "0.00", "200.00", "20.00", "18.00", "2.00", "0.00", "0.00",
                                "180.00", "180.00", "120.00", "22.80", "60.00", "0", "0"),
    ("all", "2024-02"): amounts("2", "3", "318.00", "50.77", "267.23", "38.00", "15.00", "0.00", "0.00", "23.00",
                                "200.00", "162.00", "110.00", "20.90", "52.00", "1", "1"),
    ("all", "2024-03"): amounts("1", "1", "150.00", "0.00", "150.00", "14.50", "0.00", "0.00", "0.00", "14.50",
                                "135.50", "135.50", "100.00", "19.00", "35.50", "0", "0"),
    ("all", "2024-12"): amounts("1", "1", "59.50", "9.50", "50.00", "9.50", "0.00", "0.00", "0.00", "9.50",
                                "50.00", "40.50", "30.00", "5.70", "10.50", "0", "0"),
    ("all", "total"): amounts("5", "6", "727.50", "60.27", "667.23", "82.00", "33.00", "2.00", "0.00", "47.00",
                              "565.50", "518.00", "360.00", "68.40", "158.00", "1", "1"),
}  # fmt: skip


def test_tax_rows_per_platform_and_month_to_the_cent():
    rows = tax_by_platform_month(2024, UNITS, FEE_KINDS)
    # per platform (alphabetical; alias sold nothing in 2024) twelve months and a total, then 'all'
    assert [(r.platform, r.month) for r in rows] == [
        (p, m) for p in ("ebay", "local", "stockx", "all") for m in [f"2024-{i:02d}" for i in range(1, 13)] + ["total"]
    ]
    assert {r.year for r in rows} == {2024} and {r.home_currency for r in rows} == {"EUR"}
    got = {(r.platform, r.month): tuple(getattr(r, c) for c in TAX_COLUMNS) for r in rows}
    for key, values in got.items():
        assert values == EXPECTED_2024.get(key, NONE), key


def test_totals_add_up_to_the_pairs_sold_in_the_year():
    """Independently of the grouping: the grand total is the plain sum of the 2024 pairs."""
    sold_2024 = [u for u in UNITS if u.sale_date.year == 2024]
    grand = tax_by_platform_month(2024, UNITS, FEE_KINDS)[-1]
    assert grand.revenue_gross_home == sum(u.gross_sale_home for u in sold_2024)
    assert grand.payout_home == sum(u.payout_home for u in sold_2024 if u.payout_home is not None)
    assert grand.cost_of_goods_sold_home == sum(u.net_buy_home for u in sold_2024 if u.linked)
    assert grand.gross_profit_home == grand.net_sales_home - grand.cost_of_goods_sold_home
    assert grand.revenue_gross_home - grand.fees_home - grand.output_vat_home == grand.net_sales_home + D("80.00") - D(
        "12.77")  # the local sale without a payout is in revenue and VAT only


def test_dac7_per_platform_and_quarter_by_payout_day():
    rows = dac7_by_platform_quarter(2024, UNITS)
    got = {(r.platform, r.quarter): (r.sales, r.units, r.consideration_home, r.fees_home, r.gross_home,
                                     r.sales_dated_by_sale_day, r.sales_without_payout) for r in rows}  # fmt: skip
    zero = (0, 0, D("0.00"), D("0.00"), D("0.00"), 0, 0)
    expected = {
        # S5 sold in 2023, paid out 2024-01-02: 2024's first quarter
        ("alias", "2024-Q1"): (1, 1, D("270.00"), D("30.00"), D("300.00"), 0, 0),
        ("alias", "total"): (1, 1, D("270.00"), D("30.00"), D("300.00"), 0, 0),
        # S3 has no payout day: dated by its sale day; S4 is paid out in 2025
        ("ebay", "2024-Q1"): (1, 2, D("200.00"), D("38.00"), D("238.00"), 1, 0),
        ("ebay", "total"): (1, 2, D("200.00"), D("38.00"), D("238.00"), 1, 0),
        ("local", "2024-Q1"): (0, 0, D("0.00"), D("0.00"), D("0.00"), 0, 1),
        ("local", "total"): (0, 0, D("0.00"), D("0.00"), D("0.00"), 0, 1),
        ("stockx", "2024-Q1"): (1, 1, D("180.00"), D("20.00"), D("200.00"), 0, 0),
        ("stockx", "2024-Q2"): (1, 1, D("135.50"), D("14.50"), D("150.00"), 0, 0),  # sold 03-31, paid 04-02
        ("stockx", "total"): (2, 2, D("315.50"), D("34.50"), D("350.00"), 0, 0),
    }
    assert [(r.platform, r.quarter) for r in rows] == [
        (p, q) for p in ("alias", "ebay", "local", "stockx") for q in ("2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4", "total")
    ]  # fmt: skip
    for key, values in got.items():
        assert values == expected.get(key, zero), key
    assert {(r.platform_reported_sales, r.platform_reported_consideration, r.platform_reported_fees) for r in rows} == {
        ("", "", "")}

    next_year = {(r.platform, r.quarter): (r.sales, r.consideration_home, r.fees_home)
                 for r in dac7_by_platform_quarter(2025, UNITS) if r.sales}  # fmt: skip
    assert next_year == {("ebay", "2025-Q1"): (1, D("50.00"), D("9.50")), ("ebay", "total"): (1, D("50.00"), D("9.50"))}


def test_pnl_differences_name_month_and_column():
    rows = tax_by_platform_month(2024, UNITS, FEE_KINDS)
    pnl = {
        "2024-01": {"units_sold": 1, "revenue_home": D("200.00"), "fees_home": D("20.00"), "output_vat_home": D("0.00"),
                    "net_sales_home": D("180.00"), "cost_of_goods_sold_home": D("120.00"),
                    "gross_profit_home": D("60.00")},
        "2024-02": {"units_sold": 3, "revenue_home": D("318.00"), "fees_home": D("38.00"), "output_vat_home": D("50.77"),
                    "net_sales_home": D("162.00"), "cost_of_goods_sold_home": D("110.00"),
                    "gross_profit_home": D("52.00")},
        "2024-03": {"units_sold": 1, "revenue_home": D("150.00"), "fees_home": D("14.50"), "output_vat_home": D("0.00"),
                    "net_sales_home": D("135.50"), "cost_of_goods_sold_home": D("100.00"),
                    "gross_profit_home": D("35.50")},
        "2024-12": {"units_sold": 1, "revenue_home": D("59.50"), "fees_home": D("9.50"), "output_vat_home": D("9.50"),
                    "net_sales_home": D("40.50"), "cost_of_goods_sold_home": D("30.00"),
                    "gross_profit_home": D("10.50")},
    }  # fmt: skip
    assert pnl_differences(rows, pnl) == []
    pnl["2024-03"] = {**pnl["2024-03"], "fees_home": D("14.49")}
    assert pnl_differences(rows, pnl) == ["2024-03 fees_home: export 14.50, fct_monthly_pnl 14.49"]
    del pnl["2024-12"]
    assert "2024-12 revenue_home: export 59.50, fct_monthly_pnl 0" in pnl_differences(rows, pnl)


def test_mixed_home_currencies_are_refused():
    other = SoldUnit(**{**UNITS[0].__dict__, "home_currency": "USD", "sale_id": "X"})
    with pytest.raises(ValueError, match=r"mixes home currencies \['EUR', 'USD'\]"):
        tax_by_platform_month(2024, [UNITS[0], other], [])


def test_csv_files_and_notes(tmp_path):
    rows = tax_by_platform_month(2024, UNITS, FEE_KINDS)
    dac7 = dac7_by_platform_quarter(2024, UNITS)
    paths = write_tax_export(tmp_path / "out", 2024, rows, dac7, "EUR")
    assert [p.name for p in paths] == [
        "tax_2024_by_platform_month.csv", "dac7_2024_by_platform_quarter.csv", "tax_2024_notes.txt"]
    with open(paths[0], newline="", encoding="utf-8") as handle:
        tax_csv = list(csv.DictReader(handle))
    assert list(tax_csv[0]) == [f for f in TaxRow.__dataclass_fields__]
    assert len(tax_csv) == 4 * 13
    grand = tax_csv[-1]
    assert (grand["platform"], grand["month"], grand["revenue_gross_home"], grand["output_vat_home"],
            grand["cost_of_goods_sold_home"], grand["gross_profit_home"], grand["units_sold"]) == (
        "all", "total", "727.50", "60.27", "360.00", "158.00", "6")  # fmt: skip
    quiet = next(r for r in tax_csv if (r["platform"], r["month"]) == ("local", "2024-05"))
    assert quiet["fees_home"] == "0.00" and quiet["units_sold"] == "0"
    with open(paths[1], newline="", encoding="utf-8") as handle:
        dac7_csv = list(csv.DictReader(handle))
    assert list(dac7_csv[0]) == [f for f in Dac7Row.__dataclass_fields__]
    stockx_q2 = next(r for r in dac7_csv if (r["platform"], r["quarter"]) == ("stockx", "2024-Q2"))
    assert (stockx_q2["sales"], stockx_q2["consideration_home"], stockx_q2["fees_home"],
            stockx_q2["platform_reported_consideration"]) == ("1", "135.50", "14.50", "")  # fmt: skip
    notes = paths[2].read_text(encoding="utf-8")
    assert "2024-01-01 00:00 UTC to 2024-12-31 24:00 UTC" in notes
    assert "net of the platform's fees, commissions and withheld taxes" in notes
