"""SQL built from configuration: a hostile name is rejected with a clear error or quoted harmlessly.

Every place where a table, column, schema or role name comes from configuration (format YAML,
Notion mapping and the properties of a Notion workspace, Metabase dashboard YAML, the dbt manifest
the Budibase app is generated from, SOLEFLIPPER_BI_ROLE and the mart relations the BI role is granted) is fed the same hostile name. Each test
ends by proving ``raw.stockx_sales_report`` still exists: an unquoted name would have dropped it.
"""

from __future__ import annotations

import dataclasses
import json
import random
import uuid

import psycopg
import pytest
from psycopg import sql

from assets.notion_sync import prop_column_name, sync_database
from resources.notion import NotionClient
from resources.warehouse import LoadError, ensure_raw_table, load_rows
from simulators.notion import NotionSimulator
from simulators.notion_data import SEED_NOW, Prop
from soleflipper.bi.dashboards import Card, Dashboard, DashboardSpecError, FieldFilter, check_against_manifest
from soleflipper.bi.role import bi_role_name, ensure_bi_role
from soleflipper.budibase.app import AppSpecError, model_relation
from soleflipper.csv_parsing import ParsedRow
from soleflipper.formats import FormatError, load_format, parse_format
from soleflipper.notion_mappings import load_mapping
from soleflipper.notion_properties import MappingError, parse_mapping

EVIL = 'x"; drop table raw.stockx_sales_report; --'
EVIL_SLUG = "prop_x_drop_table_raw_stockx_sales_report"
NOT_A_NAME = f"{EVIL!r} is not a valid name (lower-case letters, digits, _)"


@pytest.fixture
def victim(conn) -> psycopg.Connection:
    """A database with the table the hostile name tries to drop."""
    conn.autocommit = True
    ensure_raw_table(conn, load_format("stockx_sales_report"))
    return conn


def victim_survives(conn: psycopg.Connection) -> bool:
    return conn.execute("select to_regclass('raw.stockx_sales_report') is not null").fetchone()[0]


# -- format YAML (the loader's tables and columns) -------------------------------------------------

FORMAT = {"name": "demo", "source": "test", "entity": "demo", "natural_key": ["title"],
          "columns": [{"name": "title", "header": "Title"}, {"name": "price", "header": "Price", "type": "numeric"}]}


def _format_with(**changes) -> dict:
    data = {**FORMAT, "columns": [dict(c) for c in FORMAT["columns"]]}
    column = changes.pop("column", None)
    if column:
        data["columns"][0]["name"] = column
    return data | changes


@pytest.mark.parametrize(("data", "message"), [
    (_format_with(name=EVIL), f"f.yaml: name: {NOT_A_NAME}"),
    (_format_with(source=EVIL), f"f.yaml: source: {NOT_A_NAME}"),
    (_format_with(entity=EVIL), f"f.yaml: entity: {NOT_A_NAME}"),
    (_format_with(column=EVIL, natural_key=[]), f"f.yaml: columns[0]: {NOT_A_NAME}"),
    (_format_with(constants={EVIL: "x"}), f"f.yaml: constants.{EVIL}: {NOT_A_NAME}"),
    (_format_with(natural_key=[EVIL]), f"f.yaml: natural_key column {EVIL!r} is not a column"),
])
def test_a_format_with_a_hostile_table_or_column_name_is_rejected(data, message):
    with pytest.raises(FormatError) as caught:
        parse_format(data, "f.yaml")
    assert str(caught.value) == message


def test_the_loader_quotes_column_names_even_past_the_format_check(victim):
    fmt = parse_format(FORMAT, "f.yaml")
    hostile = dataclasses.replace(fmt, natural_key=(EVIL,), columns=(
        dataclasses.replace(fmt.columns[0], name=EVIL), fmt.columns[1]))  # as if the check were skipped
    ensure_raw_table(victim, hostile)
    result = load_rows(victim, hostile, [ParsedRow(2, ["Jordan 1", "120.5"], None)], source="hostile.csv")
    assert (result.rows_loaded, result.rows_quarantined) == (1, 0)
    stored = victim.execute(sql.SQL("select {}, price from raw.test_demo").format(sql.Identifier(EVIL))).fetchall()
    assert [(title, str(price)) for title, price in stored] == [("Jordan 1", "120.5")]
    assert victim_survives(victim)


