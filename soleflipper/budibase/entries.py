"""Rows entered in Budibase, as records for the warehouse loader.

Which rows: every version of an entry row (primary key + ``updated_at``) that is neither in its raw
table (``raw.budibase_<entity>``) nor already quarantined. ``updated_at`` is set by a trigger on
every edit (entry_tables.py), so an edited row is read once more, a row nobody touched never again,
and a slow transaction that commits an old timestamp late is not missed (no watermark to pass it).

Validation is the same as for files and API records: the record format
(``soleflipper/formats/budibase_*.yaml``, :func:`soleflipper.record_parsing.parse_records`) and then
the raw table's pandera schema (:func:`soleflipper.raw_schemas.table_schema`), row by row, so one
bad entry is quarantined alone instead of failing the raw checks for everybody's entries. Each
error names the entry table, the row's primary key (also the quarantine's ``line_number``) and the
field.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import pandera.pandas as pa
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from soleflipper.budibase.entry_tables import ENTRY_TABLES, EntryTable
from soleflipper.csv_parsing import ParsedRow, RowError
from soleflipper.formats import CsvFormat, load_format
from soleflipper.raw_schemas import table_schema
from soleflipper.record_parsing import parse_records


def entry_source(entry: EntryTable) -> str:
    """The loader's ``source`` (raw ``_source``, quarantine ``source``) for an entry table."""
    return f"budibase:{entry.qualified}"


def entry_table(name: str) -> EntryTable:
    for entry in ENTRY_TABLES:
        if entry.table == name:
            return entry
    raise KeyError(f"no entry table {name!r}; known: {', '.join(e.table for e in ENTRY_TABLES)}")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):  # UTC whatever the session's TimeZone: the text is compared later
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def pending_records(conn: psycopg.Connection, entry: EntryTable) -> list[dict[str, Any]]:
    """Entry rows whose current version is not loaded or quarantined yet, by primary key."""
    fmt = load_format(entry.format_name)
    pk = sql.Identifier(entry.primary_key)
    query = sql.SQL(
        "select e.* from ({select}) e where not exists (select 1 from {raw} r"
        " where r.{pk} = e.{pk} and r.updated_at = e.updated_at) order by e.{pk}"
    ).format(select=sql.SQL(entry.select_sql), raw=sql.Identifier("raw", fmt.table), pk=pk)
    with conn.cursor(row_factory=dict_row) as cur:
        rows = [{k: _plain(v) for k, v in row.items()} for row in cur.execute(query)]
    quarantined = {
        (line, updated) for line, updated in conn.execute(
            "select line_number, record->>'updated_at' from raw.quarantine where source = %s",
            (entry_source(entry),))
    }
    return [r for r in rows if (r[entry.primary_key], r["updated_at"]) not in quarantined]


def _record_text(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: None if v is None else str(v) for k, v in record.items()}


def _row_error(entry: EntryTable, record: Mapping[str, Any], field: str | None, reason: str) -> RowError:
    key = record[entry.primary_key]
    where = f"{entry.qualified} {entry.primary_key}={key}" + (f", field {field}" if field else "")
    return RowError(int(key), field, f"{where}: {reason}", _record_text(record))


def validate_records(entry: EntryTable, records: list[dict[str, Any]],
                     fmt: CsvFormat | None = None) -> list[ParsedRow | RowError]:
    """The records as the loader takes them: parsed rows, or errors naming table, row and field.

    ``line`` is the row's primary key (the loader stores it as ``_source_line``)."""
    fmt = fmt or load_format(entry.format_name)
    out: list[ParsedRow | RowError] = []
    for record, parsed in zip(records, parse_records(fmt, records), strict=True):
        if isinstance(parsed, RowError):
            out.append(_row_error(entry, record, parsed.field, parsed.reason))
        else:
            out.append(dataclasses.replace(parsed, line=int(record[entry.primary_key])))
    good = [i for i, row in enumerate(out) if isinstance(row, ParsedRow)]
    if not good:
        return out
    frame = pd.DataFrame([out[i].values for i in good], columns=fmt.column_names)
    try:
        table_schema(fmt).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        failures: dict[int, tuple[str, str, Any]] = {}
        for case in exc.failure_cases.itertuples(index=False):
            if case.index is None or case.index != case.index:  # table-level: no row to blame
                continue
            failures.setdefault(int(case.index), (str(case.column), str(case.check), case.failure_case))
        for position, (column, check, value) in failures.items():
            record = records[good[position]]
            out[good[position]] = _row_error(entry, record, column,
                                             f"{json.dumps(_plain(value), default=str)} fails {check}")
    return out
