"""Notion databases → raw tables: the domain logic behind the ``notion`` assets (no Dagster here).

:func:`sync_database` reads one mapped Notion database (``soleflipper/notion_mappings/*.yaml``)
with :meth:`NotionClient.query`, flattens every page with
:func:`~soleflipper.notion_properties.flatten_page` and loads each batch of pages with
:func:`resources.warehouse.load_rows` as ONE all-or-nothing batch. Nothing is held open across
HTTP: a batch is fetched, then loaded and committed, then the next one is fetched.

The raw table (``raw.notion_<name>``, or the mapping's ``table``)
    ``page_id`` (not null), ``last_edited_time`` (not null), ``created_time``, ``in_trash``,
    ``archived``, ``url``, one typed column per mapped property (mapping order), ``page`` (jsonb:
    the whole page object), then one ``prop_<slug>`` column per property the mapping does not
    know (see below), plus the loader's ``_batch_id``, ``_source``, ``_loaded_at``, ``_row_hash``.
    Append-only: one row per page *version*; natural key ``page_id``.
Versions and de-duplication
    A row's identity is the hash of its content (every column above, the page JSON included).
    Re-reading a page unchanged adds nothing; an edit, a trash, a changed rollup or formula adds
    one new version. Notion-hosted file URLs are signed and re-signed on every read (they expire
    after an hour), so before hashing they are stored without their query string (the stable
    object URL) and without ``expiry_time``: otherwise every read would be a "new version".
    Formulas that use ``now()`` (``Sold 90 Days ago``) do change from one day to the next
    without an edit; a re-read after such a change is, correctly, a new version.
Incremental sync and the cursor
    Notion rounds ``last_edited_time`` down to the minute, so the query is ``on_or_after`` the
    cursor's minute (inclusive): the cursor minute's pages come again and are duplicates by
    content. The cursor is the greatest ``last_edited_time`` of the pages read. Batches come in
    ascending ``last_edited_time`` order, so after batch *n* is committed everything up to its
    ``resume_from`` is stored: an interrupted sync loses at most the batch in flight, and
    :func:`committed_cursor` (the greatest ``last_edited_time`` in the table) is where a rerun
    resumes. A failure raises :class:`NotionSyncInterrupted` carrying what was committed.
Schema drift
    A property the mapping neither maps nor ignores becomes a nullable column ``prop_<slug>``
    (``Pickup Window`` → ``prop_pickup_window``; ``_2``, ``_3`` on a clash), typed from its Notion
    type (number → numeric, checkbox → boolean, date → timestamptz at the start of the date or
    range, anything else → text), added by :func:`resources.warehouse.ensure_raw_table` and
    filled from then on. The column's comment records the property name (``notion_sync:
    {"property": ...}``), so the same property keeps its column in later runs. A mapped property
    that the pages no longer have (renamed or deleted in Notion) is reported as *missing*: its
    column stays, with its history, and is NULL in new versions. Nothing is ever dropped.
Deletions
    Trashed (``in_trash``, or ``archived`` in old API versions) pages are read too: trashing a
    page changes it, so the trash shows up as a new version with ``in_trash = true``. A page
    deleted for good is no longer returned at all; a *full refresh* that completes writes a
    tombstone for every page whose latest version is in the table but that Notion did not return:
    ``page_id``, ``last_edited_time`` = the time of detection, ``in_trash = true``, every other
    column NULL and ``page = {"deleted": true, "detected_by": "full_refresh"}`` (see
    :data:`TOMBSTONE_PAGE`). Staging takes the latest version per ``page_id`` (``order by
    last_edited_time desc, _loaded_at desc``) and drops it when ``in_trash`` or ``archived``.
    A full refresh that returns no page at all writes no tombstones (a lost share looks like
    that) and says so in a warning. A tombstoned page that comes back unchanged (shared with the
    integration again) is a duplicate of its old version and stays tombstoned until it is edited;
    this is reported as a warning.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import pq, sql

from resources.notion.client import MAX_PAGE_SIZE, NotionClient, QueryTarget
from resources.warehouse import RAW_SCHEMA, LoadResult, ensure_raw_table, load_rows
from soleflipper.formats import CsvFormat, parse_format
from soleflipper.notion_properties import DatabaseMapping, flatten_page, flatten_property, to_column
from soleflipper.record_parsing import parse_records

__all__ = [
    "BASE_COLUMNS",
    "PAGE_COLUMN",
    "TOMBSTONE_PAGE",
    "NotionSyncInterrupted",
    "NotionSyncResult",
    "PropertyColumn",
    "build_format",
    "committed_cursor",
    "ensure_notion_tables",
    "inferred_type",
    "normalise_page",
    "property_columns",
    "prop_column_name",
    "sync_database",
]

log = logging.getLogger(__name__)

# Columns every Notion raw table has, before the mapped ones: (name, type, not null).
BASE_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("page_id", "text", True),
    ("last_edited_time", "timestamptz", True),
    ("created_time", "timestamptz", False),
    ("in_trash", "boolean", False),
    ("archived", "boolean", False),
    ("url", "text", False),
)
PAGE_COLUMN = "page"
PROP_PREFIX = "prop_"
INFERRED_TYPES = {"number": "numeric", "checkbox": "boolean", "date": "timestamptz"}
TOMBSTONE_PAGE: dict[str, Any] = {"deleted": True, "detected_by": "full_refresh"}
COMMENT_PREFIX = "notion_sync: "
RESERVED_COLUMNS = frozenset(name for name, _, _ in BASE_COLUMNS) | {PAGE_COLUMN}
_SQL_TO_COLUMN_TYPE = {
    "text": "text",
    "numeric": "numeric",
    "boolean": "boolean",
    "timestamp with time zone": "timestamptz",
    "date": "date",
    "jsonb": "json",
    "bigint": "integer",
}
_MAX_IDENT = 63


class NotionSyncInterrupted(RuntimeError):
    """A sync stopped half-way. ``result``: what was committed before (``result.cursor`` resumes it)."""

    def __init__(self, message: str, result: NotionSyncResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class PropertyColumn:
    """A column filled from a Notion property the mapping does not name (``prop_<slug>``)."""

    property: str
    column: str
    type: str  # a format column type: numeric, boolean, timestamptz, text (or what the table has)
    notion_type: str | None = None


@dataclass
class NotionSyncResult:
    """What one sync of one database did. Counts are pages (one page = one row candidate)."""

    database: str
    table: str  # raw.<table>
    full_refresh: bool
    since: datetime | None  # the cursor the sync started from (None: everything)
    cursor: datetime | None = None  # greatest last_edited_time committed (resume / next sync from here)
    batches: int = 0
    pages: int = 0  # pages read from Notion, repeats of the cursor minute included
    loaded: int = 0  # new versions written
    changed: int = 0  # ... of pages already in the table
    duplicate: int = 0  # pages already stored exactly so
    quarantined: int = 0
    trashed: int = 0  # pages read that are in the trash (in_trash or archived)
    trashed_loaded: int = 0  # new versions that are in the trash (pages trashed since the last sync)
    tombstones: int = 0  # pages deleted for good, detected by a full refresh
    new_columns: list[str] = field(default_factory=list)
    missing_properties: list[str] = field(default_factory=list)  # mapped, but not on the pages
    unmapped_properties: dict[str, str] = field(default_factory=dict)  # property → prop_ column
    warnings: list[str] = field(default_factory=list)
    loads: list[LoadResult] = field(default_factory=list, repr=False)
    _seen: set[str] = field(default_factory=set, repr=False)

    def summary(self) -> str:
        text = (
            f"{self.table}: {self.pages} pages read in {self.batches} batches, {self.loaded} new versions"
            f" ({self.changed} of known pages), {self.duplicate} duplicate, {self.quarantined} quarantined,"
            f" {self.trashed_loaded} newly trashed, {self.tombstones} tombstones"
        )
        return text + (f", cursor {self.cursor.isoformat()}" if self.cursor else "")


# -- the raw table format -----------------------------------------------------------------------


def table_parts(mapping: DatabaseMapping) -> tuple[str, str]:
    """(source, entity) so that the format's table ``<source>_<entity>`` is the mapping's table."""
    source, _, entity = mapping.table.partition("_")
    if not entity:
        raise ValueError(
            f"Notion mapping {mapping.name!r}: table {mapping.table!r} needs an underscore"
            " (raw tables are named <source>_<entity>, e.g. notion_purchases)"
        )
    return source, entity


def build_format(mapping: DatabaseMapping, extra: Sequence[PropertyColumn] = ()) -> CsvFormat:
    """The raw table's format: base columns, mapped columns, ``page``, then ``extra`` (prop_ columns)."""
    clash = sorted(RESERVED_COLUMNS & set(mapping.column_types))
    if clash:
        raise ValueError(
            f"Notion mapping {mapping.name!r}: column(s) {clash} clash with the columns every Notion raw"
            f" table has ({', '.join(sorted(RESERVED_COLUMNS))}); choose other column names"
        )
    source, entity = table_parts(mapping)
    columns: list[dict[str, Any]] = [
        {"name": name, "header": name, "type": ctype, **({"not_null": True} if not_null else {})}
        for name, ctype, not_null in BASE_COLUMNS
    ]
    columns += [{"name": col.column, "header": col.column, "type": col.type} for col in mapping.columns]
    columns.append({"name": PAGE_COLUMN, "header": PAGE_COLUMN, "type": "json"})
    columns += [{"name": col.column, "header": col.column, "type": col.type} for col in extra]
    return parse_format(
        {
            "name": mapping.table,
            "source": source,
            "entity": entity,
            "platform": "notion",
            "description": mapping.description or f"Notion database {mapping.name}",
            "file_patterns": [],
            "natural_key": ["page_id"],
            "identical_rows": "duplicate",
            "columns": columns,
        },
        f"Notion mapping {mapping.name!r}",
    )


