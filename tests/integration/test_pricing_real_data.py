"""StockX fee math proven to the cent on a real EU seller report; the backtest on real sales.

The report (shared/data/real/stockx_seller_sales_report_2022.csv, 1,127 sales 2022-07 to 2025-06,
EUR) gives list price, seller fee, payment processing, shipping and payout per sale. What it
shows, and what these tests pin:

* payment processing = 3 % of the list price, rounded half up, on every row that has it;
* the seller fee = list price × the level rate, rounded half up, at least the EU minimum. The
  rates seen are the seed's Level 4 rate with 0-2 performance bonuses before 2023-07-01 (8.5 /
  7.5 / 6.5 %) and Level 3 with 0-2 bonuses after (8 / 7 / 6 %), so the seed's bonus rows have
  no start date;
* EU minimum seller fee: 8.00 EUR until 2023-03-27 ~12:00 UTC (last 8.00 at 11:52, first 9.00 at
  14:51), 9.00 EUR until 2023-07-18 (last seen), 5.00 EUR from 2023-08-03 (first seen); no
  minimum-fee sale falls in the gap. The seed holds these by date; the tests pass the minimum by
  the hour (the change happened within 2023-03-27) and check the seed's dates separately;
* exact half-cent ties (list price × rate ending in 5 at the third decimal) were rounded either
  way by StockX (139.00 × 6.5 % = 9.035 is 9.04 twice and 9.03 three times), so those are
  allowed to be one cent off;
* 20 sales carry a promotional seller fee below every schedule and below the minimum (3.25 to
  4 % of the price, or 0): no schedule describes them, they are counted, not reproduced.
"""

from __future__ import annotations

import csv
import dataclasses
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from soleflipper.pricing.fees import SellerProfile, fee_breakdown, load_fee_schedules_csv
from soleflipper.pricing.replay import ReplayConfig, iter_contest_sales, replay, summarize

SCHEDULES = load_fee_schedules_csv()
REPORT = "stockx_seller_sales_report_2022.csv"


def _d(text: str | None) -> Decimal | None:
    text = (text or "").strip()
    return None if text in ("", "N/A") else Decimal(text)


def _sold_at(row: dict) -> datetime:
    return datetime.strptime(row["Sale Date"] + "00", "%Y-%m-%d %H:%M:%S %z")


def eu_minimum_fee(sold_at: datetime) -> Decimal:
    if sold_at < datetime(2023, 3, 27, 12, 0, tzinfo=UTC):
        return Decimal("8.00")
    if sold_at.date() < date(2023, 7, 19):
        return Decimal("9.00")
    return Decimal("5.00")


def profile(sold_at: datetime, bonuses: int, shipping: Decimal = Decimal(0)) -> SellerProfile:
    level = "4" if sold_at.date() < date(2023, 7, 1) else "3"
    return SellerProfile(
        "stockx",
        "EUR",
        region="EU",
        seller_level=level,
        performance_bonuses=bonuses,
        min_seller_fee=eu_minimum_fee(sold_at),
        shipping_cost=shipping,
    )


