"""Pure query functions: (connection, filters, ...) -> polars frame. No Streamlit.

They name the marts' columns directly: every public mart has an enforced dbt
contract (dbt/models/marts/**/_*.yml), so a published warehouse has exactly those
columns. Domain facts (blocked states, thresholds, ...) come from the domain model
(opsledger.models.domain) or its seeds (schema `domain`), never from copies here."""
