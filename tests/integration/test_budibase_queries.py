"""The Budibase app's queries, as committed in bi/budibase/soleflipper_app.json, run on a built
demo warehouse: the sales list totals and the supplier overview give the marts' numbers."""

from __future__ import annotations

import re
from decimal import Decimal

import psycopg
from warehouse_datasets import build_demo_warehouse

from resources.warehouse import ensure_all_raw_tables
from soleflipper.budibase.app import read_app


def _run(conn: psycopg.Connection, query: dict, **values: str) -> list[tuple]:
    """As Budibase runs a SQL query: each {{ name }} a bound parameter, sent as text."""
    params = {p["name"]: p["default"] for p in query["parameters"]} | values
    text = re.sub(r"\{\{ (\w+) \}\}", r"%(\1)s", query["fields"]["sql"])
    return conn.execute(text, params).fetchall()


def test_app_queries_on_the_demo_warehouse(database_copy):
    url, _ = database_copy("demo_warehouse", build_demo_warehouse)
    queries = {d["name"]: d for d in read_app()["docs"] if d["_id"].startswith("query_")}
    with psycopg.connect(url, autocommit=True) as conn:
        ensure_all_raw_tables(conn)  # entry tables (a template built before they existed has none)
        count, profit, roi, home = conn.execute(
            "select count(*), coalesce(sum(profit_home), 0), round(avg(roi) * 100, 2), min(home_currency)"
            " from finance.fct_unit_economics").fetchone()
        assert count > 0 and profit != 0
        assert _run(conn, queries["sales_totals"], days="100000") == [(count, profit, roi, home)]
        supplier_key, supplier, purchased, roi_pct = conn.execute(
            "select supplier_key, supplier, units_purchased, roi_pct from analytics.mv_supplier_performance"
            " where supplier_key <> '(unknown)' order by units_purchased desc, supplier_key limit 1").fetchone()
        one = conn.execute("select count(*), round(avg(roi) * 100, 2) from finance.fct_unit_economics"
                           " where supplier_key = %s", (supplier_key,)).fetchone()
        totals = _run(conn, queries["sales_totals"], days="100000", supplier=supplier_key)
        assert (totals[0][0], totals[0][2]) == one
        listed = _run(conn, queries["sales_list"], days="100000", supplier=supplier_key)
        assert len(listed) == one[0]

        conn.execute("insert into entry.suppliers (supplier_id, name) values (1, %s), (2, 'New Shop')", (supplier,))
        overview = _run(conn, queries["supplier_overview"])
        assert [(r[1], r[4], r[7]) for r in overview] == sorted(
            [(supplier, purchased, roi_pct), ("New Shop", 0, None)])
        conn.execute("insert into entry.purchases (purchase_id, supplier_id, purchase_date, style_code, size,"
                     " net_price) values (5, 2, '2024-05-01', 'DD1391-100', '9', 99.90)")
        assert _run(conn, queries["suppliers_for_forms"]) == sorted([(1, supplier), (2, "New Shop")],
                                                                    key=lambda r: r[1])
        stock = _run(conn, queries["pairs_in_stock"])
        assert [r[0] for r in stock] == [5] and stock[0][4] == Decimal("99.90")
        assert _run(conn, queries["purchase_for_sale"], purchase_id="5") == stock
