"""Schedules and automation sensors: KPI view refresh cadences (issue 5, point 3), the nightly warehouse
build, the StockX, Notion, eBay and Alias syncs, and the daily forecasts and pricing (issue 7, point 1).

Every KPI view declares how often Metabase needs it fresh in its dbt YAML
(``config.meta.refresh_cadence: hourly | daily | weekly``). Each cadence is one job that selects
exactly the views of that cadence with dbt's own selector (``config.meta.refresh_cadence:hourly``),
so a view moves between cadences by editing its YAML only. The job runs ``dbt build`` for those
views: the ``kpi_view`` materialization refreshes them CONCURRENTLY (Metabase keeps reading the old
rows until the refresh commits) and runs their tests.

The crons (UTC) come from the environment; :mod:`pipelines.automation` lists every variable, its
default and what it runs (and the README's "Running unattended" section).

Every schedule is a :func:`~pipelines.automation.guarded_schedule`: a tick is skipped while a run
of the same job, or one materializing any of its assets, is queued or running.

Refresh jobs carry the warehouse-build tag, so dagster.yaml's tag concurrency limit queues them
behind (never beside) an import or full build. Between schedule ticks, a view is also refreshed
whenever the facts it reads change: import and build jobs select everything downstream of what
they load (the views included), and the views' eager automation condition (assets/dbt.py) covers
a fact materialized on its own, e.g. from the UI.
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
from dagster_dbt import build_dbt_asset_selection

from assets.dbt import KPI_VIEWS_DBT_SELECT, warehouse_dbt_models
from pipelines.automation import (
    ALIAS_SYNC_CRON,
    EBAY_SYNC_CRON,
    NOTION_RECONCILE_CRON,
    NOTION_SYNC_CRON,
    STOCKX_DAILY_CRON,
    STOCKX_MARKET_DATA_CRON,
    STOCKX_ORDERS_CRON,
    WAREHOUSE_BUILD_CRON,
    CronError,
    CronSetting,
    cron_from_env,
    guarded_schedule,
    runs_in_the_way,
    today_partition,
)
from pipelines.jobs import FORECAST_AND_PRICING_ASSETS, WAREHOUSE_BUILD

# A KPI refresh cadence is a cron setting whose name is the dbt meta.refresh_cadence value.
Cadence = CronSetting
RefreshCronError = CronError

CADENCES = (
    Cadence("hourly", "SOLEFLIPPER_KPI_REFRESH_HOURLY_CRON", "0 * * * *", "every hour"),
    Cadence("daily", "SOLEFLIPPER_KPI_REFRESH_DAILY_CRON", "0 2 * * *", "every day at 02:00 UTC"),
    Cadence("weekly", "SOLEFLIPPER_KPI_REFRESH_WEEKLY_CRON", "0 3 * * 1", "every Monday at 03:00 UTC"),
)


def refresh_cron(cadence: Cadence, environ: Mapping[str, str] | None = None) -> str:
    """The cron for a cadence: its environment variable when set (and non-empty), else the default."""
    return cron_from_env(cadence, environ)


def kpi_view_selection(cadence: str) -> dg.AssetSelection:
    """The KPI views whose dbt meta.refresh_cadence is `cadence` (dbt's selector, not a name list)."""
    return build_dbt_asset_selection([warehouse_dbt_models], dbt_select=f"config.meta.refresh_cadence:{cadence}")


def refresh_job(cadence: Cadence) -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        name=f"refresh_kpi_views_{cadence.name}",
        selection=kpi_view_selection(cadence.name),
        description=(
            f"Refresh the KPI views with refresh_cadence {cadence.name} (REFRESH MATERIALIZED VIEW "
            "CONCURRENTLY: dashboards keep reading during the refresh) and run their tests."
        ),
        tags={**WAREHOUSE_BUILD, "soleflipper/refresh-cadence": cadence.name},
    )


def refresh_schedule(cadence: Cadence, job: dg.UnresolvedAssetJobDefinition,
                     environ: Mapping[str, str] | None = None) -> dg.ScheduleDefinition:
    """``<job>_schedule``: the job on the cadence's cron (UTC), running by default."""
    return guarded_schedule(name=f"{job.name}_schedule", job=job, setting=cadence, environ=environ)


refresh_jobs = {cadence.name: refresh_job(cadence) for cadence in CADENCES}


