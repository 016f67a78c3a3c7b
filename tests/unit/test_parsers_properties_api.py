"""Property-based tests: API records of StockX, Alias, eBay and Notion, mutated, through their parsers.

Base records come from the simulators' data modules (what the simulators serve). Each example
mutates one field of one record (key removed, null, wrong type, truncated string, huge number,
unexpected nested value, unknown key) and checks the parser's answer against what the format
says: it never raises; a required field that is gone, or a typed field that holds something of
another type, is a RowError naming that field; any other record parses, with every column it
did not touch exactly as in the unmutated record, whose values are checked here against the
payload itself.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assets.notion_sync import _page_record, build_format
from assets.stockx_sync import with_snapshot_date
from soleflipper.csv_parsing import ParsedRow, RowError
from soleflipper.formats import Column, CsvFormat, load_format
from soleflipper.notion_mappings import load_mapping
from soleflipper.notion_properties import flatten_page
from soleflipper.record_parsing import parse_records

SETTINGS = dict(deadline=None, derandomize=True)
MISSING = object()


@cache
def base_records() -> dict[str, list[dict[str, Any]]]:
    from simulators import alias_data, ebay_data, stockx_data

    sx = stockx_data.build_world(7, 12)
    variants = [v for vs in sx.variants.values() for v in vs]
    market = with_snapshot_date([stockx_data.market_data(sx, v, "EUR") for v in variants[:6]], date(2025, 6, 2))
    alias = alias_data.build_world(3, 8, 4)
    ebay = ebay_data.build_world(11, 6)
    ebay_tx = ebay.transactions + [ebay_data.refund_transaction(ebay.orders[0], datetime(2026, 11, 1, tzinfo=UTC))]
    return {
        "stockx_orders": (sx.orders + sx.active_orders)[:12],
        "stockx_products": list(sx.products.values())[:6],
        "stockx_variants": variants[:8],
        "stockx_market_data": market,
        "alias_orders": alias.orders,
        "alias_listings": alias.listings,
        "ebay_api_orders": ebay.orders,
        "ebay_api_transactions": ebay_tx,
    }


API_FORMATS = sorted(base_records())


def at_path(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def set_path(record: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``record`` with ``path`` set (MISSING: removed)."""
    out = json.loads(json.dumps(record))
    *parents, last = path.split(".")
    node = out
    for part in parents:
        node = node[part]
    if value is MISSING:
        del node[last]
    else:
        node[last] = value
    return out


def expected_value(col: Column, raw: Any) -> str | None:
    """The canonical text a payload value must parse to (worked out from the payload, not the parser)."""
    if raw is MISSING or raw is None or raw == "":
        return col.default
    if col.type == "json":
        return json.dumps(raw, ensure_ascii=False, sort_keys=True)
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if col.type == "timestamptz":
        return datetime.fromisoformat(raw).astimezone(UTC).isoformat()
    if col.type == "date":
        return date.fromisoformat(raw).isoformat()
    if col.type == "currency":
        return raw.upper()
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw)


def values_of(fmt: CsvFormat, row: ParsedRow) -> dict[str, str | None]:
    return dict(zip(fmt.column_names, row.values, strict=True))


@pytest.mark.parametrize("name", API_FORMATS)
def test_simulator_records_parse_to_their_payload_values(name):
    fmt = load_format(name)
    records = base_records()[name]
    rows = list(parse_records(fmt, records))
    assert [type(r) for r in rows] == [ParsedRow] * len(records), [r for r in rows if isinstance(r, RowError)]
    for record, row in zip(records, rows, strict=True):
        expected = {c.name: expected_value(c, at_path(record, c.header)) for c in fmt.columns if c.constant is None}
        assert {k: v for k, v in values_of(fmt, row).items() if k in expected} == expected


# Values of another type than the column's, per column type; text and json columns take anything.
WRONG_TYPES = st.sampled_from([{"x": 1}, [1, 2], "x?", "", True, {"value": None}])
HUGE = st.one_of(st.integers(10**18, 10**300), st.sampled_from([1e308, 1.5e-300, -0.0, float("inf"), float("nan")]))


@st.composite
def mutation(draw, fmt: CsvFormat, record: dict[str, Any]) -> tuple[str, Any]:
    """(path, new value or MISSING) for a leaf some column reads."""
    paths = [c.header for c in fmt.file_columns if at_path(record, c.header) is not MISSING]
    path = draw(st.sampled_from(paths))
    old = at_path(record, path)
    kind = draw(st.sampled_from(["remove", "null", "wrong", "truncate", "huge", "unicode"]))
    if kind == "remove":
        return path, MISSING
    if kind == "null":
        return path, None
    if kind == "truncate" and isinstance(old, str) and old:
        return path, old[: draw(st.integers(0, len(old) - 1))]
    if kind == "huge":
        return path, draw(HUGE)
    if kind == "unicode":
        return path, draw(st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=20))
    return path, draw(WRONG_TYPES)


