"""dbt source freshness as Dagster checks (assets/checks_freshness.py): thresholds from the dbt
YAML, dbt's verdicts mapped to check results, the daily schedule."""

from __future__ import annotations

import dagster as dg
import pytest

from assets.checks_freshness import check_result, freshness_sources
from pipelines.definitions import defs
from pipelines.schedules import RefreshCronError, source_freshness_schedule

PROPS = {"source_name": "raw", "name": "ebay_orders", "unique_id": "source.soleflipper.raw.ebay_orders",
         "freshness": {"warn_after": {"count": 7, "period": "day"}, "error_after": {"count": 35, "period": "day"}}}
KEY = dg.AssetKey(["raw", "ebay_orders"])


def _result(status: str, loaded: str = "2026-01-10T08:00:00+00:00", ago: float = 36000.0) -> dict:
    return {"unique_id": PROPS["unique_id"], "status": status, "max_loaded_at": loaded,
            "snapshotted_at": "2026-01-10T18:00:00+00:00", "max_loaded_at_time_ago_in_s": ago}


def test_every_file_source_declares_warn_and_error_thresholds_on_the_load_time():
    sources = freshness_sources()
    for table in ("stockx_sales_report", "ebay_orders", "ebay_sold_listings", "alias_consignment",
                  "alias_invoice", "sheets_purchases", "sheets_purchases_de", "sheets_sales",
                  "stockx_orders", "stockx_products", "stockx_variants", "stockx_market_data",
                  "notion_purchases", "notion_sales"):
        props = sources[dg.AssetKey(["raw", table])]
        assert props["freshness"]["warn_after"]["count"] < props["freshness"]["error_after"]["count"], table
        assert props["loaded_at_field"] == "_loaded_at" or props["loaded_at_query"] == (
            f"select ops.newest_timestamp('raw.{props['name']}', '_loaded_at')"), table


@pytest.mark.parametrize(("status", "passed", "severity"), [
    ("pass", True, dg.AssetCheckSeverity.ERROR),
    ("warn", False, dg.AssetCheckSeverity.WARN),
    ("error", False, dg.AssetCheckSeverity.ERROR),
    ("runtime error", False, dg.AssetCheckSeverity.ERROR),
])
def test_dbt_status_becomes_the_check_verdict(status, passed, severity):
    result = check_result(KEY, PROPS, _result(status))
    assert (result.passed, result.severity) == (passed, severity)
    assert result.metadata["status"].value == status
    assert result.metadata["warn_after"].value == "7 day"
    assert result.metadata["error_after"].value == "35 day"


def test_age_and_never_loaded_in_metadata():
    fresh = check_result(KEY, PROPS, _result("pass"))
    assert fresh.metadata["age_hours"].value == 10.0
    assert fresh.metadata["max_loaded_at"].value == "2026-01-10T08:00:00+00:00"
    never = check_result(KEY, PROPS, _result("error", loaded="0001-01-01T00:00:00+00:00", ago=6.4e10))
    assert never.metadata["max_loaded_at"].value == "never loaded"
    assert "age_hours" not in never.metadata


def test_a_source_dbt_did_not_report_fails():
    missing = check_result(KEY, PROPS, None)
    assert (missing.passed, missing.severity) == (False, dg.AssetCheckSeverity.ERROR)


def test_checks_sit_on_the_raw_assets_and_run_daily():
    graph = defs.resolve_asset_graph()
    checks = {key for key in graph.asset_check_keys if key.name == "source_freshness"}
    assert dg.AssetCheckKey(dg.AssetKey(["raw", "stockx_sales_report"]), "source_freshness") in checks
    assert all(key.asset_key.path[0] == "raw" for key in checks)
    schedule = defs.resolve_schedule_def("check_source_freshness_schedule")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 6 * * *", "UTC")
    job = defs.resolve_job_def("check_source_freshness")
    assert job.asset_layer.selected_asset_keys == set()  # checks only: nothing is materialized


def test_freshness_cron_from_the_environment():
    job, schedule = source_freshness_schedule([], {"SOLEFLIPPER_SOURCE_FRESHNESS_CRON": "30 7 * * *"})
    assert (schedule.name, schedule.job_name) == ("check_source_freshness_schedule", job.name)
    assert schedule.cron_schedule == "30 7 * * *"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert "from SOLEFLIPPER_SOURCE_FRESHNESS_CRON" in schedule.description
    with pytest.raises(RefreshCronError, match="SOLEFLIPPER_SOURCE_FRESHNESS_CRON='daily' is not a cron"):
        source_freshness_schedule([], {"SOLEFLIPPER_SOURCE_FRESHNESS_CRON": "daily"})
