"""The Budibase app configuration: the committed file is what the generator makes from the dbt
manifest (drift check), and it holds the datasource, the queries and the screens with the
validations of the original plan."""

from __future__ import annotations

import copy
import gzip
import io
import json
import tarfile

import pytest

from soleflipper.budibase.app import (
    APP_FILE,
    DATASOURCE_ID,
    AppSpecError,
    build_app,
    check_app,
    dump_text,
    load_manifest,
    read_app,
    render,
    table_id,
    write_export,
)
from soleflipper.budibase.entries import validate_records
from soleflipper.budibase.entry_tables import ENTRY_TABLES
from soleflipper.csv_parsing import ParsedRow, RowError


@pytest.fixture(scope="module")
def manifest() -> dict:
    return load_manifest()


@pytest.fixture(scope="module")
def app(manifest) -> dict:
    return build_app(manifest)


def _components(component: dict):
    yield component
    for child in component.get("_children", []):
        yield from _components(child)


def _screen(app: dict, route: str) -> dict[str, dict]:
    screen = next(d for d in app["docs"] if d.get("routing", {}).get("route") == route)
    return {c["_id"]: c for c in _components(screen["props"])}


def test_committed_file_is_the_generated_one(app):
    """Drift check: regenerate with `soleflipper budibase generate` after changing the entry
    tables' documentation (_budibase__sources.yml) or soleflipper/budibase/app.py."""
    assert APP_FILE.read_text(encoding="utf-8") == render(app)
    assert read_app()["content_sha256"] == app["content_sha256"]


def test_a_hand_edited_file_is_refused(app, tmp_path):
    edited = copy.deepcopy(app)
    edited["docs"][0]["name"] = "Edited"
    path = tmp_path / "app.json"
    path.write_text(render(edited), encoding="utf-8")
    with pytest.raises(AppSpecError, match="content_sha256 does not match the content"):
        read_app(path)


def test_datasource_is_postgres_on_the_entry_tables_without_secrets(app):
    assert check_app(app) == []
    datasource = next(d for d in app["docs"] if d["_id"] == DATASOURCE_ID)
    assert (datasource["source"], datasource["plus"], datasource["type"]) == ("POSTGRES", True, "datasource")
    assert datasource["config"] == {
        "host": "{{ env.SOLEFLIPPER_PG_HOST }}", "port": "{{ env.SOLEFLIPPER_PG_PORT }}",
        "database": "{{ env.SOLEFLIPPER_PG_DATABASE }}", "user": "{{ env.SOLEFLIPPER_PG_USER }}",
        "password": "{{ env.SOLEFLIPPER_PG_PASSWORD }}", "schema": "entry", "ssl": False,
        "rejectUnauthorized": True}
    assert sorted(datasource["entities"]) == ["purchases", "sales", "suppliers"]
    sales = datasource["entities"]["sales"]
    assert (sales["_id"], sales["primary"]) == (table_id("sales"), ["sale_id"])
    assert sales["schema"]["sale_price"]["externalType"] == "numeric(12,2)"
    assert sales["schema"]["platform"]["constraints"]["inclusion"][:2] == ["stockx", "alias"]
    assert sales["schema"]["sale_id"]["autocolumn"] is True


def test_queries_read_the_entry_tables_and_marts(app):
    queries = {d["name"]: d for d in app["docs"] if d["_id"].startswith("query_")}
    assert sorted(queries) == ["pairs_in_stock", "purchase_for_sale", "sales_list", "sales_totals",
                               "supplier_overview", "suppliers_for_forms"]
    totals = queries["sales_totals"]
    assert totals["fields"]["sql"] == (
        "select count(*) as sales_count, coalesce(sum(e.profit_home), 0) as total_profit_home,"
        " round(avg(e.roi) * 100, 2) as avg_roi_pct, min(e.home_currency) as home_currency"
        " from finance.fct_unit_economics e where e.sale_date >= current_date - {{ days }}::integer"
        " and (nullif({{ supplier }}, '') is null or e.supplier_key = {{ supplier }})")
    assert totals["parameters"] == [{"name": "days", "default": "30"}, {"name": "supplier", "default": ""}]
    assert "analytics.mv_supplier_performance" in queries["supplier_overview"]["fields"]["sql"]
    assert all(q["queryVerb"] == "read" and q["datasourceId"] == DATASOURCE_ID for q in queries.values())


