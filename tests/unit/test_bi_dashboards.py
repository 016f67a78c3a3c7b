"""Dashboards as YAML (soleflipper/bi/dashboards.py): structure checks, the dbt manifest check and
the Metabase payloads, on small specs and on the four real dashboards."""

from __future__ import annotations

import copy
import dataclasses
import uuid
from pathlib import Path

import pytest
import yaml

from soleflipper.bi.dashboards import (
    DASHBOARD_DIR,
    Card,
    Dashboard,
    DashboardSpecError,
    FieldFilter,
    Parameter,
    card_payload,
    check_against_manifest,
    dashboard_parameters,
    dashcard_payload,
    load_dashboard,
    load_dashboards,
    load_manifest,
    render_sql,
)

EXEC = DASHBOARD_DIR / "executive.yaml"
EXEC_COLUMNS = ("sale_date", "sale_month", "platform_name", "revenue_home", "profit_home")

# A manifest with the one KPI view the small specs read, plus a raw source and a CTE-free mart.
MANIFEST = {
    "nodes": {
        "model.soleflipper.mv_executive_metrics": {
            "resource_type": "model", "schema": "analytics", "name": "mv_executive_metrics",
            "alias": "mv_executive_metrics", "columns": {name: {} for name in EXEC_COLUMNS},
        },
        "model.soleflipper.dim_brands": {
            "resource_type": "model", "schema": "core", "name": "dim_brands", "alias": "dim_brands",
            "columns": {"brand_key": {}, "brand": {}},
        },
        "test.soleflipper.not_null_x": {"resource_type": "test", "schema": "analytics", "name": "x",
                                        "alias": "x", "columns": {}},
    },
    "sources": {
        "source.soleflipper.raw.stockx_orders": {
            "resource_type": "source", "schema": "raw", "name": "stockx_orders", "identifier": "stockx_orders",
            "columns": {"order_number": {}},
        },
    },
}

SPEC = {
    "key": "sales",
    "name": "Sales",
    "description": "Test dashboard.",
    "parameters": [
        {"slug": "date_range", "name": "Date range", "type": "date/all-options", "default": "past30days"},
        {"slug": "platform", "name": "Platform", "type": "string/="},
    ],
    "cards": [
        {
            "key": "revenue",
            "name": "Revenue",
            "display": "scalar",
            "layout": {"row": 0, "col": 0, "size_x": 6, "size_y": 3},
            "filters": {
                "sale_date": {"parameter": "date_range", "column": "analytics.mv_executive_metrics.sale_date"},
                "platform": {"parameter": "platform", "column": "analytics.mv_executive_metrics.platform_name"},
            },
            "sql": "select sum(revenue_home) as revenue_home\nfrom analytics.mv_executive_metrics\n"
                   "where true [[and {{sale_date}}]] [[and {{platform}}]]",
        },
        {
            "key": "trend",
            "name": "Trend",
            "display": "line",
            "layout": {"row": 0, "col": 6, "size_x": 18, "size_y": 6},
            "visualization_settings": {"graph.dimensions": ["sale_month"], "graph.metrics": ["revenue_home"]},
            "sql": "select sale_month, sum(revenue_home) as revenue_home from analytics.mv_executive_metrics "
                   "group by sale_month order by sale_month",
        },
    ],
}


