-- Which source rows are the same sale, and which row speaks for it. One row per source row of
-- int_sales_unioned with the sale_id of the fct_sales row it belongs to and its role:
--
--   primary    its values are the sale's (one per sale)
--   enriches   a manual record of the same sale that fills what the primary lacks (style
--              code, size, payout); at most one per sale
--   duplicate  another record of the same sale, not used (sale_id: the sale it repeats; null
--              for a manual record of a multi-line platform order whose line is unclear)
--
-- Precedence (lower wins):
--   1. Platform sources are authoritative for their own orders, one sale per platform family
--      (Alias and GOAT are one), order number and line: StockX seller report before StockX API
--      order (the report's payout is authoritative when both exist); Alias/GOAT invoice before
--      the Alias consignment export; eBay order lines.
--   2. A manual record (Notion sale, sales sheet row) whose platform order exists in a
--      platform source is not a separate sale: it enriches that order's line - the only line,
--      or the line of the same product - (Notion before the sheet), else it is a duplicate.
--   3. Manual records of orders no platform source has: one sale per platform family and
--      order number, Notion before the sheet (the other enriches it). Records without an
--      order number (local sales) are each a sale.
-- Ties break on the newer load, then the source row id.
with

sales as (

    select * from {{ ref('int_sales_unioned') }}

),

platform_ranked as (

    select
        *,
        row_number() over (
            partition by platform_family, order_number, coalesce(order_line, '')
            order by source_precedence, loaded_at desc, source_row_id
        ) as rank_in_sale
    from sales
    where is_platform_source

),

platform_sales as (

    select
        *,
        platform || ':' || order_number || coalesce(':' || order_line, '') as sale_id,
        count(*) over (partition by platform_family, order_number) as lines_in_order
    from platform_ranked
    where rank_in_sale = 1

),

manual as (

    select * from sales
    where not is_platform_source

),

absorbed as (

    -- Manual records of a platform order: attributed to one of its lines, when that is clear.
    select distinct on (manual.source_system, manual.source_row_id)
        manual.source_system,
        manual.source_row_id,
        case
            when platform_sales.lines_in_order = 1
                or platform_sales.product_key = manual.product_key
                then platform_sales.sale_id
        end as sale_id
    from manual
    inner join platform_sales
        on manual.platform_family = platform_sales.platform_family
        and manual.order_number = platform_sales.order_number
    order by
        manual.source_system,
        manual.source_row_id,
        coalesce(platform_sales.product_key = manual.product_key, false) desc,
        platform_sales.sale_id

),

absorbed_ranked as (

    select
        absorbed.*,
        row_number() over (
            partition by absorbed.sale_id
            order by manual.source_precedence, manual.loaded_at desc, manual.source_row_id
        ) as rank_in_sale
    from absorbed
    inner join manual
        on absorbed.source_system = manual.source_system
        and absorbed.source_row_id = manual.source_row_id

),

manual_free as (

    select manual.*
    from manual
    left join absorbed
        on manual.source_system = absorbed.source_system
        and manual.source_row_id = absorbed.source_row_id
    where absorbed.source_row_id is null

),

manual_ranked as (

    select
        *,
        case
            when order_number is null then 1
            else
                row_number() over (
                    partition by platform_family, order_number
                    order by source_precedence, loaded_at desc, source_row_id
                )
        end as rank_in_sale,
        case
            when order_number is null
                then platform || ':'
                    || case when source_system = 'notion_sales' then 'notion:' else '' end
                    || source_row_id
            else
                first_value(platform) over (
                    partition by platform_family, order_number
                    order by source_precedence, loaded_at desc, source_row_id
                ) || ':' || order_number
        end as sale_id
    from manual_free

),

roles as (

    select source_system, source_row_id, sale_id, 'primary' as match_role
    from platform_sales

    union all

    select duplicates.source_system, duplicates.source_row_id, platform_sales.sale_id, 'duplicate' as match_role
    from platform_ranked as duplicates
    inner join platform_sales
        on duplicates.platform_family = platform_sales.platform_family
        and duplicates.order_number = platform_sales.order_number
        and coalesce(duplicates.order_line, '') = coalesce(platform_sales.order_line, '')
    where duplicates.rank_in_sale > 1

    union all

    select
        source_system,
        source_row_id,
        sale_id,
        case when sale_id is not null and rank_in_sale = 1 then 'enriches' else 'duplicate' end as match_role
    from absorbed_ranked

    union all

    select
        source_system,
        source_row_id,
        sale_id,
        case rank_in_sale when 1 then 'primary' when 2 then 'enriches' else 'duplicate' end as match_role
    from manual_ranked

),

final as (

    select
        roles.sale_id,
        roles.match_role,
        sales.*
    from sales
    inner join roles
        on sales.source_system = roles.source_system
        and sales.source_row_id = roles.source_row_id

)

select * from final
