"""SYNTHETIC euro exchange rates for the demo, written in the ECB's eurofxref-hist.csv layout.

Nothing here is a real ECB rate. The rates are an invented random walk (seeded
``random.Random``, integer steps, exact :class:`~decimal.Decimal` arithmetic, so the same
arguments give the same bytes on every machine), starting near plausible early-2023 levels.
They exist so that the demo's multi-currency conversions (core.fx_rates_daily) have rates for
every day of the demo (2023-01-02 up to today); never load this file into a real warehouse -
import the ECB's own eurofxref-hist.csv instead (see the README, "Currencies and FX rates").

What is real is the file's shape (``soleflipper/formats/ecb_fx_rates.yaml``):

* the full historical header ``Date,USD,JPY,BGN,CYP,...,ZAR,`` with its trailing delimiter (an
  unnamed empty last column) and ``N/A`` for currencies without a rate (here: every currency
  this generator does not simulate, like the withdrawn CYP or HRK);
* newest day first, ISO dates, plain decimals with the ECB's usual number of decimals;
* rates only on TARGET business days: Monday to Friday except 1 January, Good Friday, Easter
  Monday, 1 May, 25 and 26 December.

A day's rates depend only on the seed and the days before it, never on ``end``: a file written
tomorrow repeats today's file and adds a row.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from soleflipper.demo_data import write_if_changed

__all__ = [
    "DEMO_FX_FILENAME",
    "DEMO_FX_START",
    "ECB_HIST_CURRENCIES",
    "SIMULATED",
    "ecb_business_days",
    "generate_fx_rates",
    "write_demo_fx_rates",
    "write_ecb_hist_csv",
]

DEMO_FX_START = date(2023, 1, 2)
DEMO_FX_FILENAME = "demo-eurofxref-hist.csv"

# The columns of the ECB's eurofxref-hist.csv, in file order.
ECB_HIST_CURRENCIES: tuple[str, ...] = (
    "USD", "JPY", "BGN", "CYP", "CZK", "DKK", "EEK", "GBP", "HUF", "LTL", "LVL", "MTL", "PLN", "ROL",
    "RON", "SEK", "SIT", "SKK", "CHF", "ISK", "NOK", "HRK", "RUB", "TRL", "TRY", "AUD", "BRL", "CAD",
    "CNY", "HKD", "IDR", "ILS", "INR", "KRW", "MXN", "MYR", "NZD", "PHP", "SGD", "THB", "ZAR",
)

# Simulated currencies: (starting units per EUR, decimals as the ECB writes them).
SIMULATED: dict[str, tuple[Decimal, int]] = {
    "USD": (Decimal("1.0683"), 4),
    "JPY": (Decimal("140.66"), 2),
    "CZK": (Decimal("24.110"), 3),
    "DKK": (Decimal("7.4365"), 4),
    "GBP": (Decimal("0.88693"), 5),
    "HUF": (Decimal("400.00"), 2),
    "PLN": (Decimal("4.6750"), 4),
    "SEK": (Decimal("11.1310"), 4),
    "CHF": (Decimal("0.9866"), 4),
    "NOK": (Decimal("10.5500"), 4),
    "AUD": (Decimal("1.5700"), 4),
    "CAD": (Decimal("1.4500"), 4),
    "CNY": (Decimal("7.3500"), 4),
    "HKD": (Decimal("8.3400"), 4),
    "KRW": (Decimal("1350.00"), 2),
    "SGD": (Decimal("1.4340"), 4),
}

_STEP = 400  # daily move of at most +-0.400 % (in units of 0.001 %)
_PULL = 2.0  # points of bias per 10 % away from the start level (keeps the walk near it)
_STATE = Decimal("0.0000000001")


def _easter(year: int) -> date:
    """Easter Sunday (Gregorian calendar, anonymous algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l_ = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l_) // 451
    month, day = divmod(h + l_ - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _target_holidays(year: int) -> set[date]:
    easter = _easter(year)
    return {date(year, 1, 1), easter - timedelta(days=2), easter + timedelta(days=1), date(year, 5, 1),
            date(year, 12, 25), date(year, 12, 26)}


def ecb_business_days(start: date, end: date) -> Iterator[date]:
    """Days the ECB publishes reference rates (TARGET business days), oldest first, inclusive."""
    holidays: dict[int, set[date]] = {}
    day = start
    while day <= end:
        if day.weekday() < 5 and day not in holidays.setdefault(day.year, _target_holidays(day.year)):
            yield day
        day += timedelta(days=1)


def generate_fx_rates(end: date | None = None, seed: int = 7,
                      start: date = DEMO_FX_START) -> list[tuple[date, dict[str, Decimal]]]:
    """Synthetic rates (units per 1 EUR) per ECB business day from ``start`` to ``end``
    (default: today, UTC), oldest first."""
    end = end or datetime.now(UTC).date()
    rng = random.Random(f"soleflipper-demo-fx:{seed}")
    level = {code: base for code, (base, _) in SIMULATED.items()}
    out: list[tuple[date, dict[str, Decimal]]] = []
    for day in ecb_business_days(start, end):
        rates = {}
        for code, (base, decimals) in SIMULATED.items():
            if out:  # the first day is the start level itself
                drift = int(_PULL * float((level[code] - base) / base) * 100)  # pull back towards base
                step = rng.randint(-_STEP, _STEP) - drift
                level[code] = (level[code] * (1 + Decimal(step) / 100_000)).quantize(_STATE)
            rates[code] = level[code].quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)
        out.append((day, rates))
    return out


def write_ecb_hist_csv(path: Path, days: list[tuple[date, dict[str, Decimal]]]) -> int:
    """Write rates in eurofxref-hist.csv's layout (newest first, N/A, trailing comma). Returns rows."""
    lines = ["Date," + ",".join(ECB_HIST_CURRENCIES) + ","]
    for day, rates in sorted(days, key=lambda item: item[0], reverse=True):
        cells = [str(rates[c]) if c in rates else "N/A" for c in ECB_HIST_CURRENCIES]
        lines.append(day.isoformat() + "," + ",".join(cells) + ",")
    write_if_changed(path, ("\n".join(lines) + "\n").encode("utf-8"))
    return len(lines) - 1


def write_demo_fx_rates(folder: Path, end: date | None = None, seed: int = 7) -> Path:
    """The demo's synthetic FX file (``demo-eurofxref-hist.csv``) in ``folder``; returns its path."""
    path = Path(folder) / DEMO_FX_FILENAME
    write_ecb_hist_csv(path, generate_fx_rates(end=end, seed=seed))
    return path
