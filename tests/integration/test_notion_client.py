"""The Notion client against the Notion simulator over real HTTP on 127.0.0.1.

Nothing waits for real: the simulator's clock is frozen (edits, formulas and its rate limiter
run on it) and the client's backoff sleeps are recorded — or, where pacing is under test,
advance that same fake clock.
"""

from __future__ import annotations

import json
import logging
import math
import random
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import dagster as dg
import httpx
import pytest

from resources.http_client import ApiError, AuthError, MalformedResponse
from resources.notion import (
    LEGACY_VERSION,
    NotionApiError,
    NotionAuthError,
    NotionClient,
    NotionQueryTruncated,
    NotionResource,
    NotionTarget,
    PageDeduper,
    floor_minute,
    is_trashed,
)
from simulators.notion import NotionSimulator
from simulators.notion_data import (
    BULK_EDIT_AT,
    PURCHASES_DATA_SOURCE_ID,
    PURCHASES_DATABASE_ID,
    SALES_DATA_SOURCE_ID,
    SALES_DATABASE_ID,
    SEED_NOW,
)
from soleflipper.demo_data import CATALOG
from soleflipper.notion_mappings import load_mapping
from soleflipper.notion_properties import flatten_page

TOKEN = "secret_notion_test_token_4f9a2c7e1b8d"
MAPPING = load_mapping(env={})
PURCHASES = MAPPING.databases["purchases"]
SALES = MAPPING.databases["sales"]
DS_QUERY = f"/v1/data_sources/{PURCHASES_DATA_SOURCE_ID}/query"
SALES_QUERY = f"/v1/data_sources/{SALES_DATA_SOURCE_ID}/query"


class Sleeps(list):
    """Records requested waits; optionally moves the simulator's clock by them."""

    def __init__(self, sim: NotionSimulator | None = None) -> None:
        super().__init__()
        self.sim = sim

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        if self.sim is not None:
            self.sim.clock.advance(seconds)


@pytest.fixture
def make_sim():
    made: list[NotionSimulator] = []

    def make(**kwargs) -> NotionSimulator:
        options = {"token": TOKEN, "requests_per_second": None, "n_purchases": 60}
        sim = NotionSimulator(**{**options, **kwargs})
        sim.clock.set(SEED_NOW)
        made.append(sim.start())
        return sim

    yield make
    for sim in made:
        sim.stop()


@pytest.fixture
def sim(make_sim) -> NotionSimulator:
    return make_sim()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_client(sim, sleeps):
    made: list[NotionClient] = []

    def make(version: str = "2025-09-03", server: NotionSimulator | None = None, **kwargs) -> NotionClient:
        options = {
            "base_url": (server or sim).url("/v1"),
            "notion_version": version,
            "requests_per_second": None,
            "sleep": sleeps,
            "rng": random.Random(7),
            "timeout": 5.0,
        }
        client = NotionClient(kwargs.pop("token", TOKEN), **{**options, **kwargs})
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def all_pages(sim: NotionSimulator, database: str) -> set[str]:
    return set(sim.page_ids(database))


def sync(client: NotionClient, target, **kwargs) -> list[dict]:
    return [page for batch in client.query(target, **kwargs) for page in batch]


def queries(sim: NotionSimulator) -> list:
    return [r for r in sim.requests if r.method == "POST"]


# -- full and incremental syncs -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "api", "parent"),
    [
        ("2025-09-03", "data_sources", "data_source_id"),
        ("2026-03-11", "data_sources", "data_source_id"),
        ("2022-06-28", "databases", "database_id"),
        ("2025-09-03", "databases", "database_id"),  # legacy endpoint: that call pins 2022-06-28
    ],
)
def test_full_sync_returns_every_page_once_through_either_api(sim, make_client, version, api, parent):
    client = make_client(version)
    for db, key in ((PURCHASES, "purchases"), (SALES, "sales")):
        pages = sync(client, replace(db, api=api), full_refresh=True)
        ids = [p["id"] for p in pages]
        assert len(ids) == len(set(ids)) and set(ids) == all_pages(sim, key)
        assert {p["parent"]["type"] for p in pages} == {parent}
        edited = [p["last_edited_time"] for p in pages]
        assert edited == sorted(edited)
        assert {p["id"] for p in pages if is_trashed(p)} == set(sim.page_ids(key, in_trash=True))
    expected_version = LEGACY_VERSION if api == "databases" else version
    posts = queries(sim)
    assert {r.headers["Notion-Version"] for r in posts} == {expected_version}
    assert {r.path.split("/")[2] for r in posts} == {api}
    assert {r.headers["Authorization"] for r in sim.requests} == {f"Bearer {TOKEN}"}


def test_data_source_ids_are_discovered_once_from_the_database(sim, make_client):
    client = make_client()
    target = NotionTarget(PURCHASES_DATABASE_ID)  # no data_source_id configured
    sync(client, target)
    sync(client, target)
    gets = [r.path for r in sim.requests if r.method == "GET"]
    assert gets == [f"/v1/databases/{PURCHASES_DATABASE_ID}"]
    assert {r.path for r in queries(sim)} == {DS_QUERY}


