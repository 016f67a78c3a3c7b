"""The dbt project as Dagster assets: staging views, marts and the KPI materialized views.

Asset keys mirror relations (``transactions/fct_sales``); dbt sources in the ``raw`` source
map onto the ingestion assets' keys (``raw/stockx_sales_report``), which gives lineage from
file to dashboard. dbt tests appear as asset checks.
"""

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from resources.dbt import dbt_connection_env, dbt_project, ensure_manifest
from resources.warehouse import WarehouseResource, ensure_all_raw_tables

# dbt selector for the KPI materialized views (the `kpi_view` materialization).
KPI_VIEWS_DBT_SELECT = "config.materialized:kpi_view"


def is_kpi_view(dbt_resource_props: Mapping[str, Any]) -> bool:
    return (dbt_resource_props["resource_type"] == "model"
            and dbt_resource_props["config"].get("materialized") == "kpi_view")


class SoleFlipperDbtTranslator(DagsterDbtTranslator):
    """Groups follow warehouse schemas, so the UI's groups read like the database."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return None
        return dbt_resource_props["config"].get("schema") or "analytics"

    def get_automation_condition(self, dbt_resource_props: Mapping[str, Any]) -> dg.AutomationCondition | None:
        # KPI views follow the facts they read: a fact materialized without them (a run that
        # selects fct_sales alone) gets its views refreshed by the daemon once that run is done.
        # Import and build jobs select their views themselves (handled in the same run).
        if is_kpi_view(dbt_resource_props):
            return dg.AutomationCondition.eager()
        return super().get_automation_condition(dbt_resource_props)


translator = SoleFlipperDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(
    manifest=ensure_manifest(),
    project=dbt_project,
    dagster_dbt_translator=translator,
    name="warehouse_dbt_models",
)
def warehouse_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    # Sources that have never been loaded still need their (empty) raw tables for dbt to build.
    with warehouse.connect() as conn:
        ensure_all_raw_tables(conn)
    # profiles.yml reads the connection from the environment of this (run) process.
    os.environ.update(dbt_connection_env(warehouse.database_url))
    yield from dbt.cli(["build"], context=context).stream()
