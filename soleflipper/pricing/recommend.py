"""List-price recommendation for one pair in stock, per platform, and the best platform.

For every enabled platform (``rules.platforms``) with market data:

1. **Floor.** The lowest list price in cents whose net payout after that platform's fees and the
   seller's shipping covers cost × (1 + ``min_margin_pct``) (:func:`fees.break_even_price`). A
   pair older than ``clearance_after_days`` is *clearance*: the floor drops to recovering
   (100 − ``clearance_max_loss_pct``) % of cost and the expected loss is shown. Outside clearance a
   recommendation never pays out less than cost + minimum margin.
2. **Lower bound.** max(floor, market reference × (1 − ``max_discount_pct``)), the reference being
   the median recent sale, else the lowest ask, else the forecast price point.
3. **Candidates.** highest bid, lowest ask − 0.01, the median and every distinct recent sale
   price, the sales level (see 4.) −10 % to +10 % in steps of 2 %, the forecast price point and
   its 80 % bounds, and the lower bound itself; each raised to
   the lower bound, rounded **up** by ``rules.rounding``, and moved to the next rounded price
   while its payout is below the floor target (fees are rounded per cent, so the check is on
   the payout, not only the price).
4. **Expected days to sell** at price ``p`` (:func:`expected_days_to_sell`):
   ``days = ceil(7 / (SPEED × sqrt(weekly_units) × acceptance(p)))``, capped at 365, and 1 day at
   or below the highest bid (sells to the bid). ``weekly_units`` is the forecast's weekly units
   for the product/size, else recent sales × 7 / window, else 0.25. The square root and
   ``SPEED = 0.45`` (and the spread below) were calibrated on the StockX contest file before
   2018-06, the backtest's calibration period (other sellers' asks compete for the same buyers,
   so a busier market sells one more pair less than proportionally faster). ``acceptance(p)``, the share of buyers who would pay at least ``p``
   (:func:`acceptance`):

   * with recent sales (n ≥ 1): ``0.5 × (level / p) ** (1 / spread)``; ``level`` = median of
     the last 5 sales, each carried to today along the Theil-Sen log-price trend of the last 30
     sales (needs ≥ 5 sales over ≥ 7 days, else flat; at most ±0.5 %/day); ``spread`` =
     max(0.04, 1.4826 × MAD of those log prices) × sqrt(1 + 10 / n) (a level from few sales is
     less certain): every + spread above the level divides the share by e;
   * else piecewise linear through the forecast: lower 80 % → 0.9, point → 0.5, upper 80 % → 0.1;
   * else through highest bid → 0.9, lowest ask → 0.5, 1.25 × ask → 0.05;
   * else 0.5; always clamped to [0.05, 0.95].

   The chance to sell within the target is ``1 − exp(−target_days / days)`` (Poisson).
5. **Choice.** Expected profit = payout − cost − holding cost (cost × ``holding_cost_pct_per_month``
   × days / 30). Pick the candidate with the highest chance-weighted profit (chance to sell within
   ``target_days_to_sell`` × expected profit; ties: fewer days, lower price); in clearance the
   quickest, then the highest profit. The best platform is chosen the same way over the
   platforms' picks (only platforms listing in one currency are compared; with several
   currencies, those in ``rules.home_currency``).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_CEILING, Decimal

from soleflipper.pricing.fees import (
    CENT,
    FeeBreakdown,
    FeeError,
    FeeSchedule,
    SellerProfile,
    break_even_price,
    fee_breakdown,
    to_cents,
)
from soleflipper.pricing.rules import PlatformRules, PricingRules

MAX_DAYS = 365
BID_DAYS = 1
DEFAULT_WEEKLY_UNITS = 0.25
MIN_SALES_FOR_DISTRIBUTION = 1
RECENT_LEVEL_SALES = 5
MIN_SPREAD = 0.04
LEVEL_UNCERTAINTY_SALES = 10  # spread × sqrt(1 + 10 / n): a level from few sales is less certain
SPEED = 0.45
TREND_SALES = 30
TREND_MIN_SALES = 5
TREND_MIN_SPAN_DAYS = 7
MAX_TREND = 0.005
LEVEL_GRID_PCT = range(-10, 11, 2)  # candidate prices: level -10 % .. +10 %
Q_MIN, Q_MAX = 0.05, 0.95
PLATFORM_NAMES = {"stockx": "StockX", "alias": "Alias", "ebay": "eBay"}


@dataclass(frozen=True)
class PairInStock:
    """One pair: what it cost (in ``currency``), when it was bought, what it is."""

    product: str
    size: str | None
    cost: Decimal
    currency: str
    purchase_date: date
    item_id: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class Sale:
    sold_on: date
    price: Decimal


@dataclass(frozen=True)
class MarketSnapshot:
    """What a platform's market shows for the product/size, in ``currency``; any part may be None."""

    platform: str
    currency: str
    lowest_ask: Decimal | None = None
    highest_bid: Decimal | None = None
    recent_sales: tuple[Sale, ...] = ()


