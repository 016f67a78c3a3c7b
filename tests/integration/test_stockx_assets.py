"""The StockX asset group against the StockX simulator and a fresh PostgreSQL database.

Expected values come from the simulator's world (its order book and catalog), never from the
loader. Nothing waits: the simulator's rate limit is off, the client is unpaced and injected
faults carry ``Retry-After: 0``. One ephemeral Dagster instance per test keeps the orders
cursor (the previous materialization's metadata) across runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from assets.file_imports import build_file_import_asset
from assets.stockx import (
    MARKET_DATA_KEY,
    ORDERS_KEY,
    PRODUCTS_KEY,
    VARIANTS_KEY,
    stockx_assets,
    stockx_catalog,
    stockx_market_data,
    stockx_orders,
)
from assets.stockx_sync import HISTORY_START, sync_catalog, sync_orders
from resources.imports import ImportFolderResource
from resources.stockx import StockXResource
from resources.token_store import new_key
from resources.warehouse import WarehouseResource
from simulators.stockx import (
    DEMO_API_KEY,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REDIRECT_URI,
    StockXSimulator,
)
from soleflipper.demo_data import generate_sales, write_demo_reports, write_sales_report
from soleflipper.products import style_key

SALES = 300
SEED = 7
BUDGET = 25_000
UNKNOWN_STYLE = "ZZ9999-999"
REPORT_KEY = dg.AssetKey(["raw", "stockx_sales_report"])
API_KEYS = (ORDERS_KEY, PRODUCTS_KEY, VARIANTS_KEY, MARKET_DATA_KEY)
TABLES = {ORDERS_KEY: "raw.stockx_orders", PRODUCTS_KEY: "raw.stockx_products",
          VARIANTS_KEY: "raw.stockx_variants", MARKET_DATA_KEY: "raw.stockx_market_data"}


@pytest.fixture
def sim():
    with StockXSimulator(rate_limit=False, seed=SEED, n_sales=SALES) as simulator:
        yield simulator


@pytest.fixture
def stockx(sim, database_url) -> StockXResource:
    """The resource pointed at the simulator, signed in (the code exchange spends no budget)."""
    resource = StockXResource(
        base_url=sim.api_base_url, auth_url=sim.auth_url, api_key=DEMO_API_KEY, client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET, redirect_uri=DEMO_REDIRECT_URI, database_url=database_url,
        fernet_key=new_key(), requests_per_second=0, daily_budget=BUDGET,
    )
    with resource.get_client() as client:
        client.exchange_code(sim.issue_code(DEMO_REDIRECT_URI))
    return resource


@pytest.fixture
def imports_root(tmp_path: Path) -> Path:
    """The demo's seller reports for the simulator's sales, plus one sale of a product StockX lacks."""
    folder = tmp_path / "imports" / "stockx_sales_report"
    write_demo_reports(folder, n_sales=SALES, seed=SEED)
    row = dict(generate_sales(2, seed=99)[0])
    row.update({"Order Number": "99999999-11111111", "Style": UNKNOWN_STYLE, "Item": "Nobody Knows Runner OG"})
    write_sales_report(folder / "extra_unknown_style.csv", [row])
    return tmp_path / "imports"


@dataclass
class Runner:
    instance: dg.DagsterInstance
    resources: dict

    def run(self, assets, partition_key: str | None = None, run_config: dict | None = None,
            tags: dict | None = None):
        return dg.materialize(assets, instance=self.instance, resources=self.resources,
                              partition_key=partition_key, run_config=run_config, raise_on_error=False, tags=tags)

    def backfill(self, assets, first: date, last: date):
        """One run over a partition range, as a single-run backfill from the UI launches it."""
        return self.run(assets, tags={"dagster/asset_partition_range_start": first.isoformat(),
                                      "dagster/asset_partition_range_end": last.isoformat()})


@pytest.fixture
def runner(stockx, database_url, imports_root) -> Runner:
    return Runner(dg.DagsterInstance.ephemeral(), {
        "stockx": stockx,
        "warehouse": WarehouseResource(database_url=database_url),
        "imports": ImportFolderResource(root=str(imports_root)),
    })


def today() -> date:
    return datetime.now(UTC).date()


def metadata(result: dg.ExecuteInProcessResult) -> dict[dg.AssetKey, dict]:
    return {e.asset_key: {k: v.value for k, v in e.materialization.metadata.items()}
            for e in result.get_asset_materialization_events()}


def counts(database_url: str, keys=API_KEYS) -> dict[dg.AssetKey, int]:
    with psycopg.connect(database_url) as conn:
        return {key: conn.execute(f"select count(*) from {TABLES[key]}").fetchone()[0]  # noqa: S608
                for key in keys}


def api_requests(sim, since: int = 0) -> list:
    return [r for r in sim.requests[since:] if r.path.startswith("/v2/")]


def calls_by_asset(requests) -> dict[dg.AssetKey, int]:
    """Which asset sent each logged API request (by endpoint)."""
    split = {ORDERS_KEY: 0, PRODUCTS_KEY: 0, MARKET_DATA_KEY: 0}
    for r in requests:
        key = (ORDERS_KEY if r.path.startswith("/v2/selling/orders/")
               else MARKET_DATA_KEY if r.path.endswith("/market-data") else PRODUCTS_KEY)
        split[key] += 1
    return split


class World:
    """What the simulator serves, computed from its world."""

    def __init__(self, sim: StockXSimulator) -> None:
        self.history = list(sim.world.orders)
        self.active = list(sim.world.active_orders)
        self.orders = self.history + self.active
        self.product_ids = sorted({o["product"]["productId"] for o in self.orders})
        products = [sim.world.products[p] for p in self.product_ids]
        self.style_keys = {style_key(p["styleId"]) for p in products if p["styleId"]}
        self.without_style = [p for p in products if not p["styleId"]]
        self.variants = sum(len(sim.world.variants[p]) for p in self.product_ids)
        self.newest_created = max(date.fromisoformat(o["createdAt"][:10]) for o in self.history)


# --------------------------------------------------------------------------- the whole group


def test_whole_group_loads_the_simulators_data_and_a_second_run_adds_nothing(sim, runner, database_url):
    world = World(sim)
    group = [build_file_import_asset("stockx_sales_report", group_name="stockx"), *stockx_assets]
    day = today().isoformat()

    first = runner.run(group, partition_key=day)
    assert first.success
    meta = metadata(first)
    assert counts(database_url) == {ORDERS_KEY: len(world.orders), PRODUCTS_KEY: len(world.product_ids),
                                    VARIANTS_KEY: world.variants, MARKET_DATA_KEY: world.variants}
    for key, expected in counts(database_url).items():
        assert meta[key]["rows_loaded"] == meta[key]["rows_read"] == meta[key]["table_rows"] == expected
        assert meta[key]["rows_quarantined"] == 0
    with psycopg.connect(database_url) as conn:
        loaded = {r[0] for r in conn.execute("select order_number from raw.stockx_orders")}
        snapshots = conn.execute("select distinct snapshot_date, currency_code from raw.stockx_market_data").fetchall()
        report_orders = conn.execute("select count(distinct order_number) from raw.stockx_sales_report").fetchone()[0]
    assert loaded == {o["orderNumber"] for o in world.orders}
    assert snapshots == [(today(), "EUR")]
    assert report_orders == SALES + 1

    orders = meta[ORDERS_KEY]
    assert (orders["window_start"], orders["window_end"]) == (HISTORY_START.isoformat(), day)
    assert orders["max_created_date"] == world.newest_created.isoformat()

    # The style code StockX does not know is reported, not raised.
    assert meta[PRODUCTS_KEY]["not_found"] == meta[VARIANTS_KEY]["not_found"] == 1
    assert meta[PRODUCTS_KEY]["not_found_lookups"] == f"- style {UNKNOWN_STYLE}"

    # api_calls is what each asset really sent, and the shared budget drops by exactly that.
    sent = calls_by_asset(api_requests(sim))
    assert sent == {
        ORDERS_KEY: math.ceil(len(world.history) / 100) + math.ceil(len(world.active) / 100),
        PRODUCTS_KEY: len(world.style_keys) + 1 + len(world.without_style) + len(world.product_ids),
        MARKET_DATA_KEY: len(world.product_ids),
    }
    for key in (ORDERS_KEY, PRODUCTS_KEY, MARKET_DATA_KEY):
        assert meta[key]["api_calls"] == sent[key] and meta[key]["retries"] == 0
    assert meta[VARIANTS_KEY]["api_calls"] == meta[PRODUCTS_KEY]["api_calls"]
    assert meta[ORDERS_KEY]["budget_remaining"] == BUDGET - sent[ORDERS_KEY]
    assert meta[PRODUCTS_KEY]["budget_remaining"] == meta[ORDERS_KEY]["budget_remaining"] - sent[PRODUCTS_KEY]
    assert meta[VARIANTS_KEY]["budget_remaining"] == meta[PRODUCTS_KEY]["budget_remaining"]
    assert meta[MARKET_DATA_KEY]["budget_remaining"] == meta[PRODUCTS_KEY]["budget_remaining"] - sent[MARKET_DATA_KEY]

    # Second run: nothing new anywhere; the orders window starts 3 days before the cursor.
    before, logged = counts(database_url), len(sim.requests)
    second = runner.run(group, partition_key=day)
    assert second.success
    meta2 = metadata(second)
    assert counts(database_url) == before
    for key in (REPORT_KEY, *API_KEYS):
        assert meta2[key]["rows_loaded"] == 0, key
    assert meta2[ORDERS_KEY]["window_start"] == (world.newest_created - timedelta(days=3)).isoformat()
    assert meta2[ORDERS_KEY]["max_created_date"] == world.newest_created.isoformat()
    assert meta2[PRODUCTS_KEY]["api_calls"] == 1  # only the unknown code is searched again
    assert meta2[PRODUCTS_KEY]["not_found_lookups"] == f"- style {UNKNOWN_STYLE}"
    assert meta2[MARKET_DATA_KEY]["rows_read"] == world.variants
    assert meta2[MARKET_DATA_KEY]["rows_duplicate"] == world.variants
    assert meta2[MARKET_DATA_KEY]["budget_remaining"] == meta[MARKET_DATA_KEY]["budget_remaining"] - len(
        api_requests(sim, logged))

    # A new order in the overlap window: the third run loads exactly that one row.
    new = sim.add_order(product_id=world.product_ids[0])
    third = runner.run(group, partition_key=day)
    assert third.success
    meta3 = metadata(third)
    assert meta3[ORDERS_KEY]["rows_loaded"] == 1
    assert counts(database_url) == {**before, ORDERS_KEY: before[ORDERS_KEY] + 1}
    for key in (PRODUCTS_KEY, VARIANTS_KEY, MARKET_DATA_KEY):
        assert meta3[key]["rows_loaded"] == 0
    with psycopg.connect(database_url) as conn:
        assert conn.execute("select count(*) from raw.stockx_orders where order_number = %s",
                            (new["orderNumber"],)).fetchone()[0] == 1


def test_full_refresh_refetches_the_whole_history_and_loads_nothing_twice(sim, runner, database_url):
    assert runner.run([stockx_orders]).success
    again = runner.run([stockx_orders], run_config={"ops": {"raw__stockx_orders": {"config": {"full_refresh": True}}}})
    assert again.success
    meta = metadata(again)[ORDERS_KEY]
    assert meta["window_start"] == HISTORY_START.isoformat()
    assert meta["rows_read"] == len(sim.world.orders) + len(sim.world.active_orders)
    assert meta["rows_loaded"] == 0
    assert counts(database_url, [ORDERS_KEY])[ORDERS_KEY] == len(sim.world.orders) + len(sim.world.active_orders)


# --------------------------------------------------------------------------- faults


def test_429s_and_500s_mid_pagination_still_end_with_exactly_the_simulators_orders(sim, runner, database_url):
    history, active = "/v2/selling/orders/history", "/v2/selling/orders/active"

    def misbehave() -> None:
        sim.inject("status:429", times=2, path_prefix=history, retry_after=0)
        sim.inject("status:500", times=2, path_prefix=history, retry_after=0)
        sim.inject("status:503", times=1, path_prefix=active, retry_after=0)

    sim.after_page("history", 2, misbehave)  # page 3 fails four times, then succeeds
    moved = sim.insert_order_after_page(page=1)  # and the pages shift under the walk
    result = runner.run([stockx_orders])
    assert result.success
    meta = metadata(result)[ORDERS_KEY]
    expected = {o["orderNumber"] for o in (*sim.world.orders, *sim.world.active_orders)}
    assert moved["orderNumber"] in expected
    with psycopg.connect(database_url) as conn:
        rows = [r[0] for r in conn.execute("select order_number from raw.stockx_orders")]
    assert sorted(rows) == sorted(expected)
    faults = [r for r in api_requests(sim) if r.fault]
    assert len(faults) == 5
    assert meta["retries"] == 5
    assert meta["api_calls"] == len(api_requests(sim))
    assert meta["budget_remaining"] == BUDGET - len(api_requests(sim))
    assert meta["rows_loaded"] == len(expected)


# --------------------------------------------------------------------------- market data partitions


def test_market_data_refuses_a_past_partition_and_fetches_nothing(sim, runner, database_url):
    yesterday = (today() - timedelta(days=1)).isoformat()
    result = runner.run([stockx_market_data], partition_key=yesterday)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.user_failure_data.description
    assert f"partition {yesterday} cannot be" in message and "only serves current market data" in message
    assert api_requests(sim) == []


def test_market_data_without_a_partition_key_snapshots_today(sim, runner, database_url):
    assert runner.run([build_file_import_asset("stockx_sales_report", group_name="stockx"), stockx_orders,
                       stockx_catalog]).success
    result = runner.run([stockx_market_data])
    assert result.success
    meta = metadata(result)[MARKET_DATA_KEY]
    assert meta["snapshot_date"] == today().isoformat()
    assert meta["rows_loaded"] == counts(database_url)[VARIANTS_KEY] == World(sim).variants


# --------------------------------------------------------------------------- sync functions directly


def test_an_order_seen_only_as_active_pulls_the_history_window_back(sim, stockx, conn):
    world = World(sim)
    day = date(2025, 1, 10)  # a "today" shortly after the simulator's book ends
    with stockx.get_client() as client:
        first = sync_orders(client, conn, since=None, today=day)
        assert first.max_created_date == world.newest_created
        second = sync_orders(client, conn, since=first.max_created_date, today=day)
    oldest_active = min(date.fromisoformat(o["createdAt"][:10]) for o in world.active)
    assert oldest_active < world.newest_created - timedelta(days=3)
    assert second.window == (oldest_active, day)
    assert second.pending_active == len(world.active)
    assert second.totals()["rows_loaded"] == 0


def test_a_cursor_without_loaded_history_is_ignored(sim, stockx, conn):
    with stockx.get_client() as client:
        result = sync_orders(client, conn, since=date(2024, 12, 29), today=date(2025, 1, 10))
    assert result.window == (HISTORY_START, date(2025, 1, 10))
    assert result.totals()["rows_loaded"] == len(sim.world.orders) + len(sim.world.active_orders)


def test_catalog_lookups_by_gtin_and_by_name_and_what_is_not_found(sim, stockx, conn):
    by_gtin = sorted(sim.world.products)[0]
    gtin = sim.world.variants[by_gtin][0]["gtins"][0]["gtin"]
    plush = next(p for p in sim.world.products.values() if p["title"] == "Pokemon Center Pikachu Sitting Cuties Plush")
    with stockx.get_client() as client:
        result = sync_catalog(client, conn, [], gtins=[gtin, "00000000"],
                              keywords=["pokemon center  PIKACHU sitting cuties plush", "No Such Thing"])
    assert result.not_found == ["gtin 00000000", "name No Such Thing"]
    assert result.products == 2
    loaded = {r[0] for r in conn.execute("select product_id from raw.stockx_products")}
    assert loaded == {by_gtin, plush["productId"]}
    variants = conn.execute("select count(*) from raw.stockx_variants").fetchone()[0]
    assert variants == len(sim.world.variants[by_gtin]) + len(sim.world.variants[plush["productId"]])


# --------------------------------------------------------------------------- orders partitions and backfills


def _created(order: dict) -> date:
    return date.fromisoformat(order["createdAt"][:10])


def _backfill_range(world: World) -> tuple[date, date, set[str]]:
    """A week in the middle of the simulator's history and the finished orders created in it."""
    days = sorted({_created(o) for o in world.history})
    first = days[len(days) // 2]
    last = first + timedelta(days=6)
    return first, last, {o["orderNumber"] for o in world.history if first <= _created(o) <= last}


def _history_requests(sim, since: int = 0) -> list:
    return [r for r in api_requests(sim, since) if r.path == "/v2/selling/orders/history"]


def test_orders_are_daily_partitioned_and_backfilled_in_one_run_per_range():
    assert stockx_orders.partitions_def == stockx_market_data.partitions_def
    assert stockx_orders.partitions_def.get_first_partition_key() == HISTORY_START.isoformat()
    assert stockx_orders.backfill_policy == dg.BackfillPolicy.single_run()


def test_a_backfill_fetches_exactly_its_days_and_rerunning_it_duplicates_nothing(sim, runner, database_url):
    world = World(sim)
    first, last, expected = _backfill_range(world)
    assert 0 < len(expected) < len(world.history)

    result = runner.backfill([stockx_orders], first, last)
    assert result.success
    # Exactly the range from the history endpoint (every page), and no active orders.
    requests = api_requests(sim)
    assert requests and requests == _history_requests(sim)
    assert {(r.arg("fromDate"), r.arg("toDate")) for r in requests} == {(first.isoformat(), last.isoformat())}
    with psycopg.connect(database_url) as conn:
        loaded = [r[0] for r in conn.execute("select order_number from raw.stockx_orders")]
    assert sorted(loaded) == sorted(expected)
    events = result.get_asset_materialization_events()
    assert sorted(e.partition for e in events) == [(first + timedelta(days=i)).isoformat() for i in range(7)]
    meta = metadata(result)[ORDERS_KEY]
    assert (meta["window_start"], meta["window_end"], meta["backfill"]) == (first.isoformat(), last.isoformat(), True)
    assert meta["rows_loaded"] == meta["table_rows"] == len(expected)

    # The same range again (a re-run from the UI): the same rows are read, none is loaded twice.
    again = runner.backfill([stockx_orders], first, last)
    assert again.success
    meta2 = metadata(again)[ORDERS_KEY]
    assert (meta2["rows_read"], meta2["rows_loaded"], meta2["rows_duplicate"]) == (len(expected), 0, len(expected))
    assert counts(database_url, [ORDERS_KEY])[ORDERS_KEY] == len(expected)

    # One day of it as its own partition: still nothing new.
    one = runner.run([stockx_orders], partition_key=first.isoformat())
    assert one.success and metadata(one)[ORDERS_KEY]["rows_loaded"] == 0
    assert counts(database_url, [ORDERS_KEY])[ORDERS_KEY] == len(expected)


def test_a_backfill_does_not_move_the_incremental_cursor_back(sim, runner, database_url):
    world = World(sim)
    day = today()
    assert runner.run([stockx_orders], partition_key=day.isoformat()).success  # the schedule's partition
    before = counts(database_url, [ORDERS_KEY])[ORDERS_KEY]
    first, last, _ = _backfill_range(world)
    backfill = runner.backfill([stockx_orders], first, last)
    assert backfill.success
    assert metadata(backfill)[ORDERS_KEY]["max_created_date"] == world.newest_created.isoformat()
    assert counts(database_url, [ORDERS_KEY])[ORDERS_KEY] == before

    logged = len(sim.requests)
    scheduled = runner.run([stockx_orders], partition_key=day.isoformat())
    assert scheduled.success
    meta = metadata(scheduled)[ORDERS_KEY]
    # Incremental from the cursor's overlap (and open orders), not from the backfilled week.
    assert meta["window_start"] == (world.newest_created - timedelta(days=3)).isoformat()
    assert meta["backfill"] is False and meta["rows_loaded"] == 0
    assert {r.path for r in api_requests(sim, logged)} == {"/v2/selling/orders/history",
                                                           "/v2/selling/orders/active"}


def test_a_range_that_reaches_today_is_incremental_and_starts_no_later_than_the_range(sim, runner, database_url):
    world = World(sim)
    assert runner.run([stockx_orders], partition_key=today().isoformat()).success
    first = world.newest_created - timedelta(days=10)
    result = runner.backfill([stockx_orders], first, today())
    assert result.success
    meta = metadata(result)[ORDERS_KEY]
    assert (meta["window_start"], meta["window_end"], meta["backfill"]) == (first.isoformat(),
                                                                            today().isoformat(), False)
    assert meta["rows_loaded"] == 0


# --------------------------------------------------------------------------- failures are not retried blindly


def test_a_rejected_login_fails_once_without_retries(sim, runner, database_url):
    sim.revoke_refresh_tokens()
    sim.expire_tokens()
    with runner.resources["stockx"].get_client() as client:  # make the stored token look expired too
        client.token_store.save("stockx", {**client.token_store.load("stockx"), "expires_at": 0})
    result = runner.run([stockx_orders], partition_key=today().isoformat())
    assert not result.success
    kinds = [e.event_type_value for e in result.all_events]
    assert kinds.count("STEP_FAILURE") == 1 and "STEP_UP_FOR_RETRY" not in kinds
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.user_failure_data.description
    assert message.startswith("AuthError") and "not retried" in message and "stockx login" in message


# --------------------------------------------------------------------------- market data of the pairs in stock


def _stock(database_url: str, items: list[tuple[str | None, str]]) -> None:
    """A stand-in products.inventory_items (product_key, current_status), as dbt builds it."""
    with psycopg.connect(database_url) as conn:
        conn.execute("create schema if not exists products")
        conn.execute("create table products.inventory_items (product_key text, current_status text)")
        for item in items:
            conn.execute("insert into products.inventory_items values (%s, %s)", item)


def test_market_data_is_fetched_for_the_products_in_stock_only(sim, runner, database_url):
    assert runner.run([build_file_import_asset("stockx_sales_report", group_name="stockx"), stockx_orders,
                       stockx_catalog]).success
    world = World(sim)
    with_style = [p for p in world.product_ids if sim.world.products[p]["styleId"]]
    in_stock, listed, sold = with_style[:3]
    key = {p: style_key(sim.world.products[p]["styleId"]) for p in (in_stock, listed, sold)}
    _stock(database_url, [(key[in_stock], "in_stock"), (key[listed], "listed"), (key[sold], "sold"),
                          (None, "in_stock")])
    wanted = {in_stock, listed}
    same_style = {p for p in world.product_ids
                  if style_key(sim.world.products[p]["styleId"]) in {key[in_stock], key[listed]}}
    assert wanted <= same_style

    logged = len(sim.requests)
    result = runner.run([stockx_market_data], partition_key=today().isoformat())
    assert result.success
    asked = {r.path.split("/")[4] for r in api_requests(sim, logged)}
    assert asked == same_style
    meta = metadata(result)[MARKET_DATA_KEY]
    assert meta["in_stock_only"] is True and meta["products"] == len(same_style)
    assert meta["rows_loaded"] == sum(len(sim.world.variants[p]) for p in same_style)

    # in_stock_only: false fetches every known product (the rows already loaded are duplicates).
    everything = runner.run([stockx_market_data], partition_key=today().isoformat(), run_config={
        "ops": {"raw__stockx_market_data": {"config": {"in_stock_only": False}}}})
    assert everything.success
    assert metadata(everything)[MARKET_DATA_KEY]["products"] == len(world.product_ids)
