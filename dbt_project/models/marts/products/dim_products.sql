-- One row per product (style), keyed by the style key (DD1391-100, DD1391 100 and dd1391100
-- are one product). Attributes come from the StockX API catalog when it has the product, else
-- from the mentions: the seller report's Item name first, then API orders.
with

mentions as (

    select
        *,
        case source
            when 'stockx_products' then 1
            when 'stockx_sales_report' then 2
            when 'stockx_orders' then 3
            else 9
        end as source_priority
    from {{ ref('int_product_mentions_matched') }}
    where is_product_matched

),

stockx_catalog as (

    -- Several StockX products can carry one style (relisted products, separator variants):
    -- the one with a title, loaded last, wins.
    select distinct on (product_key) *
    from (
        select
            *,
            {{ style_key(normalize_style_code('style_code')) }} as product_key
        from {{ ref('stg_stockx__products') }}
    ) as keyed
    where product_key is not null
    order by product_key, (title is not null) desc, loaded_at desc, stockx_product_id

),

style_codes as (

    -- Canonical code: from the best source, then the most frequent spelling.
    select distinct on (product_key) product_key, style_code
    from (
        select product_key, style_code, min(source_priority) as priority, count(*) as mentions
        from mentions
        group by product_key, style_code
    ) as spellings
    order by product_key, priority, mentions desc, style_code

),

titles as (

    select distinct on (product_key) product_key, product_title, source
    from mentions
    where product_title is not null
    order by product_key, source_priority, seen_at desc, mention_id

),

brands as (

    select distinct on (product_key) product_key, brand
    from mentions
    where brand is not null
    order by product_key, source_priority, seen_at desc, mention_id

),

counts as (

    select
        product_key,
        count(*) as mention_count,
        min(seen_at) as first_seen_at,
        max(seen_at) as last_seen_at
    from mentions
    group by product_key

),

final as (

    select
        counts.product_key::text as product_key,
        style_codes.style_code::text as style_code,
        coalesce(stockx_catalog.brand, brands.brand)::text as brand,
        coalesce(stockx_catalog.title, titles.product_title)::text as title,
        stockx_catalog.colorway::text as colorway,
        stockx_catalog.product_type::text as product_type,
        stockx_catalog.gender::text as gender,
        stockx_catalog.retail_price::numeric(10, 2) as retail_price,
        (case when stockx_catalog.retail_price is not null then 'USD' end)::text as retail_currency,
        stockx_catalog.release_date::date as release_date,
        stockx_catalog.stockx_product_id::text as stockx_product_id,
        (case
            when stockx_catalog.product_key is not null then 'stockx_products'
            else titles.source
        end)::text as attributes_source,
        counts.mention_count::integer as mention_count,
        counts.first_seen_at::timestamptz as first_seen_at,
        counts.last_seen_at::timestamptz as last_seen_at
    from counts
    inner join style_codes on counts.product_key = style_codes.product_key
    left join stockx_catalog on counts.product_key = stockx_catalog.product_key
    left join titles on counts.product_key = titles.product_key
    left join brands on counts.product_key = brands.product_key

)

select * from final
