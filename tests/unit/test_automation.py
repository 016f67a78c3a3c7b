"""Running unattended (pipelines/automation.py, pipelines/schedules.py): every cron from the
environment, schedules that never start a run beside one touching the same assets, forecasts and
pricing once a day after their inputs, and retries of API assets only for transient errors.

Schedules are evaluated with ``build_schedule_context`` against an in-memory instance holding runs
in the states under test; automation conditions with ``evaluate_automation_conditions`` at chosen
evaluation times (no clock, no waiting).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import httpx
import psycopg
import pytest
import yaml
from dagster._core.remote_origin import InProcessCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

from assets.alias import LISTINGS_KEY as ALIAS_LISTINGS_KEY
from assets.alias import alias_assets, alias_jobs, alias_listings, alias_orders
from assets.dbt import warehouse_dbt_models
from assets.ebay import ORDERS_KEY as EBAY_ORDERS_KEY
from assets.ebay import ebay_api_sync, ebay_assets, ebay_jobs
from assets.forecasting import DEMAND_FORECASTS, FORECAST_ACCURACY, forecasting_assets
from assets.notion import notion_assets, notion_purchases, notion_sales
from assets.pricing import PRICING_BACKTEST, PRICING_RECOMMENDATIONS, pricing_assets
from assets.stockx import ORDERS_KEY, stockx_assets, stockx_catalog, stockx_market_data, stockx_orders
from pipelines.automation import (
    ALIAS_SYNC_CRON,
    API_RETRY_POLICY,
    EBAY_SYNC_CRON,
    FORECAST_PRICING_CRON,
    NOTION_RECONCILE_CRON,
    NOTION_SYNC_CRON,
    STOCKX_DAILY_CRON,
    STOCKX_MARKET_DATA_CRON,
    STOCKX_ORDERS_CRON,
    WAREHOUSE_BUILD_CRON,
    CronError,
    condition_labels,
    cron_from_env,
    forecast_pricing_cron,
    is_transient,
    transient_only,
)
from pipelines.definitions import defs
from pipelines.jobs import WAREHOUSE_BUILD
from pipelines.schedules import (
    alias_schedules,
    ebay_schedules,
    notion_changes_sensor,
    notion_schedules,
    refresh_schedules,
    stockx_schedules,
    warehouse_build_schedule,
)
from resources.alias.client import AliasApiError, AliasAuthError, AliasScopeError
from resources.api_budget import BudgetExhausted
from resources.http_client import ApiConnectionError, ApiError, AuthError, MalformedResponse
from soleflipper.settings import PROJECT_ROOT

SETTINGS = {
    WAREHOUSE_BUILD_CRON: "30 3 * * *",
    STOCKX_ORDERS_CRON: "0 */4 * * *",
    STOCKX_MARKET_DATA_CRON: "30 */6 * * *",
    STOCKX_DAILY_CRON: "0 5 * * *",
    NOTION_SYNC_CRON: "*/15 * * * *",
    NOTION_RECONCILE_CRON: "0 1 * * *",
    EBAY_SYNC_CRON: "20 */4 * * *",
    ALIAS_SYNC_CRON: "40 */4 * * *",
}
FORECAST_AND_PRICING = {DEMAND_FORECASTS, FORECAST_ACCURACY, PRICING_RECOMMENDATIONS, PRICING_BACKTEST}


# --------------------------------------------------------------------------- crons from the environment


@pytest.mark.parametrize("setting", list(SETTINGS), ids=lambda s: s.env)
def test_every_cron_has_its_documented_default_and_an_env_override(setting):
    assert setting.default_cron == SETTINGS[setting]
    assert cron_from_env(setting, {}) == SETTINGS[setting]
    assert cron_from_env(setting, {setting.env: "  "}) == SETTINGS[setting]
    assert cron_from_env(setting, {setting.env: "7 7 * * *"}) == "7 7 * * *"
    with pytest.raises(CronError, match=rf"{setting.env}='hourly' is not a cron expression"):
        cron_from_env(setting, {setting.env: "hourly"})
    documented = Path(PROJECT_ROOT / "pipelines" / "automation.py").read_text(encoding="utf-8")
    assert f"``{setting.env}``" in documented and f"``{SETTINGS[setting]}``" in documented


def test_forecasts_follow_the_build_cron_unless_set_themselves():
    assert forecast_pricing_cron({}) == "30 3 * * *"
    assert forecast_pricing_cron({WAREHOUSE_BUILD_CRON.env: "0 4 * * *"}) == "0 4 * * *"
    assert forecast_pricing_cron({WAREHOUSE_BUILD_CRON.env: "0 4 * * *", FORECAST_PRICING_CRON.env: "0 3 * * *"}) \
        == "0 3 * * *"
    with pytest.raises(CronError, match="SOLEFLIPPER_FORECAST_PRICING_CRON"):
        forecast_pricing_cron({FORECAST_PRICING_CRON.env: "daily"})


def test_source_schedules_read_their_crons_and_run_by_default():
    environ = {STOCKX_ORDERS_CRON.env: "0 */2 * * *", NOTION_SYNC_CRON.env: "*/5 * * * *",
               EBAY_SYNC_CRON.env: "10 */2 * * *"}
    by_name = {s.name: s for s in [*stockx_schedules(environ), *notion_schedules(environ),
                                   *ebay_schedules(environ), *alias_schedules(environ),
                                   warehouse_build_schedule(environ)]}
    expected = {
        "sync_stockx_orders_schedule": ("sync_stockx_orders", "0 */2 * * *"),
        "sync_stockx_market_data_schedule": ("sync_stockx_market_data", "30 */6 * * *"),
        "sync_stockx_daily": ("sync_stockx", "0 5 * * *"),
        "sync_notion_schedule": ("sync_notion", "*/5 * * * *"),
        "reconcile_notion_schedule": ("reconcile_notion", "0 1 * * *"),
        "build_warehouse_nightly": ("build_warehouse", "30 3 * * *"),
        "sync_ebay_schedule": ("sync_ebay", "10 */2 * * *"),
        "sync_alias_schedule": ("sync_alias", "40 */4 * * *"),
    }
    assert {name: (s.job_name, s.cron_schedule) for name, s in by_name.items()} == expected
    for schedule in by_name.values():
        assert schedule.execution_timezone == "UTC"
        assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert "from SOLEFLIPPER_STOCKX_ORDERS_CRON" in by_name["sync_stockx_orders_schedule"].description
    assert "(default)" in by_name["sync_stockx_market_data_schedule"].description
    assert "from SOLEFLIPPER_EBAY_SYNC_CRON" in by_name["sync_ebay_schedule"].description
    assert "(default). Set SOLEFLIPPER_ALIAS_SYNC_CRON" in by_name["sync_alias_schedule"].description
    with pytest.raises(CronError, match=r"SOLEFLIPPER_EBAY_SYNC_CRON='every 4h' is not a cron expression"):
        ebay_schedules({EBAY_SYNC_CRON.env: "every 4h"})
    with pytest.raises(CronError, match=r"SOLEFLIPPER_ALIAS_SYNC_CRON='\* \* \*' is not a cron expression"):
        alias_schedules({ALIAS_SYNC_CRON.env: "* * *"})


def _automation_in_a_fresh_process(env: dict[str, str]) -> set[str]:
    """Names of the schedules and automation sensors (not the import-folder sensors) of the code location."""
    code = ("from pipelines.definitions import defs; print(' '.join(sorted(s.name for s in [*defs.schedules, "
            "*defs.sensors] if not s.name.endswith('_import_folder'))))")
    clean = {k: v for k, v in os.environ.items()
             if k not in ("SOLEFLIPPER_STOCKX_API_KEY", "SOLEFLIPPER_NOTION_TOKEN", "SOLEFLIPPER_EBAY_CLIENT_ID",
                          "SOLEFLIPPER_ALIAS_TOKEN")}
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", code], env={**clean, **env}, cwd=PROJECT_ROOT,
                         capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_source_schedules_are_wired_only_when_the_source_is_configured():
    always = {"refresh_kpi_views_hourly_schedule", "refresh_kpi_views_daily_schedule",
              "refresh_kpi_views_weekly_schedule", "check_source_freshness_schedule", "build_warehouse_nightly",
              "kpi_views_after_facts_change", "forecasts_and_pricing_daily"}
    stockx = {"sync_stockx_orders_schedule", "sync_stockx_market_data_schedule", "sync_stockx_daily"}
    notion = {"sync_notion_schedule", "reconcile_notion_schedule", "build_after_notion_changes"}
    ebay, alias = {"sync_ebay_schedule"}, {"sync_alias_schedule"}
    found = _automation_in_a_fresh_process({})
    assert always <= found and not found & (stockx | notion | ebay | alias)
    found = _automation_in_a_fresh_process({"SOLEFLIPPER_STOCKX_API_KEY": "k", "SOLEFLIPPER_NOTION_TOKEN": "t",
                                            "SOLEFLIPPER_EBAY_CLIENT_ID": "c", "SOLEFLIPPER_ALIAS_TOKEN": "t"})
    assert always | stockx | notion | ebay | alias <= found


# --------------------------------------------------------------------------- schedules never overlap


def _source_defs() -> dg.Definitions:
    """The code location with StockX, Notion, eBay and Alias configured (resources are not needed to
    evaluate)."""
    return dg.Definitions(
        assets=[*defs.assets, *stockx_assets, *notion_assets, *ebay_assets, *alias_assets],
        asset_checks=list(defs.asset_checks or []),
        jobs=[*defs.jobs, *ebay_jobs, *alias_jobs],
        schedules=[*refresh_schedules(), warehouse_build_schedule(), *stockx_schedules(), *notion_schedules(),
                   *ebay_schedules(), *alias_schedules()],
        sensors=[notion_changes_sensor()],
        resources={key: dg.ResourceDefinition.none_resource()
                   for key in ("warehouse", "dbt", "imports", "stockx", "notion", "ebay", "alias")},
    )


SOURCE_DEFS = _source_defs()
TICK = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def _add_run(instance: dg.DagsterInstance, job_name: str, status: dg.DagsterRunStatus,
             asset_selection: set[dg.AssetKey] | None = None) -> dg.DagsterRun:
    """A run record in ``status`` (queued runs need the origin the daemon would dequeue them from)."""
    origin = RemoteJobOrigin(RemoteRepositoryOrigin(InProcessCodeLocationOrigin(LoadableTargetOrigin(
        module_name="pipelines.definitions", attribute="defs")), "__repository__"), job_name)
    run = dg.DagsterRun(job_name=job_name, run_id=str(uuid.uuid4()), status=status, remote_job_origin=origin,
                        asset_selection=frozenset(asset_selection) if asset_selection else None)
    return instance.add_run(run)


def _tick(schedule_name: str, instance: dg.DagsterInstance, when: datetime = TICK):
    schedule = SOURCE_DEFS.resolve_schedule_def(schedule_name)
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=when,
                                        repository_def=SOURCE_DEFS.get_repository_def())
    return schedule.evaluate_tick(context)


@pytest.mark.parametrize("status", [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED,
                                    dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED])
def test_a_schedule_skips_while_a_run_of_its_job_is_queued_or_running(status):
    with dg.instance_for_test() as instance:
        run = _add_run(instance, "sync_stockx_orders", status)
        result = _tick("sync_stockx_orders_schedule", instance)
        assert result.run_requests == []
        assert run.run_id in result.skip_message and "a run of this job" in result.skip_message


@pytest.mark.parametrize("status", [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE,
                                    dg.DagsterRunStatus.CANCELED])
def test_a_finished_or_failed_run_does_not_block_and_each_tick_asks_for_exactly_one_run(status):
    with dg.instance_for_test() as instance:
        _add_run(instance, "sync_stockx_orders", status)
        result = _tick("sync_stockx_orders_schedule", instance)
        [request] = result.run_requests
        assert request.partition_key == "2026-12-07"  # the tick's UTC day: today's partition
        assert result.skip_message is None


def test_a_schedule_skips_while_another_job_materializes_one_of_its_assets():
    with dg.instance_for_test() as instance:
        everything = _add_run(instance, "refresh_everything", dg.DagsterRunStatus.STARTED)  # a whole job
        result = _tick("sync_stockx_orders_schedule", instance)
        assert result.run_requests == [] and everything.run_id in result.skip_message
        assert "refresh_everything" in result.skip_message
    with dg.instance_for_test() as instance:
        # The asset materialized from the UI (an asset selection of the implicit job).
        _add_run(instance, "__ASSET_JOB", dg.DagsterRunStatus.QUEUED, {ORDERS_KEY})
        assert _tick("sync_stockx_orders_schedule", instance).run_requests == []
        # ... and a KPI view refreshed by an import blocks that view's cadence.
        _add_run(instance, "import_stockx_sales_report", dg.DagsterRunStatus.STARTED)
        assert _tick("refresh_kpi_views_hourly_schedule", instance).run_requests == []


@pytest.mark.parametrize(("schedule", "job", "raw_key"), [
    ("sync_ebay_schedule", "sync_ebay", EBAY_ORDERS_KEY),
    ("sync_alias_schedule", "sync_alias", ALIAS_LISTINGS_KEY),
])
def test_ebay_and_alias_schedules_skip_while_their_assets_are_in_flight_and_else_ask_for_one_run(schedule, job,
                                                                                                raw_key):
    with dg.instance_for_test() as instance:
        [request] = _tick(schedule, instance).run_requests
        assert request.partition_key is None  # not partitioned: the assets' cursors decide the window
        _add_run(instance, job, dg.DagsterRunStatus.SUCCESS)
        assert len(_tick(schedule, instance).run_requests) == 1
        run = _add_run(instance, job, dg.DagsterRunStatus.STARTED)
        result = _tick(schedule, instance)
        assert result.run_requests == []
        assert run.run_id in result.skip_message and "a run of this job" in result.skip_message
    with dg.instance_for_test() as instance:
        # The raw asset materialized from the UI blocks the whole sync.
        run = _add_run(instance, "__ASSET_JOB", dg.DagsterRunStatus.QUEUED, {raw_key})
        result = _tick(schedule, instance)
        assert result.run_requests == [] and run.run_id in result.skip_message


def test_a_run_of_other_assets_does_not_block():
    with dg.instance_for_test() as instance:
        _add_run(instance, "sync_notion", dg.DagsterRunStatus.STARTED)
        _add_run(instance, "__ASSET_JOB", dg.DagsterRunStatus.STARTED, {dg.AssetKey(["raw", "notion_sales"])})
        assert len(_tick("sync_stockx_orders_schedule", instance).run_requests) == 1
        assert len(_tick("sync_stockx_market_data_schedule", instance).run_requests) == 1
        # The two Notion jobs hold the same assets: the reconciliation waits for the sync.
        assert _tick("reconcile_notion_schedule", instance).run_requests == []


def test_partitioned_schedules_target_the_ticks_utc_day_and_the_reconciliation_reads_everything():
    with dg.instance_for_test() as instance:
        late = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)
        for name in ("sync_stockx_orders_schedule", "sync_stockx_market_data_schedule", "sync_stockx_daily"):
            [request] = _tick(name, instance, late).run_requests
            assert request.partition_key == "2026-12-07"
        [request] = _tick("sync_notion_schedule", instance).run_requests
        assert request.partition_key is None
    reconcile = SOURCE_DEFS.resolve_job_def("reconcile_notion")
    sync = SOURCE_DEFS.resolve_job_def("sync_notion")
    assert reconcile.asset_layer.selected_asset_keys == sync.asset_layer.selected_asset_keys
    assert reconcile.run_config == {"ops": {"raw__notion_purchases": {"config": {"full_refresh": True}},
                                            "raw__notion_sales": {"config": {"full_refresh": True}}}}
    assert not sync.run_config  # incremental: the assets' default config


def _notion_sync(instance: dg.DagsterInstance, loaded: int = 0, tombstones: int = 0) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(
        asset_key=notion_purchases.key,
        metadata={"pages_read": 50, "pages_loaded": loaded, "trashed_loaded": 0, "tombstones": tombstones}))


def test_warehouse_models_follow_notion_only_after_a_sync_that_loaded_pages():
    sensor = SOURCE_DEFS.resolve_sensor_def("build_after_notion_changes")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    built = SOURCE_DEFS.resolve_job_def("build_after_notion").asset_layer.selected_asset_keys
    assert dg.AssetKey(["products", "inventory_items"]) in built
    assert not built & ({notion_purchases.key, notion_sales.key} | FORECAST_AND_PRICING)
    repository = SOURCE_DEFS.get_repository_def()

    def evaluate(instance, cursor):
        result = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=cursor,
                                                              repository_def=repository))
        return len(result.run_requests or []), result.cursor

    with dg.instance_for_test() as instance:
        assert evaluate(instance, None) == (0, None)  # no sync yet
        _notion_sync(instance, loaded=3)
        requests, cursor = evaluate(instance, None)  # first evaluation: starts watching from here
        assert requests == 0 and cursor
        assert evaluate(instance, cursor) == (0, cursor)  # nothing new
        _notion_sync(instance)  # a sync that found nothing new: no build, cursor moves on
        requests, quiet = evaluate(instance, cursor)
        assert requests == 0 and int(quiet) > int(cursor)
        _notion_sync(instance, loaded=2)
        _notion_sync(instance, tombstones=1)
        requests, after = evaluate(instance, quiet)
        assert requests == 1 and int(after) > int(quiet)  # two syncs with changes: one build
        _notion_sync(instance, loaded=1)
        run = _add_run(instance, "build_after_notion", dg.DagsterRunStatus.STARTED)
        result = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=after,
                                                              repository_def=repository))
        assert not result.run_requests and run.run_id in result.skip_message
        assert result.cursor in (None, after)  # not advanced: tried again once the build is done


def test_api_and_build_jobs_queue_behind_warehouse_builds_and_leave_forecasts_to_their_own_condition():
    for name in ("sync_stockx", "sync_stockx_orders", "sync_stockx_market_data", "build_warehouse"):
        job = SOURCE_DEFS.resolve_job_def(name)
        assert job.tags.items() >= WAREHOUSE_BUILD.items()
        assert not job.asset_layer.selected_asset_keys & FORECAST_AND_PRICING, name
    orders_job = SOURCE_DEFS.resolve_job_def("sync_stockx_orders").asset_layer.selected_asset_keys
    api_keys = {key for a in stockx_assets for key in a.keys}
    assert orders_job & api_keys == {ORDERS_KEY}
    assert dg.AssetKey(["transactions", "fct_sales"]) in orders_job


# --------------------------------------------------------------------------- automation conditions


def test_forecasts_and_pricing_run_daily_after_their_inputs_and_never_beside_themselves():
    graph = defs.resolve_asset_graph()
    for key in FORECAST_AND_PRICING:
        labels = condition_labels(graph.get(key).automation_condition)
        assert labels[0] == "daily after its inputs (30 3 * * * UTC)"
        assert "on_cron(30 3 * * *, UTC)" in labels
        assert "all_deps_updated_since_cron(30 3 * * *, UTC)" in labels
        assert "NOT(in_progress)" in labels
    sensor = defs.resolve_sensor_def("forecasts_and_pricing_daily")
    assert isinstance(sensor, dg.AutomationConditionSensorDefinition)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.asset_selection.resolve(graph) == FORECAST_AND_PRICING
    assert DEMAND_FORECASTS in graph.get(PRICING_RECOMMENDATIONS).parent_keys  # forecasts come first


def test_kpi_views_eager_condition_waits_for_runs_in_progress_and_handles_each_change_once():
    graph = defs.resolve_asset_graph()
    views = [key for key in graph.get_all_asset_keys() if key.path[0] == "analytics"
             and key not in FORECAST_AND_PRICING]
    assert len(views) == 7
    for key in views:
        labels = condition_labels(graph.get(key).automation_condition)
        assert "NOT(in_progress)" in labels and "NOT(any_deps_in_progress)" in labels
        assert "newly_updated" in labels  # requested for a new upstream update, not again for the same one


def _requested(result) -> set[dg.AssetKey]:
    return {r.key for r in result.results if r.true_subset.size > 0}


def test_forecasts_are_requested_at_most_once_per_tick_whatever_upstream_does():
    """Three days, evaluated every 30 minutes like the daemon. Day 1: the 03:30 build succeeds and
    the marts are then rebuilt every hour (imports), but the forecast run keeps failing (it never
    materializes): exactly one request, all four assets together. Day 2: the build fails all day (no
    input updated): no request. Day 3: the build succeeds: one request again."""
    instance = dg.DagsterInstance.ephemeral()
    inputs = {key for key in warehouse_dbt_models.keys}
    selection = dg.AssetSelection.assets(*FORECAST_AND_PRICING)
    start = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    cursor = None
    requests_by_day: dict[int, list[tuple[datetime, set[dg.AssetKey]]]] = {1: [], 2: [], 3: []}
    for step in range(3 * 48):
        now = start + timedelta(minutes=30 * step)
        day = step // 48 + 1
        build_ok = day != 2
        if build_ok and (now.hour, now.minute) >= (4, 0):  # the build finished; later rebuilds hourly
            if now.minute == 0:
                for key in inputs:
                    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key))
        result = dg.evaluate_automation_conditions(defs=defs, instance=instance, asset_selection=selection,
                                                   evaluation_time=now, cursor=cursor)
        cursor = result.cursor
        if result.total_requested:
            requests_by_day[day].append((now, _requested(result)))
    assert [len(requests_by_day[d]) for d in (1, 2, 3)] == [1, 0, 1]
    for day in (1, 3):
        [(when, keys)] = requests_by_day[day]
        assert keys == FORECAST_AND_PRICING  # forecasts and pricing in one request: one run, in order
        assert (when.hour, when.minute) == (4, 0)  # after the tick, once the inputs were rebuilt


# --------------------------------------------------------------------------- retries


def _retry_policy(assets_def: dg.AssetsDefinition) -> dg.RetryPolicy | None:
    return assets_def.op.retry_policy


def test_only_api_assets_retry_twice_with_exponential_backoff_and_jitter():
    api = [stockx_orders, stockx_catalog, stockx_market_data, notion_purchases, notion_sales, ebay_api_sync,
           alias_orders, alias_listings]
    for assets_def in api:
        assert _retry_policy(assets_def) == API_RETRY_POLICY
    assert API_RETRY_POLICY.max_retries == 2
    assert API_RETRY_POLICY.backoff == dg.Backoff.EXPONENTIAL
    assert API_RETRY_POLICY.jitter == dg.Jitter.PLUS_MINUS
    others = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition) and a not in api]
    assert others and all(_retry_policy(a) is None for a in [*others, *forecasting_assets, *pricing_assets])


def test_run_retries_stay_disabled_in_the_instance():
    settings = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text(encoding="utf-8"))
    assert settings["run_retries"] == {"enabled": False}
    for job in SOURCE_DEFS.resolve_all_job_defs():
        assert "dagster/max_retries" not in job.tags, job.name


@pytest.mark.parametrize(("exc", "transient"), [
    (ApiError(429, "Too Many Requests"), True),
    (ApiError(500, "boom"), True),
    (ApiError(503, "unavailable"), True),
    (ApiError(408, "timeout"), True),
    (ApiConnectionError("connection refused"), True),
    (MalformedResponse("truncated", status=200, method="GET", url_path="/x"), True),
    (httpx.ReadTimeout("slow"), True),
    (psycopg.OperationalError("server closed the connection"), True),
    (AuthError(401, "refresh token rejected"), False),
    (ApiError(400, "bad fromDate"), False),
    (ApiError(404, "no such product"), False),
    (BudgetExhausted("stockx", 25_000, 25_000, datetime(2026, 12, 8, tzinfo=UTC)), False),
    (KeyError("orderNumber"), False),
    (AliasApiError(503, "unavailable"), True),
    (AliasAuthError(401, "token revoked"), False),
    (AliasScopeError(403, "missing scope"), False),
    (None, False),
])
def test_which_errors_are_transient(exc, transient):
    assert is_transient(exc) is transient


def test_transient_errors_go_to_the_retry_policy_and_others_fail_without_retries():
    with pytest.raises(ApiError) as raised, transient_only():
        raise ApiError(503, "unavailable")
    assert raised.value.status == 503
    with pytest.raises(dg.Failure) as failed, transient_only():
        raise AuthError(401, "run `soleflipper stockx login`")
    assert failed.value.allow_retries is False
    assert "AuthError" in failed.value.description and "not retried" in failed.value.description
    assert isinstance(failed.value.__cause__, AuthError)
    keep = dg.Failure(description="already decided", allow_retries=True)
    with pytest.raises(dg.Failure) as same, transient_only():
        raise keep
    assert same.value is keep
