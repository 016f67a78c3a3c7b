"""An API failure with credentials in play never carries them: the whole traceback of the error
(every chained exception, as Dagster records a failed step) holds no token, key or secret.

The client tests check str/repr of their errors; this checks what is printed when nobody catches
them, for each client that holds a secret: a refused sign-in or refresh (401), and a wrong token.
"""

from __future__ import annotations

import random
import traceback
from datetime import UTC, datetime

import pytest

from resources.alias import AliasAuthError, AliasClient
from resources.api_budget import DailyBudget
from resources.ebay import EbayClient
from resources.http_client import AuthError
from resources.notion import NotionClient
from resources.stockx import StockXClient
from resources.token_store import TokenStore, new_key
from simulators import ebay, stockx
from simulators.alias import AliasSimulator
from simulators.notion import NotionSimulator


def _printed(exc: BaseException) -> str:
    """What an uncaught exception prints, plus its attributes (the body an API error keeps)."""
    return "".join(traceback.format_exception(exc)) + repr(vars(exc))


def test_a_refused_stockx_refresh_prints_no_secret(database_url):
    key = new_key()
    with stockx.StockXSimulator(rate_limit=False) as sim:
        client = StockXClient(api_key=stockx.DEMO_API_KEY, client_id=stockx.DEMO_CLIENT_ID,
                              client_secret=stockx.DEMO_CLIENT_SECRET, redirect_uri=stockx.DEMO_REDIRECT_URI,
                              base_url=sim.api_base_url, auth_url=sim.auth_url,
                              token_store=TokenStore(database_url, key), requests_per_second=None,
                              budget=DailyBudget(database_url, "stockx", 1000, clock=sim.clock.now),
                              sleep=lambda s: None, clock=sim.clock.now, rng=random.Random(7), timeout=5.0)
        client.exchange_code(sim.issue_code())
        tokens = TokenStore(database_url, key).load("stockx")
        sim.revoke_refresh_tokens()
        sim.expire_tokens()
        with pytest.raises(AuthError) as caught:
            client.get_product(sim.world.orders[0]["product"]["productId"])  # 401, then a refused refresh
    printed = _printed(caught.value)
    assert caught.value.status == 403 and "StockX rejected the stored refresh token" in printed
    secrets = [tokens["access_token"], tokens["refresh_token"], stockx.DEMO_CLIENT_SECRET, stockx.DEMO_API_KEY, key]
    assert [s for s in secrets if s in printed] == []


def test_a_refused_ebay_refresh_prints_no_secret(database_url):
    key = new_key()
    with ebay.EbaySimulator() as sim:
        sim.clock.set(datetime(2026, 2, 1, tzinfo=UTC))
        client = EbayClient(client_id=ebay.DEMO_CLIENT_ID, client_secret=ebay.DEMO_CLIENT_SECRET,
                            refresh_token=ebay.DEMO_REFRESH_TOKEN, api_url=sim.api_url,
                            finances_url=sim.finances_url, auth_url=sim.auth_url, marketplace_id="EBAY_DE",
                            token_store=TokenStore(database_url, key), clock=sim.clock.now,
                            sleep=lambda s: None, requests_per_second=None)
        with client:
            list(client.iter_orders(datetime(2030, 1, 1, tzinfo=UTC)))  # signed in
            access = TokenStore(database_url, key).load("ebay")["access_token"]
            sim.revoke_refresh_tokens()
            sim.expire_tokens()
            with pytest.raises(AuthError) as caught:
                list(client.iter_orders(datetime(2026, 1, 1, tzinfo=UTC)))  # 401, then a refused refresh
    printed = _printed(caught.value)
    assert "invalid_grant" in printed and "SOLEFLIPPER_EBAY_REFRESH_TOKEN" in printed
    secrets = [access, ebay.DEMO_REFRESH_TOKEN, ebay.DEMO_CLIENT_SECRET, key]
    assert [s for s in secrets if s in printed] == []


def test_a_wrong_alias_or_notion_token_prints_no_token():
    wrong_alias, wrong_notion = "goatapi_wrong_3f9c1a77e0", "ntn_wrong_token_8d2e4b61c5"
    with AliasSimulator(n_orders=2, n_listings=1) as alias_sim, \
            AliasClient(wrong_alias, base_url=alias_sim.url("/api/v1"), requests_per_second=None) as alias:
        with pytest.raises(AliasAuthError) as alias_error:
            alias.test()
    notion_sim = NotionSimulator(requests_per_second=None, n_purchases=2).start()
    try:
        with NotionClient(wrong_notion, base_url=notion_sim.url("/v1"), requests_per_second=None,
                          sleep=lambda s: None, timeout=5.0) as notion, pytest.raises(AuthError) as notion_error:
            notion.get_database(next(iter(notion_sim.workspace.databases.values())).database_id)
    finally:
        notion_sim.stop()
    for error, secret, variable in ((alias_error.value, wrong_alias, "SOLEFLIPPER_ALIAS_TOKEN"),
                                    (notion_error.value, wrong_notion, None)):
        printed = _printed(error)
        assert secret not in printed and "Traceback" in printed
        assert variable is None or variable in printed
