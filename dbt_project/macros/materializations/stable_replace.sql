{#-
    Incremental strategy `stable_replace`: a table that keeps its identity (OID) across builds,
    for the marts that views and materialized views are built on (transactions.fct_sales; more
    later). Use it as

        {{ config(materialized='incremental', incremental_strategy='stable_replace',
                  on_schema_change='append_new_columns') }}

    Why: dbt's `table` materialization builds a new table, renames the old one to a backup and
    drops it with CASCADE, which silently drops every dependent view, e.g. the KPI materialized
    views Metabase reads, so each `dbt build` recreated them from scratch (blocking readers).

    Why a strategy and not a materialization of its own: dbt-core only treats `table` and
    `incremental` as enforcing contract constraints (ModelNode.materialization_enforces_constraints);
    any other name warns "constraints ... will be ignored" on every parse (failing --warn-error)
    and leaves constraints out of the contract checksum. As a strategy, dbt's own incremental
    materialization does everything else:

    * first build, `--full-refresh`, or a view in the way: a new table with the contract's
      columns and constraints and the `indexes` config. `--full-refresh` is the escape hatch for
      shape changes: it swaps in a new table and drops the old one with CASCADE, so dependent
      views go too (`dbt build --full-refresh --select <model>+` recreates them).
    * every later build: the model's rows go into a temp table (the contract is asserted there,
      as for any incremental model); with `on_schema_change='append_new_columns'` dbt adds
      columns that are new in the model to the table (ALTER TABLE ADD COLUMN works under
      dependent views; it holds ACCESS EXCLUSIVE until the commit, so only that one build blocks
      readers) and never retypes or drops anything. Then this strategy runs, in the same
      transaction:

        1. shape check: an empty temp table is created with the DDL a first build would use (the
           contract's columns, types and constraints, or the SQL's own columns without a
           contract) and compared with the existing table: column names, types with precision,
           not-null, primary key / unique / check constraints. Any difference (a removed or
           retyped column, a new not-null column, a changed constraint) fails the model with a
           message asking for --full-refresh: types cannot be changed under dependent views, and
           dropping columns is left to the explicit rebuild. Comparing with the contract, not with
           the SQL's types, matters: e.g. a CASE of numeric(14, 2) values is plain `numeric` in the
           SQL but numeric(14, 2) in the table, which is why dbt's own `on_schema_change='fail'`
           check cannot be used here. (Foreign keys are not compared: a temp table cannot
           reference a permanent table.)
        2. the `indexes` config is applied: missing indexes are created, unconfigured ones dropped
           (indexes behind constraints are left alone). Usually a no-op.
        3. `delete from` the table, `insert` the new rows. Readers keep seeing the old rows until
           the commit and are never blocked: DELETE/INSERT take ROW EXCLUSIVE, which does not
           conflict with readers' ACCESS SHARE (TRUNCATE would take ACCESS EXCLUSIVE). Dependent
           views, their OIDs, grants and comments stay as they are.

    The old row versions are dead tuples afterwards; autovacuum reclaims them (a full replace
    crosses its thresholds on every build).
-#}
{% macro get_incremental_stable_replace_sql(arg_dict) -%}
    {%- set target_relation = arg_dict['target_relation'] -%}
    {%- set temp_relation = arg_dict['temp_relation'] -%}
    {%- do soleflipper_assert_table_shape_unchanged(target_relation) -%}
    {%- do soleflipper_sync_indexes(target_relation) -%}
    {%- set column_names = [] -%}
    {%- for column in arg_dict['dest_columns'] -%}
        {%- do column_names.append(adapter.quote(column.name)) -%}
    {%- endfor -%}
    {%- set column_list = column_names | join(', ') -%}
    delete from {{ target_relation }};
    insert into {{ target_relation }} ({{ column_list }})
    select {{ column_list }} from {{ temp_relation }}
{%- endmacro %}


