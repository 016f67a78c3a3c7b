-- One row per inventory item: every purchased unit of transactions.fct_purchases except
-- cancelled purchases (those are in transactions.fct_returns), with its cost, its current
-- status (the open row of products.inventory_status_history, so this model builds after it)
-- and, once sold, the sale.
with

items as (

    select * from {{ ref('fct_purchases') }}
    where excluded_reason is distinct from 'purchase cancelled'

),

history as (

    select * from {{ ref('inventory_status_history') }}

),

current_status as (

    select
        inventory_item_id,
        status,
        valid_from,
        source
    from history
    where valid_to is null

),

first_status as (

    select
        inventory_item_id,
        valid_from as purchased_at
    from history
    where status_index = 1

),

sales as (

    select distinct on (purchase_id)
        purchase_id,
        sale_unit_id,
        sale_id,
        platform,
        sold_at
    from {{ ref('fct_sale_units') }}
    where purchase_id is not null
    order by purchase_id, sold_at, sale_unit_id

),

latest_versions as (

    select * from {{ ref('int_notion_purchase_versions') }}
    where is_latest

),

products as (

    select product_key, brand from {{ ref('dim_products') }}

),

final as (

    select
        items.purchase_id::text as inventory_item_id,
        items.purchase_id::text as purchase_id,
        items.source::text as source,
        items.product_key::text as product_key,
        items.variant_key::text as variant_key,
        items.style_code::text as style_code,
        items.size_label::text as size_label,
        items.product_name::text as product_name,
        coalesce(products.brand, items.brand)::text as brand,
        items.supplier::text as supplier,
        ({{ slug_key('items.supplier') }})::text as supplier_key,
        items.purchase_date::date as purchase_date,
        items.delivery_date::date as delivery_date,
        first_status.purchased_at::timestamptz as purchased_at,
        items.net_price::numeric(14, 2) as net_cost_amount,
        items.net_price_currency::text as net_cost_currency,
        items.gross_price::numeric(14, 2) as gross_cost_amount,
        items.gross_price_currency::text as gross_cost_currency,
        items.vat_amount::numeric(14, 2) as vat_amount,
        items.vat_amount_currency::text as vat_currency,
        current_status.status::text as current_status,
        current_status.valid_from::timestamptz as status_since,
        current_status.source::text as status_source,
        sales.sale_unit_id::text as sale_unit_id,
        sales.sale_id::text as sale_id,
        sales.platform::text as platform,
        sales.sold_at::timestamptz as sold_at,
        (case
            when current_status.status = 'listed'
                then nullif(concat_ws(
                        ',',
                        case when latest_versions.listed_stockx then 'stockx' end,
                        case when latest_versions.listed_alias then 'alias' end,
                        case when latest_versions.listed_local then 'local' end
                    ), '')
        end)::text as listed_platforms,
        latest_versions.status::text as notion_status
    from items
    inner join current_status on items.purchase_id = current_status.inventory_item_id
    inner join first_status on items.purchase_id = first_status.inventory_item_id
    left join sales on items.purchase_id = sales.purchase_id
    left join latest_versions on items.purchase_id = latest_versions.purchase_id
    left join products on items.product_key = products.product_key

)

select * from final