def inferred_type(notion_type: str | None) -> str:
    """The column type of a property the mapping does not know, from its Notion type."""
    return INFERRED_TYPES.get(notion_type or "", "text")


def _slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")


def prop_column_name(name: str, taken: Iterable[str]) -> str:
    """``prop_<slug>`` for a Notion property name, unique among ``taken`` (``_2``, ``_3`` ...)."""
    used = set(taken)
    base = (PROP_PREFIX + (_slug(name) or "unnamed"))[:_MAX_IDENT].rstrip("_")
    candidate, n = base, 1
    while candidate in used:
        n += 1
        suffix = f"_{n}"
        candidate = base[: _MAX_IDENT - len(suffix)].rstrip("_") + suffix
    return candidate


# -- the page as a row --------------------------------------------------------------------------


def _unsigned(url: Any) -> Any:
    if not isinstance(url, str):
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query="", fragment=""))


def normalise_page(value: Any) -> Any:
    """A copy of a page (or any JSON) with Notion-hosted file URLs unsigned and ``expiry_time`` dropped.

    A hosted file is ``{"type": "file", "file": {"url": <signed>, "expiry_time": ...}}`` wherever it
    appears (files properties, rollups of them, the page icon and cover); the signature changes on
    every read, the object URL does not.
    """
    if isinstance(value, Mapping):
        out = {key: normalise_page(item) for key, item in value.items()}
        inner = out.get("file")
        if out.get("type") == "file" and isinstance(inner, dict):
            out["file"] = {
                k: (_unsigned(v) if k == "url" else v) for k, v in inner.items() if k != "expiry_time"
            }
        return out
    if isinstance(value, list):
        return [normalise_page(item) for item in value]
    return value


