"""Stored API tokens (resources/token_store.py): nothing in the database reveals them without the key,
and a wrong key is a clear error naming SOLEFLIPPER_FERNET_KEY, in the store and in the CLI.

The client tests (test_stockx_client.py, test_ebay_client.py) check that one ciphertext does not
contain its tokens; here every row of every table of the warehouse is read back as text, as a
dump would hold it, after StockX and eBay credentials were stored.
"""

from __future__ import annotations

import argparse
import base64
import traceback

import psycopg
import pytest
from cryptography.fernet import Fernet
from psycopg import sql

from pipelines import cli_ebay, cli_stockx
from resources.token_store import DecryptError, TokenStore, new_key
from soleflipper.settings import Settings

TOKENS = {
    "stockx": {"access_token": "eyJhbGciOi.stockx-access-9f3c1e", "refresh_token": "v1.stockx-refresh-77a2d0",
               "expires_at": 4102444800.0},
    "ebay": {"access_token": "v^1.1#i^1#ebay-access-5b8e4f", "refresh_token": "v^1.1#r^1#ebay-refresh-c0d3e9",
             "expires_at": 4102444800.0, "refresh_expires_at": 4150000000.0},
}
SECRETS = [value for tokens in TOKENS.values() for name, value in tokens.items() if name.endswith("_token")]


@pytest.fixture
def key() -> str:
    return new_key()


@pytest.fixture
def stored(database_url, key) -> TokenStore:
    store = TokenStore(database_url, key)
    for provider, tokens in TOKENS.items():
        store.save(provider, tokens)
    return store


def _every_row_as_text(conn: psycopg.Connection) -> dict[str, list[str]]:
    """Every user table's rows as PostgreSQL prints them (bytea in hex) and, for bytea columns, the raw bytes."""
    tables = conn.execute(
        "select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where c.relkind in ('r', 'p') and n.nspname not in ('pg_catalog', 'information_schema')"
        " and n.nspname not like 'pg\\_toast%%' order by 1, 2").fetchall()
    found: dict[str, list[str]] = {}
    for schema, table in tables:
        name = sql.Identifier(schema, table)
        texts = [r[0] for r in conn.execute(sql.SQL("select scanned_row::text from {} scanned_row").format(name))]
        for column, in conn.execute(
                "select attname from pg_attribute where attrelid = %s::regclass and atttypid = 'bytea'::regtype"
                " and attnum > 0 and not attisdropped", (name.as_string(conn),)):
            query = sql.SQL("select {} from {}").format(sql.Identifier(column), name)
            texts += [bytes(r[0]).decode("latin-1") for r in conn.execute(query) if r[0] is not None]
        found[f"{schema}.{table}"] = texts
    return found


def test_no_table_of_the_warehouse_reveals_a_stored_token(stored, conn, key):
    rows = _every_row_as_text(conn)
    assert len(rows["ops.api_credentials"]) == 4  # two rows, as text and as raw ciphertext bytes
    everything = "\n".join(text for texts in rows.values() for text in texts)
    encodings = [form for secret in SECRETS for form in (
        secret, secret.encode().hex(), base64.b64encode(secret.encode()).decode(),
        base64.urlsafe_b64encode(secret.encode()).decode())]
    assert [form for form in encodings if form in everything] == []
    for provider, ciphertext in conn.execute("select provider, ciphertext from ops.api_credentials order by 1"):
        assert bytes(ciphertext).startswith(b"gAAAAA")  # a Fernet token: version 0x80, then the timestamp
        assert stored.load(provider) == TOKENS[provider]  # ... that only the key opens
        assert Fernet(key).decrypt(bytes(ciphertext))


@pytest.mark.parametrize("provider", sorted(TOKENS))
def test_a_wrong_key_is_a_decrypt_error_naming_the_variable_without_the_invalid_token_chain(
        stored, database_url, key, provider):
    other = new_key()
    with pytest.raises(DecryptError) as caught:
        TokenStore(database_url, other).load(provider)
    assert str(caught.value) == (f"tokens stored for {provider} cannot be decrypted with SOLEFLIPPER_FERNET_KEY "
                                 "(was the key changed?)")
    shown = "".join(traceback.format_exception(caught.value))
    assert caught.value.__suppress_context__ and "InvalidToken" not in shown  # `from None`: no cryptography chain
    assert [s for s in [key, other, *SECRETS] if s in shown] == []


def _cli(module, settings: Settings, capsys):
    parser = argparse.ArgumentParser()
    module.register(parser.add_subparsers(dest="command"))

    def run(*argv: str) -> tuple[int, str]:
        args = parser.parse_args(argv)
        code = args.func(args, settings)  # an uncaught exception (a traceback) fails the test here
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return run


@pytest.mark.parametrize(("module", "provider", "env"), [
    (cli_stockx, "stockx", {"SOLEFLIPPER_STOCKX_API_KEY": "sx-api-key-sec-1", "SOLEFLIPPER_STOCKX_CLIENT_ID": "cid",
                            "SOLEFLIPPER_STOCKX_CLIENT_SECRET": "sx-client-sec-2",
                            "SOLEFLIPPER_STOCKX_REDIRECT_URI": "http://127.0.0.1:8765/stockx/callback",
                            "SOLEFLIPPER_STOCKX_BASE_URL": "http://127.0.0.1:9/v2",
                            "SOLEFLIPPER_STOCKX_AUTH_URL": "http://127.0.0.1:9/oauth"}),
    (cli_ebay, "ebay", {"SOLEFLIPPER_EBAY_CLIENT_ID": "cid", "SOLEFLIPPER_EBAY_CLIENT_SECRET": "eb-client-sec-3",
                        "SOLEFLIPPER_EBAY_RUNAME": "ru-name", "SOLEFLIPPER_EBAY_API_URL": "http://127.0.0.1:9"}),
])
def test_status_with_a_wrong_key_says_so_and_fails(stored, database_url, key, tmp_path, monkeypatch, capsys,
                                                   module, provider, env):
    for name in ("SOLEFLIPPER_EBAY_REFRESH_TOKEN", "SOLEFLIPPER_EBAY_SIGNING_KEY", "SOLEFLIPPER_EBAY_SIGNATURE_KEY_JWE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    other = new_key()
    monkeypatch.setenv("SOLEFLIPPER_FERNET_KEY", other)
    settings = Settings(home=tmp_path, database_url=database_url, dagster_database_url=database_url)
    run = _cli(module, settings, capsys)
    code, out = run(provider, "status")
    assert code == 1
    assert (f"tokens: tokens stored for {provider} cannot be decrypted with SOLEFLIPPER_FERNET_KEY "
            "(was the key changed?)\n") in out
    assert "Traceback" not in out and "InvalidToken" not in out
    secrets = [key, other, *SECRETS, *(value for value in env.values() if "-sec-" in value)]
    assert [s for s in secrets if s in out] == []
    monkeypatch.setenv("SOLEFLIPPER_FERNET_KEY", key)  # the right key: the same command reads the tokens
    code, out = run(provider, "status")
    assert "tokens: stored; access token valid until 2100-01-01 00:00 UTC" in out
    assert [s for s in secrets if s in out] == []
