-- Every money column of the monthly P&L equals the sum of its fact's rows in that month:
-- sales from fct_unit_economics, expenses from fct_expenses, purchases from fct_purchases
-- (cancelled excluded, net converted at the purchase date as unit economics does); and the
-- P&L identities hold. Returns the months that differ.
{{ config(meta={'dagster': {'ref': {'name': 'fct_monthly_pnl'}}}) }}
with

pnl as (

    select * from {{ ref('fct_monthly_pnl') }}

),

sales as (

    select
        date_trunc('month', sale_date)::date as month,
        count(*) as units_sold,
        sum(gross_sale_home) as revenue_home,
        sum(fees_home) as fees_home,
        sum(output_vat_home) as output_vat_home,
        sum(net_sale_home) as net_sales_home,
        sum(net_buy_home) as cost_of_goods_sold_home,
        sum(profit_home) as profit_home,
        count(*) filter (where profit_home is null) as units_without_profit
    from {{ ref('fct_unit_economics') }}
    group by 1

),

expenses as (

    select expense_month as month, sum(net_amount_home) as expenses_home
    from {{ ref('fct_expenses') }}
    group by 1

),

purchases as (

    select date_trunc('month', purchase_date)::date as month, count(*) as units_purchased
    from {{ ref('fct_purchases') }}
    where purchase_date is not null and excluded_reason is distinct from 'purchase cancelled'
    group by 1

),

compared as (

    -- the P&L columns are never null: plain comparisons
    select
        pnl.month,
        pnl.units_sold <> coalesce(sales.units_sold, 0) as units_sold_differ,
        pnl.revenue_home <> coalesce(sales.revenue_home, 0) as revenue_differs,
        pnl.fees_home <> coalesce(sales.fees_home, 0) as fees_differ,
        pnl.output_vat_home <> coalesce(sales.output_vat_home, 0) as output_vat_differs,
        pnl.net_sales_home <> coalesce(sales.net_sales_home, 0) as net_sales_differ,
        pnl.cost_of_goods_sold_home <> coalesce(sales.cost_of_goods_sold_home, 0) as cogs_differs,
        pnl.expenses_home <> coalesce(expenses.expenses_home, 0) as expenses_differ,
        pnl.units_purchased <> coalesce(purchases.units_purchased, 0) as purchases_differ,
        (
            pnl.gross_profit_home <> pnl.net_sales_home - pnl.cost_of_goods_sold_home
            or pnl.net_profit_home <> pnl.gross_profit_home - pnl.expenses_home
        ) as identities_broken,
        -- when every pair of the month has a profit, gross profit is the sum of the profits
        (
            coalesce(sales.units_without_profit, 0) = 0
            and pnl.gross_profit_home <> coalesce(sales.profit_home, 0)
        ) as profit_differs
    from pnl
    left join sales on pnl.month = sales.month
    left join expenses on pnl.month = expenses.month
    left join purchases on pnl.month = purchases.month

),

missing_months as (

    -- a month with a sale, an expense or a purchase that the P&L lacks
    select activity.month
    from (
        select month from sales
        union
        select month from expenses
        union
        select month from purchases
    ) as activity
    where not exists (select from pnl where pnl.month = activity.month)

)

select month, 'column differs' as problem
from compared
where
    units_sold_differ or revenue_differs or fees_differ or output_vat_differs or net_sales_differ
    or cogs_differs or expenses_differ or purchases_differ or identities_broken or profit_differs
union all
select
    month,
    'month missing' as problem
from missing_months
