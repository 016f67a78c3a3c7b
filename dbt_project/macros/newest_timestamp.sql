{#-
    create_newest_timestamp_function(): the on-run-start hook that creates
    ops.newest_timestamp(relation_name, column_name): max(column) of a table, or null while the
    table does not exist. Source freshness of tables that appear only later (Notion tables before
    the first sync, the analytics tables Python assets write) uses it as its loaded_at_query:
    plain SQL cannot name a table that may be missing, and the xpath/query_to_xml trick needs a
    server built with libxml, which the project-local PostgreSQL is not. dbt runs project hooks
    before `dbt source freshness` too (dbt 1.10+). Concurrent dbt invocations may race to create
    it; the loser keeps the winner's function.
-#}
{%- macro create_newest_timestamp_function() -%}
do $do$
begin
    create schema if not exists ops;
    if to_regprocedure('ops.newest_timestamp(text, text)') is null then
        create function ops.newest_timestamp(relation_name text, column_name text)
        returns timestamptz
        language plpgsql stable
        as $fn$
        declare
            newest timestamptz;
        begin
            if to_regclass(relation_name) is null then
                return null;
            end if;
            execute format('select max(%I)::timestamptz from %s', column_name, to_regclass(relation_name))
                into newest;
            return newest;
        end
        $fn$;
    end if;
exception when duplicate_function or unique_violation or duplicate_schema then
    null;
end
$do$
{%- endmacro -%}
