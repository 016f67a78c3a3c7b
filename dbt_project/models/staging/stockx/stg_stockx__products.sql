-- One row per StockX catalog product (newest version), columns renamed.
with

source as (

    select * from {{ source('raw', 'stockx_products') }}

),

latest as (

    select distinct on (product_id) *
    from source
    order by product_id, _loaded_at desc, _source_line desc

),

renamed as (

    select
        product_id as stockx_product_id,
        url_key,
        style_id as style_code,
        product_type,
        title,
        brand,
        gender,
        season,
        release_date,
        retail_price,
        colorway,
        color,
        size_chart -> 'defaultConversion' ->> 'name' as default_size_chart,
        size_chart,
        is_flex_eligible,
        is_direct_eligible,

        ---------- lineage
        _batch_id as load_batch_id,
        _source as load_source,
        _loaded_at as loaded_at

    from latest

)

select * from renamed
