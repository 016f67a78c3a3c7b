"""The hourly KPI refresh job against a built warehouse (pipelines/schedules.py, issue 5 point 3).

A warehouse is built from the older demo StockX report and the purchases sheet; then the newer
report is loaded and only the facts are rebuilt, so every view is stale. Running the Dagster job
`refresh_kpi_views_hourly` in process must bring exactly the three hourly views up to date, in
place and concurrently, and leave the daily and weekly views as they were.

"Concurrently" is checked in the catalog: a plain REFRESH MATERIALIZED VIEW writes the view into
a new file (pg_class.relfilenode changes), REFRESH ... CONCURRENTLY updates the rows in the
existing one; a drop and re-create would change the view's oid.
"""

from __future__ import annotations

import os

import dagster as dg
import psycopg
import pytest
from dbt_runner import dbt_ok
from warehouse_datasets import build_demo_views_on_older_report

from pipelines.definitions import defs
from resources.dbt import dbt_resource
from resources.imports import ImportFolderResource
from resources.warehouse import WarehouseResource, load_file
from soleflipper.formats import load_format

HOURLY = ("mv_executive_metrics", "mv_platform_performance", "mv_inventory_status")
DAILY = ("mv_product_performance", "mv_brand_analytics", "mv_customer_geography")
WEEKLY = ("mv_supplier_performance",)
VIEWS_LINEAGE = "+path:models/marts/analytics"


def catalog(db: psycopg.Connection) -> dict[str, tuple[int, int]]:
    """view -> (oid, relfilenode)."""
    rows = db.execute("select relname, oid::bigint, relfilenode::bigint from pg_class"
                      " where relnamespace = 'analytics'::regnamespace and relkind = 'm'").fetchall()
    return {name: (oid, filenode) for name, oid, filenode in rows}


def fact_totals(db: psycopg.Connection) -> tuple[int, object]:
    return db.execute("select count(*), sum(gross_amount) from transactions.fct_sales").fetchone()


def view_totals(db: psycopg.Connection) -> dict[str, tuple]:
    """What each view says about the sales it counts (orders/units and revenue in home currency)."""
    return {
        "mv_executive_metrics": db.execute(
            "select sum(orders), sum(revenue_home) from analytics.mv_executive_metrics").fetchone(),
        "mv_platform_performance": db.execute(
            "select sum(orders), sum(revenue_home) from analytics.mv_platform_performance").fetchone(),
        "mv_customer_geography": db.execute(
            "select sum(orders), sum(revenue_home) from analytics.mv_customer_geography").fetchone(),
        "mv_product_performance": db.execute(
            "select sum(units_sold), sum(revenue_home) from analytics.mv_product_performance").fetchone(),
    }


@pytest.fixture
def stale_warehouse(database_copy, demo_reports, tmp_path):
    """Views built on the older report; the newer report loaded and the facts rebuilt without them.

    The first build (the older report and the purchases sheet loaded, the views' lineage built)
    is a template database shared with test_kpi_view_refresh; this test works on its own copy."""
    database_url, _ = database_copy("demo_views_on_older_report", build_demo_views_on_older_report)
    with psycopg.connect(database_url, autocommit=True) as db:
        before = {"catalog": catalog(db), "facts": fact_totals(db), "views": view_totals(db)}
    with psycopg.connect(database_url) as conn:
        assert load_file(conn, load_format("stockx_sales_report"), demo_reports[1]).rows_quarantined == 0
    # Facts only (every mart the views read, products included, is replaced in place).
    dbt_ok(database_url, tmp_path / "target", "build", "--select", VIEWS_LINEAGE,
        "--exclude", "path:models/marts/analytics", "--indirect-selection", "cautious")
    return database_url, before


@pytest.fixture
def db(stale_warehouse):
    """Autocommit: the test's reads never hold locks while the job runs."""
    with psycopg.connect(stale_warehouse[0], autocommit=True) as connection:
        yield connection


def test_hourly_job_refreshes_its_views_concurrently_in_place(stale_warehouse, db, tmp_path):
    url, before = stale_warehouse
    facts = fact_totals(db)
    assert facts[0] == 300 > before["facts"][0]  # the newer report added sales
    stale = view_totals(db)
    assert stale == before["views"]  # nothing refreshed the views yet
    for view in ("mv_executive_metrics", "mv_platform_performance", "mv_customer_geography"):
        assert stale[view] == before["facts"], view  # views agree with the facts they were built on

    saved_env = dict(os.environ)  # the dbt asset exports SOLEFLIPPER_PG* for its subprocess
    try:
        local = dg.Definitions(
            assets=defs.assets,
            jobs=defs.jobs,
            resources={
                "warehouse": WarehouseResource(database_url=url),
                "dbt": dbt_resource(),
                "imports": ImportFolderResource(root=str(tmp_path / "imports")),
            },
        )
        job = local.resolve_job_def("refresh_kpi_views_hourly")
        result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    assert materialized == {dg.AssetKey(["analytics", view]) for view in HOURLY}

    after = view_totals(db)
    # The hourly views now count every sale; the daily ones still show the older build.
    assert after["mv_executive_metrics"] == facts
    assert after["mv_platform_performance"] == facts
    assert after["mv_customer_geography"] == before["views"]["mv_customer_geography"]
    assert after["mv_product_performance"] == before["views"]["mv_product_performance"]
    # In place and concurrently: same relation, same file for the refreshed views.
    assert catalog(db) == before["catalog"]
    assert set(before["catalog"]) == {*HOURLY, *DAILY, *WEEKLY}
