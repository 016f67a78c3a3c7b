"""The StockX client against the StockX simulator, with the token store and budget in real PostgreSQL.

Nothing waits for real: backoff sleeps are recorded, token expiry and budget days run on the
simulator's frozen clock, and the one read timeout is a fraction of a second.
"""

from __future__ import annotations

import json
import logging
import random
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from conftest import _create_database, _drop_database
from cryptography.fernet import Fernet

from resources.api_budget import BudgetExhausted, DailyBudget
from resources.http_client import ApiError, AuthError
from resources.stockx import StockXClient, StockXResource, decimal_amount
from resources.token_store import (
    DecryptError,
    InvalidKeyError,
    MissingKeyError,
    TokenStore,
    fernet_key_from_env,
    new_key,
)
from simulators.stockx import (
    DEMO_API_KEY,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REDIRECT_URI,
    StockXSimulator,
    demo_environment,
)
from soleflipper.settings import PROJECT_ROOT, Settings

HISTORY = "/v2/selling/orders/history"
TOKEN = "/oauth/token"
START = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
BOOK = (date(2023, 1, 1), date(2024, 12, 31))
TTL = 43200


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sim():
    with StockXSimulator(rate_limit=False) as simulator:
        simulator.clock.set(START)
        yield simulator


@pytest.fixture
def key() -> str:
    return new_key()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def _factory(sim, database_url, key, sleeps, made, budget_provider="stockx"):
    def make(limit: int = 25_000, fernet_key: str | None = None, **kwargs) -> StockXClient:
        options = dict(
            api_key=DEMO_API_KEY,
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
            redirect_uri=DEMO_REDIRECT_URI,
            base_url=sim.api_base_url,
            auth_url=sim.auth_url,
            token_store=TokenStore(database_url, fernet_key or key),
            budget=DailyBudget(database_url, budget_provider, limit, clock=sim.clock.now),
            requests_per_second=None,
            sleep=sleeps,
            clock=sim.clock.now,
            rng=random.Random(7),
            timeout=5.0,
        )
        client = StockXClient(**{**options, **kwargs})
        made.append(client)
        return client

    return make


@pytest.fixture
def make_client(sim, database_url, key, sleeps):
    made: list[StockXClient] = []
    yield _factory(sim, database_url, key, sleeps, made)
    for client in made:
        client.close()


@pytest.fixture(scope="module")
def shared_database_url(pg_server):
    """One database for the fault scenarios (each uses its own budget row): creating one per case is slow."""
    name, url = _create_database(pg_server)
    yield url
    _drop_database(pg_server, name)


@pytest.fixture
def client(make_client, sim):
    """A signed-in client (the code exchange is the first request in the log)."""
    c = make_client()
    c.exchange_code(sim.issue_code(DEMO_REDIRECT_URI))
    return c


def api_requests(sim):
    return [r for r in sim.requests if r.path.startswith("/v2/")]


def token_requests(sim):
    return [r for r in sim.requests if r.path == TOKEN]


def all_history_orders(sim, start=BOOK[0], end=BOOK[1]) -> list[str]:
    return sorted(o["orderNumber"] for o in sim.world.orders
                  if start.isoformat() <= o["createdAt"][:10] <= end.isoformat())


def walk_history(client, page_size=50, **kwargs) -> list[str]:
    numbers: list[str] = []
    for page in client.iter_order_history(*BOOK, page_size=page_size, **kwargs):
        assert page, "empty lists are never yielded"
        numbers += [o["orderNumber"] for o in page]
    return numbers


# --------------------------------------------------------------------------- sign-in and token store


