-- Inventory status: one row per purchased pair (products.inventory_items, cancelled purchases
-- excluded there), its current status, age and value, as of the refresh (column as_of).
--   is_in_stock            the reseller still holds the pair: status purchased (paid, not
--                          arrived), in_stock or listed; not sold, returned or written off
--   age_days               whole days from the purchase date (else the delivery date) to the
--                          UTC date of as_of for a pair in stock; for a pair that left the stock,
--                          to the UTC date it left (sold, returned, written off: status_since),
--                          so a sold pair's age is its shelf life and stops growing
--   age_bucket             Fast 0-30 days, Normal 31-90, Slow 91-180, Dead over 180; Unknown
--                          without a purchase or delivery date
--   current_stock_value_home net cost in the home currency of a pair in stock, else 0 (the
--                          original view's value was never counted: it tested an un-coalesced
--                          null; here it is the net cost, as finance.fct_inventory_valuation)
-- Costs are converted as in finance.fct_unit_economics: amount_home = round(amount *
-- home_per_unit, 2) with core.fx_rates_daily of the purchase date (1 for the home currency).
{%- set home = home_currency() %}
with

items as (

    select * from {{ ref('inventory_items') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

spellings as (

    select spelling_key, brand_key from {{ ref('brand_spellings') }}

),

brands as (

    select * from {{ ref('dim_brands') }}

),

suppliers as (

    select * from {{ ref('dim_suppliers') }}

),

fx as (

    select * from {{ ref('fx_rates_daily') }}

),

sold as (

    select * from {{ ref('fct_unit_economics') }}

),

as_of as (

    select
        now() as as_of,
        (now() at time zone 'UTC')::date as as_of_date

),

aged as (

    select
        items.*,
        as_of.as_of,
        items.current_status in ('purchased', 'in_stock', 'listed') as is_in_stock,
        coalesce(items.purchase_date, items.delivery_date) as acquired_date,
        case
            when items.current_status in ('purchased', 'in_stock', 'listed') then as_of.as_of_date
            else (items.status_since at time zone 'UTC')::date
        end as age_end_date
    from items
    cross join as_of

),

valued as (

    select
        aged.*,
        aged.age_end_date - aged.acquired_date as age_days,
        round(aged.net_cost_amount * {{ home_per_unit('aged.net_cost_currency', 'net_fx') }}, 2) as net_cost_home,
        round(aged.gross_cost_amount * {{ home_per_unit('aged.gross_cost_currency', 'gross_fx') }}, 2)
            as gross_cost_home
    from aged
    left join fx as net_fx
        on aged.net_cost_currency = net_fx.currency and aged.purchase_date = net_fx.rate_date
    left join fx as gross_fx
        on aged.gross_cost_currency = gross_fx.currency and aged.purchase_date = gross_fx.rate_date

),

final as (

    select
        valued.inventory_item_id::text as inventory_item_id,
        valued.product_key::text as product_key,
        valued.style_code::text as style_code,
        coalesce(products.title, valued.product_name)::text as product_name,
        valued.size_label::text as size_label,
        brands.brand_key::text as brand_key,
        coalesce(brands.brand, valued.brand)::text as brand,
        valued.supplier_key::text as supplier_key,
        coalesce(suppliers.supplier, valued.supplier)::text as supplier,
        valued.purchase_date::date as purchase_date,
        valued.delivery_date::date as delivery_date,
        valued.current_status::text as current_status,
        valued.status_since::timestamptz as status_since,
        valued.is_in_stock::boolean as is_in_stock,
        valued.listed_platforms::text as listed_platforms,
        '{{ home }}'::text as home_currency,
        valued.net_cost_home::numeric(14, 2) as net_cost_home,
        valued.gross_cost_home::numeric(14, 2) as gross_cost_home,
        valued.as_of::timestamptz as as_of,
        valued.age_days::integer as age_days,
        (case
            when valued.age_days is null then 'Unknown'
            when valued.age_days <= 30 then 'Fast'
            when valued.age_days <= 90 then 'Normal'
            when valued.age_days <= 180 then 'Slow'
            else 'Dead'
        end)::text as age_bucket,
        (case when valued.is_in_stock then valued.net_cost_home else 0 end)::numeric(14, 2)
            as current_stock_value_home,
        valued.sale_unit_id::text as sale_unit_id,
        valued.platform::text as sale_platform,
        valued.sold_at::timestamptz as sold_at,
        sold.gross_sale_home::numeric(14, 2) as sale_revenue_home,
        sold.profit_home::numeric(14, 2) as sale_profit_home
    from valued
    left join products on valued.product_key = products.product_key
    left join spellings on {{ slug_key('valued.brand') }} = spellings.spelling_key
    left join brands on spellings.brand_key = brands.brand_key
    left join suppliers on valued.supplier_key = suppliers.supplier_key
    left join sold on valued.sale_unit_id = sold.sale_unit_id

)

select * from final