def test_pages_carry_trash_flags_and_2026_drops_archived(sim, make_client):
    trashed_id = sim.catalogue["purchase_trashed"]
    old = {p["id"]: p for p in sync(make_client("2025-09-03"), PURCHASES)}
    new = {p["id"]: p for p in sync(make_client("2026-03-11"), PURCHASES)}
    assert (old[trashed_id]["in_trash"], old[trashed_id]["archived"]) == (True, True)
    assert "archived" not in new[trashed_id] and new[trashed_id]["in_trash"] is True
    assert all("archived" not in p for p in new.values())
    row = flatten_page(new[trashed_id], PURCHASES)
    assert (row["in_trash"], row["archived"]) == (True, None)
    live = [p for p in new.values() if p["id"] != trashed_id]
    assert not any(is_trashed(p) for p in live)


def test_trashed_pages_come_from_a_second_query_with_in_trash(sim, make_client):
    sync(make_client(), PURCHASES)
    bodies = [r.json() for r in queries(sim)]
    assert [b.get("in_trash", False) for b in bodies] == [False, True]
    assert all(b["sorts"] == [{"timestamp": "last_edited_time", "direction": "ascending"}] for b in bodies)
    assert all("filter" not in b for b in bodies)  # a full sync has no filter


def test_incremental_sync_repeats_the_cursor_minute_and_the_caller_dedupes(sim, make_client):
    client = make_client()
    dedupe = PageDeduper()
    first = dedupe.new(sync(client, SALES, full_refresh=True))
    assert {p["id"] for p in first} == all_pages(sim, "sales")

    a, b = sim.catalogue["sale_full"], sim.catalogue["sale_empty"]
    sim.clock.set(datetime(2025, 7, 1, 9, 0, 20, tzinfo=UTC))
    edited_a = sim.edit(a, net_sale=130.0)
    assert edited_a == datetime(2025, 7, 1, 9, 0, tzinfo=UTC)  # rounded down to the minute
    sim.clock.set(datetime(2025, 7, 1, 9, 0, 40, tzinfo=UTC))
    second = sync(client, SALES, since=datetime(2025, 6, 30, 21, 0, tzinfo=UTC))
    assert [p["id"] for p in second] == [a]
    assert [p["id"] for p in dedupe.new(second)] == [a]  # a new version of a: kept
    cursor = max(datetime.fromisoformat(p["last_edited_time"]) for p in second)

    sim.clock.set(datetime(2025, 7, 1, 9, 0, 50, tzinfo=UTC))
    sim.edit(b, sale_id="84417703-84290011", sale_platform="StockX")  # same minute as a
    third = sync(client, SALES, since=cursor + timedelta(seconds=40))  # rounded down: inclusive minute
    assert sorted(p["id"] for p in third) == sorted([a, b])
    assert [p["id"] for p in dedupe.new(third)] == [b]
    assert dedupe.duplicates == 1
    assert queries(sim)[-1].json()["filter"] == {
        "timestamp": "last_edited_time",
        "last_edited_time": {"on_or_after": "2025-07-01T09:00:00.000Z"},
    }
    row = flatten_page(next(p for p in third if p["id"] == b), SALES)
    assert (row["values"]["sale_id"], row["values"]["sale_platform"]) == ("84417703-84290011", "StockX")


def test_incremental_sync_sees_new_and_trashed_pages(sim, make_client):
    client = make_client()
    sim.clock.set(datetime(2025, 7, 2, 11, 5, 30, tzinfo=UTC))
    new_id = sim.create_page("purchases", sku="DD1391-100", gross_buy=110, vat=True, buy_date=datetime(2025, 7, 2).date())
    gone = sim.catalogue["purchase_delivery_window"]
    sim.trash(gone)
    pages = sync(client, PURCHASES, since=datetime(2025, 7, 2, 11, 0, tzinfo=UTC))
    assert {p["id"]: p["in_trash"] for p in pages} == {new_id: False, gone: True}
    row = flatten_page(next(p for p in pages if p["id"] == new_id), PURCHASES)
    assert row["values"]["gross_buy"] == Decimal("110") and row["values"]["purchase_id"].startswith("BUY-")


def test_pagination_walks_every_page_with_the_previous_cursor(sim, make_client):
    client = make_client()
    batches = list(client.query(PURCHASES, full_refresh=True, page_size=7))
    live = len(sim.page_ids("purchases", in_trash=False))
    assert [len(b) for b in batches[:-1]] == [7] * (len(batches) - 1)
    assert sum(len(b) for b in batches) == live + 1
    live_posts = [r for r in queries(sim) if not r.json().get("in_trash")]
    assert len(live_posts) == math.ceil(live / 7)
    cursors = [r.json().get("start_cursor") for r in live_posts]
    assert cursors[0] is None and all(_is_uuid(c) for c in cursors[1:]) and len(set(cursors[1:])) == len(cursors) - 1
    for batch in batches:  # each batch ends at a safe resume point
        assert batch.resume_from == datetime.fromisoformat(batch.pages[-1]["last_edited_time"])


