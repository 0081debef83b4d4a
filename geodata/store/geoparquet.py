"""A records frame to and from GeoParquet, the store's file format.

The file holds every record column, plain ``lon``/``lat`` (so filtering never
needs the spatial extension), a WKB ``geometry`` column with GeoParquet
metadata (written by geopandas, readable by DuckDB's spatial extension, QGIS
or GDAL), and three store columns that start with ``_``:

- ``_row``: the record's position in the sources, so a query returns rows in
  the same order as :func:`geodata.query.filters.filter_records`;
- ``_haystack``: what the search looks in (names, aliases, city and
  province in English and Chinese), case-folded by Python
  (:func:`geodata.query.filters.search_haystack`), so the SQL search matches
  exactly what the pure-Python search matches (DuckDB's ``lower`` and
  Python's ``casefold`` differ, e.g. on "ß").

Nested columns are stored by what they hold: a tuple of text (``domains``)
as a native list of strings, anything else nested (``sources``) as JSON
text. Which codec each column uses is written in the file's metadata, so it
reads back into the same frame.

Example
-------
>>> import tempfile, pathlib
>>> from geodata.model.frame import records_to_frame
>>> path = pathlib.Path(tempfile.mkdtemp()) / "empty.parquet"
>>> write_store(records_to_frame([]), path).name
'empty.parquet'
>>> len(read_store_frame(path))
0
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from geodata.model.schema import CITIES_ZH, PROVINCES, RECORD_COLUMNS, Record
from geodata.query.filters import HAYSTACK_COLUMN, search_haystack

#: Bumped whenever the file layout written here changes; old caches are rebuilt.
STORE_FORMAT = 2

#: This module's entry in the frame's ``attrs``, which geopandas keeps in the
#: Parquet metadata (under ``PANDAS_ATTRS``).
ATTRS_KEY = "cmf_atlas"
_PANDAS_ATTRS = b"PANDAS_ATTRS"

#: Columns the store adds to the record columns (not part of a record).
ROW_COLUMN = "_row"
STORE_COLUMNS: tuple[str, ...] = (ROW_COLUMN, HAYSTACK_COLUMN)

#: Record columns a lean frame (:func:`read_lean_frame`) leaves in the store: free
#: text, sources and lists that only a record's details, a table page, a download
#: or the screener show. Read for the rows asked for
#: (:meth:`geodata.query.engine.AtlasStore.rows_frame`). At 1,000,000 records
#: they are most of the frame's memory (sources alone, decoded, about 1 GB).
DETAIL_COLUMNS: tuple[str, ...] = (
    "aliases", "location_basis", "unplaced_reason", "dates", "date_as_published",
    "fund_size_as_published", "region_as_published", "confidence_reason", "address",
    "supervising_agencies", "research_topics", "laboratories", "org_tags",
    "subsidiaries_as_published", "description", "sources", "notes",
)

#: Rows per Parquet row group. Smaller groups let a page of the records table
#: (rows found in the in-memory index) read only the groups that hold it.
ROW_GROUP_ROWS = 32 * 1024

_TUPLE, _JSON = "tuple", "json"


def schema_version() -> str:
    """A short digest of the record schema and the file layout.

    It changes when :class:`geodata.model.schema.Record` or
    :data:`geodata.model.schema.RECORD_COLUMNS` change (for example a new field),
    or the place names the search haystack is built with
    (:data:`geodata.model.schema.CITIES_ZH`, :data:`geodata.model.schema.PROVINCES`), so a
    store compiled under an older schema is never read as current.
    """
    spec = json.dumps(
        {"format": STORE_FORMAT, "columns": RECORD_COLUMNS,
         "record": Record.model_json_schema(), "places": [CITIES_ZH, PROVINCES]},
        sort_keys=True, ensure_ascii=False,
    )
    return hashlib.sha256(spec.encode("utf-8")).hexdigest()[:16]


def _codec(values: pd.Series) -> str | None:
    """How to store an object column: its first value that is not None decides."""
    for value in values:
        if value is None or (isinstance(value, float) and value != value):
            continue
        if isinstance(value, tuple):
            return _TUPLE
        if isinstance(value, (list, dict)):
            return _JSON
        return None
    return None


def _to_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _store_frame(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame written to disk: record columns with codecs applied, store columns, attrs."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise TypeError(f"'frame' should be a GeoDataFrame of records, got {type(frame)}")
    missing = [c for c in RECORD_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"a records frame needs columns {RECORD_COLUMNS}; missing {missing}")
    out = frame.reset_index(drop=True).copy()
    codecs: dict[str, str] = {}
    for column in out.columns:
        if column == out.geometry.name or out[column].dtype != object:
            continue
        codec = _codec(out[column])
        if codec == _TUPLE:
            out[column] = out[column].map(lambda v: None if v is None else list(v))
        elif codec == _JSON:
            out[column] = out[column].map(_to_json)
        if codec:
            codecs[column] = codec
    out[ROW_COLUMN] = pd.RangeIndex(len(out), dtype="int64")
    out[HAYSTACK_COLUMN] = search_haystack(frame.reset_index(drop=True)).astype(str)
    # geopandas writes DataFrame.attrs into the file's metadata (and reads them
    # back), beside the GeoParquet "geo" metadata it writes itself.
    out.attrs = {ATTRS_KEY: {"format": STORE_FORMAT, "schema": schema_version(),
                             "codecs": codecs}}
    return out


def write_store(frame: gpd.GeoDataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``frame`` (as from :func:`geodata.model.frame.records_to_frame`) to GeoParquet.

    Written to a temporary file beside ``path`` and moved into place, so a
    reader never sees a half-written store and a crash leaves the old file.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    out = _store_frame(frame)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        out.to_parquet(tmp, index=False, compression="zstd", row_group_size=ROW_GROUP_ROWS)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def store_metadata(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """This module's metadata in a Parquet file, or ``None`` for a foreign file."""
    metadata = pq.read_schema(path).metadata or {}
    raw = metadata.get(_PANDAS_ATTRS)
    attrs = json.loads(raw) if raw else {}
    own = attrs.get(ATTRS_KEY) if isinstance(attrs, dict) else None
    return own if isinstance(own, dict) else None


