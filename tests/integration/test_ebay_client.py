"""The eBay client against the eBay simulator, with the encrypted token store in real PostgreSQL.

Nothing waits for real: backoff sleeps are recorded and token expiry runs on the simulator's
frozen clock (shared with the client's).
"""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from resources.ebay import EbayClient
from resources.ebay.resource import EbayResource, ebay_enabled
from resources.http_client import ApiError, AuthError
from resources.token_store import TokenStore, new_key
from simulators.ebay import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    ORDERS_PATH,
    TOKEN_PATH,
    TRANSACTIONS_PATH,
    EbaySimulator,
)
from simulators.ebay_data import SEED_NOW

SINCE = datetime(2026, 1, 1, tzinfo=UTC)


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(scope="module")
def sim():
    with EbaySimulator() as simulator:
        yield simulator


@pytest.fixture
def client(sim, database_url):
    sim.reset()
    sim.clock.set(SEED_NOW)
    key = new_key()
    made = EbayClient(client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, refresh_token=DEMO_REFRESH_TOKEN,
                      api_url=sim.api_url, finances_url=sim.finances_url, auth_url=sim.auth_url,
                      marketplace_id="EBAY_DE", token_store=TokenStore(database_url, key), clock=sim.clock.now,
                      sleep=Sleeps(), requests_per_second=None)
    made.fernet_key = key
    yield made
    made.close()


def _paths(sim, path):
    return [r for r in sim.requests if r.path == path]


@pytest.mark.parametrize(("limit", "pages"), [(4, 3), (5, 3), (12, 1), (200, 1)])
def test_order_pages_are_walked_once_each(sim, client, limit, pages):
    got = list(client.iter_orders(SINCE, limit=limit))
    assert [len(p) for p in got] == [limit] * (12 // limit) + ([12 % limit] if 12 % limit else [])
    calls = _paths(sim, ORDERS_PATH)
    # total a multiple of limit: the walk stops on total/next, without an empty extra page
    assert len(calls) == pages
    assert [c.arg("offset") for c in calls] == [str(i * limit) for i in range(pages)]
    assert calls[0].arg("filter") == "lastmodifieddate:[2026-01-01T00:00:00.000Z..]"
    assert len({o["orderId"] for p in got for o in p}) == 12


def test_empty_result_is_one_request_and_no_pages(sim, client):
    assert list(client.iter_orders(datetime(2030, 1, 1, tzinfo=UTC))) == []
    assert len(_paths(sim, ORDERS_PATH)) == 1


def test_limit_above_200_is_refused_before_sending_and_the_server_would_say_400(sim, client):
    with pytest.raises(ValueError, match="1 to 200"):
        list(client.iter_orders(SINCE, limit=201))
    with pytest.raises(ApiError) as caught:
        client.get_json(ORDERS_PATH, params={"limit": 201})
    assert caught.value.status == 400 and "errorId 30800" in str(caught.value)


def test_tokens_are_stored_encrypted_and_reused(sim, client, database_url):
    list(client.iter_orders(SINCE))
    with psycopg.connect(database_url) as conn:
        cipher = bytes(conn.execute("select ciphertext from ops.api_credentials where provider = 'ebay'").fetchone()[0])
    stored = TokenStore(database_url, client.fernet_key).load("ebay")
    assert stored["access_token"].encode() not in cipher and DEMO_REFRESH_TOKEN.encode() not in cipher
    assert stored["expires_at"] == SEED_NOW.timestamp() + 7200
    list(client.iter_orders(SINCE))
    assert len(_paths(sim, TOKEN_PATH)) == 1 and client.refreshes == 1
    sim.clock.advance(7200 - 299)  # under 5 minutes left: refreshed before the call
    list(client.iter_orders(SINCE))
    assert len(_paths(sim, TOKEN_PATH)) == 2
    assert not any(r.headers.get("Authorization", "").startswith("Bearer") and r.path == TOKEN_PATH
                   for r in sim.requests)


def test_expired_token_mid_walk_is_refreshed_once(sim, client):
    list(client.iter_orders(datetime(2030, 1, 1, tzinfo=UTC)))  # signed in
    sim.after_request(ORDERS_PATH, 1, sim.expire_tokens)
    got = [o for p in client.iter_orders(SINCE, limit=5) for o in p]
    assert len(got) == 12
    # sign-in + empty walk; then page 1, page 2 refused (401), one refresh, page 2 re-sent, page 3
    assert [r.path for r in sim.requests] == [TOKEN_PATH, ORDERS_PATH, ORDERS_PATH, ORDERS_PATH, TOKEN_PATH,
                                              ORDERS_PATH, ORDERS_PATH]
    assert [r.arg("offset") for r in _paths(sim, ORDERS_PATH)] == ["0", "0", "5", "5", "10"]
    assert client.refreshes == 2 and len(_paths(sim, TOKEN_PATH)) == 2


def test_rejected_refresh_fails_clearly_without_a_loop(sim, client):
    list(client.iter_orders(datetime(2030, 1, 1, tzinfo=UTC)))
    sim.revoke_refresh_tokens()
    sim.expire_tokens()
    with pytest.raises(AuthError) as caught:
        list(client.iter_orders(SINCE))
    assert "invalid_grant" in str(caught.value) and "SOLEFLIPPER_EBAY_REFRESH_TOKEN" in str(caught.value)
    assert DEMO_REFRESH_TOKEN not in str(caught.value)
    assert len(_paths(sim, TOKEN_PATH)) == 2  # the sign-in, then one refused refresh
    assert len(_paths(sim, ORDERS_PATH)) == 2  # the sign-in check, then the one 401


def test_finances_sends_the_marketplace_header_to_its_own_host_and_204_is_empty(sim, client):
    assert list(client.iter_transactions(datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 2, 1, tzinfo=UTC))) == []
    pages = list(client.iter_transactions(SINCE, SEED_NOW, limit=4))
    assert [len(p) for p in pages] == [4, 4, 1]
    calls = _paths(sim, TRANSACTIONS_PATH)
    assert all(c.headers["X-EBAY-C-MARKETPLACE-ID"] == "EBAY_DE" for c in calls)
    assert all(c.headers["Host"].startswith("localhost:") for c in calls)
    assert calls[1].arg("filter") == "transactionDate:[2026-01-01T00:00:00.000Z..2026-11-30T12:00:00.000Z]"


