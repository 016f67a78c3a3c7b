-- The status history of every inventory item: one row per interval with one status,
-- contiguous (valid_to = the next row's valid_from), the current one open (valid_to null).
-- Built in int_inventory_status_intervals; the rules are documented in the YAML.
with

intervals as (

    select * from {{ ref('int_inventory_status_intervals') }}

),

final as (

    select
        (inventory_item_id || '#' || status_index)::text as status_history_id,
        inventory_item_id::text as inventory_item_id,
        status_index::integer as status_index,
        status::text as status,
        valid_from::timestamptz as valid_from,
        valid_to::timestamptz as valid_to,
        source::text as source,
        source_record::text as source_record,
        previous_status::text as previous_status
    from intervals

)

select * from final
