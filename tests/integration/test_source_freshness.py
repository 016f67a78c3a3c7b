"""Source freshness: thresholds declared on every raw source, `soleflipper dbt source freshness`,
and the same verdicts as Dagster asset checks on the raw assets (assets/checks_freshness.py).

Load times are set in the database relative to now() (the loader stamps _loaded_at = now()):
the StockX report just loaded (pass), the purchases sheet 10 days ago (warn: 7 < 10 < 35), the
sales sheet 40 days ago (error: > 35); eBay was never loaded (error: no load time at all).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from conftest import _create_database, _drop_database

from pipelines.definitions import defs
from resources.dbt import dbt_resource
from resources.imports import ImportFolderResource
from resources.warehouse import WarehouseResource, ensure_all_raw_tables, load_file
from soleflipper.demo_data import write_demo_purchases_sheet
from soleflipper.formats import load_format
from soleflipper.settings import PROJECT_ROOT

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EXPECTED = {
    "stockx_sales_report": "pass",
    "sheets_purchases": "warn",
    "sheets_sales": "error",
    "ebay_orders": "error",
    "alias_invoice": "error",
}


@pytest.fixture
def warehouse(pg_server, demo_reports, tmp_path):
    name, url = _create_database(pg_server)
    dagster_name, dagster_url = _create_database(pg_server)
    try:
        with psycopg.connect(url) as conn:
            ensure_all_raw_tables(conn)
            purchases = write_demo_purchases_sheet(tmp_path / "purchases", n_sales=300, seed=11)
            sales = sorted((FIXTURES / "sales_sheet").glob("*.csv"))[0]
            for path, fmt in ((demo_reports[0], "stockx_sales_report"), (purchases, "purchases_sheet"),
                              (sales, "sales_sheet")):
                assert load_file(conn, load_format(fmt), path).rows_loaded > 0
            conn.execute("update raw.sheets_purchases set _loaded_at = now() - interval '10 days'")
            conn.execute("update raw.sheets_sales set _loaded_at = now() - interval '40 days'")
            # A table a Python asset writes (its source reads it through ops.newest_timestamp).
            conn.execute("create schema if not exists analytics")
            conn.execute("create table analytics.demand_forecasts (computed_at timestamptz)")
            conn.execute("insert into analytics.demand_forecasts values (now() - interval '1 day')")
        yield url, dagster_url
    finally:
        _drop_database(pg_server, name)
        _drop_database(pg_server, dagster_name)


def test_soleflipper_dbt_source_freshness_reports_each_source(warehouse, tmp_path):
    url, dagster_url = warehouse
    env = {**os.environ, "SOLEFLIPPER_DATABASE_URL": url, "SOLEFLIPPER_DAGSTER_DATABASE_URL": dagster_url,
           "SOLEFLIPPER_HOME": str(tmp_path / "home"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    target = tmp_path / "target"
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "dbt", "source", "freshness",
                           "--target-path", str(target)], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 1, proc.stdout[-4000:]  # dbt exits 1 when a source is past error_after
    results = {r["unique_id"].rsplit(".", 1)[-1]: r for r in
               json.loads((target / "sources.json").read_text(encoding="utf-8"))["results"]}
    assert {name: results[name]["status"] for name in EXPECTED} == EXPECTED
    assert results["ebay_orders"]["max_loaded_at"].startswith("0001-01-01")  # never loaded
    # Notion was never synced here: its tables do not exist, and dbt still reports them (stale).
    assert results["notion_purchases"]["status"] == "error"
    assert results["notion_purchases"]["max_loaded_at"].startswith("0001-01-01")
    # Sources whose table may be missing go through ops.newest_timestamp() (the on-run-start hook
    # creates it; no XML support needed): a present table is measured, a missing one is stale.
    assert results["demand_forecasts"]["status"] == "pass"
    assert not results["demand_forecasts"]["max_loaded_at"].startswith("0001-01-01")
    assert results["pricing_backtest"]["status"] == "error"
    # Every source the pipeline loads declares thresholds, so every one is reported. The `entry`
    # source (the tables people write in Budibase, declared for their docs) is measured through
    # the raw/budibase_* tables it is loaded into.
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    assert set(results) == {source["name"] for source in manifest["sources"].values()
                            if source["source_name"] != "entry"}
    assert {"budibase_purchases", "budibase_sales", "budibase_suppliers"} <= set(results)
    assert {r["status"] for r in results.values()} <= {"pass", "warn", "error"}


def test_freshness_checks_in_dagster_report_dbt_verdicts(warehouse, tmp_path):
    url, _ = warehouse
    saved_env = dict(os.environ)
    try:
        local = dg.Definitions(
            assets=defs.assets,
            asset_checks=defs.asset_checks,
            jobs=defs.jobs,
            resources={
                "warehouse": WarehouseResource(database_url=url),
                "dbt": dbt_resource(),
                "imports": ImportFolderResource(root=str(tmp_path / "imports")),
            },
        )
        result = local.resolve_job_def("check_source_freshness").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
    assert result.success
    evaluations = {e.asset_check_evaluation_data.asset_key.path[-1]: e.asset_check_evaluation_data
                   for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}
    verdicts = {name: (ev.passed, ev.severity) for name, ev in evaluations.items() if name in EXPECTED}
    assert verdicts == {
        "stockx_sales_report": (True, dg.AssetCheckSeverity.ERROR),
        "sheets_purchases": (False, dg.AssetCheckSeverity.WARN),
        "sheets_sales": (False, dg.AssetCheckSeverity.ERROR),
        "ebay_orders": (False, dg.AssetCheckSeverity.ERROR),
        "alias_invoice": (False, dg.AssetCheckSeverity.ERROR),
    }
    ebay = evaluations["ebay_orders"].metadata
    assert ebay["max_loaded_at"].value == "never loaded"
    assert ebay["error_after"].value == "35 day"
    assert evaluations["sheets_purchases"].metadata["age_hours"].value == pytest.approx(240, abs=1)


def test_freshness_check_never_logs_the_warehouse_password(warehouse, tmp_path, caplog, capfd):
    """The check runs dbt with the connection in SOLEFLIPPER_PG* variables; neither the password
    nor the URL may reach Dagster's event log (messages, check metadata), Python logging or the
    process output."""
    url, _ = warehouse
    password = "Fr3shness-s3cret-pw"
    scheme, rest = url.split("://", 1)
    secret_url = f"{scheme}://{rest.replace('@', f':{password}@', 1)}" if "@" in rest else None
    try:
        assert secret_url is not None
        psycopg.connect(secret_url, connect_timeout=10).close()
    except (AssertionError, psycopg.OperationalError):
        pytest.skip("the test server does not accept a password in the URL (trust authentication)")
    saved_env = dict(os.environ)
    instance = dg.DagsterInstance.ephemeral()
    try:
        local = dg.Definitions(
            assets=defs.assets, asset_checks=defs.asset_checks, jobs=defs.jobs,
            resources={"warehouse": WarehouseResource(database_url=secret_url), "dbt": dbt_resource(),
                       "imports": ImportFolderResource(root=str(tmp_path / "imports"))},
        )
        with caplog.at_level("DEBUG"):
            result = local.resolve_job_def("check_source_freshness").execute_in_process(
                instance=instance, raise_on_error=False)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
    assert result.success
    entries = instance.all_logs(result.run_id)
    evaluations = [e for e in entries if e.dagster_event and e.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert len(evaluations) >= len(EXPECTED)  # the checks ran and were recorded
    assert any("dbt source freshness:" in e.user_message for e in entries)  # the check's own log line
    out, err = capfd.readouterr()
    for where, text in (("event log", dg.serialize_value(entries)), ("python logging", caplog.text),
                        ("stdout", out), ("stderr", err)):
        assert password not in text, where
        assert secret_url not in text, where
