-- For every sold pair: profit = net sale - net buy exactly (home currency, and the original
-- currency when both sides share one), and a profit exactly when both sides are known; every
-- linked pair with a price and FX rates has a profit when it has a payout. Returns offending pairs.
{{ config(meta={'dagster': {'ref': {'name': 'fct_unit_economics'}}}) }}
select sale_unit_id, net_sale_home, net_buy_home, profit_home, net_sale_amount, net_buy_amount, profit_amount
from {{ ref('fct_unit_economics') }}
where
    profit_home is distinct from net_sale_home - net_buy_home
    or (
        sale_currency = buy_currency
        and profit_amount is distinct from net_sale_amount - net_buy_amount
    )
    or (profit_amount is not null and profit_currency is null)
    or (purchase_id is null and profit_home is not null)
    or (
        purchase_id is not null and payout_amount is not null and net_buy_amount is not null
        and sale_home_per_unit is not null and buy_home_per_unit is not null
        and profit_home is null
    )
