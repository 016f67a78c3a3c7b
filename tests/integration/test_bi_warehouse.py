"""The read-only BI role and the dashboards' SQL on a dbt-built demo warehouse.

Each test uses its own copy of the session's KPI-view warehouse (`demo_views_on_older_report`)
and its own BI role (roles are server-wide; the suite's other tests and builds share the server),
dropped afterwards."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from decimal import Decimal

import psycopg
import pytest
from dbt_runner import dbt_ok
from psycopg import errors, sql
from warehouse_datasets import build_demo_views_on_older_report

from resources.token_store import CREDENTIALS_DDL
from soleflipper.bi.dashboards import load_dashboards, render_sql
from soleflipper.bi.role import MART_SCHEMAS, ensure_bi_role, verifier_matches

VIEWS = ("mv_executive_metrics", "mv_product_performance", "mv_brand_analytics", "mv_platform_performance",
         "mv_inventory_status", "mv_customer_geography", "mv_supplier_performance")
PASSWORD = "bi-test-password"
# Replaced (kpi_view's swap path) by the second dbt run; the other views are not selected.
REBUILT = ("mv_product_performance", "mv_inventory_status")


@pytest.fixture
def bi(database_copy, pg_server) -> Iterator[tuple[str, str]]:
    """(warehouse url, BI role name): a copy of the built demo warehouse and a new BI role on it."""
    url, _ = database_copy("demo_views_on_older_report", build_demo_views_on_older_report)
    role = f"sf_test_bi_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url) as owner:
        owner.execute(CREDENTIALS_DDL)  # the token store's table (ops.api_credentials), as after a StockX login
        owner.execute("insert into ops.api_credentials values ('stockx', 'secret'::bytea, now())")
        ensure_bi_role(owner, role, PASSWORD)
    try:
        yield url, role
    finally:
        with psycopg.connect(url, autocommit=True) as owner:
            owner.execute(sql.SQL("drop owned by {}").format(sql.Identifier(role)))
        with psycopg.connect(pg_server, autocommit=True) as server:
            server.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def connect_as(url: str, role: str) -> psycopg.Connection:
    """A session as the BI role itself (the password is checked when the server asks for one)."""
    return psycopg.connect(url, user=role, password=PASSWORD)


def rows(conn: psycopg.Connection, relation: str) -> list[tuple]:
    return sorted(conn.execute(f"select * from {relation}").fetchall(), key=repr)  # noqa: S608 (fixed names)


def denied(conn: psycopg.Connection, query: str) -> bool:
    try:
        conn.execute(query)
    except errors.InsufficientPrivilege:
        conn.rollback()
        return True
    conn.rollback()
    return False


def privileges(owner: psycopg.Connection, role: str) -> dict[str, set[str]]:
    """Schema -> relations the role can SELECT, over every user schema."""
    readable: dict[str, set[str]] = {}
    for schema, name, can in owner.execute(
            "select n.nspname, c.relname, has_table_privilege(%s, c.oid, 'SELECT') from pg_class as c"
            " join pg_namespace as n on n.oid = c.relnamespace"
            " where c.relkind in ('r', 'p', 'v', 'm', 'f') and n.nspname not like 'pg\\_%%'"
            " and n.nspname <> 'information_schema'", (role,)):
        readable.setdefault(schema, set())
        if can:
            readable[schema].add(name)
    return readable


def all_relations(owner: psycopg.Connection) -> dict[str, set[str]]:
    return {schema: set(names) for schema, names in owner.execute(
        "select n.nspname, array_agg(c.relname) from pg_class as c join pg_namespace as n on n.oid = c.relnamespace"
        " where c.relkind in ('r', 'p', 'v', 'm', 'f') and n.nspname not like 'pg\\_%%'"
        " and n.nspname <> 'information_schema' group by 1")}


def test_the_bi_role_reads_the_marts_only_and_keeps_its_grants_through_dbt_rebuilds(bi, tmp_path, monkeypatch):
    url, role = bi
    with psycopg.connect(url, autocommit=True) as owner:
        login, verifier, config = owner.execute(
            "select a.rolcanlogin, a.rolpassword, r.rolconfig from pg_authid as a join pg_roles as r on r.oid = a.oid"
            " where a.rolname = %s", (role,)).fetchone()
        assert login and verifier_matches(verifier, PASSWORD) and not verifier_matches(verifier, "other")
        assert config == ["default_transaction_read_only=on"]
        # a second setup, with everything in place, writes no catalog row (no collisions between
        # concurrent CLI commands): the role, its settings, schemas, relations, default privileges
        written = ("select array[(select xmin::text from pg_authid where rolname = %(r)s),"
                   " (select string_agg(xmin::text, ',') from pg_db_role_setting),"
                   " (select string_agg(xmin::text, ',' order by oid) from pg_namespace),"
                   " (select string_agg(xmin::text, ',' order by oid) from pg_class),"
                   " (select string_agg(xmin::text, ',' order by oid) from pg_default_acl)]")
        before = owner.execute(written, {"r": role}).fetchone()
        ensure_bi_role(owner, role, PASSWORD)
        assert owner.execute(written, {"r": role}).fetchone() == before
        relations = all_relations(owner)
        readable = privileges(owner, role)
        assert {"raw", "ops", "staging", *MART_SCHEMAS} <= set(relations)
        # every relation of the mart schemas, nothing anywhere else
        assert {s: names for s, names in readable.items() if names} == {s: relations[s] for s in MART_SCHEMAS}
        oids_before = {v: owner.execute("select %s::regclass::oid", (f"analytics.{v}",)).fetchone()[0] for v in VIEWS}
        owner_rows = {v: rows(owner, f"analytics.{v}") for v in VIEWS}

        with connect_as(url, role) as reader:
            assert reader.execute("select current_user").fetchone() == (role,)
            for view in VIEWS:
                assert rows(reader, f"analytics.{view}") == owner_rows[view] != [], view
            reader.rollback()
            assert denied(reader, "select * from raw.stockx_sales_report")
            assert denied(reader, "select * from raw.load_batches")
            assert denied(reader, "select * from ops.api_credentials")  # the stored (encrypted) tokens
            assert denied(reader, "select ops.newest_timestamp('raw.load_batches', 'started_at')")
            assert denied(reader, "select * from staging.stg_stockx__sales_report")
            with pytest.raises(errors.ReadOnlySqlTransaction):
                reader.execute("create table analytics.scratch (x int)")
            reader.rollback()
            reader.execute("set transaction read write")  # past the read-only default: still no CREATE
            assert denied(reader, "create table public.scratch (x int)")

        # SET ROLE (how an owner session checks the same thing without logging in as the role)
        owner.execute(sql.SQL("set role {}").format(sql.Identifier(role)))
        assert owner.execute("select count(*) from analytics.mv_executive_metrics").fetchone()[0] > 0
        with pytest.raises(errors.InsufficientPrivilege):
            owner.execute("select count(*) from ops.api_credentials")
        owner.execute("reset role")

        # grants lost outside dbt come back: fct_sales (not rebuilt) through the on-run-end hook,
        # mv_product_performance through the kpi_view materialization, which rebuilds it (swap);
        # grants made outside dbt stay, on a rebuilt mart table and on a replaced view
        owner.execute(sql.SQL("revoke select on transactions.fct_sales, analytics.mv_product_performance from {}")
                      .format(sql.Identifier(role)))
        assert not owner.execute("select has_table_privilege(%s, 'transactions.fct_sales', 'SELECT')",
                                 (role,)).fetchone()[0]
        owner.execute("grant select on finance.fct_unit_economics, analytics.mv_inventory_status to public")
        for view in REBUILT:  # a configured index missing: the next build replaces the view (kpi_view swap)
            index = owner.execute("select indexname from pg_indexes where schemaname = 'analytics' and tablename = %s"
                                  " and indexdef not like '%%UNIQUE%%' order by 1 limit 1", (view,)).fetchone()[0]
            owner.execute(sql.SQL("drop index analytics.{}").format(sql.Identifier(index)))
    monkeypatch.setenv("SOLEFLIPPER_BI_ROLE", role)
    out = dbt_ok(url, tmp_path / "target", "run", "--select", "fct_unit_economics", *REBUILT)
    assert out.count(": swap (the indexes changed") == len(REBUILT), out[-3000:]
    # the kpi_view materialization granted the revoked SELECT itself (not only the on-run-end hook),
    # and dbt revoked nothing (the project's apply_grants only adds)
    log = (tmp_path / "target" / "dbt.log").read_text(encoding="utf-8")
    assert re.search(rf'grant select on "\w+"\."analytics"\."mv_product_performance" to "?{role}\b', log), log[-3000:]
    assert "revoke " not in log.lower()

    with psycopg.connect(url, autocommit=True) as owner:
        oids_after = {v: owner.execute("select %s::regclass::oid", (f"analytics.{v}",)).fetchone()[0] for v in VIEWS}
        assert {v for v in VIEWS if oids_after[v] != oids_before[v]} == set(REBUILT)
        assert {s: names for s, names in privileges(owner, role).items() if names} == {
            s: all_relations(owner)[s] for s in MART_SCHEMAS}
        with connect_as(url, role) as reader:
            # mv_inventory_status carries its refresh time (as_of), so only its row count is the same
            for view in VIEWS:
                if view != "mv_inventory_status":
                    assert rows(reader, f"analytics.{view}") == owner_rows[view], view
            assert reader.execute("select count(*) from analytics.mv_inventory_status").fetchone()[0] == len(
                owner_rows["mv_inventory_status"])
            assert reader.execute("select count(*) from transactions.fct_sales").fetchone()[0] > 0
            assert denied(reader, "select * from ops.api_credentials")
            assert denied(reader, "select * from raw.stockx_sales_report")
        for relation in ("finance.fct_unit_economics", "analytics.mv_inventory_status"):
            assert owner.execute("select has_table_privilege('public', %s, 'SELECT')", (relation,)).fetchone()[0]


def filter_value(owner: psycopg.Connection, schema: str, table: str, column: str) -> str:
    query = sql.SQL("select {c}::text from {s}.{t} where {c} is not null group by 1 order by count(*) desc, 1 limit 1")
    return owner.execute(query.format(c=sql.Identifier(column), s=sql.Identifier(schema),
                                      t=sql.Identifier(table))).fetchone()[0]


def test_every_card_runs_as_the_bi_role_without_filters_and_with_each_filter(bi):
    """Each card's SQL as Metabase sends it: optional clauses dropped, then with each field filter
    rendered as Metabase renders it ("schema"."table"."column" and a condition)."""
    url, role = bi
    dashboards = load_dashboards()
    with psycopg.connect(url) as owner, connect_as(url, role) as reader:
        ran = 0
        for dashboard in dashboards:
            for card in dashboard.cards:
                cursor = reader.execute(render_sql(card))
                result = cursor.fetchall()
                columns = [d.name for d in cursor.description]
                assert result, card.key
                settings = card.visualization_settings
                named = [*settings.get("graph.dimensions", []), *settings.get("graph.metrics", []),
                         *(settings[k] for k in ("pie.dimension", "pie.metric", "map.dimension", "map.metric")
                           if k in settings)]
                assert set(named) <= set(columns), (card.key, named, columns)
                ran += 1
                for tag, flt in card.filters.items():
                    target = ".".join(f'"{part}"' for part in (flt.schema, flt.table, flt.column))
                    if flt.widget_type.startswith("date/"):
                        # a range holding every row: the result must not change
                        condition = f"{target} >= date '2000-01-01' and {target} < date '2100-01-01'"
                        assert reader.execute(render_sql(card, {tag: condition})).fetchall() == result, card.key
                    else:
                        value = filter_value(owner, flt.schema, flt.table, flt.column).replace("'", "''")
                        filtered = reader.execute(render_sql(card, {tag: f"{target} = '{value}'"})).fetchall()
                        assert len(filtered) <= len(result), (card.key, tag)  # runs; never more rows
                    ran += 1
        assert ran == 34 + 40  # cards + field filters

        # a few cards against the marts they summarise
        cards = {card.key: card for d in dashboards for card in d.cards}
        revenue = reader.execute(render_sql(cards["executive.revenue"])).fetchone()[0]
        assert revenue == owner.execute("select sum(gross_sale_home) from finance.fct_unit_economics").fetchone()[0]
        assert isinstance(revenue, Decimal) and revenue > 0
        supplier = filter_value(owner, "analytics", "mv_inventory_status", "supplier")
        value = reader.execute(render_sql(
            cards["inventory_suppliers.stock_value"],
            {"supplier": f"\"analytics\".\"mv_inventory_status\".\"supplier\" = '{supplier}'"})).fetchone()[0]
        assert value == owner.execute(
            "select sum(i.net_cost_home) from analytics.mv_inventory_status as i"
            " where i.supplier = %s and i.current_status in ('purchased', 'in_stock', 'listed')",
            (supplier,)).fetchone()[0]
        brand = filter_value(owner, "analytics", "mv_product_performance", "brand")
        names = reader.execute(render_sql(
            cards["product_brand.top_products_revenue"],
            {"brand": f"\"analytics\".\"mv_product_performance\".\"brand\" = '{brand}'"})).fetchall()
        assert names and {n for (n, _) in names} <= {n for (n,) in owner.execute(
            "select product_name from analytics.mv_product_performance where brand = %s", (brand,))}