def write(tmp_path: Path, spec: dict, name: str = "sales.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def spec_with(**card_changes) -> dict:
    spec = copy.deepcopy(SPEC)
    spec["cards"][0].update(card_changes)
    return spec


def card_of(sql: str, filters: dict[str, FieldFilter] | None = None) -> Dashboard:
    card = Card(key="sales.revenue", name="Revenue", display="scalar", sql=sql, filters=filters or {},
                row=0, col=0, size_x=6, size_y=3, visualization_settings={}, source="bi/x.yaml")
    return Dashboard(key="sales", name="Sales", description="", cards=(card,), source_file=Path("bi/x.yaml"),
                     parameters=(Parameter("date_range", "Date range", "date/all-options", None),))


def check_error(sql: str, filters: dict[str, FieldFilter] | None = None) -> str:
    with pytest.raises(DashboardSpecError) as info:
        check_against_manifest([card_of(sql, filters)], MANIFEST)
    return str(info.value)


# --------------------------------------------------------------------------- loading


def test_a_valid_spec_loads_into_the_dataclasses(tmp_path):
    path = write(tmp_path, SPEC)
    dashboard = load_dashboard(path)
    assert dashboard.key == "sales" and dashboard.name == "Sales" and dashboard.description == "Test dashboard."
    assert dashboard.source_file == path
    assert dashboard.parameters == (
        Parameter("date_range", "Date range", "date/all-options", "past30days"),
        Parameter("platform", "Platform", "string/=", None),
    )
    revenue, trend = dashboard.cards
    assert revenue.key == "sales.revenue" and (revenue.row, revenue.col, revenue.size_x, revenue.size_y) == (0, 0, 6, 3)
    assert revenue.filters == {
        "sale_date": FieldFilter("date_range", "analytics", "mv_executive_metrics", "sale_date", "date/all-options"),
        "platform": FieldFilter("platform", "analytics", "mv_executive_metrics", "platform_name", "string/="),
    }
    assert revenue.source == str(path)
    assert trend.filters == {} and trend.visualization_settings == {
        "graph.dimensions": ["sale_month"], "graph.metrics": ["revenue_home"]}
    check_against_manifest([dashboard], MANIFEST)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s["cards"][0].pop("sql"), "card 1: missing key(s) sql"),
        (lambda s: s.pop("cards"), "missing key(s) cards"),
        (lambda s: s["cards"][0].update(colour="red"),
         "card 1: unknown key(s) colour (allowed: display, filters, key, layout, name, sql, visualization_settings)"),
        (lambda s: s["cards"][1].update(key="revenue"), "card sales.revenue: duplicate card key"),
        (lambda s: s["cards"][1]["layout"].update(col=4),
         "card sales.trend: layout overlaps card sales.revenue at row 0, col 4"),
        (lambda s: s["cards"][1]["layout"].update(col=7),
         "card sales.trend: layout col 7 + size_x 18 goes beyond the 24-column grid"),
        (lambda s: s["cards"][0]["filters"]["platform"].update(parameter="brand"),
         "card sales.revenue: filter platform is wired to unknown parameter 'brand' "
         "(dashboard parameters: date_range, platform)"),
        (lambda s: s["cards"][0]["filters"].pop("platform"),
         "card sales.revenue: template tag(s) platform used in sql but not declared in filters"),
        (lambda s: s["cards"][0].update(sql="select 1"),
         "card sales.revenue: filter(s) sale_date, platform declared but not used in sql"),
        (lambda s: s["cards"][0]["filters"]["platform"].update(column="mv_executive_metrics.platform_name"),
         "card sales.revenue: filter platform column must be schema.table.column, "
         "got 'mv_executive_metrics.platform_name'"),
        (lambda s: s["cards"][0].update(display="gauge-ish"), "card sales.revenue: unknown display 'gauge-ish'"),
        (lambda s: s["cards"][0]["layout"].update(size_x=0), "card sales.revenue: layout.size_x must be an integer >= 1, got 0"),
        (lambda s: s["parameters"][1].update(type="text"), "parameter platform: unknown type 'text'"),
        (lambda s: s["parameters"].append(dict(s["parameters"][0])), "parameter date_range: duplicate parameter slug"),
    ],
)
def test_bad_structure_is_a_clear_error_naming_file_and_card(tmp_path, change, message):
    spec = copy.deepcopy(SPEC)
    change(spec)
    path = write(tmp_path, spec)
    with pytest.raises(DashboardSpecError) as info:
        load_dashboard(path)
    assert str(info.value).startswith(f"{path}: {message}"), str(info.value)


