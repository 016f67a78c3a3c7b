"""List-price recommendations for the pairs in stock and the pricing backtest, as Dagster assets
(group ``pricing``).

Thin on purpose: the pricing itself is :mod:`soleflipper.pricing` (fees from
``core.platform_fee_schedules``, the reseller's rules YAML, ``recommend``, the replay); this module
gathers its inputs from the warehouse and writes Python-owned tables of the ``analytics`` schema:

* ``analytics.pricing_recommendations``: one row per pair in stock (``products.inventory_items``
  with status in_stock or listed) × enabled platform, ``recommended`` marking the platform to
  list on. Replaced as a whole in one transaction per run.
* ``analytics.pricing_backtest``: the pricing replay (:func:`soleflipper.pricing.replay.replay`)
  on the warehouse's market sales history, summarised per strategy. Replaced per run.

Inputs per pair: the market snapshot of its variant (newest StockX market data on or before the
pricing day: lowest ask, highest bid; ``staging.stg_stockx__market_data`` through
``products.dim_variants``), its variant's market sales of the last ``recent_sales_days``
(``transactions.fct_market_sales``, StockX only), the demand estimate from
``analytics.demand_forecasts`` (the product × size series, else the product's; mean of the next 4 weeks),
fee schedules (``core.platform_fee_schedules``) and the rules file (``SOLEFLIPPER_PRICING_RULES``,
else ``soleflipper/pricing/default_rules.yaml``). Amounts in other currencies are converted with
the newest ECB rate on or before the pricing day (``core.fx_rates_daily``); market data that
cannot be converted is left out and named in the reason.
"""

import os
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import dagster as dg
import pandas as pd
import psycopg
from psycopg import sql

from assets.forecasting import DEMAND_FORECASTS
from resources.warehouse import WarehouseResource

GROUP = "pricing"
PRICING_RECOMMENDATIONS = dg.AssetKey(["analytics", "pricing_recommendations"])
PRICING_BACKTEST = dg.AssetKey(["analytics", "pricing_backtest"])
AS_OF_ENV = "SOLEFLIPPER_PRICING_AS_OF"
IN_STOCK = ("in_stock", "listed")
CENT = Decimal("0.01")

RECOMMENDATIONS_DDL = """
create schema if not exists analytics;
create table if not exists analytics.pricing_recommendations (
    inventory_item_id text not null,
    platform text not null,
    recommended boolean not null,
    product_key text,
    variant_key text,
    style_code text,
    product_name text,
    size_label text,
    current_status text not null,
    purchase_date date,
    days_in_stock integer,
    currency text not null,
    list_price numeric(14, 2) not null,
    floor numeric(14, 2) not null,
    floor_basis text not null,
    expected_days_to_sell integer not null,
    sell_probability double precision not null,
    expected_fees numeric(14, 2) not null,
    expected_payout numeric(14, 2) not null,
    cost numeric(14, 2) not null,
    holding_cost numeric(14, 2) not null,
    expected_profit numeric(14, 2) not null,
    clearance boolean not null,
    loss numeric(14, 2),
    market_reference numeric(14, 2),
    lowest_ask numeric(14, 2),
    highest_bid numeric(14, 2),
    recent_sales integer not null,
    demand_level text,
    demand_weekly_units double precision,
    reason text not null,
    priced_on date not null,
    computed_at timestamptz not null,
    run_id text,
    primary key (inventory_item_id, platform)
);
comment on table analytics.pricing_recommendations is
    'List-price recommendation per pair in stock and platform (recommended = where to list), every amount '
    'in currency. Written by the Dagster asset analytics/pricing_recommendations (assets/pricing.py).';
"""

