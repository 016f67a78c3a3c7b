-- transactions.fct_returns leaves nothing out and counts nothing twice:
--   * every cancelled purchase (fct_purchases.excluded_reason 'purchase cancelled') has exactly
--     one purchase_cancelled row, and every purchase_cancelled row is a cancelled purchase;
--   * every unit returned to its supplier by the record that counts for its status
--     (int_inventory_exits, is_primary) has that record as a returned_to_supplier row;
--   * no StockX order is both order_cancelled and buyer_return.
-- Returns the units / rows that break this, with the problem.
--
-- Only fct_returns is a ref(): fct_purchases and int_inventory_exits are upstream of it (read
-- by their relation names), so every build that selects fct_returns has built them first.
{{ config(meta={'dagster': {'ref': {'name': 'fct_returns'}}}) }}
{%- set relations = {} -%}
{%- if execute -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model'
        and node.name in ('fct_purchases', 'int_inventory_exits') -%}
        {%- do relations.update({node.name: node.relation_name}) -%}
    {%- endfor -%}
{%- endif %}
with

returns as (
    select * from {{ ref('fct_returns') }}
),

purchases as (
    select * from {{ relations.get('fct_purchases', 'fct_purchases') }}
),

exits as (
    select * from {{ relations.get('int_inventory_exits', 'int_inventory_exits') }}
),

problems as (

    select
        purchases.purchase_id,
        'cancelled purchase with ' || count(returns.return_id) || ' purchase_cancelled rows' as problem
    from purchases
    left join returns on purchases.purchase_id = returns.purchase_id and returns.kind = 'purchase_cancelled'
    where purchases.excluded_reason = 'purchase cancelled'
    group by purchases.purchase_id
    having count(returns.return_id) <> 1

    union all

    select
        returns.purchase_id,
        'purchase_cancelled row ' || returns.return_id || ' of a purchase not cancelled' as problem
    from returns
    left join purchases on returns.purchase_id = purchases.purchase_id
    where returns.kind = 'purchase_cancelled' and purchases.excluded_reason is distinct from 'purchase cancelled'

    union all

    select
        exits.purchase_id,
        'returned to supplier (' || exits.exit_id || ') without that fct_returns row' as problem
    from exits
    where
        exits.is_primary
        and exits.kind = 'returned_to_supplier'
        and not exists (
            select from returns
            where
                returns.return_id = exits.exit_id
                and returns.kind = 'returned_to_supplier'
                and returns.purchase_id = exits.purchase_id
        )

    union all

    select
        null as purchase_id,
        'StockX order ' || returns.order_number || ' is both cancelled and returned' as problem
    from returns
    -- StockX only: an eBay order with two lines refunded in full has two buyer_return rows
    where returns.kind in ('order_cancelled', 'buyer_return') and returns.platform = 'stockx'
    group by returns.order_number
    having count(*) > 1

)

select * from problems