def refresh_schedules(environ: Mapping[str, str] | None = None) -> list[dg.ScheduleDefinition]:
    """One schedule per cadence, crons read from `environ` (the process environment by default)."""
    return [refresh_schedule(cadence, refresh_jobs[cadence.name], environ) for cadence in CADENCES]


# dbt source freshness (assets/checks_freshness.py) once a day, besides after every import.
SOURCE_FRESHNESS = Cadence("source_freshness", "SOLEFLIPPER_SOURCE_FRESHNESS_CRON", "0 6 * * *",
                           "every day at 06:00 UTC")


def source_freshness_schedule(checks: list[dg.AssetChecksDefinition],
                              environ: Mapping[str, str] | None = None) -> tuple[dg.UnresolvedAssetJobDefinition,
                                                                                 dg.ScheduleDefinition]:
    """A job that runs only the source freshness checks, and its daily schedule."""
    job = dg.define_asset_job(
        name="check_source_freshness",
        selection=dg.AssetSelection.checks(*checks),
        description="dbt source freshness of every raw table, reported as the raw assets' checks.",
    )
    return job, refresh_schedule(SOURCE_FRESHNESS, job, environ)


# --------------------------------------------------------------------------- nightly warehouse build

warehouse_build_job = dg.define_asset_job(
    name="build_warehouse",
    selection=dg.AssetSelection.assets(warehouse_dbt_models),
    description="dbt build of every model, its tests and the KPI views, from the raw tables as they are "
                "(no ingest). Nightly, so forecasts and pricing run on marts rebuilt that night.",
    tags=WAREHOUSE_BUILD,
)


def warehouse_build_schedule(environ: Mapping[str, str] | None = None) -> dg.ScheduleDefinition:
    return guarded_schedule(name="build_warehouse_nightly", job=warehouse_build_job, setting=WAREHOUSE_BUILD_CRON,
                            environ=environ, description="Rebuild every dbt model.")


# --------------------------------------------------------------------------- API sources


def stockx_schedules(environ: Mapping[str, str] | None = None) -> list[dg.ScheduleDefinition]:
    """Orders every 4 h and market data every 6 h (today's partition), the whole group daily."""
    from assets.stockx import stockx_job, stockx_market_data_job, stockx_orders_job

    return [
        guarded_schedule(name="sync_stockx_orders_schedule", job=stockx_orders_job, setting=STOCKX_ORDERS_CRON,
                         environ=environ, partition_key=today_partition,
                         description="StockX orders (today's partition: the cursor's overlap and open orders "
                                     "included) and the models downstream."),
        guarded_schedule(name="sync_stockx_market_data_schedule", job=stockx_market_data_job,
                         setting=STOCKX_MARKET_DATA_CRON, environ=environ, partition_key=today_partition,
                         description="StockX market data of the products in stock (today's partition) and the "
                                     "models downstream."),
        guarded_schedule(name="sync_stockx_daily", job=stockx_job, setting=STOCKX_DAILY_CRON, environ=environ,
                         partition_key=today_partition,
                         description="The whole StockX group: sales report folder, orders, catalog entries for "
                                     "new style codes, today's market data, and the models downstream."),
    ]


def notion_schedules(environ: Mapping[str, str] | None = None) -> list[dg.ScheduleDefinition]:
    """Incremental every 15 minutes, a full refresh (reconciliation) nightly."""
    from assets.notion import notion_reconcile_job, notion_sync_job

    return [
        guarded_schedule(name="sync_notion_schedule", job=notion_sync_job, setting=NOTION_SYNC_CRON,
                         environ=environ, description="Notion pages edited since the cursor."),
        guarded_schedule(name="reconcile_notion_schedule", job=notion_reconcile_job, setting=NOTION_RECONCILE_CRON,
                         environ=environ, description="Every Notion page again: changed rollups and formulas "
                                                      "get a version, deleted pages a tombstone."),
    ]


def ebay_schedules(environ: Mapping[str, str] | None = None) -> list[dg.ScheduleDefinition]:
    """Orders and Finances transactions (one multi-asset, incremental with an overlap) every 4 h."""
    from assets.ebay import ebay_job

    return [guarded_schedule(name="sync_ebay_schedule", job=ebay_job, setting=EBAY_SYNC_CRON, environ=environ,
                             description="eBay orders and Finances transactions since the cursors, and the "
                                         "models downstream.")]


