"""The sales history the demand forecasts learn from, and the sizes in stock.

History = the market's sales (``transactions.fct_market_sales``: StockX sales by every seller)
plus the reseller's own sales (``transactions.fct_sales``, one event per unit, only sales whose
style code is known). Prices are in the market's currency; an own sale in another currency is
converted at the ECB rate of its day (``core.fx_rates_daily``) and left out of the history when
no rate is known (counted in :class:`SalesHistory`).
"""

from dataclasses import dataclass

import pandas as pd
import psycopg

from soleflipper.warehouse_tables.relations import relation_exists


@dataclass
class SalesHistory:
    """Sales events for :func:`soleflipper.forecasting.weekly_panel`, and what was left out."""

    sales: (
        pd.DataFrame
    )  # product_series_key, product_name, size, sold_at, price, retail_price, release_date, brand
    currency: str | None  # every price is in this currency
    market_sales: int
    own_sales: int
    own_sales_without_fx: int  # own sales left out: no ECB rate to convert their price


_MARKET_SQL = """
select product_series_key, product_name,
       case when size_system is not null then size_system || ' ' || size_value end as size,
       sold_at, price_amount::float8 as price, price_currency as currency,
       retail_price_amount::float8 as retail_price, release_date, brand
from transactions.fct_market_sales
"""

# One event per unit sold (quantity 2 is two pairs); the size is the variant's (US M 10). The
# price is converted to the history's currency with the ECB rate of the sale's UTC day.
_OWN_SQL = """
with fx as (
    select rate_date, currency, home_per_unit from core.fx_rates_daily
),

home as (
    select max(home_currency) as currency from core.fx_rates_daily
)

select s.product_key as product_series_key, coalesce(s.item_name, s.style_code) as product_name,
       nullif(split_part(s.variant_key, ':', 2), '') as size, s.sold_at,
       (case when s.gross_currency = %(currency)s then s.gross_amount
             else s.gross_amount
                  * (case when s.gross_currency = home.currency then 1 else f.home_per_unit end)
                  / nullif(case when %(currency)s = home.currency then 1 else t.home_per_unit end, 0)
        end)::float8 as price
from transactions.fct_sales as s
cross join home
cross join lateral generate_series(1, greatest(coalesce(s.quantity, 1), 1)) as unit
left join fx as f on f.rate_date = s.sale_date and f.currency = s.gross_currency
left join fx as t on t.rate_date = s.sale_date and t.currency = %(currency)s
where s.product_key is not null and s.gross_amount is not null
"""

_OWN_SAME_CURRENCY_SQL = """
select s.product_key as product_series_key, coalesce(s.item_name, s.style_code) as product_name,
       nullif(split_part(s.variant_key, ':', 2), '') as size, s.sold_at,
       (case when s.gross_currency = %(currency)s then s.gross_amount end)::float8 as price
from transactions.fct_sales as s
cross join lateral generate_series(1, greatest(coalesce(s.quantity, 1), 1)) as unit
where s.product_key is not null and s.gross_amount is not null
"""


def _frame(cursor: psycopg.Cursor) -> pd.DataFrame:
    rows = cursor.fetchall()
    return pd.DataFrame(rows, columns=[d.name for d in cursor.description])


def load_sales_history(conn: psycopg.Connection) -> SalesHistory:
    """The weekly history's sales events: market sales ∪ the reseller's own sales (see module doc)."""
    market = pd.DataFrame(
        columns=[
            "product_series_key",
            "product_name",
            "size",
            "sold_at",
            "price",
            "currency",
            "retail_price",
            "release_date",
            "brand",
        ]
    )
    if relation_exists(conn, "transactions.fct_market_sales"):
        market = _frame(conn.execute(_MARKET_SQL))
    currency = None
    if len(market):
        currency = str(market["currency"].mode().iloc[0])
        market = market[market["currency"] == currency]
    own = pd.DataFrame(columns=["product_series_key", "product_name", "size", "sold_at", "price"])
    if relation_exists(conn, "transactions.fct_sales"):
        if currency is None:
            row = conn.execute(
                "select gross_currency from transactions.fct_sales where product_key is not null"
                " group by 1 order by count(*) desc, 1 limit 1"
            ).fetchone()
            currency = row[0] if row else None
        if currency is not None:
            query = _OWN_SQL if relation_exists(conn, "core.fx_rates_daily") else _OWN_SAME_CURRENCY_SQL
            own = _frame(conn.execute(query, {"currency": currency}))
    without_fx = int(own["price"].isna().sum()) if len(own) else 0
    own = own[own["price"].notna()] if len(own) else own
    columns = [
        "product_series_key",
        "product_name",
        "size",
        "sold_at",
        "price",
        "retail_price",
        "release_date",
        "brand",
    ]
    parts = [frame for frame in (market.drop(columns=["currency"]), own) if len(frame)]
    sales = (
        pd.concat(parts, ignore_index=True).reindex(columns=columns)
        if parts
        else pd.DataFrame(columns=columns)
    )
    if len(sales):
        sales["sold_at"] = pd.to_datetime(sales["sold_at"], utc=True)
        sales["price"] = sales["price"].astype(float)
        sales["retail_price"] = pd.to_numeric(sales["retail_price"], errors="coerce")
    return SalesHistory(
        sales=sales,
        currency=currency,
        market_sales=len(market),
        own_sales=len(own),
        own_sales_without_fx=without_fx,
    )


def sizes_in_stock(conn: psycopg.Connection) -> set[tuple[str, str]]:
    """(product key, size) of every pair in stock (products.inventory_items), as product_size series keys."""
    if not relation_exists(conn, "products.inventory_items"):
        return set()
    rows = conn.execute(
        "select distinct variant_key from products.inventory_items"
        " where current_status in ('in_stock', 'listed') and variant_key like '%:%'"
    ).fetchall()
    return {tuple(key.split(":", 1)) for (key,) in rows}