@pytest.mark.parametrize("name", API_FORMATS)
@settings(max_examples=60, **SETTINGS)
@given(data=st.data())
def test_a_mutated_record_is_parsed_or_rejected_naming_its_field(name, data):
    fmt = load_format(name)
    records = base_records()[name]
    index = data.draw(st.integers(0, len(records) - 1))
    record = records[index]
    path, value = data.draw(mutation(fmt, record))
    extra_key = data.draw(st.sampled_from([None, "brandNewField"]))
    mutated = set_path(record, path, value)
    if extra_key:
        mutated[extra_key] = data.draw(st.sampled_from([{"nested": [1, {"deep": None}]}, [], 10**200, "x"]))
    (base,) = parse_records(fmt, [record])
    rows = list(parse_records(fmt, [record, mutated, record], first_index=41))  # neighbours stay intact
    assert [r.line for r in rows] == [41, 42, 43]
    assert isinstance(rows[0], ParsedRow) and isinstance(rows[2], ParsedRow)
    assert rows[0].values == rows[2].values == base.values
    row = rows[1]
    col = next(c for c in fmt.file_columns if c.header == path)
    if isinstance(row, RowError):
        assert row.field == col.header and row.reason, row
        assert json.loads(row.record["record"]) == json.loads(json.dumps(mutated, default=str))
        return
    # parsed: only the mutated column may differ, and only as the format allows
    before, after = values_of(fmt, base), values_of(fmt, row)
    assert {k: v for k, v in after.items() if k != col.name} == {k: v for k, v in before.items() if k != col.name}
    if value is MISSING or value is None or value == "":
        assert not (col.not_null and col.default is None), "a required field went missing unnoticed"
        assert after[col.name] == col.default
    elif col.type in ("numeric", "integer") and isinstance(value, int) and not isinstance(value, bool):
        assert after[col.name] == str(value)  # exact, however large
    elif col.type not in ("text", "json"):
        assert not isinstance(value, (dict, list)) and value != "x?", f"{col.header}: {value!r} accepted"
    if extra_key:
        assert any(k.split(".")[0] == extra_key for k in row.extra or {}), row.extra  # kept in _extra


def test_required_fields_missing_are_named():
    fmt = load_format("ebay_api_orders")
    record = base_records()["ebay_api_orders"][0]
    rows = list(parse_records(fmt, [set_path(record, "creationDate", MISSING),
                                    set_path(record, "orderId", "not an order id"),
                                    set_path(record, "pricingSummary.total.value", {"v": 1})]))
    assert [(r.line, r.field) for r in rows] == [(1, "creationDate"), (2, "orderId"), (3, "pricingSummary.total.value")]
    assert rows[0].reason == "required value is missing"


# --------------------------------------------------------------------------- Notion


@cache
def notion_pages() -> tuple[Any, list[dict[str, Any]]]:
    from simulators.notion_data import SEED_NOW, build_workspace

    ws, _ = build_workspace(7, 12)
    mapping = load_mapping(env={}).databases["purchases"]
    pages = [ws.render_page(p, "2025-09-03", SEED_NOW) for p in ws.pages.values() if p.db == "purchases"][:8]
    return mapping, pages


def notion_rows(mapping, pages: list[dict[str, Any]]) -> list[ParsedRow | RowError]:
    fmt = build_format(mapping)
    records = []
    for page in pages:
        warnings: list[str] = []
        records.append(_page_record(flatten_page(page, mapping), page, mapping, {}, warnings))
    return list(parse_records(fmt, records))


def test_notion_pages_parse_to_their_property_values():
    mapping, pages = notion_pages()
    fmt = build_format(mapping)
    rows = notion_rows(mapping, pages)
    assert all(isinstance(r, ParsedRow) for r in rows)
    for page, row in zip(pages, rows, strict=True):
        values = values_of(fmt, row)
        assert values["page_id"] == page["id"]
        assert values["last_edited_time"] == datetime.fromisoformat(page["last_edited_time"]).isoformat()
        assert values["url"] == page["url"]
        for col in mapping.columns:
            prop = page["properties"].get(col.property)
            if prop and prop["type"] == "number" and col.type == "numeric":
                raw = prop["number"]
                assert values[col.column] == (None if raw is None else str(Decimal(repr(raw)))), col


