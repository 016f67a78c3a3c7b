"""The Metabase simulator's contract (api-contracts.md §6.5) and the client's auth behaviour on it."""

from __future__ import annotations

import httpx
import pytest

from resources.http_client import ApiError
from resources.metabase import MetabaseAuthError, MetabaseClient, MetabaseResource, MetabaseSyncTimeout
from resources.metabase.resource import metabase_enabled
from simulators.metabase import DEMO_ADMIN, PASSWORD_MASK, MetabaseSimulator

CATALOG = {"analytics": {"mv_brand_analytics": ["brand", "revenue"], "mv_x": ["a"]}}
POSTGRES = {"host": "db", "port": 5432, "dbname": "dwh", "user": "bi", "password": "s3cret"}


@pytest.fixture
def sim():
    with MetabaseSimulator(catalog=CATALOG) as simulator:
        simulator.clock.set(1_000_000.0)
        yield simulator


def session(sim: MetabaseSimulator) -> dict[str, str]:
    answer = httpx.post(sim.url("/api/session"), json={"username": DEMO_ADMIN[0], "password": DEMO_ADMIN[1]})
    assert answer.status_code == 200
    return {"X-Metabase-Session": answer.json()["id"]}


def new_database(sim: MetabaseSimulator, auth: dict[str, str]) -> int:
    answer = httpx.post(
        sim.url("/api/database"),
        headers=auth,
        json={"engine": "postgres", "name": "DWH", "details": POSTGRES},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["id"]


def native(database_id: int, sql: str = "select 1", tags: dict | None = None) -> dict:
    return {"type": "native", "database": database_id, "native": {"query": sql, "template-tags": tags or {}}}


def test_unauthenticated_is_401_plain_text_and_sessions_expire_on_the_fake_clock(sim):
    answer = httpx.get(sim.url("/api/database"))
    assert (answer.status_code, answer.text) == (401, "Unauthenticated")
    assert answer.headers["content-type"].startswith("text/plain")
    auth = session(sim)
    assert httpx.get(sim.url("/api/database"), headers=auth).json() == {"data": [], "total": 0}
    sim.clock.advance(14 * 24 * 3600 - 1)
    assert httpx.get(sim.url("/api/database"), headers=auth).status_code == 200
    sim.clock.advance(1)
    assert httpx.get(sim.url("/api/database"), headers=auth).text == "Unauthenticated"
    wrong = httpx.post(sim.url("/api/session"), json={"username": DEMO_ADMIN[0], "password": "nope"})
    assert wrong.status_code == 401
    assert httpx.get(sim.url("/api/health")).json() == {"status": "ok"}


def test_api_key_auth(sim):
    key = sim.create_api_key("mb_test")
    assert httpx.get(sim.url("/api/card"), headers={"x-api-key": key}).json() == []
    assert httpx.get(sim.url("/api/card"), headers={"x-api-key": "mb_other"}).status_code == 401


def test_setup_token_creates_the_first_admin_once():
    with MetabaseSimulator(admin=None, catalog=CATALOG) as sim:
        properties = httpx.get(sim.url("/api/session/properties")).json()
        assert properties["has-user-setup"] is False
        user = {"email": "me@example.com", "password": "pw-123456"}
        bad = httpx.post(sim.url("/api/setup"), json={"token": "wrong", "user": user})
        assert bad.status_code == 403
        good = httpx.post(sim.url("/api/setup"), json={"token": properties["setup-token"], "user": user})
        assert httpx.get(sim.url("/api/card"), headers={"X-Metabase-Session": good.json()["id"]}).json() == []
        again = httpx.post(sim.url("/api/setup"), json={"token": properties["setup-token"], "user": user})
        assert again.status_code == 403
        assert httpx.get(sim.url("/api/session/properties")).json()["has-user-setup"] is True


def test_database_validation_password_mask_and_sync_delay(sim):
    sim.sync_delay = 30.0
    auth = session(sim)
    bad = httpx.post(
        sim.url("/api/database"), headers=auth, json={"engine": "oracle9", "name": "x", "details": {}}
    )
    assert bad.status_code == 400 and "engine" in bad.json()["message"]
    database_id = new_database(sim, auth)
    shown = httpx.get(sim.url(f"/api/database/{database_id}"), headers=auth).json()
    assert shown["details"]["password"] == PASSWORD_MASK
    # Sending the mask back keeps the stored password.
    update = {"details": {**POSTGRES, "password": PASSWORD_MASK, "port": 5433}}
    assert httpx.put(sim.url(f"/api/database/{database_id}"), headers=auth, json=update).status_code == 200
    assert sim.databases[database_id].body["details"]["password"] == "s3cret"
    assert sim.databases[database_id].body["details"]["port"] == 5433

    metadata = httpx.get(sim.url(f"/api/database/{database_id}/metadata"), headers=auth).json()
    assert metadata["tables"] == []  # the sync started by the create has not finished
    sync = httpx.post(sim.url(f"/api/database/{database_id}/sync_schema"), headers=auth)
    assert sync.json() == {"status": "ok"}
    sim.clock.advance(29.9)
    assert httpx.get(sim.url(f"/api/database/{database_id}/metadata"), headers=auth).json()["tables"] == []
    sim.clock.advance(0.1)
    tables = httpx.get(sim.url(f"/api/database/{database_id}/metadata"), headers=auth).json()["tables"]
    assert [(t["schema"], t["name"], [f["name"] for f in t["fields"]]) for t in tables] == [
        ("analytics", "mv_brand_analytics", ["brand", "revenue"]),
        ("analytics", "mv_x", ["a"]),
    ]
    # Field ids survive a second sync.
    ids = [f["id"] for t in tables for f in t["fields"]]
    httpx.post(sim.url(f"/api/database/{database_id}/sync_schema"), headers=auth)
    sim.clock.advance(30)
    again = httpx.get(sim.url(f"/api/database/{database_id}/metadata"), headers=auth).json()["tables"]
    assert [f["id"] for t in again for f in t["fields"]] == ids == [1, 2, 3]


def test_cards_come_back_as_mbql5_and_dimension_tags_need_known_fields(sim):
    auth = session(sim)
    database_id = new_database(sim, auth)
    tag = {"brand": {"name": "brand", "display-name": "Brand", "type": "dimension",
                     "dimension": ["field", 1, None], "widget-type": "string/="}}  # fmt: skip
    card = {"name": "Revenue", "display": "bar", "visualization_settings": {},
            "dataset_query": native(database_id, "select 1 where {{brand}}", tag)}  # fmt: skip
    created = httpx.post(sim.url("/api/card"), headers=auth, json=card).json()
    served_tags = created["dataset_query"]["stages"][0].pop("template-tags")
    assert created["dataset_query"] == {
        "lib/type": "mbql/query",
        "database": database_id,
        "stages": [{"lib/type": "mbql.stage/native", "native": "select 1 where {{brand}}"}],
    }
    # MBQL 5 puts a clause's options second: the field id moves to the end.
    uuid_ = served_tags["brand"]["dimension"][1]["lib/uuid"]
    assert served_tags == {"brand": {**tag["brand"], "dimension": ["field", {"lib/uuid": uuid_}, 1]}}
    legacy = httpx.get(sim.url(f"/api/card/{created['id']}?legacy-mbql=true"), headers=auth).json()
    assert legacy["dataset_query"] == card["dataset_query"]
    unknown = {**tag["brand"], "dimension": ["field", 999, None]}
    bad = httpx.post(
        sim.url("/api/card"),
        headers=auth,
        json={**card, "dataset_query": native(database_id, "select 1", {"brand": unknown})},
    )
    assert bad.status_code == 400 and "no field 999" in bad.json()["message"]
    archived = httpx.put(sim.url(f"/api/card/{created['id']}"), headers=auth, json={"archived": True})
    assert archived.json()["archived"] is True
    assert httpx.get(sim.url("/api/card"), headers=auth).json() == []
    assert [c["id"] for c in httpx.get(sim.url("/api/card?f=archived"), headers=auth).json()] == [
        created["id"]
    ]


def test_dashcards_are_a_replace_set_and_the_old_add_card_route_is_gone(sim):
    auth = session(sim)
    database_id = new_database(sim, auth)
    card_ids = []
    for name in ("A", "B", "C"):
        body = {
            "name": name,
            "display": "table",
            "visualization_settings": {},
            "dataset_query": native(database_id),
        }
        card_ids.append(httpx.post(sim.url("/api/card"), headers=auth, json=body).json()["id"])
    dashboard = httpx.post(
        sim.url("/api/dashboard"), headers=auth, json={"name": "D", "parameters": []}
    ).json()
    url = sim.url(f"/api/dashboard/{dashboard['id']}")

    def place(dashcard_id: int, card_id: int, row: int) -> dict:
        return {"id": dashcard_id, "card_id": card_id, "row": row, "col": 0, "size_x": 6, "size_y": 4}

    first = httpx.put(
        url, headers=auth, json={"dashcards": [place(-1, card_ids[0], 0), place(-2, card_ids[1], 4)]}
    )
    assert [(d["id"], d["card_id"]) for d in first.json()["dashcards"]] == [
        (1, card_ids[0]),
        (2, card_ids[1]),
    ]
    # Keep dashcard 2 (moved), drop 1, add one for C.
    second = httpx.put(
        url, headers=auth, json={"dashcards": [place(2, card_ids[1], 0), place(-1, card_ids[2], 4)]}
    )
    assert [(d["id"], d["card_id"], d["row"]) for d in second.json()["dashcards"]] == [
        (2, card_ids[1], 0),
        (3, card_ids[2], 4),
    ]
    stale = httpx.put(url, headers=auth, json={"dashcards": [place(1, card_ids[0], 0)]})
    assert stale.status_code == 400  # dashcard 1 was deleted
    assert len(httpx.get(url, headers=auth).json()["dashcards"]) == 2  # nothing half-applied
    removed = httpx.post(url + "/cards", headers=auth, json={"cardId": card_ids[0]})
    assert (removed.status_code, removed.text) == (404, "Not found.")


def test_client_logs_in_once_and_relogs_once_on_an_expired_session(sim):
    with MetabaseClient(sim.base_url, username=DEMO_ADMIN[0], password=DEMO_ADMIN[1]) as client:
        assert client.databases() == []
        assert client.cards() == []
        assert client.logins == 1
        sim.expire_sessions()
        assert client.collections()[0]["id"] == "root"
        assert client.logins == 2
        paths = [(r.method, r.path) for r in sim.requests]
        assert paths == [
            ("POST", "/api/session"),
            ("GET", "/api/database"),
            ("GET", "/api/card"),
            ("GET", "/api/collection"),  # 401
            ("POST", "/api/session"),
            ("GET", "/api/collection"),
        ]


def test_client_fails_loudly_when_the_relogin_is_rejected(sim):
    with MetabaseClient(sim.base_url, username=DEMO_ADMIN[0], password=DEMO_ADMIN[1]) as client:
        client.cards()
        sim.expire_sessions()
        sim.users[DEMO_ADMIN[0]] = "changed-password"
        with pytest.raises(
            MetabaseAuthError, match="rejected the login of admin@soleflipper.local"
        ) as caught:
            client.cards()
        assert DEMO_ADMIN[1] not in str(caught.value)
        assert [r.path for r in sim.requests].count("/api/session") == 2


def test_client_api_key_401_is_not_retried(sim):
    with MetabaseClient(sim.base_url, api_key="mb_wrong") as client:
        with pytest.raises(ApiError) as caught:
            client.cards()
        assert caught.value.status == 401 and "mb_wrong" not in str(caught.value)
        assert len(sim.requests) == 1


def test_client_first_run_setup(sim):
    sim.initial_admin = None
    sim.reset()
    with MetabaseClient(sim.base_url, username="owner@example.com", password="pw-abcdef") as client:
        assert client.ensure_setup() is True
        assert client.ensure_setup() is False
        assert client.cards() == []
        assert client.logins == 1  # the setup's session is used


def test_wait_for_tables_polls_until_the_sync_shows_them_and_is_bounded(sim):
    sim.sync_delay = 5.0
    slept: list[float] = []

    def sleep(seconds: float) -> None:  # the simulator's clock moves instead of the test waiting
        slept.append(seconds)
        sim.clock.advance(seconds)

    with MetabaseClient(
        sim.base_url, username=DEMO_ADMIN[0], password=DEMO_ADMIN[1], sleep=sleep, monotonic=sim.clock.now
    ) as client:
        database_id = client.create_database({"engine": "postgres", "name": "DWH", "details": POSTGRES})["id"]
        client.sync_schema(database_id)
        metadata = client.wait_for_tables(database_id, {("analytics", "mv_x")}, timeout=60, interval=2)
        assert slept == [2, 2, 2]
        assert {t["name"] for t in metadata["tables"]} == {"mv_brand_analytics", "mv_x"}
        with pytest.raises(MetabaseSyncTimeout, match=r"1 table\(s\)/column\(s\) within 6s: analytics.nope"):
            client.wait_for_tables(database_id, {("analytics", "nope")}, timeout=6, interval=2)
        assert (
            client.wait_for_tables(database_id, (), columns=[("analytics", "mv_x", "a")], timeout=0)
            == metadata
        )
        with pytest.raises(MetabaseSyncTimeout, match=r"analytics.mv_x.b"):
            client.wait_for_tables(database_id, (), columns=[("analytics", "mv_x", "b")], timeout=0)


def test_resource_from_env_and_enabled():
    env = {"SOLEFLIPPER_METABASE_URL": "http://mb:3000", "SOLEFLIPPER_METABASE_USER": "a@b.c"}
    assert metabase_enabled(env) is False
    env["SOLEFLIPPER_METABASE_PASSWORD"] = "pw"
    assert metabase_enabled(env) is True
    resource = MetabaseResource.from_env(env)
    assert (resource.url, resource.username, resource.password, resource.api_key) == (
        "http://mb:3000",
        "a@b.c",
        "pw",
        None,
    )
    assert metabase_enabled({"SOLEFLIPPER_METABASE_URL": "x", "SOLEFLIPPER_METABASE_API_KEY": "mb_1"}) is True
    assert metabase_enabled({"SOLEFLIPPER_METABASE_API_KEY": "mb_1"}) is False
