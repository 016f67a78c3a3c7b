-- One row per unit (pair) sold, with the purchase it was (its cost) when one is linked
-- (int_purchase_sale_links: the recorded sale first, then FIFO by product and size), else the
-- reason none is (as in unlinked_sales). Unit economics follow the reseller's formulas:
-- profit = payout (net sale) - net purchase price, ROI = profit / net purchase price, days in
-- stock = sale day - purchase day; profit and ROI only when payout and cost share a currency.
with

sale_units as (

    select * from {{ ref('int_sale_units') }}

),

links as (

    select * from {{ ref('int_purchase_sale_links') }}

),

purchases as (

    select * from {{ ref('fct_purchases') }}

),

unlinked as (

    select sale_unit_id, reason from {{ ref('unlinked_sales') }}

),

joined as (

    select
        sale_units.*,
        links.link_method,
        purchases.purchase_id,
        purchases.purchase_date,
        purchases.supplier,
        purchases.net_price,
        purchases.net_price_currency,
        purchases.gross_price,
        purchases.gross_price_currency,
        links.days_in_stock,
        case
            when sale_units.payout_currency = purchases.net_price_currency
                then sale_units.payout_amount - purchases.net_price
        end as profit_amount,
        unlinked.reason as unlinked_reason
    from sale_units
    left join links on sale_units.sale_unit_id = links.sale_unit_id
    left join purchases on links.purchase_id = purchases.purchase_id
    left join unlinked on sale_units.sale_unit_id = unlinked.sale_unit_id

),

final as (

    select
        sale_unit_id::text as sale_unit_id,
        sale_id::text as sale_id,
        unit_index::integer as unit_index,
        units_in_sale::integer as units_in_sale,
        platform::text as platform,
        order_number::text as order_number,
        sold_at::timestamptz as sold_at,
        sale_date::date as sale_date,
        style_code::text as style_code,
        size_label::text as size_label,
        product_key::text as product_key,
        variant_key::text as variant_key,
        gross_amount::numeric(14, 2) as gross_amount,
        gross_currency::text as gross_currency,
        payout_amount::numeric(14, 2) as payout_amount,
        payout_currency::text as payout_currency,
        purchase_id::text as purchase_id,
        link_method::text as link_method,
        purchase_date::date as purchase_date,
        supplier::text as supplier,
        net_price::numeric(14, 2) as net_cost_amount,
        net_price_currency::text as net_cost_currency,
        gross_price::numeric(14, 2) as gross_cost_amount,
        gross_price_currency::text as gross_cost_currency,
        profit_amount::numeric(14, 2) as profit_amount,
        (case when profit_amount is not null then payout_currency end)::text as profit_currency,
        (case when net_price > 0 then round(profit_amount / net_price, 4) end)::numeric(10, 4) as roi,
        days_in_stock::integer as days_in_stock,
        unlinked_reason::text as unlinked_reason
    from joined

)

select * from final