def _cell(value: Any, column_type: str) -> str | None:
    """A column value as the canonical text the record parser converts."""
    if value is None:
        return None
    if column_type == "json":
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def _page_record(
    row: Mapping[str, Any],
    page: Mapping[str, Any],
    mapping: DatabaseMapping,
    extra: Mapping[str, PropertyColumn],
    warnings: list[str],
) -> dict[str, str | None]:
    types = mapping.column_types
    record: dict[str, str | None] = {
        "page_id": row["page_id"],
        "last_edited_time": _cell(row["last_edited_time"], "timestamptz"),
        "created_time": _cell(row["created_time"], "timestamptz"),
        "in_trash": _cell(row["in_trash"], "boolean"),
        "archived": _cell(row["archived"], "boolean"),
        "url": row["url"],
        PAGE_COLUMN: _cell(page, "json"),
    }
    for column, value in row["values"].items():
        record[column] = _cell(value, types[column])
    for name, prop in row["unmapped"].items():
        col = extra[name]
        value, problem = to_column(flatten_property(prop), col.type)
        if problem:
            warnings.append(f"page {row['page_id']}: property {name!r} → column {col.column!r}: {problem}")
        record[col.column] = _cell(value, col.type)
    return record


def _tombstone_record(page_id: str, at: datetime) -> dict[str, str | None]:
    return {
        "page_id": page_id,
        "last_edited_time": at.isoformat(),
        "in_trash": "true",
        PAGE_COLUMN: json.dumps(TOMBSTONE_PAGE, sort_keys=True),
    }


