"""The run-failure sensor: one alert per failed run of any job in this code location.

Thin: it turns Dagster's failure events into a :class:`soleflipper.alerts.Failure` and hands it
to :func:`soleflipper.alerts.alert_on_failure` (webhook, log fallback, scrubbing, cooldown).
Running by default; the sensor's own cursor makes each failed run alert exactly once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime

import dagster as dg

from soleflipper.alerts import CooldownStore, Failure, Outcome, alert_on_failure, failure_from_errors
from soleflipper.settings import load_settings

SENSOR_NAME = "run_failure_alert"


def _root_error(error):
    """The user's exception behind Dagster's wrapper (DagsterExecutionStepExecutionError ...)."""
    while error is not None and error.cls_name and error.cls_name.startswith("Dagster") and error.cause is not None:
        error = error.cause
    return error


def _message(error) -> str | None:
    """The exception message without the ``[module.]ClassName: `` prefix Dagster's error info carries."""
    if error is None:
        return None
    message = error.message or ""
    return re.sub(rf"^(?:[\w]+\.)*{re.escape(error.cls_name or '')}: ?", "", message, count=1).strip()


def failure_from_context(context: dg.RunFailureSensorContext) -> Failure:
    """Job, run id, failed steps, their assets and the first error of a failed run."""
    run = context.dagster_run
    step_events = context.get_step_failure_events()
    steps = [event.step_key for event in step_events if event.step_key]
    errors = [event.event_specific_data.error for event in step_events
              if getattr(event.event_specific_data, "error", None) is not None]
    if not errors and getattr(context.failure_event.event_specific_data, "error", None) is not None:
        errors = [context.failure_event.event_specific_data.error]
    error = _root_error(errors[0]) if errors else None
    asset_keys: list[str] = []
    if steps and run.execution_plan_snapshot_id:
        snapshot = context.instance.get_execution_plan_snapshot(run.execution_plan_snapshot_id)
        by_step = {step.key: step for step in snapshot.steps}
        for key in steps:
            for output in getattr(by_step.get(key), "outputs", ()):
                asset_key = output.properties.asset_key if output.properties else None
                if asset_key is not None:
                    asset_keys.append(asset_key.to_user_string())
    record = context.instance.get_run_record_by_id(run.run_id)
    failed_at = (record.end_time and datetime.fromtimestamp(record.end_time, UTC)) if record else None
    return failure_from_errors(
        job=run.job_name,
        run_id=run.run_id,
        failed_at=failed_at or datetime.now(UTC),
        steps=steps,
        asset_keys=asset_keys,
        error_class=error.cls_name if error is not None else None,
        error_message=_message(error) if error is not None else context.failure_event.message,
    )


def alert(context: dg.RunFailureSensorContext, environ: Mapping[str, str] | None = None,
          cooldown_store: CooldownStore | None = None) -> Outcome:
    """Alert about the run in ``context`` (the sensor's body, callable from tests)."""
    env = os.environ if environ is None else environ
    store = cooldown_store or CooldownStore(load_settings().warehouse_url)
    return alert_on_failure(failure_from_context(context), environ=env, log_error=context.log.error,
                            log_info=context.log.info, log_warning=context.log.warning, cooldown_store=store)


@dg.run_failure_sensor(
    name=SENSOR_NAME,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Alerts SOLEFLIPPER_ALERT_WEBHOOK_URL (Slack/n8n JSON) about every failed run, else logs the "
                "alert; no secrets; repeated failures of a job within SOLEFLIPPER_ALERT_COOLDOWN_MINUTES collapse.",
)
def run_failure_alert_sensor(context: dg.RunFailureSensorContext) -> None:
    alert(context)
