-- Daily FX rates into the home currency (var home_currency, default EUR): one row per calendar
-- day and currency, from the currency's first ECB rate up to today (UTC). Every downstream
-- conversion is amount_home = round(amount * home_per_unit, 2), joined on (currency, the
-- event's UTC date).
--
-- The ECB publishes per-EUR rates on TARGET business days. Cross rates for home currency H:
-- units_per_home(X) = per_eur(X) / per_eur(H), home_per_unit(X) = per_eur(H) / per_eur(X);
-- EUR is per_eur = 1 on every publication day.
--
-- Carry-forward rule: a rate published on day p stays in force on the following days until the
-- currency's next rate, but only while the ECB still publishes the currency within 7 days:
--   * its next rate is at most 7 days after p (weekends, holidays - Easter is Thursday to
--     Tuesday - and an odd N/A day), or
--   * p is the currency's newest rate and at most 7 days older than the newest ECB publication
--     in the data: carried forward up to today, however old the file is (source freshness
--     warns about a stale file).
-- Otherwise the rate applies to p only: a currency the ECB stopped publishing (CYP after
-- 2007-12-31, HRK after 2022-12-30) or suspended for longer (ISK 2008) gets no rows after its
-- last rate, so an amount in it is not silently converted at a stale rate. Nothing is invented
-- before a currency's first rate.
{%- set home_code = home_currency() %}
{%- set max_gap_days = 7 %}
{%- set today = "(current_timestamp at time zone 'UTC')::date" %}

with

published as (

    select rate_date, currency, per_eur
    from {{ ref('stg_ecb__fx_rates') }}

),

publication_days as (

    select distinct rate_date
    from published

),

with_euro as (

    select rate_date, currency, per_eur
    from published

    union all

    select
        rate_date,
        'EUR' as currency,
        1::numeric as per_eur
    from publication_days

),

newest as (

    select max(rate_date) as newest_publication_date
    from publication_days

),

spans as (

    select
        rate_date as published_date,
        currency,
        per_eur,
        lead(rate_date) over (partition by currency order by rate_date) as next_published_date
    from with_euro

),

validity as (

    select
        spans.published_date,
        spans.currency,
        spans.per_eur,
        case
            when spans.next_published_date - spans.published_date <= {{ max_gap_days }}
                then spans.next_published_date - 1
            when
                spans.next_published_date is null
                and spans.published_date >= newest.newest_publication_date - {{ max_gap_days }}
                then {{ today }}
            else spans.published_date
        end as valid_through
    from spans
    cross join newest

),

daily as (

    select
        days.day::date as rate_date,
        validity.currency,
        validity.per_eur,
        validity.published_date
    from validity
    cross join lateral generate_series(
        validity.published_date,
        least(validity.valid_through, {{ today }}),
        interval '1 day'
    ) as days (day)

),

home as (

    select
        rate_date,
        per_eur as home_per_eur,
        published_date as home_published_date
    from daily
    where currency = '{{ home_code }}'

),

final as (

    select
        daily.rate_date::date as rate_date,
        daily.currency::text as currency,
        '{{ home_code }}'::text as home_currency,
        round(daily.per_eur / home.home_per_eur, 8)::numeric(18, 8) as units_per_home,
        round(home.home_per_eur / daily.per_eur, 10)::numeric(18, 10) as home_per_unit,
        daily.per_eur::numeric(18, 8) as per_eur,
        least(daily.published_date, home.home_published_date)::date as published_date,
        (least(daily.published_date, home.home_published_date) < daily.rate_date)::boolean as is_carried_forward
    from daily
    inner join home on daily.rate_date = home.rate_date

)

select * from final
