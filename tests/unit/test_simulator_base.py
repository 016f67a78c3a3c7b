"""The simulator framework: routing, request log, fake clock, every fault kind, the admin channel."""

from __future__ import annotations

import io
import json
import threading
import time
from datetime import UTC, datetime

import httpx
import pytest

from simulators.base import Clock, Headers, Request, Response, Simulator, route, run_forever

ITEMS = [{"id": str(i), "name": f"Sneaker {i}", "price": f"{100 + i}.50"} for i in range(1, 8)]


class Shop(Simulator):
    """A tiny platform: paged items, item by id, create, and a buggy endpoint."""

    name = "shop"

    def __init__(self) -> None:
        super().__init__()
        self.items = [dict(item) for item in ITEMS]

    def error_body(self, status: int, message: str) -> dict:
        return {"statusCode": status, "message": message}

    @route("GET", "/items")
    def list_items(self, request: Request) -> dict:
        page, size = int(request.arg("page", "1")), int(request.arg("pageSize", "3"))
        chunk = self.items[(page - 1) * size : page * size]
        return {"items": chunk, "page": page, "hasNextPage": page * size < len(self.items)}

    @route("GET", "/items/{item_id}")
    def item(self, request: Request) -> Response:
        found = [i for i in self.items if i["id"] == request.params["item_id"]]
        return Response(200, json=found[0]) if found else self.error(404, "Item not found")

    @route("POST", "/items")
    def create(self, request: Request) -> Response:
        item = {"id": str(len(self.items) + 1), **request.json()}
        with self.lock:
            self.items.append(item)
        return Response(201, json=item, headers={"Location": f"/items/{item['id']}"})

    @route("GET", "/boom")
    def boom(self, request: Request) -> Response:
        raise RuntimeError("handler bug")

    def reset(self) -> None:
        super().reset()
        self.items = [dict(item) for item in ITEMS]


@pytest.fixture
def sim():
    with Shop() as shop:
        yield shop


@pytest.fixture
def client(sim):
    with httpx.Client(base_url=sim.base_url, timeout=5) as c:
        yield c


def test_routes_pass_path_params_query_lists_and_json_bodies(sim, client):
    page = client.get("/items", params=[("page", "2"), ("pageSize", "3"), ("tag", "a"), ("tag", "b")]).json()
    assert [i["id"] for i in page["items"]] == ["4", "5", "6"] and page["hasNextPage"] is True
    assert client.get("/items/a%2Fb").status_code == 404  # an encoded slash stays one segment
    assert client.get("/items/3").json()["name"] == "Sneaker 3"
    created = client.post("/items", json={"name": "Dunk"})
    assert created.status_code == 201 and created.headers["location"] == "/items/8"

    first, encoded, by_id, post = sim.requests
    assert first.query == {"page": ["2"], "pageSize": ["3"], "tag": ["a", "b"]}
    assert encoded.params == {"item_id": "a/b"} and by_id.params == {"item_id": "3"}
    assert post.method == "POST" and post.json() == {"name": "Dunk"}


def test_unrouted_and_crashing_requests_answer_in_the_platform_error_shape(client):
    missing = client.get("/nope")
    assert missing.status_code == 404 and missing.json()["statusCode"] == 404
    wrong_method = client.delete("/items")
    assert wrong_method.status_code == 405 and "DELETE" in wrong_method.json()["message"]
    crashed = client.get("/boom")
    assert crashed.status_code == 500 and "handler bug" in crashed.json()["message"]
    assert client.head("/items/1").status_code == 200  # HEAD is served by the GET route


def test_request_log_records_every_request_with_case_insensitive_headers_not_admin_calls(sim, client):
    client.get("/items", headers={"X-Api-Key": "k1", "Authorization": "Bearer t1"})
    client.post("/items", content=b"{}", headers={"content-type": "application/json"})
    client.get("/__admin/requests")
    log = sim.requests
    assert [(r.method, r.path) for r in log] == [("GET", "/items"), ("POST", "/items")]
    assert log[0].headers["x-api-key"] == "k1" and log[0].headers["X-API-KEY"] == "k1"
    assert "authorization" in log[0].headers and log[0].bearer_token == "t1"
    assert log[1].body == b"{}" and log[0].at <= log[1].at
    assert Headers([("Accept", "a"), ("accept", "b")])["ACCEPT"] == "a, b"


def test_status_fault_uses_platform_error_body_retry_after_and_a_switchable_body(client, sim):
    sim.inject("status:429", retry_after=3)
    sim.inject("status:429", body={"message": "Too Many Requests"})  # a gateway's shape instead
    sim.inject("status:401", body="Unauthenticated")
    throttled = client.get("/items")
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "3"
    assert throttled.json() == {"statusCode": 429, "message": "Too Many Requests"}
    gateway = client.get("/items")
    assert gateway.json() == {"message": "Too Many Requests"} and "retry-after" not in gateway.headers
    plain = client.get("/items")
    assert plain.status_code == 401 and plain.text == "Unauthenticated"
    assert plain.headers["content-type"].startswith("text/plain")
    assert client.get("/items").status_code == 200


@pytest.mark.parametrize("status", [500, 503, 504, 529])
def test_server_error_faults_use_the_platform_error_shape(client, sim, status):
    sim.inject(f"status:{status}")
    response = client.get("/items")
    assert response.status_code == status and response.json()["statusCode"] == status


def test_502_fault_is_an_html_gateway_page(client, sim):
    sim.inject("status:502")
    response = client.get("/items")
    assert response.status_code == 502 and response.headers["content-type"] == "text/html"
    assert "<h1>502 Bad Gateway</h1>" in response.text


