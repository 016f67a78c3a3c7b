-- StockX sales in the 2019 Data Contest layout, one row per sale (every raw row: identical
-- rows are separate sales), columns renamed. The file has a day, no time: sold_at is 00:00 UTC
-- of the order date. The brand's stray spaces (" Yeezy") are trimmed.
with

source as (

    select * from {{ source('raw', 'stockx_contest_sales') }}

),

renamed as (

    select
        ---------- ids
        'stockx_contest_sales:' || _row_hash::text as market_sale_id,

        ---------- product
        sneaker_name as product_name,
        nullif(btrim(brand), '') as brand,
        nullif(btrim(shoe_size), '') as size_label,
        nullif(btrim(buyer_region), '') as buyer_region,

        ---------- money (each amount with its own currency)
        sale_price as price_amount,
        sale_price_currency::text as price_currency,
        retail_price as retail_price_amount,
        retail_price_currency::text as retail_price_currency,

        ---------- dates
        (order_date::timestamp at time zone 'UTC') as sold_at,
        release_date,

        ---------- lineage
        _batch_id as load_batch_id,
        _source as load_source,
        _source_line as load_source_line,
        _loaded_at as loaded_at

    from source

)

select * from renamed
