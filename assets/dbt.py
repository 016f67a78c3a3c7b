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


class SoleFlipperDbtTranslator(DagsterDbtTranslator):
    """Groups follow warehouse schemas, so the UI's groups read like the database."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "source":
            return None
        return dbt_resource_props["config"].get("schema") or "analytics"


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
