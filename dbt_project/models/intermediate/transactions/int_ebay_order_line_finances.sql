-- The money eBay Finances reports for each eBay API order line (orders not cancelled): the
-- SALE's fees, the REFUNDs to the buyer with the fees eBay gave back, and the line's share of
-- the order's SHIPPING_LABELs. int_sales_unioned takes the sale's figures from here,
-- fct_returns the fully refunded lines.
--
-- Rules (all amounts to the cent, each with its currency):
--   refund      per line from the REFUND's orderLineItems (feeBasisAmount: what the buyer got
--               back; marketplaceFees as reported, negative = a fee credit). A REFUND naming no
--               line is split over the order's lines pro rata by line total (totalFeeBasisAmount,
--               else amount; totalFeeAmount), the last line taking the rounding remainder. A
--               CREDIT booking reverses a refund. Refunded >= the line total: a full refund.
--   label       SHIPPING_LABEL DEBITs of the order minus CREDITs (a voided label), split over
--               the lines not fully refunded pro rata by line total, remainder on the last.
--   sale        gross = line total - refunds; fees = SALE fees + fee credits; payout = fee
--               basis - refunds - fees - label share (so gross - payout = fees + label).
-- An amount in another currency than the line's is never netted: the line keeps its gross and
-- has no payout (has_currency_conflict).
with

lines as (

    select * from {{ ref('stg_ebay__api_orders') }}
    where not is_cancelled

),

transactions as (

    select
        *,
        -- a CREDIT REFUND / SHIPPING_LABEL gives money back to the seller
        case when booking_entry = 'CREDIT' then -1 else 1 end as debit_sign,
        case
            when jsonb_typeof(order_line_items) = 'array' then order_line_items else '[]'::jsonb
        end as line_items
    from {{ ref('stg_ebay__api_transactions') }}
    where order_id is not null

),

order_totals as (

    select
        order_id,
        sum(line_total) as order_lines_total
    from lines
    group by order_id

),

sale_fees as (

    -- Fees per line from the order's SALE transaction (reported positive).
    select
        transactions.order_id,
        line ->> 'lineItemId' as line_item_id,
        (line -> 'feeBasisAmount' ->> 'value')::numeric as fee_basis_amount,
        sum((fee -> 'amount' ->> 'value')::numeric) as fee_amount,
        min(fee -> 'amount' ->> 'currency') as fee_currency,
        count(distinct fee -> 'amount' ->> 'currency') as fee_currencies,
        max(transactions.transaction_date) filter (where transactions.is_paid_out) as paid_out_at
    from transactions
    cross join lateral jsonb_array_elements(transactions.line_items) as line
    cross join
        lateral jsonb_array_elements(
            case when jsonb_typeof(line -> 'marketplaceFees') = 'array' then line -> 'marketplaceFees' else '[]' end
        ) as fee
    where transactions.transaction_type = 'SALE'
    group by transactions.order_id, line ->> 'lineItemId', line -> 'feeBasisAmount' ->> 'value'

),

refund_transactions as (

    select * from transactions
    where transaction_type = 'REFUND'

),

line_refunds as (

    -- REFUNDs that name their lines.
    select
        refunds.order_id,
        line ->> 'lineItemId' as line_item_id,
        refunds.transaction_id,
        refunds.transaction_date,
        refunds.debit_sign * (line -> 'feeBasisAmount' ->> 'value')::numeric as refund_amount,
        line -> 'feeBasisAmount' ->> 'currency' as refund_currency,
        credits.fee_amount,
        credits.fee_currency,
        credits.fee_currencies
    from refund_transactions as refunds
    cross join lateral jsonb_array_elements(refunds.line_items) as line
    cross join lateral (
        select
            sum((fee -> 'amount' ->> 'value')::numeric) as fee_amount,
            min(fee -> 'amount' ->> 'currency') as fee_currency,
            count(distinct fee -> 'amount' ->> 'currency') as fee_currencies
        from
            jsonb_array_elements(
                case when jsonb_typeof(line -> 'marketplaceFees') = 'array' then line -> 'marketplaceFees' else '[]' end
            ) as fee
    ) as credits

),

