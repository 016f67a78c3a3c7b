"""soleflipper.alerts: scrubbing, the message, cooldown decisions and webhook delivery (a real
local HTTP receiver, simulators.webhook)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simulators.webhook import WebhookSimulator
from soleflipper.alerts import (
    CooldownState,
    Failure,
    alert_on_failure,
    build_alert,
    cooldown_from_env,
    decide,
    first_line,
    post_webhook,
    scrub,
    scrub_alert,
    secret_values,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ENV = {
    "SOLEFLIPPER_NOTION_TOKEN": "secret_notionABC123",
    "SOLEFLIPPER_STOCKX_CLIENT_SECRET": "cs-very-secret-42",
    "SOLEFLIPPER_STOCKX_API_KEY": "apikey-0000-1111",
    "SOLEFLIPPER_FERNET_KEY": "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE=",
    "DB_PASSWORD": "pg-pass-99",
    "SOLEFLIPPER_HOME": "/opt/dagster/state",  # not secret by name: kept
    "SOME_KEY_FLAG": "1",  # too short to scrub by value
    "PATH": "/usr/bin",
}


# --------------------------------------------------------------------------- scrub


def test_scrub_replaces_values_of_secret_named_variables():
    text = ("token secret_notionABC123 rejected; client cs-very-secret-42, key apikey-0000-1111, "
            "fernet Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmE= pw pg-pass-99 home /opt/dagster/state 1")
    assert scrub(text, ENV) == "token *** rejected; client ***, key ***, fernet *** pw *** home /opt/dagster/state 1"


def test_scrub_names_are_case_insensitive_and_longest_value_wins():
    env = {"my_token": "abcdef", "OTHER_SECRET": "abcdefghij"}
    assert secret_values(env) == ["abcdefghij", "abcdef"]
    assert scrub("x abcdefghij y abcdef z", env) == "x *** y *** z"


def test_scrub_url_passwords_any_scheme():
    assert scrub("connect postgresql://soleflipper:s3cr3t@postgres:5432/soleflipper failed", {}) == (
        "connect postgresql://soleflipper:***@postgres:5432/soleflipper failed")
    assert scrub("postgresql+psycopg2://u:p%40ss@h/db", {}) == "postgresql+psycopg2://u:***@h/db"
    assert scrub("https://user:hunter2@example.com/x", {}) == "https://user:***@example.com/x"
    # A user without a password, and a plain host:port, are left alone.
    assert scrub("postgresql://postgres@127.0.0.1:5432/x http://h:8080/a", {}) == (
        "postgresql://postgres@127.0.0.1:5432/x http://h:8080/a")


def test_scrub_bearer_basic_and_token_parameters():
    assert scrub("Authorization: Bearer eyJhbGciOi.J9.abc-_", {}) == "Authorization: Bearer ***"
    assert scrub("authorization: basic dXNlcjpwYXNz", {}) == "authorization: basic ***"
    assert scrub("headers {'Authorization': 'Token tk-9999'}", {}) == "headers {'Authorization': 'Token ***'}"
    assert scrub("Token expired at 12:00; Basic plan", {}) == "Token expired at 12:00; Basic plan"
    assert scrub("GET /v1/x?access_token=abcd1234&page=2", {}) == "GET /v1/x?access_token=***&page=2"
    assert scrub('{"refresh_token": "rt-5678-xyz", "expires_in": 3600}', {}) == (
        '{"refresh_token": "***", "expires_in": 3600}')
    assert scrub("api_key=k-1234 password: hunter22 client_secret=zzzz9", {}) == (
        "api_key=*** password: *** client_secret=***")


def test_scrub_slack_webhook_path_and_extra_secrets():
    url = "https://hooks.slack.com/services/T0000/B1111/XXXXXXXXXXXXXXXX"
    assert scrub(f"posting to {url} failed", {}) == "posting to https://hooks.slack.com/services/*** failed"
    assert scrub("n8n at http://n8n:5678/webhook/abc-123-def said no", {},
                 ["http://n8n:5678/webhook/abc-123-def"]) == "n8n at *** said no"


def test_scrub_leaves_ordinary_text_alone():
    text = "ValueError: column total_payout is null in raw.stockx_sales_report (line 12)"
    assert scrub(text, ENV) == text
    assert scrub("", ENV) == ""


# --------------------------------------------------------------------------- message


FAILURE = Failure(job="sync_stockx", run_id="r-1", failed_at=T0, failed_steps=("raw__stockx_orders",),
                  asset_keys=("raw/stockx_orders",), error_class="AuthError",
                  error_message="HTTP 401: token secret_notionABC123 expired\n  at line 2")


def test_build_alert_exact_body():
    body = build_alert(FAILURE, ui_url="http://dagster.example:3000/", note=None)
    assert body == {
        "text": (":red_circle: SoleFlipper job sync_stockx failed at 2026-03-01 12:00:00 UTC\n"
                 "Failed steps: raw__stockx_orders\n"
                 "Assets: raw/stockx_orders\n"
                 "Error: AuthError: HTTP 401: token secret_notionABC123 expired\n"
                 "Run r-1: http://dagster.example:3000/runs/r-1"),
        "job": "sync_stockx",
        "run_id": "r-1",
        "failed_at": "2026-03-01T12:00:00+00:00",
        "failed_steps": ["raw__stockx_orders"],
        "asset_keys": ["raw/stockx_orders"],
        "error_class": "AuthError",
        "error": "HTTP 401: token secret_notionABC123 expired",
        "run_url": "http://dagster.example:3000/runs/r-1",
        "note": None,
    }
    scrubbed = scrub_alert(body, ENV)
    assert scrubbed["error"] == "HTTP 401: token *** expired"
    assert "secret_notionABC123" not in str(scrubbed)


def test_first_line_skips_blank_lines():
    assert first_line("\n\n  boom  \nmore") == "boom"
    assert first_line(None) == ""


# --------------------------------------------------------------------------- cooldown


def test_decide_sends_first_then_collapses_within_cooldown_then_notes_the_count():
    cooldown = timedelta(minutes=30)
    first = decide("j", None, T0, cooldown)
    assert first.send and first.note is None and first.state == CooldownState(last_alert_at=T0)
    second = decide("j", first.state, T0 + timedelta(minutes=5), cooldown)
    assert not second.send
    assert second.state == CooldownState(T0, 1, T0 + timedelta(minutes=5))
    third = decide("j", second.state, T0 + timedelta(minutes=29, seconds=59), cooldown)
    assert not third.send and third.state == CooldownState(T0, 2, T0 + timedelta(minutes=5))
    fourth = decide("j", third.state, T0 + timedelta(minutes=30), cooldown)
    assert fourth.send
    assert fourth.note == ("2 more failures of job j since 2026-03-01 12:05:00 UTC "
                           "(collapsed by the 30-minute alert cooldown)")
    assert fourth.state == CooldownState(last_alert_at=T0 + timedelta(minutes=30))
    one = decide("j", CooldownState(T0, 1, T0), T0 + timedelta(hours=1), cooldown)
    assert one.note == "1 more failure of job j since 2026-03-01 12:00:00 UTC (collapsed by the 30-minute alert cooldown)"


def test_cooldown_from_env():
    assert cooldown_from_env({}) == timedelta(minutes=30)
    assert cooldown_from_env({"SOLEFLIPPER_ALERT_COOLDOWN_MINUTES": "5"}) == timedelta(minutes=5)
    assert cooldown_from_env({"SOLEFLIPPER_ALERT_COOLDOWN_MINUTES": "0"}) == timedelta(0)
    assert cooldown_from_env({"SOLEFLIPPER_ALERT_COOLDOWN_MINUTES": "soon"}) == timedelta(minutes=30)


# --------------------------------------------------------------------------- delivery


@pytest.fixture
def hook():
    with WebhookSimulator() as sim:
        yield sim


def test_post_webhook_delivers_json(hook):
    delivery = post_webhook(hook.url("/services/T/B/X"), {"text": "hi", "job": "j"}, retry_wait=0)
    assert delivery.sent and delivery.attempts == ["HTTP 200"]
    assert hook.posted == [{"text": "hi", "job": "j"}]
    [request] = hook.requests
    assert request.path == "/services/T/B/X" and request.headers["Content-Type"] == "application/json"


def test_post_webhook_retries_once_after_an_error_status(hook):
    hook.inject("status:503")
    delivery = post_webhook(hook.url("/hook"), {"text": "hi"}, retry_wait=0)
    assert delivery.sent and delivery.attempts == ["HTTP 503", "HTTP 200"]
    assert len(hook.requests) == 2 and hook.posted == [{"text": "hi"}]


def test_post_webhook_gives_up_after_two_failures_without_naming_the_url(hook):
    hook.inject("status:500", times=2)
    url = hook.url("/services/T/B/very-secret-path")
    delivery = post_webhook(url, {"text": "hi"}, retry_wait=0)
    assert not delivery.sent and delivery.attempts == ["HTTP 500", "HTTP 500"]
    hook.inject("reset", times=2)
    dropped = post_webhook(url, {"text": "hi"}, retry_wait=0)
    assert not dropped.sent
    # A reset surfaces as ReadError or RemoteProtocolError depending on when it lands: both are retried.
    assert len(dropped.attempts) == 2 and all(a.startswith("request failed (") for a in dropped.attempts)
    assert len(hook.requests) == 4
    assert "very-secret-path" not in delivery.reason + dropped.reason


def test_post_webhook_timeout(hook):
    hook.inject("slow:2", times=2)
    delivery = post_webhook(hook.url("/hook"), {"text": "hi"}, timeout=0.2, retry_wait=0)
    assert not delivery.sent and delivery.attempts == ["timeout (ReadTimeout)", "timeout (ReadTimeout)"]


def test_webhook_simulator_rejects_a_body_without_text(hook):
    import httpx

    response = httpx.post(hook.url("/hook"), json={"blocks": []})
    assert response.status_code == 400 and response.text == "invalid_payload"
    assert hook.posted == []


# --------------------------------------------------------------------------- alert_on_failure


class Recorder:
    def __init__(self):
        self.errors, self.infos = [], []


def test_alert_without_webhook_logs_the_same_text():
    logs = Recorder()
    outcome = alert_on_failure(FAILURE, environ=ENV, log_error=logs.errors.append, log_info=logs.infos.append)
    assert outcome.action == "logged"
    assert logs.errors == [outcome.body["text"] + "\n(alert not sent: SOLEFLIPPER_ALERT_WEBHOOK_URL is not set)"]
    assert "secret_notionABC123" not in logs.errors[0]
    assert "Error: AuthError: HTTP 401: token *** expired" in logs.errors[0]


def test_alert_webhook_failure_falls_back_to_the_log_and_never_shows_the_url(hook):
    url = hook.url("/services/T9/B9/slack-token-xyz")
    hook.inject("status:500", times=2)
    logs = Recorder()
    env = {**ENV, "SOLEFLIPPER_ALERT_WEBHOOK_URL": url}
    outcome = alert_on_failure(FAILURE, environ=env, log_error=logs.errors.append, log_info=logs.infos.append,
                               post=lambda u, b: post_webhook(u, b, retry_wait=0))
    assert outcome.action == "logged"
    assert logs.errors == [outcome.body["text"] + "\n(alert webhook failed: HTTP 500; HTTP 500)"]
    assert len(hook.requests) == 2 and hook.posted == []
    assert all("slack-token-xyz" not in line for line in logs.errors + logs.infos)


def test_alert_sent_body_is_scrubbed_and_uses_the_ui_url(hook):
    logs = Recorder()
    env = {**ENV, "SOLEFLIPPER_ALERT_WEBHOOK_URL": hook.url("/hook"), "SOLEFLIPPER_DAGSTER_UI_URL": "https://ops.example"}
    outcome = alert_on_failure(FAILURE, environ=env, log_error=logs.errors.append, log_info=logs.infos.append)
    assert outcome.action == "sent" and logs.errors == []
    assert logs.infos == ["alert for run r-1 sent to the webhook (HTTP 200)"]
    [posted] = hook.posted
    assert posted == outcome.body
    assert posted["run_url"] == "https://ops.example/runs/r-1"
    assert posted["error"] == "HTTP 401: token *** expired"
