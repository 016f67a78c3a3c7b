"""`demo_services`: the local StockX that `make run` / `make dev` start when no StockX account is set."""

from __future__ import annotations

import itertools
import os
import socket
import stat

import httpx
import pytest

from pipelines.demo import (
    DEMO_REQUESTS_PER_SECOND,
    DemoError,
    demo_services,
    forget_demo,
    key_file,
    remember_demo,
    remembered_demo,
)
from resources.stockx import StockXSettings
from resources.stockx.client import PROVIDER
from resources.token_store import TokenStore, new_key
from simulators.stockx import DEMO_API_KEY
from soleflipper.demo_data import generate_sales
from soleflipper.settings import Settings

STOCKX_VARIABLES = (
    "SOLEFLIPPER_STOCKX_API_KEY", "SOLEFLIPPER_STOCKX_BASE_URL", "SOLEFLIPPER_STOCKX_AUTH_URL",
    "SOLEFLIPPER_STOCKX_CLIENT_ID", "SOLEFLIPPER_STOCKX_CLIENT_SECRET", "SOLEFLIPPER_STOCKX_REDIRECT_URI",
    "SOLEFLIPPER_STOCKX_REQUESTS_PER_SECOND", "SOLEFLIPPER_FERNET_KEY", "SOLEFLIPPER_STOCKX_SIMULATOR_PORT",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in STOCKX_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SOLEFLIPPER_STOCKX_SIMULATOR_PORT", "0")  # never the user's 8787


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


def test_with_an_api_key_nothing_is_started_or_exported(settings, monkeypatch):
    monkeypatch.setenv("SOLEFLIPPER_STOCKX_API_KEY", "a-real-key")
    with demo_services(settings) as services:
        assert not services.active and "is set" in services.note
        assert "SOLEFLIPPER_STOCKX_BASE_URL" not in os.environ
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
