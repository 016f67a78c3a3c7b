"""Run-failure alerts: what the message says, where it goes, what it never contains, how often.

Plain Python (no Dagster); ``sensors/run_failure_alert.py`` turns a failed run into a
:class:`Failure` and calls :func:`alert_on_failure`.

* **Where.** A JSON POST to ``SOLEFLIPPER_ALERT_WEBHOOK_URL`` (Slack incoming webhooks and n8n
  webhook nodes both read the ``text`` field; the other fields are for n8n or any other
  receiver). One retry on a timeout, a connection error or a non-2xx answer; after that, or
  when no URL is set, the same text goes to the log (``log_fallback``). The webhook URL can hold
  a secret (Slack puts the token in the path), so it is never logged nor put in a message.
* **No secret.** Every text field goes through :func:`scrub`: values of environment variables
  whose names say they are secret, URL passwords (``user:pass@``), ``Bearer`` tokens,
  ``token=``-style query parameters and Slack webhook paths become ``***``.
* **No storm.** The sensor's cursor alerts once per failed run. Failures of the same job within
  ``SOLEFLIPPER_ALERT_COOLDOWN_MINUTES`` (default 30) of the last alert for that job are not
  sent: they are counted in ``ops.alert_cooldown`` and the next alert for that job (after the
  cooldown) says "N more failures of job X since ...". If the warehouse cannot be reached the
  alert is sent anyway (an alert about a broken warehouse must not depend on it).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

# httpx logs every request URL at INFO: a Slack webhook URL is a secret, keep them quiet (as
# resources/http_client.py does for the API clients).
for _noisy in ("httpx", "httpcore"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)

WEBHOOK_URL_ENV = "SOLEFLIPPER_ALERT_WEBHOOK_URL"
UI_URL_ENV = "SOLEFLIPPER_DAGSTER_UI_URL"
COOLDOWN_ENV = "SOLEFLIPPER_ALERT_COOLDOWN_MINUTES"
DEFAULT_UI_URL = "http://127.0.0.1:3000"
DEFAULT_COOLDOWN_MINUTES = 30.0
WEBHOOK_TIMEOUT_SECONDS = 5.0

# An environment variable is secret when its name contains one of these (API_KEY contains KEY).
SECRET_NAME_PARTS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL")
# Values shorter than this are not scrubbed by value (a KEY=1 flag would turn every "1" into
# ***); secrets are long, and the patterns below catch URL passwords of any length.
MIN_SECRET_LENGTH = 6
MASK = "***"

_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/?#@]*:)(?P<secret>[^\s@/?#]+)(?=@)")
# "Bearer <token>" anywhere; Basic/Token credentials only in an Authorization header ("Token
# expired" in an error message is prose, not a credential).
_BEARER = re.compile(
    r"(?P<head>(?:\bAuthorization[\"']?\s*[:=]\s*[\"']?(?:Bearer|Basic|Token)|\bBearer)\s+)(?P<secret>[A-Za-z0-9\-._~+/=]{4,})",
    re.IGNORECASE,
)
_SECRET_PARAM = re.compile(
    r"(?P<head>\b(?:access_token|refresh_token|id_token|token|api[_-]?key|apikey|client_secret|secret|password|"
    r"passwd|pwd)[\"']?\s*[=:]\s*[\"']?)(?P<secret>[^\s&\"',;]{4,})",
    re.IGNORECASE,
)
_SLACK_HOOK = re.compile(r"(?P<head>hooks\.slack\.com/(?:services|workflows|triggers)/)(?P<secret>[^\s\"'<>]+)")


def secret_values(environ: Mapping[str, str], extra: Iterable[str | None] = ()) -> list[str]:
    """Values of the variables whose names mark them secret (plus ``extra``), longest first."""
    values = {
        value.strip()
        for name, value in environ.items()
        if value and any(part in name.upper() for part in SECRET_NAME_PARTS)
    }
    values.update(v.strip() for v in extra if v)
    return sorted((v for v in values if len(v) >= MIN_SECRET_LENGTH), key=len, reverse=True)


def scrub(text: str, environ: Mapping[str, str], extra_secrets: Iterable[str | None] = ()) -> str:
    """``text`` with everything that looks like a secret replaced by ``***``.

    Secret environment values (names containing TOKEN, SECRET, PASSWORD, KEY, ...) and
    ``extra_secrets`` are replaced wherever they appear, longest first; then URL passwords
    (``scheme://user:***@host``), ``Bearer``/``Basic``/``Token`` credentials, ``token=``,
    ``api_key:``, ``password=``-style parameters and Slack webhook paths."""
    if not text:
        return text
    for value in secret_values(environ, extra_secrets):
        text = text.replace(value, MASK)
    for pattern in (_URL_PASSWORD, _BEARER, _SECRET_PARAM, _SLACK_HOOK):
        text = pattern.sub(lambda m: m.group("head") + MASK if m.group("secret") != MASK else m.group(0), text)
    return text


# --------------------------------------------------------------------------- the message


@dataclass(frozen=True)
class Failure:
    """One failed run, as the alert reports it (built by the sensor from Dagster's events)."""

    job: str
    run_id: str
    failed_at: datetime
    failed_steps: tuple[str, ...] = ()
    asset_keys: tuple[str, ...] = ()
    error_class: str | None = None
    error_message: str | None = None
    """The whole error message; the alert keeps its first line only."""


def first_line(message: str | None) -> str:
    """The first non-blank line, stripped."""
    for line in (message or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def run_url(ui_url: str, run_id: str) -> str:
    return f"{ui_url.rstrip('/')}/runs/{run_id}"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def build_alert(failure: Failure, *, ui_url: str = DEFAULT_UI_URL, note: str | None = None) -> dict[str, Any]:
    """The webhook body: Slack's ``text`` plus the same facts as fields (not yet scrubbed)."""
    error = first_line(failure.error_message)
    url = run_url(ui_url, failure.run_id)
    lines = [f":red_circle: SoleFlipper job {failure.job} failed at {_stamp(failure.failed_at)}"]
    if failure.failed_steps:
        lines.append("Failed steps: " + ", ".join(failure.failed_steps))
    if failure.asset_keys:
        lines.append("Assets: " + ", ".join(failure.asset_keys))
    if failure.error_class or error:
        lines.append("Error: " + ": ".join(part for part in (failure.error_class, error) if part))
    if note:
        lines.append(note)
    lines.append(f"Run {failure.run_id}: {url}")
    return {
        "text": "\n".join(lines),
        "job": failure.job,
        "run_id": failure.run_id,
        "failed_at": failure.failed_at.astimezone(UTC).isoformat(),
        "failed_steps": list(failure.failed_steps),
        "asset_keys": list(failure.asset_keys),
        "error_class": failure.error_class,
        "error": error or None,
        "run_url": url,
        "note": note,
    }


def scrub_alert(body: Mapping[str, Any], environ: Mapping[str, str], extra_secrets: Iterable[str | None] = ()) -> dict:
    """Every string (also inside lists) of ``body`` through :func:`scrub`."""
    extra = list(extra_secrets)

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return scrub(value, environ, extra)
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value

    return {key: clean(value) for key, value in body.items()}


# --------------------------------------------------------------------------- cooldown


@dataclass(frozen=True)
class CooldownState:
    """Per job: when the last alert went out, and the failures collapsed since."""

    last_alert_at: datetime | None = None
    suppressed: int = 0
    suppressed_since: datetime | None = None


@dataclass(frozen=True)
class Decision:
    send: bool
    note: str | None
    state: CooldownState


def decide(job: str, state: CooldownState | None, now: datetime, cooldown: timedelta) -> Decision:
    """Send or collapse this failure of ``job``, and the job's state afterwards.

    Within ``cooldown`` of the last alert the failure is only counted. The first failure after
    the cooldown is sent with a note counting the ones collapsed since the first of them."""
    state = state or CooldownState()
    if state.last_alert_at is not None and now - state.last_alert_at < cooldown:
        return Decision(False, None, replace(state, suppressed=state.suppressed + 1,
                                             suppressed_since=state.suppressed_since or now))
    note = None
    if state.suppressed:
        plural = "failure" if state.suppressed == 1 else "failures"
        note = (f"{state.suppressed} more {plural} of job {job} since {_stamp(state.suppressed_since or now)} "
                f"(collapsed by the {_minutes(cooldown)}-minute alert cooldown)")
    return Decision(True, note, CooldownState(last_alert_at=now))


def _minutes(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 60:g}"


def cooldown_from_env(environ: Mapping[str, str]) -> timedelta:
    raw = (environ.get(COOLDOWN_ENV) or "").strip()
    try:
        minutes = float(raw) if raw else DEFAULT_COOLDOWN_MINUTES
    except ValueError:
        minutes = DEFAULT_COOLDOWN_MINUTES
    return timedelta(minutes=max(minutes, 0.0))


COOLDOWN_DDL = """
create schema if not exists ops;
create table if not exists ops.alert_cooldown (
    job_name text primary key,
    last_alert_at timestamptz,
    suppressed integer not null default 0,
    suppressed_since timestamptz
);
"""


class CooldownStore:
    """Per-job cooldown state in the warehouse (``ops.alert_cooldown``), read and written in one
    transaction so two sensor evaluations cannot both send."""

    def __init__(self, database_url: str, connect_timeout: int = 5) -> None:
        self.database_url = database_url
        self.connect_timeout = connect_timeout

    def apply(self, job: str, now: datetime, cooldown: timedelta) -> Decision:
        import psycopg

        with psycopg.connect(self.database_url, connect_timeout=self.connect_timeout) as conn:
            conn.execute("select pg_advisory_xact_lock(hashtext('soleflipper.ops_ddl'))")
            conn.execute(COOLDOWN_DDL)
            conn.commit()
            row = conn.execute(
                "select last_alert_at, suppressed, suppressed_since from ops.alert_cooldown where job_name = %s "
                "for update", (job,)).fetchone()
            decision = decide(job, CooldownState(*row) if row else None, now, cooldown)
            s = decision.state
            conn.execute(
                "insert into ops.alert_cooldown (job_name, last_alert_at, suppressed, suppressed_since) "
                "values (%s, %s, %s, %s) on conflict (job_name) do update set last_alert_at = excluded.last_alert_at,"
                " suppressed = excluded.suppressed, suppressed_since = excluded.suppressed_since",
                (job, s.last_alert_at, s.suppressed, s.suppressed_since))
        return decision

    def state(self, job: str) -> CooldownState | None:
        import psycopg

        with psycopg.connect(self.database_url, connect_timeout=self.connect_timeout) as conn:
            exists = conn.execute("select to_regclass('ops.alert_cooldown') is not null").fetchone()[0]
            if not exists:
                return None
            row = conn.execute("select last_alert_at, suppressed, suppressed_since from ops.alert_cooldown "
                               "where job_name = %s", (job,)).fetchone()
        return CooldownState(*row) if row else None


# --------------------------------------------------------------------------- delivery


@dataclass
class Delivery:
    """What happened to one alert: ``sent`` (2xx), or why not, per attempt (never the URL)."""

    sent: bool
    attempts: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        return "; ".join(self.attempts)


def post_webhook(url: str, body: Mapping[str, Any], *, timeout: float = WEBHOOK_TIMEOUT_SECONDS,
                 attempts: int = 2, retry_wait: float = 1.0,
                 transport: httpx.BaseTransport | None = None) -> Delivery:
    """POST ``body`` as JSON; retried once on a timeout, connection error or non-2xx answer.

    The outcome names status codes and exception classes only: httpx's messages can include the
    URL, and a Slack webhook URL is itself a secret."""
    delivery = Delivery(sent=False)
    with httpx.Client(timeout=timeout, transport=transport, follow_redirects=False) as client:
        for attempt in range(attempts):
            if attempt:
                time.sleep(retry_wait)
            try:
                response = client.post(url, json=body)
            except httpx.TimeoutException as exc:
                delivery.attempts.append(f"timeout ({type(exc).__name__})")
                continue
            except httpx.HTTPError as exc:
                delivery.attempts.append(f"request failed ({type(exc).__name__})")
                continue
            if 200 <= response.status_code < 300:
                delivery.sent = True
                delivery.attempts.append(f"HTTP {response.status_code}")
                return delivery
            delivery.attempts.append(f"HTTP {response.status_code}")
    return delivery


@dataclass
class Outcome:
    """What :func:`alert_on_failure` did: ``sent``, ``logged`` (fallback) or ``collapsed``."""

    action: str
    body: dict[str, Any] | None = None
    detail: str = ""


def alert_on_failure(
    failure: Failure,
    *,
    environ: Mapping[str, str],
    log_error: Callable[[str], None],
    log_info: Callable[[str], None] = lambda _: None,
    log_warning: Callable[[str], None] | None = None,
    cooldown_store: CooldownStore | None = None,
    post: Callable[[str, Mapping[str, Any]], Delivery] = post_webhook,
) -> Outcome:
    """Alert about one failed run: cooldown, message, webhook (or the log), never a secret."""
    webhook = (environ.get(WEBHOOK_URL_ENV) or "").strip()
    ui_url = (environ.get(UI_URL_ENV) or "").strip() or DEFAULT_UI_URL
    cooldown = cooldown_from_env(environ)
    note = None
    if cooldown_store is not None and cooldown > timedelta(0):
        try:
            decision = cooldown_store.apply(failure.job, failure.failed_at, cooldown)
        except Exception as exc:  # the warehouse may be what failed: alert anyway
            (log_warning or log_info)(scrub(f"alert cooldown state unavailable ({type(exc).__name__}); alerting without it",
                           environ, [webhook]))
        else:
            if not decision.send:
                detail = (f"alert for run {failure.run_id} of job {failure.job} collapsed: "
                          f"{decision.state.suppressed} failure(s) within the {_minutes(cooldown)}-minute cooldown")
                log_info(detail)
                return Outcome("collapsed", None, detail)
            note = decision.note
    body = scrub_alert(build_alert(failure, ui_url=ui_url, note=note), environ, [webhook])
    if not webhook:
        log_error(body["text"] + f"\n(alert not sent: {WEBHOOK_URL_ENV} is not set)")
        return Outcome("logged", body, f"{WEBHOOK_URL_ENV} not set")
    delivery = post(webhook, body)
    if delivery.sent:
        log_info(f"alert for run {failure.run_id} sent to the webhook ({delivery.reason})")
        return Outcome("sent", body, delivery.reason)
    reason = scrub(delivery.reason, environ, [webhook])
    log_error(body["text"] + f"\n(alert webhook failed: {reason})")
    return Outcome("logged", body, reason)


def failure_from_errors(job: str, run_id: str, failed_at: datetime, steps: Sequence[str],
                        asset_keys: Sequence[str], error_class: str | None, error_message: str | None) -> Failure:
    """A :class:`Failure` with steps and assets de-duplicated in order."""
    return Failure(job=job, run_id=run_id, failed_at=failed_at, failed_steps=tuple(dict.fromkeys(steps)),
                   asset_keys=tuple(dict.fromkeys(asset_keys)), error_class=error_class, error_message=error_message)
