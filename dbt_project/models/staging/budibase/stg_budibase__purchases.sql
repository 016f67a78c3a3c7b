-- One row per pair bought, as entered in Budibase (entry.purchases): the newest version of each
-- purchase_id in raw.budibase_purchases. The columns are exactly those of stg_sheets__purchases,
-- which appends these rows, so every model that reads hand-kept purchases reads them too.
--
-- The supplier is the current name of the entry's supplier (raw.budibase_suppliers); the sale
-- recorded for the pair is its entry.sales row: its order number, or 'budibase-sale-<sale_id>'
-- for a sale without one (an in-person sale), which stg_budibase__sales gives that sale as well,
-- so the pair links to its sale. Platforms the linking step does not know by name (in person,
-- other) are left out of the recorded platform: the order number alone decides.
with

purchases as (

    select distinct on (purchase_id) *
    from {{ source('raw', 'budibase_purchases') }}
    order by purchase_id, updated_at desc, _loaded_at desc

),

suppliers as (

    select distinct on (supplier_id) supplier_id, btrim(name) as supplier
    from {{ source('raw', 'budibase_suppliers') }}
    order by supplier_id, updated_at desc, _loaded_at desc

),

sales as (

    select distinct on (sale_id) sale_id, purchase_id, platform, order_number
    from {{ source('raw', 'budibase_sales') }}
    order by sale_id, updated_at desc, _loaded_at desc

),

sale_of_purchase as (

    -- entry.sales allows one sale per purchase; the newest one wins should versions disagree
    select distinct on (purchase_id)
        purchase_id,
        coalesce(nullif(btrim(order_number), ''), 'budibase-sale-' || sale_id::text) as sale_order_number,
        case when platform not in ('in_person', 'other') then platform end as sale_platform_name
    from sales
    order by purchase_id, sale_id desc

),

renamed as (

    select
        ---------- ids
        'budibase:' || purchases.purchase_id::text as purchase_line_id,
        'budibase'::text as source,

        ---------- purchase
        purchases.purchase_date,
        purchases.delivery_date,
        suppliers.supplier,
        purchases.order_number as supplier_order_number,
        purchases.invoice_number as supplier_invoice_number,

        ---------- product
        purchases.style_code,
        purchases.product_name,
        purchases.brand,
        purchases.size as size_label,
        regexp_replace(btrim(purchases.size), '^([0-9]+),([0-9])$', '\1.\2') as size_label_normalized,
        1 as quantity,

        ---------- money per pair (each amount with its own currency)
        purchases.net_price,
        purchases.currency::text as net_price_currency,
        purchases.gross_price,
        purchases.currency::text as gross_price_currency,
        round(purchases.vat_rate / 100, 6) as vat_rate,

        ---------- the sale entered for this pair
        sale_of_purchase.sale_order_number,
        sale_of_purchase.sale_platform_name,

        purchases.notes,

        ---------- lineage
        purchases._batch_id as load_batch_id,
        purchases._source as load_source,
        purchases._source_line as load_source_line,
        purchases._loaded_at as loaded_at

    from purchases
    left join suppliers on purchases.supplier_id = suppliers.supplier_id
    left join sale_of_purchase on purchases.purchase_id = sale_of_purchase.purchase_id

)

select * from renamed
