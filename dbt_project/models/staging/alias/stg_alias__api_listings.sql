-- One row per Alias API listing (the newest version of each listing id: price and status change
-- while it is listed), columns renamed, cents converted to US dollars exactly.
--
-- The sync reads every listing each run; an unchanged one is a duplicate and adds no row, a
-- changed one (price, status) adds a version. Newest by updated_at; when Alias sends the same
-- updated_at twice, the later load wins. Alias reports no currency: its amounts are US cents.
-- A listing names a product and size (catalog id, SKU), not one of our purchased pairs.
with

source as (

    select * from {{ source('raw', 'alias_listings') }}

),

latest as (

    select distinct on (listing_id) *
    from source
    order by listing_id, updated_at desc nulls last, _loaded_at desc, _source_line desc

),

renamed as (

    select
        ---------- ids
        listing_id,

        ---------- status
        status as listing_status,

        ---------- product
        catalog_id,
        catalog_sku as style_code,
        size as size_label,

        ---------- money (US dollars; exact: whole cents on numeric / 100)
        round(price_cents::numeric / 100, 2) as listing_price,
        'USD'::text as listing_price_currency,

        ---------- timestamps (UTC)
        created_at,
        updated_at,

        ---------- lineage
        _batch_id as load_batch_id,
        _source as load_source,
        _loaded_at as loaded_at

    from latest

)

select * from renamed
