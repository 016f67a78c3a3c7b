-- Customer geography: one row per buyer destination country and city, as the platform
-- reports them (transactions.fct_sales; StockX's spellings, e.g. Germany / Berlin). Sales
-- without a reported country or city are kept under the label '(unknown)' (the unique index
-- needs plain non-null columns), so the view adds up to every sale. Amounts in the home
-- currency, from finance.fct_unit_economics.
with

units as (

    select * from {{ ref('fct_unit_economics') }}

),

sales as (

    select * from {{ ref('fct_sales') }}

),

spellings as (

    select spelling_key, brand_key from {{ ref('brand_spellings') }}

),

located as (

    select
        units.*,
        spellings.brand_key,
        coalesce(nullif(btrim(sales.buyer_country), ''), '(unknown)') as country,
        coalesce(nullif(btrim(sales.buyer_city), ''), '(unknown)') as city
    from units
    left join sales on units.sale_id = sales.sale_id
    left join spellings on {{ slug_key('units.brand') }} = spellings.spelling_key

),

orders as (

    select
        country,
        city,
        sale_id,
        min(platform) as platform,
        sum(gross_sale_home) as revenue_home
    from located
    group by country, city, sale_id

),

per_order as (

    select
        country,
        city,
        count(*) as orders,
        avg(revenue_home) as avg_order_value_home,
        count(distinct platform) as platforms_used,
        string_agg(distinct platform, ', ' order by platform) as platform_names
    from orders
    group by country, city

),

per_place as (

    select
        country,
        city,
        count(*) as units_sold,
        count(distinct date_trunc('month', sale_date)) as active_months,
        sum(gross_sale_home) as revenue_home,
        count(profit_home) as units_with_profit,
        sum(net_buy_home) filter (where profit_home is not null) as net_buy_home,
        sum(profit_home) as profit_home,
        count(distinct product_key) as unique_products,
        count(distinct brand_key) as unique_brands,
        min(sold_at) as first_order_at,
        max(sold_at) as last_order_at
    from located
    group by country, city

),

final as (

    select
        per_place.country::text as country,
        per_place.city::text as city,
        '{{ home_currency() }}'::text as home_currency,
        per_order.orders::integer as orders,
        per_place.units_sold::integer as units_sold,
        per_place.active_months::integer as active_months,
        per_place.revenue_home::numeric(14, 2) as revenue_home,
        round(per_order.avg_order_value_home, 2)::numeric(14, 2) as avg_order_value_home,
        per_place.units_with_profit::integer as units_with_profit,
        per_place.net_buy_home::numeric(14, 2) as net_buy_home,
        per_place.profit_home::numeric(14, 2) as profit_home,
        round(100 * per_place.profit_home / nullif(per_place.net_buy_home, 0), 2)::numeric(10, 2) as roi_pct,
        per_order.platforms_used::integer as platforms_used,
        per_order.platform_names::text as platform_names,
        per_place.unique_products::integer as unique_products,
        per_place.unique_brands::integer as unique_brands,
        per_place.first_order_at::timestamptz as first_order_at,
        per_place.last_order_at::timestamptz as last_order_at
    from per_place
    inner join per_order on per_place.country = per_order.country and per_place.city = per_order.city

)

select * from final
