-- One row per expense of the reseller's expenses spreadsheet (raw.sheets_expenses, format
-- expenses_sheet): everything that is not a pair bought for resale (shipping supplies,
-- software, storage, fees). A row has no natural key: identical rows are two charges
-- (numbered by the loader), so every raw row is an expense; a row edited after it was loaded
-- arrives as a new expense.
--
-- Amount is the gross amount paid, in its own currency (EUR when the sheet leaves it blank).
-- VAT Rate is a percentage in the sheet and a fraction here (19 -> 0.19; a value below 1 was
-- written as a fraction already). A blank rate stays null: no deductible input VAT
-- (finance.fct_expenses treats it as 0, never as the default rate).
with

source as (

    select * from {{ source('raw', 'sheets_expenses') }}

),

renamed as (

    select
        ---------- ids
        'expenses_sheet:' || source._row_hash::text as expense_id,

        ---------- expense
        source.expense_date,
        btrim(source.category) as category,
        -- letters and digits of the category in lower case, words joined by _ (Shipping
        -- supplies -> shipping_supplies): groups spellings that differ in case or spacing
        btrim(regexp_replace(lower(source.category), '[^a-z0-9]+', '_', 'g'), '_') as category_key,
        source.description,
        source.payee,
        source.invoice_number,

        ---------- money (gross, as written)
        source.amount as gross_amount,
        source.currency::text as currency,
        case
            when source.vat_rate is null then null
            when source.vat_rate < 1 then source.vat_rate
            else round(source.vat_rate / 100, 6)
        end as vat_rate,

        source.notes,

        ---------- lineage
        source._batch_id as load_batch_id,
        source._source as load_source,
        source._source_line as load_source_line,
        source._loaded_at as loaded_at

    from source

)

select * from renamed