def test_a_hostile_table_name_past_the_format_check_fails_before_any_ddl(victim):
    hostile = dataclasses.replace(parse_format(FORMAT, "f.yaml"), entity=EVIL)
    with pytest.raises(LoadError, match=r"raw table name .* refused: not a plain name"):
        ensure_raw_table(victim, hostile)  # before any SQL (PostgreSQL 16's to_regclass would accept it)
    tables = victim.execute("select table_name from information_schema.tables where table_schema = 'raw'"
                            " order by 1").fetchall()
    assert tables == [("load_batches",), ("quarantine",), ("stockx_sales_report",)]


# -- Notion: the mapping file, and property names from the workspace itself -------------------------

def test_a_notion_mapping_with_a_hostile_table_or_column_is_rejected():
    for section, where in (
        ({"table": EVIL, "properties": {"SKU": "sku"}}, "m.yaml: databases.purchases: table"),
        ({"properties": {"SKU": EVIL}}, "m.yaml: databases.purchases: properties['SKU']: column"),
    ):
        with pytest.raises(MappingError) as caught:
            parse_mapping({"databases": {"purchases": section}}, "m.yaml")
        assert str(caught.value) == f"{where}: {NOT_A_NAME}"


def test_a_hostile_notion_property_name_becomes_a_plain_column_and_a_quoted_comment(victim, database_url):
    assert prop_column_name(EVIL, []) == EVIL_SLUG
    assert prop_column_name(EVIL, [EVIL_SLUG]) == EVIL_SLUG + "_2"
    sim = NotionSimulator(token="secret_sql_identifiers_test", requests_per_second=None, n_purchases=5)
    sim.clock.set(SEED_NOW)
    sim.workspace.databases["purchases"].props[EVIL] = Prop(EVIL, "rich_text", "ev%3Al", {})
    page = next(p.id for p in sim.workspace.pages.values() if p.db == "purchases")
    with sim, NotionClient("secret_sql_identifiers_test", base_url=sim.url("/v1"), requests_per_second=None,
                           rng=random.Random(7), timeout=5.0) as client:
        sim.edit(page, {EVIL: "Robert'); drop table raw.stockx_sales_report; --"})
        with psycopg.connect(database_url) as connection:
            result = sync_database(client, connection, None, load_mapping(env={}).databases["purchases"])
    assert result.unmapped_properties == {EVIL: EVIL_SLUG} and result.new_columns == [EVIL_SLUG]
    values = victim.execute(sql.SQL("select {} from raw.notion_purchases where {} is not null").format(
        sql.Identifier(EVIL_SLUG), sql.Identifier(EVIL_SLUG))).fetchall()
    assert values == [("Robert'); drop table raw.stockx_sales_report; --",)]
    comment = victim.execute("select col_description('raw.notion_purchases'::regclass, attnum) from pg_attribute"
                             " where attrelid = 'raw.notion_purchases'::regclass and attname = %s",
                             (EVIL_SLUG,)).fetchone()[0]
    assert json.loads(comment.removeprefix("notion_sync: ")) == {"property": EVIL, "notion_type": "rich_text"}
    assert victim_survives(victim)


# -- Metabase dashboards (YAML cards are SQL, checked against the dbt manifest) ----------------------

MANIFEST = {"nodes": {"model.soleflipper.mv_executive_metrics": {
    "resource_type": "model", "schema": "analytics", "name": "mv_executive_metrics", "alias": "mv_executive_metrics",
    "columns": {"sale_date": {}, "revenue_home": {}}}}, "sources": {}}
SELECT = "select sum(revenue_home) as revenue_home from analytics.mv_executive_metrics"


def _check(sql_text: str, filters: dict[str, FieldFilter] | None = None) -> str:
    card = Card(key="sales.revenue", name="Revenue", display="scalar", sql=sql_text, filters=filters or {},
                row=0, col=0, size_x=6, size_y=3, visualization_settings={}, source="bi/x.yaml")
    dashboard = Dashboard(key="sales", name="Sales", description="", cards=(card,), source_file=None, parameters=())
    with pytest.raises(DashboardSpecError) as caught:
        check_against_manifest([dashboard], MANIFEST)
    return str(caught.value)


@pytest.mark.parametrize(("sql_text", "message"), [
    (f"{SELECT}; drop table raw.stockx_sales_report",
     "SQL must be exactly one SELECT statement, found: SELECT, DROP"),
    (f"{SELECT}; drop table raw.stockx_sales_report; --",
     "SQL must be exactly one SELECT statement, found: SELECT, DROP"),
    ("drop table raw.stockx_sales_report", "SQL must be exactly one SELECT statement, found: DROP"),
    (f'select 1 as one from analytics."{EVIL}"', "SQL must be exactly one SELECT statement, found: SELECT, DROP"),  # noqa: S608
    (f"select 1 as one from analytics.{EVIL}", "SQL does not parse: Error tokenizing"),  # noqa: S608
])
def test_a_dashboard_card_smuggling_a_statement_or_a_hostile_name_is_rejected(sql_text, message):
    assert _check(sql_text).startswith(f"bi/x.yaml: card sales.revenue: {message}")


