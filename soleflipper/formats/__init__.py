"""Declarative file formats: one YAML file per import format, validated at load time.

A format says which header names map to which raw column, the column's type, which values
mean "missing", and how to tell duplicates apart. Users add or adapt a format by editing YAML,
not code; a mistake in the YAML is reported with the file and the offending key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

FORMATS_DIR = Path(__file__).resolve().parent
COLUMN_TYPES = ("text", "integer", "numeric", "timestamptz", "date", "currency", "boolean", "json")
SQL_TYPES = {
    "text": "text",
    "integer": "bigint",
    "numeric": "numeric",
    "timestamptz": "timestamptz",
    "date": "date",
    "currency": "char(3)",
    "boolean": "boolean",
    "json": "jsonb",
}
_IDENT = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class FormatError(ValueError):
    """A format definition (YAML) is invalid."""


@dataclass(frozen=True)
class Column:
    name: str
    header: str
    type: str = "text"
    aliases: tuple[str, ...] = ()
    optional: bool = False  # the header may be absent (older layouts)
    not_null: bool = False  # a value must be present in every row
    pattern: str | None = None
    min: float | None = None

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]

    def header_keys(self) -> tuple[str, ...]:
        return tuple(normalise_header(h) for h in (self.header, *self.aliases))


@dataclass(frozen=True)
class CsvFormat:
    name: str
    source: str
    entity: str
    platform: str | None
    description: str
    columns: tuple[Column, ...]
    file_patterns: tuple[str, ...] = ("*.csv",)
    encoding: str = "utf-8"
    delimiter: str = ","
    null_values: frozenset[str] = frozenset({""})
    natural_key: tuple[str, ...] = ()
    identical_rows: str = "duplicate"  # or "keep": identical rows are distinct events
    decimal_separator: str = "."
    thousands_separator: str | None = None
    timestamp_formats: tuple[str, ...] = ()
    date_formats: tuple[str, ...] = ()
    default_timezone: str = "UTC"
    path: Path | None = field(default=None, compare=False)

    @property
    def table(self) -> str:
        """Raw table name (in schema ``raw``): ``<source>_<entity>``."""
        return f"{self.source}_{self.entity}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def normalise_header(text: str) -> str:
    """Header names are matched case- and whitespace-insensitively (``Sold To address``)."""
    return " ".join(text.replace("\ufeff", "").split()).casefold()


def _require_ident(value: object, where: str) -> str:
    if not isinstance(value, str) or not _IDENT.match(value):
        raise FormatError(f"{where}: {value!r} is not a valid name (lower-case letters, digits, _)")
    return value


def parse_format(data: dict, where: str) -> CsvFormat:
    """Build a :class:`CsvFormat` from parsed YAML, with errors naming the file and key."""
    if not isinstance(data, dict):
        raise FormatError(f"{where}: expected a mapping at the top level")
    known_top = {
        "name", "source", "entity", "platform", "description", "columns", "file_patterns",
        "encoding", "delimiter", "null_values", "natural_key", "identical_rows",
        "decimal_separator", "thousands_separator", "timestamp_formats", "date_formats",
        "default_timezone",
    }
    unknown = set(data) - known_top
    if unknown:
        raise FormatError(f"{where}: unknown keys {sorted(unknown)}")
    for key in ("name", "source", "entity", "columns"):
        if key not in data:
            raise FormatError(f"{where}: missing required key '{key}'")
    columns = []
    seen: dict[str, str] = {}
    for i, raw in enumerate(data["columns"]):
        cwhere = f"{where}: columns[{i}]"
        if not isinstance(raw, dict) or "name" not in raw or "header" not in raw:
            raise FormatError(f"{cwhere}: each column needs 'name' and 'header'")
        bad = set(raw) - {"name", "header", "type", "aliases", "optional", "not_null", "pattern", "min"}
        if bad:
            raise FormatError(f"{cwhere}: unknown keys {sorted(bad)}")
        ctype = raw.get("type", "text")
        if ctype not in COLUMN_TYPES:
            raise FormatError(f"{cwhere}: type {ctype!r} is not one of {COLUMN_TYPES}")
        name = _require_ident(raw["name"], cwhere)
        if name.startswith("_"):
            raise FormatError(f"{cwhere}: names starting with '_' are reserved for load metadata")
        col = Column(
            name=name,
            header=str(raw["header"]),
            type=ctype,
            aliases=tuple(str(a) for a in raw.get("aliases", ())),
            optional=bool(raw.get("optional", False)),
            not_null=bool(raw.get("not_null", False)),
            pattern=raw.get("pattern"),
            min=raw.get("min"),
        )
        if col.pattern:
            try:
                re.compile(col.pattern)
            except re.error as exc:
                raise FormatError(f"{cwhere}: invalid pattern: {exc}") from exc
        for key in col.header_keys():
            if key in seen:
                raise FormatError(f"{cwhere}: header {key!r} already used by column {seen[key]!r}")
            seen[key] = name
        columns.append(col)
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        raise FormatError(f"{where}: duplicate column names")
    natural_key = tuple(data.get("natural_key", ()))
    for key in natural_key:
        if key not in names:
            raise FormatError(f"{where}: natural_key column {key!r} is not a column")
    identical = data.get("identical_rows", "duplicate")
    if identical not in ("duplicate", "keep"):
        raise FormatError(f"{where}: identical_rows must be 'duplicate' or 'keep'")
    return CsvFormat(
        name=_require_ident(data["name"], f"{where}: name"),
        source=_require_ident(data["source"], f"{where}: source"),
        entity=_require_ident(data["entity"], f"{where}: entity"),
        platform=data.get("platform"),
        description=data.get("description", ""),
        columns=tuple(columns),
        file_patterns=tuple(data.get("file_patterns", ("*.csv",))),
        encoding=data.get("encoding", "utf-8"),
        delimiter=data.get("delimiter", ","),
        null_values=frozenset(str(v) for v in data.get("null_values", [""])),
        natural_key=natural_key,
        identical_rows=identical,
        decimal_separator=data.get("decimal_separator", "."),
        thousands_separator=data.get("thousands_separator"),
        timestamp_formats=tuple(data.get("timestamp_formats", ())),
        date_formats=tuple(data.get("date_formats", ())),
        default_timezone=data.get("default_timezone", "UTC"),
    )


def load_format_file(path: Path) -> CsvFormat:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise FormatError(f"{path}: not valid YAML: {exc}") from exc
    fmt = parse_format(data, str(path))
    return CsvFormat(**{**fmt.__dict__, "path": path})


@cache
def load_format(name: str) -> CsvFormat:
    """A built-in format by name (``soleflipper/formats/<name>.yaml``)."""
    path = FORMATS_DIR / f"{name}.yaml"
    if not path.exists():
        raise FormatError(f"unknown file format {name!r}; known: {', '.join(available_formats())}")
    return load_format_file(path)


def available_formats() -> list[str]:
    return sorted(p.stem for p in FORMATS_DIR.glob("*.yaml"))
