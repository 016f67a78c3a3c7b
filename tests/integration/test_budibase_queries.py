"""The Budibase app's queries, as committed in bi/budibase/soleflipper_app.json, run on a built
demo warehouse: the sales list totals and the supplier overview give the marts' numbers; and a
pair entered there reaches finance.fct_unit_economics linked to its purchase."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import psycopg
from dbt_runner import dbt_ok
from warehouse_datasets import build_demo_warehouse

from assets.budibase import load_entries
from resources.warehouse import ensure_all_raw_tables
from soleflipper.budibase.app import read_app
from soleflipper.budibase.entry_tables import ENTRY_TABLES


def _run(conn: psycopg.Connection, query: dict, **values: str) -> list[tuple]:
    """As Budibase runs a SQL query: each {{ name }} a bound parameter, sent as text."""
    params = {p["name"]: p["default"] for p in query["parameters"]} | values
    text = re.sub(r"\{\{ (\w+) \}\}", r"%(\1)s", query["fields"]["sql"])
    return conn.execute(text, params).fetchall()


def test_app_queries_on_the_demo_warehouse(database_copy, tmp_path):
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

        # Entries through the loader (an edit and a supplier rename included) and the models on the
        # path to the marts: staging as entered, each sale linked to its purchase.
        conn.execute("insert into entry.purchases (purchase_id, supplier_id, purchase_date, style_code,"
                     " product_name, size, net_price, gross_price, vat_rate) values"
                     " (6, 1, '2024-05-02', 'FZ5000-100', 'Samba OG', '44,5', 100.00, 119.00, 19)")
        conn.execute("insert into entry.sales (sale_id, purchase_id, platform, order_number, sale_date, sale_price,"
                     " fees) values (1, 5, 'in_person', null, '2024-05-10', 150.00, null),"
                     " (2, 6, 'stockx', '12345678-87654321', '2024-05-20', 150.00, 15.00)")
        for entry in ENTRY_TABLES:
            load_entries(conn, entry)
        conn.execute("update entry.purchases set net_price = 95.00, gross_price = 113.05 where purchase_id = 6")
        conn.execute("update entry.suppliers set name = 'New Shop Berlin' where supplier_id = 2")
        assert [load_entries(conn, e).rows_changed for e in ENTRY_TABLES if e.table != "sales"] == [1, 1]
        dbt_ok(url, tmp_path / "dbt", "run", "-s", "stg_budibase__sales+,+fct_unit_economics",
               "stg_budibase__purchases+,+fct_unit_economics")

        purchases = conn.execute(
            "select purchase_line_id, purchase_date, supplier, style_code, size_label_normalized, quantity,"
            " net_price, net_price_currency, gross_price, vat_rate, sale_order_number, sale_platform_name,"
            " load_source, load_source_line from staging.stg_sheets__purchases where source = 'budibase'"
            " order by 1").fetchall()
        assert purchases == [
            ("budibase:5", date(2024, 5, 1), "New Shop Berlin", "DD1391-100", "9", 1, Decimal("99.90"), "EUR",
             None, None, "budibase-sale-1", None, "budibase:entry.purchases", 5),
            ("budibase:6", date(2024, 5, 2), supplier, "FZ5000-100", "44.5", 1, Decimal("95.00"), "EUR",
             Decimal("113.05"), Decimal("0.190000"), "12345678-87654321", "stockx", "budibase:entry.purchases", 6),
        ]
        sales = conn.execute(
            "select sale_row_id, platform, order_number, style_code, size_label, sale_price, sale_price_currency,"
            " fees, payout, sale_date from staging.stg_sheets__sales where sale_row_id like 'budibase:%'"
            " order by 1").fetchall()
        assert sales == [
            ("budibase:1", "in_person", "budibase-sale-1", "DD1391-100", "9", Decimal("150.00"), "EUR",
             Decimal("0"), Decimal("150.00"), date(2024, 5, 10)),
            ("budibase:2", "stockx", "12345678-87654321", "FZ5000-100", "44,5", Decimal("150.00"), "EUR",
             Decimal("15.00"), Decimal("135.00"), date(2024, 5, 20)),
        ]
        economics = conn.execute(
            "select sale_id, purchase_id, link_method, supplier_key, net_buy_amount, output_vat_amount,"
            " net_sale_amount, profit_home, roi, shelf_life_days from finance.fct_unit_economics"
            " where purchase_id like 'budibase:%' order by 1").fetchall()
        # in person: domestic VAT 150.00 * 0.19 / 1.19 = 23.95, profit 126.05 - 99.90 = 26.15;
        # StockX: no output VAT (self-billed), profit = payout 135.00 - net buy 95.00
        assert economics == [
            ("in_person:budibase-sale-1", "budibase:5:1", "recorded_order_number", "new-shop-berlin",
             Decimal("99.90"), Decimal("23.95"), Decimal("126.05"), Decimal("26.15"), Decimal("0.2618"), 9),
            ("stockx:12345678-87654321", "budibase:6:1", "recorded_order_number", supplier_key_of(supplier),
             Decimal("95.00"), Decimal("0.00"), Decimal("135.00"), Decimal("40.00"), Decimal("0.4211"), 18),
        ]


def supplier_key_of(name: str) -> str:
    """core.dim_suppliers' key of a supplier name (macro slug_key)."""
    return re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")
