-- Every mention that could not be matched to a product and size, with the reason and the
-- source row's identifiers: visible, never dropped. Reasons: 'no style code' (includes
-- non-sneaker items whose style is N/A), 'unreadable size', 'style code unknown to the catalog'.
with

matched as (

    select * from {{ ref('int_product_mentions_matched') }}

),

final as (

    select
        mention_id::text as mention_id,
        source::text as source,
        source_id::text as source_id,
        unmatched_reason::text as reason,
        style_code_raw::text as style_code_raw,
        size_label_raw::text as size_label_raw,
        style_code::text as style_code,
        product_key::text as product_key,
        size_label::text as size_label,
        product_title::text as product_title,
        brand::text as brand,
        stockx_product_id::text as stockx_product_id,
        stockx_variant_id::text as stockx_variant_id,
        seen_at::timestamptz as seen_at,
        load_batch_id::uuid as load_batch_id,
        load_source::text as load_source
    from matched
    where not is_matched

)

select * from final