@dataclass(frozen=True)
class DemandEstimate:
    """From the forecast: expected weekly units and the price level with its 80 % interval."""

    weekly_units: float | Decimal | None
    price_point: Decimal | None = None
    price_lower_80: Decimal | None = None
    price_upper_80: Decimal | None = None


@dataclass(frozen=True)
class Recommendation:
    platform: str
    currency: str
    list_price: Decimal
    floor: Decimal
    floor_basis: str
    expected_days_to_sell: int
    sell_probability: float  # within rules.target_days_to_sell
    fees: FeeBreakdown
    expected_payout: Decimal
    cost: Decimal
    holding_cost: Decimal
    expected_profit: Decimal
    clearance: bool
    clearance_loss: Decimal | None
    market_reference: Decimal | None
    discount_bound: Decimal | None
    reason: str


@dataclass(frozen=True)
class PricingResult:
    pair: PairInStock
    best: Recommendation | None
    recommendations: tuple[Recommendation, ...]
    skipped: tuple[str, ...] = field(default_factory=tuple)  # "platform: why"


def _d(value: Decimal | float | int | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def recent_sales(snapshot: MarketSnapshot | None, today: date, window_days: int) -> list[Sale]:
    """Sales in the window (today − window_days, today] with a positive price, oldest first."""
    if snapshot is None:
        return []
    return sorted(
        (
            s
            for s in snapshot.recent_sales
            if 0 <= (today - s.sold_on).days < window_days and s.price is not None and s.price > 0
        ),
        key=lambda s: (s.sold_on, s.price),
    )


def market_reference(sales: Sequence[Sale], snapshot: MarketSnapshot | None, demand: DemandEstimate | None):
    """(reference price, what it is): median recent sale, else lowest ask, else forecast price."""
    if sales:
        return to_cents(Decimal(str(statistics.median([s.price for s in sales])))), "median recent sale"
    if snapshot is not None and snapshot.lowest_ask is not None:
        return to_cents(snapshot.lowest_ask), "lowest ask"
    if demand is not None and demand.price_point is not None:
        return to_cents(_d(demand.price_point)), "forecast price"
    return None, "none"


def _interpolate(price: float, anchors: list[tuple[float, float]]) -> float:
    anchors = sorted(anchors)
    if price <= anchors[0][0]:
        q = anchors[0][1]
    elif price >= anchors[-1][0]:
        q = anchors[-1][1]
    else:
        q = anchors[-1][1]
        for (x0, y0), (x1, y1) in zip(anchors, anchors[1:], strict=False):
            if x0 <= price <= x1:
                q = y0 if x1 == x0 else y0 + (y1 - y0) * (price - x0) / (x1 - x0)
                break
    return q


def acceptance(
    price: Decimal,
    sales: Sequence[Sale],
    snapshot: MarketSnapshot | None,
    demand: DemandEstimate | None,
    today: date | None = None,
) -> tuple[float, str]:
    """Share of buyers paying at least ``price`` and what it is based on (see module docstring)."""
    p = float(price)
    if len(sales) >= MIN_SALES_FOR_DISTRIBUTION:
        level, spread = sales_price_level(sales, today)
        q = 0.5 * math.exp(-math.log(p / level) / spread) if p > 0 else 1.0
        basis = "recent sales"
    elif demand is not None and None not in (
        demand.price_lower_80,
        demand.price_point,
        demand.price_upper_80,
    ):
        anchors = [(float(demand.price_lower_80), 0.9), (float(demand.price_point), 0.5)]
        anchors.append((float(demand.price_upper_80), 0.1))
        q, basis = _interpolate(p, anchors), "forecast price interval"
    elif snapshot is not None and (snapshot.lowest_ask is not None or snapshot.highest_bid is not None):
        ask, bid = snapshot.lowest_ask, snapshot.highest_bid
        if ask is not None:
            low = float(bid) if bid is not None and bid < ask else float(ask) * 0.8
            anchors = [(low, 0.9), (float(ask), 0.5), (float(ask) * 1.25, 0.05)]
        else:
            anchors = [(float(bid), 0.9), (float(bid) * 1.25, 0.5), (float(bid) * 1.5, 0.05)]
        q, basis = _interpolate(p, anchors), "bid/ask"
    else:
        q, basis = 0.5, "no market data"
    return min(Q_MAX, max(Q_MIN, q)), basis


def price_trend(sales: Sequence[Sale]) -> float:
    """Theil-Sen slope of log price per day over the last TREND_SALES sales, clamped to ±0.5 %/day.

    0 with fewer than TREND_MIN_SALES sales or when they span less than TREND_MIN_SPAN_DAYS.
    """
    pts = [(s.sold_on.toordinal(), math.log(float(s.price))) for s in sales[-TREND_SALES:]]
    if len(pts) < TREND_MIN_SALES or pts[-1][0] - pts[0][0] < TREND_MIN_SPAN_DAYS:
        return 0.0
    slopes = [(y1 - y0) / (x1 - x0) for i, (x0, y0) in enumerate(pts) for x1, y1 in pts[i + 1 :] if x1 != x0]
    if not slopes:
        return 0.0
    return max(-MAX_TREND, min(MAX_TREND, statistics.median(slopes)))


def sales_price_level(sales: Sequence[Sale], today: date | None = None) -> tuple[float, float]:
    """(level, spread) of the recent sale prices, in price units and log units.

    level = median of the last RECENT_LEVEL_SALES sales, each carried to ``today`` along the
    trend (:func:`price_trend`); spread = max(MIN_SPREAD, 1.4826 × median absolute deviation of
    those detrended log prices) × sqrt(1 + LEVEL_UNCERTAINTY_SALES / n).
    """
    today = today or sales[-1].sold_on
    slope = price_trend(sales)
    logs = [math.log(float(s.price)) + slope * (today - s.sold_on).days for s in sales[-RECENT_LEVEL_SALES:]]
    centre = statistics.median(logs)
    mad = statistics.median([abs(x - centre) for x in logs])
    return math.exp(centre), max(MIN_SPREAD, 1.4826 * mad) * math.sqrt(
        1 + LEVEL_UNCERTAINTY_SALES / len(sales)
    )


def weekly_units(sales: Sequence[Sale], demand: DemandEstimate | None, window_days: int) -> float:
    """Expected buyers per week for the product/size: forecast, else recent sales rate, else 0.25."""
    if demand is not None and demand.weekly_units is not None and float(demand.weekly_units) > 0:
        return float(demand.weekly_units)
    if sales:
        return len(sales) * 7 / window_days
    return DEFAULT_WEEKLY_UNITS


def expected_days_to_sell(
    price: Decimal,
    sales: Sequence[Sale],
    snapshot: MarketSnapshot | None,
    demand: DemandEstimate | None,
    window_days: int,
    today: date | None = None,
) -> int:
    """ceil(7 / (weekly units × acceptance)), capped at 365; 1 at or below the highest bid."""
    if snapshot is not None and snapshot.highest_bid is not None and price <= snapshot.highest_bid:
        return BID_DAYS
    units = weekly_units(sales, demand, window_days)
    rate = SPEED * math.sqrt(units) * acceptance(price, sales, snapshot, demand, today)[0]
    return min(MAX_DAYS, max(1, math.ceil(7 / rate - 1e-9)))


def sell_probability(days: int, horizon_days: int) -> float:
    """Chance of a sale within ``horizon_days`` when one is expected every ``days`` (Poisson)."""
    return 1 - math.exp(-horizon_days / days)


def round_up(price: Decimal, mode: str) -> Decimal:
    """The smallest price ≥ ``price`` allowed by the rounding mode."""
    price = price.quantize(CENT, rounding=ROUND_CEILING)
    if mode == "cent":
        return price
    if mode == "whole":
        return price.to_integral_value(rounding=ROUND_CEILING).quantize(CENT)
    if mode == "charm_99":
        whole = (price - Decimal("0.99")).to_integral_value(rounding=ROUND_CEILING)
        return (whole + Decimal("0.99")).quantize(CENT)
    if mode == "five":
        return ((price / 5).to_integral_value(rounding=ROUND_CEILING) * 5).quantize(CENT)
    raise ValueError(f"unknown rounding mode {mode!r}")


def _money(x: Decimal | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def _profile(
    platform: PlatformRules, pair: PairInStock, fx: Mapping[tuple[str, str], Decimal]
) -> SellerProfile:
    profile = platform.profile({src: rate for (src, dst), rate in fx.items() if dst == platform.currency})
    if pair.category and platform.category is None:
        profile = replace(profile, category=pair.category)
    return profile


def recommend_for_platform(
    pair: PairInStock,
    snapshot: MarketSnapshot | None,
    demand: DemandEstimate | None,
    schedules: list[FeeSchedule],
    platform: PlatformRules,
    rules: PricingRules,
    today: date,
    fx_rates: Mapping[tuple[str, str], Decimal] | None = None,
) -> Recommendation:
    """The recommendation for one platform; raises FeeError/ValueError when it cannot price."""
    fx = dict(fx_rates or {})
    profile = _profile(platform, pair, fx)
    cur = platform.currency
    if snapshot is not None and snapshot.currency != cur:
        raise ValueError(f"market data in {snapshot.currency}, platform lists in {cur}")
    cost = to_cents(pair.cost)
    if pair.currency != cur:
        rate = fx.get((pair.currency, cur))
        if rate is None:
            raise ValueError(
                f"cost in {pair.currency}, platform lists in {cur}: no FX rate {pair.currency}->{cur}"
            )
        cost = to_cents(pair.cost * Decimal(rate))
    age = (today - pair.purchase_date).days
    clearance = rules.clearance_after_days is not None and age >= rules.clearance_after_days
    if clearance:
        recover = 100 - rules.clearance_max_loss_pct
        floor_target_pct = recover - 100  # min margin (negative) relative to cost
        floor_basis = f"clearance after {age} days: recover at least {recover:g} % of cost"
    else:
        floor_target_pct = rules.min_margin_pct
        floor_basis = f"cost + {rules.min_margin_pct:g} % min margin"
    target = to_cents(cost * (1 + floor_target_pct / 100))
    floor = break_even_price(cost, schedules, profile, today, floor_target_pct)

    window = rules.recent_sales_days
    sales = recent_sales(snapshot, today, window)
    reference, reference_kind = market_reference(sales, snapshot, demand)
    bound = None
    if reference is not None:
        bound = (reference * (1 - rules.max_discount_pct / 100)).quantize(CENT, rounding=ROUND_CEILING)
    lower = max(floor, bound) if bound is not None else floor

    raw: list[Decimal] = [lower]
    if snapshot is not None:
        raw += [x for x in (snapshot.highest_bid, snapshot.lowest_ask) if x is not None]
        if snapshot.lowest_ask is not None:
            raw.append(snapshot.lowest_ask - CENT)
    raw += [s.price for s in sales]
    if sales:
        raw.append(Decimal(str(statistics.median([s.price for s in sales]))))
    if len(sales) >= MIN_SALES_FOR_DISTRIBUTION:  # a grid around the trend-adjusted level
        level = Decimal(str(sales_price_level(sales, today)[0]))
        raw += [to_cents(level * (1 + Decimal(step) / 100)) for step in LEVEL_GRID_PCT]
    if demand is not None:
        raw += [
            _d(x) for x in (demand.price_point, demand.price_lower_80, demand.price_upper_80) if x is not None
        ]

    options: dict[Decimal, tuple[int, FeeBreakdown, Decimal, Decimal]] = {}
    for candidate in raw:
        price = round_up(max(Decimal(candidate), lower), rules.rounding)
        fees = fee_breakdown(price, schedules, profile, today)
        steps = 0
        while fees.net_payout < target:  # rounding or a fee step: move up until the payout holds
            price = round_up(price + CENT, rules.rounding)
            fees = fee_breakdown(price, schedules, profile, today)
            steps += 1
            if steps > 10000:
                raise FeeError(f"no price above {lower} pays out {target}")
        if price in options:
            continue
        days = expected_days_to_sell(price, sales, snapshot, demand, window, today)
        holding = to_cents(cost * rules.holding_cost_pct_per_month / 100 * Decimal(days) / 30)
        profit = fees.net_payout - cost - holding
        options[price] = (days, fees, holding, profit)

    def pick_key(item):
        price, (days, _fees, _holding, profit) = item
        if clearance:
            return (days, -profit, price)
        score = Decimal(str(sell_probability(days, rules.target_days_to_sell))) * profit
        return (-to_cents(score), days, price)

    price, (days, fees, holding, profit) = min(options.items(), key=pick_key)
    loss = -profit if clearance and profit < 0 else None
    prob = sell_probability(days, rules.target_days_to_sell)

    name = PLATFORM_NAMES.get(platform.platform, platform.platform)
    market_bits = [
        f"lowest ask {_money(snapshot.lowest_ask if snapshot else None)}",
        f"highest bid {_money(snapshot.highest_bid if snapshot else None)}",
    ]
    if sales:
        median = to_cents(Decimal(str(statistics.median([s.price for s in sales]))))
        market_bits.append(f"{len(sales)} sales in {window} days at median {median:.2f}")
    else:
        market_bits.append(f"no sales in {window} days")
    if demand is not None and demand.weekly_units is not None:
        market_bits.append(
            f"forecast {float(demand.weekly_units):g}/week at {_money(_d(demand.price_point))}"
        )
    parts = [
        f"{name}: list at {price:.2f} {cur} ({', '.join(market_bits)})",
        f"fees {fees.describe()}",
        f"payout {fees.net_payout:.2f}",
        f"cost {cost:.2f}",
        f"holding {holding:.2f} for {days} expected days",
        f"profit {profit:.2f}",
        f"floor {floor:.2f} ({floor_basis})",
    ]
    if bound is not None:
        parts.append(
            f"max discount {rules.max_discount_pct:g} % below {reference_kind} {reference:.2f} = {bound:.2f}"
        )
    parts.append(
        f"age {age} days; rounding {rules.rounding}; {prob:.0%} chance to sell in {rules.target_days_to_sell} days"
    )
    if clearance:
        parts.append(
            f"CLEARANCE: expected loss {loss:.2f}" if loss is not None else "CLEARANCE: no loss expected"
        )
    return Recommendation(
        platform=platform.platform,
        currency=cur,
        list_price=price,
        floor=floor,
        floor_basis=floor_basis,
        expected_days_to_sell=days,
        sell_probability=prob,
        fees=fees,
        expected_payout=fees.net_payout,
        cost=cost,
        holding_cost=holding,
        expected_profit=profit,
        clearance=clearance,
        clearance_loss=loss,
        market_reference=reference,
        discount_bound=bound,
        reason="; ".join(parts),
    )


def recommend(
    pair: PairInStock,
    market: Mapping[str, MarketSnapshot] | Iterable[MarketSnapshot],
    demand: DemandEstimate | None,
    schedules: list[FeeSchedule],
    rules: PricingRules,
    today: date,
    fx_rates: Mapping[tuple[str, str], Decimal] | None = None,
) -> PricingResult:
    """A recommendation per enabled platform and the best one (see the module docstring).

    ``market``: snapshots by platform key (or a list of them); a platform without one is priced
    from the forecast alone. ``fx_rates``: ``{(from, to): rate}`` for costs or fixed fees in another
    currency. Platforms that cannot be priced are listed in ``skipped`` with the reason.
    """
    if not isinstance(market, Mapping):
        market = {s.platform: s for s in market}
    recs, skipped = [], []
    for platform in rules.enabled_platforms():
        try:
            recs.append(
                recommend_for_platform(
                    pair, market.get(platform.platform), demand, schedules, platform, rules, today, fx_rates
                )
            )
        except (FeeError, ValueError) as exc:
            skipped.append(f"{platform.platform}: {exc}")
    best = None
    if recs:
        currencies = {r.currency for r in recs}

        def key(r: Recommendation):
            if r.clearance:
                return (r.expected_days_to_sell, -r.expected_profit, r.platform)
            score = to_cents(Decimal(str(r.sell_probability)) * r.expected_profit)
            return (-score, r.expected_days_to_sell, r.platform)

        if len(currencies) == 1:
            best = min(recs, key=key)
        else:
            best = min((r for r in recs if r.currency == rules.home_currency), key=key, default=None)
    return PricingResult(pair=pair, best=best, recommendations=tuple(recs), skipped=tuple(skipped))
