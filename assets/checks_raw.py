"""Data quality checks on every raw table, blocking: bad rows never reach the marts and KPI views.

Four checks on each raw asset (``raw/<table>``: every file-import format, the StockX API tables
and the Notion tables), declared by the asset itself (``check_specs=raw_check_specs(key)``) and
evaluated at the end of its step (``raw_check_results``), so they cost no extra step and run in
every job that loads the table:

``raw_schema`` (ERROR, blocking)
    The rows of this run's load batches validated with the table's pandera schema
    (:func:`soleflipper.raw_schemas.table_schema`: format types, not-null keys, patterns, ranges,
    ISO 4217 currencies), lazily, in chunks of :data:`CHUNK_ROWS` read by ``_batch_id`` (never
    the whole table). Metadata: ``num_failures`` (failure cases), ``failed_rows``,
    ``failures_by_check`` and ``failure_sample`` (a table: column, check, value, file, line).
``raw_row_count`` (ERROR, blocking)
    For each batch: ``rows_loaded = rows_read - rows_quarantined - rows_duplicate`` as recorded in
    ``raw.load_batches``, and the table holds exactly ``rows_loaded`` rows of the batch; and the
    table is not empty once a batch has succeeded (a file whose every row was quarantined leaves
    nothing to build on). A source that was never loaded passes (nothing to count; its freshness
    check reports it).
``raw_duplicates`` (ERROR, blocking), for tables with a natural key whose identical rows are one
    event (``identical_rows: duplicate``)
    no natural key twice in one batch (two versions of one order in one file: which is current?),
    no row of this run identical in content to a row of an earlier batch (a re-load that the
    content hash did not recognise, e.g. after a format gained a column), and every row of a
    file format keyed by its content hash (``_row_hash``: nothing written around the loader).
    Tables whose identical rows are distinct events (``identical_rows: keep``: two pairs bought
    in one line each) have no duplicates by definition; the check says so and passes.
``raw_vocabulary`` (WARN, not blocking)
    Values outside the vocabularies the warehouse tolerates (StockX order statuses and inventory
    types, sales platforms staging does not know).

Which batches: those of the table that started after the asset's step started (read from the
database's clock, which stamps the batches). A materialization that loaded nothing new (its files
were already loaded) has nothing new to validate.

Blocking (``blocking=True``): when a blocking check fails, Dagster does not start the steps
downstream of the raw asset in the same run (the dbt build, and with it the KPI views), and the
batches it checked are rejected whole (:func:`reject_batches`): their rows move to
``raw.quarantine`` with the checks' findings as the reason and the batches are marked failed, so
no later run builds from them either; the corrected file loads as a new batch. Checks
inside the asset (rather than one check step spanning every raw table) also keep the run's plan
simple: a step that checked both a file table and the StockX catalog (which is built from the file
tables) would sit both before and after the catalog, and Dagster would split the dbt build around it.
"""

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import dagster as dg
import pandas as pd
import psycopg
from psycopg import sql

from resources.warehouse import RAW_SCHEMA
from soleflipper.formats import CsvFormat, available_formats, load_format
from soleflipper.raw_schemas import (
    ValidationReport,
    rules_for,
    table_schema,
    validate_chunk,
    vocabulary_schema,
)

SCHEMA_CHECK = "raw_schema"
ROW_COUNT_CHECK = "raw_row_count"
DUPLICATES_CHECK = "raw_duplicates"
VOCABULARY_CHECK = "raw_vocabulary"
CHECK_NAMES = (SCHEMA_CHECK, ROW_COUNT_CHECK, DUPLICATES_CHECK, VOCABULARY_CHECK)
BLOCKING_CHECKS = (SCHEMA_CHECK, ROW_COUNT_CHECK, DUPLICATES_CHECK)
CHUNK_ROWS = 50_000  # rows per pandera validation (a chunk of a 1M-row batch is ~50 MB in pandas)
SAMPLE = 20  # duplicate keys listed in metadata (counts are exact)

FormatResolver = Callable[[psycopg.Connection], CsvFormat | None]


# ----------------------------------------------------------------------------- the raw tables


@dataclass(frozen=True)
class RawTable:
    key: dg.AssetKey
    resolve: FormatResolver  # the table's format now (Notion: from the mapping and the table)
    static_columns: bool  # the format's columns are fixed (YAML); Notion tables grow prop_ columns


def _file_format(name: str) -> FormatResolver:
    return lambda conn: load_format(name)


