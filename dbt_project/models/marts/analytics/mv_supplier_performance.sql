-- Supplier performance: one row per supplier (core.dim_suppliers.supplier_key) of purchased
-- pairs (products.inventory_items, cancelled purchases excluded there); pairs without a
-- recorded supplier are one row, supplier_key '(unknown)'.
--   units_purchased   = units_sold + unsold_units + returned_units + written_off_units
--   sell_through_pct  units sold / units purchased * 100 (2 dp)
--   avg_days_to_sell  average shelf life (sale day - purchase day, finance.fct_unit_economics)
--                     of the pairs sold (2 dp)
--   unsold_units / unsold_value_home  pairs still held (purchased, in stock or listed) and
--                     their net cost in the home currency
-- Costs converted at the FX rate of the purchase date, as in mv_inventory_status and
-- finance.fct_unit_economics; revenue, profit and ROI of the pairs sold from fct_unit_economics.
{%- set home = home_currency() %}
with

items as (

    select * from {{ ref('inventory_items') }}

),

suppliers as (

    select * from {{ ref('dim_suppliers') }}

),

spellings as (

    select spelling_key, brand_key from {{ ref('brand_spellings') }}

),

brands as (

    select brand_key, brand from {{ ref('dim_brands') }}

),

fx as (

    select * from {{ ref('fx_rates_daily') }}

),

sold as (

    select * from {{ ref('fct_unit_economics') }}

),

valued as (

    select
        coalesce(items.supplier_key, '(unknown)') as supplier_key,
        items.supplier,
        items.inventory_item_id,
        items.product_key,
        brands.brand_key,
        brands.brand,
        items.purchase_date,
        items.current_status,
        round(items.net_cost_amount * {{ home_per_unit('items.net_cost_currency', 'net_fx') }}, 2) as net_cost_home,
        round(items.gross_cost_amount * {{ home_per_unit('items.gross_cost_currency', 'gross_fx') }}, 2)
            as gross_cost_home,
        sold.sale_unit_id as sold_unit_id,
        sold.gross_sale_home,
        sold.net_buy_home,
        sold.profit_home,
        sold.shelf_life_days
    from items
    left join fx as net_fx
        on items.net_cost_currency = net_fx.currency and items.purchase_date = net_fx.rate_date
    left join fx as gross_fx
        on items.gross_cost_currency = gross_fx.currency and items.purchase_date = gross_fx.rate_date
    left join spellings on {{ slug_key('items.brand') }} = spellings.spelling_key
    left join brands on spellings.brand_key = brands.brand_key
    left join sold on items.current_status = 'sold' and items.sale_unit_id = sold.sale_unit_id

),

per_supplier as (

    select
        supplier_key,
        min(supplier) as supplier,
        count(*) as units_purchased,
        sum(net_cost_home) as total_spent_net_home,
        sum(gross_cost_home) as total_spent_gross_home,
        avg(net_cost_home) as avg_purchase_price_home,
        count(distinct product_key) as unique_products,
        count(distinct brand_key) as unique_brands,
        string_agg(distinct brand, ', ' order by brand) as brand_list,
        count(*) filter (where current_status = 'sold') as units_sold,
        sum(gross_sale_home) as revenue_home,
        count(profit_home) as units_with_profit,
        sum(net_buy_home) filter (where profit_home is not null) as net_buy_home,
        sum(profit_home) as profit_home,
        avg(shelf_life_days) filter (where current_status = 'sold') as avg_days_to_sell,
        count(*) filter (where current_status in ('purchased', 'in_stock', 'listed')) as unsold_units,
        coalesce(sum(net_cost_home) filter (where current_status in ('purchased', 'in_stock', 'listed')), 0)
            as unsold_value_home,
        count(*) filter (where current_status = 'returned') as returned_units,
        count(*) filter (where current_status = 'written_off') as written_off_units,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date
    from valued
    group by supplier_key

),

final as (

    select
        per_supplier.supplier_key::text as supplier_key,
        coalesce(suppliers.supplier, per_supplier.supplier, per_supplier.supplier_key)::text as supplier,
        '{{ home }}'::text as home_currency,
        per_supplier.units_purchased::integer as units_purchased,
        per_supplier.total_spent_net_home::numeric(14, 2) as total_spent_net_home,
        per_supplier.total_spent_gross_home::numeric(14, 2) as total_spent_gross_home,
        round(per_supplier.avg_purchase_price_home, 2)::numeric(14, 2) as avg_purchase_price_home,
        per_supplier.unique_products::integer as unique_products,
        per_supplier.unique_brands::integer as unique_brands,
        per_supplier.brand_list::text as brand_list,
        per_supplier.units_sold::integer as units_sold,
        round(100.0 * per_supplier.units_sold / per_supplier.units_purchased, 2)::numeric(6, 2) as sell_through_pct,
        per_supplier.revenue_home::numeric(14, 2) as revenue_home,
        per_supplier.units_with_profit::integer as units_with_profit,
        per_supplier.net_buy_home::numeric(14, 2) as net_buy_home,
        per_supplier.profit_home::numeric(14, 2) as profit_home,
        round(100 * per_supplier.profit_home / nullif(per_supplier.net_buy_home, 0), 2)::numeric(10, 2) as roi_pct,
        round(per_supplier.avg_days_to_sell, 2)::numeric(10, 2) as avg_days_to_sell,
        per_supplier.unsold_units::integer as unsold_units,
        per_supplier.unsold_value_home::numeric(14, 2) as unsold_value_home,
        per_supplier.returned_units::integer as returned_units,
        per_supplier.written_off_units::integer as written_off_units,
        per_supplier.first_purchase_date::date as first_purchase_date,
        per_supplier.last_purchase_date::date as last_purchase_date
    from per_supplier
    left join suppliers on per_supplier.supplier_key = suppliers.supplier_key

)

select * from final