def test_short_pages_with_has_more_are_followed(make_sim, make_client):
    short = make_sim(max_results_per_response=3)
    client = make_client(server=short)
    pages = [p for chunk in client.query_data_source(SALES_DATA_SOURCE_ID, page_size=100) for p in chunk]
    assert {p["id"] for p in pages} == set(short.page_ids("sales", in_trash=False))
    assert len(queries(short)) == math.ceil(len(pages) / 3)


def _is_uuid(value) -> bool:
    return isinstance(value, str) and len(value) == 36 and value.count("-") == 4


# -- interruption and truncation ----------------------------------------------------------------


def test_a_sync_interrupted_mid_way_resumes_and_ends_with_every_page_once(sim, make_client, sleeps):
    client = make_client(max_attempts=3)
    dedupe = PageDeduper()
    stored: list[dict] = []
    checkpoint = None
    with pytest.raises(NotionApiError) as failed:
        for n, batch in enumerate(client.query(PURCHASES, full_refresh=True, page_size=10)):
            stored.extend(dedupe.new(batch))
            checkpoint = batch.resume_from  # the caller commits the batch, then its checkpoint
            if n == 2:
                sim.inject("status:500", times=3, path_prefix=DS_QUERY)  # every attempt of the next page fails
    assert (failed.value.status, failed.value.code) == (500, "internal_server_error")
    assert len(stored) == 30 and len(sleeps) == 2  # two retries, then the error
    early = stored[0]["id"]
    sim.clock.set(datetime(2025, 7, 3, 8, 0, tzinfo=UTC))
    sim.edit(early, gross_buy=99.0)  # edited while the sync was down: must come again, as a new version

    for batch in client.query(PURCHASES, since=checkpoint, page_size=10):
        stored.extend(dedupe.new(batch))
    everything = all_pages(sim, "purchases")
    assert [p["id"] for p in stored].count(early) == 2
    rest = [p["id"] for p in stored if p["id"] != early]
    assert len(rest) == len(set(rest)) and set(rest) | {early} == everything
    assert dedupe.duplicates >= 1  # the checkpoint's minute was read again


def test_result_cap_truncation_continues_from_the_last_edited_time(make_sim, make_client):
    capped = make_sim(result_cap=25)
    client = make_client(server=capped)
    pages = PageDeduper().new(sync(client, PURCHASES, full_refresh=True, page_size=10))
    assert sorted(p["id"] for p in pages) == sorted(all_pages(capped, "purchases"))
    live = sorted(
        (p for p in capped.workspace.pages.values() if p.db == "purchases" and not p.in_trash),
        key=lambda p: (p.last_edited_time, p.id),
    )
    windows = [r.json() for r in queries(capped) if "start_cursor" not in r.json() and not r.json().get("in_trash")]
    assert "filter" not in windows[0]  # the full sync starts unfiltered
    # the first window stopped after 25 results: the next starts at the 25th page's minute (inclusive)
    assert windows[1]["filter"] == {
        "timestamp": "last_edited_time",
        "last_edited_time": {"on_or_after": live[24].last_edited_time.strftime("%Y-%m-%dT%H:%M:00.000Z")},
    }
    assert client.truncations == len(windows) - 1 >= 2


def test_low_level_query_raises_on_truncation_after_the_results(make_sim, make_client):
    capped = make_sim(result_cap=25)
    client = make_client(server=capped)
    got: list[dict] = []
    with pytest.raises(NotionQueryTruncated) as info:
        for chunk in client.query_data_source(PURCHASES_DATA_SOURCE_ID, page_size=10):
            got.extend(chunk)
    assert len(got) == 25 and info.value.reason == "query_result_limit_reached"
    assert info.value.last_edited_time == datetime.fromisoformat(got[-1]["last_edited_time"])
    assert len(queries(capped)) == 3  # 10 + 10 + 5, then has_more false with request_status incomplete


def test_truncation_inside_one_minute_cannot_be_narrowed_and_says_so(make_sim, make_client):
    capped = make_sim(result_cap=6)  # 8 sales share BULK_EDIT_AT's minute
    client = make_client(server=capped)
    with pytest.raises(NotionQueryTruncated, match="cannot be narrowed") as info:
        sync(client, SALES, full_refresh=True)
    assert info.value.last_edited_time == BULK_EDIT_AT


# -- retries, errors, secrets ---------------------------------------------------------------------


def test_injected_429_retry_after_is_slept_exactly(sim, make_client, sleeps):
    sim.inject("status:429", retry_after=7)
    client = make_client()
    assert client.get_database(PURCHASES_DATABASE_ID)["data_sources"][0]["id"] == PURCHASES_DATA_SOURCE_ID
    assert sleeps == [7.0] and client.retries_made == 1


