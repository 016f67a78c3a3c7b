-- Money must reconcile to the cent: per currency, the payouts in fct_sales equal the payouts
-- of the newest raw version of every StockX order in the seller report (its rows win over
-- every other source of the same order, so they are exactly the rows the report supplies).
-- Returns the currencies that differ.
{{ config(meta={'dagster': {'ref': {'name': 'fct_sales'}}}) }}
with

raw_latest as (
    select distinct on (order_number)
        order_number,
        total_payout,
        total_payout_currency
    from {{ source('raw', 'stockx_sales_report') }}
    order by order_number, payout_date desc nulls last, _loaded_at desc, _source_line desc
),

raw_totals as (
    select
        total_payout_currency as currency,
        sum(total_payout) as payout,
        count(*) as orders
    from raw_latest
    group by total_payout_currency
),

fact_totals as (
    select
        payout_currency as currency,
        sum(payout_amount) as payout,
        count(*) as orders
    from {{ ref('fct_sales') }}
    where source_system = 'stockx_sales_report'
    group by payout_currency
)

select
    coalesce(raw_totals.currency, fact_totals.currency) as currency,
    raw_totals.payout as raw_payout,
    fact_totals.payout as fact_payout,
    raw_totals.orders as raw_orders,
    fact_totals.orders as fact_orders
from raw_totals
full outer join fact_totals on raw_totals.currency = fact_totals.currency
where raw_totals.payout is distinct from fact_totals.payout or raw_totals.orders is distinct from fact_totals.orders