@pytest.fixture(scope="module")
def report_rows(real_data: Path) -> list[dict]:
    with open(real_data / REPORT, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1127
    assert {r["Listing Price Currency"] for r in rows} == {"EUR"}
    return rows


def test_payment_processing_to_the_cent(report_rows):
    checked = 0
    for row in report_rows:
        reported = _d(row["Payment Processing"])
        if reported is None:
            continue
        sold_at = _sold_at(row)
        b = fee_breakdown(_d(row["Listing Price"]), SCHEDULES, profile(sold_at, 0), sold_at.date())
        assert b.amount("payment_processing") == reported, row["Order Number"]
        checked += 1
    assert checked == 1099


def classify(row: dict) -> tuple[str, list]:
    price, reported = _d(row["Listing Price"]), _d(row["Seller Fee"])
    sold_at = _sold_at(row)
    options = [fee_breakdown(price, SCHEDULES, profile(sold_at, b), sold_at.date()) for b in (0, 1, 2)]
    lines = [o.lines[0] for o in options]
    for line in lines:
        if line.amount == reported:
            return ("minimum" if line.minimum_applied else "rate"), lines
    for line in lines:
        exact = price * line.rate
        if (
            not line.minimum_applied
            and abs(line.amount - reported) == Decimal("0.01")
            and exact * 1000 % 10 == 5
        ):
            return "half-cent tie rounded down", lines
    if reported < min(line.amount for line in lines):
        return "promotion below every schedule", lines
    return "unexplained", lines


def test_seller_fee_to_the_cent(report_rows):
    counts: Counter[str] = Counter()
    for row in report_rows:
        if _d(row["Seller Fee"]) is None:
            continue
        kind, lines = classify(row)
        counts[kind] += 1
        assert kind != "unexplained", (row["Order Number"], row["Listing Price"], row["Seller Fee"], lines)
    assert counts == {
        "rate": 548,
        "minimum": 355,
        "half-cent tie rounded down": 28,
        "promotion below every schedule": 20,
    }


def test_seed_eu_minimum_by_date_reproduces_every_minimum_fee_sale(report_rows):
    """Without an override, the seed's dated EU minimum explains every minimum-fee sale except the
    ones on 2023-03-27, the day it changed (the seed is by date, the change was at midday)."""
    by_seed: Counter[str] = Counter()
    for row in report_rows:
        if _d(row["Seller Fee"]) is None or classify(row)[0] != "minimum":
            continue
        sold_at = _sold_at(row)
        seed_only = dataclasses.replace(profile(sold_at, 0), min_seller_fee=None)
        seeded = fee_breakdown(Decimal("1.00"), SCHEDULES, seed_only, sold_at.date()).amount("transaction")
        if sold_at.date() == date(2023, 3, 27):
            by_seed["changeover day"] += 1
            continue
        assert seeded == _d(row["Seller Fee"]), (row["Order Number"], row["Sale Date"], seeded)
        by_seed[str(seeded)] += 1
    assert sum(by_seed.values()) == 355
    assert set(by_seed) <= {"5.00", "8.00", "9.00", "changeover day"} and len(by_seed) >= 3


@pytest.mark.parametrize(
    ("order", "price", "fee", "payment", "shipping", "payout"),
    [
        ("39230274-39130033", "45", "8.00", "1.35", "5", "30.65"),  # 2022-07: minimum 8 EUR (fee column N/A)
        ("39224521-39124280", "69", "8.00", "2.07", "0", "58.93"),  # 6.5 % would be 4.49
        ("49405814-49305573", "108", "9.00", "3.24", "0", "95.76"),  # 2023-03-27 14:51: minimum 9 EUR
    ],
)
def test_minimum_fee_rows(report_rows, order, price, fee, payment, shipping, payout):
    row = next(r for r in report_rows if r["Order Number"] == order)
    assert row["Listing Price"] == price
    sold_at = _sold_at(row)
    b = fee_breakdown(Decimal(price), SCHEDULES, profile(sold_at, 2, Decimal(shipping)), sold_at.date())
    assert b.minimum_fee_applied
    assert (b.amount("transaction"), b.amount("payment_processing"), b.net_payout) == (
        Decimal(fee),
        Decimal(payment),
        Decimal(payout),
    )
    assert b.net_payout == _d(row["Total Gross Amount (Total Payout)"])


def test_rows_without_a_seller_fee_column_hide_the_8_eur_minimum(report_rows):
    hidden = 0
    for row in report_rows:
        if _d(row["Seller Fee"]) is not None or _d(row["Payment Processing"]) is None:
            continue
        price, shipping = _d(row["Listing Price"]), _d(row["Shipping Fee"]) or Decimal(0)
        implied = (
            price - _d(row["Payment Processing"]) - shipping - _d(row["Total Gross Amount (Total Payout)"])
        )
        if implied == 8:
            sold_at = _sold_at(row)
            b = fee_breakdown(price, SCHEDULES, profile(sold_at, 2, shipping), sold_at.date())
            assert b.minimum_fee_applied and b.amount("transaction") == 8, row["Order Number"]
            assert b.net_payout == _d(row["Total Gross Amount (Total Payout)"])
            hidden += 1
    assert hidden == 149


def test_backtest_on_a_real_slice(real_data: Path):
    sales = [
        s for s in iter_contest_sales(real_data / "stockx_contest_2019.csv.gz") if "Beluga-2pt0" in s.product
    ]
    config = ReplayConfig(start=date(2018, 6, 4), end=date(2018, 6, 18))
    frame = replay(sales, config)
    assert len(frame) > 40 and replay(sales, config).equals(frame)
    summary = summarize(frame).set_index("strategy")
    assert summary.loc["recommended", "below_min_margin"] == 0
    assert summary.loc["recommended", "below_own_floor"] == 0
    assert 0 < summary.loc["recommended", "sold_within_30_rate"] <= 1
