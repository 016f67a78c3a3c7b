-- One row per business expense (stg_sheets__expenses): gross as written, input VAT and net,
-- each in the expense's currency, and converted into the home currency with the FX rate of
-- the expense date.
--
-- VAT: the rate written in the sheet (a fraction here); a BLANK rate means no deductible input
-- VAT (rate 0), never var('default_vat_rate'): a receipt without VAT on it (bank fees,
-- reverse-charge invoices from abroad, private sellers) gives no input VAT, and assuming 19 %
-- would overstate the deduction. vat = round(gross * rate / (1 + rate), 2), net = gross - vat.
-- Not VAT-registered (var('vat_registered') false): no input VAT at all, net = gross.
--
-- Home currency (var('home_currency'), EUR): amount_home = round(amount * home_per_unit, 2)
-- with core.fx_rates_daily on (currency, expense_date); gross and net are converted, VAT in
-- home currency is their difference (so net + VAT = gross to the cent in both currencies).
{%- set home = home_currency() %}
{%- set vat_registered = vat_registered() %}
{%- set applied_vat_rate = 'coalesce(expenses.vat_rate, 0)' if vat_registered else '0::numeric' %}
with

expenses as (

    select * from {{ ref('stg_sheets__expenses') }}

),

fx as (

    select rate_date, currency, home_per_unit from {{ ref('fx_rates_daily') }}

),

taxed as (

    select
        expenses.*,
        {{ applied_vat_rate }} as applied_vat_rate,
        {{ home_per_unit('expenses.currency', 'fx') }} as home_per_unit
    from expenses
    left join fx
        on expenses.currency = fx.currency and expenses.expense_date = fx.rate_date

),

amounts as (

    select
        *,
        round(gross_amount * applied_vat_rate / (1 + applied_vat_rate), 2) as vat_amount
    from taxed

),

converted as (

    select
        *,
        gross_amount - vat_amount as net_amount,
        round(gross_amount * home_per_unit, 2) as gross_amount_home,
        round((gross_amount - vat_amount) * home_per_unit, 2) as net_amount_home
    from amounts

),

final as (

    select
        expense_id::text as expense_id,
        expense_date::date as expense_date,
        date_trunc('month', expense_date)::date as expense_month,
        category::text as category,
        category_key::text as category_key,
        description::text as description,
        payee::text as payee,
        invoice_number::text as invoice_number,
        gross_amount::numeric(14, 2) as gross_amount,
        applied_vat_rate::numeric(6, 4) as vat_rate,
        vat_amount::numeric(14, 2) as vat_amount,
        net_amount::numeric(14, 2) as net_amount,
        currency::text as currency,
        '{{ home }}'::text as home_currency,
        home_per_unit::numeric(18, 10) as home_per_unit,
        gross_amount_home::numeric(14, 2) as gross_amount_home,
        (gross_amount_home - net_amount_home)::numeric(14, 2) as vat_amount_home,
        net_amount_home::numeric(14, 2) as net_amount_home,
        load_source::text as load_source,
        load_source_line::integer as load_source_line
    from converted

)

select * from final
