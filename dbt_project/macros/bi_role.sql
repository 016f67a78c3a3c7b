{#-
    The read-only BI role Metabase connects as (soleflipper/bi/role.py; README "Read-only BI
    role"): SELECT on the mart schemas only. dbt keeps its grants through rebuilds:

    * models under marts/ and the seeds carry `+grants: {select: [bi_role]}` (dbt_project.yml),
      which the table, incremental, seed and kpi_view materializations apply on every build,
      adding what is missing and revoking nothing (postgres__apply_grants below);
    * on-run-start creates the role (NOLOGIN) when missing, so a build before
      `soleflipper setup` (which gives it LOGIN and its password) never fails on an unknown
      grantee; concurrent dbt invocations may race to create it, the loser keeps the winner's;
    * on-run-end grants USAGE on the mart schemas (dbt grants cover relations, not schemas),
      SELECT on every relation already in them (also the tables Python assets write into
      analytics) and the same for relations created there later (default privileges).
-#}

{#- The role's name: SOLEFLIPPER_BI_ROLE, default soleflipper_bi. Only a plain name (as
    soleflipper/bi/role.py): adapter.quote does not escape a double quote inside a name. -#}
{%- macro bi_role() -%}
    {%- set role = env_var('SOLEFLIPPER_BI_ROLE', 'soleflipper_bi') -%}
    {%- if not modules.re.fullmatch('[a-z_][a-z0-9_]{0,62}', role) -%}
        {{- exceptions.raise_compiler_error(
            'SOLEFLIPPER_BI_ROLE=' ~ (role | tojson) ~ ' refused: not a plain role name (lower-case letters, digits, _)') -}}
    {%- endif -%}
    {{- return(role) -}}
{%- endmacro -%}


{%- macro bi_mart_schemas() -%}
    {{- return(['core', 'products', 'transactions', 'finance', 'analytics']) -}}
{%- endmacro -%}


{%- macro create_bi_role_if_missing() -%}
do $do$
begin
    if not exists (select from pg_roles where rolname = '{{ bi_role() | replace("'", "''") }}') then
        create role {{ adapter.quote(bi_role()) }} nologin;
    end if;
exception
    when duplicate_object or unique_violation then
        null;
    when insufficient_privilege then
        raise exception 'cannot create the BI role % (the dbt user lacks CREATEROLE): have an administrator run `create role % nologin`, or set SOLEFLIPPER_BI_ROLE to an existing role',
            '{{ bi_role() | replace("'", "''") }}', '{{ bi_role() | replace("'", "''") }}';
end
$do$
{%- endmacro -%}


{#- Grants only what is missing (a GRANT rewrites catalog rows: concurrent identical grants can
    collide with "tuple concurrently updated", so builds that change nothing grant nothing). -#}
{%- macro grant_bi_role_on_marts() -%}
{%- set role = bi_role() | replace("'", "''") -%}
do $do$
declare
    mart text;
    rel regclass;
begin
    foreach mart in array array['{{ bi_mart_schemas() | join("', '") }}'] loop
        continue when to_regnamespace(mart) is null;
        if not has_schema_privilege('{{ role }}', mart, 'USAGE') then
            execute format('grant usage on schema %I to %I', mart, '{{ role }}');
        end if;
        for rel in
            select c.oid::regclass from pg_class as c
            where c.relnamespace = to_regnamespace(mart) and c.relkind in ('r', 'p', 'v', 'm', 'f')
              and not has_table_privilege('{{ role }}', c.oid, 'SELECT')
        loop
            execute format('grant select on %s to %I', rel, '{{ role }}');
        end loop;
        if not exists (
            select from pg_default_acl as d, aclexplode(d.defaclacl) as a
            where d.defaclrole = current_user::regrole and d.defaclnamespace = to_regnamespace(mart)
              and d.defaclobjtype = 'r' and a.grantee = '{{ role }}'::regrole and a.privilege_type = 'SELECT'
        ) then
            execute format('alter default privileges in schema %I grant select on tables to %I', mart, '{{ role }}');
        end if;
    end loop;
end
$do$
{%- endmacro -%}


{#-
    dbt's apply_grants for PostgreSQL, overridden to only ever add. dbt's own revokes, on every
    rebuild, each privilege the `grants` config does not list, which would take away grants made
    outside dbt: the Budibase user's SELECT on finance.fct_unit_economics (README "Data entry with
    Budibase"), Metabase's SELECT on a KPI view that the kpi_view swap carries over. Here the
    table, incremental, seed and kpi_view materializations grant what the config lists and is
    missing (nothing when every grant is in place: no catalog write on a plain rebuild) and
    leave every other privilege as it is; `should_revoke` is ignored.
-#}
{% macro postgres__apply_grants(relation, grant_config, should_revoke=True) %}
    {#- dbt puts grantees into GRANT unquoted: only plain role names (as soleflipper/bi/role.py) -#}
    {%- for grantees in (grant_config or {}).values() -%}
        {%- for grantee in grantees -%}
            {%- if not modules.re.fullmatch('[a-z_][a-z0-9_]{0,62}', grantee) -%}
                {{- exceptions.raise_compiler_error(
                    'grant to ' ~ (grantee | tojson) ~ ' on ' ~ relation ~ ' refused: not a plain role name '
                    ~ '(lower-case letters, digits, _); check SOLEFLIPPER_BI_ROLE') -}}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if grant_config -%}
        {%- set current = adapter.standardize_grants_dict(run_query(get_show_grant_sql(relation))) -%}
        {%- set missing = diff_of_two_dicts(grant_config, current) -%}
        {%- if missing -%}
            {{ call_dcl_statements(get_dcl_statement_list(relation, missing, get_grant_sql)) }}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
