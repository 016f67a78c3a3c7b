-- Each mention matched to the product catalog, or the reason it could not be matched.
-- The catalog is every product key a catalog source (StockX) mentions; other sources must
-- match it. Checks in order: a style code at all, a readable size (variant mentions), a style
-- code the catalog knows. Unsized variant mentions (size N/A) match at product level only.
with

mentions as (

    select * from {{ ref('int_style_codes_normalized') }}

),

catalog as (

    select distinct product_key
    from mentions
    where is_catalog_source and product_key is not null

),

matched as (

    select
        mentions.*,
        catalog.product_key is not null as is_product_matched,
        case
            when mentions.product_key is null then 'no style code'
            when mentions.mention_level = 'variant' and mentions.size_status = 'unreadable' then 'unreadable size'
            when catalog.product_key is null then 'style code unknown to the catalog'
        end as unmatched_reason
    from mentions
    left join catalog on mentions.product_key = catalog.product_key

),

final as (

    select
        *,
        unmatched_reason is null as is_matched,
        case
            when unmatched_reason is null and mention_level = 'variant' and size_status = 'readable'
                then product_key || ':' || size_system || ' ' || size_value
        end as variant_key
    from matched

)

select * from final