def test_a_key_given_twice_in_the_yaml_is_an_error_not_silently_the_last(tmp_path):
    path = tmp_path / "twice.yaml"
    path.write_text(EXEC.read_text(encoding="utf-8").replace("key: executive\n", "key: executive\nkey: other\n", 1))
    with pytest.raises(DashboardSpecError, match=rf"^{path}: not valid YAML: .*duplicate key 'key'"):
        load_dashboard(path)


def test_card_names_and_dashboard_keys_are_unique_across_files(tmp_path):
    write(tmp_path, SPEC, "a.yaml")
    other = copy.deepcopy(SPEC)
    other["key"] = "other"
    write(tmp_path, other, "b.yaml")
    with pytest.raises(DashboardSpecError) as info:
        load_dashboards(tmp_path)
    assert str(info.value) == f"{tmp_path / 'b.yaml'}: card other.revenue: name 'Revenue' is also used by card sales.revenue"
    other["cards"] = [dict(c, name=c["name"] + " 2") for c in other["cards"]]
    other["key"] = "sales"
    write(tmp_path, other, "b.yaml")
    with pytest.raises(DashboardSpecError, match=rf"^{tmp_path / 'b.yaml'}: dashboard key 'sales' is also used by "):
        load_dashboards(tmp_path)


# --------------------------------------------------------------------------- rendering


def test_render_sql_drops_optional_clauses_without_a_value_and_substitutes_the_others():
    dashboard = parse_spec()
    revenue = dashboard.cards[0]
    assert render_sql(revenue) == (
        "select sum(revenue_home) as revenue_home\nfrom analytics.mv_executive_metrics\nwhere true  ")
    assert render_sql(revenue, {"platform": "platform_name = 'StockX'"}) == (
        "select sum(revenue_home) as revenue_home\nfrom analytics.mv_executive_metrics\n"
        "where true  and (platform_name = 'StockX')")
    bare = dataclasses.replace(revenue, sql="select 1 from analytics.mv_executive_metrics where {{sale_date}}")
    assert render_sql(bare) == "select 1 from analytics.mv_executive_metrics where 1 = 1"


def parse_spec() -> Dashboard:
    from soleflipper.bi.dashboards import parse_dashboard

    return parse_dashboard(copy.deepcopy(SPEC), Path("/specs/sales.yaml"))


# --------------------------------------------------------------------------- manifest check


def test_a_card_naming_a_missing_column_fails_with_file_card_and_column():
    executive = load_dashboard(EXEC)
    trend = next(c for c in executive.cards if c.key == "executive.revenue_trend")
    assert "sum(revenue_home)" in trend.sql
    broken = dataclasses.replace(trend, sql=trend.sql.replace("sum(revenue_home)", "sum(revenue_eur)"))
    with pytest.raises(DashboardSpecError) as info:
        check_against_manifest([dataclasses.replace(executive, cards=(broken,))], MANIFEST)
    assert str(info.value) == (
        "bi/metabase/dashboards/executive.yaml: card executive.revenue_trend: column "
        "analytics.mv_executive_metrics.revenue_eur does not exist "
        "(known: platform_name, profit_home, revenue_home, sale_date, sale_month)")


def test_unknown_tables_and_unreadable_schemas_fail():
    assert check_error("select x from analytics.mv_nope") == (
        "bi/x.yaml: card sales.revenue: table analytics.mv_nope is not a dbt model, seed or source")
    assert check_error("select order_number from raw.stockx_orders") == (
        "bi/x.yaml: card sales.revenue: table raw.stockx_orders is in schema raw, which the BI role cannot read "
        "(readable: core, products, transactions, finance, analytics)")
    assert check_error("select 1 from mv_executive_metrics") == (
        "bi/x.yaml: card sales.revenue: table mv_executive_metrics must be schema-qualified "
        "(e.g. analytics.mv_executive_metrics)")
    # a table is checked even when no column of it is named
    assert check_error("select count(*) from analytics.mv_executive_metrics, core.dim_nope") == (
        "bi/x.yaml: card sales.revenue: table core.dim_nope is not a dbt model, seed or source")


