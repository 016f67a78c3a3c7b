-- One row per supplier entered in Budibase (entry.suppliers): the newest version of each
-- supplier_id in raw.budibase_suppliers (an edit is a new version).
with

source as (

    select * from {{ source('raw', 'budibase_suppliers') }}

),

latest as (

    select distinct on (supplier_id) *
    from source
    order by supplier_id, updated_at desc, _loaded_at desc

),

renamed as (

    select
        supplier_id,
        btrim(name) as supplier,
        supplier_type,
        country,
        notes,
        entered_at,
        updated_at,
        _batch_id as load_batch_id,
        _loaded_at as loaded_at
    from latest

)

select * from renamed
