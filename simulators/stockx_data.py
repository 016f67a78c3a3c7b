"""The StockX simulator's seeded world: catalog, variants, market data, order book, listings.

Built from the demo generator (:mod:`soleflipper.demo_data`), never copied from it:

* the catalog is the demo catalogue's products (sneakers with US M/W/Y/C or EU sizes, apparel,
  collectibles), each with StockX-shaped variants: size charts (US/UK/EU/CM conversions),
  UPC/EAN GTINs, Flex/Direct flags;
* every ``COMPLETED`` historical order *is* one sale of ``iter_sales(n_sales, seed)`` — same order
  number, product, size, listing price, fees and payout as the demo's seller report for the same
  arguments — so API orders and report rows reconcile one to one;
* around them: cancelled, returned, failed and Flex orders (order numbers ``02-XXXXXXXXXX``), an
  ``UNKNOWN`` and an unlisted status, active orders at the end of the period, and listings.

Contract realism (api-contracts.md §1, §6.1): amounts are strings; nullable fields are really
``null`` in a share of records (``listingId``, ``currencyCode``, ``payout``,
``authenticationDetails``, ``updatedAt``, ``productName``, ``variantValue``, market-data amounts);
some records carry fields StockX's April-2025 OpenAPI document does not list — the 2025 docs'
``gtins``/``isFlexEligible``/``isDirectEligible``/``*MarketData`` and one unknown field per kind
(:data:`UNKNOWN_FIELDS`). Same seed, same world, byte for byte.
"""

from __future__ import annotations

import random
import re
import string
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from soleflipper.demo_data import CATALOG, NA, SIZES, Product, fmt_amount, iter_sales

DEFAULT_SEED = 7
DEFAULT_SALES = 300
BOOK_START = date(2023, 1, 2)
BOOK_END = date(2024, 12, 29)
_NS = uuid.UUID("5f0c1a9e-6b1d-4c53-9a57-51e1f11a9e00")  # ids stable across seeds

# Fields absent from StockX's OpenAPI document, by the schema they extend. The first ones are
# documented in the 2025 developer portal (api-contracts.md §1.2); UNKNOWN_FIELDS are invented to
# prove that clients keep unknown fields instead of failing.
DOCUMENTED_2025_FIELDS: dict[str, frozenset[str]] = {
    "Product": frozenset({"isFlexEligible", "isDirectEligible"}),
    "ProductVariant": frozenset({"gtins", "isFlexEligible", "isDirectEligible"}),
    "VariantMarketData": frozenset({"standardMarketData", "flexMarketData", "directMarketData"}),
}
UNKNOWN_FIELDS: dict[str, str] = {
    "Product": "productTraits",
    "ListOrders": "fulfillmentMethod",
    "ListListings": "listingSource",
}
UNLISTED_STATUS = "RETURN_TO_SELLER"  # a status string in none of the spec's enums
HISTORICAL_STATUSES = ("AUTHFAILED", "DIDNOTSHIP", "CANCELED", "COMPLETED", "RETURNED")
ACTIVE_STATUSES = (
    "CREATED", "CCAUTHORIZATIONFAILED", "SHIPPED", "RECEIVED", "AUTHENTICATING", "AUTHENTICATED",
    "PAYOUTPENDING", "PAYOUTCOMPLETED", "SYSTEMFULFILLED", "PAYOUTFAILED", "SUSPENDED", "PENDING",
)
LISTING_STATUSES = ("INACTIVE", "ACTIVE", "DELETED", "CANCELED", "MATCHED", "COMPLETED")
CURRENCY_CODES = (
    "AUD", "BRL", "CAD", "CHF", "CLP", "CNY", "DKK", "EUR", "GBP", "HKD", "HUF", "IDR", "ILS", "JPY",
    "KRW", "KWD", "MOP", "MXN", "MYR", "NOK", "NZD", "PEN", "PHP", "PLN", "SEK", "SGD", "THB", "TWD",
    "USD", "VND",
)
# Units per USD (fixed: market data is invented, only its shape matters).
FX_PER_USD: dict[str, Decimal] = {k: Decimal(v) for k, v in {
    "AUD": "1.52", "BRL": "5.0", "CAD": "1.36", "CHF": "0.88", "CLP": "900", "CNY": "7.2", "DKK": "6.9",
    "EUR": "0.92", "GBP": "0.79", "HKD": "7.8", "HUF": "360", "IDR": "15700", "ILS": "3.7", "JPY": "150",
    "KRW": "1330", "KWD": "0.31", "MOP": "8.05", "MXN": "17", "MYR": "4.7", "NOK": "10.6", "NZD": "1.64",
    "PEN": "3.75", "PHP": "56", "PLN": "4.0", "SEK": "10.5", "SGD": "1.34", "THB": "36", "TWD": "31.5",
    "USD": "1", "VND": "24500",
}.items()}
EUR_PER_USD = FX_PER_USD["EUR"]

