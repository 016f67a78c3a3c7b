-- Brand analytics: one row per brand (core.dim_brands.brand_key) that sold at least once, with
-- its parent brand and segment; sales without a brand are one row, brand_key '(unknown)'.
-- A child brand (Jordan) is its own row, not rolled into its parent (Nike); parent_brand_key
-- lets dashboards roll up. Amounts in the home currency, from finance.fct_unit_economics.
--   market_share_pct  brand revenue / revenue of all brands * 100 (2 dp)
--   sales_share_pct   brand pairs sold / all pairs sold * 100 (2 dp)
--   price_positioning on the average gross sale price per pair in the home currency:
--                     Premium > 200, Mid-Range > 100, else Entry-Level
--   volume_tier       on pairs sold: High Volume > 100, Medium Volume > 50, else Low Volume
with

units as (

    select * from {{ ref('fct_unit_economics') }}

),

spellings as (

    select spelling_key, brand_key from {{ ref('brand_spellings') }}

),

brands as (

    select * from {{ ref('dim_brands') }}

),

branded as (

    -- the brand as written, mapped through its spelling ('Air Jordan' is jordan)
    select
        units.*,
        coalesce(brands.brand_key, '(unknown)') as brand_key_or_label,
        coalesce(brands.brand, '(unknown)') as brand_name
    from units
    left join spellings on {{ slug_key('units.brand') }} = spellings.spelling_key
    left join brands on spellings.brand_key = brands.brand_key

),

per_brand as (

    select
        brand_key_or_label as brand_key,
        min(brand_name) as brand,
        count(*) as units_sold,
        count(distinct sale_id) as orders,
        sum(gross_sale_home) as revenue_home,
        avg(gross_sale_home) as avg_sale_price_home,
        stddev_samp(gross_sale_home) as sale_price_stddev_home,
        count(profit_home) as units_with_profit,
        sum(net_buy_home) filter (where profit_home is not null) as net_buy_home,
        sum(profit_home) as profit_home,
        count(distinct product_key) as product_variety,
        count(distinct date_trunc('month', sale_date)) as active_months,
        min(sale_date) as first_sale_date,
        max(sale_date) as last_sale_date
    from branded
    group by brand_key_or_label

),

final as (

    select
        per_brand.brand_key::text as brand_key,
        per_brand.brand::text as brand,
        brands.parent_brand_key::text as parent_brand_key,
        brands.parent_brand::text as parent_brand,
        brands.segment::text as segment,
        '{{ home_currency() }}'::text as home_currency,
        per_brand.units_sold::integer as units_sold,
        per_brand.orders::integer as orders,
        per_brand.revenue_home::numeric(14, 2) as revenue_home,
        round(per_brand.avg_sale_price_home, 2)::numeric(14, 2) as avg_sale_price_home,
        round(per_brand.sale_price_stddev_home, 2)::numeric(14, 2) as sale_price_stddev_home,
        per_brand.units_with_profit::integer as units_with_profit,
        per_brand.net_buy_home::numeric(14, 2) as net_buy_home,
        per_brand.profit_home::numeric(14, 2) as profit_home,
        round(100 * per_brand.profit_home / nullif(per_brand.net_buy_home, 0), 2)::numeric(10, 2) as roi_pct,
        per_brand.product_variety::integer as product_variety,
        per_brand.active_months::integer as active_months,
        per_brand.first_sale_date::date as first_sale_date,
        per_brand.last_sale_date::date as last_sale_date,
        round(100 * per_brand.revenue_home / nullif(sum(per_brand.revenue_home) over (), 0), 2)::numeric(6, 2)
            as market_share_pct,
        round(100.0 * per_brand.units_sold / sum(per_brand.units_sold) over (), 2)::numeric(6, 2) as sales_share_pct,
        (case
            when round(per_brand.avg_sale_price_home, 2) > 200 then 'Premium'
            when round(per_brand.avg_sale_price_home, 2) > 100 then 'Mid-Range'
            when per_brand.avg_sale_price_home is not null then 'Entry-Level'
        end)::text as price_positioning,
        (case
            when per_brand.units_sold > 100 then 'High Volume'
            when per_brand.units_sold > 50 then 'Medium Volume'
            else 'Low Volume'
        end)::text as volume_tier
    from per_brand
    left join brands on per_brand.brand_key = brands.brand_key

)

select * from final