def test_sign_in_stores_fernet_encrypted_tokens_and_sends_both_credentials(make_client, sim, conn, key):
    client = make_client()
    url = client.authorize_url("state-123")
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(sim.auth_url + "/authorize?") and "scope=offline_access%20openid" in url
    assert {k: v[0] for k, v in query.items()} == {
        "response_type": "code", "client_id": DEMO_CLIENT_ID, "redirect_uri": DEMO_REDIRECT_URI,
        "scope": "offline_access openid", "audience": "gateway.stockx.com", "state": "state-123",
    }
    redirect = httpx.get(url, follow_redirects=False)  # the simulator approves at once
    assert redirect.status_code == 302
    back = parse_qs(urlsplit(redirect.headers["location"]).query)
    assert back["state"] == ["state-123"]

    status = client.exchange_code(back["code"][0])
    assert status.stored and status.has_refresh_token
    assert status.expires_at == START + timedelta(seconds=TTL)
    (exchange,) = token_requests(sim)
    assert exchange.headers["content-type"] == "application/x-www-form-urlencoded"
    assert exchange.form() == {"grant_type": "authorization_code", "client_id": DEMO_CLIENT_ID,
                               "client_secret": DEMO_CLIENT_SECRET, "code": back["code"][0],
                               "redirect_uri": DEMO_REDIRECT_URI}

    (access,) = sim.valid_access_tokens()
    provider, ciphertext, updated_at = conn.execute(
        "select provider, ciphertext, updated_at from ops.api_credentials").fetchone()
    stored = json.loads(Fernet(key).decrypt(bytes(ciphertext)))
    assert provider == "stockx" and updated_at is not None
    assert stored["access_token"] == access and stored["refresh_token"].startswith("v1.")
    assert stored["expires_at"] == START.timestamp() + TTL
    for secret in (access, stored["refresh_token"]):
        assert secret.encode() not in bytes(ciphertext)

    product = client.get_product(sim.world.orders[0]["product"]["productId"])
    (call,) = api_requests(sim)
    assert call.headers["x-api-key"] == DEMO_API_KEY and call.bearer_token == access
    assert product["productId"] == sim.world.orders[0]["product"]["productId"]
    assert client.budget.used() == 1  # the token call is not an API call


def test_a_wrong_or_missing_fernet_key_fails_with_a_clear_error(make_client, sim, database_url, key, monkeypatch):
    make_client().exchange_code(sim.issue_code())
    other = new_key()
    with pytest.raises(DecryptError) as caught:
        TokenStore(database_url, other).load("stockx")
    assert str(caught.value) == ("tokens stored for stockx cannot be decrypted with SOLEFLIPPER_FERNET_KEY "
                                 "(was the key changed?)")
    with pytest.raises(DecryptError):  # the client surfaces it before sending anything
        make_client(fernet_key=other).get_product("x")
    assert api_requests(sim) == []

    monkeypatch.delenv("SOLEFLIPPER_FERNET_KEY", raising=False)
    with pytest.raises(MissingKeyError) as missing:
        TokenStore(database_url, None).load("stockx")
    assert str(missing.value) == ("SOLEFLIPPER_FERNET_KEY is not set: generate one with "
                                  "`soleflipper secrets new-key` and export it")
    with pytest.raises(MissingKeyError):
        fernet_key_from_env({})
    with pytest.raises(InvalidKeyError, match="not a valid Fernet key") as bad:
        TokenStore(database_url, "not-a-key-abc123").save("stockx", {"a": 1})
    assert "not-a-key-abc123" not in str(bad.value)
    for err in (caught.value, missing.value, bad.value):
        assert key not in str(err) and other not in str(err)

    monkeypatch.setenv("SOLEFLIPPER_FERNET_KEY", key)  # None = read the environment
    assert TokenStore(database_url, None).load("stockx")["refresh_token"].startswith("v1.")
    assert TokenStore(database_url, key).delete("stockx") is True
    assert TokenStore(database_url, key).load("stockx") is None


def test_without_stored_tokens_the_client_says_to_log_in(make_client, sim):
    with pytest.raises(AuthError, match="soleflipper stockx login"):
        make_client().get_product("x")
    assert sim.requests == []


# --------------------------------------------------------------------------- refresh


