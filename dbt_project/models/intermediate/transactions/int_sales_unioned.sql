-- Every record of a sale in any source, one row per source row, in one shape: the platform's
-- order number (and line), when, what (style code, size, product and variant key), the money
-- with a currency per amount, and whether the source is the platform's own record
-- (is_platform_source) or one the reseller keeps by hand (sales sheet, Notion).
-- int_sales_matched decides which rows are the same sale; fct_sales keeps one row per sale.
--
-- Platform sources: StockX seller report and API orders with a payout (not canceled or
-- returned), eBay API order lines (not cancelled or refunded in full; fees, partial refunds
-- and shipping labels from Finances) and Orders report lines (not the order summary rows, not
-- lines the API has refunded in full), Alias/GOAT invoices and Alias
-- consignment sales. Manual sources: Notion sales and the sales sheet, without returns to the
-- supplier (platform 'return': no sale). Date-only sources sell at 00:00 UTC of their day.
with

stockx_report as (

    select
        'stockx_sales_report' as source_system,
        order_number as source_row_id,
        true as is_platform_source,
        1 as source_precedence,
        'stockx' as platform,
        order_number,
        null::text as order_line,
        sold_at,
        paid_out_at,
        item_name,
        style_code,
        size_label,
        size_label as size_label_normalized,
        quantity::integer as quantity,
        buyer_country,
        buyer_city,
        listing_price as gross_amount,
        listing_price_currency::text as gross_currency,
        seller_fee as seller_fee_amount,
        seller_fee_currency::text as seller_fee_currency,
        payment_processing_fee as payment_fee_amount,
        payment_processing_fee_currency::text as payment_fee_currency,
        shipping_fee as shipping_fee_amount,
        shipping_fee_currency::text as shipping_fee_currency,
        total_payout as payout_amount,
        total_payout_currency::text as payout_currency,
        null::text as notion_page_id,
        load_batch_id,
        loaded_at
    from {{ ref('stg_stockx__sales_report') }}

),

stockx_api_mentions as (

    -- The order's style code and size as the products models resolve them: the StockX
    -- product's style when the order has none, the variant's size label (names the system).
    select source_id as order_number, style_code, size_label
    from {{ ref('int_style_codes_normalized') }}
    where source = 'stockx_orders'

),

stockx_api_adjustments as (

    -- Payout adjustments are negative amounts; fees are reported positive, as in the report.
    select
        orders.order_number,
        -sum((adjustment ->> 'amount')::numeric) filter (
            where adjustment ->> 'adjustmentType' ~* 'transaction ?fee'
        ) as seller_fee_amount,
        -sum((adjustment ->> 'amount')::numeric) filter (
            where adjustment ->> 'adjustmentType' ~* 'payment ?proc'
        ) as payment_fee_amount,
        -sum((adjustment ->> 'amount')::numeric) filter (
            where adjustment ->> 'adjustmentType' ~* 'shipping'
        ) as shipping_fee_amount
    from {{ ref('stg_stockx__orders') }} as orders
    cross join
        lateral jsonb_array_elements(
            case when jsonb_typeof(orders.payout_adjustments) = 'array' then orders.payout_adjustments else '[]' end
        ) as adjustment
    where (adjustment ->> 'amount') ~ '^-?[0-9]+(\.[0-9]+)?$'
    group by orders.order_number

),

