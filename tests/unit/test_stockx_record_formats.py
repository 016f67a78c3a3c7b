"""The StockX API record formats parse, and the contract's example JSON goes through them.

The examples are copied from the API contract (shared/reference/api-contracts.md sections
1.6-1.7), which follows StockX's OpenAPI document: orders with and without payout, catalog
products with and without a size chart, variants, market data with null amounts.
"""

from __future__ import annotations

import json

import pytest

from soleflipper.csv_parsing import ParsedRow
from soleflipper.formats import available_formats, load_format
from soleflipper.record_parsing import parse_records

API_FORMATS = ("stockx_orders", "stockx_products", "stockx_variants", "stockx_market_data")

ORDERS = [
    {
        "orderNumber": "74512233-74412001",
        "listingId": "98e2e748-8000-45bf-a624-5531d6a68318",
        "askId": "14402123456",
        "amount": "48.94",
        "currencyCode": "EUR",
        "status": "COMPLETED",
        "createdAt": "2025-06-02T09:14:03.000Z",
        "updatedAt": "2025-06-09T16:40:11.000Z",
        "product": {"productId": "5e6a1e57-1c7d-435a-82bd-5666a13560fe",
                    "productName": "Nike Blazer Mid 77 Vintage White Black", "styleId": "BQ6806-100"},
        "variant": {"variantId": "c2b6d5b8-1f0e-4a5e-9d5a-2b9d3c1e7f10",
                    "variantName": "Nike-Blazer-Mid-77-Vintage-White-Black:9", "variantValue": "9"},
        "authenticationDetails": {"status": None, "failureNotes": None},
        "inventoryType": "STANDARD",
        "payout": {
            "totalPayout": "37.97", "salePrice": "48.94", "totalAdjustments": "-10.97",
            "currencyCode": "EUR",
            "adjustments": [
                {"adjustmentType": "MinTransactionFee", "amount": "-5", "percentage": "0.085"},
                {"adjustmentType": "Payment Proc. (3%)", "amount": "-1.47", "percentage": "0.03"},
                {"adjustmentType": "Shipping", "amount": "-4.5", "percentage": "0"},
            ],
        },
        "initiatedShipments": None,
    },
    {
        "orderNumber": "02-L0QT6MRVSG",
        "listingId": None, "askId": "14409999999", "amount": "120", "currencyCode": None,
        "status": "CANCELED", "createdAt": "2025-06-03T11:00:00.000Z", "updatedAt": None,
        "product": {"productId": "0a1d6a0b-8b51-4c43-9f4e-2d8a2d7a4b11", "productName": None, "styleId": None},
        "variant": {"variantId": "7f0c2a94-0b1e-4d61-a0fe-1c6b2d7d9e33", "variantName": "X:10.5",
                    "variantValue": "10.5"},
        "authenticationDetails": None, "inventoryType": "FLEX", "payout": None,
        "initiatedShipments": {"inbound": {"displayId": "FX-20250603-0001"}},
    },
]

PRODUCTS = [
    {
        "productId": "5e6a1e57-1c7d-435a-82bd-5666a13560fe",
        "urlKey": "nike-dunk-low-retro-white-black-2021",
        "styleId": "DD1391-100",
        "productType": "sneakers",
        "title": "Nike Dunk Low Retro White Black Panda",
        "brand": "Nike",
        "productAttributes": {
            "gender": "men", "season": None, "releaseDate": "2021-03-10",
            "retailPrice": 110, "colorway": "White/Black-White", "color": "white",
        },
        "sizeChart": {
            "availableConversions": [{"name": "US M", "type": "us m"}, {"name": "EU", "type": "eu"}],
            "defaultConversion": {"name": "US M", "type": "us m"},
        },
        "isFlexEligible": True, "isDirectEligible": False,
    },
    {
        "productId": "0a1d6a0b-8b51-4c43-9f4e-2d8a2d7a4b11",
        "urlKey": "nike-dunk-low-retro-white-black-2021-gs",
        "styleId": "CW1590-100", "productType": "sneakers",
        "title": "Nike Dunk Low Retro White Black (GS)", "brand": "Nike",
        "productAttributes": {"gender": "child", "season": None, "releaseDate": "2021-03-10",
                              "retailPrice": 90, "colorway": "White/Black-White", "color": None},
    },
]

