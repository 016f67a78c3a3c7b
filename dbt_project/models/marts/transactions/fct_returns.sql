-- Returns and cancellations, one row per record of one:
--   order_cancelled       a StockX API order with status CANCELED (CANCELLED): the sale did not happen
--   buyer_return          a StockX API order with status RETURNED; an eBay API order line
--                         refunded in full (int_ebay_order_line_finances: no sale either)
--   returned_to_supplier  a pair sent back to its supplier (int_inventory_exits: Notion Sales
--                         pages and sales sheet rows with platform Return; a Notion purchase
--                         Status or purchases sheet note saying so, when no sale record does)
--   purchase_cancelled    a purchase cancelled at the supplier (Notion Status Cancelled): not
--                         an inventory item
-- Amounts keep their own currency: the StockX order amount; what eBay refunded to the buyer for
-- the line; the refund recorded on the return record, else the purchase's gross price.
with

purchases as (

    select * from {{ ref('fct_purchases') }}

),

stockx_orders as (

    select
        *,
        upper(order_status) as status_code
    from {{ ref('stg_stockx__orders') }}
    where upper(order_status) in ('CANCELED', 'CANCELLED', 'RETURNED')

),

recorded_purchases as (

    -- The unit the reseller recorded a StockX or eBay order for, when exactly one names it (a
    -- purchase sold on 'other' or with no sale platform may name an order of either).
    select
        platforms.platform,
        purchases.sale_order_number,
        min(purchases.purchase_id) as purchase_id
    from purchases
    cross join (values ('stockx'), ('ebay')) as platforms (platform)
    where
        purchases.sale_order_number is not null
        and coalesce(purchases.sale_platform, platforms.platform) in (platforms.platform, 'other')
    group by platforms.platform, purchases.sale_order_number
    having count(*) = 1

),

from_stockx as (

    select
        (case when orders.status_code = 'RETURNED' then 'buyer_return' else 'order_cancelled' end)
        || ':stockx:' || orders.order_number as return_id,
        case when orders.status_code = 'RETURNED' then 'buyer_return' else 'order_cancelled' end as kind,
        'stockx' as platform,
        orders.order_number,
        recorded.purchase_id,
        coalesce(orders.updated_at, orders.created_at) as occurred_at,
        -- StockX may send an order without currencyCode: then the payout's currency, and
        -- without either no amount (an amount without a currency is no amount)
        case
            when coalesce(orders.order_currency, orders.payout_currency) is not null then orders.order_amount
        end as amount,
        case
            when orders.order_amount is not null then coalesce(orders.order_currency, orders.payout_currency)
        end as amount_currency,
        'stockx_orders' as source_system,
        'StockX order status ' || orders.order_status
        || coalesce(' (' || nullif(btrim(orders.authentication_failure_notes), '') || ')', '') as reason,
        orders.product_name,
        orders.style_code,
        orders.size_label
    from stockx_orders as orders
    left join recorded_purchases as recorded
        on recorded.platform = 'stockx' and orders.order_number = recorded.sale_order_number

),

ebay_refunded_lines as (

    select * from {{ ref('int_ebay_order_line_finances') }}
    where is_fully_refunded

),

from_ebay as (

    select
        'buyer_return:ebay:' || lines.order_id || ':' || lines.order_line as return_id,
        'buyer_return' as kind,
        'ebay' as platform,
        lines.order_id as order_number,
        -- the recorded unit is only clear in an order of one line
        case when lines.lines_in_order = 1 then recorded.purchase_id end as purchase_id,
        lines.refunded_at as occurred_at,
        lines.refunded_amount as amount,
        lines.refunded_currency as amount_currency,
        'ebay_api' as source_system,
        'eBay refund in full of item ' || lines.order_line || ' (' || lines.refund_transaction_ids || ')' as reason,
        lines.item_title as product_name,
        lines.style_code,
        lines.size_label
    from ebay_refunded_lines as lines
    left join recorded_purchases as recorded
        on recorded.platform = 'ebay' and lines.order_id = recorded.sale_order_number

),

supplier_returns as (

    -- Records of sales (Notion, sales sheet) are each a return; a status or note only when no
    -- sale record returns the same unit.
    select * from {{ ref('int_inventory_exits') }}
    where
        kind = 'returned_to_supplier'
        and (source in ('notion_sales', 'sales_sheet') or is_primary)

),

from_supplier_returns as (

    select
        returns.exit_id as return_id,
        'returned_to_supplier' as kind,
        null::text as platform,
        returns.order_number,
        returns.purchase_id,
        returns.occurred_at,
        returns.amount,
        returns.amount_currency,
        returns.source_system,
        returns.reason,
        purchases.product_name,
        purchases.style_code,
        purchases.size_label
    from supplier_returns as returns
    left join purchases on returns.purchase_id = purchases.purchase_id

),

cancellations as (

    -- When the purchase became Cancelled: the first version of the page's final Cancelled run.
    select
        purchase_id,
        status_class_since as cancelled_at
    from {{ ref('int_notion_purchase_versions') }}
    where is_latest and status_class = 'cancelled'

),

from_cancelled_purchases as (

    select
        'purchase_cancelled:' || purchases.purchase_id as return_id,
        'purchase_cancelled' as kind,
        null::text as platform,
        purchases.supplier_order_number as order_number,
        purchases.purchase_id,
        coalesce(cancellations.cancelled_at, purchases.purchase_date::timestamp at time zone 'UTC') as occurred_at,
        purchases.gross_price as amount,
        case when purchases.gross_price is not null then purchases.gross_price_currency end as amount_currency,
        purchases.source as source_system,
        'purchase status ' || coalesce(purchases.status, 'Cancelled') as reason,
        purchases.product_name,
        purchases.style_code,
        purchases.size_label
    from purchases
    left join cancellations on purchases.purchase_id = cancellations.purchase_id
    where purchases.excluded_reason = 'purchase cancelled'

),

unioned as (

    select * from from_stockx
    union all
    select * from from_ebay
    union all
    select * from from_supplier_returns
    union all
    select * from from_cancelled_purchases

),

final as (

    select
        return_id::text as return_id,
        kind::text as kind,
        platform::text as platform,
        order_number::text as order_number,
        purchase_id::text as purchase_id,
        occurred_at::timestamptz as occurred_at,
        amount::numeric(14, 2) as amount,
        amount_currency::text as amount_currency,
        source_system::text as source_system,
        reason::text as reason,
        product_name::text as product_name,
        style_code::text as style_code,
        size_label::text as size_label
    from unioned

)

select * from final
