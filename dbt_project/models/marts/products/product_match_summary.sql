-- How many product mentions matched a product (and size): one row, always (zero mentions
-- give a null match_rate). Read by the Dagster asset check on products/dim_variants.
with

matched as (

    select * from {{ ref('int_product_mentions_matched') }}

),

final as (

    select
        count(*)::bigint as mentions,
        (count(*) filter (where is_matched))::bigint as matched,
        (count(*) filter (where not is_matched))::bigint as unmatched,
        round((count(*) filter (where is_matched))::numeric / nullif(count(*), 0), 6)::numeric(7, 6) as match_rate,
        (count(*) filter (where unmatched_reason = 'no style code'))::bigint as unmatched_no_style_code,
        (count(*) filter (where unmatched_reason = 'unreadable size'))::bigint as unmatched_unreadable_size,
        (count(*) filter (where unmatched_reason = 'style code unknown to the catalog'))::bigint
            as unmatched_unknown_style_code
    from matched

)

select * from final