def test_the_simulators_rate_limit_answers_429_and_the_client_waits_it_out(make_sim, make_client):
    limited = make_sim(requests_per_second=3.0, rate_burst=2)
    waits = Sleeps(limited)
    client = make_client(server=limited, sleep=waits)
    for _ in range(3):
        client.get_database(SALES_DATABASE_ID)
    assert waits == [1.0]
    statuses = [r.fault for r in limited.requests]
    assert len(limited.requests) == 4 and statuses == [None] * 4
    raw = httpx.get(limited.url(f"/v1/databases/{SALES_DATABASE_ID}"),
                    headers={"Authorization": f"Bearer {TOKEN}", "Notion-Version": "2025-09-03"})  # fmt: skip
    raw2 = httpx.get(limited.url(f"/v1/databases/{SALES_DATABASE_ID}"),
                     headers={"Authorization": f"Bearer {TOKEN}", "Notion-Version": "2025-09-03"})  # fmt: skip
    limited_answer = raw2 if raw2.status_code == 429 else raw
    assert limited_answer.status_code == 429 and limited_answer.headers["Retry-After"] == "1"
    body = limited_answer.json()
    assert (body["code"], body["additional_data"]) == ("rate_limited", {"rate_limit_reason": "average_rate"})


def test_client_pacing_stays_inside_the_simulators_3_per_second_bucket(make_sim, make_client):
    limited = make_sim(requests_per_second=3.0, rate_burst=2)
    waits = Sleeps(limited)
    client = make_client(server=limited, sleep=waits, clock=limited.clock.now, requests_per_second=3.0)
    for _ in range(12):
        client.get_database(PURCHASES_DATABASE_ID)
    assert client.retries_made == 0 and len(limited.requests) == 12
    assert sum(waits) == pytest.approx(11 / 3)


def test_window_budget_429_carries_the_seconds_to_the_next_window(make_sim, make_client):
    budget = make_sim(window_budget=2)
    budget.clock.set(datetime(2025, 7, 1, 8, 0, 45, tzinfo=UTC))
    waits = Sleeps(budget)
    client = make_client(server=budget, sleep=waits)
    for _ in range(3):
        client.get_database(PURCHASES_DATABASE_ID)
    assert waits == [15.0]


def test_529_and_5xx_are_retried_for_the_post_query(sim, make_client, sleeps):
    sim.inject("status:529", retry_after=2, path_prefix=DS_QUERY)
    sim.inject("status:503", path_prefix=DS_QUERY)
    sim.inject("status:502", path_prefix=DS_QUERY)  # an HTML gateway page
    sim.inject("status:504", path_prefix=DS_QUERY)
    client = make_client()
    pages = sync(client, PURCHASES)
    assert {p["id"] for p in pages} == all_pages(sim, "purchases")
    assert sleeps[0] == 2.0 and len(sleeps) == 4 and client.retries_made == 4
    assert [r.fault for r in queries(sim)][:5] == ["status:529", "status:503", "status:502", "status:504", None]


def test_529_body_is_notions_and_surfaces_when_retries_run_out(sim, make_client, sleeps):
    sim.inject("status:529", times=2, retry_after=3)
    client = make_client(max_attempts=2)
    with pytest.raises(NotionApiError) as info:
        client.get_database(SALES_DATABASE_ID)
    err = info.value
    assert (err.status, err.code, err.retry_after) == (529, "service_overload", 3.0)
    assert _is_uuid(err.request_id) and err.request_id in str(err)
    assert sleeps == [3.0]


@pytest.mark.parametrize("fault", ["malformed_json", "truncated_json", "empty_body", "wrong_content_type"])
def test_a_broken_body_is_retried_then_raised(sim, make_client, sleeps, fault):
    sim.inject(fault, path_prefix=DS_QUERY)
    client = make_client(max_attempts=2)
    pages = sync(client, PURCHASES, include_trashed=False)
    assert {p["id"] for p in pages} == set(sim.page_ids("purchases", in_trash=False))
    assert sleeps and client.retries_made == 1
    sim.inject(fault, times=2, path_prefix=DS_QUERY)
    with pytest.raises(MalformedResponse):
        sync(client, PURCHASES)


def test_notion_errors_carry_code_message_and_request_id_and_are_not_retried(sim, make_client):
    client = make_client()
    with pytest.raises(NotionApiError) as missing:
        client.get_database("0f0e0d0c-0000-4000-8000-000000000000")
    assert (missing.value.status, missing.value.code) == (404, "object_not_found")
    assert "Could not find database with ID: 0f0e0d0c-0000-4000-8000-000000000000" in missing.value.message
    with pytest.raises(NotionApiError) as invalid:
        list(client.query_data_source(SALES_DATA_SOURCE_ID, filter={"property": "Colour", "select": {"equals": "red"}}))
    assert (invalid.value.status, invalid.value.code) == (400, "validation_error")
    assert invalid.value.message == "Could not find property with name or id: Colour"
    assert client.calls_made == 2 and client.retries_made == 0
    with pytest.raises(ValueError, match="page_size must be 1..100"):
        list(client.query_data_source(SALES_DATA_SOURCE_ID, page_size=101))


