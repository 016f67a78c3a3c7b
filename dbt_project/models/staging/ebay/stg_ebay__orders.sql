-- One row per eBay order line or order summary (newest version of each order number + item
-- number), columns renamed to the warehouse vocabulary. A multi-item order has a summary row
-- (no item number: shipping, tax, total of the order) and one row per item; a single-item
-- order has one row carrying both. Buyer names, e-mails and addresses stay in raw._extra.
with

source as (

    select * from {{ source('raw', 'ebay_orders') }}

),

latest as (

    select distinct on (order_number, item_number) *
    from source
    order by order_number, item_number, _loaded_at desc, _source_line desc

),

sized as (

    select
        *,
        -- "[US Shoe Size:10]", "[UK Shoe Size:9,Colour:Black]": the value, with UK / EU in front
        -- when eBay names that system (a bare number reads as a US men's size).
        substring(variation_details from '[Ss]hoe [Ss]ize[^:]*:\s*([^,\]]+)') as variation_size
    from latest

),

renamed as (

    select
        ---------- ids
        order_number,
        item_number,
        case when item_number is null then 'order_summary' else 'order_line' end as row_type,
        sales_record_number,
        transaction_id,

        ---------- item
        item_title,
        custom_label,
        variation_details,
        -- The seller's custom label is often the style code with the size appended
        -- (DZ5485-612-10 for size 10): the suffix is dropped only when it is that size.
        case
            when length(custom_label) > length(btrim(variation_size)) + 1
                and right(custom_label, length(btrim(variation_size)) + 1)
                in ('-' || btrim(variation_size), '_' || btrim(variation_size), ' ' || btrim(variation_size))
                then left(custom_label, length(custom_label) - length(btrim(variation_size)) - 1)
            else custom_label
        end as style_code,
        case
            when variation_details ~* 'UK Shoe Size' then 'UK ' || btrim(variation_size)
            when variation_details ~* 'EU Shoe Size' then 'EU ' || btrim(variation_size)
            else btrim(variation_size)
        end as size_label,
        quantity::integer as quantity,

        ---------- buyer (country only; the rest is personal data)
        ship_to_country as buyer_country,

        ---------- money (each amount with its own currency; the report has one, USD)
        sold_for as unit_price,
        currency::text as unit_price_currency,
        shipping_and_handling,
        currency::text as shipping_and_handling_currency,
        seller_collected_tax,
        currency::text as seller_collected_tax_currency,
        ebay_collected_tax,
        currency::text as ebay_collected_tax_currency,
        ebay_collected_charges,
        currency::text as ebay_collected_charges_currency,
        total_price,
        currency::text as total_price_currency,
        ebay_collect_and_remit_tax_rate,
        ebay_collected_tax_included,

        ---------- dates (seller-local, US Pacific for eBay.com)
        sale_date,
        paid_on_date,
        shipped_on_date,

        ---------- fulfilment
        payment_method,
        shipping_service,
        tracking_number,
        sold_via_promoted_listings,
        global_shipping_program,
        authenticity_verification_program,
        authenticity_verification_status,

        ---------- lineage
        _batch_id as load_batch_id,
        _source as load_source,
        _loaded_at as loaded_at

    from sized

)

select * from renamed
