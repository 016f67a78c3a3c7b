"""Budibase entries: the entry tables refuse bad rows, and what they accept reaches the raw tables
through the loader's validation, once per version, with bad rows quarantined by table, primary
key and field (from there to staging and the marts: test_budibase_queries.py)."""

from __future__ import annotations

import dagster as dg
import psycopg
import pytest

from assets.budibase import budibase_entries_sensor, budibase_entry_assets, load_entries
from resources.warehouse import WarehouseResource, ensure_all_raw_tables
from soleflipper.budibase.app import FORMS, entry_columns, load_manifest
from soleflipper.budibase.entries import entry_table, pending_records

SUPPLIERS, PURCHASES, SALES = (entry_table(n) for n in ("suppliers", "purchases", "sales"))


@pytest.fixture
def entry_conn(database_url: str):
    with psycopg.connect(database_url, autocommit=True) as conn:
        ensure_all_raw_tables(conn)  # what `soleflipper setup` runs: raw tables and entry tables
        conn.execute("insert into entry.suppliers (supplier_id, name, supplier_type) values (1, 'Snipes', 'retailer')")
        conn.execute(
            "insert into entry.purchases (purchase_id, supplier_id, purchase_date, style_code, product_name, size,"
            " net_price, gross_price, vat_rate, currency) values"
            " (1, 1, '2024-03-01', 'DD1391-100', 'Dunk Low Panda', '9.5', 100.00, 119.00, 19, 'EUR'),"
            " (2, 1, '2024-03-02', 'FZ5000-100', 'Samba OG', '44,5', 80.00, 95.20, 19, 'EUR')")
        yield conn


def _error(conn: psycopg.Connection, statement: str) -> str:
    with pytest.raises(psycopg.errors.IntegrityError) as info:
        conn.execute(statement)
    return info.value.diag.constraint_name or info.value.diag.message_primary


def test_entry_tables_refuse_what_the_forms_refuse(entry_conn):
    c = entry_conn
    purchase = ("insert into entry.purchases (supplier_id, purchase_date, style_code, size, net_price, currency)"
                " values (1, '2024-03-01', 'X1', '9', {price}, '{currency}')")
    assert _error(c, purchase.format(price="-1", currency="EUR")) == "purchases_net_price_not_negative"
    assert _error(c, purchase.format(price="10", currency="eur")) == "purchases_currency_code"
    assert _error(c, purchase.format(price="10", currency="EURO")) == "purchases_currency_code"
    assert _error(c, "insert into entry.purchases (supplier_id, purchase_date, style_code, size, net_price)"
                     " values (1, null, 'X1', '9', 10)") == 'null value in column "purchase_date" of relation' \
        ' "purchases" violates not-null constraint'
    sale = ("insert into entry.sales (purchase_id, platform, order_number, sale_date, sale_price, fees, payout)"
            " values ({pid}, '{platform}', {number}, '{day}', 150, {fees}, {payout})")
    # sale date before the purchase date (a trigger: the dates are in two tables)
    with pytest.raises(psycopg.errors.CheckViolation) as info:
        c.execute(sale.format(pid=1, platform="stockx", number="'12345678-87654321'", day="2024-02-28",
                              fees=15, payout=135))
    assert str(info.value).splitlines()[0] == \
        "entry.sales: sale_date 2024-02-28 is before purchase_date 2024-03-01 of purchase 1"
    assert _error(c, sale.format(pid=1, platform="stockx", number="null", day="2024-03-05", fees=15,
                                 payout=135)) == "sales_stockx_order_number"
    assert _error(c, sale.format(pid=1, platform="stockx", number="'12345678-87654321'", day="2024-03-05",
                                 fees=15, payout=130)) == "sales_payout_consistent"
    assert _error(c, sale.format(pid=1, platform="depop", number="null", day="2024-03-05", fees=0,
                                 payout=150)) == "sales_platform_known"
    c.execute(sale.format(pid=1, platform="stockx", number="'12345678-87654321'", day="2024-03-05", fees=15,
                          payout=135))
    # the StockX order number is unique, and a pair sells once
    assert _error(c, sale.format(pid=2, platform="stockx", number="'12345678-87654321'", day="2024-03-05",
                                 fees=15, payout=135)) == "sales_order_number_unique"
    assert _error(c, sale.format(pid=1, platform="ebay", number="'E-1'", day="2024-03-05", fees=15,
                                 payout=135)) == "sales_one_sale_per_pair"
    # moving the purchase after its sale is refused too
    with pytest.raises(psycopg.errors.CheckViolation) as info:
        c.execute("update entry.purchases set purchase_date = '2024-03-06' where purchase_id = 1")
    assert str(info.value).splitlines()[0] == \
        "entry.purchases: purchase_date 2024-03-06 of purchase 1 is after the date of its sale"


