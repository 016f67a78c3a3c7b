"""Raw data checks (assets/checks_raw.py) on a fresh database: row counts, duplicates, the scope of
"this run's batches", and the StockX and Notion simulators' data (good data passes).

No dbt here: each run materializes raw assets, which evaluate their own checks."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import psycopg
import pytest
from warehouse_datasets import STOCKX_REPORT_HEADER, stockx_report_rows, write_csv

from assets.checks_raw import database_now, raw_check_results
from assets.file_imports import build_file_import_asset
from assets.notion import notion_assets
from assets.stockx import stockx_catalog, stockx_orders
from resources.imports import ImportFolderResource
from resources.notion import NotionResource
from resources.stockx import StockXResource
from resources.token_store import new_key
from resources.warehouse import WarehouseResource
from simulators.notion import NotionSimulator
from simulators.notion_data import SEED_NOW
from simulators.stockx import (
    DEMO_API_KEY,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REDIRECT_URI,
    StockXSimulator,
)

REPORT = dg.AssetKey(["raw", "stockx_sales_report"])
SALES = dg.AssetKey(["raw", "sheets_sales"])
SALE = ("2024-03-01 10:00:00+00", "Dunk Low Panda", "10", "DD1391-100", "120", "105")


def run(assets, url: str, imports: Path, instance=None, selection=None, extra=None) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        assets, selection=selection,
        resources={"warehouse": WarehouseResource(database_url=url),
                   "imports": ImportFolderResource(root=str(imports)), **(extra or {})},
        instance=instance or dg.DagsterInstance.ephemeral(), raise_on_error=False)


def evaluations(result) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    return {(e.asset_check_evaluation_data.asset_key.path[-1], e.asset_check_evaluation_data.check_name):
            e.asset_check_evaluation_data
            for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}


def meta(evaluation: dg.AssetCheckEvaluation) -> dict:
    return {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()}


def import_report(tmp_path: Path, name: str, sales: dict) -> Path:
    write_csv(tmp_path / "imports" / "stockx_sales_report" / name, STOCKX_REPORT_HEADER, stockx_report_rows(sales))
    return tmp_path / "imports"


def test_one_order_twice_in_one_file_fails_raw_duplicates(database_url, tmp_path):
    imports = import_report(tmp_path, "a.csv", {"11111111-22222222": SALE, "33333333-44444444": SALE})
    write_csv(imports / "stockx_sales_report" / "b.csv", STOCKX_REPORT_HEADER, [
        *stockx_report_rows({"33333333-44444444": SALE}),  # as in a.csv: a duplicate, not loaded again
        *stockx_report_rows({"11111111-22222222": (*SALE[:4], "130", "114")}),
        *stockx_report_rows({"11111111-22222222": (*SALE[:4], "140", "123")}),
    ])
    first = run([build_file_import_asset("stockx_sales_report", "stockx")], database_url, imports,
                selection=[REPORT])
    checks = evaluations(first)
    dup = checks[("stockx_sales_report", "raw_duplicates")]
    assert not dup.passed and dup.severity == dg.AssetCheckSeverity.ERROR
    found = meta(dup)
    # a.csv is one batch (no duplicate), b.csv another: its order 11111111-22222222 twice (two
    # prices: which one is current?), its first row the very row of a.csv (skipped by the loader).
    assert (found["batches"], found["duplicate_keys_in_batch"], found["rows_identical_to_earlier_batch"],
            found["rows_not_keyed_by_content_hash"]) == (2, 1, 0, 0)
    assert "11111111-22222222: 2 rows in batch" in found["duplicates"]
    counts = meta(checks[("stockx_sales_report", "raw_row_count")])
    assert checks[("stockx_sales_report", "raw_row_count")].passed
    assert (counts["rows_read"], counts["rows_loaded"], counts["rows_duplicate"], counts["rows_quarantined"]) == \
        (5, 4, 1, 0)
    assert checks[("stockx_sales_report", "raw_schema")].passed
    assert meta(checks[("stockx_sales_report", "raw_schema")])["rows_validated"] == 4
    assert not first.success  # the blocking check failed the run


def test_a_file_whose_every_row_is_quarantined_fails_raw_row_count(database_url, tmp_path):
    header = ["Sale Date", "Platform", "Order Number", "Style Code", "Size", "Sale Price", "Fees", "Payout"]
    write_csv(tmp_path / "imports" / "sales_sheet" / "bad.csv", header,
              [["not a date", "Klekt", "K-1", "DD1391-100", "10", "100", "", ""],
               ["2024-02-30", "Klekt", "K-2", "DD1391-100", "10", "90", "", ""]])
    result = run([build_file_import_asset("sales_sheet", "sheets")], database_url, tmp_path / "imports",
                 selection=[SALES])
    count = evaluations(result)[("sheets_sales", "raw_row_count")]
    assert not count.passed
    found = meta(count)
    assert (found["rows_read"], found["rows_loaded"], found["rows_quarantined"], found["table_empty"]) == \
        (2, 0, 2, True)
    assert "raw.sheets_sales is empty although batches were loaded" in count.description
    assert evaluations(result)[("sheets_sales", "raw_schema")].passed  # no row to validate


def test_a_second_run_of_an_already_loaded_file_validates_nothing_new(database_url, tmp_path):
    imports = import_report(tmp_path, "a.csv", {"11111111-22222222": SALE})
    instance = dg.DagsterInstance.ephemeral()
    asset = build_file_import_asset("stockx_sales_report", "stockx")
    first = run([asset], database_url, imports, instance=instance, selection=[REPORT])
    again = run([asset], database_url, imports, instance=instance, selection=[REPORT])
    assert first.success and again.success
    assert meta(evaluations(first)[("stockx_sales_report", "raw_schema")])["rows_validated"] == 1
    second = evaluations(again)
    assert meta(second[("stockx_sales_report", "raw_schema")])["rows_validated"] == 0
    assert meta(second[("stockx_sales_report", "raw_row_count")])["batches"] == 0
    assert second[("stockx_sales_report", "raw_row_count")].passed  # the table still has its row


def test_a_row_written_around_the_loader_fails_raw_duplicates(database_url, tmp_path):
    imports = import_report(tmp_path, "a.csv", {"11111111-22222222": SALE})
    assert run([build_file_import_asset("stockx_sales_report", "stockx")], database_url, imports,
               selection=[REPORT]).success
    with psycopg.connect(database_url) as conn:  # a copy of the row in a new batch, with a random key
        since = database_now(conn)
        batch = conn.execute("select gen_random_uuid()").fetchone()[0]
        conn.execute("create temp table copy as select * from raw.stockx_sales_report")
        conn.execute("update copy set _batch_id = %s, _row_hash = gen_random_uuid(), _loaded_at = now()", (batch,))
        conn.execute("insert into raw.stockx_sales_report select * from copy")
        conn.execute("insert into raw.load_batches (batch_id, format, raw_table, source, status, rows_read,"
                     " rows_loaded, started_at) values (%s, 'stockx_sales_report', 'stockx_sales_report',"
                     " 'by hand', 'succeeded', 1, 1, now())", (batch,))
        conn.commit()
        found = {r.check_name: r for r in raw_check_results(conn, REPORT, since)}
    dup = {k: getattr(v, "value", v) for k, v in found["raw_duplicates"].metadata.items()}
    assert not found["raw_duplicates"].passed
    assert dup["scope"] == "batches loaded by this materialization"
    assert dup["batch_ids"] == [str(batch)]
    assert (dup["duplicate_keys_in_batch"], dup["rows_identical_to_earlier_batch"],
            dup["rows_not_keyed_by_content_hash"]) == (0, 1, 1)
    assert found["raw_row_count"].passed  # 1 row recorded, 1 row there


# -------------------------------------------------------------------- the API simulators' data


@pytest.fixture
def stockx_sim():
    with StockXSimulator(rate_limit=False, seed=7, n_sales=120) as simulator:
        yield simulator


def test_the_stockx_simulators_orders_and_catalog_pass_and_an_unknown_status_warns(stockx_sim, database_url,
                                                                                  tmp_path, conn):
    stockx = StockXResource(
        base_url=stockx_sim.api_base_url, auth_url=stockx_sim.auth_url, api_key=DEMO_API_KEY,
        client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, redirect_uri=DEMO_REDIRECT_URI,
        database_url=database_url, fernet_key=new_key(), requests_per_second=0, daily_budget=25_000)
    with stockx.get_client() as client:
        client.exchange_code(stockx_sim.issue_code(DEMO_REDIRECT_URI))
    keys = [dg.AssetKey(["raw", t]) for t in ("stockx_orders", "stockx_products", "stockx_variants")]
    result = run([stockx_orders, stockx_catalog], database_url, tmp_path / "imports", extra={"stockx": stockx})
    assert result.success
    found = evaluations(result)
    assert {(k, n) for k, n in found} == {(key.path[-1], n) for key in keys for n in
                                          ("raw_schema", "raw_row_count", "raw_duplicates", "raw_vocabulary")}
    unknown = conn.execute("select count(*) from raw.stockx_orders where status = 'RETURN_TO_SELLER'").fetchone()[0]
    assert unknown >= 1  # the simulator's order in a status outside StockX's published enums
    for (table, name), evaluation in found.items():
        if (table, name) == ("stockx_orders", "raw_vocabulary"):
            assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
            assert meta(evaluation)["failures_by_check"] == {"status: one of 18 known values": unknown}
        else:
            assert evaluation.passed, (table, name, evaluation.description)
    loaded = conn.execute("select count(*) from raw.stockx_orders").fetchone()[0]
    assert meta(found[("stockx_orders", "raw_schema")])["rows_validated"] == loaded


def test_the_notion_simulators_pages_pass_every_check(database_url, tmp_path, conn):
    token = "secret_raw_checks_test"
    simulator = NotionSimulator(token=token, requests_per_second=None, n_purchases=20)
    simulator.clock.set(SEED_NOW)
    simulator.start()
    try:
        result = run(notion_assets, database_url, tmp_path / "imports", extra={
            "notion": NotionResource(token=token, base_url=simulator.url("/v1"), requests_per_second=1000.0,
                                     max_attempts=1)})
    finally:
        simulator.stop()
    assert result.success
    found = evaluations(result)
    assert len(found) == 8
    assert all(ev.passed for ev in found.values()), {k: ev.description for k, ev in found.items() if not ev.passed}
    for table in ("notion_purchases", "notion_sales"):
        rows = conn.execute(f"select count(*) from raw.{table}").fetchone()[0]  # noqa: S608
        assert meta(found[(table, "raw_schema")])["rows_validated"] == rows > 0
        assert meta(found[(table, "raw_duplicates")])["applies"] is True
