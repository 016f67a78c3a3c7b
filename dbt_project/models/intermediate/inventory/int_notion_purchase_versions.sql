-- Every stored version of every Notion purchase page (raw.notion_purchases is append-only: a
-- sync adds a version whenever a page changed), oldest first, with what each version says
-- about the pair's whereabouts: the Status classified, and the Listed-on checkboxes.
-- Versions in the trash (and the tombstones of pages deleted for good) are left out: they say
-- nothing about the pair. Order within a page: last_edited_time, then load time and line.
--
-- Status classes (Status compared case-insensitively, surrounding blanks ignored):
--   here          Available, Consigned, Need Shipping, Packed, Outgoing: the pair is with the
--                 reseller (or consigned)
--   incoming      Incoming: bought, not arrived
--   sold          Sale completed (the sale itself comes from transactions.fct_sale_units)
--   cancelled     Cancelled, Canceled: the purchase was cancelled
--   returned      Returned, Returned to supplier, Return to supplier, Retoure: sent back to
--                 the supplier
--   written_off   Written off, Written-off, Write-off, Write off, Lost, Abgeschrieben, Verloren
--   other         any other status; null when the page has none
-- is_listed: any Listed-on checkbox (StockX, Alias, Local) ticked, or the status Consigned.
--
-- raw.notion_purchases exists only once Notion has been synced (or
-- assets.notion_sync.ensure_notion_tables ran): while it is missing this model is an empty set
-- with the same columns, and a column the table lacks reads as null (as in stg_notion__purchases).
{%- set wanted = [
    ('page_id', 'text'), ('last_edited_time', 'timestamptz'), ('created_time', 'timestamptz'),
    ('in_trash', 'boolean'), ('archived', 'boolean'), ('status', 'text'),
    ('listed_stockx', 'boolean'), ('listed_alias', 'boolean'), ('listed_local', 'boolean'),
    ('_source_line', 'integer'), ('_loaded_at', 'timestamptz'),
] %}
with

source as (

    {{ optional_source_select(source('raw', 'notion_purchases'), wanted) }}

),

live as (

    select
        *,
        lower(btrim(status)) as status_text
    from source
    where not coalesce(in_trash, false) and not coalesce(archived, false)

),

classified as (

    select
        page_id,
        row_number() over (
            partition by page_id order by last_edited_time, _loaded_at, _source_line
        ) as version_index,
        last_edited_time as last_edited_at,
        created_time as created_at,
        _loaded_at as loaded_at,
        status,
        case
            when status_text in ('available', 'consigned', 'need shipping', 'packed', 'outgoing') then 'here'
            when status_text = 'incoming' then 'incoming'
            when status_text = 'sale completed' then 'sold'
            when status_text in ('cancelled', 'canceled') then 'cancelled'
            when status_text in ('returned', 'returned to supplier', 'return to supplier', 'retoure') then 'returned'
            when status_text in ('written off', 'written-off', 'write-off', 'write off', 'lost') then 'written_off'
            when status_text in ('abgeschrieben', 'verloren') then 'written_off'
            when status_text is not null and status_text <> '' then 'other'
        end as status_class,
        coalesce(listed_stockx, false) as listed_stockx,
        coalesce(listed_alias, false) as listed_alias,
        coalesce(listed_local, false) as listed_local,
        (
            coalesce(listed_stockx, false)
            or coalesce(listed_alias, false)
            or coalesce(listed_local, false)
            or coalesce(status_text = 'consigned', false)
        ) as is_listed
    from live

),

changes as (

    select
        *,
        (
            lag(status_class) over (partition by page_id order by version_index) is distinct from status_class
            or version_index = 1
        ) as is_status_change
    from classified

),

final as (

    select
        page_id,
        'notion_purchases:' || page_id || ':1' as purchase_id,
        version_index,
        last_edited_at,
        created_at,
        loaded_at,
        status,
        status_class,
        -- when the page's status class last changed, up to this version (a run of versions
        -- with the same class, e.g. Written off then written off again, is one status)
        max(case when is_status_change then last_edited_at end) over (
            partition by page_id order by version_index
        ) as status_class_since,
        listed_stockx,
        listed_alias,
        listed_local,
        is_listed,
        (version_index = max(version_index) over (partition by page_id)) as is_latest
    from changes

)

select * from final