BACKTEST_DDL = """
create schema if not exists analytics;
create table if not exists analytics.pricing_backtest (
    strategy text not null primary key,
    pairs integer not null,
    sold_within_7_rate double precision,
    sold_within_30_rate double precision,
    median_days_to_sell double precision,
    mean_list_price numeric(14, 2),
    realised_margin double precision,
    profit_per_pair_sold numeric(14, 2),
    profit_per_pair_offered numeric(14, 2),
    below_min_margin integer,
    below_cost integer,
    below_own_floor integer,
    currency text not null,
    series integer not null,
    first_replay_date date,
    last_replay_date date,
    dataset text not null,
    computed_at timestamptz not null,
    run_id text
);
comment on table analytics.pricing_backtest is
    'Pricing replay on the market sales history, per strategy (recommended vs the original market-based '
    'rule). Written by the Dagster asset analytics/pricing_backtest (assets/pricing.py), replaced per run.';
"""

BACKTEST_COLUMNS = ["strategy", "pairs", "sold_within_7_rate", "sold_within_30_rate", "median_days_to_sell",
                    "mean_list_price", "realised_margin", "profit_per_pair_sold", "profit_per_pair_offered",
                    "below_min_margin", "below_cost", "below_own_floor"]


def ensure_pricing_tables(conn: psycopg.Connection) -> None:
    """Create the two pricing tables when missing (DDL only then)."""
    with conn.transaction():
        present = conn.execute(
            "select to_regclass('analytics.pricing_recommendations') is not null"
            " and to_regclass('analytics.pricing_backtest') is not null").fetchone()[0]
        if not present:
            conn.execute("select pg_advisory_xact_lock(hashtext('analytics ddl'))")
            conn.execute(RECOMMENDATIONS_DDL)
            conn.execute(BACKTEST_DDL)