# -- catalog ------------------------------------------------------------------------------------


def _table_columns(conn: psycopg.Connection, table: str) -> list[tuple[str, str, str | None]]:
    """(name, SQL type, comment) of ``raw.<table>`` in column order; [] when it does not exist."""
    with conn.transaction():
        return conn.execute(
            "select a.attname, format_type(a.atttypid, a.atttypmod), col_description(a.attrelid, a.attnum)"
            " from pg_attribute a where a.attrelid = to_regclass(%s) and a.attnum > 0 and not a.attisdropped"
            " order by a.attnum",
            (f"{RAW_SCHEMA}.{table}",),
        ).fetchall()


def property_columns(conn: psycopg.Connection, mapping: DatabaseMapping) -> list[PropertyColumn]:
    """The prop_ columns earlier syncs added to the mapping's table, in table order."""
    mapped = set(mapping.column_types)
    found = []
    for name, sql_type, comment in _table_columns(conn, mapping.table):
        if not comment or not comment.startswith(COMMENT_PREFIX) or name in mapped:
            continue
        try:
            info = json.loads(comment[len(COMMENT_PREFIX) :])
        except ValueError:
            continue
        if isinstance(info, dict) and isinstance(info.get("property"), str):
            found.append(
                PropertyColumn(
                    info["property"], name, _SQL_TO_COLUMN_TYPE.get(sql_type, "text"), info.get("notion_type")
                )
            )
    return found


def _check_types(conn: psycopg.Connection, fmt: CsvFormat) -> None:
    """A mapped column whose type in the table differs from the mapping's: a clear error, not a COPY failure."""
    existing = {name: sql_type for name, sql_type, _ in _table_columns(conn, fmt.table)}
    wrong = [
        f"{c.name} is {existing[c.name]} in raw.{fmt.table}, the mapping says {c.type}"
        for c in fmt.columns
        if c.name in existing and existing[c.name] != c.sql_type and existing[c.name] != _pg_name(c.sql_type)
    ]
    if wrong:
        raise ValueError(
            "; ".join(wrong) + ". Columns are never retyped (that would rewrite history): map the property"
            " to a new column name instead"
        )


def _pg_name(sql_type: str) -> str:
    return {"timestamptz": "timestamp with time zone", "char(3)": "character(3)"}.get(sql_type, sql_type)


def _record_columns(conn: psycopg.Connection, table: str, added: Sequence[PropertyColumn]) -> None:
    with conn.transaction():
        for col in added:
            note = json.dumps({"property": col.property, "notion_type": col.notion_type}, ensure_ascii=False)
            conn.execute(
                sql.SQL("comment on column {}.{} is {}").format(
                    sql.Identifier(RAW_SCHEMA, table),
                    sql.Identifier(col.column),
                    sql.Literal(COMMENT_PREFIX + note),
                )
            )


_NOT_TOMBSTONE = sql.SQL("not coalesce({} @> '{{\"deleted\": true}}'::jsonb, false)").format(
    sql.Identifier(PAGE_COLUMN)
)


