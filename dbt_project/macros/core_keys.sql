{#-
    Keys of the core dimensions, as scalar SQL expressions (null in, null out).

    slug_key(col): lower-case name with every run of characters other than a-z and 0-9 turned
    into one "-", trimmed of "-" at both ends; null when nothing is left. "Solebox Demo",
    " solebox-demo " and "SOLEBOX_Demo" are all `solebox-demo`; "New Balance" is `new-balance`.
    core.dim_suppliers.supplier_key and core.dim_brands.brand_key (of brands not in the
    brand_hierarchy seed) are this slug; products.inventory_items computes supplier_key the same way.
-#}
{%- macro slug_key(col) -%}
    nullif(btrim(regexp_replace(lower(btrim({{ col }})), '[^a-z0-9]+', '-', 'g'), '-'), '')
{%- endmacro -%}


{#-
    home_currency(): var('home_currency') (default EUR) as an upper-case ISO code, checked to be
    three letters (it is pasted into SQL as a literal). Use as '{{ home_currency() }}'.
-#}
{%- macro home_currency() -%}
    {%- set code = var('home_currency', 'EUR') | string | trim | upper -%}
    {#- checked when running (execute), not while dbt or sqlfluff parse the project -#}
    {%- if execute and (code | length != 3 or not code.isalpha() or not code.isascii()) -%}
        {{ exceptions.raise_compiler_error("var home_currency must be a three-letter ISO code such as EUR or USD, not '"
                                           ~ var('home_currency') ~ "'") }}
    {%- endif -%}
    {{- return(code) -}}
{%- endmacro -%}


{#-
    vat_registered(): var('vat_registered') (default true) as a boolean; 'true', '1' and 'yes'
    (any case) are true, anything else false.
-#}
{%- macro vat_registered() -%}
    {{- return((var('vat_registered', true) | string | trim | lower) in ['true', '1', 'yes']) -}}
{%- endmacro -%}


{#-
    home_per_unit(currency, fx): home currency per unit of `currency`, as a SQL expression: 1
    when it is the home currency, else home_per_unit of the core.fx_rates_daily row joined as
    `fx` on (currency, the event's date); null when no rate is known. Amounts are converted as
    round(amount * home_per_unit, 2).
-#}
{%- macro home_per_unit(currency, fx) -%}
    (case when {{ currency }} = '{{ home_currency() }}' then 1::numeric else {{ fx }}.home_per_unit end)
{%- endmacro -%}
