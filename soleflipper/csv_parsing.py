"""Streaming CSV parsing against a declarative :class:`~soleflipper.formats.CsvFormat`.

Reads a file record by record (never the whole file), maps columns by header name, and turns
each record into canonical text values ready for PostgreSQL COPY, or into a :class:`RowError`
naming the line, the field and the reason. No database and no Dagster here, so it tests fast.

Speed matters (a StockX export can have a million rows): per-column work is decided once, when
the converters are built, so a column without ``strip_chars``/``extract`` pays nothing for them,
and constant columns are appended per row rather than converted per field.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import json
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from soleflipper.formats import Column, CsvFormat, normalise_header

csv.field_size_limit(64 * 1024 * 1024)


class FileFormatError(ValueError):
    """The file as a whole cannot be read as this format (header, encoding, empty file)."""


@dataclass(frozen=True)
class RowError:
    line: int  # physical line where the record starts (header is line 1)
    field: str | None  # header name of the offending field, None for record-level errors
    reason: str
    record: dict[str, str]  # the record as read, header -> text, so nothing is lost


@dataclass(frozen=True)
class ParsedRow:
    line: int
    values: list[str | None]  # canonical text per format column, None = SQL NULL
    extra: dict[str, str] | None  # columns the format does not know, kept verbatim


@dataclass(frozen=True)
class HeaderMap:
    """Which position in the file feeds which format column."""

    header: list[str]
    positions: list[int | None]  # per format column; None = column absent in this layout
    extra_positions: list[int]  # file columns the format does not know


# re.ASCII: PostgreSQL reads ASCII digits only ("١٢" passes a Unicode \d, then fails the COPY).
_NUMERIC = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$", re.ASCII)
_INTEGER = re.compile(r"^[+-]?\d+$", re.ASCII)
_BIGINT_MIN, _BIGINT_MAX = -(2**63), 2**63 - 1  # format "integer" columns are bigint
# PostgreSQL numeric: at most 131072 digits before the point and 16383 after.
_NUMERIC_MAX_WHOLE, _NUMERIC_MAX_FRACTION = 131072, 16383
_NUL = "\x00"  # PostgreSQL text cannot hold it
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_HOUR_OFFSET = re.compile(r"\s*([+-]\d\d)$")


def map_header(fmt: CsvFormat, header: list[str], filename: str) -> HeaderMap:
    """Match the file's header to the format; raise a clear error for missing columns."""
    index: dict[str, int] = {}
    for pos, name in enumerate(header):
        key = normalise_header(name)
        if key in index:
            raise FileFormatError(f"{filename}: header has column {name!r} twice (positions "
                                  f"{index[key] + 1} and {pos + 1})")
        index[key] = pos
    positions: list[int | None] = []
    missing = []
    used = set()
    for col in fmt.columns:
        pos = next((index[k] for k in col.header_keys() if k in index), None)
        if pos is None and not col.optional and col.constant is None:
            missing.append(col.header)
        positions.append(pos)
        if pos is not None:
            used.add(pos)
    if missing:
        found = ", ".join(repr(h) for h in header[:6]) + (", ..." if len(header) > 6 else "")
        raise FileFormatError(
            f"{filename}: not a {fmt.name} file: missing required column(s) "
            f"{', '.join(repr(m) for m in missing)} (header starts with {found})"
        )
    extra = [p for p in range(len(header)) if p not in used]
    for p in extra:  # kept as keys of the row's _extra jsonb, which cannot hold NUL
        if _NUL in header[p]:
            raise FileFormatError(f"{filename}: header column {p + 1} ({header[p][:40]!r}) contains a NUL character")
    return HeaderMap(header=header, positions=positions, extra_positions=extra)


Converter = Callable[[str], str]


def _check_bounds(col: Column, value: str, number: float) -> None:
    if col.min is not None and number < col.min:
        raise ValueError(f"{value!r} is below the minimum {col.min:g}")
    if col.max is not None and number > col.max:
        raise ValueError(f"{value!r} is above the maximum {col.max:g}")


def _check_numeric_size(value: str, text: str) -> None:
    whole, _, fraction = text.lstrip("+-").partition(".")
    if len(whole.lstrip("0")) > _NUMERIC_MAX_WHOLE or len(fraction) > _NUMERIC_MAX_FRACTION:
        raise ValueError(f"{value[:40]!r}... has more digits than PostgreSQL numeric holds")


