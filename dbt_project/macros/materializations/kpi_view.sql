{#-
    `kpi_view`: a materialized view that dashboard readers (Metabase) can always query, even
    while dbt refreshes or redefines it. Replaces dbt-postgres' `materialized_view`, which
    refreshes with a plain REFRESH (ACCESS EXCLUSIVE: readers wait for the whole refresh), misses
    changes to the SQL (dbt-core#8862) and replaces by drop + create.

    Every build is one transaction and takes one of these paths:

    * create   no relation yet: `create materialized view` + the `indexes` config.
    * refresh  definition and indexes unchanged: `refresh materialized view concurrently`
               (readers keep reading the old rows; needs the unique index and a populated view,
               a never-populated view gets a plain refresh since nobody can read it anyway).
    * swap     the SQL changed, the `indexes` config changed, `--full-refresh`, or the name is
               taken by a table/view: build the new definition under `<name>__dbt_tmp` with its
               indexes and comment, then in a few catalog updates at the end of the transaction
               rename the old relation away, rename the new one in, carry over privileges granted
               outside dbt (Metabase's SELECT), and drop the old one. Readers never see a missing
               view; they wait only for the rename (bounded by `lock_timeout`, retried, see
               `swap_lock_timeout` / `swap_attempts` below), then read the new view.
    * skip     config `refresh: false` and nothing changed (a Dagster schedule refreshes it).

    "Changed" is decided from the database, not from stored state: the model's compiled SQL is
    created as a temporary view and its normalized definition (pg_get_viewdef) is compared
    with the materialized view's; the indexes are compared column by column with the config.
    So comment- or whitespace-only edits do not rebuild, and definitions changed outside dbt
    are repaired on the next build.

    Config:
      indexes                  required, with at least one `unique: true` index (the
                               concurrent refresh needs it); the model fails clearly otherwise.
      refresh                  true (default) | false
      on_configuration_change  apply (default: swap) | continue (warn, leave untouched) | fail
      swap_lock_timeout        how long one attempt waits for the old view's lock, default '5s'
      swap_attempts            attempts before the model fails, default 5
-#}
{% materialization kpi_view, adapter='postgres' %}

    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type=this.MaterializedView) -%}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
    {%- set backup_relation = make_backup_relation(target_relation, target_relation.MaterializedView) -%}
    {%- set indexes = config.get('indexes', default=[]) or [] -%}
    {%- set grant_config = config.get('grants') -%}

    {% do soleflipper_kpi_view_require_unique_index(indexes) %}

    -- leftovers of an interrupted run (every path below is a single transaction, so normally none)
    {{ drop_relation_if_exists(load_cached_relation(intermediate_relation)) }}
    {{ drop_relation_if_exists(load_cached_relation(backup_relation)) }}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}

    -- `BEGIN` happens here:
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- set plan = soleflipper_kpi_view_plan(existing_relation, indexes) -%}
    {{ log("kpi_view " ~ target_relation ~ ": " ~ plan['action'] ~ " (" ~ plan['reason'] ~ ")", info=true) }}

    {%- if plan['action'] == 'create' -%}

        {% call statement('main') -%}
            create materialized view {{ target_relation }} as
            {{ sql }}
        {%- endcall %}
        {% do create_indexes(target_relation) %}
        {% do apply_grants(target_relation, grant_config, should_revoke=False) %}
        {% do persist_docs(target_relation, model) %}

    {%- elif plan['action'] == 'swap' -%}

        {% call statement('main') -%}
            create materialized view {{ intermediate_relation }} as
            {{ sql }}
        {%- endcall %}
        {% do create_indexes(intermediate_relation) %}
        {% do persist_docs(intermediate_relation, model) %}

        {%- set dependents = soleflipper_dependent_relations(existing_relation) -%}
        {%- if dependents -%}
            {% do exceptions.warn("kpi_view " ~ target_relation ~ ": replacing it drops the dependent relations "
                                  ~ (dependents | join(', ')) ~ " (cascade); dbt recreates the ones selected in this run.") %}
        {%- endif -%}

        {% call statement('kpi_view_swap') -%}
            {{ soleflipper_kpi_view_swap_sql(existing_relation, intermediate_relation, backup_relation, target_relation) }}
        {%- endcall %}
        {% do adapter.cache_dropped(existing_relation) %}
        {% do apply_grants(target_relation, grant_config, should_revoke=True) %}

    {%- elif plan['action'] in ('refresh', 'refresh_concurrently') -%}

        {% call statement('main') -%}
            refresh materialized view {{ 'concurrently' if plan['action'] == 'refresh_concurrently' }} {{ target_relation }}
        {%- endcall %}
        {% do apply_grants(target_relation, grant_config, should_revoke=True) %}
        {% do persist_docs(target_relation, model) %}

    {%- else -%}

        {% do store_raw_result(name='main', message='skip ' ~ target_relation ~ ': ' ~ plan['reason'],
                               code='skip', rows_affected='-1') %}

    {%- endif -%}

    {{ run_hooks(post_hooks, inside_transaction=True) }}

    -- `COMMIT` happens here
    {% do adapter.commit() %}

    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}

