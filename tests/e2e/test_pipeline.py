"""The whole Dagster code location in-process, on a fresh database: ingest, dbt build, KPI views.

One module-scoped warehouse is materialized twice (the run takes ~15 s); every test reads it.
Expected numbers are computed here from the demo files with csv + Decimal, never by our parser.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from cli_runner import read_csv as _read
from conftest import _create_database, _drop_database

from pipelines.definitions import defs
from resources.dbt import dbt_project, dbt_resource
from resources.imports import ImportFolderResource
from resources.warehouse import WarehouseResource
from soleflipper.demo_data import write_demo_reports

pytestmark = pytest.mark.e2e

RAW_NODE = "raw__stockx_sales_report"
PAYOUT = "Total Gross Amount (Total Payout)"
PAYOUT_CCY = "Total Gross Amount (Total Payout) Currency"


@dataclass
class Materialized:
    database_url: str
    files: list[Path]  # in the order the asset loads them (the import folder, sorted by name)
    instance: dg.DagsterInstance
    first: dg.ExecuteInProcessResult
    second: dg.ExecuteInProcessResult
    job: dg.JobDefinition
    fct_after_first: list[tuple]
    kpis_after_first: list[tuple]


def _snapshot(url: str, query: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchall()


FCT_QUERY = "select * from transactions.fct_sales order by sale_id"
KPI_QUERY = "select * from analytics.mv_executive_metrics order by sale_date, platform"


@pytest.fixture(scope="module")
def materialized(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Materialized]:
    name, url = _create_database(pg_server)
    root = tmp_path_factory.mktemp("imports_root")
    files = write_demo_reports(root / "stockx_sales_report", n_sales=300, seed=11)
    saved_env = dict(os.environ)  # assets/dbt.py exports SOLEFLIPPER_PG* for the dbt subprocess
    try:
        local = dg.Definitions(
            assets=defs.assets,
            jobs=defs.jobs,
            resources={
                "warehouse": WarehouseResource(database_url=url),
                "dbt": dbt_resource(),
                "imports": ImportFolderResource(root=str(root)),
            },
        )
        job = local.resolve_job_def("refresh_everything")
        instance = dg.DagsterInstance.ephemeral()
        first = job.execute_in_process(instance=instance, raise_on_error=False)
        fct_after_first = _snapshot(url, FCT_QUERY) if first.success else []
        kpis_after_first = _snapshot(url, KPI_QUERY) if first.success else []
        second = job.execute_in_process(instance=instance, raise_on_error=False)
        yield Materialized(url, sorted(files), instance, first, second, job, fct_after_first, kpis_after_first)
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        _drop_database(pg_server, name)


def _raw_metadata(result: dg.ExecuteInProcessResult) -> dict:
    [materialization] = result.asset_materializations_for_node(RAW_NODE)
    assert materialization.asset_key == dg.AssetKey(["raw", "stockx_sales_report"])
    return {key: value.value for key, value in materialization.metadata.items()}


def _by_layout(files: list[Path]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(legacy 37-column rows, current 44-column rows)."""
    layouts = {("Payout ID" in _read(p)[0]): _read(p) for p in files}
    assert set(layouts) == {False, True}, "expected one legacy and one current-layout demo file"
    return layouts[False], layouts[True]


def _newest_versions(files: list[Path]) -> dict[str, dict[str, str]]:
    """Order number -> row of the newest version: the current (44-column) export wins."""
    legacy, current = _by_layout(files)
    return {r["Order Number"]: r for r in legacy} | {r["Order Number"]: r for r in current}