def _numeric_converter(fmt: CsvFormat, col: Column) -> Converter:
    thousands = fmt.thousands_separator
    decimal = fmt.decimal_separator

    if not thousands and decimal == ".":  # the common case (StockX): nothing to translate

        def convert_plain(value: str) -> str:
            text = value.strip()
            if not _NUMERIC.match(text):
                raise ValueError(f"{value!r} is not a number")
            if len(text) > _NUMERIC_MAX_FRACTION:  # only a long text can overflow numeric
                _check_numeric_size(value, text)
            _check_bounds(col, value, float(text))
            return text

        return convert_plain

    # With a thousands separator it must group by three: "12.5" in a "1.234,56" file is an
    # error, never 125. With a "," decimal separator, a stray "." is an error too.
    grouped = re.compile(rf"^[+-]?\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+(?:{re.escape(decimal)}\d*)?$",
                         re.ASCII) if thousands else None

    def convert(value: str) -> str:
        text = value.strip()
        if thousands and thousands in text:
            if not grouped.match(text):
                raise ValueError(f"{value!r} is not a number: {thousands!r} separates thousands (groups of "
                                 f"three digits) and {decimal!r} decimals")
            text = text.replace(thousands, "")
        if decimal != ".":
            if "." in text:
                raise ValueError(f"{value!r} is not a number: the decimal separator is {decimal!r}")
            text = text.replace(decimal, ".")
        if not _NUMERIC.match(text):
            raise ValueError(f"{value!r} is not a number")
        if len(text) > _NUMERIC_MAX_FRACTION:
            _check_numeric_size(value, text)
        _check_bounds(col, value, float(text))
        return text

    return convert


def _integer_converter(col: Column) -> Converter:
    def convert(value: str) -> str:
        text = value.strip()
        if not _INTEGER.match(text):
            raise ValueError(f"{value!r} is not a whole number")
        number = int(text)
        if not _BIGINT_MIN <= number <= _BIGINT_MAX:
            raise ValueError(f"{value!r} is out of range for a whole number (bigint)")
        _check_bounds(col, value, number)
        return text

    return convert


def _timestamp_converter(fmt: CsvFormat) -> Converter:
    default_tz = UTC if fmt.default_timezone == "UTC" else ZoneInfo(fmt.default_timezone)
    formats = fmt.timestamp_formats

    def convert(value: str) -> str:
        text = value.strip()
        parsed: datetime | None = None
        if formats:
            for f in formats:
                try:
                    parsed = datetime.strptime(text, f)
                    break
                except ValueError:
                    continue
        else:
            try:
                # Python 3.11 reads "2022-07-08 00:46:09 +00" (hour-only offsets) directly.
                parsed = datetime.fromisoformat(text)
            except ValueError:
                parsed = None
        if parsed is None:
            raise ValueError(f"{value!r} is not a timestamp")
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=default_tz)
        try:
            return parsed.astimezone(UTC).isoformat()
        except OverflowError:  # 0001-01-01T00:00+01:00 is in year 0 in UTC
            raise ValueError(f"{value!r} is outside the years 1-9999 in UTC") from None

    return convert


def _date_converter(fmt: CsvFormat) -> Converter:
    formats = fmt.date_formats

    def convert(value: str) -> str:
        text = value.strip()
        if formats:
            for f in formats:
                try:
                    return datetime.strptime(text, f).date().isoformat()
                except ValueError:
                    continue
            raise ValueError(f"{value!r} is not a date in {', '.join(formats)}")
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None

    return convert


def _currency_converter(value: str) -> str:
    text = value.strip().upper()
    if not _CURRENCY.match(text):
        raise ValueError(f"{value!r} is not a three-letter currency code")
    return text


def _no_nul(value: str) -> str:
    if _NUL in value:
        raise ValueError(f"{value[:60]!r} contains a NUL character (\\x00), which PostgreSQL text cannot hold")
    return value


NUL_IN_JSONB = "contains a NUL character (\\x00), which PostgreSQL jsonb cannot hold"


def nul_key(extra: Mapping[str, str | None]) -> str | None:
    """The first key of a row's ``_extra`` whose name or value holds NUL (its jsonb cannot), else None."""
    return next((k for k, v in extra.items() if _NUL in k or (v is not None and _NUL in v)), None)


def _text_converter(col: Column) -> Converter:
    if not col.pattern:
        return _no_nul
    pattern = re.compile(col.pattern)

    def convert(value: str) -> str:
        _no_nul(value)
        if not pattern.match(value.strip()):
            raise ValueError(f"{value!r} does not match the expected pattern {col.pattern}")
        return value.strip()

    return convert


_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


