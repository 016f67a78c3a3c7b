-- ECB reference rates, one row per (rate_date, currency): the wide raw files unpivoted,
-- N/A cells (no rate that day) left out. Every currency column of the ecb_fx_rates format is
-- listed below (tests/unit/test_fx_rates_format.py keeps the two in step). When the same day
-- was loaded more than once (the history file again, a daily file, a revised day), the newest
-- load wins per currency; a cell that is N/A in a newer load does not erase an older rate.
-- No EUR row: rates are per EUR (core.fx_rates_daily adds EUR = 1).
{%- set currencies = [
    'USD', 'JPY', 'BGN', 'CYP', 'CZK', 'DKK', 'EEK', 'GBP', 'HUF', 'LTL',
    'LVL', 'MTL', 'PLN', 'ROL', 'RON', 'SEK', 'SIT', 'SKK', 'CHF', 'ISK',
    'NOK', 'HRK', 'RUB', 'TRL', 'TRY', 'AUD', 'BRL', 'CAD', 'CNY', 'HKD',
    'IDR', 'ILS', 'INR', 'KRW', 'MXN', 'MYR', 'NZD', 'PHP', 'SGD', 'THB',
    'ZAR'
] %}

with

source as (

    select * from {{ source('raw', 'ecb_fx_rates') }}

),

unpivoted as (

    {%- for currency in currencies %}
        select
            rate_date,
            '{{ currency }}' as currency,
            {{ currency | lower }} as per_eur,
            _batch_id,
            _source,
            _source_line,
            _loaded_at
        from source
        where {{ currency | lower }} is not null
        {%- if not loop.last %}

            union all
        {% endif %}
    {%- endfor %}

),

latest as (

    select distinct on (rate_date, currency) *
    from unpivoted
    order by rate_date asc, currency asc, _loaded_at desc, _source_line desc

),

final as (

    select
        rate_date::date as rate_date,
        currency::text as currency,
        per_eur::numeric as per_eur,
        _batch_id as load_batch_id,
        _source as load_source,
        _source_line as load_source_line,
        _loaded_at as loaded_at
    from latest

)

select * from final
