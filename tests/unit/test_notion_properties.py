"""Notion property values → typed Python values, and pages → rows through a YAML mapping.

Every property type of api-contracts.md §2.5 with a filled and an empty value; the example page
of §2.6 flattened exactly; the mapping file validated.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import yaml

from soleflipper.notion_mappings import DEFAULT_MAPPING, MAPPING_ENV, load_mapping
from soleflipper.notion_properties import (
    DateValue,
    FileRef,
    MappingError,
    Relation,
    UnknownValue,
    User,
    flatten_page,
    flatten_properties,
    flatten_property,
    parse_database_mapping,
    parse_mapping,
    to_column,
    to_jsonable,
)

BERLIN = ZoneInfo("Europe/Berlin")
USER = "7a1b2c3d-0000-4000-8000-000000000001"


def text_item(content: str, **extra) -> dict:
    return {
        "type": "text",
        "text": {"content": content, "link": None},
        "annotations": {"bold": False, "italic": False, "strikethrough": False, "underline": False,
                        "code": False, "color": "default"},
        "plain_text": content,
        "href": None,
        **extra,
    }  # fmt: skip


def prop(kind: str, value, **extra) -> dict:
    return {"id": "a%3Fb1", "type": kind, kind: value, **extra}


# -- text -------------------------------------------------------------------------------------


def test_title_and_rich_text_concatenate_plain_text_of_every_item_including_mentions():
    mention = {
        "type": "mention",
        "mention": {"type": "user", "user": {"object": "user", "id": USER}},
        "plain_text": "@Mo Yilmaz",
        "href": None,
    }
    value = [text_item("Nike Dunk Low "), text_item("Retro White Black"), mention]
    assert flatten_property(prop("title", value)) == "Nike Dunk Low Retro White Black@Mo Yilmaz"
    assert flatten_property(prop("rich_text", [text_item("DD1391-100")])) == "DD1391-100"


def test_rich_text_without_plain_text_falls_back_to_the_content():
    assert flatten_property(prop("rich_text", [{"type": "text", "text": {"content": "IF6442"}}])) == "IF6442"


@pytest.mark.parametrize("kind", ["title", "rich_text"])
def test_empty_text_is_none(kind):
    assert flatten_property(prop(kind, [])) is None


# -- scalars ----------------------------------------------------------------------------------


def test_numbers_become_exact_decimals():
    assert flatten_property(prop("number", 110)) == Decimal("110")
    assert flatten_property(prop("number", 148.5)) == Decimal("148.5")
    assert flatten_property(prop("number", 19.99)) == Decimal("19.99")  # not 19.989999999999998...
    assert flatten_property(prop("number", 0.35)) == Decimal("0.35")
    assert flatten_property(prop("number", None)) is None


def test_select_status_and_multi_select_give_option_names():
    option = {"id": "f1e2", "name": "US 10", "color": "blue"}
    assert flatten_property(prop("select", option)) == "US 10"
    assert flatten_property(prop("select", None)) is None
    assert flatten_property(prop("status", {"id": "st9", "name": "Sale completed", "color": "green"})) == "Sale completed"
    assert flatten_property(prop("status", None)) is None
    tags = [{"id": "t1", "name": "Nike", "color": "gray"}, {"id": "t2", "name": "Restock", "color": "red"}]
    assert flatten_property(prop("multi_select", tags)) == ["Nike", "Restock"]
    assert flatten_property(prop("multi_select", [])) == []


def test_checkbox_url_email_and_phone_number():
    assert flatten_property(prop("checkbox", True)) is True
    assert flatten_property(prop("checkbox", False)) is False
    assert flatten_property(prop("url", "https://stockx.com/nike-dunk-low")) == "https://stockx.com/nike-dunk-low"
    assert flatten_property(prop("email", "lena@demo-sneakers.example")) == "lena@demo-sneakers.example"
    assert flatten_property(prop("phone_number", "+49 151 2345678")) == "+49 151 2345678"
    for kind in ("url", "email", "phone_number"):
        assert flatten_property(prop(kind, None)) is None
        assert flatten_property(prop(kind, "")) is None


# -- dates ------------------------------------------------------------------------------------


def test_date_only_value_is_a_date():
    assert flatten_property(prop("date", {"start": "2025-06-02", "end": None, "time_zone": None})) == DateValue(
        date(2025, 6, 2)
    )


def test_date_range_of_days_keeps_the_end():
    value = flatten_property(prop("date", {"start": "2025-03-17", "end": "2025-03-19", "time_zone": None}))
    assert value == DateValue(date(2025, 3, 17), date(2025, 3, 19), None)
    assert value.is_range


def test_datetime_range_with_offset_and_time_zone_is_aware_in_that_zone():
    raw = {"start": "2025-04-10T10:00:00.000+02:00", "end": "2025-04-10T14:00:00.000+02:00", "time_zone": "Europe/Berlin"}
    value = flatten_property(prop("date", raw))
    assert value.start == datetime(2025, 4, 10, 8, 0, tzinfo=UTC)
    assert value.end == datetime(2025, 4, 10, 12, 0, tzinfo=UTC)
    assert value.start.tzinfo == BERLIN and value.start.hour == 10 and value.end.hour == 14
    assert value.time_zone == "Europe/Berlin"


def test_local_wall_time_with_time_zone_gets_that_zone():
    value = flatten_property(prop("date", {"start": "2025-04-02T21:15:00.000", "end": None, "time_zone": "Europe/Berlin"}))
    assert value.start == datetime(2025, 4, 2, 19, 15, tzinfo=UTC)
    assert value.start.utcoffset() == timedelta(hours=2)


def test_datetime_without_time_zone_keeps_its_offset_and_naive_means_utc():
    with_offset = flatten_property(prop("date", {"start": "2025-06-02T14:37:00.000-05:00", "end": None, "time_zone": None}))
    assert with_offset.start.utcoffset() == timedelta(hours=-5)
    assert with_offset.start == datetime(2025, 6, 2, 19, 37, tzinfo=UTC)
    naive = flatten_property(prop("date", {"start": "2025-06-02T14:37:00.000", "end": None, "time_zone": None}))
    assert naive.start == datetime(2025, 6, 2, 14, 37, tzinfo=UTC)


def test_empty_date_is_none():
    assert flatten_property(prop("date", None)) is None


def test_created_and_last_edited_time_are_aware_datetimes():
    assert flatten_property(prop("created_time", "2025-05-28T08:12:00.000Z")) == datetime(2025, 5, 28, 8, 12, tzinfo=UTC)
    assert flatten_property(prop("last_edited_time", "2025-06-02T14:37:00.000Z")) == datetime(
        2025, 6, 2, 14, 37, tzinfo=UTC
    )


# -- references -------------------------------------------------------------------------------


def test_relation_gives_ids_and_has_more():
    value = flatten_property(prop("relation", [{"id": "9b8a7c6d-1111-4222-8333-444455556666"}], has_more=False))
    assert value == Relation(("9b8a7c6d-1111-4222-8333-444455556666",), False)
    many = flatten_property(prop("relation", [{"id": f"id-{i}"} for i in range(25)], has_more=True))
    assert len(many.ids) == 25 and many.has_more is True
    assert flatten_property(prop("relation", [], has_more=False)) == Relation((), False)
    assert flatten_property(prop("relation", [])) == Relation((), False)  # has_more absent


def test_people_full_and_partial_users():
    full = {
        "object": "user",
        "id": USER,
        "type": "person",
        "name": "Lena Hoffmann",
        "avatar_url": None,
        "person": {"email": "lena@demo-sneakers.example"},
    }
    bot = {"object": "user", "id": "b0", "type": "bot", "name": "SoleFlipper Sync", "bot": {}}
    partial = {"object": "user", "id": "dead"}
    users = flatten_property(prop("people", [full, bot, partial]))
    assert users == [
        User(USER, "Lena Hoffmann", "lena@demo-sneakers.example", "person"),
        User("b0", "SoleFlipper Sync", None, "bot"),
        User("dead"),
    ]
    assert [u.partial for u in users] == [False, False, True]
    assert flatten_property(prop("people", [])) == []


def test_created_by_and_last_edited_by_are_users():
    assert flatten_property(prop("created_by", {"object": "user", "id": USER})) == User(USER)
    assert flatten_property(prop("last_edited_by", {"object": "user", "id": USER})).partial


def test_files_internal_expiring_and_external():
    files = [
        {"name": "invoice.pdf", "type": "file",
         "file": {"url": "https://files.example/secure/invoice.pdf?sig=1", "expiry_time": "2025-06-02T15:37:00.000Z"}},
        {"name": "Zustand Fotos", "type": "external", "external": {"url": "https://drive.example/photos/1"}},
    ]  # fmt: skip
    assert flatten_property(prop("files", files)) == [
        FileRef("invoice.pdf", "https://files.example/secure/invoice.pdf?sig=1", True, datetime(2025, 6, 2, 15, 37, tzinfo=UTC)),
        FileRef("Zustand Fotos", "https://drive.example/photos/1", False, None),
    ]
    assert flatten_property(prop("files", [])) == []


def test_unique_id_with_and_without_prefix():
    assert flatten_property(prop("unique_id", {"prefix": "SALE", "number": 412})) == "SALE-412"
    assert flatten_property(prop("unique_id", {"prefix": None, "number": 7})) == "7"
    assert flatten_property(prop("unique_id", {"prefix": "BUY", "number": None})) is None


# -- formulas and rollups -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ({"type": "string", "string": "Size 10.5 US - 76551909-76451668 - Sold 3 Days ago"},
         "Size 10.5 US - 76551909-76451668 - Sold 3 Days ago"),
        ({"type": "string", "string": None}, None),
        ({"type": "string", "string": ""}, None),
        ({"type": "number", "number": 0.2666}, Decimal("0.2666")),
        ({"type": "number", "number": None}, None),
        ({"type": "boolean", "boolean": True}, True),
        ({"type": "boolean", "boolean": False}, False),
        ({"type": "boolean", "boolean": None}, None),
        ({"type": "date", "date": {"start": "2025-04-16", "end": None, "time_zone": None}}, DateValue(date(2025, 4, 16))),
        ({"type": "date", "date": None}, None),
    ],
)  # fmt: skip
def test_formula_of_each_result_type(formula, expected):
    assert flatten_property(prop("formula", formula)) == expected


def test_formula_of_an_unknown_result_type_is_kept_raw():
    raw = prop("formula", {"type": "array", "array": [1, 2]})
    value = flatten_property(raw)
    assert value == UnknownValue("formula.array", raw) and value.warning


@pytest.mark.parametrize(
    ("rollup", "expected"),
    [
        ({"type": "number", "number": 100.83, "function": "sum"}, Decimal("100.83")),
        ({"type": "number", "number": None, "function": "sum"}, None),
        ({"type": "date", "date": {"start": "2025-03-14T19:45:00.000+01:00", "end": None, "time_zone": "Europe/Berlin"},
          "function": "earliest_date"},
         DateValue(datetime(2025, 3, 14, 19, 45, tzinfo=BERLIN), None, "Europe/Berlin")),
        ({"type": "date", "date": None, "function": "latest_date"}, None),
        ({"type": "array", "function": "show_original",
          "array": [{"type": "select", "select": {"id": "c1", "name": "DE", "color": "yellow"}},
                    {"type": "number", "number": 84}, {"type": "rich_text", "rich_text": [text_item("BSTN")]}]},
         ["DE", Decimal("84"), "BSTN"]),
        ({"type": "array", "function": "show_original", "array": []}, []),
    ],
)  # fmt: skip
def test_rollup_variants(rollup, expected):
    assert flatten_property(prop("rollup", rollup)) == expected


@pytest.mark.parametrize("kind", ["incomplete", "unsupported"])
def test_rollups_notion_could_not_compute_are_kept_raw_and_flagged(kind):
    raw = prop("rollup", {"type": kind, kind: {}, "function": "sum"})
    assert flatten_property(raw) == UnknownValue(f"rollup.{kind}", raw)


# -- other and unknown types ------------------------------------------------------------------


def test_button_verification_and_place():
    assert flatten_property(prop("button", {})) is None
    verified = flatten_property(
        prop(
            "verification",
            {"state": "verified", "verified_by": {"object": "user", "id": USER},
             "date": {"start": "2025-06-01", "end": "2025-09-01", "time_zone": None}},
        )
    )  # fmt: skip
    assert verified == {
        "state": "verified",
        "verified_by": User(USER),
        "date": DateValue(date(2025, 6, 1), date(2025, 9, 1)),
    }
    place = {"lat": 52.52, "lon": 13.405, "name": "Lager Kreuzberg", "address": "Lindenallee 42, Berlin"}
    assert flatten_property(prop("place", place)) == place


def test_an_unknown_type_is_kept_as_raw_json_with_a_warning_flag():
    raw = {"id": "zz", "type": "ai_summary", "ai_summary": {"text": "Sold twice"}}
    value = flatten_property(raw)
    assert isinstance(value, UnknownValue)
    assert (value.type, value.raw, value.warning) == ("ai_summary", raw, True)
    assert to_jsonable(value) == raw
    assert flatten_property({"id": "x"}) == UnknownValue("None", {"id": "x"})  # no type at all


def test_flatten_properties_keeps_every_property():
    flat = flatten_properties({"A": prop("number", 1), "B": {"id": "q", "type": "mystery", "mystery": 3}})
    assert flat["A"] == Decimal(1) and isinstance(flat["B"], UnknownValue)


# -- column coercion --------------------------------------------------------------------------


def test_to_column_text():
    assert to_column("x", "text") == ("x", None)
    assert to_column(Decimal("148.50"), "text") == ("148.50", None)
    assert to_column(True, "text") == ("true", None)
    assert to_column(["Nike", "Restock"], "text") == ("Nike, Restock", None)
    assert to_column([], "text") == (None, None)
    assert to_column(Relation(("a", "b")), "text") == ("a, b", None)
    assert to_column(DateValue(date(2025, 3, 17), date(2025, 3, 19)), "text") == ("2025-03-17/2025-03-19", None)
    assert to_column(User("u1", "Lena Hoffmann"), "text") == ("Lena Hoffmann", None)
    assert to_column(User("u1"), "text") == ("u1", None)


def test_to_column_numeric():
    assert to_column(Decimal("84.03"), "numeric") == (Decimal("84.03"), None)
    assert to_column("412", "numeric") == (Decimal("412"), None)  # a unique_id without prefix
    assert to_column("12,50", "numeric") == (Decimal("12.50"), None)
    assert to_column([Decimal("70.59")], "numeric") == (Decimal("70.59"), None)  # one-item rollup array
    assert to_column("2%", "numeric") == (None, "cannot be read as numeric: '2%' is not a number")
    assert to_column([Decimal(1), Decimal(2)], "numeric")[0] is None
    assert to_column(True, "numeric")[1] == "cannot be read as numeric: a bool is not a number"


def test_to_column_date_uses_the_day_where_the_moment_was_entered():
    late = DateValue(datetime(2025, 3, 14, 0, 30, tzinfo=BERLIN), None, "Europe/Berlin")  # 23:30 UTC the day before
    assert to_column(late, "date") == (date(2025, 3, 14), None)
    assert to_column(DateValue(date(2025, 3, 17), date(2025, 3, 19)), "date", "end") == (date(2025, 3, 19), None)
    assert to_column(DateValue(date(2025, 3, 17)), "date", "end") == (None, None)
    assert to_column("2025-06-02", "date") == (date(2025, 6, 2), None)
    assert to_column("soon", "date")[0] is None


def test_to_column_timestamptz():
    moment = datetime(2025, 4, 2, 21, 15, tzinfo=BERLIN)
    assert to_column(DateValue(moment, None, "Europe/Berlin"), "timestamptz") == (moment, None)
    assert to_column(date(2025, 6, 2), "timestamptz") == (datetime(2025, 6, 2, tzinfo=UTC), None)
    assert to_column("2025-06-02T14:37:00.000Z", "timestamptz") == (datetime(2025, 6, 2, 14, 37, tzinfo=UTC), None)
    assert to_column(DateValue(moment, None, "Europe/Berlin"), "text", "time_zone") == ("Europe/Berlin", None)


def test_to_column_boolean():
    assert to_column(False, "boolean") == (False, None)
    assert to_column("Ja", "boolean") == (True, None)
    assert to_column("nein", "boolean") == (False, None)
    assert to_column("maybe", "boolean") == (None, "cannot be read as boolean: 'maybe' is not a boolean")


def test_to_column_json_is_plain_json():
    value = [
        FileRef("a.pdf", "https://f/a", True, datetime(2025, 6, 2, 15, 37, tzinfo=UTC)),
        DateValue(datetime(2025, 4, 10, 10, 0, tzinfo=timezone(timedelta(hours=2))), None, "Europe/Berlin"),
        Decimal("84"),
        Decimal("0.35"),
        Relation(("p1",), True),
    ]
    assert to_column(value, "json") == (
        [
            {"name": "a.pdf", "url": "https://f/a", "type": "file", "expiry_time": "2025-06-02T15:37:00+00:00"},
            {"start": "2025-04-10T10:00:00+02:00", "end": None, "time_zone": "Europe/Berlin"},
            84,
            0.35,
            {"ids": ["p1"], "has_more": True},
        ],
        None,
    )


def test_unknown_values_fit_only_json_columns():
    unknown = UnknownValue("mystery", {"type": "mystery", "mystery": 1})
    assert to_column(unknown, "json") == ({"type": "mystery", "mystery": 1}, None)
    assert to_column(unknown, "text") == (None, "type 'mystery' cannot be read as text; kept only in the raw JSON")
    with pytest.raises(ValueError, match="unknown column type 'integer'"):
        to_column(1, "integer")


# -- pages ------------------------------------------------------------------------------------

EXAMPLE_PAGE = {
    "object": "page",
    "id": "1f0c9d1e-2b3a-4c5d-8e9f-0a1b2c3d4e5f",
    "created_time": "2025-05-28T08:12:00.000Z",
    "last_edited_time": "2025-06-02T14:37:00.000Z",
    "created_by": {"object": "user", "id": USER},
    "last_edited_by": {"object": "user", "id": USER},
    "cover": None,
    "icon": None,
    "parent": {"type": "data_source_id", "data_source_id": "2f26ee68-df30-4251-aad4-8ddc420cba3d",
               "database_id": "842a0286-cef0-46a8-abba-eac4c8ca644e"},
    "in_trash": False,
    "archived": False,
    "is_locked": False,
    "properties": {
        "Name": {"id": "title", "type": "title", "title": [text_item("Nike Dunk Low Panda")]},
        "SKU": {"id": "a%3Fb1", "type": "rich_text", "rich_text": [text_item("DD1391-100")]},
        "Size": {"id": "Bz%5Dq", "type": "select", "select": {"id": "f1e2", "name": "US 10", "color": "blue"}},
        "Gross Buy": {"id": "c%3Ak0", "type": "number", "number": 110},
        "Gross Sale": {"id": "d%3Ak1", "type": "number", "number": 148.5},
        "Sale Platform": {"id": "e%3Ak2", "type": "select", "select": {"id": "s1", "name": "StockX", "color": "green"}},
        "Tags": {"id": "f%3Ak3", "type": "multi_select", "multi_select": [{"id": "t1", "name": "Nike", "color": "gray"}]},
        "Status": {"id": "g%3Ak4", "type": "status", "status": {"id": "st9", "name": "Sale completed", "color": "green"}},
        "Sale Date": {"id": "h%3Ak5", "type": "date", "date": {"start": "2025-06-02", "end": None, "time_zone": None}},
        "Listed on StockX?": {"id": "i%3Ak6", "type": "checkbox", "checkbox": True},
        "StockX Link": {"id": "j%3Ak7", "type": "url", "url": "https://stockx.com/nike-dunk-low-retro-white-black-2021"},
        "ROI": {"id": "k%3Ak8", "type": "formula", "formula": {"type": "number", "number": 0.35}},
        "Supplier": {"id": "l%3Ak9", "type": "relation", "relation": [{"id": "9b8a7c6d-1111-4222-8333-444455556666"}],
                     "has_more": False},
        "Supplier Country": {"id": "m%3Ak0", "type": "rollup", "rollup": {
            "type": "array", "function": "show_original",
            "array": [{"type": "select", "select": {"id": "c1", "name": "DE", "color": "yellow"}}]}},
        "Owner": {"id": "n%3Ak1", "type": "people", "people": [{"object": "user", "id": USER}]},
        "Receipt": {"id": "o%3Ak2", "type": "files", "files": [
            {"name": "invoice.pdf", "type": "file",
             "file": {"url": "https://files.example/secure/invoice.pdf?sig=1", "expiry_time": "2025-06-02T15:37:00.000Z"}}]},
        "Sale ID": {"id": "p%3Ak3", "type": "unique_id", "unique_id": {"prefix": "SALE", "number": 412}},
    },
    "url": "https://www.notion.so/Nike-Dunk-Low-Panda-1f0c9d1e2b3a4c5d8e9f0a1b2c3d4e5f",
    "public_url": None,
}  # fmt: skip

EXAMPLE_MAPPING = {
    "Name": {"column": "name", "type": "text", "notion_type": "title"},
    "SKU": {"column": "sku", "type": "text"},
    "Size": "size",
    "Gross Buy": {"column": "gross_buy", "type": "numeric"},
    "Gross Sale": {"column": "gross_sale", "type": "numeric"},
    "Sale Platform": {"column": "sale_platform", "type": "text"},
    "Tags": {"column": "tags", "type": "json"},
    "Status": {"column": "status", "type": "text"},
    "Sale Date": [{"column": "sale_date", "type": "date"}, {"column": "sold_at", "type": "timestamptz"}],
    "Listed on StockX?": {"column": "listed_stockx", "type": "boolean"},
    "ROI": {"column": "roi", "type": "numeric", "notion_type": "number"},  # it is a formula
    "Supplier": {"column": "supplier_page_ids", "type": "json"},
    "Supplier Country": {"column": "supplier_country", "type": "text"},
    "Owner": {"column": "owner", "type": "json"},
    "Receipt": {"column": "receipt", "type": "json"},
    "Sale ID": {"column": "sale_number", "type": "text"},
    "Net Sale": {"column": "net_sale", "type": "numeric"},
}


def test_flatten_page_maps_the_contract_example_exactly():
    row = flatten_page(EXAMPLE_PAGE, EXAMPLE_MAPPING)
    assert row["page_id"] == "1f0c9d1e-2b3a-4c5d-8e9f-0a1b2c3d4e5f"
    assert row["last_edited_time"] == datetime(2025, 6, 2, 14, 37, tzinfo=UTC)
    assert row["created_time"] == datetime(2025, 5, 28, 8, 12, tzinfo=UTC)
    assert (row["in_trash"], row["archived"]) == (False, False)
    assert row["values"] == {
        "name": "Nike Dunk Low Panda",
        "sku": "DD1391-100",
        "size": "US 10",
        "gross_buy": Decimal("110"),
        "gross_sale": Decimal("148.5"),
        "sale_platform": "StockX",
        "tags": ["Nike"],
        "status": "Sale completed",
        "sale_date": date(2025, 6, 2),
        "sold_at": datetime(2025, 6, 2, tzinfo=UTC),
        "listed_stockx": True,
        "roi": Decimal("0.35"),
        "supplier_page_ids": {"ids": ["9b8a7c6d-1111-4222-8333-444455556666"], "has_more": False},
        "supplier_country": "DE",
        "owner": [{"id": USER, "name": None, "email": None, "type": None}],
        "receipt": [{"name": "invoice.pdf", "url": "https://files.example/secure/invoice.pdf?sig=1", "type": "file",
                     "expiry_time": "2025-06-02T15:37:00+00:00"}],
        "sale_number": "SALE-412",
        "net_sale": None,
    }  # fmt: skip
    assert row["unmapped"] == {"StockX Link": EXAMPLE_PAGE["properties"]["StockX Link"]}
    assert row["missing"] == ["Net Sale"]
    assert row["warnings"] == ["property 'ROI' has Notion type 'formula', the mapping expects 'number'"]


def test_flatten_page_empty_values_and_2026_pages_without_archived():
    page = {
        "object": "page",
        "id": "2a1b3c4d-5e6f-4a0b-9c8d-7e6f5a4b3c2d",
        "created_time": "2025-05-29T10:00:00.000Z",
        "last_edited_time": "2025-06-02T14:37:00.000Z",
        "in_trash": True,
        "properties": {
            "Name": {"id": "title", "type": "title", "title": []},
            "Gross Buy": {"id": "c", "type": "number", "number": None},
            "Tags": {"id": "f", "type": "multi_select", "multi_select": []},
            "Sale Date": {"id": "h", "type": "date", "date": None},
            "Listed on StockX?": {"id": "i", "type": "checkbox", "checkbox": False},
            "ROI": {"id": "k", "type": "formula", "formula": {"type": "number", "number": None}},
            "Supplier": {"id": "l", "type": "relation", "relation": [], "has_more": False},
            "Supplier Country": {"id": "m", "type": "rollup", "rollup": {"type": "array", "function": "show_original", "array": []}},
            "Owner": {"id": "n", "type": "people", "people": []},
        },
    }  # fmt: skip
    mapping = {k: v for k, v in EXAMPLE_MAPPING.items() if k in page["properties"]}
    row = flatten_page(page, mapping)
    assert row["values"] == {
        "name": None,
        "gross_buy": None,
        "tags": [],
        "sale_date": None,
        "sold_at": None,
        "listed_stockx": False,
        "roi": None,
        "supplier_page_ids": {"ids": [], "has_more": False},
        "supplier_country": None,
        "owner": [],
    }
    assert (row["in_trash"], row["archived"]) == (True, None)
    assert (row["unmapped"], row["missing"]) == ({}, [])


def test_flatten_page_keeps_unknown_types_reports_has_more_and_honours_ignore():
    page = {
        "id": "p1",
        "last_edited_time": "2025-06-02T14:37:00.000Z",
        "archived": True,  # an old version without in_trash
        "properties": {
            "Summary": {"id": "s", "type": "ai_summary", "ai_summary": {"text": "x"}},
            "Raw": {"id": "r", "type": "ai_summary", "ai_summary": {"text": "y"}},
            "Bulk": {"id": "b", "type": "relation", "relation": [{"id": "a"}], "has_more": True},
            "Mark as sold": {"id": "m", "type": "button", "button": {}},
        },
    }
    mapping = parse_database_mapping(
        "purchases",
        {
            "properties": {
                "Summary": {"column": "summary", "type": "text"},
                "Raw": {"column": "raw_summary", "type": "json"},
                "Bulk": {"column": "bulk", "type": "json"},
            },
            "ignore": ["Mark as sold"],
        },
    )
    row = flatten_page(page, mapping)
    assert row["values"] == {
        "summary": None,
        "raw_summary": {"id": "r", "type": "ai_summary", "ai_summary": {"text": "y"}},
        "bulk": {"ids": ["a"], "has_more": True},
    }
    assert row["unmapped"] == {} and row["in_trash"] is True and row["archived"] is True
    assert row["warnings"] == [
        "property 'Summary' has type 'ai_summary' this flattener does not know; kept as raw JSON",
        "property 'Raw' has type 'ai_summary' this flattener does not know; kept as raw JSON",
        "property 'Bulk' lists only the first 1 related pages (has_more); read the rest through the page"
        " property item endpoint",
        "property 'Summary' → column 'summary': type 'ai_summary' cannot be read as text; kept only in the raw JSON",
    ]


# -- mappings ---------------------------------------------------------------------------------


def test_default_mapping_describes_purchases_and_sales():
    mapping = load_mapping(env={})
    assert set(mapping.databases) == {"purchases", "sales"}
    purchases, sales = mapping.databases["purchases"], mapping.databases["sales"]
    assert (purchases.table, purchases.api) == ("notion_purchases", "data_sources")
    assert purchases.column_types["gross_buy"] == "numeric"
    assert purchases.column_types["buy_date"] == "date"
    assert purchases.column_types["vat_included"] == "boolean"
    assert [c.column for c in purchases.columns if c.property == "Delivery Date"] == ["delivery_date", "delivery_date_end"]
    assert sales.column_types["sale_id"] == "text" and sales.table == "notion_sales"
    assert {"SKU", "Gross Buy", "Net Buy", "VAT?", "Buy Date", "Supplier", "Order No.", "Invoice Nr."} <= purchases.properties
    assert {"Sale ID", "Sale Date", "Sale Platform", "Gross Sale", "Net Sale", "Profit", "ROI", "Shelf Life", "PAS"} <= sales.properties
    for db in mapping.databases.values():
        assert set(db.column_types.values()) <= {"text", "numeric", "date", "timestamptz", "boolean", "json"}


def test_database_ids_come_from_the_environment_when_set(tmp_path):
    env = {"SOLEFLIPPER_NOTION_SALES_DATABASE_ID": " 0f0e0d0c-0000-4000-8000-000000000001 ",
           "SOLEFLIPPER_NOTION_PURCHASES_DATABASE_ID": ""}  # fmt: skip
    mapping = load_mapping(env=env)
    assert mapping.databases["sales"].database_id == "0f0e0d0c-0000-4000-8000-000000000001"
    assert mapping.databases["purchases"].database_id == "1f3c2a4e-8b7d-4c21-9e5a-3d6f7a8b9c01"  # empty: default


def test_mapping_path_from_the_environment(tmp_path):
    custom = tmp_path / "mine.yaml"
    custom.write_text(yaml.safe_dump({"databases": {"sales": {"database_id": "x", "properties": {"Sale ID": "sale_id"}}}}))
    mapping = load_mapping(env={MAPPING_ENV: str(custom)})
    assert list(mapping.databases) == ["sales"]
    assert mapping.databases["sales"].columns[0].column == "sale_id"
    assert mapping.databases["sales"].table == "notion_sales"
    with pytest.raises(MappingError, match="cannot read the Notion mapping"):
        load_mapping(tmp_path / "absent.yaml", env={})
    bad = tmp_path / "bad.yaml"
    bad.write_text("databases: [unclosed")
    with pytest.raises(MappingError, match="not valid YAML"):
        load_mapping(bad, env={})
    assert DEFAULT_MAPPING.exists()


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"properties": {"A": {"column": "a", "type": "integer"}}}, "type 'integer' is not one of"),
        ({"properties": {"A": {"column": "A-col"}}}, "is not a valid name"),
        ({"properties": {"A": {"column": "_a"}}}, "reserved for load metadata"),
        ({"properties": {"A": "a", "B": "a"}}, "column 'a' is mapped twice"),
        ({"properties": {"A": "a"}, "ignore": ["A"]}, "both mapped and ignored"),
        ({"properties": {"A": "a"}, "api": "search"}, "api 'search' is not one of"),
        ({"properties": {"A": {"column": "a", "part": "middle"}}}, "part 'middle' is not one of"),
        ({"properties": {"A": {"column": "a", "notion_type": "dropdown"}}}, "is not a Notion property type"),
        ({"properties": {"A": {"column": "a", "colour": "red"}}}, "unknown keys \\['colour'\\]"),
        ({"properties": {}}, "'properties' must map"),
        ({"properties": {"A": "a"}, "tabel": "x"}, "unknown keys \\['tabel'\\]"),
        ({"properties": {"A": "a"}, "ignore": "A"}, "'ignore' must be a list"),
    ],
)
def test_invalid_mappings_name_the_file_and_key(section, message):
    with pytest.raises(MappingError, match=message) as info:
        parse_mapping({"databases": {"sales": section}}, "mine.yaml")
    assert str(info.value).startswith("mine.yaml: databases.sales")


def test_a_mapping_needs_a_databases_section():
    with pytest.raises(MappingError, match="top-level 'databases'"):
        parse_mapping({"sales": {}}, "mine.yaml")


def test_a_users_own_database_id_does_not_keep_the_default_data_source_id():
    from soleflipper.notion_mappings import load_mapping

    default = load_mapping(env={})
    purchases = default.databases["purchases"]
    assert purchases.data_source_id  # the simulator's, in the shipped file
    mine = load_mapping(env={"SOLEFLIPPER_NOTION_PURCHASES_DATABASE_ID": "11111111-2222-3333-4444-555555555555"})
    mine_purchases = mine.databases["purchases"]
    assert mine_purchases.database_id == "11111111-2222-3333-4444-555555555555"
    assert mine_purchases.data_source_id is None  # looked up from the user's database instead
    both = load_mapping(env={"SOLEFLIPPER_NOTION_PURCHASES_DATABASE_ID": "11111111-2222-3333-4444-555555555555",
                             "SOLEFLIPPER_NOTION_PURCHASES_DATA_SOURCE_ID": "66666666-7777-8888-9999-000000000000"})
    assert both.databases["purchases"].data_source_id == \
        "66666666-7777-8888-9999-000000000000"
