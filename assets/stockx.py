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

* ``raw/stockx_orders``: incremental. The cursor is the ``max_created_date`` metadata of the
  asset's previous materialization; the history window starts ``overlap_days`` before it (config
  ``full_refresh: true`` ignores it). Metadata ``window_start`` / ``window_end``.
* ``raw/stockx_products`` + ``raw/stockx_variants``: one call sequence (a multi-asset) that looks
  up every style code seen in sales, purchases and API orders; what StockX does not know is in
  ``not_found`` / ``not_found_lookups``, the run does not fail for it.
* ``raw/stockx_market_data``: daily partitions. StockX only serves *current* market data, so
  only today's partition (UTC) can be materialized: an older partition is refused with a clear
  message instead of storing today's prices under a past date. A run without a partition key
  (``refresh_everything``) snapshots today.
"""

import os
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import dagster as dg

from assets.stockx_sync import (
    DEFAULT_OVERLAP_DAYS,
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
from pipelines.jobs import WAREHOUSE_BUILD
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
MARKET_DATA_START = "2024-01-01"

ORDERS_KEY = dg.AssetKey(["raw", "stockx_orders"])
PRODUCTS_KEY = dg.AssetKey(["raw", "stockx_products"])
VARIANTS_KEY = dg.AssetKey(["raw", "stockx_variants"])
MARKET_DATA_KEY = dg.AssetKey(["raw", "stockx_market_data"])
# Every raw table the catalog reads style codes from (lineage; they need not have been loaded).
STYLE_SOURCE_KEYS = [dg.AssetKey(["raw", load_format(name).table]) for name, _ in STYLE_CODE_COLUMNS]

# end_offset=1: today's partition exists (the default ends at yesterday, the last complete day).
market_data_partitions = dg.DailyPartitionsDefinition(start_date=MARKET_DATA_START, end_offset=1)


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


@dg.asset(
    key=ORDERS_KEY,
    group_name=GROUP,
    kinds=KINDS,
    tags=TAGS,
    pool=POOL,
    description="StockX API orders: history (incremental by creation date, overlapping window) and "
                "all active orders, one row per order version, into raw.stockx_orders.",
    metadata=_table_meta(ORDERS_FORMAT),
)
def stockx_orders(
    context: dg.AssetExecutionContext,
    config: StockXOrdersConfig,
    stockx: StockXResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    since = None if config.full_refresh else previous_cursor(context, ORDERS_KEY)
    context.log.info(f"order history cursor: {since or 'none (full history)'}")
    with warehouse.connect() as conn, stockx.get_client() as client:
        result = sync_orders(client, conn, since=since, today=_utc_today(), overlap_days=config.overlap_days)
        remaining = client.budget.remaining()
    start, end = result.window or (None, None)
    context.log.info(f"raw.stockx_orders: window {start}..{end}, {result.totals()}, "
                     f"{result.api_calls} API calls")
    extra: dict[str, Any] = {
        "window_start": str(start),
        "window_end": str(end),
        "full_refresh": config.full_refresh,
        "pending_active_orders": result.pending_active,
    }
    if result.max_created_date is not None:
        extra["max_created_date"] = result.max_created_date.isoformat()
    return dg.MaterializeResult(metadata=_metadata(result, ORDERS_FORMAT, warehouse, remaining, **extra))


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
)
def stockx_catalog(
    context: dg.AssetExecutionContext,
    config: StockXCatalogConfig,
    stockx: StockXResource,
    warehouse: WarehouseResource,
):
    with warehouse.connect() as conn, stockx.get_client() as client:
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
    yield dg.MaterializeResult(asset_key=PRODUCTS_KEY,
                               metadata=_metadata(result, PRODUCTS_FORMAT, warehouse, remaining, **shared))
    yield dg.MaterializeResult(asset_key=VARIANTS_KEY,
                               metadata=_metadata(result, VARIANTS_FORMAT, warehouse, remaining, **shared))


# --------------------------------------------------------------------------- market data


class StockXMarketDataConfig(dg.Config):
    currencies: list[str] = ["EUR"]
    """Currencies to fetch (one request per product and currency)."""


def snapshot_day(partition_key: str | None, today: date) -> date:
    """The day a market-data run may store: today only (StockX has no historical market data)."""
    if partition_key is None:
        return today
    day = date.fromisoformat(partition_key)
    if day != today:
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
    deps=[PRODUCTS_KEY, VARIANTS_KEY],
    description="StockX market data (lowest ask, highest bid, sell-faster and earn-more amounts) per variant "
                "and currency, one snapshot per UTC day (only today's partition can be fetched), "
                "into raw.stockx_market_data.",
    metadata=_table_meta(MARKET_DATA_FORMAT),
)
def stockx_market_data(
    context: dg.AssetExecutionContext,
    config: StockXMarketDataConfig,
    stockx: StockXResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    key = context.partition_key if context.has_partition_key else None
    day = snapshot_day(key, _utc_today())
    if key is None:
        context.log.info(f"no partition key (an unpartitioned run): snapshot of today, {day}")
    results: list[SyncResult] = []
    with warehouse.connect() as conn, stockx.get_client() as client:
        for currency in config.currencies:
            results.append(sync_market_data(client, conn, day, currency=currency))
        remaining = client.budget.remaining()
    merged = SyncResult(snapshot_date=day, products=results[0].products if results else 0)
    for r in results:
        merged.loads += r.loads
        merged.api_calls += r.api_calls
        merged.retries += r.retries
        merged.not_found += r.not_found
    context.log.info(f"raw.stockx_market_data {day}: {merged.totals()}, {merged.api_calls} API calls")
    return dg.MaterializeResult(metadata=_metadata(
        merged, MARKET_DATA_FORMAT, warehouse, remaining,
        snapshot_date=day.isoformat(), currencies=", ".join(config.currencies), products=merged.products,
        **_not_found(merged)))


# --------------------------------------------------------------------------- wiring

stockx_assets = [stockx_orders, stockx_catalog, stockx_market_data]

# The assets that call the StockX API (e.g. to leave them out of file-import jobs).
STOCKX_API_ASSETS = dg.AssetSelection.tag(*API_TAG)

stockx_job = dg.define_asset_job(
    name="sync_stockx",
    selection=dg.AssetSelection.groups(GROUP).downstream(),
    description="Sync StockX (sales report folder, API orders, catalog, today's market data) and rebuild "
                "the warehouse models downstream.",
    tags=WAREHOUSE_BUILD,
)

stockx_schedule = dg.build_schedule_from_partitioned_job(
    stockx_job,
    hour_of_day=5,
    name="sync_stockx_daily",
    description="Every day at 05:00 UTC: StockX orders, new catalog entries and today's market data.",
)
