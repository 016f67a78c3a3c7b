"""The eBay simulator speaks the documented contract (api-contracts.md §3, §6.3)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import httpx
import pytest

from simulators.ebay import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    ORDERS_PATH,
    TOKEN_PATH,
    TRANSACTIONS_PATH,
    EbaySimulator,
    parse_filter,
)
from simulators.ebay_data import SEED_NOW

BASIC = {"Authorization": "Basic " + base64.b64encode(f"{DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET}".encode()).decode()}


@pytest.fixture(scope="module")
def sim():
    with EbaySimulator() as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def _fresh(sim):
    sim.reset()
    sim.clock.set(SEED_NOW)


def _token(sim, grant: str = "refresh_token", **form) -> httpx.Response:
    data = {"grant_type": grant, **({"refresh_token": DEMO_REFRESH_TOKEN} if grant == "refresh_token" else {}), **form}
    return httpx.post(sim.api_url + TOKEN_PATH, data=data, headers=BASIC)


def _bearer(sim) -> dict[str, str]:
    return {"Authorization": f"Bearer {_token(sim).json()['access_token']}"}


def test_parse_filter_reads_ranges_and_sets():
    parsed = parse_filter("lastmodifieddate:[2025-06-01T00:00:00.000Z..],orderfulfillmentstatus:{FULFILLED|IN_PROGRESS}")
    assert parsed == {"lastmodifieddate": (datetime(2025, 6, 1, tzinfo=UTC), None),
                      "orderfulfillmentstatus": {"FULFILLED", "IN_PROGRESS"}}


def test_refresh_grant_gives_a_two_hour_user_token_and_bad_tokens_are_invalid_grant(sim):
    body = _token(sim).json()
    assert body["expires_in"] == 7200 and body["token_type"] == "User Access Token" and "refresh_token" not in body
    bad = _token(sim, refresh_token="nope")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
    assert httpx.post(sim.api_url + TOKEN_PATH, data={"grant_type": "refresh_token"}).status_code == 401


def test_application_token_is_rejected_on_sell_apis(sim):
    app = _token(sim, "client_credentials").json()["access_token"]
    response = httpx.get(sim.api_url + ORDERS_PATH, headers={"Authorization": f"Bearer {app}"})
    assert response.status_code == 403 and response.json()["errors"][0]["errorId"] == 1100


def test_expired_token_is_401_error_1001(sim):
    headers = _bearer(sim)
    sim.clock.advance(7201)
    response = httpx.get(sim.api_url + ORDERS_PATH, headers=headers)
    assert response.status_code == 401
    assert response.json()["errors"][0]["errorId"] == 1001


def test_orders_paging_envelope_and_limit_bounds(sim):
    headers = _bearer(sim)
    flt = {"filter": "lastmodifieddate:[2026-01-01T00:00:00.000Z..]"}
    first = httpx.get(sim.api_url + ORDERS_PATH, params={**flt, "limit": 5}, headers=headers).json()
    assert (first["total"], first["offset"], len(first["orders"])) == (12, 0, 5)
    assert "next" in first and "prev" not in first
    last = httpx.get(sim.api_url + ORDERS_PATH, params={**flt, "limit": 5, "offset": 10}, headers=headers).json()
    assert len(last["orders"]) == 2 and "next" not in last and "prev" in last
    too_big = httpx.get(sim.api_url + ORDERS_PATH, params={"limit": 201}, headers=headers)
    assert too_big.status_code == 400 and too_big.json()["errors"][0]["errorId"] == 30800
    none = httpx.get(sim.api_url + ORDERS_PATH, params={"filter": "lastmodifieddate:[2030-01-01T00:00:00.000Z..]"},
                     headers=headers).json()
    assert none["total"] == 0 and none["orders"] == [] and "next" not in none


def test_creationdate_wins_over_lastmodifieddate(sim):
    headers = _bearer(sim)
    both = "creationdate:[2030-01-01T00:00:00.000Z..],lastmodifieddate:[2020-01-01T00:00:00.000Z..]"
    body = httpx.get(sim.api_url + ORDERS_PATH, params={"filter": both}, headers=headers).json()
    assert body["total"] == 0


def test_finances_on_its_own_host_needs_the_marketplace_header_and_answers_204_when_empty(sim):
    headers = _bearer(sim)
    assert httpx.get(sim.api_url + TRANSACTIONS_PATH, headers=headers).status_code == 404
    assert httpx.get(sim.finances_url + TRANSACTIONS_PATH, headers=headers).status_code == 400
    headers["X-EBAY-C-MARKETPLACE-ID"] = "EBAY_DE"
    body = httpx.get(sim.finances_url + TRANSACTIONS_PATH, params={"limit": 1000}, headers=headers).json()
    assert body["total"] == 9  # 12 orders: 2 not paid out yet, 1 cancelled
    dates = [t["transactionDate"] for t in body["transactions"]]
    assert dates == sorted(dates, reverse=True)
    empty = httpx.get(sim.finances_url + TRANSACTIONS_PATH,
                      params={"filter": "transactionDate:[2030-01-01T00:00:00.000Z..2030-02-01T00:00:00.000Z]"},
                      headers=headers)
    assert empty.status_code == 204 and empty.content == b""
    assert httpx.get(sim.finances_url + TRANSACTIONS_PATH, params={"limit": 1001}, headers=headers).status_code == 400


def test_daily_quota_resets_at_pacific_midnight(sim):
    sim.configure(daily_quota=1)
    headers = _bearer(sim)
    assert httpx.get(sim.api_url + ORDERS_PATH, headers=headers).status_code == 200
    limited = httpx.get(sim.api_url + ORDERS_PATH, headers=headers)
    assert limited.status_code == 429 and limited.json()["errors"][0]["errorId"] == 2001
    sim.clock.set(datetime(2026, 12, 1, 8, 0, 1, tzinfo=UTC))  # 00:00:01 in Los Angeles (PST)
    assert httpx.get(sim.api_url + ORDERS_PATH, headers=_bearer(sim)).status_code == 200
    sim.configure(daily_quota=15_000)


def test_injected_faults_use_the_error_envelope(sim):
    sim.inject("status:503", path_prefix=ORDERS_PATH)
    response = httpx.get(sim.api_url + ORDERS_PATH, headers=_bearer(sim))
    assert response.status_code == 503 and response.json()["errors"][0]["category"] == "APPLICATION"
