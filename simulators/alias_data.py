"""The Alias simulator's seeded world: seller orders and listings (api-contracts.md §4.1, §6.4).

Products come from the demo catalogue (:data:`soleflipper.demo_data.CATALOG`, US men's shoes),
named the way Alias does: ``catalog_sku`` with a space where StockX writes a dash
(``DD1391 100``), sizes as numbers (``10.5``). Money is in US cents, half of the records as
strings (``"22000"``), half as numbers (``22000``), as the docs show both.

Orders: mostly ``ORDER_STATUS_COMPLETED`` with ``price_cents_after_take`` (the payout: price
less the 9.5 % commission and the $12 seller fee of a German seller, platform-fees.md); some
cancelled; the newest still open (confirmed / in transit) without a take, as Alias sends them
before it pays out. ``purchase_order_number`` is all digits, the order number the seller's CSV
export shows (an assumption: no real export was compared). Same seed, same world.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from soleflipper.demo_data import CATALOG

DEFAULT_SEED = 7
DEFAULT_ORDERS = 40
DEFAULT_LISTINGS = 12
COMMISSION = Decimal("0.095")  # seller rating >= 90 (alias.org/fees)
SELLER_FEE_CENTS = 1200  # $12: sellers in DE, NL, FR, ... (GOAT's location table)
START = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)
_NS = uuid.UUID("0a11a5e0-9c1b-4f6e-8d2a-5a1e5a1e5a1e")
SHOE_SIZES = ("7", "8", "8.5", "9", "9.5", "10", "10.5", "11", "12")
OPEN_STATUSES = ("ORDER_STATUS_CONFIRMED", "ORDER_STATUS_LABEL_GENERATED", "ORDER_STATUS_IN_TRANSIT")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def take_cents(price_cents: int) -> int:
    """The payout Alias reports for a sale: price less commission (rounded half up) and seller fee."""
    commission = int((Decimal(price_cents) * COMMISSION).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return price_cents - commission - SELLER_FEE_CENTS


def alias_sku(style: str) -> str:
    return style.replace("-", " ")


def _cents(value: int, as_string: bool) -> str | int:
    return str(value) if as_string else value


def _size(label: str) -> float | int:
    number = float(label)
    return int(number) if number.is_integer() else number


@dataclass
class AliasWorld:
    orders: list[dict[str, Any]] = field(default_factory=list)
    listings: list[dict[str, Any]] = field(default_factory=list)


def make_order(rng: random.Random, index: int, sold_at: datetime, status: str) -> dict[str, Any]:
    product = rng.choice([p for p in CATALOG if p.kind == "M"])
    price = int(product.retail * product.premium * rng.uniform(1.05, 1.6)) * 100
    completed = status == "ORDER_STATUS_COMPLETED"
    updated = sold_at + timedelta(days=5 if completed else 1, hours=rng.randint(0, 20))
    as_string = index % 2 == 0
    return {
        "id": str(uuid.uuid5(_NS, f"order-{index}")),
        "status": status,
        "fulfillment_status": "FULFILLMENT_STATUS_DELIVERED" if completed else "FULFILLMENT_STATUS_SELLER_SHIPPED",
        "catalog_id": f"{product.item.lower().replace(' ', '-')}-{product.style.lower()}",
        "catalog_name": product.item,
        "catalog_brand": product.brand,
        "catalog_sku": alias_sku(product.style),
        "size": _size(rng.choice(SHOE_SIZES)),
        "price_cents": _cents(price, as_string),
        "price_cents_after_take": _cents(take_cents(price), not as_string) if completed else None,
        "sales_channel": "GOAT" if index % 3 else "Alias",
        "purchase_order_number": str(700_000_000 + index * 7919),
        "listing_id": f"l-{uuid.uuid5(_NS, f'listing-of-{index}').hex[:12]}",
        "sold_at": iso(sold_at),
        "updated_at": iso(updated),
        "cancels_at": None,
    }


def build_world(seed: int = DEFAULT_SEED, n_orders: int = DEFAULT_ORDERS, n_listings: int = DEFAULT_LISTINGS
                ) -> AliasWorld:
    rng = random.Random(seed)
    world = AliasWorld()
    moment = START
    for index in range(n_orders):
        moment += timedelta(hours=rng.randint(6, 60))
        if index >= n_orders - 3:
            status = OPEN_STATUSES[index % len(OPEN_STATUSES)]
        else:
            status = "ORDER_STATUS_CANCELED" if rng.random() < 0.1 else "ORDER_STATUS_COMPLETED"
        world.orders.append(make_order(rng, index, moment, status))
    for index in range(n_listings):
        product = rng.choice([p for p in CATALOG if p.kind == "M"])
        world.listings.append({
            "id": f"l-{uuid.uuid5(_NS, f'listing-{index}').hex[:12]}",
            "catalog_id": product.style.lower(),
            "catalog_sku": alias_sku(product.style),
            "size": _size(rng.choice(SHOE_SIZES)),
            "price_cents": _cents(int(product.retail * product.premium * 1.4) * 100, index % 2 == 0),
            "status": "LISTING_STATUS_ACTIVE" if index % 4 else "LISTING_STATUS_INACTIVE",
            "created_at": iso(START + timedelta(days=index)),
            "updated_at": iso(START + timedelta(days=index, hours=3)),
        })
    return world
