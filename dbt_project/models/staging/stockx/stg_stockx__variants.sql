-- One row per StockX catalog variant (a product in one size; newest version), columns renamed.
-- size_label prefers the default size conversion ('US W 8') over the bare variant value ('8'),
-- because only the conversion names the size system.
with

source as (

    select * from {{ source('raw', 'stockx_variants') }}

),

latest as (

    select distinct on (variant_id) *
    from source
    order by variant_id, _loaded_at desc, _source_line desc

),

renamed as (

    select
        variant_id as stockx_variant_id,
        product_id as stockx_product_id,
        variant_name,
        variant_value,
        size_chart -> 'defaultConversion' ->> 'size' as default_size_label,
        size_chart -> 'defaultConversion' ->> 'type' as default_size_type,
        coalesce(size_chart -> 'defaultConversion' ->> 'size', variant_value) as size_label,
        gtins -> 0 ->> 'gtin' as gtin,
        gtins,
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
