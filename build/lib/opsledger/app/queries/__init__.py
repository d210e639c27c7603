"""Pure query functions: (connection, filters, ...) -> polars frame. No Streamlit."""
