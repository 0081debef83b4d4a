"""Turn validated records into one GeoDataFrame, the form everything else uses.

A single tabular form keeps filtering vectorised (later work loads 100,000
records) and gives the table, the CSV, the GeoJSON and the map the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import pandas as pd

from geodata.model.schema import LIST_COLUMNS, RECORD_COLUMNS, Record


def records_to_frame(records: Sequence[Record]) -> gpd.GeoDataFrame:
    """Records as a GeoDataFrame in EPSG:4326, one row per record.

    List fields (``domains``, ``aliases``, ...) hold tuples (hashable, for
    caching); ``sources`` and ``dates`` hold lists of plain dicts; an unknown
    fund size is ``NaN``, never 0. ``year`` is a nullable integer column
    (``Int64``): ``<NA>`` for an undated organisation. An unplaced
    organisation has ``NaN`` coordinates and no geometry; the map, figure and
    province counts skip it.

    Example
    -------
    >>> records_to_frame([]).columns.tolist()[:3]
    ['id', 'kind', 'category']
    """
    rows = []
    for rec in records:
        row = rec.model_dump()
        for col in LIST_COLUMNS:
            row[col] = tuple(getattr(rec, col))
        row["sources"] = [s.model_dump(exclude_none=True) for s in rec.sources]
        row["dates"] = [d.model_dump(exclude_none=True) for d in rec.dates]
        rows.append(row)
    df = pd.DataFrame(rows, columns=RECORD_COLUMNS)
    # Undated records (organisations, some funds) leave the year empty (<NA>);
    # every other year is a whole number.
    df["year"] = df["year"].astype("Int64")
    df["fund_size_rmb_bn"] = df["fund_size_rmb_bn"].astype("float64")
    df["lat"] = df["lat"].astype("float64")
    df["lon"] = df["lon"].astype("float64")
    placed = df["lat"].notna()
    geometry = gpd.GeoSeries.from_xy(df["lon"], df["lat"], crs="EPSG:4326")
    geometry[~placed] = None
    return gpd.GeoDataFrame(df, geometry=geometry, crs="EPSG:4326")
