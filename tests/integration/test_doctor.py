"""soleflipper.doctor against a real test database, real simulators and a test Dagster instance;
the `soleflipper doctor` command end to end, with fake secrets that must never be printed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from pipelines.cli import main
from simulators.stockx import StockXSimulator
from simulators.webhook import WebhookSimulator
from soleflipper import doctor
from soleflipper.doctor import FAIL, OK, WARN, Row

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _with_password(url: str, password: str) -> str:
    scheme, rest = url.split("://", 1)
    userinfo, host = rest.split("@", 1)
    return f"{scheme}://{userinfo.split(':')[0]}:{password}@{host}"


# --------------------------------------------------------------------------- databases


def test_database_ok_and_unreachable_without_the_password(database_url):
    row = doctor.check_database("warehouse database", database_url)
    assert row.status == OK and row.detail.startswith("PostgreSQL ") and row.detail.endswith(database_url)
    bad = doctor.check_database("warehouse database", "postgresql://sf:pw-never-shown-1@127.0.0.1:1/x", timeout=1)
    assert bad.status == FAIL
    assert bad.detail.startswith("cannot connect to postgresql://sf:***@127.0.0.1:1/x: OperationalError")
    assert "pw-never-shown-1" not in bad.detail


# --------------------------------------------------------------------------- credentials


def test_credentials_nothing_configured():
    assert doctor.check_credentials({}) == [
        Row("StockX", OK, "not configured (SOLEFLIPPER_STOCKX_API_KEY missing): StockX assets are off"),
        Row("env SOLEFLIPPER_FERNET_KEY", OK, "missing (only StockX and eBay need it)"),
        Row("Notion", OK, "not configured (SOLEFLIPPER_NOTION_TOKEN missing): Notion assets are off"),
        Row("eBay", OK, "not configured (SOLEFLIPPER_EBAY_CLIENT_ID missing): eBay assets are off"),
        Row("Alias", OK, "not configured (SOLEFLIPPER_ALIAS_TOKEN missing): Alias assets are off"),
        Row("env SOLEFLIPPER_ALERT_WEBHOOK_URL", WARN, "missing (failed runs are only logged, not sent)"),
    ]


def test_credentials_of_enabled_sources_set_or_missing_never_values(tmp_path: Path):
    env = {"SOLEFLIPPER_STOCKX_API_KEY": "k-secret-value-1", "SOLEFLIPPER_STOCKX_CLIENT_ID": "cid-value-2",
           "SOLEFLIPPER_NOTION_TOKEN": "ntn-secret-3", "SOLEFLIPPER_NOTION_SALES_DATABASE_ID": "db-4",
           "SOLEFLIPPER_ALERT_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/xyz-5"}
    key_file = tmp_path / "fernet.key"
    key_file.write_text("x")
    rows = doctor.check_credentials(env, fernet_key_file=key_file)
    assert rows == [
        Row("env SOLEFLIPPER_STOCKX_API_KEY", OK, "set"),
        Row("env SOLEFLIPPER_STOCKX_CLIENT_ID", OK, "set"),
        Row("env SOLEFLIPPER_STOCKX_CLIENT_SECRET", FAIL, "missing (StockX needs it)"),
        Row("env SOLEFLIPPER_FERNET_KEY", FAIL, "missing (StockX tokens are stored encrypted with it) "
                                               "(the demo's key file exists: `soleflipper run` uses it)"),
        Row("env SOLEFLIPPER_NOTION_TOKEN", OK, "set"),
        Row("env SOLEFLIPPER_NOTION_PURCHASES_DATABASE_ID", WARN, "missing (the default ids are the simulator's)"),
        Row("env SOLEFLIPPER_NOTION_SALES_DATABASE_ID", OK, "set"),
        Row("eBay", OK, "not configured (SOLEFLIPPER_EBAY_CLIENT_ID missing): eBay assets are off"),
        Row("Alias", OK, "not configured (SOLEFLIPPER_ALIAS_TOKEN missing): Alias assets are off"),
        Row("env SOLEFLIPPER_ALERT_WEBHOOK_URL", OK, "set"),
    ]
    marketplaces = {"SOLEFLIPPER_EBAY_CLIENT_ID": "ebay-cid-6", "SOLEFLIPPER_ALIAS_TOKEN": "alias-pat-7"}
    rows = doctor.check_credentials(marketplaces)
    assert rows == [
        Row("StockX", OK, "not configured (SOLEFLIPPER_STOCKX_API_KEY missing): StockX assets are off"),
        Row("env SOLEFLIPPER_FERNET_KEY", FAIL, "missing (eBay tokens are stored encrypted with it)"),
        Row("Notion", OK, "not configured (SOLEFLIPPER_NOTION_TOKEN missing): Notion assets are off"),
        Row("env SOLEFLIPPER_EBAY_CLIENT_ID", OK, "set"),
        Row("env SOLEFLIPPER_EBAY_CLIENT_SECRET", FAIL, "missing (eBay needs it)"),
        Row("env SOLEFLIPPER_EBAY_REFRESH_TOKEN", WARN,
            "missing (eBay needs it unless `soleflipper ebay login` stored a token)"),
        Row("env SOLEFLIPPER_EBAY_SIGNING_KEY + SOLEFLIPPER_EBAY_SIGNATURE_KEY_JWE", OK,
            "not set (Finances requests unsigned; EU and UK sellers need both)"),
        Row("env SOLEFLIPPER_ALIAS_TOKEN", OK, "set"),
        Row("env SOLEFLIPPER_ALERT_WEBHOOK_URL", WARN, "missing (failed runs are only logged, not sent)"),
    ]
    assert all(value not in repr(rows) for value in marketplaces.values())
    both = doctor.check_credentials({**env, **marketplaces})
    assert both[3] == Row("env SOLEFLIPPER_FERNET_KEY", FAIL, "missing (StockX and eBay tokens are stored encrypted "
                                                           "with it)")
    signing = "env SOLEFLIPPER_EBAY_SIGNING_KEY + SOLEFLIPPER_EBAY_SIGNATURE_KEY_JWE"
    key_only = doctor.check_credentials({**marketplaces, "SOLEFLIPPER_EBAY_SIGNING_KEY": "pem-8"})
    assert Row(signing, FAIL, "SOLEFLIPPER_EBAY_SIGNATURE_KEY_JWE missing: set both or neither") in key_only
    signed = doctor.check_credentials({**marketplaces, "SOLEFLIPPER_EBAY_SIGNING_KEY": "pem-8",
                                       "SOLEFLIPPER_EBAY_SIGNATURE_KEY_JWE": "jwe-9"})
    assert Row(signing, OK, "set (Finances requests are signed)") in signed
    assert "pem-8" not in repr(signed) and "jwe-9" not in repr(signed)
    simulated = doctor.check_credentials({"SOLEFLIPPER_NOTION_TOKEN": "t", "SOLEFLIPPER_NOTION_BASE_URL": "http://x"})
    assert simulated[3:5] == [Row("env SOLEFLIPPER_NOTION_PURCHASES_DATABASE_ID", OK, "default (simulator)"),
                              Row("env SOLEFLIPPER_NOTION_SALES_DATABASE_ID", OK, "default (simulator)")]


# --------------------------------------------------------------------------- reachability


def test_reachability_of_a_simulator_running_stopped_and_slow():
    sim = StockXSimulator(n_sales=5)
    with sim:
        base = sim.url("/v2")
        assert doctor.http_reachable("StockX API", base, 2) == Row("StockX API", OK, f"HTTP 403 from {base}")
        sim.inject("slow:3")
        assert doctor.http_reachable("StockX API", base, 0.3) == Row(
            "StockX API", FAIL, f"no answer from {base} within 0.3 s")
    assert doctor.http_reachable("StockX API", base, 1) == Row(
        "StockX API", FAIL, f"unreachable: {base} (ConnectError)")


def test_reachability_rows_for_enabled_sources_and_the_webhook_host_only():
    with StockXSimulator(n_sales=5) as stockx, WebhookSimulator() as hook:
        hook_url = hook.url("/services/T0/B0/path-is-secret")
        env = {"SOLEFLIPPER_STOCKX_API_KEY": "k", "SOLEFLIPPER_STOCKX_BASE_URL": stockx.url("/v2"),
               "SOLEFLIPPER_EBAY_CLIENT_ID": "c", "SOLEFLIPPER_EBAY_API_URL": stockx.url(""),
               "SOLEFLIPPER_ALIAS_TOKEN": "t", "SOLEFLIPPER_ALIAS_API_URL": stockx.url("/api/v1"),
               "SOLEFLIPPER_ALERT_WEBHOOK_URL": hook_url, "SOLEFLIPPER_DAGSTER_UI_URL": stockx.url("")}
        rows = doctor.check_reachability(env, timeout=2)
        assert rows == [
            Row("StockX API", OK, f"HTTP 403 from {stockx.url('/v2')}"),
            Row("eBay API", OK, f"HTTP 404 from {stockx.url('')}"),
            Row("Alias API", OK, f"HTTP 404 from {stockx.url('/api/v1')}"),
            Row("alert webhook", OK, f"http://127.0.0.1:{hook.port} accepts connections (path not shown)"),
            Row("Dagster UI", OK, f"HTTP 404 from {stockx.url('/server_info')}"),
        ]
        assert hook.requests == []  # a TCP connect only: the webhook was not triggered
    stopped = doctor.check_reachability(env, timeout=1)
    assert [r.status for r in stopped] == [FAIL, FAIL, FAIL, FAIL, WARN]
    assert stopped[1] == Row("eBay API", FAIL, f"unreachable: {env['SOLEFLIPPER_EBAY_API_URL']} (ConnectError)")
    assert stopped[3] == Row("alert webhook", FAIL, f"cannot connect to http://127.0.0.1:{hook.port} "
                                                    "(ConnectionRefusedError)")
    assert stopped[4].detail.endswith("(not running? `make dev`)")
    assert all("path-is-secret" not in r.detail for r in rows + stopped)


# --------------------------------------------------------------------------- freshness


SOURCES_YAML = """
version: 2
sources:
  - name: raw
    schema: raw
    config:
      loaded_at_field: _loaded_at
    tables:
      - name: fresh_orders
        config:
          freshness:
            warn_after: {count: 2, period: day}
            error_after: {count: 7, period: day}
      - name: stale_sheet
        config:
          freshness:
            warn_after: {count: 12, period: hour}
            error_after: {count: 3, period: day}
      - name: warn_rates
        config:
          loaded_at_field: "rate_date::timestamp"
          freshness:
            warn_after: {count: 1, period: day}
      - name: empty_table
        config:
          freshness:
            error_after: {count: 1, period: day}
      - name: missing_table
        config:
          freshness:
            warn_after: {count: 1, period: day}
      - name: no_threshold
