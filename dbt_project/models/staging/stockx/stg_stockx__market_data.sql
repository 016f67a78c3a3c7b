-- StockX market data, one row per variant, currency and snapshot day (newest version of the
-- day). Every amount is numeric in `currency`.
with

source as (

    select * from {{ source('raw', 'stockx_market_data') }}

),

latest as (

    select distinct on (variant_id, currency_code, snapshot_date) *
    from source
    order by variant_id, currency_code, snapshot_date, _loaded_at desc, _source_line desc

),

renamed as (

    select
        variant_id as stockx_variant_id,
        product_id as stockx_product_id,
        snapshot_date,
        currency_code::text as currency,
        lowest_ask_amount,
        highest_bid_amount,
        sell_faster_amount,
        earn_more_amount,
        flex_lowest_ask_amount,
        standard_market_data,
        flex_market_data,
        direct_market_data,

        ---------- lineage
        _batch_id as load_batch_id,
        _source as load_source,
        _loaded_at as loaded_at

    from latest

)

select * from renamed
