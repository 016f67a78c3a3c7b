"""Platform fee math: schedules valid on a date, fee breakdown and net payout, break-even price.

Schedules are the rows of ``core.platform_fee_schedules`` (seed
``dbt_project/seeds/platform_fee_schedules.csv``). A row applies on day ``d`` when
``valid_from <= d`` (or ``valid_from`` is empty) and ``d < valid_to`` (or ``valid_to`` is empty),
in its region (empty = every region), seller level (empty = every level) and category (empty =
every category).

Rounding rule (one rule for every platform): each fee component is computed on the exact
decimal amount and rounded to the cent **half up** (``ROUND_HALF_UP``); the payout is the list
price minus the rounded components minus the seller's shipping cost, so the components always add
up to the payout exactly. On the real StockX EU seller report (2022-07 to 2025-06) this rule
reproduces every seller fee and payment processing fee to the cent, except exact half-cent ties
of the seller fee (list price × rate ending in 5 in the third decimal), which StockX rounded up
in some rows and down in others (the same 139.00 × 6.5 % = 9.035 is 9.04 in two rows and 9.03 in
three): no rule on price and rate alone reproduces those, and half up is off by at most one cent
there (see ``tests/integration/test_pricing_real_data.py``).

Per platform (fee types as in the seed):

* **StockX**: ``transaction`` = list price × (category rate if the category has one, else the
  seller level's rate plus each performance bonus row (negative rate) the seller earned, from
  level 3), at least the region's ``minimum_seller_fee``; ``payment_processing`` = list price ×
  3 %. The seed's EU minimum is by date as observed in a real EU seller report (8.00 EUR until
  2023-03-27, 9.00 EUR to 2023-08-03, 5.00 EUR since); ``SellerProfile.min_seller_fee`` overrides it.
* **Alias**: ``commission`` by seller rating (≥ 90: 9.5 %, 70-89: 15 %, 50-69: 20 %, < 50: 25 %)
  on the list price; ``seller_fee`` fixed by the seller's country (``other`` when not listed);
  ``cash_out`` 2.9 % of what is left (list price − commission − seller fee).
* **eBay**: ``final_value`` = (list price + shipping charged to the buyer) × the category rate
  (not in the seed: pass ``SellerProfile.final_value_rate``) + 4 points when the seller is
  ``below_standard``; ``fixed_per_order`` 0.30 up to an order total of 10.00, 0.40 above.

Fixed amounts in another currency than the listing are converted with ``fx_rates`` (listing
currency units per one unit of the fixed amount's currency), rounded half up to the cent; without a
rate a :class:`FeeError` names the schedule row.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from soleflipper.money import CENT, to_cents  # half up: the one rounding rule for every fee line

ZERO = Decimal("0.00")
EBAY_FIXED_FEE_THRESHOLD = Decimal("10.00")  # eBay US: 0.30 up to this order total, 0.40 above
SEED_PATH = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds" / "platform_fee_schedules.csv"


class FeeError(ValueError):
    """A fee cannot be computed (missing schedule, rate or FX rate); the message says which."""


def pct(rate: Decimal) -> str:
    """0.095 -> '9.5', 0.09 -> '9' (a rate as a plain percentage for reason texts)."""
    return f"{(Decimal(rate) * 100).normalize():f}"


@dataclass(frozen=True)
class FeeSchedule:
    """One row of core.platform_fee_schedules."""

    fee_schedule_id: str
    platform: str
    fee_type: str
    region: str | None = None
    seller_level: str | None = None
    category: str | None = None
    rate: Decimal | None = None
    fixed_amount: Decimal | None = None
    fixed_currency: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    applies_when: str | None = None

    def valid_on(self, on: date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (
            self.valid_to is None or on < self.valid_to
        )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _decimal(row: Mapping[str, Any], key: str, row_id: str) -> Decimal | None:
    text = _text(row.get(key))
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation as exc:
        raise FeeError(f"fee schedule {row_id}: {key} {text!r} is not a number") from exc


def _date(row: Mapping[str, Any], key: str, row_id: str) -> date | None:
    value = row.get(key)
    if isinstance(value, date):
        return value
    text = _text(value)
    if text is None:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError as exc:
        raise FeeError(f"fee schedule {row_id}: {key} {text!r} is not a date") from exc


def load_fee_schedules(rows: Iterable[Mapping[str, Any]]) -> list[FeeSchedule]:
    """Schedules from rows as read from core.platform_fee_schedules or the seed CSV (dicts)."""
    schedules = []
    for row in rows:
        row_id = _text(row.get("fee_schedule_id")) or "<no fee_schedule_id>"
        platform, fee_type = _text(row.get("platform")), _text(row.get("fee_type"))
        if platform is None or fee_type is None:
            raise FeeError(f"fee schedule {row_id}: platform and fee_type are required")
        schedules.append(
            FeeSchedule(
                fee_schedule_id=row_id,
                platform=platform.lower(),
                fee_type=fee_type,
                region=_text(row.get("region")),
                seller_level=_text(row.get("seller_level")),
                category=_text(row.get("category")),
                rate=_decimal(row, "rate", row_id),
                fixed_amount=_decimal(row, "fixed_amount", row_id),
                fixed_currency=_text(row.get("fixed_currency")),
                valid_from=_date(row, "valid_from", row_id),
                valid_to=_date(row, "valid_to", row_id),
                applies_when=_text(row.get("applies_when")),
            )
        )
    return schedules


def load_fee_schedules_csv(path: str | Path = SEED_PATH) -> list[FeeSchedule]:
    """Schedules from the seed CSV (default: the project's platform_fee_schedules.csv)."""
    with open(path, newline="", encoding="utf-8") as handle:
        return load_fee_schedules(csv.DictReader(handle))


@dataclass(frozen=True)
class SellerProfile:
    """Who sells where: picks the schedule rows and supplies what the seed leaves empty.

    ``seller_level``: StockX level ``"1"``..``"5"``; eBay ``"below_standard"`` or None.
    ``seller_rating``: Alias seller rating 0-100. ``region``: StockX minimum-fee region (US, EU,
    CH, CA, AU) or the Alias seller's country (DE, GB, ...). ``performance_bonuses``: StockX
    bonuses earned (0-2, from level 3). ``min_seller_fee`` overrides the seed's minimum seller fee
    (in the listing currency; needed for StockX EU). ``final_value_rate``: eBay category rate.
    ``fixed_per_order``: eBay's fixed fee per order in the listing currency (e.g. observed in the
    seller's Finances data), instead of the seed's USD 0.30/0.40. ``fee_source``: where the eBay
    rates come from, shown in the fee lines (default: the profile).
    ``shipping_cost``: what the seller pays to ship one pair (subtracted from the payout).
    ``buyer_shipping``: eBay shipping charged to the buyer (part of the final value fee base).
    """

    platform: str
    currency: str
    region: str | None = None
    seller_level: str | None = None
    seller_rating: int | None = None
    performance_bonuses: int = 0
    category: str | None = None
    min_seller_fee: Decimal | None = None
    final_value_rate: Decimal | None = None
    shipping_cost: Decimal = ZERO
    buyer_shipping: Decimal = ZERO
    fixed_per_order: Decimal | None = None
    fee_source: str = "SellerProfile.final_value_rate"
    fx_rates: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class FeeLine:
    """One fee component: ``amount`` = ``base`` × ``rate`` rounded (or a fixed amount)."""

    name: str
    amount: Decimal
    rate: Decimal | None = None
    base: Decimal | None = None
    schedule_ids: tuple[str, ...] = ()
    minimum_applied: bool = False


@dataclass(frozen=True)
class FeeBreakdown:
    platform: str
    currency: str
    list_price: Decimal
    lines: tuple[FeeLine, ...]
    shipping_cost: Decimal

    @property
    def total_fees(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def net_payout(self) -> Decimal:
        return self.list_price - self.total_fees - self.shipping_cost

    @property
    def minimum_fee_applied(self) -> bool:
        return any(line.minimum_applied for line in self.lines)

    def amount(self, name: str) -> Decimal:
        return sum((line.amount for line in self.lines if line.name == name), ZERO)

    def describe(self) -> str:
        parts = []
        for line in self.lines:
            text = f"{line.name.replace('_', ' ')} {line.amount:.2f}"
            if line.minimum_applied:
                text += " (minimum fee)"
            elif line.rate is not None:
                text += f" ({pct(line.rate)} %)"
            parts.append(text)
        if self.shipping_cost:
            parts.append(f"shipping {self.shipping_cost:.2f}")
        return " + ".join(parts) if parts else "no fees"


def _rows(schedules: Iterable[FeeSchedule], platform: str, fee_type: str, on: date) -> list[FeeSchedule]:
    return [s for s in schedules if s.platform == platform and s.fee_type == fee_type and s.valid_on(on)]


def _fixed(schedule: FeeSchedule, profile: SellerProfile) -> Decimal:
    if schedule.fixed_amount is None:
        raise FeeError(f"fee schedule {schedule.fee_schedule_id}: no fixed_amount in the schedule")
    cur = schedule.fixed_currency or profile.currency
    if cur == profile.currency:
        return schedule.fixed_amount
    rate = profile.fx_rates.get(cur)
    if rate is None:
        raise FeeError(
            f"fee schedule {schedule.fee_schedule_id}: {schedule.fixed_amount} {cur} needs an FX rate "
            f"{cur}->{profile.currency} (SellerProfile.fx_rates)"
        )
    return to_cents(schedule.fixed_amount * Decimal(rate))


def _stockx_level(level: str | None) -> int:
    try:
        return int(str(level))
    except (TypeError, ValueError):
        raise FeeError(f"StockX needs seller_level '1'..'5', got {level!r}") from None


def _level_matches(row_level: str | None, level: int) -> bool:
    if row_level is None:
        return True
    if row_level.endswith("+"):
        return level >= int(row_level[:-1])
    return row_level == str(level)


def _rate_line(name: str, base: Decimal, rate: Decimal, ids: tuple[str, ...]) -> FeeLine:
    return FeeLine(name=name, amount=to_cents(base * rate), rate=rate, base=base, schedule_ids=ids)


def _stockx(price: Decimal, schedules: list[FeeSchedule], profile: SellerProfile, on: date) -> list[FeeLine]:
    level = _stockx_level(profile.seller_level)
    rows = _rows(schedules, "stockx", "transaction", on)
    by_category = [r for r in rows if r.category and r.category == profile.category]
    if by_category:
        picked = by_category[:1]
    else:
        plain = [r for r in rows if r.category is None]
        base = [r for r in plain if r.seller_level == str(level) and (r.rate or 0) > 0]
        if len(base) != 1:
            raise FeeError(f"StockX: {len(base)} transaction rows for level {level} on {on}, need exactly 1")
        bonuses = [
            r for r in plain if (r.rate or 0) < 0 and _level_matches(r.seller_level, level) and r.seller_level
        ]
        bonuses.sort(key=lambda r: r.fee_schedule_id)
        if profile.performance_bonuses > len(bonuses):
            raise FeeError(
                f"StockX: {profile.performance_bonuses} performance bonuses asked, level {level} on {on} "
                f"has {len(bonuses)}"
            )
        picked = base + bonuses[: profile.performance_bonuses]
    rate = sum((r.rate for r in picked if r.rate is not None), Decimal(0))
    line = _rate_line("transaction", price, rate, tuple(r.fee_schedule_id for r in picked))
    minimum = profile.min_seller_fee
    min_ids: tuple[str, ...] = ("SellerProfile.min_seller_fee",)
    if minimum is None:
        mins = [
            r
            for r in _rows(schedules, "stockx", "minimum_seller_fee", on)
            if r.region == profile.region and r.fixed_amount is not None
        ]
        if mins:
            minimum, min_ids = _fixed(mins[0], profile), (mins[0].fee_schedule_id,)
    if minimum is not None and line.amount < minimum:
        line = FeeLine("transaction", to_cents(minimum), rate, price, line.schedule_ids + min_ids, True)
    lines = [line]
    for row in _rows(schedules, "stockx", "payment_processing", on)[:1]:
        lines.append(_rate_line("payment_processing", price, row.rate or Decimal(0), (row.fee_schedule_id,)))
    return lines


def alias_rating_band(rating: int) -> str:
    """Seed seller_level for an Alias seller rating."""
    if rating >= 90:
        return "rating-90-plus"
    if rating >= 70:
        return "rating-70-89"
    if rating >= 50:
        return "rating-50-69"
    return "rating-below-50"


def _alias(price: Decimal, schedules: list[FeeSchedule], profile: SellerProfile, on: date) -> list[FeeLine]:
    if profile.seller_rating is None:
        raise FeeError("Alias needs SellerProfile.seller_rating (0-100)")
    band = alias_rating_band(profile.seller_rating)
    comm = [r for r in _rows(schedules, "alias", "commission", on) if r.seller_level == band]
    if len(comm) != 1:
        raise FeeError(f"Alias: {len(comm)} commission rows for {band} on {on}, need exactly 1")
    commission = _rate_line("commission", price, comm[0].rate or Decimal(0), (comm[0].fee_schedule_id,))
    fees = _rows(schedules, "alias", "seller_fee", on)
    region = (profile.region or "other").upper()
    seller = [r for r in fees if (r.region or "").upper() == region] or [
        r for r in fees if r.region == "other"
    ]
    lines = [commission]
    remaining = price - commission.amount
    if seller:
        amount = to_cents(_fixed(seller[0], profile))
        lines.append(FeeLine("seller_fee", amount, schedule_ids=(seller[0].fee_schedule_id,)))
        remaining -= amount
    for row in _rows(schedules, "alias", "cash_out", on)[:1]:
        lines.append(
            _rate_line("cash_out", max(remaining, ZERO), row.rate or Decimal(0), (row.fee_schedule_id,))
        )
    return lines


def _ebay(price: Decimal, schedules: list[FeeSchedule], profile: SellerProfile, on: date) -> list[FeeLine]:
    if profile.final_value_rate is None:
        raise FeeError("eBay: the seed has no category final value rate; set SellerProfile.final_value_rate")
    rate, ids = Decimal(profile.final_value_rate), [profile.fee_source]
    if profile.seller_level == "below_standard":
        extra = [r for r in _rows(schedules, "ebay", "final_value", on) if r.seller_level == "below_standard"]
        for r in extra[:1]:
            rate += r.rate or Decimal(0)
            ids.append(r.fee_schedule_id)
    total = price + profile.buyer_shipping
    lines = [_rate_line("final_value", total, rate, tuple(ids))]
    if profile.fixed_per_order is not None:
        lines.append(FeeLine("fixed_per_order", to_cents(profile.fixed_per_order), schedule_ids=(profile.fee_source,)))
        return lines
    fixed = _rows(schedules, "ebay", "fixed_per_order", on)
    if fixed:
        ordered = sorted((r for r in fixed if r.fixed_amount is not None), key=lambda r: r.fixed_amount)
        row = ordered[0] if total <= EBAY_FIXED_FEE_THRESHOLD else ordered[-1]
        lines.append(
            FeeLine("fixed_per_order", to_cents(_fixed(row, profile)), schedule_ids=(row.fee_schedule_id,))
        )
    return lines


_PLATFORMS = {"stockx": _stockx, "alias": _alias, "ebay": _ebay}


def fee_breakdown(
    list_price: Decimal, schedules: list[FeeSchedule], profile: SellerProfile, on: date
) -> FeeBreakdown:
    """Fees, shipping and net payout for selling one pair at ``list_price`` on day ``on``."""
    price = to_cents(Decimal(list_price))
    if price < 0:
        raise FeeError(f"list price {price} is negative")
    compute = _PLATFORMS.get(profile.platform.lower())
    if compute is None:
        raise FeeError(f"no fee model for platform {profile.platform!r} (known: {', '.join(_PLATFORMS)})")
    lines = compute(price, schedules, profile, on)
    return FeeBreakdown(
        profile.platform.lower(), profile.currency, price, tuple(lines), to_cents(profile.shipping_cost)
    )


def net_payout(
    list_price: Decimal, schedules: list[FeeSchedule], profile: SellerProfile, on: date
) -> Decimal:
    return fee_breakdown(list_price, schedules, profile, on).net_payout


def break_even_price(
    cost: Decimal,
    schedules: list[FeeSchedule],
    profile: SellerProfile,
    on: date,
    min_margin_pct: Decimal | float | int = 0,
    check_above_cents: int = 100,
) -> Decimal:
    """Lowest list price in cents whose net payout covers ``cost × (1 + min_margin_pct/100)``.

    The payout is not strictly monotone at the cent (two rounded percentage fees can both step up
    by a cent when the price steps by one; the eBay fixed fee jumps at 10.00; the minimum fee is
    flat), so the answer is the lowest price ``p`` such that every price from ``p`` to ``p +
    check_above_cents`` cents pays out at least the target: a list price at or above the floor
    within that window never pays out less than the target. Found by bisection on cents, then
    corrected by scanning.
    """
    target = to_cents(Decimal(cost) * (1 + Decimal(str(min_margin_pct)) / 100))

    def ok(cents: int) -> bool:
        return net_payout(Decimal(cents) / 100, schedules, profile, on) >= target

    hi = max(int((target * 100).to_integral_value()), 1)
    while not ok(hi):
        hi *= 2
        if hi > 10**10:
            raise FeeError(f"no list price pays out {target} (fees eat the whole price)")
    lo = 0
    while lo < hi:  # lowest cent price that pays out the target (assuming near-monotone payout)
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid + 1
    price = lo
    while price > 0 and ok(price - 1):
        price -= 1
    cents = price
    while cents <= price + check_above_cents:
        if not ok(cents):
            price = cents + 1
        cents += 1
    return (Decimal(price) / 100).quantize(CENT)
