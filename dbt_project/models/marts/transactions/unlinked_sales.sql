-- Every sold unit no purchase is linked to, with the reason: visible, never dropped.
-- Reasons, in this order: 'no style code', 'no readable size', 'no purchase of this product and
-- size', 'only purchases after the sale date', 'earlier purchases of this product and size are
-- linked to other sales' (or reserved for the sales the reseller recorded for them).
with

sale_units as (

    select * from {{ ref('int_sale_units') }}

),

links as (

    select * from {{ ref('int_purchase_sale_links') }}

),

purchases as (

    select * from {{ ref('fct_purchases') }}

),

unlinked as (

    select sale_units.*
    from sale_units
    left join links on sale_units.sale_unit_id = links.sale_unit_id
    where links.sale_unit_id is null

),

final as (

    select
        unlinked.sale_unit_id::text as sale_unit_id,
        unlinked.sale_id::text as sale_id,
        unlinked.unit_index::integer as unit_index,
        unlinked.platform::text as platform,
        unlinked.order_number::text as order_number,
        unlinked.sold_at::timestamptz as sold_at,
        unlinked.sale_date::date as sale_date,
        unlinked.item_name::text as item_name,
        unlinked.style_code::text as style_code,
        unlinked.size_label::text as size_label,
        unlinked.product_key::text as product_key,
        unlinked.variant_key::text as variant_key,
        unlinked.payout_amount::numeric(14, 2) as payout_amount,
        unlinked.payout_currency::text as payout_currency,
        (case
            when unlinked.product_key is null then 'no style code'
            when unlinked.variant_key is null then 'no readable size'
            when not exists (select from purchases where purchases.variant_key = unlinked.variant_key)
                then 'no purchase of this product and size'
            when
                not exists (
                    select from purchases
                    where purchases.variant_key = unlinked.variant_key and purchases.purchase_date <= unlinked.sale_date
                )
                then 'only purchases after the sale date'
            else 'earlier purchases of this product and size are linked to other sales'
        end)::text as reason
    from unlinked

)

select * from final