def _exists(conn: psycopg.Connection, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


# --------------------------------------------------------------------------- FX


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
    if not _exists(conn, "core.fx_rates_daily"):
        return FxRates()
    rows = conn.execute(
        "select distinct on (currency) currency, home_per_unit, home_currency from core.fx_rates_daily"
        " where rate_date <= %s and home_per_unit is not null order by currency, rate_date desc", (on,)).fetchall()
    rates = {currency: Decimal(str(rate)) for currency, rate, _ in rows}
    for _, _, home in rows:
        rates.setdefault(home, Decimal(1))
    return FxRates(rates)


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class StockPair:
    inventory_item_id: str
    product_key: str | None
    variant_key: str | None
    style_code: str | None
    product_name: str | None
    size_label: str | None
    current_status: str
    purchase_date: date | None
    cost: Decimal | None
    cost_currency: str | None


def load_pairs_in_stock(conn: psycopg.Connection) -> list[StockPair]:
    """Every pair in stock (status in_stock or listed) with its net cost (the cost in unit economics)."""
    rows = conn.execute(
        "select inventory_item_id, product_key, variant_key, style_code, product_name, size_label, current_status,"
        " coalesce(purchase_date, (purchased_at at time zone 'UTC')::date), net_cost_amount, net_cost_currency"
        " from products.inventory_items where current_status = any(%s) order by inventory_item_id",
        (list(IN_STOCK),)).fetchall()
    return [StockPair(*row) for row in rows]


@dataclass(frozen=True)
class Snapshot:
    currency: str
    lowest_ask: Decimal | None
    highest_bid: Decimal | None
    snapshot_date: date


def load_market_snapshots(conn: psycopg.Connection, variant_keys: Iterable[str], on: date) -> dict[str, list[Snapshot]]:
    """StockX market data per variant key: the newest snapshot on or before ``on``, per currency."""
    keys = sorted({k for k in variant_keys if k})
    if not keys or not (_exists(conn, "staging.stg_stockx__market_data") and _exists(conn, "products.dim_variants")):
        return {}
    rows = conn.execute(
        "select distinct on (v.variant_key, m.currency) v.variant_key, m.currency, m.lowest_ask_amount,"
        " m.highest_bid_amount, m.snapshot_date"
        " from staging.stg_stockx__market_data as m"
        " join products.dim_variants as v on v.stockx_variant_id = m.stockx_variant_id"
        " where v.variant_key = any(%s) and m.snapshot_date <= %s"
        " order by v.variant_key, m.currency, m.snapshot_date desc", (keys, on)).fetchall()
    out: dict[str, list[Snapshot]] = defaultdict(list)
    for key, currency, ask, bid, day in rows:
        out[key].append(Snapshot(currency, _dec(ask), _dec(bid), day))
    return out


def load_recent_market_sales(conn: psycopg.Connection, variant_keys: Iterable[str], on: date,
                             window_days: int) -> dict[str, list[tuple[date, Decimal, str]]]:
    """StockX market sales per variant key in the window before ``on``: (day, price, currency)."""
    keys = sorted({k for k in variant_keys if k})
    if not keys or not _exists(conn, "transactions.fct_market_sales"):
        return {}
    rows = conn.execute(
        "select variant_key, sale_date, price_amount, price_currency from transactions.fct_market_sales"
        " where platform = 'stockx' and variant_key = any(%s) and sale_date < %s and sale_date >= %s"
        " order by variant_key, sale_date, price_amount",
        (keys, on, on - timedelta(days=window_days))).fetchall()
    out: dict[str, list[tuple[date, Decimal, str]]] = defaultdict(list)
    for key, day, price, currency in rows:
        out[key].append((day, Decimal(str(price)), currency))
    return out


@dataclass(frozen=True)
class Demand:
    level: str
    weekly_units: float | None
    price_point: Decimal | None
    price_lower_80: Decimal | None
    price_upper_80: Decimal | None
    currency: str | None


DEMAND_WEEKS = 4  # the demand estimate is the mean of the forecasts for the next 4 weeks


def load_demand(conn: psycopg.Connection) -> dict[tuple[str, str], Demand]:
    """Demand per (level, series_id) from analytics.demand_forecasts: the mean weekly units and price
    (point and 80 % bounds) over the next ``DEMAND_WEEKS`` forecast weeks (all models stored for them)."""
    if not _exists(conn, "analytics.demand_forecasts"):
        return {}
    rows = conn.execute(
        "select level, series_id, target, avg(point), avg(lower_80), avg(upper_80), max(currency)"
        " from analytics.demand_forecasts where horizon_weeks <= %s group by 1, 2, 3", (DEMAND_WEEKS,)).fetchall()
    parts: dict[tuple[str, str], dict[str, tuple]] = defaultdict(dict)
    for level, series_id, target, point, lower, upper, currency in rows:
        parts[(level, series_id)][target] = (point, lower, upper, currency)
    out = {}
    for key, targets in parts.items():
        units = targets.get("units")
        price = targets.get("price", (None, None, None, None))
        out[key] = Demand(key[0], round(float(units[0]), 3) if units and units[0] is not None else None,
                          _money(_dec(price[0])), _money(_dec(price[1])), _money(_dec(price[2])), price[3])
    return out


def load_schedules(conn: psycopg.Connection) -> tuple[list, str]:
    """Fee schedules from core.platform_fee_schedules, else (not seeded yet) the seed CSV itself."""
    from soleflipper.pricing import load_fee_schedules, load_fee_schedules_csv

    if _exists(conn, "core.platform_fee_schedules"):
        cur = conn.execute("select * from core.platform_fee_schedules")
        names = [d.name for d in cur.description]
        return load_fee_schedules(dict(zip(names, row, strict=True)) for row in cur.fetchall()), \
            "core.platform_fee_schedules"
    return load_fee_schedules_csv(), "seed csv (core.platform_fee_schedules not built)"


# --------------------------------------------------------------------------- recommendations


def _money(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT)


def _demand_for(pair: StockPair, demand: Mapping[tuple[str, str], Demand]) -> Demand | None:
    if pair.variant_key and ("product_size", pair.variant_key) in demand:
        return demand[("product_size", pair.variant_key)]
    if pair.product_key and ("product", pair.product_key) in demand:
        return demand[("product", pair.product_key)]
    return None


def recommendation_rows(pairs: list[StockPair], snapshots: Mapping[str, list[Snapshot]],
                        recent: Mapping[str, list[tuple[date, Decimal, str]]],
                        demand: Mapping[tuple[str, str], Demand], schedules: list, rules, fx: FxRates,
                        today: date) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One row per pair × platform that could be priced (see module doc) and counts of what was not.

    Platforms are priced per listing currency (market data and the forecast's prices converted into
    it); the recommended platform is the library's best within one currency, across currencies the
    best in the home currency."""
    from soleflipper.pricing import DemandEstimate, MarketSnapshot, PairInStock, Sale, recommend

    platforms = rules.enabled_platforms()
    by_currency: dict[str, list] = defaultdict(list)
    for platform in platforms:
        by_currency[platform.currency].append(platform)
    fx_pairs = fx.pairs()
    rows: list[dict[str, Any]] = []
    stats = {"pairs": len(pairs), "pairs_without_cost": 0, "pairs_priced": 0, "skipped": defaultdict(int)}
    for pair in pairs:
        if pair.cost is None or pair.cost_currency is None or pair.purchase_date is None:
            stats["pairs_without_cost"] += 1
            continue
        stock = PairInStock(product=pair.product_name or pair.style_code or pair.inventory_item_id,
                            size=pair.size_label, cost=Decimal(str(pair.cost)), currency=pair.cost_currency,
                            purchase_date=pair.purchase_date, item_id=pair.inventory_item_id)
        found = _demand_for(pair, demand)
        results = []
        for currency, group in by_currency.items():
            market = {}
            notes = []
            for platform in group:
                if platform.platform != "stockx":
                    continue  # market data and market sales are StockX's
                snap = _snapshot_in(snapshots.get(pair.variant_key or "", []), currency, fx)
                sales = []
                for day, price, cur in recent.get(pair.variant_key or "", []):
                    converted = fx.convert(price, cur, currency)
                    if converted is None:
                        notes.append(f"market sale in {cur} without FX rate to {currency}")
                        continue
                    sales.append(Sale(day, converted.quantize(CENT)))
                market[platform.platform] = MarketSnapshot(
                    platform.platform, currency, lowest_ask=snap.lowest_ask if snap else None,
                    highest_bid=snap.highest_bid if snap else None, recent_sales=tuple(sales))
            estimate = None
            if found is not None:
                to = currency

                def conv(value: Decimal | None, src: str | None = found.currency, dst: str = to) -> Decimal | None:
                    return None if value is None or src is None else fx.convert(value, src, dst)

                estimate = DemandEstimate(weekly_units=found.weekly_units, price_point=conv(found.price_point),
                                          price_lower_80=conv(found.price_lower_80),
                                          price_upper_80=conv(found.price_upper_80))
            group_rules = rules.with_changes(platforms=tuple(
                replace(p, enabled=p in group) for p in rules.platforms))
            result = recommend(stock, market, estimate, schedules, group_rules, today, fx_pairs)
            for reason in result.skipped:
                stats["skipped"][reason.split(":", 1)[0]] += 1
            results.append((currency, result, market, notes))
        best = _best_across_currencies(results, rules.home_currency)
        for _currency, result, market, notes in results:
            for rec in result.recommendations:
                snap = market.get(rec.platform)
                rows.append(_row(pair, rec, rec is best, snap, found, notes, today))
        if any(r for _, r, _, _ in results if r.recommendations):
            stats["pairs_priced"] += 1
    stats["skipped"] = dict(stats["skipped"])
    return rows, stats


def _snapshot_in(snapshots: list[Snapshot], currency: str, fx: FxRates) -> Snapshot | None:
    """The snapshot in ``currency``, else the newest other one converted into it (None: no rate)."""
    for snap in snapshots:
        if snap.currency == currency:
            return snap
    for snap in sorted(snapshots, key=lambda s: s.snapshot_date, reverse=True):
        ask, bid = fx.convert(snap.lowest_ask, snap.currency, currency), fx.convert(snap.highest_bid, snap.currency,
                                                                                   currency)
        if (ask is not None or snap.lowest_ask is None) and (bid is not None or snap.highest_bid is None):
            return Snapshot(currency, _money(ask), _money(bid), snap.snapshot_date)
    return None


def _best_across_currencies(results, home_currency: str):
    bests = [(currency, r.best) for currency, r, _, _ in results if r.best is not None]
    if not bests:
        return None
    if len(bests) == 1:
        return bests[0][1]
    home = [best for currency, best in bests if currency == home_currency]
    return home[0] if home else bests[0][1]


def _row(pair: StockPair, rec, recommended: bool, snap, demand: Demand | None, notes: list[str],
         today: date) -> dict[str, Any]:
    reason = rec.reason + ("; " + "; ".join(sorted(set(notes))) if notes else "")
    if demand is not None:
        reason += f"; demand from the {demand.level.replace('_', ' x ')} forecast"
    return {
        "inventory_item_id": pair.inventory_item_id,
        "platform": rec.platform,
        "recommended": recommended,
        "product_key": pair.product_key,
        "variant_key": pair.variant_key,
        "style_code": pair.style_code,
        "product_name": pair.product_name,
        "size_label": pair.size_label,
        "current_status": pair.current_status,
        "purchase_date": pair.purchase_date,
        "days_in_stock": (today - pair.purchase_date).days if pair.purchase_date else None,
        "currency": rec.currency,
        "list_price": _money(rec.list_price),
        "floor": _money(rec.floor),
        "floor_basis": rec.floor_basis,
        "expected_days_to_sell": int(rec.expected_days_to_sell),
        "sell_probability": float(rec.sell_probability),
        "expected_fees": _money(rec.fees.total_fees),
        "expected_payout": _money(rec.expected_payout),
        "cost": _money(rec.cost),
        "holding_cost": _money(rec.holding_cost),
        "expected_profit": _money(rec.expected_profit),
        "clearance": bool(rec.clearance),
        "loss": _money(rec.clearance_loss),
        "market_reference": _money(rec.market_reference),
        "lowest_ask": _money(snap.lowest_ask) if snap else None,
        "highest_bid": _money(snap.highest_bid) if snap else None,
        "recent_sales": len(snap.recent_sales) if snap else 0,
        "demand_level": demand.level if demand else None,
        "demand_weekly_units": demand.weekly_units if demand else None,
        "reason": reason,
        "priced_on": today,
    }


RECOMMENDATION_COLUMNS = [
    "inventory_item_id", "platform", "recommended", "product_key", "variant_key", "style_code", "product_name",
    "size_label", "current_status", "purchase_date", "days_in_stock", "currency", "list_price", "floor",
    "floor_basis", "expected_days_to_sell", "sell_probability", "expected_fees", "expected_payout", "cost",
    "holding_cost", "expected_profit", "clearance", "loss", "market_reference", "lowest_ask", "highest_bid",
    "recent_sales", "demand_level", "demand_weekly_units", "reason", "priced_on",
]


def replace_recommendations(conn: psycopg.Connection, rows: list[dict[str, Any]], computed_at: datetime,
                            run_id: str | None) -> int:
    """Replace analytics.pricing_recommendations with ``rows`` in one transaction."""
    ensure_pricing_tables(conn)
    columns = [*RECOMMENDATION_COLUMNS, "computed_at", "run_id"]
    with conn.transaction():
        conn.execute("lock table analytics.pricing_recommendations in exclusive mode")
        conn.execute("delete from analytics.pricing_recommendations")
        with conn.cursor().copy(sql.SQL("copy analytics.pricing_recommendations ({}) from stdin").format(
                sql.SQL(", ").join(map(sql.Identifier, columns)))) as copy:
            for row in rows:
                copy.write_row([*(row[c] for c in RECOMMENDATION_COLUMNS), computed_at, run_id])
    return len(rows)


def pricing_day(as_of: str | None = None) -> date:
    """The day prices are for: ``as_of`` (ISO), else $SOLEFLIPPER_PRICING_AS_OF, else today (UTC)."""
    text = (as_of or os.environ.get(AS_OF_ENV) or "").strip()
    return date.fromisoformat(text) if text else datetime.now(UTC).date()


# --------------------------------------------------------------------------- backtest


def load_replay_sales(conn: psycopg.Connection, max_series: int) -> tuple[list, str | None, int]:
    """Market sales with a retail price as replay rows (cost = retail), for the ``max_series`` product × size
    series with the most sales; release date = the file's, else the series' first sale."""
    from soleflipper.pricing.replay import ContestSale

    if not _exists(conn, "transactions.fct_market_sales"):
        return [], None, 0
    rows = conn.execute(
        "with priced as (select product_series_key, size_system || ' ' || size_value as size, sale_date,"
        " price_amount, retail_price_amount, release_date, price_currency from transactions.fct_market_sales"
        " where retail_price_amount is not null and size_system is not null and platform = 'stockx'),"
        " currency as (select price_currency from priced group by 1 order by count(*) desc, 1 limit 1),"
        " ranked as (select product_series_key, size, count(*) as n, min(sale_date) as first_sale,"
        " min(release_date) as release from priced where price_currency = (select price_currency from currency)"
        " group by 1, 2 order by n desc, 1, 2 limit %s)"
        " select p.product_series_key, p.size, p.sale_date, p.price_amount, p.retail_price_amount,"
        " coalesce(r.release, r.first_sale), p.price_currency"
        " from priced as p join ranked as r using (product_series_key, size)"
        " where p.price_currency = (select price_currency from currency)"
        " order by 1, 2, 3, 4", (max_series,)).fetchall()
    sales = [ContestSale(order_date=day, product=key, size=size, price=Decimal(str(price)),
                         retail=Decimal(str(retail)), release_date=release)
             for key, size, day, price, retail, release, _ in rows]
    currency = rows[0][6] if rows else None
    series = len({(s.product, s.size) for s in sales})
    return sales, currency, series


def replace_pricing_backtest(conn: psycopg.Connection, summary: pd.DataFrame, currency: str, series: int,
                             first: date | None, last: date | None, dataset: str, computed_at: datetime,
                             run_id: str | None) -> int:
    ensure_pricing_tables(conn)
    with conn.transaction():
        conn.execute("lock table analytics.pricing_backtest in exclusive mode")
        conn.execute("delete from analytics.pricing_backtest")
        with conn.cursor() as cur:
            for r in summary.to_dict("records"):
                values = [None if pd.isna(r.get(c)) else r.get(c) for c in BACKTEST_COLUMNS]
                cur.execute(
                    sql.SQL("insert into analytics.pricing_backtest ({}, currency, series, first_replay_date,"
                            " last_replay_date, dataset, computed_at, run_id) values ({}, %s, %s, %s, %s, %s, %s, %s)")
                    .format(sql.SQL(", ").join(map(sql.Identifier, BACKTEST_COLUMNS)),
                            sql.SQL(", ").join(sql.Placeholder() * len(BACKTEST_COLUMNS))),
                    [*values, currency, series, first, last, dataset, computed_at, run_id])
    return len(summary)


def backtest_markdown(summary: pd.DataFrame) -> str:
    lines = ["| strategy | pairs | sold ≤ 7 d | sold ≤ 30 d | median days | mean list price | margin "
             "| profit / pair sold | below min margin | below cost |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in summary.to_dict("records"):
        def pct(x):
            return "-" if x is None or pd.isna(x) else f"{100 * float(x):.1f} %"

        def num(x):
            return "-" if x is None or pd.isna(x) else f"{x}"

        lines.append(f"| {r['strategy']} | {r['pairs']} | {pct(r['sold_within_7_rate'])} "
                     f"| {pct(r['sold_within_30_rate'])} | {num(r['median_days_to_sell'])} "
                     f"| {num(r['mean_list_price'])} | {pct(r['realised_margin'])} "
                     f"| {num(r['profit_per_pair_sold'])} | {r['below_min_margin']} | {r['below_cost']} |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- assets


class PricingConfig(dg.Config):
    rules_path: str = ""
    """Pricing rules YAML; empty: $SOLEFLIPPER_PRICING_RULES, else soleflipper/pricing/default_rules.yaml."""
    as_of: str = ""
    """Day to price for (YYYY-MM-DD); empty: $SOLEFLIPPER_PRICING_AS_OF, else today (UTC)."""


class PricingBacktestConfig(dg.Config):
    max_series: int = 20
    """Replay the product x size series with the most market sales (each series is replayed weekly;
    ~0.3 s per series and year of history)."""
    step_days: int = 7
    horizon_days: int = 30
    warmup_days: int = 30


@dg.asset(
    key=PRICING_RECOMMENDATIONS,
    group_name=GROUP,
    deps=[dg.AssetKey(["products", "inventory_items"]), dg.AssetKey(["products", "dim_variants"]),
          dg.AssetKey(["staging", "stg_stockx__market_data"]), dg.AssetKey(["transactions", "fct_market_sales"]),
          DEMAND_FORECASTS, dg.AssetKey(["core", "platform_fee_schedules"]), dg.AssetKey(["core", "fx_rates_daily"])],
    kinds={"python", "postgres"},
    description="List price, floor, expected days to sell, payout and profit for every pair in stock on every "
                "enabled platform (pricing rules YAML), the recommended platform flagged; "
                "analytics.pricing_recommendations, replaced in one transaction per run.",
    metadata={"dagster/table_name": "analytics.pricing_recommendations"},
)
def pricing_recommendations(context: dg.AssetExecutionContext, config: PricingConfig,
                            warehouse: WarehouseResource) -> dg.MaterializeResult:
    from soleflipper.pricing import PricingRulesError, load_rules

    try:
        rules = load_rules(config.rules_path or None)
    except PricingRulesError as exc:
        raise dg.Failure(description=str(exc)) from None
    today = pricing_day(config.as_of or None)
    with warehouse.connect() as conn:
        pairs = load_pairs_in_stock(conn) if _exists(conn, "products.inventory_items") else []
        variant_keys = [p.variant_key for p in pairs if p.variant_key]
        snapshots = load_market_snapshots(conn, variant_keys, today)
        recent = load_recent_market_sales(conn, variant_keys, today, rules.recent_sales_days)
        demand = load_demand(conn)
        schedules, schedules_source = load_schedules(conn)
        fx = load_fx(conn, today)
        rows, stats = recommendation_rows(pairs, snapshots, recent, demand, schedules, rules, fx, today)
        written = replace_recommendations(conn, rows, datetime.now(UTC), context.run.run_id)
    best = [r for r in rows if r["recommended"]]
    context.log.info(f"{stats['pairs']} pairs in stock, {stats['pairs_priced']} priced, {written} rows "
                     f"(priced on {today}, rules {rules.source})")
    top = sorted(best, key=lambda r: r["expected_profit"], reverse=True)[:10]
    table = ["| pair | size | platform | list price | floor | days | profit | clearance |",
             "|---|---|---|---:|---:|---:|---:|---|"]
    table += [f"| {r['product_name']} | {r['size_label'] or '-'} | {r['platform']} | {r['list_price']} {r['currency']} "
              f"| {r['floor']} | {r['expected_days_to_sell']} | {r['expected_profit']} | {'yes' if r['clearance'] else ''} |"
              for r in top]
    return dg.MaterializeResult(metadata={
        "rows": written,
        "pairs_in_stock": stats["pairs"],
        "pairs_priced": stats["pairs_priced"],
        "pairs_without_cost": stats["pairs_without_cost"],
        "platforms_skipped": ", ".join(f"{k}: {v}" for k, v in sorted(stats["skipped"].items())) or "none",
        "clearance_pairs": sum(1 for r in best if r["clearance"]),
        "with_market_sales": sum(1 for r in best if r["recent_sales"]),
        "with_forecast": sum(1 for r in best if r["demand_level"]),
        "priced_on": str(today),
        "rules": rules.source,
        "fee_schedules": schedules_source,
        "top_recommendations": dg.MetadataValue.md("\n".join(table) if top else "no pairs in stock"),
        "dagster/row_count": written,
    })


@dg.asset(
    key=PRICING_BACKTEST,
    group_name=GROUP,
    deps=[dg.AssetKey(["transactions", "fct_market_sales"]), dg.AssetKey(["core", "platform_fee_schedules"])],
    kinds={"python", "postgres"},
    description="Pricing replay on the warehouse's market sales history (series with a retail price): the "
                "recommended rule vs the original market-based rule, sell-through within 7 / 30 days and "
                "realised margin; analytics.pricing_backtest, replaced per run.",
    metadata={"dagster/table_name": "analytics.pricing_backtest"},
)
def pricing_backtest(context: dg.AssetExecutionContext, config: PricingBacktestConfig,
                     warehouse: WarehouseResource) -> dg.MaterializeResult:
    from soleflipper.pricing.replay import ReplayConfig, replay, summarize

    with warehouse.connect() as conn:
        sales, currency, series = load_replay_sales(conn, config.max_series)
        schedules, schedules_source = load_schedules(conn)
        defaults = ReplayConfig()
        rules = defaults.rules
        if currency and currency != rules.home_currency:
            rules = rules.with_changes(home_currency=currency,
                                       platforms=tuple(replace(p, currency=currency) for p in rules.platforms))
        replay_config = replace(defaults, rules=rules, step_days=config.step_days, horizon_days=config.horizon_days,
                                warmup_days=config.warmup_days)
        context.log.info(f"replaying {series} series ({len(sales)} market sales with a retail price)")
        results = replay(sales, replay_config, schedules) if sales else pd.DataFrame()
        summary = summarize(results) if len(results) else pd.DataFrame(columns=BACKTEST_COLUMNS)
        first = results["replay_date"].min() if len(results) else None
        last = results["replay_date"].max() if len(results) else None
        written = replace_pricing_backtest(conn, summary, currency or "-", series, first, last, "warehouse",
                                           datetime.now(UTC), context.run.run_id)
    return dg.MaterializeResult(metadata={
        "rows": written,
        "series": series,
        "market_sales": len(sales),
        "replayed_pairs": len(results) // 2 if len(results) else 0,
        "currency": currency or "-",
        "fee_schedules": schedules_source,
        "summary": dg.MetadataValue.md(backtest_markdown(summary) if len(summary) else "no series with a retail price"),
        "dagster/row_count": written,
    })


@dg.asset_check(asset=PRICING_RECOMMENDATIONS, description="No recommendation lists below its floor unless the "
                "pair is in clearance, and every priced pair has exactly one recommended platform.")
def recommendations_respect_floor(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        ensure_pricing_tables(conn)
        rows, below, pairs, not_one = conn.execute(
            "select (select count(*) from analytics.pricing_recommendations),"
            " (select count(*) from analytics.pricing_recommendations where list_price < floor and not clearance),"
            " (select count(distinct inventory_item_id) from analytics.pricing_recommendations),"
            " (select count(*) from (select inventory_item_id from analytics.pricing_recommendations"
            "  group by 1 having count(*) filter (where recommended) <> 1) as x)").fetchone()
    return dg.AssetCheckResult(passed=below == 0 and not_one == 0,
                               metadata={"rows": rows, "pairs": pairs, "below_floor_without_clearance": below,
                                         "pairs_without_exactly_one_recommendation": not_one})


pricing_assets = [pricing_recommendations, pricing_backtest]
pricing_checks = [recommendations_respect_floor]
