-- One row per product and size (variant_key = product key, size system and value, e.g.
-- DD1391100:US M 10). Sizes convert through the size_master seed: US sizes by system and
-- number, EU and UK sizes through the men's chart when exactly one men's size has them.
with

mentions as (

    select * from {{ ref('int_product_mentions_matched') }}
    where variant_key is not null

),

size_master as (

    select * from {{ ref('size_master') }}

),

mens_by_eu as (

    select eu_size, min(us_size) as us_size, min(uk_size) as uk_size, min(cm) as cm
    from size_master
    where size_system = 'US M'
    group by eu_size
    having count(*) = 1

),

mens_by_uk as (

    select uk_size, min(us_size) as us_size, min(eu_size) as eu_size, min(cm) as cm
    from size_master
    where size_system = 'US M'
    group by uk_size
    having count(*) = 1

),

variants as (

    select
        variant_key,
        min(product_key) as product_key,
        min(size_system) as size_system,
        min(size_value) as size_value,
        count(*) as mention_count
    from mentions
    group by variant_key

),

stockx_ids as (

    -- The StockX variant of the product dim_products names, catalog variants before ids seen
    -- only in orders, newest first.
    select distinct on (mentions.variant_key)
        mentions.variant_key,
        mentions.stockx_variant_id,
        stockx_variants.gtin
    from mentions
    left join {{ ref('stg_stockx__variants') }} as stockx_variants
        on mentions.stockx_variant_id = stockx_variants.stockx_variant_id
    left join {{ ref('dim_products') }} as products
        on mentions.product_key = products.product_key
    where mentions.stockx_variant_id is not null
    order by
        mentions.variant_key,
        (stockx_variants.stockx_product_id is not distinct from products.stockx_product_id) desc,
        (stockx_variants.stockx_variant_id is not null) desc,
        mentions.seen_at desc,
        mentions.stockx_variant_id

),

converted as (

    select
        variants.*,
        case
            when variants.size_system like 'US %' then us_chart.us_m_equivalent
            when variants.size_system = 'EU' then mens_by_eu.us_size
            when variants.size_system = 'UK' then mens_by_uk.us_size
        end as us_m_size,
        case
            when variants.size_system like 'US %' then us_chart.eu_size
            when variants.size_system = 'EU' then eu_value.eu_size
            when variants.size_system = 'UK' then mens_by_uk.eu_size
        end as eu_size,
        case
            when variants.size_system like 'US %' then us_chart.uk_size
            when variants.size_system = 'EU' then mens_by_eu.uk_size
            when variants.size_system = 'UK' then uk_value.uk_size
        end as uk_size,
        case
            when variants.size_system like 'US %' then us_chart.cm
            when variants.size_system = 'EU' then mens_by_eu.cm
            when variants.size_system = 'UK' then mens_by_uk.cm
        end as cm
    from variants
    -- numeric values only for the systems whose values are numbers (US 10.5, EU 44.5, UK 9)
    left join lateral (
        select case
            when variants.size_system = 'EU' and variants.size_value ~ '^[0-9]{2}(\.[0-9])?$'
                then variants.size_value::numeric
        end as eu_size
    ) as eu_value on true
    left join lateral (
        select case when variants.size_system = 'UK' then variants.size_value::numeric end as uk_size
    ) as uk_value on true
    left join size_master as us_chart
        on variants.size_system = us_chart.size_system
        and us_chart.us_size = case when variants.size_system like 'US %' then variants.size_value::numeric end
    left join mens_by_eu on eu_value.eu_size = mens_by_eu.eu_size
    left join mens_by_uk on uk_value.uk_size = mens_by_uk.uk_size

),

final as (

    select
        converted.variant_key::text as variant_key,
        converted.product_key::text as product_key,
        converted.size_system::text as size_system,
        converted.size_value::text as size_value,
        converted.us_m_size::numeric(4, 1) as us_m_size,
        converted.eu_size::numeric(4, 1) as eu_size,
        converted.uk_size::numeric(4, 1) as uk_size,
        converted.cm::numeric(4, 1) as cm,
        stockx_ids.gtin::text as gtin,
        stockx_ids.stockx_variant_id::text as stockx_variant_id,
        converted.mention_count::integer as mention_count
    from converted
    left join stockx_ids on converted.variant_key = stockx_ids.variant_key

)

select * from final
