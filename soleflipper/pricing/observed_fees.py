"""eBay's fees as the seller really pays them, observed in their eBay Finances SALE transactions.

eBay's final value fee rate depends on the category, the seller's standing and their Store
subscription, and the public fee pages give no single rate (the seed leaves it empty). The
Finances API reports every fee it charged per line item, so with ``final_value_rate: observed``
in the pricing rules the eBay rates come from there:

* **final value rate** = Σ FINAL_VALUE_FEE / Σ fee basis (what the buyer paid incl. shipping)
  over the line items of the window, rounded to 4 decimals (0.1290 = 12.90 %);
* **fixed fee per order** = the median FINAL_VALUE_FEE_FIXED_PER_ORDER of the window's orders
  (in the fee currency; used when it is the listing currency, else the seed's schedule applies).

The window is the 365 days of SALE transactions ending on the pricing day. When the seller has no
eBay sale before that day (a pricing day in the past), the 365 days from their first eBay sale are
used and the reason says so: a fee rate is a property of the account, not market data.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from soleflipper.money import to_cents
from soleflipper.pricing.rules import PricingRules

WINDOW_DAYS = 365
RATE_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class FeeLineItem:
    """One line item of a SALE transaction: its fee basis and the fees eBay charged on it."""

    order_id: str
    transaction_date: date
    fee_basis: Decimal
    final_value_fee: Decimal
    fixed_per_order_fee: Decimal  # 0 on the order's other lines: eBay charges it once per order
    currency: str


@dataclass(frozen=True)
class ObservedEbayFees:
    final_value_rate: Decimal
    fixed_per_order: Decimal | None
    currency: str
    line_items: int
    orders: int
    first_day: date
    last_day: date
    after_pricing_day: bool

    @property
    def source(self) -> str:
        where = " (after the pricing day: no earlier eBay sale)" if self.after_pricing_day else ""
        return (f"eBay Finances: {self.line_items} line items of {self.orders} orders, "
                f"{self.first_day}..{self.last_day}{where}")


def observe_ebay_fees(items: Iterable[FeeLineItem], on: date) -> ObservedEbayFees | None:
    """The rates of the window (see the module doc), or None without any line item with a basis."""
    items = [i for i in items if i.fee_basis > 0]
    if not items:
        return None
    before = [i for i in items if on - timedelta(days=WINDOW_DAYS) < i.transaction_date <= on]
    after_pricing_day = not before
    if after_pricing_day:
        first = min(i.transaction_date for i in items)
        before = [i for i in items if first <= i.transaction_date < first + timedelta(days=WINDOW_DAYS)]
    currencies = {i.currency for i in before}
    currency = max(currencies, key=lambda c: sum(1 for i in before if i.currency == c))
    window = [i for i in before if i.currency == currency]
    basis = sum((i.fee_basis for i in window), Decimal(0))
    fvf = sum((i.final_value_fee for i in window), Decimal(0))
    per_order: dict[str, Decimal] = {}
    for item in window:
        per_order[item.order_id] = per_order.get(item.order_id, Decimal(0)) + item.fixed_per_order_fee
    fixed = statistics.median(per_order.values()) if per_order else None
    return ObservedEbayFees(
        final_value_rate=(fvf / basis).quantize(RATE_PLACES, ROUND_HALF_UP),
        fixed_per_order=to_cents(fixed),
        currency=currency,
        line_items=len(window),
        orders=len(per_order),
        first_day=min(i.transaction_date for i in window),
        last_day=max(i.transaction_date for i in window),
        after_pricing_day=after_pricing_day,
    )


def apply_observed_fees(rules: PricingRules, observed: ObservedEbayFees | None) -> tuple[PricingRules, list[str]]:
    """Rules with eBay's observed rates filled in; eBay disabled (and a note why) without them."""
    notes: list[str] = []
    platforms = []
    for platform in rules.platforms:
        if not (platform.enabled and platform.observed_fees):
            platforms.append(platform)
            continue
        if observed is None:
            notes.append("eBay not priced: final_value_rate is 'observed' but the warehouse has no eBay Finances "
                         "SALE transaction to observe it in (sync eBay, or set platforms.ebay.final_value_rate)")
            platforms.append(replace(platform, enabled=False))
            continue
        fixed = observed.fixed_per_order if observed.currency == platform.currency else None
        if fixed is None and observed.fixed_per_order is not None:
            notes.append(f"eBay fixed fee per order observed in {observed.currency}, listing in "
                         f"{platform.currency}: the seed's fixed fee applies")
        platforms.append(replace(platform, final_value_rate=observed.final_value_rate, fixed_per_order=fixed,
                                 fee_source=observed.source))
        notes.append(f"eBay final value rate {observed.final_value_rate} and fixed fee per order "
                     f"{fixed if fixed is not None else 'from the seed'} observed in {observed.source}")
    return rules.with_changes(platforms=tuple(platforms)), notes
