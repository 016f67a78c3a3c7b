"""StockX API assets (group ``stockx``): orders, catalog (products + variants), market data.

Thin on purpose: fetching and loading live in :mod:`assets.stockx_sync`; these wrappers pick the
window or the day, open the client and the warehouse connection, and report what happened. Their
keys are the dbt sources' keys (``raw/stockx_orders`` ...), so lineage runs from the API to the
marts. Every StockX asset is in the Dagster concurrency pool ``stockx_api``: with a pool limit
of 1 (dagster.yaml ``concurrency: pools: default_limit: 1``) runs take turns on the API, and the
client's rate limiter paces the requests inside a run.

Metadata on every materialization: rows_read / rows_loaded / rows_changed / rows_duplicate /
rows_quarantined, table_rows, api_calls (requests this asset sent, retries included), retries
and budget_remaining (requests left in today's shared StockX budget after the asset).

* ``raw/stockx_orders``: daily partitions by order creation day (UTC), backfilled in one run per
  range (``BackfillPolicy.single_run()``). A range that ends before today fetches exactly those
  days from the history endpoint (no active orders): select the asset, *Materialize*, pick the
  dates. Today's partition (what the 4-hourly schedule runs) and a run without a partition are
  incremental: the cursor is the ``max_created_date`` metadata of the asset's previous
  materialization, the window starts ``overlap_days`` before it (config ``full_refresh: true``
  ignores it), and all active orders come too. Re-running a partition adds only changed orders
  (the loader de-duplicates by content). Metadata ``window_start`` / ``window_end`` / ``backfill``.
* ``raw/stockx_products`` + ``raw/stockx_variants``: one call sequence (a multi-asset) that looks
  up every style code seen in sales, purchases and API orders; what StockX does not know is in
  ``not_found`` / ``not_found_lookups``, the run does not fail for it.
* ``raw/stockx_market_data``: daily partitions. StockX only serves *current* market data, so
  only today's partition (UTC) can be materialized: an older partition is refused with a clear
  message instead of storing today's prices under a past date. A run without a partition key
  (``refresh_everything``) snapshots today. Config ``in_stock_only`` (default true): only the
  products with a pair in stock (``products.inventory_items``), the ones pricing needs.

The API assets retry a step that failed on a transient error twice, with exponential backoff and
jitter; any other error fails at once (:mod:`pipelines.automation`). Jobs: ``sync_stockx`` (the
group), ``sync_stockx_orders`` and ``sync_stockx_market_data``, each with the models downstream
(not forecasts and pricing, which run daily on their own); their schedules are in
:mod:`pipelines.schedules`.
"""

import os
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg

from assets.checks_raw import database_now, raw_check_results, raw_check_specs
from assets.stockx_sync import (
    DEFAULT_OVERLAP_DAYS,
    HISTORY_START,
    MARKET_DATA_FORMAT,
    ORDERS_FORMAT,
    PRODUCTS_FORMAT,
    STYLE_CODE_COLUMNS,
    VARIANTS_FORMAT,
    SyncResult,
    catalog_lookups,
    sync_catalog,
    sync_market_data,
    sync_orders,
)
from pipelines.automation import API_RETRY_POLICY, transient_only
from pipelines.jobs import FORECAST_AND_PRICING_ASSETS, WAREHOUSE_BUILD
from resources.stockx import StockXResource
from resources.warehouse import WarehouseResource
from soleflipper.formats import load_format

GROUP = "stockx"
POOL = "stockx_api"
KINDS = {"stockx", "postgres"}
# Marks every asset that calls the StockX API. Select them with AssetSelection.tag(*API_TAG), which,
# unlike a key selection, also resolves when the StockX assets are not loaded.
API_TAG = ("soleflipper/api", "stockx")
TAGS = dict([API_TAG])

ORDERS_KEY = dg.AssetKey(["raw", "stockx_orders"])
PRODUCTS_KEY = dg.AssetKey(["raw", "stockx_products"])
VARIANTS_KEY = dg.AssetKey(["raw", "stockx_variants"])
MARKET_DATA_KEY = dg.AssetKey(["raw", "stockx_market_data"])
# Every raw table the catalog reads style codes from (lineage; they need not have been loaded).
STYLE_SOURCE_KEYS = [dg.AssetKey(["raw", load_format(name).table]) for name, _ in STYLE_CODE_COLUMNS]

# One daily partitioning (UTC) for orders and market data, so one job can hold both. It starts when
# StockX opened (order history); end_offset=1: today's partition exists (the default ends at
# yesterday, the last complete day).
stockx_daily_partitions = dg.DailyPartitionsDefinition(start_date=HISTORY_START.isoformat(), end_offset=1)
market_data_partitions = orders_partitions = stockx_daily_partitions


