-- One row per purchased unit (pair): every line of the purchases sheets expanded to its
-- quantity (unit_index 1..n, prices per pair as written), and every Notion purchase page (one
-- page per pair). Style code canonical and keyed like the products schema (product_key,
-- variant_key = product key, size system and value).
--
-- Net and gross price per unit: kept as recorded when both are given; otherwise the missing
-- one comes from the VAT rate - the recorded rate, else var('default_vat_rate') (0.19, German
-- VAT): net = round(gross / (1 + rate), 2), gross = round(net * (1 + rate), 2). A Notion page
-- without the VAT? tick is VAT-free (private sellers): rate 0.
--
-- The sale the reseller recorded for the unit: a sheet line's extra "Sale ID" column, or the
-- Notion page's Sale relation (the related Sales page, its Sale ID and platform), resolved to
-- an order of int_sale_units (recorded_order_key) for linking:
--   1. a Notion purchase's related Sales page -> the sale that page is (or was merged into);
--   2. else the recorded order number -> the order with that number, on the recorded platform
--      when there is one; a number several platforms' orders share resolves to nothing.
-- So fct_purchases builds after fct_sales, and `dbt build --full-refresh -s fct_sales+` (what a
-- shape change asks for) rebuilds it with the whole linking layer.
{%- set default_vat_rate = var('default_vat_rate', 0.19) %}
with

sheet_lines as (

    select
        source,
        purchase_line_id,
        quantity,
        purchase_date,
        delivery_date,
        supplier,
        supplier_order_number,
        supplier_invoice_number,
        product_name,
        brand,
        style_code,
        size_label,
        size_label_normalized,
        gross_price,
        gross_price_currency,
        net_price,
        net_price_currency,
        vat_rate as recorded_vat_rate,
        {{ default_vat_rate }}::numeric as fallback_vat_rate,
        sale_order_number,
        case
            when regexp_replace(lower(sale_platform_name), '[^a-z0-9]', '', 'g')
                in ('stockx', 'alias', 'goat', 'ebay', 'klekt', 'restocks', 'laced', 'wtn', 'kleinanzeigen')
                then regexp_replace(lower(sale_platform_name), '[^a-z0-9]', '', 'g')
            when sale_platform_name is not null then 'other'
        end as sale_platform,
        null::text as notion_sale_page_id,
        null::text as status,
        load_batch_id
    from {{ ref('stg_sheets__purchases') }}

),

notion_purchases as (

    select * from {{ ref('stg_notion__purchases') }}

),

notion_sales as (

    select * from {{ ref('stg_notion__sales') }}

),

notion_relations as (

    -- The dual Purchase <-> Sale relation, read from both sides (a page lists at most 25
    -- related pages inline, so either side may be the complete one).
    select purchases.purchase_page_id, related.sale_page_id
    from notion_purchases as purchases
    cross join lateral jsonb_array_elements_text(purchases.sale_page_ids) as related (sale_page_id)
    union
    select related.purchase_page_id, sales.sale_page_id
    from notion_sales as sales
    cross join lateral jsonb_array_elements_text(sales.purchase_page_ids) as related (purchase_page_id)

),

notion_recorded_sales as (

    -- One sale per purchase page (a pair is sold once): the earliest related sale.
    select distinct on (notion_relations.purchase_page_id)
        notion_relations.purchase_page_id,
        notion_sales.sale_page_id,
        notion_sales.order_number,
        notion_sales.platform
    from notion_relations
    inner join notion_sales on notion_relations.sale_page_id = notion_sales.sale_page_id
    order by notion_relations.purchase_page_id, notion_sales.sale_date nulls last, notion_sales.sale_page_id

),

notion_lines as (

    select
        'notion_purchases' as source,
        'notion_purchases:' || purchases.purchase_page_id as purchase_line_id,
        1 as quantity,
        purchases.purchase_date,
        purchases.delivery_date,
        purchases.supplier,
        purchases.supplier_order_number,
        purchases.supplier_invoice_number,
        purchases.product_name,
        purchases.brand,
        purchases.style_code,
        purchases.size_label,
        purchases.size_label_normalized,
        purchases.gross_price,
        purchases.gross_price_currency,
        purchases.net_price,
        purchases.net_price_currency,
        case when not purchases.vat_included then 0::numeric end as recorded_vat_rate,
        {{ default_vat_rate }}::numeric as fallback_vat_rate,
        recorded.order_number as sale_order_number,
        recorded.platform as sale_platform,
        recorded.sale_page_id as notion_sale_page_id,
        purchases.status,
        purchases.load_batch_id
    from notion_purchases as purchases
    left join notion_recorded_sales as recorded on purchases.purchase_page_id = recorded.purchase_page_id

),

lines as (

    select * from sheet_lines
    union all
    select * from notion_lines

),

priced as (

    select
        *,
        case
            when net_price is not null and gross_price is not null then 'net_and_gross'
            when gross_price is not null then 'net_from_gross'
            when net_price is not null then 'gross_from_net'
            else 'no_price'
        end as price_basis,
        coalesce(recorded_vat_rate, fallback_vat_rate) as applied_vat_rate
    from lines

),