NOTION_JUNK = st.sampled_from([None, "x?", 12, [], {}, {"start": "x?"}, {"name": 5}, [{"plain_text": None}],
                               [{"text": "no content"}], {"type": "number"}, "1e999", float("nan")])


@settings(max_examples=60, **SETTINGS)
@given(data=st.data())
def test_a_mutated_notion_page_is_parsed_or_rejected_naming_its_field(data):
    """A page whose property values are malformed still becomes a row (the value NULL, with a
    warning) or a RowError naming the field; it never raises. Its neighbours are untouched."""
    mapping, pages = notion_pages()
    page = pages[data.draw(st.integers(0, len(pages) - 1))]
    name = data.draw(st.sampled_from(sorted(page["properties"])))
    prop = json.loads(json.dumps(page["properties"][name]))
    junk = data.draw(NOTION_JUNK)
    how = data.draw(st.sampled_from(["value", "type", "drop"]))
    if how == "value":
        prop[prop["type"]] = junk
    elif how == "type":
        prop["type"] = data.draw(st.sampled_from(["number", "date", "rich_text", "select", "people", "brand_new"]))
    mutated = {**page, "properties": {**page["properties"], name: prop}}
    if how == "drop":
        del mutated["properties"][name]
    fmt = build_format(mapping)
    base = notion_rows(mapping, [page])[0]
    rows = notion_rows(mapping, [page, mutated])
    assert rows[0].values == base.values
    if isinstance(rows[1], RowError):
        assert rows[1].field in fmt.column_names and rows[1].reason
    else:
        changed = {c for c, a, b in zip(fmt.column_names, base.values, rows[1].values, strict=True) if a != b}
        touched = {c.column for c in mapping.columns if c.property == name} | {"page"}
        assert changed <= touched, changed - touched


# --------------------------------------------------------------------------- bugs found


@pytest.mark.parametrize(("record", "kind"), [(None, "null"), (["orderNumber"], "a list"),
                                               ("74512233-74412001", "a string")])
def test_a_record_that_is_not_an_object_is_quarantined(record, kind):
    fmt = load_format("stockx_orders")
    good = base_records()["stockx_orders"][0]
    row, after = parse_records(fmt, [record, good])
    assert isinstance(row, RowError) and (row.line, row.field) == (1, None)
    assert row.reason == f"record is {kind}, not a JSON object"
    assert row.record == {"record": json.dumps(record)}
    assert isinstance(after, ParsedRow) and after.line == 2  # its neighbour is untouched


def test_a_nul_in_an_unknown_key_of_a_record_is_quarantined_naming_it():
    fmt = load_format("alias_orders")
    base = base_records()["alias_orders"][0]
    (row,) = parse_records(fmt, [{**base, "zz_new": "a\x00b"}])
    assert isinstance(row, RowError) and (row.line, row.field) == (1, "zz_new")


def test_an_api_timestamp_at_the_edge_of_the_calendar_is_quarantined():
    fmt = load_format("alias_orders")
    record = {**base_records()["alias_orders"][0], "updated_at": "0001-01-01T00:00:00+05:00"}
    (row,) = parse_records(fmt, [record])
    assert isinstance(row, RowError) and row.field == "updated_at"
    assert row.reason == "'0001-01-01T00:00:00+05:00' is outside the years 1-9999 in UTC"


@pytest.mark.parametrize(("kind", "value"), [("created_time", 12), ("created_time", "x?"), ("relation", 12),
                                             ("number", "abc"), ("date", {"start": "x?"})])
def test_a_malformed_notion_property_value_becomes_null_with_a_warning(kind, value):
    page = {"id": "p1", "last_edited_time": "2025-06-02T10:00:00.000Z", "properties": {
        "Broken": {"id": "b", "type": kind, kind: value}}}
    row = flatten_page(page, {"Broken": {"column": "broken", "type": "text"}})
    assert row["values"] == {"broken": None}
    assert row["warnings"][0].startswith(f"property 'Broken' has a malformed {kind} value (")


def test_a_nul_in_a_json_column_is_quarantined_naming_it():
    # json.dumps writes it as \u0000, which jsonb refuses: the COPY would fail the whole batch
    fmt = load_format("stockx_orders")
    base = next(r for r in base_records()["stockx_orders"] if isinstance(r.get("payout"), dict))
    bad = set_path(base, "payout.adjustments", [{"adjustmentType": "a\x00b", "amount": "1"}])
    row, good = parse_records(fmt, [bad, base])
    assert isinstance(row, RowError) and (row.line, row.field) == (1, "payout.adjustments")
    assert "holds a NUL character (\\u0000), which PostgreSQL jsonb cannot hold" in row.reason
    assert isinstance(good, ParsedRow) and good.line == 2
