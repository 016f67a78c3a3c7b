"""eBay API assets (group ``ebay``): ``raw/ebay_api_orders`` and ``raw/ebay_api_transactions``.

Thin on purpose: fetching and loading live in :mod:`assets.ebay_sync`. One multi-asset step runs
both, orders first, because the transactions window reaches back to the oldest order still
waiting for its payout. Each asset's cursor is the ``cursor`` metadata (the newest
lastModifiedDate / transactionDate loaded, ISO 8601) of its previous materialization; config
``full_refresh`` ignores them (two years back), ``overlap_hours`` re-reads late changes.
Metadata: rows_read / rows_loaded / rows_changed / rows_duplicate / rows_quarantined,
table_rows, api_calls, retries, window_start, cursor. The four raw checks run on every load.
Only in the code location when ``SOLEFLIPPER_EBAY_CLIENT_ID`` is set (the user's app, or the
demo's simulator).
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from assets.checks_raw import database_now, raw_check_results, raw_check_specs
from assets.ebay_sync import (
    DEFAULT_OVERLAP,
    ORDERS_FORMAT,
    TRANSACTIONS_FORMAT,
    sync_orders,
    sync_transactions,
    window_start,
)
from assets.stockx_sync import SyncResult
from pipelines.automation import API_RETRY_POLICY, transient_only
from pipelines.jobs import FORECAST_AND_PRICING_ASSETS, METABASE_ASSETS, WAREHOUSE_BUILD
from resources.ebay import EbayResource, ebay_enabled
from resources.warehouse import WarehouseResource
from soleflipper.formats import load_format

GROUP = "ebay"
POOL = "ebay_api"
KINDS = {"ebay", "postgres"}
API_TAG = ("soleflipper/api", "ebay")
ORDERS_KEY = dg.AssetKey(["raw", "ebay_api_orders"])
TRANSACTIONS_KEY = dg.AssetKey(["raw", "ebay_api_transactions"])

__all__ = ["ebay_assets", "ebay_enabled", "ebay_jobs"]


class EbaySyncConfig(dg.Config):
    full_refresh: bool = False
    """Ignore the cursors and read the last two years again (unchanged records add nothing)."""
    overlap_hours: float = DEFAULT_OVERLAP.total_seconds() / 3600
    """Hours before each cursor that are read again (late changes, payouts arriving after the order)."""


def previous_cursor(context: dg.AssetExecutionContext, key: dg.AssetKey) -> datetime | None:
    """``cursor`` metadata of the asset's latest materialization, if any."""
    event = context.instance.get_latest_materialization_event(key)
    materialization = event.asset_materialization if event is not None else None
    value = materialization.metadata.get("cursor") if materialization is not None else None
    text = getattr(value, "value", value)
    return datetime.fromisoformat(text) if isinstance(text, str) and text else None


def _metadata(result: SyncResult, fmt_name: str, warehouse: WarehouseResource, cursor: datetime | None,
              start: datetime) -> dict[str, Any]:
    table = f"raw.{load_format(fmt_name).table}"
    meta: dict[str, Any] = {**result.totals(table), "table_rows": warehouse.count_rows(table),
                            "api_calls": result.api_calls, "retries": result.retries,
                            "window_start": start.isoformat()}
    if cursor is not None:
        meta["cursor"] = cursor.isoformat()
    return meta


def _spec(key: dg.AssetKey, fmt_name: str, description: str, deps: list[dg.AssetKey]) -> dg.AssetSpec:
    return dg.AssetSpec(key, group_name=GROUP, kinds=KINDS, tags=dict([API_TAG]), deps=deps,
                        description=description,
                        metadata={"format": fmt_name, "dagster/table_name": f"raw.{load_format(fmt_name).table}"})


@dg.multi_asset(
    name="ebay_api_sync",
    specs=[
        _spec(ORDERS_KEY, ORDERS_FORMAT, "eBay Fulfillment getOrders, incremental by lastModifiedDate with an "
              "overlap; one row per order version, into raw.ebay_api_orders.", []),
        _spec(TRANSACTIONS_KEY, TRANSACTIONS_FORMAT, "eBay Finances getTransactions (fees per line item, "
              "payouts), incremental by transactionDate, reaching back to orders still waiting for their "
              "payout; into raw.ebay_api_transactions.", [ORDERS_KEY]),
    ],
    pool=POOL,
    retry_policy=API_RETRY_POLICY,
    check_specs=raw_check_specs(ORDERS_KEY, TRANSACTIONS_KEY),
)
def ebay_api_sync(context: dg.AssetExecutionContext, config: EbaySyncConfig, ebay: EbayResource,
                  warehouse: WarehouseResource):
    now = datetime.now(UTC)
    overlap = timedelta(hours=config.overlap_hours)
    since = {key: None if config.full_refresh else previous_cursor(context, key)
             for key in (ORDERS_KEY, TRANSACTIONS_KEY)}
    with transient_only(), warehouse.connect() as conn, ebay.get_client() as client:
        loaded_after = database_now(conn)
        orders, orders_cursor = sync_orders(client, conn, since=since[ORDERS_KEY], now=now, overlap=overlap)
        orders_start = window_start(since[ORDERS_KEY], now, overlap)
        txns, txns_cursor, txns_start = sync_transactions(client, conn, since=since[TRANSACTIONS_KEY], now=now,
                                                          overlap=overlap)
    context.log.info(f"eBay: orders {orders.totals()}, transactions {txns.totals()}, "
                     f"{orders.api_calls + txns.api_calls} API calls")
    with warehouse.connect() as conn:
        checks = {key: raw_check_results(conn, key, loaded_after) for key in (ORDERS_KEY, TRANSACTIONS_KEY)}
    yield dg.MaterializeResult(asset_key=ORDERS_KEY, check_results=checks[ORDERS_KEY],
                               metadata=_metadata(orders, ORDERS_FORMAT, warehouse, orders_cursor, orders_start))
    yield dg.MaterializeResult(asset_key=TRANSACTIONS_KEY, check_results=checks[TRANSACTIONS_KEY],
                               metadata=_metadata(txns, TRANSACTIONS_FORMAT, warehouse, txns_cursor, txns_start))


ebay_assets = [ebay_api_sync]
EBAY_API_ASSETS = dg.AssetSelection.tag(*API_TAG)

ebay_job = dg.define_asset_job(
    name="sync_ebay",
    selection=EBAY_API_ASSETS | (EBAY_API_ASSETS.downstream() - FORECAST_AND_PRICING_ASSETS - METABASE_ASSETS),
    description="Sync eBay orders and Finances transactions (fees, payouts) and rebuild the warehouse "
                "models downstream.",
    tags=WAREHOUSE_BUILD,
)
ebay_jobs = [ebay_job]