def test_a_wrong_token_is_an_auth_error_without_retries(sim, make_client):
    client = make_client(token="secret_wrong_token_0000")
    with pytest.raises(NotionAuthError) as info:
        client.get_database(SALES_DATABASE_ID)
    assert isinstance(info.value, AuthError) and info.value.code == "unauthorized"
    assert info.value.message == "API token is invalid." and client.calls_made == 1
    assert "secret_wrong_token_0000" not in str(info.value) + repr(info.value.args) + (info.value.body or "")


def test_the_token_never_reaches_logs_or_exceptions(sim, make_client, caplog):
    caplog.set_level(logging.DEBUG)
    echo = {"object": "error", "status": 400, "code": "validation_error",
            "message": f"Invalid header: Bearer {TOKEN}", "request_id": "5d0c3f3b-0000-4000-8000-000000000000"}  # fmt: skip
    sim.inject("status:429", retry_after=1)
    sim.inject("status:500", times=5, path_prefix=DS_QUERY)
    sim.inject("status:400", body=echo, path_prefix="/v1/databases")
    client = make_client()
    errors: list[ApiError] = []
    for call in (lambda: client.get_database(SALES_DATABASE_ID), lambda: sync(client, PURCHASES)):
        with pytest.raises(ApiError) as info:
            call()
        errors.append(info.value)
    assert errors[0].message == "Invalid header: ***"
    for err in errors:
        assert TOKEN not in str(err) + repr(err.args) + (err.body or "") + repr(err.__dict__)
    assert TOKEN not in caplog.text and caplog.text  # something was logged, never the token
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in sim.requests)


def test_every_request_carries_notion_version(sim, make_client):
    for version in ("2025-09-03", "2022-06-28", "2026-03-11"):
        client = make_client(version)
        client.get_database(PURCHASES_DATABASE_ID)
        sync(client, SALES)
        sync(client, replace(PURCHASES, api="databases"), page_size=50)
    assert sim.requests and all(r.headers.get("Notion-Version") for r in sim.requests)
    assert {r.headers["Notion-Version"] for r in sim.requests} == {"2025-09-03", "2022-06-28", "2026-03-11"}
    bare = httpx.post(sim.url(DS_QUERY), headers={"Authorization": f"Bearer {TOKEN}"}, json={})
    assert (bare.status_code, bare.json()["code"]) == (400, "missing_version")
    assert bare.headers["x-notion-request-id"] == bare.json()["request_id"]


# -- objects, schema and simulator contract -------------------------------------------------------


def test_get_database_and_data_source_per_version(sim, make_client):
    new = make_client("2025-09-03").get_database(SALES_DATABASE_ID)
    assert new["data_sources"] == [{"id": SALES_DATA_SOURCE_ID, "name": "Sales"}] and "properties" not in new
    legacy = make_client("2022-06-28").get_database(SALES_DATABASE_ID)
    assert "data_sources" not in legacy and legacy["properties"]["Sale ID"]["type"] == "rich_text"
    source = make_client("2022-06-28").get_data_source(SALES_DATA_SOURCE_ID)  # pinned to 2025-09-03
    assert source["object"] == "data_source" and source["parent"] == {"type": "database_id", "database_id": SALES_DATABASE_ID}
    rollup = source["properties"]["Net Buy"]["rollup"]
    assert (rollup["relation_property_name"], rollup["rollup_property_name"], rollup["function"]) == (
        "Purchase", "Net Buy", "sum"
    )  # fmt: skip


@pytest.mark.parametrize("db", [PURCHASES, SALES], ids=["purchases", "sales"])
def test_the_simulators_schema_matches_the_default_mapping(sim, make_client, db):
    schema = make_client().get_data_source(db.data_source_id)["properties"]
    assert set(schema) == set(db.properties)  # every property mapped or ignored, none missing
    for column in db.columns:
        assert schema[column.property]["type"] == column.notion_type, column.property


def test_seeded_pages_flatten_without_surprises_and_use_catalog_style_codes(sim, make_client):
    client = make_client()
    styles = {p.style for p in CATALOG}
    for db in (PURCHASES, SALES):
        for page in sync(client, db):
            row = flatten_page(page, db)
            assert row["unmapped"] == {} and row["missing"] == []
            assert all("Bulk Package" in w or "Package Total" in w for w in row["warnings"]), row["warnings"]
            assert row["values"]["sku"] in styles | {None}
    sales = [flatten_page(p, SALES)["values"] for p in sync(client, SALES)]
    stockx = [s["sale_id"] for s in sales if s["sale_platform"] == "StockX"]
    assert stockx and all(len(i) == 17 and i[8] == "-" and i.replace("-", "").isdigit() for i in stockx)