def test_entries_reach_raw_once_per_version(entry_conn):
    c = entry_conn
    c.execute("insert into entry.sales (sale_id, purchase_id, platform, order_number, sale_date, sale_price, fees)"
              " values (1, 1, 'stockx', '12345678-87654321', '2024-03-10', 150.00, 15.00),"
              " (2, 2, 'in_person', null, '2024-03-12', 120.00, null)")
    # a currency code the table accepts (three capitals) but ISO 4217 does not know
    c.execute("insert into entry.purchases (purchase_id, supplier_id, purchase_date, style_code, size, net_price,"
              " currency) values (3, 1, '2024-03-03', 'DZ5485-612', '10', 90.00, 'EUX')")

    results = {e.table: load_entries(c, e) for e in (SUPPLIERS, PURCHASES, SALES)}
    assert {t: (r.rows_read, r.rows_loaded, r.rows_quarantined) for t, r in results.items()} == {
        "suppliers": (1, 1, 0), "purchases": (3, 2, 1), "sales": (2, 2, 0)}
    quarantined = c.execute("select raw_table, source, line_number, field, reason from raw.quarantine").fetchall()
    assert quarantined == [(
        "budibase_purchases", "budibase:entry.purchases", 3, "currency",
        'entry.purchases purchase_id=3, field currency: "EUX" fails ISO 4217 currency code')]

    # re-running loads nothing and quarantines nothing again
    assert [load_entries(c, e) for e in (SUPPLIERS, PURCHASES, SALES)] == [None, None, None]
    assert c.execute("select count(*) from raw.quarantine").fetchone()[0] == 1

    # an edit is one new version, picked up once; renaming the supplier needs no purchase edit
    c.execute("update entry.purchases set net_price = 95.00, gross_price = 113.05 where purchase_id = 1")
    c.execute("update entry.suppliers set name = 'Snipes Berlin' where supplier_id = 1")
    assert [len(pending_records(c, e)) for e in (SUPPLIERS, PURCHASES, SALES)] == [1, 1, 0]
    edited = load_entries(c, PURCHASES)
    assert (edited.rows_read, edited.rows_loaded, edited.rows_changed) == (1, 1, 1)
    assert load_entries(c, SUPPLIERS).rows_changed == 1
    assert load_entries(c, PURCHASES) is None
    assert c.execute("select count(*), count(distinct purchase_id) from raw.budibase_purchases").fetchone() == (3, 2)
    # staging and the marts: tests/integration/test_budibase_queries.py (one dbt run for both)


def test_manifest_documents_the_entry_tables_as_created(entry_conn):
    """The app is generated from the manifest's entry source: it must match the real tables
    (names, order, types), and the forms' required fields must be exactly the NOT NULL ones."""
    manifest = load_manifest()
    for table, form in FORMS.items():
        documented = [(name, col["data_type"].replace(" ", "")) for name, col in entry_columns(manifest, table).items()]
        actual = entry_conn.execute(
            "select attname, format_type(atttypid, atttypmod), attnotnull from pg_attribute"
            " where attrelid = %s::regclass and attnum > 0 and not attisdropped order by attnum",
            (f"entry.{table}",)).fetchall()
        aliases = {"timestamp with time zone": "timestamptz"}
        assert documented == [(n, aliases.get(t, t).replace(" ", "")) for n, t, _ in actual], table
        not_null = {n for n, _, nn in actual if nn}
        assert {f for f, spec in form.items() if spec.get("required")} == not_null & set(form), table


def test_sensor_asks_for_one_run_per_set_of_waiting_entries(entry_conn, database_url):
    context = dg.build_sensor_context(resources={"warehouse": WarehouseResource(database_url=database_url)})
    first = budibase_entries_sensor(context)
    assert isinstance(first, dg.RunRequest)
    assert first.tags["soleflipper/budibase_pending"] == "purchases=2,sales=0,suppliers=1"
    assert budibase_entries_sensor(context).run_key == first.run_key  # same entries: same run
    for entry in (SUPPLIERS, PURCHASES, SALES):
        load_entries(entry_conn, entry)
    skipped = budibase_entries_sensor(context)
    assert isinstance(skipped, dg.SkipReason) and skipped.skip_message == "no new or changed Budibase entries"
    entry_conn.execute("update entry.purchases set notes = 'box damaged' where purchase_id = 2")
    edited = budibase_entries_sensor(context)
    assert edited.tags["soleflipper/budibase_pending"] == "purchases=1,sales=0,suppliers=0"
    assert edited.run_key != first.run_key


def test_assets_load_entries_and_pass_the_raw_checks(entry_conn, database_url):
    entry_conn.execute("insert into entry.sales (sale_id, purchase_id, platform, sale_date, sale_price)"
                       " values (1, 2, 'in_person', '2024-03-12', 120.00)")
    resources = {"warehouse": WarehouseResource(database_url=database_url)}
    result = dg.materialize(budibase_entry_assets, resources=resources)
    assert result.success
    materializations = [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]
    loaded = {m.asset_key.path[-1]: m.metadata["rows_loaded"].value for m in materializations}
    assert loaded == {"budibase_suppliers": 1, "budibase_purchases": 2, "budibase_sales": 1}
    checks = {(e.asset_key.path[-1], e.check_name): e.passed for e in result.get_asset_check_evaluations()}
    assert len(checks) == 12 and all(checks.values()), checks
    again = dg.materialize(budibase_entry_assets, resources=resources)
    assert {e.event_specific_data.materialization.metadata["rows_loaded"].value
            for e in again.get_asset_materialization_events()} == {0}
    assert entry_conn.execute("select count(*) from raw.load_batches").fetchone()[0] == 3
