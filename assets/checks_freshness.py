"""dbt source freshness as Dagster asset checks: one `source_freshness` check per raw table.

The thresholds live with the sources in dbt (``config.freshness`` warn_after / error_after and the
``loaded_at_field``, the loader's ``_loaded_at``); this module runs ``dbt source freshness`` for
the selected raw tables and reports dbt's verdict on the ingestion asset (``raw/<table>``):
pass -> passed; warn -> failed with severity WARN; error (or a query that failed) -> failed with
severity ERROR. A table never loaded has no load time: dbt treats it as infinitely old.

dagster-dbt 0.29's ``build_freshness_checks_from_dbt_assets`` reads model meta and Dagster's own
materialization times, not dbt source freshness, so it cannot check what the loader wrote; this
check asks dbt. It runs with every job that materializes a raw table (an import reports its
table fresh) and on the ``check_source_freshness`` schedule (pipelines/schedules.py).
"""


import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

import dagster as dg
from dagster import AssetCheckExecutionContext
from dagster_dbt import DbtCliResource

from assets.dbt import translator
from resources.dbt import dbt_connection_env, ensure_manifest
from resources.warehouse import WarehouseResource, ensure_all_raw_tables

CHECK_NAME = "source_freshness"
NEVER = "0001-01-01"  # dbt's max_loaded_at for a table without rows


def freshness_sources() -> dict[dg.AssetKey, Mapping[str, Any]]:
    """Every dbt source with a freshness threshold, by the asset key the translator gives it."""
    manifest = json.loads(ensure_manifest().read_text(encoding="utf-8"))
    sources = {}
    for props in manifest["sources"].values():
        freshness = props.get("freshness") or {}
        if any((freshness.get(level) or {}).get("count") for level in ("warn_after", "error_after")):
            sources[translator.get_asset_key(props)] = props
    return sources


def _threshold(props: Mapping[str, Any], level: str) -> str | None:
    after = (props.get("freshness") or {}).get(level) or {}
    return f"{after['count']} {after['period']}" if after.get("count") else None


def check_result(key: dg.AssetKey, props: Mapping[str, Any], result: Mapping[str, Any] | None) -> dg.AssetCheckResult:
    """dbt's result for one source (an entry of sources.json) as the source's asset check result."""
    metadata: dict[str, Any] = {
        "dbt_source": f"{props['source_name']}.{props['name']}",
        "warn_after": _threshold(props, "warn_after"),
        "error_after": _threshold(props, "error_after"),
    }
    if result is None:
        return dg.AssetCheckResult(asset_key=key, check_name=CHECK_NAME, passed=False,
                                   severity=dg.AssetCheckSeverity.ERROR,
                                   metadata={**metadata, "status": "not reported by dbt source freshness"})
    status = result["status"]
    metadata["status"] = status
    if status == "runtime error":
        metadata["error"] = result.get("error") or result.get("message") or ""
    else:
        loaded = result["max_loaded_at"]
        metadata["max_loaded_at"] = "never loaded" if loaded.startswith(NEVER) else loaded
        metadata["checked_at"] = result["snapshotted_at"]
        if not loaded.startswith(NEVER):
            metadata["age_hours"] = round(float(result["max_loaded_at_time_ago_in_s"]) / 3600, 1)
    severity = dg.AssetCheckSeverity.WARN if status == "warn" else dg.AssetCheckSeverity.ERROR
    return dg.AssetCheckResult(asset_key=key, check_name=CHECK_NAME, passed=status == "pass", severity=severity,
                               metadata=metadata)


def build_source_freshness_checks(asset_keys: Iterable[dg.AssetKey]) -> list[dg.AssetChecksDefinition]:
    """The freshness check for every dbt source that has thresholds and an asset in `asset_keys`
    (StockX and Notion tables join only when those sources are set up)."""
    present = set(asset_keys)
    sources = {key: props for key, props in freshness_sources().items() if key in present}
    if not sources:
        return []
    specs = [
        dg.AssetCheckSpec(CHECK_NAME, asset=key,
                          description=f"dbt source freshness of {props['source_name']}.{props['name']}: "
                                      f"warn after {_threshold(props, 'warn_after')}, "
                                      f"error after {_threshold(props, 'error_after')} without new rows.")
        for key, props in sorted(sources.items())
    ]

    @dg.multi_asset_check(specs=specs, can_subset=True, name="raw_source_freshness")
    def raw_source_freshness(context: AssetCheckExecutionContext, dbt: DbtCliResource,
                             warehouse: WarehouseResource):
        selected = sorted({check.asset_key for check in context.selected_asset_check_keys})
        with warehouse.connect() as conn:
            ensure_all_raw_tables(conn)
        os.environ.update(dbt_connection_env(warehouse.database_url))
        names = [f"source:{sources[key]['source_name']}.{sources[key]['name']}" for key in selected]
        invocation = dbt.cli(["source", "freshness", "--select", " ".join(names)], raise_on_error=False)
        invocation.wait()  # exits 1 when a source is stale beyond error_after: reported per check
        results = {r["unique_id"]: r for r in invocation.get_artifact("sources.json")["results"]}
        context.log.info("dbt source freshness: " + ", ".join(
            f"{r['unique_id'].rsplit('.', 1)[-1]}={r['status']}" for r in results.values()))
        for key in selected:
            yield check_result(key, sources[key], results.get(sources[key]["unique_id"]))

    return [raw_source_freshness]