def test_purchase_form_validations(app):
    comps = _screen(app, "/purchases/new")
    form = comps["purchase-form"]
    assert (form["dataSource"]["tableId"], form["actionType"]) == (table_id("purchases"), "Create")
    fields = [c["field"] for c in comps["purchase-form-fields"]["_children"]]
    assert fields == ["supplier_id", "purchase_date", "style_code", "product_name", "brand", "size", "net_price",
                      "gross_price", "vat_rate", "currency", "order_number", "invoice_number", "delivery_date",
                      "notes"]
    required = {c["field"] for c in comps["purchase-form-fields"]["_children"]
                if any(r["constraint"] == "required" for r in c["validation"])}
    assert required == {"supplier_id", "purchase_date", "style_code", "size", "net_price", "currency"}
    assert comps["purchase-form-net_price"]["validation"][1] == {
        "type": "number", "constraint": "minValue", "value": 0, "error": "Net price must be at least 0"}
    assert comps["purchase-form-gross_price"]["validation"] == [{
        "type": "number", "constraint": "minValue", "value": "{{ [purchase-form].[Value].[net_price] }}",
        "error": "Gross price may not be before / below net price"}]
    supplier = comps["purchase-form-supplier_id"]
    assert (supplier["_component"], supplier["optionsSource"], supplier["autocomplete"]) == (
        "@budibase/standard-components/optionsfield", "provider", True)
    assert comps["purchase-form-purchase_date"]["helpText"] == "Day the pair was bought."
    assert [a["##eventHandlerType"] for a in comps["purchase-form-save"]["onClick"]] == [
        "Validate Form", "Save Row", "Navigate To"]


def test_sale_form_validations(app):
    comps = _screen(app, "/sales/new/:purchase_id")
    rules = {c["field"]: c["validation"] for c in comps["sale-form-fields"]["_children"]}
    # sale date >= the purchase date of the pair being sold
    assert rules["sale_date"] == [
        {"type": "string", "constraint": "required", "value": None, "error": "Sale date is required"},
        {"type": "datetime", "constraint": "minValue", "value": "{{ [sale-purchase].[purchase_date] }}",
         "error": "Sale date may not be before the purchase date"}]
    assert rules["order_number"][0]["constraint"] == "regex"
    assert comps["sale-form"]["initialValues"] == {"purchase_id": "{{ [sale-purchase].[purchase_id] }}"}
    assert comps["sale-provider"]["dataSource"]["queryParams"] == {"purchase_id": "{{ url.purchase_id }}"}


def test_sales_list_and_supplier_screens(app):
    comps = _screen(app, "/sales")
    assert [comps[c]["title"] for c in ("totals-count", "totals-profit", "totals-roi")] == [
        "Sales", "Total profit", "Average ROI"]
    assert comps["sales-table"]["allowExportRows"] is True
    suppliers = _screen(app, "/suppliers")
    assert [c["name"] for c in suppliers["supplier-table"]["columns"]] == [
        "name", "supplier_type", "country", "orders", "units_sold", "profit_home", "avg_roi_pct"]
    assert suppliers["supplier-form"]["dataSource"]["tableId"] == table_id("suppliers")


def test_missing_manifest_column_is_named(manifest):
    broken = copy.deepcopy(manifest)
    source = next(n for n in broken["sources"].values() if n["source_name"] == "entry" and n["name"] == "sales")
    del source["columns"]["sale_date"]
    with pytest.raises(AppSpecError, match="source entry.sales has no column sale_date"):
        build_app(broken)


def test_export_archive_holds_the_documents_as_a_pouchdb_dump(app, tmp_path):
    path = write_export(app, tmp_path / "a.tar.gz")
    assert write_export(app, tmp_path / "b.tar.gz").read_bytes() == path.read_bytes()  # reproducible
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(path.read_bytes()))) as tar:
        assert tar.getnames() == ["db.txt"]
        lines = tar.extractfile("db.txt").read().decode().splitlines()
    assert "\n".join(lines) + "\n" == dump_text(app)
    header, docs, seq = (json.loads(line) for line in lines)
    assert header["db_info"]["doc_count"] == len(app["docs"]) == seq["seq"] == 12
    assert [d["_id"] for d in docs["docs"]] == [d["_id"] for d in app["docs"]]
    assert all(d["_rev"].startswith("1-") and len(d["_rev"]) == 34 for d in docs["docs"])


def test_entry_records_are_validated_with_table_key_and_field():
    sales = next(e for e in ENTRY_TABLES if e.table == "sales")
    record = {"sale_id": 7, "purchase_id": 3, "platform": "stockx", "order_number": "1-2", "sale_date": "2024-13-01",
              "sale_price": "10.00", "fees": None, "payout": None, "currency": "EUR", "notes": None,
              "entered_at": "2024-01-01T00:00:00+00:00", "updated_at": "2024-01-01T00:00:00+00:00"}
    good = {**record, "sale_id": 8, "sale_date": "2024-12-01"}
    bad, ok = validate_records(sales, [record, good])
    assert isinstance(bad, RowError) and (bad.line, bad.field) == (7, "sale_date")
    assert bad.reason.startswith("entry.sales sale_id=7, field sale_date: ")
    assert isinstance(ok, ParsedRow) and ok.line == 8 and ok.values[4] == "2024-12-01"
