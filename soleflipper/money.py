"""Amounts as Decimals: read from the warehouse, rounded to the cent."""

from decimal import Decimal
from typing import Any

CENT = Decimal("0.01")


def decimal_or_none(value: Any) -> Decimal | None:
    """``value`` (numeric, float, str) as a Decimal of its text; None stays None."""
    return None if value is None else Decimal(str(value))


def to_cents(value: Decimal | None) -> Decimal | None:
    """``value`` rounded to the cent (half even); None stays None."""
    return None if value is None else value.quantize(CENT)
