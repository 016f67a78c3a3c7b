{#- The totals of a model (a KPI view) equal those of the model it summarises, so nothing
    falls out or is counted twice on the way: measures maps an aggregate over the tested model
    to the same total over `fact` (a model name), e.g. {'units_sold': 'count(*)'} checks that
    sum(units_sold) of the view is count(*) of the fact; an expression without an aggregate is
    summed. fact_where filters the fact. Both totals are compared with null as 0. Returns the
    measures that differ.

    The fact is read by its relation name, not through ref(): a ref would make every build of
    the fact (dbt build -s fct_unit_economics) select this test (eager indirect selection) while
    the view is not refreshed there. Use only a fact upstream of the tested model, so that the
    test, which runs after the model, sees the rows the model was built from. -#}
{% test totals_match_model(model, fact, measures, fact_where=none) %}
    {%- set fact_relation = [] -%}
    {%- if execute -%}
    {%- for node in graph.nodes.values() if node.resource_type in ('model', 'seed') and node.name == fact -%}
        {%- do fact_relation.append(node.relation_name) -%}
    {%- endfor -%}
    {%- if not fact_relation -%}
        {{ exceptions.raise_compiler_error("totals_match_model: no model named '" ~ fact ~ "'") }}
    {%- endif -%}
{%- endif -%}
with

model_totals as (
    select
    {%- for expression in measures %}
        coalesce(sum({{ expression }}), 0) as m{{ loop.index }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}
),

fact_totals as (
    select
    {%- for expression in measures %}
        coalesce({{ measures[expression] }}, 0) as m{{ loop.index }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ fact_relation[0] if fact_relation else fact }}
    {%- if fact_where %}
    where {{ fact_where }}
    {%- endif %}
)

{% for expression in measures -%}
select
    '{{ expression | replace("'", "''") }}' as measure,
    model_totals.m{{ loop.index }} as model_total,
    fact_totals.m{{ loop.index }} as fact_total
from model_totals
cross join fact_totals
where model_totals.m{{ loop.index }} <> fact_totals.m{{ loop.index }}
{% if not loop.last %}union all
{% endif -%}
{%- endfor %}
{% endtest %}