def _boolean_converter(value: str) -> str:
    text = value.strip().lower()
    if text in _TRUE:
        return "true"
    if text in _FALSE:
        return "false"
    raise ValueError(f"{value!r} is not true/false")


def _json_converter(value: str) -> str:
    try:
        parsed = json.loads(value)
    except ValueError:
        raise ValueError(f"{value[:60]!r} is not valid JSON") from None
    # jsonb rejects an escaped NUL; the substring test keeps the walk off the common path
    if "\\u0000" in value and _json_has_nul(parsed):
        raise ValueError(f"{value[:60]!r} holds a NUL character (\\u0000), which PostgreSQL jsonb cannot hold")
    return value


def _json_has_nul(value) -> bool:
    if isinstance(value, str):
        return _NUL in value
    if isinstance(value, list):
        return any(map(_json_has_nul, value))
    if isinstance(value, dict):
        return any(_NUL in k or _json_has_nul(v) for k, v in value.items())
    return False


_WHITESPACE = " \t\r\n\u00a0\u202f"


def _cleaning_converter(fmt: CsvFormat, col: Column, convert: Converter) -> Converter:
    """``strip_chars`` and ``extract`` run before the type conversion; what is left may be empty."""
    strip = col.strip_chars + _WHITESPACE if col.strip_chars else None
    extract = re.compile(col.extract) if col.extract else None
    nulls = fmt.null_values
    default = col.default
    not_null = col.not_null

    def clean(value: str) -> str | None:
        text = value.strip(strip) if strip is not None else value
        if extract is not None:
            found = extract.search(text)
            if found is None:
                raise ValueError(f"{value!r} does not contain {col.extract}")
            text = found.group(1) or ""
        if text.strip() in nulls:
            if default is not None:
                return default
            if not_null:
                raise ValueError("required value is missing")
            return None
        try:
            return convert(text)
        except ValueError as exc:
            raise ValueError(f"{exc} (cell {value!r})" if text != value else str(exc)) from None

    return clean  # type: ignore[return-value]  # None: the cleaned text means NULL


def converter_for(fmt: CsvFormat, col: Column) -> Converter:
    """The converter for one column: type conversion, preceded by ``strip_chars``/``extract``."""
    convert = _type_converter(fmt, col)
    if col.strip_chars or col.extract:
        return _cleaning_converter(fmt, col, convert)
    return convert


def _type_converter(fmt: CsvFormat, col: Column) -> Converter:
    if col.type == "numeric":
        return _numeric_converter(fmt, col)
    if col.type == "integer":
        return _integer_converter(col)
    if col.type == "timestamptz":
        return _timestamp_converter(fmt)
    if col.type == "date":
        return _date_converter(fmt)
    if col.type == "currency":
        return _currency_converter
    if col.type == "boolean":
        return _boolean_converter
    if col.type == "json":
        return _json_converter
    return _text_converter(col)


def _record_dict(header: list[str], record: list[str]) -> dict[str, str]:
    out = {}
    for i, value in enumerate(record):
        out[header[i] if i < len(header) else f"<extra field {i + 1}>"] = value
    return out


def decoded_lines(binary: Iterable[bytes], encoding: str, name: str) -> Iterator[str]:
    """Decode line by line so an encoding error names its exact physical line.

    A UTF-8 byte-order mark is tolerated. Lines keep their endings, as csv expects.
    """
    enc = "utf-8-sig" if encoding.replace("_", "-").lower() in ("utf-8", "utf8") else encoding
    decoder = codecs.getincrementaldecoder(enc)(errors="strict")
    number, raw = 0, b""
    for number, raw in enumerate(binary, start=1):
        try:
            yield decoder.decode(raw)
        except UnicodeDecodeError as exc:
            raise _decode_error(name, encoding, number, exc.reason, exc.start + 1) from None
    # Flush at EOF: a last line cut inside a multi-byte sequence ("caf\xc3") is held in the
    # decoder's buffer and would otherwise vanish silently.
    pending = len(decoder.getstate()[0])
    try:
        tail = decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise _decode_error(name, encoding, number, exc.reason, len(raw) - pending + exc.start + 1) from None
    if tail:
        yield tail


def _decode_error(name: str, encoding: str, number: int, reason: str, byte: int) -> FileFormatError:
    return FileFormatError(
        f"{name}: line {number} is not valid {encoding}: {reason} at byte {byte} "
        f"of the line (re-save the file as {encoding}, or set `encoding` in the format)"
    )


