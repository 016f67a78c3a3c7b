"""KPI view refresh cadences (pipelines/schedules.py): schedules, env overrides, what each job selects,
and the views' automation after the facts they read change.

The expected views per cadence are written out here (the issue's table); a second check derives
them from the dbt manifest's meta.refresh_cadence, so a view moved between cadences in its YAML
must move jobs too.
"""

from __future__ import annotations

import json

import dagster as dg
import pytest

from assets.dbt import warehouse_dbt_models
from pipelines.definitions import defs
from pipelines.jobs import WAREHOUSE_BUILD
from pipelines.schedules import CADENCES, RefreshCronError, refresh_cron, refresh_schedules
from resources.dbt import dbt_project

EXPECTED = {
    "hourly": {"mv_executive_metrics", "mv_platform_performance", "mv_inventory_status"},
    "daily": {"mv_product_performance", "mv_brand_analytics", "mv_customer_geography"},
    "weekly": {"mv_supplier_performance"},
}
CRONS = {"hourly": "0 * * * *", "daily": "0 2 * * *", "weekly": "0 3 * * 1"}
ENV = {"hourly": "SOLEFLIPPER_KPI_REFRESH_HOURLY_CRON", "daily": "SOLEFLIPPER_KPI_REFRESH_DAILY_CRON",
       "weekly": "SOLEFLIPPER_KPI_REFRESH_WEEKLY_CRON"}
ALL_VIEWS = set().union(*EXPECTED.values())


def _view_keys(names) -> set[dg.AssetKey]:
    return {dg.AssetKey(["analytics", name]) for name in names}


def _selected(job_name: str) -> set[dg.AssetKey]:
    return set(defs.resolve_job_def(job_name).asset_layer.selected_asset_keys)


@pytest.mark.parametrize("cadence", ["hourly", "daily", "weekly"])
def test_each_cadence_has_a_schedule_with_its_cron_running_by_default(cadence):
    schedule = defs.resolve_schedule_def(f"refresh_kpi_views_{cadence}_schedule")
    assert schedule.cron_schedule == CRONS[cadence]
    assert schedule.execution_timezone == "UTC"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.job_name == f"refresh_kpi_views_{cadence}"
    assert ENV[cadence] in schedule.description


@pytest.mark.parametrize("cadence", ["hourly", "daily", "weekly"])
def test_each_refresh_job_selects_exactly_the_views_of_its_cadence(cadence):
    assert _selected(f"refresh_kpi_views_{cadence}") == _view_keys(EXPECTED[cadence])


def test_cadences_follow_the_dbt_yaml_and_cover_every_kpi_view_once():
    manifest = json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))
    kpi_views = {node["name"]: node["config"].get("meta", {}).get("refresh_cadence")
                 for node in manifest["nodes"].values()
                 if node["resource_type"] == "model" and node["config"].get("materialized") == "kpi_view"}
    assert set(kpi_views) == ALL_VIEWS
    for cadence in EXPECTED:
        from_yaml = {name for name, value in kpi_views.items() if value == cadence}
        assert _selected(f"refresh_kpi_views_{cadence}") == _view_keys(from_yaml)
    assert sum(len(_selected(f"refresh_kpi_views_{c}")) for c in EXPECTED) == len(ALL_VIEWS) == 7


@pytest.mark.parametrize("cadence", ["hourly", "daily", "weekly"])
def test_refresh_jobs_queue_behind_warehouse_builds(cadence):
    """dagster.yaml lets one run with this tag at a time: a refresh never overlaps a dbt build."""
    tags = defs.resolve_job_def(f"refresh_kpi_views_{cadence}").tags
    assert tags.items() >= WAREHOUSE_BUILD.items()
    assert tags["soleflipper/refresh-cadence"] == cadence


def test_env_variables_override_each_cron():
    environ = {ENV["hourly"]: "*/15 * * * *", ENV["daily"]: "30 4 * * *", ENV["weekly"]: "0 6 * * 0"}
    crons = {s.job_name: s.cron_schedule for s in refresh_schedules(environ)}
    assert crons == {"refresh_kpi_views_hourly": "*/15 * * * *", "refresh_kpi_views_daily": "30 4 * * *",
                     "refresh_kpi_views_weekly": "0 6 * * 0"}