def test_refresh_happens_exactly_when_less_than_five_minutes_are_left(client, sim, database_url, key):
    product_id = sim.world.orders[0]["product"]["productId"]
    sim.clock.set(START + timedelta(hours=11, minutes=54))  # 6 minutes left
    client.get_product(product_id)
    assert len(token_requests(sim)) == 1 and client.refreshes == 0

    sim.clock.set(START + timedelta(hours=11, minutes=56))  # 4 minutes left
    first_token = api_requests(sim)[0].bearer_token
    original_refresh = TokenStore(database_url, key).load("stockx")["refresh_token"]
    client.get_product(product_id)
    exchange, refresh = token_requests(sim)
    assert client.refreshes == 1 and refresh.form() == {
        "grant_type": "refresh_token", "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET,
        "audience": "gateway.stockx.com", "refresh_token": original_refresh,
    }
    assert [r.path for r in sim.requests[-2:]] == [TOKEN, f"/v2/catalog/products/{product_id}"]
    assert sim.requests[-1].bearer_token != first_token
    stored = TokenStore(database_url, key).load("stockx")
    assert stored["refresh_token"] == original_refresh  # the refresh answer had none: the old one stays
    assert stored["expires_at"] == (START + timedelta(hours=11, minutes=56)).timestamp() + TTL

    client.get_product(product_id)  # fresh again: no third token call
    assert len(token_requests(sim)) == 2


@pytest.mark.parametrize("body", ["public", "gateway"])
def test_a_401_refreshes_once_and_re_sends_the_request(client, sim, body):
    sim.configure(unauthorized_body=body)
    sim.expire_tokens()  # revoked early: the client still believes it has 12 hours
    product_id = sim.world.orders[0]["product"]["productId"]
    assert client.get_product(product_id)["productId"] == product_id
    paths = [r.path for r in sim.requests[1:]]
    assert paths == [f"/v2/catalog/products/{product_id}", TOKEN, f"/v2/catalog/products/{product_id}"]
    assert client.refreshes == 1 and client.retries_made == 1 and client.budget.used() == 2


def test_a_rejected_refresh_raises_auth_error_naming_the_login_command(client, sim):
    sim.revoke_refresh_tokens()
    sim.expire_tokens()
    with pytest.raises(AuthError) as caught:
        client.get_product("any")
    err = caught.value
    assert err.status == 403 and "soleflipper stockx login" in str(err) and "invalid refresh token" in str(err)
    assert [(r.path, r.method) for r in sim.requests[1:]] == [("/v2/catalog/products/any", "GET"), (TOKEN, "POST")]

    sim.clock.set(START + timedelta(hours=13))  # proactive path: expired locally, refresh refused
    with pytest.raises(AuthError, match="soleflipper stockx login"):
        client.get_product("any")
    assert sim.requests[-1].path == TOKEN and len(api_requests(sim)) == 1  # nothing more sent to the API


# --------------------------------------------------------------------------- paging under faults


def _fault(spec: str, **options):
    return lambda sim: sim.inject(spec, path_prefix=HISTORY, **options)


FAULTS = {
    "429 with Retry-After": (lambda sim: sim.inject_429_burst(2, retry_after=3, path_prefix=HISTORY), 2, [3.0, 3.0]),
    "429 gateway body, no Retry-After": (lambda sim: sim.inject_429_burst(2, gateway=True, path_prefix=HISTORY),
                                         2, None),
    "500 twice": (lambda sim: sim.inject_server_errors(2, path_prefix=HISTORY), 2, None),
    "502 HTML page": (lambda sim: sim.inject_server_errors(1, status=502, path_prefix=HISTORY), 1, None),
    "malformed JSON": (lambda sim: sim.inject_malformed_json(path_prefix=HISTORY), 1, None),
    "truncated JSON": (lambda sim: sim.inject_malformed_json(truncated=True, path_prefix=HISTORY), 1, None),
    "connection reset": (_fault("reset"), 1, None),
    "slower than the timeout": (lambda sim: sim.inject_slow(1.5, path_prefix=HISTORY), 1, None),
    "token expires mid-pagination": (lambda sim: sim.expire_tokens(), 1, []),
}


