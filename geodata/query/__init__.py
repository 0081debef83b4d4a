"""One query layer over the store: the sidebar's filters and the analyst tables in SQL.

- :mod:`geodata.query.sql`: a :class:`geodata.query.filters.RecordFilter` as a SQL
  condition with parameters (never text built from input).
- :mod:`geodata.query.index`: the filter columns of a store in a DuckDB file,
  built once per store, so opening is instant.
- :mod:`geodata.query.engine`: :class:`~geodata.query.engine.AtlasStore`, a
  DuckDB connection over a compiled GeoParquet store and its index: ids,
  row positions, counts, pages and frames of a selection, slider bounds.
- :mod:`geodata.query.aggregates`: counts and fund capital by year, domain and
  province (the charts and the choropleth), the same tables as
  :mod:`geodata.query.frame_aggregates`, computed in the database.
- :mod:`geodata.query.spatial`: DuckDB's spatial extension, loaded offline
  from its PyPI wheel; optional, nothing above needs it.
"""
