{#- Gross margin per day x channel x category, read from the general ledger
    (fct_gl_entries) so it ties to the books: sales = revenue posted at
    shipment, refunds = refunds paid (sales_returns), net revenue = sales -
    refunds, cogs = cost of units shipped - cost of returned units re-entering
    stock, gross margin = net revenue - cogs. channel 'unattributed' / category
    'unknown' when the entry carries none. -#}
with

gl_entries as (
    select * from {{ ref('fct_gl_entries') }}
),

margin_entries as (
    select
        posted_date as date,  -- noqa: RF04
        coalesce(channel, 'unattributed') as channel,
        coalesce(category, 'unknown') as category,
        case when account = 'revenue' then -amount else 0 end as sales,
        case when account = 'sales_returns' then amount else 0 end as refunds,
        case when account = 'cogs' and journal_type = 'cogs' then amount else 0 end as cogs_shipped,
        case when account = 'cogs' and journal_type <> 'cogs' then -amount else 0 end
            as cogs_returned
    from gl_entries
    where account in ('revenue', 'sales_returns', 'cogs')
),

daily as (
    select
        date,
        channel,
        category,
        sum(sales) as sales,
        sum(refunds) as refunds,
        sum(cogs_shipped) as cogs_shipped,
        sum(cogs_returned) as cogs_returned
    from margin_entries
    group by date, channel, category
)

select
    date,
    channel,
    category,
    cast(sales as decimal(18, 2)) as sales,
    cast(refunds as decimal(18, 2)) as refunds,
    cast(sales - refunds as decimal(18, 2)) as net_revenue,
    cast(cogs_shipped as decimal(18, 2)) as cogs_shipped,
    cast(cogs_returned as decimal(18, 2)) as cogs_returned,
    cast(cogs_shipped - cogs_returned as decimal(18, 2)) as cogs,
    cast(sales - refunds - cogs_shipped + cogs_returned as decimal(18, 2)) as gross_margin,
    cast(
        (sales - refunds - cogs_shipped + cogs_returned) / nullif(sales - refunds, 0)
        as double
    ) as gross_margin_rate
from daily
