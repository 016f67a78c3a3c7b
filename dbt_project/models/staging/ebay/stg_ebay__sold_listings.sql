-- One row per eBay.com sold listing (other sellers' sales: market prices, not the reseller's
-- own sales): the newest scrape of each item number and sold date. A re-scrape of the same
-- sale differs only in the link's tracking query and is a new raw version.
with

source as (

    select * from {{ source('raw', 'ebay_sold_listings') }}

),

latest as (

    select distinct on (item_number, sold_date) *
    from source
    order by item_number, sold_date, _loaded_at desc, _source_line desc

),

renamed as (

    select
        ---------- ids
        item_number,
        marketplace,

        ---------- listing
        title as listing_title,
        split_part(link, '?', 1) as listing_url,
        size as size_label,
        nullif(btrim(condition), '') as item_condition,

        ---------- money (each amount with its own currency)
        sold_price,
        sold_price_currency::text as sold_price_currency,

        ---------- dates
        sold_date,

        ---------- lineage
        _batch_id as load_batch_id,
        _source as load_source,
        _loaded_at as loaded_at

    from latest

)

select * from renamed
