"""A DuckDB connection over a compiled store: the selection as ids, counts, pages or frames.

Opening a store attaches its query index (:mod:`geodata.query.index`): the
columns the filters and the map read (id, kind, year, fund size, domains,
province, lon/lat and the folded names) in a DuckDB file, built once per
store; descriptions, sources and the rest stay in the Parquet file and are
read for the rows asked for. A filter is one SQL query on the index (see
:mod:`geodata.query.sql`).

One :class:`AtlasStore` may be shared by every session of a server: each
query runs on its own cursor, and nothing is ever written to the database
after it is opened.

Example
-------
>>> from geodata.query.filters import FilterBounds, RecordFilter
>>> from geodata.store.load import default_dataset_paths
>>> from geodata.store.cache import compiled_store
>>> import tempfile, pathlib
>>> cache = pathlib.Path(tempfile.mkdtemp())
>>> store = open_store(compiled_store(default_dataset_paths(), cache), index_dir=cache)
>>> store.count(RecordFilter(kinds=frozenset({"zone"}))) > 0
True
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from geodata.model.limits import STORE_QUERY_MEMORY_MB
from geodata.model.schema import RECORD_COLUMNS
from geodata.query.filters import FilterBounds, RecordFilter
from geodata.query.index import INDEX_COLUMNS, ensure_index, sql_path
from geodata.query.source_index import SourcesPage, sources_page
from geodata.query.sql import filter_condition
from geodata.store.cache import cache_dir
from geodata.store.geoparquet import (
    DETAIL_COLUMNS,
    HAYSTACK_COLUMN,
    ROW_COLUMN,
    STORE_COLUMNS,
    is_lean,
    store_metadata,
)

_FLOAT_COLUMNS = ("fund_size_rmb_bn", "lat", "lon")


def _points(df: pd.DataFrame) -> gpd.array.GeometryArray:
    """Point geometry from lon/lat; an unplaced record has none (as in the full frame)."""
    geometry = gpd.points_from_xy(df["lon"], df["lat"], crs="EPSG:4326")
    unplaced = (df["lon"].isna() | df["lat"].isna()).to_numpy()
    if unplaced.any():
        geometry[unplaced] = None
    return geometry


class StoreError(ValueError):
    """The file is not a store this version can query; says what to do."""


class AtlasStore:
    """Queries over one compiled GeoParquet store (see :func:`open_store`)."""

    def __init__(
        self, path: Path, connection: duckdb.DuckDBPyConnection, codecs: dict,
        text_columns: frozenset[str], untyped_columns: frozenset[str],
    ):
        self.path = path
        self._con = connection
        self._codecs = codecs
        self._text_columns = text_columns
        self._untyped_columns = untyped_columns

    def _query(self, sql: str, params: Sequence[Any] = ()) -> duckdb.DuckDBPyConnection:
        cursor = self._con.cursor()
        return cursor.execute(sql, list(params))

    def sources_page(self, flt: RecordFilter, search: str = "", *, limit: int,
                     offset: int = 0) -> SourcesPage:
        """One page of the sources cited by what ``flt`` keeps (see
        :func:`geodata.query.source_index.sources_page`)."""
        return sources_page(self, flt, search, limit=limit, offset=offset)

    def __len__(self) -> int:
        return int(self._query("SELECT count(*) FROM idx").fetchone()[0])

    def count(self, flt: RecordFilter) -> int:
        """How many records ``flt`` keeps."""
        where, params = filter_condition(flt)
        return int(self._query(f"SELECT count(*) FROM idx WHERE {where}", params).fetchone()[0])

    def filter_ids(self, flt: RecordFilter) -> list[str]:
        """Ids of the records ``flt`` keeps, in source order."""
        where, params = filter_condition(flt)
        rows = self._query(
            f"SELECT id FROM idx WHERE {where} ORDER BY {ROW_COLUMN}", params
        ).fetchall()
        return [r[0] for r in rows]

    def filter_rows(self, flt: RecordFilter) -> np.ndarray:
        """Positions (``_row``) of the records ``flt`` keeps, as int64, in source order.

        The cheapest form of a selection: a mask or a row set for a map layer
        that already holds every point.
        """
        where, params = filter_condition(flt)
        table = self._query(
            f"SELECT {ROW_COLUMN} FROM idx WHERE {where} ORDER BY {ROW_COLUMN}", params
        ).fetchnumpy()
        return np.asarray(table[ROW_COLUMN], dtype="int64")

    def filter_frame(
        self, flt: RecordFilter, *, limit: int | None = None, offset: int = 0
    ) -> gpd.GeoDataFrame:
        """The records ``flt`` keeps as a records frame, in source order.

        ``limit`` / ``offset`` page through a large selection (the records
        table) instead of reading it whole. The frame equals the rows of
        :func:`geodata.query.filters.filter_records` on the full frame (index
        aside: it is numbered from 0).
        """
        where, params = filter_condition(flt)
        page = ""
        if limit is not None:
            if limit < 0 or offset < 0:
                raise ValueError(f"limit and offset should be >= 0, got {limit}, {offset}")
            page = " LIMIT ? OFFSET ?"
            params = [*params, int(limit), int(offset)]
        rows = self._query(
            f"SELECT {ROW_COLUMN} FROM idx WHERE {where} ORDER BY {ROW_COLUMN}{page}", params
        ).fetchnumpy()[ROW_COLUMN]
        return self.rows_frame(np.asarray(rows, dtype="int64"))

    def with_details(
        self, part: pd.DataFrame, columns: Sequence[str] | None = None
    ) -> gpd.GeoDataFrame:
        """``part`` of a lean frame (:func:`geodata.store.geoparquet.read_lean_frame`
        of this store) with every record column, as the full frame would give it.

        Only the rows of ``part`` are read (by their index, the store position),
        so a records-table page or the clicked record costs milliseconds at a
        million records. Columns ``part`` adds (links, designations …) are kept;
        the search text is dropped; the point geometry is built from lon/lat.
        ``columns`` limits what is read (the figure needs only ``sources``). A
        part that is not lean is returned as it is.
        """
        if not is_lean(part):
            return part
        rows = np.asarray(part.index, dtype="int64")
        detail = [c for c in DETAIL_COLUMNS if c in RECORD_COLUMNS
                  and (columns is None or c in columns)]
        fetched = self.rows_frame(rows, columns=["_row", *detail])
        fetched.index = fetched.pop(ROW_COLUMN).to_numpy()
        fetched = fetched.reindex(part.index)
        out = part.drop(columns=[HAYSTACK_COLUMN])
        for column in detail:
            out[column] = fetched[column].array
        out = gpd.GeoDataFrame(out, geometry=_points(out), crs="EPSG:4326")
        order = [c for c in RECORD_COLUMNS if c in out.columns] + ["geometry"]
        return out[order + [c for c in out.columns if c not in order]]

    def rows_frame(
        self, rows: Sequence[int] | np.ndarray, columns: Sequence[str] | None = None
    ) -> gpd.GeoDataFrame:
        """Full records at the positions ``rows`` (as from :meth:`filter_rows`), in source order.

        The range of ``rows`` is pushed to the Parquet scan, so only the row
        groups that hold them are read: a page of the records table or the
        record under the pointer costs milliseconds, not a scan of every
        description and source. The rows are matched with a hash semi-join
        (``IN (SELECT unnest(?))``): ``list_contains`` compares each scanned row
        with every wanted one, 36 s for 100,000 rows of a million (0.2 s now).
        """
        rows = np.unique(np.asarray(rows, dtype="int64"))
        if columns is not None:
            return self._columns_frame(rows, list(columns))
        columns = ", ".join(f'"{c}"' for c in RECORD_COLUMNS)
        if rows.size == 0:
            sql, params = f"SELECT {columns} FROM records WHERE false", []
        else:
            sql = (
                f"SELECT {columns} FROM records WHERE {ROW_COLUMN} BETWEEN ? AND ? "
                f"AND {ROW_COLUMN} IN (SELECT unnest(?::BIGINT[])) ORDER BY {ROW_COLUMN}"
            )
            params = [int(rows[0]), int(rows[-1]), rows.tolist()]
        return self._frame(self._query(sql, params).df())

    def _columns_frame(self, rows: np.ndarray, columns: list[str]) -> pd.DataFrame:
        """Only ``columns`` at ``rows`` (sorted, unique), decoded as the full frame has them."""
        names = ", ".join(f'"{c}"' for c in columns)
        if rows.size == 0:
            sql, params = f"SELECT {names} FROM records WHERE false", []
        else:
            sql = (
                f"SELECT {names} FROM records WHERE {ROW_COLUMN} BETWEEN ? AND ? "
                f"AND {ROW_COLUMN} IN (SELECT unnest(?::BIGINT[])) ORDER BY {ROW_COLUMN}"
            )
            params = [int(rows[0]), int(rows[-1]), rows.tolist()]
        df = self._query(sql, params).df()
        for column in columns:
            codec = self._codecs.get(column)
            if codec == "tuple":
                df[column] = df[column].map(lambda v: None if v is None else tuple(v))
            elif codec == "json":
                df[column] = df[column].map(lambda v: None if v is None else json.loads(v))
            elif column in self._untyped_columns:
                df[column] = pd.Series([None] * len(df), index=df.index, dtype=object)
            elif column in self._text_columns:
                df[column] = df[column].astype("str")
        return df

    def _frame(self, df: pd.DataFrame) -> gpd.GeoDataFrame:
        for column, codec in self._codecs.items():
            if column not in df.columns:
                continue
            if codec == "tuple":
                df[column] = df[column].map(lambda v: None if v is None else tuple(v))
            else:
                df[column] = df[column].map(lambda v: None if v is None else json.loads(v))
        df["year"] = df["year"].astype("Int64")  # nullable: undated organisations and funds
        for column in _FLOAT_COLUMNS:
            df[column] = df[column].astype("float64")
        # Text and empty columns get the dtypes the whole store has (as
        # records_to_frame gives), whatever this selection happens to hold.
        for column in self._text_columns.intersection(df.columns):
            df[column] = df[column].astype("str")
        for column in self._untyped_columns.intersection(df.columns):
            df[column] = pd.Series([None] * len(df), index=df.index, dtype=object)
        return gpd.GeoDataFrame(df, geometry=_points(df), crs="EPSG:4326")

    def ids_frame(self, ids: Sequence[str]) -> gpd.GeoDataFrame:
        """Full records with these ids (a click, the detail panel), in source order.

        Unknown ids are skipped.
        """
        rows = self._query(
            f"SELECT {ROW_COLUMN} FROM idx WHERE id IN (SELECT unnest(?::VARCHAR[]))", [list(ids)]
        ).fetchnumpy()[ROW_COLUMN]
        return self.rows_frame(np.asarray(rows, dtype="int64"))

    def bounds(self) -> FilterBounds:
        """The sidebar's slider extents, as :func:`geodata.query.filters.filter_bounds`
        gives them."""
        # The year span is that of places, funds and zones; organisations' years
        # (a university's 1895) count only when there is nothing else.
        lo, hi, any_lo, any_hi, top = self._query(
            "SELECT min(year) FILTER (WHERE kind <> 'organisation'), "
            "max(year) FILTER (WHERE kind <> 'organisation'), min(year), max(year), "
            "max(fund_size_rmb_bn) FROM idx"
        ).fetchone()
        top_bn = float(-(-float(top) // 1)) if top is not None else 1.0
        if lo is None:
            lo, hi = any_lo, any_hi
        if lo is None:
            return FilterBounds(2000, 2030, top_bn)
        return FilterBounds(int(lo), int(hi), top_bn)

    def sql(self, query: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        """Run a read-only query of the ``idx`` (index) or ``records`` (full) view.

        For aggregates and tools built on the store; user values go in
        ``params``, never into ``query``.
        """
        return self._query(query, params).df()

    def close(self) -> None:
        """Release the connection (a closed store raises on every query)."""
        self._con.close()


def open_store(
    path: str | os.PathLike[str], *, threads: int | None = None, index_dir: Path | None = None
) -> AtlasStore:
    """Open a compiled store (as from :func:`geodata.store.cache.compiled_store`).

    Parameters
    ----------
    path
        A GeoParquet file written by :func:`geodata.store.geoparquet.write_store`.
    threads
        DuckDB worker threads; default DuckDB's (one per core).
    index_dir
        Where the query index is kept (see :mod:`geodata.query.index`);
        default the store cache folder.

    Raises
    ------
    StoreError
        If the file is missing or was not written by the store (a foreign
        GeoParquet must be converted first: ``python -m geodata convert``).
    """
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"{path}: no such store file")
    try:
        meta = store_metadata(path)
    except (OSError, ValueError) as exc:
        raise StoreError(f"{path}: not a readable Parquet file ({exc})") from None
    if meta is None:
        raise StoreError(
            f"{path}: not a CMF Atlas store (no store metadata); convert it first: "
            f"python -m geodata convert {path} OUT.parquet"
        )
    index = ensure_index(path, index_dir or cache_dir())
    # Large aggregates (the Sources page's index) spill to disk past the limit
    # instead of growing the server (STORE_QUERY_MEMORY_MB).
    config = {"memory_limit": f"{STORE_QUERY_MEMORY_MB}MB",
              "temp_directory": str(index.parent / "duckdb-spill"),
              **({"threads": threads} if threads else {})}
    con = duckdb.connect(":memory:", config=config)
    con.execute(f"ATTACH {sql_path(index)} AS ix (READ_ONLY)")
    con.execute("CREATE VIEW idx AS SELECT * FROM ix.idx")
    con.execute(f"CREATE VIEW records AS SELECT * FROM read_parquet({sql_path(path.resolve())})")
    schema = pq.read_schema(path)
    text = frozenset(f.name for f in schema if pa.types.is_string(f.type)
                     or pa.types.is_large_string(f.type))
    untyped = frozenset(f.name for f in schema if pa.types.is_null(f.type))
    return AtlasStore(path, con, meta.get("codecs", {}), text - set(meta.get("codecs", {})),
                      untyped)


__all__ = ["INDEX_COLUMNS", "STORE_COLUMNS", "AtlasStore", "StoreError", "open_store"]
