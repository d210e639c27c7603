-- Every disposition is allowed for the product class of the SKU returned
-- (domain_product_class_dispositions).
-- An operational anomaly, listed in fct_ledger_exceptions: warns, never blocks publication.
{{ config(severity='warn') }}

with

return_lines as (
    select * from {{ ref('fct_return_lines') }}
    where disposition is not null
),

allowed as (
    select * from {{ ref('domain_product_class_dispositions') }}
)

select
    return_lines.return_line_id,
    return_lines.sku,
    return_lines.product_class,
    return_lines.disposition
from return_lines
left join allowed
    on
        coalesce(return_lines.product_class, 'unknown') = allowed.product_class
        and return_lines.disposition = allowed.disposition
where allowed.disposition is null
