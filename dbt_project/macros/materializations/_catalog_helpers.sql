{#-
    PostgreSQL catalog helpers shared by the `stable_table` and `kpi_view` materializations
    (macros/materializations/*.sql). They compare what a model *should* look like with what the
    warehouse has, so those materializations change relations only when something changed.
-#}

{#- A relation as a SQL string literal for `to_regclass(...)`; temp relations render without schema. -#}
{% macro soleflipper_regclass_literal(relation) -%}
    {{- return("'" ~ (relation.include(database=False) | string | replace("'", "''")) ~ "'") -}}
{%- endmacro %}


{#- Canonical key of an `indexes` config entry: "unique|btree|col_a,col_b" (column order matters). -#}
{% macro soleflipper_index_key(index_dict) -%}
    {%- set index = adapter.parse_index(index_dict) -%}
    {%- set columns = [] -%}
    {%- for column in index.columns -%}
        {%- do columns.append(column | lower) -%}
    {%- endfor -%}
    {{- return(('unique' if index.unique else 'non-unique') ~ '|' ~ ((index.type or 'btree') | lower)
               ~ '|' ~ (columns | join(','))) -}}
{%- endmacro %}


{#- The configured indexes as sorted canonical keys. -#}
{% macro soleflipper_configured_index_keys(indexes) -%}
    {%- set keys = [] -%}
    {%- for index_dict in indexes -%}
        {%- do keys.append(soleflipper_index_key(index_dict)) -%}
    {%- endfor -%}
    {{- return(keys | sort) -}}
{%- endmacro %}


{#-
    The indexes on `relation` that do not back one of its own constraints (primary key, unique,
    exclusion), as [{'name': ..., 'key': ...}] sorted by key. Keys are built like
    soleflipper_index_key (from pg_index, in index column order, unlike dbt's own comparison,
    which ignores column order). Expression and partial indexes cannot come from `indexes`
    config, so they get a key no config produces and always count as a difference.
-#}
{% macro soleflipper_relation_indexes(relation) -%}
    {%- set query -%}
        select i.relname as name,
               case
                   when x.indexprs is not null or x.indpred is not null
                       then 'other|' || pg_get_indexdef(x.indexrelid)
                   else (case when x.indisunique then 'unique' else 'non-unique' end) || '|' || am.amname || '|'
                        || (select string_agg(a.attname, ',' order by k.ord)
                            from unnest(x.indkey::int2[]) with ordinality as k(attnum, ord)
                            join pg_attribute as a on a.attrelid = x.indrelid and a.attnum = k.attnum)
               end as key
        from pg_index as x
        join pg_class as i on i.oid = x.indexrelid
        join pg_am as am on am.oid = i.relam
        where x.indrelid = to_regclass({{ soleflipper_regclass_literal(relation) }})
          and not exists (
              select from pg_constraint as c
              where c.conrelid = x.indrelid and c.conindid = x.indexrelid and c.contype in ('p', 'u', 'x'))
        order by 2, 1
    {%- endset -%}
    {%- set indexes = [] -%}
    {%- for row in run_query(query).rows -%}
        {%- do indexes.append({'name': row['name'], 'key': row['key']}) -%}
    {%- endfor -%}
    {{- return(indexes) -}}
{%- endmacro %}


{#-
    The shape of a table as sorted strings: one per column ("column <name> <type>[ not null]")
    and one per primary key / unique / check / exclusion constraint ("constraint <definition>").
    Foreign keys are left out (a temp table cannot reference a permanent one, see stable_table).
-#}
{% macro soleflipper_table_shape(relation) -%}
    {%- set query -%}
        with rel as (select to_regclass({{ soleflipper_regclass_literal(relation) }}) as oid)
        select 'column ' || quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
               || case when a.attnotnull then ' not null' else '' end as item
        from pg_attribute as a, rel
        where a.attrelid = rel.oid and a.attnum > 0 and not a.attisdropped
        union all
        select 'constraint ' || pg_get_constraintdef(c.oid)
        from pg_constraint as c, rel
        where c.conrelid = rel.oid and c.contype in ('p', 'u', 'c', 'x')
        order by 1
    {%- endset -%}
    {{- return(run_query(query).columns[0].values() | list) -}}
{%- endmacro %}


{#- The relations (views, materialized views) that depend directly on `relation` and that a
    `drop ... cascade` of it would take along. -#}
{% macro soleflipper_dependent_relations(relation) -%}
    {%- set query -%}
        select distinct dependent.oid::regclass::text as name
        from pg_depend as d
        join pg_rewrite as r on r.oid = d.objid and d.classid = 'pg_rewrite'::regclass
        join pg_class as dependent on dependent.oid = r.ev_class
        where d.refclassid = 'pg_class'::regclass
          and d.refobjid = to_regclass({{ soleflipper_regclass_literal(relation) }})
          and dependent.oid <> d.refobjid
        order by 1
    {%- endset -%}
    {{- return(run_query(query).columns[0].values() | list) -}}
{%- endmacro %}