def stockx_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether StockX is configured (an API key: the user's, or the demo simulator's)."""
    return bool(((os.environ if environ is None else environ).get("SOLEFLIPPER_STOCKX_API_KEY") or "").strip())


def _utc_today() -> date:
    return datetime.now(UTC).date()


def _table_meta(fmt_name: str) -> dict[str, Any]:
    fmt = load_format(fmt_name)
    return {"format": fmt_name, "dagster/table_name": f"raw.{fmt.table}"}


def _metadata(result: SyncResult, fmt_name: str, warehouse: WarehouseResource, budget_remaining: int,
              **extra: Any) -> dict[str, Any]:
    table = f"raw.{load_format(fmt_name).table}"
    return {
        **result.totals(table),
        "table_rows": warehouse.count_rows(table),
        "api_calls": result.api_calls,
        "retries": result.retries,
        "budget_remaining": budget_remaining,
        **extra,
    }


NOT_FOUND_LISTED = 200  # metadata lists at most this many lookups (the count is always exact)


def _not_found(result: SyncResult) -> dict[str, Any]:
    lines = [f"- {item}" for item in result.not_found[:NOT_FOUND_LISTED]]
    if len(result.not_found) > NOT_FOUND_LISTED:
        lines.append(f"- … and {len(result.not_found) - NOT_FOUND_LISTED} more (see the run's log)")
    return {"not_found": len(result.not_found), "not_found_lookups": dg.MetadataValue.md("\n".join(lines) or "none")}


# --------------------------------------------------------------------------- orders


class StockXOrdersConfig(dg.Config):
    full_refresh: bool = False
    """Ignore the cursor and fetch the whole order history again (unchanged orders add nothing)."""
    overlap_days: int = DEFAULT_OVERLAP_DAYS
    """Days before the newest order already loaded that are fetched again (late or changed orders)."""


def previous_cursor(context: dg.AssetExecutionContext, key: dg.AssetKey) -> date | None:
    """``max_created_date`` of the asset's latest materialization, if any."""
    event = context.instance.get_latest_materialization_event(key)
    materialization = event.asset_materialization if event is not None else None
    value = materialization.metadata.get("max_created_date") if materialization is not None else None
    text = getattr(value, "value", value)
    return date.fromisoformat(text) if isinstance(text, str) and text else None


def partition_days(context: dg.AssetExecutionContext) -> tuple[date, date] | None:
    """(first day, last day) of the run's partition range; None for a run without partitions."""
    if context.has_partition_key_range:
        keys = context.partition_key_range
        return date.fromisoformat(keys.start), date.fromisoformat(keys.end)
    if context.has_partition_key:
        day = date.fromisoformat(context.partition_key)
        return day, day
    return None