def test_a_dashboard_filter_on_a_hostile_table_is_rejected():
    hostile = FieldFilter("date_range", "analytics", EVIL, "sale_date", "date/all-options")
    assert _check(f"{SELECT} where true [[and {{{{sale_date}}}}]]", {"sale_date": hostile}) == (
        f"bi/x.yaml: card sales.revenue: filter sale_date: table analytics.{EVIL} is not a dbt model, seed or source")


def test_single_select_statements_still_pass():
    card = Card(key="sales.revenue", name="Revenue", display="scalar", sql=f"{SELECT};", filters={},
                row=0, col=0, size_x=6, size_y=3, visualization_settings={}, source="bi/x.yaml")
    check_against_manifest([Dashboard(key="sales", name="Sales", description="", cards=(card,), source_file=None,
                                      parameters=())], MANIFEST)  # a trailing semicolon is one statement


# -- the Budibase app's queries (relation names from the dbt manifest) -------------------------------

@pytest.mark.parametrize(("schema", "alias"), [("finance", EVIL), (EVIL, "fct_unit_economics"),
                                               ("Finance", "fct_unit_economics")])
def test_the_budibase_app_refuses_a_manifest_relation_that_is_not_a_plain_name(schema, alias):
    manifest = {"nodes": {"model.soleflipper.fct_unit_economics": {
        "resource_type": "model", "schema": schema, "name": "fct_unit_economics", "alias": alias,
        "columns": {"sale_id": {}}}}}
    with pytest.raises(AppSpecError) as caught:
        model_relation(manifest, "fct_unit_economics", ("sale_id",))
    assert str(caught.value) == (f"dbt manifest: model fct_unit_economics is {schema + '.' + alias!r}: schema and alias "
                                 "must be lower-case letters, digits and _ (they go into the queries' SQL)")
    manifest["nodes"]["model.soleflipper.fct_unit_economics"].update(schema="finance", alias=None)
    assert model_relation(manifest, "fct_unit_economics", ("sale_id",)) == "finance.fct_unit_economics"


# -- the read-only BI role (SOLEFLIPPER_BI_ROLE) and the relations it is granted ---------------------

def test_a_hostile_bi_role_name_is_rejected_before_any_sql(victim):
    message = (f"SOLEFLIPPER_BI_ROLE={EVIL!r} is not a plain role name (lower-case letters, digits and _, "
               "at most 63): dbt's grants use it unquoted")
    with pytest.raises(ValueError) as from_env:
        bi_role_name({"SOLEFLIPPER_BI_ROLE": EVIL})
    with pytest.raises(ValueError) as given:
        ensure_bi_role(victim, EVIL, "bi-test-password")
    assert str(from_env.value) == str(given.value) == message
    assert victim.execute("select count(*) from pg_roles where rolname = %s", (EVIL,)).fetchone() == (0,)
    assert bi_role_name({"SOLEFLIPPER_BI_ROLE": " sf_bi_2 "}) == "sf_bi_2" and bi_role_name({}) == "soleflipper_bi"


def test_a_hostile_mart_relation_name_is_granted_quoted(victim, pg_server):
    role = f"sf_test_bi_{uuid.uuid4().hex[:8]}"  # roles are server-wide: unique per run
    victim.execute(sql.SQL("create schema analytics; create table analytics.{} (n int)").format(sql.Identifier(EVIL)))
    try:
        with victim.transaction():
            ensure_bi_role(victim, role, "bi-test-password")  # grants SELECT on the relation by its regclass text
        grants = victim.execute(
            "select has_table_privilege(%(r)s, %(t)s, 'SELECT'),"
            " has_table_privilege(%(r)s, 'raw.stockx_sales_report', 'SELECT')",
            {"r": role, "t": sql.Identifier("analytics", EVIL).as_string(victim)}).fetchall()
        assert grants == [(True, False)]
        assert victim_survives(victim)
    finally:
        victim.execute(sql.SQL("drop owned by {}").format(sql.Identifier(role)))
        with psycopg.connect(pg_server, autocommit=True) as server:
            server.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))
