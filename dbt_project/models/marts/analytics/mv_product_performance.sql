-- Product performance: one row per product (style, products.dim_products.product_key) that
-- sold at least once; sales without a known style are one row, product_key '(unknown)'.
-- Amounts in the home currency, from finance.fct_unit_economics (one row per sold pair).
-- Brand (the pairs' brand as fct_unit_economics has it, mapped through core.brand_spellings),
-- parent brand and segment from core.dim_brands. Prices are per pair (gross sale
-- price); ROI and averages as in mv_executive_metrics (profit and ROI over the pairs whose cost
-- and payout are known).
with

units as (

    select * from {{ ref('fct_unit_economics') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

spellings as (

    select spelling_key, brand_key from {{ ref('brand_spellings') }}

),

brands as (

    select * from {{ ref('dim_brands') }}

),

per_product as (

    select
        coalesce(product_key, '(unknown)') as product_key,
        count(*) as units_sold,
        count(distinct sale_id) as orders,
        sum(gross_sale_home) as revenue_home,
        avg(gross_sale_home) as avg_sale_price_home,
        min(gross_sale_home) as min_sale_price_home,
        max(gross_sale_home) as max_sale_price_home,
        stddev_samp(gross_sale_home) as sale_price_stddev_home,
        sum(fees_home) as fees_home,
        count(profit_home) as units_with_profit,
        sum(net_buy_home) filter (where profit_home is not null) as net_buy_home,
        sum(profit_home) as profit_home,
        avg(net_buy_home) as avg_net_buy_home,
        avg(shelf_life_days) as avg_shelf_life_days,
        count(distinct supplier_key) as supplier_count,
        min(sale_date) as first_sale_date,
        max(sale_date) as last_sale_date,
        min(brand) as brand_as_written
    from units
    group by coalesce(product_key, '(unknown)')

),

final as (

    select
        per_product.product_key::text as product_key,
        products.style_code::text as style_code,
        products.title::text as product_name,
        brands.brand_key::text as brand_key,
        coalesce(brands.brand, per_product.brand_as_written)::text as brand,
        brands.parent_brand::text as parent_brand,
        brands.segment::text as segment,
        '{{ home_currency() }}'::text as home_currency,
        per_product.units_sold::integer as units_sold,
        per_product.orders::integer as orders,
        per_product.revenue_home::numeric(14, 2) as revenue_home,
        round(per_product.avg_sale_price_home, 2)::numeric(14, 2) as avg_sale_price_home,
        per_product.min_sale_price_home::numeric(14, 2) as min_sale_price_home,
        per_product.max_sale_price_home::numeric(14, 2) as max_sale_price_home,
        round(per_product.sale_price_stddev_home, 2)::numeric(14, 2) as sale_price_stddev_home,
        per_product.fees_home::numeric(14, 2) as fees_home,
        per_product.units_with_profit::integer as units_with_profit,
        per_product.net_buy_home::numeric(14, 2) as net_buy_home,
        per_product.profit_home::numeric(14, 2) as profit_home,
        round(100 * per_product.profit_home / nullif(per_product.net_buy_home, 0), 2)::numeric(10, 2) as roi_pct,
        round(per_product.avg_net_buy_home, 2)::numeric(14, 2) as avg_net_buy_home,
        round(per_product.avg_shelf_life_days, 2)::numeric(10, 2) as avg_shelf_life_days,
        per_product.supplier_count::integer as supplier_count,
        per_product.first_sale_date::date as first_sale_date,
        per_product.last_sale_date::date as last_sale_date,
        (per_product.last_sale_date - per_product.first_sale_date)::integer as sales_span_days
    from per_product
    left join products on per_product.product_key = products.product_key
    left join spellings on {{ slug_key('per_product.brand_as_written') }} = spellings.spelling_key
    left join brands on spellings.brand_key = brands.brand_key

)

select * from final
