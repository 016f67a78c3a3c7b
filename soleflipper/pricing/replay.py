"""Pricing backtest: replay real StockX sales and score list-price rules with only past data.

Protocol (deterministic; every number comes from the sales file and the fee seed):

* **Data.** The StockX Data Contest 2019 file (one row per US sale: Order Date, Brand, Sneaker
  Name, Sale Price, Retail Price, Release Date, Shoe Size, Buyer Region; USD). A series is one
  sneaker name × shoe size. StockX sampled a fixed share of sales, so every sell-through rate
  below is a lower bound of what a real listing would see.
* **Inventory.** For every series and replay date ``D`` we hold one pair bought at retail on the
  release date (cost = Retail Price). Replay dates run weekly (``step_days``) from the first order
  date + ``warmup_days`` to the last order date − ``horizon_days``, so every outcome window is
  fully observed. A series is replayed on ``D`` when it was released before ``D`` and has at
  least ``min_sales_14d`` sales in the 14 days before ``D`` (both rules then have market data).
* **Known at D.** Only sales dated before ``D`` (up to ``D − 1``). No asks or bids are in the file,
  so the snapshot has recent sales only and no forecast (``demand=None``).
* **Rules compared.** ``recommended``: :func:`soleflipper.pricing.recommend.recommend_for_platform`
  on StockX (US seller, Level 1, fees valid on the day from the seed: 10 % before 2023-07 + 3 %
  payment, US minimum seller fee 10 USD; no clearance: pair ages are artificial here), with
  ``today = D − 1`` and the rules in :class:`ReplayConfig`. ``original_market_based``: the
  original system's MARKET_BASED rule (original-soleflip.md §7.1): mean sale price of the 14
  days before ``D`` × 0.98, floor at cost / (1 − 15 %), then its psychological rounding (< 20:
  whole − 0.05, < 100: whole − 0.01, else nearest 5), applied after the floor so it can undercut
  it.
* **Outcome.** The pair sells on the first day ``D + k`` (k = 0 .. horizon − 1) with a real sale of
  the series at a price ≥ the list price; days to sell = k + 1. Sold within 7 / 30 days when days
  to sell ≤ 7 / ≤ 30. Realised profit (sold within the horizon) = StockX net payout at the list
  price − cost − holding cost (cost × ``holding_cost_pct_per_month`` × days / 30); realised margin
  = total profit / total list price of the pairs sold. ``below_min_margin`` marks a list price
  whose payout is below cost × (1 + min margin) (our configured floor, after fees);
  ``below_own_floor`` a list price below the rule's own floor (ours: the break-even floor; the
  original: cost / (1 − 15 %), which its rounding to 5 can undercut).
"""

from __future__ import annotations

import bisect
import csv
import gzip
import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd

from soleflipper.pricing.fees import FeeSchedule, fee_breakdown, load_fee_schedules_csv, to_cents
from soleflipper.pricing.recommend import MarketSnapshot, PairInStock, Sale, recommend_for_platform
from soleflipper.pricing.rules import PlatformRules, PricingRules

ORIGINAL_DISCOUNT = Decimal("0.98")
ORIGINAL_MARGIN_FLOOR = Decimal("0.15")
STRATEGIES = ("recommended", "original_market_based")


@dataclass(frozen=True)
class ContestSale:
    order_date: date
    product: str
    size: str
    price: Decimal
    retail: Decimal
    release_date: date


def _replay_rules() -> PricingRules:
    return PricingRules(
        home_currency="USD",
        min_margin_pct=Decimal("10"),
        max_discount_pct=Decimal("15"),
        rounding="whole",
        holding_cost_pct_per_month=Decimal("1"),
        clearance_after_days=None,
        target_days_to_sell=30,
        recent_sales_days=30,
        platforms=(PlatformRules(platform="stockx", currency="USD", region="US", seller_level="1"),),
        source="replay defaults",
    )


@dataclass(frozen=True)
class ReplayConfig:
    rules: PricingRules = field(default_factory=_replay_rules)
    step_days: int = 7
    warmup_days: int = 30
    horizon_days: int = 30
    min_sales_14d: int = 1
    start: date | None = None
    end: date | None = None  # last replay date (default: last order date − horizon)


