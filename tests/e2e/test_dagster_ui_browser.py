"""The Dagster UI in headless Chromium, on the demo as `make run` leaves it.

The module uses the session's CLI demo (`soleflipper run --sales 300` on fresh warehouse and Dagster
databases with its own SOLEFLIPPER_HOME: the `cli` and `first_run` fixtures of tests/conftest.py,
which the CLI tests build on too), serves that instance with dagster-webserver as `make dev` would (same
DAGSTER_HOME, workspace.yaml and demo simulators; no daemon, so no sensor starts a run while the
test looks; tests/dagster_ui.py), then reads what the browser shows:

* the global asset graph shows every asset group (and nothing else);
* the stockx group's graph shows its assets, materialized, with their check counts;
* the catalog shows every asset of the code location in its group, materialized;
* the Runs page shows every run of the instance as "Success";

each cross-checked with the webserver's GraphQL API. Screenshots of the graphs go to
$PYTEST_ARTIFACTS (default: test-artifacts/ in the checkout, git-ignored) and must not be blank.
Chromium is Debian's (`make test` installs it as root when missing: the `browser` target); without
it the module is skipped, saying so.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from dagster_ui import (
    WINDOW,
    Webserver,
    chromium_dump_dom,
    chromium_screenshot,
    find_chromium,
    png_colours,
)

from soleflipper.settings import PROJECT_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]

LOCATION = "soleflipper"
# Every asset group of the demo's code location (file imports, the StockX and Notion API sources
# the demo simulates, the Budibase entry tables, the dbt layers, forecasting and pricing, and bi:
# the Metabase dashboards the demo provisions on its Metabase simulator).
GROUPS = {
    "alias", "analytics", "bi", "budibase", "core", "ebay", "finance", "forecasting", "market", "notion", "pricing", "products",
    "sheets", "staging", "stockx", "transactions",
}  # fmt: skip
# Daily-partitioned (the StockX API's orders and market data).
PARTITIONED = {"raw/stockx_orders", "raw/stockx_market_data"}
STOCKX_GROUP = {"stockx_market_data", "stockx_orders", "stockx_products", "stockx_sales_report", "stockx_variants"}
# Assets the demo is about, which the catalog must list in these groups.
KEY_ASSETS = {
    "raw/stockx_sales_report": "stockx", "raw/stockx_activity_sales": "market", "raw/ecb_fx_rates": "core",
    "raw/sheets_purchases": "sheets", "raw/notion_purchases": "notion", "staging/stg_stockx__sales_report": "staging",
    "transactions/fct_sales": "transactions", "finance/fct_unit_economics": "finance",
    "analytics/mv_executive_metrics": "analytics", "analytics/demand_forecasts": "forecasting",
    "analytics/pricing_recommendations": "pricing", "products/dim_products": "products",
}  # fmt: skip
# The run status labels of the Runs page (DagsterRunStatus as the UI writes it).
RUN_STATUS_LABELS = {"Success", "Failure", "Canceled", "Canceling", "Started", "Starting", "Queued", "Not started",
                     "Managed"}


# --------------------------------------------------------------------------- reading the DOM


class _Texts(HTMLParser):
    """The text nodes of a page in document order, each with whether it is inside an <svg>
    (the graph); scripts and styles left out."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[tuple[str, bool]] = []
        self._svg = self._skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._svg += tag == "svg"
        self._skip += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._svg -= tag == "svg"
        self._skip -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.texts.append((data.strip(), self._svg > 0))


def texts(html: str, in_graph: bool | None = None) -> list[str]:
    parser = _Texts()
    parser.feed(html)
    return [text for text, svg in parser.texts if in_graph is None or svg == in_graph]


def rows_starting_at(tokens: list[str], starts: set[str]) -> dict[str, list[str]]:
    """Split page text into rows: a row starts at a token in `starts` (a repeated start token
    stays in the same row) and runs to the next row's start."""
    rows: dict[str, list[str]] = {}
    current: str | None = None
    for token in tokens:
        if token in starts and token != current:
            current = token
            assert current not in rows, f"{current!r} is shown twice"
            rows[current] = []
        if current is not None:
            rows[current].append(token)
    return rows


def graph_cards(tokens: list[str]) -> dict[str, list[str]]:
    """Asset cards of a group's graph: an asset's own node starts with its name and 'Latest event'
    (neighbours from other groups are bare names)."""
    names = {tokens[i] for i in range(len(tokens) - 1) if tokens[i + 1] == "Latest event"}
    return rows_starting_at(tokens, names)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def chromium() -> str:
    path = find_chromium()
    if path is None:
        pytest.skip("no chromium binary on PATH (`make test` installs Debian's chromium when run as root with apt-get)")
    return path


