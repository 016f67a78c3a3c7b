"""Notion assets (group ``notion``): ``raw/notion_purchases`` and ``raw/notion_sales``.

Thin on purpose: fetching, flattening and loading live in :mod:`assets.notion_sync`; these
wrappers pick the cursor, open the client and the warehouse connection, and report. The Notion
mapping (``soleflipper/notion_mappings/default.yaml``, or ``$SOLEFLIPPER_NOTION_MAPPING``) is read
at run time, so a YAML edit needs no code reload and a YAML mistake fails the run, not the code
location. Both assets share the Dagster pool ``notion_api`` (Notion allows ~3 requests/s per
integration; a pool limit of 1 keeps two runs from doubling that).

Cursor. Incremental runs start from the ``cursor`` metadata (ISO ``last_edited_time``) of the
asset's previous materialization, or from the newest ``last_edited_time`` already committed to
the raw table when that is later (a failed run commits its batches but records no
materialization: the rerun resumes after them). An empty raw table means a full sync whatever the
metadata says. Config ``full_refresh: true`` reads every page again: unchanged pages add nothing,
drifted rollups/formulas add a version, and pages that no longer exist get a tombstone row. Run it
nightly as the reconciliation.

Jobs: ``sync_notion`` (incremental; every 15 minutes) and ``reconcile_notion`` (the same assets with
``full_refresh: true`` as its default run config; nightly); schedules in :mod:`pipelines.schedules`.
``build_after_notion`` rebuilds the models downstream; a sensor runs it after a sync that loaded
pages (new versions, trashed pages or tombstones), never after one that found nothing new.
A step that failed on a transient error (no answer, 429, 5xx) is retried twice with exponential
backoff and jitter, resuming from what the failed attempt committed; other errors fail at once.

Metadata: pages_read, pages_loaded, pages_changed, pages_duplicate, pages_quarantined,
pages_trashed (read), trashed_loaded (newly trashed versions), tombstones, batches, api_calls,
retries, since, cursor, full_refresh, new_columns / missing_properties / unmapped_properties
(lists), warnings (count) and warning_samples, table_rows.
"""

import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import dagster as dg

from assets.notion_sync import NotionSyncInterrupted, NotionSyncResult, committed_cursor, sync_database
from pipelines.automation import API_RETRY_POLICY, is_transient, transient_only
from pipelines.jobs import API_ASSETS, FORECAST_AND_PRICING_ASSETS, WAREHOUSE_BUILD
from resources.notion import DEFAULT_BASE_URL, TOKEN_ENV, NotionResource
from resources.warehouse import WarehouseResource
from soleflipper.notion_mappings import MappingError, load_mapping

GROUP = "notion"
POOL = "notion_api"
KINDS = {"notion", "postgres"}
DATABASES = ("purchases", "sales")
BASE_URL_ENV = "SOLEFLIPPER_NOTION_BASE_URL"
WARNING_SAMPLES = 20


def notion_enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether Notion is configured (an integration token: the user's, or the demo simulator's)."""
    return bool(((os.environ if environ is None else environ).get(TOKEN_ENV) or "").strip())


def notion_resource_from_env(environ: Mapping[str, str] | None = None) -> NotionResource:
    """The resource for Definitions: the token as an EnvVar (resolved at run time, never shown), the
    base URL from ``SOLEFLIPPER_NOTION_BASE_URL`` (default the real API; a simulator: ``<url>/v1``)."""
    env = os.environ if environ is None else environ
    return NotionResource(
        token=dg.EnvVar(TOKEN_ENV),
        base_url=(env.get(BASE_URL_ENV) or "").strip() or DEFAULT_BASE_URL,
    )


class NotionSyncConfig(dg.Config):
    full_refresh: bool = False
    """Read every page again instead of those edited since the cursor; pages Notion no longer has
    get a tombstone row (in_trash = true). The nightly reconciliation."""


def previous_cursor(context: dg.AssetExecutionContext) -> datetime | None:
    """``cursor`` metadata of the asset's latest materialization, if any."""
    event = context.instance.get_latest_materialization_event(context.asset_key)
    materialization = event.asset_materialization if event is not None else None
    value = materialization.metadata.get("cursor") if materialization is not None else None
    text = getattr(value, "value", value)
    return datetime.fromisoformat(text) if isinstance(text, str) and text else None


def _metadata(result: NotionSyncResult, api_calls: int, retries: int) -> dict[str, Any]:
    samples = list(dict.fromkeys(result.warnings))[:WARNING_SAMPLES]
    metadata: dict[str, Any] = {
        "pages_read": result.pages,
        "pages_loaded": result.loaded,
        "pages_changed": result.changed,
        "pages_duplicate": result.duplicate,
        "pages_quarantined": result.quarantined,
        "pages_trashed": result.trashed,
        "trashed_loaded": result.trashed_loaded,
        "tombstones": result.tombstones,
        "batches": result.batches,
        "api_calls": api_calls,
        "retries": retries,
        "full_refresh": result.full_refresh,
        "since": result.since.isoformat() if result.since else "",
        "new_columns": dg.MetadataValue.json(list(result.new_columns)),
        "missing_properties": dg.MetadataValue.json(list(result.missing_properties)),
        "unmapped_properties": dg.MetadataValue.json(sorted(result.unmapped_properties)),
        "warnings": len(result.warnings),
        "warning_samples": dg.MetadataValue.md("\n".join(f"- {w}" for w in samples) or "none"),
    }
    if result.cursor is not None:
        metadata["cursor"] = result.cursor.isoformat()
    return metadata


