"""Notion page properties as typed Python values, and pages as warehouse rows (pure functions, no I/O).

A Notion page carries its properties keyed by *name*; each value object names its ``type`` and
holds the value under a key of that name (api-contracts.md §2.5). :func:`flatten_property` turns
one value object into a plain Python value:

=================================  ===========================================================
Notion type                        Python value (empty value)
=================================  ===========================================================
title, rich_text                   ``str``: every item's ``plain_text`` concatenated (``None``)
number                             ``Decimal`` (``None``); money stays exact
select, status                     the option's name (``None``)
multi_select                       ``list[str]`` of names (``[]``)
date                               :class:`DateValue` — start/end are ``date`` or tz-aware
                                   ``datetime``; ``end`` and ``time_zone`` kept (``None``)
checkbox                           ``bool`` (``False``)
url, email, phone_number           ``str`` (``None``)
relation                           :class:`Relation` — page ids and ``has_more`` (no ids)
rollup                             its result: ``Decimal`` / :class:`DateValue` / ``list`` of
                                   flattened items; ``incomplete``/``unsupported`` →
                                   :class:`UnknownValue`
formula                            its result: ``str`` / ``Decimal`` / ``bool`` /
                                   :class:`DateValue` (``None``)
files                              ``list[FileRef]``: name, url, Notion-hosted (expiring) or
                                   external
people                             ``list[User]`` (partial users carry only the id)
created_time, last_edited_time     tz-aware ``datetime``
created_by, last_edited_by         :class:`User`
unique_id                          ``"PREFIX-12"`` or ``"12"`` (``None``)
button                             ``None`` (a button holds no data)
verification                       ``dict`` with ``state``, ``verified_by``, ``date``
place                              the ``dict`` as sent
anything else                      :class:`UnknownValue` (the raw JSON, flagged; never dropped)
=================================  ===========================================================

:func:`flatten_page` applies a mapping (``soleflipper/notion_mappings/*.yaml``, parsed by
:func:`parse_mapping`) that names a warehouse column and column type for each Notion property.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "COLUMN_TYPES",
    "DateValue",
    "DatabaseMapping",
    "FileRef",
    "MappingError",
    "NotionMapping",
    "PropertyMapping",
    "Relation",
    "UnknownValue",
    "User",
    "flatten_page",
    "flatten_properties",
    "flatten_property",
    "parse_datetime",
    "parse_mapping",
    "to_column",
    "to_jsonable",
]

COLUMN_TYPES = ("text", "numeric", "date", "timestamptz", "boolean", "json")
DATE_PARTS = ("start", "end", "time_zone")
APIS = ("databases", "data_sources")
KNOWN_TYPES = frozenset(
    {
        "title", "rich_text", "number", "select", "multi_select", "status", "date", "checkbox", "url",
        "email", "phone_number", "relation", "rollup", "formula", "files", "people", "created_time",
        "last_edited_time", "created_by", "last_edited_by", "unique_id", "button", "verification", "place",
    }
)  # fmt: skip
_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,62}\Z")  # \Z: "$" matches before a trailing newline


# -- value types ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DateValue:
    """A Notion date: a day or a moment, optionally a range, optionally with an IANA time zone."""

    start: date | datetime
    end: date | datetime | None = None
    time_zone: str | None = None

    @property
    def is_range(self) -> bool:
        return self.end is not None


@dataclass(frozen=True)
class User:
    """A Notion user; a *partial* user (``created_by``, some ``people``) has only ``id``."""

    id: str
    name: str | None = None
    email: str | None = None
    type: str | None = None  # "person" | "bot" | None (partial)

    @property
    def partial(self) -> bool:
        return self.type is None and self.name is None


@dataclass(frozen=True)
class FileRef:
    """One entry of a files property. Notion-hosted URLs are signed and expire (``expiry_time``)."""

    name: str | None
    url: str | None
    hosted: bool  # True: type "file" (Notion-hosted, expiring URL); False: type "external"
    expiry_time: datetime | None = None


@dataclass(frozen=True)
class Relation:
    """Related page ids. ``has_more``: the page lists at most 25; the rest need the property-item API."""

    ids: tuple[str, ...] = ()
    has_more: bool = False


@dataclass(frozen=True)
class UnknownValue:
    """A value this module cannot type (new property type, rollup ``incomplete``): the raw JSON, flagged."""

    type: str
    raw: Any
    warning: bool = True
    problem: str | None = None  # set when a known type holds a value of the wrong shape


# -- parsing helpers --------------------------------------------------------------------------


def parse_datetime(text: str | None) -> datetime | None:
    """An ISO timestamp as Notion sends it (``2025-06-02T14:37:00.000Z``) → aware datetime (UTC if naive)."""
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _date_point(text: str, zone: ZoneInfo | None) -> date | datetime:
    if "T" not in text:
        return date.fromisoformat(text)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:  # with a time_zone Notion may send local wall time without an offset
        return moment.replace(tzinfo=zone or UTC)
    return moment.astimezone(zone) if zone is not None else moment


def _date_value(raw: Any) -> DateValue | None:
    if not isinstance(raw, Mapping) or not raw.get("start"):
        return None
    zone = _zone(raw.get("time_zone"))
    end = raw.get("end")
    return DateValue(
        start=_date_point(raw["start"], zone),
        end=_date_point(end, zone) if end else None,
        time_zone=raw.get("time_zone"),
    )


def _number(raw: Any) -> Decimal | None:
    if raw is None or isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        return Decimal(repr(raw))  # shortest repr: 148.5 → Decimal("148.5"), not its binary expansion
    return Decimal(str(raw))


def _text(items: Any) -> str | None:
    if not items:
        return None
    parts = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        plain = item.get("plain_text")
        if plain is None:  # request-shaped rich text has no plain_text
            plain = (item.get("text") or {}).get("content", "")
        parts.append(plain)
    return "".join(parts) or None


def _user(raw: Any) -> User | None:
    if not isinstance(raw, Mapping) or not raw.get("id"):
        return None
    kind = raw.get("type")
    email = (raw.get("person") or {}).get("email") if kind == "person" else None
    return User(id=raw["id"], name=raw.get("name"), email=email, type=kind)


def _file(raw: Mapping[str, Any]) -> FileRef:
    kind = raw.get("type")
    inner = (raw.get(kind) or {}) if isinstance(kind, str) else {}
    return FileRef(
        name=raw.get("name"),
        url=inner.get("url"),
        hosted=kind == "file" or kind == "file_upload",
        expiry_time=parse_datetime(inner.get("expiry_time")),
    )


def _empty_to_none(value: Any) -> Any:
    return None if value == "" else value


# -- one property -----------------------------------------------------------------------------


def flatten_property(prop: Mapping[str, Any]) -> Any:
    """One property value object (``{"id", "type", <type>: ...}``) → a typed Python value (module doc).

    A malformed value (``created_time: 12``, ``number: "abc"``) is an :class:`UnknownValue`
    with a ``problem``: one bad cell must not fail the whole page, let alone the batch.
    """
    kind = prop.get("type") if isinstance(prop, Mapping) else None
    if not isinstance(kind, str):
        return UnknownValue(str(kind), prop)
    try:
        return _typed_value(kind, prop.get(kind), prop)
    except (TypeError, ValueError, ArithmeticError, AttributeError, KeyError) as exc:
        return UnknownValue(kind, prop, problem=f"{type(exc).__name__}: {exc}"[:200])


def _typed_value(kind: str, raw: Any, prop: Mapping[str, Any]) -> Any:
    if kind in ("title", "rich_text"):
        return _text(raw)
    if kind == "number":
        return _number(raw)
    if kind in ("select", "status"):
        return raw.get("name") if isinstance(raw, Mapping) else None
    if kind == "multi_select":
        return [option["name"] for option in raw or () if isinstance(option, Mapping) and "name" in option]
    if kind == "date":
        return _date_value(raw)
    if kind == "checkbox":
        return bool(raw)
    if kind in ("url", "email", "phone_number"):
        return _empty_to_none(raw)
    if kind == "relation":
        ids = tuple(item["id"] for item in raw or () if isinstance(item, Mapping) and "id" in item)
        return Relation(ids, bool(prop.get("has_more", False)))
    if kind == "people":
        return [user for user in map(_user, raw or ()) if user is not None]
    if kind == "files":
        return [_file(item) for item in raw or () if isinstance(item, Mapping)]
    if kind in ("created_time", "last_edited_time"):
        return parse_datetime(raw)
    if kind in ("created_by", "last_edited_by"):
        return _user(raw)
    if kind == "unique_id":
        if not isinstance(raw, Mapping) or raw.get("number") is None:
            return None
        prefix = raw.get("prefix")
        return f"{prefix}-{raw['number']}" if prefix else str(raw["number"])
    if kind == "formula":
        return _formula(raw, prop)
    if kind == "rollup":
        return _rollup(raw, prop)
    if kind == "button":
        return None
    if kind == "verification":
        raw = raw or {}
        return {
            "state": raw.get("state"),
            "verified_by": _user(raw.get("verified_by")),
            "date": _date_value(raw.get("date")),
        }
    if kind == "place":
        return dict(raw) if isinstance(raw, Mapping) else None
    return UnknownValue(kind, prop)


def _formula(raw: Any, prop: Mapping[str, Any]) -> Any:
    if not isinstance(raw, Mapping):
        return UnknownValue("formula", prop)
    kind = raw.get("type")
    value = raw.get(kind) if isinstance(kind, str) else None
    if kind == "string":
        return _empty_to_none(value)
    if kind == "number":
        return _number(value)
    if kind == "boolean":
        return None if value is None else bool(value)
    if kind == "date":
        return _date_value(value)
    return UnknownValue(f"formula.{kind}", prop)


def _rollup(raw: Any, prop: Mapping[str, Any]) -> Any:
    if not isinstance(raw, Mapping):
        return UnknownValue("rollup", prop)
    kind = raw.get("type")
    value = raw.get(kind) if isinstance(kind, str) else None
    if kind == "number":
        return _number(value)
    if kind == "date":
        return _date_value(value)
    if kind == "array":
        return [flatten_property(item) for item in value or ()]
    return UnknownValue(f"rollup.{kind}", prop)  # "incomplete", "unsupported", or something new


def flatten_properties(properties: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Every property of a page by name, flattened (nothing is dropped)."""
    return {name: flatten_property(prop) for name, prop in properties.items()}


