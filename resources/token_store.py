"""Encrypted API credentials in PostgreSQL: one row per provider, Fernet-encrypted JSON.

Why here: OAuth refresh tokens must outlive a process (a Dagster run, the CLI that logged in)
and be shared by every process that calls the API, and the warehouse is the one store they all
reach. Values are encrypted with a key that lives only in the environment
(``SOLEFLIPPER_FERNET_KEY``), so a database dump or backup does not leak working credentials.

    store = TokenStore(database_url, fernet_key_from_env())
    store.save("stockx", {"access_token": ..., "refresh_token": ..., "expires_at": ...})
    store.load("stockx")  # -> the dict, or None when nothing is stored

Table ``ops.api_credentials(provider, ciphertext, updated_at)`` is created on first use. Nothing
here logs or raises with a secret value in it: errors name the provider and the variable only.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import psycopg
from cryptography.fernet import Fernet, InvalidToken

log = logging.getLogger(__name__)

FERNET_KEY_ENV = "SOLEFLIPPER_FERNET_KEY"
OPS_SCHEMA = "ops"
_OPS_DDL_LOCK = 0x0B5_C0DE  # advisory lock id: concurrent "create ... if not exists" can still collide

CREDENTIALS_DDL = """
create schema if not exists ops;
create table if not exists ops.api_credentials (
    provider text primary key,
    ciphertext bytea not null,
    updated_at timestamptz not null
);
"""


class TokenStoreError(RuntimeError):
    """Credentials cannot be stored or read; the message says what to do (never a secret)."""


class MissingKeyError(TokenStoreError):
    """No Fernet key configured."""


class InvalidKeyError(TokenStoreError):
    """The configured Fernet key is not a Fernet key at all."""


class DecryptError(TokenStoreError):
    """Stored credentials exist but this key cannot decrypt them."""


def new_key() -> str:
    """A fresh Fernet key (url-safe base64 text) for SOLEFLIPPER_FERNET_KEY."""
    return Fernet.generate_key().decode("ascii")


def fernet_key_from_env(environ: Mapping[str, str] | None = None) -> str:
    """SOLEFLIPPER_FERNET_KEY, or MissingKeyError telling how to make one."""
    value = (environ if environ is not None else os.environ).get(FERNET_KEY_ENV, "").strip()
    if not value:
        raise MissingKeyError(
            f"{FERNET_KEY_ENV} is not set: generate one with `soleflipper secrets new-key` and export it"
        )
    return value


def make_fernet(key: str | None) -> Fernet:
    """A Fernet for ``key`` (None or blank: from the environment); clear errors, key never quoted."""
    if key is None or not key.strip():
        key = fernet_key_from_env()
    try:
        return Fernet(key.strip().encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError):
        raise InvalidKeyError(
            f"{FERNET_KEY_ENV} is not a valid Fernet key (it must be 32 url-safe base64-encoded bytes, "
            "44 characters): generate one with `soleflipper secrets new-key`"
        ) from None


def ensure_ops_schema(conn: psycopg.Connection, ddl: str) -> None:
    """Run ``create ... if not exists`` DDL in schema ops, serialised across processes."""
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_OPS_DDL_LOCK,))
        conn.execute(ddl)


class TokenStore:
    """Fernet-encrypted JSON per provider in ``ops.api_credentials`` (thread-safe, short connections).

    ``fernet_key`` None reads SOLEFLIPPER_FERNET_KEY when a value is first encrypted or
    decrypted, so ``updated_at`` and ``delete`` work without a key.
    """

    def __init__(self, database_url: str, fernet_key: str | None = None) -> None:
        self.database_url = database_url
        self._key = fernet_key
        self._fernet: Fernet | None = None
        self._ready = False
        self._lock = threading.Lock()

    def _cipher(self) -> Fernet:
        if self._fernet is None:
            self._fernet = make_fernet(self._key)
        return self._fernet

    def _connect(self) -> psycopg.Connection:
        conn = psycopg.connect(self.database_url, autocommit=True)
        if not self._ready:
            ensure_ops_schema(conn, CREDENTIALS_DDL)
            self._ready = True
        return conn

    def save(self, provider: str, data: Mapping[str, Any]) -> None:
        """Encrypt ``data`` (JSON-able) and store it as ``provider``'s credentials (replacing any)."""
        ciphertext = self._cipher().encrypt(json.dumps(dict(data), sort_keys=True).encode("utf-8"))
        with self._lock, self._connect() as conn:
            conn.execute(
                "insert into ops.api_credentials (provider, ciphertext, updated_at) values (%s, %s, now())"
                " on conflict (provider) do update"
                " set ciphertext = excluded.ciphertext, updated_at = excluded.updated_at",
                (provider, ciphertext),
            )
        log.info("stored credentials for %s", provider)

    def load(self, provider: str) -> dict[str, Any] | None:
        """``provider``'s credentials, or None if none are stored; DecryptError if the key is wrong."""
        with self._lock, self._connect() as conn:
            row = conn.execute(
                "select ciphertext from ops.api_credentials where provider = %s", (provider,)
            ).fetchone()
        if row is None:
            return None
        try:
            plain = self._cipher().decrypt(bytes(row[0]))
        except InvalidToken:
            raise DecryptError(
                f"tokens stored for {provider} cannot be decrypted with {FERNET_KEY_ENV} (was the key changed?)"
            ) from None
        data = json.loads(plain)
        if not isinstance(data, dict):
            raise DecryptError(f"tokens stored for {provider} are not a JSON object")
        return data

    def delete(self, provider: str) -> bool:
        """Forget ``provider``'s credentials; True if there were any."""
        with self._lock, self._connect() as conn:
            deleted = conn.execute("delete from ops.api_credentials where provider = %s", (provider,)).rowcount
        return bool(deleted)

    def updated_at(self, provider: str) -> datetime | None:
        """When ``provider``'s credentials were last stored (no key needed), or None."""
        with self._lock, self._connect() as conn:
            row = conn.execute(
                "select updated_at from ops.api_credentials where provider = %s", (provider,)
            ).fetchone()
        return row[0] if row else None