def _notion_format(database: str) -> FormatResolver:
    def resolve(conn: psycopg.Connection) -> CsvFormat | None:
        from assets.notion_sync import build_format, property_columns
        from soleflipper.notion_mappings import load_mapping

        mapping = load_mapping().databases.get(database)
        if mapping is None:
            return None
        return build_format(mapping, property_columns(conn, mapping))

    return resolve


@functools.cache
def raw_tables() -> dict[dg.AssetKey, RawTable]:
    """Every raw asset that writes a table through the loader: the YAML formats (file imports and
    StockX API records) and the Notion databases."""
    from assets.notion import DATABASES as NOTION_DATABASES  # here: assets/notion.py uses this module

    tables = {}
    for name in available_formats():
        key = dg.AssetKey(["raw", load_format(name).table])
        tables[key] = RawTable(key, _file_format(name), static_columns=True)
    for database in NOTION_DATABASES:  # assets/notion.py: raw/notion_<database>
        key = dg.AssetKey(["raw", f"notion_{database}"])
        tables[key] = RawTable(key, _notion_format(database), static_columns=False)
    return tables


# ----------------------------------------------------------------------------- batches


@dataclass(frozen=True)
class Batch:
    batch_id: Any
    source: str
    rows_read: int
    rows_loaded: int
    rows_duplicate: int
    rows_quarantined: int


def batches_since(conn: psycopg.Connection, table: str, since: datetime) -> list[Batch]:
    rows = conn.execute(
        "select batch_id, source, rows_read, rows_loaded, rows_duplicate, rows_quarantined from raw.load_batches"
        " where raw_table = %s and status = 'succeeded' and started_at >= %s order by started_at, batch_id", (table, since)).fetchall()
    return [Batch(*row) for row in rows]


def _table_exists(conn: psycopg.Connection, table: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (f"{RAW_SCHEMA}.{table}",)).fetchone()[0]


def _ids(batches: Iterable[Batch]) -> list:
    return [b.batch_id for b in batches]


# ----------------------------------------------------------------------------- the checks


def _table_meta(report: ValidationReport) -> dg.MetadataValue:
    columns = ["column", "check", "value", "source", "source_line"]
    return dg.MetadataValue.table(
        records=[dg.TableRecord({c: "" if r.get(c) is None else str(r.get(c)) for c in columns})
                 for r in report.sample],
        schema=dg.TableSchema(columns=[dg.TableColumn(c, "string") for c in columns]),
    )


def validate_batches(conn: psycopg.Connection, fmt: CsvFormat, schema, batches: list[Batch],
                     chunk_rows: int = CHUNK_ROWS) -> ValidationReport:
    """Validate the rows of ``batches`` with ``schema``, ``chunk_rows`` at a time (server-side cursor)."""
    report = ValidationReport()
    if not batches:
        return report
    names = [*fmt.column_names, "_source", "_source_line"]
    query = sql.SQL("select {} from {} where _batch_id = any(%s) order by _batch_id, _source_line").format(
        sql.SQL(", ").join(sql.Identifier(n) for n in names), sql.Identifier(RAW_SCHEMA, fmt.table))
    with conn.transaction(), conn.cursor(name="raw_schema_check") as cursor:
        cursor.itersize = chunk_rows
        cursor.execute(query, (_ids(batches),))
        while rows := cursor.fetchmany(chunk_rows):
            validate_chunk(schema, pd.DataFrame.from_records(rows, columns=names), report)
    return report


def _schema_result(key: dg.AssetKey, name: str, report: ValidationReport, scope: dict[str, Any],
                   severity: dg.AssetCheckSeverity, what: str) -> dg.AssetCheckResult:
    text = (f"{report.rows} rows of {scope['batches']} batch(es) valid." if report.passed else
            f"{report.num_failures} failure(s) in {report.failed_rows} of {report.rows} rows: "
            + "; ".join(f"{k} ({n})" for k, n in report.by_check.most_common(5)))
    return dg.AssetCheckResult(
        asset_key=key, check_name=name, passed=report.passed, severity=severity,
        description=f"{what}: {text}",
        metadata={
            **scope,
            "rows_validated": report.rows,
            "num_failures": report.num_failures,
            "failed_rows": report.failed_rows,
            "failures_by_check": dg.MetadataValue.json(dict(report.by_check.most_common())),
            "failure_sample": _table_meta(report),
        })


