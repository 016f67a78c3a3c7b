"""The Alias assets against the Alias simulator and a fresh PostgreSQL database.

Expected values come from the simulator's world. Nothing waits: the client is unpaced and
injected 429s carry ``Retry-After: 0``. One ephemeral Dagster instance per test keeps the orders
cursor (the previous materialization's metadata) across runs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import dagster as dg
import psycopg
import pytest
from dbt_runner import dbt_ok
from warehouse_datasets import load_clean, write_csv

from assets.alias import LISTINGS_KEY, ORDERS_KEY, alias_enabled, alias_listings, alias_orders
from assets.alias_sync import collect_orders, sync_listings, sync_orders
from resources.alias import AliasResource
from resources.warehouse import WarehouseResource, ensure_all_raw_tables
from simulators.alias import DEFAULT_TOKEN, AliasSimulator

N_ORDERS = 12


@pytest.fixture
def sim():
    with AliasSimulator(n_orders=N_ORDERS, n_listings=4) as running:
        yield running


@pytest.fixture
def run(sim, database_url):
    instance = dg.DagsterInstance.ephemeral()
    resources = {"alias": AliasResource(token=DEFAULT_TOKEN, base_url=sim.url("/api/v1"), requests_per_second=1000),
                 "warehouse": WarehouseResource(database_url=database_url)}

    def materialize(assets=None, run_config=None):
        result = dg.materialize(assets or [alias_orders], instance=instance, resources=resources,
                                run_config=run_config, raise_on_error=False)
        assert result.success
        return {e.asset_key: {k: v.value for k, v in e.materialization.metadata.items()}
                for e in result.get_asset_materialization_events()}

    return materialize


def rows(database_url: str, sql: str) -> list[tuple]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(sql).fetchall()


def test_enabled_only_with_a_token():
    assert alias_enabled({"SOLEFLIPPER_ALIAS_TOKEN": "goatapi_x"}) is True
    assert alias_enabled({"SOLEFLIPPER_ALIAS_TOKEN": " "}) is False and alias_enabled({}) is False


def test_collect_stops_at_the_first_page_older_than_since_and_walks_all_when_unordered():
    def order(i, stamp):
        return {"id": f"o{i}", "updated_at": stamp}

    pages = [[order(1, "2024-06-09T00:00:00Z"), order(2, "2024-06-08T00:00:00Z")],
             [order(3, "2024-06-05T00:00:00Z"), order(4, "2024-06-01T00:00:00Z")],
             [order(5, "2024-05-01T00:00:00Z")]]
    since = datetime(2024, 6, 4, tzinfo=UTC)
    kept, walked_all, repeats = collect_orders(pages, since)
    assert [o["id"] for o in kept] == ["o1", "o2", "o3"] and walked_all is False and repeats == 0
    unordered = [list(reversed(pages[1])), pages[0], pages[2] + [order(1, "2024-06-09T00:00:00Z")]]
    kept, walked_all, repeats = collect_orders(unordered, since)
    assert sorted(o["id"] for o in kept) == ["o1", "o2", "o3"] and walked_all is True and repeats == 1


def test_orders_and_listings_load_exact_cents_and_a_rerun_adds_nothing(sim, run, database_url):
    sim.inject("status:429", times=1, path_prefix="/api/v1/orders", retry_after=0)
    first = run([alias_orders, alias_listings])
    assert first[ORDERS_KEY]["rows_loaded"] == N_ORDERS and first[ORDERS_KEY]["retries"] == 1
    assert first[LISTINGS_KEY]["rows_loaded"] == 4
    world = {o["id"]: o for o in sim.world.orders}
    loaded = rows(database_url, "select order_id, price_cents, price_cents_after_take from raw.alias_orders")
    assert {r[0]: (r[1], r[2]) for r in loaded} == {
        i: (int(o["price_cents"]), None if o["price_cents_after_take"] is None else int(o["price_cents_after_take"]))
        for i, o in world.items()}
    again = run([alias_orders, alias_listings])
    assert again[ORDERS_KEY]["rows_loaded"] == 0 and again[LISTINGS_KEY]["rows_loaded"] == 0
    assert again[ORDERS_KEY]["since"] != "None"
    assert rows(database_url, "select count(*) from raw.alias_orders") == [(N_ORDERS,)]


def test_a_payout_that_arrives_after_the_order_adds_one_version(sim, run, database_url):
    run()
    open_order = next(o for o in sim.world.orders if o["price_cents_after_take"] is None
                      and o["status"] != "ORDER_STATUS_CANCELED")
    status_before = open_order["status"]  # complete_order changes the world's dict in place
    sim.complete_order(open_order["id"], "20000", datetime(2024, 12, 1, 8, tzinfo=UTC))
    later = run()
    assert later[ORDERS_KEY]["rows_loaded"] == 1 and later[ORDERS_KEY]["rows_changed"] == 1
    assert later[ORDERS_KEY]["max_updated_at"] == "2024-12-01T08:00:00+00:00"
    versions = rows(database_url, f"select status, price_cents_after_take from raw.alias_orders "  # noqa: S608
                                  f"where order_id = '{open_order['id']}' order by updated_at")
    assert versions == [(status_before, None), ("ORDER_STATUS_COMPLETED", 20000)]
    assert Decimal(versions[-1][1]).scaleb(-2) == Decimal("200.00")


def staged_listings(database_url: str) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in rows(database_url, "select listing_id, listing_status, catalog_id, style_code, "
                                                    "size_label, listing_price, listing_price_currency, created_at, "
                                                    "updated_at from staging.stg_alias__api_listings")}


def expected_listing(listing: dict) -> tuple:
    """The staged row of a simulator listing: cents (string or number) / 100, exact, in USD."""
    return (listing["status"], listing["catalog_id"], listing["catalog_sku"], str(listing["size"]),
            Decimal(str(listing["price_cents"])).scaleb(-2), "USD",
            datetime.fromisoformat(listing["created_at"]), datetime.fromisoformat(listing["updated_at"]))


def test_api_orders_reach_fct_sales_once_next_to_the_csv_export_with_exact_fees(sim, database_url, tmp_path):
    """One order in the CSV export and in the API is one sale, with the API's take; an open
    order is no sale until it is paid out (payout after the order: the sale appears, once).
    The listings ride along in the same dbt calls: stg_alias__api_listings keeps the newest
    version of a listing whose price changed."""
    completed = [o for o in sim.world.orders if o["status"] == "ORDER_STATUS_COMPLETED"]
    both, api_only = completed[0], completed[1]
    dollars = int(both["price_cents"]) // 100
    export = write_csv(tmp_path / "alias.csv", ["ORDER_NUMBER", "NAME", "PRODUCT_PRICE_CENTS_SALE_PRICE", "CREDIT_DATE"],
                       [[both["purchase_order_number"], both["catalog_name"], str(dollars), "20/06/24"]])
    with psycopg.connect(database_url) as conn:
        ensure_all_raw_tables(conn)
        load_clean(conn, "alias_consignment", export)
        with AliasResource(token=DEFAULT_TOKEN, base_url=sim.url("/api/v1")).get_client(
                requests_per_second=None) as client:
            sync_orders(client, conn, cursor=None)
            sync_listings(client, conn)
    # One dbt call (its parse is most of the time): the seeds and models these marts read, no tests.
    dbt_ok(database_url, tmp_path / "target", "build", "--select", "+fct_sales", "+fct_unit_economics",
           "+mv_platform_performance", "stg_alias__api_listings", "--resource-type", "seed", "--resource-type", "model")
    assert staged_listings(database_url) == {item["id"]: expected_listing(item) for item in sim.world.listings}
    sales = rows(database_url, "select order_number, platform, source_system, gross_amount, gross_currency, "
                               "seller_fee_amount, payout_amount, payout_currency, total_fees_amount, product_key "
                               "from transactions.fct_sales order by order_number")
    expected_sales = len(completed)
    assert len(sales) == expected_sales  # the CSV row of `both` is not a second sale; open/canceled: none
    by_number = {r[0]: r for r in sales}
    price, take = Decimal(str(api_only["price_cents"])) / 100, Decimal(str(api_only["price_cents_after_take"])) / 100
    assert by_number[api_only["purchase_order_number"]][1:] == (
        api_only["sales_channel"].lower(), "alias_api", price, "USD", price - take, take, "USD", price - take,
        api_only["catalog_sku"].replace(" ", ""))
    assert by_number[both["purchase_order_number"]][2] == "alias_api"
    sale_id = f"{api_only['sales_channel'].lower()}:{api_only['purchase_order_number']}"
    economics = rows(database_url, "select gross_sale_amount, payout_amount, fees_amount "  # noqa: S608
                                   f"from finance.fct_unit_economics where sale_id = '{sale_id}'")
    assert economics == [(price, take, price - take)]
    platforms = rows(database_url, "select platform, orders from analytics.mv_platform_performance order by platform")
    assert sum(n for _, n in platforms) == expected_sales

    # The payout arrives after the order: the next sync loads the completed version and the
    # incremental fct_sales gains exactly that sale, with Alias's take as its fee. A listing is
    # repriced at the same time: its new version replaces the old one in staging.
    pending = next(o for o in sim.world.orders if o["price_cents_after_take"] is None
                   and o["status"] != "ORDER_STATUS_CANCELED")
    assert pending["purchase_order_number"] not in by_number
    sim.complete_order(pending["id"], 15555, datetime(2024, 12, 20, 12, tzinfo=UTC))
    repriced = sim.world.listings[1]
    with sim.lock:  # the simulator has no listing update route; the world's dict is what it serves
        repriced.update(price_cents="25950", updated_at="2024-12-21T09:30:00Z")
    with psycopg.connect(database_url) as conn, AliasResource(
            token=DEFAULT_TOKEN, base_url=sim.url("/api/v1")).get_client(requests_per_second=None) as client:
        synced = sync_orders(client, conn, cursor=datetime(2024, 12, 1, tzinfo=UTC))
        listed = sync_listings(client, conn)
    assert synced.load is not None and synced.load.rows_loaded == 1
    assert listed.load is not None and listed.load.rows_loaded == 1  # the unchanged three are duplicates
    dbt_ok(database_url, tmp_path / "target", "run", "--select", "fct_sales", "stg_alias__api_listings")
    staged = staged_listings(database_url)
    assert rows(database_url, "select count(*) from raw.alias_listings") == [(len(sim.world.listings) + 1,)]
    assert len(staged) == len(sim.world.listings)
    price_now, currency, _, updated = staged[repriced["id"]][4:]
    assert (price_now, currency, updated) == (Decimal("259.50"), "USD", datetime(2024, 12, 21, 9, 30, tzinfo=UTC))
    assert staged == {item["id"]: expected_listing(item) for item in sim.world.listings}
    price = Decimal(str(pending["price_cents"])) / 100
    assert rows(database_url, "select count(*) from transactions.fct_sales") == [(expected_sales + 1,)]
    assert rows(database_url, "select gross_amount, seller_fee_amount, payout_amount, paid_out_at "  # noqa: S608
                              "from transactions.fct_sales "
                              f"where order_number = '{pending['purchase_order_number']}'") == [
        (price, price - Decimal("155.55"), Decimal("155.55"), datetime(2024, 12, 20, 12, tzinfo=UTC))]
