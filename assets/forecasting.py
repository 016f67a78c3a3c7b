"""Demand forecasts and their measured accuracy, as Dagster assets (group ``forecasting``).

Thin on purpose: the forecasting itself is :mod:`soleflipper.forecasting`; the history is read by
:mod:`soleflipper.warehouse_inputs.sales_history`, forecasts and backtests are run per level by
:mod:`soleflipper.analytics_rows.forecasts` and written to the Python-owned tables of
:mod:`soleflipper.warehouse_tables.forecasts` (analytics.demand_forecasts, replaced per run;
analytics.forecast_accuracy, appended per run); metadata is rendered by :mod:`assets.metadata`.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import dagster as dg

from assets.metadata import demand_forecasts_metadata, forecast_accuracy_metadata
from pipelines.automation import forecast_pricing_condition
from resources.warehouse import WarehouseResource
from soleflipper.analytics_rows.forecasts import (
    UnknownLevelError,
    backtest_levels,
    check_levels,
    forecast_rows,
)
from soleflipper.warehouse_inputs.sales_history import load_sales_history, sizes_in_stock
from soleflipper.warehouse_tables.forecasts import (
    append_forecast_accuracy,
    forecast_consistency,
    latest_accuracy_run,
    replace_demand_forecasts,
)

GROUP = "forecasting"
DEMAND_FORECASTS = dg.AssetKey(["analytics", "demand_forecasts"])
FORECAST_ACCURACY = dg.AssetKey(["analytics", "forecast_accuracy"])
HISTORY_DEPS = [
    dg.AssetKey(["transactions", "fct_market_sales"]),
    dg.AssetKey(["transactions", "fct_sales"]),
    dg.AssetKey(["core", "fx_rates_daily"]),
]
IN_STOCK_DEP = dg.AssetKey(["products", "inventory_items"])
# Once a day, after the nightly warehouse build updated every input, never while already running
# (SOLEFLIPPER_FORECAST_PRICING_CRON; pipelines/automation.py). Pricing has the same condition, so
# forecasts and pricing are requested together and run in one run, forecasts first.
DAILY_AFTER_INPUTS = forecast_pricing_condition()


class DemandForecastConfig(dg.Config):
    horizons: list[int] = [4, 8, 12]
    """Forecast horizons in weeks after the last complete week of history."""
    levels: list[str] = ["product", "product_size"]
    """Which series to forecast: per product, per product x size."""
    min_weeks: int = 40
    """Weeks of history (from a series' first sale) a series needs to be forecast."""
    max_size_series: int = 25
    """Product x size series to forecast: the ones with the most sales, plus every size in stock
    (0: every series; each takes ~0.1-0.2 s)."""
    seed: int = 0


class ForecastAccuracyConfig(dg.Config):
    levels: list[str] = ["product"]
    """Levels to backtest (product_size has many more series and takes longer)."""
    horizons: list[int] = [4, 8, 12]
    first_origin: int = 26
    """Weeks of history before the first backtest origin."""
    step: int = 4
    """Weeks between backtest origins."""
    min_weeks: int = 40
    max_series: int = 12
    """Backtest the series with the most sales (0: all, ~3 s per series and level with every model;
    `soleflipper backtest` runs every series)."""
    models: list[str] = []
    """Models to compare; empty: every baseline, candidate and the chosen model."""
    seed: int = 0


def _check_levels(levels: Sequence[str]) -> None:
    try:
        check_levels(levels)
    except UnknownLevelError as exc:
        raise dg.Failure(description=str(exc)) from None


@dg.asset(
    key=DEMAND_FORECASTS,
    group_name=GROUP,
    deps=[*HISTORY_DEPS, IN_STOCK_DEP],
    kinds={"python", "postgres"},
    automation_condition=DAILY_AFTER_INPUTS,
    description="Weekly demand forecasts (units and price, point and 80 % interval) per product and per "
    "product x size, from market sales and the reseller's own sales; analytics.demand_forecasts, "
    "replaced in one transaction per run.",
    metadata={"dagster/table_name": "analytics.demand_forecasts"},
)
def demand_forecasts(
    context: dg.AssetExecutionContext, config: DemandForecastConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    _check_levels(config.levels)
    with warehouse.connect() as conn:
        history = load_sales_history(conn)
        context.log.info(
            f"history: {history.market_sales} market sales, {history.own_sales} own sales "
            f"({history.own_sales_without_fx} own sales without an FX rate left out), "
            f"prices in {history.currency}"
        )
        in_stock = sizes_in_stock(conn)
        rows, panels = forecast_rows(
            history.sales,
            history.currency,
            config.levels,
            config.horizons,
            config.min_weeks,
            config.seed,
            config.max_size_series,
            in_stock,
        )
        written = replace_demand_forecasts(conn, rows, datetime.now(UTC), context.run.run_id)
    return dg.MaterializeResult(metadata=demand_forecasts_metadata(history, in_stock, rows, panels, written))


@dg.asset(
    key=FORECAST_ACCURACY,
    group_name=GROUP,
    deps=HISTORY_DEPS,
    kinds={"python", "postgres"},
    automation_condition=DAILY_AFTER_INPUTS,
    description="Rolling-origin backtest of the forecasting models on the warehouse's sales history (MASE, "
    "sMAPE, bias, 80 % coverage per target, model and horizon); appended to "
    "analytics.forecast_accuracy with the run id.",
    metadata={"dagster/table_name": "analytics.forecast_accuracy"},
)
def forecast_accuracy(
    context: dg.AssetExecutionContext, config: ForecastAccuracyConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    _check_levels(config.levels)
    last_logged: dict[str, int] = {}

    def progress(level: str, done: int, total: int) -> None:
        percent = 100 * done // max(total, 1)
        if percent >= last_logged.get(level, -10) + 10 or done == total:
            last_logged[level] = percent
            context.log.info(f"backtest {level}: {done}/{total} ({percent} %)")

    with warehouse.connect() as conn:
        history = load_sales_history(conn)
        results = backtest_levels(
            history.sales,
            config.levels,
            config.horizons,
            config.first_origin,
            config.step,
            config.min_weeks,
            config.seed,
            config.models or None,
            progress,
            config.max_series,
        )
        written = append_forecast_accuracy(conn, results, "warehouse", context.run.run_id, datetime.now(UTC))
    return dg.MaterializeResult(metadata=forecast_accuracy_metadata(results, config.levels, written))


@dg.asset_check(
    asset=DEMAND_FORECASTS,
    description="Every forecast is well-formed: units never negative and "
    "lower 80 % <= point <= upper 80 % wherever an interval is given.",
)
def demand_forecasts_are_consistent(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        rows, bad_units, bad_interval = forecast_consistency(conn)
    return dg.AssetCheckResult(
        passed=bad_units == 0 and bad_interval == 0,
        metadata={"rows": rows, "negative_units": bad_units, "outside_interval": bad_interval},
    )


@dg.asset_check(
    asset=FORECAST_ACCURACY,
    description="The latest backtest wrote accuracy rows (an empty table "
    "means nothing had enough history to be measured).",
)
def forecast_accuracy_is_not_empty(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        latest = latest_accuracy_run(conn)
    run_id, rows = latest or ("-", 0)
    return dg.AssetCheckResult(
        passed=rows > 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"latest_run_id": run_id, "rows": rows},
    )


forecasting_assets = [demand_forecasts, forecast_accuracy]
forecasting_checks = [demand_forecasts_are_consistent, forecast_accuracy_is_not_empty]
