"""The warehouse database runs with JIT off (see resources.postgres.disable_jit for why)."""

from __future__ import annotations

import uuid

import psycopg
from psycopg import sql

from resources.postgres import _with_dbname, disable_jit, ensure_database


def _jit(url: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute("show jit").fetchone()[0]


def test_setup_turns_jit_off_for_new_sessions_on_the_warehouse(pg_server: str) -> None:
    name = f"sf_test_{uuid.uuid4().hex[:12]}"
    url = _with_dbname(pg_server, name)
    try:
        assert ensure_database(url) is True
        assert _jit(url) == "on"  # the server default, so the assertion below can fail
        assert disable_jit(url) is True
        assert _jit(url) == "off"
        assert disable_jit(url) is True  # idempotent
        assert _jit(url) == "off"
        assert _jit(pg_server) == "on"  # only the warehouse database changes
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