@dg.asset(
    key=ORDERS_KEY,
    group_name=GROUP,
    kinds=KINDS,
    tags=TAGS,
    pool=POOL,
    partitions_def=orders_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=API_RETRY_POLICY,
    description="StockX API orders by creation day (UTC partitions): a past range exactly, today's partition "
                "incremental (overlapping window) with all active orders; one row per order version, into "
                "raw.stockx_orders.",
    metadata=_table_meta(ORDERS_FORMAT),
    check_specs=raw_check_specs(ORDERS_KEY),
)
def stockx_orders(
    context: dg.AssetExecutionContext,
    config: StockXOrdersConfig,
    stockx: StockXResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    today = _utc_today()
    days = partition_days(context)
    backfill = days is not None and days[1] < today
    recorded = previous_cursor(context, ORDERS_KEY)
    # A backfill keeps the cursor (so later incremental runs do not move back); full_refresh drops it.
    since = None if config.full_refresh and not backfill else recorded
    context.log.info(f"order history cursor: {since or 'none (full history)'}"
                     + (f"; partitions {days[0]}..{days[1]}" if days else ""))
    with transient_only(), warehouse.connect() as conn, stockx.get_client() as client:
        loaded_after = database_now(conn)
        result = sync_orders(client, conn, since=since, today=today, overlap_days=config.overlap_days,
                             partition=days)
        remaining = client.budget.remaining()
    start, end = result.window or (None, None)
    context.log.info(f"raw.stockx_orders: window {start}..{end}{' (backfill)' if backfill else ''}, "
                     f"{result.totals()}, {result.api_calls} API calls")
    extra: dict[str, Any] = {
        "window_start": str(start),
        "window_end": str(end),
        "backfill": backfill,
        "full_refresh": config.full_refresh,
        "pending_active_orders": result.pending_active,
    }
    if result.max_created_date is not None:
        extra["max_created_date"] = result.max_created_date.isoformat()
    with warehouse.connect() as conn:
        checks = raw_check_results(conn, ORDERS_KEY, loaded_after)
    return dg.MaterializeResult(metadata=_metadata(result, ORDERS_FORMAT, warehouse, remaining, **extra),
                                check_results=checks)


# --------------------------------------------------------------------------- catalog


class StockXCatalogConfig(dg.Config):
    refresh: bool = False
    """Look up every product again, also those already in raw.stockx_products (changed products
    add a version row)."""


@dg.multi_asset(
    name="stockx_catalog",
    specs=[
        dg.AssetSpec(PRODUCTS_KEY, group_name=GROUP, kinds=KINDS, tags=TAGS,
                     deps=STYLE_SOURCE_KEYS,
                     description="StockX catalog products for every style code seen in sales, purchases and "
                                 "API orders (search by style code, by id, by name), into raw.stockx_products.",
                     metadata=_table_meta(PRODUCTS_FORMAT)),
        dg.AssetSpec(VARIANTS_KEY, group_name=GROUP, kinds=KINDS, tags=TAGS,
                     deps=STYLE_SOURCE_KEYS,
                     description="StockX catalog variants (sizes, GTINs) of every product in "
                                 "raw/stockx_products, into raw.stockx_variants.",
                     metadata=_table_meta(VARIANTS_FORMAT)),
    ],
    pool=POOL,
    retry_policy=API_RETRY_POLICY,
    check_specs=raw_check_specs(PRODUCTS_KEY, VARIANTS_KEY),
)
def stockx_catalog(
    context: dg.AssetExecutionContext,
    config: StockXCatalogConfig,
    stockx: StockXResource,
    warehouse: WarehouseResource,
):
    with transient_only(), warehouse.connect() as conn, stockx.get_client() as client:
        loaded_after = database_now(conn)
        lookups = catalog_lookups(conn, refresh=config.refresh)
        context.log.info(f"catalog lookups: {len(lookups.style_codes)} style codes, "
                         f"{len(lookups.product_ids)} product ids, {len(lookups.keywords)} names")
        result = sync_catalog(client, conn, lookups.style_codes, product_ids=lookups.product_ids,
                              keywords=lookups.keywords, gtins=lookups.gtins)
        remaining = client.budget.remaining()
    if result.not_found:
        context.log.warning(f"StockX catalog has no match for {len(result.not_found)} lookup(s): "
                            + ", ".join(result.not_found))
    shared = {
        "lookups": result.looked_up,
        "products_found": result.products,
        **_not_found(result),
        "refresh": config.refresh,
        "api_calls_note": dg.MetadataValue.text(
            "api_calls is the whole catalog call sequence, shared with the other catalog asset"),
    }
    with warehouse.connect() as conn:
        checks = {key: raw_check_results(conn, key, loaded_after) for key in (PRODUCTS_KEY, VARIANTS_KEY)}
    yield dg.MaterializeResult(asset_key=PRODUCTS_KEY, check_results=checks[PRODUCTS_KEY],
                               metadata=_metadata(result, PRODUCTS_FORMAT, warehouse, remaining, **shared))
    yield dg.MaterializeResult(asset_key=VARIANTS_KEY, check_results=checks[VARIANTS_KEY],
                               metadata=_metadata(result, VARIANTS_FORMAT, warehouse, remaining, **shared))


# --------------------------------------------------------------------------- market data


class StockXMarketDataConfig(dg.Config):
    currencies: list[str] = ["EUR"]
    """Currencies to fetch (one request per product and currency)."""
    in_stock_only: bool = True
    """Only products with a pair in stock (products.inventory_items: in_stock or listed), as pricing
    needs; every product in raw.stockx_products while that mart does not exist yet. False: all."""


def _launch_day(context: dg.AssetExecutionContext) -> date | None:
    """UTC day the run was created (launched), from the run's record."""
    record = context.instance.get_run_record_by_id(context.run_id)
    created = record.create_timestamp if record is not None else None
    return created.astimezone(UTC).date() if created is not None else None


def snapshot_day(partition_key: str | None, today: date, launched_on: date | None = None) -> date:
    """The day a market-data run may store: today only (StockX has no historical market data), or
    the day the run was launched on: a run of today's partition that reaches this step after UTC
    midnight stores prices minutes old under the day it was launched for, not a failed run."""
    if partition_key is None:
        return today
    day = date.fromisoformat(partition_key)
    if day != today and not (day == launched_on and today - day == timedelta(days=1)):
        raise dg.Failure(
            description=(
                f"StockX only serves current market data, so partition {partition_key} cannot be "
                f"(re)materialized: its prices are gone. Only today's partition ({today.isoformat()}, UTC) "
                "can be fetched; a backfill of past days would store today's prices under the wrong date."
            ),
            allow_retries=False,
        )
    return day


@dg.asset(
    key=MARKET_DATA_KEY,
    group_name=GROUP,
    kinds=KINDS,
    tags=TAGS,
    pool=POOL,
    partitions_def=market_data_partitions,
    retry_policy=API_RETRY_POLICY,
    deps=[PRODUCTS_KEY, VARIANTS_KEY],
    description="StockX market data (lowest ask, highest bid, sell-faster and earn-more amounts) per variant "
                "and currency of the products in stock, one snapshot per UTC day (only today's partition can "
                "be fetched), into raw.stockx_market_data.",
    metadata=_table_meta(MARKET_DATA_FORMAT),
    check_specs=raw_check_specs(MARKET_DATA_KEY),
)
def stockx_market_data(
    context: dg.AssetExecutionContext,
    config: StockXMarketDataConfig,
    stockx: StockXResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    key = context.partition_key if context.has_partition_key else None
    day = snapshot_day(key, _utc_today(), _launch_day(context))
    if key is None:
        context.log.info(f"no partition key (an unpartitioned run): snapshot of today, {day}")
    results: list[SyncResult] = []
    with transient_only(), warehouse.connect() as conn, stockx.get_client() as client:
        loaded_after = database_now(conn)
        for currency in config.currencies:
            results.append(sync_market_data(client, conn, day, currency=currency,
                                            in_stock_only=config.in_stock_only))
        remaining = client.budget.remaining()
    merged = SyncResult(snapshot_date=day, products=results[0].products if results else 0)
    for r in results:
        merged.loads += r.loads
        merged.api_calls += r.api_calls
        merged.retries += r.retries
        merged.not_found += r.not_found
    context.log.info(f"raw.stockx_market_data {day}: {merged.totals()}, {merged.api_calls} API calls")
    with warehouse.connect() as conn:
        checks = raw_check_results(conn, MARKET_DATA_KEY, loaded_after)
    return dg.MaterializeResult(check_results=checks, metadata=_metadata(
        merged, MARKET_DATA_FORMAT, warehouse, remaining,
        snapshot_date=day.isoformat(), currencies=", ".join(config.currencies), products=merged.products,
        in_stock_only=config.in_stock_only,
        **_not_found(merged)))


# --------------------------------------------------------------------------- wiring

stockx_assets = [stockx_orders, stockx_catalog, stockx_market_data]

# The assets that call the StockX API (e.g. to leave them out of file-import jobs).
STOCKX_API_ASSETS = dg.AssetSelection.tag(*API_TAG)

# What an API sync rebuilds after loading: the models downstream, not the other API assets, nor
# forecasts and pricing (daily, pipelines/automation.py).
_NOT_AFTER_A_SYNC = STOCKX_API_ASSETS | FORECAST_AND_PRICING_ASSETS


def _with_models_downstream(selection: dg.AssetSelection) -> dg.AssetSelection:
    return selection | (selection.downstream() - _NOT_AFTER_A_SYNC)


stockx_job = dg.define_asset_job(
    name="sync_stockx",
    selection=dg.AssetSelection.groups(GROUP) | (dg.AssetSelection.groups(GROUP).downstream() - FORECAST_AND_PRICING_ASSETS),
    description="Sync StockX (sales report folder, API orders, catalog, today's market data) and rebuild "
                "the warehouse models downstream.",
    tags=WAREHOUSE_BUILD,
)

stockx_orders_job = dg.define_asset_job(
    name="sync_stockx_orders",
    selection=_with_models_downstream(dg.AssetSelection.assets(ORDERS_KEY)),
    description="StockX API orders (a partition: its days; today's: incremental with the open orders) and "
                "the warehouse models downstream.",
    tags=WAREHOUSE_BUILD,
)

stockx_market_data_job = dg.define_asset_job(
    name="sync_stockx_market_data",
    selection=_with_models_downstream(dg.AssetSelection.assets(MARKET_DATA_KEY)),
    description="Today's StockX market data of the products in stock and the warehouse models downstream.",
    tags=WAREHOUSE_BUILD,
)

stockx_jobs = [stockx_job, stockx_orders_job, stockx_market_data_job]
