"""eBay's fee rates observed in the seller's Finances SALE transactions: the window, the exact
rates, the fallback when there is no history, and what the pricing makes of them."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest

from soleflipper.pricing import PairInStock, fee_breakdown, load_fee_schedules_csv, recommend
from soleflipper.pricing.observed_fees import FeeLineItem, apply_observed_fees, observe_ebay_fees
from soleflipper.pricing.recommend import DemandEstimate
from soleflipper.pricing.rules import PricingRulesError, rules_from_mapping

D = Decimal


def item(order: str, day: date, basis: str, fvf: str, fixed: str = "0", currency: str = "EUR") -> FeeLineItem:
    return FeeLineItem(order, day, D(basis), D(fvf), D(fixed), currency)


ITEMS = [
    item("o1", date(2026, 3, 1), "146.99", "18.96", "0.35"),
    item("o2", date(2026, 3, 5), "111.99", "14.45", "0.35"),
    item("o2", date(2026, 3, 5), "101.99", "13.16"),  # second line of o2: no fixed fee
    item("o3", date(2026, 4, 2), "266.99", "34.44", "0.35"),
    item("o4", date(2026, 4, 9), "126.99", "20.47", "0.40"),  # a different fixed fee
]


def test_rate_is_total_final_value_fee_over_total_basis_and_fixed_fee_the_median_per_order():
    got = observe_ebay_fees(ITEMS, date(2026, 5, 1))
    fvf = D("18.96") + D("14.45") + D("13.16") + D("34.44") + D("20.47")
    basis = D("146.99") + D("111.99") + D("101.99") + D("266.99") + D("126.99")
    assert got.final_value_rate == (fvf / basis).quantize(D("0.0001")) == D("0.1344")
    assert got.fixed_per_order == D("0.35")  # median of 0.35, 0.35, 0.35, 0.40 per order
    assert (got.line_items, got.orders, got.currency) == (5, 4, "EUR")
    assert (got.first_day, got.last_day, got.after_pricing_day) == (date(2026, 3, 1), date(2026, 4, 9), False)
    assert got.source == "eBay Finances: 5 line items of 4 orders, 2026-03-01..2026-04-09"


def test_window_is_the_365_days_ending_on_the_pricing_day():
    old = item("o0", date(2025, 3, 1), "100.00", "50.00", "9.99")  # 366 days before 2026-03-02
    got = observe_ebay_fees([old, *ITEMS], date(2026, 3, 2))
    assert (got.final_value_rate, got.fixed_per_order, got.line_items) == (D("0.1290"), D("0.35"), 1)
    assert got.final_value_rate == (D("18.96") / D("146.99")).quantize(D("0.0001"))


def test_without_a_sale_before_the_pricing_day_the_first_year_of_history_is_used_and_said():
    got = observe_ebay_fees(ITEMS, date(2024, 12, 30))
    assert (got.line_items, got.after_pricing_day) == (5, True)
    assert got.source.endswith("(after the pricing day: no earlier eBay sale)")


def test_no_history_or_no_basis_observes_nothing():
    assert observe_ebay_fees([], date(2026, 5, 1)) is None
    assert observe_ebay_fees([item("o1", date(2026, 3, 1), "0", "0")], date(2026, 5, 1)) is None


def test_the_most_common_currency_is_observed_alone():
    usd = item("u1", date(2026, 3, 2), "100.00", "30.00", "0.30", "USD")
    got = observe_ebay_fees([usd, *ITEMS], date(2026, 5, 1))
    assert (got.currency, got.line_items, got.final_value_rate) == ("EUR", 5, D("0.1344"))


RULES = {"platforms": {"stockx": {"enabled": True, "currency": "EUR", "region": "EU", "seller_level": "1"},
                       "ebay": {"enabled": True, "currency": "EUR", "final_value_rate": "observed",
                                "shipping_cost": 6.99}}}


def test_rules_accept_observed_only_for_ebay():
    rules = rules_from_mapping(RULES, "rules.yaml")
    ebay = next(p for p in rules.platforms if p.platform == "ebay")
    assert (ebay.observed_fees, ebay.final_value_rate) == (True, None)
    bad = {"platforms": {"alias": {"final_value_rate": "observed"}}}
    with pytest.raises(PricingRulesError, match=r"rules.yaml: field 'platforms.alias.final_value_rate': 'observed'"):
        rules_from_mapping(bad, "rules.yaml")
    with pytest.raises(PricingRulesError, match=r"field 'platforms.ebay.observed_fees': unknown field"):
        rules_from_mapping({"platforms": {"ebay": {"observed_fees": True}}}, "rules.yaml")


def test_applied_rates_price_ebay_exactly_to_the_cent():
    rules, notes = apply_observed_fees(rules_from_mapping(RULES), observe_ebay_fees(ITEMS, date(2026, 5, 1)))
    ebay = next(p for p in rules.platforms if p.platform == "ebay")
    assert (ebay.final_value_rate, ebay.fixed_per_order) == (D("0.1344"), D("0.35"))
    assert notes == ["eBay final value rate 0.1344 and fixed fee per order 0.35 observed in eBay Finances: "
                     "5 line items of 4 orders, 2026-03-01..2026-04-09"]
    fees = fee_breakdown(D("150.00"), load_fee_schedules_csv(), ebay.profile(), date(2026, 5, 1))
    # 150.00 × 13.44 % = 20.16, plus 0.35 per order; the seller ships for 6.99
    assert [(line.name, line.amount) for line in fees.lines] == [("final_value", D("20.16")),
                                                                  ("fixed_per_order", D("0.35"))]
    assert fees.net_payout == D("150.00") - D("20.16") - D("0.35") - D("6.99")
    pair = PairInStock("Dunk Low", "US 10", D("90.00"), "EUR", date(2026, 4, 1))
    demand = DemandEstimate(weekly_units=2, price_point=D("150"), price_lower_80=D("130"),
                            price_upper_80=D("170"))
    result = recommend(pair, {}, demand, load_fee_schedules_csv(), rules, date(2026, 5, 1))
    rec = next(r for r in result.recommendations if r.platform == "ebay")
    assert rec.expected_payout >= D("99.00")  # the floor: cost 90.00 + 10 % margin
    assert rec.fees.lines[0].amount == (rec.list_price * D("0.1344")).quantize(D("0.01"), ROUND_HALF_UP)


def test_without_history_ebay_is_not_priced_and_the_note_says_why():
    rules, notes = apply_observed_fees(rules_from_mapping(RULES), None)
    assert [p.platform for p in rules.enabled_platforms()] == ["stockx"]
    assert notes == ["eBay not priced: final_value_rate is 'observed' but the warehouse has no eBay Finances "
                     "SALE transaction to observe it in (sync eBay, or set platforms.ebay.final_value_rate)"]


def test_a_fixed_fee_observed_in_another_currency_leaves_the_seed_fee():
    usd_only = [item("u1", date(2026, 3, 2), "100.00", "13.00", "0.30", "USD")]
    rules, notes = apply_observed_fees(rules_from_mapping(RULES), observe_ebay_fees(usd_only, date(2026, 5, 1)))
    ebay = next(p for p in rules.platforms if p.platform == "ebay")
    assert (ebay.final_value_rate, ebay.fixed_per_order) == (D("0.1300"), None)
    assert notes[0] == "eBay fixed fee per order observed in USD, listing in EUR: the seed's fixed fee applies"
