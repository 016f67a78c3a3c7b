-- One row per eBay Finances transaction (newest load of each transaction id and type): SALE
-- (fees per line item, net amount), REFUND, SHIPPING_LABEL, NON_SALE_CHARGE, ... A payout that
-- arrives after the order is a later version of the same transaction (status PAYOUT, payout
-- id set): only the newest counts.
with

source as (

    select * from {{ source('raw', 'ebay_api_transactions') }}

),

latest as (

    select distinct on (transaction_id, transaction_type) *
    from source
    order by transaction_id, transaction_type, _loaded_at desc, _source_line desc

),

renamed as (

    select
        ---------- ids
        transaction_id,
        transaction_type,
        order_id,
        payout_id,

        ---------- status
        transaction_status,
        booking_entry,
        transaction_status = 'PAYOUT' as is_paid_out,

        ---------- money (each amount with its own currency; amount is what the seller gets)
        amount,
        amount_currency::text as amount_currency,
        total_fee_basis_amount,
        total_fee_amount,
        total_fee_currency::text as total_fee_currency,
        fee_type,
        order_line_items,

        ---------- dates (UTC)
        transaction_date,

        ---------- lineage
        _batch_id as load_batch_id,
        _source as load_source,
        _loaded_at as loaded_at

    from latest

)

select * from renamed
