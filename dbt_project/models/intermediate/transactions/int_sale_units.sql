-- One row per unit (pair) sold: every fct_sales row expanded to its quantity (unit_index
-- 1..n), with the money split per unit (rounded to the cent per unit; the first unit takes the
-- rounding remainder, so units add up to the sale exactly) and the order key recorded links
-- aim at: platform family and order number (every line of a multi-line order), or the sale id
-- for a sale without an order number.
with

sales as (

    select * from {{ ref('fct_sales') }}

),

units as (

    select
        sales.*,
        unit_index,
        greatest(sales.quantity, 1) as units_in_sale
    from sales
    cross join lateral generate_series(1, greatest(sales.quantity, 1)) as unit_index

),

final as (

    select
        sale_id || '#' || unit_index as sale_unit_id,
        sale_id,
        unit_index,
        units_in_sale,
        platform,
        case when platform in ('alias', 'goat') then 'alias' else platform end as platform_family,
        source_system,
        order_number,
        case
            when order_number is not null
                then (case when platform in ('alias', 'goat') then 'alias' else platform end) || ':' || order_number
            else sale_id
        end as order_key,
        sold_at,
        sale_date,
        item_name,
        style_code,
        size_label,
        product_key,
        variant_key,
        case
            when unit_index = 1 then gross_amount - (units_in_sale - 1) * round(gross_amount / units_in_sale, 2)
            else round(gross_amount / units_in_sale, 2)
        end as gross_amount,
        gross_currency,
        case
            when unit_index = 1 then payout_amount - (units_in_sale - 1) * round(payout_amount / units_in_sale, 2)
            else round(payout_amount / units_in_sale, 2)
        end as payout_amount,
        payout_currency
    from units

)

select * from final
