-- Every raw market sales row is exactly one fct_market_sales row: per source and currency, the
-- row counts and price sums equal the raw tables' (identical raw rows are separate sales, so
-- nothing is de-duplicated). Returns the sources and currencies that differ.
{{ config(meta={'dagster': {'ref': {'name': 'fct_market_sales'}}}) }}
with

raw_totals as (
    select
        'stockx_contest_sales' as source,
        sale_price_currency::text as currency,
        count(*) as sales,
        sum(sale_price) as price
    from {{ source('raw', 'stockx_contest_sales') }}
    group by sale_price_currency
    union all
    select
        'stockx_activity_sales' as source,
        amount_currency::text as currency,
        count(*) as sales,
        sum(amount) as price
    from {{ source('raw', 'stockx_activity_sales') }}
    group by amount_currency
),

fact_totals as (
    select
        source,
        price_currency as currency,
        count(*) as sales,
        sum(price_amount) as price
    from {{ ref('fct_market_sales') }}
    group by source, price_currency
)

select
    coalesce(raw_totals.source, fact_totals.source) as source,
    coalesce(raw_totals.currency, fact_totals.currency) as currency,
    raw_totals.sales as raw_sales,
    fact_totals.sales as fact_sales,
    raw_totals.price as raw_price,
    fact_totals.price as fact_price
from raw_totals
full outer join fact_totals
    on raw_totals.source = fact_totals.source
    and raw_totals.currency = fact_totals.currency
where raw_totals.sales is distinct from fact_totals.sales
    or raw_totals.price is distinct from fact_totals.price
