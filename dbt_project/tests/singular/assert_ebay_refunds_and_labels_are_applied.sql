-- Every eBay Finances REFUND and SHIPPING_LABEL (stg_ebay__api_transactions) lands on the order
-- lines of int_ebay_order_line_finances, to the cent. Returns what does not, with the problem:
--   * a REFUND or SHIPPING_LABEL whose order is not a loaded, non-cancelled eBay order (or that
--     names no order): none of its money reaches a line;
--   * a REFUND naming a line item that is not a line of its order: that line's refund is lost;
--   * any other difference, per order: the REFUNDs' (SHIPPING_LABELs') total in Finances, less
--     the lines reported above, is not the sum of the lines' refunded_amount
--     (shipping_label_amount). This catches every other way a model change could drop money.
-- A warning, not an error: the sales stay right for the money that did land.
--
-- Only int_ebay_order_line_finances is a ref(): the staging models are upstream of it (read by
-- their relation names), so every build that selects it has built them first.
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'int_ebay_order_line_finances'}}}) }}
{%- set relations = {} -%}
{%- if execute -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model'
        and node.name in ('stg_ebay__api_orders', 'stg_ebay__api_transactions') -%}
        {%- do relations.update({node.name: node.relation_name}) -%}
    {%- endfor -%}
{%- endif %}
with

finances as (
    select * from {{ ref('int_ebay_order_line_finances') }}
),

orders as (
    select
        order_id,
        bool_and(is_cancelled) as is_cancelled
    from {{ relations.get('stg_ebay__api_orders', 'stg_ebay__api_orders') }}
    group by order_id
),

transactions as (

    -- Read as the model reads them: a CREDIT gives money back to the seller.
    select
        transaction_id,
        transaction_type,
        order_id,
        total_fee_basis_amount,
        amount,
        case when booking_entry = 'CREDIT' then -1 else 1 end as debit_sign,
        case
            when jsonb_typeof(order_line_items) = 'array' then order_line_items else '[]'::jsonb
        end as line_items
    from {{ relations.get('stg_ebay__api_transactions', 'stg_ebay__api_transactions') }}
    where transaction_type in ('REFUND', 'SHIPPING_LABEL')

),

named_lines as (

    -- The lines a REFUND names, with what the buyer got back on each.
    select
        transactions.transaction_id,
        transactions.order_id,
        line ->> 'lineItemId' as line_item_id,
        transactions.debit_sign * (line -> 'feeBasisAmount' ->> 'value')::numeric as amount
    from transactions
    cross join lateral jsonb_array_elements(transactions.line_items) as line
    where transactions.transaction_type = 'REFUND'

),

amounts as (

    -- What each transaction should put on its order's lines.
    select
        transactions.transaction_id,
        transactions.transaction_type,
        transactions.order_id,
        case
            when transactions.transaction_type = 'SHIPPING_LABEL'
                then transactions.debit_sign * transactions.amount
            when jsonb_array_length(transactions.line_items) = 0
                then
                    transactions.debit_sign
                    * coalesce(transactions.total_fee_basis_amount, transactions.amount)
            else named.amount
        end as amount
    from transactions
    left join (
        select
            transaction_id,
            sum(amount) as amount
        from named_lines
        group by transaction_id
    ) as named on transactions.transaction_id = named.transaction_id

),

applied_orders as (
    select
        order_id,
        sum(refunded_amount) as refunded_amount,
        sum(shipping_label_amount) as shipping_label_amount
    from finances
    group by order_id
),

unknown_lines as (

    select named_lines.*
    from named_lines
    inner join applied_orders on named_lines.order_id = applied_orders.order_id
    left join finances
        on named_lines.order_id = finances.order_id
        and named_lines.line_item_id = finances.line_item_id
    where finances.order_id is null

),

order_totals as (

    -- Per order and type: Finances (less the unknown lines) against the lines' sum.
    select
        amounts.order_id,
        amounts.transaction_type,
        string_agg(amounts.transaction_id, ', ' order by amounts.transaction_id) as transaction_ids,
        coalesce(sum(amounts.amount), 0)
        - coalesce(max(lost.amount) filter (where amounts.transaction_type = 'REFUND'), 0) as finances_amount,
        coalesce(
            max(
                case
                    when amounts.transaction_type = 'REFUND' then applied.refunded_amount
                    else applied.shipping_label_amount
                end
            ),
            0
        ) as lines_amount
    from amounts
    inner join applied_orders as applied on amounts.order_id = applied.order_id
    left join (
        select
            order_id,
            sum(amount) as amount
        from unknown_lines
        group by order_id
    ) as lost on amounts.order_id = lost.order_id
    group by amounts.order_id, amounts.transaction_type

),

problems as (

    select
        amounts.transaction_id,
        amounts.transaction_type,
        amounts.order_id,
        null as line_item_id,
        amounts.transaction_type || ' ' || amounts.transaction_id
        || case
            when amounts.order_id is null then ' names no order'
            when orders.is_cancelled then ' for cancelled order ' || amounts.order_id
            else ' for order ' || amounts.order_id || ' not loaded'
        end as problem
    from amounts
    left join orders on amounts.order_id = orders.order_id
    where not exists (select from applied_orders where applied_orders.order_id = amounts.order_id)

    union all

    select
        transaction_id,
        'REFUND' as transaction_type,
        order_id,
        line_item_id,
        'REFUND ' || transaction_id || ' names '
        || coalesce('line ' || line_item_id, 'a line without lineItemId')
        || ' not in order ' || order_id as problem
    from unknown_lines

    union all

    select
        transaction_ids as transaction_id,
        transaction_type,
        order_id,
        null as line_item_id,
        transaction_type || ' total of order ' || order_id || ' (' || transaction_ids || ') is '
        || finances_amount || ' in Finances but ' || lines_amount || ' on its lines' as problem
    from order_totals
    where finances_amount <> lines_amount

)

select * from problems
