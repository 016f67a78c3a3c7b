"""`sync_metabase` against the Metabase simulator: the repository's four dashboards over the dbt
manifest's relations (the simulator's catalog is what the manifest documents, so no warehouse is
built here; the demo run syncs against a real one)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from resources.metabase import MetabaseClient
from simulators.metabase import DEMO_ADMIN, SESSION_MAX_AGE, MetabaseSimulator
from soleflipper.bi.dashboards import DashboardSpecError, load_dashboards, load_manifest, manifest_relations
from soleflipper.bi.metabase_sync import (
    MANAGED_MARK,
    MetabaseSyncError,
    SyncReport,
    WarehouseConnection,
    card_differs,
    connection_from_url,
    sync_metabase,
)

CONNECTION = WarehouseConnection(host="127.0.0.1", port=5432, dbname="soleflipper", user="bi", password="pw")
EXPECTED_DASHBOARDS = {"Executive", "Product & brand", "Platform & geography", "Inventory & suppliers"}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return load_manifest()


@pytest.fixture(scope="module")
def dashboards():
    return load_dashboards()


@pytest.fixture
def sim(manifest) -> Iterator[MetabaseSimulator]:
    catalog: dict[str, dict[str, list[str]]] = {}
    for (schema, table), columns in manifest_relations(manifest).items():
        if schema == "analytics":
            catalog.setdefault(schema, {})[table] = sorted(columns)
    with MetabaseSimulator(catalog=catalog, sync_delay=1.0) as simulator:
        yield simulator


def client_for(sim: MetabaseSimulator, **options) -> MetabaseClient:
    # The fake clock moves while the client "sleeps" between metadata polls: no real waiting.
    options.setdefault("sleep", sim.clock.advance)
    return MetabaseClient(sim.base_url, username=DEMO_ADMIN[0], password=DEMO_ADMIN[1], **options)


def sync(sim: MetabaseSimulator, dashboards, manifest, **options) -> SyncReport:
    with client_for(sim, **options.pop("client", {})) as client:
        return sync_metabase(client, dashboards, manifest, CONNECTION, poll_interval=0.5, **options)


def counts(report: SyncReport) -> dict[str, tuple[int, int, int, int]]:
    return {k: (c.created, c.updated, c.unchanged, c.archived) for k, c in report.counts.items()}


def test_first_sync_builds_four_dashboards_and_the_second_changes_nothing(sim, dashboards, manifest):
    n_cards = sum(len(d.cards) for d in dashboards)
    assert {d.name for d in dashboards} == EXPECTED_DASHBOARDS
    # A user's own dashboard with one of our names, outside our collection, is left alone.
    with client_for(sim) as client:
        own = client.create_dashboard({"name": "Executive", "description": "mine", "parameters": []})
    sim.clock.set(1_000_000.0)
    first = sync(sim, dashboards, manifest)
    assert counts(first) == {
        "database": (1, 0, 0, 0),
        "collection": (1, 0, 0, 0),
        "card": (n_cards, 0, 0, 0),
        "dashboard": (4, 0, 0, 0),
        "dashcard": (n_cards, 0, 0, 0),
    }
    assert set(first.dashboard_urls) == EXPECTED_DASHBOARDS
    assert sim.dashboards[own["id"]]["dashcards"] == [] and sim.dashboards[own["id"]]["description"] == "mine"
    board = next(d for d in sim.dashboards.values() if d["name"] == "Executive" and d["id"] != own["id"])
    assert first.dashboard_urls["Executive"] == f"{sim.base_url}/dashboard/{board['id']}"
    executive = next(d for d in dashboards if d.name == "Executive")
    assert len(board["dashcards"]) == len(executive.cards)
    assert [p["slug"] for p in board["parameters"]] == [p.slug for p in executive.parameters]
    # Every field filter is wired to a real field id and mapped to its dashboard parameter.
    card = sim.card_by_name(executive.cards[0].name)
    tag = card["dataset_query"]["native"]["template-tags"]["sale_date"]
    table = next(t for t in sim.databases[first.database_id].tables if t["name"] == "mv_executive_metrics")
    assert tag["dimension"][1] == next(f["id"] for f in table["fields"] if f["name"] == "sale_date")
    assert card["collection_id"] == first.collection_id and MANAGED_MARK in card["description"]
    assert board["dashcards"][0]["parameter_mappings"] == [
        {
            "parameter_id": "date_range",
            "card_id": card["id"],
            "target": ["dimension", ["template-tag", "sale_date"]],
        }
    ]

    writes_before = [r for r in sim.requests if r.method in ("POST", "PUT")]
    second = sync(sim, dashboards, manifest)
    assert not second.changed
    assert counts(second) == {
        "database": (0, 0, 1, 0),
        "collection": (0, 0, 1, 0),
        "card": (0, 0, n_cards, 0),
        "dashboard": (0, 0, 4, 0),
        "dashcard": (0, 0, n_cards, 0),
    }
    writes = [(r.method, r.path) for r in sim.requests if r.method in ("POST", "PUT")][len(writes_before) :]
    # Only the login and the schema sync: no card, dashboard or database is written.
    assert writes == [("POST", "/api/session"), ("POST", f"/api/database/{first.database_id}/sync_schema")]


def test_a_removed_card_is_archived_and_its_dashcard_removed(sim, dashboards, manifest):
    sync(sim, dashboards, manifest)
    executive = next(d for d in dashboards if d.name == "Executive")
    gone = executive.cards[-1]
    trimmed = [dataclasses.replace(d, cards=d.cards[:-1]) if d is executive else d for d in dashboards]
    report = sync(sim, trimmed, manifest)
    assert counts(report)["card"][3] == 1 and counts(report)["dashcard"][3] == 1
    assert counts(report)["dashboard"] == (0, 1, 3, 0)
    archived = sim.card_by_name(gone.name)
    assert archived["archived"] is True
    board = sim.dashboard_by_name("Executive")
    assert archived["id"] not in [d["card_id"] for d in board["dashcards"]]
    assert len(board["dashcards"]) == len(executive.cards) - 1
    assert not sync(sim, trimmed, manifest).changed


def test_an_edited_card_is_updated_in_place(sim, dashboards, manifest):
    sync(sim, dashboards, manifest)
    executive = next(d for d in dashboards if d.name == "Executive")
    card = executive.cards[0]
    moved = dataclasses.replace(card, sql=card.sql.replace("as revenue_home", "as revenue"), col=card.col)
    edited = [
        dataclasses.replace(d, cards=(moved, *d.cards[1:])) if d is executive else d for d in dashboards
    ]
    before = sim.card_by_name(card.name)["id"]
    report = sync(sim, edited, manifest)
    assert counts(report)["card"] == (0, 1, sum(len(d.cards) for d in dashboards) - 1, 0)
    assert sim.card_by_name(card.name)["id"] == before
    assert "as revenue\n" in sim.card_by_name(card.name)["dataset_query"]["native"]["query"]


def test_an_expired_session_mid_sync_logs_in_once_more_and_completes(sim, dashboards, manifest):
    # The client's first pause while Metabase syncs lasts past the session's age.
    report = sync(sim, dashboards, manifest, client={"sleep": lambda s: sim.clock.advance(SESSION_MAX_AGE)})
    assert counts(report)["dashboard"] == (4, 0, 0, 0)
    trail = [(r.method, r.path) for r in sim.requests]
    assert trail.count(("POST", "/api/session")) == 2
    relogin = trail.index(("POST", "/api/session"), trail.index(("POST", "/api/session")) + 1)
    assert trail[relogin - 1] == trail[relogin + 1] == ("GET", f"/api/database/{report.database_id}/metadata")


def test_a_card_naming_a_missing_column_fails_before_any_request(sim, dashboards, manifest):
    executive = next(d for d in dashboards if d.name == "Executive")
    bad = dataclasses.replace(
        executive.cards[0], sql=executive.cards[0].sql.replace("revenue_home)", "no_such_col)")
    )
    broken = [dataclasses.replace(executive, cards=(bad, *executive.cards[1:]))]
    with pytest.raises(DashboardSpecError, match="no_such_col") as caught:
        sync(sim, broken, manifest)
    assert "executive.yaml" in str(caught.value) and executive.cards[0].key in str(caught.value)
    assert sim.requests == []


def test_a_500_stops_the_sync_with_a_clear_error_and_a_rerun_completes(sim, dashboards, manifest):
    sim.fail_write(6)  # database, sync_schema, collection, then the 3rd card
    with pytest.raises(MetabaseSyncError, match=r"while creating card .*HTTP 500.*run the sync again"):
        sync(sim, dashboards, manifest)
    assert len(sim.cards) == 2
    rerun = sync(sim, dashboards, manifest)
    n_cards = sum(len(d.cards) for d in dashboards)
    assert counts(rerun)["card"] == (n_cards - 2, 0, 2, 0)
    assert counts(rerun)["database"] == (0, 0, 1, 0) and counts(rerun)["collection"] == (0, 0, 1, 0)
    assert len(sim.cards) == n_cards and len(sim.dashboards) == 4
    assert not sync(sim, dashboards, manifest).changed


def test_dry_run_writes_nothing(sim, dashboards, manifest):
    plan = sync(sim, dashboards, manifest, dry_run=True)
    assert counts(plan)["dashboard"] == (4, 0, 0, 0)
    assert [r.path for r in sim.requests if r.method != "GET"] == ["/api/session"]  # the login only
    sync(sim, dashboards, manifest)
    assert not sync(sim, dashboards, manifest, dry_run=True).changed


def test_card_differs_compares_meaning_not_the_mbql5_round_trip():
    sent = {
        "name": "A",
        "dataset_query": {
            "type": "native",
            "database": 1,
            "native": {"query": "select 1", "template-tags": {}},
        },
    }
    mbql5 = {"lib/type": "mbql/query", "database": 1,
             "stages": [{"lib/type": "mbql.stage/native", "native": "select 1", "template-tags": {}}]}  # fmt: skip
    assert card_differs(sent, {"name": "A", "id": 3, "dataset_query": mbql5}) is False
    mbql5["stages"][0]["native"] = "select 2"
    assert card_differs(sent, {"name": "A", "dataset_query": mbql5}) is True
    assert card_differs({"name": "A"}, {"name": "B"}) is True
    tag = {"name": "b", "type": "dimension", "dimension": ["field", 7, None], "widget-type": "string/="}
    sent["dataset_query"]["native"]["template-tags"] = {"b": tag}
    mbql5["stages"][0].update(
        native="select 1", **{"template-tags": {"b": {**tag, "dimension": ["field", {}, 7]}}}
    )
    assert card_differs(sent, {"name": "A", "dataset_query": mbql5}) is False
    mbql5["stages"][0]["template-tags"]["b"]["dimension"] = ["field", {}, 8]
    assert card_differs(sent, {"name": "A", "dataset_query": mbql5}) is True


def test_connection_from_url_prefers_the_bi_role_then_env_then_the_url():
    url = "postgresql://owner:secret@db.local:5433/dwh"
    assert connection_from_url(url, {}).user == "owner"
    env = {"SOLEFLIPPER_METABASE_DB_USER": "ro", "SOLEFLIPPER_METABASE_DB_PASSWORD": "x",
           "SOLEFLIPPER_METABASE_WAREHOUSE_HOST": "postgres"}  # fmt: skip
    connection = connection_from_url(url, env)
    assert (connection.host, connection.port, connection.dbname, connection.user) == (
        "postgres",
        5433,
        "dwh",
        "ro",
    )
    assert connection_from_url(url, env, ("soleflipper_bi", "pw")).user == "soleflipper_bi"
    assert "secret" not in repr(connection_from_url(url, {}))


def test_dbt_exposures_list_the_yaml_dashboards_and_the_views_they_read(dashboards):
    import re

    import yaml

    from soleflipper.settings import PROJECT_ROOT

    exposures = yaml.safe_load((PROJECT_ROOT / "dbt_project" / "models" / "exposures.yml").read_text())[
        "exposures"
    ]
    declared = {
        e["label"]: (
            e["config"]["meta"]["dashboard_yaml"],
            sorted(re.findall(r"ref\('(\w+)'\)", " ".join(e["depends_on"]))),
        )
        for e in exposures
    }
    read = {
        d.name: (
            f"bi/metabase/dashboards/{d.source_file.name}",
            sorted({m for c in d.cards for m in re.findall(r"analytics\.(mv_\w+)", c.sql)}),
        )
        for d in dashboards
    }
    assert declared == read


def test_metabase_connection_uses_the_bi_role_unless_a_user_is_set(tmp_path):
    from soleflipper.bi.metabase_sync import metabase_connection
    from soleflipper.settings import Settings

    settings = Settings(home=tmp_path, database_url="postgresql://owner:secret@db.local:5433/dwh")
    role = metabase_connection(settings, {"SOLEFLIPPER_BI_PASSWORD": "bi-secret"})
    assert (role.host, role.port, role.dbname, role.user, role.password) == (
        "db.local",
        5433,
        "dwh",
        "soleflipper_bi",
        "bi-secret",
    )
    own = metabase_connection(
        settings, {"SOLEFLIPPER_METABASE_DB_USER": "ro", "SOLEFLIPPER_METABASE_DB_PASSWORD": "p"}
    )
    assert (own.user, own.password) == ("ro", "p")


def test_cli_sync_prints_the_counts_and_fails_without_configuration(sim, monkeypatch, capsys):
    from pipelines.cli import main

    monkeypatch.setenv("SOLEFLIPPER_METABASE_URL", sim.base_url)
    monkeypatch.setenv("SOLEFLIPPER_METABASE_USER", DEMO_ADMIN[0])
    monkeypatch.setenv("SOLEFLIPPER_METABASE_PASSWORD", DEMO_ADMIN[1])
    monkeypatch.setenv("SOLEFLIPPER_METABASE_DB_USER", "bi")
    monkeypatch.setenv("SOLEFLIPPER_METABASE_DB_PASSWORD", "pw")
    monkeypatch.delenv("SOLEFLIPPER_METABASE_API_KEY", raising=False)
    sim.sync_delay = 0.0
    assert main(["metabase", "sync"]) == 0
    first = capsys.readouterr().out
    assert main(["metabase", "plan"]) == 0
    plan = capsys.readouterr().out
    lines = {
        line.split()[0]: line.split()[1:]
        for line in first.splitlines()
        if line.split()[:1] in (["card"], ["dashboard"])
    }
    n_cards = len(sim.cards)
    assert lines == {"card": [str(n_cards), "0", "0", "0"], "dashboard": ["4", "0", "0", "0"]}
    assert f"Executive: {sim.base_url}/dashboard/" in first and "Changed Metabase." in first
    assert "Nothing to change." in plan and "(nothing written)" in plan
    monkeypatch.delenv("SOLEFLIPPER_METABASE_PASSWORD")
    assert main(["metabase", "sync"]) == 1
    assert "Metabase is not configured" in capsys.readouterr().err


def test_the_asset_syncs_and_reports_counts_and_links(sim, monkeypatch):
    import dagster as dg

    from assets.bi_metabase import KEY, metabase_dashboards
    from resources.metabase import MetabaseResource
    from resources.warehouse import WarehouseResource

    monkeypatch.setenv("SOLEFLIPPER_METABASE_DB_USER", "bi")
    monkeypatch.setenv("SOLEFLIPPER_METABASE_DB_PASSWORD", "pw")
    sim.sync_delay = 0.0
    resources = {
        "metabase": MetabaseResource(url=sim.base_url, username=DEMO_ADMIN[0], password=DEMO_ADMIN[1]),
        "warehouse": WarehouseResource(database_url="postgresql://owner@127.0.0.1:5432/dwh"),
    }
    result = dg.materialize([metabase_dashboards], resources=resources)
    metadata = result.asset_materializations_for_node(metabase_dashboards.node_def.name)[0].metadata
    assert result.success and metabase_dashboards.key == KEY
    assert (metadata["dashboards_created"].value, metadata["cards_created"].value) == (4, len(sim.cards))
    assert metadata["changed"].value is True
    assert set(metadata["dashboard_urls"].data) == EXPECTED_DASHBOARDS
    assert sim.databases[1].body["details"]["user"] == "bi"
    assert sim.databases[1].body["details"]["dbname"] == "dwh"
