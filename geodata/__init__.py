"""CMF Atlas domain core: schema, loading, filtering, rendering helpers, CLI.

This package never imports Streamlit, so the CLI, the tests and the dashboard
share one implementation.
"""
