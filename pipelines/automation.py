"""Running unattended: crons from the environment, schedules that never overlap themselves, the daily
condition of forecasts and pricing, and the retry policy of API assets (issue 7, point 1).

Every cron is UTC and comes from an environment variable (blank: the default); a value that is not
a five-field cron fails the code location with the variable's name.

=======================================  ================  ====================================================================
variable                                 default           what runs
=======================================  ================  ====================================================================
``SOLEFLIPPER_KPI_REFRESH_HOURLY_CRON``  ``0 * * * *``     KPI views with refresh_cadence hourly
``SOLEFLIPPER_KPI_REFRESH_DAILY_CRON``   ``0 2 * * *``     ... daily
``SOLEFLIPPER_KPI_REFRESH_WEEKLY_CRON``  ``0 3 * * 1``     ... weekly (Monday)
``SOLEFLIPPER_SOURCE_FRESHNESS_CRON``    ``0 6 * * *``     dbt source freshness of the raw tables
``SOLEFLIPPER_WAREHOUSE_BUILD_CRON``     ``30 3 * * *``    ``build_warehouse``: every dbt model (nightly)
``SOLEFLIPPER_FORECAST_PRICING_CRON``    the build's cron  forecasts, then pricing, once every input was rebuilt after the tick
``SOLEFLIPPER_STOCKX_ORDERS_CRON``       ``0 */4 * * *``   StockX orders (today's partition) and the models downstream
``SOLEFLIPPER_STOCKX_MARKET_DATA_CRON``  ``30 */6 * * *``  StockX market data of the products in stock (today)
``SOLEFLIPPER_STOCKX_DAILY_CRON``        ``0 5 * * *``     ``sync_stockx``: sales reports, orders, catalog, market data
``SOLEFLIPPER_NOTION_SYNC_CRON``         ``*/15 * * * *``  Notion, incremental (pages edited since the cursor)
``SOLEFLIPPER_NOTION_RECONCILE_CRON``    ``0 1 * * *``     Notion, full refresh (the nightly reconciliation)
``SOLEFLIPPER_EBAY_SYNC_CRON``           ``20 */4 * * *``  ``sync_ebay``: eBay orders and Finances transactions, models downstream
``SOLEFLIPPER_ALIAS_SYNC_CRON``          ``40 */4 * * *``  ``sync_alias``: Alias orders and listings, models downstream
=======================================  ================  ====================================================================

StockX, Notion, eBay and Alias schedules exist only when the source is configured
(pipelines/definitions.py).

No overlap. Every schedule is built by :func:`guarded_schedule`: at each tick it looks at the runs
that are queued or running, and skips the tick (a ``SkipReason`` naming the run) when one of them
is of the same job or materializes any asset of the job. The automation conditions carry
``~in_progress()`` (Dagster's ``eager()`` of the KPI views already does).

No storms. Schedules launch at most one run per tick and never re-launch a failed one; run
retries stay disabled (dagster.yaml ``run_retries``); ``on_cron`` requests at most once per cron
tick whatever happens upstream. Only the assets that call an API retry a failed step, twice, with
exponential backoff and jitter (:data:`API_RETRY_POLICY`), and only for transient errors
(:func:`transient_only`): an expired login, a 4xx, a spent budget or a bug fails at once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import dagster as dg
import httpx
import psycopg
from dagster._utils.schedules import is_valid_cron_string

from resources.http_client import ApiConnectionError, ApiError, AuthError, MalformedResponse


@dataclass(frozen=True)
class CronSetting:
    name: str  # short name (the KPI cadence: meta.refresh_cadence in the dbt YAML)
    env: str  # the variable that overrides the cron
    default_cron: str
    wording: str  # for descriptions: "every hour"


class CronError(ValueError):
    """A cron variable holds something that is not a cron expression."""


def cron_from_env(setting: CronSetting, environ: Mapping[str, str] | None = None,
                  default: str | None = None) -> str:
    """The cron of a setting: its environment variable when set (and non-empty), else ``default``
    (else the setting's default)."""
    environ = os.environ if environ is None else environ
    value = (environ.get(setting.env) or "").strip()
    if not value:
        return default or setting.default_cron
    if not is_valid_cron_string(value):
        raise CronError(
            f"{setting.env}={value!r} is not a cron expression (five fields, e.g. {setting.default_cron!r})"
        )
    return value


WAREHOUSE_BUILD_CRON = CronSetting("warehouse_build", "SOLEFLIPPER_WAREHOUSE_BUILD_CRON", "30 3 * * *",
                                   "every day at 03:30 UTC")
FORECAST_PRICING_CRON = CronSetting("forecast_pricing", "SOLEFLIPPER_FORECAST_PRICING_CRON", "30 3 * * *",
                                    "every day after the nightly warehouse build")
STOCKX_ORDERS_CRON = CronSetting("stockx_orders", "SOLEFLIPPER_STOCKX_ORDERS_CRON", "0 */4 * * *",
                                 "every 4 hours")
STOCKX_MARKET_DATA_CRON = CronSetting("stockx_market_data", "SOLEFLIPPER_STOCKX_MARKET_DATA_CRON",
                                      "30 */6 * * *", "every 6 hours (at half past)")
STOCKX_DAILY_CRON = CronSetting("stockx_daily", "SOLEFLIPPER_STOCKX_DAILY_CRON", "0 5 * * *",
                                "every day at 05:00 UTC")
NOTION_SYNC_CRON = CronSetting("notion_sync", "SOLEFLIPPER_NOTION_SYNC_CRON", "*/15 * * * *",
                               "every 15 minutes")
NOTION_RECONCILE_CRON = CronSetting("notion_reconcile", "SOLEFLIPPER_NOTION_RECONCILE_CRON", "0 1 * * *",
                                    "every day at 01:00 UTC")
EBAY_SYNC_CRON = CronSetting("ebay_sync", "SOLEFLIPPER_EBAY_SYNC_CRON", "20 */4 * * *",
                             "every 4 hours (at 20 past)")
ALIAS_SYNC_CRON = CronSetting("alias_sync", "SOLEFLIPPER_ALIAS_SYNC_CRON", "40 */4 * * *",
                              "every 4 hours (at 40 past)")


def forecast_pricing_cron(environ: Mapping[str, str] | None = None) -> str:
    """The forecasts' cron: its own variable, else the nightly build's cron (so by default the tick
    and the build coincide and the build's models count as updated since the tick)."""
    return cron_from_env(FORECAST_PRICING_CRON, environ, default=cron_from_env(WAREHOUSE_BUILD_CRON, environ))


# --------------------------------------------------------------------------- no overlapping runs

# Runs that hold or will hold their assets: a tick is skipped while one of them touches the job's.
IN_FLIGHT = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
IN_FLIGHT_LIMIT = 200


def _job_asset_keys(repository_def: dg.RepositoryDefinition | None, job_name: str) -> set[dg.AssetKey]:
    if repository_def is None or not repository_def.has_job(job_name):
        return set()
    return set(repository_def.get_job(job_name).asset_layer.selected_asset_keys)


def runs_in_the_way(instance: dg.DagsterInstance, job_name: str,
                    repository_def: dg.RepositoryDefinition | None = None) -> list[dg.DagsterRun]:
    """Queued or running runs of ``job_name``, or of any job (or asset selection) that materializes
    one of its assets; newest first."""
    keys = _job_asset_keys(repository_def, job_name)
    records = instance.get_run_records(dg.RunsFilter(statuses=IN_FLIGHT), limit=IN_FLIGHT_LIMIT)
    blocking = []
    for record in records:
        run = record.dagster_run
        if run.job_name == job_name:
            blocking.append(run)
            continue
        touched = set(run.asset_selection) if run.asset_selection else _job_asset_keys(repository_def,
                                                                                      run.job_name)
        if keys & touched:
            blocking.append(run)
    return blocking


def _skip_reason(job_name: str, run: dg.DagsterRun) -> dg.SkipReason:
    what = "a run of this job" if run.job_name == job_name else f"run of {run.job_name}, which shares assets,"
    return dg.SkipReason(f"{what} {run.run_id} is {run.status.value.lower()}: skipping this tick so two runs "
                         "never materialize the same assets; the next tick runs as usual")


def today_partition(when: datetime | None) -> str:
    """The UTC day of a tick as a daily partition key (``2026-12-07``)."""
    return (when or datetime.now(UTC)).astimezone(UTC).date().isoformat()


def guarded_schedule(
    *,
    name: str,
    job: dg.UnresolvedAssetJobDefinition,
    setting: CronSetting,
    environ: Mapping[str, str] | None = None,
    default_status: dg.DefaultScheduleStatus = dg.DefaultScheduleStatus.RUNNING,
    description: str = "",
    partition_key: Callable[[datetime | None], str] | None = None,
) -> dg.ScheduleDefinition:
    """``job`` on the setting's cron (UTC): one run per tick, none while a run touching the same
    assets is queued or running. ``partition_key`` maps the tick's time to the run's partition."""
    cron = cron_from_env(setting, environ)
    origin = "default" if cron == setting.default_cron else f"from {setting.env}"
    job_name = job.name

    def evaluate(context: dg.ScheduleEvaluationContext):
        in_the_way = runs_in_the_way(context.instance, job_name, context.repository_def)
        if in_the_way:
            return _skip_reason(job_name, in_the_way[0])
        key = partition_key(context.scheduled_execution_time) if partition_key else None
        return dg.RunRequest(partition_key=key)

    return dg.ScheduleDefinition(
        name=name,
        job=job,
        cron_schedule=cron,
        execution_timezone="UTC",
        execution_fn=evaluate,
        default_status=default_status,
        description=(f"{description} {setting.wording.capitalize()}: cron {cron!r} UTC ({origin}). Set {setting.env} "
                     "to change it. A tick is skipped while a run touching the same assets is queued or running."
                     ).strip(),
    )


# --------------------------------------------------------------------------- daily after the inputs


def daily_after_inputs(cron: str) -> dg.AutomationCondition:
    """Dagster's ``on_cron``: once per tick of ``cron``, as soon as every input was updated since the
    tick (or is requested in the same evaluation: forecasts, then pricing, in one run), and never
    while the asset is already being materialized."""
    return (dg.AutomationCondition.on_cron(cron, "UTC") & ~dg.AutomationCondition.in_progress()).with_label(
        f"daily after its inputs ({cron} UTC)")


def forecast_pricing_condition(environ: Mapping[str, str] | None = None) -> dg.AutomationCondition:
    return daily_after_inputs(forecast_pricing_cron(environ))


def condition_labels(condition: dg.AutomationCondition) -> list[str]:
    """Every node of a condition tree, as ``name`` or ``NOT(name)`` (for tests and docs)."""
    out: list[str] = []

    def walk(node: dg.AutomationCondition, negated: bool) -> None:
        children: Sequence[dg.AutomationCondition] = node.children
        is_not = type(node).__name__ == "NotAutomationCondition"
        label = node.get_label() or node.name
        if not is_not:
            out.append(f"NOT({label})" if negated else label)
        for child in children:
            walk(child, is_not)

    walk(condition, False)
    return out


# --------------------------------------------------------------------------- retries of API assets

API_RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=60, backoff=dg.Backoff.EXPONENTIAL,
                                  jitter=dg.Jitter.PLUS_MINUS)
"""Two more attempts of a step that failed on a transient error, ~1 and ~2 minutes later."""


def is_transient(exc: BaseException | None) -> bool:
    """Worth retrying later: no answer, 408/429/5xx after the client's own retries, a truncated body,
    a dropped database connection. Never: a rejected login, another 4xx, a spent budget, a bug."""
    if exc is None:
        return False
    if isinstance(exc, AuthError):
        return False
    if isinstance(exc, ApiError):
        return exc.status in (408, 425, 429) or exc.status >= 500
    return isinstance(exc, ApiConnectionError | MalformedResponse | httpx.TransportError | psycopg.OperationalError)


@contextmanager
def transient_only() -> Iterator[None]:
    """Let transient errors through (the step's RetryPolicy retries them); turn any other error into
    a ``Failure(allow_retries=False)``, so retrying cannot hammer an API that already said no."""
    try:
        yield
    except dg.Failure:
        raise
    except Exception as exc:
        if is_transient(exc):
            raise
        raise dg.Failure(description=f"{type(exc).__name__}: {exc} (not retried: not a transient error)",
                         allow_retries=False) from exc
