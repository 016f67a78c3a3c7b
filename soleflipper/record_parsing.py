"""API records (JSON objects) through the same declarative formats and checks as CSV files.

A record format's ``header`` values are dotted paths into the JSON object
(``payout.totalPayout``); lists and objects that a column names are stored as JSON text.
Keys the format does not name are kept in ``extra``, so an API that adds fields loses nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from soleflipper.csv_parsing import NUL_IN_JSONB, ParsedRow, RowError, converter_for, nul_key
from soleflipper.formats import CsvFormat


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # StockX sends counts as doubles (57.0)
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def flatten(record: Mapping[str, Any], wanted: set[str], prefix: str = "") -> dict[str, Any]:
    """Dotted paths to values; descends into objects unless the object itself is wanted."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and path not in wanted and value:
            flat.update(flatten(value, wanted, prefix=f"{path}."))
        else:
            flat[path] = value
    return flat


def parse_records(fmt: CsvFormat, records: Iterable[Mapping[str, Any]], first_index: int = 1
                  ) -> Iterator[ParsedRow | RowError]:
    """Validate and convert records; ``line`` is the record's position in the batch."""
    # Constant columns (platform, a file-wide currency) come last in a format; append them per row.
    read = [col for col in fmt.columns if col.constant is None]
    constants = [col.constant for col in fmt.columns if col.constant is not None]
    wanted = {key for col in read for key in (col.header, *col.aliases)}
    plan = [(col, (col.header, *col.aliases), converter_for(fmt, col)) for col in read]
    nulls = fmt.null_values
    for index, record in enumerate(records, start=first_index):
        if not isinstance(record, Mapping):  # null, a list or a string in the API's array of records
            yield RowError(index, None, f"record is {_json_kind(record)}, not a JSON object", _record_text(record))
            continue
        flat = flatten(record, wanted)
        values: list[str | None] = []
        error: RowError | None = None
        used: set[str] = set()
        for col, keys, convert in plan:
            key = next((k for k in keys if k in flat), None)
            raw = flat.get(key) if key is not None else None
            if key is not None:
                used.add(key)
            if raw is None or (isinstance(raw, str) and raw.strip() in nulls):
                if col.default is not None:
                    values.append(col.default)
                    continue
                if col.not_null:
                    error = RowError(index, col.header, "required value is missing", _record_text(record))
                    break
                values.append(None)
                continue
            try:
                values.append(convert(_text(raw)))
            except ValueError as exc:
                error = RowError(index, col.header, str(exc), _record_text(record))
                break
        if error is not None:
            yield error
            continue
        values.extend(constants)
        extra = {k: _text(v) if v is not None else None for k, v in flat.items() if k not in used}
        # (an object or list value is JSON text here: its NUL is escaped, which jsonb accepts)
        if (bad := nul_key(extra)) is not None:
            yield RowError(index, bad, NUL_IN_JSONB, _record_text(record))
            continue
        yield ParsedRow(index, values, extra or None)


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return f"a {type(value).__name__}"


def _record_text(record: Any) -> dict[str, str]:
    return {"record": json.dumps(record, ensure_ascii=False, sort_keys=True, default=str)}
