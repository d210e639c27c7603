"""Streamlit building blocks: data access with caching, filters, KPI cards, tables, charts."""
