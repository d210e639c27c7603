-- Every journal of the general ledger balances: debits = credits, and every
-- line has exactly one side > 0.
select
    journal_id,
    sum(debit) as debits,
    sum(credit) as credits
from {{ ref('fct_gl_entries') }}
-- a per-build audit: the journals this build wrote entries of, whole
where {{ audit_keys('journal_id', ref('fct_gl_entries')) }}
group by journal_id
having
    sum(debit) <> sum(credit)
    or sum(case when (debit > 0) = (credit > 0) then 1 else 0 end) > 0
