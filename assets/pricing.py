"""List-price recommendations for the pairs in stock and the pricing backtest, as Dagster assets
(group ``pricing``).

Thin on purpose: the pricing itself is :mod:`soleflipper.pricing` (fees, the reseller's rules YAML,
``recommend``, the replay); the inputs are read by :mod:`soleflipper.warehouse_inputs.pricing`, rows
are built by :mod:`soleflipper.analytics_rows.pricing` and written to the Python-owned tables of
:mod:`soleflipper.warehouse_tables.pricing` (analytics.pricing_recommendations and
analytics.pricing_backtest, both replaced per run); metadata is rendered by :mod:`assets.metadata`.

Inputs per pair: the market snapshot of its variant (newest StockX market data on or before the
pricing day), its variant's recent StockX market sales, the demand estimate from
``analytics.demand_forecasts``, fee schedules (``core.platform_fee_schedules``) and the rules file
(``SOLEFLIPPER_PRICING_RULES``, else ``soleflipper/pricing/default_rules.yaml``); amounts in other
currencies are converted with the newest ECB rate on or before the pricing day.
"""

from datetime import UTC, datetime

import dagster as dg

from assets.forecasting import DAILY_AFTER_INPUTS, DEMAND_FORECASTS
from assets.metadata import pricing_backtest_metadata, pricing_recommendations_metadata
from resources.warehouse import WarehouseResource
from soleflipper.analytics_rows.pricing import pricing_day, recommendation_rows, replay_market_history
from soleflipper.warehouse_inputs.pricing import (
    load_ebay_fee_line_items,
    load_pricing_inputs,
    load_replay_sales,
    load_schedules,
)
from soleflipper.warehouse_tables.pricing import (
    recommendation_floor_violations,
    replace_pricing_backtest,
    replace_recommendations,
)

GROUP = "pricing"
PRICING_RECOMMENDATIONS = dg.AssetKey(["analytics", "pricing_recommendations"])
PRICING_BACKTEST = dg.AssetKey(["analytics", "pricing_backtest"])


class PricingConfig(dg.Config):
    rules_path: str = ""
    """Pricing rules YAML; empty: $SOLEFLIPPER_PRICING_RULES, else soleflipper/pricing/default_rules.yaml."""
    as_of: str = ""
    """Day to price for (YYYY-MM-DD); empty: $SOLEFLIPPER_PRICING_AS_OF, else today (UTC)."""


class PricingBacktestConfig(dg.Config):
    max_series: int = 20
    """Replay the product x size series with the most market sales (each series is replayed weekly;
    ~0.3 s per series and year of history)."""
    step_days: int = 7
    horizon_days: int = 30
    warmup_days: int = 30


@dg.asset(
    key=PRICING_RECOMMENDATIONS,
    group_name=GROUP,
    deps=[
        dg.AssetKey(["products", "inventory_items"]),
        dg.AssetKey(["products", "dim_variants"]),
        dg.AssetKey(["staging", "stg_stockx__market_data"]),
        dg.AssetKey(["transactions", "fct_market_sales"]),
        DEMAND_FORECASTS,
        dg.AssetKey(["core", "platform_fee_schedules"]),
        dg.AssetKey(["core", "fx_rates_daily"]),
        dg.AssetKey(["staging", "stg_ebay__api_transactions"]),
    ],
    kinds={"python", "postgres"},
    automation_condition=DAILY_AFTER_INPUTS,
    description="List price, floor, expected days to sell, payout and profit for every pair in stock on every "
    "enabled platform (pricing rules YAML), the recommended platform flagged; "
    "analytics.pricing_recommendations, replaced in one transaction per run.",
    metadata={"dagster/table_name": "analytics.pricing_recommendations"},
)
def pricing_recommendations(
    context: dg.AssetExecutionContext, config: PricingConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    from soleflipper.pricing import PricingRulesError, load_rules
    from soleflipper.pricing.observed_fees import apply_observed_fees, observe_ebay_fees

    try:
        rules = load_rules(config.rules_path or None)
    except PricingRulesError as exc:
        raise dg.Failure(description=str(exc)) from None
    today = pricing_day(config.as_of or None)
    with warehouse.connect() as conn:
        inputs = load_pricing_inputs(conn, today, rules.recent_sales_days)
        platform_notes: dict[str, str] = {}
        if any(p.enabled and p.observed_fees for p in rules.platforms):
            observed = observe_ebay_fees(load_ebay_fee_line_items(conn), today)
            rules, notes = apply_observed_fees(rules, observed)
            for note in notes:
                context.log.info(note)
            if observed is not None:
                platform_notes["ebay"] = f"eBay fees as observed in {observed.source}"
        rows, stats = recommendation_rows(
            inputs.pairs,
            inputs.snapshots,
            inputs.recent,
            inputs.demand,
            inputs.schedules,
            rules,
            inputs.fx,
            today,
            platform_notes,
        )
        written = replace_recommendations(conn, rows, datetime.now(UTC), context.run.run_id)
    context.log.info(
        f"{stats['pairs']} pairs in stock, {stats['pairs_priced']} priced, {written} rows "
        f"(priced on {today}, rules {rules.source})"
    )
    return dg.MaterializeResult(
        metadata=pricing_recommendations_metadata(
            rows, stats, written, today, rules.source, inputs.schedules_source
        )
    )


@dg.asset(
    key=PRICING_BACKTEST,
    group_name=GROUP,
    deps=[dg.AssetKey(["transactions", "fct_market_sales"]), dg.AssetKey(["core", "platform_fee_schedules"])],
    kinds={"python", "postgres"},
    automation_condition=DAILY_AFTER_INPUTS,
    description="Pricing replay on the warehouse's market sales history (series with a retail price): the "
    "recommended rule vs the original market-based rule, sell-through within 7 / 30 days and "
    "realised margin; analytics.pricing_backtest, replaced per run.",
    metadata={"dagster/table_name": "analytics.pricing_backtest"},
)
def pricing_backtest(
    context: dg.AssetExecutionContext, config: PricingBacktestConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    with warehouse.connect() as conn:
        sales, currency, series = load_replay_sales(conn, config.max_series)
        schedules, schedules_source = load_schedules(conn)
        context.log.info(f"replaying {series} series ({len(sales)} market sales with a retail price)")
        outcome = replay_market_history(
            sales, currency, schedules, config.step_days, config.horizon_days, config.warmup_days
        )
        written = replace_pricing_backtest(
            conn,
            outcome.summary,
            currency or "-",
            series,
            outcome.first_replay_date,
            outcome.last_replay_date,
            "warehouse",
            datetime.now(UTC),
            context.run.run_id,
        )
    return dg.MaterializeResult(
        metadata=pricing_backtest_metadata(outcome, len(sales), series, currency, schedules_source, written)
    )


@dg.asset_check(
    asset=PRICING_RECOMMENDATIONS,
    description="No recommendation lists below its floor unless the "
    "pair is in clearance, and every priced pair has exactly one recommended platform.",
)
def recommendations_respect_floor(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        rows, below, pairs, not_one = recommendation_floor_violations(conn)
    return dg.AssetCheckResult(
        passed=below == 0 and not_one == 0,
        metadata={
            "rows": rows,
            "pairs": pairs,
            "below_floor_without_clearance": below,
            "pairs_without_exactly_one_recommendation": not_one,
        },
    )


pricing_assets = [pricing_recommendations, pricing_backtest]
pricing_checks = [recommendations_respect_floor]
