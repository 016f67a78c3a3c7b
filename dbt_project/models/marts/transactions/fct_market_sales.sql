-- One row per market sale: StockX sales by any seller (sales history files), the market-wide
-- demand forecasts and pricing read, as opposed to fct_sales (the reseller's own sales). Every
-- raw row is a sale (identical rows are pairs sold alike). Sizes are read with the same rules
-- as products (size_system, size_value); prices are kept as the file has them (the contest
-- file has fractional dollars such as 217.7085, so no rounding). product_key and variant_key
-- exist when a style code is known. product_series_key is what forecasts group by: the product
-- key, else the name folded to lower case with every run of other characters as one space
-- ("Adidas-Yeezy-Boost" and "adidas Yeezy Boost" are one product).
with

contest as (

    select
        market_sale_id,
        'stockx_contest_sales' as source,
        product_name,
        null::text as style_code,
        brand,
        null::text as category,
        size_label,
        buyer_region,
        sold_at,
        price_amount,
        price_currency,
        retail_price_amount,
        retail_price_currency,
        release_date,
        load_batch_id
    from {{ ref('stg_stockx__contest_sales') }}

),

activity as (

    select
        market_sale_id,
        'stockx_activity_sales' as source,
        product_name,
        style_code,
        brand,
        category,
        size_label,
        null::text as buyer_region,
        sold_at,
        price_amount,
        price_currency,
        retail_price_amount,
        retail_price_currency,
        release_date,
        load_batch_id
    from {{ ref('stg_stockx__activity_sales') }}

),

unioned as (

    select * from contest
    union all
    select * from activity

),

-- A few dozen distinct size labels among hundreds of thousands of sales: read each label once.
sizes as (

    select
        labels.size_label,
        {{ size_system('labels.size_label') }} as size_system,
        {{ size_value('labels.size_label') }} as size_value
    from (select distinct unioned.size_label from unioned) as labels

),

keyed as (

    select
        unioned.*,
        {{ style_key('unioned.style_code') }} as product_key,
        sizes.size_system,
        sizes.size_value
    from unioned
    left join sizes on unioned.size_label = sizes.size_label

),

final as (

    select
        market_sale_id::text as market_sale_id,
        source::text as source,
        'stockx'::text as platform,
        product_name::text as product_name,
        coalesce(
            product_key,
            'name:' || btrim(regexp_replace(lower(product_name), '[^a-z0-9]+', ' ', 'g'))
        )::text as product_series_key,
        style_code::text as style_code,
        product_key::text as product_key,
        (case
            when product_key is not null and size_system is not null
                then product_key || ':' || size_system || ' ' || size_value
        end)::text as variant_key,
        size_label::text as size_label,
        size_system::text as size_system,
        size_value::text as size_value,
        brand::text as brand,
        category::text as category,
        buyer_region::text as buyer_region,
        sold_at::timestamptz as sold_at,
        (sold_at at time zone 'UTC')::date as sale_date,
        price_amount::numeric as price_amount,
        price_currency::text as price_currency,
        retail_price_amount::numeric as retail_price_amount,
        retail_price_currency::text as retail_price_currency,
        release_date::date as release_date,
        load_batch_id::uuid as load_batch_id
    from keyed

)

select * from final