order_refund_shares as (

    -- REFUNDs without lines: each line's share, pro rata by line total (rounded to the cent).
    select
        refunds.order_id,
        lines.line_item_id,
        refunds.transaction_id,
        refunds.transaction_date,
        refunds.debit_sign * coalesce(refunds.total_fee_basis_amount, refunds.amount) as order_refund_amount,
        refunds.amount_currency as refund_currency,
        refunds.total_fee_amount as order_fee_amount,
        case when refunds.total_fee_amount is not null then refunds.total_fee_currency end as fee_currency,
        round(
            refunds.debit_sign * coalesce(refunds.total_fee_basis_amount, refunds.amount)
            * lines.line_total / nullif(totals.order_lines_total, 0),
            2
        ) as refund_share,
        round(refunds.total_fee_amount * lines.line_total / nullif(totals.order_lines_total, 0), 2) as fee_share,
        row_number() over (
            partition by refunds.transaction_id order by lines.line_position desc
        ) = 1 as is_last_line
    from refund_transactions as refunds
    inner join lines on refunds.order_id = lines.order_id
    inner join order_totals as totals on refunds.order_id = totals.order_id
    where jsonb_array_length(refunds.line_items) = 0

),

order_refunds as (

    -- The last line takes what the rounded shares of the others leave.
    select
        order_id,
        line_item_id,
        transaction_id,
        transaction_date,
        case
            when is_last_line
                then
                    order_refund_amount
                    - coalesce(sum(refund_share) over (partition by transaction_id), 0)
                    + coalesce(refund_share, 0)
            else coalesce(refund_share, 0)
        end as refund_amount,
        refund_currency,
        case
            when order_fee_amount is null then null
            when is_last_line
                then order_fee_amount - coalesce(sum(fee_share) over (partition by transaction_id), 0)
                    + coalesce(fee_share, 0)
            else coalesce(fee_share, 0)
        end as fee_amount,
        fee_currency,
        case when fee_currency is not null then 1 else 0 end as fee_currencies
    from order_refund_shares

),

refund_parts as (

    select * from line_refunds
    union all
    select * from order_refunds

),

refunds_per_line as (

    select
        parts.order_id,
        parts.line_item_id,
        sum(parts.refund_amount) as refunded_amount,
        min(parts.refund_currency) as refunded_currency,
        sum(parts.fee_amount) as refund_fee_amount,
        min(parts.fee_currency) as refund_fee_currency,
        max(parts.transaction_date) as refunded_at,
        string_agg(parts.transaction_id, ', ' order by parts.transaction_date, parts.transaction_id)
            as refund_transaction_ids,
        -- any refund or fee credit in another currency than the line's
        bool_or(
            parts.refund_currency is distinct from lines.line_total_currency
            or (parts.fee_amount is not null and parts.fee_currency is distinct from lines.line_total_currency)
            or parts.fee_currencies > 1
        ) as has_currency_conflict
    from refund_parts as parts
    inner join lines
        on parts.order_id = lines.order_id
        and parts.line_item_id = lines.line_item_id
    group by parts.order_id, parts.line_item_id

),

labels as (

    select
        order_id,
        sum(debit_sign * amount) as label_amount,
        min(amount_currency) as label_currency,
        count(distinct amount_currency) as label_currencies,
        string_agg(transaction_id, ', ' order by transaction_date, transaction_id) as label_transaction_ids
    from transactions
    where transaction_type = 'SHIPPING_LABEL'
    group by order_id

),