def committed_cursor(conn: psycopg.Connection, mapping: DatabaseMapping) -> datetime | None:
    """The greatest ``last_edited_time`` stored for the mapping's database (tombstones aside).

    Batches are committed in ascending ``last_edited_time`` order, so everything edited before it
    is stored: a sync that failed half-way resumes from here. None when nothing is stored.
    """
    if not _table_columns(conn, mapping.table):
        return None
    with conn.transaction():
        value = conn.execute(
            sql.SQL("select max(last_edited_time) from {} where {}").format(
                sql.Identifier(RAW_SCHEMA, mapping.table), _NOT_TOMBSTONE
            )
        ).fetchone()[0]
    return value.astimezone(UTC) if value is not None else None


def _latest_versions(conn: psycopg.Connection, table: str) -> list[tuple[str, datetime, bool]]:
    """(page_id, last_edited_time, is a tombstone) of every page's latest version."""
    with conn.transaction():
        return conn.execute(
            sql.SQL(
                "select distinct on (page_id) page_id, last_edited_time, not {} from {}"
                " order by page_id, last_edited_time desc, _loaded_at desc"
            ).format(_NOT_TOMBSTONE, sql.Identifier(RAW_SCHEMA, table))
        ).fetchall()


def _count_trashed(conn: psycopg.Connection, table: str, batch_id: str | None) -> int:
    if batch_id is None:
        return 0
    with conn.transaction():
        return conn.execute(
            sql.SQL("select count(*) from {} where _batch_id = %s::uuid and in_trash").format(
                sql.Identifier(RAW_SCHEMA, table)
            ),
            (batch_id,),
        ).fetchone()[0]


def ensure_notion_tables(conn: psycopg.Connection, databases: Iterable[DatabaseMapping]) -> None:
    """Every mapped database's raw table (empty if never synced), so dbt can build before a first sync."""
    for mapping in databases:
        fmt = build_format(mapping, property_columns(conn, mapping))
        _check_types(conn, fmt)
        ensure_raw_table(conn, fmt)


# -- the sync -----------------------------------------------------------------------------------


def _add(result: NotionSyncResult, load: LoadResult) -> None:
    result.loads.append(load)
    result.loaded += load.rows_loaded
    result.changed += load.rows_changed
    result.duplicate += load.rows_duplicate
    result.quarantined += load.rows_quarantined


def sync_database(
    client: NotionClient,
    conn: psycopg.Connection,
    target: QueryTarget | None,
    mapping_entry: DatabaseMapping,
    since: datetime | None = None,
    full_refresh: bool = False,
    *,
    page_size: int = MAX_PAGE_SIZE,
    progress: Callable[[NotionSyncResult], None] | None = None,
    now: Callable[[], datetime] | None = None,
) -> NotionSyncResult:
    """Sync one mapped database into its raw table (module doc); returns counts and the new cursor.

    ``target``: where to query (None: the mapping entry itself, which names its database).
    ``since``: the cursor (ignored with ``full_refresh``). ``progress`` is called after every
    committed batch. ``now``: the clock for tombstones (default: UTC now). ``conn`` must not be
    inside a transaction: each batch commits on its own. Raises :class:`NotionSyncInterrupted`
    (with what was committed) if anything fails after the sync started.
    """
    if conn.info.transaction_status != pq.TransactionStatus.IDLE:
        raise ValueError(
            "sync_database needs a connection outside a transaction: every batch is committed on its own"
        )
    mapping = mapping_entry
    target = target if target is not None else mapping
    result = NotionSyncResult(
        database=mapping.name,
        table=f"{RAW_SCHEMA}.{mapping.table}",
        full_refresh=full_refresh,
        since=None if full_refresh else since,
        cursor=None if full_refresh else since,
    )
    extra = {col.property: col for col in property_columns(conn, mapping)}
    fmt = build_format(mapping, list(extra.values()))
    _check_types(conn, fmt)
    ensure_raw_table(conn, fmt)  # an empty database still has its (empty) table; new mapped columns
    missing: set[str] = set()
    source = f"notion:{mapping.name}"
    try:
        for batch in client.query(target, since=since, full_refresh=full_refresh, page_size=page_size):
            pages = [normalise_page(page) for page in batch.pages]
            rows = [flatten_page(page, mapping) for page in pages]
            fmt = _grow(conn, mapping, fmt, extra, rows, result)
            warnings: list[str] = []
            records = []
            for row, page in zip(rows, pages, strict=True):
                warnings += [f"page {row['page_id']}: {w}" for w in row["warnings"]]
                records.append(_page_record(row, page, mapping, extra, warnings))
            load = load_rows(conn, fmt, parse_records(fmt, records), source=source)
            # committed: count it
            _add(result, load)
            result.trashed_loaded += _count_trashed(conn, mapping.table, load.batch_id)
            result.batches += 1
            result.pages += len(pages)
            result.warnings += warnings
            for row in rows:
                result._seen.add(row["page_id"])
                result.trashed += bool(row["in_trash"])
                missing.update(row["missing"])
                for name in row["unmapped"]:
                    result.unmapped_properties[name] = extra[name].column
            result.missing_properties = sorted(missing)
            if batch.resume_from is not None and (result.cursor is None or batch.resume_from > result.cursor):
                result.cursor = batch.resume_from
            if progress is not None:
                progress(result)
        if full_refresh:
            _tombstones(conn, mapping, fmt, result, now or (lambda: datetime.now(UTC)))
    except Exception as exc:
        raise NotionSyncInterrupted(
            f"Notion sync of {mapping.name} into {result.table} stopped after {result.batches} committed"
            f" batch(es) ({result.pages} pages; resume from"
            f" {result.cursor.isoformat() if result.cursor else 'the start'}): {exc}",
            result,
        ) from exc
    return result


