-- One row per sold order line on any platform: StockX (seller report, API orders with a
-- payout), eBay order lines, Alias/GOAT (invoices, consignment export), and the reseller's
-- own records of sales no platform export has (Notion, sales sheet). Which records are the
-- same sale and which one wins is decided in int_sales_matched (precedence documented there
-- and in the YAML); a manual record of a platform sale only fills what the platform row
-- lacks (enriched_by).
--
-- Each amount keeps its own currency; the payout is authoritative (fee columns in the StockX
-- report are blank in some rows although a fee was taken), so total fees are derived as gross
-- minus payout. The payout is null where no source reports it (eBay orders report, Alias
-- consignment export, a sheet row with neither fees nor payout).
with

matched as (

    select * from {{ ref('int_sales_matched') }}

),

primary_rows as (

    select * from matched
    where match_role = 'primary'

),

enriching as (

    select * from matched
    where match_role = 'enriches'

),

combined as (

    select
        primary_rows.sale_id,
        primary_rows.platform,
        primary_rows.source_system,
        primary_rows.order_number,
        primary_rows.order_line,
        primary_rows.sold_at,
        primary_rows.sale_date,
        primary_rows.paid_out_at,
        coalesce(primary_rows.item_name, enriching.item_name) as item_name,
        coalesce(primary_rows.style_code, enriching.style_code) as style_code,
        coalesce(primary_rows.size_label, enriching.size_label) as size_label,
        coalesce(primary_rows.product_key, enriching.product_key) as product_key,
        case
            when primary_rows.variant_key is not null then primary_rows.variant_key
            when enriching.product_key = coalesce(primary_rows.product_key, enriching.product_key)
                then enriching.variant_key
        end as variant_key,
        primary_rows.quantity,
        primary_rows.buyer_country,
        primary_rows.buyer_city,
        primary_rows.gross_amount,
        primary_rows.gross_currency,
        primary_rows.seller_fee_amount,
        primary_rows.seller_fee_currency,
        primary_rows.payment_fee_amount,
        primary_rows.payment_fee_currency,
        primary_rows.shipping_fee_amount,
        primary_rows.shipping_fee_currency,
        coalesce(primary_rows.payout_amount, enriching.payout_amount) as payout_amount,
        case
            when primary_rows.payout_amount is null and enriching.payout_amount is not null
                then enriching.payout_currency
            else primary_rows.payout_currency
        end as payout_currency,
        enriching.source_system as enriched_by,
        primary_rows.load_batch_id
    from primary_rows
    left join enriching on primary_rows.sale_id = enriching.sale_id

),

final as (

    select
        sale_id::text as sale_id,
        platform::text as platform,
        source_system::text as source_system,
        order_number::text as order_number,
        sold_at::timestamptz as sold_at,
        sale_date::date as sale_date,
        paid_out_at::timestamptz as paid_out_at,
        item_name::text as item_name,
        style_code::text as style_code,
        size_label::text as size_label,
        quantity::integer as quantity,
        buyer_country::text as buyer_country,
        buyer_city,
        gross_amount::numeric(14, 2) as gross_amount,
        gross_currency::text as gross_currency,
        seller_fee_amount::numeric(14, 2) as seller_fee_amount,
        seller_fee_currency::text as seller_fee_currency,
        payment_fee_amount::numeric(14, 2) as payment_fee_amount,
        payment_fee_currency::text as payment_fee_currency,
        shipping_fee_amount::numeric(14, 2) as shipping_fee_amount,
        shipping_fee_currency::text as shipping_fee_currency,
        payout_amount::numeric(14, 2) as payout_amount,
        payout_currency::text as payout_currency,
        case
            when gross_currency = payout_currency then (gross_amount - payout_amount)::numeric(14, 2)
        end as total_fees_amount,
        load_batch_id::uuid as load_batch_id,
        order_line::text as order_line,
        product_key::text as product_key,
        variant_key::text as variant_key,
        enriched_by::text as enriched_by
    from combined

)

select * from final