@pytest.mark.parametrize("scenario", list(FAULTS))
def test_order_history_under_every_fault_ends_with_exactly_the_simulators_orders(shared_database_url, sim, key,
                                                                                   sleeps, scenario):
    inject, retries, expected_sleeps = FAULTS[scenario]
    made: list[StockXClient] = []
    client = _factory(sim, shared_database_url, key, sleeps, made, budget_provider=f"stockx {scenario}")(timeout=0.5)
    client.exchange_code(sim.issue_code())
    sim.after_page("history", 3, lambda: inject(sim))  # the fault hits page 4, mid-walk

    numbers = walk_history(client, page_size=50)

    assert sorted(numbers) == all_history_orders(sim) and len(numbers) == len(set(numbers)) == 340
    assert client.retries_made == retries and client.duplicates_skipped == 0
    if expected_sleeps is not None:
        assert sleeps == expected_sleeps
    history = [r for r in sim.requests if r.path == HISTORY]
    pages = [int(r.query["pageNumber"][0]) for r in history]
    assert pages == [1, 2, 3] + [4] * (retries + 1) + [5, 6, 7]
    assert all(r.query["pageSize"] == ["50"] for r in history)
    assert all(r.query["fromDate"] == ["2023-01-01"] and r.query["toDate"] == ["2024-12-31"] for r in history)
    assert client.budget.used() == len(api_requests(sim)) == len(history)  # every attempt spent one
    refreshes = 1 if scenario.startswith("token") else 0
    assert client.refreshes == refreshes and len(token_requests(sim)) == 1 + refreshes
    client.close()


def test_an_order_arriving_between_pages_is_neither_lost_nor_duplicated(client, sim):
    arrived = sim.insert_order_after_page(1)  # newest first: every later page shifts by one
    numbers = walk_history(client, page_size=100)
    assert sorted(numbers) == sorted([*all_history_orders(sim)]) and arrived["orderNumber"] in numbers
    assert len(numbers) == len(set(numbers)) == 341
    assert client.duplicates_skipped > 0
    pages = [int(r.query["pageNumber"][0]) for r in sim.requests if r.path == HISTORY]
    assert pages == [1, 2, 3, 4, 1, 2, 3, 4]  # the count changed: one more walk picked up the new order


def test_retries_are_bounded_and_every_attempt_is_logged_and_budgeted(client, sim, sleeps):
    sim.inject("status:500", times=10, path_prefix=HISTORY, body={"statusCode": 500, "message": "Database down"})
    with pytest.raises(ApiError) as caught:
        walk_history(client)
    assert (caught.value.status, caught.value.message) == (500, "Database down")
    assert len(api_requests(sim)) == 5 and client.retries_made == 4 and len(sleeps) == 4
    assert client.budget.used() == 5


def test_order_status_filter_and_empty_results(client, sim):
    canceled = [o for page in client.iter_order_history(*BOOK, order_status="CANCELED") for o in page]
    assert canceled and {o["status"] for o in canceled} == {"CANCELED"}
    assert sim.requests[-1].query["orderStatus"] == ["CANCELED"]
    assert list(client.iter_order_history(date(2020, 1, 1), date(2020, 1, 31))) == []
    with pytest.raises(ValueError, match="1 to 100"):
        next(client.iter_order_history(*BOOK, page_size=101))


# --------------------------------------------------------------------------- budget


