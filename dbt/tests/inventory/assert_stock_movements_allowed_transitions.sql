-- Every movement is an allowed (event_type, from_state, to_state) of the
-- domain model, with quantity > 0 (direction comes from the states only).
with

movements as (
    select * from {{ ref('fct_stock_movements') }}
    where {{ audit_rows() }}
),

transitions as (
    select * from {{ ref('domain_transitions') }}
)

select movements.*
from movements
left join transitions
    on
        movements.event_type = transitions.event_type
        and movements.from_state = transitions.from_state
        and movements.to_state = transitions.to_state
where transitions.event_type is null or movements.quantity <= 0
