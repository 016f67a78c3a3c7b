-- Unit economics per sold pair (one row per transactions.fct_sale_units row), VAT handled as
-- for a German / EU reseller, every amount in its own currency and in the home currency.
--
-- VAT (var('vat_registered'), default true; rate var('default_vat_rate'), 0.19):
-- * buy side: net buy = fct_purchases.net_price (derived there from the gross price and the
--   recorded rate, else the default rate; 0 % from private sellers), input VAT = gross - net.
-- * sale side, by core.platforms.sales_vat_treatment of the platform:
--   - self_billed_intra_eu (StockX, Alias, GOAT, Klekt, Restocks, Laced, WTN): the platform
--     buys the pair VAT-free (intra-EU supply, self-billed): output VAT 0, net sale = payout;
--   - domestic_standard (eBay, Kleinanzeigen, in person, other; also any platform without a
--     treatment): the buyer's price includes German VAT: output VAT =
--     round(gross_sale * rate / (1 + rate), 2), net sale = payout - output VAT.
-- * not VAT-registered: net buy = gross buy, input VAT 0, output VAT 0, net sale = payout.
--
-- Home currency (var('home_currency'), EUR): amount_home = round(amount * home_per_unit, 2),
-- core.fx_rates_daily on (currency, date): the sale side at sale_date, the buy side at
-- purchase_date. Converted directly: gross sale, payout, output VAT, gross buy, net buy; derived
-- so that the parts add up to the cent: fees = gross sale - payout, net sale = payout - output
-- VAT, input VAT = gross buy - net buy, profit = net sale - net buy.
--
-- Profit = net sale - net buy exactly; ROI = profit / net buy (4 dp, null when net buy is 0 or
-- unknown); shelf life = sale_date - purchase_date; profit per shelf day = profit /
-- greatest(shelf life, 1). A pair without a linked purchase keeps its sale side, buy side and
-- profit null (unlinked_reason says why); a pair without a payout has no net sale and no profit.
{%- set home = home_currency() %}
{%- set vat_registered = vat_registered() %}
{%- set vat_rate = var('default_vat_rate', 0.19) %}
{#- output VAT only when registered; the cost of a pair is gross when input VAT cannot be deducted #}
{%- set domestic_vat_rate = vat_rate if vat_registered else 0 %}
{%- set net_buy_column = 'purchases.net_price' if vat_registered else 'purchases.gross_price' %}
with

sale_units as (

    select * from {{ ref('fct_sale_units') }}

),

purchases as (

    select * from {{ ref('fct_purchases') }}

),

items as (

    select inventory_item_id, supplier_key from {{ ref('inventory_items') }}

),

platforms as (

    select platform, sales_vat_treatment from {{ ref('platforms') }}

),

products as (

    select product_key, brand from {{ ref('dim_products') }}

),

fx as (

    select rate_date, currency, home_per_unit from {{ ref('fx_rates_daily') }}

),

joined as (

    select
        sale_units.sale_unit_id,
        sale_units.sale_id,
        sale_units.platform,
        coalesce(platforms.sales_vat_treatment, 'domestic_standard') as sales_vat_treatment,
        sale_units.sold_at,
        sale_units.sale_date,
        sale_units.product_key,
        sale_units.variant_key,
        coalesce(products.brand, purchases.brand) as brand,
        items.supplier_key,
        sale_units.purchase_id,
        sale_units.link_method,
        sale_units.unlinked_reason,
        purchases.purchase_date,
        sale_units.gross_amount as gross_sale_amount,
        sale_units.gross_currency as gross_sale_currency,
        sale_units.payout_amount,
        sale_units.payout_currency as sale_currency,
        purchases.gross_price as gross_buy_amount,
        {{ net_buy_column }} as net_buy_amount,
        purchases.net_price_currency as buy_currency,
        case
            when coalesce(platforms.sales_vat_treatment, 'domestic_standard') = 'domestic_standard'
                then {{ domestic_vat_rate }}::numeric
            else 0::numeric
        end as output_vat_rate,
        {{ home_per_unit('sale_units.gross_currency', 'gross_fx') }} as gross_home_per_unit,
        {{ home_per_unit('sale_units.payout_currency', 'sale_fx') }} as sale_home_per_unit,
        case
            when purchases.purchase_id is not null then {{ home_per_unit('purchases.net_price_currency', 'buy_fx') }}
        end as buy_home_per_unit
    from sale_units
    left join purchases on sale_units.purchase_id = purchases.purchase_id
    left join items on sale_units.purchase_id = items.inventory_item_id
    left join platforms on sale_units.platform = platforms.platform
    left join products on sale_units.product_key = products.product_key
    left join fx as gross_fx
        on sale_units.gross_currency = gross_fx.currency and sale_units.sale_date = gross_fx.rate_date
    left join fx as sale_fx
        on sale_units.payout_currency = sale_fx.currency and sale_units.sale_date = sale_fx.rate_date
    left join fx as buy_fx
        on purchases.net_price_currency = buy_fx.currency and purchases.purchase_date = buy_fx.rate_date

),

amounts as (

    select
        *,
        -- output VAT in the sale currency; computed in home currency only (below) in the rare
        -- case that the buyer's price and the payout are in different currencies
        case
            when output_vat_rate = 0 then 0::numeric
            when gross_sale_currency = sale_currency
                then round(gross_sale_amount * output_vat_rate / (1 + output_vat_rate), 2)
        end as output_vat_amount
    from joined

),

home as (

    select
        *,
        payout_amount - output_vat_amount as net_sale_amount,
        round(gross_sale_amount * gross_home_per_unit, 2) as gross_sale_home,
        round(payout_amount * sale_home_per_unit, 2) as payout_home,
        case
            when output_vat_amount is not null then round(output_vat_amount * sale_home_per_unit, 2)
            else round(round(gross_sale_amount * gross_home_per_unit, 2) * output_vat_rate / (1 + output_vat_rate), 2)
        end as output_vat_home,
        round(gross_buy_amount * buy_home_per_unit, 2) as gross_buy_home,
        round(net_buy_amount * buy_home_per_unit, 2) as net_buy_home,
        sale_date - purchase_date as shelf_life_days
    from amounts

),

profit as (

    select
        *,
        payout_home - output_vat_home as net_sale_home,
        payout_home - output_vat_home - net_buy_home as profit_home
    from home

),

final as (

    select
        sale_unit_id::text as sale_unit_id,
        sale_id::text as sale_id,
        platform::text as platform,
        sold_at::timestamptz as sold_at,
        sale_date::date as sale_date,
        product_key::text as product_key,
        brand::text as brand,
        supplier_key::text as supplier_key,
        purchase_id::text as purchase_id,
        purchase_date::date as purchase_date,
        gross_sale_amount::numeric(14, 2) as gross_sale_amount,
        payout_amount::numeric(14, 2) as payout_amount,
        output_vat_amount::numeric(14, 2) as output_vat_amount,
        net_sale_amount::numeric(14, 2) as net_sale_amount,
        sale_currency::text as sale_currency,
        gross_buy_amount::numeric(14, 2) as gross_buy_amount,
        (gross_buy_amount - net_buy_amount)::numeric(14, 2) as input_vat_amount,
        net_buy_amount::numeric(14, 2) as net_buy_amount,
        buy_currency::text as buy_currency,
        '{{ home }}'::text as home_currency,
        gross_sale_home::numeric(14, 2) as gross_sale_home,
        (gross_sale_home - payout_home)::numeric(14, 2) as fees_home,
        net_sale_home::numeric(14, 2) as net_sale_home,
        net_buy_home::numeric(14, 2) as net_buy_home,
        profit_home::numeric(14, 2) as profit_home,
        (case when net_buy_home <> 0 then round(profit_home / net_buy_home, 4) end)::numeric(10, 4) as roi,
        shelf_life_days::integer as shelf_life_days,
        round(profit_home / greatest(shelf_life_days, 1), 2)::numeric(14, 2) as profit_per_shelf_day_home,
        (case when sale_currency = buy_currency then net_sale_amount - net_buy_amount end)::numeric(14, 2)
            as profit_amount,
        (case
            when sale_currency = buy_currency and net_sale_amount is not null and net_buy_amount is not null
                then sale_currency
        end)::text as profit_currency,
        ---------- beyond the contract's minimum
        variant_key::text as variant_key,
        sales_vat_treatment::text as sales_vat_treatment,
        link_method::text as link_method,
        unlinked_reason::text as unlinked_reason,
        gross_sale_currency::text as gross_sale_currency,
        (case when gross_sale_currency = sale_currency then gross_sale_amount - payout_amount end)::numeric(14, 2)
            as fees_amount,
        output_vat_rate::numeric(6, 4) as output_vat_rate,
        payout_home::numeric(14, 2) as payout_home,
        output_vat_home::numeric(14, 2) as output_vat_home,
        gross_buy_home::numeric(14, 2) as gross_buy_home,
        (gross_buy_home - net_buy_home)::numeric(14, 2) as input_vat_home,
        sale_home_per_unit::numeric(18, 10) as sale_home_per_unit,
        buy_home_per_unit::numeric(18, 10) as buy_home_per_unit
    from profit

)

select * from final