amounts as (

    select
        *,
        case price_basis
            when 'net_and_gross' then gross_price
            when 'gross_from_net' then round(net_price * (1 + applied_vat_rate), 2)
            else gross_price
        end as unit_gross_price,
        case price_basis
            when 'net_and_gross' then net_price
            when 'net_from_gross' then round(gross_price / (1 + applied_vat_rate), 2)
            else net_price
        end as unit_net_price,
        case price_basis
            -- both recorded without a rate: the fallback rate when net and gross agree with it
            -- to the cent (42.02 / 50.00 at 19 %), else the rate they imply
            when 'net_and_gross'
                then
                    coalesce(
                        recorded_vat_rate,
                        case
                            when round(net_price * (1 + fallback_vat_rate), 2) = gross_price
                                or round(gross_price / (1 + fallback_vat_rate), 2) = net_price
                                then fallback_vat_rate
                            when net_price <> 0 then round(gross_price / net_price - 1, 4)
                        end
                    )
            when 'no_price' then recorded_vat_rate
            else applied_vat_rate
        end as vat_rate
    from priced

),

keyed as (

    select
        *,
        {{ normalize_style_code('style_code') }} as style_code_canonical,
        {{ size_parsed('size_label_normalized') }} as size_parsed
    from amounts

),

units as (

    select
        keyed.*,
        (keyed.purchase_line_id || ':' || unit_index) as purchase_id,
        {{ style_key('keyed.style_code_canonical') }} as product_key,
        unit_index
    from keyed
    cross join lateral generate_series(1, greatest(keyed.quantity, 1)) as unit_index

),

---------- the recorded sale, resolved to an order of int_sale_units

sale_orders as (

    select distinct sale_id, order_key, order_number, platform_family
    from {{ ref('int_sale_units') }}

),

notion_sale_pages as (

    -- The fct_sales sale every Notion sales page is, or was merged into.
    select distinct notion_page_id, sale_id
    from {{ ref('int_sales_matched') }}
    where source_system = 'notion_sales' and sale_id is not null

),

by_page as (

    select units.purchase_id, min(sale_orders.order_key) as order_key
    from units
    inner join notion_sale_pages on units.notion_sale_page_id = notion_sale_pages.notion_page_id
    inner join sale_orders on notion_sale_pages.sale_id = sale_orders.sale_id
    group by units.purchase_id

),

by_number as (

    select units.purchase_id, min(sale_orders.order_key) as order_key
    from units
    inner join sale_orders
        on units.sale_order_number = sale_orders.order_number
        and (
            units.sale_platform is null
            or units.sale_platform = 'other'
            or (case when units.sale_platform in ('alias', 'goat') then 'alias' else units.sale_platform end)
            = sale_orders.platform_family
        )
    where not exists (select from by_page where by_page.purchase_id = units.purchase_id)
    group by units.purchase_id
    having count(distinct sale_orders.order_key) = 1

),

resolved as (

    select
        units.*,
        coalesce(by_page.order_key, by_number.order_key) as recorded_order_key
    from units
    left join by_page on units.purchase_id = by_page.purchase_id
    left join by_number on units.purchase_id = by_number.purchase_id

),

final as (

    select
        purchase_id::text as purchase_id,
        purchase_line_id::text as purchase_line_id,
        unit_index::integer as unit_index,
        greatest(quantity, 1)::integer as units_in_line,
        source::text as source,
        purchase_date::date as purchase_date,
        delivery_date::date as delivery_date,
        supplier::text as supplier,
        supplier_order_number::text as supplier_order_number,
        supplier_invoice_number::text as supplier_invoice_number,
        product_name::text as product_name,
        brand::text as brand,
        style_code_canonical::text as style_code,
        style_code::text as style_code_raw,
        product_key::text as product_key,
        size_label::text as size_label,
        nullif(split_part(size_parsed, '|', 1), '!')::text as size_system,
        nullif(split_part(size_parsed, '|', 2), '')::text as size_value,
        (case
            when product_key is not null and size_parsed is not null and size_parsed <> '!'
                then product_key || ':' || split_part(size_parsed, '|', 1) || ' ' || split_part(size_parsed, '|', 2)
        end)::text as variant_key,
        unit_gross_price::numeric(14, 2) as gross_price,
        gross_price_currency::text as gross_price_currency,
        unit_net_price::numeric(14, 2) as net_price,
        net_price_currency::text as net_price_currency,
        vat_rate::numeric(6, 4) as vat_rate,
        (unit_gross_price - unit_net_price)::numeric(14, 2) as vat_amount,
        (case when unit_gross_price is not null and unit_net_price is not null then gross_price_currency end)::text
            as vat_amount_currency,
        price_basis::text as price_basis,
        sale_order_number::text as sale_order_number,
        sale_platform::text as sale_platform,
        notion_sale_page_id::text as notion_sale_page_id,
        status::text as status,
        load_batch_id::uuid as load_batch_id,
        recorded_order_key::text as recorded_order_key,
        (case
            when lower(status) in ('cancelled', 'canceled') then 'purchase cancelled'
            when sale_platform = 'return' then 'returned to supplier'
        end)::text as excluded_reason
    from resolved

)

select * from final
