{#-
    Schemas carry plain business names (core, products, transactions, finance, analytics),
    the names Metabase users see. Isolation between developers and tests comes from separate
    databases, not from schema prefixes. Never returns null (dbt 1.12 makes that an error).
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
