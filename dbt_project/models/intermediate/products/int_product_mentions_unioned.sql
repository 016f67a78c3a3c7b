-- Every place a product is mentioned, one row per source row: the style code and size label
-- as the source wrote them, plus the product title, brand and StockX ids when the source has
-- them. Sales and variants mention a product in one size ('variant'), catalog products only a
-- product ('product').
--
-- A new source adds one CTE with these columns and one `union all` (the purchases and sales
-- sheets, Notion purchases and sales, eBay order lines and the Alias export are in).
-- is_catalog_source says whether the source's style codes define products (StockX data) or
-- must match a product StockX data already defines (free-typed codes elsewhere).
with

stockx_sales_report as (

    select
        'stockx_sales_report' as source,
        order_number as source_id,
        'variant' as mention_level,
        true as is_catalog_source,
        style_code as style_code_raw,
        size_label as size_label_raw,
        item_name as product_title,
        null::text as brand,
        null::text as stockx_product_id,
        null::text as stockx_variant_id,
        sold_at as seen_at,
        load_batch_id,
        load_source
    from {{ ref('stg_stockx__sales_report') }}

),

stockx_orders as (

    select
        'stockx_orders' as source,
        order_number as source_id,
        'variant' as mention_level,
        true as is_catalog_source,
        style_code as style_code_raw,
        size_label as size_label_raw,
        product_name as product_title,
        null::text as brand,
        stockx_product_id,
        stockx_variant_id,
        coalesce(created_at, loaded_at) as seen_at,
        load_batch_id,
        load_source
    from {{ ref('stg_stockx__orders') }}

),

stockx_products as (

    select
        'stockx_products' as source,
        stockx_product_id as source_id,
        'product' as mention_level,
        true as is_catalog_source,
        style_code as style_code_raw,
        null::text as size_label_raw,
        title as product_title,
        brand,
        stockx_product_id,
        null::text as stockx_variant_id,
        loaded_at as seen_at,
        load_batch_id,
        load_source
    from {{ ref('stg_stockx__products') }}

),

stockx_variants as (

    -- A variant has no style code of its own: it gets its product's (by StockX product id).
    select
        'stockx_variants' as source,
        stockx_variant_id as source_id,
        'variant' as mention_level,
        true as is_catalog_source,
        null::text as style_code_raw,
        size_label as size_label_raw,
        null::text as product_title,
        null::text as brand,
        stockx_product_id,
        stockx_variant_id,
        loaded_at as seen_at,
        load_batch_id,
        load_source
    from {{ ref('stg_stockx__variants') }}

),

purchases_sheets as (

    -- Both purchases sheets (English and German); source_id is the raw row's hash.
    select
        source,
        split_part(purchase_line_id, ':', 2) as source_id,
        'variant' as mention_level,
        false as is_catalog_source,
        style_code as style_code_raw,
        size_label_normalized as size_label_raw,
        product_name as product_title,
        brand,
        null::text as stockx_product_id,
        null::text as stockx_variant_id,
        purchase_date::timestamp at time zone 'UTC' as seen_at,
        load_batch_id,
        load_source
    from {{ ref('stg_sheets__purchases') }}

),

sales_sheet as (

    select
        'sales_sheet' as source,
        split_part(sale_row_id, ':', 2) as source_id,
        'variant' as mention_level,
        false as is_catalog_source,
        style_code as style_code_raw,
        size_label_normalized as size_label_raw,
        product_name as product_title,
        null::text as brand,
        null::text as stockx_product_id,
        null::text as stockx_variant_id,
        sale_date::timestamp at time zone 'UTC' as seen_at,
        load_batch_id,
        load_source
    from {{ ref('stg_sheets__sales') }}

),

notion_purchases as (

    -- Notion sizes with their system in front (10 US -> US 10), the form the size rules read.
    select
        'notion_purchases' as source,
        purchase_page_id as source_id,
        'variant' as mention_level,
        false as is_catalog_source,
        style_code as style_code_raw,
        size_label_normalized as size_label_raw,
        product_name as product_title,
        brand,
        null::text as stockx_product_id,
        null::text as stockx_variant_id,
        coalesce(purchase_date::timestamp at time zone 'UTC', created_at, loaded_at) as seen_at,
        load_batch_id,
        load_source
    from {{ ref('stg_notion__purchases') }}

),

notion_sales as (

    select
        'notion_sales' as source,
        sale_page_id as source_id,
        'variant' as mention_level,
        false as is_catalog_source,
        style_code as style_code_raw,
        size_label_normalized as size_label_raw,
        null::text as product_title,
        null::text as brand,
        null::text as stockx_product_id,
        null::text as stockx_variant_id,
        coalesce(sale_date::timestamp at time zone 'UTC', created_at, loaded_at) as seen_at,
        load_batch_id,
        load_source
    from {{ ref('stg_notion__sales') }}

),

ebay_orders as (

    -- Order lines only; the style code comes from the seller's custom label.
    select
        'ebay_orders' as source,
        order_number || ':' || item_number as source_id,
        'variant' as mention_level,
        false as is_catalog_source,
        style_code as style_code_raw,
        size_label as size_label_raw,
        item_title as product_title,
        null::text as brand,
        null::text as stockx_product_id,
        null::text as stockx_variant_id,
        sale_date::timestamp at time zone 'UTC' as seen_at,
        load_batch_id,
        load_source
    from {{ ref('stg_ebay__orders') }}
    where row_type = 'order_line'

),

ebay_api_orders as (

    -- API order lines; the style code comes from the SKU or the reviewed ebay_item_mappings.
    select
        'ebay_api_orders' as source,
        order_id || ':' || line_item_id as source_id,
        'variant' as mention_level,
        false as is_catalog_source,
        style_code as style_code_raw,
        size_label as size_label_raw,
        item_title as product_title,
        null::text as brand,
        null::text as stockx_product_id,
        null::text as stockx_variant_id,
        sold_at as seen_at,
        load_batch_id,
        load_source
    from {{ ref('stg_ebay__api_orders') }}

),

alias_consignment as (

    select
        'alias_consignment' as source,
        order_number as source_id,
        'variant' as mention_level,
        false as is_catalog_source,
        style_code as style_code_raw,
        size_label as size_label_raw,
        product_name as product_title,
        null::text as brand,
        null::text as stockx_product_id,
        null::text as stockx_variant_id,
        coalesce(sold_on, credited_on)::timestamp at time zone 'UTC' as seen_at,
        load_batch_id,
        load_source
    from {{ ref('stg_alias__consignment') }}

),

alias_api_orders as (

    select
        'alias_api_orders' as source,
        order_id as source_id,
        'variant' as mention_level,
        false as is_catalog_source,
        style_code as style_code_raw,
        size_label as size_label_raw,
        product_name as product_title,
        brand,
        null::text as stockx_product_id,
        null::text as stockx_variant_id,
        sold_at as seen_at,
        load_batch_id,
        load_source
    from {{ ref('stg_alias__api_orders') }}

),

unioned as (

    select * from stockx_sales_report
    union all
    select * from stockx_orders
    union all
    select * from stockx_products
    union all
    select * from stockx_variants
    union all
    select * from purchases_sheets
    union all
    select * from sales_sheet
    union all
    select * from notion_purchases
    union all
    select * from notion_sales
    union all
    select * from ebay_orders
    union all
    select * from ebay_api_orders
    union all
    select * from alias_consignment
    union all
    select * from alias_api_orders

)

select
    source || ':' || source_id as mention_id,
    *
from unioned