def _grow(
    conn: psycopg.Connection,
    mapping: DatabaseMapping,
    fmt: CsvFormat,
    extra: dict[str, PropertyColumn],
    rows: Sequence[Mapping[str, Any]],
    result: NotionSyncResult,
) -> CsvFormat:
    """Add a prop_ column for every property of ``rows`` the mapping and the table do not know yet."""
    kinds: dict[str, str | None] = {}
    for row in rows:
        for name, prop in row["unmapped"].items():
            if name not in extra and name not in kinds:
                kinds[name] = prop.get("type") if isinstance(prop, Mapping) else None
    if not kinds:
        return fmt
    taken = set(fmt.column_names) | {name for name, _, _ in _table_columns(conn, mapping.table)}
    added = []
    for name in sorted(kinds):
        column = prop_column_name(name, taken)
        taken.add(column)
        added.append(PropertyColumn(name, column, inferred_type(kinds[name]), kinds[name]))
    for col in added:
        extra[col.property] = col
    fmt = build_format(mapping, list(extra.values()))
    ensure_raw_table(conn, fmt)
    _record_columns(conn, mapping.table, added)
    result.new_columns += [col.column for col in added]
    log.info("%s: new Notion properties %s", result.table, {c.property: c.column for c in added})
    return fmt


def _tombstones(
    conn: psycopg.Connection,
    mapping: DatabaseMapping,
    fmt: CsvFormat,
    result: NotionSyncResult,
    now: Callable[[], datetime],
) -> None:
    latest = _latest_versions(conn, mapping.table)
    back = sorted(pid for pid, _, tomb in latest if tomb and pid in result._seen)
    for page_id in back:
        result.warnings.append(
            f"page {page_id}: was tombstoned (deleted for good) but Notion returns it again; it stays"
            " deleted downstream until it is edited"
        )
    gone = [(pid, edited) for pid, edited, tomb in latest if not tomb and pid not in result._seen]
    if not gone:
        return
    if not result._seen:
        result.warnings.append(
            f"the full refresh returned no pages at all: no tombstones written for the {len(gone)} stored"
            " pages (check that the database is still shared with the integration)"
        )
        return
    moment = now()
    records = [_tombstone_record(pid, max(moment, edited)) for pid, edited in sorted(gone)]
    load = load_rows(conn, fmt, parse_records(fmt, records), source=f"notion:{mapping.name}:full_refresh")
    result.loads.append(load)
    result.tombstones += load.rows_loaded
    result.quarantined += load.rows_quarantined
