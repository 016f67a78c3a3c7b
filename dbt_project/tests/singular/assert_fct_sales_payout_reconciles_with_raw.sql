-- Money must reconcile to the cent: per currency, the payouts in fct_sales equal the payouts
-- of the newest raw version of every StockX order in the seller report (its rows win over
-- every other source of the same order, so they are exactly the rows the report supplies).
-- Returns the currencies that differ.
{{ config(meta={'dagster': {'ref': {'name': 'fct_sales'}}}) }}
with raw_latest as (
    select distinct on (order_number) order_number, total_payout, total_payout_currency
    from {{ source('raw', 'stockx_sales_report') }}
    order by order_number, payout_date desc nulls last, _loaded_at desc, _source_line desc
),
raw_totals as (
    select total_payout_currency as currency, sum(total_payout) as payout, count(*) as orders
    from raw_latest group by 1
),
fact_totals as (
    select payout_currency as currency, sum(payout_amount) as payout, count(*) as orders
    from {{ ref('fct_sales') }} where source_system = 'stockx_sales_report' group by 1
)
select coalesce(r.currency, f.currency) as currency, r.payout as raw_payout, f.payout as fact_payout,
       r.orders as raw_orders, f.orders as fact_orders
from raw_totals r full outer join fact_totals f on r.currency = f.currency
where r.payout is distinct from f.payout or r.orders is distinct from f.orders