def test_catalogue_pages_hold_every_property_type_and_empty_values(sim, make_client):
    client = make_client()
    by_id = {p["id"]: p for db in (PURCHASES, SALES) for p in sync(client, db)}
    full = flatten_page(by_id[sim.catalogue["purchase_full"]], PURCHASES)
    values = full["values"]
    assert values["product_name"] == "Nike Dunk Low Retro White Black"
    assert (values["gross_buy"], values["net_buy"], values["vat_amount"]) == (
        Decimal("119.99"), Decimal("100.83"), Decimal("19.16")
    )  # fmt: skip
    assert (values["delivery_date"].isoformat(), values["delivery_date_end"].isoformat()) == ("2025-03-17", "2025-03-19")
    assert values["bulk_package_page_ids"]["has_more"] is True and len(values["bulk_package_page_ids"]["ids"]) == 25
    assert values["package_total"] is None  # rollup "incomplete": raw JSON only
    assert [f["type"] for f in values["receipt_files"]] == ["file", "external"]
    assert values["receipt_files"][0]["expiry_time"] == "2025-07-01T09:00:00+00:00"  # clock + 1 h
    assert [o["type"] for o in values["owner"]] == ["person", None]  # full and partial user
    assert values["runner"] == "@Mo Yilmaz (10 %)" and values["purchase_id"].startswith("BUY-")
    assert values["is_sold"] is True and values["return_deadline"].isoformat() == "2025-03-28"
    sale = flatten_page(by_id[sim.catalogue["sale_full"]], SALES)["values"]
    assert (sale["net_buy"], sale["profit"], sale["roi"], sale["shelf_life_days"], sale["pas"]) == (
        Decimal("100.83"), Decimal("26.88"), Decimal("0.2666"), Decimal("19"), Decimal("1.41")
    )  # fmt: skip
    assert sale["sale_overview"] == "Size 10.5 US - 76551909-76451668 - Sold 90 Days ago"
    assert sale["supplier"] == "Solebox" and sale["buy_date"].isoformat() == "2025-03-14"
    assert sale["sale_number"].isdigit()  # unique_id without prefix
    assert (sale["payout_due"].isoformat(), sale["payout_overdue"]) == ("2025-04-16", False)
    empty = flatten_page(by_id[sim.catalogue["sale_empty"]], SALES)["values"]
    assert {k: v for k, v in empty.items() if v not in (None, [], False)} == {
        "sale_number": empty["sale_number"],
        "purchase_page_ids": {"ids": [], "has_more": False},
        "notion_created_time": datetime(2025, 6, 29, 9, 13, tzinfo=UTC),
        "created_by": empty["created_by"],
        "notion_last_edited_time": datetime(2025, 6, 29, 9, 13, tzinfo=UTC),
        "last_edited_by": empty["last_edited_by"],
    }
    raw = by_id[sim.catalogue["sale_empty"]]["properties"]
    assert raw["Profit"]["formula"] == {"type": "number", "number": None}
    assert raw["Payout Overdue?"]["formula"] == {"type": "boolean", "boolean": None}
    assert raw["Sale Overview"]["formula"] == {"type": "string", "string": None}
    assert raw["Payout Due"]["formula"] == {"type": "date", "date": None}
    assert raw["Buy Date"]["rollup"] == {"type": "date", "date": None, "function": "earliest_date"}
    window = flatten_page(by_id[sim.catalogue["purchase_delivery_window"]], PURCHASES)["values"]
    assert window["delivery_date"].isoformat() == "2025-04-10"


def test_edits_stamp_the_minute_recompute_formulas_and_touch_the_related_page(sim):
    sale = sim.catalogue["sale_full"]
    purchase = flatten_page(sim.page(sale), SALES)["values"]["purchase_page_ids"]["ids"][0]
    sim.clock.set(datetime(2025, 7, 4, 10, 17, 45, tzinfo=UTC))
    assert sim.edit(sale, net_sale=140.83) == datetime(2025, 7, 4, 10, 17, tzinfo=UTC)
    page = sim.page(sale)
    assert page["last_edited_time"] == "2025-07-04T10:17:00.000Z"
    assert page["properties"]["Profit"]["formula"]["number"] == 40.0
    sim.clock.set(datetime(2025, 7, 4, 10, 30, 5, tzinfo=UTC))
    sim.edit(sale, {"Purchase": []})
    assert sim.page(purchase)["last_edited_time"] == "2025-07-04T10:30:00.000Z"
    assert sim.page(purchase)["properties"]["Sale"]["relation"] == []
    assert sim.page(sale)["properties"]["Net Buy"]["rollup"]["number"] is None
    with pytest.raises(ValueError, match="Notion computes it"):
        sim.edit(sale, profit=1)
    with pytest.raises(KeyError, match="no property 'colour'"):
        sim.edit(sale, colour="red")


