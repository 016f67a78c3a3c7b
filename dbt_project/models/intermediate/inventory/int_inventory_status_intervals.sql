-- The status history of every inventory item (a purchased unit of fct_purchases that was not
-- a cancelled purchase): one row per interval in which the item had one status, contiguous,
-- oldest first, the last one open (valid_to null). The rules, in full in the YAML of
-- products.inventory_status_history:
--
--   purchased    from purchased_at: 00:00 UTC of the purchase date (a Notion page without Buy
--                Date: the page's creation time, else its first version)
--   in_stock     from arrived_at: 00:00 UTC of the delivery date (a delivery date after today is
--                an expected date, not an arrival); else the first Notion version whose Status
--                says the pair is here (Available, Consigned, Need Shipping, Packed, Outgoing);
--                else, for a sheet purchase no sale is linked to, the purchase time itself
--   listed       while the latest Notion version up to that time has a Listed-on box ticked or
--                the Status Consigned; unticking them all goes back to in_stock (or to
--                purchased, when the pair has not arrived yet): the documented way back
--   sold         at sold_at of the sale unit linked to the purchase (fct_sale_units)
--   returned     at the item's primary returned_to_supplier record (int_inventory_exits)
--   written_off  at the item's primary written_off record (int_inventory_exits)
-- One final status per item: sold, else returned, else written_off; it ends the history.
-- Events dated before purchased_at count from purchased_at. At every event time the status is
-- evaluated from everything known up to and including that time; a status that would last no
-- time (the pair arrived on its purchase day) gets no row, and consecutive equal statuses are
-- one row.
with

items as (

    select purchases.*
    from {{ ref('fct_purchases') }} as purchases
    where purchases.excluded_reason is distinct from 'purchase cancelled'

),

versions as (

    select * from {{ ref('int_notion_purchase_versions') }}

),

notion_pages as (

    select
        'notion_purchases:' || purchase_page_id || ':1' as purchase_id,
        created_at
    from {{ ref('stg_notion__purchases') }}

),

sales as (

    select distinct on (purchase_id)
        purchase_id,
        sold_at,
        sale_unit_id
    from {{ ref('fct_sale_units') }}
    where purchase_id is not null
    order by purchase_id, sold_at, sale_unit_id

),

exits as (

    select * from {{ ref('int_inventory_exits') }}
    where is_primary

),

---------- per item: when it was bought, when it arrived, how it left

purchased as (

    select
        items.purchase_id,
        items.purchase_line_id,
        items.source,
        items.delivery_date,
        coalesce(
            items.purchase_date::timestamp at time zone 'UTC',
            notion_pages.created_at,
            (
                select min(versions.last_edited_at) as first_edited_at
                from versions
                where versions.purchase_id = items.purchase_id
            )
        ) as purchased_at,
        case
            when items.purchase_date is not null then 'purchase_date'
            else 'notion_created_time'
        end as purchased_source
    from items
    left join notion_pages on items.purchase_id = notion_pages.purchase_id

),

first_here as (

    select distinct on (purchase_id)
        purchase_id,
        last_edited_at,
        'notion_purchases:' || page_id || '@'
        || to_char(last_edited_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as version_record
    from versions
    where status_class = 'here'
    order by purchase_id, version_index

),

terminal as (

    select
        purchased.purchase_id,
        case
            when sales.purchase_id is not null then 'sold'
            when returned.purchase_id is not null then 'returned'
            when written_off.purchase_id is not null then 'written_off'
        end as terminal_status,
        coalesce(sales.sold_at, returned.occurred_at, written_off.occurred_at) as terminal_at,
        case
            when sales.purchase_id is not null then 'sale'
            when returned.purchase_id is not null then returned.source
            when written_off.purchase_id is not null then written_off.source
        end as terminal_source,
        case
            when sales.purchase_id is not null then 'fct_sale_units:' || sales.sale_unit_id
            when returned.purchase_id is not null then returned.source_record
            when written_off.purchase_id is not null then written_off.source_record
        end as terminal_record
    from purchased
    left join sales on purchased.purchase_id = sales.purchase_id
    left join exits as returned
        on purchased.purchase_id = returned.purchase_id and returned.kind = 'returned_to_supplier'
    left join exits as written_off
        on purchased.purchase_id = written_off.purchase_id and written_off.kind = 'written_off'

),

milestones as (

    select
        purchased.purchase_id,
        purchased.purchased_at,
        purchased.purchased_source,
        purchased.purchase_line_id as purchased_record,
        -- (greatest ignores nulls: the case keeps a missing arrival null)
        case
            when purchased.delivery_date <= current_date
                then greatest(purchased.delivery_date::timestamp at time zone 'UTC', purchased.purchased_at)
            when first_here.purchase_id is not null
                then greatest(first_here.last_edited_at, purchased.purchased_at)
            when purchased.source <> 'notion_purchases' and (terminal.terminal_status is distinct from 'sold')
                then purchased.purchased_at
        end as arrived_at,
        case
            when purchased.delivery_date <= current_date then 'delivery_date'
            when first_here.purchase_id is not null then 'notion_status'
            when purchased.source <> 'notion_purchases' and (terminal.terminal_status is distinct from 'sold')
                then 'purchase_date_assumed'
        end as arrived_source,
        case
            when purchased.delivery_date <= current_date then purchased.purchase_line_id
            when first_here.purchase_id is not null then first_here.version_record
            when purchased.source <> 'notion_purchases' and (terminal.terminal_status is distinct from 'sold')
                then purchased.purchase_line_id
        end as arrived_record,
        terminal.terminal_status,
        case
            when terminal.terminal_at is not null then greatest(terminal.terminal_at, purchased.purchased_at)
        end as terminal_at,
        terminal.terminal_source,
        terminal.terminal_record
    from purchased
    left join first_here on purchased.purchase_id = first_here.purchase_id
    left join terminal on purchased.purchase_id = terminal.purchase_id

),

---------- every event, in time order; the state after each

events as (

    select
        purchase_id,
        purchased_at as event_at,
        0 as event_order,
        null::boolean as is_listed,
        null::text as version_record
    from milestones
    union all
    select
        purchase_id,
        arrived_at as event_at,
        1 as event_order,
        null::boolean as is_listed,
        null::text as version_record
    from milestones
    where arrived_at is not null
    union all
    select
        milestones.purchase_id,
        greatest(versions.last_edited_at, milestones.purchased_at) as event_at,
        2 + versions.version_index as event_order,
        versions.is_listed,
        'notion_purchases:' || versions.page_id || '@'
        || to_char(versions.last_edited_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as version_record
    from milestones
    inner join versions on milestones.purchase_id = versions.purchase_id
    union all
    select
        purchase_id,
        terminal_at as event_at,
        2147483647 as event_order,
        null::boolean as is_listed,
        null::text as version_record
    from milestones
    where terminal_at is not null

),

carried as (

    -- The listing state of the latest Notion version up to each event (false before any).
    select
        events.*,
        count(events.is_listed) over (
            partition by events.purchase_id order by events.event_at, events.event_order
        ) as listing_group
    from events

),

states as (

    select
        carried.purchase_id,
        carried.event_at,
        carried.event_order,
        coalesce(first_value(carried.is_listed) over listing, false) as is_listed,
        first_value(carried.version_record) over listing as version_record,
        row_number() over (
            partition by carried.purchase_id, carried.event_at order by carried.event_order desc
        ) as rank_at_time
    from carried
    window listing as (
        partition by carried.purchase_id, carried.listing_group
        order by carried.event_at, carried.event_order
    )

),

evaluated as (

    -- The status at each event time, from the last event at that time.
    select
        states.purchase_id,
        states.event_at,
        states.version_record,
        milestones.purchased_at,
        milestones.purchased_source,
        milestones.purchased_record,
        milestones.arrived_source,
        milestones.arrived_record,
        milestones.terminal_source,
        milestones.terminal_record,
        case
            when milestones.terminal_at <= states.event_at then milestones.terminal_status
            when states.is_listed then 'listed'
            when milestones.arrived_at <= states.event_at then 'in_stock'
            else 'purchased'
        end as status
    from states
    inner join milestones on states.purchase_id = milestones.purchase_id
    where states.rank_at_time = 1 and (milestones.terminal_at is null or states.event_at <= milestones.terminal_at)

),

changes as (

    select
        *,
        lag(status) over (partition by purchase_id order by event_at) as previous_status
    from evaluated

),

intervals as (

    select
        purchase_id,
        status,
        previous_status,
        event_at as valid_from,
        case
            when status in ('sold', 'returned', 'written_off') then terminal_source
            when status = 'listed' or previous_status = 'listed' then 'notion_listing'
            when status = 'in_stock' then arrived_source
            else purchased_source
        end as source,
        case
            when status in ('sold', 'returned', 'written_off') then terminal_record
            when status = 'listed' or previous_status = 'listed' then version_record
            when status = 'in_stock' then arrived_record
            else purchased_record
        end as source_record
    from changes
    where previous_status is null or status <> previous_status

),

final as (

    select
        purchase_id as inventory_item_id,
        row_number() over (partition by purchase_id order by valid_from) as status_index,
        status,
        previous_status,
        valid_from,
        lead(valid_from) over (partition by purchase_id order by valid_from) as valid_to,
        source,
        source_record
    from intervals

)

select * from final