def test_env_override_read_from_the_process_environment(monkeypatch):
    monkeypatch.setenv("SOLEFLIPPER_KPI_REFRESH_DAILY_CRON", "15 1 * * *")
    monkeypatch.delenv("SOLEFLIPPER_KPI_REFRESH_HOURLY_CRON", raising=False)
    monkeypatch.setenv("SOLEFLIPPER_KPI_REFRESH_WEEKLY_CRON", "  ")  # blank: the default
    by_job = {s.job_name: s for s in refresh_schedules()}
    assert by_job["refresh_kpi_views_daily"].cron_schedule == "15 1 * * *"
    assert "from SOLEFLIPPER_KPI_REFRESH_DAILY_CRON" in by_job["refresh_kpi_views_daily"].description
    assert by_job["refresh_kpi_views_hourly"].cron_schedule == "0 * * * *"
    assert by_job["refresh_kpi_views_weekly"].cron_schedule == "0 3 * * 1"


def test_an_invalid_cron_names_the_variable():
    [hourly] = [c for c in CADENCES if c.name == "hourly"]
    with pytest.raises(RefreshCronError, match=r"SOLEFLIPPER_KPI_REFRESH_HOURLY_CRON='every hour' is not a cron"):
        refresh_cron(hourly, {"SOLEFLIPPER_KPI_REFRESH_HOURLY_CRON": "every hour"})


# --------------------------------------------------------------------------- automation


def _kpi_specs() -> dict[dg.AssetKey, dg.AssetSpec]:
    return {spec.key: spec for spec in warehouse_dbt_models.specs}


def test_only_kpi_views_carry_an_eager_automation_condition():
    specs = _kpi_specs()
    with_condition = {key for key, spec in specs.items() if spec.automation_condition is not None}
    assert with_condition == _view_keys(ALL_VIEWS)
    for key in with_condition:
        assert specs[key].automation_condition.get_label() == "eager"


def test_automation_sensor_targets_the_kpi_views_with_the_build_tag():
    sensor = defs.resolve_sensor_def("kpi_views_after_facts_change")
    assert isinstance(sensor, dg.AutomationConditionSensorDefinition)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.run_tags.items() >= WAREHOUSE_BUILD.items()
    graph = defs.resolve_asset_graph()
    assert sensor.asset_selection.resolve(graph) == _view_keys(ALL_VIEWS)


def _materialize(instance: dg.DagsterInstance, keys) -> None:
    for key in keys:
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key))


def test_views_are_requested_after_a_fact_they_read_changes_on_its_own():
    """A fact materialized without its views (fct alone from the UI) requests exactly the views
    that read it; a run that also refreshed those views (an import job) requests nothing."""
    graph = defs.resolve_asset_graph()
    views = _view_keys(ALL_VIEWS)
    parents = {view: set(graph.get(view).parent_keys) for view in views}
    fact = dg.AssetKey(["transactions", "fct_sales"])
    readers = {view for view, keys in parents.items() if fact in keys}
    assert readers, "no KPI view reads transactions.fct_sales directly"
    assert readers < views

    instance = dg.DagsterInstance.ephemeral()
    everything = set(graph.get_all_asset_keys())
    _materialize(instance, everything)
    first = dg.evaluate_automation_conditions(defs=defs, instance=instance)
    assert first.total_requested == 0  # all up to date: nothing to do

    _materialize(instance, [fact])
    after_fact = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=first.cursor)
    requested = {r.key for r in after_fact.results if r.true_subset.size > 0}
    assert requested == readers

    # The views were refreshed (the requested run); then a build of fact + views together.
    _materialize(instance, readers)
    settled = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=after_fact.cursor)
    assert settled.total_requested == 0
    _materialize(instance, [fact, *readers])
    together = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=settled.cursor)
    assert together.total_requested == 0
