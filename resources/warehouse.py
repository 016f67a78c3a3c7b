"""The warehouse loader: streams validated rows into ``raw.<source>_<entity>`` with COPY.

Guarantees, each proven by a test (see docs/reliability.md):
- a batch (one file, one API page set) is one transaction: all rows or none;
- loading the same content again adds nothing (content hash per row, ledger per file);
- every row that fails validation lands in ``raw.quarantine`` with line, field and reason;
- nothing is held in memory beyond one COPY buffer: rows stream from the file to PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import psycopg
from psycopg import sql

from soleflipper.csv_parsing import ParsedRow, RowError, parse_csv
from soleflipper.formats import IDENTIFIER, CsvFormat

RAW_SCHEMA = "raw"
COPY_FLUSH_BYTES = 1 << 20  # hand PostgreSQL ~1 MiB at a time
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_DDL_LOCK = 0x50_1E_F1_1B  # advisory lock id for raw schema DDL

META_DDL = """
create schema if not exists raw;
create table if not exists raw.load_batches (
    batch_id uuid primary key,
    format text not null,
    raw_table text not null,
    source text not null,
    file_sha256 text,
    status text not null check (status in ('succeeded', 'failed')),
    error text,
    rows_read bigint not null default 0,
    rows_loaded bigint not null default 0,
    rows_changed bigint not null default 0,
    rows_duplicate bigint not null default 0,
    rows_quarantined bigint not null default 0,
    started_at timestamptz not null,
    finished_at timestamptz not null default now()
);
create unique index if not exists load_batches_file_once
    on raw.load_batches (raw_table, file_sha256) where status = 'succeeded' and file_sha256 is not null;
