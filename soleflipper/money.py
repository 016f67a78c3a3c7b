"""Amounts as Decimals: read from the warehouse, rounded to the cent."""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")


def decimal_or_none(value: Any) -> Decimal | None:
    """``value`` (numeric, float, str) as a Decimal of its text; None stays None."""
    return None if value is None else Decimal(str(value))


def to_cents(value: Decimal | None) -> Decimal | None:
    """``value`` rounded half up to the cent (the one rule for fees and converted amounts);
    None stays None."""
    return None if value is None else Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
