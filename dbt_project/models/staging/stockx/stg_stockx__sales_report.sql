-- One row per StockX order from the seller sales report: the newest version of each order
-- (a later export may carry a payout that an earlier one lacked).
with

source as (

    select * from {{ source('raw', 'stockx_sales_report') }}

),

latest as (

    select distinct on (order_number) *
    from source
    order by order_number, payout_date desc nulls last, _loaded_at desc, _source_line desc

),

renamed as (

    select
        ---------- ids
        order_number,
        invoice_number,
        nullif(payout_id, '0') as payout_id,
        provider_transaction_id,

        ---------- product
        item as item_name,
        sku_name as variant_name,
        style as style_code,
        sku_size as size_label,
        quantity,

        ---------- buyer
        buyer_destination_country as buyer_country,
        buyer_destination_city as buyer_city,

        ---------- money (each amount with its own currency)
        listing_price,
        listing_price_currency,
        seller_fee,
        seller_fee_currency,
        payment_processing as payment_processing_fee,
        payment_processing_currency as payment_processing_fee_currency,
        shipping_fee,
        shipping_fee_currency,
        total_payout,
        total_payout_currency,
        total_net_amount,
        total_vat_amount,
        vat_rate,

        ---------- timestamps (UTC)
        sale_date as sold_at,
        payout_date as paid_out_at,
        invoice_date as invoiced_at,

        ---------- lineage
        _batch_id as load_batch_id,
        _source as load_source,
        _loaded_at as loaded_at

    from latest

)

select * from renamed
