-- One row per line item of the newest version of each eBay API order (Fulfillment getOrders),
-- columns renamed to the warehouse vocabulary; each amount with its own currency.
--
-- Style code and size: an eBay title is not a style code. The line item's SKU is used when it
-- holds one (sellers often list as DD1391-100-US10); otherwise the reviewed mapping seed
-- ebay_item_mappings (legacy item id -> style code, size) that the reseller edits. The size
-- comes from the SKU suffix, else the mapping, else a trailing "EU 44" / "UK 8" in the title.
-- Lines matched by neither appear in products.unmatched_items.
with

source as (

    select * from {{ source('raw', 'ebay_api_orders') }}

),

latest as (

    select distinct on (order_id) *
    from source
    order by order_id, last_modified_date desc, _loaded_at desc, _source_line desc

),

lines as (

    select
        latest.*,
        line.item as line_item,
        line.position as line_position,
        jsonb_array_length(latest.line_items) as lines_in_order,
        -- two sizes of one multi-variation listing are two lines with the same item number
        count(*) over (partition by latest.order_id, line.item ->> 'legacyItemId') as lines_of_item
    from latest
    cross join
        lateral jsonb_array_elements(
            case when jsonb_typeof(latest.line_items) = 'array' then latest.line_items else '[]' end
        ) with ordinality as line (item, position)

),

parsed as (

    select
        *,
        line_item ->> 'sku' as sku,
        line_item ->> 'title' as item_title,
        line_item ->> 'legacyItemId' as legacy_item_id,
        substring(
            upper(line_item ->> 'sku')
            from '^([A-Z]{2}[0-9]{4}-?[0-9]{3}|[0-9]{6}-?[0-9]{3}|[0-9]{4}[A-Z][0-9]{3}-?[0-9]{3})([-_ ]|$)'
        ) as sku_style_code,
        substring(upper(line_item ->> 'sku') from '[-_ ]((US|EU|UK) ?[0-9]{1,2}([.][0-9])?)$') as sku_size,
        substring(line_item ->> 'title' from '\m((EU|UK|US) ?[0-9]{1,2}([.,][0-9])?)\s*$') as title_size
    from lines

),

mapped as (

    select
        parsed.*,
        mappings.style_code as mapped_style_code,
        mappings.size_label as mapped_size_label
    from parsed
    left join {{ ref('ebay_item_mappings') }} as mappings
        on parsed.legacy_item_id = mappings.legacy_item_id::text

),

renamed as (

    select
        ---------- ids
        order_id,
        line_item ->> 'lineItemId' as line_item_id,
        legacy_item_id,
        -- The order line as the Orders report names it (its item number), unless the order has
        -- several lines of one listing (variations): then the line item id makes it unique.
        case
            when lines_of_item = 1 then legacy_item_id
            else legacy_item_id || ':' || (line_item ->> 'lineItemId')
        end as order_line,
        line_item ->> 'legacyVariationId' as legacy_variation_id,
        legacy_order_id,
        line_position::integer as line_position,
        lines_in_order::integer as lines_in_order,

        ---------- item and matching
        item_title,
        sku,
        coalesce(sku_style_code, mapped_style_code) as style_code,
        coalesce(sku_size, mapped_size_label, title_size) as size_label,
        case
            when sku_style_code is not null then 'sku'
            when mapped_style_code is not null then 'reviewed_mapping'
        end as style_code_source,
        coalesce((line_item ->> 'quantity')::integer, 1) as quantity,
        line_item ->> 'listingMarketplaceId' as listing_marketplace_id,

        ---------- money (each amount with its own currency)
        (line_item -> 'lineItemCost' ->> 'value')::numeric as line_item_cost,
        line_item -> 'lineItemCost' ->> 'currency' as line_item_cost_currency,
        (line_item -> 'deliveryCost' -> 'shippingCost' ->> 'value')::numeric as shipping_cost,
        line_item -> 'deliveryCost' -> 'shippingCost' ->> 'currency' as shipping_cost_currency,
        (line_item -> 'total' ->> 'value')::numeric as line_total,
        line_item -> 'total' ->> 'currency' as line_total_currency,
        order_total,
        order_total_currency::text as order_total_currency,
        total_marketplace_fee,
        total_marketplace_fee_currency::text as total_marketplace_fee_currency,

        ---------- status and buyer (country only)
        order_fulfillment_status,
        order_payment_status,
        cancel_state,
        coalesce(cancel_state, '') = 'CANCELED' as is_cancelled,
        buyer_country,

        ---------- dates (UTC)
        creation_date as sold_at,
        last_modified_date,

        ---------- lineage
        _batch_id as load_batch_id,
        _source as load_source,
        _loaded_at as loaded_at

    from mapped

)

select * from renamed
