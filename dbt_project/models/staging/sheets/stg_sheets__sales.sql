-- One row per sale in the reseller's sales spreadsheet (one row per pair). A row with an
-- order number is identified by platform + order number (the format's natural key): its
-- newest version wins. Rows without an order number (local sales) have no key: each is a sale.
-- Fees and payout: where two of sale price, fees and payout are given, the third is derived;
-- an in-person sale without either has no fees (payout = sale price).
with

source as (

    select * from {{ source('raw', 'sheets_sales') }}

),

latest as (

    select distinct on (platform, order_number, case when order_number is null then _row_hash end) *
    from source
    order by
        platform, order_number, case when order_number is null then _row_hash end,
        _loaded_at desc, _source_line desc

),

mapped as (

    select
        *,
        case
            when regexp_replace(lower(platform), '[^a-z0-9]', '', 'g') = 'stockx' then 'stockx'
            when regexp_replace(lower(platform), '[^a-z0-9]', '', 'g') = 'alias' then 'alias'
            when regexp_replace(lower(platform), '[^a-z0-9]', '', 'g') = 'goat' then 'goat'
            when regexp_replace(lower(platform), '[^a-z0-9]', '', 'g') in ('ebay', 'ebayde', 'ebaycom', 'ebaycouk')
                then 'ebay'
            when regexp_replace(lower(platform), '[^a-z0-9]', '', 'g') = 'klekt' then 'klekt'
            when regexp_replace(lower(platform), '[^a-z0-9]', '', 'g') = 'restocks' then 'restocks'
            when regexp_replace(lower(platform), '[^a-z0-9]', '', 'g') = 'laced' then 'laced'
            when regexp_replace(lower(platform), '[^a-z0-9]', '', 'g') in ('wtn', 'wethenew') then 'wtn'
            when regexp_replace(lower(platform), '[^a-z0-9]', '', 'g') in ('kleinanzeigen', 'ebaykleinanzeigen')
                then 'kleinanzeigen'
            when
                regexp_replace(lower(platform), '[^a-z0-9]', '', 'g') in (
                    'inperson', 'local', 'lokal', 'cash', 'bar', 'privat', 'private', 'offline', 'person'
                )
                then 'in_person'
            when regexp_replace(lower(platform), '[^a-z0-9]', '', 'g') in ('return', 'returned', 'retoure')
                then 'return'
            else 'other'
        end as platform_key
    from latest

),

renamed as (

    select
        ---------- ids
        'sales_sheet:' || _row_hash::text as sale_row_id,
        platform_key as platform,
        platform as platform_name,
        nullif(btrim(order_number), '') as order_number,

        ---------- product
        style_code,
        product_name,
        size as size_label,
        regexp_replace(btrim(size), '^([0-9]+),([0-9])$', '\1.\2') as size_label_normalized,

        ---------- money (each amount with its own currency)
        sale_price,
        currency::text as sale_price_currency,
        coalesce(
            fees,
            sale_price - payout,
            case when platform_key = 'in_person' then 0 end
        ) as fees,
        currency::text as fees_currency,
        coalesce(
            payout,
            sale_price - fees,
            case when platform_key = 'in_person' then sale_price end
        ) as payout,
        currency::text as payout_currency,

        ---------- dates
        sale_date,

        notes,

        ---------- lineage
        _batch_id as load_batch_id,
        _source as load_source,
        _source_line as load_source_line,
        _loaded_at as loaded_at

    from mapped

)

select * from renamed
-- Sales entered in Budibase: the same columns, so every reader of hand-kept sales has them.
union all
select * from {{ ref('stg_budibase__sales') }}
