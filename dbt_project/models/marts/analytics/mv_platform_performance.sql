-- Platform performance: one row per platform that sold at least once. Amounts in the home
-- currency, from finance.fct_unit_economics (per pair) summed per order (transactions.fct_sales
-- sale_id) for order values; payout times, buyer countries and cities from fct_sales.
--   fee_pct          fees / revenue * 100 over the orders whose payout (so fees) is known,
--                    from the sums (2 dp): what the platform kept of every 100 sold
--   avg_fee_pct      the average of the per-order fee percentages (2 dp), for comparison
--   profit_margin_pct profit / revenue * 100 over the pairs whose profit is known (2 dp)
--   avg_payout_days  average of (paid_out_at - sold_at) in days over the orders paid out (2 dp)
with

units as (

    select * from {{ ref('fct_unit_economics') }}

),

sales as (

    select * from {{ ref('fct_sales') }}

),

platforms as (

    select * from {{ ref('platforms') }}

),

orders as (

    select
        units.sale_id,
        units.platform,
        min(units.sold_at) as sold_at,
        min(units.sale_date) as sale_date,
        sum(units.gross_sale_home) as revenue_home,
        sum(units.fees_home) as fees_home,
        count(*) as units_sold,
        count(units.fees_home) as units_with_fees,
        count(units.profit_home) as units_with_profit,
        sum(units.gross_sale_home) filter (where units.profit_home is not null) as profit_revenue_home,
        sum(units.payout_home) as payout_home,
        sum(units.output_vat_home) as output_vat_home,
        sum(units.net_sale_home) as net_sales_home,
        sum(units.net_buy_home) filter (where units.profit_home is not null) as net_buy_home,
        sum(units.profit_home) as profit_home
    from units
    group by units.sale_id, units.platform

),

orders_enriched as (

    select
        orders.*,
        sales.paid_out_at,
        sales.buyer_country,
        sales.buyer_city,
        -- a city is identified with its country (Frankfurt am Main is not Frankfurt (Oder))
        case when sales.buyer_city is not null then concat_ws(' / ', sales.buyer_country, sales.buyer_city) end
            as buyer_destination,
        case when orders.units_with_fees = orders.units_sold then orders.revenue_home end as fee_revenue_home,
        extract(epoch from sales.paid_out_at - sales.sold_at) / 86400 as payout_days
    from orders
    left join sales on orders.sale_id = sales.sale_id

),

per_platform as (

    select
        platform,
        count(*) as orders,
        sum(units_sold) as units_sold,
        count(distinct date_trunc('month', sale_date)) as active_months,
        sum(revenue_home) as revenue_home,
        avg(revenue_home) as avg_order_value_home,
        min(revenue_home) as min_order_value_home,
        max(revenue_home) as max_order_value_home,
        sum(fees_home) as fees_home,
        avg(fees_home) as avg_fee_home,
        sum(fee_revenue_home) as fee_revenue_home,
        avg(100 * fees_home / nullif(fee_revenue_home, 0)) as avg_fee_pct,
        sum(payout_home) as payout_home,
        sum(output_vat_home) as output_vat_home,
        sum(net_sales_home) as net_sales_home,
        sum(units_with_profit) as units_with_profit,
        sum(net_buy_home) as net_buy_home,
        sum(profit_home) as profit_home,
        sum(profit_revenue_home) as profit_revenue_home,
        count(paid_out_at) as orders_paid_out,
        avg(payout_days) as avg_payout_days,
        count(distinct buyer_country) as countries_served,
        count(distinct buyer_destination) as cities_served,
        min(sold_at) as first_sale_at,
        max(sold_at) as last_sale_at
    from orders_enriched
    group by platform

),

final as (

    select
        per_platform.platform::text as platform,
        coalesce(platforms.display_name, per_platform.platform)::text as platform_name,
        platforms.platform_type::text as platform_type,
        '{{ home_currency() }}'::text as home_currency,
        per_platform.orders::integer as orders,
        per_platform.units_sold::integer as units_sold,
        per_platform.active_months::integer as active_months,
        per_platform.revenue_home::numeric(14, 2) as revenue_home,
        round(per_platform.avg_order_value_home, 2)::numeric(14, 2) as avg_order_value_home,
        per_platform.min_order_value_home::numeric(14, 2) as min_order_value_home,
        per_platform.max_order_value_home::numeric(14, 2) as max_order_value_home,
        per_platform.fees_home::numeric(14, 2) as fees_home,
        round(per_platform.avg_fee_home, 2)::numeric(14, 2) as avg_fee_home,
        round(100 * per_platform.fees_home / nullif(per_platform.fee_revenue_home, 0), 2)::numeric(6, 2) as fee_pct,
        round(per_platform.avg_fee_pct, 2)::numeric(6, 2) as avg_fee_pct,
        per_platform.payout_home::numeric(14, 2) as payout_home,
        per_platform.output_vat_home::numeric(14, 2) as output_vat_home,
        per_platform.net_sales_home::numeric(14, 2) as net_sales_home,
        per_platform.units_with_profit::integer as units_with_profit,
        per_platform.net_buy_home::numeric(14, 2) as net_buy_home,
        per_platform.profit_home::numeric(14, 2) as profit_home,
        round(100 * per_platform.profit_home / nullif(per_platform.net_buy_home, 0), 2)::numeric(10, 2) as roi_pct,
        round(100 * per_platform.profit_home / nullif(per_platform.profit_revenue_home, 0), 2)::numeric(10, 2)
            as profit_margin_pct,
        per_platform.orders_paid_out::integer as orders_paid_out,
        round(per_platform.avg_payout_days, 2)::numeric(10, 2) as avg_payout_days,
        per_platform.countries_served::integer as countries_served,
        per_platform.cities_served::integer as cities_served,
        per_platform.first_sale_at::timestamptz as first_sale_at,
        per_platform.last_sale_at::timestamptz as last_sale_at
    from per_platform
    left join platforms on per_platform.platform = platforms.platform

)

select * from final
