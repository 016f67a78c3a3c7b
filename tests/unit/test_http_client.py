"""The shared API client core against a tiny simulated platform: retries, pacing, auth, errors, secrets.

Backoff never really waits: ``sleep`` is a recorder, so the tests assert the waits chosen.
"""

from __future__ import annotations

import itertools
import logging
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from resources.http_client import (
    ApiClient,
    ApiConnectionError,
    ApiError,
    AuthError,
    MalformedResponse,
    RateLimiter,
    error_message,
    parse_retry_after,
    redact,
)
from simulators.base import Request, Response, Simulator, route

CLIENT_SECRET = "cs-7f3a9c1e-very-secret"
TOKEN_TTL = 60


class Shop(Simulator):
    """Paged public items, short-lived bearer tokens, private items, order creation, an echoing error."""

    name = "shop"

    def __init__(self) -> None:
        super().__init__()
        self.tokens: dict[str, float] = {}
        self.orders: list[dict] = []
        self._serial = itertools.count(1)

    def error_body(self, status: int, message: str) -> dict:
        return {"statusCode": status, "message": message}

    @route("POST", "/token")
    def token(self, request: Request) -> Response:
        if request.form().get("client_secret") != CLIENT_SECRET:
            return Response(403, json={"error": "invalid_grant", "error_description": "Unknown client."})
        token = f"tok-{next(self._serial)}-{'x' * 24}"
        with self.lock:
            self.tokens[token] = self.clock.now() + TOKEN_TTL
        return Response(200, json={"access_token": token, "expires_in": TOKEN_TTL, "token_type": "Bearer"})

    @route("GET", "/items")
    def items(self, request: Request) -> dict:
        page = int(request.arg("page", "1"))
        return {"items": [{"id": f"{page}-{i}"} for i in range(3)], "page": page, "hasNextPage": page < 3}

    @route("GET", "/private/items")
    def private_items(self, request: Request) -> Response:
        expires = self.tokens.get(request.bearer_token or "")
        if expires is None or expires <= self.clock.now():
            return self.error(401, "Unauthorized")
        return Response(200, json={"items": [{"id": "p1"}]})

    @route("POST", "/orders")
    def create_order(self, request: Request) -> Response:
        order = {"orderNumber": f"O-{next(self._serial)}", **request.json()}
        self.orders.append(order)
        return Response(201, json=order)

    @route("GET", "/echo")
    def echo(self, request: Request) -> Response:
        """A badly behaved API that quotes the caller's credentials back in its error."""
        heard = f"{request.headers.get('Authorization')} {request.arg('client_secret')}"
        return self.error(400, f"Invalid credentials: {heard}")

    @route("GET", "/report.pdf")
    def report(self, request: Request) -> Response:
        return Response(200, body=b"%PDF-1.4 fake", content_type="application/pdf")

    @route("DELETE", "/items/{item_id}")
    def delete_item(self, request: Request) -> Response:
        return Response(204)


class ShopClient(ApiClient):
    """A platform client as later integrations will write one: token on demand, one refresh on 401."""

    def __init__(self, base_url: str, client_secret: str, **kwargs) -> None:
        super().__init__(base_url, **kwargs)
        self._client_secret = client_secret
        self._token: str | None = None
        self.refreshes = 0

    def auth_headers(self) -> dict[str, str]:
        if self._token is None:
            data = self.request_json(
                "POST",
                "/token",
                data={"client_secret": self._client_secret},
                authenticate=False,
                idempotent=True,
            )
            self._token = data["access_token"]
        return {"Authorization": f"Bearer {self._token}"}

    def on_unauthorized(self) -> bool:
        self.refreshes += 1
        self._token = None  # auth_headers fetches a fresh one for the re-send
        return True

    def parse_error(self, response: httpx.Response) -> ApiError:
        body = response.json()  # raises on a gateway's HTML page: the core must cope
        return ApiError(response.status_code, body["message"], response.text)

    def secrets(self) -> list[str]:
        return [self._client_secret]


@pytest.fixture
def sim():
    with Shop() as shop:
        yield shop


