-- Nothing is dropped: every product mention is either matched (its product in dim_products
-- and, when it names a readable size, its variant in dim_variants) or listed in
-- unmatched_items. Returns the mentions that are neither.
{{ config(meta={'dagster': {'ref': {'name': 'unmatched_items'}}}) }}
with mentions as (
    select * from {{ ref('int_product_mentions_matched') }}
)
select mentions.mention_id, mentions.unmatched_reason, mentions.product_key, mentions.variant_key
from mentions
left join {{ ref('dim_products') }} as products on mentions.product_key = products.product_key
left join {{ ref('dim_variants') }} as variants on mentions.variant_key = variants.variant_key
left join {{ ref('unmatched_items') }} as unmatched on mentions.mention_id = unmatched.mention_id
where
    case
        when mentions.is_matched
            then
                products.product_key is null
                or (
                    mentions.size_status = 'readable'
                    and mentions.mention_level = 'variant'
                    and variants.variant_key is null
                )
                or unmatched.mention_id is not null
        else unmatched.mention_id is null
    end
