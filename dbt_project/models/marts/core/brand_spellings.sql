-- Every brand spelling, by slug, and the brand it means: the brand_hierarchy seed's names and
-- aliases, plus the brands dim_products and fct_purchases mention that the seed does not know.
-- Downstream models map a brand as written by joining spelling_key to the slug_key macro of
-- it (macros/core_keys.sql), so 'adidas', 'Adidas' and 'ADIDAS' are one brand and 'Air Jordan'
-- is Jordan.
-- A brand not in the seed is displayed in its most used spelling (dim_products' first).
with

hierarchy as (

    select brand, aliases
    from {{ ref('brand_hierarchy') }}

),

seed_spellings as (

    select
        {{ slug_key('hierarchy.brand') }} as spelling_key,
        hierarchy.brand
    from hierarchy

    union

    select
        {{ slug_key('alias.spelling') }} as spelling_key,
        hierarchy.brand
    from hierarchy
    cross join lateral unnest(string_to_array(hierarchy.aliases, '|')) as alias (spelling)
    where {{ slug_key('alias.spelling') }} is not null

),

seen as (

    select
        {{ slug_key('brand') }} as spelling_key,
        btrim(brand) as brand,
        1 as source_priority
    from {{ ref('dim_products') }}

    union all

    select
        {{ slug_key('brand') }} as spelling_key,
        btrim(brand) as brand,
        2 as source_priority
    from {{ ref('fct_purchases') }}

),

unknown_spellings as (

    select
        spelling_key,
        brand,
        min(source_priority) as source_priority,
        count(*) as mentions
    from seen
    where
        spelling_key is not null
        and spelling_key not in (select seed_spellings.spelling_key from seed_spellings)
    group by spelling_key, brand

),

unknown_brands as (

    select distinct on (spelling_key)
        spelling_key,
        brand
    from unknown_spellings
    order by spelling_key asc, source_priority asc, mentions desc, brand asc

),

final as (

    select
        spelling_key::text as spelling_key,
        {{ slug_key('brand') }}::text as brand_key,
        brand::text as brand,
        true as in_brand_hierarchy
    from seed_spellings

    union all

    select
        spelling_key::text as spelling_key,
        spelling_key::text as brand_key,
        brand::text as brand,
        false as in_brand_hierarchy
    from unknown_brands

)

select * from final