def test_429_and_5xx_are_retried_with_retry_after(sim, client):
    sim.inject("status:429", times=1, path_prefix=ORDERS_PATH, retry_after=3)
    sim.inject("status:502", times=1, path_prefix=ORDERS_PATH)
    assert sum(len(p) for p in client.iter_orders(SINCE)) == 12
    assert client._sleep[0] == 3 and len(client._sleep) == 2


def test_an_exhausted_daily_quota_fails_with_ebays_message_after_bounded_retries(sim, client):
    sim.configure(daily_quota=1)
    try:
        with pytest.raises(ApiError) as caught:
            list(client.iter_orders(SINCE, limit=5))
    finally:
        sim.configure(daily_quota=15_000)
    assert caught.value.status == 429 and "errorId 2001" in str(caught.value)
    assert len(_paths(sim, ORDERS_PATH)) == 1 + client.max_attempts  # page 1, then page 2 tried 5 times
    assert len(client._sleep) == client.max_attempts - 1


def test_sign_in_by_authorization_code_stores_the_refresh_token_used_later(sim, database_url):
    sim.reset()
    sim.clock.set(SEED_NOW)
    store = TokenStore(database_url, new_key())
    options = dict(client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, api_url=sim.api_url,
                   finances_url=sim.finances_url, auth_url=sim.auth_url, token_store=store, clock=sim.clock.now,
                   sleep=Sleeps(), requests_per_second=None)
    with EbayClient(**options, redirect_uri="SoleFlipper-RuName") as first:
        code = sim.issue_code()
        first.exchange_code(code)
        with pytest.raises(AuthError, match="authorization code"):
            first.exchange_code(code)  # single-use
    stored = store.load("ebay")
    assert stored["refresh_token"].startswith("v^1.1#i^1#r^1#sim-")
    sim.expire_tokens()
    with EbayClient(**options) as later:  # no refresh token configured: the stored one is used
        assert sum(len(p) for p in later.iter_orders(SINCE)) == 12
        assert later.refreshes == 1
    refresh = [r for r in _paths(sim, TOKEN_PATH) if r.form().get("grant_type") == "refresh_token"]
    assert [r.form()["refresh_token"] for r in refresh] == [stored["refresh_token"]]


def test_resource_from_env_and_enabled():
    assert ebay_enabled({"SOLEFLIPPER_EBAY_CLIENT_ID": "x"}) and not ebay_enabled({})
    resource = EbayResource.from_env("postgresql://db", {"SOLEFLIPPER_EBAY_FINANCES_URL": "http://localhost:1"})
    assert resource.finances_url == "http://localhost:1" and resource.api_url == "https://api.ebay.com"
