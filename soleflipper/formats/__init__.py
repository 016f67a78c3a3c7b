"""Declarative file formats: one YAML file per import format, validated at load time.

A format says which header names map to which raw column, the column's type, which values
mean "missing", and how to tell duplicates apart. Users add or adapt a format by editing YAML,
not code; a mistake in the YAML is reported with the file and the offending key
(``formats/x.yaml: columns[2] (sold_price).strip_chars: ...``).

Top-level keys
--------------
``name``, ``source``, ``entity`` (required)
    Format name and raw table ``raw.<source>_<entity>``, one table per format (each format is
    one import asset). Variants of one spreadsheet (``purchases_sheet``, ``purchases_sheet_de``)
    keep identical column lists so that staging can union them.
``platform``, ``description``, ``file_patterns`` (default ``["*.csv"]``)
``encoding`` (default ``utf-8``; a UTF-8 byte-order mark is tolerated), ``delimiter`` (one character)
``null_values`` (default ``[""]``)
    Cell texts, after trimming whitespace, that mean NULL.
``natural_key``
    Columns that identify a business row; a loaded row whose key is already known counts as
    "changed" (a new version).
``identical_rows``: ``duplicate`` (default) or ``keep``
    Whether two identical rows are one event exported twice, or two events (two pairs bought).
``decimal_separator``: ``.`` (default) or ``,``; ``thousands_separator``: none (default), ``,``,
    ``.``, ``'``, a space, a no-break space or a narrow no-break space.
    European amounts: ``decimal_separator: ","`` + ``thousands_separator: "."`` reads ``1.234,56``.
    A thousands separator must group digits by three (``12.5`` is an error there, never 125),
    and with a ``,`` decimal separator a ``.`` that is not the thousands separator is an error.
``date_formats``, ``timestamp_formats``
    ``strptime`` patterns tried in order: ``"%b %d, %Y"`` (``Aug 9, 2025``), ``"%d.%m.%Y"``
    (``15.03.2024``), ``"%d/%m/%y"`` (``15/03/24``). Empty: ISO 8601. Each pattern must carry a
    year, month and day, and two patterns that read the same text as different dates
    (``%d/%m/%Y`` and ``%m/%d/%Y``) are rejected as ambiguous. Month names (``%b``) are English
    (the C locale, which Dagster and the CLI run with).
``default_timezone`` (default ``UTC``)
    IANA zone for timestamps without an offset.
``currency``: a three-letter code
    The file has one currency and no column for it: adds a constant column ``currency``.
``constants``: ``{name: value}`` or ``{name: {value: ..., type: ...}}``
    Columns that are not in the file but become real columns of the raw table with the same
    value in every row (``platform: ebay``). Type defaults to ``text``. Values are written
    canonically (ISO dates, ``.`` decimals).
``skip_records``: regular expressions
    Report furniture (``12,record(s) downloaded,from ...``, ``Seller ID : x``): a record that
    matches one (searched in its fields joined by the delimiter) is skipped *only if it would
    otherwise be an error*, so a valid data row can never be dropped. Before the header, matching
    records are skipped too. Blank records, and records whose fields are all empty, carry no
    data and are always skipped.

Column keys
-----------
``name``, ``header`` (required), ``type`` (``text`` default, ``integer``, ``numeric``,
``timestamptz``, ``date``, ``currency``, ``boolean``, ``json``), ``aliases`` (other header names),
``optional`` (the header may be absent), ``not_null``, ``pattern`` (regex the text must match),
``min`` / ``max`` (numeric lower / upper bound, inclusive), and:

``strip_chars``: characters removed, with whitespace, from both ends before conversion
    (``"$€£"`` for ``$215.00``; ``" ·"`` for ``Pre-Owned ·``). For ``numeric``/``integer`` columns
    they may not include digits, signs or the format's separators.
``extract``: a regular expression with exactly one group; the value becomes the group
    (searched anywhere: ``'/itm/(\\d+)'`` takes the item number out of an eBay link). A value
    that does not match is an error. A header may feed several columns when all but one of them
    use ``extract``.
``default``: the value stored when the cell is empty or the (optional) column is absent,
    written canonically. ``currency: EUR`` column of a purchases sheet: ``default: EUR``.
``currency``: a three-letter code, on a ``numeric``/``integer`` amount without a currency column:
    adds the constant column ``<name>_currency``.

Constant and companion columns are placed after the file's columns, in this order: per-column
currencies, the format currency, then ``constants``.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
DECIMAL_SEPARATORS = (".", ",")
THOUSANDS_SEPARATORS = (",", ".", "'", " ", "\u00a0", "\u202f")
# \Z, not $: "$" also matches before a trailing newline ("abc\n" is no identifier)
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}\Z")
_CURRENCY_CODE = re.compile(r"^[A-Z]{3}\Z")
_COLUMN_KEYS = {"name", "header", "type", "aliases", "optional", "not_null", "pattern", "min", "max",
                "strip_chars", "extract", "default", "currency"}
_TOP_KEYS = {
    "name", "source", "entity", "platform", "description", "columns", "file_patterns",
    "encoding", "delimiter", "null_values", "natural_key", "identical_rows",
    "decimal_separator", "thousands_separator", "timestamp_formats", "date_formats",
    "default_timezone", "currency", "constants", "skip_records",
}
# Probe for date patterns: day and month both <= 12, so a day/month swap would parse.
_PROBE = datetime(2001, 2, 3, 4, 5, 0, tzinfo=UTC)


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
    max: float | None = None
    strip_chars: str | None = None  # removed (with whitespace) from both ends before conversion
    extract: str | None = None  # regex with one group: the value becomes the group
    default: str | None = None  # canonical value stored for an empty cell or an absent column
    currency: str | None = None  # the amount's currency when the file has no column for it
    constant: str | None = None  # canonical value: the column is not read from the file

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]

    @property
    def is_constant(self) -> bool:
        return self.constant is not None

    def header_keys(self) -> tuple[str, ...]:
        if self.constant is not None:
            return ()
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
    currency: str | None = None  # the file's single currency (stored in the constant column `currency`)
    skip_records: tuple[str, ...] = ()
    path: Path | None = field(default=None, compare=False)

    @property
    def table(self) -> str:
        """Raw table name (in schema ``raw``): ``<source>_<entity>``."""
        return f"{self.source}_{self.entity}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def file_columns(self) -> tuple[Column, ...]:
        """Columns read from the file (not constants)."""
        return tuple(c for c in self.columns if c.constant is None)

    @property
    def constants(self) -> dict[str, str]:
        """Constant columns and their canonical values."""
        return {c.name: c.constant for c in self.columns if c.constant is not None}


def normalise_header(text: str) -> str:
    """Header names are matched case- and whitespace-insensitively (``Sold To address``)."""
    return " ".join(text.replace("\ufeff", "").split()).casefold()


def _require_ident(value: object, where: str) -> str:
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise FormatError(f"{where}: {value!r} is not a valid name (lower-case letters, digits, _)")
    return value


def _require_code(value: object, where: str) -> str:
    if not isinstance(value, str) or not _CURRENCY_CODE.match(value):
        raise FormatError(f"{where}: {value!r} is not a three-letter currency code such as USD or EUR")
    return value


def _str_list(data: dict, key: str, where: str, default: tuple = ()) -> tuple[str, ...]:
    value = data.get(key, default)
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or \
            not all(isinstance(v, str) for v in value):
        raise FormatError(f"{where}: {key} must be a list of strings")
    return tuple(value)


def _scalar_text(value: object, type_: str, where: str) -> str:
    """A YAML scalar as text. Unquoted yes/no/on/off are YAML booleans: only allowed for booleans."""
    if isinstance(value, bool):
        if type_ != "boolean":
            raise FormatError(f"{where}: {value!r} was read as a YAML boolean; put the value in quotes")
        return "true" if value else "false"
    if value is None or isinstance(value, (dict, list)):
        raise FormatError(f"{where}: expected a single value, got {value!r}")
    return str(value)


def _check_patterns(patterns: tuple[str, ...], kind: str, where: str) -> None:
    """Each strptime pattern reads back a full date, and no two read one text as different dates."""
    for pattern in patterns:
        if "%" not in pattern:
            raise FormatError(f"{where}: {kind} entry {pattern!r} has no % directives")
        try:
            back = datetime.strptime(_PROBE.strftime(pattern), pattern)
        except ValueError as exc:
            raise FormatError(f"{where}: {kind} entry {pattern!r} cannot read what it writes: {exc}") from None
        if back.date() != _PROBE.date():
            raise FormatError(f"{where}: {kind} entry {pattern!r} must contain a year, a month and a day")
    for first in patterns:
        text = _PROBE.strftime(first)
        for other in patterns:
            if other == first:
                continue
            try:
                parsed = datetime.strptime(text, other)
            except ValueError:
                continue
            if parsed.date() != _PROBE.date():
                raise FormatError(
                    f"{where}: {kind} {first!r} and {other!r} are ambiguous: {text!r} is "
                    f"{_PROBE.date()} in one and {parsed.date()} in the other")


def _parse_column(raw: object, i: int, where: str, fmt_decimal: str, fmt_thousands: str | None) -> Column:
    cwhere = f"{where}: columns[{i}]"
    if not isinstance(raw, dict) or "name" not in raw or "header" not in raw:
        raise FormatError(f"{cwhere}: each column needs 'name' and 'header'")
    bad = set(raw) - _COLUMN_KEYS
    if bad:
        raise FormatError(f"{cwhere}: unknown keys {sorted(bad)}")
    ctype = raw.get("type", "text")
    if ctype not in COLUMN_TYPES:
        raise FormatError(f"{cwhere}: type {ctype!r} is not one of {COLUMN_TYPES}")
    name = _require_ident(raw["name"], cwhere)
    cwhere = f"{cwhere} ({name})"
    aliases = raw.get("aliases", ())
    if isinstance(aliases, str) or not isinstance(aliases, (list, tuple)):
        raise FormatError(f"{cwhere}.aliases: must be a list of header names")
    minimum, maximum = raw.get("min"), raw.get("max")
    for key, bound in (("min", minimum), ("max", maximum)):
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, (int, float))):
            raise FormatError(f"{cwhere}.{key}: {bound!r} is not a number")
    if minimum is not None and maximum is not None and maximum < minimum:
        raise FormatError(f"{cwhere}.max: {maximum!r} is below min {minimum!r}")
    pattern = raw.get("pattern")
    if pattern is not None:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise FormatError(f"{cwhere}: invalid pattern: {exc}") from None
    strip_chars = raw.get("strip_chars")
    if strip_chars is not None:
        if not isinstance(strip_chars, str) or not strip_chars:
            raise FormatError(f"{cwhere}.strip_chars: must be a non-empty string of characters")
        if ctype in ("numeric", "integer"):
            forbidden = set("0123456789+-") | {fmt_decimal} | ({fmt_thousands} if fmt_thousands else set())
            clash = sorted(set(strip_chars) & forbidden)
            if clash:
                raise FormatError(f"{cwhere}.strip_chars: must not contain {''.join(clash)!r}: stripping "
                                  "digits, signs or separators would change the number")
    extract = raw.get("extract")
    if extract is not None:
        try:
            groups = re.compile(extract).groups
        except (re.error, TypeError) as exc:
            raise FormatError(f"{cwhere}.extract: invalid regular expression: {exc}") from None
        if groups != 1:
            raise FormatError(f"{cwhere}.extract: needs exactly one (group), found {groups}")
    currency = raw.get("currency")
    if currency is not None:
        _require_code(currency, f"{cwhere}.currency")
        if ctype not in ("numeric", "integer"):
            raise FormatError(f"{cwhere}.currency: only numeric or integer amounts have a currency")
    default = raw.get("default")
    return Column(
        name=name,
        header=str(raw["header"]),
        type=ctype,
        aliases=tuple(str(a) for a in aliases),
        optional=bool(raw.get("optional", False)),
        not_null=bool(raw.get("not_null", False)),
        pattern=pattern,
        min=minimum,
        max=maximum,
        strip_chars=strip_chars,
        extract=extract,
        default=None if default is None else _scalar_text(default, ctype, f"{cwhere}.default"),
        currency=currency,
    )


def _constant_columns(data: dict, where: str) -> list[Column]:
    constants = data.get("constants", {})
    if not isinstance(constants, dict):
        raise FormatError(f"{where}: constants must be a mapping of column name to value")
    out = []
    for name, spec in constants.items():
        cwhere = f"{where}: constants.{name}"
        _require_ident(name, cwhere)
        ctype = "text"
        value = spec
        if isinstance(spec, dict):
            bad = set(spec) - {"value", "type"}
            if bad or "value" not in spec:
                raise FormatError(f"{cwhere}: expected a value or {{value: ..., type: ...}}")
            value = spec["value"]
            ctype = spec.get("type", "text")
            if ctype not in COLUMN_TYPES:
                raise FormatError(f"{cwhere}.type: {ctype!r} is not one of {COLUMN_TYPES}")
        out.append(Column(name=name, header="", type=ctype, constant=_scalar_text(value, ctype, cwhere)))
    return out


def parse_format(data: dict, where: str) -> CsvFormat:
    """Build a :class:`CsvFormat` from parsed YAML, with errors naming the file and key."""
    if not isinstance(data, dict):
        raise FormatError(f"{where}: expected a mapping at the top level")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise FormatError(f"{where}: unknown keys {sorted(unknown)}")
    for key in ("name", "source", "entity", "columns"):
        if key not in data:
            raise FormatError(f"{where}: missing required key '{key}'")
    if not isinstance(data["columns"], list) or not data["columns"]:
        raise FormatError(f"{where}: columns must be a non-empty list")

    decimal = data.get("decimal_separator", ".")
    if decimal not in DECIMAL_SEPARATORS:
        raise FormatError(f"{where}: decimal_separator must be one of {DECIMAL_SEPARATORS}, not {decimal!r}")
    thousands = data.get("thousands_separator")
    if thousands is not None and thousands not in THOUSANDS_SEPARATORS:
        raise FormatError(f"{where}: thousands_separator must be one of {THOUSANDS_SEPARATORS}, "
                          f"not {thousands!r}")
    if thousands == decimal:
        raise FormatError(f"{where}: thousands_separator and decimal_separator are both {decimal!r}")
    delimiter = data.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise FormatError(f"{where}: delimiter must be a single character, not {delimiter!r}")
    encoding = data.get("encoding", "utf-8")
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError):
        raise FormatError(f"{where}: encoding {encoding!r} is not a known text encoding") from None
    timezone = data.get("default_timezone", "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise FormatError(f"{where}: default_timezone {timezone!r} is not an IANA time zone "
                          "(e.g. Europe/Berlin)") from None
    date_formats = _str_list(data, "date_formats", where)
    timestamp_formats = _str_list(data, "timestamp_formats", where)
    _check_patterns(date_formats, "date_formats", where)
    _check_patterns(timestamp_formats, "timestamp_formats", where)
    skip_records = _str_list(data, "skip_records", where)
    for pattern in skip_records:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise FormatError(f"{where}: skip_records entry {pattern!r} is not a valid regular expression: "
                              f"{exc}") from None

    columns = [_parse_column(raw, i, where, decimal, thousands) for i, raw in enumerate(data["columns"])]
    # A header (or alias) feeds one column, or several when all but one take part of it (extract).
    seen: dict[str, list[Column]] = {}
    for i, col in enumerate(columns):
        if col.name.startswith("_"):
            raise FormatError(f"{where}: columns[{i}]: names starting with '_' are reserved for load metadata")
        for key in col.header_keys():
            users = seen.setdefault(key, [])
            if users and sum(1 for c in (*users, col) if c.extract is None) > 1:
                raise FormatError(f"{where}: columns[{i}] ({col.name}): header {key!r} already used by column "
                                  f"{users[0].name!r} (give one of them `extract` to read part of it)")
            users.append(col)

    derived = [Column(name=f"{c.name}_currency", header="", type="currency", constant=c.currency)
               for c in columns if c.currency is not None]
    fmt_currency = data.get("currency")
    if fmt_currency is not None:
        _require_code(fmt_currency, f"{where}: currency")
        derived.append(Column(name="currency", header="", type="currency", constant=fmt_currency))
    derived += _constant_columns(data, where)
    names = [c.name for c in columns]
    for col in derived:
        if col.name in names:
            raise FormatError(f"{where}: constant column {col.name!r} (from currency/constants) clashes with "
                              "a column of the same name")
        if not IDENTIFIER.match(col.name):
            raise FormatError(f"{where}: constant column name {col.name!r} is too long")
        names.append(col.name)
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise FormatError(f"{where}: duplicate column names {dupes}")

    natural_key = _str_list(data, "natural_key", where)
    for key in natural_key:
        if key not in names:
            raise FormatError(f"{where}: natural_key column {key!r} is not a column")
    identical = data.get("identical_rows", "duplicate")
    if identical not in ("duplicate", "keep"):
        raise FormatError(f"{where}: identical_rows must be 'duplicate' or 'keep'")
    null_values = data.get("null_values", [""])
    if isinstance(null_values, str) or not isinstance(null_values, (list, tuple)):
        raise FormatError(f"{where}: null_values must be a list")
    fmt = CsvFormat(
        name=_require_ident(data["name"], f"{where}: name"),
        source=_require_ident(data["source"], f"{where}: source"),
        entity=_require_ident(data["entity"], f"{where}: entity"),
        platform=data.get("platform"),
        description=data.get("description", ""),
        columns=(*columns, *derived),
        file_patterns=_str_list(data, "file_patterns", where, ("*.csv",)),
        encoding=encoding,
        delimiter=delimiter,
        null_values=frozenset(str(v) for v in null_values),
        natural_key=natural_key,
        identical_rows=identical,
        decimal_separator=decimal,
        thousands_separator=thousands,
        timestamp_formats=timestamp_formats,
        date_formats=date_formats,
        default_timezone=timezone,
        currency=fmt_currency,
        skip_records=skip_records,
    )
    return _canonical_values(fmt, where)


def _canonical_values(fmt: CsvFormat, where: str) -> CsvFormat:
    """Defaults and constants are written canonically; check them with the column's type and store
    the converted text (``usd`` -> ``USD``), so the loader never has to."""
    from soleflipper.csv_parsing import converter_for  # csv_parsing imports this module

    canonical = replace(fmt, decimal_separator=".", thousands_separator=None, date_formats=(),
                        timestamp_formats=())
    columns = []
    for i, col in enumerate(fmt.columns):
        for attr in ("default", "constant"):
            value = getattr(col, attr)
            if value is None:
                continue
            plain = replace(col, strip_chars=None, extract=None, default=None, constant=None)
            try:
                converted = converter_for(canonical, plain)(value)
            except ValueError as exc:
                label = f"columns[{i}] ({col.name}).default" if attr == "default" else f"constant {col.name}"
                raise FormatError(f"{where}: {label}: {exc} (write defaults and constants canonically: "
                                  "ISO dates, '.' decimals)") from None
            col = replace(col, **{attr: converted})
        columns.append(col)
    return replace(fmt, columns=tuple(columns))


def load_format_file(path: Path) -> CsvFormat:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise FormatError(f"{path}: not valid YAML: {exc}") from exc
    fmt = parse_format(data, str(path))
    return replace(fmt, path=path)


@cache
def load_format(name: str) -> CsvFormat:
    """A built-in format by name (``soleflipper/formats/<name>.yaml``)."""
    path = FORMATS_DIR / f"{name}.yaml"
    if not path.exists():
        raise FormatError(f"unknown file format {name!r}; known: {', '.join(available_formats())}")
    return load_format_file(path)


def available_formats() -> list[str]:
    return sorted(p.stem for p in FORMATS_DIR.glob("*.yaml"))