def row_count_result(conn: psycopg.Connection, key: dg.AssetKey, fmt: CsvFormat, batches: list[Batch],
                     scope: dict[str, Any]) -> dg.AssetCheckResult:
    table = sql.Identifier(RAW_SCHEMA, fmt.table)
    in_table: dict[Any, int] = {}
    if batches:
        in_table = dict(conn.execute(sql.SQL(
            "select _batch_id, count(*) from {} where _batch_id = any(%s) group by _batch_id").format(table),
            (_ids(batches),)).fetchall())
    problems = []
    for b in batches:
        expected = b.rows_read - b.rows_quarantined - b.rows_duplicate
        if b.rows_loaded != expected:
            problems.append(f"batch {b.batch_id} ({b.source}): rows_loaded {b.rows_loaded} != rows_read {b.rows_read}"
                            f" - quarantined {b.rows_quarantined} - duplicate {b.rows_duplicate} = {expected}")
        if in_table.get(b.batch_id, 0) != b.rows_loaded:
            problems.append(f"batch {b.batch_id} ({b.source}): {in_table.get(b.batch_id, 0)} rows in "
                            f"raw.{fmt.table}, {b.rows_loaded} recorded as loaded")
    non_empty = conn.execute(sql.SQL("select exists (select 1 from {})").format(table)).fetchone()[0]
    ever_loaded = conn.execute("select exists (select 1 from raw.load_batches where raw_table = %s"
                               " and status = 'succeeded')", (fmt.table,)).fetchone()[0]
    if ever_loaded and not non_empty:
        problems.append(f"raw.{fmt.table} is empty although batches were loaded (every row quarantined or removed)")
    loaded = sum(b.rows_loaded for b in batches)
    metadata = {
        **scope,
        "rows_read": sum(b.rows_read for b in batches),
        "rows_loaded": loaded,
        "rows_duplicate": sum(b.rows_duplicate for b in batches),
        "rows_quarantined": sum(b.rows_quarantined for b in batches),
        "table_empty": not non_empty,
        "problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems) or "none"),
    }
    if problems:
        description = "; ".join(problems[:3])
    elif not ever_loaded:
        description = f"raw.{fmt.table} was never loaded: nothing to count."
    else:
        description = (f"{loaded} rows loaded by {len(batches)} batch(es), as recorded in raw.load_batches;"
                       f" raw.{fmt.table} is not empty.")
    return dg.AssetCheckResult(asset_key=key, check_name=ROW_COUNT_CHECK, passed=not problems,
                               severity=dg.AssetCheckSeverity.ERROR, description=description, metadata=metadata)


