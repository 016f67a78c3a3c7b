"""List-price recommendations: hand-computed picks, the floor after rounding, clearance, discounts."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from soleflipper.pricing.fees import load_fee_schedules_csv, net_payout, to_cents
from soleflipper.pricing.recommend import (
    DemandEstimate,
    MarketSnapshot,
    PairInStock,
    Sale,
    acceptance,
    expected_days_to_sell,
    price_trend,
    recommend,
    round_up,
    sales_price_level,
)
from soleflipper.pricing.rules import PlatformRules, PricingRules

SCHEDULES = load_fee_schedules_csv()
TODAY = date(2024, 1, 13)
STOCKX_EU = PlatformRules("stockx", currency="EUR", region="EU", seller_level="1", min_seller_fee=D("5.00"))
RULES = PricingRules(
    home_currency="EUR",
    min_margin_pct=D("10"),
    max_discount_pct=D("15"),
    rounding="charm_99",
    holding_cost_pct_per_month=D("1"),
    clearance_after_days=180,
    clearance_max_loss_pct=D("20"),
    target_days_to_sell=30,
    recent_sales_days=30,
    platforms=(STOCKX_EU,),
)
PAIR = PairInStock("Jordan 1 Chicago", "10", D("120.00"), "EUR", date(2024, 1, 1))
SALES = (
    Sale(date(2024, 1, 5), D("180")),
    Sale(date(2024, 1, 8), D("185")),
    Sale(date(2024, 1, 10), D("190")),
)
MARKET = MarketSnapshot("stockx", "EUR", lowest_ask=D("195.00"), highest_bid=D("170.00"), recent_sales=SALES)


def test_recommendation_and_reason_hand_computed():
    # level 185 (median, < 5 sales: no trend), spread 0.04 × √(1 + 10/3) = 0.0833 (MAD × 1.4826 =
    # 0.0395 < 0.04), 0.7 units/week. Candidate 166.99 (level - 10 %, rounded up to .99) is at or
    # below the highest bid 170.00: sells in 1 day; fees 15.03 + 5.01, payout 146.95, holding
    # 120 × 1 % × 1/30 = 0.04, profit 26.91, score 26.91. Next best 177.99 (level - 4 %): 24 days,
    # P = 71.3 %, payout 156.63, profit 35.67, score 25.45; 170.99 (above the bid): 20 days, 23.05.
    result = recommend(PAIR, [MARKET], None, SCHEDULES, RULES, TODAY)
    rec = result.best
    assert rec is not None and result.recommendations == (rec,) and result.skipped == ()
    assert (rec.list_price, rec.floor, rec.expected_days_to_sell) == (D("166.99"), D("150.00"), 1)
    assert (rec.expected_payout, rec.holding_cost, rec.expected_profit) == (
        D("146.95"),
        D("0.04"),
        D("26.91"),
    )
    assert rec.discount_bound == D("157.25") and rec.market_reference == D("185.00")
    assert not rec.clearance and rec.clearance_loss is None
    assert rec.reason == (
        "StockX: list at 166.99 EUR (lowest ask 195.00, highest bid 170.00, 3 sales in 30 days at median 185.00); "
        "fees transaction 15.03 (9 %) + payment processing 5.01 (3 %); payout 146.95; cost 120.00; "
        "holding 0.04 for 1 expected days; profit 26.91; floor 150.00 (cost + 10 % min margin); "
        "max discount 15 % below median recent sale 185.00 = 157.25; age 12 days; rounding charm_99; "
        "100% chance to sell in 30 days"
    )


def test_reason_for_a_price_above_the_bid():
    # no bid: 177.99 (level - 4 %): share 0.795, 24 days, P 71.3 %; payout 177.99 - 16.02 - 5.34 =
    # 156.63, holding 120 × 1 % × 24/30 = 0.96, profit 35.67, score 25.45; beats 173.99 (20 days,
    # 77.7 % × 32.31 = 25.10) and 180.99 (29 days, 64.5 % × 38.11 = 24.57)
    no_bid = MarketSnapshot("stockx", "EUR", lowest_ask=D("195.00"), recent_sales=SALES)
    rec = recommend(PAIR, [no_bid], None, SCHEDULES, RULES, TODAY).best
    assert (rec.list_price, rec.expected_days_to_sell, rec.expected_profit) == (D("177.99"), 24, D("35.67"))
    assert (
        "fees transaction 16.02 (9 %) + payment processing 5.34 (3 %); payout 156.63; cost 120.00; "
        "holding 0.96 for 24 expected days; profit 35.67" in rec.reason
    )
    assert "highest bid n/a" in rec.reason and rec.reason.endswith("71% chance to sell in 30 days")


def test_cent_rounding_sells_to_the_bid():
    # at the bid 170.00: 1 day, payout 170 - 15.30 - 5.10 = 149.60, holding 0.04, profit 29.56 (certain)
    # beats e.g. 180.00 (27 days, profit 37.32 × 67.1 % = 25.03)
    rec = recommend(PAIR, [MARKET], None, SCHEDULES, RULES.with_changes(rounding="cent"), TODAY).best
    assert (rec.list_price, rec.expected_days_to_sell, rec.expected_profit) == (D("170.00"), 1, D("29.56"))


def test_expected_days_model_hand_computed():
    sales = list(SALES)
    level, spread = sales_price_level(sales, TODAY)
    assert level == pytest.approx(185.0) and spread == pytest.approx(0.04 * (13 / 3) ** 0.5)
    assert acceptance(D("185"), sales, MARKET, None, TODAY) == (pytest.approx(0.5), "recent sales")
    assert expected_days_to_sell(D("185"), sales, MARKET, None, 30, TODAY) == 38  # 7 / (0.45·√0.7·0.5) = 37.2
    assert expected_days_to_sell(D("195"), sales, MARKET, None, 30, TODAY) == 70  # share 0.2657
    assert expected_days_to_sell(D("170"), sales, MARKET, None, 30, TODAY) == 1  # at the bid
    assert expected_days_to_sell(D("500"), [], None, None, 30, TODAY) == 63  # no data: 7 / (0.45·0.5·0.5)
    one = [Sale(TODAY, D("150"))]  # one sale: spread 0.04 × √11
    assert sales_price_level(one, TODAY)[1] == pytest.approx(0.04 * 11**0.5)
    demand = DemandEstimate(
        weekly_units=3, price_point=D("200"), price_lower_80=D("180"), price_upper_80=D("230")
    )
    assert acceptance(D("200"), [], None, demand) == (0.5, "forecast price interval")
    assert acceptance(D("215"), [], None, demand)[0] == pytest.approx(0.3)
    assert expected_days_to_sell(D("200"), [], None, demand, 30) == 18  # 7 / (0.45·√3·0.5) = 17.96
    bid_ask = MarketSnapshot("stockx", "EUR", lowest_ask=D("200"), highest_bid=D("160"))
    assert acceptance(D("180"), [], bid_ask, None) == (pytest.approx(0.7), "bid/ask")


def test_price_trend_needs_five_sales_over_a_week_and_is_clamped():
    assert price_trend(list(SALES)) == 0.0
    rising = [Sale(date(2024, 1, 1) + timedelta(days=2 * i), D(100 + 10 * i)) for i in range(6)]
    assert price_trend(rising) == 0.005  # ~4 %/day, clamped
    gentle = [Sale(date(2024, 1, 1) + timedelta(days=i), D("100") * D("1.001") ** i) for i in range(8)]
    assert price_trend(gentle) == pytest.approx(0.0009995, rel=1e-3)


@pytest.mark.parametrize(
    ("price", "mode", "expected"),
    [
        ("185.00", "charm_99", "185.99"),
        ("185.99", "charm_99", "185.99"),
        ("186.00", "charm_99", "186.99"),
        ("185.001", "cent", "185.01"),
        ("185.01", "whole", "186.00"),
        ("185.00", "whole", "185.00"),
        ("186.00", "five", "190.00"),
        ("190.00", "five", "190.00"),
    ],
)
def test_round_up(price, mode, expected):
    assert round_up(D(price), mode) == D(expected)


def test_clearance_only_when_the_rules_say_so_and_the_loss_is_shown():
    old = PairInStock("Dunk Low", "9", D("120.00"), "EUR", date(2023, 1, 1))  # 377 days old
    cheap = MarketSnapshot(
        "stockx",
        "EUR",
        lowest_ask=D("99"),
        highest_bid=D("85"),
        recent_sales=(Sale(date(2024, 1, 9), D("95")),) * 3,
    )
    rec = recommend(old, [cheap], None, SCHEDULES, RULES, TODAY).best
    assert rec.clearance
    assert rec.floor_basis == "clearance after 377 days: recover at least 80 % of cost"
    assert net_payout(rec.list_price, SCHEDULES, STOCKX_EU.profile(), TODAY) >= D("96.00")
    assert rec.expected_payout < rec.cost and rec.list_price >= rec.discount_bound
    assert rec.clearance_loss == rec.cost + rec.holding_cost - rec.expected_payout > 0
    assert rec.reason.endswith(f"CLEARANCE: expected loss {rec.clearance_loss:.2f}")

    for rules in (
        RULES.with_changes(clearance_after_days=None),
        RULES.with_changes(clearance_after_days=400),
    ):
        rec = recommend(old, [cheap], None, SCHEDULES, rules, TODAY).best
        assert not rec.clearance and rec.clearance_loss is None and "CLEARANCE" not in rec.reason
        assert rec.floor == D("150.00") and rec.list_price >= D("150.00")
        assert rec.expected_payout >= D("132.00")


def test_max_discount_is_respected():
    cheap_cost = PairInStock("Yeezy", "9", D("50.00"), "EUR", date(2024, 1, 1))
    market = MarketSnapshot(
        "stockx", "EUR", recent_sales=tuple(Sale(date(2024, 1, 10), D(p)) for p in (290, 300, 310))
    )
    rules = RULES.with_changes(max_discount_pct=D("5"), rounding="cent")
    rec = recommend(cheap_cost, [market], None, SCHEDULES, rules, TODAY).best
    assert rec.discount_bound == D("285.00") and rec.list_price >= D("285.00")
    assert "max discount 5 % below median recent sale 300.00 = 285.00" in rec.reason


def test_platform_without_fx_is_skipped_and_best_is_chosen_over_platforms():
    ebay = PlatformRules("ebay", currency="EUR", final_value_rate=D("0.13"), shipping_cost=D("6.99"))
    alias = PlatformRules("alias", currency="USD", region="DE", seller_rating=95)
    rules = RULES.with_changes(platforms=(STOCKX_EU, ebay, alias))
    ebay_market = MarketSnapshot("ebay", "EUR", recent_sales=SALES)
    fx = {("USD", "EUR"): D("0.92")}  # eBay's fixed per-order fee is in USD
    result = recommend(PAIR, {"stockx": MARKET, "ebay": ebay_market}, None, SCHEDULES, rules, TODAY, fx)
    assert result.skipped == ("alias: cost in EUR, platform lists in USD: no FX rate EUR->USD",)
    assert [r.platform for r in result.recommendations] == ["stockx", "ebay"]
    assert result.recommendations[1].fees.amount("fixed_per_order") == D("0.37")  # 0.40 USD × 0.92
    assert result.best.platform == "stockx"  # eBay: 13 % + shipping 6.99 pays less at the same prices
    fx[("EUR", "USD")] = D("1.10")
    with_fx = recommend(PAIR, {"stockx": MARKET}, None, SCHEDULES, rules, TODAY, fx)
    alias_rec = next(r for r in with_fx.recommendations if r.platform == "alias")
    assert alias_rec.cost == D("132.00") and alias_rec.currency == "USD"
    assert with_fx.best.currency == "EUR"  # mixed currencies: compared in the home currency only


def test_demand_only_pricing_mentions_the_forecast():
    demand = DemandEstimate(
        weekly_units=3, price_point=D("200"), price_lower_80=D("180"), price_upper_80=D("230")
    )
    rec = recommend(PAIR, {}, demand, SCHEDULES, RULES, TODAY).best
    assert rec.market_reference == D("200.00")
    assert "no sales in 30 days, forecast 3/week at 200.00" in rec.reason
    assert rec.list_price >= D("170.00")  # 200 - 15 %


PRICES = st.integers(min_value=500, max_value=200_000).map(lambda c: D(c) / 100)


PLATFORMS = [
    PlatformRules("stockx", currency="USD", region="US", seller_level="1", shipping_cost=D("4.50")),
    PlatformRules("stockx", currency="USD", region="US", seller_level="5"),
    PlatformRules("alias", currency="USD", region="DE", seller_rating=72),
    PlatformRules("ebay", currency="USD", final_value_rate=D("0.1325"), shipping_cost=D("9.99")),
]


@settings(max_examples=100, deadline=None)
@given(
    cost=PRICES,
    sales=st.lists(PRICES, min_size=0, max_size=6),
    ask=st.one_of(st.none(), PRICES),
    bid=st.one_of(st.none(), PRICES),
    margin=st.integers(min_value=0, max_value=80),
    discount=st.integers(min_value=0, max_value=60),
    rounding=st.sampled_from(["cent", "whole", "charm_99", "five"]),
    platform=st.sampled_from(PLATFORMS),
    age=st.integers(min_value=0, max_value=400),
    clearance_after=st.one_of(st.none(), st.integers(min_value=30, max_value=365)),
)
def test_never_breaks_the_floor(
    cost, sales, ask, bid, margin, discount, rounding, platform, age, clearance_after
):
    rules = RULES.with_changes(
        home_currency="USD",
        min_margin_pct=D(margin),
        max_discount_pct=D(discount),
        rounding=rounding,
        clearance_after_days=clearance_after,
        platforms=(platform,),
    )
    market = MarketSnapshot(
        platform.platform,
        "USD",
        lowest_ask=ask,
        highest_bid=bid,
        recent_sales=tuple(Sale(TODAY - timedelta(days=i), p) for i, p in enumerate(sales)),
    )
    pair = PairInStock("X", "9", cost, "USD", TODAY - timedelta(days=age))
    rec = recommend(pair, [market], None, SCHEDULES, rules, TODAY).best
    clearance = clearance_after is not None and age >= clearance_after
    assert rec.clearance == clearance
    target = to_cents(cost * (1 + D(margin) / 100)) if not clearance else to_cents(cost * D("0.80"))
    assert rec.expected_payout == net_payout(rec.list_price, SCHEDULES, platform.profile(), TODAY)
    assert rec.expected_payout >= target
    if not clearance:
        assert rec.expected_payout >= cost and rec.clearance_loss is None
    elif rec.expected_profit < 0:
        assert rec.clearance_loss == -rec.expected_profit
        assert f"CLEARANCE: expected loss {rec.clearance_loss:.2f}" in rec.reason
    assert rec.list_price >= rec.floor
    if rec.discount_bound is not None:
        assert rec.list_price >= rec.discount_bound
    assert rec.list_price == round_up(rec.list_price, rounding)
