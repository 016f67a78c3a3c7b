"""The run-failure alert sensor on real failed runs (dg.instance_for_test), a real webhook receiver
(simulators.webhook) and the cooldown table in a real warehouse database."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg
import pytest

from sensors.run_failure_alert import failure_from_context, run_failure_alert_sensor
from simulators.webhook import WebhookSimulator
from soleflipper.alerts import CooldownState, CooldownStore, alert_on_failure

FAKE_SECRET = "sf-fake-notion-token-7f3a9c"
DB_PASSWORD = "pw-in-url-31337"


@dg.asset(group_name="stockx")
def orders_to_fail() -> None:
    raise RuntimeError(
        f"StockX said 401 for token {FAKE_SECRET} via postgresql://sf:{DB_PASSWORD}@db:5432/soleflipper\n"
        "Traceback details on the second line"
    )


@dg.asset(group_name="stockx", deps=[orders_to_fail])
def downstream_of_failure() -> None:
    return None


JOB = dg.define_asset_job("sync_stockx_test", selection=[orders_to_fail, downstream_of_failure])
DEFS = dg.Definitions(assets=[orders_to_fail, downstream_of_failure], jobs=[JOB])


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


@pytest.fixture
def env(monkeypatch, database_url):
    monkeypatch.setenv("SOLEFLIPPER_DATABASE_URL", database_url)
    monkeypatch.setenv("SOLEFLIPPER_NOTION_TOKEN", FAKE_SECRET)
    monkeypatch.delenv("SOLEFLIPPER_ALERT_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("SOLEFLIPPER_DAGSTER_UI_URL", raising=False)
    monkeypatch.delenv("SOLEFLIPPER_ALERT_COOLDOWN_MINUTES", raising=False)
    return monkeypatch


def _fail(instance: dg.DagsterInstance):
    """Run the failing job; the sensor context for its failure, and its end time."""
    result = DEFS.resolve_job_def(JOB.name).execute_in_process(instance=instance, raise_on_error=False)
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    [record] = instance.get_records_for_run(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert", dagster_instance=instance, dagster_run=run,
        dagster_event=record.event_log_entry.dagster_event,
    ).for_run_failure()
    ended = datetime.fromtimestamp(instance.get_run_record_by_id(result.run_id).end_time, UTC)
    return context, ended


def _expected(run_id: str, ended: datetime, note: str | None = None) -> dict:
    url = f"http://127.0.0.1:3000/runs/{run_id}"
    error = "StockX said 401 for token *** via postgresql://sf:***@db:5432/soleflipper"
    text = [f":red_circle: SoleFlipper job sync_stockx_test failed at {ended.strftime('%Y-%m-%d %H:%M:%S')} UTC",
            "Failed steps: orders_to_fail", "Assets: orders_to_fail", f"Error: RuntimeError: {error}"]
    return {
        "text": "\n".join([*text, *([note] if note else []), f"Run {run_id}: {url}"]),
        "job": "sync_stockx_test",
        "run_id": run_id,
        "failed_at": ended.isoformat(),
        "failed_steps": ["orders_to_fail"],
        "asset_keys": ["orders_to_fail"],
        "error_class": "RuntimeError",
        "error": error,
        "run_url": url,
        "note": note,
    }


def test_sensor_definition_runs_by_default_and_watches_every_job():
    assert run_failure_alert_sensor.name == "run_failure_alert"
    assert run_failure_alert_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert isinstance(run_failure_alert_sensor, dg.RunStatusSensorDefinition)
    # No monitored_jobs: every job of the code location this sensor is defined in (Dagster's default).
    assert not run_failure_alert_sensor._monitored_jobs
    assert run_failure_alert_sensor._monitor_all_code_locations is False
    assert run_failure_alert_sensor._run_status == dg.DagsterRunStatus.FAILURE


def test_failed_run_posts_one_exact_scrubbed_alert(env, instance, database_url):
    context, ended = _fail(instance)
    failure = failure_from_context(context)
    assert failure.failed_steps == ("orders_to_fail",) and failure.error_class == "RuntimeError"
    with WebhookSimulator() as hook:
        hook_url = hook.url("/services/T0/B0/hook-secret-path")
        env.setenv("SOLEFLIPPER_ALERT_WEBHOOK_URL", hook_url)
        run_failure_alert_sensor(context)
        [posted] = hook.posted
        [request] = hook.requests
    assert request.path == "/services/T0/B0/hook-secret-path"
    assert posted == _expected(context.dagster_run.run_id, ended)
    raw = request.body.decode()
    for secret in (FAKE_SECRET, DB_PASSWORD, "hook-secret-path"):
        assert secret not in raw
    with psycopg.connect(database_url) as conn:
        assert conn.execute("select job_name, last_alert_at, suppressed, suppressed_since "
                            "from ops.alert_cooldown").fetchall() == [("sync_stockx_test", ended, 0, None)]


class ListHandler(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def test_log_fallback_when_no_webhook_or_the_webhook_fails(env, instance, caplog):
    context, ended = _fail(instance)
    expected_text = _expected(context.dagster_run.run_id, ended)["text"]
    errors: list[str] = []
    outcome = alert_on_failure(failure_from_context(context), environ={"SOLEFLIPPER_NOTION_TOKEN": FAKE_SECRET},
                               log_error=errors.append)
    assert outcome.action == "logged"
    assert errors == [expected_text + "\n(alert not sent: SOLEFLIPPER_ALERT_WEBHOOK_URL is not set)"]

    # Through the sensor and context.log: a webhook answering 500 twice (one retry), then the log.
    context, ended = _fail(instance)
    env.setenv("SOLEFLIPPER_ALERT_COOLDOWN_MINUTES", "0")
    with WebhookSimulator() as hook:
        env.setenv("SOLEFLIPPER_ALERT_WEBHOOK_URL", hook.url("/webhook/n8n-secret-id"))
        hook.inject("status:500", times=2)
        handler = ListHandler()
        context.log.addHandler(handler)  # the sensor's own logger (context.log)
        with caplog.at_level(logging.DEBUG):  # and everything else, httpx included
            run_failure_alert_sensor(context)
        assert len(hook.requests) == 2 and hook.posted == []
    logged = [r.getMessage() for r in handler.records if r.levelno == logging.ERROR]
    expected = _expected(context.dagster_run.run_id, ended)["text"] + "\n(alert webhook failed: HTTP 500; HTTP 500)"
    assert logged == [expected]
    everything = "\n".join(r.getMessage() for r in [*handler.records, *caplog.records])
    for secret in (FAKE_SECRET, DB_PASSWORD, "n8n-secret-id"):
        assert secret not in everything


def test_repeated_failures_collapse_within_the_cooldown(env, instance, database_url):
    with WebhookSimulator() as hook:
        env.setenv("SOLEFLIPPER_ALERT_WEBHOOK_URL", hook.url("/hook"))
        first, first_end = _fail(instance)
        run_failure_alert_sensor(first)
        second, second_end = _fail(instance)
        run_failure_alert_sensor(second)
        third, _ = _fail(instance)
        run_failure_alert_sensor(third)
        assert [p["run_id"] for p in hook.posted] == [first.dagster_run.run_id]
        store = CooldownStore(database_url)
        assert store.state("sync_stockx_test") == CooldownState(first_end, 2, second_end)

        # The next failure after the cooldown is sent with the count of those collapsed.
        later = failure_from_context(third)
        later = type(later)(**{**later.__dict__, "failed_at": first_end + timedelta(minutes=30)})
        outcome = alert_on_failure(later, environ={"SOLEFLIPPER_ALERT_WEBHOOK_URL": hook.url("/hook"),
                                                   "SOLEFLIPPER_NOTION_TOKEN": FAKE_SECRET},
                                   log_error=pytest.fail, cooldown_store=store)
        assert outcome.action == "sent"
        note = (f"2 more failures of job sync_stockx_test since {second_end.strftime('%Y-%m-%d %H:%M:%S')} UTC "
                "(collapsed by the 30-minute alert cooldown)")
        assert hook.posted[-1] == _expected(third.dagster_run.run_id, first_end + timedelta(minutes=30), note)
        assert len(hook.posted) == 2
    assert store.state("sync_stockx_test") == CooldownState(first_end + timedelta(minutes=30), 0, None)


def test_unreachable_warehouse_still_alerts(env, instance):
    env.setenv("SOLEFLIPPER_DATABASE_URL", "postgresql://nobody:pw-unused-1@127.0.0.1:1/none")
    context, ended = _fail(instance)
    with WebhookSimulator() as hook:
        env.setenv("SOLEFLIPPER_ALERT_WEBHOOK_URL", hook.url("/hook"))
        run_failure_alert_sensor(context)
        assert hook.posted == [_expected(context.dagster_run.run_id, ended)]


def test_run_that_failed_outside_any_step_is_alerted_with_dagster_message(env, instance):
    """A run marked failed from outside (worker lost, launch error): no step failed, no error class."""
    run = instance.create_run_for_job(DEFS.resolve_job_def(JOB.name))
    event = instance.report_run_failed(run, message=f"Run worker lost; connection used token {FAKE_SECRET}")
    context = dg.build_run_status_sensor_context(
        sensor_name="run_failure_alert", dagster_instance=instance, dagster_run=instance.get_run_by_id(run.run_id),
        dagster_event=event,
    ).for_run_failure()
    failure = failure_from_context(context)
    assert (failure.failed_steps, failure.asset_keys, failure.error_class) == ((), (), None)
    with WebhookSimulator() as hook:
        env.setenv("SOLEFLIPPER_ALERT_WEBHOOK_URL", hook.url("/hook"))
        run_failure_alert_sensor(context)
        [posted] = hook.posted
    assert posted["error"] == "Run worker lost; connection used token ***"
    assert posted["text"].splitlines()[1:] == [
        "Error: Run worker lost; connection used token ***",
        f"Run {run.run_id}: http://127.0.0.1:3000/runs/{run.run_id}",
    ]
