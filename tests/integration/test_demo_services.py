"""`demo_services`: the local StockX and Notion that `make run` / `make dev` start when no account is set."""

from __future__ import annotations

import itertools
import os
import socket
import stat
from collections import Counter
from decimal import Decimal

import httpx
import pytest

from assets.notion import notion_enabled, notion_resource_from_env
from pipelines.demo import (
    DEMO_PRICING_RULES,
    DEMO_REQUESTS_PER_SECOND,
    DemoError,
    demo_services,
    forget_demo,
    key_file,
    remember_demo,
    remembered_demo,
)
from resources.notion import NotionClient
from resources.stockx import StockXSettings
from resources.stockx.client import PROVIDER
from resources.token_store import TokenStore, new_key
from simulators.notion import DEFAULT_TOKEN as NOTION_DEMO_TOKEN
from simulators.stockx import DEMO_API_KEY
from soleflipper.demo_data import generate_purchases, generate_sales, split_purchases
from soleflipper.notion_mappings import load_mapping
from soleflipper.settings import Settings

STOCKX_VARIABLES = (
    "SOLEFLIPPER_STOCKX_API_KEY", "SOLEFLIPPER_STOCKX_BASE_URL", "SOLEFLIPPER_STOCKX_AUTH_URL",
    "SOLEFLIPPER_STOCKX_CLIENT_ID", "SOLEFLIPPER_STOCKX_CLIENT_SECRET", "SOLEFLIPPER_STOCKX_REDIRECT_URI",
    "SOLEFLIPPER_STOCKX_REQUESTS_PER_SECOND", "SOLEFLIPPER_FERNET_KEY", "SOLEFLIPPER_STOCKX_SIMULATOR_PORT",
)
NOTION_VARIABLES = (
    "SOLEFLIPPER_NOTION_TOKEN", "SOLEFLIPPER_NOTION_BASE_URL", "SOLEFLIPPER_NOTION_MAPPING",
    "SOLEFLIPPER_NOTION_PURCHASES_DATABASE_ID", "SOLEFLIPPER_NOTION_PURCHASES_DATA_SOURCE_ID",
    "SOLEFLIPPER_NOTION_SALES_DATABASE_ID", "SOLEFLIPPER_NOTION_SALES_DATA_SOURCE_ID",
    "SOLEFLIPPER_NOTION_SIMULATOR_PORT",
)
EXPORTED_NOTION_IDS = {
    "SOLEFLIPPER_NOTION_PURCHASES_DATABASE_ID": "1f3c2a4e-8b7d-4c21-9e5a-3d6f7a8b9c01",
    "SOLEFLIPPER_NOTION_PURCHASES_DATA_SOURCE_ID": "2a4d3b5f-9c8e-4d32-8f6b-4e7a8b9cad02",
    "SOLEFLIPPER_NOTION_SALES_DATABASE_ID": "3b5e4c6a-ad9f-4e43-9a7c-5f8b9cadbe03",
    "SOLEFLIPPER_NOTION_SALES_DATA_SOURCE_ID": "4c6f5d7b-beaa-4f54-8b8d-6a9cadbecf04",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in STOCKX_VARIABLES + NOTION_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SOLEFLIPPER_STOCKX_SIMULATOR_PORT", "0")  # never the user's 8787
    monkeypatch.setenv("SOLEFLIPPER_NOTION_SIMULATOR_PORT", "0")  # nor 8788


@pytest.fixture
def settings(tmp_path, database_url) -> Settings:
    return Settings(home=tmp_path / "home", database_url=database_url)


def token_calls(sim) -> list:
    return [r for r in sim.requests if r.path == "/oauth/token"]


def fetch_catalog_page(database_url: str, query: str = "Jordan") -> list[dict]:
    """What an asset does: a client configured only by the exported environment."""
    with StockXSettings.from_env().client(database_url) as client:
        return list(itertools.islice(client.search_catalog(query, page_size=5), 5))


def test_starts_signs_in_and_a_client_from_the_environment_works_then_a_second_run_reuses_everything(
        settings, database_url):
    with demo_services(settings, n_sales=40, seed=3) as services:
        sim = services.simulator
        assert services.active and services.signed_in
        assert os.environ["SOLEFLIPPER_STOCKX_BASE_URL"] == services.stockx_api_url == sim.api_base_url
        assert os.environ["SOLEFLIPPER_STOCKX_API_KEY"] == DEMO_API_KEY
        assert os.environ["SOLEFLIPPER_STOCKX_REQUESTS_PER_SECOND"] == f"{DEMO_REQUESTS_PER_SECOND:g}"
        assert (sim.seed, sim.n_sales, sim.rate_limit, sim.requests_per_second) == (3, 40, True, 20.0)
        assert os.environ["SOLEFLIPPER_PRICING_AS_OF"] == "2024-12-30"  # the day after the demo data ends
        assert os.environ["SOLEFLIPPER_PRICING_RULES"] == str(DEMO_PRICING_RULES)  # StockX and Alias
        completed = {o["orderNumber"] for o in sim.world.orders if o["status"] == "COMPLETED"}
        assert completed == {row["Order Number"] for row in generate_sales(40, seed=3)}  # = the demo report
        products = fetch_catalog_page(database_url)
        assert products and all("productId" in p for p in products)
        [exchange] = token_calls(sim)
        assert exchange.form()["grant_type"] == "authorization_code"
        key = os.environ["SOLEFLIPPER_FERNET_KEY"]
        search_url = sim.url("/v2/catalog/search")
    path = key_file(settings)
    assert path == settings.home / "secrets" / "fernet.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == key
    assert "SOLEFLIPPER_STOCKX_API_KEY" not in os.environ and "SOLEFLIPPER_FERNET_KEY" not in os.environ
    assert "SOLEFLIPPER_PRICING_RULES" not in os.environ and "SOLEFLIPPER_PRICING_AS_OF" not in os.environ
    with pytest.raises(httpx.ConnectError):  # stopped on exit
        httpx.get(search_url, timeout=2)
    stored = TokenStore(database_url, key).load(PROVIDER)

    with demo_services(settings, n_sales=40, seed=3) as again:
        assert again.active and not again.signed_in
        assert again.simulator is not sim
        assert os.environ["SOLEFLIPPER_FERNET_KEY"] == key  # the same key file
        assert fetch_catalog_page(database_url) == products
        assert token_calls(again.simulator) == []  # no code exchange, no refresh: the stored token works
    assert TokenStore(database_url, key).load(PROVIDER) == stored


def test_a_taken_port_moves_the_simulator_to_a_free_one(settings, monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("SOLEFLIPPER_STOCKX_SIMULATOR_PORT", str(port))
        with demo_services(settings, n_sales=10, seed=1) as services:
            assert services.simulator.port not in (0, port)
            assert services.stockx_api_url == f"http://127.0.0.1:{services.simulator.port}/v2"


def test_with_an_api_key_no_stockx_simulator_is_started_or_exported(settings, monkeypatch):
    monkeypatch.setenv("SOLEFLIPPER_STOCKX_API_KEY", "a-real-key")
    with demo_services(settings, n_sales=10, seed=1) as services:
        assert not services.active and "is set" in services.note
        assert "SOLEFLIPPER_STOCKX_BASE_URL" not in os.environ
        assert services.notion_active  # Notion is set up on its own
    assert not key_file(settings).exists()


def test_tokens_of_the_real_stockx_are_never_replaced(settings, database_url):
    key = new_key()
    settings.home.joinpath("secrets").mkdir(parents=True)
    key_file(settings).write_text(key)
    real = {"access_token": "opaque-real-token", "refresh_token": "v1.real", "expires_at": 4102444800}
    TokenStore(database_url, key).save(PROVIDER, real)
    with demo_services(settings, n_sales=10, seed=1) as services:
        assert not services.active and "real StockX" in services.note
    assert TokenStore(database_url, key).load(PROVIDER) == real


def test_tokens_that_the_key_cannot_decrypt_stop_the_demo_with_a_clear_message(settings, database_url):
    TokenStore(database_url, new_key()).save(PROVIDER, {"access_token": "x"})
    with pytest.raises(DemoError, match="cannot be decrypted"), demo_services(settings, n_sales=10, seed=1):
        pass
    assert not any(name in os.environ for name in ("SOLEFLIPPER_NOTION_TOKEN", "SOLEFLIPPER_NOTION_BASE_URL",
                                                    *EXPORTED_NOTION_IDS))  # Notion stopped too


# -- Notion ---------------------------------------------------------------------------------------


def _plain(prop: dict) -> str | None:
    return "".join(item["plain_text"] for item in prop[prop["type"]]) or None


def _select(prop: dict) -> str | None:
    return prop["select"]["name"] if prop["select"] else None


def read_database(name: str) -> list[dict]:
    """What the Notion asset does: the mapping and a client configured only by the environment."""
    target = load_mapping().databases[name]
    client = NotionClient(os.environ["SOLEFLIPPER_NOTION_TOKEN"], base_url=os.environ["SOLEFLIPPER_NOTION_BASE_URL"],
                          timeout=10.0)  # fmt: skip
    with client:
        return [page for batch in client.query(target, full_refresh=True) for page in batch.pages]


def test_the_notion_simulator_serves_exactly_the_notion_share_of_the_demo_purchases(settings, monkeypatch):
    monkeypatch.setenv("SOLEFLIPPER_NOTION_SALES_DATABASE_ID", "a-users-own-database")
    with demo_services(settings, n_sales=60, seed=3) as services:
        sim = services.notion_simulator
        assert services.notion_active and services.active and services.notion_note == ""
        assert services.notion_api_url == sim.url("/v1") == os.environ["SOLEFLIPPER_NOTION_BASE_URL"]
        assert os.environ["SOLEFLIPPER_NOTION_TOKEN"] == NOTION_DEMO_TOKEN
        assert {name: os.environ[name] for name in EXPORTED_NOTION_IDS} == EXPORTED_NOTION_IDS
        assert notion_enabled() and notion_resource_from_env().base_url == services.notion_api_url
        assert sim.demo == (60, 3)
        purchases, sales = read_database("purchases"), read_database("sales")
        url = sim.url("/v1/pages/" + purchases[0]["id"])
        stockx_orders = {o["orderNumber"] for o in services.simulator.world.orders if o["status"] == "COMPLETED"}

    sheet, notion = split_purchases(generate_purchases(60, seed=3))
    assert (len(sheet), len(notion), sum(p.sold for p in notion)) == (20, 45, 40)
    expected = Counter(
        (p.style_code if p.style_code != "N/A" else None, p.size if p.style_code != "N/A" else None,
         p.supplier, p.purchase_date.isoformat(), p.gross_price, p.net_price, p.vat)
        for p in notion)  # fmt: skip
    served = Counter(
        (_plain(pg["properties"]["SKU"]), _select(pg["properties"]["Size"]),
         _select(pg["properties"]["Supplier"]), pg["properties"]["Buy Date"]["date"]["start"],
         Decimal(str(pg["properties"]["Gross Buy"]["number"])).quantize(Decimal("0.01")),
         Decimal(str(pg["properties"]["Net Buy"]["number"])).quantize(Decimal("0.01")),
         pg["properties"]["VAT?"]["checkbox"])
        for pg in purchases)  # fmt: skip
    assert served == expected and len(purchases) == 45
    sale_ids = [_plain(pg["properties"]["Sale ID"]) for pg in sales]
    assert sorted(sale_ids) == sorted(p.sale_order_number for p in notion if p.sold)
    assert set(sale_ids) <= stockx_orders  # the StockX orders they enrich: none is a second sale
    assert not set(sale_ids) & {p.sale_order_number for p in sheet}
    assert all(len(pg["properties"]["Purchase"]["relation"]) == 1 for pg in sales)

    assert os.environ["SOLEFLIPPER_NOTION_SALES_DATABASE_ID"] == "a-users-own-database"  # restored
    assert not any(name in os.environ for name in ("SOLEFLIPPER_NOTION_TOKEN", "SOLEFLIPPER_NOTION_BASE_URL",
                                                    "SOLEFLIPPER_NOTION_PURCHASES_DATABASE_ID"))
    assert not notion_enabled()
    with pytest.raises(httpx.ConnectError):  # stopped on exit
        httpx.get(url, timeout=2)


def test_with_a_notion_token_no_notion_simulator_is_started(settings, monkeypatch):
    monkeypatch.setenv("SOLEFLIPPER_NOTION_TOKEN", "ntn_a_real_integration")
    with demo_services(settings, n_sales=10, seed=1) as services:
        assert not services.notion_active and services.notion_api_url is None
        assert "SOLEFLIPPER_NOTION_TOKEN is set" in services.notion_note
        assert services.active  # StockX is still simulated
        assert os.environ["SOLEFLIPPER_NOTION_TOKEN"] == "ntn_a_real_integration"
        assert "SOLEFLIPPER_NOTION_BASE_URL" not in os.environ
        assert not any(name in os.environ for name in EXPORTED_NOTION_IDS)


def test_a_taken_notion_port_moves_the_notion_simulator_to_a_free_one(settings, monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("SOLEFLIPPER_NOTION_SIMULATOR_PORT", str(port))
        with demo_services(settings, n_sales=10, seed=1) as services:
            assert services.notion_simulator.port not in (0, port)
            assert services.notion_api_url == f"http://127.0.0.1:{services.notion_simulator.port}/v1"


def test_the_demo_marker_remembers_sales_and_seed_for_dev(tmp_path):
    settings = Settings(home=tmp_path / "home")
    assert remembered_demo(settings) is None
    remember_demo(settings, n_sales=2000, seed=7)
    assert remembered_demo(settings) == (2000, 7)
    remember_demo(settings, n_sales=500, seed=3)
    assert remembered_demo(settings) == (500, 3)
    forget_demo(settings)
    forget_demo(settings)  # idempotent
    assert remembered_demo(settings) is None