def test_first_run_succeeds_and_raw_metadata_counts_are_exact(materialized):
    assert materialized.first.success
    rows = [_read(p) for p in materialized.files]
    total = sum(len(r) for r in rows)
    # Rows of a later file whose order an earlier file already had arrive as new versions:
    # the legacy export lacks 7 columns, so the overlapping orders differ in content.
    seen: set[str] = set()
    changed = 0
    for file_rows in rows:
        orders = {r["Order Number"] for r in file_rows}
        assert len(orders) == len(file_rows)
        changed += len(orders & seen)
        seen |= orders
    assert len(seen) == 300 and changed > 0
    meta = _raw_metadata(materialized.first)
    assert {k: meta[k] for k in ("files", "files_failed", "rows_read", "rows_loaded", "rows_changed",
                                 "rows_duplicate", "rows_quarantined", "table_rows")} == {
        "files": 2, "files_failed": 0, "rows_read": total, "rows_loaded": total, "rows_changed": changed,
        "rows_duplicate": 0, "rows_quarantined": 0, "table_rows": total,
    }
    for path, file_rows in zip(materialized.files, rows, strict=True):
        assert f"| {path.name} | {len(file_rows)} | {len(file_rows)} |" in meta["loads"]
    with psycopg.connect(materialized.database_url) as conn:
        assert conn.execute("select count(*) from raw.stockx_sales_report").fetchone()[0] == total
        assert conn.execute("select count(*) from raw.load_batches where status = 'succeeded'").fetchone()[0] == 2


def test_every_asset_of_the_job_materialized_and_every_dbt_check_passed(materialized):
    result, job = materialized.first, materialized.job
    assert result.success
    materialized_keys = {e.asset_key for e in result.get_asset_materialization_events()}
    assert materialized_keys == set(job.asset_layer.selected_asset_keys)
    assert materialized_keys >= {
        dg.AssetKey(["raw", "stockx_sales_report"]),
        dg.AssetKey(["staging", "stg_stockx__sales_report"]),
        dg.AssetKey(["transactions", "fct_sales"]),
        dg.AssetKey(["analytics", "mv_executive_metrics"]),
    }
    evaluations = result.get_asset_check_evaluations()
    expected_checks = set(job.asset_layer.asset_graph.asset_check_keys)
    assert len(expected_checks) >= 20
    assert {e.asset_check_key for e in evaluations} == expected_checks
    assert len(evaluations) == len(expected_checks)
    failed = [e.asset_check_key.to_user_string() for e in evaluations if not e.passed]
    assert failed == []
    # the money reconciliation (a singular test) is among them
    assert dg.AssetCheckKey(dg.AssetKey(["transactions", "fct_sales"]),
                            "assert_fct_sales_payout_reconciles_with_raw") in expected_checks
    # Every data test of the dbt project ran and passed: tests on the raw source are reported
    # as observations of the raw asset, the rest as the checks above.
    manifest = json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))
    all_tests = {uid for uid, node in manifest["nodes"].items() if node["resource_type"] == "test"}
    # (the raw assets' own checks, assets/checks_raw.py, are not dbt tests: no unique_id)
    statuses = {e.metadata["unique_id"].value: e.metadata["status"].value for e in evaluations
                if "unique_id" in e.metadata}
    assert {e.asset_check_key.name for e in evaluations if "unique_id" not in e.metadata} == {
        "raw_schema", "raw_row_count", "raw_duplicates", "raw_vocabulary"}
    for event in result.get_asset_observation_events():
        observation = event.asset_observation_data.asset_observation
        if "unique_id" in observation.metadata:
            assert observation.asset_key.path[0] == "raw"
            statuses[observation.metadata["unique_id"].value] = observation.metadata["status"].value
    assert set(statuses) == all_tests and len(all_tests) > len(expected_checks)
    assert set(statuses.values()) == {"pass"}


