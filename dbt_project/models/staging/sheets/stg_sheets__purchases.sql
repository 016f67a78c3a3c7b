-- One row per purchase line of the reseller's purchases spreadsheets: the English sheet
-- (raw.sheets_purchases) and the German Einkaufsliste (raw.sheets_purchases_de) have the same
-- columns and are unioned. A line has no natural key (identical lines are two purchases,
-- numbered by the loader), so every raw row is a line; a line edited after it was loaded
-- arrives as a new line.
--
-- Prices are per pair as written (net and/or gross); VAT Rate is a percentage in the sheet
-- and a fraction here (19 -> 0.19). The sale a line was sold in, when the reseller notes it in
-- an extra column ("Sale ID", "StockX Order Number", ...), comes from _extra: the format keeps
-- columns it does not map there.
with

english as (

    select
        'purchases_sheet' as source,
        purchase_date, supplier, style_code, product_name, brand, size, quantity, net_price,
        gross_price, vat_rate, currency, order_number, invoice_number, delivery_date, notes,
        _extra, _batch_id, _source, _source_line, _loaded_at, _row_hash
    from {{ source('raw', 'sheets_purchases') }}

),

german as (

    select
        'purchases_sheet_de' as source,
        purchase_date, supplier, style_code, product_name, brand, size, quantity, net_price,
        gross_price, vat_rate, currency, order_number, invoice_number, delivery_date, notes,
        _extra, _batch_id, _source, _source_line, _loaded_at, _row_hash
    from {{ source('raw', 'sheets_purchases_de') }}

),

unioned as (

    select * from english
    union all
    select * from german

),

extra_columns as (

    -- _extra keys as written in the header; compared by their letters and digits only
    -- ('Sale ID', 'sale_id', 'SALE-ID' -> saleid).
    select
        unioned._row_hash,
        unioned.source,
        (
            select nullif(btrim(e.value), '') as sale_order_number
            from jsonb_each_text(coalesce(unioned._extra, '{}'::jsonb)) as e
            where
                regexp_replace(lower(e.key), '[^a-z0-9]', '', 'g') in (
                    'saleid', 'saleordernumber', 'saleorderno', 'saleordernr', 'soldordernumber',
                    'stockxordernumber', 'stockxorderno', 'stockxordernr', 'verkaufsid', 'verkaufid',
                    'verkaufsnummer', 'verkaufsbestellnummer'
                )
            order by e.key
            limit 1
        ) as sale_order_number,
        (
            select nullif(btrim(e.value), '') as sale_platform_name
            from jsonb_each_text(coalesce(unioned._extra, '{}'::jsonb)) as e
            where
                regexp_replace(lower(e.key), '[^a-z0-9]', '', 'g') in (
                    'saleplatform', 'soldon', 'soldvia', 'verkaufsplattform', 'verkauftauf', 'verkauftuber'
                )
            order by e.key
            limit 1
        ) as sale_platform_name
    from unioned

),

renamed as (

    select
        ---------- ids
        unioned.source || ':' || unioned._row_hash::text as purchase_line_id,
        unioned.source,

        ---------- purchase
        unioned.purchase_date,
        unioned.delivery_date,
        unioned.supplier,
        unioned.order_number as supplier_order_number,
        unioned.invoice_number as supplier_invoice_number,

        ---------- product
        unioned.style_code,
        unioned.product_name,
        unioned.brand,
        unioned.size as size_label,
        -- German decimal comma in a size ("44,5") -> "44.5", the form the size macros read
        regexp_replace(btrim(unioned.size), '^([0-9]+),([0-9])$', '\1.\2') as size_label_normalized,
        coalesce(unioned.quantity, 1)::integer as quantity,

        ---------- money per pair (each amount with its own currency)
        unioned.net_price,
        unioned.currency::text as net_price_currency,
        unioned.gross_price,
        unioned.currency::text as gross_price_currency,
        -- a rate below 1 was written as a fraction already (0.19); the format asks for 19
        case
            when unioned.vat_rate is null then null
            when unioned.vat_rate < 1 then unioned.vat_rate
            else round(unioned.vat_rate / 100, 6)
        end as vat_rate,

        ---------- the sale the reseller recorded for this line (extra sheet columns)
        extra_columns.sale_order_number,
        extra_columns.sale_platform_name,

        unioned.notes,

        ---------- lineage
        unioned._batch_id as load_batch_id,
        unioned._source as load_source,
        unioned._source_line as load_source_line,
        unioned._loaded_at as loaded_at

    from unioned
    inner join extra_columns
        on unioned._row_hash = extra_columns._row_hash and unioned.source = extra_columns.source

)

select * from renamed
-- Pairs entered in Budibase: the same columns, so every reader of hand-kept purchases has them.
union all
select * from {{ ref('stg_budibase__purchases') }}
