-- Expenses reconcile with the raw sheet to the cent: per currency, the gross amounts of
-- fct_expenses equal those of raw.sheets_expenses, and every expense has net + VAT = gross
-- (in its currency and in the home currency). Returns what differs.
{{ config(meta={'dagster': {'ref': {'name': 'fct_expenses'}}}) }}
with

raw_totals as (

    select currency::text as currency, sum(amount) as gross, count(*) as expenses
    from {{ source('raw', 'sheets_expenses') }}
    group by 1

),

fact_totals as (

    select currency, sum(gross_amount) as gross, count(*) as expenses
    from {{ ref('fct_expenses') }}
    group by 1

)

select coalesce(raw_totals.currency, fact_totals.currency) as currency_or_expense, 'totals' as problem
from raw_totals
full outer join fact_totals on raw_totals.currency = fact_totals.currency
where raw_totals.gross is distinct from fact_totals.gross or raw_totals.expenses is distinct from fact_totals.expenses
union all
select expense_id as currency_or_expense, 'net + vat <> gross' as problem
from {{ ref('fct_expenses') }}
where
    net_amount + vat_amount <> gross_amount
    or net_amount_home + vat_amount_home <> gross_amount_home
