-- Monthly profit and loss in the home currency (var('home_currency'), EUR): one row per
-- calendar month from the first month with a sale, a purchase or an expense to the last one
-- (months in between without any activity are listed with zeros).
--
-- * sales (finance.fct_unit_economics, by sale month): units sold, revenue (gross sales),
--   fees (gross - payout), output VAT, net sales (payout - output VAT), cost of goods sold (net
--   buy of the pairs sold that month that have a linked purchase), gross profit = net sales -
--   cost of goods sold;
-- * expenses (finance.fct_expenses, by expense month): net of VAT; net profit = gross profit -
--   expenses;
-- * purchases (transactions.fct_purchases without cancelled purchases, i.e. the units of
--   products.inventory_items, by purchase month): net buy and units bought, converted as in
--   fct_unit_economics (FX of the purchase date);
-- * VAT: input VAT of the month's purchases and expenses, and VAT payable = output VAT - input
--   VAT (what a German Umsatzsteuer-Voranmeldung would show for these records).
-- A row whose home amount is unknown (no FX rate for its currency and day, no price) adds
-- nothing to the sums and is counted instead: units_sold_without_cost, units_sold_without_fx,
-- expenses_without_fx, units_purchased_without_cost. Purchases without a purchase date (Notion
-- pages without Buy Date) belong to no month and are not in the P&L.
-- Every amount is the sum of the rounded per-row home amounts, so each column equals the sum of
-- the corresponding column of the facts (assert_finance_pnl_matches_facts).
{%- set home = home_currency() %}
{%- set vat_registered = vat_registered() %}
{#- the cost of a pair: net, or gross when input VAT cannot be deducted #}
{%- set cost_column = 'net_price' if vat_registered else 'gross_price' %}
with

units as (

    select * from {{ ref('fct_unit_economics') }}

),

expenses as (

    select * from {{ ref('fct_expenses') }}

),

fx as (

    select rate_date, currency, home_per_unit from {{ ref('fx_rates_daily') }}

),

purchases_rated as (

    -- bought units (cancelled purchases were never bought) with the FX rate of the purchase date
    select
        purchases.purchase_date,
        purchases.net_price,
        purchases.gross_price,
        {{ home_per_unit('purchases.net_price_currency', 'fx') }} as home_per_unit
    from {{ ref('fct_purchases') }} as purchases
    left join fx
        on purchases.net_price_currency = fx.currency and purchases.purchase_date = fx.rate_date
    where
        purchases.purchase_date is not null
        and purchases.excluded_reason is distinct from 'purchase cancelled'

),

purchases as (

    -- net and gross converted as in fct_unit_economics
    select
        date_trunc('month', purchase_date)::date as month,
        round({{ cost_column }} * home_per_unit, 2) as net_buy_home,
        round(gross_price * home_per_unit, 2) as gross_buy_home
    from purchases_rated

),

sales_by_month as (

    select
        date_trunc('month', sale_date)::date as month,
        count(*) as units_sold,
        count(*) filter (where net_buy_home is null) as units_sold_without_cost,
        count(*) filter (where payout_amount is null) as units_sold_without_payout,
        count(*) filter (
            where (gross_sale_amount is not null and gross_sale_home is null)
            or (payout_amount is not null and payout_home is null)
        ) as units_sold_without_fx,
        coalesce(sum(gross_sale_home), 0) as revenue_home,
        coalesce(sum(fees_home), 0) as fees_home,
        coalesce(sum(output_vat_home), 0) as output_vat_home,
        coalesce(sum(net_sale_home), 0) as net_sales_home,
        coalesce(sum(net_buy_home) filter (where purchase_id is not null), 0) as cost_of_goods_sold_home
    from units
    group by 1

),

expenses_by_month as (

    select
        expense_month as month,
        count(*) as expense_count,
        count(*) filter (where net_amount_home is null) as expenses_without_fx,
        coalesce(sum(net_amount_home), 0) as expenses_home,
        coalesce(sum(vat_amount_home), 0) as expenses_vat_home
    from expenses
    group by 1

),

purchases_by_month as (

    select
        month,
        count(*) as units_purchased,
        count(*) filter (where net_buy_home is null) as units_purchased_without_cost,
        coalesce(sum(net_buy_home), 0) as purchases_home,
        coalesce(sum(gross_buy_home - net_buy_home), 0) as purchases_vat_home
    from purchases
    group by 1

),

bounds as (

    select min(month) as first_month, max(month) as last_month
    from (
        select month from sales_by_month
        union all
        select month from expenses_by_month
        union all
        select month from purchases_by_month
    ) as activity

),

months as (

    select generate_series(first_month, last_month, interval '1 month')::date as month
    from bounds
    where first_month is not null

),

combined as (

    select
        months.month,
        coalesce(sales_by_month.units_sold, 0) as units_sold,
        coalesce(sales_by_month.units_sold_without_cost, 0) as units_sold_without_cost,
        coalesce(sales_by_month.units_sold_without_payout, 0) as units_sold_without_payout,
        coalesce(sales_by_month.units_sold_without_fx, 0) as units_sold_without_fx,
        coalesce(sales_by_month.revenue_home, 0) as revenue_home,
        coalesce(sales_by_month.fees_home, 0) as fees_home,
        coalesce(sales_by_month.output_vat_home, 0) as output_vat_home,
        coalesce(sales_by_month.net_sales_home, 0) as net_sales_home,
        coalesce(sales_by_month.cost_of_goods_sold_home, 0) as cost_of_goods_sold_home,
        coalesce(expenses_by_month.expense_count, 0) as expense_count,
        coalesce(expenses_by_month.expenses_without_fx, 0) as expenses_without_fx,
        coalesce(expenses_by_month.expenses_home, 0) as expenses_home,
        coalesce(expenses_by_month.expenses_vat_home, 0) as expenses_vat_home,
        coalesce(purchases_by_month.units_purchased, 0) as units_purchased,
        coalesce(purchases_by_month.units_purchased_without_cost, 0) as units_purchased_without_cost,
        coalesce(purchases_by_month.purchases_home, 0) as purchases_home,
        coalesce(purchases_by_month.purchases_vat_home, 0) as purchases_vat_home
    from months
    left join sales_by_month on months.month = sales_by_month.month
    left join expenses_by_month on months.month = expenses_by_month.month
    left join purchases_by_month on months.month = purchases_by_month.month

),

final as (

    select
        month::date as month,
        '{{ home }}'::text as home_currency,
        units_sold::integer as units_sold,
        revenue_home::numeric(14, 2) as revenue_home,
        fees_home::numeric(14, 2) as fees_home,
        output_vat_home::numeric(14, 2) as output_vat_home,
        net_sales_home::numeric(14, 2) as net_sales_home,
        cost_of_goods_sold_home::numeric(14, 2) as cost_of_goods_sold_home,
        (net_sales_home - cost_of_goods_sold_home)::numeric(14, 2) as gross_profit_home,
        expenses_home::numeric(14, 2) as expenses_home,
        (net_sales_home - cost_of_goods_sold_home - expenses_home)::numeric(14, 2) as net_profit_home,
        purchases_home::numeric(14, 2) as purchases_home,
        units_purchased::integer as units_purchased,
        units_sold_without_cost::integer as units_sold_without_cost,
        units_sold_without_payout::integer as units_sold_without_payout,
        expense_count::integer as expense_count,
        purchases_vat_home::numeric(14, 2) as purchases_vat_home,
        expenses_vat_home::numeric(14, 2) as expenses_vat_home,
        (output_vat_home - purchases_vat_home - expenses_vat_home)::numeric(14, 2) as vat_payable_home,
        ---------- rows whose home amount is unknown, so missing from the sums above
        units_sold_without_fx::integer as units_sold_without_fx,
        expenses_without_fx::integer as expenses_without_fx,
        units_purchased_without_cost::integer as units_purchased_without_cost
    from combined

)

select * from final