_SHOE_KINDS = {"M", "W", "GS", "PS", "TD", "EU"}
_GENDER = {"M": "men", "W": "women", "GS": "child", "PS": "preschool", "TD": "toddler", "EU": "unisex",
           "APP": "unisex", "NA": None}
_COLORS = ("white", "black", "grey", "red", "blue", "green", "brown", "pink", "silver", "navy", "cream")
_ADIDAS = "adidas"
# Nike/Jordan men's US -> EU (the chart most brands follow closely).
_MEN_EU = {
    3.5: "35.5", 4: "36", 4.5: "36.5", 5: "37.5", 5.5: "38", 6: "38.5", 6.5: "39", 7: "40", 7.5: "40.5",
    8: "41", 8.5: "42", 9: "42.5", 9.5: "43", 10: "44", 10.5: "44.5", 11: "45", 11.5: "45.5", 12: "46",
    12.5: "47", 13: "47.5", 13.5: "48", 14: "48.5", 14.5: "49", 15: "49.5", 16: "50.5", 17: "51.5",
}
_KIDS_EU = {2: "17", 3: "18.5", 4: "19.5", 5: "21", 6: "22", 7: "23.5", 8: "25", 9: "26", 10: "27",
            11: "28", 12: "29.5", 13: "31"}


def iso(moment: datetime) -> str:
    """StockX timestamps: ISO-8601 UTC with milliseconds and Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _num(value: float) -> str:
    return f"{value:g}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _variant_slug(text: str) -> str:
    return "-".join(w.capitalize() if w.islower() else w for w in re.findall(r"[A-Za-z0-9]+", text))


def _upc(rng: random.Random, used: set[str]) -> str:
    while True:
        body = "19" + "".join(rng.choice(string.digits) for _ in range(9))
        odd = sum(int(d) for d in body[0::2])
        even = sum(int(d) for d in body[1::2])
        code = body + str((10 - (odd * 3 + even) % 10) % 10)
        if code not in used:
            used.add(code)
            return code


def _adidas_eu(uk: float) -> str:
    thirds = round((42 + (uk - 8) * 4 / 3) * 3)
    whole, rest = divmod(thirds, 3)
    return str(whole) + ("" if rest == 0 else f" {rest}/3")


def size_conversions(kind: str, brand: str, label: str) -> tuple[list[dict[str, str]], dict[str, str] | None]:
    """(availableConversions, defaultConversion) for one size of a product kind."""
    if kind in ("APP", "NA"):
        return [], None
    if kind == "EU":
        eu = float(label)
        us = min(_MEN_EU, key=lambda n: abs(float(_MEN_EU[n]) - eu))
        rows = [("EU", "eu", label), ("US M", "us m", _num(us)), ("UK", "uk", _num(us - 1 if us >= 7 else us - 0.5))]
    else:
        n = float(label.rstrip("WYC"))
        if kind == "M":
            uk = n - 0.5 if brand == _ADIDAS or n <= 6.5 else n - 1
            eu = _adidas_eu(uk) if brand == _ADIDAS else _MEN_EU.get(n, _num(n + 34))
            rows = [("US M", "us m", _num(n)), ("US W", "us w", _num(n + 1.5)), ("UK", "uk", _num(uk)),
                    ("EU", "eu", eu), ("CM", "cm", _num(n + 18))]
        elif kind == "W":
            men = n - 1.5
            rows = [("US W", "us w", _num(n)), ("US M", "us m", _num(men)), ("UK", "uk", _num(n - 2.5)),
                    ("EU", "eu", _MEN_EU.get(men, _num(men + 34))), ("CM", "cm", _num(n + 16.5))]
        elif kind == "GS":
            rows = [("US Y", "us y", _num(n)), ("UK", "uk", _num(n - 0.5)),
                    ("EU", "eu", _MEN_EU.get(n, _num(n + 32))), ("CM", "cm", _num(n + 18))]
        else:  # PS / TD: US C
            rows = [("US C", "us c", _num(n)), ("UK", "uk", _num(n - 0.5)),
                    ("EU", "eu", _KIDS_EU.get(n, _num(n + 16))), ("CM", "cm", _num(n + 8.5))]
    available = [{"size": f"{name} {value}", "type": kind_type} for name, kind_type, value in rows]
    return available, dict(available[0])


@dataclass
class StockXWorld:
    """Everything the simulator serves (plain JSON-able dicts, exactly as sent)."""

    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    variants: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    variant_index: dict[str, dict[str, Any]] = field(default_factory=dict)
    gtin_index: dict[str, dict[str, Any]] = field(default_factory=dict)
    market_usd: dict[str, dict[str, Decimal | None]] = field(default_factory=dict)
    orders: list[dict[str, Any]] = field(default_factory=list)  # historical (terminal) orders
    active_orders: list[dict[str, Any]] = field(default_factory=list)
    shipments: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    listings: list[dict[str, Any]] = field(default_factory=list)
    listing_extras: dict[str, dict[str, Any]] = field(default_factory=dict)  # payout, lastOperation
    product_by_item: dict[str, str] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)

    def order(self, order_number: str) -> dict[str, Any] | None:
        for order in (*self.orders, *self.active_orders):
            if order["orderNumber"] == order_number:
                return order
        return None

    def variant_of(self, product_id: str, size: str | None) -> dict[str, Any]:
        for variant in self.variants[product_id]:
            if variant["variantValue"] == size:
                return variant
        return self.variants[product_id][0]


def _product_json(p: Product, rng: random.Random) -> dict[str, Any]:
    product_id = str(uuid.uuid5(_NS, f"product:{p.item}"))
    shoe = p.kind in _SHOE_KINDS
    words = p.sku_name.lower().split()
    color = next((c for c in _COLORS if c in words), None)
    release = BOOK_START - timedelta(days=rng.randint(30, 1500))
    product: dict[str, Any] = {
        "productId": product_id,
        "urlKey": _slug(p.item),
        "styleId": None if p.style == NA else p.style,
        "productType": "sneakers" if shoe else ("streetwear" if p.kind == "APP" else "collectibles"),
        "title": p.item,
        "brand": p.brand,
        "productAttributes": {
            "gender": _GENDER[p.kind],
            "season": rng.choice((None, None, None, f"{rng.choice(('SS', 'FW'))}{release.year % 100:02d}")),
            "releaseDate": None if p.kind == "NA" and rng.random() < 0.5 else release.isoformat(),
            "retailPrice": None if p.kind == "NA" else p.retail,
            "colorway": None if p.kind == "NA" else p.sku_name.replace(" ", "/"),
            "color": color,
        },
    }
    if p.kind not in ("APP", "NA"):
        default = size_conversions(p.kind, p.brand, SIZES[p.kind][0][0])[1]
        names = [{"name": c["size"].rsplit(" ", 1)[0], "type": c["type"]}
                 for c in size_conversions(p.kind, p.brand, SIZES[p.kind][0][0])[0]]
        product["sizeChart"] = {
            "availableConversions": names,
            "defaultConversion": {"name": default["size"].rsplit(" ", 1)[0], "type": default["type"]},
        }
    if rng.random() < 0.85:  # 2025 docs only: some products still come without them
        product["isFlexEligible"] = shoe and rng.random() < 0.6
        product["isDirectEligible"] = shoe and rng.random() < 0.2
    if rng.random() < 0.1:
        product[UNKNOWN_FIELDS["Product"]] = {"limited": rng.random() < 0.5}
    return product


def _variants_json(p: Product, product: dict[str, Any], rng: random.Random, used: set[str]) -> list[dict]:
    variants = []
    name = _variant_slug(p.item)
    for label, _weight in SIZES[p.kind]:
        value = None if label == NA else label
        available, default = size_conversions(p.kind, p.brand, label)
        upc = _upc(rng, used)
        gtins = [{"gtin": upc, "type": "UPC"}]
        if rng.random() < 0.3:
            gtins.append({"gtin": "0" + upc, "type": "EAN-13"})
            used.add("0" + upc)
        variants.append({
            "productId": product["productId"],
            "variantId": str(uuid.uuid5(_NS, f"variant:{product['productId']}:{label}")),
            "variantName": f"{name}:{value if value is not None else 0}",
            "variantValue": value,
            "sizeChart": {"availableConversions": available, "defaultConversion": default},
            "gtins": gtins,
            "isFlexEligible": bool(product.get("isFlexEligible")) and rng.random() < 0.8,
            "isDirectEligible": bool(product.get("isDirectEligible")) and rng.random() < 0.5,
        })
    return variants


def _market_usd(p: Product, weight: float, rng: random.Random) -> dict[str, Decimal | None]:
    base = Decimal(str(p.retail)) / EUR_PER_USD * Decimal(str(p.premium)) * Decimal(str(rng.uniform(0.85, 1.25)))
    no_asks = rng.random() < (0.35 if weight < 0.5 else 0.08)
    no_bids = rng.random() < (0.3 if weight < 0.5 else 0.1)
    ask = None if no_asks else base
    return {
        "lowestAsk": ask,
        "highestBid": None if no_bids else base * Decimal("0.86"),
        "sellFaster": None if ask is None else ask - 1,
        "earnMore": None if ask is None else ask * Decimal("1.06"),
        "beatUS": None if ask is None or rng.random() < 0.5 else ask - 2,
        "flexLowestAsk": base * Decimal("1.04") if rng.random() < 0.12 else None,
    }


def market_data(world: StockXWorld, variant: dict[str, Any], currency: str) -> dict[str, Any]:
    """One ``VariantMarketData`` in ``currency`` (whole units, as strings; null where no market)."""
    base = world.market_usd[variant["variantId"]]
    rate = FX_PER_USD[currency]

    def money(value: Decimal | None) -> str | None:
        return None if value is None else str((value * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))

    standard = {
        "beatUS": money(base["beatUS"]),
        "earnMore": money(base["earnMore"]),
        "sellFaster": money(base["sellFaster"]),
        "highestBidAmount": money(base["highestBid"]),
        "lowestAsk": money(base["lowestAsk"]),
    }
    flex_ask = money(base["flexLowestAsk"])
    return {
        "productId": variant["productId"],
        "variantId": variant["variantId"],
        "currencyCode": currency,
        "lowestAskAmount": money(base["lowestAsk"]),
        "highestBidAmount": money(base["highestBid"]),
        "sellFasterAmount": money(base["sellFaster"]),
        "earnMoreAmount": money(base["earnMore"]),
        "flexLowestAskAmount": flex_ask,
        "standardMarketData": standard,
        "flexMarketData": {"beatUS": None, "earnMore": None, "sellFaster": None, "highestBidAmount": None,
                           "lowestAsk": flex_ask},
        "directMarketData": {"beatUS": None, "earnMore": None, "sellFaster": None, "highestBidAmount": None,
                             "lowestAsk": None},
    }


def _dec(text: str) -> Decimal:
    return Decimal(text) if text else Decimal(0)


def _report_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S +00").replace(tzinfo=UTC)


def _payout_from_sale(row: dict[str, str]) -> dict[str, Any]:
    """The API payout of one report row: same sale price and payout, fees as adjustments."""
    listing = _dec(row["Listing Price"])
    payout = _dec(row["Total Gross Amount (Total Payout)"])
    processing = _dec(row["Payment Processing"])
    shipping = _dec(row["Shipping Fee"])
    fee = listing - processing - shipping - payout  # blank-but-deducted fees are in the payout
    adjustments = []
    if fee > 0:
        kind = "MinTransactionFee" if fee == 5 else f"Transaction Fee ({(fee / listing * 100).quantize(Decimal(1))}%)"
        adjustments.append({"adjustmentType": kind, "amount": fmt_amount(-fee),
                            "percentage": str((fee / listing).quantize(Decimal("0.001")).normalize())})
    if processing:
        adjustments.append({"adjustmentType": "Payment Proc. (3%)", "amount": fmt_amount(-processing),
                            "percentage": "0.03"})
    if row["Shipping Fee"]:
        adjustments.append({"adjustmentType": "Shipping", "amount": fmt_amount(-shipping), "percentage": "0"})
    return {
        "totalPayout": fmt_amount(payout),
        "salePrice": fmt_amount(listing),
        "totalAdjustments": fmt_amount(payout - listing),
        "currencyCode": row["Total Gross Amount (Total Payout) Currency"] or "EUR",
        "adjustments": adjustments,
    }


def _order_refs(world: StockXWorld, product_id: str, variant: dict[str, Any], rng: random.Random,
                null_name: bool = True) -> tuple[dict, dict]:
    product = world.products[product_id]
    return (
        {"productId": product_id,
         "productName": None if null_name and rng.random() < 0.03 else product["title"],
         "styleId": product["styleId"]},
        {"variantId": variant["variantId"], "variantName": variant["variantName"],
         "variantValue": variant["variantValue"]},
    )


def _standard_order_number(rng: random.Random, used: set[str]) -> str:
    while True:
        second = rng.randrange(60_000_000, 99_999_999)
        number = f"{second + rng.randrange(90_000, 140_000)}-{second}"
        if number not in used:
            used.add(number)
            return number


def _flex_order_number(rng: random.Random, used: set[str]) -> str:
    while True:
        number = "02-" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(10))
        if number not in used:
            used.add(number)
            return number


def _shipment(rng: random.Random, order_number: str, created: datetime, tracking: str | None) -> dict | None:
    if rng.random() < 0.1:
        return None
    return {
        "shipByDate": iso(created + timedelta(days=3)),
        "trackingNumber": tracking,
        "trackingUrl": None if tracking is None else f"https://www.dhl.de/de/privatkunden/dhl-sendungsverfolgung.html?piececode={tracking}",
        "carrierCode": None if tracking is None else "DHL",
        "shippingLabelUrl": None,
        "shippingDocumentUrl": f"https://api.stockx.com/v2/selling/orders/{order_number}/shipping-document/"
                               f"S-{rng.randrange(10**7, 10**8)}" if rng.random() < 0.7 else None,
    }


def make_order(
    world: StockXWorld,
    rng: random.Random,
    used: set[str],
    *,
    created: datetime,
    status: str,
    product_id: str | None = None,
    size: str | None = None,
    flex: bool = False,
    amount: str | None = None,
) -> dict[str, Any]:
    """One invented (non-report) order in ``ListOrders`` shape; also records its shipment."""
    if product_id is None:
        product_id = rng.choice(sorted(world.products))
    variants = world.variants[product_id]
    variant = world.variant_of(product_id, size) if size else rng.choice(variants)
    product_ref, variant_ref = _order_refs(world, product_id, variant, rng)
    retail = world.products[product_id]["productAttributes"]["retailPrice"] or 60
    amount = amount or str(max(19, round(retail * rng.uniform(0.8, 1.6))))
    order_number = _flex_order_number(rng, used) if flex else _standard_order_number(rng, used)
    updated = None if status in ("CREATED", "PENDING") or rng.random() < 0.1 else created + timedelta(
        days=rng.randint(0, 9), hours=rng.randint(1, 20))
    paid = status in ("PAYOUTPENDING", "PAYOUTCOMPLETED", "AUTHENTICATED") and rng.random() < 0.8
    listing = Decimal(amount)
    fee = max(Decimal(5), (listing * Decimal("0.08")).quantize(Decimal("0.01")))
    processing = (listing * Decimal("0.03")).quantize(Decimal("0.01"))
    currency = None if rng.random() < 0.15 else "EUR"
    order: dict[str, Any] = {
        "orderNumber": order_number,
        "listingId": None if flex or rng.random() < 0.2 else str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "askId": str(rng.randrange(10**13, 10**14)),
        "amount": amount,
        "currencyCode": currency,
        "status": status,
        "createdAt": iso(created),
        "updatedAt": iso(updated) if updated else None,
        "product": product_ref,
        "variant": variant_ref,
        "authenticationDetails": (
            {"status": "FAILED", "failureNotes": rng.choice(("Manufacturing defect", "Not as described"))}
            if status == "AUTHFAILED" else rng.choice((None, {"status": None, "failureNotes": None}))
        ),
        "inventoryType": "FLEX" if flex else "STANDARD",
        "payout": {
            "totalPayout": fmt_amount(listing - fee - processing),
            "salePrice": fmt_amount(listing),
            "totalAdjustments": fmt_amount(-fee - processing),
            "currencyCode": currency or "EUR",
            "adjustments": [
                {"adjustmentType": "Transaction Fee (8%)", "amount": fmt_amount(-fee), "percentage": "0.08"},
                {"adjustmentType": "Payment Proc. (3%)", "amount": fmt_amount(-processing), "percentage": "0.03"},
            ],
        } if paid else None,
        "initiatedShipments": {"inbound": {"displayId": f"FX-{created:%Y%m%d}-{rng.randrange(1, 9999):04d}"}}
        if flex else None,
    }
    world.shipments[order_number] = _shipment(rng, order_number, created, None if flex else
                                              "00340434" + f"{rng.randrange(10**12):012d}")
    return order


def _listing(world: StockXWorld, rng: random.Random, *, status: str, created: datetime,
             order: dict[str, Any] | None = None) -> dict[str, Any]:
    if order is not None:
        product_id = order["product"]["productId"]
        variant = world.variant_index[order["variant"]["variantId"]]
        amount: str | None = order["amount"]
    else:
        product_id = rng.choice(sorted(world.products))
        variant = rng.choice(world.variants[product_id])
        retail = world.products[product_id]["productAttributes"]["retailPrice"] or 60
        amount = str(round(retail * rng.uniform(0.9, 1.8)))
    if status == "INACTIVE" and rng.random() < 0.5:
        amount = None
    product_ref, variant_ref = _order_refs(world, product_id, variant, rng, null_name=False)
    listing_id = order["listingId"] if order and order.get("listingId") else str(
        uuid.UUID(int=rng.getrandbits(128), version=4))
    updated = created + timedelta(seconds=rng.randint(1, 3600 * 24 * 20))
    has_ask = status in ("ACTIVE", "MATCHED", "COMPLETED")
    batch = rng.random() < 0.2
    listing: dict[str, Any] = {
        "listingId": listing_id,
        "status": status,
        "amount": amount,
        "currencyCode": None if amount is None else "EUR",
        "inventoryType": None if rng.random() < 0.1 else "STANDARD",
        "createdAt": iso(created),
        "updatedAt": iso(updated),
        "batch": {"batchId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                  "taskId": str(uuid.UUID(int=rng.getrandbits(128), version=4))} if batch else None,
        "ask": {
            "askId": order["askId"] if order else str(rng.randrange(10**13, 10**14)),
            "askCreatedAt": iso(created),
            "askUpdatedAt": iso(updated),
            "askExpiresAt": iso(created + timedelta(days=365)),
        } if has_ask else None,
        "authenticationDetails": None,
        "order": {"orderNumber": order["orderNumber"], "orderCreatedAt": order["createdAt"],
                  "orderStatus": order["status"]} if order else None,
        "product": product_ref,
        "variant": variant_ref,
        "initiatedShipments": None,
    }
    if rng.random() < 0.15:
        listing[UNKNOWN_FIELDS["ListListings"]] = rng.choice(("PUBLIC-API", "WEB"))
    operation = None
    if rng.random() < 0.6:
        operation = {
            "operationId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "operationType": "CREATE" if status != "DELETED" else "DELETE",
            "operationStatus": "SUCCEEDED",
            "operationInitiatedBy": "USER",
            "operationInitiatedVia": rng.choice(("PUBLIC-API", "WEB", "IOS")),
            "operationCreatedAt": iso(created),
            "operationUpdatedAt": iso(created + timedelta(seconds=5)),
            "changes": {"additions": {"active": status == "ACTIVE"}, "updates": {}, "removals": {}},
            "error": None,
        }
    world.listing_extras[listing_id] = {"payout": order.get("payout") if order else None,
                                        "lastOperation": operation}
    return listing


def build_world(seed: int = DEFAULT_SEED, n_sales: int = DEFAULT_SALES) -> StockXWorld:
    """The whole seeded world. ``n_sales``/``seed`` as for ``soleflipper demo --sales/--seed``."""
    rng = random.Random(seed * 7919 + 17)
    world = StockXWorld(rng=random.Random(seed * 104729 + 3))
    used_gtins: set[str] = set()
    for p in CATALOG:
        product = _product_json(p, rng)
        world.products[product["productId"]] = product
        world.product_by_item[p.item] = product["productId"]
        variants = _variants_json(p, product, rng, used_gtins)
        world.variants[product["productId"]] = variants
        weights = dict(SIZES[p.kind])
        for variant in variants:
            world.variant_index[variant["variantId"]] = variant
            for gtin in variant["gtins"]:
                world.gtin_index[gtin["gtin"]] = variant
            world.market_usd[variant["variantId"]] = _market_usd(p, weights.get(variant["variantValue"] or NA, 1.0), rng)

    used_numbers: set[str] = set()
    sales = list(iter_sales(n_sales, seed=seed, start=BOOK_START, end=BOOK_END)) if n_sales else []
    for row in sales:  # COMPLETED orders: exactly the demo report's sales
        product_id = world.product_by_item[row["Item"]]
        size = None if row["Sku Size"] == NA else row["Sku Size"]
        variant = world.variant_of(product_id, size)
        created = _report_time(row["Sale Date"])
        paid = _report_time(row["Payout date"]) if row["Payout date"] else None
        product_ref, variant_ref = _order_refs(world, product_id, variant, rng)
        order: dict[str, Any] = {
            "orderNumber": row["Order Number"],
            "listingId": None if rng.random() < 0.08 else str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "askId": str(rng.randrange(10**13, 10**14)),
            "amount": row["Listing Price"],
            "currencyCode": None if rng.random() < 0.04 else row["Listing Price Currency"],
            "status": "COMPLETED",
            "createdAt": iso(created),
            "updatedAt": None if paid is None or rng.random() < 0.05 else iso(paid),
            "product": product_ref,
            "variant": variant_ref,
            "authenticationDetails": rng.choice((None, {"status": None, "failureNotes": None},
                                                 {"status": "PASSED", "failureNotes": None})),
            "inventoryType": "STANDARD",
            "payout": _payout_from_sale(row),
            "initiatedShipments": None,
        }
        if rng.random() < 0.1:
            order[UNKNOWN_FIELDS["ListOrders"]] = "SHIP_TO_STOCKX"
        used_numbers.add(order["orderNumber"])
        world.shipments[order["orderNumber"]] = _shipment(rng, order["orderNumber"], created,
                                                          row["Seller Tracking Number"] or None)
        world.orders.append(order)

    span = int((datetime.combine(BOOK_END, datetime.min.time()) - datetime.combine(BOOK_START, datetime.min.time()))
               .total_seconds())
    origin = datetime.combine(BOOK_START, datetime.min.time(), UTC)

    def moment() -> datetime:
        return origin + timedelta(seconds=rng.randrange(span))

    n_extra = max(12, n_sales // 8)
    extra_statuses = ["CANCELED"] * 5 + ["RETURNED"] * 2 + ["AUTHFAILED"] * 2 + ["DIDNOTSHIP"] * 2
    for i in range(n_extra):
        world.orders.append(make_order(world, rng, used_numbers, created=moment(),
                                       status=extra_statuses[i % len(extra_statuses)], flex=i % 4 == 0))
    world.orders.append(make_order(world, rng, used_numbers, created=moment(), status="UNKNOWN"))
    world.orders.append(make_order(world, rng, used_numbers, created=moment(), status="UNKNOWN", flex=True))
    world.orders.append(make_order(world, rng, used_numbers, created=moment(), status=UNLISTED_STATUS))

    end = datetime.combine(BOOK_END, datetime.min.time(), UTC) + timedelta(hours=20)
    active = ["CREATED", "CREATED", "PENDING", "SHIPPED", "SHIPPED", "RECEIVED", "AUTHENTICATING",
              "AUTHENTICATED", "PAYOUTPENDING", "PAYOUTPENDING", "SUSPENDED", "CCAUTHORIZATIONFAILED",
              "PAYOUTFAILED", "UNKNOWN", "SHIPPED", "CREATED"]
    for i, status in enumerate(active):
        created = end - timedelta(days=rng.randint(0, 12), minutes=rng.randrange(1440))
        world.active_orders.append(make_order(world, rng, used_numbers, created=created, status=status,
                                              flex=i % 5 == 4))

    for order in world.active_orders:
        world.listings.append(_listing(world, rng, status="MATCHED",
                                       created=_parse_iso(order["createdAt"]) - timedelta(days=rng.randint(1, 40)),
                                       order=order))
    completed = [o for o in world.orders if o["status"] == "COMPLETED"][-6:]
    for order in completed:
        world.listings.append(_listing(world, rng, status="COMPLETED",
                                       created=_parse_iso(order["createdAt"]) - timedelta(days=rng.randint(1, 30)),
                                       order=order))
    for status, count in (("ACTIVE", 24), ("INACTIVE", 5), ("DELETED", 3), ("CANCELED", 2)):
        for _ in range(count):
            world.listings.append(_listing(world, rng, status=status, created=end - timedelta(
                days=rng.randint(0, 180), minutes=rng.randrange(1440))))
    return world


def _parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def created_at(record: dict[str, Any]) -> datetime:
    return _parse_iso(record["createdAt"])


def sorted_newest_first(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Newest first (ties by order/listing id), the order the simulator pages in."""
    return sorted(records, key=lambda r: (r["createdAt"], r.get("orderNumber") or r.get("listingId")),
                  reverse=True)
