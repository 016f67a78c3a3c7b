-- Every record of a purchased pair leaving the stock other than by a sale: returned to its
-- supplier, or written off. One row per record; purchase_id is the unit (fct_purchases) when
-- the record names one, else null (a return nobody related to a purchase).
--
-- returned_to_supplier, in order of evidence (evidence_rank):
--   1 notion_sales       a Notion Sales page with platform Return; the unit(s) of its Purchase
--                        relation (either side). occurred_at: its Sale Date (00:00 UTC), else
--                        the page's creation time; amount: its Gross Sale (else Net Sale) when it
--                        relates to at most one purchase, else the purchase's gross price.
--   2 sales_sheet        a sales sheet row with platform Return; its unit: a purchase whose
--                        supplier order number or recorded Sale ID is the row's order number
--                        (and of the same product when the row has a style code), not sold, not
--                        cancelled and not returned by a Notion page, earliest first - one unit
--                        per row. occurred_at: its Sale Date (00:00 UTC); amount: its sale price.
--   3 notion_status      a Notion purchase whose latest Status is a return status (Returned,
--                        Returned to supplier, Return to supplier, Retoure): occurred_at is the
--                        first version of that final run of the status (status_class_since).
--   4 sheet_notes        a purchases sheet line whose Notes begin with "returned to supplier",
--                        "return to supplier", "retoure" or "zurück an (den) Lieferanten"
--                        followed by the end or punctuation: occurred_at is when the line was
--                        loaded (the sheet has no date for it).
-- written_off:
--   3 notion_status      latest Status Written off, Written-off, Write-off, Write off, Lost,
--                        Abgeschrieben or Verloren (case-insensitive), from the first version of
--                        that final run.
--   4 sheet_notes        Notes beginning with "written off", "write-off", "lost", "abgeschrieben"
--                        or "verloren" followed by the end or punctuation ("Lost: never arrived";
--                        not "lost box, shoes fine" - deliberately strict), at load time.
-- Amounts of status and notes records: the purchase's gross price (what the supplier refunds,
-- or what is lost).
--
-- is_primary: the record that counts for the unit's status - per unit and kind the best
-- evidence, then the earliest; null-purchase records are primary for nothing.
{%- set returned_note =
    '^\\s*(returned to (the )?supplier|return to (the )?supplier|retoure|zurück an (den )?lieferanten)'
    ~ '\\s*([[:punct:]]|$)' %}
{%- set written_off_note = '^\\s*(written[ -]?off|write[ -]?off|lost|abgeschrieben|verloren)\\s*([[:punct:]]|$)' %}
with

purchases as (

    select * from {{ ref('fct_purchases') }}

),

sold_purchases as (

    select distinct purchase_id from {{ ref('fct_sale_units') }}
    where purchase_id is not null

),

notion_sales as (

    select * from {{ ref('stg_notion__sales') }}

),

notion_purchases as (

    select * from {{ ref('stg_notion__purchases') }}

),

versions as (

    select * from {{ ref('int_notion_purchase_versions') }}

),

---------- 1. Notion Sales pages with platform Return

notion_return_pages as (

    select
        *,
        coalesce(gross_amount, payout_amount) as recorded_amount,
        case when gross_amount is not null then gross_currency else payout_currency end as recorded_currency
    from notion_sales
    where platform = 'return'

),

notion_return_relations as (

    select pages.sale_page_id, related.purchase_page_id
    from notion_return_pages as pages
    cross join lateral jsonb_array_elements_text(pages.purchase_page_ids) as related (purchase_page_id)
    union
    select pages.sale_page_id, purchases.purchase_page_id
    from notion_purchases as purchases
    cross join lateral jsonb_array_elements_text(purchases.sale_page_ids) as related (sale_page_id)
    inner join notion_return_pages as pages on related.sale_page_id = pages.sale_page_id

),

notion_return_links as (

    -- Only related pages that are purchase units (live, not trashed).
    select
        relations.sale_page_id,
        purchases.purchase_id,
        count(*) over (partition by relations.sale_page_id) as purchases_of_page
    from notion_return_relations as relations
    inner join purchases
        on purchases.purchase_id = 'notion_purchases:' || relations.purchase_page_id || ':1'

),

from_notion_sales as (

    select
        'returned_to_supplier' as kind,
        links.purchase_id,
        coalesce(pages.sale_date::timestamp at time zone 'UTC', pages.created_at) as occurred_at,
        1 as evidence_rank,
        'notion_sales' as source,
        'notion_sales' as source_system,
        'notion_sales:' || pages.sale_page_id as source_record,
        pages.order_number,
        case
            when coalesce(links.purchases_of_page, 0) <= 1 and pages.recorded_amount is not null
                then pages.recorded_amount
            else purchases.gross_price
        end as amount,
        case
            when coalesce(links.purchases_of_page, 0) <= 1 and pages.recorded_amount is not null
                then pages.recorded_currency
            when purchases.gross_price is not null then purchases.gross_price_currency
        end as amount_currency,
        'Notion sale with platform ' || coalesce(pages.platform_name, 'Return') as reason
    from notion_return_pages as pages
    left join notion_return_links as links on pages.sale_page_id = links.sale_page_id
    left join purchases on links.purchase_id = purchases.purchase_id

),