def iter_contest_sales(path: str | Path) -> Iterator[ContestSale]:
    """Rows of the contest file (.csv or .csv.gz), streamed with the csv module."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="", encoding="utf-8") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                yield ContestSale(
                    order_date=date.fromisoformat(row["Order Date"].strip()),
                    product=row["Sneaker Name"].strip(),
                    size=row["Shoe Size"].strip(),
                    price=Decimal(row["Sale Price"].strip()),
                    retail=Decimal(row["Retail Price"].strip()),
                    release_date=date.fromisoformat(row["Release Date"].strip()),
                )
            except (KeyError, ValueError, ArithmeticError) as exc:
                raise ValueError(f"{path}:{line}: cannot read the row ({exc!r})") from None


def load_contest_sales(path: str | Path) -> list[ContestSale]:
    return list(iter_contest_sales(path))


def psychological_round(price: Decimal) -> Decimal:
    """The original system's final rounding (§7.1): < 20 whole − 0.05, < 100 whole − 0.01, else nearest 5."""
    if price < 20:
        return price.quantize(Decimal(1), rounding=ROUND_HALF_UP) - Decimal("0.05")
    if price < 100:
        return price.quantize(Decimal(1), rounding=ROUND_HALF_UP) - Decimal("0.01")
    return ((price / 5).quantize(Decimal(1), rounding=ROUND_HALF_UP) * 5).quantize(Decimal("0.01"))


def original_market_based_price(sales_14d: Iterable[Decimal], cost: Decimal) -> Decimal | None:
    """MARKET_BASED (§7.1): mean of the 14-day sale prices × 0.98, floor cost/(1 − 15 %), then rounded."""
    prices = list(sales_14d)
    if not prices:
        return None
    price = sum(prices, Decimal(0)) / len(prices) * ORIGINAL_DISCOUNT
    price = max(price, cost / (1 - ORIGINAL_MARGIN_FLOOR))
    return psychological_round(price)


def _first_sale_at_or_above(
    dates: list[date], prices: list[Decimal], start: date, horizon: int, price: Decimal
):
    i = bisect.bisect_left(dates, start)
    end = start + timedelta(days=horizon)
    while i < len(dates) and dates[i] < end:
        if prices[i] >= price:
            return (dates[i] - start).days + 1, prices[i]
        i += 1
    return None, None


