-- Executive KPIs per month, platform and currency: orders, revenue, payout and fees.
-- A materialized view with a unique index, so it can be refreshed concurrently.
with

sales as (

    select * from {{ ref('fct_sales') }}

),

monthly as (

    select
        date_trunc('month', sale_date)::date as sale_month,
        platform,
        payout_currency as currency,
        count(*) as orders,
        sum(quantity) as units,
        sum(gross_amount) as revenue,
        sum(payout_amount) as payout,
        sum(total_fees_amount) as fees,
        round(avg(gross_amount), 2) as average_sale_price
    from sales
    group by 1, 2, 3

)

select * from monthly
