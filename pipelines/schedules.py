"""KPI view refresh cadences: schedules over the `analytics` materialized views (issue 5, point 3).

Every KPI view declares how often Metabase needs it fresh in its dbt YAML
(``config.meta.refresh_cadence: hourly | daily | weekly``). Each cadence is one job that selects
exactly the views of that cadence with dbt's own selector (``config.meta.refresh_cadence:hourly``),
so a view moves between cadences by editing its YAML only. The job runs ``dbt build`` for those
views: the ``kpi_view`` materialization refreshes them CONCURRENTLY (Metabase keeps reading the old
rows until the refresh commits) and runs their tests.

The cadences (cron, UTC) come from the environment, in the style of :mod:`soleflipper.settings`:

==========================================  ===============  ===============================
variable                                    default          meaning
==========================================  ===============  ===============================
``SOLEFLIPPER_KPI_REFRESH_HOURLY_CRON``     ``0 * * * *``    views with refresh_cadence hourly
``SOLEFLIPPER_KPI_REFRESH_DAILY_CRON``      ``0 2 * * *``    ... daily (02:00 UTC)
``SOLEFLIPPER_KPI_REFRESH_WEEKLY_CRON``     ``0 3 * * 1``    ... weekly (Monday 03:00 UTC)
``SOLEFLIPPER_SOURCE_FRESHNESS_CRON``       ``0 6 * * *``    dbt source freshness of the raw tables
==========================================  ===============  ===============================

Refresh jobs carry the warehouse-build tag, so dagster.yaml's tag concurrency limit queues them
behind (never beside) an import or full build. Between schedule ticks, a view is also refreshed
whenever the facts it reads change: import and build jobs select everything downstream of what
they load (the views included), and the views' eager automation condition (assets/dbt.py) covers
a fact materialized on its own, e.g. from the UI.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import dagster as dg
from dagster._utils.schedules import is_valid_cron_string
from dagster_dbt import build_dbt_asset_selection

from assets.dbt import KPI_VIEWS_DBT_SELECT, warehouse_dbt_models
from pipelines.jobs import WAREHOUSE_BUILD


@dataclass(frozen=True)
class Cadence:
    name: str  # the value of meta.refresh_cadence in the dbt YAML
    env: str  # the variable that overrides the cron
    default_cron: str
    wording: str  # for descriptions: "every hour"


CADENCES = (
    Cadence("hourly", "SOLEFLIPPER_KPI_REFRESH_HOURLY_CRON", "0 * * * *", "every hour"),
    Cadence("daily", "SOLEFLIPPER_KPI_REFRESH_DAILY_CRON", "0 2 * * *", "every day at 02:00 UTC"),
    Cadence("weekly", "SOLEFLIPPER_KPI_REFRESH_WEEKLY_CRON", "0 3 * * 1", "every Monday at 03:00 UTC"),
)


class RefreshCronError(ValueError):
    """A cadence variable holds something that is not a cron expression."""


def refresh_cron(cadence: Cadence, environ: Mapping[str, str] | None = None) -> str:
    """The cron for a cadence: its environment variable when set (and non-empty), else the default."""
    environ = os.environ if environ is None else environ
    value = (environ.get(cadence.env) or "").strip()
    if not value:
        return cadence.default_cron
    if not is_valid_cron_string(value):
        raise RefreshCronError(
            f"{cadence.env}={value!r} is not a cron expression (five fields, e.g. {cadence.default_cron!r})"
        )
    return value


def kpi_view_selection(cadence: str) -> dg.AssetSelection:
    """The KPI views whose dbt meta.refresh_cadence is `cadence` (dbt's selector, not a name list)."""
    return build_dbt_asset_selection([warehouse_dbt_models], dbt_select=f"config.meta.refresh_cadence:{cadence}")


def refresh_job(cadence: Cadence) -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        name=f"refresh_kpi_views_{cadence.name}",
        selection=kpi_view_selection(cadence.name),
        description=(
            f"Refresh the KPI views with refresh_cadence {cadence.name} (REFRESH MATERIALIZED VIEW "
            "CONCURRENTLY: dashboards keep reading during the refresh) and run their tests."
        ),
        tags={**WAREHOUSE_BUILD, "soleflipper/refresh-cadence": cadence.name},
    )


def refresh_schedule(cadence: Cadence, job: dg.UnresolvedAssetJobDefinition,
                     environ: Mapping[str, str] | None = None) -> dg.ScheduleDefinition:
    """``<job>_schedule``: the job on the cadence's cron (UTC), running by default."""
    cron = refresh_cron(cadence, environ)
    default = " (default)" if cron == cadence.default_cron else f" (from {cadence.env})"
    return dg.ScheduleDefinition(
        name=f"{job.name}_schedule",
        job=job,
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=f"{cadence.wording.capitalize()}: cron {cron!r} UTC{default}. Set {cadence.env} to change it.",
    )


refresh_jobs = {cadence.name: refresh_job(cadence) for cadence in CADENCES}


def refresh_schedules(environ: Mapping[str, str] | None = None) -> list[dg.ScheduleDefinition]:
    """One schedule per cadence, crons read from `environ` (the process environment by default)."""
    return [refresh_schedule(cadence, refresh_jobs[cadence.name], environ) for cadence in CADENCES]


# dbt source freshness (assets/checks_freshness.py) once a day, besides after every import.
SOURCE_FRESHNESS = Cadence("source_freshness", "SOLEFLIPPER_SOURCE_FRESHNESS_CRON", "0 6 * * *",
                           "every day at 06:00 UTC")


def source_freshness_schedule(checks: list[dg.AssetChecksDefinition],
                              environ: Mapping[str, str] | None = None) -> tuple[dg.UnresolvedAssetJobDefinition,
                                                                                 dg.ScheduleDefinition]:
    """A job that runs only the source freshness checks, and its daily schedule."""
    job = dg.define_asset_job(
        name="check_source_freshness",
        selection=dg.AssetSelection.checks(*checks),
        description="dbt source freshness of every raw table, reported as the raw assets' checks.",
    )
    return job, refresh_schedule(SOURCE_FRESHNESS, job, environ)


# The daemon launches the KPI views' automation (eager: after the facts they read change) with the
# warehouse-build tag too, so an automated refresh also waits for a running build.
kpi_view_automation_sensor = dg.AutomationConditionSensorDefinition(
    "kpi_views_after_facts_change",
    target=build_dbt_asset_selection([warehouse_dbt_models], dbt_select=KPI_VIEWS_DBT_SELECT),
    run_tags=WAREHOUSE_BUILD,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Refreshes a KPI view when a fact it reads was materialized without it (e.g. from the UI).",
)