"""


def test_freshness_against_thresholds_from_the_sources_yaml(tmp_path: Path, database_url):
    (tmp_path / "_raw__sources.yml").write_text(SOURCES_YAML)
    with psycopg.connect(database_url) as conn:
        conn.execute("create schema raw")
        for table in ("fresh_orders", "stale_sheet", "empty_table", "no_threshold"):
            conn.execute(f"create table raw.{table} (_loaded_at timestamptz)")
        conn.execute("create table raw.warn_rates (rate_date date)")
        conn.execute("insert into raw.fresh_orders values (%s), (%s)", (NOW - timedelta(days=3), NOW - timedelta(hours=5)))
        conn.execute("insert into raw.stale_sheet values (%s)", (NOW - timedelta(days=4),))
        conn.execute("insert into raw.warn_rates values ('2026-03-08')")
    assert [s.name for s in doctor.freshness_sources(tmp_path)] == [
        "raw.empty_table", "raw.fresh_orders", "raw.missing_table", "raw.stale_sheet", "raw.warn_rates"]
    rows = doctor.check_freshness(database_url, now=NOW, models_dir=tmp_path)
    assert rows == [
        Row("fresh raw.fresh_orders", OK,
            "newest 2026-03-10 07:00 UTC (5.0 h ago); warn after 2 days, error after 7 days"),
        Row("fresh raw.stale_sheet", FAIL,
            "newest 2026-03-06 12:00 UTC (4.0 days ago); warn after 12 hours, error after 3 days"),
        Row("fresh raw.warn_rates", WARN, "newest 2026-03-08 00:00 UTC (2.5 days ago); warn after 1 day, error after -"),
        Row("fresh (never loaded)", OK, "raw.empty_table, raw.missing_table"),
    ]


def test_project_sources_yaml_is_read():
    sources = {s.name: s for s in doctor.freshness_sources()}
    report = sources["raw.stockx_sales_report"]
    assert (report.loaded_at_field, report.warn_after, report.error_after) == (
        "_loaded_at", timedelta(days=7), timedelta(days=35))
    assert sources["analytics.demand_forecasts"].loaded_at_query == (
        "select ops.newest_timestamp('analytics.demand_forecasts', 'computed_at')")


def test_freshness_of_an_empty_project_warehouse(database_url):
    rows = doctor.check_freshness(database_url, now=NOW)
    assert [(r.check, r.status) for r in rows] == [("fresh (never loaded)", OK)]
    assert "raw.stockx_sales_report" in rows[0].detail and "analytics.demand_forecasts" in rows[0].detail


# --------------------------------------------------------------------------- failed runs


@dg.op
def broken_op():
    raise RuntimeError("boom")


@dg.op
def fine_op():
    return 1


@dg.job
def flaky_job():
    broken_op()


@dg.job(name="flaky_job_fixed")
def fixed_job():
    fine_op()


def test_failed_runs_listed_with_job_time_and_run_id():
    with dg.instance_for_test() as instance:
        assert doctor.check_failures(instance) == [Row("failed runs", OK, "no failed runs")]
        failed = flaky_job.execute_in_process(instance=instance, raise_on_error=False)
        [row] = doctor.check_failures(instance)
        ended = datetime.fromtimestamp(instance.get_run_record_by_id(failed.run_id).end_time, UTC)
        assert row == Row("failed run", WARN, f"flaky_job failed {ended:%Y-%m-%d %H:%M} UTC, run {failed.run_id}")
        # The same job name succeeding afterwards: the failure is history.
        fixed = dg.JobDefinition(graph_def=fixed_job.graph, name="flaky_job")
        fixed.execute_in_process(instance=instance)
        [row] = doctor.check_failures(instance)
        assert row == Row("failed run", OK,
                          f"flaky_job failed {ended:%Y-%m-%d %H:%M} UTC, run {failed.run_id} (succeeded since)")


# --------------------------------------------------------------------------- the command


SECRETS = {
    "SOLEFLIPPER_STOCKX_API_KEY": "fake-stockx-api-key-1111",
    "SOLEFLIPPER_STOCKX_CLIENT_ID": "fake-client-id-2222",
    "SOLEFLIPPER_STOCKX_CLIENT_SECRET": "fake-client-secret-3333",
    "SOLEFLIPPER_FERNET_KEY": "ZmFrZS1mZXJuZXQta2V5LTQ0NDQtNDQ0NC00NDQ0LTQ0NDQ=",
    "SOLEFLIPPER_NOTION_TOKEN": "fake-notion-token-5555",
}
DB_PASSWORD = "fake-db-password-6666"


@pytest.fixture
def dagster_database(pg_server):
    """A second empty database for Dagster's storage (dagster-postgres creates its tables)."""
    from psycopg import sql

    from resources.postgres import _with_dbname

    name = f"sf_test_dagster_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        yield _with_dbname(pg_server, name)
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def test_doctor_command_prints_the_table_without_secrets_and_exits_by_status(
        monkeypatch, capsys, tmp_path, database_url, dagster_database):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SOLEFLIPPER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SOLEFLIPPER_DATABASE_URL", _with_password(database_url, DB_PASSWORD))
    monkeypatch.setenv("SOLEFLIPPER_DAGSTER_DATABASE_URL", _with_password(dagster_database, DB_PASSWORD))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.delenv("SOLEFLIPPER_DAGSTER_STORAGE_URL", raising=False)
    with StockXSimulator(n_sales=5) as stockx, WebhookSimulator() as notion, WebhookSimulator() as hook:
        stockx_url, notion_url = stockx.url("/v2"), notion.url("/v1")
        monkeypatch.setenv("SOLEFLIPPER_STOCKX_BASE_URL", stockx_url)
        monkeypatch.setenv("SOLEFLIPPER_NOTION_BASE_URL", notion_url)
        monkeypatch.setenv("SOLEFLIPPER_ALERT_WEBHOOK_URL", hook.url("/webhook/secret-hook-7777"))
        monkeypatch.setenv("SOLEFLIPPER_DAGSTER_UI_URL", "http://127.0.0.1:1")
        code = main(["doctor", "--timeout", "2"])
        healthy = capsys.readouterr().out
        stockx.stop()
        code_down = main(["doctor", "--timeout", "1"])
        down = capsys.readouterr().out

    lines = healthy.splitlines()
    assert lines[0].split() == ["check", "status", "detail"]
    table = {line[:46].strip(): line[46:].split(None, 1) for line in lines[2:] if line.strip() and "," not in line[:46]}
    assert table["warehouse database"][0] == OK
    assert table["Dagster storage database"][0] == OK
    assert table["env SOLEFLIPPER_STOCKX_CLIENT_SECRET"] == [OK, "set"]
    assert table["env SOLEFLIPPER_NOTION_TOKEN"] == [OK, "set"]
    assert table["StockX API"] == [OK, f"HTTP 403 from {stockx_url}"]
    assert table["Notion API"] == [OK, f"HTTP 405 from {notion_url}"]
    assert table["alert webhook"][0] == OK
    assert table["Dagster UI"][0] == WARN
    assert table["failed runs"] == [OK, "no failed runs"]
    assert table["fresh (never loaded)"][0] == OK
    assert code == 0 and lines[-1].endswith("WARN, 0 FAIL")
    assert code_down == 1 and f"StockX API{' ' * 36}FAIL    unreachable" in down
    assert lines[-1].startswith(f"{sum(1 for r in table.values() if r[0] == OK)} OK")
    for output in (healthy, down):
        for secret in [*SECRETS.values(), DB_PASSWORD, "secret-hook-7777"]:
            assert secret not in output
        assert "postgresql://postgres:***@" in output
