{#- Gross margin per day x channel x category, read from the general ledger
    (fct_gl_entries) so it ties to the books: sales = revenue posted at
    shipment, refunds = refunds paid (sales_returns), net revenue = sales -
    refunds, cogs = cost of units shipped - cost of returned units re-entering
    stock, gross margin = net revenue - cogs. channel 'unattributed' / category
    'unknown' when the entry carries none.

    Cost coverage: an entry of an order line whose cost is unknown
    (fct_order_lines.cost_basis) is left out of the *_cost_known columns, so
    the rate is a margin over known-cost revenue (unknown, NULL, when none is
    known) and net_revenue_cost_known / net_revenue is its coverage. -#}
with

gl_entries as (
    select * from {{ ref('fct_gl_entries') }}
),

order_lines as (
    select * from {{ ref('fct_order_lines') }}
),

classified_entries as (
    select
        gl_entries.posted_date as date,  -- noqa: RF04
        coalesce(gl_entries.channel, 'unattributed') as channel,
        coalesce(gl_entries.category, 'unknown') as category,
        gl_entries.account,
        gl_entries.journal_type,
        gl_entries.amount,
        -- entries of no order line (or of a line not built) carry a ledger cost
        coalesce(order_lines.cost_basis, 'ledger') as cost_basis
    from gl_entries
    left join order_lines on gl_entries.order_line_id = order_lines.order_line_id
    where gl_entries.account in ('revenue', 'sales_returns', 'cogs')
),

margin_entries as (
    select
        date,
        channel,
        category,
        cost_basis,
        case when account = 'revenue' then -amount else 0 end as sales,
        case when account = 'sales_returns' then amount else 0 end as refunds,
        case when account = 'cogs' and journal_type = 'cogs' then amount else 0 end as cogs_shipped,
        case when account = 'cogs' and journal_type <> 'cogs' then -amount else 0 end
            as cogs_returned
    from classified_entries
),

daily as (
    select
        date,
        channel,
        category,
        sum(sales) as sales,
        sum(refunds) as refunds,
        sum(cogs_shipped) as cogs_shipped,
        sum(cogs_returned) as cogs_returned,
        sum(case when cost_basis <> 'unknown' then sales - refunds else 0 end)
            as net_revenue_cost_known,
        sum(
            case
                when cost_basis <> 'unknown'
                    then sales - refunds - cogs_shipped + cogs_returned
                else 0
            end
        ) as gross_margin_cost_known,
        sum(case when cost_basis = 'assumed' then sales - refunds else 0 end)
            as net_revenue_cost_assumed
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
    cast(net_revenue_cost_known as decimal(18, 2)) as net_revenue_cost_known,
    cast(gross_margin_cost_known as decimal(18, 2)) as gross_margin_cost_known,
    cast(net_revenue_cost_assumed as decimal(18, 2)) as net_revenue_cost_assumed,
    -- over known-cost revenue only: an unknown cost never makes a 100% margin
    cast(gross_margin_cost_known as double) / nullif(cast(net_revenue_cost_known as double), 0)
        as gross_margin_rate
from daily