class Sleeps(list):
    """Records requested waits instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def make_client(sim, sleeps):
    made: list[ApiClient] = []

    def make(cls=ApiClient, *args, **kwargs) -> ApiClient:
        options = {"rate_limit_per_second": None, "sleep": sleeps, "rng": random.Random(7), "timeout": 5.0}
        client = cls(sim.base_url, *args, **{**options, **kwargs})
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def test_success_returns_json_and_counts_one_call(make_client, sim):
    client = make_client()
    assert client.get_json("/items", params={"page": 2})["page"] == 2
    assert (client.calls_made, client.retries_made) == (1, 0)
    assert sim.requests[0].query == {"page": ["2"]}


def test_429_retry_after_is_slept_exactly(make_client, sim, sleeps):
    sim.inject("status:429", retry_after=3)
    client = make_client()
    assert client.get_json("/items")["hasNextPage"] is True
    assert sleeps == [3.0]
    assert (client.calls_made, client.retries_made, len(sim.requests)) == (2, 1, 2)


def test_429_retry_after_as_an_http_date_is_honoured(make_client, sim, sleeps):
    sim.inject(
        "status:429", retry_after=format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    )
    make_client().get_json("/items")
    assert len(sleeps) == 1 and 27 <= sleeps[0] <= 30


def test_parse_retry_after_accepts_seconds_and_http_dates():
    now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after(" 1.5 ", now) == 1.5
    assert parse_retry_after("Sun, 01 Jun 2025 12:00:45 GMT", now) == 45.0
    assert parse_retry_after("Sun, 01 Jun 2025 11:00:00 GMT", now) == 0.0  # already past
    assert parse_retry_after("-3", now) == 0.0
    for useless in (None, "", "soon", "nan"):
        assert parse_retry_after(useless, now) is None


def test_429_without_retry_after_backs_off_with_full_jitter_within_bounds(make_client, sim, sleeps):
    sim.inject("status:429", times=4)
    client = make_client(backoff_base=1.0, backoff_max=3.0)
    client.get_json("/items")
    assert len(sleeps) == 4 and client.retries_made == 4
    for wait, cap in zip(sleeps, [1.0, 2.0, 3.0, 3.0], strict=True):
        assert 0.0 <= wait <= cap
    assert len(set(sleeps)) == 4  # jittered, not a fixed schedule


@pytest.mark.parametrize("status", [500, 502, 503, 504, 529])
def test_server_errors_are_retried_then_succeed(make_client, sim, sleeps, status):
    sim.inject(f"status:{status}")
    client = make_client(ShopClient, CLIENT_SECRET)  # its parse_error chokes on 502's HTML
    assert client.get_json("/items")["page"] == 1
    assert len(sleeps) == 1 and client.retries_made == 1


def test_retries_are_bounded_and_end_in_the_platform_message(make_client, sim, sleeps):
    sim.inject("status:503", times=10, body={"statusCode": 503, "message": "Shop is down for maintenance"})
    client = make_client(max_attempts=4)
    with pytest.raises(ApiError) as caught:
        client.get_json("/items", params={"page": 1})
    err = caught.value
    assert (err.status, err.message, err.method, err.url_path) == (
        503,
        "Shop is down for maintenance",
        "GET",
        "/items",
    )
    assert str(err) == "HTTP 503: Shop is down for maintenance (GET /items)"
    assert len(sim.requests) == 4 and len(sleeps) == 3 and client.calls_made == 4


def test_total_retry_budget_caps_the_sum_of_waits(make_client, sim, sleeps):
    sim.inject("status:429", times=5, retry_after=25)
    with pytest.raises(ApiError) as caught:
        make_client(total_retry_budget=60).get_json("/items")
    assert sleeps == [25.0, 25.0] and len(sim.requests) == 3  # a third 25 s wait would pass 60 s

    sim.reset()
    sleeps.clear()
    sim.inject("status:429", retry_after=86400)  # a daily quota: surface it, do not block the run
    with pytest.raises(ApiError) as caught:
        make_client().get_json("/items")
    assert caught.value.retry_after == 86400 and sleeps == [] and len(sim.requests) == 1


def test_post_is_not_retried_on_5xx_unless_declared_idempotent(make_client, sim, sleeps):
    client = make_client()
    sim.inject("status:503")
    with pytest.raises(ApiError):
        client.request_json("POST", "/orders", json={"sku": "DD1391-100"})
    assert len(sim.requests) == 1 and sleeps == [] and sim.orders == []

    sim.inject("status:503")
    order = client.request_json("POST", "/orders", json={"sku": "DD1391-100"}, idempotent=True)
    assert order["sku"] == "DD1391-100" and len(sim.orders) == 1 and len(sleeps) == 1


def test_post_is_retried_on_429_because_the_request_was_refused(make_client, sim, sleeps):
    sim.inject("status:429", retry_after=2)
    make_client().request_json("POST", "/orders", json={"sku": "A"})
    assert sleeps == [2.0] and len(sim.orders) == 1


def test_4xx_errors_are_not_retried(make_client, sim):
    with pytest.raises(ApiError) as caught:
        make_client().request("GET", "/nothing-here")
    assert caught.value.status == 404 and len(sim.requests) == 1


def test_a_response_slower_than_the_timeout_is_retried(make_client, sim, sleeps):
    sim.inject("slow:2")
    client = make_client(timeout=0.2)
    assert client.get_json("/items")["page"] == 1
    assert [r.fault for r in sim.requests] == ["slow:2", None] and len(sleeps) == 1


def test_a_timed_out_post_is_not_re_sent(make_client, sim):
    sim.inject("slow:2")
    with pytest.raises(ApiConnectionError, match="POST /orders: ReadTimeout"):
        make_client(timeout=0.2).request_json("POST", "/orders", json={"sku": "A"})
    assert len(sim.requests) == 1


@pytest.mark.parametrize("kind", ["malformed_json", "truncated_json", "empty_body", "wrong_content_type"])
def test_a_corrupt_body_on_a_read_is_retried_within_the_attempt_budget(make_client, sim, sleeps, kind):
    sim.inject(kind)
    client = make_client()
    assert client.get_json("/items")["page"] == 1
    assert len(sim.requests) == 2 and len(sleeps) == 1


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("malformed_json", "invalid JSON"),
        ("truncated_json", "invalid JSON"),
        ("empty_body", "empty body"),
        ("wrong_content_type", "expected JSON, got content type 'text/html'"),
    ],
)
def test_a_persistently_corrupt_body_raises_malformed_response(make_client, sim, kind, reason):
    sim.inject(kind, times=3)
    with pytest.raises(MalformedResponse, match=reason) as caught:
        make_client(max_attempts=3).get_json("/items")
    assert caught.value.url_path == "/items" and len(sim.requests) == 3


def test_a_corrupt_body_on_a_post_is_not_re_sent(make_client, sim):
    sim.inject("truncated_json")
    with pytest.raises(MalformedResponse):
        make_client().request_json("POST", "/orders", json={"sku": "A"})
    assert len(sim.requests) == 1


@pytest.mark.parametrize("kind", ["reset", "reset_mid_body"])
def test_connection_resets_are_retried(make_client, sim, sleeps, kind):
    sim.inject(kind)
    assert make_client().get_json("/items")["page"] == 1
    assert len(sim.requests) == 2 and len(sleeps) == 1


def test_a_stopped_server_fails_with_a_connection_error_after_the_attempts(make_client, sim, sleeps):
    client = make_client(max_attempts=3)
    sim.stop()
    with pytest.raises(ApiConnectionError, match="POST /items: ConnectError"):
        client.request_json("POST", "/items")  # a connect failure is retried even for POST: nothing was sent
    assert client.calls_made == 3 and len(sleeps) == 2


def test_raw_responses_and_204(make_client):
    client = make_client()
    assert client.request("GET", "/report.pdf").content == b"%PDF-1.4 fake"
    assert client.request_json("DELETE", "/items/9") is None


def test_rate_limiter_spaces_request_starts_across_clients_sharing_it(sim):
    """Two clients share one limiter: every request after the first waits exactly one slot.

    A fake clock (advanced only by the limiter's sleeps) makes this exact and independent of
    machine load: behaviour, not speed."""
    now, waits = [0.0], []

    def sleep(seconds: float) -> None:
        waits.append(round(seconds, 9))
        now[0] += seconds

    shared = RateLimiter(10, clock=lambda: now[0], sleep=sleep)
    clients = [ApiClient(sim.base_url, rate_limit_per_second=None, rate_limiter=shared) for _ in range(2)]
    try:
        for _ in range(3):
            for c in clients:
                c.get_json("/items")
    finally:
        for c in clients:
            c.close()
    assert len(sim.requests) == 6
    assert waits == [0.1] * 5


def test_rate_limiter_reserves_slots_in_order_on_a_fake_clock():
    now = [100.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(4, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        limiter.acquire()
    now[0] += 1.0  # idle for a while: no debt carries over
    limiter.acquire()
    assert waits == [0.25, 0.25]
    with pytest.raises(ValueError):
        ApiClient("http://x", rate_limit_per_second=1, rate_limiter=limiter)


def test_a_token_call_takes_its_own_rate_limit_slot_before_the_request(sim):
    now, seen_at_sleep = [0.0], []

    def sleep(seconds: float) -> None:
        seen_at_sleep.append((seconds, len(sim.requests)))
        now[0] += seconds

    with ShopClient(
        sim.base_url, CLIENT_SECRET, rate_limit_per_second=1, clock=lambda: now[0], sleep=sleep
    ) as c:
        c.get_json("/private/items")
    assert seen_at_sleep == [(1.0, 1)]  # waited one interval after the token call, before the request


def test_expired_token_is_refreshed_once_on_401_and_the_request_re_sent(make_client, sim):
    client = make_client(ShopClient, CLIENT_SECRET)
    assert client.get_json("/private/items")["items"] == [{"id": "p1"}]
    sim.clock.advance(TOKEN_TTL + 1)
    assert client.get_json("/private/items")["items"] == [{"id": "p1"}]
    assert client.refreshes == 1
    assert [(r.method, r.path) for r in sim.requests] == [
        ("POST", "/token"),
        ("GET", "/private/items"),
        ("GET", "/private/items"),  # 401: token expired
        ("POST", "/token"),
        ("GET", "/private/items"),
    ]
    assert sim.requests[3].form()["client_secret"] == CLIENT_SECRET
    assert sim.requests[4].bearer_token != sim.requests[1].bearer_token


def test_a_second_401_raises_auth_error_without_looping(make_client, sim):
    sim.inject("status:401", times=5, path_prefix="/private")
    client = make_client(ShopClient, CLIENT_SECRET)
    with pytest.raises(AuthError) as caught:
        client.get_json("/private/items")
    assert client.refreshes == 1 and caught.value.status == 401
    assert [r.path for r in sim.requests] == ["/token", "/private/items", "/token", "/private/items"]


def test_a_rejected_refresh_fails_loudly(make_client, sim):
    client = make_client(ShopClient, CLIENT_SECRET)
    client.get_json("/private/items")
    sim.inject("status:401", path_prefix="/private")
    sim.inject(
        "status:403",
        path_prefix="/token",
        body={"statusCode": 403, "message": "Unknown or invalid refresh token."},
    )
    with pytest.raises(ApiError, match="Unknown or invalid refresh token") as caught:
        client.get_json("/private/items")
    assert caught.value.status == 403 and client.refreshes == 1 and len(sim.requests) == 4


def test_a_client_without_refresh_raises_auth_error_on_the_first_401(make_client, sim):
    with pytest.raises(AuthError):
        make_client().get_json("/private/items")
    assert len(sim.requests) == 1


def test_secrets_never_reach_logs_or_error_text(make_client, sim, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client(ShopClient, CLIENT_SECRET)
    client.get_json("/private/items", params={"api_key": "qs-secret-4242"})
    token = sim.requests[-1].bearer_token
    assert token and sim.requests[-1].query == {"api_key": ["qs-secret-4242"]}

    with pytest.raises(ApiError) as caught:
        client.get_json("/echo", params={"client_secret": CLIENT_SECRET})
    err = caught.value
    assert err.message == "Invalid credentials: *** ***"
    sim.inject("status:503", path_prefix="/items")
    client.get_json("/items")  # a retry is logged too

    assert "GET /private/items -> 200" in caplog.text and "retry 1 of 4" in caplog.text
    for secret in (token, CLIENT_SECRET, "qs-secret-4242"):
        for text in (caplog.text, str(err), repr(err), err.message, err.body):
            assert secret not in text


def test_redact_replaces_longest_secrets_first():
    assert redact("token abcdef and abc", ["abc", "abcdef", "", None]) == "token *** and ***"
    assert redact("nothing here", []) == "nothing here"


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (httpx.Response(400, json={"errors": [{"errorId": 1, "message": "Bad filter"}]}), "Bad filter"),
        (
            httpx.Response(403, json={"error": "invalid_grant", "error_description": "Unknown token."}),
            "Unknown token.",
        ),
        (httpx.Response(401, text="Unauthenticated"), "Unauthenticated"),
        (httpx.Response(502, html="<html><h1>502 Bad Gateway</h1></html>"), "Bad Gateway"),
        (httpx.Response(429, json={"message": "Too Many Requests"}), "Too Many Requests"),
    ],
)
def test_default_error_message_reads_common_error_shapes(response, message):
    assert error_message(response) == message
