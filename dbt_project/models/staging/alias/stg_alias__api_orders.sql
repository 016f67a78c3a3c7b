-- One row per Alias API order (the newest version of each order id: status and take change
-- until Alias pays out), columns renamed, cents converted to US dollars exactly.
--
-- order_number: the purchase order number without a "PO-" prefix, the number the seller's CSV
-- exports show (an assumption: no real export was compared); the order id when there is none.
-- The API documents no payouts endpoint: the payout is price_cents_after_take, set once the
-- order is completed, and paid_out_at is the updated_at of that completed version. Alias
-- reports no currency; its amounts are US dollars. The take is one fee: commission plus
-- seller fee (alias.org/fees), so fee_amount = price - payout.
with

source as (

    select * from {{ source('raw', 'alias_orders') }}

),

latest as (

    select distinct on (order_id) *
    from source
    order by order_id, updated_at desc nulls last, _loaded_at desc, _source_line desc

),

renamed as (

    select
        ---------- ids
        order_id,
        coalesce(nullif(regexp_replace(purchase_order_number, '^PO-', '', 'i'), ''), order_id) as order_number,
        purchase_order_number,
        listing_id,

        ---------- status
        status as order_status,
        fulfillment_status,
        lower(coalesce(sales_channel, 'alias')) as sales_channel,

        ---------- product
        catalog_id,
        catalog_name as product_name,
        catalog_brand as brand,
        catalog_sku as style_code,
        size as size_label,

        ---------- money (US dollars; exact: whole cents / 100)
        round(price_cents / 100.0, 2) as sale_price,
        round(price_cents_after_take / 100.0, 2) as payout_amount,
        round((price_cents - price_cents_after_take) / 100.0, 2) as fee_amount,
        'USD'::text as currency,

        ---------- timestamps (UTC)
        sold_at,
        case when price_cents_after_take is not null and status = 'ORDER_STATUS_COMPLETED' then updated_at end
            as paid_out_at,
        updated_at,

        ---------- lineage
        _batch_id as load_batch_id,
        _source as load_source,
        _loaded_at as loaded_at

    from latest

)

select * from renamed
