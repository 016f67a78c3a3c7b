"""Blocking raw data checks (assets/checks_raw.py) stop bad rows before dbt and the KPI views.

On a copy of the built demo warehouse, one run imports a sales sheet and builds everything
downstream of raw/sheets_sales (staging, facts, the KPI views) with the raw data checks:

* a sheet whose second row is in currency ``ZZZ`` (three letters: the loader accepts it, ISO 4217
  does not) fails ``raw_schema`` with exactly that row, and the dbt step (every model and KPI
  view downstream) does not run;
* the same sheet with ``EUR`` passes every check and the KPI views are refreshed.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from warehouse_datasets import build_demo_warehouse, write_csv

from assets.dbt import warehouse_dbt_models
from assets.file_imports import build_file_import_asset
from resources.dbt import dbt_resource
from resources.imports import ImportFolderResource
from resources.warehouse import WarehouseResource

SALES_KEY = dg.AssetKey(["raw", "sheets_sales"])
HEADER = ["Sale Date", "Platform", "Order Number", "Style Code", "Product", "Size", "Sale Price", "Fees",
          "Payout", "Currency", "Notes"]
KPI_VIEWS = {dg.AssetKey(["analytics", v]) for v in (
    "mv_executive_metrics", "mv_product_performance", "mv_brand_analytics", "mv_platform_performance",
    "mv_inventory_status", "mv_customer_geography", "mv_supplier_performance")}


def sales_sheet(folder: Path, second_currency: str) -> Path:
    return write_csv(folder / "sales_sheet" / "my_sales.csv", HEADER, [
        ["2024-08-13", "Klekt", "K-1001", "DD1391-100", "Dunk Low Panda", "10", "150.00", "15.00", "135.00", "EUR",
         ""],
        ["2024-08-14", "Restocks", "R-2002", "DZ5485-612", "Jordan 1 High Chicago", "9", "310.00", "31.00",
         "279.00", second_currency, ""],
    ])


@pytest.fixture
def warehouse(database_copy):
    url, _ = database_copy("demo_warehouse", build_demo_warehouse)
    return url


def run_import(url: str, imports: Path) -> dg.ExecuteInProcessResult:
    saved = dict(os.environ)
    try:
        return dg.materialize(
            [build_file_import_asset("sales_sheet", group_name="sheets"), warehouse_dbt_models],
            selection=dg.AssetSelection.assets(SALES_KEY).downstream(),
            resources={"warehouse": WarehouseResource(database_url=url), "dbt": dbt_resource(),
                       "imports": ImportFolderResource(root=str(imports))},
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
        )
    finally:
        os.environ.clear()
        os.environ.update(saved)


def evaluations(result: dg.ExecuteInProcessResult) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    return {(e.asset_check_evaluation_data.asset_key.to_user_string(), e.asset_check_evaluation_data.check_name):
            e.asset_check_evaluation_data
            for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"}


def test_an_invalid_currency_fails_raw_schema_and_nothing_downstream_is_built(warehouse, tmp_path):
    imports = tmp_path / "imports"
    sales_sheet(imports, "ZZZ")
    result = run_import(warehouse, imports)

    assert not result.success
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert materialized == {SALES_KEY}  # the raw table only: no staging, fact or KPI view
    assert not materialized & KPI_VIEWS
    checks = evaluations(result)
    schema = checks[("raw/sheets_sales", "raw_schema")]
    assert (schema.passed, schema.severity) == (False, dg.AssetCheckSeverity.ERROR)
    assert schema.metadata["num_failures"].value == 1
    assert schema.metadata["failed_rows"].value == 1
    assert schema.metadata["rows_validated"].value == 2
    assert schema.metadata["failures_by_check"].value == {"currency: ISO 4217 currency code": 1}
    [sample] = schema.metadata["failure_sample"].value.records
    assert sample.data["column"] == "currency"
    assert sample.data["value"] == "ZZZ"
    assert sample.data["source_line"] == "3"
    assert sample.data["source"].endswith("my_sales.csv")
    # The other checks of the table pass: the rows were loaded as recorded, no duplicates.
    assert checks[("raw/sheets_sales", "raw_row_count")].passed
    assert checks[("raw/sheets_sales", "raw_row_count")].metadata["rows_loaded"].value == 2
    assert checks[("raw/sheets_sales", "raw_duplicates")].passed
    # The dbt step never started: the import step, which evaluates its blocking checks, failed.
    started = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    assert started == {"raw__sheets_sales"}
    failed = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert [e.step_key for e in failed] == ["raw__sheets_sales"]
    assert "blocking asset check" in failed[0].event_specific_data.error.message
    # The batch is rejected whole, so no later run builds from it: its rows are in raw.quarantine
    # with the check's finding, none in raw.sheets_sales, and the batch is marked failed.
    assert schema.metadata["batches_rejected"].value == 1
    assert schema.metadata["rows_moved_to_quarantine"].value == 2
    with psycopg.connect(warehouse) as conn:
        assert conn.execute("select count(*) from raw.sheets_sales where _source like '%my_sales.csv'"
                            ).fetchone()[0] == 0
        quarantined = conn.execute(
            "select line_number, reason, record ->> 'order_number', record ->> 'currency' from raw.quarantine"
            " where raw_table = 'sheets_sales' and source like '%my_sales.csv' order by line_number").fetchall()
        assert [(line, order, currency) for line, _, order, currency in quarantined] == [
            (2, "K-1001", "EUR"), (3, "R-2002", "ZZZ")]
        assert all(reason.startswith("batch rejected by blocking check(s): raw_schema: pandera schema: 1 failure(s)")
                   for _, reason, _, _ in quarantined)
        assert conn.execute("select status, rows_loaded, rows_quarantined from raw.load_batches"
                            " where raw_table = 'sheets_sales' and source like '%my_sales.csv'").fetchall() == [
            ("failed", 0, 2)]
    # The corrected file loads as a new batch and reaches the KPI views.
    sales_sheet(imports, "EUR")
    fixed = run_import(warehouse, imports)
    assert fixed.success
    assert KPI_VIEWS <= {e.asset_key for e in fixed.get_asset_materialization_events()}
    with psycopg.connect(warehouse) as conn:
        assert conn.execute("select count(*) from raw.sheets_sales where _source like '%my_sales.csv'"
                            ).fetchone()[0] == 2


def test_valid_rows_pass_every_check_and_the_kpi_views_are_refreshed(warehouse, tmp_path):
    imports = tmp_path / "imports"
    sales_sheet(imports, "EUR")
    result = run_import(warehouse, imports)

    assert result.success
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert KPI_VIEWS <= materialized
    checks = evaluations(result)
    assert {name: ev.passed for (key, name), ev in checks.items() if key == "raw/sheets_sales"} == {
        "raw_schema": True, "raw_row_count": True, "raw_duplicates": True, "raw_vocabulary": True}
    assert checks[("raw/sheets_sales", "raw_schema")].metadata["rows_validated"].value == 2
    assert checks[("raw/sheets_sales", "raw_schema")].metadata["num_failures"].value == 0
    # Error-severity dbt tests are checks too (dagster-dbt), blocking their downstream models.
    dbt_checks = [ev for (key, _), ev in checks.items() if key.startswith("analytics/")]
    assert dbt_checks and all(ev.passed for ev in dbt_checks)
