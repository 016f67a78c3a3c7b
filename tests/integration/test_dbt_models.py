"""dbt on real PostgreSQL: the project builds on the loaded demo data and its tests can fail.

The demo data is what `soleflipper demo` writes (300 sales, seed 11): the two StockX seller
reports, the purchases sheet, the expenses sheet and the ECB FX rates file.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from dbt_runner import node_statuses, run_dbt

from resources.warehouse import ensure_all_raw_tables, load_file
from soleflipper.demo_data import write_demo_purchases_sheet
from soleflipper.demo_expenses import write_demo_expenses_sheet
from soleflipper.demo_fx import write_demo_fx_rates
from soleflipper.formats import load_format

KPI_VIEWS = ("mv_executive_metrics", "mv_product_performance", "mv_brand_analytics", "mv_platform_performance",
             "mv_inventory_status", "mv_customer_geography", "mv_supplier_performance")


def dbt(database_url: str, target: Path, *args: str) -> tuple[int, dict]:
    """Exit code and node statuses of a dbt run (plus its stdout under "_out")."""
    proc = run_dbt(database_url, target, *args)
    return proc.returncode, node_statuses(target) | {"_out": proc.stdout}


@pytest.fixture
def loaded(conn, database_url, demo_reports):
    """The demo's StockX reports only."""
    ensure_all_raw_tables(conn)  # sources not loaded yet still need their (empty) tables
    fmt = load_format("stockx_sales_report")
    for path in demo_reports:
        load_file(conn, fmt, path)
    return database_url


@pytest.fixture
def demo_loaded(loaded, conn, tmp_path):
    """Everything `soleflipper demo` writes: the reports, purchases, expenses and FX rates."""
    files = [
        ("purchases_sheet", write_demo_purchases_sheet(tmp_path / "purchases", n_sales=300, seed=11)),
        ("expenses_sheet", write_demo_expenses_sheet(tmp_path / "expenses", n_sales=300, seed=11)),
        ("ecb_fx_rates", write_demo_fx_rates(tmp_path / "fx", seed=11)),
    ]
    for format_name, path in files:
        result = load_file(conn, load_format(format_name), path)
        assert result.rows_loaded > 0 and result.rows_quarantined == 0, (format_name, result.sample_errors)
    return loaded


def test_dbt_build_passes_every_test_and_numbers_reconcile(demo_loaded, conn, tmp_path):
    code, status = dbt(demo_loaded, tmp_path / "t1", "build")
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
    assert {k for k, v in status.items() if k.startswith("model.")} >= {f"model.soleflipper.{v}" for v in KPI_VIEWS}
    assert {v for k, v in status.items() if k.startswith("model.")} == {"success"}

    # The seven views add up to the facts and to each other on the whole demo.
    revenue, profit = conn.execute("select sum(gross_sale_home), sum(profit_home) from finance.fct_unit_economics"
                                   ).fetchone()
    assert revenue == fact[1] + conn.execute("select sum(fees_home) from finance.fct_unit_economics").fetchone()[0]
    assert profit > 0
    for view in ("mv_executive_metrics", "mv_product_performance", "mv_brand_analytics", "mv_platform_performance",
                 "mv_customer_geography"):
        assert conn.execute(f"select sum(revenue_home), sum(profit_home) from analytics.{view}"  # noqa: S608
                            ).fetchone() == (revenue, profit), view
    items = conn.execute("select count(*), count(*) filter (where current_status = 'sold')"
                         " from products.inventory_items").fetchone()
    assert items[1] > 0 and items[0] > items[1]  # sold pairs and stock
    inventory = conn.execute("select count(*), count(*) filter (where not is_in_stock and current_status = 'sold'),"
                             " sum(current_stock_value_home) from analytics.mv_inventory_status").fetchone()
    suppliers = conn.execute("select sum(units_purchased), sum(units_sold), sum(unsold_value_home)"
                             " from analytics.mv_supplier_performance").fetchone()
    assert inventory[:2] == suppliers[:2] == items
    assert inventory[2] == suppliers[2] > 0


def test_reconciliation_test_fails_when_money_does_not_add_up(loaded, conn, tmp_path):
    code, _ = dbt(loaded, tmp_path / "t1", "build")
    assert code == 0
    conn.execute("update transactions.fct_sales set payout_amount = payout_amount + 0.01"
                 " where sale_id = (select min(sale_id) from transactions.fct_sales)")
    conn.commit()
    code, status = dbt(loaded, tmp_path / "t2", "test", "--select", "assert_fct_sales_payout_reconciles_with_raw")
    assert code == 1
    assert [v for k, v in status.items() if k != "_out"] == ["fail"]
