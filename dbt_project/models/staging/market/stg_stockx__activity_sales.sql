-- StockX sales activity feed, one row per sale (every raw row: identical rows are separate
-- sales), columns renamed; the style code in its canonical form when the file has one.
with

source as (

    select * from {{ source('raw', 'stockx_activity_sales') }}

),

renamed as (

    select
        ---------- ids
        'stockx_activity_sales:' || _row_hash::text as market_sale_id,
        nullif(btrim(stockx_product_id), '') as stockx_product_id,

        ---------- product
        product as product_name,
        {{ normalize_style_code('style_code') }} as style_code,
        nullif(btrim(brand), '') as brand,
        nullif(btrim(category), '') as category,
        nullif(btrim(shoe_size), '') as size_label,

        ---------- money (each amount with its own currency)
        amount as price_amount,
        amount_currency::text as price_currency,
        retail_price as retail_price_amount,
        case when retail_price is not null then retail_price_currency::text end as retail_price_currency,

        ---------- dates
        created_at as sold_at,
        release_date,

        ---------- lineage
        _batch_id as load_batch_id,
        _source as load_source,
        _source_line as load_source_line,
        _loaded_at as loaded_at

    from source

)

select * from renamed