def test_admin_endpoints_edit_and_create_pages_over_http(sim, make_client):
    sim.clock.set(datetime(2025, 7, 5, 12, 34, 56, tzinfo=UTC))
    edited = httpx.post(
        sim.url("/__admin/notion/edit"),
        json={"page_id": sim.catalogue["sale_full"], "properties": {"Payout Received?": False}},
    )
    assert edited.json() == {"page_id": sim.catalogue["sale_full"], "last_edited_time": "2025-07-05T12:34:00.000Z"}
    created = httpx.post(sim.url("/__admin/notion/pages"), json={"database": "sales", "properties": {"SKU": "HQ6316"}})
    new_id = created.json()["page_id"]
    pages = sync(make_client(), SALES, since=datetime(2025, 7, 5, 12, 34, tzinfo=UTC))
    assert sorted(p["id"] for p in pages) == sorted([sim.catalogue["sale_full"], new_id])
    bad = httpx.post(sim.url("/__admin/notion/edit"), json={"page_id": sim.catalogue["sale_full"], "properties": {"ROI": 1}})
    assert bad.status_code == 400 and "Notion computes it" in bad.json()["error"]
    assert all(not r.path.startswith("/__admin") for r in sim.requests)


# -- the simulator's own validation -----------------------------------------------------------------


@pytest.fixture
def post(sim):
    def send(path: str = DS_QUERY, body=None, *, content: bytes | None = None, version: str = "2025-09-03"):
        headers = {"Authorization": f"Bearer {TOKEN}", "Notion-Version": version}
        if content is not None:
            return httpx.post(sim.url(path), headers={**headers, "Content-Type": "application/json"}, content=content)
        return httpx.post(sim.url(path), headers=headers, json=body if body is not None else {})

    return send


@pytest.mark.parametrize(
    ("body", "code", "fragment"),
    [
        ({"page_size": 101}, "validation_error", "page_size should be ≤ `100`"),
        ({"page_size": 0}, "validation_error", "page_size should be ≥ `1`"),
        ({"page_size": "10"}, "validation_error", "page_size should be a number"),
        ({"start_cursor": "not-a-cursor"}, "validation_error", "start_cursor should be a valid uuid"),
        ({"start_cursor": "3b2c1d0e-9f8a-4b7c-a6d5-e4f3a2b1c0d9"}, "validation_error", "start_cursor provided is invalid"),
        ({"filter": {"property": "Nope", "checkbox": {"equals": True}}}, "validation_error", "Could not find property"),
        ({"filter": {"property": "Gross Buy", "select": {"equals": "x"}}}, "validation_error", "does not match the type"),
        ({"filter": {"timestamp": "last_edited_time", "last_edited_time": {"on_or_after": "yesterday"}}},
         "validation_error", "valid ISO 8601"),
        ({"sorts": [{"property": "Nope", "direction": "ascending"}]}, "validation_error", "Could not find property"),
        ({"sorts": [{"timestamp": "last_edited_time", "direction": "up"}]}, "validation_error", "direction should be"),
        ({"colour": "red"}, "validation_error", "body.colour should be not present"),
    ],
)  # fmt: skip
def test_the_simulator_validates_query_bodies(post, body, code, fragment):
    answer = post(body=body)
    assert answer.status_code == 400 and answer.json()["code"] == code and fragment in answer.json()["message"]
    assert answer.headers["x-notion-request-id"] == answer.json()["request_id"]


def test_the_simulator_refuses_invalid_json_and_wrong_endpoints(sim, post):
    answer = post(content=b'{"page_size": 10,')
    assert (answer.status_code, answer.json()["code"], answer.json()["message"]) == (
        400, "invalid_json", "Error parsing JSON body."
    )  # fmt: skip
    assert post(version="2022-06-28").json()["code"] == "invalid_request_url"  # data sources need 2025-09-03
    legacy_on_new = post(f"/v1/databases/{SALES_DATABASE_ID}/query")
    assert legacy_on_new.json()["code"] == "invalid_request_url"
    assert post(f"/v1/data_sources/{SALES_DATABASE_ID}/query").json()["code"] == "object_not_found"  # a database id
    assert post("/v1/search").json()["code"] == "invalid_request_url"
    assert post(body={"archived": True}, version="2026-03-11").json()["code"] == "validation_error"
    unauthorized = httpx.post(sim.url(DS_QUERY), headers={"Notion-Version": "2025-09-03"}, json={})
    assert (unauthorized.status_code, unauthorized.json()["code"]) == (401, "unauthorized")


