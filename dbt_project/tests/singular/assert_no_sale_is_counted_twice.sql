-- A sale recorded in several sources (StockX report and API, Alias invoice and export, a
-- Notion or sheet record of a platform order) is one fct_sales row: no two rows share a
-- platform family (Alias and GOAT are one), order number and order line. Returns the orders
-- that appear more than once.
{{ config(meta={'dagster': {'ref': {'name': 'fct_sales'}}}) }}
select
    case when platform in ('alias', 'goat') then 'alias' else platform end as platform_family,
    order_number,
    order_line,
    count(*) as sales,
    string_agg(sale_id || ' (' || source_system || ')', ', ' order by sale_id) as sale_ids
from {{ ref('fct_sales') }}
where order_number is not null
group by 1, 2, 3
having count(*) > 1