def duplicates_result(conn: psycopg.Connection, key: dg.AssetKey, fmt: CsvFormat, batches: list[Batch],
                      scope: dict[str, Any], static_columns: bool) -> dg.AssetCheckResult:
    if not fmt.natural_key or fmt.identical_rows == "keep":
        why = ("no natural key" if not fmt.natural_key else f"natural key {', '.join(fmt.natural_key)}")
        return dg.AssetCheckResult(
            asset_key=key, check_name=DUPLICATES_CHECK, passed=True, severity=dg.AssetCheckSeverity.ERROR,
            description=f"raw.{fmt.table} keeps identical rows as distinct events (identical_rows: "
                        f"{fmt.identical_rows}, {why}): a row is identified by its content and occurrence "
                        "(_row_hash, the primary key), so it has no duplicates to find.",
            metadata={**scope, "applies": False})
    table = sql.Identifier(RAW_SCHEMA, fmt.table)
    keys = [sql.Identifier(k) for k in fmt.natural_key]
    cols = [sql.Identifier(c) for c in fmt.column_names]
    ids = _ids(batches)
    key_list = sql.SQL(", ").join(keys)
    # (1) a natural key twice in one batch
    in_batch = conn.execute(sql.SQL(
        "select _batch_id, {keys}, count(*) from {t} where _batch_id = any(%s) and {present}"
        " group by _batch_id, {keys} having count(*) > 1 order by _batch_id, {keys}").format(
        keys=key_list, t=table, present=sql.SQL(" and ").join(sql.SQL("{} is not null").format(k) for k in keys)),
        (ids,)).fetchall() if ids else []
    # (2) a row identical in content to a row of another batch (same key: uses the key's index)
    first, rest = keys[0], keys[1:]
    same = sql.SQL(" and ").join([
        sql.SQL("o.{k} = n.{k}").format(k=first),
        *(sql.SQL("o.{k} is not distinct from n.{k}").format(k=k) for k in rest),
        sql.SQL("o._batch_id <> n._batch_id"),
        sql.SQL("row({o}, o._extra) is not distinct from row({n}, n._extra)").format(
            o=sql.SQL(", ").join(sql.SQL("o.{}").format(c) for c in cols),
            n=sql.SQL(", ").join(sql.SQL("n.{}").format(c) for c in cols)),
    ])
    reloaded = conn.execute(sql.SQL(
        "select {keys}, n._source, n._source_line from {t} n where n._batch_id = any(%s)"
        " and exists (select 1 from {t} o where {same}) order by {keys}").format(
        keys=sql.SQL(", ").join(sql.SQL("n.{}").format(k) for k in keys), t=table, same=same),
        (ids,)).fetchall() if ids else []
    # (3) every row keyed by its content hash, as the loader keys it (YAML formats only: a Notion
    # table that gained a prop_ column mid-run hashed its earlier batches without it)
    off_hash = 0
    if ids and static_columns:
        off_hash = conn.execute(sql.SQL(
            "select count(*) from {t} where _batch_id = any(%s)"
            " and _row_hash <> md5(row({cols}, _extra)::text)::uuid").format(
            t=table, cols=sql.SQL(", ").join(cols)), (ids,)).fetchone()[0]
    lines = [f"- {', '.join(map(str, row[1:-1]))}: {row[-1]} rows in batch {row[0]}" for row in in_batch[:SAMPLE]]
    lines += [f"- {', '.join(map(str, row[:-2]))}: identical to an earlier batch's row ({row[-2]} line {row[-1]})"
              for row in reloaded[:SAMPLE]]
    passed = not in_batch and not reloaded and not off_hash
    parts = []
    if in_batch:
        parts.append(f"{len(in_batch)} natural key(s) ({', '.join(fmt.natural_key)}) more than once in one batch")
    if reloaded:
        parts.append(f"{len(reloaded)} row(s) identical to rows of an earlier batch")
    if off_hash:
        parts.append(f"{off_hash} row(s) not keyed by their content hash")
    return dg.AssetCheckResult(
        asset_key=key, check_name=DUPLICATES_CHECK, passed=passed, severity=dg.AssetCheckSeverity.ERROR,
        description=("; ".join(parts) if parts else
                     f"No duplicate natural key ({', '.join(fmt.natural_key)}) or content in this run's rows."),
        metadata={**scope, "applies": True, "natural_key": ", ".join(fmt.natural_key),
                  "duplicate_keys_in_batch": len(in_batch), "rows_identical_to_earlier_batch": len(reloaded),
                  "rows_not_keyed_by_content_hash": off_hash,
                  "duplicates": dg.MetadataValue.md("\n".join(lines) or "none")})


def evaluate_table(conn: psycopg.Connection, key: dg.AssetKey, fmt: CsvFormat | None, batches: list[Batch],
                   scope: dict[str, Any], static_columns: bool, selected: set[str]) -> list[dg.AssetCheckResult]:
    """The selected checks' results for one raw table (``fmt`` None / no table: nothing loaded)."""
    results = []
    if fmt is None or not _table_exists(conn, fmt.table):
        what = "no format" if fmt is None else f"raw.{fmt.table} does not exist yet"
        for name in selected:
            severity = dg.AssetCheckSeverity.WARN if name == VOCABULARY_CHECK else dg.AssetCheckSeverity.ERROR
            results.append(dg.AssetCheckResult(asset_key=key, check_name=name, passed=True, severity=severity,
                                               description=f"Nothing loaded ({what}).", metadata=scope))
        return results
    if SCHEMA_CHECK in selected:
        report = validate_batches(conn, fmt, table_schema(fmt, rules_for(fmt.table)), batches)
        results.append(_schema_result(key, SCHEMA_CHECK, report, scope, dg.AssetCheckSeverity.ERROR,
                                      "pandera schema"))
    if VOCABULARY_CHECK in selected:
        vocabulary = vocabulary_schema(fmt, rules_for(fmt.table))
        report = validate_batches(conn, fmt, vocabulary, batches) if vocabulary is not None else ValidationReport()
        results.append(_schema_result(key, VOCABULARY_CHECK, report, scope, dg.AssetCheckSeverity.WARN,
                                      "known values" if vocabulary is not None else "no vocabulary rules"))
    if ROW_COUNT_CHECK in selected:
        results.append(row_count_result(conn, key, fmt, batches, scope))
    if DUPLICATES_CHECK in selected:
        results.append(duplicates_result(conn, key, fmt, batches, scope, static_columns))
    return results


