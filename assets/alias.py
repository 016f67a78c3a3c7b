"""Alias API assets (group ``alias``): ``raw/alias_orders`` and ``raw/alias_listings``.

Thin on purpose: fetching and loading live in :mod:`assets.alias_sync`. The orders cursor is the
``max_updated_at`` metadata of the asset's previous materialization; each run re-reads
``overlap_hours`` before it (config ``full_refresh: true`` reads everything), so an order paid out
days after the sale (``price_cents_after_take`` arrives, ``updated_at`` moves) is picked up as a
new version, and the loader's content hash makes a rerun add nothing. Both assets carry the raw
checks of their tables. The assets join the code location only when ``SOLEFLIPPER_ALIAS_TOKEN``
is set (the user's PAT, or the demo simulator's).
"""

import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import dagster as dg

from assets.alias_sync import LISTINGS_FORMAT, ORDERS_FORMAT, AliasSyncResult, sync_listings, sync_orders
from assets.checks_raw import database_now, raw_check_results, raw_check_specs
from pipelines.automation import API_RETRY_POLICY, transient_only
from pipelines.jobs import FORECAST_AND_PRICING_ASSETS, WAREHOUSE_BUILD
from resources.alias import TOKEN_ENV, AliasResource
from resources.warehouse import WarehouseResource

GROUP = "alias"
POOL = "alias_api"
KINDS = {"alias", "postgres"}
API_TAG = ("soleflipper/api", "alias")
ORDERS_KEY = dg.AssetKey(["raw", "alias_orders"])
LISTINGS_KEY = dg.AssetKey(["raw", "alias_listings"])


def alias_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether Alias is configured (a personal access token: the user's, or the demo simulator's)."""
    return bool(((os.environ if environ is None else environ).get(TOKEN_ENV) or "").strip())


def _metadata(result: AliasSyncResult, table: str, warehouse: WarehouseResource, **extra: Any) -> dict[str, Any]:
    return {**result.totals(), "table_rows": warehouse.count_rows(table), "api_calls": result.api_calls,
            "retries": result.retries, "pages": result.pages, "dagster/table_name": table, **extra}


class AliasOrdersConfig(dg.Config):
    full_refresh: bool = False
    """Ignore the cursor and read every order again (unchanged orders add nothing)."""
    overlap_hours: int = 48
    """Hours before the newest ``updated_at`` already loaded that are read again."""


def previous_cursor(context: dg.AssetExecutionContext) -> datetime | None:
    event = context.instance.get_latest_materialization_event(ORDERS_KEY)
    materialization = event.asset_materialization if event is not None else None
    value = materialization.metadata.get("max_updated_at") if materialization is not None else None
    text = getattr(value, "value", value)
    return datetime.fromisoformat(text) if isinstance(text, str) and text else None


@dg.asset(
    key=ORDERS_KEY, group_name=GROUP, kinds=KINDS, tags=dict([API_TAG]), pool=POOL,
    retry_policy=API_RETRY_POLICY,
    description="Alias API orders updated since the last sync (overlapping window), one row per order "
                "version (a later payout adds a version), into raw.alias_orders.",
    metadata={"format": ORDERS_FORMAT, "dagster/table_name": "raw.alias_orders"},
    check_specs=raw_check_specs(ORDERS_KEY),
)
def alias_orders(context: dg.AssetExecutionContext, config: AliasOrdersConfig, alias: AliasResource,
                 warehouse: WarehouseResource) -> dg.MaterializeResult:
    cursor = None if config.full_refresh else previous_cursor(context)
    with transient_only(), warehouse.connect() as conn, alias.get_client() as client:
        loaded_after = database_now(conn)
        result = sync_orders(client, conn, cursor=cursor, overlap=timedelta(hours=config.overlap_hours))
    context.log.info(f"raw.alias_orders: since {result.since or 'the beginning'}, {result.records} orders, "
                     f"{result.totals()}, {result.api_calls} API calls")
    extra: dict[str, Any] = {"since": str(result.since), "walked_all_pages": result.walked_all,
                             "seen_twice": result.seen_twice}
    if result.max_updated_at is not None:
        extra["max_updated_at"] = result.max_updated_at.isoformat()
    with warehouse.connect() as conn:
        checks = raw_check_results(conn, ORDERS_KEY, loaded_after)
    return dg.MaterializeResult(metadata=_metadata(result, "raw.alias_orders", warehouse, **extra),
                                check_results=checks)


@dg.asset(
    key=LISTINGS_KEY, group_name=GROUP, kinds=KINDS, tags=dict([API_TAG]), pool=POOL,
    retry_policy=API_RETRY_POLICY,
    description="Alias API listings (every page, each run), one row per listing version, into raw.alias_listings.",
    metadata={"format": LISTINGS_FORMAT, "dagster/table_name": "raw.alias_listings"},
    check_specs=raw_check_specs(LISTINGS_KEY),
)
def alias_listings(context: dg.AssetExecutionContext, alias: AliasResource,
                   warehouse: WarehouseResource) -> dg.MaterializeResult:
    with transient_only(), warehouse.connect() as conn, alias.get_client() as client:
        loaded_after = database_now(conn)
        result = sync_listings(client, conn)
    with warehouse.connect() as conn:
        checks = raw_check_results(conn, LISTINGS_KEY, loaded_after)
    return dg.MaterializeResult(metadata=_metadata(result, "raw.alias_listings", warehouse), check_results=checks)


alias_assets = [alias_orders, alias_listings]
ALIAS_API_ASSETS = dg.AssetSelection.tag(*API_TAG)

alias_job = dg.define_asset_job(
    name="sync_alias",
    selection=ALIAS_API_ASSETS | (ALIAS_API_ASSETS.downstream() - FORECAST_AND_PRICING_ASSETS),
    description="Sync Alias (API orders and listings) and rebuild the warehouse models downstream.",
    tags=WAREHOUSE_BUILD,
)
alias_jobs = [alias_job]
