"""The eBay simulator's seeded seller: orders (Sell Fulfillment) and their Finances transactions.

A German seller on EBAY_DE selling sneakers in EUR. Money is ``{"value": "148.50", "currency":
"EUR"}`` with string values, as eBay sends it. Fees follow eBay's final value fee: a percentage of
the total the buyer pays (item + shipping) plus a fixed fee per order (platform-fees.md); the
Finances SALE transaction carries them per line item, its ``amount`` is what the seller gets.

Some line items carry the style code in their ``sku`` (``DD1391-100-US10``); others have a
custom SKU or none, and are matched through the reviewed ``ebay_item_mappings`` seed by
``legacyItemId``. The newest orders have no transaction yet: their payout arrives later
(:meth:`simulators.ebay.EbaySimulator.add_transaction`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

DEFAULT_SEED = 11
DEFAULT_ORDERS = 12
CURRENCY = "EUR"
MARKETPLACE = "EBAY_DE"
SELLER = "soleflipper-demo"
# The seeded world's "now": orders are created in the 60 days before it.
SEED_NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
FINAL_VALUE_RATE = Decimal("0.129")
FIXED_PER_ORDER = Decimal("0.35")
SHIPPING = Decimal("6.99")
PENDING_NEWEST = 2  # the newest orders have no Finances transaction yet

# (sku, title, size label, price): a sku with a style code, a custom sku, no sku at all.
CATALOG: tuple[tuple[str | None, str, str, str], ...] = (
    ("DD1391-100-US10", "Nike Dunk Low Retro White Black Panda EU 44", "US 10", "140.00"),
    ("CW2288-111-EU42", "Nike Air Force 1 '07 Triple White EU 42", "EU 42", "105.00"),
    ("555088-134-US9", "Air Jordan 1 Retro High OG University Blue", "US 9", "260.00"),
    ("1191A266-102", "ASICS Gel-Lyte III OG Cream EU 43", "EU 43", "120.00"),
    ("SHELF-B7", "adidas Samba OG Cloud White Core Black UK 8", "UK 8", "95.00"),
    (None, "New Balance 550 White Green EU 44.5", "EU 44.5", "110.00"),
)
# legacyItemId per catalog entry: stable ids so the reviewed mapping seed can name them.
LEGACY_ITEM_IDS = ("296612345678", "296612345679", "296612345680", "296612345681",
                   "296612345682", "296612345683")


def money(value: Decimal | str, currency: str = CURRENCY) -> dict[str, str]:
    return {"value": f"{Decimal(value):.2f}", "currency": currency}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass
class EbayWorld:
    orders: list[dict[str, Any]] = field(default_factory=list)
    transactions: list[dict[str, Any]] = field(default_factory=list)
    rng: random.Random = field(default_factory=random.Random)
    serial: int = 0


def _line(world: EbayWorld, item: int, quantity: int = 1) -> dict[str, Any]:
    sku, title, _size, price = CATALOG[item]
    world.serial += 1
    cost = Decimal(price) * quantity
    line: dict[str, Any] = {
        "lineItemId": f"100555444{world.serial:05d}",
        "legacyItemId": LEGACY_ITEM_IDS[item],
        "title": title,
        "quantity": quantity,
        "lineItemCost": money(cost),
        "total": money(cost + SHIPPING),
        "deliveryCost": {"shippingCost": money(SHIPPING)},
        "appliedPromotions": [],
        "taxes": [],
        "refunds": [],
        "lineItemFulfillmentStatus": "FULFILLED",
        "soldFormat": "FIXED_PRICE",
        "listingMarketplaceId": MARKETPLACE,
        "purchaseMarketplaceId": MARKETPLACE,
    }
    if sku is not None:
        line["sku"] = sku
    return line


def make_order(world: EbayWorld, created: datetime, items: list[int], *, cancelled: bool = False) -> dict[str, Any]:
    """One paid order with a line per catalog index in ``items`` (shipping charged per line)."""
    world.serial += 1
    order_id = f"{10 + world.serial % 89:02d}-{13000 + world.serial:05d}-{40000 + world.serial * 7:05d}"
    lines = [_line(world, i) for i in items]
    subtotal = sum((Decimal(line["lineItemCost"]["value"]) for line in lines), Decimal(0))
    shipping = SHIPPING * len(lines)
    total = subtotal + shipping
    fee = cents(total * FINAL_VALUE_RATE) + FIXED_PER_ORDER
    modified = created + timedelta(hours=20)
    return {
        "orderId": order_id,
        "legacyOrderId": f"11055443{world.serial:04d}-28334455{world.serial:04d}",
        "creationDate": iso(created),
        "lastModifiedDate": iso(modified),
        "orderFulfillmentStatus": "NOT_STARTED" if cancelled else "FULFILLED",
        "orderPaymentStatus": "FULLY_REFUNDED" if cancelled else "PAID",
        "sellerId": SELLER,
        "buyer": {"username": f"b***{world.serial}", "taxAddress": {"countryCode": "DE", "postalCode": "10115"}},
        "pricingSummary": {"priceSubtotal": money(subtotal), "deliveryCost": money(shipping), "total": money(total)},
        "cancelStatus": {"cancelState": "CANCELED" if cancelled else "NONE_REQUESTED", "cancelRequests": []},
        "paymentSummary": {
            "totalDueSeller": money(total),
            "payments": [{"paymentMethod": "EBAY", "paymentReferenceId": f"PAY{world.serial}",
                          "paymentDate": iso(created + timedelta(seconds=4)), "amount": money(total),
                          "paymentStatus": "PAID"}],
            "refunds": [],
        },
        "fulfillmentStartInstructions": [{
            "fulfillmentInstructionsType": "SHIP_TO",
            "shippingStep": {"shipTo": {"fullName": "A. Buyer", "email": "masked@members.ebay.com",
                                        "contactAddress": {"city": "Berlin", "postalCode": "10115",
                                                           "countryCode": "DE"}}},
        }],
        "lineItems": lines,
        "totalFeeBasisAmount": money(total),
        "totalMarketplaceFee": money(fee),
    }


def sale_transaction(order: dict[str, Any], when: datetime | None = None, *, payout_id: str | None = None,
                     ) -> dict[str, Any]:
    """The Finances SALE transaction of ``order``: fees per line item, net amount, payout."""
    created = datetime.fromisoformat(order["creationDate"].replace("Z", "+00:00"))
    lines, fees_total, basis_total = [], Decimal(0), Decimal(0)
    for index, line in enumerate(order["lineItems"]):
        basis = Decimal(line["total"]["value"])
        fvf = cents(basis * FINAL_VALUE_RATE)
        fees = [{"feeType": "FINAL_VALUE_FEE", "amount": money(fvf)}]
        if index == 0:  # the fixed fee is charged once per order
            fees.append({"feeType": "FINAL_VALUE_FEE_FIXED_PER_ORDER", "amount": money(FIXED_PER_ORDER)})
        fees_total += sum((Decimal(f["amount"]["value"]) for f in fees), Decimal(0))
        basis_total += basis
        lines.append({"lineItemId": line["lineItemId"], "feeBasisAmount": money(basis), "marketplaceFees": fees})
    return {
        "transactionId": order["orderId"],
        "orderId": order["orderId"],
        "payoutId": payout_id or f"6000{order['orderId'][-5:]}",
        "salesRecordReference": order["legacyOrderId"].split("-")[0][-4:],
        "buyer": {"username": order["buyer"]["username"]},
        "transactionType": "SALE",
        "transactionStatus": "PAYOUT",
        "transactionDate": iso(when or created + timedelta(seconds=4)),
        "bookingEntry": "CREDIT",
        "amount": money(basis_total - fees_total),
        "totalFeeBasisAmount": money(basis_total),
        "totalFeeAmount": money(fees_total),
        "orderLineItems": lines,
        "paymentsEntity": "eBay GmbH",
    }


def _order_transaction(order: dict[str, Any], kind: str, transaction_id: str, when: datetime,
                       amount: Decimal, payout_id: str | None) -> dict[str, Any]:
    """The fields every order-linked Finances transaction has; a DEBIT (the seller pays)."""
    return {
        "transactionId": transaction_id,
        "orderId": order["orderId"],
        "payoutId": payout_id or f"6000{order['orderId'][-5:]}",
        "buyer": {"username": order["buyer"]["username"]},
        "transactionType": kind,
        "transactionStatus": "PAYOUT",
        "transactionDate": iso(when),
        "bookingEntry": "DEBIT",
        "amount": money(amount),
        "references": [{"referenceId": order["orderId"], "referenceType": "ORDER_ID"}],
        "paymentsEntity": "eBay GmbH",
    }


def refund_transaction(order: dict[str, Any], when: datetime, refunds: dict[str, Decimal | str] | None = None, *,
                       transaction_id: str | None = None, payout_id: str | None = None) -> dict[str, Any]:
    """A REFUND to the buyer of ``order`` (a DEBIT). ``refunds`` maps line item ids to the amount
    given back on that line (a line's whole ``total`` is a full refund); without it the whole
    order is refunded and the transaction names no line (an order-level refund). eBay gives back
    the final value fee on the refunded amount (a negative marketplace fee, ``FINAL_VALUE_FEE``)
    but keeps the fixed per-order fee; ``amount`` is what leaves the seller: refund - fee credit."""
    if refunds is None:
        total = Decimal(order["pricingSummary"]["total"]["value"])
        credit = -cents(total * FINAL_VALUE_RATE)
        lines: list[dict[str, Any]] = []
    else:
        total, credit, lines = Decimal(0), Decimal(0), []
        for line_item_id, value in refunds.items():
            refunded = Decimal(value)
            fee = -cents(refunded * FINAL_VALUE_RATE)
            total, credit = total + refunded, credit + fee
            lines.append({"lineItemId": line_item_id, "feeBasisAmount": money(refunded),
                          "marketplaceFees": [{"feeType": "FINAL_VALUE_FEE", "amount": money(fee)}]})
    transaction = _order_transaction(order, "REFUND", transaction_id or f"R{order['orderId']}-{iso(when)[:10]}",
                                     when, total + credit, payout_id)
    transaction.update(totalFeeBasisAmount=money(total), totalFeeAmount=money(credit),
                       transactionMemo="Refund to the buyer")
    if lines:
        transaction["orderLineItems"] = lines
    return transaction


def shipping_label_transaction(order: dict[str, Any], when: datetime, cost: Decimal | str, *,
                               transaction_id: str | None = None, payout_id: str | None = None) -> dict[str, Any]:
    """A SHIPPING_LABEL the seller bought on eBay for ``order`` (a DEBIT of ``cost``)."""
    transaction = _order_transaction(order, "SHIPPING_LABEL", transaction_id or f"L{order['orderId']}",
                                     when, Decimal(cost), payout_id)
    transaction["transactionMemo"] = "Shipping label"
    return transaction


def build_world(seed: int = DEFAULT_SEED, n_orders: int = DEFAULT_ORDERS) -> EbayWorld:
    """``n_orders`` orders over the 60 days before :data:`SEED_NOW`, oldest first; one two-line
    order, one cancelled order; every order but the newest :data:`PENDING_NEWEST` is paid out."""
    world = EbayWorld(rng=random.Random(seed))
    for n in range(n_orders):
        created = SEED_NOW - timedelta(days=60) + timedelta(days=n * 60 / max(n_orders, 1),
                                                            minutes=world.rng.randrange(600))
        items = [n % len(CATALOG)] if n != 3 else [0, 4]
        order = make_order(world, created, items, cancelled=(n == 5))
        world.orders.append(order)
        if n < n_orders - PENDING_NEWEST and n != 5:
            world.transactions.append(sale_transaction(order))
    return world
