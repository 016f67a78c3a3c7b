-- Every purchased unit no sale is linked to - in stock, or not linkable - with the reason:
-- visible, never dropped. Reasons, in this order: 'purchase cancelled', 'returned to
-- supplier', 'recorded sale not found' (the Sale ID / Sale relation names no sale in
-- fct_sales), 'recorded sale already linked to another purchase', 'no style code', 'no
-- readable size', 'no purchase date', 'no sale of this product and size', 'no unlinked sale of
-- this product and size on or after the purchase date'.
with

purchase_units as (

    select
        *,
        (sale_order_number is not null or notion_sale_page_id is not null) as has_recorded_sale
    from {{ ref('fct_purchases') }}

),

links as (

    select * from {{ ref('int_purchase_sale_links') }}

),

sale_units as (

    select * from {{ ref('int_sale_units') }}

),

unsold as (

    select purchase_units.*
    from purchase_units
    left join links on purchase_units.purchase_id = links.purchase_id
    where links.purchase_id is null

),

final as (

    select
        unsold.purchase_id::text as purchase_id,
        unsold.purchase_line_id::text as purchase_line_id,
        unsold.unit_index::integer as unit_index,
        unsold.source::text as source,
        unsold.purchase_date::date as purchase_date,
        unsold.supplier::text as supplier,
        unsold.product_name::text as product_name,
        unsold.style_code::text as style_code,
        unsold.product_key::text as product_key,
        unsold.size_label::text as size_label,
        unsold.variant_key::text as variant_key,
        unsold.net_price::numeric(14, 2) as net_price,
        unsold.net_price_currency::text as net_price_currency,
        unsold.gross_price::numeric(14, 2) as gross_price,
        unsold.gross_price_currency::text as gross_price_currency,
        unsold.sale_order_number::text as sale_order_number,
        unsold.status::text as status,
        (case
            when unsold.excluded_reason is not null then unsold.excluded_reason
            when unsold.has_recorded_sale and unsold.recorded_order_key is null then 'recorded sale not found'
            when unsold.has_recorded_sale then 'recorded sale already linked to another purchase'
            when unsold.product_key is null then 'no style code'
            when unsold.variant_key is null then 'no readable size'
            when unsold.purchase_date is null then 'no purchase date'
            when not exists (select from sale_units where sale_units.variant_key = unsold.variant_key)
                then 'no sale of this product and size'
            else 'no unlinked sale of this product and size on or after the purchase date'
        end)::text as reason
    from unsold

)

select * from final
