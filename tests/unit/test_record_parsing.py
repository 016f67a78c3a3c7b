"""API records through declarative formats: dotted paths, JSON columns, nulls, unknown keys."""

from __future__ import annotations

import json

from soleflipper.csv_parsing import ParsedRow, RowError
from soleflipper.formats import parse_format
from soleflipper.record_parsing import parse_records

FMT = parse_format({
    "name": "orders", "source": "api", "entity": "orders",
    "columns": [
        {"name": "order_number", "header": "orderNumber", "not_null": True},
        {"name": "amount", "header": "amount", "type": "numeric"},
        {"name": "created_at", "header": "createdAt", "type": "timestamptz"},
        {"name": "style_id", "header": "product.styleId"},
        {"name": "total_payout", "header": "payout.totalPayout", "type": "numeric"},
        {"name": "adjustments", "header": "payout.adjustments", "type": "json"},
        {"name": "flex", "header": "isFlex", "type": "boolean"},
        {"name": "count", "header": "count", "type": "integer"},
    ],
}, "inline")


def _values(row: ParsedRow) -> dict:
    return dict(zip(FMT.column_names, row.values, strict=True))


def test_nested_paths_json_lists_booleans_and_double_counts():
    record = {
        "orderNumber": "74512233-74412001", "amount": "48.94", "createdAt": "2025-06-02T09:14:03.000Z",
        "product": {"productId": "p1", "styleId": "BQ6806-100"},
        "payout": {"totalPayout": "37.97", "adjustments": [{"adjustmentType": "Shipping", "amount": "-4.5"}]},
        "isFlex": False, "count": 57.0, "brandNew": {"x": 1},
    }
    (row,) = parse_records(FMT, [record])
    values = _values(row)
    assert values == {
        "order_number": "74512233-74412001", "amount": "48.94", "created_at": "2025-06-02T09:14:03+00:00",
        "style_id": "BQ6806-100", "total_payout": "37.97",
        "adjustments": '[{"adjustmentType": "Shipping", "amount": "-4.5"}]', "flex": "false", "count": "57",
    }
    assert row.extra == {"product.productId": "p1", "brandNew.x": "1"}


def test_null_payout_and_missing_keys_are_nulls_not_errors():
    (row,) = parse_records(FMT, [{"orderNumber": "02-L0QT6MRVSG", "payout": None, "amount": "120"}])
    values = _values(row)
    assert values["total_payout"] is None and values["adjustments"] is None and values["style_id"] is None


def test_bad_values_and_missing_keys_become_row_errors_with_the_whole_record():
    rows = list(parse_records(FMT, [{"orderNumber": None}, {"orderNumber": "1-2", "amount": "12,5"}], first_index=101))
    assert [type(r) for r in rows] == [RowError, RowError]
    assert (rows[0].line, rows[0].field, rows[0].reason) == (101, "orderNumber", "required value is missing")
    assert rows[1].field == "amount" and "is not a number" in rows[1].reason
    assert json.loads(rows[1].record["record"]) == {"orderNumber": "1-2", "amount": "12,5"}


def test_constants_and_defaults_apply_to_api_records_too():
    fmt = parse_format({
        "name": "payouts", "source": "api", "entity": "payouts", "constants": {"platform": "alias"},
        "columns": [{"name": "payout_id", "header": "id"},
                    {"name": "currency", "header": "currency", "type": "currency", "default": "USD"}],
    }, "inline")
    (row,) = parse_records(fmt, [{"id": "p1"}])
    assert dict(zip(fmt.column_names, row.values, strict=True)) == {
        "payout_id": "p1", "currency": "USD", "platform": "alias"}