stockx_api as (

    select
        'stockx_orders' as source_system,
        orders.order_number as source_row_id,
        true as is_platform_source,
        2 as source_precedence,
        'stockx' as platform,
        orders.order_number,
        null::text as order_line,
        orders.created_at as sold_at,
        null::timestamptz as paid_out_at,
        orders.product_name as item_name,
        coalesce(orders.style_code, mentions.style_code) as style_code,
        orders.size_label,
        coalesce(mentions.size_label, orders.size_label) as size_label_normalized,
        1 as quantity,
        null::text as buyer_country,
        null::text as buyer_city,
        coalesce(orders.sale_price, orders.order_amount) as gross_amount,
        case when orders.sale_price is not null then orders.payout_currency else orders.order_currency end
            as gross_currency,
        adjustments.seller_fee_amount,
        case when adjustments.seller_fee_amount is not null then orders.payout_currency end as seller_fee_currency,
        adjustments.payment_fee_amount,
        case when adjustments.payment_fee_amount is not null then orders.payout_currency end as payment_fee_currency,
        adjustments.shipping_fee_amount,
        case when adjustments.shipping_fee_amount is not null then orders.payout_currency end as shipping_fee_currency,
        orders.total_payout as payout_amount,
        orders.payout_currency,
        null::text as notion_page_id,
        orders.load_batch_id,
        orders.loaded_at
    from {{ ref('stg_stockx__orders') }} as orders
    left join stockx_api_mentions as mentions on orders.order_number = mentions.order_number
    left join stockx_api_adjustments as adjustments on orders.order_number = adjustments.order_number
    where
        orders.total_payout is not null
        and coalesce(upper(orders.order_status), '') not in ('CANCELED', 'CANCELLED', 'RETURNED')

),

ebay_api_refunded_lines as (

    -- eBay API lines refunded in full are returns (fct_returns), no sales: nor is the
    -- Orders report's record of the same line.
    select
        order_id as order_number,
        order_line
    from {{ ref('int_ebay_order_line_finances') }}
    where is_fully_refunded

),

