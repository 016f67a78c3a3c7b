-- One row per Alias sale from the consignment/sales export (newest version of each order
-- number), columns renamed. The price is a whole US-dollar amount (the column's "CENTS" name
-- notwithstanding): it is the sale price; the export carries no fees and no payout.
with

source as (

    select * from {{ source('raw', 'alias_consignment') }}

),

latest as (

    select distinct on (order_number) *
    from source
    order by order_number, _loaded_at desc, _source_line desc

),

renamed as (

    select
        ---------- ids
        order_number,
        username as seller_username,

        ---------- product
        product_name,
        sku as style_code,
        size as size_label,

        ---------- money (each amount with its own currency)
        sale_price,
        sale_price_currency::text as sale_price_currency,

        ---------- dates
        purchased_date as sold_on,
        credit_date as credited_on,

        ---------- lineage
        _batch_id as load_batch_id,
        _source as load_source,
        _loaded_at as loaded_at

    from latest

)

select * from renamed