def _gzip_lines(handle, name: str) -> Iterator[bytes]:
    """Lines of a gzip file, decompressed as they are read; a corrupt or truncated archive is a
    :class:`FileFormatError` naming the file (the batch then loads nothing)."""
    try:
        yield from handle
    except (OSError, EOFError, zlib.error) as exc:
        raise FileFormatError(f"{name}: not a readable gzip file: {exc}") from None


def parse_csv(fmt: CsvFormat, path: Path) -> tuple[HeaderMap, Iterator[ParsedRow | RowError]]:
    """Read the header now (errors raise at once), then stream records lazily.

    Every data record comes back either as a :class:`ParsedRow` or as a :class:`RowError`;
    nothing is skipped. Decoding errors raise :class:`FileFormatError` naming file and line.
    A file whose name ends in ``.gz`` is decompressed while it streams (never held in memory).
    """
    name = str(path)
    if name.lower().endswith(".gz"):
        handle = gzip.open(path, "rb")  # noqa: SIM115 - closed by the record generator
        lines: Iterable[bytes] = _gzip_lines(handle, name)
    else:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the record generator
        lines = handle
    reader = csv.reader(decoded_lines(lines, fmt.encoding, name), delimiter=fmt.delimiter)
    skip = _skip_matcher(fmt)
    try:
        header = next(reader)
        # Blank lines, rows of bare delimiters and report titles (skip_records) before the header.
        while not any(header) or (skip is not None and skip(header)):
            header = next(reader)
    except StopIteration:
        handle.close()
        raise FileFormatError(f"{name}: the file is empty (no header row)") from None
    except FileFormatError:
        handle.close()
        raise
    except csv.Error as exc:
        handle.close()
        raise FileFormatError(f"{name}: line 1: {exc}") from None
    try:
        hmap = map_header(fmt, header, name)
    except FileFormatError:
        handle.close()
        raise
    return hmap, _records(fmt, hmap, reader, handle, name)


def _skip_matcher(fmt: CsvFormat) -> Callable[[list[str]], bool] | None:
    if not fmt.skip_records:
        return None
    patterns = [re.compile(p) for p in fmt.skip_records]
    delimiter = fmt.delimiter

    def matches(record: list[str]) -> bool:
        text = delimiter.join(record)
        return any(p.search(text) for p in patterns)

    return matches


def _records(fmt: CsvFormat, hmap: HeaderMap, reader, handle, name: str) -> Iterator[ParsedRow | RowError]:
    header = hmap.header
    width = len(header)
    nulls = fmt.null_values
    plan = [
        (pos, col, converter_for(fmt, col), col.default)
        for pos, col in zip(hmap.positions, fmt.columns, strict=True) if col.constant is None
    ]
    # Constant columns follow the file's columns (parse_format puts them last): append per row.
    constants = [col.constant for col in fmt.columns if col.constant is not None]
    if constants and any(col.constant is None for col in fmt.columns[len(plan):]):
        raise ValueError(f"format {fmt.name}: constant columns must come after the file's columns")
    skip = _skip_matcher(fmt)
    extra_positions = hmap.extra_positions
    prev_end = reader.line_num
    with handle:
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise FileFormatError(f"{name}: line {prev_end + 1}: {exc}") from None
            line = prev_end + 1
            prev_end = reader.line_num
            if not record or (not record[0] and not any(record)):
                continue  # a blank line, or a row of bare delimiters, carries no data
            if len(record) != width:
                if skip is not None and skip(record):
                    continue  # report furniture ("12,record(s) downloaded,...")
                yield RowError(line, None,
                               f"record has {len(record)} fields, the header has {width} "
                               "(truncated or broken line)", _record_dict(header, record))
                continue
            values: list[str | None] = []
            error: RowError | None = None
            for pos, col, convert, default in plan:
                raw = record[pos] if pos is not None else ""
                if pos is None or raw.strip() in nulls:
                    if default is not None:
                        values.append(default)
                        continue
                    if col.not_null:
                        error = RowError(line, col.header, "required value is missing",
                                         _record_dict(header, record))
                        break
                    values.append(None)
                    continue
                try:
                    values.append(convert(raw))
                except ValueError as exc:
                    error = RowError(line, col.header, str(exc), _record_dict(header, record))
                    break
            if error is not None:
                if skip is None or not skip(record):
                    yield error
                continue
            if constants:
                values += constants
            extra = {header[p]: record[p] for p in extra_positions} if extra_positions else None
            if extra and (bad := nul_key(extra)) is not None:
                yield RowError(line, bad, NUL_IN_JSONB, _record_dict(header, record))
                continue
            yield ParsedRow(line, values, extra)