@pytest.fixture(scope="module")
def artifacts() -> Path:
    folder = Path(os.environ.get("PYTEST_ARTIFACTS") or PROJECT_ROOT / "test-artifacts") / "dagster_ui"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class Demo:
    env: dict[str, str]  # what `make dev` would have: the databases and home of this demo
    run: subprocess.CompletedProcess  # `soleflipper run`


@pytest.fixture(scope="module")
def demo(chromium: str, cli, first_run) -> Demo:
    """The session's CLI demo (`soleflipper run --sales 300` on fresh databases, tests/conftest.py),
    whatever its outcome: a failed run must show in the UI (test_demo_run_succeeded says so first,
    with the run's output). The CLI tests may have added runs of their own by now (a second
    `run`, imports): every one of them must have succeeded too."""
    return Demo(cli.env, first_run)


@dataclass
class Ui:
    server: Webserver
    showed_nux: bool  # shouldShowNux as the webserver answered it

    def url(self, path: str) -> str:
        return self.server.url + path

    def graphql(self, query: str) -> dict[str, Any]:
        return self.server.graphql(query)


@pytest.fixture(scope="module")
def ui(demo: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    log = tmp_path_factory.mktemp("dagster_webserver") / "webserver.log"
    server = Webserver(demo.env, log, PROJECT_ROOT)
    print(f"\nDagster webserver on {server.url} (log: {log})")
    try:
        server.wait_until_up(300)
        showed_nux = server.graphql("{ shouldShowNux }")["shouldShowNux"]
        # No setNuxSeen: dagster.yaml turns the first-run pop-up off (asserted below), and the mutation
        # would write .nux/nux.yaml into DAGSTER_HOME, which is the checkout.
        location = server.graphql(WORKSPACE_QUERY)["workspaceOrError"]["locationEntries"]
        assert [(e["name"], e["loadStatus"], e["locationOrLoadError"]["__typename"]) for e in location] == [
            (LOCATION, "LOADED", "RepositoryLocation")], (location, server.log_tail())
        yield Ui(server, showed_nux)
    finally:
        server.stop()


WORKSPACE_QUERY = """{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
  locationOrLoadError { __typename ... on PythonError { message }
    ... on RepositoryLocation { repositories { name assetGroups { groupName } } } } } } } }"""
ASSETS_QUERY = """{ assetNodes { assetKey { path } groupName isPartitioned
  assetMaterializations(limit: 1) { runId }
  assetChecksOrError { __typename ... on AssetChecks { checks { name executionForLatestMaterialization { status } } } }
} }"""
RUNS_QUERY = "{ runsOrError { __typename ... on Runs { results { runId jobName status } } } }"


@pytest.fixture(scope="module")
def gql_assets(ui: Ui) -> dict[str, dict[str, Any]]:
    """'a/b' -> the asset node, as GraphQL reports it."""
    nodes = ui.graphql(ASSETS_QUERY)["assetNodes"]
    return {"/".join(n["assetKey"]["path"]): n for n in nodes}


@pytest.fixture(scope="module")
def gql_runs(ui: Ui) -> list[dict[str, Any]]:
    runs = ui.graphql(RUNS_QUERY)["runsOrError"]
    assert runs["__typename"] == "Runs", runs
    return runs["results"]


def _screenshot(chromium: str, ui: Ui, path: str, target: Path, tmp_path: Path) -> None:
    chromium_screenshot(chromium, tmp_path / "profile", ui.url(path), target)
    size, colours = png_colours(target)
    print(f"screenshot of {path}: {target}")
    assert size == WINDOW
    # A blank capture is one colour; the graph has text, edges and coloured tags.
    assert colours >= 100, f"{target} looks blank: {colours} colour(s)"


# --------------------------------------------------------------------------- tests


def test_demo_run_succeeded(demo):
    assert demo.run.returncode == 0, demo.run.stdout[-3000:] + demo.run.stderr[-3000:]


def test_graphql_reports_the_demo_groups_assets_and_only_successful_runs(ui, gql_assets, gql_runs):
    assert ui.showed_nux is False  # dagster.yaml: nux.enabled false
    [repository] = ui.graphql(WORKSPACE_QUERY)["workspaceOrError"]["locationEntries"][0][
        "locationOrLoadError"]["repositories"]
    assert {g["groupName"] for g in repository["assetGroups"]} == GROUPS
    assert {node["groupName"] for node in gql_assets.values()} == GROUPS
    assert {key: gql_assets[key]["groupName"] for key in KEY_ASSETS} == KEY_ASSETS
    assert {key.split("/")[-1] for key, n in gql_assets.items() if n["groupName"] == "stockx"} == STOCKX_GROUP
    # `soleflipper run` is a run of refresh_everything (the CLI tests may add another and the
    # imports' downstream builds); every run succeeded.
    assert {r["jobName"] for r in gql_runs} <= {"refresh_everything", "cli_build_downstream"}
    assert "refresh_everything" in {r["jobName"] for r in gql_runs}
    assert {r["status"] for r in gql_runs} == {"SUCCESS"}
    # Every asset has a latest materialization, from one of those runs.
    run_ids = {r["runId"] for r in gql_runs}
    assert {key: len(n["assetMaterializations"]) for key, n in gql_assets.items()} == dict.fromkeys(gql_assets, 1)
    assert {n["assetMaterializations"][0]["runId"] for n in gql_assets.values()} <= run_ids


def test_asset_graph_shows_every_group(chromium, ui, gql_assets, artifacts, tmp_path):
    html = chromium_dump_dom(chromium, tmp_path / "profile", ui.url("/asset-groups"))
    in_graph = texts(html, in_graph=True)
    assert sorted(in_graph) == sorted(GROUPS), texts(html)
    assert set(in_graph) == {n["groupName"] for n in gql_assets.values()}
    assert "Global asset lineage" in texts(html, in_graph=False)
    _screenshot(chromium, ui, "/asset-groups", artifacts / "asset_graph.png", tmp_path)


def test_stockx_group_graph_shows_its_assets_materialized_and_their_checks(
        chromium, ui, gql_assets, artifacts, tmp_path):
    path = f"/locations/{LOCATION}/asset-groups/stockx"
    cards = graph_cards(texts(chromium_dump_dom(chromium, tmp_path / "profile", ui.url(path)), in_graph=True))
    assert set(cards) == STOCKX_GROUP
    stockx = {key.split("/")[-1]: node for key, node in gql_assets.items() if node["groupName"] == "stockx"}
    assert set(cards) == set(stockx)
    for name, card in cards.items():
        checks = stockx[name]["assetChecksOrError"]
        assert checks["__typename"] == "AssetChecks", checks
        # The card counts the asset's checks as GraphQL does ("n / n Passed" when all passed).
        statuses = [(c["executionForLatestMaterialization"] or {}).get("status") for c in checks["checks"]]
        n = len(statuses)
        counts = [t for t in card if re.fullmatch(rf"\d+ / {n} \w+", t)]
        assert counts == ([f"{n} / {n} Passed"] if set(statuses) == {"SUCCEEDED"} else counts[:1]) != [], (
            name, card, checks)
        if not stockx[name]["isPartitioned"]:
            assert "Materialized" in card, (name, card)
    _screenshot(chromium, ui, path, artifacts / "asset_graph_stockx.png", tmp_path)


def test_catalog_lists_every_asset_in_its_group_materialized(chromium, ui, gql_assets, tmp_path):
    labels = {key.replace("/", " / "): key for key in gql_assets}
    # The list is virtualized: a window tall enough for every row.
    html = chromium_dump_dom(chromium, tmp_path / "profile", ui.url("/assets"), height=600 + 80 * len(labels))
    rows = rows_starting_at(texts(html), set(labels))
    assert set(rows) == set(labels), f"catalog rows missing: {sorted(set(labels) - set(rows))}"
    groups, statuses = {}, {}
    for label, row in rows.items():
        last = len(row) - 1 - row[::-1].index(LOCATION)  # ..., location, location, group, status, ...
        groups[labels[label]], statuses[labels[label]] = row[last + 1], row[last + 2]
    assert groups == {key: node["groupName"] for key, node in gql_assets.items()}
    assert {key: groups[key] for key in KEY_ASSETS} == KEY_ASSETS
    # Every asset shows "Materialized" but the two partitioned ones, which show partition counts.
    partitioned = {key for key, node in gql_assets.items() if node["isPartitioned"]}
    assert partitioned == PARTITIONED
    assert {key: status for key, status in statuses.items() if key not in partitioned} == dict.fromkeys(
        set(gql_assets) - partitioned, "Materialized")


def test_runs_page_shows_the_latest_runs_succeeded(chromium, ui, gql_runs, tmp_path):
    tokens = texts(chromium_dump_dom(chromium, tmp_path / "profile", ui.url("/runs")))
    assert "Queued (0)" in tokens and "In progress (0)" in tokens, tokens
    short_ids = {run["runId"][:8]: run for run in gql_runs}
    rows = rows_starting_at(tokens, set(short_ids))
    assert set(rows) == set(short_ids), tokens
    for short_id, row in rows.items():
        row = row[: row.index("View")] if "View" in row else row
        run = short_ids[short_id]
        assert [t for t in row if t in RUN_STATUS_LABELS] == ["Success"], row
        assert run["jobName"] in row and run["status"] == "SUCCESS", (run, row)
