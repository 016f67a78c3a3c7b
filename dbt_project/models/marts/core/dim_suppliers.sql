-- Suppliers (shops and people the reseller buys from), one row per supplier key: the slug of
-- the name (slug_key: 'Solebox Demo', 'solebox demo' and 'SOLEBOX-Demo' are solebox-demo), the
-- same key products.inventory_items carries. Display name: the spelling used most often (then
-- the most recent). Purchases without a supplier have no supplier (supplier_key null there).
-- Dates cover every purchase unit of the supplier; units_purchased counts units that were not
-- excluded (cancelled purchases and returns to the supplier are units_excluded).
with

purchases as (

    select
        {{ slug_key('supplier') }} as supplier_key,
        btrim(supplier) as supplier,
        purchase_date,
        excluded_reason
    from {{ ref('fct_purchases') }}
    where {{ slug_key('supplier') }} is not null

),

spellings as (

    select
        supplier_key,
        supplier,
        count(*) as units,
        max(purchase_date) as last_purchase_date
    from purchases
    group by supplier_key, supplier

),

names as (

    select distinct on (supplier_key)
        supplier_key,
        supplier
    from spellings
    order by supplier_key asc, units desc, last_purchase_date desc nulls last, supplier asc

),

stats as (

    select
        supplier_key,
        min(purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        count(*) filter (where excluded_reason is null) as units_purchased,
        count(*) filter (where excluded_reason is not null) as units_excluded
    from purchases
    group by supplier_key

),

final as (

    select
        stats.supplier_key::text as supplier_key,
        names.supplier::text as supplier,
        stats.first_purchase_date::date as first_purchase_date,
        stats.last_purchase_date::date as last_purchase_date,
        stats.units_purchased::integer as units_purchased,
        stats.units_excluded::integer as units_excluded
    from stats
    inner join names on stats.supplier_key = names.supplier_key

)

select * from final
