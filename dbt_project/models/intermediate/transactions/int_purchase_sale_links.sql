-- Which purchased unit each sold unit was, one row per link (a sale unit and a purchase unit
-- appear at most once each). Two passes:
--
-- 1. recorded_order_number: purchases whose recorded sale resolved to an order
--    (fct_purchases.recorded_order_key) take that order's units - same variant first,
--    then the rest of the order - pairing earliest purchase with earliest sale unit. This
--    wins over any earlier purchase of the same size. A purchase with a recorded sale never
--    goes to FIFO, even when its sale is not found or already taken (it is reported unsold).
-- 2. fifo_style_size: the remaining sale units and purchases (readable variant key, a
--    purchase date, not cancelled or returned, nothing recorded) by variant key (product key,
--    size system and value; sizes are not converted between systems - brand charts differ):
--    in date order, each sale unit takes the earliest purchase bought on or before its sale
--    day that no earlier sale unit took - a FIFO queue. Closed form per variant: with A(i)
--    purchases bought by the day of the i-th sale unit and M(i) = min(0, min over k <= i of
--    A(k) - k), sale unit i is linked iff M(i) = M(i-1), to the (i + M(i))-th purchase.
with

sale_units as (

    select * from {{ ref('int_sale_units') }}

),

purchase_units as (

    select
        *,
        (sale_order_number is not null or notion_sale_page_id is not null) as has_recorded_sale
    from {{ ref('fct_purchases') }}

),

---------- pass 1: the sale the reseller recorded

recorded_purchases as (

    select * from purchase_units
    where recorded_order_key is not null and excluded_reason is null

),

recorded_sales as (

    select * from sale_units
    where order_key in (select recorded_purchases.recorded_order_key from recorded_purchases)

),

same_variant as (

    select purchases.purchase_id, sales.sale_unit_id
    from (
        select
            purchase_id,
            recorded_order_key,
            variant_key,
            row_number() over (
                partition by recorded_order_key, variant_key order by purchase_date, purchase_line_id, unit_index
            ) as position
        from recorded_purchases
        where variant_key is not null
    ) as purchases
    inner join (
        select
            sale_unit_id,
            order_key,
            variant_key,
            row_number() over (partition by order_key, variant_key order by sold_at, sale_id, unit_index) as position
        from recorded_sales
        where variant_key is not null
    ) as sales
        on purchases.recorded_order_key = sales.order_key
        and purchases.variant_key = sales.variant_key
        and purchases.position = sales.position

),

rest_of_order as (

    select purchases.purchase_id, sales.sale_unit_id
    from (
        select
            purchase_id,
            recorded_order_key,
            row_number() over (
                partition by recorded_order_key order by purchase_date, purchase_line_id, unit_index
            ) as position
        from recorded_purchases
        where purchase_id not in (select same_variant.purchase_id from same_variant)
    ) as purchases
    inner join (
        select
            sale_unit_id,
            order_key,
            row_number() over (partition by order_key order by sold_at, sale_id, unit_index) as position
        from recorded_sales
        where sale_unit_id not in (select same_variant.sale_unit_id from same_variant)
    ) as sales
        on purchases.recorded_order_key = sales.order_key
        and purchases.position = sales.position

),

recorded_links as (

    select purchase_id, sale_unit_id, 'recorded_order_number' as link_method from same_variant
    union all
    select purchase_id, sale_unit_id, 'recorded_order_number' as link_method from rest_of_order

),

---------- pass 2: FIFO by product and size

fifo_sales as (

    select
        sale_unit_id,
        variant_key,
        sale_date,
        row_number() over (partition by variant_key order by sold_at, sale_id, unit_index) as sale_position
    from sale_units
    where
        variant_key is not null
        and sale_unit_id not in (select recorded_links.sale_unit_id from recorded_links)

),

fifo_purchases as (

    select
        purchase_id,
        variant_key,
        purchase_date,
        row_number() over (partition by variant_key order by purchase_date, purchase_line_id, unit_index)
            as purchase_position
    from purchase_units
    where
        variant_key is not null
        and purchase_date is not null
        and excluded_reason is null
        and not has_recorded_sale

),

arrivals as (

    -- A(i): purchases of the variant bought on or before the day of the i-th sale unit
    select
        fifo_sales.sale_unit_id,
        fifo_sales.variant_key,
        fifo_sales.sale_position,
        count(fifo_purchases.purchase_id) as bought
    from fifo_sales
    left join fifo_purchases
        on fifo_sales.variant_key = fifo_purchases.variant_key
        and fifo_sales.sale_date >= fifo_purchases.purchase_date
    group by fifo_sales.sale_unit_id, fifo_sales.variant_key, fifo_sales.sale_position

),

queue as (

    select
        *,
        least(0, min(bought - sale_position) over (
            partition by variant_key order by sale_position rows between unbounded preceding and current row
        )) as low_now,
        least(0, coalesce(min(bought - sale_position) over (
            partition by variant_key order by sale_position rows between unbounded preceding and 1 preceding
        ), 0)) as low_before
    from arrivals

),

fifo_links as (

    select fifo_purchases.purchase_id, queue.sale_unit_id, 'fifo_style_size' as link_method
    from queue
    inner join fifo_purchases
        on queue.variant_key = fifo_purchases.variant_key
        and fifo_purchases.purchase_position = queue.sale_position + queue.low_now
    where queue.low_now = queue.low_before

),

links as (

    select * from recorded_links
    union all
    select * from fifo_links

),

final as (

    select
        links.sale_unit_id,
        sale_units.sale_id,
        sale_units.unit_index as sale_unit_index,
        links.purchase_id,
        links.link_method,
        purchase_units.recorded_order_key,
        coalesce(sale_units.variant_key = purchase_units.variant_key, false) as is_same_variant,
        sale_units.sale_date,
        purchase_units.purchase_date,
        sale_units.sale_date - purchase_units.purchase_date as days_in_stock
    from links
    inner join sale_units on links.sale_unit_id = sale_units.sale_unit_id
    inner join purchase_units on links.purchase_id = purchase_units.purchase_id

)

select * from final
