-- The current month's valuation is today's stock: the units of products.inventory_items with
-- a purchase date that are not sold, returned or written off; and no month counts more units
-- than were bought by its end. Returns the offending months.
{{ config(meta={'dagster': {'ref': {'name': 'fct_inventory_valuation'}}}) }}
with

items as (

    select * from {{ ref('inventory_items') }}
    where purchase_date is not null

),

on_hand as (

    select count(*) as units
    from items
    where current_status not in ('sold', 'returned', 'written_off')

),

valuation as (

    select * from {{ ref('fct_inventory_valuation') }}

),

bought_by_month_end as (

    select
        valuation.month_end,
        count(items.inventory_item_id) as units
    from valuation
    left join items on valuation.month_end >= items.purchase_date
    group by valuation.month_end

)

select
    valuation.month_end,
    valuation.units_in_stock,
    on_hand.units as expected_units
from valuation
cross join on_hand
where not valuation.is_month_complete and valuation.units_in_stock <> on_hand.units
union all
select
    valuation.month_end,
    valuation.units_in_stock,
    bought_by_month_end.units as expected_units
from valuation
inner join bought_by_month_end on valuation.month_end = bought_by_month_end.month_end
where valuation.units_in_stock > bought_by_month_end.units
