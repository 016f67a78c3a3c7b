-- One row per pair sold, as entered in Budibase (entry.sales): the newest version of each
-- sale_id in raw.budibase_sales. The columns are exactly those of stg_sheets__sales, which
-- appends these rows, so every model that reads hand-kept sales reads them too.
--
-- Product and size come from the purchase the sale belongs to (raw.budibase_purchases, newest
-- version). A sale without an order number (in person) gets 'budibase-sale-<sale_id>', the
-- number stg_budibase__purchases records on its purchase, so the two link. Fees and payout:
-- where one is missing it is derived from the other (the entry table enforces
-- payout = sale price - fees when both are given); an in-person sale without either has no fees.
with

sales as (

    select distinct on (sale_id) *
    from {{ source('raw', 'budibase_sales') }}
    order by sale_id, updated_at desc, _loaded_at desc

),

purchases as (

    select distinct on (purchase_id) purchase_id, style_code, product_name, size
    from {{ source('raw', 'budibase_purchases') }}
    order by purchase_id, updated_at desc, _loaded_at desc

),

renamed as (

    select
        ---------- ids
        'budibase:' || sales.sale_id::text as sale_row_id,
        sales.platform,
        sales.platform as platform_name,
        coalesce(nullif(btrim(sales.order_number), ''), 'budibase-sale-' || sales.sale_id::text) as order_number,

        ---------- product
        purchases.style_code,
        purchases.product_name,
        purchases.size as size_label,
        regexp_replace(btrim(purchases.size), '^([0-9]+),([0-9])$', '\1.\2') as size_label_normalized,

        ---------- money (each amount with its own currency)
        sales.sale_price,
        sales.currency::text as sale_price_currency,
        coalesce(
            sales.fees,
            sales.sale_price - sales.payout,
            case when sales.platform = 'in_person' then 0 end
        ) as fees,
        sales.currency::text as fees_currency,
        coalesce(
            sales.payout,
            sales.sale_price - sales.fees,
            case when sales.platform = 'in_person' then sales.sale_price end
        ) as payout,
        sales.currency::text as payout_currency,

        ---------- dates
        sales.sale_date,

        sales.notes,

        ---------- lineage
        sales._batch_id as load_batch_id,
        sales._source as load_source,
        sales._source_line as load_source_line,
        sales._loaded_at as loaded_at

    from sales
    left join purchases on sales.purchase_id = purchases.purchase_id

)

select * from renamed
