"""`soleflipper ebay login` / `ebay status` against the eBay simulator, tokens in real PostgreSQL."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import UTC, datetime
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

from pipelines.cli_ebay import register
from resources.ebay.resource import EbayResource
from resources.token_store import TokenStore, new_key
from simulators.ebay import AUTHORIZE_PATH, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_RUNAME, EbaySimulator
from soleflipper.settings import PROJECT_ROOT, Settings

SCOPE = ("https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fsell.fulfillment.readonly%20"
         "https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fsell.finances")


@pytest.fixture(scope="module")
def sim():
    with EbaySimulator() as simulator:
        yield simulator


@pytest.fixture
def env(sim, monkeypatch) -> dict[str, str]:
    sim.reset()
    sim.clock.reset()  # the CLI's client runs on the wall clock
    values = {"SOLEFLIPPER_EBAY_CLIENT_ID": DEMO_CLIENT_ID, "SOLEFLIPPER_EBAY_CLIENT_SECRET": DEMO_CLIENT_SECRET,
              "SOLEFLIPPER_EBAY_RUNAME": DEMO_RUNAME, "SOLEFLIPPER_EBAY_API_URL": sim.api_url,
              "SOLEFLIPPER_EBAY_AUTH_URL": sim.auth_url, "SOLEFLIPPER_EBAY_FINANCES_URL": sim.finances_url,
              "SOLEFLIPPER_EBAY_CONSENT_URL": sim.api_url + AUTHORIZE_PATH, "SOLEFLIPPER_FERNET_KEY": new_key()}
    for name in ("SOLEFLIPPER_EBAY_REFRESH_TOKEN", "SOLEFLIPPER_EBAY_SIGNING_KEY", "SOLEFLIPPER_EBAY_SIGNATURE_KEY_JWE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@pytest.fixture
def run(database_url, tmp_path, capsys):
    settings = Settings(home=tmp_path, database_url=database_url, dagster_database_url=database_url)
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    printed: list[str] = []

    def call(*argv: str) -> tuple[int, str]:
        args = parser.parse_args(argv)
        code = args.func(args, settings)
        captured = capsys.readouterr()
        printed.append(captured.out + captured.err)
        return code, printed[-1]

    call.printed = printed
    return call


def _minute(epoch: float) -> str:
    return f"{datetime.fromtimestamp(epoch, UTC):%Y-%m-%d %H:%M} UTC"


def test_login_by_pasted_address_then_status_and_the_pipeline_uses_the_stored_tokens(sim, env, run, database_url):
    code, out = run("ebay", "status")
    assert code == 1 and "tokens: none stored — run `soleflipper ebay login`\n" in out
    assert "SOLEFLIPPER_EBAY_RUNAME set, SOLEFLIPPER_EBAY_REFRESH_TOKEN NOT SET" in out
    assert "Finances request signing (EU/UK sellers): off" in out

    code, out = run("ebay", "login")
    consent = out.split("\n  ", 1)[1].split()[0]
    assert code == 0 and consent.startswith(
        f"{sim.api_url}{AUTHORIZE_PATH}?client_id={DEMO_CLIENT_ID}&redirect_uri={DEMO_RUNAME}"
        f"&response_type=code&scope={SCOPE}&state=")
    assert "soleflipper ebay login --code '<address or code>'" in out
    redirect = httpx.get(consent, follow_redirects=False).headers["location"]
    code, out = run("ebay", "login", "--code", redirect)  # the whole accept-URL address
    stored = TokenStore(database_url, env["SOLEFLIPPER_FERNET_KEY"]).load("ebay")
    assert code == 0 and out == (
        "Signed in to eBay. Tokens are stored encrypted in ops.api_credentials (access token valid until "
        f"{_minute(stored['expires_at'])}; refresh token stored, valid until {_minute(stored['refresh_expires_at'])}).\n")
    assert stored["refresh_expires_at"] - stored["expires_at"] == pytest.approx(47_304_000 - 7200, abs=1)

    code, out = run("ebay", "status")
    assert code == 0 and (f"tokens: stored; access token valid until {_minute(stored['expires_at'])} (in 1h 59m); "
                          f"refresh token valid until {_minute(stored['refresh_expires_at'])}\n") in out

    # the pipeline's client (as Dagster builds it, no refresh-token variable) renews from the stored token
    sim.expire_tokens()
    with EbayResource.from_env(database_url).process_config_and_initialize().get_client() as client:
        assert sum(len(p) for p in client.iter_orders(datetime(2026, 1, 1, tzinfo=UTC))) == 12
        assert client.refreshes == 1
    refreshes = [r.form() for r in sim.requests if r.path.endswith("/token")]
    assert [f["grant_type"] for f in refreshes] == ["authorization_code", "refresh_token"]
    assert refreshes[1]["refresh_token"] == stored["refresh_token"]

    secrets = [stored["access_token"], stored["refresh_token"], DEMO_CLIENT_SECRET, env["SOLEFLIPPER_FERNET_KEY"],
               *sim._access]
    assert not [s for s in secrets if any(s in text for text in run.printed)]


def test_login_by_bare_percent_encoded_code_auto_approve_and_a_rejected_code(sim, env, run):
    redirect = httpx.get(sim.api_url + AUTHORIZE_PATH, follow_redirects=False, params={
        "client_id": DEMO_CLIENT_ID, "redirect_uri": DEMO_RUNAME, "response_type": "code",
        "scope": "https://api.ebay.com/oauth/api_scope/sell.finances"}).headers["location"]
    code_value = parse_qs(urlsplit(redirect).query)["code"][0]
    assert "^" in code_value and "#" in code_value  # eBay codes need percent-encoding in the address bar
    code, out = run("ebay", "login", "--code", quote(code_value, safe=""))  # as copied from the address bar
    assert code == 0 and out.startswith("Signed in to eBay.")
    code, out = run("ebay", "login", "--auto-approve")
    assert code == 0 and out.startswith("Signed in to eBay.")
    code, out = run("ebay", "login", "--code", "v^1.1#invented-code")
    assert code == 1 and out == ("eBay sign-in failed: HTTP 400: eBay rejected the authorization code (invalid_grant: "
                                 "the provided authorization grant code is invalid or was issued to another client) "
                                 "(POST /identity/v1/oauth2/token)\n")


def test_login_refuses_missing_settings_and_auto_approve_against_the_real_ebay(env, run, monkeypatch):
    monkeypatch.delenv("SOLEFLIPPER_EBAY_RUNAME")
    code, out = run("ebay", "login")
    assert code == 1 and out == "eBay sign-in failed: eBay is not configured: set SOLEFLIPPER_EBAY_RUNAME\n"
    monkeypatch.setenv("SOLEFLIPPER_EBAY_RUNAME", DEMO_RUNAME)
    monkeypatch.delenv("SOLEFLIPPER_EBAY_CONSENT_URL")  # the default: https://auth.ebay.com/oauth2/authorize
    code, out = run("ebay", "login", "--auto-approve")
    assert code == 2 and out.startswith("--auto-approve only works against the local simulator")
    code, out = run("ebay", "login")
    assert code == 0 and "  https://auth.ebay.com/oauth2/authorize?client_id=" in out
    monkeypatch.setenv("SOLEFLIPPER_EBAY_SIGNING_KEY", "not-a-key-but-set")
    code, out = run("ebay", "status")
    assert "Finances request signing (EU/UK sellers): INCOMPLETE: set both SOLEFLIPPER_EBAY_SIGNING_KEY and " \
           "SOLEFLIPPER_EBAY_SIGNATURE_KEY_JWE" in out
    assert code == 1 and "not-a-key-but-set" not in out


def test_the_soleflipper_command_has_ebay_login_and_status(sim, env, database_url, tmp_path):
    environ = {**os.environ, **env, "SOLEFLIPPER_DATABASE_URL": database_url, "SOLEFLIPPER_HOME": str(tmp_path)}

    def soleflipper(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "pipelines.cli", *args], cwd=PROJECT_ROOT, env=environ,
                              capture_output=True, text=True, timeout=300)

    login = soleflipper("ebay", "login", "--auto-approve")
    assert login.returncode == 0, login.stderr
    assert login.stdout.startswith("Signed in to eBay. Tokens are stored encrypted in ops.api_credentials")
    status = soleflipper("ebay", "status")
    assert status.returncode == 0 and "tokens: stored; access token valid until" in status.stdout