def test_filter_columns_are_checked_and_their_table_must_not_be_aliased():
    date = FieldFilter("date_range", "analytics", "mv_executive_metrics", "sale_day", "date/all-options")
    assert check_error("select 1 from analytics.mv_executive_metrics where true [[and {{d}}]]", {"d": date}) == (
        "bi/x.yaml: card sales.revenue: filter d: column analytics.mv_executive_metrics.sale_day does not exist "
        "(known: platform_name, profit_home, revenue_home, sale_date, sale_month)")
    good = dataclasses.replace(date, column="sale_date")
    check_against_manifest(
        [card_of("select 1 from analytics.mv_executive_metrics where true [[and {{d}}]]", {"d": good})], MANIFEST)
    assert check_error("select 1 from analytics.mv_executive_metrics as m where true [[and {{d}}]]", {"d": good}) == (
        "bi/x.yaml: card sales.revenue: column analytics.mv_executive_metrics.sale_date: no table "
        "analytics.mv_executive_metrics in FROM (a field filter's table must appear unaliased; an aliased table "
        "is referenced by its alias)")


def test_columns_resolve_through_aliases_ctes_subqueries_and_output_names():
    ok = [
        "select m.revenue_home from analytics.mv_executive_metrics as m",
        "select analytics.mv_executive_metrics.revenue_home from analytics.mv_executive_metrics",
        "with t as (select sale_month as month, revenue_home from analytics.mv_executive_metrics) "
        "select month, sum(revenue_home) as total from t group by month order by total desc",
        "select r from (select revenue_home as r from analytics.mv_executive_metrics) as s order by r",
        "select b.brand, e.revenue_home from analytics.mv_executive_metrics as e "
        "join core.dim_brands as b on b.brand_key = e.platform_name",
        "select sale_month, sum(revenue_home) filter (where profit_home is not null) as r "
        "from analytics.mv_executive_metrics group by 1 order by 1",
    ]
    for sql in ok:
        check_against_manifest([card_of(sql)], MANIFEST)
    assert check_error("with t as (select revenue_home as r from analytics.mv_executive_metrics) select t.x from t") == (
        "bi/x.yaml: card sales.revenue: column t.x does not exist (known: r)")
    assert check_error("select m.revenue_eur from analytics.mv_executive_metrics as m").endswith(
        "column analytics.mv_executive_metrics.revenue_eur does not exist "
        "(known: platform_name, profit_home, revenue_home, sale_date, sale_month)")
    assert check_error("select brand_name from analytics.mv_executive_metrics, core.dim_brands") == (
        "bi/x.yaml: card sales.revenue: column brand_name does not exist in any of "
        "analytics.mv_executive_metrics, core.dim_brands")
    assert check_error("select sum(revenue_home from analytics.mv_executive_metrics").startswith(
        "bi/x.yaml: card sales.revenue: SQL does not parse: ")


# --------------------------------------------------------------------------- the real dashboards


def test_the_four_real_dashboards_load_and_pass_the_check_against_the_real_manifest():
    dashboards = load_dashboards()
    assert [(d.key, d.name) for d in dashboards] == [
        ("executive", "Executive"),
        ("inventory_suppliers", "Inventory & suppliers"),
        ("platform_geography", "Platform & geography"),
        ("product_brand", "Product & brand"),
    ]
    assert {d.key: [p.slug for p in d.parameters] for d in dashboards} == {
        "executive": ["date_range"],
        "inventory_suppliers": ["stock_category", "supplier"],
        "platform_geography": ["date_range", "platform"],
        "product_brand": ["date_range", "brand"],
    }
    check_against_manifest(dashboards, load_manifest())
    # every parameter is wired to at least one card, and only KPI views are read
    for dashboard in dashboards:
        wired = {f.parameter for card in dashboard.cards for f in card.filters.values()}
        assert wired == {p.slug for p in dashboard.parameters}, dashboard.key
        for card in dashboard.cards:
            assert "from analytics.mv_" in card.sql, card.key