def test_the_simulators_timestamp_filters_and_sorts(sim, post):
    pages = [p for p in sim.workspace.pages.values() if p.db == "sales" and not p.in_trash]
    cut = datetime(2025, 3, 1, tzinfo=UTC)
    edited = sorted(p.last_edited_time for p in pages)

    def ids(body) -> list[str]:
        out, cursor = [], None
        while True:
            answer = post(SALES_QUERY, {**body, **({"start_cursor": cursor} if cursor else {})}).json()
            out += [r["id"] for r in answer["results"]]
            if not answer["has_more"]:
                return out
            cursor = answer["next_cursor"]

    def ts(op, value):
        return {"timestamp": "last_edited_time", "last_edited_time": {op: value}}

    iso_cut = "2025-03-01T00:00:00.000Z"
    assert len(ids({"filter": ts("on_or_after", iso_cut)})) == sum(e >= cut for e in edited)
    assert len(ids({"filter": ts("after", iso_cut)})) == sum(e > cut for e in edited)
    assert len(ids({"filter": ts("before", iso_cut)})) == sum(e < cut for e in edited)
    assert len(ids({"filter": ts("on_or_before", BULK_EDIT_AT.isoformat())})) == len(edited)
    window = {"and": [ts("on_or_after", "2025-01-01"), ts("before", "2025-02-01")]}
    expected = {p.id for p in pages if datetime(2025, 1, 1, tzinfo=UTC) <= p.last_edited_time < datetime(2025, 2, 1, tzinfo=UTC)}
    assert set(ids({"filter": window})) == expected and expected
    either = {"or": [ts("equals", BULK_EDIT_AT.isoformat()), {"property": "Sale Platform", "select": {"equals": "Alias"}}]}
    alias = {p.id for p in pages if p.values.get("Sale Platform") == "Alias"}
    bulk = {p.id for p in pages if p.last_edited_time == BULK_EDIT_AT}
    assert set(ids({"filter": either})) == alias | bulk and len(bulk) == 8
    by_gross = ids({"sorts": [{"property": "Gross Sale", "direction": "descending"}], "page_size": 5})
    grosses = [sim.workspace.pages[i].values.get("Gross Sale") for i in by_gross]
    filled = [g for g in grosses if g is not None]
    assert filled == sorted(filled, reverse=True) and grosses[len(filled):] == [None] * (len(grosses) - len(filled))
    newest_first = ids({"sorts": [{"timestamp": "created_time", "direction": "descending"}]})
    created = [sim.workspace.pages[i].created_time for i in newest_first]
    assert created == sorted(created, reverse=True)
    deep = {"and": [{"or": [{"and": [ts("after", iso_cut)]}]}]}
    assert post(body={"filter": deep}).json()["code"] == "validation_error"  # nested three levels


def test_in_trash_queries_return_only_trashed_pages(sim, post):
    answer = post(f"/v1/databases/{SALES_DATABASE_ID}/query", {"in_trash": True}, version="2022-06-28").json()
    assert [r["id"] for r in answer["results"]] == [sim.catalogue["sale_trashed"]]
    assert answer["type"] == "page_or_database" and "page_or_database" in answer


# -- resource and command line ------------------------------------------------------------------------


def test_the_resource_builds_a_configured_client_with_the_token_from_the_environment(sim, monkeypatch):
    monkeypatch.setenv("SOLEFLIPPER_NOTION_TOKEN", TOKEN)
    resource = NotionResource(
        token=dg.EnvVar("SOLEFLIPPER_NOTION_TOKEN"), base_url=sim.url("/v1"), notion_version="2026-03-11"
    ).process_config_and_initialize()
    client, other = resource.get_client(), resource.get_client()
    try:
        assert client.rate_limiter is other.rate_limiter and client.rate_limiter.interval == pytest.approx(1 / 3)
        assert client.get_database(SALES_DATABASE_ID)["id"] == SALES_DATABASE_ID
        assert sim.requests[-1].headers["Notion-Version"] == "2026-03-11"
    finally:
        client.close()
        other.close()
    with pytest.raises(ValueError, match="SOLEFLIPPER_NOTION_TOKEN"):
        NotionClient(" ")


def test_floor_minute_refuses_naive_datetimes():
    assert floor_minute(datetime(2025, 7, 1, 9, 0, 59, 999, tzinfo=UTC)) == datetime(2025, 7, 1, 9, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="naive"):
        floor_minute(datetime(2025, 7, 1, 9, 0))


def test_python_dash_m_simulators_notion_serves_until_stopped():
    process = subprocess.Popen(
        [sys.executable, "-m", "simulators.notion", "--token", TOKEN, "--purchases", "5", "--no-rate-limit"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        lines = [process.stdout.readline() for _ in range(4)]
        assert f"  integration token (simulated): {TOKEN}\n" in lines
        url = next(line.split(" on ", 1)[1].strip() for line in lines if "listening on" in line)
        answer = httpx.post(
            f"{url}/v1/data_sources/{SALES_DATA_SOURCE_ID}/query",
            headers={"Authorization": f"Bearer {TOKEN}", "Notion-Version": "2025-09-03"},
            json={"page_size": 1},
            timeout=10,
        )
        assert answer.status_code == 200 and answer.json()["object"] == "list"
        assert json.loads(answer.content)["type"] == "page_or_data_source"
    finally:
        process.terminate()
        process.wait(timeout=60)  # generous: a loaded 2-core CI machine took over 10 s to exit