def _from_list(value: Any) -> tuple | None:
    if value is None or (isinstance(value, float) and value != value):
        return None
    return tuple(value)


def _from_json(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and value != value) else (
        json.loads(value)
    )


def read_store_frame(path: str | os.PathLike[str]) -> gpd.GeoDataFrame:
    """A store file back as the records frame it was written from.

    The store columns (``_row``, ``_haystack``) are dropped; lists become
    tuples and JSON text becomes lists of dicts again, so the result equals
    :func:`geodata.model.frame.records_to_frame` of the same records.
    """
    meta = store_metadata(path) or {}
    frame = gpd.read_parquet(path)
    frame = frame.drop(columns=[c for c in STORE_COLUMNS if c in frame.columns])
    frame.attrs = {}
    for column, codec in meta.get("codecs", {}).items():
        if column in frame.columns:
            frame[column] = frame[column].map(_from_list if codec == _TUPLE else _from_json)
    return frame


#: Joins a list's texts for :func:`read_lean_frame` (a control character no text holds).
_JOIN = "\x1f"


def _split_joined(values: pd.Series) -> pd.Series:
    """Joined lists back as tuples, one shared tuple per distinct value (missing: None)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = np.empty(len(uniques) + 1, dtype=object)
    for i, text in enumerate(uniques):
        table[i] = tuple(str(text).split(_JOIN)) if text != "" else ()
    table[-1] = None
    return pd.Series(table[codes], index=values.index, dtype=object, name=values.name)


def read_lean_frame(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A store file as a records frame without :data:`DETAIL_COLUMNS`, for large data.

    What the map, the filters, the summaries and the charts read, plus the
    search text (``_haystack``, so a search needs no aliases). No shapely
    geometry either (``lon``/``lat`` are what every map layer reads; a
    million points cost 210 MB as shapely objects). The index is the record's
    position in the store (``_row``), so
    :meth:`geodata.query.engine.AtlasStore.with_details` can fetch the detail
    columns, and the geometry, of any part of it. See :func:`is_lean`.
    """
    meta = store_metadata(path) or {}
    names = pq.read_schema(path).names
    geometry = _geometry_column(path)
    keep = [n for n in names if n not in DETAIL_COLUMNS and n not in (ROW_COLUMN, geometry)]
    table = pq.read_table(path, columns=keep)
    codecs = meta.get("codecs", {})
    # Lists of text (domains) are joined in Arrow and split once per distinct value,
    # not turned into a million small arrays first (100 MB at the peak of a load).
    lists = [c for c, codec in codecs.items() if codec == _TUPLE and c in table.column_names]
    for column in lists:
        at = table.column_names.index(column)
        table = table.set_column(at, column, pc.binary_join(table[column], _JOIN))
    # Arrow's buffers are released column by column as they are converted.
    frame = table.to_pandas(self_destruct=True, split_blocks=True)
    del table
    # Arrow's allocator keeps the read buffers for reuse; hand them back.
    pa.default_memory_pool().release_unused()
    for column in lists:
        frame[column] = _split_joined(frame[column])
    for column, codec in codecs.items():
        if codec == _JSON and column in frame.columns:
            frame[column] = frame[column].map(_from_json)
    for column in frame.columns:
        if column != HAYSTACK_COLUMN and _is_text(frame[column]):
            frame[column] = _interned_text(frame[column])
    return frame


#: A text column with at most this share of distinct values is held as shared
#: Python strings (layer, category, province, status …): a filter then copies
#: 8-byte pointers instead of Arrow string data (0.1 s a column at 1,000,000).
_INTERN_MAX_SHARE = 0.01


def _is_text(values: pd.Series) -> bool:
    """A column of text (Arrow strings, or Python strings and missing values)."""
    if isinstance(values.dtype, pd.StringDtype):
        return True
    return values.dtype == object and pd.api.types.infer_dtype(values, skipna=True) in (
        "string", "empty")


def _interned_text(values: pd.Series) -> pd.Series:
    """``values`` as an object column of shared strings when it has few distinct
    values (missing as ``None``); unchanged otherwise."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if len(uniques) > max(64, _INTERN_MAX_SHARE * len(values)):
        return values
    table = np.array([str(u) for u in uniques] + [None], dtype=object)
    return pd.Series(table[codes], index=values.index, dtype=object, name=values.name)


def _geometry_column(path: str | os.PathLike[str]) -> str:
    raw = (pq.read_schema(path).metadata or {}).get(b"geo")
    return json.loads(raw).get("primary_column", "geometry") if raw else "geometry"


def is_lean(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` (or a part of it) came from :func:`read_lean_frame`."""
    return HAYSTACK_COLUMN in frame.columns and "sources" not in frame.columns
