"""The Alias simulator's contract: auth, gRPC error bodies, x-request-id, page sizes and end markers."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from simulators.alias import DEFAULT_TOKEN, AliasSimulator
from simulators.alias_data import build_world, take_cents

AUTH = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}


@pytest.fixture(scope="module")
def sim():
    with AliasSimulator(n_orders=7, n_listings=3, end_marker="absent") as running:
        yield running


def test_take_is_price_less_commission_and_seller_fee():
    # 9.5 % of $220.00 = $20.90, plus the $12 seller fee: $187.10 paid out.
    assert take_cents(22000) == 18710
    assert take_cents(12345) == 12345 - 1173 - 1200  # 1172.775 rounds half up to 1173


def test_world_is_seeded_and_mixes_cents_strings_and_numbers():
    first, again = build_world(3, 10), build_world(3, 10)
    assert first.orders == again.orders
    kinds = {type(o["price_cents"]) for o in first.orders}
    assert kinds == {str, int}
    completed = [o for o in first.orders if o["status"] == "ORDER_STATUS_COMPLETED"]
    assert completed and all(o["price_cents_after_take"] is not None for o in completed)
    assert all(o["price_cents_after_take"] is None for o in first.orders if o not in completed)
    assert Decimal(str(completed[0]["price_cents_after_take"])) == take_cents(int(completed[0]["price_cents"]))


def test_test_endpoint_and_auth_errors_in_grpc_shape(sim):
    ok = httpx.get(sim.url("/api/v1/test"), headers=AUTH)
    assert ok.json() == {"ok": True} and ok.headers["x-request-id"].startswith("req-")
    denied = httpx.get(sim.url("/api/v1/test"), headers={"Authorization": "Bearer nope"})
    assert denied.status_code == 401
    assert denied.json() == {"code": 16, "message": "missing or invalid personal access token", "details": []}
    assert denied.headers["x-request-id"]


def test_page_size_over_50_is_a_400(sim):
    answer = httpx.get(sim.url("/api/v1/orders"), params={"page_size": 51}, headers=AUTH)
    assert answer.status_code == 400
    assert answer.json()["code"] == 3 and "between 1 and 50" in answer.json()["message"]


def test_orders_default_page_and_absent_end_token(sim):
    page = httpx.get(sim.url("/api/v1/orders"), headers=AUTH).json()
    assert len(page["orders"]) == 7  # default page size 25 > 7 orders
    assert page["pagination"] == {}  # end_marker="absent"
    stamps = [o["updated_at"] for o in page["orders"]]
    assert stamps == sorted(stamps, reverse=True)


def test_injected_faults_carry_the_request_id(sim):
    sim.inject("status:409", path_prefix="/api/v1/orders")
    answer = httpx.get(sim.url("/api/v1/orders"), headers=AUTH)
    assert answer.status_code == 409 and answer.json()["code"] == 10 and answer.headers["x-request-id"]


def test_listings_pagination_fields(sim):
    page = httpx.get(sim.url("/api/v1/listings"), params={"page_size": 2}, headers=AUTH).json()
    assert page["pagination"]["has_more"] is True and page["pagination"]["total_count"] == 3
    last = httpx.get(sim.url("/api/v1/listings"), headers=AUTH,
                     params={"page_size": 2, "pagination_token": page["pagination"]["pagination_token"]}).json()
    assert len(last["listings"]) == 1 and last["pagination"]["has_more"] is False
