"""The Alias client against the Alias simulator over real HTTP on 127.0.0.1 (no real sleeps)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from resources.alias import (
    AliasApiError,
    AliasAuthError,
    AliasClient,
    AliasPagingError,
    AliasResource,
    AliasScopeError,
    cents_to_decimal,
)
from simulators.alias import DEFAULT_TOKEN, AliasSimulator


@pytest.fixture(scope="module")
def sim():
    with AliasSimulator(n_orders=10, n_listings=5) as running:
        yield running


@pytest.fixture
def client(sim):
    sim.reset()
    sleeps: list[float] = []
    with AliasClient(DEFAULT_TOKEN, base_url=sim.url("/api/v1"), requests_per_second=None,
                     sleep=sleeps.append) as made:
        made.sleeps = sleeps
        yield made


@pytest.mark.parametrize(("value", "expected"), [
    ("22000", Decimal("220.00")), (22000, Decimal("220.00")), ("1", Decimal("0.01")),
    (18710.0, Decimal("187.10")), (None, None), ("-150", Decimal("-1.50")),
])
def test_cents_strings_and_numbers_are_the_same_exact_amount(value, expected):
    assert cents_to_decimal(value) == expected


@pytest.mark.parametrize("value", ["220.5", 220.5, True, "", "12a"])
def test_cents_that_are_not_whole_are_rejected(value):
    with pytest.raises(ValueError, match="price_cents"):
        cents_to_decimal(value, "price_cents")


def test_token_validation_and_bearer_header(client, sim):
    assert client.test() is True
    assert sim.requests[-1].headers["Authorization"] == f"Bearer {DEFAULT_TOKEN}"


def test_401_is_a_clear_error_without_the_token(sim):
    with AliasClient("goatapi_wrong_secret_123", base_url=sim.url("/api/v1"), requests_per_second=None) as bad:
        with pytest.raises(AliasAuthError) as caught:
            bad.test()
    text = str(caught.value)
    assert "SOLEFLIPPER_ALIAS_TOKEN" in text and "goatapi_wrong_secret_123" not in text
    assert caught.value.grpc_code == 16 and caught.value.request_id


def test_403_names_the_missing_scope(client, sim):
    sim.scopes = frozenset({"listings:read"})
    try:
        with pytest.raises(AliasScopeError, match="lacks a scope"):
            next(client.iter_orders())
    finally:
        sim.scopes = frozenset({"orders:read", "listings:read"})


@pytest.mark.parametrize("marker", ["empty", "absent", "null"])
def test_orders_pages_end_on_every_end_marker(client, sim, marker):
    sim.end_marker = marker
    pages = list(client.iter_orders(page_size=4))
    assert [len(p) for p in pages] == [4, 4, 2]
    assert len({o["id"] for p in pages for o in p}) == 10


def test_exactly_page_size_items_ends_with_an_empty_last_page_not_a_loop(client, sim):
    sim.end_marker = "empty"
    pages = list(client.iter_orders(page_size=5))
    assert [len(p) for p in pages] == [5, 5]
    assert len(sim.requests) == 2


def test_page_size_over_50_is_refused_before_sending(client, sim):
    with pytest.raises(ValueError, match="between 1 and 50"):
        next(client.iter_orders(page_size=51))
    assert sim.requests == []


def test_server_400_surfaces_with_grpc_code(client, sim):
    with pytest.raises(AliasApiError) as caught:
        client.get_json("/orders", {"page_size": 99})
    assert caught.value.status == 400 and caught.value.grpc_code == 3


def test_429_is_retried_after_retry_after(client, sim):
    sim.inject("status:429", times=2, path_prefix="/api/v1/orders", retry_after=3)
    pages = list(client.iter_orders(page_size=50))
    assert [len(p) for p in pages] == [10]
    assert client.sleeps == [3.0, 3.0] and client.retries_made == 2


def test_409_is_not_retried(client, sim):
    sim.inject("status:409", path_prefix="/api/v1/orders")
    with pytest.raises(AliasApiError, match="HTTP 409"):
        next(client.iter_orders())


def test_a_repeated_page_token_stops_paging(client, sim):
    token = {"orders": [], "pagination": {"next_page_token": "same"}}
    sim.inject("status:200", times=2, path_prefix="/api/v1/orders", body=token)
    with pytest.raises(AliasPagingError, match="repeated"):
        list(client.iter_orders())


def test_listings_walk_has_more(client, sim):
    pages = list(client.iter_listings(page_size=2))
    assert [len(p) for p in pages] == [2, 2, 1]


def test_resource_builds_a_client_from_config(sim):
    resource = AliasResource(token=DEFAULT_TOKEN, base_url=sim.url("/api/v1"))
    with resource.get_client() as made:
        assert made.test() is True
