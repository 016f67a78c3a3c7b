"""Freshness checks on the KPI views (assets/checks_kpi_freshness.py): thresholds by each view's
dbt refresh cadence, the sensor that evaluates them, and their verdict on Dagster's records."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg

from assets.checks_kpi_freshness import (
    FRESHNESS_BY_CADENCE,
    kpi_view_freshness_checks,
    kpi_view_freshness_sensor,
    kpi_views_by_cadence,
)
from assets.dbt import warehouse_dbt_models
from resources.dbt import dbt_resource
from resources.warehouse import WarehouseResource


def key(view: str) -> dg.AssetKey:
    return dg.AssetKey(["analytics", view])


def test_every_kpi_view_is_checked_with_its_cadence_threshold():
    assert kpi_views_by_cadence() == {
        "daily": [key("mv_brand_analytics"), key("mv_customer_geography"), key("mv_product_performance")],
        "hourly": [key("mv_executive_metrics"), key("mv_inventory_status"), key("mv_platform_performance")],
        "weekly": [key("mv_supplier_performance")],
    }
    assert FRESHNESS_BY_CADENCE == {"hourly": timedelta(hours=2), "daily": timedelta(hours=26),
                                    "weekly": timedelta(days=8)}
    checked = {ck.asset_key: ck.name for c in kpi_view_freshness_checks for ck in c.check_keys}
    assert checked == {k: "freshness_check" for keys in kpi_views_by_cadence().values() for k in keys}
    thresholds = {}
    for checks_def in kpi_view_freshness_checks:
        for spec in checks_def.check_specs:
            thresholds[spec.asset_key.path[-1]] = spec.metadata["dagster/freshness_params"].value["lower_bound_delta_seconds"]
    assert thresholds == {
        "mv_executive_metrics": 7200, "mv_inventory_status": 7200, "mv_platform_performance": 7200,
        "mv_brand_analytics": 93600, "mv_customer_geography": 93600, "mv_product_performance": 93600,
        "mv_supplier_performance": 691200,
    }


def test_the_sensor_runs_by_default_and_targets_the_checks():
    assert kpi_view_freshness_sensor.name == "kpi_view_freshness_sensor"
    assert kpi_view_freshness_sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_a_view_refreshed_just_now_is_fresh_and_one_never_refreshed_is_not():
    defs = dg.Definitions(
        assets=[warehouse_dbt_models],
        asset_checks=kpi_view_freshness_checks,
        jobs=[dg.define_asset_job("freshness", selection=dg.AssetSelection.checks(*kpi_view_freshness_checks))],
        resources={"dbt": dbt_resource(), "warehouse": WarehouseResource(database_url="postgresql://unused")},
    )
    instance = dg.DagsterInstance.ephemeral()
    instance.report_runless_asset_event(dg.AssetMaterialization(key("mv_executive_metrics")))
    result = defs.resolve_job_def("freshness").execute_in_process(instance=instance)
    verdicts = {e.asset_check_evaluation_data.asset_key.path[-1]: e.asset_check_evaluation_data.passed
                for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    assert verdicts == {
        "mv_executive_metrics": True,
        "mv_inventory_status": False, "mv_platform_performance": False, "mv_brand_analytics": False,
        "mv_customer_geography": False, "mv_product_performance": False, "mv_supplier_performance": False,
    }
