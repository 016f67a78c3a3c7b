-- Money in unit economics reconciles with the sales to the cent. Per currency, the pairs'
-- gross sales and payouts sum to fct_sales' gross amounts and payouts (the pairs of a sale
-- split its amounts exactly), and every pair with a payout has net sale + output VAT = payout,
-- in the sale currency and in the home currency. Returns the currencies or pairs that differ.
{{ config(meta={'dagster': {'ref': {'name': 'fct_unit_economics'}}}) }}
with

units as (

    select * from {{ ref('fct_unit_economics') }}

),

sales_totals as (

    select
        payout_currency as currency,
        sum(gross_amount) filter (where gross_currency = payout_currency) as gross,
        sum(payout_amount) as payout,
        sum(quantity) as units
    from {{ ref('fct_sales') }}
    group by 1

),

unit_totals as (

    select
        sale_currency as currency,
        sum(gross_sale_amount) filter (where gross_sale_currency = sale_currency) as gross,
        sum(payout_amount) as payout,
        count(*) as units
    from units
    group by 1

),

totals_differ as (

    select
        coalesce(sales_totals.currency, unit_totals.currency) as currency_or_pair,
        'totals per currency' as check_name
    from sales_totals
    full outer join unit_totals on sales_totals.currency = unit_totals.currency
    where
        sales_totals.gross is distinct from unit_totals.gross
        or sales_totals.payout is distinct from unit_totals.payout
        or sales_totals.units is distinct from unit_totals.units

),

pairs_differ as (

    select
        sale_unit_id as currency_or_pair,
        'net sale + output VAT = payout' as check_name
    from units
    where
        payout_amount is not null
        and (
            (output_vat_amount is not null and net_sale_amount + output_vat_amount <> payout_amount)
            or (payout_home is not null and net_sale_home + output_vat_home <> payout_home)
            or (output_vat_amount is not null and net_sale_amount is null)
        )

)

select * from totals_differ
union all
select * from pairs_differ
