"""Pricing: fee math, reseller rules, list-price recommendations and the pricing backtest.

Plain, Dagster-free functions (money is ``decimal.Decimal``, rounded to the cent half up):

Fees (``soleflipper.pricing.fees``)::

    load_fee_schedules(rows: Iterable[Mapping]) -> list[FeeSchedule]    # rows of core.platform_fee_schedules
    load_fee_schedules_csv(path=SEED_PATH) -> list[FeeSchedule]         # the dbt seed CSV
    SellerProfile(platform, currency, region=None, seller_level=None, seller_rating=None,
                  performance_bonuses=0, category=None, min_seller_fee=None,
                  final_value_rate=None, shipping_cost=0, buyer_shipping=0, fx_rates={})
    fee_breakdown(list_price, schedules, profile, on: date) -> FeeBreakdown
        # .lines (FeeLine name/amount/rate/base/schedule_ids/minimum_applied), .total_fees,
        # .net_payout, .minimum_fee_applied, .amount(name), .describe()
    net_payout(list_price, schedules, profile, on) -> Decimal
    break_even_price(cost, schedules, profile, on, min_margin_pct=0) -> Decimal

Rules (``soleflipper.pricing.rules``)::

    load_rules(path=None) -> PricingRules   # path, else $SOLEFLIPPER_PRICING_RULES, else default_rules.yaml
    rules_from_mapping(data, path="<mapping>") -> PricingRules
    PricingRules(home_currency, min_margin_pct, max_discount_pct, rounding, holding_cost_pct_per_month,
                 clearance_after_days, clearance_max_loss_pct, target_days_to_sell,
                 recent_sales_days, platforms: tuple[PlatformRules, ...])
    PricingRulesError  # message "<file>: field '<name>': ..."

Recommendations (``soleflipper.pricing.recommend``)::

    recommend(pair: PairInStock, market: Mapping[str, MarketSnapshot] | Iterable[MarketSnapshot],
              demand: DemandEstimate | None, schedules: list[FeeSchedule], rules: PricingRules,
              today: date, fx_rates: Mapping[tuple[str, str], Decimal] | None = None) -> PricingResult
        # PricingResult(pair, best: Recommendation | None, recommendations: tuple[Recommendation, ...],
        #               skipped: tuple[str, ...])
    PairInStock(product, size, cost, currency, purchase_date, item_id=None, category=None)
    MarketSnapshot(platform, currency, lowest_ask=None, highest_bid=None, recent_sales=(Sale(sold_on, price), ...))
    DemandEstimate(weekly_units, price_point=None, price_lower_80=None, price_upper_80=None)
    Recommendation: platform, currency, list_price, floor, floor_basis, expected_days_to_sell,
        sell_probability, fees (FeeBreakdown), expected_payout, cost, holding_cost, expected_profit,
        clearance, clearance_loss, market_reference, discount_bound, reason
    recommend_for_platform(pair, snapshot | None, demand | None, schedules, platform: PlatformRules,
                           rules, today, fx_rates=None) -> Recommendation   # raises FeeError/ValueError
    expected_days_to_sell(price, sales, snapshot, demand, window_days, today=None) -> int
    acceptance(price, sales, snapshot, demand, today=None) -> (share, basis)

    ``fx_rates``: ``{(from_currency, to_currency): rate}``, used for costs and fixed fees in another
    currency than the platform lists in; a platform that lacks one is in ``PricingResult.skipped``.
    Note: the package attribute ``soleflipper.pricing.recommend`` is the function; import module
    members with ``from soleflipper.pricing.recommend import ...``.

Backtest (``soleflipper.pricing.replay``)::

    load_contest_sales(path) -> list[ContestSale]        # streams the .csv.gz with the csv module
    ContestSale(order_date, product, size, price, retail, release_date)
    ReplayConfig(rules=<StockX US Level 1, USD>, step_days=7, warmup_days=30, horizon_days=30,
                 min_sales_14d=1, start=None, end=None)
    replay(sales, config=None, schedules=None) -> pandas.DataFrame   # one row per pair × date × strategy
    summarize(results: DataFrame) -> DataFrame           # per strategy: sell-within-7/30 rates, margin, days
    original_market_based_price(sales_14d, cost) -> Decimal    # the original system's rule (§7.1)
    python -m soleflipper.pricing.cli_replay --input FILE [--out results.csv]
"""

from soleflipper.pricing.fees import (
    FeeBreakdown,
    FeeError,
    FeeLine,
    FeeSchedule,
    SellerProfile,
    break_even_price,
    fee_breakdown,
    load_fee_schedules,
    load_fee_schedules_csv,
    net_payout,
)
from soleflipper.pricing.recommend import (
    DemandEstimate,
    MarketSnapshot,
    PairInStock,
    PricingResult,
    Recommendation,
    Sale,
    recommend,
)
from soleflipper.pricing.rules import PlatformRules, PricingRules, PricingRulesError, load_rules

__all__ = [
    "DemandEstimate",
    "FeeBreakdown",
    "FeeError",
    "FeeLine",
    "FeeSchedule",
    "MarketSnapshot",
    "PairInStock",
    "PlatformRules",
    "PricingResult",
    "PricingRules",
    "PricingRulesError",
    "Recommendation",
    "Sale",
    "SellerProfile",
    "break_even_price",
    "fee_breakdown",
    "load_fee_schedules",
    "load_fee_schedules_csv",
    "load_rules",
    "net_payout",
    "recommend",
]
