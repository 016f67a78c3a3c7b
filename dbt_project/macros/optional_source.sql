{#-
    optional_source_select(source_relation, wanted): the select of a `source` CTE over a raw
    table that may not exist yet or may lack some columns (the Notion tables exist only once
    Notion has been synced, or assets.notion_sync.ensure_notion_tables ran, with one column per
    mapped property). wanted: a list of (column, type) pairs. Every column is selected cast to
    its type, a column the table lacks as null::type; while the table is missing the select has
    the same columns and no rows. The warehouse is only read when dbt executes; at parse time
    (and for sqlfluff, execute = False) the missing-table branch renders.
-#}
{%- macro optional_source_select(source_relation, wanted) -%}
    {%- set existing = none -%}
    {%- set present = [] -%}
    {%- if execute -%}
        {%- set existing = adapter.get_relation(
            database=source_relation.database, schema=source_relation.schema,
            identifier=source_relation.identifier) -%}
        {%- if existing is not none -%}
            {%- for column in adapter.get_columns_in_relation(existing) -%}
                {%- do present.append(column.name | lower) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {%- set columns = [] -%}
    {%- for name, type in wanted -%}
        {%- do columns.append((name if name in present else 'null') ~ '::' ~ type ~ ' as ' ~ name) -%}
    {%- endfor -%}
    select
        {{ columns | join(',\n        ') }}
    {% if existing is not none -%}
        from {{ existing }}
    {%- else -%}
        where false  -- {{ source_relation }} does not exist (never synced)
    {%- endif -%}
{%- endmacro -%}
