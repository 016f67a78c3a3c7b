"""Notion → raw tables (assets/notion_sync.py, assets/notion.py) against the Notion simulator.

Real HTTP on 127.0.0.1, a fresh PostgreSQL database per test. Expected pages and values come
from the simulator's workspace, never from the loader. The simulator's clock is frozen (edits
are stamped with it, rounded down to the minute, as Notion does); the client's backoff sleeps
are recorded, not slept.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import dagster as dg
import psycopg
import pytest
from psycopg import sql

from assets.notion import notion_assets, notion_purchases
from assets.notion_sync import NotionSyncInterrupted, committed_cursor, sync_database
from resources.notion import NotionClient, NotionResource
from resources.warehouse import WarehouseResource
from simulators.notion import NotionSimulator
from simulators.notion_data import BULK_EDIT_AT, LENA, PURCHASES_DATA_SOURCE_ID, SEED_NOW, Prop
from soleflipper.notion_mappings import load_mapping

TOKEN = "secret_notion_assets_test_7c1e9a"
MAPPING = load_mapping(env={})
PURCHASES = MAPPING.databases["purchases"]
SALES = MAPPING.databases["sales"]
DS_QUERY = f"/v1/data_sources/{PURCHASES_DATA_SOURCE_ID}/query"
GUEST = "7a1b2c3d-0000-4000-8000-00000000dead"
FILES = "https://files.notion-sim.example/secure"
DRIVE = "https://drive.demo-sneakers.example"
BERLIN = ZoneInfo("Europe/Berlin")
EDIT_AT = datetime(2025, 7, 1, 9, 0, 20, tzinfo=UTC)  # edits are stamped 09:00 (rounded down)


@pytest.fixture
def sim():
    simulator = NotionSimulator(token=TOKEN, requests_per_second=None, n_purchases=20)
    simulator.clock.set(SEED_NOW)
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(sim, sleeps):
    made = NotionClient(
        TOKEN, base_url=sim.url("/v1"), requests_per_second=None, sleep=sleeps.append,
        rng=random.Random(7), timeout=5.0, max_attempts=2,
    )  # fmt: skip
    yield made
    made.close()


@pytest.fixture
def db(conn):
    conn.autocommit = True  # assertions only; every sync gets its own connection
    return conn


@pytest.fixture
def run(database_url, client):
    def run(mapping=PURCHASES, **kwargs):
        with psycopg.connect(database_url) as connection:
            return sync_database(client, connection, None, mapping, **kwargs)

    return run


def pages(sim: NotionSimulator, database: str) -> list:
    return [p for p in sim.workspace.pages.values() if p.db == database]


def rows(db, table: str, page_id: str) -> list[dict]:
    """Every version of a page, oldest first, as {column: value}."""
    cur = db.execute(
        sql.SQL("select * from {} where page_id = %s order by last_edited_time, _loaded_at").format(
            sql.Identifier("raw", table)),
        (page_id,),
    )
    names = [c.name for c in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def count(db, table: str) -> tuple[int, int]:
    """(rows, distinct page ids) of a raw table."""
    return db.execute(
        sql.SQL("select count(*), count(distinct page_id) from {}").format(sql.Identifier("raw", table))
    ).fetchone()


def page_ids(db, table: str, where: str = "true") -> set[str]:
    return {r[0] for r in db.execute(
        sql.SQL("select page_id from {} where {}").format(sql.Identifier("raw", table), sql.SQL(where)))}


def query_bodies(sim: NotionSimulator, path: str) -> list[dict]:
    return [r.json() for r in sim.requests if r.method == "POST" and r.path == path]


# -- first sync: every page, typed columns --------------------------------------------------------


def test_first_sync_loads_every_simulator_page_once_with_typed_columns(sim, run, db):
    for mapping, key in ((PURCHASES, "purchases"), (SALES, "sales")):
        result = run(mapping)
        expected = set(sim.page_ids(key))
        n = len(expected)
        assert (result.pages, result.loaded, result.duplicate, result.quarantined) == (n, n, 0, 0)
        assert count(db, f"notion_{key}") == (n, n)
        assert page_ids(db, f"notion_{key}") == expected
        trashed = page_ids(db, f"notion_{key}", "in_trash and archived")
        assert trashed == set(sim.page_ids(key, in_trash=True))
        assert result.trashed == result.trashed_loaded == len(trashed) == 1
        assert result.cursor == max(p.last_edited_time for p in pages(sim, key))
        assert (result.new_columns, result.missing_properties, result.unmapped_properties) == ([], [], {})

    cat = sim.catalogue
    full, sale = cat["purchase_full"], cat["sale_full"]
    members = sim.workspace.pages[full].values["Bulk Package"]
    (row,) = rows(db, "notion_purchases", full)
    assert {k: row[k] for k in (
        "sku", "product_name", "brand", "size", "supplier", "supplier_order_number", "account_email",
        "gross_buy", "net_buy", "vat_included", "vat_amount", "buy_date", "delivery_date", "delivery_date_end",
        "status", "listed_stockx", "listed_alias", "tags", "sale_page_ids", "bulk_package_page_ids",
        "package_total", "is_sold", "return_status", "return_deadline", "runner", "owner", "receipt_files",
        "purchase_id", "created_time", "last_edited_time", "in_trash", "archived",
    )} == {  # fmt: skip
        "sku": "DD1391-100",  # title
        "product_name": "Nike Dunk Low Retro White Black",  # rich text of two runs
        "brand": "Nike", "size": "10.5 US", "supplier": "Solebox",  # select
        "supplier_order_number": "SOL-4417731",
        "account_email": "lena.hoffmann+solebox@demo-sneakers.example",  # email
        "gross_buy": Decimal("119.99"), "net_buy": Decimal("100.83"),  # number
        "vat_included": True, "listed_stockx": True, "listed_alias": False,  # checkbox
        "vat_amount": Decimal("19.16"),  # formula (number)
        "buy_date": date(2025, 3, 14),  # 19:45 Europe/Berlin, sent with its offset
        "delivery_date": date(2025, 3, 17), "delivery_date_end": date(2025, 3, 19),  # range of days
        "status": "Sale completed",  # status
        "tags": ["Restock", "Bundle"],  # multi_select
        "sale_page_ids": {"ids": [sale], "has_more": False},  # relation
        "bulk_package_page_ids": {"ids": members[:25], "has_more": True},  # 30 related, 25 listed
        "package_total": None,  # rollup Notion could not compute (incomplete): NULL, raw JSON kept
        "is_sold": True,  # formula (boolean)
        "return_status": None,  # formula (string), empty
        "return_deadline": date(2025, 3, 28),  # formula (date): bought + Solebox's 14 days
        "runner": "@Mo Yilmaz (10 %)",  # rich text with a user mention
        "owner": [  # people, one of them a partial user
            {"id": LENA, "name": "Lena Hoffmann", "email": "lena@demo-sneakers.example", "type": "person"},
            {"id": GUEST, "name": None, "email": None, "type": None},
        ],
        "receipt_files": [  # files: Notion-hosted (stored unsigned) and external
            {"name": "Rechnung_SOL-4417731.pdf", "type": "file", "expiry_time": None,
             "url": f"{FILES}/9f1c0e2a-receipt-sol-4417731/Rechnung_SOL-4417731.pdf"},
            {"name": "Bestellbestätigung Solebox", "type": "external", "expiry_time": None,
             "url": f"{DRIVE}/receipts/sol-4417731.pdf"},
        ],
        "purchase_id": f"BUY-{sim.workspace.pages[full].number}",  # unique_id with prefix
        "created_time": datetime(2025, 3, 14, 18, 45, tzinfo=UTC),
        "last_edited_time": datetime(2025, 4, 2, 19, 16, tzinfo=UTC),
        "in_trash": False, "archived": False,
    }
    # the raw page: every property as Notion sent it, the hosted file's signature and expiry removed
    raw_page = row["page"]
    api_page = sim.page(full)
    assert raw_page["properties"]["Delivery Date"] == api_page["properties"]["Delivery Date"]
    assert raw_page["properties"]["Package Total"] == {
        "id": api_page["properties"]["Package Total"]["id"], "type": "rollup",
        "rollup": {"type": "incomplete", "incomplete": {}, "function": "sum"},
    }
    hosted = api_page["properties"]["Receipt"]["files"][0]["file"]
    assert "X-Amz-Signature=" in hosted["url"] and hosted["expiry_time"]
    assert raw_page["properties"]["Receipt"]["files"][0]["file"] == {"url": hosted["url"].split("?")[0]}
    assert set(raw_page["properties"]) == set(api_page["properties"])  # ignored properties too (button)

    (window,) = rows(db, "notion_purchases", cat["purchase_delivery_window"])
    # a datetime range with a time zone (10:00-14:00 Europe/Berlin) into date columns: its local day
    assert (window["delivery_date"], window["delivery_date_end"]) == (date(2025, 4, 10), date(2025, 4, 10))
    assert window["page"]["properties"]["Delivery Date"]["date"] == {
        "start": "2025-04-10T10:00:00.000+02:00", "end": "2025-04-10T14:00:00.000+02:00", "time_zone": "Europe/Berlin",
    }  # fmt: skip

    (empty,) = rows(db, "notion_purchases", cat["purchase_empty"])
    assert {k: empty[k] for k in ("sku", "gross_buy", "buy_date", "vat_included", "tags", "owner", "receipt_files",
                                  "sale_page_ids", "is_sold", "return_deadline", "status")} == {
        "sku": None, "gross_buy": None, "buy_date": None, "vat_included": False, "tags": [], "owner": [],
        "receipt_files": [], "sale_page_ids": {"ids": [], "has_more": False}, "is_sold": False,
        "return_deadline": None, "status": None,
    }  # fmt: skip

    (sold,) = rows(db, "notion_sales", sale)
    assert {k: sold[k] for k in (
        "sku", "sale_id", "sale_number", "sale_platform", "sale_date", "gross_sale", "net_sale", "purchase_page_ids",
        "net_buy", "buy_date", "supplier", "profit", "roi", "shelf_life_days", "pas", "sale_overview",
        "payout_received", "payout_due", "payout_overdue", "documents", "tags",
    )} == {  # fmt: skip
        "sku": "DD1391-100", "sale_id": "76551909-76451668",
        "sale_number": str(sim.workspace.pages[sale].number),  # unique_id without prefix
        "sale_platform": "StockX",
        "sale_date": date(2025, 4, 2),  # local wall time 21:15 + time_zone Europe/Berlin
        "gross_sale": Decimal("148.5"), "net_sale": Decimal("127.71"),
        "purchase_page_ids": {"ids": [full], "has_more": False},
        "net_buy": Decimal("100.83"),  # rollup (number, sum)
        "buy_date": date(2025, 3, 14),  # rollup (date, earliest)
        "supplier": "Solebox",  # rollup (array, show_original) of one select
        "profit": Decimal("26.88"), "roi": Decimal("0.2666"), "shelf_life_days": Decimal("19"),
        "pas": Decimal("1.41"),  # formulas (number)
        "sale_overview": "Size 10.5 US - 76551909-76451668 - Sold 90 Days ago",  # formula (string)
        "payout_received": True, "payout_due": date(2025, 4, 16), "payout_overdue": False,
        "documents": [
            {"name": "Label_76551909-76451668.pdf", "type": "file", "expiry_time": None,
             "url": f"{FILES}/5be0d1f3-label-76551909/Label_76551909-76451668.pdf"},
            {"name": "Zustand Fotos", "type": "external", "expiry_time": None, "url": f"{DRIVE}/photos/76551909"},
        ],
        "tags": ["Express"],
    }
    # ignored properties (Buyer Phone: personal data) have no column
    columns = {r[0] for r in db.execute(
        "select column_name from information_schema.columns where table_schema = 'raw' and table_name = 'notion_sales'")}
    assert "buyer_phone" not in columns and not any(c.startswith("prop_") for c in columns)


@pytest.mark.parametrize(("version", "api", "archived"), [
    ("2026-03-11", "data_sources", None),  # no `archived` any more: NULL, in_trash still set
    ("2022-06-28", "databases", True),  # the legacy database query
])  # fmt: skip
def test_other_api_versions_fill_the_same_columns(sim, db, database_url, version, api, archived):
    with NotionClient(TOKEN, base_url=sim.url("/v1"), notion_version=version, requests_per_second=None) as client:
        with psycopg.connect(database_url) as connection:
            result = sync_database(client, connection, replace(PURCHASES, api=api), PURCHASES)
    total = len(sim.page_ids("purchases"))
    assert (result.loaded, count(db, "notion_purchases")) == (total, (total, total))
    trashed = sim.catalogue["purchase_trashed"]
    assert db.execute("select in_trash, archived from raw.notion_purchases where page_id = %s",
                      (trashed,)).fetchone() == (True, archived)
    assert page_ids(db, "notion_purchases", "in_trash") == {trashed}
    (row,) = rows(db, "notion_purchases", sim.catalogue["purchase_full"])
    assert (row["sku"], row["gross_buy"], row["buy_date"]) == ("DD1391-100", Decimal("119.99"), date(2025, 3, 14))


# -- incremental: the inclusive cursor minute repeats, nothing is duplicated ---------------------------


def test_incremental_sync_rereads_the_cursor_minute_and_adds_nothing(sim, run, db):
    first = run(SALES)
    assert first.cursor == BULK_EDIT_AT  # payouts ticked in one go: several sales share this minute
    in_minute = [p for p in pages(sim, "sales") if p.last_edited_time == BULK_EDIT_AT]
    assert len(in_minute) >= 2

    again = run(SALES, since=first.cursor)
    assert (again.pages, again.loaded, again.duplicate) == (len(in_minute), 0, len(in_minute))
    assert again.cursor == first.cursor
    body = query_bodies(sim, f"/v1/data_sources/{SALES.data_source_id}/query")[-1]
    assert body["filter"] == {"timestamp": "last_edited_time",
                              "last_edited_time": {"on_or_after": "2025-06-30T20:15:00.000Z"}}  # fmt: skip

    # Two hours later every hosted file URL is signed anew: still nothing new, even in full.
    run(PURCHASES)
    before = sim.page(sim.catalogue["purchase_full"])["properties"]["Receipt"]["files"][0]["file"]["url"]
    sim.clock.advance(2 * 3600)
    assert sim.page(sim.catalogue["purchase_full"])["properties"]["Receipt"]["files"][0]["file"]["url"] != before
    full = run(PURCHASES, full_refresh=True)
    total = len(sim.page_ids("purchases"))
    assert (full.pages, full.loaded, full.duplicate, full.tombstones) == (total, 0, total, 0)
    assert count(db, "notion_purchases") == (total, total)


def test_edits_and_trash_become_new_versions(sim, run, db):
    first = run(PURCHASES)
    a, b = sim.catalogue["purchase_delivery_window"], sim.catalogue["purchase_bulk_member"]
    sim.clock.set(EDIT_AT)
    sim.edit(a, {"Order No.": "C01290384757"})
    sim.edit(b, listed_local=True)

    edited = run(PURCHASES, since=first.cursor)
    assert (edited.loaded, edited.changed, edited.trashed_loaded) == (2, 2, 0)
    assert edited.cursor == datetime(2025, 7, 1, 9, 0, tzinfo=UTC)
    assert [r["supplier_order_number"] for r in rows(db, "notion_purchases", a)] == ["C01290384756", "C01290384757"]
    assert [r["listed_local"] for r in rows(db, "notion_purchases", b)] == [False, True]
    total = len(sim.page_ids("purchases"))
    assert count(db, "notion_purchases") == (total + 2, total)

    sim.clock.advance(120)
    sim.trash(a)
    trashed = run(PURCHASES, since=edited.cursor)
    assert (trashed.loaded, trashed.trashed_loaded) == (1, 1)
    versions = rows(db, "notion_purchases", a)
    assert [(r["in_trash"], r["supplier_order_number"]) for r in versions] == [
        (False, "C01290384756"), (False, "C01290384757"), (True, "C01290384757")]
    # staging's rule: the latest version per page; drop it when trashed
    dropped = {r[0] for r in db.execute(
        "select page_id from (select distinct on (page_id) page_id, in_trash, archived from raw.notion_purchases"
        " order by page_id, last_edited_time desc, _loaded_at desc) latest where in_trash or archived")}
    assert dropped == {a, sim.catalogue["purchase_trashed"]}


# -- schema drift --------------------------------------------------------------------------------------


def add_property(sim: NotionSimulator, database: str, name: str, kind: str, prop_id: str) -> None:
    sim.workspace.databases[database].props[name] = Prop(name, kind, prop_id, {"options": []} if "select" in kind else {})


def test_a_new_property_becomes_a_new_nullable_typed_column(sim, run, db):
    first = run(PURCHASES)
    add_property(sim, "purchases", "Pickup Window", "date", "pk%3Aw")
    add_property(sim, "purchases", "Condition", "select", "cn%3Ad")
    add_property(sim, "purchases", "Pairs", "number", "pr%3As")
    add_property(sim, "purchases", "Checked?", "checkbox", "ch%3Ak")
    sim.clock.set(EDIT_AT)
    page = sim.catalogue["purchase_delivery_window"]
    sim.edit(page, {
        "Pickup Window": (datetime(2025, 7, 5, 10, 0, tzinfo=BERLIN), datetime(2025, 7, 5, 14, 0, tzinfo=BERLIN),
                          "Europe/Berlin"),  # a datetime range with a time zone
        "Condition": "DS", "Pairs": 2, "Checked?": True,
    })  # fmt: skip
    in_minute = [p for p in pages(sim, "purchases") if p.last_edited_time == first.cursor]

    result = run(PURCHASES, since=first.cursor)
    new = ["prop_checked", "prop_condition", "prop_pairs", "prop_pickup_window"]
    assert result.new_columns == new
    assert result.unmapped_properties == {
        "Checked?": "prop_checked", "Condition": "prop_condition", "Pairs": "prop_pairs", "Pickup Window": "prop_pickup_window"}
    # the edited page, and the cursor minute's pages (their JSON now lists the new properties)
    assert result.loaded == 1 + len(in_minute)
    columns = dict(db.execute(
        "select column_name, data_type || ':' || is_nullable from information_schema.columns"
        " where table_schema = 'raw' and table_name = 'notion_purchases' and column_name like 'prop%%'").fetchall())
    assert columns == {"prop_checked": "boolean:YES", "prop_condition": "text:YES", "prop_pairs": "numeric:YES",
                       "prop_pickup_window": "timestamp with time zone:YES"}  # fmt: skip
    latest = rows(db, "notion_purchases", page)[-1]
    assert {c: latest[c] for c in new} == {
        "prop_checked": True, "prop_condition": "DS", "prop_pairs": Decimal("2"),
        "prop_pickup_window": datetime(2025, 7, 5, 8, 0, tzinfo=UTC),  # the range's start, 10:00 in Berlin
    }
    assert latest["page"]["properties"]["Pickup Window"]["date"]["time_zone"] == "Europe/Berlin"
    assert rows(db, "notion_purchases", page)[0]["prop_condition"] is None  # history: NULL before
    comment = db.execute("select col_description('raw.notion_purchases'::regclass, attnum) from pg_attribute"
                         " where attrelid = 'raw.notion_purchases'::regclass and attname = 'prop_pickup_window'").fetchone()[0]
    assert json.loads(comment.removeprefix("notion_sync: ")) == {"property": "Pickup Window", "notion_type": "date"}

    # later syncs keep the same columns (no new ones) and fill them
    sim.clock.advance(120)
    sim.edit(page, {"Condition": "VNDS"})
    later = run(PURCHASES, since=result.cursor)
    assert (later.new_columns, later.loaded) == ([], 1)
    assert later.unmapped_properties == result.unmapped_properties
    assert rows(db, "notion_purchases", page)[-1]["prop_condition"] == "VNDS"


def test_a_renamed_or_removed_mapped_property_is_reported_and_its_history_kept(sim, run, db):
    first = run(PURCHASES)
    purchases = sim.workspace.databases["purchases"]
    del purchases.props["Runner"]  # deleted in Notion
    purchases.props = {("Invoice Number" if k == "Invoice Nr." else k): v for k, v in purchases.props.items()}
    purchases.props["Invoice Number"].name = "Invoice Number"  # renamed in Notion
    for p in pages(sim, "purchases"):
        if "Invoice Nr." in p.values:
            p.values["Invoice Number"] = p.values.pop("Invoice Nr.")
    full = sim.catalogue["purchase_full"]
    sim.clock.set(EDIT_AT)
    sim.edit(full, location="Alias")

    result = run(PURCHASES, since=first.cursor)
    assert result.missing_properties == ["Invoice Nr.", "Runner"]
    assert result.unmapped_properties == {"Invoice Number": "prop_invoice_number"}
    assert result.new_columns == ["prop_invoice_number"]
    old, new = rows(db, "notion_purchases", full)
    assert (old["runner"], old["supplier_invoice_number"], old["location"]) == ("@Mo Yilmaz (10 %)", "RE-2025-00412", "Reshipper")
    assert (new["runner"], new["supplier_invoice_number"], new["prop_invoice_number"], new["location"]) == (
        None, None, "RE-2025-00412", "Alias")
    kept = db.execute("select count(*) from raw.notion_purchases where runner is not null").fetchone()[0]
    assert kept == sum(1 for p in pages(sim, "purchases") if p.values.get("Runner"))  # every old value


# -- interruption ---------------------------------------------------------------------------------------


def interrupt_after_two_batches(sim: NotionSimulator, run):
    """A page_size=10 sync whose 3rd response fails every attempt: two batches are committed."""

    def fail_next(result) -> None:
        if result.batches == 2:
            sim.inject("status:500", times=2, path_prefix=DS_QUERY)  # max_attempts=2: both fail

    with pytest.raises(NotionSyncInterrupted) as failed:
        run(PURCHASES, full_refresh=True, page_size=10, progress=fail_next)
    return failed.value


def test_an_interrupted_sync_resumes_without_loss_or_duplicates(sim, run, db, database_url, sleeps):
    stopped = interrupt_after_two_batches(sim, run)
    assert "HTTP 500" in str(stopped) and len(sleeps) == 1  # one retry, then the error
    ordered = sorted(p.last_edited_time for p in pages(sim, "purchases"))
    assert (stopped.result.batches, stopped.result.pages, stopped.result.cursor) == (2, 20, ordered[19])
    assert count(db, "notion_purchases") == (20, 20)  # the batch in flight left nothing behind
    with psycopg.connect(database_url) as c:
        resume = committed_cursor(c, PURCHASES)
    assert resume == stopped.result.cursor

    sent = len(query_bodies(sim, DS_QUERY))
    rest = run(PURCHASES, since=resume, page_size=10)
    repeated = sum(1 for t in ordered[:20] if t == resume)  # the cursor minute, read again
    total = len(sim.page_ids("purchases"))
    assert (rest.pages, rest.loaded, rest.duplicate) == (total - 20 + repeated, total - 20, repeated)
    filters = [body["filter"] for body in query_bodies(sim, DS_QUERY)[sent:]]
    assert len(filters) >= 3 and all(f == {"timestamp": "last_edited_time", "last_edited_time": {
        "on_or_after": resume.strftime("%Y-%m-%dT%H:%M:00.000Z")}} for f in filters)  # fmt: skip
    assert count(db, "notion_purchases") == (total, total)  # every page exactly once
    assert page_ids(db, "notion_purchases") == set(sim.page_ids("purchases"))


# -- deletions for good: tombstones -------------------------------------------------------------------


def test_full_refresh_writes_one_tombstone_for_a_page_deleted_for_good(sim, run, db, database_url):
    first = run(PURCHASES)
    gone = sim.catalogue["purchase_delivery_window"]
    del sim.workspace.pages[gone]  # emptied from the trash: the API never returns it again
    detected = datetime(2025, 7, 1, 9, 30, tzinfo=UTC)

    result = run(PURCHASES, full_refresh=True, now=lambda: detected)
    total = len(sim.page_ids("purchases"))
    assert (result.pages, result.loaded, result.duplicate, result.tombstones) == (total, 0, total, 1)
    (tomb,) = db.execute(
        "select page_id, last_edited_time, in_trash, archived, sku, created_time, page from raw.notion_purchases"
        " where page @> '{\"deleted\": true}'").fetchall()
    assert tomb == (gone, detected, True, None, None, None, {"deleted": True, "detected_by": "full_refresh"})
    assert [r["in_trash"] for r in rows(db, "notion_purchases", gone)] == [False, True]
    with psycopg.connect(database_url) as c:
        assert committed_cursor(c, PURCHASES) == first.cursor  # tombstones never move the cursor

    again = run(PURCHASES, full_refresh=True, now=lambda: detected + timedelta(days=1))
    assert (again.tombstones, again.loaded) == (0, 0)  # already tombstoned: nothing more
    assert count(db, "notion_purchases") == (total + 2, total + 1)


# -- the Dagster assets ------------------------------------------------------------------------------


def resources(sim: NotionSimulator, database_url: str) -> dict:
    return {
        "notion": NotionResource(token=TOKEN, base_url=sim.url("/v1"), requests_per_second=1000.0, max_attempts=1),
        "warehouse": WarehouseResource(database_url=database_url),
    }


def metadata(result: dg.ExecuteInProcessResult, database: str) -> dict:
    (event,) = result.asset_materializations_for_node(f"raw__notion_{database}")
    return {k: getattr(v, "value", v) for k, v in event.metadata.items()}


def test_assets_materialize_twice_with_the_cursor_from_metadata(sim, database_url, db):
    instance = dg.DagsterInstance.ephemeral()
    first = dg.materialize(notion_assets, instance=instance, resources=resources(sim, database_url))
    assert first.success
    purchases, sales = metadata(first, "purchases"), metadata(first, "sales")
    n_purchases, n_sales = len(sim.page_ids("purchases")), len(sim.page_ids("sales"))
    purchase_cursor = max(p.last_edited_time for p in pages(sim, "purchases"))
    assert {k: purchases[k] for k in ("pages_read", "pages_loaded", "pages_duplicate", "pages_trashed", "tombstones",
                                      "api_calls", "retries", "since", "cursor", "table_rows", "new_columns",
                                      "missing_properties", "unmapped_properties", "full_refresh")} == {
        "pages_read": n_purchases, "pages_loaded": n_purchases, "pages_duplicate": 0, "pages_trashed": 1,
        "tombstones": 0, "api_calls": 2, "retries": 0, "since": "", "cursor": purchase_cursor.isoformat(),
        "table_rows": n_purchases, "new_columns": [], "missing_properties": [], "unmapped_properties": [],
        "full_refresh": False,
    }  # fmt: skip  (api_calls: one query for live pages, one for trashed ones)
    assert (sales["pages_loaded"], sales["cursor"]) == (n_sales, BULK_EDIT_AT.isoformat())
    assert purchases["warnings"] == 3  # the bulk head page: relation has_more, rollup incomplete (twice)

    # The table loses its newest purchase row: only the metadata cursor still says where we were.
    lost = db.execute("delete from raw.notion_purchases where last_edited_time = %s", (purchase_cursor,)).rowcount
    sim.clock.set(EDIT_AT)
    sim.edit(sim.catalogue["sale_empty"], net_sale=55.5)
    in_minute = sum(1 for p in pages(sim, "sales") if p.last_edited_time == BULK_EDIT_AT)

    second = dg.materialize(notion_assets, instance=instance, resources=resources(sim, database_url))
    purchases, sales = metadata(second, "purchases"), metadata(second, "sales")
    assert (purchases["since"], purchases["pages_read"], purchases["pages_loaded"]) == (
        purchase_cursor.isoformat(), lost, lost)  # the cursor minute, read again: the lost rows are back
    assert (sales["since"], sales["pages_read"], sales["pages_loaded"], sales["pages_duplicate"], sales["cursor"]) == (
        BULK_EDIT_AT.isoformat(), in_minute + 1, 1, in_minute, "2025-07-01T09:00:00+00:00")
    assert query_bodies(sim, f"/v1/data_sources/{SALES.data_source_id}/query")[-1]["filter"] == {
        "timestamp": "last_edited_time", "last_edited_time": {"on_or_after": "2025-06-30T20:15:00.000Z"}}

    third = dg.materialize(
        [notion_purchases], instance=instance, resources=resources(sim, database_url),
        run_config={"ops": {"raw__notion_purchases": {"config": {"full_refresh": True}}}},
    )  # fmt: skip
    purchases = metadata(third, "purchases")
    assert (purchases["full_refresh"], purchases["since"], purchases["pages_read"], purchases["pages_loaded"]) == (
        True, "", n_purchases, 0)
    assert count(db, "notion_purchases") == (n_purchases, n_purchases)


def test_asset_resumes_after_a_failed_sync_from_the_committed_batches(sim, run, db, database_url):
    stopped = interrupt_after_two_batches(sim, run)
    result = dg.materialize([notion_purchases], instance=dg.DagsterInstance.ephemeral(),
                            resources=resources(sim, database_url))
    meta = metadata(result, "purchases")
    total = len(sim.page_ids("purchases"))
    assert (meta["since"], meta["pages_loaded"]) == (stopped.result.cursor.isoformat(), total - 20)
    assert count(db, "notion_purchases") == (total, total)


def test_a_failed_asset_run_reports_and_records_no_cursor(sim, database_url, db):
    # A 400 is not transient: the step fails at once (a 429/5xx would be retried by the step's
    # RetryPolicy, after a backoff delay).
    sim.inject("status:400", times=1, path_prefix=DS_QUERY)
    instance = dg.DagsterInstance.ephemeral()
    failed = dg.materialize([notion_purchases], instance=instance, resources=resources(sim, database_url),
                            raise_on_error=False)
    assert not failed.success
    kinds = [e.event_type_value for e in failed.all_events]
    assert kinds.count("STEP_FAILURE") == 1 and "STEP_UP_FOR_RETRY" not in kinds
    assert instance.get_latest_materialization_event(notion_purchases.key) is None
    assert count(db, "notion_purchases") == (0, 0)  # the table exists, empty
    retried = dg.materialize([notion_purchases], instance=instance, resources=resources(sim, database_url))
    total = len(sim.page_ids("purchases"))
    assert metadata(retried, "purchases")["pages_loaded"] == total