def build_notion_asset(database: str) -> dg.AssetsDefinition:
    """The asset ``raw/notion_<database>`` syncing the mapping's database ``database``."""
    from assets.checks_raw import database_now, raw_check_results, raw_check_specs

    key = dg.AssetKey(["raw", f"notion_{database}"])

    @dg.asset(
        key=key,
        group_name=GROUP,
        kinds=KINDS,
        pool=POOL,
        retry_policy=API_RETRY_POLICY,
        description=(
            f"Notion {database} database: every page version (incremental by last_edited_time, trashed and"
            f" deleted pages as deletions), properties as typed columns plus the raw page JSON, into"
            f" raw.notion_{database} (the mapping's table)."
        ),
        metadata={"dagster/table_name": f"raw.notion_{database}", "notion_database": database},
        # Schema, row-count and duplicate checks (blocking) on the rows this step loads.
        check_specs=raw_check_specs(key),
    )
    def _sync(
        context: dg.AssetExecutionContext,
        config: NotionSyncConfig,
        notion: NotionResource,
        warehouse: WarehouseResource,
    ) -> dg.MaterializeResult:
        try:
            databases = load_mapping().databases
        except MappingError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from exc
        if database not in databases:
            raise dg.Failure(
                description=f"the Notion mapping has no database {database!r} (it has: {', '.join(databases)})",
                allow_retries=False,
            )
        mapping = databases[database]
        since = None
        with transient_only(), warehouse.connect() as conn:
            loaded_after = database_now(conn)
            if not config.full_refresh:
                stored = committed_cursor(conn, mapping)
                recorded = previous_cursor(context)
                if stored is None:
                    if recorded is not None:
                        context.log.warning(
                            f"raw.{mapping.table} is empty but the last materialization's cursor is"
                            f" {recorded.isoformat()}: reading every page"
                        )
                else:
                    since = max(c for c in (stored, recorded) if c is not None)
            context.log.info(
                f"Notion {database}: "
                + ("full refresh" if config.full_refresh else f"since {since or 'the start'}")
            )
            with notion.get_client() as client:
                try:
                    result = sync_database(
                        client, conn, mapping, mapping, since, config.full_refresh,
                        progress=lambda r: context.log.debug(r.summary()),
                    )  # fmt: skip
                except NotionSyncInterrupted as exc:
                    raise dg.Failure(
                        description=str(exc),
                        metadata=_metadata(exc.result, client.calls_made, client.retries_made),
                        allow_retries=is_transient(exc.__cause__),
                    ) from exc
                api_calls, retries = client.calls_made, client.retries_made
        context.log.info(result.summary())
        if result.new_columns:
            context.log.info(f"new columns for new Notion properties: {result.unmapped_properties}")
        if result.missing_properties:
            context.log.warning(
                f"mapped properties missing from the pages (renamed or deleted in Notion; their columns and"
                f" history are kept): {result.missing_properties}"
            )
        for warning in list(dict.fromkeys(result.warnings))[:WARNING_SAMPLES]:
            context.log.warning(warning)
        metadata = _metadata(result, api_calls, retries)
        metadata["table_rows"] = warehouse.count_rows(result.table)
        with warehouse.connect() as conn:
            checks = raw_check_results(conn, key, loaded_after)
        return dg.MaterializeResult(metadata=metadata, check_results=checks)

    return _sync


notion_purchases = build_notion_asset("purchases")
notion_sales = build_notion_asset("sales")
notion_assets = [notion_purchases, notion_sales]

notion_sync_job = dg.define_asset_job(
    name="sync_notion",
    selection=dg.AssetSelection.groups(GROUP),
    description="Notion purchases and sales edited since the last sync (incremental by last_edited_time). The "
                "warehouse models downstream are rebuilt by the nightly build_warehouse and by every import.",
)

notion_reconcile_job = dg.define_asset_job(
    name="reconcile_notion",
    selection=dg.AssetSelection.groups(GROUP),
    config={"ops": {f"raw__notion_{database}": {"config": {"full_refresh": True}} for database in DATABASES}},
    description="Every Notion page again (full_refresh): drifted rollups and formulas get a new version, "
                "pages deleted for good a tombstone. The nightly reconciliation.",
)

# The models built from Notion data. The sensor build_after_notion_changes (pipelines/schedules.py)
# runs them after a sync that loaded something, so dashboards follow Notion within the sync cadence
# without a dbt build every 15 minutes when nothing changed.
notion_downstream_job = dg.define_asset_job(
    name="build_after_notion",
    selection=(dg.AssetSelection.groups(GROUP).downstream() - dg.AssetSelection.groups(GROUP) - API_ASSETS
               - FORECAST_AND_PRICING_ASSETS),
    description="Rebuild the warehouse models downstream of the Notion raw tables (and their KPI views).",
    tags=WAREHOUSE_BUILD,
)

notion_jobs = [notion_sync_job, notion_reconcile_job, notion_downstream_job]