def test_body_faults_break_the_body_in_the_documented_ways(client, sim):
    real = client.get("/items/1").content
    sim.inject("malformed_json")
    sim.inject("truncated_json")
    sim.inject("empty_body")
    sim.inject("wrong_content_type")

    malformed = client.get("/items/1")
    assert malformed.status_code == 200 and malformed.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        malformed.json()

    truncated = client.get("/items/1")
    assert truncated.content == real[: len(real) // 2]
    assert int(truncated.headers["content-length"]) == len(truncated.content)
    with pytest.raises(json.JSONDecodeError):
        truncated.json()

    empty = client.get("/items/1")
    assert empty.status_code == 200 and empty.content == b""

    html = client.get("/items/1")
    assert html.headers["content-type"].startswith("text/html") and html.content == real
    assert [r.fault for r in sim.requests] == [
        None,
        "malformed_json",
        "truncated_json",
        "empty_body",
        "wrong_content_type",
    ]


@pytest.mark.parametrize("kind", ["reset", "reset_mid_body"])
def test_reset_faults_abort_the_connection_then_service_resumes(client, sim, kind):
    sim.inject(kind)
    with pytest.raises(httpx.TransportError):
        client.get("/items/1")
    assert client.get("/items/1").status_code == 200


def test_slow_fault_delays_the_answer_past_a_short_client_timeout(client, sim):
    sim.inject("slow:2")
    with pytest.raises(httpx.ReadTimeout):
        client.get("/items/1", timeout=0.1)
    sim.inject("slow:0.01")
    assert client.get("/items/1").json()["id"] == "1"  # slow, but the real answer


def test_faults_are_consumed_first_match_in_order_each_times_times(client, sim):
    sim.inject("status:503", times=2, path_prefix="/items/")
    sim.inject("status:500")
    assert client.get("/items").status_code == 500  # "/items" is not under "/items/"
    assert [client.get("/items/1").status_code for _ in range(3)] == [503, 503, 200]
    assert client.get("/items").status_code == 200 and sim.pending_faults == []


@pytest.mark.parametrize(
    ("spec", "times"),
    [("teapot", 1), ("status", 1), ("slow", 1), ("reset:3", 1), ("status:abc", 1), ("reset", 0)],
)
def test_inject_rejects_unknown_or_malformed_faults(sim, spec, times):
    with pytest.raises(ValueError):
        sim.inject(spec, times=times)


def test_admin_endpoints_inject_faults_list_requests_move_the_clock_and_reset(client, sim):
    injected = client.post(
        "/__admin/faults",
        json=[
            {"fault": "status:429", "times": 2, "retry_after": 1},
            {"fault": "empty_body", "path_prefix": "/items/"},
        ],
    )
    assert injected.json() == {"injected": ["status:429", "empty_body"]}
    assert [client.get("/items/1").status_code for _ in range(3)] == [429, 429, 200]
    client.post("/items", json={"name": "Dunk"})

    logged = client.get("/__admin/requests").json()
    assert [(r["method"], r["fault"]) for r in logged] == [
        ("GET", "status:429"),
        ("GET", "status:429"),
        ("GET", "empty_body"),
        ("POST", None),
    ]
    assert logged[3]["body"] == '{"name":"Dunk"}'

    assert client.post("/__admin/faults", json={"fault": "teapot"}).status_code == 400
    assert client.get("/__admin/nope").status_code == 404
    assert client.post("/__admin/clock", json={"set": 1000, "advance": 60}).json() == {"now": 1060.0}

    sim.inject("status:500")
    assert client.post("/__admin/reset").json() == {"ok": True}
    assert sim.requests == [] and sim.pending_faults == [] and len(sim.items) == len(ITEMS)
    assert abs(sim.clock.now() - time.time()) < 60  # back on real time
    assert client.get("/items/1").status_code == 200


def test_clock_follows_real_time_until_set_then_advances_and_resets():
    clock = Clock()
    assert abs(clock.now() - time.time()) < 5
    clock.advance(3600)
    assert 3590 < clock.now() - time.time() < 3610
    clock.set(datetime(2025, 1, 1, 23, 59, 59, tzinfo=UTC))
    clock.advance(1)
    assert clock.utcnow() == datetime(2025, 1, 2, tzinfo=UTC)
    assert clock.now() == clock.now()  # frozen
    clock.reset()
    assert abs(clock.now() - time.time()) < 5


def test_stop_refuses_connections_even_for_pooled_clients_and_restart_keeps_the_port():
    sim = Shop().start()
    port = sim.port
    with httpx.Client(base_url=sim.base_url, timeout=5) as client:
        assert client.get("/items/1").status_code == 200  # leaves a kept-alive connection
        sim.stop()
        with pytest.raises(httpx.TransportError):
            client.get("/items/1")
        with pytest.raises(RuntimeError, match="not running"):
            _ = sim.base_url
        with sim:
            assert sim.port == port and client.get("/items/1").status_code == 200


def test_run_forever_prints_the_base_url_and_stops_when_told():
    sim, out, done = Shop(), io.StringIO(), threading.Event()
    worker = threading.Thread(target=run_forever, args=(sim,), kwargs={"until": done, "out": out})
    worker.start()
    try:
        deadline = time.monotonic() + 5
        while "listening on" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        url = out.getvalue().split("listening on ", 1)[1].split()[0]
        assert httpx.get(f"{url}/items/2", timeout=5).json()["id"] == "2"
    finally:
        done.set()
        worker.join(timeout=5)
    assert not worker.is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/items/2", timeout=5)