VARIANTS = [
    {
        "productId": "5e6a1e57-1c7d-435a-82bd-5666a13560fe",
        "variantId": "c2b6d5b8-1f0e-4a5e-9d5a-2b9d3c1e7f10",
        "variantName": "Nike-Dunk-Low-Retro-White-Black-2021:10",
        "variantValue": "10",
        "sizeChart": {
            "availableConversions": [{"size": "US M 10", "type": "us m"}, {"size": "EU 44", "type": "eu"},
                                     {"size": "UK 9", "type": "uk"}],
            "defaultConversion": {"size": "US M 10", "type": "us m"},
        },
        "gtins": [{"gtin": "194956623259", "type": "UPC"}],
        "isFlexEligible": True,
        "isDirectEligible": False,
    },
    # The list schema allows a null variantValue and a null default conversion.
    {"productId": "p2", "variantId": "v2", "variantName": "X:0", "variantValue": None,
     "sizeChart": {"availableConversions": [], "defaultConversion": None}},
]

MARKET_DATA = [
    {
        "productId": "5e6a1e57-1c7d-435a-82bd-5666a13560fe",
        "variantId": "c2b6d5b8-1f0e-4a5e-9d5a-2b9d3c1e7f10",
        "currencyCode": "EUR",
        "lowestAskAmount": "112", "highestBidAmount": "95",
        "sellFasterAmount": "109", "earnMoreAmount": "118", "flexLowestAskAmount": None,
        "standardMarketData": {"beatUS": "111", "earnMore": "118", "sellFaster": "109",
                               "highestBidAmount": "95", "lowestAsk": "112"},
        "flexMarketData": {"beatUS": None, "earnMore": None, "sellFaster": None,
                           "highestBidAmount": None, "lowestAsk": None},
        "directMarketData": {"beatUS": None, "earnMore": None, "sellFaster": None,
                             "highestBidAmount": None, "lowestAsk": None},
        "snapshotDate": "2025-06-10",
    },
    # A product without asks: every amount null (the asset adds snapshotDate).
    {"productId": "p2", "variantId": "v2", "currencyCode": "EUR", "lowestAskAmount": None,
     "highestBidAmount": None, "sellFasterAmount": None, "earnMoreAmount": None,
     "flexLowestAskAmount": None, "snapshotDate": "2025-06-10"},
]


def _parsed(name: str, records: list[dict]) -> list[dict]:
    fmt = load_format(name)
    rows = list(parse_records(fmt, records))
    errors = [r for r in rows if not isinstance(r, ParsedRow)]
    assert errors == []
    return [dict(zip(fmt.column_names, r.values, strict=True)) | {"_extra": r.extra} for r in rows]


@pytest.mark.parametrize("name", API_FORMATS)
def test_api_formats_load_and_name_raw_tables(name):
    fmt = load_format(name)
    assert name in available_formats()
    assert (fmt.source, fmt.platform, fmt.table) == ("stockx", "stockx", name)
    assert fmt.file_patterns == ()  # never picked up from an import folder
    assert fmt.identical_rows == "duplicate"
    assert set(fmt.natural_key) <= set(fmt.column_names)


def test_natural_keys():
    assert load_format("stockx_orders").natural_key == ("order_number",)
    assert load_format("stockx_products").natural_key == ("product_id",)
    assert load_format("stockx_variants").natural_key == ("variant_id",)
    assert load_format("stockx_market_data").natural_key == ("variant_id", "currency_code", "snapshot_date")


