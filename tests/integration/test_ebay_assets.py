"""eBay API → raw tables → transactions: against the eBay simulator and real PostgreSQL.

The sync functions run with the simulator's frozen clock; the Dagster multi-asset runs once
more through ``dg.materialize``. One dbt run (on a copy of the session's demo warehouse) proves
the API lines reach fct_sales, fct_unit_economics and the platform comparison, with the CSV
report's line of the same order counted once, and that eBay's REFUND and SHIPPING_LABEL
transactions count in the sales (shipping, partial refunds, fee credits) and in fct_returns,
and that the two that cannot land on a line are the warnings of assert_ebay_refunds_and_labels_are_applied.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from dbt_runner import dbt_ok
from psycopg import sql
from warehouse_datasets import build_demo_warehouse

from assets.ebay import ORDERS_KEY, TRANSACTIONS_KEY, ebay_api_sync
from assets.ebay_sync import sync_orders, sync_transactions
from pipelines.demo import demo_services
from resources.ebay import EbayClient, EbayResource, ebay_enabled
from resources.token_store import TokenStore, new_key
from resources.warehouse import WarehouseResource, ensure_all_raw_tables, load_rows
from simulators.ebay import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_REFRESH_TOKEN, EbaySimulator
from simulators.ebay_data import SEED_NOW, refund_transaction, shipping_label_transaction
from soleflipper.formats import load_format
from soleflipper.record_parsing import parse_records
from soleflipper.settings import Settings

OVERLAP = timedelta(hours=6)


@pytest.fixture
def sim():
    with EbaySimulator() as simulator:
        simulator.clock.set(SEED_NOW)
        yield simulator


def _client(sim, url: str) -> EbayClient:
    return EbayClient(client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, refresh_token=DEMO_REFRESH_TOKEN,
                      api_url=sim.api_url, finances_url=sim.finances_url, auth_url=sim.auth_url,
                      token_store=TokenStore(url, new_key()), clock=sim.clock.now, requests_per_second=None)


def _line_fees(order: dict) -> list[tuple[str, Decimal, Decimal]]:
    """(order line, fees, payout) per line, straight from the simulator's fee rule. The order line is
    the item number, plus the line item id when one listing (two sizes) has several lines."""
    items = [line["legacyItemId"] for line in order["lineItems"]]
    out = []
    for index, line in enumerate(order["lineItems"]):
        basis = Decimal(line["total"]["value"])
        fee = (basis * Decimal("0.129")).quantize(Decimal("0.01")) + (Decimal("0.35") if index == 0 else 0)
        name = line["legacyItemId"] if items.count(line["legacyItemId"]) == 1 else \
            f"{line['legacyItemId']}:{line['lineItemId']}"
        out.append((name, fee, basis - fee))
    return out


def _sale(conn, order_id: str) -> list[tuple]:
    return conn.execute(
        "select source_system, order_line, gross_amount, seller_fee_amount, payout_amount, paid_out_at is not null"
        " from staging.int_sales_unioned where order_number = %s order by order_line", (order_id,)).fetchall()


def _csv_report_line(conn, order: dict, index: int = 0) -> None:
    """The same order line as the Seller Hub Orders report has it (one sale, not two)."""
    line = order["lineItems"][index]
    record = {"Sales Record Number": "4711", "Order Number": order["orderId"], "Item Number": line["legacyItemId"],
              "Item Title": line["title"], "Quantity": "1", "Sold For": line["lineItemCost"]["value"],
              "Shipping And Handling": "6.99", "eBay Collected Tax": "0", "Total Price": line["total"]["value"],
              "Sale Date": "Oct-02-26"}
    fmt = load_format("ebay_orders")
    result = load_rows(conn, fmt, parse_records(fmt, [record]), source="test:orders-report.csv")
    assert result.rows_loaded == 1


def _refunds_and_label(sim) -> tuple[dict, dict, dict]:
    """Two paid-out orders with Finances transactions after the sale, dated before the seeded
    SALEs the sync's cursor tests rely on. Order ``r`` (lines 111.99 / 266.99 / 126.99 EUR): a
    9.87 shipping label, 20.00 refunded on its first line, its second line refunded in full.
    Order ``o`` (one line, 101.99): refunded in full by a REFUND naming no line."""
    created = SEED_NOW - timedelta(days=40)
    r = sim.add_order(created, [1, 2, 3], with_transaction=True)
    o = sim.add_order(created + timedelta(hours=1), [4], with_transaction=True)
    first, second, _ = (line["lineItemId"] for line in r["lineItems"])
    added = {
        "label": shipping_label_transaction(r, created + timedelta(days=1), "9.87"),
        "partial": refund_transaction(r, created + timedelta(days=3), {first: "20.00"}),
        "full": refund_transaction(r, created + timedelta(days=4), {second: "266.99"}),
        "order": refund_transaction(o, created + timedelta(days=5)),
    }
    with sim.lock:
        sim.world.transactions.extend(added.values())
    return r, o, added


def _refund_and_label_that_cannot_apply(sim, order: dict) -> dict:
    """Finances transactions no order line can take: a REFUND of ``order`` naming a line item the
    order does not have, and a SHIPPING_LABEL of an order that was never loaded."""
    when = datetime.fromisoformat(order["creationDate"].replace("Z", "+00:00")) + timedelta(days=2)
    unknown_order = {**order, "orderId": "99-99999-99999"}
    bad = {"line": refund_transaction(order, when, {"999": "15.00"}, transaction_id="R-LINE-999"),
           "order": shipping_label_transaction(unknown_order, when, "4.56", transaction_id="L-ORDER-99")}
    with sim.lock:
        sim.world.transactions.extend(bad.values())
    return bad


def test_payout_after_the_order_attaches_fees_once_and_reaches_every_mart(sim, database_copy, tmp_path: Path):
    url, _ = database_copy("demo_warehouse", build_demo_warehouse)
    # two sizes of one multi-variation listing in one order: two sales
    sim.add_order(SEED_NOW - timedelta(days=20), [0, 0], with_transaction=True)
    refunded, refunded_order, added = _refunds_and_label(sim)
    _refund_and_label_that_cannot_apply(sim, refunded)
    orders = sorted((o for o in sim.world.orders if o not in (refunded, refunded_order)),
                    key=lambda o: o["creationDate"])
    pending, newest = orders[-2], orders[-1]  # the two newest orders: no Finances transaction yet
    paid = orders[0]
    client = _client(sim, url)
    with psycopg.connect(url) as conn:
        ensure_all_raw_tables(conn)
        conn.commit()
        _csv_report_line(conn, paid)
        _csv_report_line(conn, refunded, 1)  # the report's record of a line refunded in full: no sale

        first, orders_cursor = sync_orders(client, conn, since=None, now=SEED_NOW, overlap=OVERLAP)
        txns, cursor, _ = sync_transactions(client, conn, since=None, now=SEED_NOW, overlap=OVERLAP)
        assert first.totals()["rows_loaded"] == 15
        assert (txns.totals()["rows_loaded"], txns.totals()["rows_quarantined"]) == (18, 0)
        (line, fee, payout), = _line_fees(pending)
        assert (fee, payout) == (Decimal("13.51"), Decimal("88.48"))
        assert _sale(conn, pending["orderId"]) == [("ebay_api", line, Decimal("101.99"), None, None, False)]

        # Days later eBay pays out the newest order, then the older pending one. Each SALE
        # transaction is dated at the payment (the order's time): the second is older than the
        # cursor once the first is loaded, and only the pull-back to unpaid orders finds it.
        later = SEED_NOW + timedelta(days=4)
        sim.clock.set(later)
        sim.add_transaction(newest["orderId"])
        again, orders_cursor2 = sync_orders(client, conn, since=orders_cursor, now=later, overlap=OVERLAP)
        # the overlap re-reads the newest order: a duplicate, nothing loaded, the cursor stays
        assert again.totals() == {"rows_read": 1, "rows_loaded": 0, "rows_changed": 0, "rows_duplicate": 1,
                                  "rows_quarantined": 0} and orders_cursor2 == orders_cursor
        second, cursor2, start2 = sync_transactions(client, conn, since=cursor, now=later, overlap=OVERLAP)
        assert start2 == cursor - OVERLAP and second.totals()["rows_loaded"] == 1
        sim.add_transaction(pending["orderId"])
        third, cursor3, start3 = sync_transactions(client, conn, since=cursor2, now=later, overlap=OVERLAP)
        assert cursor2 - OVERLAP > start3 == datetime.fromisoformat(pending["creationDate"].replace("Z", "+00:00"))
        # the late transaction is loaded; the newest order's, read again, is a duplicate
        assert (third.totals()["rows_loaded"], third.totals()["rows_duplicate"]) == (1, 1)
        assert cursor3 == cursor2
        assert _sale(conn, pending["orderId"]) == [("ebay_api", line, Decimal("101.99"), fee, payout, True)]

        # Nothing is pending any more: the overlap alone is read again, nothing new, no duplicates.
        fourth, _, start4 = sync_transactions(client, conn, since=cursor3, now=later, overlap=OVERLAP)
        assert start4 == cursor3 - OVERLAP
        assert (fourth.totals()["rows_loaded"], fourth.totals()["rows_duplicate"]) == (0, 1)
        assert conn.execute("select count(*), count(distinct transaction_id) from raw.ebay_api_transactions"
                            ).fetchone() == (20, 20)
        conn.commit()

    # Only the models between the eBay staging views and the marts asserted below (time budget).
    dbt_ok(url, tmp_path / "target", "build", "--exclude", "resource_type:test", "--select", "ebay_item_mappings",
           *(f"{staging}+,+{mart}" for staging in ("stg_ebay__api_orders", "stg_ebay__api_transactions")
             for mart in ("mv_platform_performance", "unmatched_items", "fct_returns")))
    # The two transactions no line can take are the test's only rows (a warning, the run passes);
    # the good refunds and the label, which landed to the cent, give none.
    check = "assert_ebay_refunds_and_labels_are_applied"
    dbt_ok(url, tmp_path / "target", "test", "--select", check)
    (result,) = (r for r in json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
                 if r["unique_id"].startswith("test."))  # not the on-run-start hooks
    assert (result["status"], result["failures"]) == ("warn", 2)
    with psycopg.connect(url) as conn:
        query = sql.SQL("select transaction_id, order_id, line_item_id, problem from ({}) as problems"
                        " order by transaction_id").format(sql.SQL(result["compiled_code"]))
        problems = conn.execute(query).fetchall()
    assert problems == [
        ("L-ORDER-99", "99-99999-99999", None, "SHIPPING_LABEL L-ORDER-99 for order 99-99999-99999 not loaded"),
        ("R-LINE-999", refunded["orderId"], "999", f"REFUND R-LINE-999 names line 999 not in order {refunded['orderId']}"),
    ]

    expected = {(o["orderId"], legacy): (fee, pay) for o in orders if o["cancelStatus"]["cancelState"] != "CANCELED"
                for legacy, fee, pay in _line_fees(o)}
    fees, payouts = sum(f for f, _ in expected.values()), sum(p for _, p in expected.values())
    # Order `refunded`, by hand. SALE fees 14.45 + 0.35 (first line), 34.44, 16.38; the 20.00
    # refund gives back 2.58 of fees. The second line is a return, not a sale; the 9.87 label is
    # split over the other two by line total: 9.87 * 111.99 / 238.98 = 4.63, the last 5.24.
    # First line: gross 111.99 - 20.00 = 91.99, fees 14.80 - 2.58 = 12.22, payout
    # 91.99 - 12.22 - 4.63 = 75.14; third: gross 126.99, fees 16.38, payout 126.99 - 16.38 - 5.24.
    first, second, third = (line["legacyItemId"] for line in refunded["lineItems"])
    refund_sales = {
        (refunded["orderId"], first): (Decimal("91.99"), Decimal("12.22"), Decimal("4.63"), "EUR",
                                       Decimal("75.14"), Decimal("16.85")),
        (refunded["orderId"], third): (Decimal("126.99"), Decimal("16.38"), Decimal("5.24"), "EUR",
                                       Decimal("105.37"), Decimal("21.62")),
    }
    with psycopg.connect(url) as conn:
        sales = conn.execute(
            "select order_number, order_line, source_system, gross_amount, seller_fee_amount, shipping_fee_amount,"
            " shipping_fee_currency, payout_amount, total_fees_amount, payout_currency"
            " from transactions.fct_sales where platform = 'ebay'").fetchall()
        assert len(sales) == len(expected) + 2 == 16
        by_line = {(s[0], s[1]): s for s in sales}
        assert {key: (s[4], s[7]) for key, s in by_line.items() if key not in refund_sales} == expected
        assert {key: by_line[key][3:9] for key in refund_sales} == refund_sales
        assert {s[2] for s in sales} == {"ebay_api"}  # the report lines: the same sale, or a return
        assert {s[9] for s in sales} == {"EUR"}
        # gross - payout is exactly what eBay charged: its fees and the shipping label
        assert all(s[8] == s[4] + (s[5] or 0) for s in sales if s[4] is not None)
        units = conn.execute("select count(*), sum(fees_home), sum(payout_home) from finance.fct_unit_economics"
                             " where platform = 'ebay'").fetchone()
        fees += Decimal("16.85") + Decimal("21.62")
        payouts += Decimal("75.14") + Decimal("105.37")
        assert units == (16, fees, payouts)
        platform = conn.execute("select units_sold, fees_home from analytics.mv_platform_performance"
                                " where platform = 'ebay'").fetchone()
        assert platform == (16, fees)
        returns = conn.execute(
            "select return_id, kind, order_number, purchase_id, occurred_at, amount, amount_currency, source_system,"
            " reason from transactions.fct_returns where platform = 'ebay' order by return_id").fetchall()
        when = {name: datetime.fromisoformat(t["transactionDate"].replace("Z", "+00:00")) for name, t in added.items()}
        (only,) = (line["legacyItemId"] for line in refunded_order["lineItems"])
        assert returns == sorted([
            (f"buyer_return:ebay:{refunded['orderId']}:{second}", "buyer_return", refunded["orderId"], None,
             when["full"], Decimal("266.99"), "EUR", "ebay_api",
             f"eBay refund in full of item {second} ({added['full']['transactionId']})"),
            (f"buyer_return:ebay:{refunded_order['orderId']}:{only}", "buyer_return", refunded_order["orderId"], None,
             when["order"], Decimal("101.99"), "EUR", "ebay_api",
             f"eBay refund in full of item {only} ({added['order']['transactionId']})"),
        ])
        unmatched = conn.execute("select count(*) from products.unmatched_items where source = 'ebay_api_orders'"
                                 " and reason = 'no style code'").fetchone()[0]
        assert unmatched == 0  # every line: style code from its SKU or the reviewed mapping


def test_asset_materializes_both_tables_and_a_second_run_loads_nothing(sim, database_url):
    sim.clock.reset()  # the asset runs on the real clock (the seeded orders are weeks old, not years)
    resources = {
        "ebay": EbayResource(client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET,
                             refresh_token=DEMO_REFRESH_TOKEN, api_url=sim.api_url, finances_url=sim.finances_url,
                             auth_url=sim.auth_url, database_url=database_url, fernet_key=new_key()),
        "warehouse": WarehouseResource(database_url=database_url),
    }
    instance = dg.DagsterInstance.ephemeral()
    runs = [dg.materialize([ebay_api_sync], instance=instance, resources=resources) for _ in range(2)]
    meta = [{e.asset_key: {k: v.value for k, v in e.materialization.metadata.items()}
             for e in run.get_asset_materialization_events()} for run in runs]
    assert [m[ORDERS_KEY]["rows_loaded"] for m in meta] == [12, 0]
    assert [m[TRANSACTIONS_KEY]["rows_loaded"] for m in meta] == [9, 0]
    assert meta[1][ORDERS_KEY]["cursor"] == meta[0][ORDERS_KEY]["cursor"] == max(
        o["lastModifiedDate"] for o in sim.world.orders).replace(".000Z", "+00:00")
    assert meta[1][ORDERS_KEY]["table_rows"] == 12
    checks = [c for run in runs for c in run.get_asset_check_evaluations()]
    assert checks and all(c.passed for c in checks)


@pytest.fixture
def demo_env(monkeypatch):
    for name in ("SOLEFLIPPER_EBAY_CLIENT_ID", "SOLEFLIPPER_EBAY_CLIENT_SECRET", "SOLEFLIPPER_EBAY_REFRESH_TOKEN",
                 "SOLEFLIPPER_EBAY_API_URL", "SOLEFLIPPER_EBAY_FINANCES_URL", "SOLEFLIPPER_EBAY_AUTH_URL",
                 "SOLEFLIPPER_STOCKX_API_KEY", "SOLEFLIPPER_FERNET_KEY", "SOLEFLIPPER_NOTION_TOKEN",
                 "SOLEFLIPPER_METABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name in ("STOCKX", "NOTION", "METABASE", "EBAY"):
        monkeypatch.setenv(f"SOLEFLIPPER_{name}_SIMULATOR_PORT", "0")


def test_the_demo_starts_the_ebay_simulator_and_exports_what_the_assets_need(demo_env, database_url, tmp_path,
                                                                              monkeypatch):
    settings = Settings(home=tmp_path / "home", database_url=database_url)
    with demo_services(settings, n_sales=10, seed=1) as services:
        assert services.ebay_simulator is not None and ebay_enabled()
        assert os.environ["SOLEFLIPPER_EBAY_FINANCES_URL"] == services.ebay_simulator.finances_url
        with EbayResource.from_env(database_url).get_client() as client:
            assert sum(len(p) for p in client.iter_orders(SEED_NOW - timedelta(days=365))) == 12
    assert not ebay_enabled()  # restored on exit
    monkeypatch.setenv("SOLEFLIPPER_EBAY_CLIENT_ID", "my-real-app")
    with demo_services(settings, n_sales=10, seed=1) as services:
        assert services.ebay_simulator is None and "SOLEFLIPPER_EBAY_CLIENT_ID is set" in services.ebay_note
