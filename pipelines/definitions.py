"""The one Definitions object (`defs`) for SoleFlipper: assets, checks, jobs, sensors, resources."""

from __future__ import annotations

import os

import dagster as dg

from assets.alias import alias_assets, alias_enabled, alias_jobs
from assets.bi_metabase import metabase_dashboards, metabase_resource_from_env
from assets.budibase import budibase_entries_job, budibase_entries_sensor, budibase_entry_assets
from assets.checks_freshness import build_source_freshness_checks
from assets.checks_kpi_freshness import kpi_view_freshness_checks, kpi_view_freshness_sensor
from assets.checks_products import product_match_rate
from assets.dbt import warehouse_dbt_models
from assets.ebay import ebay_assets, ebay_enabled, ebay_jobs
from assets.file_imports import build_file_import_asset
from assets.forecasting import forecasting_assets, forecasting_checks
from assets.notion import notion_assets, notion_enabled, notion_jobs, notion_resource_from_env
from assets.pricing import pricing_assets, pricing_checks
from assets.stockx import stockx_assets, stockx_enabled, stockx_jobs
from pipelines.jobs import everything_job, file_import_job, forecast_and_price_job
from pipelines.schedules import (
    alias_schedules,
    ebay_schedules,
    forecast_pricing_automation_sensor,
    kpi_view_automation_sensor,
    notion_changes_sensor,
    notion_schedules,
    refresh_jobs,
    refresh_schedules,
    source_freshness_schedule,
    stockx_schedules,
    warehouse_build_job,
    warehouse_build_schedule,
)
from resources.alias import AliasResource
from resources.dbt import dbt_resource
from resources.ebay import EbayResource
from resources.imports import ImportFolderResource
from resources.metabase import metabase_enabled
from resources.stockx import StockXResource
from resources.warehouse import WarehouseResource
from sensors.import_folder import build_import_folder_sensor
from sensors.run_failure_alert import run_failure_alert_sensor
from soleflipper.settings import load_settings

DATABASE_URL_ENV = "SOLEFLIPPER_DATABASE_URL"
settings = load_settings()


def _warehouse_url_config(url: str) -> str | dg.EnvVar:
    """The warehouse URL as resource config: an EnvVar when it holds a password, so the password is
    resolved at run time and never stored in Dagster's run and job snapshots or shown in the UI."""
    from urllib.parse import urlsplit

    if settings.database_url and urlsplit(url).password and os.environ.get(DATABASE_URL_ENV) == url:
        return dg.EnvVar(DATABASE_URL_ENV)
    return url


WAREHOUSE_URL = _warehouse_url_config(settings.warehouse_url)

# File formats users drop into import folders, and the asset group each one belongs to.
FILE_IMPORTS = {
    "stockx_sales_report": "stockx",
    "ebay_sold_listings": "ebay",
    "ebay_orders": "ebay",
    "alias_consignment": "alias",
    "alias_invoice": "alias",
    "purchases_sheet": "sheets",
    "purchases_sheet_de": "sheets",
    "sales_sheet": "sheets",
    "expenses_sheet": "sheets",
    # ECB euro reference rates (eurofxref-hist.csv / eurofxref.csv): core.fx_rates_daily.
    "ecb_fx_rates": "core",
    # Market-wide StockX sales history (.csv or .csv.gz): transactions.fct_market_sales, which
    # demand forecasts and pricing recommendations learn from.
    "stockx_contest_sales": "market",
    "stockx_activity_sales": "market",
}
file_import_assets = [build_file_import_asset(name, group_name=group) for name, group in FILE_IMPORTS.items()]
file_import_jobs = {name: file_import_job(name) for name in FILE_IMPORTS}

# API sources join the code location only when configured: the user's account, or the demo
# simulators whose variables `soleflipper run` / `soleflipper dev` export before Dagster loads
# this module (pipelines/demo.py). A source that is not set up must not fail every run.
STOCKX = stockx_enabled()
NOTION = notion_enabled()
EBAY = ebay_enabled()
ALIAS = alias_enabled()  # SOLEFLIPPER_ALIAS_TOKEN: the user's PAT or the demo simulator's
METABASE = metabase_enabled()  # the dashboards asset, when a Metabase (or the demo's simulator) is set up

ingestion_assets = [*file_import_assets, *(stockx_assets if STOCKX else []), *(notion_assets if NOTION else []),
                    *(ebay_assets if EBAY else []), *(alias_assets if ALIAS else [])]
# dbt source freshness of every raw table that has an ingestion asset here (checks on raw/<table>).
source_freshness_checks = build_source_freshness_checks(
    key for assets_def in ingestion_assets for key in assets_def.keys
)
source_freshness_job, source_freshness_daily = source_freshness_schedule(source_freshness_checks)

defs = dg.Definitions(
    # Forecasts and pricing read the dbt marts and write Python-owned analytics tables: they run
    # after dbt in every job that selects them (refresh_everything, the market sales imports).
    assets=[*ingestion_assets, *budibase_entry_assets, warehouse_dbt_models, *forecasting_assets,
            *pricing_assets, *([metabase_dashboards] if METABASE else [])],
    asset_checks=[product_match_rate, *source_freshness_checks, *kpi_view_freshness_checks,
                  *forecasting_checks, *pricing_checks],
    jobs=[everything_job, forecast_and_price_job, warehouse_build_job, *file_import_jobs.values(),
          *refresh_jobs.values(), source_freshness_job, *(stockx_jobs if STOCKX else []),
          *(notion_jobs if NOTION else []), *(ebay_jobs if EBAY else []), *(alias_jobs if ALIAS else []),
          budibase_entries_job],
    # Every schedule skips a tick while a run touching its assets is queued or running; crons from
    # SOLEFLIPPER_*_CRON (pipelines/automation.py lists them with their defaults).
    schedules=[*refresh_schedules(), source_freshness_daily, warehouse_build_schedule(),
               *(stockx_schedules() if STOCKX else []), *(notion_schedules() if NOTION else []),
               *(ebay_schedules() if EBAY else []), *(alias_schedules() if ALIAS else [])],
    sensors=[
        *(build_import_folder_sensor(name, job) for name, job in file_import_jobs.items()),
        kpi_view_automation_sensor,
        forecast_pricing_automation_sensor,
        *([notion_changes_sensor()] if NOTION else []),
        # WARN when a KPI view is older than its refresh cadence allows (assets/checks_kpi_freshness.py).
        kpi_view_freshness_sensor,
        # One scrubbed webhook alert per failed run (SOLEFLIPPER_ALERT_WEBHOOK_URL), else the log.
        run_failure_alert_sensor,
        # Budibase entries not loaded yet -> load_budibase_entries (off until switched on).
        budibase_entries_sensor,
    ],
    resources={
        "warehouse": WarehouseResource(database_url=WAREHOUSE_URL),
        "dbt": dbt_resource(),
        "imports": ImportFolderResource(root=str(settings.import_dir)),
        "notion": notion_resource_from_env(),
        **({"stockx": StockXResource.from_env(WAREHOUSE_URL)} if STOCKX else {}),
        **({"ebay": EbayResource.from_env(WAREHOUSE_URL)} if EBAY else {}),
        **({"alias": AliasResource.from_env()} if ALIAS else {}),
        **({"metabase": metabase_resource_from_env()} if METABASE else {}),
    },
)
