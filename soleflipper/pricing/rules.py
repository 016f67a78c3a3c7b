"""The reseller's pricing rules: a dataclass and its YAML loader.

Defaults live in ``soleflipper/pricing/default_rules.yaml``; set ``SOLEFLIPPER_PRICING_RULES`` to
a file of your own (every field optional; missing fields keep the default). Every error names the
file and the field.

Fields (percentages are percent, e.g. ``10`` = 10 %):

* ``home_currency``: currency of costs and of the report (ISO code).
* ``min_margin_pct``: the floor: the net payout must cover cost × (1 + min_margin_pct / 100).
* ``max_discount_pct``: never list below the market reference (median recent sale, else lowest
  ask, else the forecast price) × (1 − max_discount_pct / 100).
* ``rounding``: ``cent`` (as is), ``whole`` (next whole unit), ``charm_99`` (next x.99),
  ``five`` (next multiple of 5). Always rounded **up**, then the payout is checked again.
* ``holding_cost_pct_per_month``: cost of keeping a pair (capital, storage) per 30 days, % of cost.
* ``clearance_after_days``: a pair older than this is clearance (floor drops to recover at least
  ``100 − clearance_max_loss_pct`` % of cost, the loss is shown); ``null`` = never.
* ``target_days_to_sell``: prefer prices expected to sell within this many days.
* ``recent_sales_days``: window of recent sales used as market data.
* ``platforms``: per platform ``enabled``, ``currency``, ``region``, ``seller_level``,
  ``seller_rating``, ``performance_bonuses``, ``shipping_cost``, ``min_seller_fee``,
  ``final_value_rate``, ``fixed_per_order``, ``buyer_shipping``, ``category``. eBay's
  ``final_value_rate: observed`` takes the final value fee rate and the fixed fee per order from
  the seller's own eBay Finances SALE transactions (the fees eBay really charged, see
  :mod:`soleflipper.pricing.observed_fees`); with no such history eBay is not priced.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from soleflipper.pricing.fees import SellerProfile

DEFAULT_RULES_PATH = Path(__file__).with_name("default_rules.yaml")
RULES_ENV = "SOLEFLIPPER_PRICING_RULES"
ROUNDING_MODES = ("cent", "whole", "charm_99", "five")
OBSERVED = "observed"
INTERNAL_PLATFORM_FIELDS = {"platform", "observed_fees", "fee_source"}


class PricingRulesError(ValueError):
    """A rules file cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class PlatformRules:
    platform: str
    enabled: bool = True
    currency: str = "EUR"
    region: str | None = None
    seller_level: str | None = None
    seller_rating: int | None = None
    performance_bonuses: int = 0
    shipping_cost: Decimal = Decimal("0.00")
    min_seller_fee: Decimal | None = None
    final_value_rate: Decimal | None = None
    buyer_shipping: Decimal = Decimal("0.00")
    category: str | None = None
    fixed_per_order: Decimal | None = None
    # Set by ``final_value_rate: observed``: the rates are filled in from the seller's own eBay
    # Finances transactions before pricing (soleflipper.pricing.observed_fees).
    observed_fees: bool = False
    fee_source: str = "SellerProfile.final_value_rate"

    def profile(self, fx_rates: Mapping[str, Decimal] | None = None) -> SellerProfile:
        return SellerProfile(
            platform=self.platform,
            currency=self.currency,
            region=self.region,
            seller_level=self.seller_level,
            seller_rating=self.seller_rating,
            performance_bonuses=self.performance_bonuses,
            category=self.category,
            min_seller_fee=self.min_seller_fee,
            final_value_rate=self.final_value_rate,
            shipping_cost=self.shipping_cost,
            buyer_shipping=self.buyer_shipping,
            fixed_per_order=self.fixed_per_order,
            fee_source=self.fee_source,
            fx_rates=dict(fx_rates or {}),
        )


@dataclass(frozen=True)
class PricingRules:
    home_currency: str = "EUR"
    min_margin_pct: Decimal = Decimal("10")
    max_discount_pct: Decimal = Decimal("15")
    rounding: str = "charm_99"
    holding_cost_pct_per_month: Decimal = Decimal("1")
    clearance_after_days: int | None = 180
    clearance_max_loss_pct: Decimal = Decimal("20")
    target_days_to_sell: int = 30
    recent_sales_days: int = 30
    platforms: tuple[PlatformRules, ...] = field(default_factory=tuple)
    source: str = "<defaults>"

    def enabled_platforms(self) -> list[PlatformRules]:
        return [p for p in self.platforms if p.enabled]

    def with_changes(self, **changes: Any) -> PricingRules:
        return replace(self, **changes)


def _fail(path: str, name: str, message: str) -> PricingRulesError:
    return PricingRulesError(f"{path}: field '{name}': {message}")


