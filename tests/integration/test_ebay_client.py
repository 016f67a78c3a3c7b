"""The eBay client against the eBay simulator, with the encrypted token store in real PostgreSQL.

Nothing waits for real: backoff sleeps are recorded and token expiry runs on the simulator's
frozen clock (shared with the client's).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from resources.ebay import EbayClient
from resources.ebay.resource import EbayResource, ebay_enabled
from resources.ebay.signature import RequestSigner
from resources.http_client import ApiError, AuthError
from resources.token_store import TokenStore, new_key
from simulators.ebay import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    DEMO_RUNAME,
    ORDERS_PATH,
    TOKEN_PATH,
    TRANSACTIONS_PATH,
    EbaySimulator,
)
from simulators.ebay_data import SEED_NOW

SINCE = datetime(2026, 1, 1, tzinfo=UTC)


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(scope="module")
def sim():
    with EbaySimulator() as simulator:
        yield simulator


@pytest.fixture
def client(sim, database_url):
    sim.reset()
    sim.clock.set(SEED_NOW)
    key = new_key()
    made = EbayClient(client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, refresh_token=DEMO_REFRESH_TOKEN,
                      api_url=sim.api_url, finances_url=sim.finances_url, auth_url=sim.auth_url,
                      marketplace_id="EBAY_DE", token_store=TokenStore(database_url, key), clock=sim.clock.now,
                      sleep=Sleeps(), requests_per_second=None)
    made.fernet_key = key
    yield made
    made.close()


def _paths(sim, path):
    return [r for r in sim.requests if r.path == path]


@pytest.mark.parametrize(("limit", "pages"), [(4, 3), (5, 3), (12, 1), (200, 1)])
def test_order_pages_are_walked_once_each(sim, client, limit, pages):
    got = list(client.iter_orders(SINCE, limit=limit))
    assert [len(p) for p in got] == [limit] * (12 // limit) + ([12 % limit] if 12 % limit else [])
    calls = _paths(sim, ORDERS_PATH)
    # total a multiple of limit: the walk stops on total/next, without an empty extra page
    assert len(calls) == pages
    assert [c.arg("offset") for c in calls] == [str(i * limit) for i in range(pages)]
    assert calls[0].arg("filter") == "lastmodifieddate:[2026-01-01T00:00:00.000Z..]"
    assert len({o["orderId"] for p in got for o in p}) == 12


def test_empty_result_is_one_request_and_no_pages(sim, client):
    assert list(client.iter_orders(datetime(2030, 1, 1, tzinfo=UTC))) == []
    assert len(_paths(sim, ORDERS_PATH)) == 1


def test_limit_above_200_is_refused_before_sending_and_the_server_would_say_400(sim, client):
    with pytest.raises(ValueError, match="1 to 200"):
        list(client.iter_orders(SINCE, limit=201))
    with pytest.raises(ApiError) as caught:
        client.get_json(ORDERS_PATH, params={"limit": 201})
    assert caught.value.status == 400 and "errorId 30800" in str(caught.value)


def test_tokens_are_stored_encrypted_and_reused(sim, client, database_url):
    list(client.iter_orders(SINCE))
    with psycopg.connect(database_url) as conn:
        cipher = bytes(conn.execute("select ciphertext from ops.api_credentials where provider = 'ebay'").fetchone()[0])
    stored = TokenStore(database_url, client.fernet_key).load("ebay")
    assert stored["access_token"].encode() not in cipher and DEMO_REFRESH_TOKEN.encode() not in cipher
    assert stored["expires_at"] == SEED_NOW.timestamp() + 7200
    list(client.iter_orders(SINCE))
    assert len(_paths(sim, TOKEN_PATH)) == 1 and client.refreshes == 1
    sim.clock.advance(7200 - 299)  # under 5 minutes left: refreshed before the call
    list(client.iter_orders(SINCE))
    assert len(_paths(sim, TOKEN_PATH)) == 2
    assert not any(r.headers.get("Authorization", "").startswith("Bearer") and r.path == TOKEN_PATH
                   for r in sim.requests)


def test_expired_token_mid_walk_is_refreshed_once(sim, client):
    list(client.iter_orders(datetime(2030, 1, 1, tzinfo=UTC)))  # signed in
    sim.after_request(ORDERS_PATH, 1, sim.expire_tokens)
    got = [o for p in client.iter_orders(SINCE, limit=5) for o in p]
    assert len(got) == 12
    # sign-in + empty walk; then page 1, page 2 refused (401), one refresh, page 2 re-sent, page 3
    assert [r.path for r in sim.requests] == [TOKEN_PATH, ORDERS_PATH, ORDERS_PATH, ORDERS_PATH, TOKEN_PATH,
                                              ORDERS_PATH, ORDERS_PATH]
    assert [r.arg("offset") for r in _paths(sim, ORDERS_PATH)] == ["0", "0", "5", "5", "10"]
    assert client.refreshes == 2 and len(_paths(sim, TOKEN_PATH)) == 2


def test_rejected_refresh_fails_clearly_without_a_loop(sim, client):
    list(client.iter_orders(datetime(2030, 1, 1, tzinfo=UTC)))
    sim.revoke_refresh_tokens()
    sim.expire_tokens()
    with pytest.raises(AuthError) as caught:
        list(client.iter_orders(SINCE))
    assert "invalid_grant" in str(caught.value) and "SOLEFLIPPER_EBAY_REFRESH_TOKEN" in str(caught.value)
    assert DEMO_REFRESH_TOKEN not in str(caught.value)
    assert len(_paths(sim, TOKEN_PATH)) == 2  # the sign-in, then one refused refresh
    assert len(_paths(sim, ORDERS_PATH)) == 2  # the sign-in check, then the one 401


def test_finances_sends_the_marketplace_header_to_its_own_host_and_204_is_empty(sim, client):
    assert list(client.iter_transactions(datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 2, 1, tzinfo=UTC))) == []
    pages = list(client.iter_transactions(SINCE, SEED_NOW, limit=4))
    assert [len(p) for p in pages] == [4, 4, 1]
    calls = _paths(sim, TRANSACTIONS_PATH)
    assert all(c.headers["X-EBAY-C-MARKETPLACE-ID"] == "EBAY_DE" for c in calls)
    assert all(c.headers["Host"].startswith("localhost:") for c in calls)
    assert calls[1].arg("filter") == "transactionDate:[2026-01-01T00:00:00.000Z..2026-11-30T12:00:00.000Z]"


def test_429_and_5xx_are_retried_with_retry_after(sim, client):
    sim.inject("status:429", times=1, path_prefix=ORDERS_PATH, retry_after=3)
    sim.inject("status:502", times=1, path_prefix=ORDERS_PATH)
    assert sum(len(p) for p in client.iter_orders(SINCE)) == 12
    assert client._sleep[0] == 3 and len(client._sleep) == 2


def test_an_exhausted_daily_quota_fails_with_ebays_message_after_bounded_retries(sim, client):
    sim.configure(daily_quota=1)
    try:
        with pytest.raises(ApiError) as caught:
            list(client.iter_orders(SINCE, limit=5))
    finally:
        sim.configure(daily_quota=15_000)
    assert caught.value.status == 429 and "errorId 2001" in str(caught.value)
    assert len(_paths(sim, ORDERS_PATH)) == 1 + client.max_attempts  # page 1, then page 2 tried 5 times
    assert len(client._sleep) == client.max_attempts - 1


def test_sign_in_by_authorization_code_stores_the_refresh_token_used_later(sim, database_url):
    sim.reset()
    sim.clock.set(SEED_NOW)
    store = TokenStore(database_url, new_key())
    options = dict(client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, api_url=sim.api_url,
                   finances_url=sim.finances_url, auth_url=sim.auth_url, token_store=store, clock=sim.clock.now,
                   sleep=Sleeps(), requests_per_second=None)
    with EbayClient(**options, redirect_uri="Another-RuName") as other:
        with pytest.raises(AuthError, match="authorization code"):
            other.exchange_code(sim.issue_code())  # redirect_uri must be the RuName of the consent
    with EbayClient(**options, redirect_uri=DEMO_RUNAME) as first:
        code = sim.issue_code()
        status = first.exchange_code(code)
        with pytest.raises(AuthError, match="authorization code"):
            first.exchange_code(code)  # single-use
    stored = store.load("ebay")
    assert stored["refresh_token"].startswith("v^1.1#i^1#r^1#sim-")
    assert stored["refresh_expires_at"] == SEED_NOW.timestamp() + 47_304_000  # 18 months
    assert status.refresh_expires_at == datetime.fromtimestamp(SEED_NOW.timestamp() + 47_304_000, UTC)
    sim.expire_tokens()
    with EbayClient(**options) as later:  # no refresh token configured: the stored one is used
        assert sum(len(p) for p in later.iter_orders(SINCE)) == 12
        assert later.refreshes == 1
    refresh = [r for r in _paths(sim, TOKEN_PATH) if r.form().get("grant_type") == "refresh_token"]
    assert [r.form()["refresh_token"] for r in refresh] == [stored["refresh_token"]]
    assert store.load("ebay")["refresh_expires_at"] == stored["refresh_expires_at"]  # kept across the refresh


def test_resource_from_env_and_enabled():
    assert ebay_enabled({"SOLEFLIPPER_EBAY_CLIENT_ID": "x"}) and not ebay_enabled({})
    resource = EbayResource.from_env("postgresql://db", {"SOLEFLIPPER_EBAY_FINANCES_URL": "http://localhost:1"})
    assert resource.finances_url == "http://localhost:1" and resource.api_url == "https://api.ebay.com"


# -- digital signatures (EU/UK sellers) ---------------------------------------------------------

# RFC 9421 Appendix B.1.4 "test-key-ed25519" (a published test key, not a secret) and the sample
# request eBay's verification service accepts (README of eBay/digital-signature-verification-ebay-api).
RFC_TEST_KEY = ("-----BEGIN PRIVATE KEY-----\n"
                "MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n"
                "-----END PRIVATE KEY-----\n")
EBAY_SAMPLE_JWE = (
    "eyJ6aXAiOiJERUYiLCJlbmMiOiJBMjU2R0NNIiwidGFnIjoiSGdLcjNSSWFlZll0Mkd4blBUUTEwUSIsImFsZyI6IkEyNTZHQ01LVyIsIml2"
    "IjoiQTVOQXFYUXlITkNIT01GVSJ9.z3JcS0vvxrYboqpySAq_Znww-3V6AllxmJP5JEMkuLY.K1f4MVMEc8ylbfSS.fASwJyMCk2tXZsNWk13I"
    "cuVgSWTOcynSdAoJrK4WApZANlxAP9J0qr0Jz_4aFldFDSZ5tfuxLGqzJmWU7CiZWwNjk2XoVy8q5ogMrFNFwFXP4SrX1XORhNLZPTyS5DEqLD"
    "PYn2NX944xendEwfcxxXsTSeNCUnmSyfitiscUC04GYOfn0UWQ2buSWx7Yod0IR2GtTGUsM9o3J-riuNDKhw.rRsWM1Sl_2stTnZLJkWVmQ")


@pytest.mark.parametrize("key_text", [RFC_TEST_KEY, RFC_TEST_KEY.splitlines()[1],
                                      "n4Ni+HpISpVObnQMW0wOhCKROaIKqKtW/2ZYb2p9KcU="])  # PEM, PKCS#8 base64, raw base64
def test_signer_reproduces_ebays_published_sample(key_text):
    headers = RequestSigner(key_text, EBAY_SAMPLE_JWE, clock=lambda: 1659651955).headers(
        "post", "/verifysignature", "localhost:8080", b'{"hello": "world"}')
    assert headers == {
        "x-ebay-signature-key": EBAY_SAMPLE_JWE,
        "Content-Digest": "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:",
        "Signature-Input": 'sig1=("content-digest" "x-ebay-signature-key" "@method" "@path" "@authority")'
                           ";created=1659651955",
        "Signature": "sig1=:uunxYrXKC8KaoupD5D1DKdmQmrOhz6b4Xbhb3o9d4x4xFIpg++XzEZztOyeOI59rMMjM3NIcFgxBH0c1ckpfBw==:",
    }


def _pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture
def eu_seller(sim):
    """The simulator as for an EU seller: signatures required and verified with the enrolled key."""
    sim.reset()
    sim.clock.set(SEED_NOW)
    private_pem, jwe = sim.enroll_signing_key()
    sim.configure(require_signature=True)
    yield private_pem, jwe
    sim.configure(require_signature=False, signature_public_key=None, signature_jwe=None)


def _client(sim, database_url, **options) -> EbayClient:
    return EbayClient(client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, refresh_token=DEMO_REFRESH_TOKEN,
                      api_url=sim.api_url, finances_url=sim.finances_url, auth_url=sim.auth_url,
                      token_store=TokenStore(database_url, new_key()), clock=sim.clock.now, sleep=Sleeps(),
                      requests_per_second=None, **options)


def test_signed_finances_requests_are_accepted_and_only_finances_is_signed(sim, eu_seller, database_url):
    private_pem, jwe = eu_seller
    with _client(sim, database_url, signing_key=private_pem, signature_key_jwe=jwe) as client:
        assert client.signs_requests
        assert [len(p) for p in client.iter_transactions(SINCE, SEED_NOW, limit=4)] == [4, 4, 1]
        assert sum(len(p) for p in client.iter_orders(SINCE)) == 12
    calls = _paths(sim, TRANSACTIONS_PATH)
    assert len(calls) == 3
    for call in calls:
        assert call.headers["x-ebay-signature-key"] == jwe
        assert call.headers["Signature-Input"] == (
            f'sig1=("x-ebay-signature-key" "@method" "@path" "@authority");created={int(SEED_NOW.timestamp())}')
        assert call.headers["Signature"].startswith("sig1=:") and "Content-Digest" not in call.headers  # GET: no body
    assert not [r for r in sim.requests if r.path != TRANSACTIONS_PATH and "Signature" in r.headers]


def test_unsigned_finances_request_is_rejected_with_ebays_error(sim, eu_seller, database_url):
    with _client(sim, database_url) as client, pytest.raises(ApiError) as caught:
        list(client.iter_transactions(SINCE, SEED_NOW))
    assert caught.value.status == 400
    assert caught.value.message == "Missing x-ebay-signature-key header to fulfill the request. (errorId 215001, ACCESS)"
    assert len(_paths(sim, TRANSACTIONS_PATH)) == 1  # a 400 is not retried


def test_a_signature_by_another_key_is_rejected_once_without_a_token_refresh(sim, eu_seller, database_url):
    _, jwe = eu_seller
    with _client(sim, database_url, signing_key=_pem(Ed25519PrivateKey.generate()), signature_key_jwe=jwe) as client:
        with pytest.raises(ApiError) as caught:
            list(client.iter_transactions(SINCE, SEED_NOW))
        assert client.refreshes == 1  # the sign-in only: a 403 is not taken for an expired token
    assert caught.value.status == 403 and "errorId 215120, ACCESS" in str(caught.value)
    assert "the signature does not verify" in str(caught.value)
    assert len(_paths(sim, TRANSACTIONS_PATH)) == 1


def test_the_signing_key_never_appears_in_logs_or_errors(sim, eu_seller, database_url, caplog):
    private_pem, jwe = eu_seller
    body_line = private_pem.splitlines()[1]
    # a misbehaving server that echoes the key back must not get it into the exception either
    sim.inject("status:400", path_prefix=TRANSACTIONS_PATH,
               body={"errors": [{"errorId": 1, "domain": "X", "message": f"bad key {private_pem}",
                                 "longMessage": f"bad key {body_line}"}]})
    caplog.set_level(logging.DEBUG)
    with _client(sim, database_url, signing_key=private_pem, signature_key_jwe=jwe) as client:
        with pytest.raises(ApiError) as caught:
            list(client.iter_transactions(SINCE, SEED_NOW))
    assert caught.value.message == "bad key *** (errorId 1, X)" and "bad key ***" in caught.value.body
    for text in (str(caught.value), caught.value.body, repr(caught.value.args), caplog.text):
        assert body_line not in text
    with pytest.raises(ValueError) as bad:  # a key that does not parse is not quoted either
        _client(sim, database_url, signing_key=body_line[:-4], signature_key_jwe=jwe)
    assert "Ed25519 private key" in str(bad.value) and body_line[:20] not in str(bad.value)
    with pytest.raises(ValueError, match="the JWE is missing"):
        _client(sim, database_url, signing_key=private_pem)


def test_resource_passes_the_signing_key_and_needs_no_refresh_token_variable(eu_seller, database_url, monkeypatch):
    private_pem, jwe = eu_seller
    env = {"SOLEFLIPPER_EBAY_CLIENT_ID": DEMO_CLIENT_ID, "SOLEFLIPPER_EBAY_CLIENT_SECRET": DEMO_CLIENT_SECRET,
           "SOLEFLIPPER_FERNET_KEY": new_key(), "SOLEFLIPPER_EBAY_SIGNING_KEY": private_pem,
           "SOLEFLIPPER_EBAY_SIGNATURE_KEY_JWE": jwe}
    monkeypatch.delenv("SOLEFLIPPER_EBAY_REFRESH_TOKEN", raising=False)  # signed in with `ebay login` instead
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    resource = EbayResource.from_env(database_url).process_config_and_initialize()  # as Dagster resolves it
    with resource.get_client() as client:
        assert client.signs_requests and client._env_refresh == ""