{% endmaterialization %}


{% macro soleflipper_kpi_view_require_unique_index(indexes) -%}
    {%- for index_dict in indexes -%}
        {%- if adapter.parse_index(index_dict).unique -%}
            {{- return(none) -}}
        {%- endif -%}
    {%- endfor -%}
    {% do exceptions.raise_compiler_error(
        "kpi_view " ~ this ~ " (" ~ model.original_file_path ~ "): the `indexes` config needs a unique index,"
        ~ " e.g. indexes: [{columns: [sale_month, platform, currency], unique: true}]. REFRESH MATERIALIZED VIEW"
        ~ " CONCURRENTLY, which keeps dashboards readable during refreshes, requires a unique index on plain"
        ~ " columns that identifies every row.") %}
{%- endmacro %}


{#- Decide the path: {'action': create|swap|refresh|refresh_concurrently|skip, 'reason': text}. -#}
{% macro soleflipper_kpi_view_plan(existing_relation, indexes) -%}
    {%- if existing_relation is none -%}
        {{- return({'action': 'create', 'reason': 'no relation yet'}) -}}
    {%- elif should_full_refresh() -%}
        {{- return({'action': 'swap', 'reason': '--full-refresh'}) -}}
    {%- elif not existing_relation.is_materialized_view -%}
        {{- return({'action': 'swap', 'reason': 'the name is taken by a ' ~ existing_relation.type}) -}}
    {%- endif -%}

    {%- set changes = soleflipper_kpi_view_changes(existing_relation, indexes) -%}
    {%- if changes -%}
        {%- set on_change = config.get('on_configuration_change') or 'apply' -%}
        {%- if on_change == 'apply' -%}
            {{- return({'action': 'swap', 'reason': changes | join('; ')}) -}}
        {%- elif on_change == 'continue' -%}
            {% do exceptions.warn("kpi_view " ~ existing_relation ~ ": " ~ (changes | join('; '))
                                  ~ ", left untouched because on_configuration_change is `continue`") %}
            {{- return({'action': 'skip', 'reason': 'changes not applied (on_configuration_change: continue)'}) -}}
        {%- elif on_change == 'fail' -%}
            {% do exceptions.raise_fail_fast_error("kpi_view " ~ existing_relation ~ ": " ~ (changes | join('; '))
                                                   ~ ", and on_configuration_change is `fail`") %}
        {%- else -%}
            {% do exceptions.raise_compiler_error("kpi_view: unknown on_configuration_change `" ~ on_change
                                                  ~ "` (expected apply, continue or fail)") %}
        {%- endif -%}
    {%- endif -%}

    {%- if not config.get('refresh', default=true) -%}
        {{- return({'action': 'skip', 'reason': 'unchanged, refresh: false'}) -}}
    {%- endif -%}

    {%- set populated_query -%}
        select ispopulated from pg_matviews
        where schemaname = '{{ existing_relation.schema }}' and matviewname = '{{ existing_relation.identifier }}'
    {%- endset -%}
    {%- if not run_query(populated_query).columns[0].values()[0] -%}
        {{- return({'action': 'refresh', 'reason': 'unchanged but never populated, so not concurrently'}) -}}
    {%- endif -%}
    {{- return({'action': 'refresh_concurrently', 'reason': 'definition and indexes unchanged'}) -}}
{%- endmacro %}


{#- What differs between the model and the existing materialized view, as readable strings. -#}
{% macro soleflipper_kpi_view_changes(existing_relation, indexes) -%}
    {%- set changes = [] -%}

    {%- set probe_relation = make_temp_relation(existing_relation, '__dbt_probe') -%}
    {% call statement('kpi_view_probe') -%}
        create temporary view {{ probe_relation }} as
        {{ sql }}
    {%- endcall %}
    {%- set compare_query -%}
        select pg_get_viewdef({{ soleflipper_regclass_literal(existing_relation) }}::regclass)
               = pg_get_viewdef({{ soleflipper_regclass_literal(probe_relation) }}::regclass)
    {%- endset -%}
    {%- set same_definition = run_query(compare_query).columns[0].values()[0] -%}
    {% call statement('kpi_view_probe_drop') -%}
        drop view {{ probe_relation }}
    {%- endcall %}
    {%- if not same_definition -%}
        {%- do changes.append('the SQL definition changed') -%}
    {%- endif -%}

    {%- set existing_keys = [] -%}
    {%- for index in soleflipper_relation_indexes(existing_relation) -%}
        {%- do existing_keys.append(index['key']) -%}
    {%- endfor -%}
    {%- set configured_keys = soleflipper_configured_index_keys(indexes) -%}
    {%- if (existing_keys | sort) != configured_keys -%}
        {%- do changes.append('the indexes changed (has ' ~ ((existing_keys | sort | join(', ')) or 'none')
                              ~ '; config ' ~ ((configured_keys | join(', ')) or 'none') ~ ')') -%}
    {%- endif -%}

    {{- return(changes) -}}
{%- endmacro %}


{#-
    The swap, as one DO block at the end of the build transaction. The old relation is locked
    only here (ACCESS EXCLUSIVE, taken by the first ALTER); waiting for it is bounded by
    `swap_lock_timeout` per attempt so dashboard queries never queue behind dbt for long, and a
    failed attempt releases everything it took before the next one.
-#}
{% macro soleflipper_kpi_view_swap_sql(existing_relation, intermediate_relation, backup_relation, target_relation) -%}
    {%- set lock_timeout = config.get('swap_lock_timeout', default='5s') | string -%}
    {%- set attempts = config.get('swap_attempts', default=5) | int -%}
do $kpi_view_swap$
declare
    old_rel regclass := {{ soleflipper_regclass_literal(existing_relation) }}::regclass;
    new_rel regclass := {{ soleflipper_regclass_literal(intermediate_relation) }}::regclass;
    old_kind text;
    privilege record;
    attempt integer := 0;
begin
    select case relkind when 'm' then 'materialized view' when 'v' then 'view' else 'table' end
    into old_kind from pg_class where oid = old_rel;

    -- privileges granted outside dbt (e.g. Metabase's SELECT) stay with the name
    for privilege in
        select a.privilege_type, a.grantee, a.is_grantable
        from pg_class as c, aclexplode(c.relacl) as a
        where c.oid = old_rel and a.grantee <> c.relowner
    loop
        execute format('grant %s on %s to %s%s', privilege.privilege_type, new_rel,
                       case when privilege.grantee = 0 then 'public' else quote_ident(pg_get_userbyid(privilege.grantee)) end,
                       case when privilege.is_grantable then ' with grant option' else '' end);
    end loop;

    perform set_config('lock_timeout', '{{ lock_timeout | replace("'", "''") }}', true);
    loop
        begin
            execute format('alter %s %s rename to %I', old_kind, old_rel, '{{ backup_relation.identifier }}');
            execute format('alter materialized view %s rename to %I', new_rel, '{{ target_relation.identifier }}');
            execute format('drop %s %s cascade', old_kind, old_rel);
            exit;
        exception when lock_not_available then
            attempt := attempt + 1;
            if attempt >= {{ attempts }} then
                raise exception 'kpi_view: could not lock % for the swap in % attempts (lock_timeout %): long-running queries hold it',
                    old_rel, attempt, current_setting('lock_timeout')
                    using errcode = 'lock_not_available';
            end if;
            raise notice 'kpi_view: % is busy, swap attempt % of % timed out; retrying', old_rel, attempt, {{ attempts }};
            perform pg_sleep(least(attempt, 5));
        end;
    end loop;
end
$kpi_view_swap$
{%- endmacro %}
