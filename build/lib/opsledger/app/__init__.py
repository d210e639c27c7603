"""opsledger's Streamlit app: reads only the published warehouse, read-only."""
