"""Freshness checks on the KPI views (``analytics.mv_*``), visible in the UI as asset checks.

Each KPI view declares its refresh cadence in its dbt YAML (``config.meta.refresh_cadence``,
pipelines/schedules.py runs one schedule per cadence). A view is stale when its last
materialization (a refresh by a schedule, an import or a build) is older than the cadence plus a
margin for a late or queued run:

=========  ==========  ===========================================================
cadence    stale after  why
=========  ==========  ===========================================================
hourly     2 hours     one missed hourly refresh is tolerated, two are not
daily      26 hours    the daily refresh plus two hours (a slow or queued build)
weekly     8 days      the weekly refresh plus a day
=========  ==========  ===========================================================

A view without (or with an unknown) cadence is held to the daily threshold. The checks are
``dg.build_last_update_freshness_checks`` (they read Dagster's materialization records, so a
refresh outside Dagster does not count); ``kpi_view_freshness_sensor`` evaluates them
(running by default) so they turn red on their own, without a run.
"""

import json
import warnings
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import dagster as dg

from assets.dbt import is_kpi_view, translator
from resources.dbt import ensure_manifest

FRESHNESS_BY_CADENCE: dict[str, timedelta] = {
    "hourly": timedelta(hours=2),
    "daily": timedelta(hours=26),
    "weekly": timedelta(days=8),
}
DEFAULT_CADENCE = "daily"


def kpi_views_by_cadence(manifest: Mapping[str, Any] | None = None) -> dict[str, list[dg.AssetKey]]:
    """Asset keys of the KPI views (materialized ``kpi_view``), by their refresh cadence."""
    if manifest is None:
        manifest = json.loads(ensure_manifest().read_text(encoding="utf-8"))
    by_cadence: dict[str, list[dg.AssetKey]] = {}
    for props in manifest["nodes"].values():
        if not is_kpi_view(props):
            continue
        cadence = (props["config"].get("meta") or {}).get("refresh_cadence") or (props.get("meta") or {}).get(
            "refresh_cadence")
        cadence = cadence if cadence in FRESHNESS_BY_CADENCE else DEFAULT_CADENCE
        by_cadence.setdefault(cadence, []).append(translator.get_asset_key(props))
    return {cadence: sorted(keys) for cadence, keys in sorted(by_cadence.items())}


def build_kpi_view_freshness_checks(manifest: Mapping[str, Any] | None = None) -> list[dg.AssetChecksDefinition]:
    """One ``freshness_check`` per KPI view (one definition per cadence), severity WARN: a stale
    view is reported, nothing is stopped (the views have no downstream assets)."""
    checks: list[dg.AssetChecksDefinition] = []
    with warnings.catch_warnings():
        # Dagster 1.13 suggests FreshnessPolicy on the assets instead; these checks are what the
        # UI shows as checks today and need no change to the dbt assets' definition.
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        for cadence, keys in kpi_views_by_cadence(manifest).items():
            checks += dg.build_last_update_freshness_checks(
                assets=keys,
                lower_bound_delta=FRESHNESS_BY_CADENCE[cadence],
                severity=dg.AssetCheckSeverity.WARN,
            )
    return checks


def build_kpi_view_freshness_sensor(checks: list[dg.AssetChecksDefinition]) -> dg.SensorDefinition:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.SupersessionWarning)
        return dg.build_sensor_for_freshness_checks(
            freshness_checks=checks,
            name="kpi_view_freshness_sensor",
            minimum_interval_seconds=300,
            default_status=dg.DefaultSensorStatus.RUNNING,
        )


kpi_view_freshness_checks = build_kpi_view_freshness_checks()
kpi_view_freshness_sensor = build_kpi_view_freshness_sensor(kpi_view_freshness_checks)