def replay(
    sales: Iterable[ContestSale],
    config: ReplayConfig | None = None,
    schedules: list[FeeSchedule] | None = None,
) -> pd.DataFrame:
    """One row per replayed pair × date × strategy (columns documented in the module docstring)."""
    config = config or ReplayConfig()
    schedules = schedules if schedules is not None else load_fee_schedules_csv()
    rules = config.rules
    platform = rules.platforms[0]
    profile = platform.profile()
    series: dict[tuple[str, str], list[ContestSale]] = defaultdict(list)
    for sale in sales:
        series[(sale.product, sale.size)].append(sale)
    if not series:
        return pd.DataFrame(columns=_COLUMNS)
    first = min(s.order_date for rows in series.values() for s in rows)
    last = max(s.order_date for rows in series.values() for s in rows)
    start = config.start or first + timedelta(days=config.warmup_days)
    end = config.end or last - timedelta(days=config.horizon_days - 1)
    min_target = Decimal(1) + rules.min_margin_pct / 100

    records = []
    for key in sorted(series):
        rows = sorted(series[key], key=lambda s: (s.order_date, s.price))
        dates = [s.order_date for s in rows]
        prices = [s.price for s in rows]
        retail = rows[0].retail
        release = min(s.release_date for s in rows)
        pair = PairInStock(
            product=key[0], size=key[1], cost=retail, currency=platform.currency, purchase_date=release
        )
        day = start
        while day <= end:
            if release < day:
                lo14 = bisect.bisect_left(dates, day - timedelta(days=14))
                hi = bisect.bisect_left(dates, day)
                if hi - lo14 >= config.min_sales_14d:
                    lo30 = bisect.bisect_left(dates, day - timedelta(days=rules.recent_sales_days))
                    history = tuple(Sale(dates[i], prices[i]) for i in range(lo30, hi))
                    snapshot = MarketSnapshot(platform.platform, platform.currency, recent_sales=history)
                    rec = recommend_for_platform(
                        pair, snapshot, None, schedules, platform, rules, day - timedelta(days=1)
                    )
                    original = original_market_based_price(prices[lo14:hi], retail)
                    if original is None:  # min_sales_14d = 0 and no sale: the original rule has no price
                        day += timedelta(days=config.step_days)
                        continue
                    for strategy, price, floor, expected in (
                        ("recommended", rec.list_price, rec.floor, rec.expected_days_to_sell),
                        (
                            "original_market_based",
                            original,
                            to_cents(retail / (1 - ORIGINAL_MARGIN_FLOOR)),
                            None,
                        ),
                    ):
                        payout = fee_breakdown(price, schedules, profile, day).net_payout
                        days, sale_price = _first_sale_at_or_above(
                            dates, prices, day, config.horizon_days, price
                        )
                        profit = margin = None
                        if days is not None:
                            holding = to_cents(retail * rules.holding_cost_pct_per_month / 100 * days / 30)
                            profit = payout - retail - holding
                            margin = float(profit / price)
                        records.append(
                            {
                                "replay_date": day,
                                "product": key[0],
                                "size": key[1],
                                "cost": retail,
                                "strategy": strategy,
                                "n_sales_14d": hi - lo14,
                                "n_sales_30d": hi - lo30,
                                "list_price": price,
                                "floor": floor,
                                "payout": payout,
                                "expected_days": expected,
                                "below_min_margin": payout < to_cents(retail * min_target),
                                "below_cost": payout < retail,
                                "below_own_floor": price < floor,
                                "days_to_sell": days,
                                "sold_within_7": days is not None and days <= 7,
                                "sold_within_30": days is not None and days <= 30,
                                "sale_price": sale_price,
                                "profit": profit,
                                "margin": margin,
                            }
                        )
            day += timedelta(days=config.step_days)
    frame = pd.DataFrame.from_records(records, columns=_COLUMNS)
    return frame.sort_values(["replay_date", "product", "size", "strategy"], kind="stable").reset_index(
        drop=True
    )


_COLUMNS = [
    "replay_date",
    "product",
    "size",
    "cost",
    "strategy",
    "n_sales_14d",
    "n_sales_30d",
    "list_price",
    "floor",
    "payout",
    "expected_days",
    "below_min_margin",
    "below_cost",
    "below_own_floor",
    "days_to_sell",
    "sold_within_7",
    "sold_within_30",
    "sale_price",
    "profit",
    "margin",
]


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Per strategy: pairs, sell-within-7/30 rates, days to sell, realised margin and profit."""
    out = []
    for strategy in STRATEGIES:
        part = results[results["strategy"] == strategy]
        if part.empty:
            continue
        sold = part[part["sold_within_30"]]
        profit = sum(sold["profit"], Decimal(0))
        revenue = sum(sold["list_price"], Decimal(0))
        out.append(
            {
                "strategy": strategy,
                "pairs": len(part),
                "sold_within_7_rate": round(float(part["sold_within_7"].mean()), 4),
                "sold_within_30_rate": round(float(part["sold_within_30"].mean()), 4),
                "median_days_to_sell": float(statistics.median(sold["days_to_sell"])) if len(sold) else None,
                "mean_list_price": to_cents(sum(part["list_price"], Decimal(0)) / len(part)),
                "realised_margin": round(float(profit / revenue), 4) if revenue else None,
                "profit_per_pair_sold": to_cents(profit / len(sold)) if len(sold) else None,
                "profit_per_pair_offered": to_cents(profit / len(part)),
                "below_min_margin": int(part["below_min_margin"].sum()),
                "below_cost": int(part["below_cost"].sum()),
                "below_own_floor": int(part["below_own_floor"].sum()),
            }
        )
    return pd.DataFrame(out)
