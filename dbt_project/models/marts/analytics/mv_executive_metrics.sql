-- Executive metrics: one row per sale day (UTC) and platform, with the week, month, quarter
-- and year of the day for roll-ups in Metabase. Amounts in the home currency
-- (var('home_currency')), from finance.fct_unit_economics (one row per sold pair, converted at
-- the FX rate of the sale day). Revenue is the gross sale price; fees = revenue - payout;
-- profit = net sale - net buy of the pairs whose cost and payout are known; ROI from sums
-- (sum of profit / sum of net buy of the same pairs), not an average of per-pair ratios.
with

units as (

    select * from {{ ref('fct_unit_economics') }}

),

platforms as (

    select * from {{ ref('platforms') }}

),

daily as (

    select
        sale_date,
        platform,
        count(distinct sale_id) as orders,
        count(*) as units_sold,
        sum(gross_sale_home) as revenue_home,
        sum(fees_home) as fees_home,
        sum(payout_home) as payout_home,
        sum(output_vat_home) as output_vat_home,
        sum(net_sale_home) as net_sales_home,
        count(profit_home) as units_with_profit,
        sum(net_buy_home) filter (where profit_home is not null) as net_buy_home,
        sum(profit_home) as profit_home,
        min(sold_at) as first_sale_at,
        max(sold_at) as last_sale_at
    from units
    group by sale_date, platform

),

final as (

    select
        daily.sale_date::date as sale_date,
        date_trunc('week', daily.sale_date)::date as sale_week,
        date_trunc('month', daily.sale_date)::date as sale_month,
        date_trunc('quarter', daily.sale_date)::date as sale_quarter,
        date_trunc('year', daily.sale_date)::date as sale_year,
        daily.platform::text as platform,
        coalesce(platforms.display_name, daily.platform)::text as platform_name,
        '{{ home_currency() }}'::text as home_currency,
        daily.orders::integer as orders,
        daily.units_sold::integer as units_sold,
        daily.revenue_home::numeric(14, 2) as revenue_home,
        daily.fees_home::numeric(14, 2) as fees_home,
        daily.payout_home::numeric(14, 2) as payout_home,
        daily.output_vat_home::numeric(14, 2) as output_vat_home,
        daily.net_sales_home::numeric(14, 2) as net_sales_home,
        daily.units_with_profit::integer as units_with_profit,
        daily.net_buy_home::numeric(14, 2) as net_buy_home,
        daily.profit_home::numeric(14, 2) as profit_home,
        round(100 * daily.profit_home / nullif(daily.net_buy_home, 0), 2)::numeric(10, 2) as roi_pct,
        round(daily.revenue_home / daily.orders, 2)::numeric(14, 2) as avg_order_value_home,
        daily.first_sale_at::timestamptz as first_sale_at,
        daily.last_sale_at::timestamptz as last_sale_at
    from daily
    left join platforms on daily.platform = platforms.platform

)

select * from final
