-- The Alias export's PRODUCT_PRICE_CENTS_SALE_PRICE holds whole US dollars in real files
-- despite its name. If Alias ever switched to real cents every price would be 100x too high:
-- warn about prices no sneaker sale on Alias plausibly has (below $1 or above $10,000).
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'stg_alias__consignment'}}}) }}
select order_number, product_name, sale_price, sale_price_currency
from {{ ref('stg_alias__consignment') }}
where sale_price < 1 or sale_price > 10000
