{% macro gl_recompute_from(watermark) -%}
{#- The first day an incremental run of a general-ledger model recomputes (a
    timestamp at midnight; null when nothing changed): the earliest day any
    journal can change on, given what was loaded after `watermark` (the
    model's own latest ingested_at):
    - a movement loaded since, and every movement the stock ledger revalued
      after it (same SKU, later times);
    - a master record loaded since: every SKU may be revalued or
      re-categorised, so everything;
    - movements, payments and ledger events that reference an order line,
      order, return line, return or claim whose events were loaded since
      (their channel, prices, SKU or cost split may change);
    - payments, cancellations (their refunds) and ledger events loaded since.
    Revaluations (fct_stock_daily against the journals) change only on days
    with such movements. -#}
    (
        select cast(cast(min(from_time) as date) as timestamp)
        from (
            select min(event_time) as from_time
            from {{ ref('fct_stock_movements') }}
            where ingested_at > {{ watermark }}

            union all

            select min(cast('1900-01-01' as timestamp)) as from_time
            from {{ ref('stg_master__products') }}
            where ingested_at > {{ watermark }}

            union all

            select min(movements.event_time) as from_time
            from {{ ref('fct_stock_movements') }} as movements
            where
                movements.order_line_id in ({{ _gl_new_order_lines(watermark, 'order_line_id') }})
                or movements.return_line_id in (
                    {{ _gl_changed_return_lines(watermark, 'return_line_id') }}
                )

            union all

            select min(payments.captured_at) as from_time
            from {{ ref('stg_orders__payments') }} as payments
            where
                payments.ingested_at > {{ watermark }}
                or payments.order_id in ({{ _gl_new_order_lines(watermark, 'order_id') }})

            union all

            select min(cancellations.cancelled_at) as from_time
            from {{ ref('stg_orders__cancellations') }} as cancellations
            where
                cancellations.refund_amount is not null
                and (
                    cancellations.ingested_at > {{ watermark }}
                    or cancellations.order_id in ({{ _gl_new_order_lines(watermark, 'order_id') }})
                )

            union all

            select min(ledger.event_time) as from_time
            from {{ ref('stg_finance__ledger_events') }} as ledger
            where
                ledger.ingested_at > {{ watermark }}
                or ledger.return_line_id in (
                    {{ _gl_changed_return_lines(watermark, 'return_line_id') }}
                )
                or ledger.return_id in ({{ _gl_changed_return_lines(watermark, 'return_id') }})
                or ledger.claim_id in ({{ _gl_changed_return_lines(watermark, 'claim_id') }})
        ) as changes
    )
{%- endmacro %}


{% macro _gl_changed_return_lines(watermark, column) -%}
{#- `column` of the return lines whose return or order line has events
    loaded after `watermark`. -#}
    select changed.{{ column }}
    from {{ ref('fct_return_lines') }} as changed
    where
        changed.return_id in (
            select new_events.return_id
            from {{ ref('stg_returns__return_events') }} as new_events
            where new_events.ingested_at > {{ watermark }}
        )
        or changed.order_line_id in ({{ _gl_new_order_lines(watermark, 'order_line_id') }})
{%- endmacro %}


{% macro _gl_new_order_lines(watermark, column) -%}
{#- `column` of the order lines loaded after `watermark`. -#}
    select new_lines.{{ column }}
    from {{ ref('stg_orders__order_lines') }} as new_lines
    where new_lines.ingested_at > {{ watermark }}
{%- endmacro %}
