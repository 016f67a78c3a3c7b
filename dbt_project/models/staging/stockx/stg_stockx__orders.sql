-- One row per StockX API order: the newest version of each order (status and payout change
-- until the order is paid out), columns renamed to the warehouse vocabulary.
with

source as (

    select * from {{ source('raw', 'stockx_orders') }}

),

latest as (

    select distinct on (order_number) *
    from source
    order by order_number, updated_at desc nulls last, _loaded_at desc, _source_line desc

),

renamed as (

    select
        ---------- ids
        order_number,
        listing_id,
        ask_id,

        ---------- status
        status as order_status,
        inventory_type,
        authentication_status,
        authentication_failure_notes,
        initiated_shipments -> 'inbound' ->> 'displayId' as inbound_shipment_id,

        ---------- product
        product_id as stockx_product_id,
        product_name,
        style_id as style_code,
        variant_id as stockx_variant_id,
        variant_name,
        variant_value as size_label,

        ---------- money (each amount with its own currency)
        amount as order_amount,
        currency_code::text as order_currency,
        payout_sale_price as sale_price,
        payout_total_adjustments as total_adjustments,
        payout_total as total_payout,
        payout_currency_code::text as payout_currency,
        payout_adjustments,

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
