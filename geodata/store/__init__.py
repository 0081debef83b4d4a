"""The columnar store: curated YAML, GeoParquet and CSV compiled to one GeoParquet file.

The YAML in ``datasets/`` stays the human-edited source of truth; this
package compiles it (validated on the way) to GeoParquet, the form DuckDB
queries (:mod:`geodata.query`), and keeps the compiled file in a cache folder
that is rebuilt whenever a source file changes.

- :mod:`geodata.store.geoparquet`: a records frame to and from GeoParquet.
- :mod:`geodata.store.sources`: the files of a data folder (YAML, GeoParquet,
  CSV) read into one validated frame.
- :mod:`geodata.store.cache`: the compiled store, keyed on the sources'
  paths, sizes and modification times and on the schema version.
"""