def test_a_tiny_budget_raises_and_is_shared_by_clients_and_processes(make_client, sim, database_url):
    first = make_client(limit=3)
    first.exchange_code(sim.issue_code())
    product_id = sim.world.orders[0]["product"]["productId"]
    for _ in range(2):
        first.get_product(product_id)
    script = (
        "import sys; from resources.api_budget import DailyBudget;"
        f"b = DailyBudget(sys.argv[1], 'stockx', 3, clock=lambda: {START.timestamp()});"
        "print(b.consume())"
    )
    spent = subprocess.run([sys.executable, "-c", script, database_url], capture_output=True, text=True,
                           cwd=PROJECT_ROOT, check=True, timeout=60)
    assert spent.stdout.strip() == "0"  # another process took the last one

    with pytest.raises(BudgetExhausted) as caught:
        first.get_product(product_id)
    assert str(caught.value) == ("stockx daily API budget exhausted: 3 of 3 requests used today (UTC); "
                                 "it resets at 2025-06-03 00:00 UTC")
    second = make_client(limit=3)  # a new client (new connection, same database) sees the same budget
    with pytest.raises(BudgetExhausted):
        second.get_product(product_id)
    assert len(api_requests(sim)) == 2  # nothing was sent once the budget was spent
    assert second.budget.remaining() == 0

    sim.clock.set(datetime(2025, 6, 3, 0, 0, 1, tzinfo=UTC))  # a new UTC day
    assert second.get_product(product_id)["productId"] == product_id
    assert second.budget.remaining() == 2


