-- One row per Alias/GOAT invoice (newest version of each order id), columns renamed. Every
-- amount is in `currency` except final_amount_exchanged, the payout after a currency exchange,
-- in final_amount_exchanged_currency (the export gives a sign: EUR for "€").
with

source as (

    select * from {{ source('raw', 'alias_invoice') }}

),

latest as (

    select distinct on (order_id) *
    from source
    order by order_id, _loaded_at desc, _source_line desc

),

renamed as (

    select
        ---------- ids
        order_id as order_number,
        case lower(btrim(site)) when 'goat' then 'goat' else 'alias' end as platform,
        site,
        tracking_number,

        ---------- product: "Air Jordan 5 Retro 'Grape' - Size 10.5" / "..., Size 9"
        item_name_with_size,
        coalesce(
            nullif(btrim(regexp_replace(item_name_with_size, '\s*[-,]?\s*Size\s+\S+\s*$', '', 'i')), ''),
            item_name_with_size
        ) as item_name,
        substring(item_name_with_size from '(?i)Size\s+(\S+)\s*$') as size_label,

        ---------- money (each amount with its own currency)
        amount,
        currency::text as amount_currency,
        store_price,
        currency::text as store_price_currency,
        processing_fee,
        currency::text as processing_fee_currency,
        shipping_fee,
        currency::text as shipping_fee_currency,
        transaction_fee,
        currency::text as transaction_fee_currency,
        bulk_ship_discount,
        currency::text as bulk_ship_discount_currency,
        total_amount_net,
        currency::text as total_amount_net_currency,
        vat as vat_amount,
        currency::text as vat_amount_currency,
        total_vat_included,
        currency::text as total_vat_included_currency,
        coalesce(currency_exchange, false) as has_currency_exchange,
        exchange_rate,
        final_amount_exchanged,
        case
            when final_amount_exchanged is null then null
            when btrim(converted_currency_sign) = '€' then 'EUR'
            when btrim(converted_currency_sign) = '£' then 'GBP'
            when btrim(converted_currency_sign) in ('$', 'US$') then 'USD'
            when upper(btrim(converted_currency_sign)) ~ '^[A-Z]{3}$' then upper(btrim(converted_currency_sign))
        end as final_amount_exchanged_currency,
        tax_exempt_notice,

        ---------- dates
        invoice_date as invoiced_on,
        delivery_date as delivered_on,

        ---------- lineage
        _batch_id as load_batch_id,
        _source as load_source,
        _loaded_at as loaded_at

    from latest

)

select * from renamed
