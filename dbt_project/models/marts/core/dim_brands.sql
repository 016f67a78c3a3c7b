-- Brands, one row per brand: every brand of the brand_hierarchy seed plus every brand
-- dim_products or fct_purchases mention (spellings normalised through core.brand_spellings:
-- 'Adidas' is adidas, 'Air Jordan' is Jordan). Parent brand and segment from the seed; a brand
-- the seed does not know is top level without a segment.
-- product_count: distinct products (style keys) attributed to the brand, each product once:
-- by dim_products' brand when it has one, else by the brand its purchases name most often.
with

spellings as (

    select spelling_key, brand_key, brand, in_brand_hierarchy
    from {{ ref('brand_spellings') }}

),

hierarchy as (

    select brand, parent_brand, segment
    from {{ ref('brand_hierarchy') }}

),

brands as (

    select distinct brand_key, brand, in_brand_hierarchy
    from spellings

),

mentions as (

    select
        product_key,
        brand,
        1 as source_priority
    from {{ ref('dim_products') }}
    where brand is not null

    union all

    select
        product_key,
        brand,
        2 as source_priority
    from {{ ref('fct_purchases') }}
    where product_key is not null and brand is not null

),

mention_counts as (

    select
        mentions.product_key,
        spellings.brand_key,
        min(mentions.source_priority) as source_priority,
        count(*) as mention_count
    from mentions
    inner join spellings on {{ slug_key('mentions.brand') }} = spellings.spelling_key
    group by mentions.product_key, spellings.brand_key

),

product_brands as (

    select distinct on (product_key)
        product_key,
        brand_key
    from mention_counts
    order by product_key asc, source_priority asc, mention_count desc, brand_key asc

),

product_counts as (

    select
        brand_key,
        count(*) as product_count
    from product_brands
    group by brand_key

),

final as (

    select
        brands.brand_key::text as brand_key,
        brands.brand::text as brand,
        {{ slug_key('hierarchy.parent_brand') }}::text as parent_brand_key,
        hierarchy.parent_brand::text as parent_brand,
        hierarchy.segment::text as segment,
        coalesce(product_counts.product_count, 0)::integer as product_count,
        brands.in_brand_hierarchy::boolean as in_brand_hierarchy
    from brands
    left join hierarchy on brands.in_brand_hierarchy and brands.brand = hierarchy.brand
    left join product_counts on brands.brand_key = product_counts.brand_key

)

select * from final