def alias_schedules(environ: Mapping[str, str] | None = None) -> list[dg.ScheduleDefinition]:
    """Orders (incremental) and listings every 4 h."""
    from assets.alias import alias_job

    return [guarded_schedule(name="sync_alias_schedule", job=alias_job, setting=ALIAS_SYNC_CRON, environ=environ,
                             description="Alias orders since the cursor, the current listings, and the models "
                                         "downstream.")]


# Materialization metadata of the Notion assets that counts rows a sync added to its raw table.
NOTION_CHANGE_METADATA = ("pages_loaded", "trashed_loaded", "tombstones")


def _loaded_something(record) -> bool:
    metadata = record.asset_materialization.metadata if record.asset_materialization else {}
    return any((getattr(metadata.get(name), "value", 0) or 0) > 0 for name in NOTION_CHANGE_METADATA)


def notion_changes(instance: dg.DagsterInstance, keys: list[dg.AssetKey],
                   after: int | None) -> tuple[bool, int | None]:
    """(whether a Notion materialization after storage id ``after`` loaded rows, the newest storage id
    seen, or None if there is no new materialization)."""
    changed, newest = False, None
    for key in keys:
        records = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=key, after_storage_id=after),
                                                  limit=1000, ascending=True).records
        for record in records:
            newest = max(newest or 0, record.storage_id)
            changed = changed or _loaded_something(record)
    return changed, newest


def notion_changes_sensor(minimum_interval_seconds: int = 120) -> dg.SensorDefinition:
    """``build_after_notion`` after a Notion sync that loaded rows: one run per batch of such syncs,
    none while a run touching those models is queued or running (the cursor then stays, so the next
    evaluation tries again), none for syncs that found nothing new."""
    from assets.notion import notion_assets, notion_downstream_job

    keys = [key for assets_def in notion_assets for key in assets_def.keys]
    job_name = notion_downstream_job.name

    @dg.sensor(name="build_after_notion_changes", job=notion_downstream_job,
               minimum_interval_seconds=minimum_interval_seconds, default_status=dg.DefaultSensorStatus.RUNNING,
               description="Rebuilds the models downstream of Notion after a sync that loaded pages.")
    def _sensor(context: dg.SensorEvaluationContext):
        after = int(context.cursor) if context.cursor else None
        changed, newest = notion_changes(context.instance, keys, after)
        if newest is None:
            return dg.SkipReason("no Notion sync since the last evaluation")
        if after is None:  # first evaluation: start from now, older syncs were built by older runs
            return dg.SensorResult(skip_reason="started watching the Notion syncs", cursor=str(newest))
        if not changed:
            return dg.SensorResult(skip_reason="the Notion syncs since the last evaluation loaded nothing new",
                                   cursor=str(newest))
        in_the_way = runs_in_the_way(context.instance, job_name, context.repository_def)
        if in_the_way:
            return dg.SkipReason(f"run {in_the_way[0].run_id} ({in_the_way[0].job_name}) touches the same models: "
                                 "waiting for it")
        return dg.SensorResult(run_requests=[dg.RunRequest()], cursor=str(newest))

    return _sensor


# --------------------------------------------------------------------------- automation sensors

# The daemon launches the KPI views' automation (eager: after the facts they read change) with the
# warehouse-build tag too, so an automated refresh also waits for a running build.
kpi_view_automation_sensor = dg.AutomationConditionSensorDefinition(
    "kpi_views_after_facts_change",
    target=build_dbt_asset_selection([warehouse_dbt_models], dbt_select=KPI_VIEWS_DBT_SELECT),
    run_tags=WAREHOUSE_BUILD,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Refreshes a KPI view when a fact it reads was materialized without it (e.g. from the UI).",
)

# Forecasts and pricing carry pipelines.automation.daily_after_inputs: once a day, after the nightly
# build updated every input; forecasts and pricing requested in one evaluation run in one run, in
# dependency order (forecasts first).
forecast_pricing_automation_sensor = dg.AutomationConditionSensorDefinition(
    "forecasts_and_pricing_daily",
    target=FORECAST_AND_PRICING_ASSETS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Demand forecasts, their backtest, pricing recommendations and the pricing backtest once a day, "
                "after the nightly warehouse build updated their inputs (SOLEFLIPPER_FORECAST_PRICING_CRON).",
)
