-- One row per sold order on any platform. Each amount keeps its own currency; the payout
-- is authoritative (fee columns in the StockX report are blank in some rows although a fee
-- was taken), so total fees are derived as gross minus payout.
with

stockx_report as (

    select * from {{ ref('stg_stockx__sales_report') }}

),

stockx_sales as (

    select
        'stockx:' || order_number as sale_id,
        'stockx' as platform,
        'stockx_sales_report' as source_system,
        order_number,
        sold_at,
        (sold_at at time zone 'UTC')::date as sale_date,
        paid_out_at,
        item_name,
        style_code,
        size_label,
        quantity::integer as quantity,
        buyer_country,
        buyer_city,
        listing_price::numeric(14, 2) as gross_amount,
        listing_price_currency::text as gross_currency,
        seller_fee::numeric(14, 2) as seller_fee_amount,
        seller_fee_currency::text as seller_fee_currency,
        payment_processing_fee::numeric(14, 2) as payment_fee_amount,
        payment_processing_fee_currency::text as payment_fee_currency,
        shipping_fee::numeric(14, 2) as shipping_fee_amount,
        shipping_fee_currency::text as shipping_fee_currency,
        total_payout::numeric(14, 2) as payout_amount,
        total_payout_currency::text as payout_currency,
        case
            when listing_price_currency = total_payout_currency
                then (listing_price - total_payout)::numeric(14, 2)
        end as total_fees_amount,
        load_batch_id
    from stockx_report

)

select * from stockx_sales
