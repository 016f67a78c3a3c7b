"""Exchange rates: the newest ECB rate of every currency on or before a day (``core.fx_rates_daily``)."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import psycopg

from soleflipper.warehouse_tables.relations import relation_exists


@dataclass
class FxRates:
    """Newest ECB rate of every currency on or before a day, as units of the home currency."""

    home_per_unit: dict[str, Decimal] = field(default_factory=dict)

    def rate(self, source: str, target: str) -> Decimal | None:
        if source == target:
            return Decimal(1)
        a, b = self.home_per_unit.get(source), self.home_per_unit.get(target)
        return None if a is None or b is None or b == 0 else a / b

    def convert(self, amount: Decimal | None, source: str, target: str) -> Decimal | None:
        rate = None if amount is None else self.rate(source, target)
        return None if rate is None else amount * rate

    def pairs(self) -> dict[tuple[str, str], Decimal]:
        """{(from, to): rate} for every known pair: what recommend() takes."""
        return {(a, b): self.rate(a, b) for a in self.home_per_unit for b in self.home_per_unit if a != b}


def load_fx(conn: psycopg.Connection, on: date) -> FxRates:
    """The newest rate of every currency on or before ``on`` (none: an empty FxRates)."""
    if not relation_exists(conn, "core.fx_rates_daily"):
        return FxRates()
    rows = conn.execute(
        "select distinct on (currency) currency, home_per_unit, home_currency from core.fx_rates_daily"
        " where rate_date <= %s and home_per_unit is not null order by currency, rate_date desc",
        (on,),
    ).fetchall()
    rates = {currency: Decimal(str(rate)) for currency, rate, _ in rows}
    for _, _, home in rows:
        rates.setdefault(home, Decimal(1))
    return FxRates(rates)
