"""Fee math to the cent per platform, from the project's fee seed (hand-computed expectations)."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soleflipper.pricing.fees import (
    SEED_PATH,
    FeeError,
    SellerProfile,
    break_even_price,
    fee_breakdown,
    load_fee_schedules,
    load_fee_schedules_csv,
    net_payout,
    to_cents,
)

SCHEDULES = load_fee_schedules_csv()
AFTER = date(2024, 1, 15)
BEFORE = date(2023, 6, 30)


def stockx(
    level: str = "1", bonuses: int = 0, region: str = "EU", currency: str = "EUR", **kw
) -> SellerProfile:
    return SellerProfile(
        "stockx", currency, region=region, seller_level=level, performance_bonuses=bonuses, **kw
    )


def test_seed_loads_every_row_with_types():
    with open(SEED_PATH, newline="", encoding="utf-8") as handle:
        assert len(SCHEDULES) == len(list(csv.DictReader(handle))) > 40
    by_id = {s.fee_schedule_id: s for s in SCHEDULES}
    row = by_id["stockx-transaction-level-1-before-2023-07"]
    assert row.rate == D("0.1000") and row.valid_from is None and row.valid_to == date(2023, 7, 1)
    assert by_id["alias-seller-fee-de"].fixed_amount == D("12.00")
    assert by_id["alias-seller-fee-de"].fixed_currency == "USD"
    # the EU minimum by date, as observed in the real EU seller report
    eu = [
        by_id[f"stockx-minimum-seller-fee-eu-{s}"] for s in ("until-2023-03-27", "2023-03-27", "2023-08-03")
    ]
    assert [(r.fixed_amount, r.valid_from, r.valid_to) for r in eu] == [
        (D("8.00"), None, date(2023, 3, 27)),
        (D("9.00"), date(2023, 3, 27), date(2023, 8, 3)),
        (D("5.00"), date(2023, 8, 3), None),
    ]


def test_loader_names_the_row_on_bad_values():
    with pytest.raises(FeeError, match="fee schedule x-1: rate 'abc' is not a number"):
        load_fee_schedules(
            [{"fee_schedule_id": "x-1", "platform": "stockx", "fee_type": "transaction", "rate": "abc"}]
        )
    with pytest.raises(FeeError, match="fee schedule x-2: valid_from '2023-13-01' is not a date"):
        load_fee_schedules(
            [
                {
                    "fee_schedule_id": "x-2",
                    "platform": "stockx",
                    "fee_type": "transaction",
                    "valid_from": "2023-13-01",
                }
            ]
        )


@pytest.mark.parametrize(
    ("level", "fee", "payout"),
    [  # 189.00 × level rate since 2023-07-01, + 3 % payment processing 5.67
        ("1", "17.01", "166.32"),  # 9 %
        ("2", "16.07", "167.26"),  # 8.5 %: 16.065 rounds half up
        ("3", "15.12", "168.21"),  # 8 %
        ("4", "14.18", "169.15"),  # 7.5 %: 14.175 rounds half up
        ("5", "13.23", "170.10"),  # 7 %
    ],
)
def test_stockx_levels_since_2023_07(level, fee, payout):
    b = fee_breakdown(D("189.00"), SCHEDULES, stockx(level), AFTER)
    assert b.amount("transaction") == D(fee)
    assert b.amount("payment_processing") == D("5.67")
    assert b.net_payout == D(payout)
    assert b.list_price - b.total_fees == b.net_payout  # components add up exactly


@pytest.mark.parametrize(
    ("level", "fee", "payout"),
    [  # one point higher before 2023-07-01
        ("1", "18.90", "164.43"),
        ("2", "17.96", "165.37"),  # 9.5 %: 17.955 rounds half up
        ("3", "17.01", "166.32"),
        ("4", "16.07", "167.26"),
        ("5", "15.12", "168.21"),
    ],
)
def test_stockx_levels_before_2023_07(level, fee, payout):
    b = fee_breakdown(D("189.00"), SCHEDULES, stockx(level), BEFORE)
    assert (b.amount("transaction"), b.net_payout) == (D(fee), D(payout))


def test_stockx_change_day_is_valid_to_exclusive():
    assert fee_breakdown(D("100"), SCHEDULES, stockx("1"), date(2023, 6, 30)).amount("transaction") == D(
        "10.00"
    )
    assert fee_breakdown(D("100"), SCHEDULES, stockx("1"), date(2023, 7, 1)).amount("transaction") == D(
        "9.00"
    )


def test_stockx_performance_bonuses_from_level_3():
    b = fee_breakdown(D("189.00"), SCHEDULES, stockx("3", bonuses=2), AFTER)
    assert b.lines[0].rate == D("0.0600") and b.amount("transaction") == D("11.34")
    assert set(b.lines[0].schedule_ids) == {
        "stockx-transaction-level-3",
        "stockx-bonus-quick-shipping",
        "stockx-bonus-ship-rate",
    }
    with pytest.raises(FeeError, match="level 2 on 2024-01-15 has 0"):
        fee_breakdown(D("189.00"), SCHEDULES, stockx("2", bonuses=1), AFTER)
    # the bonuses have no start date (the real report shows them before 2023-07-01): level 4 at
    # 8.5 % before the change, minus one point
    b = fee_breakdown(D("189.00"), SCHEDULES, stockx("4", bonuses=1), BEFORE)
    assert b.lines[0].rate == D("0.0750") and b.amount("transaction") == D("14.18")


def test_rounding_is_half_up_not_half_even():
    # 103.50 × 7 % = 7.245: half up 7.25 (half even would give 7.24)
    b = fee_breakdown(D("103.50"), SCHEDULES, stockx("3", bonuses=1), AFTER)
    assert b.amount("transaction") == D("7.25")
    assert b.amount("payment_processing") == D("3.11")  # 3.105
    assert to_cents(D("2.675")) == D("2.68")


def test_stockx_minimum_fee_us_from_seed():
    b = fee_breakdown(D("100.00"), SCHEDULES, stockx("1", region="US", currency="USD"), AFTER)
    assert b.amount("transaction") == D("10.00") and b.minimum_fee_applied  # 9 % = 9.00 < 10.00
    assert "stockx-minimum-seller-fee-us" in b.lines[0].schedule_ids
    assert b.net_payout == D("87.00")
    assert "transaction 10.00 (minimum fee)" in b.describe()
    above = fee_breakdown(D("112.00"), SCHEDULES, stockx("1", region="US", currency="USD"), AFTER)
    assert above.amount("transaction") == D("10.08") and not above.minimum_fee_applied


def test_stockx_minimum_fee_eu_from_the_seed_by_date_or_the_profile():
    # 8.5 % of 45 = 3.83, below the EU minimum: 9.00 on 2023-06-30 (seed), 5.00 since 2023-08-03
    before = fee_breakdown(D("45.00"), SCHEDULES, stockx("4", region="EU"), BEFORE)
    assert (before.amount("transaction"), before.lines[0].minimum_applied) == (D("9.00"), True)
    assert "stockx-minimum-seller-fee-eu-2023-03-27" in before.lines[0].schedule_ids
    after = fee_breakdown(D("45.00"), SCHEDULES, stockx("1", region="EU"), AFTER)
    assert after.amount("transaction") == D("5.00")  # 9 % of 45 = 4.05
    above = fee_breakdown(D("189.00"), SCHEDULES, stockx("1", region="EU"), AFTER)
    assert (above.amount("transaction"), above.lines[0].minimum_applied) == (D("17.01"), False)
    # the real report's first row (2022-07): 45.00, seller fee 8 (minimum), payment 1.35, shipping 5 -> 30.65
    b = fee_breakdown(D("45.00"), SCHEDULES, stockx("4", shipping_cost=D("5")), date(2022, 7, 20))
    assert (b.amount("transaction"), b.amount("payment_processing"), b.net_payout) == (
        D("8.00"),
        D("1.35"),
        D("30.65"),
    )
    # a seller's own minimum overrides the seed
    own = fee_breakdown(D("45.00"), SCHEDULES, stockx("4", min_seller_fee=D("6")), BEFORE)
    assert own.amount("transaction") == D("6.00")


def test_stockx_minimum_fee_in_other_currency_needs_fx():
    profile = stockx("1", region="CH", currency="EUR")
    with pytest.raises(FeeError, match="stockx-minimum-seller-fee-ch: 4.50 CHF needs an FX rate CHF->EUR"):
        fee_breakdown(D("40.00"), SCHEDULES, profile, AFTER)
    profile = stockx("1", region="CH", currency="EUR", fx_rates={"CHF": D("1.05")})
    assert fee_breakdown(D("40.00"), SCHEDULES, profile, AFTER).amount("transaction") == D("4.73")  # 4.725


def test_stockx_category_rate_replaces_level():
    b = fee_breakdown(D("1000.00"), SCHEDULES, stockx("5", category="watches"), AFTER)
    assert b.amount("transaction") == D("99.00")


@pytest.mark.parametrize(
    ("rating", "commission", "cash_out", "payout"),
    [  # 200.00 USD, seller in DE (12.00), cash-out 2.9 % of what is left
        (95, "19.00", "4.90", "164.10"),  # 9.5 %; 169.00 × 2.9 % = 4.901
        (90, "19.00", "4.90", "164.10"),
        (80, "30.00", "4.58", "153.42"),  # 15 %; 158.00 × 2.9 % = 4.582
        (60, "40.00", "4.29", "143.71"),  # 20 %; 148.00 × 2.9 % = 4.292
        (49, "50.00", "4.00", "134.00"),  # 25 %; 138.00 × 2.9 % = 4.002
    ],
)
def test_alias_commission_by_rating(rating, commission, cash_out, payout):
    b = fee_breakdown(
        D("200.00"), SCHEDULES, SellerProfile("alias", "USD", region="DE", seller_rating=rating), AFTER
    )
    assert b.amount("commission") == D(commission)
    assert b.amount("seller_fee") == D("12.00")
    assert b.amount("cash_out") == D(cash_out)
    assert b.net_payout == D(payout)


@pytest.mark.parametrize(
    ("region", "seller_fee"), [("US", "5.00"), ("GB", "12.00"), ("HK", "15.00"), ("DK", "20.00")]
)
def test_alias_seller_fee_by_region(region, seller_fee):
    b = fee_breakdown(
        D("100.00"), SCHEDULES, SellerProfile("alias", "USD", region=region, seller_rating=95), AFTER
    )
    assert b.amount("seller_fee") == D(seller_fee)


def test_alias_unlisted_country_pays_other_and_eur_needs_fx():
    b = fee_breakdown(
        D("100.00"), SCHEDULES, SellerProfile("alias", "USD", region="JP", seller_rating=95), AFTER
    )
    assert b.amount("seller_fee") == D("30.00")
    # 100.00 - 9.50 - 30.00 = 60.50; × 2.9 % = 1.7545 -> 1.75
    assert b.amount("cash_out") == D("1.75") and b.net_payout == D("58.75")
    with pytest.raises(FeeError, match="alias-seller-fee-de: 12.00 USD needs an FX rate USD->EUR"):
        fee_breakdown(
            D("100"), SCHEDULES, SellerProfile("alias", "EUR", region="DE", seller_rating=95), AFTER
        )
    eur = SellerProfile("alias", "EUR", region="DE", seller_rating=95, fx_rates={"USD": D("0.92")})
    assert fee_breakdown(D("100"), SCHEDULES, eur, AFTER).amount("seller_fee") == D("11.04")


def test_ebay_has_no_category_rate_in_the_seed():
    with pytest.raises(FeeError, match="final_value_rate"):
        fee_breakdown(D("200"), SCHEDULES, SellerProfile("ebay", "USD"), AFTER)


@pytest.mark.parametrize(
    ("price", "level", "fvf", "fixed", "payout"),
    [  # with a seller-set category rate of 8 %
        ("200.00", None, "16.00", "0.40", "183.60"),
        ("9.00", None, "0.72", "0.30", "7.98"),  # order total up to 10.00: 0.30
        ("10.00", None, "0.80", "0.30", "8.90"),
        ("10.01", None, "0.80", "0.40", "8.81"),  # 0.8008
        ("200.00", "below_standard", "24.00", "0.40", "175.60"),  # + 4 points
    ],
)
def test_ebay_final_value_and_fixed_per_order(price, level, fvf, fixed, payout):
    profile = SellerProfile("ebay", "USD", seller_level=level, final_value_rate=D("0.08"))
    b = fee_breakdown(D(price), SCHEDULES, profile, AFTER)
    assert (b.amount("final_value"), b.amount("fixed_per_order"), b.net_payout) == (
        D(fvf),
        D(fixed),
        D(payout),
    )


def test_ebay_buyer_shipping_is_in_the_fee_base():
    profile = SellerProfile(
        "ebay", "USD", final_value_rate=D("0.08"), buyer_shipping=D("15.00"), shipping_cost=D("12")
    )
    b = fee_breakdown(D("200.00"), SCHEDULES, profile, AFTER)
    assert b.amount("final_value") == D("17.20")  # 215.00 × 8 %
    assert b.net_payout == D("170.40")  # 200 - 17.20 - 0.40 - 12.00 shipping


def test_unknown_platform():
    with pytest.raises(FeeError, match="no fee model for platform 'goat'"):
        fee_breakdown(D("1"), SCHEDULES, SellerProfile("goat", "USD"), AFTER)


def test_break_even_exact():
    # cost 120 + 10 % = 132.00; 150.00 × (1 - 9 % - 3 %) = 132.00 exactly
    profile = stockx("1", min_seller_fee=D("5"))
    assert break_even_price(D("120"), SCHEDULES, profile, AFTER, 10) == D("150.00")
    assert net_payout(D("150.00"), SCHEDULES, profile, AFTER) == D("132.00")
    assert net_payout(D("149.99"), SCHEDULES, profile, AFTER) == D("131.99")


def test_break_even_inside_the_minimum_fee():
    # US minimum 10.00 applies below 111.12: p - 10.00 - round(3 % p) >= 30.00 -> 41.24
    profile = stockx("1", region="US", currency="USD")
    assert break_even_price(D("30"), SCHEDULES, profile, AFTER) == D("41.24")
    assert net_payout(D("41.24"), SCHEDULES, profile, AFTER) == D("30.00")
    assert net_payout(D("41.23"), SCHEDULES, profile, AFTER) == D("29.99")


def test_break_even_where_both_fees_step_at_the_same_cent():
    # before 2023-07, 10 % + 3 %: 126.43 pays 126.43 - 12.64 - 3.79 = 110.00; 126.42 pays 109.99
    profile = stockx("1", region="US", currency="USD")
    assert break_even_price(D("100"), SCHEDULES, profile, date(2019, 1, 1), 10) == D("126.43")


PROFILES = [
    stockx("1", region="US", currency="USD"),
    stockx("3", bonuses=2, min_seller_fee=D("5"), shipping_cost=D("4.99")),
    SellerProfile("alias", "USD", region="DE", seller_rating=75),
    SellerProfile("ebay", "USD", final_value_rate=D("0.1325"), shipping_cost=D("7")),
]


@settings(max_examples=60, deadline=None)
@given(
    cost_cents=st.integers(min_value=100, max_value=300_000),
    margin=st.integers(min_value=0, max_value=60),
    profile=st.sampled_from(PROFILES),
)
def test_break_even_is_the_lowest_price_that_holds(cost_cents, margin, profile):
    cost = D(cost_cents) / 100
    target = to_cents(cost * (1 + D(margin) / 100))
    floor = break_even_price(cost, SCHEDULES, profile, AFTER, margin)
    assert net_payout(floor - D("0.01"), SCHEDULES, profile, AFTER) < target or floor == 0
    for extra in range(0, 300, 7):
        assert net_payout(floor + D(extra) / 100, SCHEDULES, profile, AFTER) >= target