create table if not exists raw.quarantine (
    quarantine_id bigserial primary key,
    batch_id uuid not null,
    format text not null,
    raw_table text not null,
    source text not null,
    line_number integer,
    field text,
    reason text not null,
    record jsonb not null,
    record_hash uuid not null unique,
    quarantined_at timestamptz not null default now()
);
"""


class LoadError(RuntimeError):
    """A batch could not be loaded; nothing of it was written."""


@dataclass
class LoadResult:
    format: str
    raw_table: str
    source: str
    batch_id: str | None
    file_sha256: str | None = None
    rows_read: int = 0
    rows_loaded: int = 0
    rows_changed: int = 0  # loaded rows whose natural key was already known: a new version
    rows_duplicate: int = 0
    rows_quarantined: int = 0
    skipped_file: bool = False  # the identical file was loaded before
    sample_errors: list[RowError] = field(default_factory=list)

    def summary(self) -> str:
        head = f"{Path(self.source).name}: "
        if self.skipped_file:
            return head + f"already loaded (0 new, {self.rows_duplicate} duplicate rows)"
        return head + (
            f"{self.rows_loaded} loaded ({self.rows_changed} changed), {self.rows_duplicate} duplicate, "
            f"{self.rows_quarantined} quarantined"
        )


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _copy_text(value: str | None) -> str:
    return "\\N" if value is None else value.translate(_COPY_ESCAPES)


def _no_nul(text: str | None) -> str | None:
    """A quarantined record keeps what was read, but text and jsonb cannot hold NUL: write it as
    the four characters \\x00 (only bad rows pay for this)."""
    return text.replace("\x00", "\\x00") if text is not None and "\x00" in text else text


def _record_json(record: dict[str, str]) -> str:
    text = json.dumps(record, ensure_ascii=False)
    if "\\u0000" not in text:  # json.dumps writes NUL as \u0000
        return text
    return json.dumps({_no_nul(k): _no_nul(v) for k, v in record.items()}, ensure_ascii=False)


def _table_lock_key(fmt: CsvFormat) -> str:
    return f"raw.{fmt.table}"


def ensure_meta_tables(conn: psycopg.Connection) -> None:
    """Create raw.load_batches and raw.quarantine once. DDL only when something is missing:
    re-running `create index if not exists` would lock tables other loaders are writing to."""
    with conn.transaction():
        present = conn.execute(
            "select to_regclass('raw.load_batches') is not null and to_regclass('raw.quarantine') is not null"
            " and to_regclass('raw.load_batches_file_once') is not null").fetchone()[0]
    if present:
        return
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_DDL_LOCK,))
        conn.execute(META_DDL)


def ensure_raw_table(conn: psycopg.Connection, fmt: CsvFormat) -> None:
    """Create the raw table, or add columns a newer format version brought (never drop).

    Checks the catalog first and runs DDL only when something is missing, under the same
    advisory lock as loads into the table, so DDL never interleaves with a running load.
    """
    # The format loader already refuses such names; checked again here, before any SQL, because
    # a hostile name must never reach the catalog look-up (PostgreSQL 16's to_regclass accepts it).
    if not IDENTIFIER.match(fmt.table):
        raise LoadError(f"raw table name {fmt.table!r} refused: not a plain name (a-z, 0-9, _)")
    ensure_meta_tables(conn)
    wanted = set(fmt.column_names) | {"_extra", "_batch_id", "_source", "_source_line", "_loaded_at", "_row_hash"}
    index_name = f"{fmt.table}_natural_key"
    with conn.transaction():
        has_index = not fmt.natural_key or conn.execute(
            "select to_regclass(%s) is not null", (f"{RAW_SCHEMA}.{index_name}",)).fetchone()[0]
        existing = _existing_columns(conn, fmt.table)
    if wanted <= existing and has_index:
        return
    table = sql.Identifier(RAW_SCHEMA, fmt.table)
    cols = [sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.sql_type)) for c in fmt.columns]
    meta = sql.SQL(
        "_extra jsonb, _batch_id uuid not null, _source text not null, _source_line integer, "
        "_loaded_at timestamptz not null, _row_hash uuid not null primary key"
    )
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_DDL_LOCK,))
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (_table_lock_key(fmt),))
        conn.execute(sql.SQL("create table if not exists {} ({}, {})").format(
            table, sql.SQL(", ").join(cols), meta))
        existing = _existing_columns(conn, fmt.table)
        for c in fmt.columns:
            if c.name not in existing:
                conn.execute(sql.SQL("alter table {} add column {} {}").format(
                    table, sql.Identifier(c.name), sql.SQL(c.sql_type)))
        if fmt.natural_key:
            conn.execute(sql.SQL("create index if not exists {} on {} ({})").format(
                sql.Identifier(index_name), table,
                sql.SQL(", ").join(sql.Identifier(k) for k in fmt.natural_key)))


def _existing_columns(conn: psycopg.Connection, table: str) -> set[str]:
    rows = conn.execute(
        "select attname from pg_attribute where attrelid = to_regclass(%s) and attnum > 0 and not attisdropped",
        (f"{RAW_SCHEMA}.{table}",)).fetchall()
    return {r[0] for r in rows}


def ensure_all_raw_tables(conn: psycopg.Connection) -> None:
    """Every built-in format's raw table, so dbt can build before the first load of a source;
    and the Budibase entry tables (entry.*), which the raw/budibase_* assets read."""
    from soleflipper.budibase.entry_tables import ensure_entry_tables
    from soleflipper.formats import available_formats, load_format

    for name in available_formats():
        ensure_raw_table(conn, load_format(name))
    ensure_entry_tables(conn)


def load_file(
    conn: psycopg.Connection,
    fmt: CsvFormat,
    path: Path,
    progress: Callable[[int], None] | None = None,
) -> LoadResult:
    """Load one file as one batch. Raises :class:`LoadError` (nothing written) on file-level errors."""
    path = Path(path)
    source = str(path.resolve())
    if not path.is_file():
        raise LoadError(f"{path}: no such file")
    sha = file_sha256(path)
    ensure_raw_table(conn, fmt)
    try:
        _, rows = parse_csv(fmt, path)
        return load_rows(conn, fmt, rows, source=source, file_sha=sha, progress=progress)
    except LoadError:
        raise
    except ValueError as exc:  # FileFormatError and friends: the message names file and problem
        _record_failure(conn, fmt, source, sha, str(exc))
        raise LoadError(str(exc)) from None


def _record_failure(conn: psycopg.Connection, fmt: CsvFormat, source: str, sha: str | None, error: str) -> None:
    with conn.transaction():
        conn.execute(
            "insert into raw.load_batches (batch_id, format, raw_table, source, file_sha256, status, error,"
            " started_at) values (%s, %s, %s, %s, %s, 'failed', %s, now())",
            (uuid.uuid4(), fmt.name, fmt.table, source, sha, error),
        )


def load_rows(
    conn: psycopg.Connection,
    fmt: CsvFormat,
    rows: Iterable[ParsedRow | RowError],
    source: str,
    file_sha: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> LoadResult:
    """Load parsed rows as one all-or-nothing batch."""
    result = LoadResult(format=fmt.name, raw_table=f"{RAW_SCHEMA}.{fmt.table}", source=source,
                        batch_id=None, file_sha256=file_sha)
    batch_id = uuid.uuid4()
    with conn.transaction():
        # One loader per raw table at a time: makes "already loaded?" checks race-free.
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (_table_lock_key(fmt),))
        started = conn.execute("select now()").fetchone()[0]
        if file_sha is not None:
            done = conn.execute(
                "select rows_read from raw.load_batches where raw_table = %s and file_sha256 = %s"
                " and status = 'succeeded'", (fmt.table, file_sha)).fetchone()
            if done is not None:
                result.skipped_file = True
                result.rows_read = result.rows_duplicate = done[0]
                return result
        _create_stage(conn, fmt)
        with tempfile.TemporaryFile("w+", encoding="utf-8") as bad:
            _copy_into_stage(conn, fmt, rows, bad, result, progress)
            bad.seek(0)
            _copy_quarantine(conn, fmt, bad, batch_id, source)
        result.rows_loaded, result.rows_changed = _insert_from_stage(conn, fmt, batch_id, source, started)
        good = result.rows_read - result.rows_quarantined
        result.rows_duplicate = good - result.rows_loaded
        conn.execute(
            "insert into raw.load_batches (batch_id, format, raw_table, source, file_sha256, status,"
            " rows_read, rows_loaded, rows_changed, rows_duplicate, rows_quarantined, started_at)"
            " values (%s, %s, %s, %s, %s, 'succeeded', %s, %s, %s, %s, %s, %s)",
            (batch_id, fmt.name, fmt.table, source, file_sha, result.rows_read, result.rows_loaded,
             result.rows_changed, result.rows_duplicate, result.rows_quarantined, started),
        )
        conn.execute("drop table _stage; drop table _stage_quarantine")
    result.batch_id = str(batch_id)
    return result


def _create_stage(conn: psycopg.Connection, fmt: CsvFormat) -> None:
    cols = [sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.sql_type)) for c in fmt.columns]
    conn.execute(sql.SQL("create temp table _stage (_source_line integer, {}, _extra jsonb)"
                         " on commit drop").format(sql.SQL(", ").join(cols)))
    conn.execute("create temp table _stage_quarantine (line_number integer, field text, reason text,"
                 " record jsonb) on commit drop")


def _copy_into_stage(conn, fmt, rows, bad, result: LoadResult, progress) -> None:
    columns = sql.SQL(", ").join(sql.Identifier(n) for n in ["_source_line", *fmt.column_names, "_extra"])
    buffer: list[str] = []
    size = 0
    with conn.cursor().copy(sql.SQL("copy _stage ({}) from stdin").format(columns)) as copy:
        for row in rows:
            result.rows_read += 1
            if isinstance(row, RowError):
                result.rows_quarantined += 1
                if len(result.sample_errors) < 5:
                    result.sample_errors.append(row)
                bad.write("\t".join((
                    str(row.line), _copy_text(_no_nul(row.field)), _copy_text(_no_nul(row.reason)),
                    _copy_text(_record_json(row.record)))) + "\n")
            else:
                extra = None if row.extra is None else json.dumps(row.extra, ensure_ascii=False)
                line = "\t".join([str(row.line), *map(_copy_text, row.values), _copy_text(extra)]) + "\n"
                buffer.append(line)
                size += len(line)
                if size >= COPY_FLUSH_BYTES:
                    copy.write("".join(buffer))
                    buffer.clear()
                    size = 0
            if progress is not None and result.rows_read % 10_000 == 0:
                progress(result.rows_read)
        if buffer:
            copy.write("".join(buffer))
    if progress is not None:
        progress(result.rows_read)


def _copy_quarantine(conn, fmt: CsvFormat, bad, batch_id: uuid.UUID, source: str) -> None:
    with conn.cursor().copy("copy _stage_quarantine (line_number, field, reason, record) from stdin") as copy:
        for chunk in iter(lambda: bad.read(COPY_FLUSH_BYTES), ""):
            copy.write(chunk)
    # Keyed by table, line, reason and record: reloading the same bad file adds nothing.
    conn.execute(
        "insert into raw.quarantine (batch_id, format, raw_table, source, line_number, field, reason,"
        " record, record_hash)"
        " select %(batch)s, %(fmt)s, %(table)s, %(source)s, line_number, field, reason, record,"
        " md5(%(table)s || ':' || line_number || ':' || reason || ':' || record::text)::uuid"
        " from _stage_quarantine on conflict (record_hash) do nothing",
        {"batch": batch_id, "fmt": fmt.name, "table": fmt.table, "source": source},
    )


def _insert_from_stage(conn, fmt: CsvFormat, batch_id: uuid.UUID, source: str, started) -> tuple[int, int]:
    table = sql.Identifier(RAW_SCHEMA, fmt.table)
    data_cols = [sql.Identifier(n) for n in fmt.column_names]
    content = sql.SQL("md5(row({}, _extra)::text)::uuid").format(sql.SQL(", ").join(data_cols))
    if fmt.identical_rows == "keep":
        # Identical rows are distinct events (two pairs sold the same second): number them.
        row_hash = sql.SQL("md5(_content_hash::text || ':' || row_number() over "
                           "(partition by _content_hash order by _source_line))::uuid")
    else:
        row_hash = sql.SQL("_content_hash")
    col_list = sql.SQL(", ").join(data_cols)
    inserted = conn.execute(sql.SQL(
        "with hashed as (select s.*, {content} as _content_hash from _stage s),"
        " keyed as (select h.*, {row_hash} as _row_hash from hashed h)"
        " insert into {table} ({cols}, _extra, _batch_id, _source, _source_line, _loaded_at, _row_hash)"
        " select distinct on (_row_hash) {cols}, _extra, %(batch)s, %(source)s, _source_line, %(at)s, _row_hash"
        " from keyed order by _row_hash, _source_line"
        " on conflict (_row_hash) do nothing"
    ).format(content=content, row_hash=row_hash, table=table, cols=col_list),
        {"batch": batch_id, "source": source, "at": started}).rowcount
    changed = 0
    if fmt.natural_key and inserted:
        match = sql.SQL(" and ").join(
            sql.SQL("o.{k} is not distinct from n.{k}").format(k=sql.Identifier(k)) for k in fmt.natural_key)
        changed = conn.execute(sql.SQL(
            "select count(*) from {t} n where n._batch_id = %(batch)s and exists"
            " (select 1 from {t} o where {match} and o._batch_id <> %(batch)s)"
        ).format(t=table, match=match), {"batch": batch_id}).fetchone()[0]
    return inserted, changed


class WarehouseResource(dg.ConfigurableResource):
    """The PostgreSQL warehouse, as Dagster assets see it."""

    database_url: str

    def connect(self) -> psycopg.Connection:
        return psycopg.connect(self.database_url)

    def load_file(self, fmt: CsvFormat, path: Path, progress: Callable[[int], None] | None = None) -> LoadResult:
        with self.connect() as conn:
            return load_file(conn, fmt, path, progress=progress)

    def ensure_raw_table(self, fmt: CsvFormat) -> None:
        with self.connect() as conn:
            ensure_raw_table(conn, fmt)

    def count_rows(self, table: str) -> int:
        schema, name = table.split(".", 1)
        with self.connect() as conn:
            return conn.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(schema, name))).fetchone()[0]
