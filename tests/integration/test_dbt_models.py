"""dbt on real PostgreSQL: the project builds on loaded demo data and its tests can fail."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from resources.dbt import DBT_EXECUTABLE, DBT_PROJECT_DIR, dbt_connection_env
from resources.warehouse import ensure_all_raw_tables, load_file
from soleflipper.formats import load_format


def dbt(database_url: str, target: Path, *args: str) -> tuple[int, dict]:
    env = {**os.environ, **dbt_connection_env(database_url), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    proc = subprocess.run(
        [DBT_EXECUTABLE, *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
         "--target-path", str(target), "--log-path", str(target)],
        env=env, capture_output=True, text=True, cwd=DBT_PROJECT_DIR)
    results = json.loads((target / "run_results.json").read_text()) if (target / "run_results.json").exists() else {}
    return proc.returncode, {r["unique_id"]: r["status"] for r in results.get("results", [])} | {"_out": proc.stdout}


@pytest.fixture
def loaded(conn, database_url, demo_reports):
    ensure_all_raw_tables(conn)  # sources not loaded yet still need their (empty) tables
    fmt = load_format("stockx_sales_report")
    for path in demo_reports:
        load_file(conn, fmt, path)
    return database_url


def test_dbt_build_passes_every_test_and_numbers_reconcile(loaded, conn, tmp_path):
    code, status = dbt(loaded, tmp_path / "t1", "build")
    assert code == 0, status["_out"][-3000:]
    tests = {k: v for k, v in status.items() if k.startswith("test.")}
    assert len(tests) >= 25 and set(tests.values()) == {"pass"}
    raw_latest = conn.execute(
        "select count(*), sum(total_payout) from (select distinct on (order_number) * from"
        " raw.stockx_sales_report order by order_number, payout_date desc nulls last, _loaded_at desc) r"
    ).fetchone()
    fact = conn.execute("select count(*), sum(payout_amount) from transactions.fct_sales").fetchone()
    assert fact == raw_latest and fact[0] == 300
    # The demo sells in EUR, the home currency: home amounts are the facts' amounts.
    kpi = conn.execute("select sum(orders), sum(payout_home), sum(revenue_home) - sum(fees_home)"
                       " from analytics.mv_executive_metrics").fetchone()
    assert kpi == (300, fact[1], fact[1])
    # Each of the seven KPI views has one unique index, which concurrent refreshes need.
    unique = dict(conn.execute("select tablename, string_agg(indexdef, '; ') from pg_indexes"
                               " where schemaname = 'analytics' and indexdef like 'CREATE UNIQUE%%'"
                               " group by tablename").fetchall())
    assert set(unique) == {"mv_executive_metrics", "mv_product_performance", "mv_brand_analytics",
                           "mv_platform_performance", "mv_inventory_status", "mv_customer_geography",
                           "mv_supplier_performance"}
    assert "(sale_date, platform)" in unique["mv_executive_metrics"]


def test_reconciliation_test_fails_when_money_does_not_add_up(loaded, conn, tmp_path):
    code, _ = dbt(loaded, tmp_path / "t1", "build")
    assert code == 0
    conn.execute("update transactions.fct_sales set payout_amount = payout_amount + 0.01"
                 " where sale_id = (select min(sale_id) from transactions.fct_sales)")
    conn.commit()
    code, status = dbt(loaded, tmp_path / "t2", "test", "--select", "assert_fct_sales_payout_reconciles_with_raw")
    assert code == 1
    assert [v for k, v in status.items() if k != "_out"] == ["fail"]