ebay_lines as (

    select
        'ebay_orders' as source_system,
        order_number || ':' || item_number as source_row_id,
        true as is_platform_source,
        2 as source_precedence,  -- after the eBay API (ebay_api), which has the fees
        'ebay' as platform,
        order_number,
        item_number as order_line,
        sale_date::timestamp at time zone 'UTC' as sold_at,
        null::timestamptz as paid_out_at,
        item_title as item_name,
        style_code,
        size_label,
        size_label as size_label_normalized,
        coalesce(quantity, 1) as quantity,
        buyer_country,
        null::text as buyer_city,
        unit_price * coalesce(quantity, 1) as gross_amount,
        unit_price_currency as gross_currency,
        null::numeric as seller_fee_amount,
        null::text as seller_fee_currency,
        null::numeric as payment_fee_amount,
        null::text as payment_fee_currency,
        null::numeric as shipping_fee_amount,
        null::text as shipping_fee_currency,
        -- The orders report has no payout (eBay's fees are in a separate report).
        null::numeric as payout_amount,
        unit_price_currency as payout_currency,
        null::text as notion_page_id,
        load_batch_id,
        loaded_at
    from {{ ref('stg_ebay__orders') }} as report
    where
        row_type = 'order_line'
        and not exists (
            select refunded.order_number
            from ebay_api_refunded_lines as refunded
            where report.order_number = refunded.order_number and report.item_number = refunded.order_line
        )

),

ebay_api as (

    -- eBay API order lines (not cancelled, not refunded in full) with the money eBay Finances
    -- reports for them (int_ebay_order_line_finances): gross is what the buyer paid for the line
    -- incl. shipping (eBay's final value fee basis) minus partial refunds; fees are the SALE's
    -- minus the fees eBay gave back on refunds; shipping is the line's share of the order's
    -- shipping labels; payout = fee basis - refunds - fees - shipping, so gross - payout is
    -- exactly what eBay charged. Fees and payout are null until the SALE transaction arrives.
    -- order_line is the listing's item number, as in the Orders report: int_sales_matched
    -- keeps one sale per order line (API first).
    select
        'ebay_api' as source_system,
        lines.order_id || ':' || lines.line_item_id as source_row_id,
        true as is_platform_source,
        1 as source_precedence,
        'ebay' as platform,
        lines.order_id as order_number,
        lines.order_line,
        lines.sold_at,
        lines.paid_out_at,
        lines.item_title as item_name,
        lines.style_code,
        lines.size_label,
        lines.size_label as size_label_normalized,
        lines.quantity,
        lines.buyer_country,
        null::text as buyer_city,
        lines.gross_amount,
        lines.gross_currency,
        lines.seller_fee_amount,
        lines.seller_fee_currency,
        null::numeric as payment_fee_amount,
        null::text as payment_fee_currency,
        lines.shipping_label_amount as shipping_fee_amount,
        lines.shipping_label_currency as shipping_fee_currency,
        lines.payout_amount,
        lines.payout_currency,
        null::text as notion_page_id,
        lines.load_batch_id,
        lines.loaded_at
    from {{ ref('int_ebay_order_line_finances') }} as lines
    where not lines.is_fully_refunded

),

alias_invoices as (

    select
        'alias_invoice' as source_system,
        order_number as source_row_id,
        true as is_platform_source,
        1 as source_precedence,
        platform,
        order_number,
        null::text as order_line,
        invoiced_on::timestamp at time zone 'UTC' as sold_at,
        null::timestamptz as paid_out_at,
        item_name,
        null::text as style_code,
        size_label,
        size_label as size_label_normalized,
        1 as quantity,
        null::text as buyer_country,
        null::text as buyer_city,
        amount as gross_amount,
        amount_currency as gross_currency,
        transaction_fee as seller_fee_amount,
        case when transaction_fee is not null then transaction_fee_currency end as seller_fee_currency,
        processing_fee as payment_fee_amount,
        case when processing_fee is not null then processing_fee_currency end as payment_fee_currency,
        shipping_fee as shipping_fee_amount,
        case when shipping_fee is not null then shipping_fee_currency end as shipping_fee_currency,
        -- Paid out: the exchanged amount after a currency exchange, else the total incl. VAT.
        case
            when has_currency_exchange and final_amount_exchanged is not null then final_amount_exchanged
            else coalesce(total_vat_included, total_amount_net)
        end as payout_amount,
        case
            when has_currency_exchange and final_amount_exchanged is not null then final_amount_exchanged_currency
            else
                coalesce(
                    case when total_vat_included is not null then total_vat_included_currency end,
                    total_amount_net_currency
                )
        end as payout_currency,
        null::text as notion_page_id,
        load_batch_id,
        loaded_at
    from {{ ref('stg_alias__invoice') }}

),

alias_consignment as (

    select
        'alias_consignment' as source_system,
        order_number as source_row_id,
        true as is_platform_source,
        3 as source_precedence,  -- after the Alias API (alias_api)
        'alias' as platform,
        order_number,
        null::text as order_line,
        coalesce(sold_on, credited_on)::timestamp at time zone 'UTC' as sold_at,
        credited_on::timestamp at time zone 'UTC' as paid_out_at,
        product_name as item_name,
        style_code,
        size_label,
        size_label as size_label_normalized,
        1 as quantity,
        null::text as buyer_country,
        null::text as buyer_city,
        sale_price as gross_amount,
        sale_price_currency as gross_currency,
        null::numeric as seller_fee_amount,
        null::text as seller_fee_currency,
        null::numeric as payment_fee_amount,
        null::text as payment_fee_currency,
        null::numeric as shipping_fee_amount,
        null::text as shipping_fee_currency,
        -- The export has the sale price only, no fees and no payout.
        null::numeric as payout_amount,
        sale_price_currency as payout_currency,
        null::text as notion_page_id,
        load_batch_id,
        loaded_at
    from {{ ref('stg_alias__consignment') }}

),

alias_api as (

    -- Alias API orders with their take (completed, not canceled). The take is Alias's whole fee
    -- (commission + seller fee), reported as the seller fee. Same order number as the CSV
    -- exports: int_sales_matched keeps one sale per order (invoice, then API, then export).
    select
        'alias_api' as source_system,
        order_id as source_row_id,
        true as is_platform_source,
        2 as source_precedence,
        sales_channel as platform,
        order_number,
        null::text as order_line,
        sold_at,
        paid_out_at,
        product_name as item_name,
        style_code,
        size_label,
        size_label as size_label_normalized,
        1 as quantity,
        null::text as buyer_country,
        null::text as buyer_city,
        sale_price as gross_amount,
        currency as gross_currency,
        fee_amount as seller_fee_amount,
        currency as seller_fee_currency,
        null::numeric as payment_fee_amount,
        null::text as payment_fee_currency,
        null::numeric as shipping_fee_amount,
        null::text as shipping_fee_currency,
        payout_amount,
        currency as payout_currency,
        null::text as notion_page_id,
        load_batch_id,
        loaded_at
    from {{ ref('stg_alias__api_orders') }}
    where payout_amount is not null and order_status <> 'ORDER_STATUS_CANCELED'

),

notion_sales as (

    select
        'notion_sales' as source_system,
        sale_page_id as source_row_id,
        false as is_platform_source,
        1 as source_precedence,
        platform,
        order_number,
        null::text as order_line,
        sale_date::timestamp at time zone 'UTC' as sold_at,
        null::timestamptz as paid_out_at,
        null::text as item_name,
        style_code,
        size_label,
        size_label_normalized,
        1 as quantity,
        null::text as buyer_country,
        null::text as buyer_city,
        -- A page without Gross Sale: the net sale, as the original system did.
        coalesce(gross_amount, payout_amount) as gross_amount,
        gross_currency,
        null::numeric as seller_fee_amount,
        null::text as seller_fee_currency,
        null::numeric as payment_fee_amount,
        null::text as payment_fee_currency,
        null::numeric as shipping_fee_amount,
        null::text as shipping_fee_currency,
        payout_amount,
        payout_currency,
        sale_page_id as notion_page_id,
        load_batch_id,
        loaded_at
    from {{ ref('stg_notion__sales') }}
    where platform <> 'return' and sale_date is not null and coalesce(gross_amount, payout_amount) is not null

),

sheet_sales as (

    select
        'sales_sheet' as source_system,
        sale_row_id as source_row_id,
        false as is_platform_source,
        2 as source_precedence,
        platform,
        order_number,
        null::text as order_line,
        sale_date::timestamp at time zone 'UTC' as sold_at,
        null::timestamptz as paid_out_at,
        product_name as item_name,
        style_code,
        size_label,
        size_label_normalized,
        1 as quantity,
        null::text as buyer_country,
        null::text as buyer_city,
        sale_price as gross_amount,
        sale_price_currency as gross_currency,
        null::numeric as seller_fee_amount,
        null::text as seller_fee_currency,
        null::numeric as payment_fee_amount,
        null::text as payment_fee_currency,
        null::numeric as shipping_fee_amount,
        null::text as shipping_fee_currency,
        payout as payout_amount,
        payout_currency,
        null::text as notion_page_id,
        load_batch_id,
        loaded_at
    from {{ ref('stg_sheets__sales') }}
    where platform <> 'return'

),

unioned as (

    select * from stockx_report
    union all
    select * from stockx_api
    union all
    select * from ebay_lines
    union all
    select * from ebay_api
    union all
    select * from alias_invoices
    union all
    select * from alias_consignment
    union all
    select * from alias_api
    union all
    select * from notion_sales
    union all
    select * from sheet_sales

),

keyed as (

    select
        *,
        -- Alias and GOAT share order numbers (GOAT's seller app): one family for matching.
        case when platform in ('alias', 'goat') then 'alias' else platform end as platform_family,
        {{ style_key(normalize_style_code('style_code')) }} as product_key,
        {{ size_parsed('size_label_normalized') }} as size_parsed
    from unioned

),

final as (

    select
        source_system,
        source_row_id,
        is_platform_source,
        source_precedence,
        platform,
        platform_family,
        order_number,
        order_line,
        sold_at,
        (sold_at at time zone 'UTC')::date as sale_date,
        paid_out_at,
        item_name,
        style_code,
        size_label,
        size_label_normalized,
        product_key,
        nullif(split_part(size_parsed, '|', 1), '!') as size_system,
        nullif(split_part(size_parsed, '|', 2), '') as size_value,
        case
            when product_key is not null and size_parsed is not null and size_parsed <> '!'
                then product_key || ':' || split_part(size_parsed, '|', 1) || ' ' || split_part(size_parsed, '|', 2)
        end as variant_key,
        quantity,
        buyer_country,
        buyer_city,
        gross_amount,
        gross_currency,
        seller_fee_amount,
        seller_fee_currency,
        payment_fee_amount,
        payment_fee_currency,
        shipping_fee_amount,
        shipping_fee_currency,
        payout_amount,
        payout_currency,
        notion_page_id,
        load_batch_id,
        loaded_at
    from keyed

)

select * from final