def test_budget_consume_is_atomic_under_concurrency(database_url):
    budget = DailyBudget(database_url, "stockx", 50, clock=lambda: START)
    ok, refused = [], []

    def spend() -> None:
        mine = DailyBudget(database_url, "stockx", 50, clock=lambda: START)
        for _ in range(10):
            try:
                mine.consume()
                ok.append(1)
            except BudgetExhausted:
                refused.append(1)
        mine.close()

    threads = [threading.Thread(target=spend) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (len(ok), len(refused), budget.used(), budget.remaining()) == (50, 30, 50, 0)
    with pytest.raises(BudgetExhausted):
        budget.consume()
    with pytest.raises(ValueError):
        budget.consume(0)
    budget.close()


# --------------------------------------------------------------------------- every endpoint


def test_every_call_sends_key_and_bearer_and_returns_json_as_received(client, sim):
    sim.configure(float_counts=True)
    order = next(o for o in sim.world.orders if o["payout"] and o["product"]["styleId"] == "DD1391-100")
    product_id, variant_id = order["product"]["productId"], order["variant"]["variantId"]
    found = list(client.search_catalog("dd1391 100"))
    assert [p["styleId"] for p in found] == ["DD1391-100"]
    dunks = list(client.search_catalog("nike dunk low", page_size=3))
    assert len(dunks) == len({p["productId"] for p in dunks}) == 8
    product = client.get_product(product_id)
    assert product == sim.world.products[product_id]
    variants = client.get_variants(product_id)
    assert isinstance(variants, list) and variants == sim.world.variants[product_id]
    gtin = next(v for v in variants if v["variantId"] == variant_id)["gtins"][0]["gtin"]
    assert client.get_variant_by_gtin(gtin)["variantId"] == variant_id
    assert client.get_variant_by_gtin("00000000000000") is None
    market = client.get_product_market_data(product_id, "EUR")
    assert len(market) == len(variants) and {m["currencyCode"] for m in market} == {"EUR"}
    one = client.get_variant_market_data(product_id, variant_id, "GBP")
    assert one["currencyCode"] == "GBP" and "standardMarketData" in one
    detail = client.get_order(order["orderNumber"])
    assert detail["payout"] == order["payout"] and isinstance(detail["payout"]["totalPayout"], str)
    assert decimal_amount(detail["payout"]["totalPayout"]) + -decimal_amount(detail["payout"]["totalAdjustments"]) \
        == decimal_amount(detail["payout"]["salePrice"])
    active = [o for page in client.iter_active_orders(page_size=5) for o in page]
    assert sorted(o["orderNumber"] for o in active) == sorted(o["orderNumber"] for o in sim.world.active_orders)
    listings = [x for page in client.iter_listings() for x in page]
    assert len(listings) == len(sim.world.listings)
    matched = [x for page in client.iter_listings(page_size=7, statuses=["MATCHED", "COMPLETED"]) for x in page]
    assert {x["status"] for x in matched} == {"MATCHED", "COMPLETED"}

    sim.configure(gtin_route=False)  # a deployment without the 2025 GTIN route
    assert client.get_variant_by_gtin(gtin) is None

    (token,) = sim.valid_access_tokens()
    calls = api_requests(sim)
    assert len(calls) > 15
    for call in calls:
        assert call.headers["x-api-key"] == DEMO_API_KEY and call.bearer_token == token
    for call in calls:
        if call.path.endswith(("/search", "/history", "/active", "/listings")):
            limit = 50 if call.path.endswith("/search") else 100
            assert 1 <= int(call.query["pageSize"][0]) <= limit and "pageNumber" in call.query
    assert "x-api-key" not in token_requests(sim)[0].headers


def test_raw_json_keeps_nulls_unknown_fields_and_string_amounts(client, sim):
    orders = [o for page in client.iter_order_history(*BOOK, page_size=100) for o in page]
    by_number = {o["orderNumber"]: o for o in sim.world.orders}
    assert all(o == by_number[o["orderNumber"]] for o in orders)  # nothing dropped or converted
    for nullable in ("listingId", "currencyCode", "payout", "authenticationDetails", "updatedAt"):
        assert any(o[nullable] is None for o in orders), nullable
    assert any("fulfillmentMethod" in o for o in orders)
    assert {"UNKNOWN", "RETURN_TO_SELLER"} <= {o["status"] for o in orders}
    assert any(o["orderNumber"].startswith("02-") and o["inventoryType"] == "FLEX" for o in orders)
    assert all(isinstance(o["amount"], str) for o in orders)
    product_id = sim.world.orders[0]["product"]["productId"]
    market = client.get_product_market_data(sim.world.orders[0]["product"]["productId"], "USD")
    assert any(m["lowestAskAmount"] is None for m in
               (x for pid in list(sim.world.products)[:10] for x in client.get_product_market_data(pid, "USD")))
    assert all(decimal_amount(m["highestBidAmount"]) is None or m["highestBidAmount"].isdigit() for m in market)
    assert client.get_product(product_id)["productAttributes"]["retailPrice"] == 120


def test_stockx_error_bodies_become_api_errors_with_their_message(client, sim, make_client):
    with pytest.raises(ApiError) as missing:
        client.get_product("no-such-product")
    assert (missing.value.status, missing.value.message) == (404, "Product not found")
    with pytest.raises(ApiError) as currency:
        client.get_product_market_data(sim.world.orders[0]["product"]["productId"], "XXX")
    assert currency.value.status == 400 and currency.value.message.startswith("currencyCode must be one of")
    with pytest.raises(ApiError) as forbidden:
        make_client(api_key="wrong-key").get_product("x")
    assert (forbidden.value.status, forbidden.value.message) == (403, "Forbidden")
    assert "wrong-key" not in str(forbidden.value) and "wrong-key" not in (forbidden.value.body or "")


def test_requests_are_paced_at_one_per_second(make_client, sim):
    now = [1000.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    paced = make_client(requests_per_second=1.0, sleep=sleep, monotonic=lambda: now[0])
    paced.exchange_code(sim.issue_code())  # the token call takes a slot too
    for _ in range(3):
        paced.get_product(sim.world.orders[0]["product"]["productId"])
    assert waits == [1.0, 1.0, 1.0]


def test_no_secret_reaches_logs_or_error_text(make_client, sim, database_url, key, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client()
    code = sim.issue_code()
    client.exchange_code(code)
    sim.expire_tokens()
    client.get_product(sim.world.orders[0]["product"]["productId"])  # 401 → refresh
    stored = TokenStore(database_url, key).load("stockx")
    sim.revoke_refresh_tokens()
    sim.expire_tokens()
    with pytest.raises(AuthError) as rejected:
        client.get_product("x")
    with pytest.raises(AuthError) as reused:
        client.exchange_code(code)  # a used code
    errors = [rejected.value, reused.value]
    secrets = [stored["access_token"], stored["refresh_token"], DEMO_CLIENT_SECRET, DEMO_API_KEY, code, key,
               *sim._access]
    assert "StockX: refreshing the access token" in caplog.text
    for secret in secrets:
        assert secret not in caplog.text
        for err in errors:
            assert secret not in str(err) and secret not in repr(err) and secret not in (err.body or "")


def test_decimal_amount():
    assert decimal_amount("48.94") == decimal_amount(48.94) and str(decimal_amount("-5")) == "-5"
    assert decimal_amount(None) is None and decimal_amount("") is None
    for bad in ("abc", "NaN", "Infinity", True, {"amount": "1"}):
        with pytest.raises(ValueError):
            decimal_amount(bad)


# --------------------------------------------------------------------------- resource and CLI


def test_resource_builds_a_working_client_from_env_vars(sim, database_url, key, monkeypatch):
    env = {**demo_environment(sim), "SOLEFLIPPER_FERNET_KEY": key, "SOLEFLIPPER_STOCKX_REQUESTS_PER_SECOND": "50"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    resource = StockXResource.from_env(database_url)
    assert resource.base_url == sim.api_base_url and resource.requests_per_second == 50
    with resource.get_client() as client:
        client.exchange_code(sim.issue_code())
        assert client.search_catalog("CW2288-111").__next__()["styleId"] == "CW2288-111"
    assert api_requests(sim)[0].headers["x-api-key"] == DEMO_API_KEY
    with resource.process_config_and_initialize().get_client() as client:  # as Dagster resolves it
        assert client.budget.remaining() == 25_000 - 1


def test_cli_login_status_and_new_key_print_no_secrets(sim, database_url, key, monkeypatch, capsys, tmp_path):
    import argparse

    from pipelines.cli_stockx import register

    for name, value in {**demo_environment(sim), "SOLEFLIPPER_FERNET_KEY": key}.items():
        monkeypatch.setenv(name, value)
    settings = Settings(home=tmp_path, database_url=database_url, dagster_database_url=database_url)
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))

    printed: list[str] = []

    def run(*argv: str) -> tuple[int, str]:
        args = parser.parse_args(argv)
        code = args.func(args, settings)
        captured = capsys.readouterr()
        printed.append(captured.out + captured.err)
        return code, printed[-1]

    code, out = run("stockx", "status")
    assert code == 1 and "tokens: none stored" in out and "0 of 25000 requests used" in out
    code, out = run("stockx", "login")
    assert code == 0 and f"{sim.auth_url}/authorize?response_type=code" in out
    assert "soleflipper stockx login --code" in out
    redirect = httpx.get(out.split("  ", 1)[1].split()[0], follow_redirects=False).headers["location"]
    code, out = run("stockx", "login", "--code", redirect)  # the whole pasted address
    assert code == 0 and "Signed in to StockX" in out and "refresh token stored" in out
    code, out = run("stockx", "login", "--auto-approve")
    assert code == 0 and "Signed in to StockX" in out
    code, out = run("stockx", "status")
    assert code == 0 and "tokens: stored; access token valid until" in out and "refresh token stored" in out
    stored = TokenStore(database_url, key).load("stockx")
    code, out = run("stockx", "login", "--code", "used-or-invented-code")
    assert code == 1 and "StockX rejected the authorization code" in out and "used-or-invented-code" not in out
    secrets = [stored["access_token"], stored["refresh_token"], DEMO_CLIENT_SECRET, DEMO_API_KEY, key, *sim._access]
    assert not [s for s in secrets if any(s in text for text in printed)]
    code, new = run("secrets", "new-key")  # the one command meant to print a secret: a new key
    assert code == 0 and Fernet(new.splitlines()[0].encode()) and new.splitlines()[0] != key
