"""The Metabase dashboards as an asset: ``bi/metabase_dashboards`` (group ``bi``).

Thin over :func:`soleflipper.bi.metabase_sync.sync_metabase`: it reads the dashboard YAML and the
dbt manifest at run time (a YAML mistake fails the run, not the code location), provisions
Metabase and reports the counts and the dashboards' addresses. It depends on the KPI views the
dbt exposures list (the views the dashboards read), so ``refresh_everything`` runs it after them.
It joins Definitions only when Metabase is configured (``SOLEFLIPPER_METABASE_URL`` and an API
key or user + password; the demo exports its simulator's), like the StockX and Notion assets.
Import jobs leave it out (pipelines/jobs.py ``downstream_of``): dashboards change with their
YAML, not with new data.
"""

import dataclasses
import json
import os
from collections.abc import Mapping
from typing import Any

import dagster as dg

from assets.dbt import translator
from resources.dbt import ensure_manifest
from resources.metabase import MetabaseResource
from resources.warehouse import WarehouseResource

KEY = dg.AssetKey(["bi", "metabase_dashboards"])
GROUP = "bi"
TAGS = {"soleflipper/bi": "metabase"}  # import jobs leave this out (pipelines/jobs.py)


def exposed_views(manifest: Mapping[str, Any] | None = None) -> list[dg.AssetKey]:
    """Asset keys of the models the dbt exposures (the dashboards) depend on."""
    if manifest is None:
        manifest = json.loads(ensure_manifest().read_text(encoding="utf-8"))
    nodes = manifest["nodes"]
    unique_ids = {
        uid for exposure in manifest.get("exposures", {}).values() for uid in exposure["depends_on"]["nodes"]
    }
    return sorted(translator.get_asset_key(nodes[uid]) for uid in unique_ids if uid in nodes)


@dg.asset(
    key=KEY,
    group_name=GROUP,
    deps=exposed_views(),
    kinds={"metabase"},
    tags=TAGS,
    description="Metabase: the warehouse connection, the SoleFlipper collection and the four dashboards "
    "of bi/metabase/dashboards/*.yaml, created or updated idempotently (`soleflipper metabase sync`).",
)
def metabase_dashboards(
    context: dg.AssetExecutionContext, metabase: MetabaseResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    from soleflipper.bi.dashboards import load_dashboards, load_manifest
    from soleflipper.bi.metabase_sync import metabase_connection, sync_metabase
    from soleflipper.settings import load_settings

    dashboards = load_dashboards()
    manifest = load_manifest()
    settings = dataclasses.replace(load_settings(), database_url=warehouse.database_url)
    connection = metabase_connection(settings, os.environ)
    with metabase.get_client() as client:
        report = sync_metabase(client, dashboards, manifest, connection)
    context.log.info("Metabase sync (%s requests):\n%s", report.requests, report.table())
    links = "\n".join(f"- [{name}]({url})" for name, url in report.dashboard_urls.items())
    return dg.MaterializeResult(
        metadata={
            **report.as_metadata(),
            "changed": report.changed,
            "requests": report.requests,
            "database_id": report.database_id,
            "dashboards": dg.MetadataValue.md(links or "none"),
            "dashboard_urls": dg.MetadataValue.json(report.dashboard_urls),
        }
    )


def metabase_resource_from_env(environ: Mapping[str, str] | None = None) -> MetabaseResource:
    return MetabaseResource.from_env(environ)
