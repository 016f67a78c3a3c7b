"""SYNTHETIC market-wide StockX sales history for the demo products, in the activity-feed layout.

Nothing here is a real StockX sale. The demo reseller's own sales (:mod:`soleflipper.demo_data`)
are a few thousand pairs; demand forecasts and pricing recommendations learn from the market
as a whole, so ``make run`` also loads an invented market history: for every demo product with
a style code and a size (sneakers and apparel), sales of many sizes over 104 weeks
(2023-01-02 to 2024-12-29, the demo's date range), written in the ``stockx_activity_sales``
layout (``product, category, createdAt, amount, shoeSize, styleId, brand, retailPrice``; USD)
as a gzipped CSV.

Per product, weekly demand is a Poisson draw around

    level (the product's popularity) x trend (its popularity change over the range)
          x yearly season (peak in late November, low in early summer)
          x a 4-weekly cycle (payday weeks sell more)

and each sale picks a size by the product's size weights, a day of the week and a time of day.
Prices follow retail x premium in USD with a per-size premium, a drift that follows demand,
the same yearly season (smaller) and multiplicative noise, rounded to whole dollars as StockX
shows them.

Deterministic: a seeded ``random.Random`` and integer/float steps only, so the same seed gives the
same bytes on every machine (``gzip`` with a fixed timestamp), and the file is only rewritten
when its bytes change (the import sensor then sees nothing new).
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from pathlib import Path

from soleflipper.demo_data import CATALOG, NA, SIZES, Product, write_if_changed

__all__ = [
    "DEMO_MARKET_END",
    "DEMO_MARKET_FILENAME",
    "DEMO_MARKET_START",
    "HEADER",
    "MarketSale",
    "iter_market_sales",
    "market_products",
    "market_sales_bytes",
    "weekly_rate",
    "write_demo_market_sales",
]

DEMO_MARKET_START = date(2023, 1, 2)  # a Monday: weeks run Monday to Sunday
DEMO_MARKET_END = date(2024, 12, 29)  # a Sunday: 104 whole weeks, the demo sales' range
DEMO_MARKET_FILENAME = "demo-stockx-market-activity.csv.gz"
HEADER = ("product", "category", "createdAt", "amount", "shoeSize", "styleId", "brand", "retailPrice")
EUR_TO_USD = 1.08  # the demo catalogue's retail prices are EUR; StockX US shows USD

BASE_WEEKLY = 3.0  # units a week every product sells at least (before season and trend)
PER_POPULARITY = 4.0  # extra units a week per point of the catalogue's popularity
YEARLY_AMPLITUDE = 0.25  # demand +-25 % over the year
YEARLY_PEAK_DAY = 330  # day of year with the most demand (late November)
CYCLE_WEEKS = 4
CYCLE = (1.15, 0.95, 0.9, 1.0)  # a 4-weekly pattern: payday week first
PRICE_NOISE = 0.06  # multiplicative (log-normal sigma)
PRICE_SEASON = 0.04  # prices +-4 % with the yearly season
PRICE_TREND = 0.12  # a product whose popularity doubles gets ~12 % dearer over the range
_HOURS = (3.0, 2.0, 3.0, 3.0, 3.5, 3.5, 4.5, 3.5, 4.0, 3.0, 3.0, 6.0,
          8.5, 4.5, 5.0, 4.5, 5.5, 5.0, 5.0, 4.0, 4.0, 3.5, 3.0, 2.5)
_HOUR_CUM = list(accumulate(_HOURS))


@dataclass(frozen=True)
class MarketSale:
    product: str
    category: str
    sold_at: datetime  # UTC
    amount: int  # whole USD
    size: str
    style_code: str
    brand: str
    retail: int  # whole USD

    def row(self) -> tuple[str, ...]:
        return (self.product, self.category, self.sold_at.strftime("%Y-%m-%d %H:%M:%S"), str(self.amount),
                self.size, self.style_code, self.brand, str(self.retail))


def market_products() -> list[Product]:
    """The demo products with a market history: a style code and a size (no books or plush)."""
    return [p for p in CATALOG if p.style != NA and p.kind != "NA"]


def _weeks(start: date, end: date) -> int:
    return ((end - start).days + 1) // 7


def weekly_rate(product: Product, week: int, n_weeks: int, start: date = DEMO_MARKET_START) -> float:
    """Expected units of ``product`` sold in week ``week`` (0-based) of ``n_weeks``: level x trend x
    yearly season x 4-weekly cycle. Plain arithmetic, so tests can check the pattern."""
    level = BASE_WEEKLY + PER_POPULARITY * product.popularity
    progress = week / max(n_weeks - 1, 1)
    trend = max(0.2, 1.0 + product.trend * progress)
    middle = start + timedelta(days=7 * week + 3)
    day_of_year = middle.timetuple().tm_yday
    season = 1.0 + YEARLY_AMPLITUDE * math.cos(2 * math.pi * (day_of_year - YEARLY_PEAK_DAY) / 365.25)
    cycle = CYCLE[week % CYCLE_WEEKS]
    return level * trend * season * cycle


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth's method in pieces of at most 30 (exp(-lam) stays representable), so exact for any rate."""
    total = 0
    while lam > 0:
        part = min(lam, 30.0)
        lam -= part
        limit, k, p = math.exp(-part), 0, rng.random()
        while p > limit:
            k += 1
            p *= rng.random()
        total += k
    return total