def _dec(path: str, name: str, value: Any, lo: Decimal | None = None, hi: Decimal | None = None) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise _fail(path, name, f"expected a number, got {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise _fail(path, name, f"expected a number, got {value!r}") from None
    if not number.is_finite():
        raise _fail(path, name, f"expected a finite number, got {value!r}")
    if lo is not None and number < lo:
        raise _fail(path, name, f"must be >= {lo}, got {value!r}")
    if hi is not None and number > hi:
        raise _fail(path, name, f"must be <= {hi}, got {value!r}")
    return number


def _int(path: str, name: str, value: Any, lo: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(path, name, f"expected a whole number, got {value!r}")
    if value < lo:
        raise _fail(path, name, f"must be >= {lo}, got {value!r}")
    return value


def _currency(path: str, name: str, value: Any) -> str:
    if not isinstance(value, str) or len(value) != 3 or not value.isalpha():
        raise _fail(path, name, f"expected a 3-letter currency code, got {value!r}")
    return value.upper()


def _platform(path: str, key: str, raw: Any, home: str) -> PlatformRules:
    prefix = f"platforms.{key}"
    if not isinstance(raw, Mapping):
        raise _fail(path, prefix, f"expected a mapping, got {raw!r}")
    known = {f.name for f in fields(PlatformRules)} - INTERNAL_PLATFORM_FIELDS
    for name in raw:
        if name not in known:
            raise _fail(path, f"{prefix}.{name}", f"unknown field (known: {', '.join(sorted(known))})")
    out: dict[str, Any] = {"platform": key.lower(), "currency": home}
    for name, value in raw.items():
        fname = f"{prefix}.{name}"
        if name == "enabled":
            if not isinstance(value, bool):
                raise _fail(path, fname, f"expected true or false, got {value!r}")
            out[name] = value
        elif name == "currency":
            out[name] = _currency(path, fname, value)
        elif name in ("region", "seller_level", "category"):
            out[name] = None if value is None else str(value)
        elif name == "seller_rating":
            out[name] = None if value is None else _int(path, fname, value)
        elif name == "performance_bonuses":
            out[name] = _int(path, fname, value)
        elif name in ("shipping_cost", "buyer_shipping"):
            out[name] = _dec(path, fname, value, lo=Decimal(0))
        elif name == "final_value_rate" and value == OBSERVED:
            if key.lower() != "ebay":
                raise _fail(path, fname, "'observed' is only known for eBay (from its Finances transactions)")
            out["observed_fees"] = True
        elif name in ("min_seller_fee", "final_value_rate", "fixed_per_order"):
            out[name] = None if value is None else _dec(path, fname, value, lo=Decimal(0))
    return PlatformRules(**out)


def rules_from_mapping(data: Mapping[str, Any], path: str = "<mapping>") -> PricingRules:
    """Rules from a parsed YAML mapping; unknown or invalid fields raise PricingRulesError."""
    if not isinstance(data, Mapping):
        raise PricingRulesError(f"{path}: expected a mapping of rule fields at the top level")
    known = {f.name for f in fields(PricingRules)} - {"source"}
    for name in data:
        if name not in known:
            raise _fail(path, str(name), f"unknown field (known: {', '.join(sorted(known))})")
    out: dict[str, Any] = {"source": path}
    home = _currency(path, "home_currency", data.get("home_currency", PricingRules.home_currency))
    out["home_currency"] = home
    for name in ("min_margin_pct", "holding_cost_pct_per_month"):
        if name in data:
            out[name] = _dec(path, name, data[name], lo=Decimal(0))
    for name in ("max_discount_pct", "clearance_max_loss_pct"):
        if name in data:
            out[name] = _dec(path, name, data[name], lo=Decimal(0), hi=Decimal(100))
    if "rounding" in data:
        if data["rounding"] not in ROUNDING_MODES:
            raise _fail(
                path, "rounding", f"expected one of {', '.join(ROUNDING_MODES)}, got {data['rounding']!r}"
            )
        out["rounding"] = data["rounding"]
    if "clearance_after_days" in data:
        value = data["clearance_after_days"]
        out["clearance_after_days"] = None if value is None else _int(path, "clearance_after_days", value)
    for name in ("target_days_to_sell", "recent_sales_days"):
        if name in data:
            out[name] = _int(path, name, data[name], lo=1)
    platforms = data.get("platforms", {}) or {}
    if not isinstance(platforms, Mapping):
        raise _fail(path, "platforms", f"expected a mapping of platform -> settings, got {platforms!r}")
    out["platforms"] = tuple(_platform(path, str(k), v, home) for k, v in platforms.items())
    return PricingRules(**out)


def load_rules(path: str | Path | None = None) -> PricingRules:
    """Rules from ``path``, else ``$SOLEFLIPPER_PRICING_RULES``, else the packaged defaults.

    A user file is laid over the defaults (top-level fields; ``platforms`` replaced as a whole
    when given).
    """
    chosen = path or os.environ.get(RULES_ENV) or DEFAULT_RULES_PATH
    chosen = Path(chosen)
    defaults = _read(DEFAULT_RULES_PATH)
    if chosen.resolve() == DEFAULT_RULES_PATH.resolve():
        return rules_from_mapping(defaults, str(chosen))
    merged = {**defaults, **_read(chosen)}
    return rules_from_mapping(merged, str(chosen))


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PricingRulesError(f"{path}: cannot read the pricing rules file ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PricingRulesError(f"{path}: not valid YAML ({exc})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PricingRulesError(f"{path}: expected a mapping of rule fields at the top level")
    return data