refunded as (

    select
        lines.*,
        sale_fees.fee_basis_amount,
        sale_fees.fee_amount as sale_fee_amount,
        sale_fees.fee_currency as sale_fee_currency,
        sale_fees.paid_out_at,
        refunds.refunded_amount,
        refunds.refunded_currency,
        refunds.refund_fee_amount,
        refunds.refund_fee_currency,
        refunds.refunded_at,
        refunds.refund_transaction_ids,
        coalesce(refunds.has_currency_conflict, false)
        or coalesce(sale_fees.fee_currencies > 1 or sale_fees.fee_currency <> lines.line_total_currency, false)
            as has_refund_or_fee_conflict,
        coalesce(
            not coalesce(refunds.has_currency_conflict, false)
            and refunds.refunded_amount >= lines.line_total,
            false
        ) as is_fully_refunded
    from lines
    left join sale_fees
        on lines.order_id = sale_fees.order_id
        and lines.line_item_id = sale_fees.line_item_id
    left join refunds_per_line as refunds
        on lines.order_id = refunds.order_id
        and lines.line_item_id = refunds.line_item_id

),

label_shares as (

    -- The label over the lines that remain sales, pro rata by line total (rounded to the cent).
    select
        refunded.order_id,
        refunded.line_item_id,
        labels.label_amount,
        labels.label_currency,
        labels.label_currencies,
        labels.label_transaction_ids,
        round(
            labels.label_amount * refunded.line_total
            / nullif(sum(refunded.line_total) over (partition by refunded.order_id), 0),
            2
        ) as label_share,
        row_number() over (partition by refunded.order_id order by refunded.line_position desc) = 1 as is_last_line
    from refunded
    inner join labels on refunded.order_id = labels.order_id
    where not refunded.is_fully_refunded

),

label_lines as (

    select
        order_id,
        line_item_id,
        case
            when is_last_line
                then label_amount - coalesce(sum(label_share) over (partition by order_id), 0)
                    + coalesce(label_share, 0)
            else coalesce(label_share, 0)
        end as shipping_label_amount,
        label_currency as shipping_label_currency,
        label_currencies,
        label_transaction_ids
    from label_shares

),

combined as (

    select
        refunded.*,
        label_lines.shipping_label_amount,
        label_lines.shipping_label_currency,
        label_lines.label_transaction_ids,
        refunded.has_refund_or_fee_conflict
        or coalesce(label_lines.label_currencies > 1, false)
        or coalesce(label_lines.shipping_label_currency <> refunded.line_total_currency, false)
            as has_currency_conflict
    from refunded
    left join label_lines
        on refunded.order_id = label_lines.order_id
        and refunded.line_item_id = label_lines.line_item_id

),

final as (

    select
        ---------- ids
        order_id,
        line_item_id,
        order_line,
        line_position,
        lines_in_order,
        legacy_item_id,

        ---------- item
        item_title,
        style_code,
        size_label,
        quantity,
        buyer_country,

        ---------- what the buyer paid, as the order says
        line_total,
        line_total_currency,

        ---------- Finances: SALE
        fee_basis_amount,
        sale_fee_amount,
        sale_fee_currency,
        paid_out_at,

        ---------- Finances: REFUND
        refunded_amount,
        case when refunded_amount is not null then refunded_currency end as refunded_currency,
        refund_fee_amount,
        case when refund_fee_amount is not null then refund_fee_currency end as refund_fee_currency,
        refunded_at,
        refund_transaction_ids,
        is_fully_refunded,

        ---------- Finances: SHIPPING_LABEL (this line's share)
        shipping_label_amount,
        case when shipping_label_amount is not null then shipping_label_currency end as shipping_label_currency,
        label_transaction_ids,

        ---------- the sale's figures
        has_currency_conflict,
        case
            when has_currency_conflict then line_total
            else line_total - coalesce(refunded_amount, 0)
        end as gross_amount,
        line_total_currency as gross_currency,
        sale_fee_amount + case when has_currency_conflict then 0 else coalesce(refund_fee_amount, 0) end
            as seller_fee_amount,
        case when sale_fee_amount is not null then sale_fee_currency end as seller_fee_currency,
        case
            when not has_currency_conflict
                then
                    coalesce(fee_basis_amount, line_total)
                    - coalesce(refunded_amount, 0)
                    - (sale_fee_amount + coalesce(refund_fee_amount, 0))
                    - coalesce(shipping_label_amount, 0)
        end as payout_amount,
        line_total_currency as payout_currency,

        ---------- dates and lineage
        sold_at,
        load_batch_id,
        loaded_at

    from combined

)

select * from final
