{#-
    Style-code and size normalisation in SQL: the same rules as soleflipper/products.py, which
    is canonical (tests/integration/test_products_matching.py runs both on the same inputs and
    requires identical results). Change the Python first, then mirror it here.

    Every macro is a scalar SQL expression over one text column or expression, null in, null
    out. The size macros read a label once (a correlated scalar subquery), so a model can call
    them on any column without helper CTEs.

    Known divergence: PostgreSQL upper-cases per the database's collation (in the C locale only
    ASCII), Python per Unicode ('ß' -> 'SS'); and SQL digits are [0-9] where Python's \d also
    takes other scripts' digits. Style codes and sizes in the exports are ASCII.
-#}

{#- Python's whitespace (str.isspace, re's \s, str.split()): exactly these 29 characters. -#}
{%- macro _py_whitespace() -%}
\t\n\v\f\r \u001c-\u001f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000
{%- endmacro -%}

{#- normalize_style_code's text before the brand patterns: upper case, separator runs
    (whitespace, _ . ·) to one '-', no leading/trailing '-', no '--'. -#}
{%- macro _style_code_cleaned(col) -%}
regexp_replace(btrim(regexp_replace(upper({{ col }}), '[{{ _py_whitespace() }}_.\u00b7]+', '-', 'g'), '-'), '-{2,}', '-', 'g')
{%- endmacro -%}

{#- Canonical display form of a style code (DD1391-100), or null when there is none (N/A):
    soleflipper.products.normalize_style_code. The three patterns (Nike DD1391-100, Nike/Jordan
    numeric 555088-711, ASICS 1191A266-102) exclude each other, so chaining them is the same
    as Python's first-match loop. -#}
{%- macro normalize_style_code(col) -%}
(case
    when {{ _style_code_cleaned(col) }} in ('', 'N/A', 'NA', 'NONE', 'NULL', '-') then null
    else regexp_replace(regexp_replace(regexp_replace({{ _style_code_cleaned(col) }},
        '^([A-Z]{2}[0-9]{4})-?([0-9]{3})$', '\1-\2'),
        '^([0-9]{6})-?([0-9]{3})$', '\1-\2'),
        '^([0-9]{4}[A-Z][0-9]{3})-?([0-9]{3})$', '\1-\2')
end)
{%- endmacro -%}

{#- Matching key: upper-case letters and digits only (dd1391 100 -> DD1391100), null when
    nothing is left: soleflipper.products.style_key. -#}
{%- macro style_key(col) -%}
nullif(regexp_replace(upper({{ col }}), '[^A-Z0-9]', '', 'g'), '')
{%- endmacro -%}

{#- soleflipper.products._decimal_text: '10 1/2' -> '10.5', '9.0' -> '9', '05' -> '5'. -#}
{%- macro _size_decimal(number) -%}
trim_scale(regexp_replace(replace({{ number }}, ' ', ''), '1/2$', '.5')::numeric)::text
{%- endmacro -%}

{#- soleflipper.products._try on a normalised label (upper case, single spaces, trimmed):
    'SYSTEM|VALUE', or null when the label is no size of any system. The WHEN order is the
    order of Python's checks. -#}
{%- macro _size_try(text) -%}
(select case
    when t in ('XXS', 'XS', 'S', 'M', 'L', 'XL', 'XXL', 'XXXL', '2XL', '3XL', '4XL') then 'APPAREL|' || t
    when t ~ '^(XXS|XS|S|M|L|XL|XXL)/(XS|S|M|L|XL|XXL|XXXL)$' then 'APPAREL|' || t
    when t ~ '^[0-9]{2}W\s?/\s?[0-9]{2}L$' then 'APPAREL|' || replace(t, ' ', '')
    when t ~ '^[0-9]{2}/[0-9]{2}$' then 'EU|' || t
    when uk is not null then 'UK|' || {{ _size_decimal('uk[1]') }}
    when us is not null and {{ _size_decimal('us[2]') }}::numeric <= 18 then
        (case coalesce(us[3], us[1], '')
            when '' then 'US M' when 'M' then 'US M' when 'W' then 'US W'
            when 'Y' then 'US Y' when 'GS' then 'US Y' when 'J' then 'US Y'
            else 'US C' /* C, TD, K, PS */
        end) || '|' || {{ _size_decimal('us[2]') }}
    when eu is not null and left(eu[1], 2)::integer between 16 and 52 then 'EU|' || replace(eu[1], ' ', '')
end
from (
    select
        t,
        regexp_match(t, '^UK\s*([0-9]{1,2}(?:\.[0-9])?|[0-9]{1,2}\s?1/2)$') as uk,
        regexp_match(
            t, '^(?:US\s*)?(?:(M|W|Y|C|GS|TD|PS)\s*)?([0-9]{1,2}(?:\.[0-9])?|[0-9]{1,2}\s?1/2)\s*(M|W|Y|C|GS|J|K|TD|PS)?$'
        ) as us,
        regexp_match(t, '^(?:EU\s*)?([0-9]{2}(?:\.[0-9]|\s?[123]/3)?)$') as eu
    from (select {{ text }} as t) as _size_text
) as _size_matches)
{%- endmacro -%}

{#- soleflipper.products.parse_size as one text: 'SYSTEM|VALUE' for a size, null for no size
    (N/A, blank: unsized items), '!' for a label that cannot be read (SizeError). Dual labels
    ('12W / 10.5M') resolve to the men's part, else the first readable part. -#}
{%- macro size_parsed(col) -%}
(select case
    when t is null or t in ('', 'N/A', 'NA', 'NONE', 'NULL', '-') then null
    when t in ('OS', 'ONE SIZE', 'OSFA') then 'ONE SIZE|OS'
    when strpos(t, ' / ') > 0 then coalesce(
        (select p
         from (
             select {{ _size_try('btrim(part)') }} as p, n
             from regexp_split_to_table(t, ' / ') with ordinality as _parts (part, n)
         ) as _parsed_parts
         where p is not null
         order by (p like 'US M|%') desc, n
         limit 1),
        '!')
    else coalesce({{ _size_try('t') }}, '!')
end
from (select btrim(regexp_replace(upper({{ col }}), '[{{ _py_whitespace() }}]+', ' ', 'g'), ' ') as t) as _size_label)
{%- endmacro -%}

{#- Size system of a label (one of soleflipper.products.SIZE_SYSTEMS), null when the label is
    empty or unreadable. -#}
{%- macro size_system(col) -%}
nullif(split_part({{ size_parsed(col) }}, '|', 1), '!')
{%- endmacro -%}

{#- Canonical size value of a label ('10.5', 'M', 'OS', '422/3'), null when empty or unreadable. -#}
{%- macro size_value(col) -%}
nullif(split_part({{ size_parsed(col) }}, '|', 2), '')
{%- endmacro -%}

{#- True when a label is present but no size can be read from it (parse_size raises). -#}
{%- macro size_is_unreadable(col) -%}
coalesce({{ size_parsed(col) }} = '!', false)
{%- endmacro -%}