# --------------------------------------------------------------------------- payloads


def test_card_payload_is_a_native_question_with_dimension_template_tags():
    dashboard = parse_spec()
    revenue = dashboard.cards[0]
    ids = {("analytics", "mv_executive_metrics", "sale_date"): 101,
           ("analytics", "mv_executive_metrics", "platform_name"): 102}
    payload = card_payload(revenue, database_id=2, field_id=lambda s, t, c: ids[(s, t, c)], collection_id=9)
    platform_id = payload["dataset_query"]["native"]["template-tags"]["platform"]["id"]
    date_id = payload["dataset_query"]["native"]["template-tags"]["sale_date"]["id"]
    assert payload == {
        "name": "Revenue",
        "type": "question",
        "description": "Managed by SoleFlipper (/specs/sales.yaml: sales.revenue). "
                       "Edits are overwritten by `soleflipper metabase sync`.",
        "display": "scalar",
        "collection_id": 9,
        "visualization_settings": {},
        "parameters": [
            {"id": date_id, "type": "date/all-options", "target": ["dimension", ["template-tag", "sale_date"]],
             "name": "Sale date", "slug": "sale_date"},
            {"id": platform_id, "type": "string/=", "target": ["dimension", ["template-tag", "platform"]],
             "name": "Platform", "slug": "platform"},
        ],
        "dataset_query": {
            "type": "native",
            "database": 2,
            "native": {
                "query": revenue.sql,
                "template-tags": {
                    "sale_date": {"id": date_id, "name": "sale_date", "display-name": "Sale date", "type": "dimension",
                                  "dimension": ["field", 101, None], "widget-type": "date/all-options",
                                  "required": False},
                    "platform": {"id": platform_id, "name": "platform", "display-name": "Platform",
                                 "type": "dimension", "dimension": ["field", 102, None], "widget-type": "string/=",
                                 "required": False},
                },
            },
        },
    }
    # tag ids are stable across runs (re-syncing an unchanged card sends the same payload) and distinct
    assert date_id == str(uuid.uuid5(uuid.NAMESPACE_URL, "soleflipper:sales.revenue:sale_date")) != platform_id
    assert card_payload(revenue, 2, lambda s, t, c: ids[(s, t, c)], None)["collection_id"] is None
    with pytest.raises(KeyError):  # a field Metabase does not know (not synced yet) is the caller's to handle
        card_payload(revenue, 2, lambda s, t, c: {}[(s, t, c)], None)


def test_dashboard_parameters_and_dashcards():
    dashboard = parse_spec()
    assert dashboard_parameters(dashboard) == [
        {"id": "date_range", "name": "Date range", "slug": "date_range", "type": "date/all-options",
         "sectionId": "date", "default": "past30days"},
        {"id": "platform", "name": "Platform", "slug": "platform", "type": "string/=", "sectionId": "string"},
    ]
    revenue, trend = dashboard.cards
    assert dashcard_payload(revenue, card_id=41, dashcard_id=-1, dashboard=dashboard) == {
        "id": -1, "card_id": 41, "row": 0, "col": 0, "size_x": 6, "size_y": 3, "series": [],
        "visualization_settings": {},
        "parameter_mappings": [
            {"parameter_id": "date_range", "card_id": 41, "target": ["dimension", ["template-tag", "sale_date"]]},
            {"parameter_id": "platform", "card_id": 41, "target": ["dimension", ["template-tag", "platform"]]},
        ],
    }
    assert dashcard_payload(trend, card_id=42, dashcard_id=7, dashboard=dashboard) == {
        "id": 7, "card_id": 42, "row": 0, "col": 6, "size_x": 18, "size_y": 6, "series": [],
        "visualization_settings": {}, "parameter_mappings": [],
    }
