"""Warehouse relations: does one exist, create missing tables without locking live ones, replace a
table's rows atomically."""

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg import sql


def relation_exists(conn: psycopg.Connection, relation: str) -> bool:
    """Whether ``relation`` (``schema.name``: table, view, index...) exists."""
    return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]


def ensure_tables(conn: psycopg.Connection, relations: Sequence[str], ddl: Sequence[str]) -> None:
    """Run ``ddl`` (``create ... if not exists``) when any of ``relations`` is missing, under the
    analytics DDL advisory lock; nothing (no lock on a live table) when they all exist."""
    with conn.transaction():
        present = conn.execute(
            "select bool_and(to_regclass(name) is not null) from unnest(%s::text[]) as name",
            (list(relations),),
        ).fetchone()[0]
        if not present:
            conn.execute("select pg_advisory_xact_lock(hashtext('analytics ddl'))")
            for statement in ddl:
                conn.execute(statement)


def replace_all_rows(
    conn: psycopg.Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Replace every row of ``table`` (``schema.name``) with ``rows`` (values in ``columns`` order) in one
    transaction: readers see the previous rows until the new ones commit."""
    name = sql.Identifier(*table.split("."))
    with conn.transaction():
        conn.execute(sql.SQL("lock table {} in exclusive mode").format(name))
        conn.execute(sql.SQL("delete from {}").format(name))
        with conn.cursor().copy(
            sql.SQL("copy {} ({}) from stdin").format(name, sql.SQL(", ").join(map(sql.Identifier, columns)))
        ) as copy:
            for row in rows:
                copy.write_row(row)
