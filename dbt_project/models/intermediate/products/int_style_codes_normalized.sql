-- Each mention with its canonical style code, product key and parsed size: the SQL twin of
-- soleflipper.products (macros/products.sql; a test proves both agree). A mention without a
-- style code of its own takes its StockX product's, and a mention of a StockX variant reads
-- the variant's size label (its default size conversion names the size system).
with

mentions as (

    select * from {{ ref('int_product_mentions_unioned') }}

),

stockx_products as (

    select stockx_product_id, style_code from {{ ref('stg_stockx__products') }}

),

stockx_variants as (

    select stockx_variant_id, size_label from {{ ref('stg_stockx__variants') }}

),

resolved as (

    select
        mentions.*,
        coalesce(
            {{ normalize_style_code('mentions.style_code_raw') }},
            {{ normalize_style_code('stockx_products.style_code') }}
        ) as style_code,
        coalesce(stockx_variants.size_label, mentions.size_label_raw) as size_label
    from mentions
    left join stockx_products on mentions.stockx_product_id = stockx_products.stockx_product_id
    left join stockx_variants on mentions.stockx_variant_id = stockx_variants.stockx_variant_id

),

parsed as (

    select
        *,
        {{ style_key('style_code') }} as product_key,
        {{ size_parsed('size_label') }} as size_parsed
    from resolved

),

final as (

    select
        mention_id,
        source,
        source_id,
        mention_level,
        is_catalog_source,
        style_code_raw,
        size_label_raw,
        product_title,
        brand,
        stockx_product_id,
        stockx_variant_id,
        seen_at,
        load_batch_id,
        load_source,
        style_code,
        product_key,
        size_label,
        nullif(split_part(size_parsed, '|', 1), '!') as size_system,
        nullif(split_part(size_parsed, '|', 2), '') as size_value,
        case
            when size_parsed is null then 'missing'
            when size_parsed = '!' then 'unreadable'
            else 'readable'
        end as size_status
    from parsed

)

select * from final