---------- 2. sales sheet rows with platform Return

sheet_return_rows as (

    select
        *,
        {{ style_key(normalize_style_code('style_code')) }} as product_key,
        row_number() over (
            partition by order_number, {{ style_key(normalize_style_code('style_code')) }}
            order by sale_date, sale_row_id
        ) as position
    from {{ ref('stg_sheets__sales') }}
    where platform = 'return'

),

sheet_return_keys as (

    select distinct order_number, product_key
    from sheet_return_rows
    where order_number is not null

),

sheet_return_candidates as (

    -- Units a return row may name: same order number, same product when the row has one,
    -- not sold, not cancelled, not already returned by a Notion page; numbered per row key.
    select
        return_keys.order_number,
        return_keys.product_key,
        purchases.purchase_id,
        row_number() over (
            partition by return_keys.order_number, return_keys.product_key
            order by purchases.purchase_date, purchases.purchase_line_id, purchases.unit_index
        ) as position
    from sheet_return_keys as return_keys
    inner join purchases
        on return_keys.order_number in (purchases.supplier_order_number, purchases.sale_order_number)
        and (return_keys.product_key is null or return_keys.product_key = purchases.product_key)
    where
        purchases.excluded_reason is null
        and not exists (
            select from sold_purchases
            where sold_purchases.purchase_id = purchases.purchase_id
        )
        and not exists (
            select from from_notion_sales
            where from_notion_sales.purchase_id = purchases.purchase_id
        )

),

sheet_return_links as (

    -- The n-th return row of an order (and product) takes the n-th candidate unit.
    select
        return_rows.sale_row_id,
        candidates.purchase_id
    from sheet_return_rows as return_rows
    inner join sheet_return_candidates as candidates
        on return_rows.order_number = candidates.order_number
        and (return_rows.product_key is not distinct from candidates.product_key)
        and return_rows.position = candidates.position

),

from_sales_sheet as (

    select
        'returned_to_supplier' as kind,
        links.purchase_id,
        return_rows.sale_date::timestamp at time zone 'UTC' as occurred_at,
        2 as evidence_rank,
        'sales_sheet' as source,
        'sales_sheet' as source_system,
        return_rows.sale_row_id as source_record,
        return_rows.order_number,
        return_rows.sale_price as amount,
        case when return_rows.sale_price is not null then return_rows.sale_price_currency end as amount_currency,
        'sales sheet row with platform ' || coalesce(return_rows.platform_name, 'Return') as reason
    from sheet_return_rows as return_rows
    left join sheet_return_links as links on return_rows.sale_row_id = links.sale_row_id

),

---------- 3. the latest Notion Status

from_notion_status as (

    select
        case latest.status_class
            when 'returned' then 'returned_to_supplier'
            else 'written_off'
        end as kind,
        purchases.purchase_id,
        latest.status_class_since as occurred_at,
        3 as evidence_rank,
        'notion_status' as source,
        'notion_purchases' as source_system,
        'notion_purchases:' || latest.page_id as source_record,
        purchases.supplier_order_number as order_number,
        purchases.gross_price as amount,
        case when purchases.gross_price is not null then purchases.gross_price_currency end as amount_currency,
        'Notion status ' || latest.status as reason
    from versions as latest
    inner join purchases on latest.purchase_id = purchases.purchase_id
    where latest.is_latest and latest.status_class in ('returned', 'written_off')

),

---------- 4. purchases sheet notes

sheet_notes as (

    select
        purchases.*,
        lines.notes,
        lines.loaded_at,
        case
            when lines.notes ~* '{{ returned_note }}' then 'returned_to_supplier'
            when lines.notes ~* '{{ written_off_note }}' then 'written_off'
        end as kind
    from purchases
    inner join {{ ref('stg_sheets__purchases') }} as lines on purchases.purchase_line_id = lines.purchase_line_id

),

from_sheet_notes as (

    select
        kind,
        purchase_id,
        loaded_at as occurred_at,
        4 as evidence_rank,
        'sheet_notes' as source,
        source as source_system,
        purchase_id as source_record,
        supplier_order_number as order_number,
        gross_price as amount,
        case when gross_price is not null then gross_price_currency end as amount_currency,
        'purchases sheet notes: ' || btrim(notes) as reason
    from sheet_notes
    where kind is not null

),

unioned as (

    select * from from_notion_sales
    union all
    select * from from_sales_sheet
    union all
    select * from from_notion_status
    union all
    select * from from_sheet_notes

),

final as (

    select
        -- a sale record may return several units: record and unit; a status or note: the unit
        kind || ':' || case
            when source in ('notion_sales', 'sales_sheet') then source_record || coalesce('#' || purchase_id, '')
            else purchase_id
        end as exit_id,
        kind,
        purchase_id,
        occurred_at,
        evidence_rank,
        source,
        source_system,
        source_record,
        order_number,
        amount,
        amount_currency,
        reason,
        coalesce(
            purchase_id is not null
            and row_number() over (
                partition by purchase_id, kind order by evidence_rank, occurred_at, source_record
            ) = 1,
            false
        ) as is_primary
    from unioned

)

select * from final
