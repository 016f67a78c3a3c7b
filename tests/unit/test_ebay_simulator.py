"""The eBay simulator speaks the documented contract (api-contracts.md §3, §6.3)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from resources.ebay.signature import RequestSigner
from simulators.ebay import (
    AUTHORIZE_PATH,
    DEMO_ACCEPT_URL,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_REFRESH_TOKEN,
    DEMO_RUNAME,
    ORDERS_PATH,
    TOKEN_PATH,
    TRANSACTIONS_PATH,
    EbaySimulator,
    SignatureProblem,
    check_signature,
    parse_filter,
)
from simulators.ebay_data import SEED_NOW

BASIC = {"Authorization": "Basic " + base64.b64encode(f"{DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET}".encode()).decode()}


@pytest.fixture(scope="module")
def sim():
    with EbaySimulator() as simulator:
        yield simulator


@pytest.fixture(autouse=True)
def _fresh(sim):
    sim.reset()
    sim.clock.set(SEED_NOW)


def _token(sim, grant: str = "refresh_token", **form) -> httpx.Response:
    data = {"grant_type": grant, **({"refresh_token": DEMO_REFRESH_TOKEN} if grant == "refresh_token" else {}), **form}
    return httpx.post(sim.api_url + TOKEN_PATH, data=data, headers=BASIC)


def _bearer(sim) -> dict[str, str]:
    return {"Authorization": f"Bearer {_token(sim).json()['access_token']}"}


def test_parse_filter_reads_ranges_and_sets():
    parsed = parse_filter("lastmodifieddate:[2025-06-01T00:00:00.000Z..],orderfulfillmentstatus:{FULFILLED|IN_PROGRESS}")
    assert parsed == {"lastmodifieddate": (datetime(2025, 6, 1, tzinfo=UTC), None),
                      "orderfulfillmentstatus": {"FULFILLED", "IN_PROGRESS"}}


def test_refresh_grant_gives_a_two_hour_user_token_and_bad_tokens_are_invalid_grant(sim):
    body = _token(sim).json()
    assert body["expires_in"] == 7200 and body["token_type"] == "User Access Token" and "refresh_token" not in body
    bad = _token(sim, refresh_token="nope")
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_grant"
    assert httpx.post(sim.api_url + TOKEN_PATH, data={"grant_type": "refresh_token"}).status_code == 401


def test_application_token_is_rejected_on_sell_apis(sim):
    app = _token(sim, "client_credentials").json()["access_token"]
    response = httpx.get(sim.api_url + ORDERS_PATH, headers={"Authorization": f"Bearer {app}"})
    assert response.status_code == 403 and response.json()["errors"][0]["errorId"] == 1100


def test_expired_token_is_401_error_1001(sim):
    headers = _bearer(sim)
    sim.clock.advance(7201)
    response = httpx.get(sim.api_url + ORDERS_PATH, headers=headers)
    assert response.status_code == 401
    assert response.json()["errors"][0]["errorId"] == 1001


def test_orders_paging_envelope_and_limit_bounds(sim):
    headers = _bearer(sim)
    flt = {"filter": "lastmodifieddate:[2026-01-01T00:00:00.000Z..]"}
    first = httpx.get(sim.api_url + ORDERS_PATH, params={**flt, "limit": 5}, headers=headers).json()
    assert (first["total"], first["offset"], len(first["orders"])) == (12, 0, 5)
    assert "next" in first and "prev" not in first
    last = httpx.get(sim.api_url + ORDERS_PATH, params={**flt, "limit": 5, "offset": 10}, headers=headers).json()
    assert len(last["orders"]) == 2 and "next" not in last and "prev" in last
    too_big = httpx.get(sim.api_url + ORDERS_PATH, params={"limit": 201}, headers=headers)
    assert too_big.status_code == 400 and too_big.json()["errors"][0]["errorId"] == 30800
    none = httpx.get(sim.api_url + ORDERS_PATH, params={"filter": "lastmodifieddate:[2030-01-01T00:00:00.000Z..]"},
                     headers=headers).json()
    assert none["total"] == 0 and none["orders"] == [] and "next" not in none


def test_creationdate_wins_over_lastmodifieddate(sim):
    headers = _bearer(sim)
    both = "creationdate:[2030-01-01T00:00:00.000Z..],lastmodifieddate:[2020-01-01T00:00:00.000Z..]"
    body = httpx.get(sim.api_url + ORDERS_PATH, params={"filter": both}, headers=headers).json()
    assert body["total"] == 0


def test_finances_on_its_own_host_needs_the_marketplace_header_and_answers_204_when_empty(sim):
    headers = _bearer(sim)
    assert httpx.get(sim.api_url + TRANSACTIONS_PATH, headers=headers).status_code == 404
    assert httpx.get(sim.finances_url + TRANSACTIONS_PATH, headers=headers).status_code == 400
    headers["X-EBAY-C-MARKETPLACE-ID"] = "EBAY_DE"
    body = httpx.get(sim.finances_url + TRANSACTIONS_PATH, params={"limit": 1000}, headers=headers).json()
    assert body["total"] == 9  # 12 orders: 2 not paid out yet, 1 cancelled
    dates = [t["transactionDate"] for t in body["transactions"]]
    assert dates == sorted(dates, reverse=True)
    empty = httpx.get(sim.finances_url + TRANSACTIONS_PATH,
                      params={"filter": "transactionDate:[2030-01-01T00:00:00.000Z..2030-02-01T00:00:00.000Z]"},
                      headers=headers)
    assert empty.status_code == 204 and empty.content == b""
    assert httpx.get(sim.finances_url + TRANSACTIONS_PATH, params={"limit": 1001}, headers=headers).status_code == 400


def test_daily_quota_resets_at_pacific_midnight(sim):
    sim.configure(daily_quota=1)
    headers = _bearer(sim)
    assert httpx.get(sim.api_url + ORDERS_PATH, headers=headers).status_code == 200
    limited = httpx.get(sim.api_url + ORDERS_PATH, headers=headers)
    assert limited.status_code == 429 and limited.json()["errors"][0]["errorId"] == 2001
    sim.clock.set(datetime(2026, 12, 1, 8, 0, 1, tzinfo=UTC))  # 00:00:01 in Los Angeles (PST)
    assert httpx.get(sim.api_url + ORDERS_PATH, headers=_bearer(sim)).status_code == 200
    sim.configure(daily_quota=15_000)


def test_injected_faults_use_the_error_envelope(sim):
    sim.inject("status:503", path_prefix=ORDERS_PATH)
    response = httpx.get(sim.api_url + ORDERS_PATH, headers=_bearer(sim))
    assert response.status_code == 503 and response.json()["errors"][0]["category"] == "APPLICATION"


# -- consent page and the authorization-code grant -----------------------------------------------


def _consent(sim, **overrides) -> httpx.Response:
    params = {"client_id": DEMO_CLIENT_ID, "redirect_uri": DEMO_RUNAME, "response_type": "code",
              "scope": "https://api.ebay.com/oauth/api_scope/sell.finances", "state": "st-1", **overrides}
    return httpx.get(sim.api_url + AUTHORIZE_PATH, params=params)


def test_consent_redirects_to_the_accept_url_with_a_code_for_the_runame(sim):
    response = _consent(sim)
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == DEMO_ACCEPT_URL
    assert query["state"] == ["st-1"] and query["expires_in"] == ["299"]
    wrong_runame = _token(sim, "authorization_code", code=query["code"][0], redirect_uri="https://example.com/cb")
    assert wrong_runame.status_code == 400 and wrong_runame.json()["error"] == "invalid_grant"
    code = parse_qs(urlsplit(_consent(sim).headers["location"]).query)["code"][0]
    body = _token(sim, "authorization_code", code=code, redirect_uri=DEMO_RUNAME).json()
    assert body["token_type"] == "User Access Token" and body["refresh_token_expires_in"] == 47_304_000
    assert _token(sim, "authorization_code", code=code, redirect_uri=DEMO_RUNAME).status_code == 400  # single-use


def test_consent_refuses_a_wrong_runame_client_or_scope_and_codes_expire(sim):
    bad = _consent(sim, redirect_uri="https://example.com/callback", client_id="other")
    assert bad.status_code == 400
    assert bad.json()["error_description"] == "unknown client_id; redirect_uri must be the application's RuName"
    assert _consent(sim, scope="sell.finances").json()["error"] == "invalid_scope"
    code = sim.issue_code()
    sim.clock.advance(300)  # eBay's codes live 299 s
    assert _token(sim, "authorization_code", code=code, redirect_uri=DEMO_RUNAME).json()["error"] == "invalid_grant"


# -- digital signatures ---------------------------------------------------------------------------

# RFC 9421 B.1.4 test-key-ed25519 (public half) and the sample eBay's verification service accepts
# (README of eBay/digital-signature-verification-ebay-api): checked without the client's signer.
RFC_TEST_PUBLIC_KEY = b"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=\n-----END PUBLIC KEY-----\n"
SAMPLE = {
    "Host": "localhost:8080",
    "x-ebay-signature-key": "eyJ6aXAiOiJERUYiLCJlbmMiOiJBMjU2R0NNIn0.sample-jwe",  # signed as is: any value
    "Content-Digest": "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:",
    "Signature-Input": 'sig1=("content-digest" "@method" "@path" "@authority");created=1659651955',
}


def _sample_signature() -> str:
    """Sign SAMPLE's base here with the RFC's private test key, spelled out line by line."""
    key = serialization.load_pem_private_key(
        b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n"
        b"-----END PRIVATE KEY-----\n", None)
    base = ('"content-digest": sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:\n'
            '"x-ebay-signature-key": eyJ6aXAiOiJERUYiLCJlbmMiOiJBMjU2R0NNIn0.sample-jwe\n'
            '"@method": POST\n"@path": /verifysignature\n"@authority": localhost:8080\n'
            '"@signature-params": ("content-digest" "x-ebay-signature-key" "@method" "@path" "@authority")'
            ';created=1659651955')
    return "sig1=:" + base64.b64encode(key.sign(base.encode())).decode() + ":"


def _check(headers, path="/verifysignature", body=b'{"hello": "world"}', now=1659651955):
    public = serialization.load_pem_public_key(RFC_TEST_PUBLIC_KEY)
    check_signature(headers, "POST", path, body, public_key=public, jwe=None, now=now)


def test_check_signature_accepts_the_rfc_sample_and_names_each_tampering():
    good = {**SAMPLE, "Signature": _sample_signature(),
            "Signature-Input": 'sig1=("content-digest" "x-ebay-signature-key" "@method" "@path" "@authority")'
                               ";created=1659651955"}
    _check(good)  # no exception
    cases = [
        (dict(path="/other"), 403, 215120, "the signature does not verify"),
        (dict(body=b'{"hello": "moon"}'), 403, 215120, "Content-Digest does not match the body"),
        (dict(now=1659651955 + 301), 400, 215114, "not in right range"),
        (dict(headers={**good, "Signature-Input": SAMPLE["Signature-Input"]}), 403, 215120,
         "not covered: x-ebay-signature-key"),
        (dict(headers={**good, "Signature": good["Signature"].replace("sig1=:", "sig1=:AA")}), 403, 215120,
         "the signature does not verify"),
        (dict(headers={k: v for k, v in good.items() if k != "Signature"}), 400, 215001, "Missing Signature header"),
    ]
    for change, status, error_id, text in cases:
        with pytest.raises(SignatureProblem) as caught:
            _check(**{"headers": good, **change})
        assert (caught.value.status, caught.value.error_id) == (status, error_id) and text in caught.value.long


@pytest.fixture
def eu_seller(sim):
    private_pem, jwe = sim.enroll_signing_key()
    sim.configure(require_signature=True)
    yield RequestSigner(private_pem, jwe, sim.clock.now), jwe
    sim.configure(require_signature=False, signature_public_key=None, signature_jwe=None)


def _finances(sim, extra: dict[str, str]) -> httpx.Response:
    headers = {**_bearer(sim), "X-EBAY-C-MARKETPLACE-ID": "EBAY_DE", **extra}
    return httpx.get(sim.finances_url + TRANSACTIONS_PATH, headers=headers)


def test_an_eu_seller_needs_a_valid_signature_over_path_and_host(sim, eu_seller):
    signer, _ = eu_seller
    authority = sim.finances_url.split("://", 1)[1]
    assert _finances(sim, signer.headers("GET", TRANSACTIONS_PATH, authority)).status_code == 200
    missing = _finances(sim, {})
    assert missing.status_code == 400 and missing.json() == {"errors": [{
        "errorId": 215001, "domain": "ACCESS", "category": "REQUEST", "message": "Missing x-ebay-signature-key header",
        "longMessage": "Missing x-ebay-signature-key header to fulfill the request.",
        "inputRefIds": [], "outputRefIds": [], "parameters": []}]}
    other_path = _finances(sim, signer.headers("GET", "/sell/finances/v1/payout", authority))
    assert other_path.status_code == 403 and other_path.json()["errors"][0]["errorId"] == 215120
    other_host = _finances(sim, signer.headers("GET", TRANSACTIONS_PATH, "apiz.ebay.com"))
    assert other_host.status_code == 403
    foreign = RequestSigner(_new_pem(), signer.jwe, sim.clock.now).headers("GET", TRANSACTIONS_PATH, authority)
    assert _finances(sim, foreign).json()["errors"][0]["longMessage"].endswith("(the signature does not verify)")
    wrong_jwe = {**signer.headers("GET", TRANSACTIONS_PATH, authority), "x-ebay-signature-key": "eyJ.other"}
    assert _finances(sim, wrong_jwe).status_code == 403


def test_without_the_public_key_only_the_presence_of_the_headers_is_checked(sim):
    sim.configure(require_signature=True)
    try:
        assert _finances(sim, {"Signature-Input": "sig1=()", "Signature": "sig1=::"}).status_code == 400
        assert _finances(sim, {"x-ebay-signature-key": "k", "Signature-Input": "x", "Signature": "y"}).status_code == 200
    finally:
        sim.configure(require_signature=False)


def _new_pem() -> str:
    return Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()).decode()