{#- Fail unless a first build of the model would create a table shaped like the existing one. -#}
{% macro soleflipper_assert_table_shape_unchanged(target_relation) -%}
    {%- set contract_config = config.get('contract') -%}
    {%- set enforced = contract_config is not none and contract_config.enforced -%}
    {%- set probe_relation = make_temp_relation(target_relation, '__dbt_probe') -%}
    {% call statement('stable_replace_probe') -%}
        {{ soleflipper_probe_table_sql(probe_relation, enforced) }}
    {%- endcall %}
    {%- set wanted = soleflipper_table_shape(probe_relation) -%}
    {%- set actual = soleflipper_table_shape(target_relation) -%}
    {%- if wanted != actual -%}
        {%- set missing = [] -%}
        {%- for item in wanted if item not in actual -%}{%- do missing.append(item) -%}{%- endfor -%}
        {%- set extra = [] -%}
        {%- for item in actual if item not in wanted -%}{%- do extra.append(item) -%}{%- endfor -%}
        {% do exceptions.raise_compiler_error(
            "stable_replace: the columns or constraints of " ~ model.name ~ " no longer match the existing table "
            ~ target_relation ~ ", which this strategy never alters or drops on a normal build."
            ~ "\n  the model now has:      " ~ ((missing | join('; ')) or '-')
            ~ "\n  the table still has:    " ~ ((extra | join('; ')) or '-')
            ~ "\nRebuild it with `dbt build --full-refresh --select " ~ model.name ~ "+`: that recreates the table"
            ~ " and, because dropping the old one cascades, the views built on it (the `+` selects them).") %}
    {%- endif -%}
{%- endmacro %}


{#-
    DDL for the empty probe table (dropped at commit): with an enforced contract the column and
    constraint DDL of a first build minus foreign keys, else the SQL's own columns (no rows).
-#}
{% macro soleflipper_probe_table_sql(probe_relation, enforced) -%}
    {%- if enforced -%}
        {%- set columns = {} -%}
        {%- for name, column in model['columns'].items() -%}
            {%- set kept = [] -%}
            {%- for constraint in column.get('constraints', []) if constraint['type'] != 'foreign_key' -%}
                {%- do kept.append(constraint) -%}
            {%- endfor -%}
            {%- set copy = {} -%}
            {%- do copy.update(column) -%}
            {%- do copy.update({'constraints': kept}) -%}
            {%- do columns.update({name: copy}) -%}
        {%- endfor -%}
        {%- set model_constraints = [] -%}
        {%- for constraint in model.get('constraints', []) if constraint['type'] != 'foreign_key' -%}
            {%- do model_constraints.append(constraint) -%}
        {%- endfor -%}
        {%- set definitions = adapter.render_raw_columns_constraints(raw_columns=columns)
                              + adapter.render_raw_model_constraints(raw_constraints=model_constraints) -%}
        create temporary table {{ probe_relation }} (
            {{ definitions | join(',\n            ') }}
        ) on commit drop
    {%- else -%}
        create temporary table {{ probe_relation }} on commit drop as (
            {{ sql }}
        ) with no data
    {%- endif -%}
{%- endmacro %}


{#- Make the table's indexes match the `indexes` config (indexes behind constraints are left alone). -#}
{% macro soleflipper_sync_indexes(relation) -%}
    {%- set wanted = {} -%}
    {%- for index_dict in config.get('indexes', default=[]) or [] -%}
        {%- do wanted.update({soleflipper_index_key(index_dict): index_dict}) -%}
    {%- endfor -%}
    {%- set present = [] -%}
    {%- for index in soleflipper_relation_indexes(relation) -%}
        {%- if index['key'] in wanted and index['key'] not in present -%}
            {%- do present.append(index['key']) -%}
        {%- else -%}
            {{- log("stable_replace " ~ relation ~ ": dropping index " ~ index['name'] ~ " (" ~ index['key'] ~ "), not in the `indexes` config", info=true) -}}
            {%- do run_query(get_drop_index_sql(relation, index['name'])) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for key, index_dict in wanted.items() if key not in present -%}
        {{- log("stable_replace " ~ relation ~ ": creating index " ~ key, info=true) -}}
        {%- do run_query(get_create_index_sql(relation, index_dict)) -%}
    {%- endfor -%}
{%- endmacro %}
