-- Stock on hand and its value at every month end, from the month of the first purchase to the
-- current month (UTC), in the home currency (var('home_currency'), EUR).
--
-- A unit (products.inventory_items: one row per purchased pair, cancelled purchases excluded)
-- is in stock at a month end when it was bought on or before that day and had not left stock
-- by then: it leaves on the UTC day it was sold (sold_at), returned or written off
-- (status_since of that status). Units without a purchase date cannot be placed in time and are
-- left out. Valued at historical cost: net (and gross) cost converted with the FX rate of the
-- purchase date, round(amount * home_per_unit, 2) per unit; with var('vat_registered') false
-- the net value is the gross cost (input VAT is then a cost). The current month's row shows
-- the stock as of today (is_month_complete false).
{%- set home = home_currency() %}
{%- set vat_registered = vat_registered() %}
{#- the cost of a pair: net, or gross when input VAT cannot be deducted #}
{%- set cost_column = 'net_cost_amount' if vat_registered else 'gross_cost_amount' %}
with

items as (

    select * from {{ ref('inventory_items') }}
    where purchase_date is not null

),

fx as (

    select rate_date, currency, home_per_unit from {{ ref('fx_rates_daily') }}

),

rated as (

    select
        items.*,
        {{ home_per_unit('items.net_cost_currency', 'fx') }} as home_per_unit
    from items
    left join fx on items.net_cost_currency = fx.currency and items.purchase_date = fx.rate_date

),

valued as (

    select
        inventory_item_id,
        purchase_date,
        (case
            when current_status = 'sold' then coalesce(sold_at, status_since)
            when current_status in ('returned', 'written_off') then status_since
        end at time zone 'UTC')::date as left_stock_on,
        round({{ cost_column }} * home_per_unit, 2) as net_cost_home,
        round(gross_cost_amount * home_per_unit, 2) as gross_cost_home
    from rated

),

today as (

    select (now() at time zone 'UTC')::date as utc_date

),

bounds as (

    select
        date_trunc('month', min(valued.purchase_date)) as first_month,
        date_trunc('month', max(today.utc_date)) as current_month
    from valued
    cross join today

),

month_ends as (

    select (months.month_start + interval '1 month' - interval '1 day')::date as month_end
    from bounds
    cross join
        lateral generate_series(bounds.first_month, bounds.current_month, interval '1 month') as months (month_start)

),

stock as (

    select
        month_ends.month_end,
        count(valued.inventory_item_id) as units_in_stock,
        count(valued.inventory_item_id) filter (where valued.net_cost_home is null) as units_without_cost,
        coalesce(sum(valued.net_cost_home), 0) as stock_value_net_home,
        coalesce(sum(valued.gross_cost_home), 0) as stock_value_gross_home
    from month_ends
    left join valued
        on month_ends.month_end >= valued.purchase_date
        and (valued.left_stock_on is null or month_ends.month_end < valued.left_stock_on)
    group by month_ends.month_end

),

final as (

    select
        stock.month_end::date as month_end,
        '{{ home }}'::text as home_currency,
        stock.units_in_stock::integer as units_in_stock,
        stock.stock_value_net_home::numeric(14, 2) as stock_value_net_home,
        stock.stock_value_gross_home::numeric(14, 2) as stock_value_gross_home,
        stock.units_without_cost::integer as units_without_cost,
        (stock.month_end < today.utc_date)::boolean as is_month_complete
    from stock
    cross join today

)

select * from final