def _category(product: Product) -> str:
    return "streetwear" if product.kind == "APP" else "sneakers"


def iter_market_sales(seed: int = 7, start: date = DEMO_MARKET_START,
                      end: date = DEMO_MARKET_END) -> Iterator[MarketSale]:
    """Every invented market sale from ``start`` (a Monday) through the last whole week before ``end``,
    product by product, in time order within a product."""
    if start.weekday() != 0:
        raise ValueError("start must be a Monday")
    n_weeks = _weeks(start, end)
    if n_weeks < 1:
        raise ValueError("the range must hold at least one whole week")
    rng = random.Random(f"soleflipper-demo-market-{seed}")
    origin = datetime(start.year, start.month, start.day, tzinfo=UTC)
    for product in market_products():
        sizes = [s for s, _ in SIZES[product.kind]]
        size_cum = list(accumulate(w for _, w in SIZES[product.kind]))
        size_premium = {s: 1.0 + rng.uniform(-0.08, 0.12) for s in sizes}
        retail = round(product.retail * EUR_TO_USD)
        base_price = product.retail * product.premium * EUR_TO_USD
        for week in range(n_weeks):
            units = _poisson(rng, weekly_rate(product, week, n_weeks, start))
            if not units:
                continue
            progress = week / max(n_weeks - 1, 1)
            day_of_year = (start + timedelta(days=7 * week + 3)).timetuple().tm_yday
            season = PRICE_SEASON * math.cos(2 * math.pi * (day_of_year - YEARLY_PEAK_DAY) / 365.25)
            level = base_price * (1.0 + PRICE_TREND * product.trend * progress + season)
            moments = sorted(
                origin + timedelta(days=7 * week + rng.randrange(7),
                                   hours=rng.choices(range(24), cum_weights=_HOUR_CUM)[0],
                                   seconds=rng.randrange(3600))
                for _ in range(units))
            for moment in moments:
                size = rng.choices(sizes, cum_weights=size_cum)[0]
                price = level * size_premium[size] * math.exp(rng.gauss(0.0, PRICE_NOISE))
                yield MarketSale(product.item, _category(product), moment, max(1, round(price)), size,
                                 product.style, product.brand, retail)


def market_sales_bytes(sales: Iterator[MarketSale] | list[MarketSale]) -> bytes:
    """The activity-feed CSV (UTF-8, LF) gzipped with a fixed timestamp: same sales, same bytes."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(sale.row() for sale in sales)
    return gzip.compress(buffer.getvalue().encode("utf-8"), compresslevel=6, mtime=0)


def write_demo_market_sales(folder: Path, seed: int = 7) -> Path:
    """Write the demo's market history into ``folder`` (the ``stockx_activity_sales`` import folder)
    as ``demo-stockx-market-activity.csv.gz``; unchanged bytes leave the file untouched."""
    path = Path(folder) / DEMO_MARKET_FILENAME
    write_if_changed(path, market_sales_bytes(iter_market_sales(seed=seed)))
    return path
