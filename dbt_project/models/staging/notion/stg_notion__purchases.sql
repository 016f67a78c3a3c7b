-- One row per item bought, from the Notion Purchases database (one page per pair): the latest
-- version of every page (by last_edited_time, then load time), without pages in the trash,
-- archived or deleted for good (tombstones are trashed versions).
--
-- raw.notion_purchases exists only once Notion has been synced (or
-- assets.notion_sync.ensure_notion_tables ran): while it is missing this model is an empty
-- set with the same columns, and a mapped column the table lacks (a mapping without that
-- property) reads as null. Amounts are in var('notion_currency') (EUR): Notion numbers carry
-- no currency.
{%- set wanted = [
    ('page_id', 'text'), ('last_edited_time', 'timestamptz'), ('created_time', 'timestamptz'),
    ('in_trash', 'boolean'), ('archived', 'boolean'), ('url', 'text'),
    ('purchase_id', 'text'), ('sku', 'text'), ('product_name', 'text'), ('brand', 'text'),
    ('size', 'text'), ('size_system', 'text'), ('supplier', 'text'),
    ('supplier_order_number', 'text'), ('supplier_invoice_number', 'text'),
    ('gross_buy', 'numeric'), ('net_buy', 'numeric'), ('vat_included', 'boolean'),
    ('vat_amount', 'numeric'), ('buy_date', 'date'), ('delivery_date', 'date'),
    ('status', 'text'), ('location', 'text'), ('sale_page_ids', 'jsonb'),
    ('_batch_id', 'uuid'), ('_source', 'text'), ('_source_line', 'integer'), ('_loaded_at', 'timestamptz'),
] %}
with

source as (

    {{ optional_source_select(source('raw', 'notion_purchases'), wanted) }}

),

latest as (

    select distinct on (page_id) *
    from source
    order by page_id, last_edited_time desc, _loaded_at desc, _source_line desc

),

live as (

    select
        *,
        -- "10 US" -> "US 10", "8 US W" -> "US W 8", "42 EU" -> "EU 42"; a bare number takes the
        -- page's size Type when that names a system other than US men's ("8" + US W -> "US W 8").
        regexp_replace(btrim(size), '^([0-9]+),([0-9])', '\1.\2') as size_text
    from latest
    where not coalesce(in_trash, false) and not coalesce(archived, false)

),

renamed as (

    select
        ---------- ids
        page_id as purchase_page_id,
        purchase_id as purchase_number,
        url as notion_url,

        ---------- purchase
        buy_date as purchase_date,
        delivery_date,
        supplier,
        supplier_order_number,
        supplier_invoice_number,
        status,
        location,

        ---------- product
        sku as style_code,
        product_name,
        brand,
        size as size_label,
        size_system as size_type,
        case
            when size_text ~* '^[0-9]+(\.[0-9])?(\s?[123]/[23])?\s+(US(\s*[MWYC])?|EU|UK)$'
                then
                    regexp_replace(
                        size_text, '^([0-9]+(?:\.[0-9])?(?:\s?[123]/[23])?)\s+(US(?:\s*[MWYC])?|EU|UK)$', '\2 \1', 'i'
                    )
            when size_text ~ '^[0-9]+(\.[0-9])?(\s?[123]/[23])?$'
                and size_system in ('US W', 'US Y', 'US C', 'EU', 'UK')
                then size_system || ' ' || size_text
            else size_text
        end as size_label_normalized,

        ---------- money per pair (each amount with its own currency)
        gross_buy as gross_price,
        '{{ var("notion_currency", "EUR") }}'::text as gross_price_currency,
        net_buy as net_price,
        '{{ var("notion_currency", "EUR") }}'::text as net_price_currency,
        coalesce(vat_included, false) as vat_included,
        vat_amount,
        '{{ var("notion_currency", "EUR") }}'::text as vat_amount_currency,

        ---------- the Sale relation (page ids of the related Sales pages)
        coalesce(
            case when jsonb_typeof(sale_page_ids -> 'ids') = 'array' then sale_page_ids -> 'ids' end,
            '[]'::jsonb
        ) as sale_page_ids,

        ---------- timestamps
        created_time as created_at,
        last_edited_time as last_edited_at,

        ---------- lineage
        _batch_id as load_batch_id,
        _source as load_source,
        _loaded_at as loaded_at

    from live

)

select * from renamed