def test_fct_sales_has_one_row_per_order_with_the_newest_payouts(materialized):
    assert materialized.first.success
    legacy, current = _by_layout(materialized.files)
    newest = _newest_versions(materialized.files)
    current_by_order = {r["Order Number"]: r for r in current}
    overlap = [r["Order Number"] for r in legacy if r["Order Number"] in current_by_order]
    assert overlap
    # Overlapping orders carry the same payout in both exports, so "which version" cannot shift money.
    legacy_by_order = {r["Order Number"]: r for r in legacy}
    assert all(Decimal(legacy_by_order[o][PAYOUT]) == Decimal(current_by_order[o][PAYOUT]) for o in overlap)

    expected_payout: dict[str, Decimal] = defaultdict(Decimal)
    for row in newest.values():
        expected_payout[row[PAYOUT_CCY]] += Decimal(row[PAYOUT])
    with psycopg.connect(materialized.database_url) as conn:
        n, distinct = conn.execute(
            "select count(*), count(distinct order_number) from transactions.fct_sales").fetchone()
        assert n == distinct == len(newest) == 300
        per_currency = dict(conn.execute(
            "select payout_currency, sum(payout_amount) from transactions.fct_sales group by 1").fetchall())
        per_order = dict(conn.execute("select order_number, payout_amount from transactions.fct_sales").fetchall())
        # The 44-column version won: columns only the current export has are filled in.
        buyer_country = dict(conn.execute(
            "select order_number, buyer_country from transactions.fct_sales where order_number = any(%s)",
            (overlap,)).fetchall())
    assert per_currency == dict(expected_payout)
    assert per_order == {o: Decimal(r[PAYOUT]) for o, r in newest.items()}
    expected_country = {o: current_by_order[o]["Buyer Destination Country"] for o in overlap}
    assert buyer_country == {o: (None if c in ("", "N/A") else c) for o, c in expected_country.items()}
    assert any(buyer_country.values())


def test_kpi_view_adds_up_to_fct_sales_and_the_files(materialized):
    assert materialized.first.success
    newest = _newest_versions(materialized.files)
    months: Counter[date] = Counter()
    payout_per_month: dict[date, Decimal] = defaultdict(Decimal)
    revenue = Decimal(0)
    for row in newest.values():
        month = date(int(row["Sale Date"][:4]), int(row["Sale Date"][5:7]), 1)  # "YYYY-MM-DD hh:mm:ss +00"
        assert row["Sale Date"].endswith(" +00")
        months[month] += 1
        payout_per_month[month] += Decimal(row[PAYOUT])
        revenue += Decimal(row["Listing Price"])
    with psycopg.connect(materialized.database_url) as conn:
        fact = conn.execute("select count(*), sum(gross_amount), sum(payout_amount) from transactions.fct_sales"
                            ).fetchone()
        # The demo sells in EUR, the home currency: home amounts are the files' amounts.
        kpi = conn.execute("select sum(orders), sum(revenue_home), sum(payout_home), count(distinct sale_month),"
                           " min(home_currency), max(home_currency) from analytics.mv_executive_metrics").fetchone()
        per_month = {m: (o, p) for m, o, p in conn.execute(
            "select sale_month, sum(orders), sum(payout_home) from analytics.mv_executive_metrics"
            " where platform = 'stockx' group by sale_month")}
    assert kpi[:3] == fact == (300, revenue, sum(payout_per_month.values()))
    assert kpi[3] == len(months) > 1
    assert kpi[4:] == ("EUR", "EUR")
    assert per_month == {m: (months[m], payout_per_month[m]) for m in months}


def test_second_run_loads_nothing_and_leaves_the_warehouse_unchanged(materialized):
    assert materialized.first.success and materialized.second.success
    sizes = [len(_read(p)) for p in materialized.files]
    meta = _raw_metadata(materialized.second)
    assert {k: meta[k] for k in ("rows_read", "rows_loaded", "rows_changed", "rows_duplicate",
                                 "rows_quarantined", "table_rows")} == {
        "rows_read": sum(sizes), "rows_loaded": 0, "rows_changed": 0, "rows_duplicate": sum(sizes),
        "rows_quarantined": 0, "table_rows": sum(sizes),
    }
    messages = [e.user_message for e in materialized.instance.all_logs(materialized.second.run_id)]
    for path, n in zip(materialized.files, sizes, strict=True):
        assert f"{path.name}: already loaded (0 new, {n} duplicate rows)" in messages
    assert len(materialized.fct_after_first) == 300
    assert _snapshot(materialized.database_url, FCT_QUERY) == materialized.fct_after_first
    assert _snapshot(materialized.database_url, KPI_QUERY) == materialized.kpis_after_first
    with psycopg.connect(materialized.database_url) as conn:
        assert conn.execute("select count(*) from raw.load_batches").fetchone()[0] == 2
