-- One row per item sold, from the Notion Sales database: the latest version of every page (by
-- last_edited_time, then load time), without pages in the trash, archived or deleted for
-- good. Sale ID is the platform's order number (StockX NNNNNNNN-NNNNNNNN, Alias 9 digits);
-- platform "Return" marks an item returned to its supplier, not a sale.
--
-- raw.notion_sales exists only once Notion has been synced: while it is missing this model is
-- an empty set with the same columns; a mapped column the table lacks reads as null. Amounts
-- are in var('notion_currency') (EUR).
{%- set wanted = [
    ('page_id', 'text'), ('last_edited_time', 'timestamptz'), ('created_time', 'timestamptz'),
    ('in_trash', 'boolean'), ('archived', 'boolean'), ('url', 'text'),
    ('sale_number', 'text'), ('sku', 'text'), ('size', 'text'), ('sale_id', 'text'),
    ('sale_platform', 'text'), ('sale_date', 'date'), ('gross_sale', 'numeric'), ('net_sale', 'numeric'),
    ('purchase_page_ids', 'jsonb'), ('status', 'text'), ('payout_received', 'boolean'),
    ('listing_url', 'text'),
    ('_batch_id', 'uuid'), ('_source', 'text'), ('_source_line', 'integer'), ('_loaded_at', 'timestamptz'),
] %}
with

source as (

    {{ optional_source_select(source('raw', 'notion_sales'), wanted) }}

),

latest as (

    select distinct on (page_id) *
    from source
    order by page_id, last_edited_time desc, _loaded_at desc, _source_line desc

),

live as (

    select
        *,
        regexp_replace(lower(sale_platform), '[^a-z0-9]', '', 'g') as platform_text,
        regexp_replace(btrim(size), '^([0-9]+),([0-9])', '\1.\2') as size_text
    from latest
    where not coalesce(in_trash, false) and not coalesce(archived, false)

),

renamed as (

    select
        ---------- ids
        page_id as sale_page_id,
        sale_number,
        nullif(btrim(sale_id), '') as order_number,
        url as notion_url,

        ---------- platform (warehouse vocabulary; 'return' is no sale)
        case
            when platform_text = 'stockx' then 'stockx'
            when platform_text = 'alias' then 'alias'
            when platform_text = 'goat' then 'goat'
            when platform_text in ('ebay', 'ebayde', 'ebaycom', 'ebaycouk') then 'ebay'
            when platform_text = 'klekt' then 'klekt'
            when platform_text = 'restocks' then 'restocks'
            when platform_text = 'laced' then 'laced'
            when platform_text in ('wtn', 'wethenew') then 'wtn'
            when platform_text in ('kleinanzeigen', 'ebaykleinanzeigen') then 'kleinanzeigen'
            when
                platform_text in (
                    'inperson', 'local', 'lokal', 'cash', 'bar', 'privat', 'private', 'offline', 'person'
                )
                then 'in_person'
            when platform_text in ('return', 'returned', 'retoure') then 'return'
            else 'other'
        end as platform,
        sale_platform as platform_name,

        ---------- product
        sku as style_code,
        size as size_label,
        case
            when size_text ~* '^[0-9]+(\.[0-9])?(\s?[123]/[23])?\s+(US(\s*[MWYC])?|EU|UK)$'
                then
                    regexp_replace(
                        size_text, '^([0-9]+(?:\.[0-9])?(?:\s?[123]/[23])?)\s+(US(?:\s*[MWYC])?|EU|UK)$', '\2 \1', 'i'
                    )
            else size_text
        end as size_label_normalized,

        ---------- money (each amount with its own currency)
        gross_sale as gross_amount,
        '{{ var("notion_currency", "EUR") }}'::text as gross_currency,
        net_sale as payout_amount,
        '{{ var("notion_currency", "EUR") }}'::text as payout_currency,
        payout_received,

        ---------- dates
        sale_date,

        status,
        listing_url,

        ---------- the Purchase relation (page ids of the related Purchases pages)
        coalesce(
            case when jsonb_typeof(purchase_page_ids -> 'ids') = 'array' then purchase_page_ids -> 'ids' end,
            '[]'::jsonb
        ) as purchase_page_ids,

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