# -- JSON and column coercion -----------------------------------------------------------------


def to_jsonable(value: Any) -> Any:
    """A flattened value as plain JSON types (dates as ISO strings, Decimals as numbers)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, DateValue):
        return {
            "start": value.start.isoformat(),
            "end": value.end.isoformat() if value.end is not None else None,
            "time_zone": value.time_zone,
        }
    if isinstance(value, User):
        return {"id": value.id, "name": value.name, "email": value.email, "type": value.type}
    if isinstance(value, FileRef):
        return {
            "name": value.name,
            "url": value.url,
            "type": "file" if value.hosted else "external",
            "expiry_time": value.expiry_time.isoformat() if value.expiry_time else None,
        }
    if isinstance(value, Relation):
        return {"ids": list(value.ids), "has_more": value.has_more}
    if isinstance(value, UnknownValue):
        return value.raw
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    return value


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, DateValue):
        start = value.start.isoformat()
        return start if value.end is None else f"{start}/{value.end.isoformat()}"  # ISO 8601 interval
    if isinstance(value, User):
        return value.name or value.id
    if isinstance(value, FileRef):
        return value.url
    if isinstance(value, Relation):
        return ", ".join(value.ids) or None
    if isinstance(value, list):
        parts = [text for text in map(_as_text, value) if text]
        return ", ".join(parts) or None
    return json.dumps(to_jsonable(value), ensure_ascii=False, sort_keys=True)


def _single(value: list[Any]) -> Any:
    """A one-element list (e.g. a show_original rollup of one relation) stands for its element."""
    if len(value) == 1:
        return value[0]
    raise ValueError(f"{len(value)} values where one was expected")


def _as_numeric(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, list):
        return _as_numeric(_single(value))
    if isinstance(value, str) and not isinstance(value, bool):
        try:
            return Decimal(value.strip().replace(",", "."))
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a number") from None
    raise ValueError(f"a {type(value).__name__} is not a number")


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()  # the calendar day where the moment was entered (its own zone)
    if isinstance(value, date):
        return value
    if isinstance(value, DateValue):
        return _as_date(value.start)
    if isinstance(value, list):
        return _as_date(_single(value))
    if isinstance(value, str):
        try:
            return _as_date(_date_point(value.strip(), None))
        except ValueError:
            raise ValueError(f"{value!r} is not a date") from None
    raise ValueError(f"a {type(value).__name__} is not a date")


def _as_timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)  # a day without a time: midnight UTC
    if isinstance(value, DateValue):
        return _as_timestamp(value.start)
    if isinstance(value, list):
        return _as_timestamp(_single(value))
    if isinstance(value, str):
        try:
            return _as_timestamp(_date_point(value.strip(), None))
        except ValueError:
            raise ValueError(f"{value!r} is not a timestamp") from None
    raise ValueError(f"a {type(value).__name__} is not a timestamp")


_TRUE = frozenset({"true", "yes", "ja", "1", "x", "✓", "✅"})
_FALSE = frozenset({"false", "no", "nein", "0", ""})


def _as_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, list):
        return _as_boolean(_single(value))
    if isinstance(value, str) and value.strip().casefold() in _TRUE | _FALSE:
        return value.strip().casefold() in _TRUE
    raise ValueError(f"{value!r} is not a boolean")


def to_column(value: Any, column_type: str, part: str | None = None) -> tuple[Any, str | None]:
    """A flattened value as a column value: ``(value, problem)``; on a problem the value is None.

    ``part`` picks ``start``/``end``/``time_zone`` of a date. An :class:`UnknownValue` only fits
    a ``json`` column (as its raw JSON).
    """
    if column_type not in COLUMN_TYPES:
        raise ValueError(f"unknown column type {column_type!r}; known: {', '.join(COLUMN_TYPES)}")
    if part is not None and isinstance(value, DateValue):
        value = getattr(value, part)
    if value is None:
        return None, None
    if isinstance(value, UnknownValue):
        if column_type == "json":
            return value.raw, None
        return None, f"type {value.type!r} cannot be read as {column_type}; kept only in the raw JSON"
    if column_type == "json":
        return to_jsonable(value), None
    if column_type == "text":
        return _as_text(value), None
    if isinstance(value, list) and not value:
        return None, None
    converter = {
        "numeric": _as_numeric,
        "date": _as_date,
        "timestamptz": _as_timestamp,
        "boolean": _as_boolean,
    }[column_type]
    try:
        return converter(value), None
    except ValueError as exc:
        return None, f"cannot be read as {column_type}: {exc}"


# -- mappings ---------------------------------------------------------------------------------


class MappingError(ValueError):
    """A Notion mapping (YAML) is invalid."""


@dataclass(frozen=True)
class PropertyMapping:
    """One warehouse column filled from one Notion property."""

    property: str
    column: str
    type: str = "text"
    part: str | None = None  # date properties: start (default) / end / time_zone
    notion_type: str | None = None  # the expected Notion type; another type is reported


@dataclass(frozen=True)
class DatabaseMapping:
    """One Notion database: where it is, how to query it, and its columns."""

    name: str
    table: str
    columns: tuple[PropertyMapping, ...]
    database_id: str | None = None
    data_source_id: str | None = None
    data_source_name: str | None = None
    api: str = "data_sources"
    ignore: frozenset[str] = frozenset()
    description: str = ""

    @property
    def properties(self) -> frozenset[str]:
        """The Notion property names this mapping knows (mapped or ignored)."""
        return frozenset(c.property for c in self.columns) | self.ignore

    @property
    def column_types(self) -> dict[str, str]:
        """Column name → column type (text, numeric, ...), in mapping order."""
        return {c.column: c.type for c in self.columns}


@dataclass(frozen=True)
class NotionMapping:
    databases: dict[str, DatabaseMapping] = field(default_factory=dict)


_COLUMN_KEYS = frozenset({"column", "type", "part", "notion_type"})
_DATABASE_KEYS = frozenset(
    {"database_id", "data_source_id", "data_source_name", "api", "table", "description", "properties", "ignore",
     "database_id_env", "data_source_id_env"}
)  # fmt: skip


def _ident(value: Any, where: str) -> str:
    if isinstance(value, str) and value.startswith("_"):
        raise MappingError(f"{where}: names starting with '_' are reserved for load metadata")
    if not isinstance(value, str) or not _IDENT.match(value):
        raise MappingError(f"{where}: {value!r} is not a valid name (lower-case letters, digits, _)")
    return value


def _columns(name: str, spec: Any, where: str) -> list[PropertyMapping]:
    entries = spec if isinstance(spec, list) else [spec]
    result = []
    for i, entry in enumerate(entries):
        ewhere = f"{where}[{i}]" if isinstance(spec, list) else where
        if isinstance(entry, str):
            entry = {"column": entry}
        if not isinstance(entry, Mapping) or "column" not in entry:
            raise MappingError(f"{ewhere}: expected a column name or a mapping with 'column'")
        unknown = set(entry) - _COLUMN_KEYS
        if unknown:
            raise MappingError(f"{ewhere}: unknown keys {sorted(unknown)}")
        ctype = entry.get("type", "text")
        if ctype not in COLUMN_TYPES:
            raise MappingError(f"{ewhere}: type {ctype!r} is not one of {COLUMN_TYPES}")
        part = entry.get("part")
        if part is not None and part not in DATE_PARTS:
            raise MappingError(f"{ewhere}: part {part!r} is not one of {DATE_PARTS}")
        notion_type = entry.get("notion_type")
        if notion_type is not None and notion_type not in KNOWN_TYPES:
            raise MappingError(f"{ewhere}: notion_type {notion_type!r} is not a Notion property type")
        result.append(
            PropertyMapping(
                property=name,
                column=_ident(entry["column"], f"{ewhere}: column"),
                type=ctype,
                part=part,
                notion_type=notion_type,
            )
        )
    return result


def parse_database_mapping(
    name: str, data: Any, where: str = "mapping", env: Mapping[str, str] | None = None
) -> DatabaseMapping:
    """One database's section of a mapping file (errors name the file and key).

    ``database_id_env`` / ``data_source_id_env`` name variables of ``env`` that, when set and
    non-empty, replace ``database_id`` / ``data_source_id``.
    """
    if not isinstance(data, Mapping):
        raise MappingError(f"{where}: expected a mapping")
    unknown = set(data) - _DATABASE_KEYS
    if unknown:
        raise MappingError(f"{where}: unknown keys {sorted(unknown)}")
    props = data.get("properties")
    if not isinstance(props, Mapping) or not props:
        raise MappingError(f"{where}: 'properties' must map Notion property names to columns")
    columns: list[PropertyMapping] = []
    for prop_name, spec in props.items():
        columns.extend(_columns(str(prop_name), spec, f"{where}: properties[{prop_name!r}]"))
    seen: set[str] = set()
    for col in columns:
        if col.column in seen:
            raise MappingError(f"{where}: column {col.column!r} is mapped twice")
        seen.add(col.column)
    api = data.get("api", "data_sources")
    if api not in APIS:
        raise MappingError(f"{where}: api {api!r} is not one of {APIS}")
    ignore = data.get("ignore", [])
    if not isinstance(ignore, list) or not all(isinstance(i, str) for i in ignore):
        raise MappingError(f"{where}: 'ignore' must be a list of Notion property names")
    both = {c.property for c in columns} & set(ignore)
    if both:
        raise MappingError(f"{where}: {sorted(both)} are both mapped and ignored")
    ids = {key: data.get(key) for key in ("database_id", "data_source_id", "data_source_name")}
    for key in ("database_id", "data_source_id"):
        variable = data.get(f"{key}_env")
        if variable is not None and not isinstance(variable, str):
            raise MappingError(f"{where}: {key}_env must be an environment variable name")
        if variable and env and env.get(variable, "").strip():
            ids[key] = env[variable].strip()
            if key == "database_id" and ids["database_id"] != data.get("database_id"):
                # Another database than the file's default: its data source id belongs to the
                # default one, so drop it (looked up from the database unless set explicitly).
                ids["data_source_id"] = None
    for key, value in ids.items():
        if value is not None and not isinstance(value, str):
            raise MappingError(f"{where}: {key} must be a string")
    return DatabaseMapping(
        name=name,
        table=_ident(data.get("table", f"notion_{name}"), f"{where}: table"),
        columns=tuple(columns),
        api=api,
        ignore=frozenset(ignore),
        description=str(data.get("description", "")),
        **ids,
    )


def parse_mapping(data: Any, where: str = "mapping", env: Mapping[str, str] | None = None) -> NotionMapping:
    """A whole mapping file (``{databases: {<name>: {...}}}``) → :class:`NotionMapping`."""
    if not isinstance(data, Mapping) or not isinstance(data.get("databases"), Mapping):
        raise MappingError(f"{where}: expected a top-level 'databases' mapping")
    unknown = set(data) - {"databases"}
    if unknown:
        raise MappingError(f"{where}: unknown keys {sorted(unknown)}")
    databases = {}
    for name, section in data["databases"].items():
        databases[name] = parse_database_mapping(
            _ident(name, f"{where}: databases"), section, f"{where}: databases.{name}", env
        )
    return NotionMapping(databases)


def _as_database_mapping(mapping: DatabaseMapping | Mapping[str, Any]) -> DatabaseMapping:
    if isinstance(mapping, DatabaseMapping):
        return mapping
    if "properties" not in mapping:  # a bare {Notion name: column spec} mapping
        mapping = {"properties": mapping}
    return parse_database_mapping("inline", mapping)


# -- one page ---------------------------------------------------------------------------------


def _describe(value: UnknownValue) -> str:
    if value.problem is not None:
        return f"has a malformed {value.type} value ({value.problem}); kept as raw JSON"
    if value.type.startswith(("rollup.", "formula.")):
        return f"has a {value.type} value this flattener cannot type; kept as raw JSON"
    return f"has type {value.type!r} this flattener does not know; kept as raw JSON"


def flatten_page(page: Mapping[str, Any], mapping: DatabaseMapping | Mapping[str, Any]) -> dict[str, Any]:
    """A page as one row: mapped columns, plus what the mapping did not expect.

    Returns ``{"page_id", "created_time", "last_edited_time", "in_trash", "archived", "url",
    "values": {column: value}, "unmapped": {property name: raw value object}, "missing":
    [property names], "warnings": [str]}``. ``values`` always has every mapped column (``None``
    when absent or unreadable). ``unmapped`` holds properties the mapping neither maps nor
    ignores; ``missing`` the mapped properties the page lacks (renamed or deleted in Notion).
    ``archived`` is ``None`` when the API version no longer sends it (2026-03-11); ``in_trash``
    falls back to ``archived`` for old versions that lack it.
    """
    db = _as_database_mapping(mapping)
    properties: Mapping[str, Any] = page.get("properties") or {}
    warnings: list[str] = []
    flat: dict[str, Any] = {}
    for name, prop in properties.items():
        value = flatten_property(prop)
        flat[name] = value
        if isinstance(value, UnknownValue):
            warnings.append(f"property {name!r} {_describe(value)}")
        elif isinstance(value, Relation) and value.has_more:
            warnings.append(
                f"property {name!r} lists only the first {len(value.ids)} related pages (has_more);"
                " read the rest through the page property item endpoint"
            )
    values: dict[str, Any] = {}
    missing: list[str] = []
    for col in db.columns:
        if col.property not in properties:
            if col.property not in missing:
                missing.append(col.property)
            values[col.column] = None
            continue
        actual = (
            properties[col.property].get("type") if isinstance(properties[col.property], Mapping) else None
        )
        if col.notion_type is not None and actual != col.notion_type:
            warnings.append(
                f"property {col.property!r} has Notion type {actual!r}, the mapping expects {col.notion_type!r}"
            )
        column_value, problem = to_column(flat[col.property], col.type, col.part)
        if problem:
            warnings.append(f"property {col.property!r} → column {col.column!r}: {problem}")
        values[col.column] = column_value
    unmapped = {name: prop for name, prop in properties.items() if name not in db.properties}
    in_trash = page.get("in_trash")
    archived = page.get("archived")
    return {
        "page_id": page.get("id"),
        "created_time": parse_datetime(page.get("created_time")),
        "last_edited_time": parse_datetime(page.get("last_edited_time")),
        "in_trash": bool(in_trash if in_trash is not None else archived),
        "archived": archived,
        "url": page.get("url"),
        "values": values,
        "unmapped": unmapped,
        "missing": missing,
        "warnings": warnings,
    }
