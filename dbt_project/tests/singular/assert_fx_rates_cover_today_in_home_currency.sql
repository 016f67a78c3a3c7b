-- Once any ECB rate is loaded, core.fx_rates_daily has today's (UTC) rate of the home currency
-- itself (1) and of EUR: otherwise var home_currency names a currency the ECB does not publish
-- (or no longer publishes), and every *_home amount would be null. Returns a row saying so.
{{ config(meta={'dagster': {'ref': {'name': 'fx_rates_daily'}}}) }}
with

expected as (

    select unnest(array['{{ home_currency() }}', 'EUR']) as currency

),

today as (

    select currency, rate_date
    from {{ ref('fx_rates_daily') }}
    where rate_date = (current_timestamp at time zone 'UTC')::date

)

select
    expected.currency,
    'no rate on ' || (current_timestamp at time zone 'UTC')::date || ' for home currency '
    || '{{ home_currency() }}' as problem
from expected
where
    exists (
        select 1 as any_rate
        from {{ ref('stg_ecb__fx_rates') }}
    )
    and not exists (
        select 1 as rate_today
        from today
        where today.currency = expected.currency
    )
