"""The pricing assets' warehouse inputs: pairs in stock, StockX market snapshots and recent market
sales per variant, demand from analytics.demand_forecasts, fee schedules, and the market sales the
pricing replay runs on."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import psycopg

from soleflipper.money import decimal_or_none, to_cents
from soleflipper.warehouse_inputs.fx import FxRates, load_fx
from soleflipper.warehouse_tables.relations import relation_exists

IN_STOCK = ("in_stock", "listed")


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
    if not relation_exists(conn, "products.inventory_items"):
        return []
    rows = conn.execute(
        "select inventory_item_id, product_key, variant_key, style_code, product_name, size_label, current_status,"
        " coalesce(purchase_date, (purchased_at at time zone 'UTC')::date), net_cost_amount, net_cost_currency"
        " from products.inventory_items where current_status = any(%s) order by inventory_item_id",
        (list(IN_STOCK),),
    ).fetchall()
    return [StockPair(*row) for row in rows]


@dataclass(frozen=True)
class Snapshot:
    currency: str
    lowest_ask: Decimal | None
    highest_bid: Decimal | None
    snapshot_date: date


def load_market_snapshots(
    conn: psycopg.Connection, variant_keys: Iterable[str], on: date
) -> dict[str, list[Snapshot]]:
    """StockX market data per variant key: the newest snapshot on or before ``on``, per currency."""
    keys = sorted({k for k in variant_keys if k})
    if not keys or not (
        relation_exists(conn, "staging.stg_stockx__market_data")
        and relation_exists(conn, "products.dim_variants")
    ):
        return {}
    rows = conn.execute(
        "select distinct on (v.variant_key, m.currency) v.variant_key, m.currency, m.lowest_ask_amount,"
        " m.highest_bid_amount, m.snapshot_date"
        " from staging.stg_stockx__market_data as m"
        " join products.dim_variants as v on v.stockx_variant_id = m.stockx_variant_id"
        " where v.variant_key = any(%s) and m.snapshot_date <= %s"
        " order by v.variant_key, m.currency, m.snapshot_date desc",
        (keys, on),
    ).fetchall()
    out: dict[str, list[Snapshot]] = defaultdict(list)
    for key, currency, ask, bid, day in rows:
        out[key].append(Snapshot(currency, decimal_or_none(ask), decimal_or_none(bid), day))
    return out


def load_recent_market_sales(
    conn: psycopg.Connection, variant_keys: Iterable[str], on: date, window_days: int
) -> dict[str, list[tuple[date, Decimal, str]]]:
    """StockX market sales per variant key in the window before ``on``: (day, price, currency)."""
    keys = sorted({k for k in variant_keys if k})
    if not keys or not relation_exists(conn, "transactions.fct_market_sales"):
        return {}
    rows = conn.execute(
        "select variant_key, sale_date, price_amount, price_currency from transactions.fct_market_sales"
        " where platform = 'stockx' and variant_key = any(%s) and sale_date < %s and sale_date >= %s"
        " order by variant_key, sale_date, price_amount",
        (keys, on, on - timedelta(days=window_days)),
    ).fetchall()
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
    if not relation_exists(conn, "analytics.demand_forecasts"):
        return {}
    rows = conn.execute(
        "select level, series_id, target, avg(point), avg(lower_80), avg(upper_80), max(currency)"
        " from analytics.demand_forecasts where horizon_weeks <= %s group by 1, 2, 3",
        (DEMAND_WEEKS,),
    ).fetchall()
    parts: dict[tuple[str, str], dict[str, tuple]] = defaultdict(dict)
    for level, series_id, target, point, lower, upper, currency in rows:
        parts[(level, series_id)][target] = (point, lower, upper, currency)
    out = {}
    for key, targets in parts.items():
        units = targets.get("units")
        price = targets.get("price", (None, None, None, None))
        out[key] = Demand(
            key[0],
            round(float(units[0]), 3) if units and units[0] is not None else None,
            to_cents(decimal_or_none(price[0])),
            to_cents(decimal_or_none(price[1])),
            to_cents(decimal_or_none(price[2])),
            price[3],
        )
    return out


def load_schedules(conn: psycopg.Connection) -> tuple[list, str]:
    """Fee schedules from core.platform_fee_schedules, else (not seeded yet) the seed CSV itself."""
    from soleflipper.pricing import load_fee_schedules, load_fee_schedules_csv

    if relation_exists(conn, "core.platform_fee_schedules"):
        cur = conn.execute("select * from core.platform_fee_schedules")
        names = [d.name for d in cur.description]
        return load_fee_schedules(
            dict(zip(names, row, strict=True)) for row in cur.fetchall()
        ), "core.platform_fee_schedules"
    return load_fee_schedules_csv(), "seed csv (core.platform_fee_schedules not built)"


def load_replay_sales(conn: psycopg.Connection, max_series: int) -> tuple[list, str | None, int]:
    """Market sales with a retail price as replay rows (cost = retail), for the ``max_series`` product × size
    series with the most sales; release date = the file's, else the series' first sale."""
    from soleflipper.pricing.replay import ContestSale

    if not relation_exists(conn, "transactions.fct_market_sales"):
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
        " order by 1, 2, 3, 4",
        (max_series,),
    ).fetchall()
    sales = [
        ContestSale(
            order_date=day,
            product=key,
            size=size,
            price=Decimal(str(price)),
            retail=Decimal(str(retail)),
            release_date=release,
        )
        for key, size, day, price, retail, release, _ in rows
    ]
    currency = rows[0][6] if rows else None
    series = len({(s.product, s.size) for s in sales})
    return sales, currency, series


@dataclass
class PricingInputs:
    """Everything :func:`soleflipper.analytics_rows.pricing.recommendation_rows` prices the pairs in stock with."""

    pairs: list[StockPair]
    snapshots: dict[str, list[Snapshot]]
    recent: dict[str, list[tuple[date, Decimal, str]]]
    demand: dict[tuple[str, str], Demand]
    schedules: list
    schedules_source: str
    fx: FxRates


def load_pricing_inputs(conn: psycopg.Connection, on: date, recent_sales_days: int) -> PricingInputs:
    """The pairs in stock and, for their variants, the market snapshots on or before ``on`` and the market
    sales of the ``recent_sales_days`` before it; demand, fee schedules and FX rates on ``on``."""
    pairs = load_pairs_in_stock(conn)
    variant_keys = [p.variant_key for p in pairs if p.variant_key]
    snapshots = load_market_snapshots(conn, variant_keys, on)
    recent = load_recent_market_sales(conn, variant_keys, on, recent_sales_days)
    demand = load_demand(conn)
    schedules, schedules_source = load_schedules(conn)
    return PricingInputs(pairs, snapshots, recent, demand, schedules, schedules_source, load_fx(conn, on))


def load_ebay_fee_line_items(conn: psycopg.Connection) -> list:
    """Every line item of the seller's eBay Finances SALE transactions with its fee basis, final value
    fee and fixed fee per order (staging.stg_ebay__api_transactions; empty before eBay is synced)."""
    from soleflipper.pricing.observed_fees import FeeLineItem

    if not relation_exists(conn, "staging.stg_ebay__api_transactions"):
        return []
    rows = conn.execute(
        """
        select t.order_id, (t.transaction_date at time zone 'UTC')::date,
               (line -> 'feeBasisAmount' ->> 'value')::numeric,
               coalesce(sum((fee -> 'amount' ->> 'value')::numeric)
                        filter (where fee ->> 'feeType' = 'FINAL_VALUE_FEE'), 0),
               coalesce(sum((fee -> 'amount' ->> 'value')::numeric)
                        filter (where fee ->> 'feeType' = 'FINAL_VALUE_FEE_FIXED_PER_ORDER'), 0),
               line -> 'feeBasisAmount' ->> 'currency'
        from staging.stg_ebay__api_transactions as t
        cross join lateral jsonb_array_elements(
            case when jsonb_typeof(t.order_line_items) = 'array' then t.order_line_items else '[]' end) as line
        left join lateral jsonb_array_elements(
            case when jsonb_typeof(line -> 'marketplaceFees') = 'array' then line -> 'marketplaceFees'
                 else '[]' end) as fee on true
        where t.transaction_type = 'SALE' and line -> 'feeBasisAmount' ->> 'value' is not null
        group by t.order_id, t.transaction_date, line
        order by t.transaction_date, t.order_id
        """
    ).fetchall()
    return [FeeLineItem(*row) for row in rows]