def _specs(tables: Mapping[dg.AssetKey, RawTable]) -> list[dg.AssetCheckSpec]:
    specs = []
    for key in sorted(tables):
        table = key.path[-1]
        specs += [
            dg.AssetCheckSpec(SCHEMA_CHECK, asset=key, blocking=True,
                              description=f"The rows loaded into raw.{table} by this run match its pandera schema "
                                          "(format types, not-null keys, patterns, ranges, ISO 4217 currencies)."),
            dg.AssetCheckSpec(ROW_COUNT_CHECK, asset=key, blocking=True,
                              description=f"raw.{table} holds exactly the rows raw.load_batches says this run "
                                          "loaded (read - quarantined - duplicate), and is not empty once loaded."),
            dg.AssetCheckSpec(DUPLICATES_CHECK, asset=key, blocking=True,
                              description=f"No natural key twice in one batch of raw.{table}, no re-loaded "
                                          "content, every row keyed by its content hash."),
            dg.AssetCheckSpec(VOCABULARY_CHECK, asset=key, blocking=False,
                              description=f"Values in raw.{table} outside the vocabularies staging knows "
                                          "(StockX statuses, sales platforms): a warning, not a stop."),
        ]
    return specs


def raw_check_specs(*asset_keys: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    """The four checks of each raw asset in ``asset_keys``, for the asset's ``check_specs``."""
    tables = raw_tables()
    return _specs({key: tables[key] for key in asset_keys})


def database_now(conn: psycopg.Connection) -> datetime:
    """The database's clock (it stamps ``raw.load_batches.started_at``): take it before loading,
    then pass it to :func:`raw_check_results`."""
    now = conn.execute("select clock_timestamp()").fetchone()[0]
    conn.commit()
    return now


def raw_check_results(conn: psycopg.Connection, key: dg.AssetKey, since: datetime) -> list[dg.AssetCheckResult]:
    """The four checks of raw asset ``key`` on the batches of its table that started at or after ``since``."""
    table = raw_tables()[key]
    fmt = table.resolve(conn)
    if fmt is not None and _table_exists(conn, fmt.table):
        batches = batches_since(conn, fmt.table, since)
        scope: dict[str, Any] = {"scope": "batches loaded by this materialization", "batches": len(batches),
                                 "batch_ids": dg.MetadataValue.json([str(b.batch_id) for b in batches])}
    else:
        batches, scope = [], {"scope": "nothing loaded", "batches": 0}
    conn.commit()
    results = evaluate_table(conn, key, fmt, batches, scope, table.static_columns, set(CHECK_NAMES))
    conn.commit()
    failed = [r for r in results if not r.passed and r.check_name in BLOCKING_CHECKS]
    if failed and batches:
        moved = reject_batches(conn, fmt, batches, "; ".join(f"{r.check_name}: {r.description}" for r in failed))
        results = [dg.AssetCheckResult(
            asset_key=r.asset_key, check_name=r.check_name, passed=r.passed, severity=r.severity,
            description=r.description,
            metadata={**r.metadata, "batches_rejected": len(batches), "rows_moved_to_quarantine": moved})
            for r in results]
    return results


def reject_batches(conn: psycopg.Connection, fmt: CsvFormat, batches: list[Batch], reason: str) -> int:
    """Take ``batches`` out of the warehouse, whole (a load is all-or-nothing per batch): their rows
    move from ``raw.<table>`` to ``raw.quarantine`` with ``reason`` and the batches are marked
    failed, so no later build (a KPI refresh, the nightly build) reads them and the same file can
    be dropped again once corrected. Returns the rows moved."""
    table = sql.Identifier(RAW_SCHEMA, fmt.table)
    reason = f"batch rejected by blocking check(s): {reason}"[:2000]
    with conn.transaction():
        moved = conn.execute(sql.SQL(
            "with moved as (delete from {t} where _batch_id = any(%(ids)s) returning *)"
            " insert into raw.quarantine (batch_id, format, raw_table, source, line_number, field, reason,"
            " record, record_hash)"
            " select _batch_id, %(fmt)s, %(table)s, _source, (to_jsonb(moved) ->> '_source_line')::integer,"
            " null, %(reason)s,"
            " to_jsonb(moved) - '_batch_id' - '_row_hash' - '_loaded_at' - '_source' - '_source_line',"
            " md5(%(table)s || ':rejected:' || _row_hash::text || ':' || _batch_id::text)::uuid from moved"
            " on conflict (record_hash) do nothing").format(t=table),
            {"ids": _ids(batches), "fmt": fmt.name, "table": fmt.table, "reason": reason}).rowcount
        conn.execute(
            "update raw.load_batches set status = 'failed', error = %s, rows_quarantined = rows_read,"
            " rows_loaded = 0 where batch_id = any(%s)", (reason, _ids(batches)))
    return moved


__all__ = ["database_now", "raw_check_results", "raw_check_specs", "raw_tables", "reject_batches", "validate_batches"]