def test_orders_with_payout_and_flex_order_without():
    paid, flex = _parsed("stockx_orders", ORDERS)
    assert {k: paid[k] for k in ("order_number", "amount", "currency_code", "status", "created_at", "updated_at",
                                 "product_id", "style_id", "variant_value", "inventory_type", "payout_total",
                                 "payout_sale_price", "payout_total_adjustments", "payout_currency_code")} == {
        "order_number": "74512233-74412001", "amount": "48.94", "currency_code": "EUR", "status": "COMPLETED",
        "created_at": "2025-06-02T09:14:03+00:00", "updated_at": "2025-06-09T16:40:11+00:00",
        "product_id": "5e6a1e57-1c7d-435a-82bd-5666a13560fe", "style_id": "BQ6806-100", "variant_value": "9",
        "inventory_type": "STANDARD", "payout_total": "37.97", "payout_sale_price": "48.94",
        "payout_total_adjustments": "-10.97", "payout_currency_code": "EUR",
    }
    adjustments = json.loads(paid["payout_adjustments"])
    assert [a["amount"] for a in adjustments] == ["-5", "-1.47", "-4.5"]
    assert paid["authentication_status"] is None and paid["initiated_shipments"] is None
    assert paid["_extra"] is None  # every key of the contract's order has a column
    assert flex["order_number"] == "02-L0QT6MRVSG"
    assert flex["currency_code"] is None and flex["style_id"] is None and flex["updated_at"] is None
    assert flex["payout_total"] is None and flex["payout_adjustments"] is None
    assert json.loads(flex["initiated_shipments"]) == {"inbound": {"displayId": "FX-20250603-0001"}}


def test_products_flatten_attributes_and_keep_size_chart_as_json():
    dunk, gs = _parsed("stockx_products", PRODUCTS)
    assert {k: dunk[k] for k in ("product_id", "style_id", "title", "brand", "gender", "season", "release_date",
                                 "retail_price", "colorway", "color", "is_flex_eligible", "is_direct_eligible")} == {
        "product_id": "5e6a1e57-1c7d-435a-82bd-5666a13560fe", "style_id": "DD1391-100",
        "title": "Nike Dunk Low Retro White Black Panda", "brand": "Nike", "gender": "men", "season": None,
        "release_date": "2021-03-10", "retail_price": "110", "colorway": "White/Black-White", "color": "white",
        "is_flex_eligible": "true", "is_direct_eligible": "false",
    }
    assert json.loads(dunk["size_chart"])["defaultConversion"] == {"name": "US M", "type": "us m"}
    assert gs["size_chart"] is None and gs["retail_price"] == "90" and gs["is_flex_eligible"] is None


def test_variants_keep_gtins_and_size_chart():
    ten, empty = _parsed("stockx_variants", VARIANTS)
    assert (ten["variant_id"], ten["variant_value"], ten["is_flex_eligible"]) == (
        "c2b6d5b8-1f0e-4a5e-9d5a-2b9d3c1e7f10", "10", "true")
    assert json.loads(ten["gtins"]) == [{"gtin": "194956623259", "type": "UPC"}]
    assert json.loads(ten["size_chart"])["defaultConversion"] == {"size": "US M 10", "type": "us m"}
    assert empty["variant_value"] is None and json.loads(empty["size_chart"])["defaultConversion"] is None


def test_market_data_amounts_may_be_null():
    full, no_asks = _parsed("stockx_market_data", MARKET_DATA)
    assert {k: full[k] for k in ("currency_code", "snapshot_date", "lowest_ask_amount", "highest_bid_amount",
                                 "sell_faster_amount", "earn_more_amount", "flex_lowest_ask_amount")} == {
        "currency_code": "EUR", "snapshot_date": "2025-06-10", "lowest_ask_amount": "112",
        "highest_bid_amount": "95", "sell_faster_amount": "109", "earn_more_amount": "118",
        "flex_lowest_ask_amount": None,
    }
    assert json.loads(full["standard_market_data"])["beatUS"] == "111"
    assert no_asks["lowest_ask_amount"] is None and no_asks["standard_market_data"] is None


def test_market_data_without_snapshot_date_is_a_row_error():
    record = {k: v for k, v in MARKET_DATA[1].items() if k != "snapshotDate"}
    (row,) = parse_records(load_format("stockx_market_data"), [record])
    assert not isinstance(row, ParsedRow)
    assert (row.field, row.reason) == ("snapshotDate", "required value is missing")
